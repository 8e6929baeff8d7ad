"""Whether a replica-exchange free energy is trusted: negative and positive controls.

Negative controls: the conjugate straight line and the Nagata spectrum at K = 3, where
replica exchange is right (exact evidence; docs/free-energy.md), must be trusted.
Positive control: an unequal-width target whose narrow mode is a needle that no chain
reaches (0 of 20 chains in docs/scripts/hard_targets.txt), with a census start at the
narrow mode (as another run or a fit would give): the census finds the mode with its
exact weight 1/2, no draw visits it, and the check says F is too high by log 2 — which
is the run's actual error, against the exact log Z.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from measurement_models import linear, spectral
from samplers import sample_replica_exchange
from samplers.comparison.targets import three_modes, unequal_width
from samplers.evidence.reliability import CHECKS, free_energy_reliability

QUIET = {"progressbar": False, "compute_convergence_checks": False}


def test_conjugate_line_is_trusted(line_data):
    data, _ = line_data
    model = linear.build_model(data, n_terms=2, sigma=0.3)
    idata = sample_replica_exchange(model=model, random_seed=5, draws=1000, tune=1000, **QUIET)
    assert idata["free_energy"].attrs["trusted"] == 1  # the run's own checks
    result = free_energy_reliability(idata, model, starts=20)
    assert result.attrs["trusted"] == 1, result.attrs["verdict"]
    assert list(result["check"].values) == list(CHECKS)
    assert result["passed"].all() and (result["reason"] == "").all()
    assert result.sizes["mode"] == 1 and result["census_bias"] == 0.0


def test_nagata_spectrum_is_trusted():
    model = spectral.build_model(spectral.simulate_reference(), n_peaks=3)
    idata = sample_replica_exchange(model=model, random_seed=7, draws=1500, tune=1500, **QUIET)
    assert idata["free_energy"].attrs["trusted"] == 1  # the run's own checks
    result = free_energy_reliability(idata, model)
    assert result.attrs["trusted"] == 1, result.attrs["verdict"]
    # the K! = 6 relabellings of the best fit are one class, visited as a whole
    best = result["mode_class"].values[0]
    copies = result["mode_class"].values == best
    assert copies.sum() == 6
    assert result["occupancy"].values[copies].sum() > 0.95


def test_a_heavy_mode_that_no_chain_visits_is_reported():
    target = unequal_width()  # narrow in 10 of 10 coordinates: a needle
    model = target.model()
    idata = sample_replica_exchange(model=model, random_seed=3, **QUIET)
    error = (
        float(idata["free_energy"]["free_energy"].sel(estimator="stepping_stone"))
        + target.log_evidence
    )
    narrow = target.posterior_means[1]
    # without a start near the needle, nothing can see it (the documented limit)
    assert free_energy_reliability(idata, model, starts=50).attrs["trusted"] == 1
    result = free_energy_reliability(idata, model, starts=50, extra_starts=narrow[None])
    assert result.attrs["trusted"] == 0
    passed = dict(zip(result["check"].values, result["passed"].values, strict=True))
    assert not passed["modes"]
    assert "under-visit mode" in str(result["reason"].sel(check="modes").values)
    weights = np.sort(result["laplace_weight"].values)
    np.testing.assert_allclose(weights, [0.5, 0.5], atol=1e-4)  # exact: equal masses
    assert float(result["census_bias"]) == pytest.approx(np.log(2), abs=0.01)
    # and the run's F is indeed too high by about that much
    mcse = float(idata["free_energy"]["mcse"].sel(estimator="stepping_stone"))
    assert abs(error - np.log(2)) < 4 * mcse + 0.05


def test_a_light_mode_that_no_chain_visits_is_reported():
    """Three modes of masses 0.5, 0.3, 0.2 (the lightest 10 times narrower in 4 of 10
    coordinates) on the prior path: no draw reaches the 0.2 mode, so log Z is low by
    about log(1/0.8) = 0.22 nats, which can sit within 3 MCSE + 0.15, while the mode
    weights are off by 0.2. The census (with its screen) lists all three modes with
    their exact masses and the check fails on the missing one."""
    target = three_modes()
    model = target.model()
    idata = sample_replica_exchange(
        model=model, random_seed=1, draws=1000, tune=1000, chains=2, cores=1, **QUIET
    )
    assert target.mode_fractions(idata)[2] < 0.01  # the run misses the light mode
    result = free_energy_reliability(idata, model, starts=50, screen_starts=4000)
    np.testing.assert_allclose(
        np.sort(result["laplace_weight"].values)[-3:], [0.2, 0.3, 0.5], atol=0.01
    )
    assert result.attrs["trusted"] == 0
    assert "all but miss mode" in str(result["reason"].sel(check="modes").values)


def test_reliability_script_runs_quickly(capsys):
    """Smoke test of docs/scripts/reliability_checks.py at its --quick sizes."""
    path = Path(__file__).resolve().parents[2] / "docs" / "scripts" / "reliability_checks.py"
    spec = importlib.util.spec_from_file_location("reliability_checks", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    script.main(["--quick"])
    out = capsys.readouterr().out
    assert "| 2 |" in out and "| 4 of 10 | 1 |" in out and "Targets: detected" in out
