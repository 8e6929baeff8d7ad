r"""Run the chains of a :class:`ReplicaExchange` step as ``pm.sample`` does, resumably.

``pm.sample`` cannot continue an interrupted run (its chains live in child processes and
it has no resume), so :func:`run_chains` drives the same step method the same way:

- the same per-chain generators and initial points: ``pm.sample``'s
  ``get_random_generator(random_seed).spawn(chains)``, one ``integers(2**30)`` from each
  generator seeding ``make_initial_point_fns_per_chain``;
- the same calls on the step: its ``sampling_state`` restored before each chain,
  ``setup_chain``, ``reset_tuning``, ``stop_tuning`` at iteration ``tune``, one ``step``
  per iteration (``pymc.sampling.mcmc._iter_sample``);
- the same trace (PyMC's NDArray, from ``pymc.backends.init_traces``) and the same
  conversion (``pymc.sampling.mcmc._sample_return``: chain selection,
  ``to_inference_data``, convergence checks), so groups, coordinates, deterministics and
  attrs are those of ``pm.sample``;
- one process per chain when ``cores > 1`` (at most ``cores`` at a time), the step forked
  or cloud-pickled into it as PyMC does, the parent recording the draws.

What it adds: with a checkpoint file (:mod:`samplers.replica_exchange.checkpoint`) every
chain's step state and draws are written at intervals, at the end of every chain and
when the run stops, and a run started again with the same arguments continues from the
file (a finished one returns its result without sampling). The interval does not change
the result: a chain continued from any iteration is the chain that was never stopped.

Ctrl-C (SIGINT) is a request: every chain stops after its current iteration, the
checkpoint is written and :class:`SamplingInterrupted` is raised with a message that
names the checkpoint and says how to continue; a second Ctrl-C stops at once and leaves
the checkpoint as it was last written. A ``KeyboardInterrupt`` raised by ``callback``
counts as the first Ctrl-C.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pymc as pm
import xarray as xr
from pymc.backends import init_traces
from pymc.backends.base import _choose_chains
from pymc.initial_point import make_initial_point_fns_per_chain
from pymc.progress_bar import MCMCProgressBarManager
from pymc.sampling.mcmc import _sample_return
from pymc.sampling.parallel import Draw, _cpu_count
from pymc.stats.convergence import log_warning_stats
from pymc.util import get_random_generator

from .chain_processes import sample_in_processes
from .checkpoint import describe_run, read_checkpoint, refuse_other_run
from .run_record import (
    InterruptRequests,
    RunRecord,
    SamplingInterrupted,
    call_back,
    iterate_chain,
    last_stats,
    restore,
)
from .step import ReplicaExchange

__all__ = ["run_chains"]

_log = logging.getLogger("pymc")


class _Progress(MCMCProgressBarManager):
    """PyMC's progress bars, which can also show iterations done in earlier sessions."""

    def resume(self, chain: int, iterations: int, total: int, stats: list[dict]) -> None:
        if not self._show_progress or iterations == 0:
            return
        self.completed_draws += iterations
        failing, fields = self._extract_stats(stats)
        count = self.completed_draws if self.combined_progress else iterations
        fields["draw"] = count if count <= self._tune_total else count - self._tune_total
        self._backend.update(
            task_id=0 if self.combined_progress else chain,
            advance=iterations,
            failing=failing,
            stats=fields,
            is_last=not self.combined_progress and iterations == total,
        )


def _sample_sequentially(
    run: RunRecord, step, rngs, starts, pending, tune, draws, progress, callback, interrupts
) -> None:
    """Chains one after the other in this process (``pm.sample`` with one core)."""
    total = tune + draws
    initial_step_state = step.sampling_state
    for chain in pending:
        step.sampling_state = initial_step_state
        trace = run.traces[chain]
        resume = run.saved.get(chain)
        for i, point, stats in iterate_chain(step, rngs[chain], starts[chain], tune, draws, resume):
            trace.record(point, stats, in_warmup=i < tune)
            log_warning_stats(stats)
            draw = Draw(chain, i + 1 == total, i, i < tune, stats, point)
            call_back(callback, trace, draw, interrupts)
            progress.update(chain_idx=chain, is_last=False, draw=i, tuning=i < tune, stats=stats)
            if run.checkpoint is not None and (
                interrupts.requested or i + 1 == total or run.due(i + 1)
            ):
                run.save(chain, i + 1, point, step.sampling_state)
                run.write()
            if interrupts.requested:
                raise run.interrupted(total)
        if not progress.combined_progress or chain == len(run.traces) - 1:
            progress.update(
                chain_idx=chain, is_last=True, draw=total - 1, tuning=False, stats=stats
            )


def _to_datatree(
    traces,
    *,
    tune: int,
    t_sampling: float,
    model: pm.Model,
    idata_kwargs: dict | None,
    discard_tuned_samples: bool = True,
    compute_convergence_checks: bool = False,
    quiet: bool = True,
) -> xr.DataTree:
    """Close the traces and convert them as ``pm.sample`` does (``_sample_return``)."""
    for trace in traces:
        trace.close()
    return _sample_return(
        run=None,
        traces=traces,
        tune=tune,
        t_sampling=t_sampling,
        discard_tuned_samples=discard_tuned_samples,
        compute_convergence_checks=compute_convergence_checks,
        return_inferencedata=True,
        keep_warning_stat=False,
        idata_kwargs=idata_kwargs or {},
        model=model,
        quiet=quiet,
    )


