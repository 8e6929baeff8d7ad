"""One process per chain, as ``pm.sample`` runs chains when ``cores > 1``.

At most ``cores`` chain processes run at once; the step is forked into each or, with
another start method, cloud-pickled (as PyMC does). A process iterates its chain
(:func:`~samplers.replica_exchange.run_record.iterate_chain`) and sends every draw to the
parent, which records it; it sends the step's state every ``checkpoint_every``
iterations, when the parent asks (a timed checkpoint, Ctrl-C) and at the end. Chain
processes ignore SIGINT (the parent turns Ctrl-C into a request to stop after the
current iteration) and, on Linux, end with their parent even when it is killed.
"""

from __future__ import annotations

import ctypes
import dataclasses
import multiprocessing
import multiprocessing.connection
import signal
import traceback
from collections import deque

import cloudpickle
from pymc.sampling.parallel import Draw
from pymc.stats.convergence import log_warning_stats
from pymc.util import get_state_from_generator, random_generator_from_state

from ..compilation import without_fast_math
from .run_record import RunRecord, call_back, iterate_chain

__all__ = ["sample_in_processes"]

#: How long the parent waits for a chain process's message before it looks at Ctrl-C.
POLL_SECONDS = 0.1
PR_SET_PDEATHSIG = 1  # prctl(2) option: signal sent to this process when its parent dies


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
        if step_is_pickled:  # unpickling recompiles the step's functions: as the parent did
            with without_fast_math():
                step = cloudpickle.loads(step)
        rng = random_generator_from_state(rng_state)
        total = tune + draws
        for i, point, stats in iterate_chain(step, rng, start, tune, draws, resume):
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


def sample_in_processes(
    run: RunRecord,
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
                    call_back(callback, trace, draw, interrupts)
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
