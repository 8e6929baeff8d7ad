"""Free energies from PyMC SMC against the exact evidence of the straight line."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from measurement_models import linear
from samplers import SMCSettings, free_energy, sample_free_energy
from samplers.evidence.free_energy import tidy_smc_stats

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


def test_ragged_smc_stats_are_tidied_for_netcdf(tmp_path):
    """Object stats (one list per chain, chains of different length) become NaN-padded
    float arrays along ``stage``; the free energy read back from the file is unchanged."""
    rows, betas = np.empty(2, dtype=object), np.empty(2, dtype=object)
    rows[0], rows[1] = [np.nan, np.nan, -10.0], [np.nan, -12.0]
    betas[0], betas[1] = [0.0, 0.5, 1], [0.0, 1]  # PyMC mixes int and float here
    tree = xr.DataTree.from_dict(
        {
            "sample_stats": xr.Dataset(
                {"log_marginal_likelihood": ("chain", rows), "beta": ("chain", betas)}
            )
        }
    )
    tidy = tidy_smc_stats(tree)
    stats = tidy["sample_stats"].to_dataset()
    assert stats["beta"].dims == ("chain", "stage") and stats["beta"].dtype == float
    np.testing.assert_array_equal(stats["beta"].values, [[0.0, 0.5, 1.0], [0.0, 1.0, np.nan]])
    tidy.to_netcdf(tmp_path / "smc.nc", engine="netcdf4")
    back = free_energy(xr.open_datatree(tmp_path / "smc.nc", engine="netcdf4"))
    np.testing.assert_array_equal(back.per_chain, free_energy(tree).per_chain)


def test_sampled_smc_result_survives_netcdf(smc_line, tmp_path):
    _, idata, fe = smc_line
    idata.to_netcdf(tmp_path / "line.nc", engine="netcdf4")
    back = free_energy(xr.open_datatree(tmp_path / "line.nc", engine="netcdf4"))
    np.testing.assert_allclose(back.per_chain, fe.per_chain)


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