def _draws_so_far(run: RunRecord, tune: int, model: pm.Model, idata_kwargs) -> xr.DataTree | None:
    """The recorded draws of an interrupted run, converted as ``pm.sample`` converts them
    after a ``KeyboardInterrupt`` (the chains that maximise the number of draws, cut to a
    common length); None when no chain got past tuning. PyMC numbers the chains it keeps
    0, 1, ...; here they keep their own numbers."""
    try:
        kept, _ = _choose_chains(run.traces, tune)
    except ValueError:  # "Not enough samples to build a trace": still tuning
        return None
    idata = _to_datatree(
        kept, tune=tune, t_sampling=run.sampling_time, model=model, idata_kwargs=idata_kwargs
    )
    numbers = sorted(trace.chain for trace in kept)  # the order PyMC puts them in
    for node in idata.subtree:
        if "chain" in node.dims:
            node.dataset = node.to_dataset(inherit=False).assign_coords(chain=numbers)
    idata.attrs["interrupted"] = 1
    return idata


def run_chains(
    step: ReplicaExchange,
    *,
    model: pm.Model,
    draws: int,
    tune: int,
    chains: int,
    cores: int | None,
    random_seed,
    progressbar,
    checkpoint: str | os.PathLike | None,
    checkpoint_every: int | None,
    initvals=None,
    discard_tuned_samples: bool = True,
    compute_convergence_checks: bool = True,
    idata_kwargs: dict | None = None,
    callback: Callable | None = None,
    quiet: bool = False,
    mp_ctx=None,
) -> xr.DataTree:
    """Sample ``step`` as ``pm.sample(step=step, ...)`` would; checkpoint and resume.

    See :func:`samplers.replica_exchange.sampling.sample_with_step` for the parameters.

    Raises
    ------
    SamplingInterrupted
        On Ctrl-C, after the checkpoint (if any) is written.
    samplers.replica_exchange.checkpoint.CheckpointMismatch
        If the checkpoint file belongs to another run.
    """
    for name, value, least in (("draws", draws, 0), ("tune", tune, 0), ("chains", chains, 1)):
        if int(value) != value or value < least:
            raise ValueError(f"{name} must be an integer ≥ {least}, got {value!r}")
    if draws + tune < 1:
        raise ValueError("draws + tune must be at least 1")
    if checkpoint_every is not None and (
        int(checkpoint_every) != checkpoint_every or checkpoint_every < 1
    ):
        raise ValueError(f"checkpoint_every must be a positive integer, got {checkpoint_every!r}")
    draws, tune, chains = int(draws), int(tune), int(chains)
    if quiet:
        progressbar = False
    cores = min(min(4, _cpu_count()) if cores is None else int(cores), chains)

    saved, description, sampling_time = {}, None, 0.0
    previous = None
    if checkpoint is not None:
        checkpoint = Path(checkpoint)
        if checkpoint.exists():
            previous, saved, sampling_time = read_checkpoint(checkpoint)
            if random_seed is None:
                random_seed = previous["sampler"]["random_seed"]
        elif random_seed is None:
            random_seed = int(np.random.SeedSequence().entropy)
    rngs = get_random_generator(random_seed).spawn(chains)
    seeds = [rng.integers(2**30) for rng in rngs]
    initial_point_fns = make_initial_point_fns_per_chain(
        model=model, overrides=initvals, jitter_rvs=set(), chains=chains
    )
    starts = [ipfn(seed) for ipfn, seed in zip(initial_point_fns, seeds, strict=True)]
    _, traces = init_traces(
        backend=None,
        chains=chains,
        expected_length=draws + tune,
        step=step,
        initial_point=starts[0],
        model=model,
        tune=tune,
    )
    if checkpoint is not None:
        description = describe_run(
            step,
            model,
            draws=draws,
            tune=tune,
            chains=chains,
            random_seed=random_seed,
            initial_points=starts,
            recorded=traces[0].varnames,
        )
        if previous is not None:
            refuse_other_run(checkpoint, previous, description)
    for chain, progress_saved in saved.items():
        restore(traces[chain], progress_saved)
    total = draws + tune
    pending = [c for c in range(chains) if c not in saved or saved[c].iterations < total]
    if previous is not None and not quiet:
        _log.info(
            f"Continuing from checkpoint {str(checkpoint)!r}: "
            + ", ".join(
                f"chain {c} at {saved[c].iterations if c in saved else 0}/{total}"
                for c in range(chains)
            )
        )

    run = RunRecord(
        checkpoint=checkpoint,
        description=description,
        traces=traces,
        saved=saved,
        sampling_time=sampling_time,
        every=checkpoint_every,
    )
    progress = _Progress(step, chains=chains, draws=draws, tune=tune, progressbar=progressbar)
    parallel = cores > 1 and len(pending) > 1
    with InterruptRequests() as interrupts:
        try:
            with progress:
                for chain, progress_saved in saved.items():
                    progress.resume(
                        chain, progress_saved.iterations, total, last_stats(progress_saved)
                    )
                if parallel:
                    sample_in_processes(
                        run, step, rngs, starts, pending, tune, draws, cores, mp_ctx, progress,
                        callback, interrupts,
                    )  # fmt: skip
                else:
                    _sample_sequentially(
                        run,
                        step,
                        rngs,
                        starts,
                        pending,
                        tune,
                        draws,
                        progress,
                        callback,
                        interrupts,
                    )
        except KeyboardInterrupt as error:
            stop = error if isinstance(error, SamplingInterrupted) else run.interrupted(total)
            stop.partial = _draws_so_far(run, tune, model, idata_kwargs)
            raise stop from None
    run.write()
    return _to_datatree(
        traces,
        tune=tune,
        t_sampling=run.sampling_time if pending else sampling_time,
        model=model,
        idata_kwargs=idata_kwargs,
        discard_tuned_samples=discard_tuned_samples,
        compute_convergence_checks=compute_convergence_checks,
        quiet=quiet,
    )
