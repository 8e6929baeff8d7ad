"""Key numbers of the Harashima data-assimilation case study against independent values.

Independent values: Harashima's truth f₂(x) = 2 − x + 5(x − 0.7)² + 20(x − 0.5)³ − 1.5
written out here, least squares by ``numpy.polynomial`` on the simulated experiments, the
simulation truth of the coupling (β = 1: f₂ = f₁ − 1.5), and the free energies of the
full run's replica exchange on the PyMC model (docs/data-assimilation.md: another
sampler on another implementation of the likelihood) against the Gibbs sampler's Chib
estimates that the quick run saves.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from measurement_models import data_assimilation as da

from .conftest import run_quick

#: F = −log p(D) on the seed-1 demo by replica exchange on the PyMC model (full run:
#: 4 chains × 40 replicas, 3000 + 3000 draws), with its MCSE.
REPLICA_EXCHANGE_F = {
    "restricted, cubic": (7.19, 0.10),
    "restricted, quartic": (9.80, 0.26),
    "unrestricted, cubic": (12.64, 0.15),
    "restricted, quadratic": (33.84, 0.17),
}
TEST_GRID = np.linspace(0.5, 1.0, 101)


def f2(x):
    """Harashima's experiment truth, from its formula."""
    return 2 - x + 5 * (x - 0.7) ** 2 + 20 * (x - 0.5) ** 3 - 1.5


@pytest.fixture(scope="module")
def output(tmp_path_factory):
    return run_quick("harashima_data_assimilation", tmp_path_factory)


@pytest.fixture(scope="module")
def errors(output):
    return pd.read_csv(output / "extrapolation_errors.csv", index_col="seed")


def test_least_squares_errors_against_the_truth(errors):
    for seed, saved in errors["cubic OLS (experiments)"].items():
        sim = da.simulate_demo(seed)
        seen = ~np.isnan(sim["y_expt"].values)
        fit = np.polynomial.Polynomial.fit(sim["x"].values[seen, 0], sim["y_expt"].values[seen], 3)
        expected = np.sqrt(np.mean((fit(TEST_GRID) - f2(TEST_GRID)) ** 2))
        assert saved == pytest.approx(expected, rel=1e-6)


def test_restricted_model_extrapolates_and_least_squares_does_not(errors):
    median = errors.median()
    # full run (200 seeds): median 0.124, quartiles 0.074 and 0.193; the quick run's 8
    # seeds are fixed, and 0.5 is 2.6 times the full run's upper quartile
    assert median["restricted Λ"] < 0.5
    # least squares and the unrestricted model: full-run medians 8.14 and 4.22, quartiles
    # from 3.36 and 2.05 upwards
    assert median["cubic OLS (experiments)"] > 5 * median["restricted Λ"]
    assert median["unrestricted Λ"] > 5 * median["restricted Λ"]
    # better than least squares for every one of 200 seeds in the full run
    assert (errors["restricted Λ"] < errors["cubic OLS (experiments)"]).mean() >= 0.75


def test_demo_posterior_against_the_simulation_truth(output):
    tree = xr.open_datatree(output / "demo_posteriors.nc")
    restricted = tree["restricted"].to_dataset()
    coupling = restricted["coupling"].values.ravel()
    # β = 1 in the simulation (f₂ = f₁ − 1.5); posterior sd ≈ 0.19, MCSE < 0.01 (ESS > 400)
    assert abs(coupling.mean() - 1.0) < 4 * coupling.std()
    phi = np.vander(TEST_GRID, 4, increasing=True)  # 1, x, x², x³

    def rms_of_mean(posterior):
        w = posterior["W"].sel(target="y_expt").mean(("chain", "draw")).values
        return np.sqrt(np.mean((phi @ w - f2(TEST_GRID)) ** 2))

    assert rms_of_mean(restricted) < 0.5
    # negative control: the unrestricted model cannot extrapolate from five experiments
    assert rms_of_mean(tree["unrestricted"].to_dataset()) > 2 * rms_of_mean(restricted)


def test_chib_free_energies_against_replica_exchange(output):
    chib = pd.read_csv(output / "free_energy_chib.csv", index_col="candidate")
    for candidate, (value, mcse) in REPLICA_EXCHANGE_F.items():
        row = chib.loc[candidate]
        # 5 combined MCSE plus 0.5 nats for the bias of stepping stone with 40 replicas
        tolerance = 5 * np.hypot(row["MCSE (Chib)"], mcse) + 0.5
        assert abs(row["F (Chib)"] - value) < tolerance, candidate
    assert chib["F (Chib)"].idxmin() == "restricted, cubic"
    assert chib.loc["unrestricted, cubic", "ΔF"] > 1
