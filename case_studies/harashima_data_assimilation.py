# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Gaussian data assimilation of calculations and experiments (Harashima et al.)
#
# **The question.** Harashima et al. (arXiv:2007.14101, and Y. Harashima's talk at NAIST,
# "物質科学におけるデータ同化手法開発と応用") ask: *can many precise
# but biased calculations (model (i)) and a few noisy experiments (model (ii)) be
# analysed together, so that the experiment is predicted where it was never measured,
# better than by fitting the experiments alone (separate least squares)?* Their Λ model
# treats features φ(x) and targets y = (y_comp, y_expt) as jointly Gaussian with
# precision Λ; the predictor is μ(x) = −Λ_yy⁻¹Λ_yx φ(x) and a missing target is
# integrated out, so calculations and experiments need not share descriptor values
# (`measurement_models.data_assimilation`). Their demo: f₁(x) = 2 − x + 5(x − 0.7)² +
# 20(x − 0.5)³, f₂ = f₁ − 1.5; (i) 10 calculations on [0, 1] (sd 0.03), (ii) 5
# experiments on [0, 0.5] (sd 0.1), cubic features. Their answer (qualitative, from the
# slides): the joint model extrapolates (ii) to [0.5, 1] using (i), and Bayesian
# optimisation with the calculations finds the experiment's optimum with fewer
# experiments.
#
# **What you will see.**
#
# 1. the demo and the posterior band of both predictors, with the experiment's row of
#    Λ_yx restricted to the constant ("1st–3rd order terms restricted", so
#    y_expt = β·y_comp + constant) and unrestricted, against cubic least squares on the
#    five experiments; the exact posterior with missing targets comes from Gibbs sampling
#    with data augmentation (`measurement_models.data_assimilation.GibbsKernel`, run by
#    `samplers.evidence.chib.gibbs_sample`);
# 2. the extrapolation error on [0.5, 1] over many simulated data sets;
# 3. model selection by the free energy F = −log p(D): Chib's estimate from the Gibbs
#    run, and (full run) replica exchange on the PyMC model through `select_model`;
# 4. (full run) the PyMC model against the closed form on complete data, and NUTS
#    against Gibbs on the demo;
# 5. Bayesian optimisation on a 2-D sine-basis problem: assimilation against fitting
#    the experiment alone, by the number of experiments needed to find its maximum;
# 6. the paper against ours.
#
# Quick (`BAYESMEAS_QUICK=1`, the tests) uses fewer seeds and draws, a 3 × 3 sine basis,
# and skips every PyMC run (sections 3b and 4), whose compilation alone takes minutes on
# a cold cache. The numbers quoted in the text are from the full run (508 s under `nice`
# on two cores, quoted in docs/data-assimilation.md; `bayesmeas run
# harashima_data_assimilation --full` runs the same settings).

# %%
import os
import time
from pathlib import Path

import arviz as az
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr

from measurement_models import data_assimilation as da
from samplers import ReplicaExchangeSettings, select_model
from samplers.evidence.chib import chib_log_evidence, gibbs_sample

QUICK = os.environ.get("BAYESMEAS_QUICK") == "1"
if QUICK:
    print(
        "quick run: select_model's reliability checks are off (runs this short rarely make "
        "replica round trips, so every F would be flagged); the full run applies them"
    )
OUTPUT = Path(os.environ.get("BAYESMEAS_OUTPUT", "results/harashima_data_assimilation"))
OUTPUT.mkdir(parents=True, exist_ok=True)
started = time.perf_counter()
DEMO = da.REFERENCES["harashima_demo"]  # the talk's settings
BASIS = DEMO.structure["basis"]  # cubic features
PRIOR = da.DEMO_PRIOR
SHARED = list(DEMO.structure["discrepancy_features"])  # Λ_yx's experiment row: the constant
DRAWS, TUNE = (1000, 200) if QUICK else (5000, 500)
N_SEEDS, SEED_DRAWS = (8, 300) if QUICK else (200, 1000)
SIZE, BO_SEEDS, GRID, BUDGET = (3, 2, 11, 30) if QUICK else (7, 20, 31, 120)
PER_ITERATION = (3,) if QUICK else (1, 3, 5)
METHODS = {"cubic OLS (experiments)": "C3", "unrestricted Λ": "C2", "restricted Λ": "C0"}
print(da.PARAMETERS.to_markdown())
print(PRIOR)

