r"""Fit a path reference from a short pilot run on the prior path.

:func:`fit_reference` runs ``ladders`` tuning ladders of the prior path for
``iterations`` iterations each (the kernel alone, no PyMC trace), keeps snapshots of
every level from their second halves, and fits the reference of
:mod:`samplers.replica_exchange.path_reference` from them:

- ``"variational"``: one Gaussian moment-matched to the snapshots at :math:`\beta = 1`;
- ``"modes"``: a mode census (:func:`samplers.evidence.modes.mode_census`) with L-BFGS
  from ``starts`` prior draws and ``starts`` snapshots taken at random levels (modes
  the replicas visit at any temperature), and a batched screen of ``screen_starts``
  more prior draws (modes whose basins hold a small share of the prior); then one
  Gaussian per mode.

Both add the broad component fitted to the snapshots of the prior level. The pilot is
seeded from the run's seed, so a rerun (a resumed checkpoint) fits the same reference.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pymc as pm
import xarray as xr
from pymc.blocking import DictToArrayBijection

from ..evidence.modes import mode_census
from .path_reference import (
    BROAD_WEIGHT,
    GaussianMixtureReference,
    modes_reference,
    variational_reference,
)
from .step import ReplicaExchange

__all__ = ["PILOT_SNAPSHOTS", "SCREEN_STARTS", "fit_reference", "pilot_snapshots"]

#: Snapshots of every level kept from each pilot ladder.
PILOT_SNAPSHOTS = 100
#: Prior draws of the census's batched screen (a basin that holds 1/1000 of the prior is
#: then missed with probability e^-4).
SCREEN_STARTS = 4000
#: Keys of the pilot's seed sequence (kept apart from the chains' seeds).
_PILOT_SPAWN_KEY = (0x9170,)


def pilot_seed(random_seed: int | Sequence[int]) -> np.random.SeedSequence:
    """The pilot's seed sequence, derived from the run's seed (an int or ints)."""
    entropy = [int(s) for s in np.atleast_1d(random_seed)]
    return np.random.SeedSequence(entropy, spawn_key=_PILOT_SPAWN_KEY)


def pilot_snapshots(
    step: ReplicaExchange,
    model: pm.Model,
    *,
    ladders: int,
    iterations: int,
    seed: np.random.SeedSequence,
) -> np.ndarray:
    """Snapshots of every level of ``ladders`` tuning ladders on the prior path.

    Returns
    -------
    ndarray, shape (ladders, snapshots, levels, dim)
        Positions in the unconstrained raveled space, from the second half of each
        ladder's iterations (at most :data:`PILOT_SNAPSHOTS` per ladder).
    """
    if iterations < 2:
        raise ValueError(f"the pilot needs at least 2 iterations, got {iterations}")
    point = model.initial_point()
    x0 = DictToArrayBijection.map({v.name: point[v.name] for v in step.vars}).data
    kernel = step.kernel
    half = iterations // 2
    every = max(1, (iterations - half) // PILOT_SNAPSHOTS)
    runs = []
    for child in seed.spawn(ladders):
        state = kernel.init(x0, np.random.default_rng(child))
        kept = []
        for iteration in range(iterations):
            state, _ = kernel.step(state, tune=True)
            if iteration >= half and (iteration - half) % every == 0:
                kept.append(np.array(state.x))
        runs.append(np.stack(kept))
    return np.stack(runs)


def fit_reference(
    step: ReplicaExchange,
    model: pm.Model,
    kind: str,
    *,
    ladders: int,
    iterations: int,
    random_seed: int | Sequence[int],
    starts: int = 100,
    screen_starts: int = SCREEN_STARTS,
    broad_weight: float = BROAD_WEIGHT,
) -> tuple[GaussianMixtureReference, xr.Dataset | None]:
    """Fit the path reference ``kind`` ("variational" or "modes") from a pilot run.

    The step is left on the prior path (its reference is not changed here).

    Returns
    -------
    reference : GaussianMixtureReference
    census : xarray.Dataset or None
        The mode census (``"modes"`` only).

    Raises
    ------
    ValueError
        If ``kind`` is not a fitted reference, the step does not own the model's value
        variables in the model's order, or the census cannot give a reference
        (:func:`~samplers.replica_exchange.path_reference.modes_reference`).
    """
    if kind not in ("variational", "modes"):
        raise ValueError(f"a fitted reference is 'variational' or 'modes', got {kind!r}")
    if [v.name for v in step.vars] != [v.name for v in model.value_vars]:
        raise ValueError("a fitted reference needs the step to own the model's value variables")
    previous = step.reference
    step.use_reference(None)
    seed = pilot_seed(random_seed)
    try:
        snapshots = pilot_snapshots(step, model, ladders=ladders, iterations=iterations, seed=seed)
    finally:
        step.use_reference(previous)
    dim = snapshots.shape[-1]
    prior_draws = snapshots[:, :, 0].reshape(-1, dim)
    if kind == "variational":
        posterior_draws = snapshots[:, :, -1].reshape(-1, dim)
        return variational_reference(posterior_draws, prior_draws, broad_weight), None
    flat = snapshots.reshape(-1, snapshots.shape[2], dim)
    rng = np.random.default_rng(seed.spawn(1)[0])
    rows = rng.integers(flat.shape[0], size=starts)
    levels = rng.integers(flat.shape[1], size=starts)
    census = mode_census(
        model,
        starts=starts,
        extra_starts=flat[rows, levels],
        screen_starts=screen_starts,
        random_seed=int(seed.generate_state(1)[0]),
    )
    return modes_reference(census, prior_draws, broad_weight), census
