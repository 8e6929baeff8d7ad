"""Every free energy carries its run's own checks (round trips, chain agreement).

The checks are decided by physical limits and constructed disagreements, not by numbers
the code produced: a 24-level ladder cannot complete a round trip in 20 swap rounds
(2 × 23 are needed), and chains 10 standard errors apart disagree at any sensible level.
Negative controls: agreeing chains and ladders that do make round trips pass (the
conjugate line and the Nagata spectrum in test_reliability.py pass the same checks).
"""

from __future__ import annotations

import logging

import numpy as np
import pytest

from measurement_models import linear
from samplers import free_energy, sample_replica_exchange
from samplers.evidence.free_energy import FreeEnergy
from samplers.evidence.run_checks import (
    AGREEMENT_P,
    RUN_CHECKS,
    SLOW_MOVES_IDEAL_TRIPS,
    run_checks,
)
from samplers.replica_exchange.ladder import count_round_trips, ideal_round_trip_rate

QUIET = {"progressbar": False, "compute_convergence_checks": False}


def _estimate(per_chain, per_chain_mcse, method="stepping_stone") -> FreeEnergy:
    per_chain = np.asarray(per_chain, dtype=float)
    errors = None if per_chain_mcse is None else np.asarray(per_chain_mcse, dtype=float)
    return FreeEnergy(float(per_chain.mean()), 0.1, per_chain, method, errors)


def test_agreeing_chains_that_round_trip_pass():
    checks = run_checks(_estimate([1.0, 1.1, 0.95, 1.05], [0.1] * 4), np.array([3, 5, 2, 7]))
    assert checks.trusted is True and checks.checked == RUN_CHECKS
    assert checks.verdict == "checks passed: round trips, chain agreement"
    assert checks.agreement_p > AGREEMENT_P


def test_a_chain_without_a_round_trip_fails():
    checks = run_checks(_estimate([1.0, 1.1, 0.95, 1.05], [0.1] * 4), np.array([3, 0, 2, 0]))
    assert checks.trusted is False and checks.failed == ("round_trips",)
    assert checks.verdict == "unreliable: chain(s) [1, 3] made no round trip between β = 0 and 1"


@pytest.mark.parametrize(
    ("ideal", "cure"),
    [
        ([40.0, 2.0, 60.0, 30.0], "the moves within levels are too slow"),
        ([40.0, 2.0, 60.0, SLOW_MOVES_IDEAL_TRIPS - 0.5], "run more draws"),
    ],
    ids=["slow-moves", "short-run"],
)
def test_a_chain_without_a_round_trip_is_told_the_cure(ideal, cure):
    """Zero round trips where the swaps alone would allow many: the moves are at fault;
    where the swaps allow few: the run is too short. Only the failing chains count."""
    estimate = _estimate([1.0, 1.1, 0.95, 1.05], [0.1] * 4)
    checks = run_checks(estimate, np.array([0, 2, 5, 0]), np.array(ideal))
    assert checks.failed == ("round_trips",)
    assert cure in checks.verdict
    np.testing.assert_array_equal(checks.ideal_round_trips, ideal)


def test_ideal_round_trip_rate_is_that_of_independent_non_reversible_swaps():
    """Syed et al. (2022), Theorem 3, against a simulation of what it assumes: every
    neighbouring pair swaps independently with its rate, even pairs on even rounds and
    odd pairs on odd rounds (perfectly mixing moves). 100 000 rounds: the count's
    relative standard error is about 1 %, the tolerance 4 %. A constant barrier spread
    differently (negative control) changes the rate, so the formula is not 1/(2 + 2Λ)."""
    rng = np.random.default_rng(0)
    rounds = 100_000
    for swap_rates in (np.full(12, 0.75), np.linspace(0.95, 0.4, 16)):
        levels = swap_rates.size + 1
        at_level = np.arange(levels)
        maps = np.empty((rounds, levels), dtype=int)
        accept = rng.uniform(size=(rounds, levels - 1)) < swap_rates
        for t in range(rounds):
            for pair in range(t % 2, levels - 1, 2):
                if accept[t, pair]:
                    at_level[pair], at_level[pair + 1] = at_level[pair + 1], at_level[pair]
            maps[t] = at_level
        simulated = count_round_trips(maps).sum() / rounds
        assert simulated == pytest.approx(ideal_round_trip_rate(swap_rates), rel=0.04)
        assert simulated != pytest.approx(1 / (2 + 2 * (1 - swap_rates).sum()), rel=0.1)
    assert ideal_round_trip_rate(np.array([0.9, 0.0, 0.9])) == 0.0


