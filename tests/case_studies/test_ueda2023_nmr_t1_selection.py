"""Key numbers of the quick NMR T1 case study, against quadrature and the simulation truth.

The quick run samples one single-T1 data set (σ/M₀ = 1 %) for the quadrature check and
selects between ``single`` and ``stretched`` on one stretched-exponent data set. The
free energies are checked against this module's own quadrature (the single-T1 model with
σ known is linear in M₀ and c, so the integral over them is an exact Gaussian; the one
over log T1 is a fine trapezoid grid here, unlike the case study's ``scipy.integrate.quad``);
the posteriors against the simulation truth (``nmr_t1.REFERENCES["selection_stretched"]``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from measurement_models.nmr_t1 import REFERENCES

from .conftest import run_quick

NAME = "ueda2023_nmr_t1_selection"


@pytest.fixture(scope="module")
def output(tmp_path_factory):
    return run_quick(NAME, tmp_path_factory)


def single_t1_free_energy(data: xr.Dataset) -> float:
    """F = −log p(D) of the I = 3/2 central-line single-T1 model, σ known.

    Priors (``nmr_t1.PARAMETERS``): M₀ ~ U(0, 2 M_ref), c ~ U(−M_ref/2, M_ref/2) with
    M_ref = max |y|, log T1 ~ U(log t_min, log 6 t_max). For fixed T1 the model is linear,
    M = X(T1) (M₀, c)ᵀ; when the likelihood lies well inside the box (checked),
    ∫∫ N(y; Xθ, σ²) dθ = (2πσ²)^{−(n−2)/2} |XᵀX|^{−1/2} exp(−RSS/2σ²).
    """
    t, y = data["time"].values, data["intensity"].values
    sigma = float(data["sigma"].values[0])
    level = float(np.abs(y).max())
    lo, hi = np.log(t[0]), np.log(6 * t[-1])
    grid = np.linspace(lo, hi, 40_001)
    # the columns of X(T1) on the whole grid: 1 − R(t; T1) and 1 (normal equations in closed form)
    tau = np.exp(grid)[:, None]
    x1 = 1 - (0.1 * np.exp(-t / tau) + 0.9 * np.exp(-6 * t / tau))
    s11, s12, s22 = (x1**2).sum(1), x1.sum(1), float(t.size)
    b1, b2 = x1 @ y, y.sum()
    det = s11 * s22 - s12**2
    m0, offset = (s22 * b1 - s12 * b2) / det, (s11 * b2 - s12 * b1) / det
    rss = y @ y - (m0 * b1 + offset * b2)
    log_g = -(t.size - 2) / 2 * np.log(2 * np.pi * sigma**2) - rss / (2 * sigma**2)
    log_g -= np.log(det) / 2
    # the likelihood must sit inside the prior box, far from its edges
    best = np.argmax(log_g)
    assert 0.1 < m0[best] / level < 1.9 and abs(offset[best] / level) < 0.4
    top = log_g.max()
    log_evidence = top + np.log(np.trapezoid(np.exp(log_g - top), grid))
    log_prior_density = -np.log(hi - lo) - np.log(2 * level) - np.log(level)
    return -(log_evidence + log_prior_density)


def test_sampled_free_energy_matches_quadrature(output):
    # Tolerance: 4 MCSE of the sampled F (the MCSE of the quick run, 2 chains ×
    # 300 draws) plus 0.02 nats for the grid (the trapezoid on 40 001 points is exact to
    # far better than that).
    saved = pd.read_csv(output / "quadrature_check.csv")
    assert len(saved) == 1
    row = saved.iloc[0]
    exact = single_t1_free_energy(
        xr.open_dataset(output / f"quadrature_data_sigma{row.sigma:g}.nc")
    )
    assert row["quadrature"] == pytest.approx(exact, abs=0.02)
    assert abs(row["sampled"] - exact) < 4 * row["sampled_mcse"] + 0.02


def test_stretched_truth_is_selected_and_single_f_is_right(output):
    frame = pd.read_csv(output / "selection_frequencies.csv")
    assert len(frame) == 1
    row = frame.iloc[0]
    assert row["truth"] == "stretched" and row["best"] == "stretched"
    assert row["chosen"] in ("stretched", "undecided")
    # the sampled F of the wrong (single-T1) model, against quadrature on the same data
    data = xr.open_dataset(output / "example_stretched_data.nc")
    exact = single_t1_free_energy(data)
    assert abs(row["F_single"] - exact) < 4 * row["mcse_single"] + 0.02
    # negative control on the margin: the stretched law must beat the single one by more
    # than the combined Monte Carlo error (full run, 1 %: chosen in 18 of 20 data sets)
    gap = exact - row["F_stretched"]
    assert gap > 2 * np.hypot(row["mcse_single"], row["mcse_stretched"])
    summary = pd.read_csv(output / "selection_summary.csv")
    assert summary[["single", "stretched", "undecided"]].sum(axis=1).iloc[0] == 1


def test_example_posterior_contains_the_truth(output):
    # Tolerance: 4 posterior sd (the posterior mean's own Monte Carlo error, sd/√ESS with
    # ESS ≳ 50 in the quick run, is a small part of that).
    saved = pd.read_csv(output / "example_posteriors.csv").set_index("parameter")
    truth = REFERENCES["selection_stretched"].params
    for name, value in (("T1", truth["T1"][0]), ("stretch", truth["stretch"])):
        row = saved.loc[name]
        assert abs(row["mean"] - value) < 4 * row["sd"], (name, row.to_dict())
    m0 = saved.loc["M0"]
    assert abs(m0["mean"] - truth["M0"]) < 4 * m0["sd"]
