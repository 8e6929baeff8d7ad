r"""How many log-density and gradient evaluations a sampler's run cost.

The counting convention is that of :mod:`samplers.comparison`: one evaluation is the
model's log-density (or its gradient) at one parameter vector; a batched call counts
every row; compilation, start-value checks and work done to build the result are not
counted. ``tests/samplers/test_comparison.py`` checks every count against instrumented
density functions.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import xarray as xr

from ..evidence.free_energy import per_chain_rows
from ..settings import ReplicaExchangeSettings

__all__ = [
    "CountingMH",
    "nuts_evaluations",
    "replica_exchange_evaluations",
    "smc_evaluations",
]


class CountingMH(pm.smc.kernels.MH):
    """PyMC's SMC Metropolis–Hastings kernel that also records its mutation steps.

    Identical to :class:`pymc.smc.kernels.MH`, plus the per-stage sample stat
    ``n_mutation_steps``: how many MH steps (each one log-density evaluation per
    particle) the stage's mutation made.
    """

    stats_dtypes_shapes = {  # noqa: RUF012 (PyMC's own class attribute)
        **pm.smc.kernels.MH.stats_dtypes_shapes,
        "n_mutation_steps": (int, []),
    }

    def sample_stats(self):
        stats = super().sample_stats()
        stats["n_mutation_steps"] = int(self.n_steps - 1)  # MH.mutate starts n_steps at 1
        return stats


def replica_exchange_evaluations(settings: ReplicaExchangeSettings, dim: int) -> int:
    """Replica log-density evaluations of a replica-exchange run (all chains).

    ``chains × L × (1 + (tune + draws) × n_sweeps × calls)``, with ``L`` levels and
    ``calls = dim`` for componentwise moves (one batched call per coordinate), 1 for
    block moves; the 1 is the evaluation of the starting ladder.
    """
    betas = dict(settings.extra).get("betas")
    levels = settings.n_replicas if betas is None else len(betas)
    calls = int(dim) if settings.update == "componentwise" else 1
    iterations = settings.tune + settings.draws
    return int(settings.chains * levels * (1 + iterations * settings.n_sweeps * calls))


def smc_evaluations(idata: xr.DataTree) -> int:
    """Log-density evaluations of a ``pm.sample_smc`` run made with :class:`CountingMH`.

    ``particles × (1 + Σ_stages n_mutation_steps)`` per chain, summed over chains.

    Raises
    ------
    ValueError
        If the result does not record ``n_mutation_steps`` (not run with CountingMH).
    """
    stats = idata["sample_stats"]
    if "n_mutation_steps" not in stats.data_vars:
        raise ValueError(
            "the SMC result does not record n_mutation_steps; run pm.sample_smc with "
            "kernel=samplers.comparison.compare.CountingMH to count its evaluations"
        )
    particles = int(idata["posterior"].sizes["draw"])
    steps = [np.nansum(row) for row in per_chain_rows(stats["n_mutation_steps"].values)]
    return int(sum(particles * (1 + s) for s in steps))


def nuts_evaluations(idata: xr.DataTree) -> int:
    """Joint log-density-and-gradient evaluations of a NUTS run: ``Σ (n_steps + 1)``.

    Sums over ``warmup_sample_stats`` (when the tuning draws were kept) and
    ``sample_stats``.

    Raises
    ------
    ValueError
        If the result has no ``n_steps`` stat.
    """
    total = 0
    for group in ("warmup_sample_stats", "sample_stats"):
        if group not in idata.children:
            continue
        stats = idata[group]
        if "n_steps" not in stats.data_vars:
            raise ValueError(f"{group} has no n_steps (not a NUTS result)")
        n_steps = stats["n_steps"].values
        total += int(np.sum(n_steps) + n_steps.size)
    return total
