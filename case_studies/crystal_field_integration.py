# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Bayesian integration of susceptibility and specific heat: Ce³⁺ in a crystal field
#
# **The question.** M. Okada's lecture slides "ベイズ計測の基礎から展開へ" (Bayesian
# measurement, from foundations to applications; Bayesian integration of measurements)
# ask: *when two different measurements of one sample depend on the same
# crystal-field parameters, does analysing them together determine those parameters
# better than either alone, and can each measurement's noise level be estimated from the
# data by the Bayesian free energy F = −log p(D)?* Their example is Ce³⁺ (J = 5/2,
# g_J = 6/7) in a cubic field H = B₄⁰(O₄⁰ + 5O₄⁴): the magnetic susceptibility (fitted as
# 1/χ) and the specific heat, simulated at T = 0.2, 0.4, …, 70 K (350 points each),
# B₄⁰ = 0.1167 K, field 0.01 T, σ_mag = 10⁻² on 1/χ, σ_spc = 10⁻³ on C. Their answer:
# the integrated posterior is narrower than either alone, and the estimated noise
# precision of 1/χ was b̂ = 8111.3 against a true 10⁴.
#
# **What you will see.**
#
# 1. the two simulated measurements;
# 2. each dataset's noise precision b = 1/σ² estimated by minimising F(b) (one
#    replica-exchange run per dataset gives F along the whole ladder);
# 3. the posterior of B₄⁰ from each dataset alone and from both together
#    (`measurement_models.integration.integrated_model`: shared B₄⁰, one Gaussian
#    likelihood per dataset with its own b̂), and F of one shared B₄⁰ against one each;
# 4. (full run) the tetragonal field B₂⁰O₂⁰ + B₄⁰O₄⁰ + B₄⁴O₄⁴, where the specific heat
#    alone cannot determine the three parameters;
# 5. the paper's numbers against ours.
#
# With one parameter the exact answers are one-dimensional integrals: the posterior,
# F = −log p(D) and its minimiser over b are computed by quadrature (the NumPy forward
# model on a grid), independently of the sampler, and every sampled number is checked
# against them.
#
# Quick (`BAYESMEAS_QUICK=1`, the tests) uses small sampler settings, samples only the
# integrated posterior (the single-dataset posteriors come from quadrature alone) and
# skips the tetragonal section. The numbers quoted in the text are from the full run
# (`nice .venv/bin/bayesmeas run crystal_field_integration --full`, 1081 s on two cores
# shared with a CI run; quoted in docs/hamiltonians.md).

# %%
import os
import time
from functools import partial
from pathlib import Path

import arviz as az
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xarray as xr
from scipy import optimize

from measurement_models import crystal_field as cf
from measurement_models.integration import (
    Measurement,
    integrated_model,
    separate_models,
    with_noise_precisions,
)
from samplers import ReplicaExchangeSettings, noise_precisions_by_scan

QUICK = os.environ.get("BAYESMEAS_QUICK") == "1"
OUTPUT = Path(os.environ.get("BAYESMEAS_OUTPUT", "results/crystal_field_integration"))
OUTPUT.mkdir(parents=True, exist_ok=True)
start = time.perf_counter()
SETTINGS = cf.REFERENCES["okada_cubic"]  # the lecture's settings, with their source
T = SETTINGS.x
TRUTH = dict(SETTINGS.params)
SIGMA = cf.NOISE_LEVELS["low"]
TRUE_B = {name: s**-2 for name, s in SIGMA.items()}
NAMES = {"magnetic": "inverse_susceptibility", "thermal": "specific_heat"}
LABELS = {"inverse_susceptibility": "susceptibility alone", "specific_heat": "specific heat alone"}
QUANTILES = [0.03, 0.5, 0.97]  # median and central 94 % band
COLOURS = {"susceptibility alone": "C0", "specific heat alone": "C1", "integrated": "C3"}
print(cf.PARAMETERS.to_markdown())
print(f"T = {T[0]:.1f} … {T[-1]:.1f} K, n = {T.size} per observable; truth {TRUTH}")
print(f"Curie constant of Ce³⁺: {cf.curie_constant('Ce3+'):.4f} emu K/mol")

