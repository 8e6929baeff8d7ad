"""The sampler stats of replica exchange, named: the one place that knows their layout.

The step method (:class:`samplers.ReplicaExchange`) records per draw the vectors
``replica_log_likelihood``, ``beta``, ``replica_acceptance`` and ``replica_at_level``
(one entry per level of the ladder) and ``swap_acceptance`` (one per neighbouring
pair). PyMC names their dims ``<stat>_dim_0``; :func:`tidy_replica_stats` names them
``level`` and ``pair`` and turns a ladder that stayed fixed into a ``beta`` coordinate.
:func:`samplers.sample_replica_exchange` stores tidy stats; everything that reads them
(free energies, noise scans, ladder diagnostics) goes through :func:`replica_stats`,
which accepts both the tidy stats and the raw ones of
``pm.sample(step=ReplicaExchange(...))``.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

__all__ = ["LEVEL_DIM", "PAIR_DIM", "replica_stats", "tidy_replica_stats"]

#: Dim of the per-level stats: one entry per rung of the ladder (0 = prior, L = posterior).
LEVEL_DIM = "level"
#: Dim of the per-pair stats: one entry per pair of neighbouring rungs.
PAIR_DIM = "pair"
PER_LEVEL = ("replica_log_likelihood", "beta", "replica_acceptance", "replica_at_level")
PER_PAIR = ("swap_acceptance",)


def tidy_replica_stats(stats: xr.Dataset) -> xr.Dataset:
    """Name the replica dims of a stats Dataset and turn a fixed ladder into a coordinate.

    PyMC names the vector stats' dims ``<stat>_dim_0``; here they become ``level`` (one
    entry per rung of the ladder) and ``pair`` (neighbouring rungs). A ladder that is the
    same in every draw (the recorded draws, after tuning) becomes the ``beta``
    coordinate (chain, level); one that changed (warm-up) stays a data variable.
    Already tidy stats are returned unchanged.
    """
    renames = {}
    for names, target in ((PER_LEVEL, LEVEL_DIM), (PER_PAIR, PAIR_DIM)):
        for name in names:
            if name in stats.data_vars and stats[name].dims[-1] != target:
                renames[stats[name].dims[-1]] = target
    stats = stats.rename_dims(renames).drop_vars(list(renames), errors="ignore")
    for dim in (LEVEL_DIM, PAIR_DIM):
        if dim in stats.dims:
            stats = stats.assign_coords({dim: np.arange(stats.sizes[dim])})
    if "beta" in stats.data_vars:
        beta = stats["beta"]
        if bool((beta == beta.isel(draw=0)).all()):
            stats = stats.drop_vars("beta").assign_coords(beta=beta.isel(draw=0, drop=True))
    return stats


def replica_stats(idata: xr.DataTree, needed: tuple[str, ...] = ()) -> xr.Dataset:
    """The tidy replica-exchange sample stats of a result.

    Parameters
    ----------
    idata : xarray.DataTree
        A result of :func:`samplers.sample_replica_exchange` or of
        ``pm.sample(step=ReplicaExchange(...))``.
    needed : tuple of str
        Stats that must be present.

    Raises
    ------
    ValueError
        If the result has no ``sample_stats`` group or lacks a needed stat (it is then
        not a replica-exchange result).
    """
    try:
        stats = idata["sample_stats"].to_dataset()
    except KeyError:
        raise ValueError("the result has no sample_stats group") from None
    missing = [name for name in needed if name not in stats.data_vars]
    if missing:
        raise ValueError(f"not a replica-exchange result: sample_stats lacks {missing}")
    return tidy_replica_stats(stats)
