# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # The three treasures on a straight line: posterior, model selection, noise (seed 001)
#
# Okada's introduction to Bayesian measurement works through y = a x + b analytically.
# Here every analytic result of `measurement_models.linear` is set beside a sampler:
# NUTS for the posterior; replica exchange (the papers' exchange Monte Carlo, as a PyMC
# step method) and PyMC SMC for the free energy; and the noise level three ways: seed
# 001's closed form σ² = N E(a₀, b₀)/(N − 2), the minimum of the exact free energy F(σ),
# and the minimum of F(βb) read off one replica-exchange run. Last, Bayesian integration:
# two measurements of one line with different noise in one joint model.
#
# Run as a script (`python case_studies/okada_straight_line.py`) or open with jupytext.
# `BAYESMEAS_QUICK=1` uses small sampler settings (the test suite does this).

# %%
import os
from functools import partial

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
from matplotlib.figure import Figure
from scipy import optimize

from measurement_models import linear
from measurement_models.integration import (
    Measurement,
    NoisePrecision,
    integrated_model,
    separate_models,
    with_noise_precisions,
)
from samplers import (
    ReplicaExchange,
    ReplicaExchangeSettings,
    SMCSettings,
    free_energy,
    ladder_diagnostics,
    noise_precisions_by_scan,
    noise_scan,
    plot_noise_scan,
    sample_free_energy,
    sample_replica_exchange,
    selection_table,
)

QUICK = os.environ.get("BAYESMEAS_QUICK") == "1"
rng = np.random.default_rng(2026)
data = linear.simulate(np.linspace(-1, 1, 30), a=2.0, b=0.5, sigma=0.3, rng=rng)
x, y = data["x"].values, data["y"].values

# %% [markdown]
# ## 1. Posterior of the physical parameters: NUTS against the exact Gaussian

# %%
exact_mean, exact_cov = linear.exact_posterior(x, y, sigma=0.3, n_terms=2)
with linear.build_model(data, n_terms=2, sigma=0.3):
    idata = pm.sample(
        draws=500 if QUICK else 2000, chains=2, cores=1, random_seed=1, progressbar=False
    )
summary = az.summary(idata, var_names=["a", "b"], kind="stats", round_to=4)
print(summary)
print("exact mean", exact_mean.round(4), "exact sd", np.sqrt(np.diag(exact_cov)).round(4))

# %% [markdown]
# ## 2. Model selection: y = a x (K = 1) against y = a x + b (K = 2)
#
# `ReplicaExchange` is an ordinary PyMC step method: one object owns a ladder of
# inverse temperatures 0 = β₀ < … < β_L = 1 and hands PyMC the β = 1 replica, so each
# chain is an independent ladder. The per-level log-likelihoods it records give the
# free energy by stepping-stone (default), thermodynamic integration or bridge
# sampling, each with a Monte Carlo standard error.

# %%
with linear.build_model(data, n_terms=2, sigma=0.3):
    idata_re = pm.sample(
        draws=500 if QUICK else 2000,
        tune=500 if QUICK else 2000,
        chains=2,
        cores=1,
        step=ReplicaExchange(n_replicas=16),
        random_seed=3,
        progressbar=False,
    )
exact_f2 = -linear.exact_log_evidence(x, y, 0.3, 2)
for method in ("stepping_stone", "thermodynamic_integration", "bridge"):
    fe = free_energy(idata_re, method)
    print(f"{method:>26}: {fe}   exact {exact_f2:.3f}   z = {(fe.value - exact_f2) / fe.mcse:+.1f}")
print(ladder_diagnostics(idata_re)[["global_barrier", "round_trips"]].to_dataframe())

# %% [markdown]
# Thermodynamic integration uses the trapezoid rule over the ladder and is biased where
# ⟨log L⟩_β bends sharply (near β = 0); stepping-stone and bridge are not. Now both
# candidates with replica exchange and with SMC, beside the exact values:

# %%
exact = [-linear.exact_log_evidence(x, y, 0.3, k) for k in (1, 2)]
for settings in (
    ReplicaExchangeSettings(
        draws=500 if QUICK else 2000, tune=500 if QUICK else 2000, chains=4, n_replicas=16
    ),
    SMCSettings(draws=500 if QUICK else 2000, chains=4),
):
    free_energies = {}
    for k in (1, 2):
        _, free_energies[k] = sample_free_energy(
            linear.build_model(data, n_terms=k, sigma=0.3),
            settings,
            random_seed=k,
            progressbar=False,
        )
    table = selection_table(free_energies, dim="K")
    table["exact_free_energy"] = ("K", exact)
    print(settings.describe())
    print(
        table[
            ["free_energy", "free_energy_mcse", "exact_free_energy", "probability"]
        ].to_dataframe()
    )