# %% [markdown]
# ## 1. The two measurements
#
# The cubic field splits the J = 5/2 multiplet into a Γ₇ doublet (ground state for
# B₄⁰ > 0) and a Γ₈ quartet 360 B₄⁰ = 42 K above it: a Schottky anomaly in C(T), and
# 1/χ(T) bending from the Curie line of the Γ₇ doublet at low T to that of the free ion
# (0.80 emu K/mol) at high T. Both datasets are saved in `data.nc`.

# %%
data = cf.simulate_reference("cubic", "low", rng=2016)
xr.DataTree.from_dict(data).to_netcdf(OUTPUT / "data.nc")

# %% tags=["figures"]
saved = xr.open_datatree(OUTPUT / "data.nc")
fig, axes = plt.subplots(1, 2, figsize=(9, 3.5), layout="constrained")
for ax, name in zip(axes, NAMES.values(), strict=True):
    observed = saved[name].to_dataset()
    ax.plot(T, observed[name], ".", ms=2, color="0.4", label=f"simulated, σ = {SIGMA[name]:g}")
    ax.plot(T, cf.forward(T, observable=name, **TRUTH), "k--", lw=1, label="truth")
    ax.set_xlabel("T [K]")
    ax.set_ylabel(f"{name} [{cf.OBSERVABLES[name][0]}]")
    ax.legend(fontsize="small")
fig.savefig(OUTPUT / "data.png", dpi=110)

# %% [markdown]
# ## 2. Noise precision of each dataset by the free energy
#
# Each dataset alone, with a fixed *reference* precision far above any plausible one
# (b_ref = 10⁵ for 1/χ, 10⁷ for C): the replica at inverse temperature β samples the
# posterior with precision βb_ref, so one replica-exchange run gives F(βb) along the
# whole ladder and b̂ minimises it (`samplers.noise_precisions_by_scan`).

# %%
scan_settings = (
    ReplicaExchangeSettings(draws=400, tune=600, chains=2, n_replicas=24, cores=1)
    if QUICK
    else ReplicaExchangeSettings(draws=2000, tune=2000, chains=4, n_replicas=32, cores=1)
)
priors = partial(cf.add_priors, ion="Ce3+", symmetry="cubic")
likelihood = partial(cf.add_likelihood, ion="Ce3+", symmetry="cubic")


def measurements(noise):
    """The two datasets, each with the noise precision ``noise[observable]``."""
    return [
        Measurement(label, data[observable], likelihood, noise[observable])
        for label, observable in NAMES.items()
    ]


reference = measurements({"inverse_susceptibility": 1e5, "specific_heat": 1e7})
scans = noise_precisions_by_scan(separate_models(reference, priors), scan_settings, random_seed=1)
scans.to_netcdf(OUTPUT / "noise_scan.nc")
b_hat = {NAMES[str(m)]: float(scans["best_noise_precision"].sel(measurement=m)) for m in NAMES}
b_se = {NAMES[str(m)]: float(scans["best_noise_precision_se"].sel(measurement=m)) for m in NAMES}
print(scan_settings.describe())
print(pd.DataFrame({"b̂ (scan)": b_hat, "MC se": b_se, "true b": TRUE_B}))
assert not scans["minimum_at_reference"].any()


# %% [markdown]
# ### The exact answers, by quadrature
#
# Locate the mode of the log-likelihood (a coarse grid over the prior, then a bounded
# search), integrate on a fine grid of ±12 posterior widths around it (flat prior
# U(−1, 1)). The same grid gives the exact F(b) of each dataset, whose minimiser is what
# the noise scan estimates.


# %%
def sum_of_squares(b40, observable):
    """Σ_i (y_i − f(T_i; B₄⁰))² for an array of B₄⁰ values (NumPy forward model)."""
    residual = data[observable][observable].values - cf.forward(T, observable=observable, B40=b40)
    return np.sum(residual**2, axis=-1)


COARSE = np.linspace(-0.999, 0.999, 101)
COARSE_SQUARES = {o: sum_of_squares(COARSE, o) for o in NAMES.values()}


def log_likelihood_terms(b40, precisions):
    b40 = np.atleast_1d(b40)
    return -0.5 * sum(b * sum_of_squares(b40, o) for o, b in precisions.items())


