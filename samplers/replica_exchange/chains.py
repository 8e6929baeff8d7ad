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

import ctypes
import dataclasses
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path

import cloudpickle
import numpy as np
import pymc as pm
import xarray as xr
from pymc.backends import init_traces
from pymc.backends.ndarray import NDArray
from pymc.initial_point import make_initial_point_fns_per_chain
from pymc.progress_bar import MCMCProgressBarManager
from pymc.sampling.mcmc import _sample_return
from pymc.sampling.parallel import Draw, _cpu_count
from pymc.stats.convergence import log_warning_stats
from pymc.util import get_random_generator, get_state_from_generator, random_generator_from_state

from .checkpoint import (
    ChainCheckpoint,
    describe_run,
    read_checkpoint,
    refuse_other_run,
    write_checkpoint,
)
from .step import ReplicaExchange

__all__ = ["CHECKPOINT_SECONDS", "SamplingInterrupted", "run_chains"]

_log = logging.getLogger("pymc")

#: Without ``checkpoint_every``, a checkpoint is written once this many seconds have
#: passed since the last write (and at the end of every chain).
CHECKPOINT_SECONDS = 60.0
#: How long the parent waits for a chain process's message before it looks at Ctrl-C.
POLL_SECONDS = 0.1
PR_SET_PDEATHSIG = 1  # prctl(2) option: signal sent to this process when its parent dies


class SamplingInterrupted(KeyboardInterrupt):
    """Sampling stopped by Ctrl-C (SIGINT) or by a ``KeyboardInterrupt`` in a callback.

    Attributes
    ----------
    checkpoint : pathlib.Path or None
        The checkpoint that holds the run so far (None when the run kept none).
    """

    def __init__(self, message: str, checkpoint: Path | None = None) -> None:
        super().__init__(message)
        self.checkpoint = checkpoint