# %% [markdown]
# ## 3. Noise estimation: the minimum of F(σ) against σ² = Σr²/(N − 2)
#
# With flat priors (here N(0, 10⁶)) the exact free energy as a function of σ is minimal
# at seed 001's closed form.

# %%
best = optimize.minimize_scalar(
    lambda s: -linear.exact_log_evidence(x, y, s, 2, prior_sd=1e6), bounds=(0.05, 2.0)
)
print(
    f"argmin F(σ) = {best.x:.4f};  "
    f"closed form √(Σr²/(N−2)) = {np.sqrt(linear.noise_variance_estimate(x, y)):.4f};  truth 0.3"
)

# %% [markdown]
# ### From one replica-exchange run
#
# The replica at β of a model with noise precision b = 1/σ² is the posterior of the same
# model with precision βb, so one run gives F(βb) along the whole ladder (REFERENCE.md,
# "Noise estimation"). The ladder covers βb ≤ b, so the model must assume *less* noise
# than the data have: here σ = 0.1. With the package's N(0, 10²) priors the exact
# minimiser differs slightly from the flat-prior closed form above; it is computed here
# from the closed-form evidence on a grid.

# %%
idata_noise = sample_replica_exchange(
    model=linear.build_model(data, n_terms=2, sigma=0.1),
    draws=500 if QUICK else 2000,
    tune=500 if QUICK else 2000,
    chains=2,
    cores=1,
    n_replicas=24,
    random_seed=5,
    progressbar=False,
)
scan = noise_scan(idata_noise)
grid = np.geomspace(1.0, 100.0, 2000)
exact_best = grid[np.argmin([-linear.exact_log_evidence(x, y, 1 / np.sqrt(b), 2) for b in grid])]
print(
    f"noise scan: b = {scan.attrs['best_noise_precision']:.2f} ± "
    f"{scan.attrs['best_noise_precision_se']:.2f} (σ = "
    f"{scan.attrs['best_noise_precision'] ** -0.5:.4f});  exact minimiser b = {exact_best:.2f} "
    f"(σ = {exact_best**-0.5:.4f})"
)
ax = plot_noise_scan(scan)
ax.plot(
    grid, [-linear.exact_log_evidence(x, y, 1 / np.sqrt(b), 2) for b in grid], "k:", label="exact"
)
ax.legend(fontsize="small")

# %% [markdown]
# ## 4. Bayesian integration of two measurements
#
# Two measurements of the same line y = 2 x + 0.5: a short precise one (σ = 0.1, 12
# points) and a long noisy one (σ = 0.25, 60 points). `integrated_model` builds one PyMC
# model with the slope and intercept shared and one Gaussian likelihood per dataset, each
# with its own noise precision b_k = 1/σ_k² (known here; it can also be a parameter or come
# from each dataset's noise scan, see docs/integration.md). Its free energy
# F = −log Z − Σ_k (n_k/2) log(b_k/2π) includes both normalisations (REFERENCE.md,
# "Bayesian integration"). Exact answers: the two datasets stacked into one linear model
# with one σ per point. For the comparison, the same second measurement is also simulated
# from a line of slope 2.45 (same noise draws): then the datasets do not share a slope.

# %%
SIGMAS = {"precise": 0.1, "noisy": 0.25}
grids = {"precise": np.linspace(-1, 1, 12), "noisy": np.linspace(-1, 1, 60)}
precise = linear.simulate(grids["precise"], 2.0, 0.5, sigma=SIGMAS["precise"], rng=5)
cases = {
    "same line": linear.simulate(grids["noisy"], 2.0, 0.5, sigma=SIGMAS["noisy"], rng=2),
    "slopes 2.0 and 2.45": linear.simulate(grids["noisy"], 2.45, 0.5, sigma=SIGMAS["noisy"], rng=2),
}
priors = partial(linear.add_priors, 2)  # a, b ~ N(0, 10²)