def exact_posterior(precisions):
    """Mean, sd, density and F of B₄⁰ given fixed precisions {observable: b}."""
    coarse = -0.5 * sum(b * COARSE_SQUARES[o] for o, b in precisions.items())
    centre, step = COARSE[np.argmax(coarse)], COARSE[1] - COARSE[0]
    mode = optimize.minimize_scalar(
        lambda b40: -log_likelihood_terms(b40, precisions)[0],
        bounds=(centre - step, centre + step),
        method="bounded",
        options={"xatol": 1e-12},
    ).x
    h = 1e-7  # the curvature at the mode sets the fine grid
    around = log_likelihood_terms(np.array([mode - h, mode, mode + h]), precisions)
    width = (-(around[0] - 2 * around[1] + around[2]) / h**2) ** -0.5
    grid = np.linspace(mode - 12 * width, mode + 12 * width, 201)
    squares = {o: sum_of_squares(grid, o) for o in precisions}

    def free_energy(b):
        """F = −log ∫ p(D|B, b) φ(B) dB, φ = 1/2 on (−1, 1)."""
        log_lik = -0.5 * sum(b[o] * squares[o] for o in precisions)
        top = log_lik.max()
        normalisation = sum(0.5 * T.size * np.log(b[o] / (2 * np.pi)) for o in precisions)
        return -(top + np.log(np.trapezoid(np.exp(log_lik - top), grid) / 2) + normalisation)

    density = np.exp(-0.5 * sum(precisions[o] * squares[o] for o in precisions) - around[1])
    density /= np.trapezoid(density, grid)
    mean = np.trapezoid(grid * density, grid)
    sd = np.sqrt(np.trapezoid((grid - mean) ** 2 * density, grid))
    return {
        "mean": mean,
        "sd": sd,
        "grid": grid,
        "density": density,
        "F": free_energy(precisions),
        "F(b)": free_energy,
    }


rows, curves = [], []
RELATIVE_B = np.geomspace(0.7, 1.4, 57)  # F(b) is drawn on b̂ × these
for label, observable in NAMES.items():
    alone = exact_posterior({observable: b_hat[observable]})
    # the exact minimiser of F(b); the grid (±12 widths at b̂) covers b̂/3 … 3b̂
    best = optimize.minimize_scalar(
        lambda log_b, o=observable, f=alone["F(b)"]: f({o: np.exp(log_b)}),
        bounds=(np.log(b_hat[observable] / 3), np.log(3 * b_hat[observable])),
        method="bounded",
        options={"xatol": 1e-8},
    )
    b_exact = float(np.exp(best.x))
    rows.append(
        {
            "measurement": label,
            "observable": observable,
            "true b": TRUE_B[observable],
            "b̂ (noise scan)": b_hat[observable],
            "MC se": b_se[observable],
            "exact argmin F(b)": b_exact,
        }
    )
    b_values = b_hat[observable] * RELATIVE_B
    curves.append(
        xr.Dataset(
            {
                "b": ("point", b_values, {"units": "1/σ² of the observable"}),
                "F": ("point", [alone["F(b)"]({observable: b}) for b in b_values]),
            }
        ).expand_dims(observable=[observable])
    )
    # the scan finds the minimiser of F(b) (MC error plus 2 % for interpolation between
    # ladder levels), and that lies within the statistical spread of the truth: 350 points
    # fix b to about √(2/n) = 8 % (sd of a sample variance)
    assert abs(b_hat[observable] - b_exact) < 4 * b_se[observable] + 0.02 * b_exact, rows[-1]
    assert abs(b_exact / TRUE_B[observable] - 1) < 4 * np.sqrt(2 / T.size), rows[-1]
noise_table = pd.DataFrame(rows).set_index("measurement")
noise_table.to_csv(OUTPUT / "noise_precision.csv")
xr.concat(curves, "observable").to_netcdf(OUTPUT / "free_energy_of_b.nc")
print(noise_table.to_string(float_format=lambda v: f"{v:.6g}"))

# %% [markdown]
# F(b) of each dataset alone, exact (quadrature), with the scan's b̂ ± its standard error
# and the true b. The minimum is shallow: 350 points fix b to about 8 %.

