r"""Health of a replica-exchange ladder (the diagnostics Pigeons.jl reports).

- swap rate of each neighbouring pair: mean swap acceptance probability
  :math:`\bar\alpha_l`, rejection :math:`r_l = 1 - \bar\alpha_l`;
- global communication barrier :math:`\Lambda = \sum_l r_l` (Syed et al. 2022): the
  number of levels needed grows like :math:`\Lambda`, and the best possible round-trip
  rate of non-reversible parallel tempering is :math:`1/(2 + 2\Lambda)` per iteration;
- round trips: a replica's journeys from β = 0 to β = 1 and back, counted from the
  recorded replica-to-level map. Round trips are how information reaches the
  posterior from the prior;
- ideal round trips: how many the ladder's swap rates would allow if the moves within
  every level mixed perfectly (:func:`~samplers.replica_exchange.ladder.ideal_round_trip_rate`
  times the draws). Few round trips *and* few ideal ones mean the ladder is too short
  (run longer) or some pair hardly swaps (a bottleneck in the path); few round trips
  against many ideal ones mean the moves within levels are too slow to carry a replica
  along the ladder (more sweeps per swap, or gradient moves).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from .ladder import count_round_trips, ideal_round_trip_rate
from .stats import replica_stats

__all__ = ["ladder_diagnostics"]


def ladder_diagnostics(idata: xr.DataTree) -> xr.Dataset:
    r"""Swap rates, round trips and the global communication barrier of each chain.

    Parameters
    ----------
    idata : xarray.DataTree
        A replica-exchange result.

    Returns
    -------
    xarray.Dataset
        ``swap_rate`` (chain, pair), ``replica_acceptance`` (chain, level),
        ``global_barrier``, ``round_trips``, ``round_trip_rate``,
        ``optimal_round_trip_rate`` (:math:`1/(2 + 2\Lambda)`, the limit of a refined
        ladder) and ``ideal_round_trips`` (this ladder's swap rates with perfect moves
        within levels, times the draws; per chain). The recorded swap rounds are one per
        draw; a run with ``n_sweeps > 1`` made more, so its ideal count is a lower bound.
    """
    stats = replica_stats(idata, ("swap_acceptance", "replica_at_level", "replica_acceptance"))
    swap = stats["swap_acceptance"].mean("draw")
    acceptance = stats["replica_acceptance"].mean("draw")
    maps = stats["replica_at_level"].values
    draws = maps.shape[1]
    trips = np.array([count_round_trips(chain).sum() for chain in maps])
    barrier = (1.0 - swap).sum("pair")
    return xr.Dataset(
        {
            "swap_rate": swap.drop_vars("pair", errors="ignore"),
            "replica_acceptance": acceptance.drop_vars("level", errors="ignore"),
            "global_barrier": barrier,
            "round_trips": ("chain", trips),
            "round_trip_rate": ("chain", trips / draws),
            "optimal_round_trip_rate": 1.0 / (2.0 + 2.0 * barrier),
            "ideal_round_trips": ("chain", draws * ideal_round_trip_rate(swap.values)),
        }
    )