def measurements(noisy):
    """The two measurements, each with its known precision b_k = 1/σ_k²."""
    return [
        Measurement("precise", precise, linear.add_likelihood, noise=SIGMAS["precise"] ** -2),
        Measurement("noisy", noisy, linear.add_likelihood, noise=SIGMAS["noisy"] ** -2),
    ]


def stacked(ms):
    """x, y and per-point σ of measurements stacked into one linear model."""
    x_all = np.concatenate([m.data["x"].values for m in ms])
    y_all = np.concatenate([m.data["y"].values for m in ms])
    sigma_all = np.concatenate([np.full(m.n, m.noise.value**-0.5) for m in ms])
    return x_all, y_all, sigma_all


fig = Figure(figsize=(6, 3.5), layout="constrained")
ax = fig.add_subplot()
for label, ds, style in (
    ("precise, σ = 0.1", precise, "o"),
    ("noisy, σ = 0.25 (slope 2.0)", cases["same line"], "."),
    ("noisy, σ = 0.25 (slope 2.45)", cases["slopes 2.0 and 2.45"], "x"),
):
    ax.errorbar(ds["x"], ds["y"], yerr=ds["sigma"], fmt=style, ms=4, lw=0.5, label=label)
ax.set_xlabel("x")
ax.set_ylabel("y")
ax.legend(fontsize="small")

# %% [markdown]
# Replica exchange for every model: the integrated one and each dataset alone (separate
# parameter sets, whose free energies add: F₁ + F₂ is the free energy of the joint model
# with nothing shared).

# %%
integration_settings = ReplicaExchangeSettings(
    draws=500 if QUICK else 2000,
    tune=500 if QUICK else 2000,
    chains=2 if QUICK else 4,
    n_replicas=12 if QUICK else 24,
)


def sample(model, seed):
    return integration_settings.sample(model, seed, False)


def tolerance(fe):
    """4 MCSE plus the stepping-stone bias bound: log of a mean biases each chain's F
    by about half its squared MCSE (delta method); twice that, averaged over chains."""
    return 4 * fe.mcse + np.mean(fe.per_chain_mcse**2)


integrated, noisy_alone = {}, {}
for seed, (case, noisy) in enumerate(cases.items()):
    integrated[case] = sample(integrated_model(measurements(noisy), priors), 100 + seed)
    alone = separate_models(measurements(noisy), priors)
    noisy_alone[case] = sample(alone["noisy"], 200 + seed)
precise_alone = sample(alone["precise"], 300)  # the same dataset in both cases

# %% [markdown]
# ### Slope posterior: the precision-weighted combination
#
# With x centred in each dataset the slope decouples from the intercept and its
# posterior precision is the sum 1/sd(a)² = 1/10² + Σ_k b_k Σ_i x_ki²: the precise
# dataset counts with b = 100 per unit Σx², the noisy one with b = 16.

# %%
weights = {k: np.sum(grids[k] ** 2) / SIGMAS[k] ** 2 for k in grids}
rows = []
for label, run, weight in (
    ("precise alone", precise_alone, weights["precise"]),
    ("noisy alone", noisy_alone["same line"], weights["noisy"]),
    ("integrated", integrated["same line"], sum(weights.values())),
):
    idata_k = run[0]
    rows.append(
        {
            "data": label,
            "sd(a) sampled": float(idata_k["posterior"]["a"].std()),
            "MCSE": float(az.mcse(idata_k, method="sd", var_names=["a"])["a"]),
            "sd(a) analytic": (1 / 10.0**2 + weight) ** -0.5,
        }
    )
slope_table = pd.DataFrame(rows).set_index("data")
print(slope_table.round(4))
_, stacked_cov = linear.exact_posterior(*stacked(measurements(cases["same line"])), 2)
assert np.isclose(np.sqrt(stacked_cov[0, 0]), slope_table.loc["integrated", "sd(a) analytic"])
for row in slope_table.itertuples():
    assert abs(row[1] - row[3]) < 4 * row[2], row

# %% [markdown]
# ### Shared or separate parameters: F_integrated against F₁ + F₂
#
# F_integrated < F₁ + F₂ says the two measurements are better explained by one line;
# F_integrated > F₁ + F₂ says they need their own parameters.