# %% tags=["figures"]
f_of_b = xr.open_dataset(OUTPUT / "free_energy_of_b.nc")
noise = pd.read_csv(OUTPUT / "noise_precision.csv", index_col="observable")
fig, axes = plt.subplots(1, 2, figsize=(9, 3.3), layout="constrained")
for ax, name in zip(axes, NAMES.values(), strict=True):
    curve = f_of_b.sel(observable=name)
    ax.plot(curve["b"], curve["F"] - curve["F"].min(), color="C0", label="exact F(b)")
    b, se = noise.loc[name, "b̂ (noise scan)"], noise.loc[name, "MC se"]
    ax.axvspan(b - se, b + se, color="C1", alpha=0.4, lw=0)
    ax.axvline(b, color="C1", label="b̂ (scan) ± se")
    ax.axvline(TRUE_B[name], color="k", ls="--", lw=1, label="true b")
    ax.set_xscale("log")
    ax.set_xlabel(f"b of {name} [({cf.OBSERVABLES[name][0]})⁻²]")
    ax.set_ylabel("F(b) − min F [nats]")
    ax.legend(fontsize="small")
fig.savefig(OUTPUT / "free_energy_of_b.png", dpi=110)

# %% [markdown]
# ## 3. Posterior of B₄⁰: each dataset alone, and integrated
#
# The models use the scanned b̂ as fixed precisions. The two single-dataset models
# together are the integrated model with nothing shared, so F_int against
# F_mag + F_spc says whether the data favour one B₄⁰ for both measurements.

# %%
post_settings = (
    ReplicaExchangeSettings(draws=400, tune=600, chains=2, n_replicas=32, cores=1)
    if QUICK
    else ReplicaExchangeSettings(draws=2000, tune=2000, chains=4, n_replicas=32, cores=1)
)
fixed = with_noise_precisions(measurements(TRUE_B), {m: b_hat[o] for m, o in NAMES.items()})
alone_models = separate_models(fixed, priors)
models = {"integrated": integrated_model(fixed, priors)}
if not QUICK:
    models["susceptibility alone"] = alone_models["magnetic"]
    models["specific heat alone"] = alone_models["thermal"]
runs = {
    label: post_settings.sample(model, seed, False)
    for seed, (label, model) in enumerate(models.items(), start=10)
}
exact = {
    "susceptibility alone": exact_posterior(
        {"inverse_susceptibility": b_hat["inverse_susceptibility"]}
    ),
    "specific heat alone": exact_posterior({"specific_heat": b_hat["specific_heat"]}),
    "integrated": exact_posterior(b_hat),
}
xr.Dataset(
    {
        "B40": (("data", "point"), [r["grid"] for r in exact.values()], {"units": "K"}),
        "density": (("data", "point"), [r["density"] for r in exact.values()], {"units": "1/K"}),
    },
    coords={"data": list(exact)},
).to_netcdf(OUTPUT / "exact_posteriors.nc")
sampled = []
for label, (idata, _) in runs.items():
    sampled.append(idata["posterior"]["B40"].expand_dims(data=[label]))
xr.concat(sampled, "data").to_dataset().to_netcdf(OUTPUT / "posteriors.nc")
# median and 94 % band of each observable under the integrated posterior: the curves are
# monotone in B₄⁰ across its narrow posterior, so their quantiles are the curves at the
# quantiles of B₄⁰ (the band's ends swapped where a curve decreases)
b40_quantiles = np.quantile(runs["integrated"][0]["posterior"]["B40"].values, QUANTILES)


def band_of(observable):
    lo, mid, hi = cf.forward(T, observable=observable, B40=b40_quantiles)
    return np.stack([np.minimum(lo, hi), mid, np.maximum(lo, hi)])


xr.Dataset(
    {
        name: (("quantile", "temperature"), band_of(name), {"units": cf.OBSERVABLES[name][0]})
        for name in NAMES.values()
    },
    coords={"quantile": QUANTILES, "temperature": T},
).to_netcdf(OUTPUT / "fit_band.nc")

