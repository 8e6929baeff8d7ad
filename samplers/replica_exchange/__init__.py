"""Replica exchange (non-reversible parallel tempering) in PyMC.

- :mod:`~samplers.replica_exchange.ladder`: ladders of inverse temperatures (starting
  ladders, swap probabilities, equalisation of swap rejection, round trips);
- :mod:`~samplers.replica_exchange.kernel`: the NumPy core in the blackjax shape
  (``init(x0, rng) -> state``, ``step(state, tune) -> (state, info)`` on an immutable
  :class:`~samplers.replica_exchange.kernel.LadderState`: moves, even/odd swaps, ladder
  adaptation) on plain log-densities, knowing nothing of PyMC;
- :mod:`~samplers.replica_exchange.tempered_density`: a PyMC model compiled into one
  batched function of all replicas, ``X -> (log-prior, log-likelihood)``;
- :mod:`~samplers.replica_exchange.step`: :class:`samplers.ReplicaExchange`, the PyMC step
  method, a thin adapter around the core;
- :mod:`~samplers.replica_exchange.chains`: :func:`~samplers.replica_exchange.chains.run_chains`,
  the chains driven as ``pm.sample`` drives them (same seeds, initial points, calls,
  trace and conversion), with checkpoints and Ctrl-C that keeps the work;
  :mod:`~samplers.replica_exchange.run_record` (one chain's iterations, the record of a
  run and its checkpoint writes, Ctrl-C as a request, :class:`samplers.SamplingInterrupted`)
  and :mod:`~samplers.replica_exchange.chain_processes` (one process per chain);
- :mod:`~samplers.replica_exchange.checkpoint`: the checkpoint file (every chain's state
  and draws, and what identifies the run; :func:`samplers.checkpoint_progress`);
- :mod:`~samplers.replica_exchange.sampling`: :func:`samplers.sample_replica_exchange`
  and :func:`~samplers.replica_exchange.sampling.sample_with_step`, the chains with
  tidied stats and free energies attached, resumable with ``checkpoint=``;
- :mod:`~samplers.replica_exchange.stats`: the replica stats, named;
- :mod:`~samplers.replica_exchange.diagnostics`: :func:`samplers.ladder_diagnostics` (swap
  rates, round trips, communication barrier).

The public names are imported from :mod:`samplers`; the modules by their full path.
"""

__all__: list[str] = []