class _InterruptRequests:
    """Turn the first SIGINT into a request (``requested``); a second one raises.

    Signal handlers can only be installed from the main thread; elsewhere SIGINT is
    never delivered to the sampling thread anyway. A process that ignores SIGINT (one
    started in the background, ``nohup``) keeps ignoring it.
    """

    def __init__(self) -> None:
        self.requested = False
        self._installed = False
        self._previous = None

    def _handle(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> _InterruptRequests:
        if (
            threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is not signal.SIG_IGN
        ):
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def __exit__(self, *exc_info) -> None:
        if self._installed:  # None: a handler not set from Python; Python's own is next best
            previous = self._previous
            signal.signal(
                signal.SIGINT, signal.default_int_handler if previous is None else previous
            )


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


def _iterate_chain(
    step: ReplicaExchange,
    rng: np.random.Generator,
    start: dict,
    tune: int,
    draws: int,
    resume: ChainCheckpoint | None,
) -> Iterator[tuple[int, dict, list[dict]]]:
    """One chain's iterations ``(index, point, stats)``, as ``_iter_sample`` runs them,
    from the start or from a checkpoint."""
    step.setup_chain(rng, tune, draws)
    step.tune = bool(tune)
    step.reset_tuning()
    point, first = start, 0
    if resume is not None:
        step.sampling_state = resume.step_state
        point, first = resume.point, resume.iterations
    for i in range(first, tune + draws):
        if i == tune:
            step.stop_tuning()
        point, stats = step.step(point)
        yield i, point, stats


def _restore(trace: NDArray, saved: ChainCheckpoint) -> None:
    """Put a checkpoint's draws and stats back into a fresh NDArray trace."""
    if set(saved.draws) != set(trace.samples) or set(saved.stats) != set(trace._stats[0]):
        raise ValueError("the checkpoint's recorded variables or stats are not this run's")
    n = saved.iterations
    for name, values in saved.draws.items():
        trace.samples[name][:n] = values
    for name, values in saved.stats.items():
        trace._stats[0][name][:n] = values
    trace.draw_idx = n


def _snapshot(trace: NDArray, iterations: int, point: dict, step_state) -> ChainCheckpoint:
    if trace.draw_idx != iterations:
        raise RuntimeError(
            f"chain {trace.chain}: {trace.draw_idx} draws recorded, the state is after {iterations}"
        )
    return ChainCheckpoint(
        iterations=iterations,
        draws={name: values[:iterations] for name, values in trace.samples.items()},
        stats={name: values[:iterations] for name, values in trace._stats[0].items()},
        point={name: np.asarray(value) for name, value in point.items()},
        step_state=step_state,
    )


def _last_stats(saved: ChainCheckpoint) -> list[dict]:
    return [{name: values[saved.iterations - 1] for name, values in saved.stats.items()}]


class _Run:
    """The parent's bookkeeping of one run: traces, saved snapshots, the checkpoint."""

    def __init__(self, *, checkpoint, description, traces, saved, sampling_time, every) -> None:
        self.checkpoint = checkpoint
        self.description = description
        self.traces = traces
        self.saved: dict[int, ChainCheckpoint] = saved
        self.previous_time = sampling_time
        self.started = time.time()
        self.every = every
        self.last_write = time.monotonic()
        self.written = {chain: saved[chain].iterations for chain in saved}
        self.unwritten = False

    @property
    def sampling_time(self) -> float:
        return self.previous_time + time.time() - self.started

    def timed_write_due(self) -> bool:
        """Whether a minute-by-minute checkpoint is due."""
        return (
            self.checkpoint is not None
            and self.every is None
            and time.monotonic() - self.last_write >= CHECKPOINT_SECONDS
        )

    def due(self, iterations: int) -> bool:
        """Whether a chain that has just completed ``iterations`` should be saved."""
        if self.every is not None:
            return self.checkpoint is not None and iterations % self.every == 0
        return self.timed_write_due()

    def save(self, chain: int, iterations: int, point: dict, step_state) -> None:
        if self.checkpoint is not None:
            self.saved[chain] = _snapshot(self.traces[chain], iterations, point, step_state)
            self.unwritten = True

    def write(self) -> None:
        if self.checkpoint is not None and self.unwritten:
            write_checkpoint(self.checkpoint, self.description, self.saved, self.sampling_time)
            self.last_write = time.monotonic()
            self.written = {chain: saved.iterations for chain, saved in self.saved.items()}
            self.unwritten = False

    def interrupted(self, total: int) -> SamplingInterrupted:
        if self.checkpoint is None:
            return SamplingInterrupted(
                "replica exchange interrupted; no checkpoint was kept, so the run is lost "
                "(pass checkpoint=<file> to be able to continue an interrupted run)"
            )
        done = ", ".join(
            f"chain {c}: {self.written.get(c, 0)}/{total}" for c in range(len(self.traces))
        )
        message = (
            f"replica exchange interrupted ({done} iterations); the run so far is saved in "
            f"the checkpoint {str(self.checkpoint)!r}. Run the same call again (same "
            "arguments, same checkpoint) to continue from there."
        )
        return SamplingInterrupted(message, Path(self.checkpoint))


def _call_back(callback, trace, draw: Draw, interrupts: _InterruptRequests) -> None:
    if callback is None:
        return
    try:
        callback(trace=trace, draw=draw)
    except KeyboardInterrupt:
        interrupts.requested = True


def _sample_sequentially(
    run: _Run, step, rngs, starts, pending, tune, draws, progress, callback, interrupts
) -> None:
    """Chains one after the other in this process (``pm.sample`` with one core)."""
    total = tune + draws
    initial_step_state = step.sampling_state
    for chain in pending:
        step.sampling_state = initial_step_state
        trace = run.traces[chain]
        resume = run.saved.get(chain)
        for i, point, stats in _iterate_chain(
            step, rngs[chain], starts[chain], tune, draws, resume
        ):
            trace.record(point, stats, in_warmup=i < tune)
            log_warning_stats(stats)
            draw = Draw(chain, i + 1 == total, i, i < tune, stats, point)
            _call_back(callback, trace, draw, interrupts)
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


def _end_with_parent() -> None:
    """Linux: have the kernel stop this process when its parent dies (even by SIGKILL),
    so that no chain keeps running for a sampler that is gone."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass  # not Linux: the pipe breaks when the parent dies, which ends the chain too


def _chain_process(
    connection, parent_end, step, step_is_pickled, rng_state, start, tune, draws, resume, every
):
    """Body of a chain's process: iterate, send every draw; send the step's state every
    ``every`` iterations, when asked (``"snapshot"``, ``"stop"``) and at the end."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    _end_with_parent()
    if parent_end is not None:
        parent_end.close()  # forked: the parent's end of the pipe is the parent's only
    try:
        if step_is_pickled:
            step = cloudpickle.loads(step)
        rng = random_generator_from_state(rng_state)
        total = tune + draws
        for i, point, stats in _iterate_chain(step, rng, start, tune, draws, resume):
            connection.send(("draw", i, point, stats))
            n = i + 1
            snapshot, stop = n == total or (every is not None and n % every == 0), False
            while connection.poll():
                request = connection.recv()
                snapshot, stop = True, stop or request == "stop"
            if snapshot:
                connection.send(("state", n, point, step.sampling_state))
            if stop:
                break
        connection.send(("done",))
    except (BrokenPipeError, EOFError, ConnectionResetError):
        pass  # the parent has gone
    except BaseException as error:
        remote = traceback.format_exc()
        try:
            connection.send(("error", error, remote))
        except Exception:
            connection.send(("error", RuntimeError(remote), remote))
    finally:
        connection.close()


class _ChainProcess:
    def __init__(self, context, chain, step, step_pickled, rng, start, tune, draws, resume, every):
        self.chain = chain
        self.connection, remote = context.Pipe()
        forked = context.get_start_method() == "fork"
        args = (
            remote,
            self.connection if forked else None,
            step if step_pickled is None else step_pickled,
            step_pickled is not None,
            get_state_from_generator(rng),
            start,
            tune,
            draws,
            resume,
            every,
        )
        self.process = context.Process(
            target=_chain_process, args=args, name=f"replica_exchange_chain_{chain}", daemon=True
        )
        self.process.start()
        remote.close()

    def request(self, message: str) -> None:
        try:
            self.connection.send(message)
        except (BrokenPipeError, OSError):
            pass  # finished meanwhile; its last messages are still read

    def end(self) -> None:
        if self.process.is_alive():
            self.process.terminate()
        self.process.join()
        self.connection.close()


def _sample_in_processes(
    run: _Run,
    step,
    rngs,
    starts,
    pending,
    tune,
    draws,
    cores,
    mp_ctx,
    progress,
    callback,
    interrupts,
) -> None:
    """One process per chain, at most ``cores`` at once (``pm.sample`` with cores > 1)."""
    total = tune + draws
    context = multiprocessing.get_context(mp_ctx)
    pickled = None if context.get_start_method() == "fork" else cloudpickle.dumps(step)
    pending = deque(pending)
    running: dict[object, _ChainProcess] = {}
    awaiting: set[int] = set()  # chains asked for their state for a timed checkpoint
    stopping = False
    every = run.every if run.checkpoint is not None else None
    try:
        while running or (pending and not stopping):
            while pending and len(running) < cores and not stopping:
                chain = pending.popleft()
                resume = run.saved.get(chain)
                if resume is not None:  # the draws stay here; the process needs the state
                    resume = dataclasses.replace(resume, draws={}, stats={})
                process = _ChainProcess(
                    context, chain, step, pickled, rngs[chain], starts[chain], tune, draws,
                    resume, every,
                )  # fmt: skip
                running[process.connection] = process
            if interrupts.requested and not stopping:
                stopping = True
                for process in running.values():
                    process.request("stop")
            if not stopping and not awaiting and run.timed_write_due():
                awaiting = {process.chain for process in running.values()}
                for process in running.values():
                    process.request("snapshot")
            for connection in multiprocessing.connection.wait(list(running), POLL_SECONDS):
                process = running[connection]
                chain, trace = process.chain, run.traces[process.chain]
                try:
                    message = connection.recv()
                except EOFError:
                    raise RuntimeError(
                        f"the process of chain {chain} ended without finishing "
                        f"(exit code {process.process.exitcode})"
                    ) from None
                kind = message[0]
                if kind == "draw":
                    _, i, point, stats = message
                    trace.record(point, stats, in_warmup=i < tune)
                    log_warning_stats(stats)
                    draw = Draw(chain, i + 1 == total, i, i < tune, stats, point)
                    _call_back(callback, trace, draw, interrupts)
                    progress.update(
                        chain_idx=chain,
                        is_last=i + 1 == total,
                        draw=i,
                        tuning=i < tune,
                        stats=stats,
                    )
                elif kind == "state":
                    _, n, point, step_state = message
                    run.save(chain, n, point, step_state)
                    awaiting.discard(chain)
                elif kind == "done":
                    del running[connection]
                    process.end()
                    awaiting.discard(chain)
                else:
                    _, error, remote = message
                    run.write()
                    error.add_note(f"raised in the process of chain {chain}:\n{remote}")
                    raise error
                if not awaiting and not stopping:
                    run.write()
    finally:
        for process in running.values():
            process.end()
    if stopping:
        run.write()
        raise run.interrupted(total)


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
        _restore(traces[chain], progress_saved)
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

    run = _Run(
        checkpoint=checkpoint,
        description=description,
        traces=traces,
        saved=saved,
        sampling_time=sampling_time,
        every=checkpoint_every,
    )
    progress = _Progress(step, chains=chains, draws=draws, tune=tune, progressbar=progressbar)
    parallel = cores > 1 and len(pending) > 1
    with _InterruptRequests() as interrupts:
        try:
            with progress:
                for chain, progress_saved in saved.items():
                    progress.resume(
                        chain, progress_saved.iterations, total, _last_stats(progress_saved)
                    )
                if parallel:
                    _sample_in_processes(
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
        except SamplingInterrupted:
            raise
        except KeyboardInterrupt:
            raise run.interrupted(total) from None
    run.write()
    for trace in traces:
        trace.close()
    return _sample_return(
        run=None,
        traces=traces,
        tune=tune,
        t_sampling=run.sampling_time if pending else sampling_time,
        discard_tuned_samples=discard_tuned_samples,
        compute_convergence_checks=compute_convergence_checks,
        return_inferencedata=True,
        keep_warning_stat=False,
        idata_kwargs=idata_kwargs or {},
        model=model,
        quiet=quiet,
    )