rows = []
for label, result in exact.items():
    row = {
        "data": label,
        "exact mean": result["mean"],
        "exact sd": result["sd"],
        "exact F": result["F"],
    }
    if label in runs:
        idata, fe = runs[label]
        draws = idata["posterior"]["B40"]
        mcse_mean = float(az.mcse(idata, var_names=["B40"], method="mean")["B40"])
        mcse_sd = float(az.mcse(idata, var_names=["B40"], method="sd")["B40"])
        row |= {
            "mean": float(draws.mean()),
            "sd": float(draws.std()),
            "MCSE(mean)": mcse_mean,
            "MCSE(sd)": mcse_sd,
            "F": fe.value,
            "F MCSE": fe.mcse,
        }
        assert abs(row["mean"] - result["mean"]) < 5 * mcse_mean + 0.05 * result["sd"], row
        assert abs(row["sd"] - result["sd"]) < 5 * mcse_sd + 0.02 * result["sd"], row
        # stepping-stone F: 5 MCSE plus one nat for the bias of short runs on a posterior
        # 10⁻⁶ times narrower than the prior
        assert abs(fe.value - result["F"]) < 5 * fe.mcse + 1.0, row
    row["(mean − truth)/sd"] = (result["mean"] - TRUTH["B40"]) / result["sd"]
    rows.append(row)
posterior_table = pd.DataFrame(rows).set_index("data")
posterior_table.to_csv(OUTPUT / "posterior_B40.csv")
print(post_settings.describe())
print(posterior_table.T.to_string(float_format=lambda v: f"{v:.6g}"))

sd = posterior_table["exact sd"]
# the integrated posterior is narrower than either alone
assert sd["integrated"] < min(sd["susceptibility alone"], sd["specific heat alone"])
# and, the posteriors being Gaussian, its precision is the sum of the two
assert abs(sd["integrated"] / np.hypot(1 / sd.iloc[0], 1 / sd.iloc[1]) ** -1 - 1) < 0.02
# the truth lies within it
assert abs(posterior_table.loc["integrated", "(mean − truth)/sd"]) < 4

# %% [markdown]
# The integrated model against both datasets: data, posterior median and 94 % band of
# the curve (top; the band is far narrower than the points' scatter), and the residuals
# from the posterior median with the band around it and ±σ (bottom).

# %% tags=["figures"]
saved = xr.open_datatree(OUTPUT / "data.nc")
band = xr.open_dataset(OUTPUT / "fit_band.nc")
fig, axes = plt.subplots(
    2, 2, figsize=(10, 6), layout="constrained", sharex=True, height_ratios=(2, 1)
)
for column, name in enumerate(NAMES.values()):
    observed = saved[name].to_dataset()[name].values
    lo, mid, hi = band[name].values
    unit = cf.OBSERVABLES[name][0]
    ax = axes[0, column]
    ax.plot(T, observed, ".", ms=2, color="0.3", label="data")
    ax.fill_between(T, lo, hi, color="C1", alpha=0.35, lw=0, label="94 % band")
    ax.plot(T, mid, color="C1", lw=1.5, label="posterior median")
    ax.plot(T, cf.forward(T, observable=name, **TRUTH), "k--", lw=1, label="truth")
    ax.set_ylabel(f"{name} [{unit}]")
    ax.legend(fontsize="small")
    ax = axes[1, column]
    ax.plot(T, observed - mid, ".", ms=2, color="0.3", label="data − median")
    ax.fill_between(T, lo - mid, hi - mid, color="C1", alpha=0.5, lw=0, label="94 % band")
    ax.axhline(SIGMA[name], color="0.5", ls=":", lw=1, label="±σ")
    ax.axhline(-SIGMA[name], color="0.5", ls=":", lw=1)
    ax.set_xlabel("T [K]")
    ax.set_ylabel(f"residual [{unit}]")
    ax.legend(fontsize="x-small", ncols=3)
fig.savefig(OUTPUT / "fits.png", dpi=110)

# %% [markdown]
# Posterior densities of B₄⁰, centred on the truth, in units of 10⁻⁶ K: lines from
# quadrature, histograms from replica exchange (quick: the integrated model only).