# %% [markdown]
# ## 1. The demo data and one posterior
#
# Gibbs sampling: impute y_comp at the experiments' descriptors from its Gaussian
# conditional given y_expt, then draw the two Normal–Gamma regressions (y_comp on φ;
# y_expt on y_comp and the constant) from their conjugate posteriors.

# %%
data = da.simulate_demo(1)
data.to_netcdf(OUTPUT / "demo_data.nc")
kernels = {
    "restricted": da.GibbsKernel(data, BASIS, PRIOR, SHARED),
    "unrestricted": da.GibbsKernel(data, BASIS, PRIOR, None),
}
runs = {
    name: gibbs_sample(
        k.step, k.init(), draws=DRAWS, tune=TUNE, chains=2, rng=7, keep=da.STATE_DRAWS
    )
    for name, k in kernels.items()
}
posteriors = {name: kernels[name].to_dataset(**run.draws) for name, run in runs.items()}
xr.DataTree.from_dict(posteriors).to_netcdf(OUTPUT / "demo_posteriors.nc")
summary = az.summary(
    posteriors["restricted"], var_names=["conditional_precision", "coupling", "coefficient"]
)
print(summary)
assert (summary["r_hat"] < 1.01).all() and (summary["ess_bulk"] > 400).all()
seen = ~np.isnan(data["y_expt"].values)
x_expt, y_expt = data["x"].values[seen, 0], data["y_expt"].values[seen]
ols = np.polyfit(x_expt, y_expt, 3)
pd.Series(ols, index=["x³", "x²", "x", "1"], name="coefficient").to_csv(
    OUTPUT / "demo_least_squares.csv"
)

# %% [markdown]
# Posterior medians and 94 % bands of both predictors (blue: calculation, orange:
# experiment), the truth (dashed black), and cubic least squares on the five
# experiments (dotted red). The descriptor x and the targets are in the demo's
# arbitrary units.

# %% tags=["figures"]
demo = xr.open_dataset(OUTPUT / "demo_data.nc")
demo_posteriors = xr.open_datatree(OUTPUT / "demo_posteriors.nc")
ols = pd.read_csv(OUTPUT / "demo_least_squares.csv", index_col=0)["coefficient"].to_numpy()
fig, axes = plt.subplots(1, 2, figsize=(10, 4), layout="constrained", sharey=True)
grid = np.linspace(0, 1, 200)
for ax, name in zip(axes, ("restricted", "unrestricted"), strict=True):
    da.plot_fit(ax, demo, demo_posteriors[name].to_dataset(), basis=BASIS, x_range=(0.0, 1.0))
    ax.plot(grid, np.polyval(ols, grid), ":", color="C3", label="cubic OLS, experiments")
    ax.plot([], [], "k--", lw=1, label="truth")
    ax.set_ylim(-2.5, 4.5)
    ax.set_xlabel("descriptor x [arb. units]")
    ax.set_ylabel("target y [arb. units]")
    ax.set_title(f"{name} Λ model")
    ax.legend(fontsize="x-small")
fig.savefig(OUTPUT / "demo_posterior.png", dpi=110)

# %% [markdown]
# ## 2. Extrapolation over many seeds
#
# RMS error of each predictor of the experiment against the true f₂ on [0.5, 1], where
# there is no experiment: cubic least squares on the five experiments, and the posterior
# mean of μ_expt(x) under the unrestricted and the restricted Λ model.

# %%
test_grid = np.linspace(0.5, 1.0, 101)
test_phi, truth = BASIS.features(test_grid), da.demo_f2(test_grid)


def rms(prediction):
    return float(np.sqrt(np.mean((prediction - truth) ** 2)))


def posterior_mean_w(run):
    lyy, lyx = da.lambda_from_chain(run.draws["d"], run.draws["beta"], run.draws["g"])
    return (-np.linalg.solve(lyy, lyx)).reshape(-1, 2, BASIS.size + 1).mean(0)


