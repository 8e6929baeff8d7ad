r"""Whether a replica-exchange free energy can be trusted, from evidence the run can see.

A free energy can be wrong by more than its Monte Carlo standard error when the chains
did not explore the posterior the way the estimator assumes. Three checks look for
that, each from a different angle:

``round_trips`` and ``chain_agreement``
    The run's own checks (:mod:`samplers.evidence.run_checks`, attached to every
    free energy): every chain carried replicas from the prior to the posterior and
    back, and the chains' free energies agree within their standard errors.
``modes``
    A census of the posterior's modes from many L-BFGS starts (prior draws and the
    run's own draws; :func:`~samplers.evidence.modes.mode_census`) weighs each mode by
    its Laplace mass; where the run's draws visit a heavy class of modes less than its
    weight says, the run's evidence lacks part of that class's mass, and
    :func:`~samplers.evidence.modes.census_bias` estimates by how much. The check
    fails when that bias exceeds :data:`BIAS_NATS` plus twice the MCSE (the tolerance
    a correct F meets). It fails too when a heavy class holds less than
    :data:`UNVISITED_FRACTION` of its weight in the draws (and is short by more than
    :data:`WEIGHT_TOLERANCE`): the draws all but miss a mode even though F's error
    (for a light mode, :math:`-\log(1 - w)`) may still be within tolerance. Unlike the
    other two, it catches chains that all miss the same heavy mode.

A mode that no start and no replica ever reaches (a needle whose basin holds a
negligible share of the prior) is invisible to all three; that is a limit of every
general method, not of these checks.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import xarray as xr

from ..replica_exchange.diagnostics import ladder_diagnostics
from .free_energy import NESTED, FreeEnergy
from .modes import (
    census_bias,
    heavy_classes,
    mode_census,
    mode_occupancy,
    unconstrained_draws,
)
from .path import free_energy_agreement
from .run_checks import RUN_CHECKS, run_checks

__all__ = [
    "BIAS_NATS",
    "CHECKS",
    "SCREEN_STARTS",
    "STARTS_PER_CHAIN",
    "UNVISITED_FRACTION",
    "WEIGHT_TOLERANCE",
    "free_energy_reliability",
]

#: The checks, in the order they are reported.
CHECKS = (*RUN_CHECKS, "modes")
#: Prior draws of the census's batched screen by default: none. Measured
#: (``docs/scripts/census_screen_default.py``), a screen of 1000 draws finds the narrow
#: mode that the L-BFGS starts missed in two runs whose F was outside tolerance
#: (unequal-width target, 4 of 10 coordinates narrowed, seeds 1 and 5: both flagged, census
#: bias 0.693 = log 2, the missed mode's exact share), but it also flags the Nagata
#: spectrum at K = 5, whose F agrees with a long reference (census bias 0.46 from modes
#: of the over-fitted posterior that the Laplace approximation weighs wrongly), and it
#: costs 4 times as long there (176 s against 45 s). Pass ``screen_starts`` where a narrow
#: mode is suspected.
SCREEN_STARTS = 0
#: A census bias above this plus twice the MCSE fails ``modes``, in nats.
BIAS_NATS = 0.15
#: Draws of each chain used as extra starts of the census.
STARTS_PER_CHAIN = 25
#: A heavy class of modes that holds less than this fraction of its Laplace weight in
#: the draws (and misses it by more than :data:`WEIGHT_TOLERANCE`) fails ``modes``: the
#: posterior lacks the mode even where F's error stays within tolerance.
UNVISITED_FRACTION = 0.25
#: Mode weights closer than this to the Laplace weights are never flagged.
WEIGHT_TOLERANCE = 0.05


def _missing_classes(census: xr.Dataset, occupancy: xr.DataArray) -> list[str]:
    """Heavy classes of modes whose share of the draws is below
    :data:`UNVISITED_FRACTION` of their weight and short of it by more than
    :data:`WEIGHT_TOLERANCE` (weights and shares renormalised over the heavy classes)."""
    heavy, w, o = heavy_classes(census, occupancy)
    if len(heavy) < 2 or not np.isfinite(o).all():
        return []
    first_mode = [int(np.flatnonzero(members)[0]) for members in heavy]
    return [
        f"mode {m} (weight {wc:.2f} among the heavy modes, {oc:.1%} of their draws)"
        for m, wc, oc in zip(first_mode, w, o, strict=True)
        if oc < UNVISITED_FRACTION * wc and wc - oc > WEIGHT_TOLERANCE
    ]


def free_energy_reliability(
    idata: xr.DataTree,
    model: pm.Model | None = None,
    *,
    method: str = "stepping_stone",
    starts: int = 100,
    extra_starts: np.ndarray | None = None,
    screen_starts: int = SCREEN_STARTS,
    random_seed: int | None = 0,
) -> xr.Dataset:
    """Check a free energy: round trips, chain agreement, mode census.

    Replica exchange gets all three checks; nested sampling gets the runs' agreement
    and the census (it has no ladder). The census matters most there: on the XANES
    pre-edge two dynesty runs agreed with each other on an F 22-35 nats too high
    (docs/xanes.md), and the census flagged both.

    Parameters
    ----------
    idata : xarray.DataTree
        A result of :func:`samplers.sample_replica_exchange` or
        :func:`samplers.sample_nested` (with its ``free_energy`` group).
    model : pymc.Model, optional
        The model the run sampled (default: the one in context), for the census.
    method : str
        The free-energy estimator checked (``"nested"`` for nested sampling).
    starts : int
        Census starts drawn from the prior (besides :data:`STARTS_PER_CHAIN` draws of
        each chain).
    extra_starts : ndarray, shape (n, d), optional
        More census starts in PyMC's unconstrained raveled space (points where a mode
        is suspected: another run's draws, a fit by other means).
    screen_starts : int
        Prior draws of the census's batched screen
        (:func:`~samplers.evidence.modes.mode_census`): finds modes whose basins hold a
        small share of the prior, at the cost of a batched compile and up to 200 more
        L-BFGS runs (default :data:`SCREEN_STARTS`, no screen, for the reasons given
        there).
    random_seed : int, optional
        Seeds the census's prior starts.

    Returns
    -------
    xarray.Dataset
        ``passed`` and ``reason`` along ``check`` (:data:`CHECKS`; the reason is empty
        for a check that passed); ``round_trips`` (chain); ``agreement_chi2``,
        ``agreement_p``, ``census_bias`` (nats); and the census along ``mode``
        (``laplace_weight``, ``mode_class``, ``occupancy`` pooled over chains,
        ``census_starts``). Attrs ``trusted`` (1 when every check passed),
        ``verdict`` (one sentence) and the census's counts (``census_starts``,
        ``census_converged``, ``census_screened``, ``census_screen_held``,
        ``census_refined``; :func:`~samplers.evidence.modes.mode_census`).
    """
    model = pm.modelcontext(model)
    estimate = FreeEnergy.from_dataset(idata["free_energy"].to_dataset(), method)
    checks = estimate.checks  # the run's own, recomputed from its stored counts
    if checks is None and method == NESTED:
        checks = run_checks(estimate)
    elif checks is None:  # a free_energy group stored before the run's checks were
        ladder = ladder_diagnostics(idata)
        checks = run_checks(
            estimate, ladder["round_trips"].values, ladder["ideal_round_trips"].values
        )
    chi2, p = free_energy_agreement(estimate)
    draws = unconstrained_draws(idata, model)
    step = max(1, draws.shape[1] // STARTS_PER_CHAIN)
    own = draws[:, ::step].reshape(-1, draws.shape[-1])
    if extra_starts is not None:
        own = np.concatenate([own, np.atleast_2d(np.asarray(extra_starts, dtype=float))])
    census = mode_census(
        model,
        starts=starts,
        extra_starts=own,
        screen_starts=screen_starts,
        random_seed=random_seed,
    )
    occupancy = mode_occupancy(census, draws)
    bias, under = census_bias(census, occupancy)

    reasons = {check: "" for check in CHECKS}
    reasons.update(checks.failures)
    missing = _missing_classes(census, occupancy)
    if bias > BIAS_NATS + 2 * estimate.mcse:
        pooled = occupancy.mean("chain").values
        weights = census["laplace_weight"].values
        modes = ", ".join(
            f"mode {m} (Laplace weight {weights[m]:.2f}, {pooled[m]:.1%} of the draws)"
            for m in under
        )
        reasons["modes"] = (
            f"the draws under-visit {modes or 'some heavy modes'}: F may be too high by "
            f"about {bias:.2f} nats (MCSE {estimate.mcse:.2f})"
        )
    elif not np.isfinite(census["laplace_weight"].values).any():
        reasons["modes"] = (
            f"none of the census's {census.sizes['mode']} optima has a positive-definite "
            "Hessian (saddles or flat ridges), so the draws could not be checked against "
            "the modes"
        )
    elif missing:
        reasons["modes"] = (
            f"the draws all but miss {', '.join(missing)}: the posterior lacks that mass "
            f"(F may be too high by about {bias:.2f} nats, MCSE {estimate.mcse:.2f})"
        )
    failed = [check for check in CHECKS if reasons[check]]
    passed = (
        "the runs agree"
        if checks.round_trips is None
        else "every chain made round trips, the chains agree"
    )
    verdict = (
        f"trusted: {passed}, and no heavy mode that the census found is missing from the draws"
        if not failed
        else "unreliable: " + "; ".join(reasons[check] for check in failed)
    )
    chains = idata["posterior"]["chain"]
    trips = np.full(chains.size, np.nan) if checks.round_trips is None else checks.round_trips
    return xr.Dataset(
        {
            "passed": ("check", [not reasons[check] for check in CHECKS]),
            "reason": ("check", [reasons[check] for check in CHECKS]),
            "round_trips": xr.DataArray(trips, dims="chain", coords={"chain": chains}),
            "agreement_chi2": chi2,
            "agreement_p": p,
            "census_bias": bias,
            "laplace_weight": census["laplace_weight"],
            "mode_class": census["mode_class"],
            "occupancy": occupancy.mean("chain"),
            "census_starts": census["starts"],
        },
        coords={"check": list(CHECKS)},
        attrs={
            "trusted": int(not failed),
            "verdict": verdict,
            "method": method,
            **{
                f"census_{key}": int(value)
                for key, value in census.attrs.items()
                if isinstance(value, int | np.integer)
            },
        },
    )
