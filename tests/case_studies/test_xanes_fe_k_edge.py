"""Key numbers of the XANES Fe K pre-edge case study against independent values.

* The edge steps used for the normalisation, recomputed here from the files with
  ``numpy.loadtxt`` and ``numpy.polyfit`` (line 30–150 eV below E0, quadratic
  50–300 eV above; nothing from ``measurement_models``).
* The Fe³⁺ − Fe²⁺ pre-edge centroid shift against the literature value, 1.4 eV
  (Wilke et al., Am. Mineral. 86, 714 (2001)), within three times the quick run's own
  posterior sd of the shift (a sign error or a feature of the edge counted as
  pre-edge would fail it).
* Both centroids lie in the pre-edge range.
* The feature table holds every Gaussian of the chosen K, ordered, inside the window.
* The noise floor (the independent check of the fitted σ) against second differences
  of μ normalised here from the raw files.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from .conftest import run_quick

REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "real"
FILES = {"Fe2O3": ("fe2o3_rt1.xmu", 7125.0), "FeO": ("feo_rt1.xdi", 7120.0)}

pytestmark = pytest.mark.skipif(
    not all((REAL / name).exists() for name, _ in FILES.values()),
    reason="real data absent: fetch fe2o3_rt1.xmu and feo_rt1.xdi from xraypy/xraylarch "
    "examples/xafsdata/ into ../shared/data/real",
)


@pytest.fixture(scope="module")
def output(tmp_path_factory):
    return run_quick("xanes_fe_k_edge", tmp_path_factory)


@pytest.fixture(scope="module")
def summary(output):
    return pd.read_csv(output / "summary.csv").set_index("spectrum")


def normalise(path: Path, e0: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Energies, μ normalised to a unit edge step, and the edge step, from the raw file."""
    energy, mu = np.loadtxt(path, comments="#", usecols=(0, 1), unpack=True)
    pre = (energy >= e0 - 150) & (energy <= e0 - 30)
    post = (energy >= e0 + 50) & (energy <= e0 + 300)
    pre_line = np.polyfit(energy[pre], mu[pre], 1)
    step = np.polyval(np.polyfit(energy[post], mu[post], 2), e0) - np.polyval(pre_line, e0)
    return energy, (mu - np.polyval(pre_line, energy)) / step, step


def test_edge_steps_match_an_independent_normalisation(summary):
    for label, (name, e0) in FILES.items():
        assert summary.loc[label, "edge_step"] == pytest.approx(normalise(REAL / name, e0)[2])


def test_centroids_lie_in_the_pre_edge(summary):
    for label in FILES:
        assert 7108.0 < summary.loc[label, "centroid_eV"] < 7116.5


def test_shift_agrees_with_the_literature(summary):
    shift, sd = summary.loc["Fe2O3", "shift_eV"], summary.loc["Fe2O3", "shift_sd_eV"]
    assert 0.1 < sd < 2.0
    assert abs(shift - 1.4) < 3 * sd


def test_noise_floor_matches_second_differences_of_the_raw_file(summary):
    for label, (name, e0) in FILES.items():
        energy, normalised, _ = normalise(REAL / name, e0)
        flat = normalised[(energy >= 7100.0) & (energy <= 7108.0)]
        expected = np.std(flat[2:] - 2 * flat[1:-1] + flat[:-2], ddof=1) / np.sqrt(6)
        assert summary.loc[label, "noise_floor"] == pytest.approx(expected, rel=1e-9)


def test_feature_table_lists_every_gaussian_of_the_chosen_k(output, summary):
    features = pd.read_csv(output / "features.csv")
    for label in FILES:
        rows = features[features.spectrum == label]
        assert list(rows.feature) == list(range(1, summary.loc[label, "K"] + 1))
        assert (rows.centre_eV.diff().dropna() > 0).all()  # ordered centres
        assert ((rows.centre_eV > 7106.0) & (rows.centre_eV < 7118.0)).all()
        assert (rows[["area", "area_sd", "fwhm_eV", "fwhm_eV_sd"]] > 0).all().all()