rows = []
for seed in range(N_SEEDS):
    sim = da.simulate_demo(seed)
    ok = ~np.isnan(sim["y_expt"].values)
    row = {"seed": seed}
    coef = np.polyfit(sim["x"].values[ok, 0], sim["y_expt"].values[ok], 3)
    row["cubic OLS (experiments)"] = rms(np.polyval(coef, test_grid))
    for name, kept in (("unrestricted Λ", None), ("restricted Λ", SHARED)):
        kernel = da.GibbsKernel(sim, BASIS, PRIOR, kept)
        run = gibbs_sample(
            kernel.step, kernel.init(), draws=SEED_DRAWS, tune=100, rng=seed, keep=da.STATE_DRAWS
        )
        w = posterior_mean_w(run)
        row[name] = rms(test_phi @ w[1])
    rows.append(row)
errors = pd.DataFrame(rows).set_index("seed")
errors.to_csv(OUTPUT / "extrapolation_errors.csv")
table = errors.quantile([0.25, 0.5, 0.75]).T
table.columns = ["25 %", "median", "75 %"]
table["restricted Λ better"] = [
    float((errors["restricted Λ"] < errors[c]).mean()) if c != "restricted Λ" else np.nan
    for c in errors.columns
]
table.to_csv(OUTPUT / "extrapolation_summary.csv")
print(f"RMS error on [0.5, 1] over {N_SEEDS} seeds")
print(table.to_string(float_format=lambda v: f"{v:.3g}"))
median = table["median"]
assert median["restricted Λ"] < 0.5
assert median["cubic OLS (experiments)"] > 5 * median["restricted Λ"]
assert median["unrestricted Λ"] > 5 * median["restricted Λ"]

# %% [markdown]
# The RMS error of each predictor per simulated data set (one point per seed, the box
# spans the quartiles).

# %% tags=["figures"]
errors = pd.read_csv(OUTPUT / "extrapolation_errors.csv", index_col="seed")
fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
jitter = np.random.default_rng(0).uniform(-0.12, 0.12, len(errors))
for i, (method, colour) in enumerate(METHODS.items()):
    values = errors[method].to_numpy()
    ax.boxplot(values, positions=[i], widths=0.5, showfliers=False, medianprops={"color": "k"})
    ax.plot(i + jitter, values, ".", color=colour, ms=4, alpha=0.7)
ax.set_xticks(range(len(METHODS)), list(METHODS), fontsize="small")
ax.set_yscale("log")
ax.set_ylabel("RMS error of y_expt on [0.5, 1] [arb. units]")
ax.set_title(f"extrapolation over {len(errors)} simulated data sets", fontsize="medium")
fig.savefig(OUTPUT / "extrapolation.png", dpi=110)

# %% [markdown]
# The unrestricted model gains nothing: no row observes both targets, so its likelihood
# is that of two separate regressions and W_expt is fitted from the five experiments
# alone (the prior pulls it a little towards zero, hence somewhat smaller errors than
# least squares). The structural zeros tie W_expt = β·W_comp + constant: the shape comes
# from the calculations, the experiments fix β and the offset.

# %% [markdown]
# ## 3. Model selection by the free energy
#
# ### 3a. Chib's estimate from the Gibbs runs
#
# F = −[log p(D|θ*) + log p(θ*) − log p(θ*|D)], with p(θ*|D) averaged over the Gibbs
# imputations (exact for data augmentation). Candidates: the restricted model with
# quadratic, cubic and quartic features, and the unrestricted cubic one.

# %%
CANDIDATES = {
    "restricted, cubic": (3, SHARED),
    "unrestricted, cubic": (3, None),
    "restricted, quadratic": (2, SHARED),
    "restricted, quartic": (4, SHARED),
}
chib = {}
for label, (degree, kept) in CANDIDATES.items():
    kernel = da.GibbsKernel(data, da.Basis("polynomial", degree), PRIOR, kept)
    run = gibbs_sample(
        kernel.step,
        kernel.init(),
        draws=DRAWS,
        tune=TUNE,
        chains=2,
        rng=3,
        keep=da.STATE_DRAWS,
        record=True,
    )
    value, mcse = chib_log_evidence(*kernel.chib_terms(**run.draws, conditionals=run.records))
    chib[label] = {"F (Chib)": -value, "MCSE (Chib)": mcse}
