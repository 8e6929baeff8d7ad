r"""The checks every free energy carries: what the run itself can tell about its F.

A free energy can be wrong by more than its MCSE when the chains did not explore the
posterior the way the estimator assumes. Two checks need nothing but the run, cost
milliseconds, and are attached to every :class:`~samplers.evidence.free_energy.FreeEnergy`
that :func:`~samplers.evidence.free_energy.free_energy` returns (and so to every F that
:func:`samplers.sample_replica_exchange`, :func:`samplers.select_model`, the batch fits
and the command line print):

``round_trips`` (replica exchange)
    Every chain carried a replica from :math:`\beta = 0` to :math:`\beta = 1` and back
    (:func:`~samplers.replica_exchange.diagnostics.ladder_diagnostics`). A chain without
    a round trip has not connected the two ends of its ladder: its estimate rests on
    whatever its replicas happened to start in. The reason says which cure applies, from
    the round trips the chain's swap rates would allow with perfect moves within levels
    (``ideal_round_trips``, :func:`~samplers.replica_exchange.ladder.ideal_round_trip_rate`):
    at least :data:`SLOW_MOVES_IDEAL_TRIPS` of them means the moves are too slow to
    carry replicas along the ladder (raise ``n_sweeps`` or use gradient moves); fewer
    means the run is too short for its ladder's communication barrier (more draws; more
    replicas if some pair hardly swaps).
``chain_agreement`` (replica exchange, nested sampling; two or more chains)
    The chains' free energies agree within their own standard errors:
    :math:`\chi^2 = \sum_c (F_c - \hat F)^2 / s_c^2` about the precision-weighted mean
    has a p-value of at least :data:`AGREEMENT_P`
    (:func:`~samplers.evidence.path.free_energy_agreement`). Chains that found
    different parts of the space give different F.

SMC reports no within-chain error, so its chains' spread is its MCSE and nothing
compares the two: an SMC free energy is reported as *unchecked*. The mode census, which
also catches chains that all miss the same heavy mode, needs the model and seconds to
minutes of optimisation; it runs in
:func:`~samplers.evidence.reliability.free_energy_reliability` (and so in
:func:`samplers.select_model`), not here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .path import free_energy_agreement

if TYPE_CHECKING:
    from .free_energy import FreeEnergy

__all__ = ["AGREEMENT_P", "RUN_CHECKS", "SLOW_MOVES_IDEAL_TRIPS", "RunChecks", "run_checks"]

#: The run's own checks, in the order they are reported.
RUN_CHECKS = ("round_trips", "chain_agreement")
#: Chains whose free energies disagree with a :math:`\chi^2` p-value below this fail
#: ``chain_agreement``.
AGREEMENT_P = 1e-3
#: A chain with no round trip although its swap rates would allow at least this many is
#: reported as held back by its moves within levels: with independent swaps the count is
#: close to Poisson, and zero of an expected five has probability e⁻⁵ < 0.01.
SLOW_MOVES_IDEAL_TRIPS = 5.0


@dataclass(frozen=True)
class RunChecks:
    """The outcome of a run's own checks of its free energy.

    Attributes
    ----------
    checked : tuple of str
        The checks that could be made (of :data:`RUN_CHECKS`).
    failures : tuple of (str, str)
        ``(check, reason)`` for every check that failed.
    unchecked : str
        Why nothing could be checked (empty when something was).
    round_trips : ndarray, shape (chains,), optional
        Round trips of each chain (replica exchange).
    ideal_round_trips : ndarray, shape (chains,), optional
        The round trips each chain's swap rates would allow with perfect moves within
        levels.
    agreement_p : float
        The :math:`\\chi^2` p-value of ``chain_agreement`` (NaN when not checked).
    """

    checked: tuple[str, ...]
    failures: tuple[tuple[str, str], ...] = ()
    unchecked: str = ""
    round_trips: np.ndarray | None = None
    agreement_p: float = np.nan
    ideal_round_trips: np.ndarray | None = None

    @property
    def trusted(self) -> bool | None:
        """True when every check passed, False when one failed, None when none was made."""
        if self.failures:
            return False
        return True if self.checked else None

    @property
    def failed(self) -> tuple[str, ...]:
        """The names of the failed checks."""
        return tuple(check for check, _ in self.failures)

    @property
    def verdict(self) -> str:
        """One sentence: ``"checks passed: ..."``, ``"unreliable: ..."`` or ``"unchecked: ..."``."""
        if self.failures:
            return "unreliable: " + "; ".join(reason for _, reason in self.failures)
        if not self.checked:
            return f"unchecked: {self.unchecked}"
        return "checks passed: " + ", ".join(c.replace("_", " ") for c in self.checked)

    def to_attrs(self) -> dict[str, str | int | float]:
        """netCDF-safe attributes (``trusted`` is 1, 0, or -1 when nothing was checked)."""
        trusted = self.trusted
        return {
            "trusted": -1 if trusted is None else int(trusted),
            "verdict": self.verdict,
            "checked": ",".join(self.checked),
            "agreement_p": float(self.agreement_p),
        }


def run_checks(
    estimate: FreeEnergy,
    round_trips: np.ndarray | None = None,
    ideal_round_trips: np.ndarray | None = None,
) -> RunChecks:
    """Check a free energy with what its run holds (module docstring).

    Parameters
    ----------
    estimate : FreeEnergy
        The free energy: per-chain values and, except for SMC, per-chain MCSEs.
    round_trips : ndarray, shape (chains,), optional
        Round trips of each chain (replica exchange; ``ladder_diagnostics``).
    ideal_round_trips : ndarray, shape (chains,), optional
        The round trips each chain's swap rates would allow with perfect moves within
        levels (``ladder_diagnostics``); with them, a failed ``round_trips`` says which
        cure applies.

    Returns
    -------
    RunChecks
    """
    if estimate.method == "smc":
        return RunChecks(
            (),
            unchecked=(
                "SMC gives no within-chain error, so nothing tells a chain that missed "
                "posterior mass from one that did not; cross-check with replica exchange "
                "or nested sampling"
            ),
        )
    checked, failures = [], []
    if round_trips is not None:
        round_trips = np.asarray(round_trips)
        checked.append("round_trips")
        lonely = [int(c) for c in np.flatnonzero(round_trips < 1)]
        if lonely:
            reason = f"chain(s) {lonely} made no round trip between β = 0 and 1"
            if ideal_round_trips is not None:
                ideal_round_trips = np.asarray(ideal_round_trips, dtype=float)
                reason += _round_trip_cure(ideal_round_trips[lonely])
            failures.append(("round_trips", reason))
    chi2, p = free_energy_agreement(estimate)
    if np.isfinite(p):
        checked.append("chain_agreement")
        if p < AGREEMENT_P:
            failures.append(
                (
                    "chain_agreement",
                    f"the chains' free energies {np.round(estimate.per_chain, 2).tolist()} "
                    f"disagree beyond their standard errors (χ² = {chi2:.1f}, p = {p:.1g})",
                )
            )
    unchecked = "" if checked else "one chain only: nothing to compare it with"
    return RunChecks(
        tuple(checked), tuple(failures), unchecked, round_trips, float(p), ideal_round_trips
    )


def _round_trip_cure(ideal: np.ndarray) -> str:
    """Why chains with these ideal round-trip counts made none, and what to change."""
    if ideal.min() >= SLOW_MOVES_IDEAL_TRIPS:
        return (
            f", although their swap rates would allow {ideal.min():.0f}–{ideal.max():.0f} "
            "with perfectly mixing moves: the moves within levels are too slow to carry "
            "replicas along the ladder (raise n_sweeps, or use update='mala' or 'hmc')"
        )
    return (
        f"; their swap rates allow only {ideal.min():.1f}–{ideal.max():.1f} in this many "
        "draws even with perfectly mixing moves: run more draws (and more replicas if "
        "some pair hardly swaps; see ladder_diagnostics)"
    )