def test_chains_ten_standard_errors_apart_disagree():
    checks = run_checks(_estimate([1.0, 1.0, 2.0, 1.0], [0.1] * 4), np.array([3, 3, 3, 3]))
    assert checks.failed == ("chain_agreement",)
    assert "disagree beyond their standard errors" in checks.verdict
    assert checks.agreement_p < AGREEMENT_P


def test_nested_runs_are_checked_for_agreement_only():
    agreeing = run_checks(_estimate([5.0, 5.1], [0.1, 0.1], "nested"))
    assert agreeing.checked == ("chain_agreement",) and agreeing.trusted
    apart = run_checks(_estimate([5.0, 7.0], [0.1, 0.1], "nested"))
    assert apart.trusted is False


@pytest.mark.parametrize(
    ("estimate", "reason"),
    [
        (_estimate([3.0, 3.2, 2.9], None, "smc"), "SMC gives no within-chain error"),
        (_estimate([5.0], [0.1], "nested"), "one chain only"),
    ],
    ids=["smc", "one-nested-run"],
)
def test_what_cannot_be_checked_says_so(estimate, reason):
    checks = run_checks(estimate)
    assert checks.trusted is None and checks.checked == ()
    assert checks.verdict.startswith("unchecked: ") and reason in checks.verdict
    assert checks.to_attrs()["trusted"] == -1


@pytest.fixture(scope="module")
def short_run(line_data):
    """A 24-level ladder and 20 recorded swap rounds: no round trip is possible."""
    data, _ = line_data
    model = linear.build_model(data, n_terms=2, sigma=0.3)
    return sample_replica_exchange(
        model=model, random_seed=3, draws=20, tune=100, chains=2, n_replicas=24, cores=1, **QUIET
    )


def test_a_run_stores_and_prints_its_checks(short_run):
    group = short_run["free_energy"].to_dataset()
    np.testing.assert_array_equal(group["round_trips"], [0, 0])
    assert group.attrs["trusted"] == 0 and (group["trusted"] == 0).all()
    assert "made no round trip" in group.attrs["verdict"]
    estimate = free_energy(short_run)
    assert estimate.trusted is False
    assert "; unreliable: chain(s) [0, 1] made no round trip between β = 0 and 1" in str(estimate)
    # 20 swap rounds on 24 levels: even perfectly mixing moves would make few
    assert np.all(group["ideal_round_trips"] < SLOW_MOVES_IDEAL_TRIPS)
    assert str(estimate).endswith(
        "run more draws (and more replicas if some pair hardly swaps; see ladder_diagnostics)"
    )
    stored = FreeEnergy.from_dataset(group)  # read back without recomputing F
    assert stored.checks.verdict == estimate.checks.verdict
    assert FreeEnergy.from_dataset(group.drop_vars("round_trips")).checks is None


def test_a_failed_check_is_logged_unless_quiet(line_data, caplog):
    data, _ = line_data
    model = linear.build_model(data, n_terms=2, sigma=0.3)
    short = {"draws": 20, "tune": 50, "chains": 1, "n_replicas": 24, "cores": 1, **QUIET}
    with caplog.at_level(logging.WARNING, logger="samplers"):
        sample_replica_exchange(model=model, random_seed=4, **short)
    assert "The free energy cannot be trusted, unreliable: chain(s) [0]" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="samplers"):
        sample_replica_exchange(model=model, random_seed=4, quiet=True, **short)
    assert caplog.text == ""