chib_table = pd.DataFrame(chib).T
chib_table["ΔF"] = chib_table["F (Chib)"] - chib_table["F (Chib)"].min()
chib_table.rename_axis("candidate").to_csv(OUTPUT / "free_energy_chib.csv")
print(chib_table.to_string(float_format=lambda v: f"{v:.3f}"))
assert chib_table["F (Chib)"].idxmin() == "restricted, cubic"
assert chib_table.loc["unrestricted, cubic", "ΔF"] > 1

# %% [markdown]
# ### 3b. Replica exchange on the PyMC model (full run only)
#
# The same four candidates as PyMC models (exact marginal likelihood written in Λ,
# coefficients sampled in the principal axes of ΦᵀΦ), F by stepping stone. The prior of
# the coefficients is wide (sd ≈ 30 and 100), so the log-likelihood of a prior draw is
# of order −10⁷: the ladder starts at β = 10⁻¹⁰.

# %%
re_table = None
if not QUICK:
    n_replicas = 40
    settings = ReplicaExchangeSettings(
        draws=3000,
        tune=3000,
        chains=4,
        cores=1,
        n_replicas=n_replicas,
        extra={"betas": np.concatenate([[0.0], np.geomspace(1e-10, 1.0, n_replicas - 1)])},
    )
    selection = select_model(
        {
            label: (
                lambda d=degree, k=kept: da.build_model(
                    data,
                    basis=da.Basis("polynomial", d),
                    discrepancy_features=k,
                    conjugate_prior=PRIOR,
                )
            )
            for label, (degree, kept) in CANDIDATES.items()
        },
        "replica_exchange",
        settings=settings,
        random_seed=4,
        progressbar=False,
        check_reliability=not QUICK,  # quick runs are too short for round trips
        path=OUTPUT / "model_selection.nc",
    )
    re_table = selection.to_dataset(inherit=False)
    compare = chib_table.copy()
    compare["F (replica exchange)"] = re_table["free_energy"].to_series()
    compare["MCSE (RE)"] = re_table["free_energy_mcse"].to_series()
    compare["p(model | D)"] = re_table["probability"].to_series()
    compare.rename_axis("candidate").to_csv(OUTPUT / "free_energy_comparison.csv")
    print(settings.describe())
    print(compare.to_string(float_format=lambda v: f"{v:.3f}"))
    print(re_table.attrs["decision"], f"[{re_table.attrs['wall_time_s']} s]")
    assert re_table.attrs["chosen"] == "restricted, cubic"
    for label in CANDIDATES:
        row = compare.loc[label]
        tolerance = 5 * np.hypot(row["MCSE (Chib)"], row["MCSE (RE)"]) + 0.5
        assert abs(row["F (replica exchange)"] - row["F (Chib)"]) < tolerance, (label, row)

# %% [markdown]
# ## 4. The PyMC model against exact answers (full run only)
#
# (a) Complete data (every row observes both targets), where the posterior and F are
# closed form: NUTS moments of W and Λ_yy and the replica-exchange F. (b) The demo:
# NUTS on the PyMC model against the Gibbs sampler, two independent samplers of one
# posterior.

