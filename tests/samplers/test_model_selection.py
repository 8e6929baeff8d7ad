"""Posterior model probabilities and the selection table."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from samplers import FreeEnergy, model_average, model_probabilities, selection_table


def test_probabilities_follow_exp_minus_f():
    # F differs by log 2: the first model is twice as probable
    np.testing.assert_allclose(model_probabilities([5.0, 5.0 + np.log(2)]), [2 / 3, 1 / 3])
    # a prior of 1:3 against it evens the odds
    np.testing.assert_allclose(
        model_probabilities([5.0, 5.0 + np.log(2)], log_prior=np.log([0.25, 0.75])), [0.4, 0.6]
    )
    # stable for large free energies
    np.testing.assert_allclose(model_probabilities([-1e4, -1e4 + 1000]), [1.0, 0.0])


def test_non_finite_free_energy_is_rejected():
    with pytest.raises(ValueError, match="finite"):
        model_probabilities([1.0, np.nan])


def test_selection_table():
    fes = {
        1: FreeEnergy(-10.0, 0.1, np.array([-10.1, -9.9]), "smc"),
        2: FreeEnergy(-12.0, 0.2, np.array([-12.2, -11.8, -12.0]), "smc"),
    }
    table = selection_table(fes, dim="K")
    assert table.attrs["chosen"] == "2"
    assert list(table["K"].values) == [1, 2]
    np.testing.assert_allclose(table["probability"], model_probabilities([-10.0, -12.0]))
    assert np.isnan(table["free_energy_per_chain"].sel(K=1, chain=2))
    assert float(table["free_energy_mcse"].sel(K=2)) == 0.2


def _two_candidates(p_far: float) -> tuple[dict, xr.DataArray]:
    rng = np.random.default_rng(3)
    draws = {1: rng.normal(0.0, 1.0, 50000), 2: rng.normal(10.0, 1.0, 50000)}
    probability = xr.DataArray([1 - p_far, p_far], dims="model", coords={"model": [1, 2]})
    return draws, probability


@pytest.mark.parametrize("p_far", [0.75, 0.25])
def test_model_average_draws_from_the_mixture(p_far):
    # mixture of N(0, 1) and N(10, 1): mean 10 p, variance 1 + 100 p (1 - p); the
    # fraction above 5 is p. Tolerances: 4 Monte Carlo standard errors of 20000 draws.
    # p_far = 0.25 is the negative control for swapped weights.
    draws, probability = _two_candidates(p_far)
    averaged = model_average(draws, probability, size=20000, rng=0)
    assert averaged.shape == (20000,)
    variance = 1 + 100 * p_far * (1 - p_far)
    assert abs(averaged.mean() - 10 * p_far) < 4 * np.sqrt(variance / 20000)
    assert abs((averaged > 5).mean() - p_far) < 4 * np.sqrt(p_far * (1 - p_far) / 20000)


def test_model_average_leaves_out_nan_draws_and_checks_its_input():
    draws, probability = _two_candidates(0.5)
    draws[1] = np.where(np.arange(50000) % 2 == 0, np.nan, draws[1])
    assert np.all(np.isfinite(model_average(draws, probability, size=1000, rng=1)))
    with pytest.raises(ValueError, match="missing"):
        model_average({1: draws[1]}, probability)
    with pytest.raises(ValueError, match="unknown"):
        model_average({**draws, 3: draws[2]}, probability)
    with pytest.raises(ValueError, match="one dimension"):
        model_average(draws, probability.expand_dims(chain=2))
    with pytest.raises(ValueError, match="non-negative"):
        model_average(draws, probability * -1)
    with pytest.raises(ValueError, match=r"candidate 1 .* no finite draw"):
        model_average({1: np.full(10, np.nan), 2: draws[2]}, probability)
    # a candidate with p = 0 needs no finite draw
    zero = probability.copy(data=[0.0, 1.0])
    assert np.all(model_average({1: np.full(10, np.nan), 2: draws[2]}, zero, rng=2) > 5)