# %%
rows = []
for case, noisy in cases.items():
    ms = measurements(noisy)
    fe_int, fe_1, fe_2 = integrated[case][1], precise_alone[1], noisy_alone[case][1]
    exact_int = -linear.exact_log_evidence(*stacked(ms), 2)
    exact_sep = sum(-linear.exact_log_evidence(*stacked([m]), 2) for m in ms)
    separate_value = fe_1.value + fe_2.value
    separate_mcse = np.hypot(fe_1.mcse, fe_2.mcse)
    delta_mcse = np.hypot(fe_int.mcse, separate_mcse)
    rows.append(
        {
            "case": case,
            "F_int": fe_int.value,
            "F_int MCSE": fe_int.mcse,
            "F_int exact": exact_int,
            "F1+F2": separate_value,
            "F1+F2 MCSE": separate_mcse,
            "F1+F2 exact": exact_sep,
            "ΔF": fe_int.value - separate_value,
            "ΔF MCSE": delta_mcse,
            "ΔF exact": exact_int - exact_sep,
            "preferred": "integrated" if fe_int.value < separate_value else "separate",
        }
    )
    assert abs(fe_int.value - exact_int) < tolerance(fe_int)
    assert abs(separate_value - exact_sep) < tolerance(fe_1) + tolerance(fe_2)
    # the right preference, by more than 4 combined MCSE
    assert (exact_int - exact_sep) * (fe_int.value - separate_value) > 0
    assert abs(fe_int.value - separate_value) > 4 * delta_mcse
free_energy_table = pd.DataFrame(rows).set_index("case")
print(integration_settings.describe())
print(free_energy_table.round(3).T)
assert list(free_energy_table["preferred"]) == ["integrated", "separate"]

# %% [markdown]
# ### Unknown noise: b_k as parameters, or from each dataset's noise scan
#
# Same-line case, noise levels not given. (i) Each b_k a parameter of the integrated
# model (default prior log b ~ N(0, 5²)); (ii) the noise scan of each dataset alone
# (models built with a reference precision ten times the truth, so that the minimum of
# F(βb) lies inside the ladder), then the integrated model with those b̂_k fixed. The
# exact minimiser of each F_k(b) comes from the closed-form evidence.

# %%
unknown = measurements(cases["same line"])
estimated = integrated_model([m.with_noise(NoisePrecision.parameter()) for m in unknown], priors)
idata_b, fe_b = sample(estimated, 400)
reference = [m.with_noise(10 * SIGMAS[m.name] ** -2) for m in unknown]
scan_settings = ReplicaExchangeSettings(
    draws=500 if QUICK else 2000,
    tune=500 if QUICK else 2000,
    chains=4,
    n_replicas=16 if QUICK else 24,
)
scans = noise_precisions_by_scan(separate_models(reference, priors), scan_settings, random_seed=500)
rows = []
for m in unknown:
    x_k, y_k, _ = stacked([m])
    exact_b = optimize.minimize_scalar(
        lambda log_b, x_k=x_k, y_k=y_k: -linear.exact_log_evidence(x_k, y_k, np.exp(-log_b / 2)),
        bounds=(0.0, np.log(1e4)),
        method="bounded",
    )
    draws_b = idata_b["posterior"][f"{m.name}_noise_precision"]
    row = scans.sel(measurement=m.name)
    rows.append(
        {
            "measurement": m.name,
            "true b = 1/σ²": SIGMAS[m.name] ** -2,
            "parameter: mean": float(draws_b.mean()),
            "parameter: sd": float(draws_b.std()),
            "scan: b̂": float(row["best_noise_precision"]),
            "scan: se": float(row["best_noise_precision_se"]),
            "exact argmin F_k(b)": float(np.exp(exact_b.x)),
        }
    )
    assert abs(float(draws_b.mean()) - SIGMAS[m.name] ** -2) < 3 * float(draws_b.std())
    tolerance_b = 4 * float(row["best_noise_precision_se"]) + 0.01 * np.exp(exact_b.x)
    assert abs(float(row["best_noise_precision"]) - np.exp(exact_b.x)) < tolerance_b
noise_table = pd.DataFrame(rows).set_index("measurement")
print(noise_table.round(2).to_string())

scanned = with_noise_precisions(unknown, scans["best_noise_precision"])
idata_scanned, fe_scanned = sample(integrated_model(scanned, priors), 600)
exact_scanned = -linear.exact_log_evidence(*stacked(scanned), 2)
print(
    f"integrated with scanned b_k: {fe_scanned}, exact {exact_scanned:.3f};  "
    f"with b_k as parameters: {fe_b}"
)
assert abs(fe_scanned.value - exact_scanned) < tolerance(fe_scanned)
