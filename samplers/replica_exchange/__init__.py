"""Replica exchange (non-reversible parallel tempering) in PyMC.

- :mod:`~samplers.replica_exchange.kernel`: the NumPy core (moves, even/odd swaps,
  ladder adaptation) on plain log-densities, knowing nothing of PyMC;
- :mod:`~samplers.replica_exchange.tempered_density`: a PyMC model compiled into one
  batched function of all replicas, ``X -> (log-prior, log-likelihood)``;
- :mod:`~samplers.replica_exchange.step`: :class:`samplers.ReplicaExchange`, the PyMC step
  method, a thin adapter around the core;
- :mod:`~samplers.replica_exchange.sampling`: :func:`samplers.sample_replica_exchange`,
  ``pm.sample`` with the step and free energies attached;
- :mod:`~samplers.replica_exchange.diagnostics`: :func:`samplers.ladder_diagnostics` (swap
  rates, round trips, communication barrier).

The public names are imported from :mod:`samplers`; the modules by their full path.
"""

__all__: list[str] = []
