"""What a replica-exchange run keeps while it samples, whichever process runs the chains.

- :func:`iterate_chain`: one chain's iterations as ``pymc.sampling.mcmc._iter_sample``
  runs them (``setup_chain``, ``reset_tuning``, ``stop_tuning`` at iteration ``tune``,
  one ``step`` per iteration), from the start or from a checkpoint;
- :class:`RunRecord`: the traces, every chain's last saved state and the checkpoint file
  (when to write it, and the message that says how to continue);
- Ctrl-C as a request (:class:`InterruptRequests`, :func:`call_back`) and
  :class:`SamplingInterrupted`.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from pymc.backends.ndarray import NDArray
from pymc.sampling.parallel import Draw

from .checkpoint import ChainCheckpoint, write_checkpoint
from .step import ReplicaExchange

__all__ = [
    "CHECKPOINT_SECONDS",
    "InterruptRequests",
    "RunRecord",
    "SamplingInterrupted",
    "call_back",
    "iterate_chain",
    "last_stats",
    "restore",
]

#: Without ``checkpoint_every``, a checkpoint is written once this many seconds have
#: passed since the last write (and at the end of every chain).
CHECKPOINT_SECONDS = 60.0


class SamplingInterrupted(KeyboardInterrupt):
    """Sampling stopped by Ctrl-C (SIGINT) or by a ``KeyboardInterrupt`` in a callback.

    Attributes
    ----------
    checkpoint : pathlib.Path or None
        The checkpoint that holds the run so far (None when the run kept none).
    partial : xarray.DataTree or None
        The draws so far, as the finished run would hold them (``posterior``,
        ``sample_stats``, ...; from :func:`~samplers.sample_replica_exchange` also a
        ``free_energy`` group), with ``attrs["interrupted"] = 1``; chains cut to a common
        length as ``pm.sample`` does after a ``KeyboardInterrupt``. None when no chain got
        past tuning (or for an interrupted model selection, whose finished candidates are
        in its checkpoint folder).
    """

    def __init__(self, message: str, checkpoint: Path | None = None) -> None:
        super().__init__(message)
        self.checkpoint = checkpoint
        self.partial = None


class InterruptRequests:
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

    def __enter__(self) -> InterruptRequests:
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


def iterate_chain(
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


def restore(trace: NDArray, saved: ChainCheckpoint) -> None:
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


def last_stats(saved: ChainCheckpoint) -> list[dict]:
    """The stats of a saved chain's last iteration, as the step returned them."""
    return [{name: values[saved.iterations - 1] for name, values in saved.stats.items()}]


class RunRecord:
    """The parent's record of one run: the traces, every chain's last saved state, the
    checkpoint file.

    ``save`` keeps a chain's state after ``iterations`` recorded draws (with views of its
    draws); ``write`` writes every saved chain to the checkpoint, atomically. Without a
    checkpoint both do nothing.
    """

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
                "replica exchange interrupted; no checkpoint was kept, so the run cannot be "
                "continued (pass checkpoint=<file> for that); the draws so far, if any chain "
                "got past tuning, are in this exception's .partial"
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


def call_back(callback, trace, draw: Draw, interrupts: InterruptRequests) -> None:
    """``callback(trace=..., draw=...)`` as ``pm.sample`` calls it; a KeyboardInterrupt it
    raises is a Ctrl-C request (the run stops after this iteration)."""
    if callback is None:
        return
    try:
        callback(trace=trace, draw=draw)
    except KeyboardInterrupt:
        interrupts.requested = True
