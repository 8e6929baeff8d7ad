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
# and the minimum of F(βb) read off one replica-exchange run.
#
# Run as a script (`python case_studies/okada_straight_line.py`) or open with jupytext.
# `BAYESMEAS_QUICK=1` uses small sampler settings (the test suite does this).

# %%
import os

import arviz as az
import numpy as np
import pymc as pm
from scipy import optimize

from measurement_models import linear
from samplers import (
    ReplicaExchange,
    ReplicaExchangeSettings,
    SMCSettings,
    free_energy,
    ladder_diagnostics,
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