# %% tags=["figures"]
exact_saved = xr.open_dataset(OUTPUT / "exact_posteriors.nc")
posteriors = xr.open_dataset(OUTPUT / "posteriors.nc")
fig, ax = plt.subplots(figsize=(6, 3.5), layout="constrained")
for label in exact_saved["data"].values:
    result = exact_saved.sel(data=label)
    colour = COLOURS[str(label)]
    x = (result["B40"] - TRUTH["B40"]) * 1e6
    wide = label == "specific heat alone"  # under the integrated curve: drawn wider
    ax.plot(
        x,
        result["density"] / 1e6,
        color=colour,
        lw=4 if wide else 1.5,
        alpha=0.6 if wide else 1.0,
        label=f"{label} (exact)",
    )
    if label in posteriors["data"]:
        draws = (posteriors["B40"].sel(data=label).values.ravel() - TRUTH["B40"]) * 1e6
        ax.hist(draws, bins=40, density=True, alpha=0.4, color=colour, label=f"{label} (sampled)")
ax.axvline(0, color="k", ls="--", lw=1, label="truth")
ax.set_xlim(-30, 30)
ax.set_xlabel("B₄⁰ − 0.1167 K [10⁻⁶ K]")
ax.set_ylabel("density [1/(10⁻⁶ K)]")
ax.legend(fontsize="x-small")
fig.savefig(OUTPUT / "posterior_B40.png", dpi=110)

# %% [markdown]
# ### One B₄⁰ for both, or one each?
#
# F_int − (F_mag + F_spc) < 0: a shared crystal field explains both measurements better
# than two independent ones (the second copy of B₄⁰ would cost its Occam factor). Full
# run: −11.17 ± 0.11 nats sampled, −11.40 exact.

# %%
f = posterior_table["exact F"]
delta_exact = f["integrated"] - f["susceptibility alone"] - f["specific heat alone"]
print(f"exact:   F_int − (F_mag + F_spc) = {delta_exact:.2f} nats")
assert delta_exact < 0
delta, delta_mcse = np.nan, np.nan
if not QUICK:
    f_int, f_mag, f_spc = (
        runs[k][1] for k in ("integrated", "susceptibility alone", "specific heat alone")
    )
    delta = f_int.value - f_mag.value - f_spc.value
    delta_mcse = np.sqrt(f_int.mcse**2 + f_mag.mcse**2 + f_spc.mcse**2)
    print(f"sampled: F_int − (F_mag + F_spc) = {delta:.2f} ± {delta_mcse:.2f} nats")
    assert delta < 0
pd.Series(
    {"exact": delta_exact, "sampled": delta, "sampled MCSE": delta_mcse},
    name="F_int − (F_mag + F_spc) [nats]",
).to_csv(OUTPUT / "shared_against_separate.csv")

# %% [markdown]
# ## 4. Tetragonal Ce³⁺ (full run only)
#
# H = B₂⁰O₂⁰ + B₄⁰O₄⁰ + B₄⁴O₄⁴, truth (0.381, 0.165, 0.447) K: three Kramers doublets.
# The specific heat sees only the two gaps, so alone it leaves one combination of the
# three parameters undetermined; the susceptibility (field along z) fixes them, and
# integration narrows further. B₄⁴ → −B₄⁴ (a 45° rotation about z) leaves both
# observables unchanged, so the posterior of B₄⁴ is symmetric and |B₄⁴| is reported.
# Noise precisions: the true ones (the cubic section showed the scan).

# %%
if not QUICK:
    tdata = cf.simulate_reference("tetragonal", "low", rng=2017)
    t_truth = cf.REFERENCES["okada_tetragonal"].params
    t_priors = partial(cf.add_priors, ion="Ce3+", symmetry="tetragonal")
    t_likelihood = partial(cf.add_likelihood, ion="Ce3+", symmetry="tetragonal")
    t_measurements = [
        Measurement(label, tdata[observable], t_likelihood, TRUE_B[observable])
        for label, observable in NAMES.items()
    ]
    t_alone = separate_models(t_measurements, t_priors)
    t_models = {
        "susceptibility alone": t_alone["magnetic"],
        "specific heat alone": t_alone["thermal"],
        "integrated": integrated_model(t_measurements, t_priors),
    }
    tetragonal_rows = []
    for seed, (label, model) in enumerate(t_models.items(), start=20):
        idata, fe = post_settings.sample(model, seed, False)
        row = {"data": label, "F": fe.value, "F MCSE": fe.mcse}
        for name in ("B20", "B40", "B44"):
            values = idata["posterior"][name]
            values = np.abs(values) if name == "B44" else values
            row[f"{name} mean"] = float(values.mean())
            row[f"{name} sd"] = float(values.std())
        tetragonal_rows.append(row)
    tetragonal_table = pd.DataFrame(tetragonal_rows).set_index("data")
    tetragonal_table.to_csv(OUTPUT / "tetragonal.csv")
    print(tetragonal_table.T.to_string(float_format=lambda v: f"{v:.4g}"))
    for name in ("B20", "B40", "B44"):
        sds = tetragonal_table[f"{name} sd"]
        assert sds["integrated"] < 1.1 * min(
            sds["susceptibility alone"], sds["specific heat alone"]
        )
        error = tetragonal_table.loc["integrated", f"{name} mean"] - t_truth[name]
        assert abs(error) < 5 * sds["integrated"], (name, error)