# %%
if not QUICK:
    basis1 = da.Basis("polynomial", 1)
    x = np.linspace(-1, 1, 15)
    complete = da.simulate(
        x,
        rng=1,
        observed=np.ones((15, 2), bool),
        basis=basis1,
        w=np.array([[1.0, -2.0], [0.3, 1.0]]),
        covariance=np.array([[0.04, 0.02], [0.02, 0.09]]),
    )
    prior_c = da.ConjugatePrior(noise_scale=(0.3, 0.3), feature_precision=0.01)
    exact = da.ConjugatePosterior.from_data(complete, basis1, prior_c)
    m, _, s, nu = exact.mnw()
    model_c = da.build_model(complete, basis=basis1, conjugate_prior=prior_c)
    with model_c:
        nuts_c = pm.sample(
            draws=3000,
            tune=1000,
            chains=4,
            cores=1,
            target_accept=0.95,
            random_seed=5,
            progressbar=False,
        )
    mcse = az.mcse(nuts_c, var_names=["W", "Lambda_yy"], method="mean")
    z_w = (nuts_c["posterior"]["W"].mean(("chain", "draw")).values - m) / mcse["W"].values
    lyy_mean = nuts_c["posterior"]["Lambda_yy"].mean(("chain", "draw")).values
    z_l = (lyy_mean - nu * s) / mcse["Lambda_yy"].values
    _, fe_c = ReplicaExchangeSettings(draws=3000, tune=3000, chains=4, cores=1).sample(
        model_c, 6, False
    )
    print("z-scores of E[W] (NUTS − exact)/MCSE:", np.round(z_w, 2).tolist())
    print("z-scores of E[Λ_yy]:", np.round(z_l, 2).tolist())
    print(
        f"F: exact {-exact.log_evidence():.3f}, replica exchange {fe_c.value:.3f} ± {fe_c.mcse:.3f}"
    )
    assert np.all(np.abs(z_w) < 5) and np.all(np.abs(z_l) < 5)
    assert abs(fe_c.value + exact.log_evidence()) < 5 * fe_c.mcse + 0.1
    pd.Series(
        {
            "F exact": -exact.log_evidence(),
            "F replica exchange": fe_c.value,
            "F MCSE": fe_c.mcse,
            "max |z| of E[W]": float(np.abs(z_w).max()),
            "max |z| of E[Λ_yy]": float(np.abs(z_l).max()),
        },
        name="complete data",
    ).to_csv(OUTPUT / "complete_data_check.csv")

    model_demo = da.build_model(
        data, basis=BASIS, discrepancy_features=SHARED, conjugate_prior=PRIOR
    )
    with model_demo:
        nuts_demo = pm.sample(
            draws=3000,
            tune=2000,
            chains=4,
            cores=1,
            target_accept=0.95,
            random_seed=8,
            progressbar=False,
        )
    nuts_w = nuts_demo["posterior"]["W"]
    gibbs_w = posteriors["restricted"]["W"]
    se = np.hypot(
        az.mcse(nuts_demo, var_names=["W"], method="mean")["W"].values,
        az.mcse(posteriors["restricted"], var_names=["W"], method="mean")["W"].values,
    )
    z_demo = (nuts_w.mean(("chain", "draw")) - gibbs_w.mean(("chain", "draw"))).values / se
    print("z-scores of E[W], NUTS against Gibbs on the demo:", np.round(z_demo, 2).tolist())
    assert np.all(np.abs(z_demo) < 5)

# %% [markdown]
# ## 5. Bayesian optimisation: assimilation against the experiment alone
#
# The talk's last slides in 2-D: sine basis with `SIZE` functions per dimension
# (φ₀ ≡ 1) and all cross terms, model A (calculation, sd 0.03) with random coefficients
# and B = A − 2 − 0.6 sin(2πx₁) (experiment, sd 0.1). Both start from 5 random points.
# Each iteration: a Thompson draw of B's predictor proposes the next experiment; for the
# assimilation, `m` calculations go where A's predictive variance is largest. The
# experiment-only fit is the same conjugate regression on B's data alone. Counted: the
# experiments (the initial five included) until one lands within 2 % of B's range of
# its maximum on the 31 × 31 candidate grid.

# %%
bo_rows = []
for seed in range(BO_SEEDS):
    problem = da.bo_problem(seed, size=SIZE, grid_points=GRID)
    found = {
        "experiment only": da.optimise(
            problem, "experiment_only", rng=100 + seed, max_experiments=BUDGET
        )["found_at"]
    }
    for m in PER_ITERATION:
        out = da.optimise(
            problem,
            "assimilation",
            rng=100 + seed,
            max_experiments=BUDGET,
            calculations_per_iteration=m,
        )
        found[f"assimilation, m = {m}"] = out["found_at"]
    bo_rows.append({"seed": seed, **found})
bo_table = pd.DataFrame(bo_rows).set_index("seed")
bo_table.to_csv(OUTPUT / "bayesian_optimisation.csv")
censored = bo_table.isna().sum()
bo_summary = bo_table.fillna(BUDGET + 1).quantile([0.25, 0.5, 0.75]).T
bo_summary.columns = ["25 %", "median", "75 %"]
bo_summary["not found within budget"] = censored
print(f"experiments until B's maximum is found ({SIZE}² = {SIZE**2} features, {BO_SEEDS} seeds)")
print(bo_summary.to_string(float_format=lambda v: f"{v:.1f}"))
print(bo_table.to_string())
if not QUICK:
    assert (
        bo_summary.loc["assimilation, m = 3", "median"]
        < bo_summary.loc["experiment only", "median"]
    )


