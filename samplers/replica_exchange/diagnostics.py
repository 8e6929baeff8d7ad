r"""Health of a replica-exchange ladder (the diagnostics Pigeons.jl reports).

- swap rate of each neighbouring pair: mean swap acceptance probability
  :math:`\bar\alpha_l`, rejection :math:`r_l = 1 - \bar\alpha_l`;
- global communication barrier :math:`\Lambda = \sum_l r_l` (Syed et al. 2022): the
  number of levels needed grows like :math:`\Lambda`, and the best possible round-trip
  rate of non-reversible parallel tempering is :math:`1/(2 + 2\Lambda)` per iteration;
- round trips: a replica's journeys from β = 0 to β = 1 and back, counted from the
  recorded replica-to-level map. Round trips are how information reaches the
  posterior from the prior; few round trips mean the ladder is too coarse or too short.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from .ladder import count_round_trips
from .stats import replica_stats

__all__ = ["ladder_diagnostics"]


def ladder_diagnostics(idata: xr.DataTree) -> xr.Dataset:
    """Swap rates, round trips and the global communication barrier of each chain.

    Parameters
    ----------
    idata : xarray.DataTree
        A replica-exchange result.

    Returns
    -------
    xarray.Dataset
        ``swap_rate`` (chain, pair), ``replica_acceptance`` (chain, level),
        ``global_barrier``, ``round_trips``, ``round_trip_rate`` and
        ``optimal_round_trip_rate`` (per chain).
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
        }
    )
