"""Posterior model probabilities and the selection table."""

from __future__ import annotations

import numpy as np
import pytest

from samplers import FreeEnergy, model_probabilities, selection_table


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
