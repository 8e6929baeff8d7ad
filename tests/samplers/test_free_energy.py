"""Free energies from PyMC SMC against the exact evidence of the straight line."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from measurement_models import linear
from samplers import SMCSettings, free_energy, sample_free_energy

SETTINGS = SMCSettings(draws=1000, chains=8)


@pytest.fixture(scope="module")
def smc_line(line_data):
    data, _ = line_data
    model = linear.build_model(data, n_terms=2, sigma=0.3)
    idata, fe = sample_free_energy(model, SETTINGS, random_seed=2, progressbar=False)
    return data, idata, fe


def exact_free_energy(data, **kwargs):
    return -linear.exact_log_evidence(data["x"].values, data["y"].values, 0.3, 2, **kwargs)


def test_smc_free_energy_matches_exact_evidence(smc_line):
    data, _, fe = smc_line
    assert fe.method == "smc"
    assert fe.per_chain.shape == (SETTINGS.chains,)
    assert np.all(np.isfinite(fe.per_chain)) and fe.mcse > 0
    assert abs(fe.value - exact_free_energy(data)) < 5 * fe.mcse


def test_check_rejects_a_wrong_prior(smc_line):
    """Negative control: the evidence under priors N(0, 3²) differs by ≈ 2 nats; the same
    5·MCSE check must tell the two apart."""
    data, _, fe = smc_line
    assert abs(fe.value - exact_free_energy(data, prior_sd=3.0)) > 5 * fe.mcse


def test_free_energy_reads_ragged_smc_stats():
    """PyMC stores one row per chain, NaN before the last stage; rows may differ in length."""
    rows = np.empty(2, dtype=object)
    rows[0], rows[1] = [np.nan, np.nan, -10.0], [np.nan, -12.0]
    tree = xr.DataTree.from_dict(
        {"sample_stats": xr.Dataset({"log_marginal_likelihood": ("chain", rows)})}
    )
    fe = free_energy(tree)
    np.testing.assert_array_equal(fe.per_chain, [10.0, 12.0])
    assert fe.value == 11.0
    assert fe.mcse == pytest.approx(np.std([10.0, 12.0], ddof=1) / np.sqrt(2))


def test_single_chain_has_no_mcse():
    tree = xr.DataTree.from_dict(
        {"sample_stats": xr.Dataset({"log_marginal_likelihood": ("chain", [np.nan, -3.0])})}
    )
    fe = free_energy(tree)
    assert fe.value == 3.0 and np.isnan(fe.mcse)


def test_results_without_evidence_are_rejected():
    nuts_like = xr.DataTree.from_dict({"sample_stats": xr.Dataset({"diverging": ("chain", [0])})})
    with pytest.raises(ValueError, match=r"no evidence estimate.*pm\.sample_smc"):
        free_energy(nuts_like)
    with pytest.raises(ValueError, match="no sample_stats"):
        free_energy(xr.DataTree())
    unfinished = xr.DataTree.from_dict(
        {"sample_stats": xr.Dataset({"log_marginal_likelihood": ("chain", [np.nan, np.nan])})}
    )
    with pytest.raises(ValueError, match="β = 1 not reached"):
        free_energy(unfinished)