print(f"wall time {time.perf_counter() - start:.1f} s ({'quick' if QUICK else 'full'} settings)")

# %% [markdown]
# ## Paper against ours
#
# The paper's numbers are those of the lecture slide (low-noise case); ours are from
# the full run (`bayesmeas run crystal_field_integration --full`, 1081 s on two shared
# cores, docs/hamiltonians.md; the run writes them to
# `noise_precision.csv`, `posterior_B40.csv`, `shared_against_separate.csv` and
# `tetragonal.csv`). "Exact" is quadrature over B₄⁰.
#
# | quantity | paper | ours | agreement |
# |---|---|---|---|
# | B₄⁰ cubic, integrated [K] | 0.1167 (truth) | 0.116697 ± 1.49 × 10⁻⁶ | yes (−2 sd) |
# | b̂ of 1/χ (true 10⁴) [(emu/mol)²] | 8111.3 | 10453.5 ± 0.5 (exact 10453.6) | no, (a) |
# | b̂ of C (true 10⁶) [(mol K/J)²] | 10⁶ | 1.07479 × 10⁶ (exact 1.07483 × 10⁶) | yes, (a) |
# | sd(B₄⁰) 1/χ alone [K] | — | 8.83 × 10⁻⁶ (exact 8.70 × 10⁻⁶) | — |
# | sd(B₄⁰) C alone [K] | — | 1.49 × 10⁻⁶ (exact 1.50 × 10⁻⁶) | — |
# | sd(B₄⁰) integrated [K] | narrower than either | 1.49 × 10⁻⁶ (exact 1.482 × 10⁻⁶) | yes, (b) |
# | F of 1/χ alone [nats] | — | −1112.06 (exact −1112.02) | —, (c) |
# | F of C alone [nats] | — | −1921.12 (exact −1921.03) | —, (c) |
# | F integrated [nats] | — | −3044.35 (exact −3044.46) | —, (c) |
# | F_int − (F_mag + F_spc) [nats] | < 0 (shared) | −11.17 ± 0.11 (exact −11.40) | yes (2 MCSE) |
# | tetragonal sd(B₂⁰, B₄⁰, \|B₄⁴\|), 1/χ [K] | — | 2.8e−4, 7.7e−5, 9.7e−5 | — |
# | tetragonal sd, integrated [K] | narrower | 1.2e−4, 7.4e−6, 9.4e−5 | yes, (b) |
#
# Why they differ:
#
# - **(a) b̂ of 1/χ.** Both are minimisers of F(b) for one noise realisation each. For
#   n = 350 points the estimate of a noise precision scatters by about √(2/n) ≈ 7.6 %
#   around the truth; ours is +4.5 %, the paper's −19 % (2.5 of those spreads; we cannot
#   tell from the slide whether their realisation was unusual or their set-up differed,
#   e.g. in the noise model of 1/χ). Our b̂ agrees with the exact minimiser of our F(b)
#   to 10⁻⁵, so the estimator is right; the realisation differs.
# - **(b) The cubic gain is small** (sd 1.49 against 1.51 × 10⁻⁶): the specific heat alone
#   determines B₄⁰ almost fully; the integrated precision is the sum of the two. The
#   slide states only that the integrated posterior is narrower, which holds. In the
#   tetragonal case the gain is large: C alone leaves one combination of the three
#   parameters undetermined (sd of B₂⁰ = 0.55 K), and 1/χ fixes it.
# - **(c) Free energies** are not given in the slide, so there is nothing to compare;
#   they agree with quadrature.
