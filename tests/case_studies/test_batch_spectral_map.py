"""Key numbers of the batch spectral-map case study against the pattern written out here.

The truth of every pixel is recomputed in this test from the pattern the case study
documents (host peak position 1.10 + 0.20 j/(N − 1); second-phase height
0.9 (1 − (r/R)²) for r < R = 0.36 N pixels from the centre, else absent), not read from
the case study's code. Checks: the saved truth is that pattern; the posterior of the
chosen model covers the truth within 4 posterior sd where the true K was chosen; F
never picks a wrong K on well-separated pixels (outside the disc, or a second-phase
height ≥ 0.3, three noise levels σ = 0.1) and decides on at least half of them;
the corrupted pixel is recorded as failed with validate_dataset's message; the rerun
found every part and fitted nothing; the sequential loop gave the cluster's numbers.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr

from .conftest import run_quick

SIDE = 3  # quick map
CORRUPTED = "r00c02"


@pytest.fixture(scope="module")
def output(tmp_path_factory):
    return run_quick("batch_spectral_map", tmp_path_factory)


@pytest.fixture(scope="module")
def result(output):
    return xr.open_dataset(output / "batch" / "batch.nc").load()


def pattern() -> dict[str, np.ndarray]:
    rows, cols = np.divmod(np.arange(SIDE * SIDE), SIDE)
    r = np.hypot(rows - (SIDE - 1) / 2, cols - (SIDE - 1) / 2)
    big_r = 0.36 * SIDE
    height = np.where(r < big_r, 0.9 * (1 - (r / big_r) ** 2), 0.0)
    return {
        "ids": np.array([f"r{i:02d}c{j:02d}" for i, j in zip(rows, cols, strict=True)]),
        "mu": 1.10 + 0.20 * cols / (SIDE - 1),
        "height": height,
        "k": np.where(height > 0, 2, 1),
    }


def test_saved_truth_is_the_documented_pattern(output):
    truth, expected = xr.open_dataset(output / "spectra.nc"), pattern()
    np.testing.assert_array_equal(truth["spectrum"].values, expected["ids"])
    np.testing.assert_allclose(truth["true_host_position"].values, expected["mu"])
    np.testing.assert_allclose(truth["true_phase_height"].values, expected["height"])
    np.testing.assert_array_equal(truth["true_k"].values, expected["k"])


def test_posterior_covers_the_truth(result):
    expected = pattern()
    ok = result["status"].values == "ok"
    right_k = ok & (result["best_index"].values + 1 == expected["k"])
    assert right_k.sum() >= 3
    mean = result["best_mean"].sel(parameter="mu[0]").values[right_k]
    sd = result["best_sd"].sel(parameter="mu[0]").values[right_k]
    assert np.all(np.abs(mean - expected["mu"][right_k]) < 4 * sd)
    centre = SIDE * SIDE // 2  # the disc's centre: height 0.9, true K = 2
    assert right_k[centre]
    height = result["best_mean"].sel(parameter="a[1]").values[centre]
    assert abs(height - 0.9) < 4 * result["best_sd"].sel(parameter="a[1]").values[centre]


def test_free_energy_picks_the_true_k_on_well_separated_pixels(result):
    expected = pattern()
    ok = result["status"].values == "ok"
    clear = ok & ((expected["k"] == 1) | (expected["height"] >= 0.3))
    chosen = result["chosen"].values[clear]
    truth = np.array([f"K={k}" for k in expected["k"][clear]])
    decided = chosen != "undecided"
    assert np.all(chosen[decided] == truth[decided]), (chosen, truth)
    assert decided.sum() >= clear.sum() / 2


def test_corrupted_pixel_failed_with_its_error(result):
    failed = result["spectrum"].values[result["status"].values == "failed"]
    assert list(failed) == [CORRUPTED]
    assert "non-finite" in str(result["error"].sel(spectrum=CORRUPTED).values)
    assert np.isnan(result["free_energy"].sel(spectrum=CORRUPTED)).all()


def test_rerun_found_every_part_and_fitted_nothing(output, result):
    assert result.attrs["n_fitted_this_run"] == 0
    assert result.attrs["n_ok"] + result.attrs["n_failed"] == SIDE * SIDE
    assert len(list((output / "batch" / "parts").glob("*.nc"))) == SIDE * SIDE


def test_sequential_loop_gave_the_cluster_numbers(output):
    summary = json.loads((output / "benchmark.json").read_text())
    assert summary["sequential_equals_cluster"] is True
    assert summary["reuse_s"] < summary["first_s"]