# %% [markdown]
# The fraction of seeds whose maximum was found within a given number of experiments
# (seeds not found within the budget are drawn at budget + 1).

# %% tags=["figures"]
bo_table = pd.read_csv(OUTPUT / "bayesian_optimisation.csv", index_col="seed")
fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
for column in bo_table.columns:
    ax.ecdf(bo_table[column].fillna(BUDGET + 1).to_numpy(), label=column)
ax.set_xlabel("experiments until B's maximum is found [count]")
ax.set_ylabel("fraction of seeds found")
ax.legend(fontsize="small")
fig.savefig(OUTPUT / "bayesian_optimisation.png", dpi=110)

# %%
print(f"wall time {time.perf_counter() - started:.1f} s ({'quick' if QUICK else 'full'} settings)")

# %% [markdown]
# ## Paper against ours
#
# The talk's slides give the demo's settings and qualitative results, and for Bayesian
# optimisation the 49-feature set-up and an observation; ours are from the full run
# (508 s under `nice` on two cores; docs/data-assimilation.md; the run writes them to
# `extrapolation_summary.csv`, `free_energy_comparison.csv`, `complete_data_check.csv`
# and `bayesian_optimisation.csv`). RMS errors are of y_expt against the true f₂ on
# [0.5, 1], median [quartiles] over 200 simulated data sets; F in nats on the seed-1
# data.
#
# | quantity | paper | ours | agreement |
# |---|---|---|---|
# | RMS, cubic OLS on (ii) | fails to extrapolate | 8.14 [3.36, 17.8] | yes |
# | RMS, unrestricted Λ | — | 4.22 [2.05, 7.52] | — (a) |
# | RMS, restricted Λ | extrapolates (ii) via (i) | 0.124 [0.074, 0.193] | yes |
# | restricted Λ better than OLS | yes | 200 of 200 seeds | yes |
# | F restricted cubic, Chib / RE | — | 7.101 ± 0.006 / 7.19 ± 0.10 | — (b) |
# | F restricted quartic | — | 9.483 ± 0.010 / 9.80 ± 0.26 | — (b) |
# | F unrestricted cubic | — | 12.673 ± 0.006 / 12.64 ± 0.15 | — (b) |
# | F restricted quadratic | — | 33.857 ± 0.048 / 33.84 ± 0.17 | — (b) |
# | chosen model, p(model \| D) | cubic, restricted (set) | restricted cubic, 0.93 | yes |
# | coupling β (truth 1) | — | 0.88 ± 0.19 | — (truth in 1 sd) |
# | complete data: F RE / exact | — | 11.868 ± 0.059 / 11.884 | — (c) |
# | BO, 49 features: experiment only | "33" (c) | 33 [22, 39] | unclear (d) |
# | BO: assimilation, m = 1, 3, 5 | found once A is known | 51, 21, 15 (medians) | yes (d) |
# | BO: iterations to determine A | ~49 | ≈ 49 calculations | yes (d) |
#
# Why they differ, and what is not comparable:
#
# - **(a)** The slides compare with separate least squares only. The unrestricted Λ
#   model decouples on this design (no row observes both targets, so its likelihood is
#   that of two separate regressions) and is least squares shrunk by the prior.
# - **(b)** The slides fix the model (cubic features, experiment row restricted to the
#   constant) rather than select it; we select it by F, and it is the one the slides
#   chose. Chib (Gibbs) and replica exchange (PyMC) are independent estimates of one F;
#   they agree within 1.2 combined MCSE.
# - **(c)** A check of our PyMC model against the closed form, not in the slides.
# - **(d)** The slides' Bayesian-optimisation plots are not reproducible numbers: they
#   show that the maximum of model B is found suddenly once model A is established
#   (~49 iterations, the number of coefficients), which is what we see (with 1
#   calculation per experiment the maximum comes at ≈ 51 experiments, with 3 at 21, with
#   5 at 15: after about 49 calculations in every case). The slide writes "33" next to
#   the least-squares recipe without a label; our experiment-only median is 33, which
#   may be a coincidence.
