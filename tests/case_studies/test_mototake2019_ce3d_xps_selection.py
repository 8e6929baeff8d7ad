"""Ce 3d XPS Hamiltonian selection (Mototake et al. 2019), quick run: its key numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.case_studies.conftest import run_quick

NAME = "mototake2019_ce3d_xps_selection"


@pytest.fixture(scope="module")
def output(tmp_path_factory):
    return run_quick(NAME, tmp_path_factory)


def test_final_states_match_the_papers_table(output):
    """E_f − E_g at Δ = 12.5 eV against the paper's table (−2.8, 2.72, 12.48) eV."""
    visibility = pd.read_csv(output / "visibility.csv", index_col=0)
    lines = [float(x) for x in visibility.loc[12.5, "ε₁, ε₂, ε₃ [eV]"].split(",")]
    np.testing.assert_allclose(lines, [-2.8, 2.72, 12.48], atol=0.011)
    # the third line is invisible there and visible at 7.66 eV (paper: 2 and 3 peaks)
    assert visibility.loc[12.5, "height₃/σ"] < 0.2
    assert visibility.loc[7.66, "height₃/σ"] > 3


def test_visible_third_line_selects_three_configurations(output):
    selection = pd.read_csv(output / "selection.csv")
    (row,) = selection.itertuples(index=False)
    assert str(row.chosen) == "3"
    check = pd.read_csv(output / "laplace_check.csv").iloc[0]
    laplace, sampled, mcse = (
        check["F₂ − F₃ (Laplace)"],
        check["F₂ − F₃ (sampled)"],
        check["MCSE"],
    )
    # The Laplace value (NumPy/SciPy, independent of the sampler) is bounded by the
    # noise-free misfit of the best two-configuration fit (Occam factors only lower it).
    assert 40 < laplace < 85
    # The quick run (1 chain, 400 + 400) underestimates ΔF: three quick runs were 5.7–9.0
    # nats below Laplace with MCSE ≈ 1; the full run agrees within 2 MCSE (case study).
    assert laplace - 15 < sampled < laplace + 3 * mcse


def test_occam_factor_of_u_ff_favours_two_configurations(output):
    """Noise-free spectrum at Δ = 12.5 eV: two configurations ahead, but by < 0.3 nats."""
    occam = pd.read_csv(output / "occam_noise_free.csv").set_index("Δ")
    lower, upper = occam.loc[12.5, ["F₂ − F₃ (Laplace)", "F₂ − F₃ (Laplace, upper)"]]
    assert -0.3 < lower <= upper < 0
