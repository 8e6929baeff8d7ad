"""Key numbers of the sampler comparison against closed forms written here.

Independent values: the straight line's exact posterior and evidence (conjugate
Gaussian, computed with NumPy/SciPy from the saved data), and the bimodal toy's exact
evidence, mode positions and weights (closed form from its constants). The spectral
targets have no closed form; their reference is a long replica-exchange run, so the
check there is a consistency check. Quick run: 2 chains per sampler, 250 + 250
iterations, 250 SMC particles per chain, 16 replicas.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import stats

from .conftest import run_quick

SAMPLERS_WITH_F = ["replica_exchange", "smc"]
#: With 2 chains, SMC's MCSE is the spread of two numbers (one degree of freedom) and can
#: come out far too small (1e-4 nats on the toy): a floor of 0.15 nats, three times the
#: largest SMC error on these two targets in the full run (+0.05 on the line).
SMC_FLOOR = 0.15


@pytest.fixture(scope="module")
def output(tmp_path_factory):
    return run_quick("sampler_comparison", tmp_path_factory)


def f_tolerance(row, sampler):
    """4 MCSE, plus the floor for SMC's unreliable two-chain MCSE."""
    return 4 * float(row["free_energy_mcse"]) + (SMC_FLOOR if sampler == "smc" else 0.0)


def test_straight_line_against_the_conjugate_posterior(output):
    data = xr.open_dataset(output / "straight_line_data.nc")
    x, y, sigma = data["x"].values, data["y"].values, 0.3
    X = np.column_stack([x, np.ones_like(x)])
    prior_cov = 10.0**2 * np.eye(2)
    marginal_cov = sigma**2 * np.eye(x.size) + X @ prior_cov @ X.T
    log_z = stats.multivariate_normal(np.zeros(x.size), marginal_cov).logpdf(y)
    cov = np.linalg.inv(np.linalg.inv(prior_cov) + X.T @ X / sigma**2)
    mean = cov @ X.T @ y / sigma**2
    result = xr.open_dataset(output / "straight_line.nc")
    for sampler in SAMPLERS_WITH_F:
        row = result.sel(sampler=sampler)
        assert abs(float(row["free_energy"]) + log_z) < f_tolerance(row, sampler), sampler
    for sampler in result["sampler"].values:
        row = result.sel(sampler=sampler)
        # posterior means within 4 MC standard errors, sd/√ESS_bulk of each parameter
        error = np.abs(row["posterior_mean"].sel(parameter=["a", "b"]).values - mean)
        mc_error = np.sqrt(np.diag(cov)) / np.sqrt(row["ess_bulk"].sel(parameter=["a", "b"]))
        assert (error < 4 * mc_error.values).all(), (sampler, error, mc_error.values)
        assert float(row["r_hat_max"]) < 1.1


def test_bimodal_toy_against_its_closed_form(output):
    c, s, tau, weights = np.array([3.0, 3.0]), 0.3, 5.0, np.array([0.3, 0.7])
    log_z = stats.multivariate_normal(np.zeros(2), (s**2 + tau**2) * np.eye(2)).logpdf(c)
    result = xr.open_dataset(output / "bimodal_toy.nc")
    for sampler in SAMPLERS_WITH_F:
        row = result.sel(sampler=sampler)
        assert abs(float(row["free_energy"]) + log_z) < f_tolerance(row, sampler), sampler
    # the modes are 28 likelihood widths apart: every NUTS chain sees exactly one of them,
    # every replica-exchange chain both
    assert (result["mode_coverage_per_chain"].sel(sampler="nuts") == 0.5).all()
    assert (result["mode_coverage_per_chain"].sel(sampler="replica_exchange") == 1).all()
    # mode weights 0.3 / 0.7: binomial error of a fraction with ESS effective draws
    for sampler in SAMPLERS_WITH_F:
        row = result.sel(sampler=sampler)
        se = np.sqrt(weights * (1 - weights) / float(row["ess_bulk_min"]))
        assert (np.abs(row["mode_fraction"].values - weights) < 4 * se).all(), sampler


#: F of the spectra from the full run's long references (4 chains × 32 replicas, 16000
#: draws; docs/sampler-comparison.md), and the largest quick-run MCSE of the small ones.
FULL_REFERENCE_F = {3: -244.186, 4: -243.958}


def test_spectra_against_the_long_runs(output):
    # consistency, not independence: the reference is a longer replica-exchange run with
    # another seed; F within 5 combined MCSE (free_energy_z), every F finite
    for k in (3, 4):
        result = xr.open_dataset(output / f"spectral_K{k}.nc")
        re = result.sel(sampler="replica_exchange")
        assert abs(float(re["free_energy_z"])) < 5
        assert np.isfinite(result["free_energy"].sel(sampler=SAMPLERS_WITH_F)).all()
        # the quick reference (2 × 800 draws) against the full run's long one: within 4
        # of the quick replica-exchange MCSE (the reference's own is smaller)
        reference_f = float(re["free_energy"] - re["free_energy_error"])
        assert abs(reference_f - FULL_REFERENCE_F[k]) < 4 * float(re["free_energy_mcse"])


def test_summary_table_holds_every_target(output):
    summary = pd.read_csv(output / "summary.csv")
    assert set(summary["target"]) == {"straight line", "Nagata K=3", "Nagata K=4", "bimodal toy"}
    assert len(summary) == 12
