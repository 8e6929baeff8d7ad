"""Replica exchange (non-reversible parallel tempering) in PyMC.

- :mod:`~samplers.replica_exchange.ladder`: ladders of inverse temperatures (starting
  ladders, swap probabilities, equalisation of swap rejection, round trips);
- :mod:`~samplers.replica_exchange.kernel`: the NumPy core in the blackjax shape
  (``init(x0, rng) -> state``, ``step(state, tune) -> (state, info)`` on an immutable
  :class:`~samplers.replica_exchange.kernel.LadderState`: moves, even/odd swaps, ladder
  adaptation) on plain log-densities, knowing nothing of PyMC;
- :mod:`~samplers.replica_exchange.tempered_density`: a PyMC model compiled into one
  batched function of all replicas, ``X -> (log-prior, log-likelihood)``;
- :mod:`~samplers.replica_exchange.step`: :class:`ReplicaExchange`, the PyMC step
  method, a thin adapter around the core;
- :mod:`~samplers.replica_exchange.sampling`: :func:`sample_replica_exchange`,
  ``pm.sample`` with the step and free energies attached;
- :mod:`~samplers.replica_exchange.diagnostics`: :func:`ladder_diagnostics` (swap
  rates, round trips, communication barrier).
"""

from .diagnostics import ladder_diagnostics
from .ladder import default_ladder, first_level_for_gap
from .sampling import sample_replica_exchange
from .step import ReplicaExchange

__all__ = [
    "ReplicaExchange",
    "default_ladder",
    "first_level_for_gap",
    "ladder_diagnostics",
    "sample_replica_exchange",
]
