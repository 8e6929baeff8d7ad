"""Key numbers of the crystal-field integration case study against closed forms.

With one parameter B₄⁰ and a posterior 10⁵ times narrower than B₄⁰ itself, the forward
model is linear in B₄⁰ across the posterior, so the linear-Gaussian closed forms hold:
for Gaussian noise of precision b on n points and the flat prior U(−1, 1),

    log p(D | b) = (n/2) log(b/2π) − b S/2 + ½ log(2π/(b A)) − log 2,

S = Σ (y − f(B̂))² at the least-squares B̂, A = Σ (∂f/∂B₄⁰)². So F(b) is minimised at
b = (n − 1)/S, the posterior is N(B̂, 1/(b A)), and with several datasets the precisions
b_k A_k add. The test computes them here (Gauss–Newton on the NumPy forward model and
finite differences), independently of the case study's quadrature and sampler, and
checks the saved numbers against them and against the simulation truth.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import stats

from measurement_models import crystal_field as cf

from .conftest import run_quick

TRUE_B40 = 0.1167
TRUE_B = {"inverse_susceptibility": 1e4, "specific_heat": 1e6}
ROWS = {"inverse_susceptibility": "susceptibility alone", "specific_heat": "specific heat alone"}


@pytest.fixture(scope="module")
def output(tmp_path_factory):
    return run_quick("crystal_field_integration", tmp_path_factory)


@pytest.fixture(scope="module")
def data(output):
    tree = xr.open_datatree(output / "data.nc")
    return {name: tree[name].to_dataset() for name in TRUE_B}


def _curve(data, name, b40):
    t = data[name]["temperature"].values
    return cf.forward(t, observable=name, B40=np.float64(b40))


def _jacobian(data, name, b40, h=1e-5):
    return (_curve(data, name, b40 + h) - _curve(data, name, b40 - h)) / (2 * h)


def linear_gaussian(data, precisions):
    """Posterior mean, sd and F of B₄⁰ given {observable: b}, by Gauss–Newton."""
    b40 = TRUE_B40
    for _ in range(3):
        jac = {o: _jacobian(data, o, b40) for o in precisions}
        res = {o: data[o][o].values - _curve(data, o, b40) for o in precisions}
        curvature = sum(b * np.sum(jac[o] ** 2) for o, b in precisions.items())
        b40 += sum(b * np.sum(jac[o] * res[o]) for o, b in precisions.items()) / curvature
    squares = {o: np.sum((data[o][o].values - _curve(data, o, b40)) ** 2) for o in precisions}
    n = {o: data[o].sizes["temperature"] for o in precisions}
    free_energy = (
        sum(b * squares[o] / 2 - n[o] / 2 * np.log(b / (2 * np.pi)) for o, b in precisions.items())
        + 0.5 * np.log(curvature / (2 * np.pi))
        + np.log(2.0)
    )
    return {"mean": b40, "sd": curvature**-0.5, "F": free_energy, "S": squares, "n": n}


@pytest.fixture(scope="module")
def noise(output):
    return pd.read_csv(output / "noise_precision.csv", index_col="observable")


@pytest.fixture(scope="module")
def b_hat(noise):
    return {o: float(noise.loc[o, "b̂ (noise scan)"]) for o in TRUE_B}


def test_noise_precision_minimises_the_closed_form_free_energy(data, noise):
    for observable in TRUE_B:
        fit = linear_gaussian(data, {observable: 1.0})
        n = fit["n"][observable]
        closed_form = (n - 1) / fit["S"][observable]
        row = noise.loc[observable]
        # the case study's quadrature minimiser: the model is linear to 10⁻⁵ here
        assert row["exact argmin F(b)"] == pytest.approx(closed_form, rel=1e-3)
        # the replica-exchange scan (2 chains in quick mode): its chain-spread standard
        # error, plus 2 % for interpolating F between ladder levels (as in the case study)
        assert abs(row["b̂ (noise scan)"] - closed_form) < 4 * row["MC se"] + 0.02 * closed_form
        # the truth, within the spread of a noise-precision estimate from n points, √(2/n)
        assert abs(closed_form / TRUE_B[observable] - 1) < 4 * np.sqrt(2 / n)


def test_exact_posteriors_and_free_energies_match_closed_form(output, data, b_hat):
    table = pd.read_csv(output / "posterior_B40.csv", index_col="data")
    cases = {ROWS[o]: {o: b_hat[o]} for o in TRUE_B} | {"integrated": b_hat}
    closed = {label: linear_gaussian(data, precisions) for label, precisions in cases.items()}
    for label, expected in closed.items():
        row = table.loc[label]
        assert row["exact mean"] == pytest.approx(expected["mean"], abs=0.01 * expected["sd"])
        assert row["exact sd"] == pytest.approx(expected["sd"], rel=2e-3)
        assert row["exact F"] == pytest.approx(expected["F"], abs=0.02)
    # integration: the precisions add, so the integrated posterior is narrower
    sds = {label: c["sd"] for label, c in closed.items()}
    assert sds["integrated"] < min(sds[ROWS[o]] for o in TRUE_B)
    # one shared B₄⁰ against one each (the saved F difference)
    delta = pd.read_csv(output / "shared_against_separate.csv", index_col=0).iloc[:, 0]
    expected = closed["integrated"]["F"] - sum(closed[ROWS[o]]["F"] for o in TRUE_B)
    assert expected < 0
    assert delta["exact"] == pytest.approx(expected, abs=0.05)


def test_sampled_integrated_posterior(output, data, b_hat):
    expected = linear_gaussian(data, b_hat)
    row = pd.read_csv(output / "posterior_B40.csv", index_col="data").loc["integrated"]
    draws = xr.open_dataset(output / "posteriors.nc")["B40"].sel(data="integrated").values
    # Monte Carlo error of the quick run (2 chains × 400 draws): 5 MCSE, plus the slack
    # the case study allows for short runs (5 % of sd on the mean, 2 % on the sd)
    assert abs(draws.mean() - expected["mean"]) < 5 * row["MCSE(mean)"] + 0.05 * expected["sd"]
    assert abs(draws.std() - expected["sd"]) < 5 * row["MCSE(sd)"] + 0.02 * expected["sd"]
    # stepping-stone F: 5 MCSE plus one nat of bias of a short run on a posterior 10⁶ times
    # narrower than the prior
    assert abs(row["F"] - expected["F"]) < 5 * row["F MCSE"] + 1.0
    # the truth lies within the posterior
    assert abs(expected["mean"] - TRUE_B40) < 4 * expected["sd"]


def test_fit_band_is_the_linearised_posterior(output, data, b_hat):
    """The saved 94 % band of each curve: width 2 × 1.881 sd |∂f/∂B₄⁰| (linear model).

    Its ends are the 3 % and 97 % quantiles of 800 draws (ESS of order 100–200 in the
    quick run): their Monte Carlo error is about 15 % of the width, so 30 % is allowed.
    """
    expected = linear_gaussian(data, b_hat)
    band = xr.open_dataset(output / "fit_band.nc")
    z94 = stats.norm.ppf(0.97)
    for name in TRUE_B:
        lo, mid, hi = band[name].values
        jac = np.abs(_jacobian(data, name, expected["mean"]))
        keep = jac > 0.1 * jac.max()  # where the curve depends on B₄⁰ at all
        ratio = np.median((hi - lo)[keep] / (2 * z94 * expected["sd"] * jac[keep]))
        assert ratio == pytest.approx(1.0, abs=0.3), name
        # the median curve is the curve at the posterior mean, within a quarter of the band
        centre = _curve(data, name, expected["mean"])
        assert np.all(np.abs(mid - centre)[keep] < 0.25 * (hi - lo)[keep]), name
