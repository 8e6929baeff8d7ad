"""Checkpoint and resume of a replica-exchange run, and the loop that makes them possible.

The references are independent of the code under test: ``pm.sample`` itself (the loop
must give exactly its draws, stats, groups and attrs) and the uninterrupted run (an
interrupted run continued from its checkpoint must equal it bit for bit, whether it was
stopped by a KeyboardInterrupt, by SIGINT or by killing the process).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pymc as pm
import pytest
import xarray as xr
from pymc.backends import init_traces

from measurement_models import linear
from samplers import (
    CheckpointMismatch,
    ReplicaExchange,
    SamplingInterrupted,
    checkpoint_progress,
    sample_replica_exchange,
)
from samplers.replica_exchange.chains import _draws_so_far
from samplers.replica_exchange.checkpoint import read_checkpoint
from samplers.replica_exchange.run_record import iterate_chain
from samplers.replica_exchange.stats import tidy_replica_stats

ROOT = Path(__file__).resolve().parents[2]
QUIET = {"progressbar": False, "compute_convergence_checks": False}
#: 2 chains × (60 + 90) iterations of a 5-level ladder on the straight line.
RUN = dict(draws=90, tune=60, chains=2, random_seed=4, n_replicas=5, **QUIET)
TOTAL = 150


@pytest.fixture(scope="module")
def line(line_data):
    data, _ = line_data
    return linear.build_model(data, n_terms=2, sigma=0.3)


@pytest.fixture(scope="module")
def uninterrupted(line):
    """The reference: each update kind run once without a checkpoint."""
    return {
        update: sample_replica_exchange(model=line, cores=1, update=update, **RUN)
        for update in ("componentwise", "adaptive", "mala")
    }


def assert_same_result(first: xr.DataTree, second: xr.DataTree, groups=None) -> None:
    """Every group (or those named), variable, coordinate and attr equal, but the creation
    and run times."""
    if groups is None:
        assert set(first.children) == set(second.children)
        groups = first.children
    for group in groups:
        a, b = first[group].to_dataset(), second[group].to_dataset()
        xr.testing.assert_identical(a.drop_attrs(), b.drop_attrs())
        ignore = ("created_at", "sampling_time")
        assert {k: v for k, v in a.attrs.items() if k not in ignore} == {
            k: v for k, v in b.attrs.items() if k not in ignore
        }, group


def interrupt_at(chain: int, iteration: int):
    """A callback that raises KeyboardInterrupt after ``chain``'s ``iteration``."""

    def callback(trace, draw):
        if draw.chain == chain and draw.draw_idx == iteration:
            raise KeyboardInterrupt

    return callback


@pytest.mark.parametrize("cores", [1, 2])
def test_the_loop_gives_what_pm_sample_gives(line, cores):
    """sample_replica_exchange against pm.sample(step=ReplicaExchange(...)) with the same
    step settings and seed: the same posterior, warm-up, stats, observed data,
    coordinates and attrs (the loop drives the step as pm.sample does); the free_energy
    group is what sample_replica_exchange adds."""
    options = dict(draws=40, tune=30, chains=3, cores=cores, random_seed=8)
    options.update(QUIET, discard_tuned_samples=False)
    with line:
        expected = pm.sample(step=ReplicaExchange(n_replicas=5, update="block"), **options)
    result = sample_replica_exchange(model=line, n_replicas=5, update="block", **options)
    for group in ("sample_stats", "warmup_sample_stats"):
        expected[group] = xr.DataTree(tidy_replica_stats(expected[group].to_dataset()))
    assert set(expected.children) == {
        "posterior",
        "warmup_posterior",
        "sample_stats",
        "warmup_sample_stats",
        "observed_data",
    }
    assert set(result.children) == {*expected.children, "free_energy"}
    assert_same_result(expected, result, groups=expected.children)
    assert result["posterior"].attrs["tuning_steps"] == 30


@pytest.mark.parametrize(
    ("cores", "update", "stop"),
    [
        (1, "componentwise", (1, 37)),
        (1, "adaptive", (0, 75)),
        (2, "componentwise", (1, 20)),
        (1, "mala", (0, 45)),
        (2, "mala", (1, 70)),
    ],
)
def test_interrupted_run_continues_bit_for_bit(line, uninterrupted, tmp_path, cores, update, stop):
    """A KeyboardInterrupt after some iteration: the checkpoint is written, the message
    says how to continue, and the same call continues to exactly the uninterrupted
    result (tuning state, ladder, generator, running swap rates and draws all restored).
    A finished checkpoint then returns the result without sampling."""
    path = tmp_path / "run.nc"
    options = dict(model=line, cores=cores, update=update, checkpoint=path, **RUN)
    with pytest.raises(SamplingInterrupted) as interrupted:
        sample_replica_exchange(checkpoint_every=25, callback=interrupt_at(*stop), **options)
    assert str(path) in str(interrupted.value) and "same call again" in str(interrupted.value)
    assert interrupted.value.checkpoint == path
    progress = checkpoint_progress(path)
    chain, iteration = stop
    assert 0 < progress[chain] < TOTAL
    if cores == 1:  # the chain stops right after the interrupted iteration
        assert progress == (
            {0: TOTAL, 1: iteration + 1} if chain == 1 else {0: iteration + 1, 1: 0}
        )
    result = sample_replica_exchange(checkpoint_every=25, **options)
    assert_same_result(uninterrupted[update], result)
    assert checkpoint_progress(path) == {0: TOTAL, 1: TOTAL}
    # finished: the saved run is returned as it is, no step is taken
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(ReplicaExchange, "step", lambda *args: pytest.fail("sampled again"))
        again = sample_replica_exchange(**options)
    assert_same_result(uninterrupted[update], again)


@pytest.fixture
def ctrl_c_raises():
    """SIGINT handled as in an interactive Python (KeyboardInterrupt), whatever the test
    runner does with it (a runner started in the background ignores SIGINT)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.usefixtures("ctrl_c_raises")
@pytest.mark.parametrize("cores", [1, 2])
def test_ctrl_c_stops_after_the_current_iteration(line, uninterrupted, tmp_path, cores):
    """SIGINT (Ctrl-C) in the middle of chain 0: sampling stops after the current
    iteration (with one core; chain processes stop after theirs), the checkpoint is
    written and holds the draws so far; the same call continues bit for bit."""
    path = tmp_path / "run.nc"

    def press_ctrl_c(trace, draw):
        if draw.chain == 0 and draw.draw_idx == 70:
            signal.raise_signal(signal.SIGINT)

    options = dict(model=line, cores=cores, checkpoint=path, **RUN)
    with pytest.raises(SamplingInterrupted, match="Run the same call again"):
        sample_replica_exchange(callback=press_ctrl_c, **options)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    description, chains, _ = read_checkpoint(path)
    assert description["sampler"]["random_seed"] == 4
    saved = chains[0]
    assert 70 < saved.iterations < TOTAL
    if cores == 1:
        assert saved.iterations == 71 and 1 not in chains
    # the saved draws are the uninterrupted run's (60 tuning iterations, then the draws)
    reference = uninterrupted["componentwise"]
    np.testing.assert_array_equal(
        saved.draws["a"][60:], reference["posterior"]["a"].values[0, : saved.iterations - 60]
    )
    assert_same_result(reference, sample_replica_exchange(**options))


SCRIPT = """
import sys, time
from measurement_models import linear
from samplers import sample_replica_exchange

data, _ = linear.example_data(0)
model = linear.build_model(data, n_terms=2, sigma=0.3)


def hold(trace, draw):
    # past the checkpoint at iteration 100 of chain 1: wait here to be killed
    if draw.chain == 1 and draw.draw_idx == 110:
        while True:
            time.sleep(1)


sample_replica_exchange(
    model=model, cores={cores}, checkpoint=sys.argv[1], checkpoint_every=50, callback=hold,
    draws=90, tune=60, chains=2, random_seed=4, n_replicas=5, progressbar=False,
    compute_convergence_checks=False,
)
"""


@pytest.mark.parametrize("cores", [1, 2])
def test_killed_process_continues_bit_for_bit(line, uninterrupted, tmp_path, cores):
    """A real sampling process is killed with SIGKILL once its checkpoint shows chain 1
    under way (polled, no timing assumption); the same call in this process continues
    from the file and returns exactly the uninterrupted result."""
    path = tmp_path / "run.nc"
    script = tmp_path / "sample.py"
    script.write_text(textwrap.dedent(SCRIPT.format(cores=cores)))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, str(script), str(path)], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        while not (path.exists() and checkpoint_progress(path).get(1, 0) >= 100):
            if process.poll() is not None:
                pytest.fail(f"the sampling process ended early:\n{process.stderr.read()}")
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stderr.close()
    assert process.returncode == -signal.SIGKILL
    assert 100 <= checkpoint_progress(path)[1] < TOTAL
    result = sample_replica_exchange(
        model=line, cores=cores, checkpoint=path, checkpoint_every=50, **RUN
    )
    assert_same_result(uninterrupted["componentwise"], result)


def test_checkpoint_of_another_run_is_refused(line, line_data, tmp_path):
    path = tmp_path / "run.nc"
    options = dict(model=line, cores=1, checkpoint=path, **RUN)
    with pytest.raises(SamplingInterrupted):
        sample_replica_exchange(callback=interrupt_at(0, 10), **options)
    data, _ = line_data
    others = {
        "draws: 90 in the checkpoint, 91 now": {"draws": 91},
        "random_seed: 4 in the checkpoint, 5 now": {"random_seed": 5},
        "update: 'componentwise' in the checkpoint, 'block' now": {"update": "block"},
        "starting ladder": {"n_replicas": 6},
        "the model's data": {"model": linear.build_model(data * 1.01, n_terms=2, sigma=0.3)},
        "log-density": {"model": linear.build_model(data, n_terms=2, sigma=0.31)},
    }
    for message, change in others.items():
        with pytest.raises(CheckpointMismatch, match=message):
            sample_replica_exchange(**{**options, **change})
    assert checkpoint_progress(path) == {0: 11, 1: 0}  # left as it was


def test_unseeded_run_keeps_its_seed_in_the_checkpoint(line, tmp_path):
    """random_seed=None: the seed drawn at the first start is stored, and the same call
    continues with it (the result equals a run seeded with the stored value)."""
    path = tmp_path / "run.nc"
    options = dict(RUN, random_seed=None)
    with pytest.raises(SamplingInterrupted):
        sample_replica_exchange(
            model=line, cores=1, checkpoint=path, callback=interrupt_at(0, 30), **options
        )
    seed = read_checkpoint(path)[0]["sampler"]["random_seed"]
    result = sample_replica_exchange(model=line, cores=1, checkpoint=path, **options)
    expected = sample_replica_exchange(model=line, cores=1, **dict(RUN, random_seed=seed))
    assert_same_result(expected, result)


def test_interrupt_without_a_checkpoint_says_the_run_cannot_continue(line):
    """Interrupted while tuning, with no checkpoint: nothing to continue, no draws."""
    with pytest.raises(SamplingInterrupted, match="no checkpoint was kept") as interrupted:
        sample_replica_exchange(model=line, cores=1, callback=interrupt_at(0, 3), **RUN)
    assert interrupted.value.checkpoint is None
    assert interrupted.value.partial is None


@pytest.mark.parametrize("cores", [1, 2])
def test_interrupted_run_hands_back_its_draws_so_far(line, uninterrupted, tmp_path, cores):
    """Ctrl-C after chain 1's iteration 120 (60 tuning + 61 draws): the exception's
    ``partial`` holds the uninterrupted run's first draws (chains cut to a common length
    as pm.sample cuts them) and a free energy within a few MCSE of the whole run's. With
    one core, chain 1 stops right there; chain processes may run on a little (the
    request reaches them after the draws already sent)."""
    reference = uninterrupted["componentwise"]
    options = dict(model=line, cores=cores, callback=interrupt_at(1, 120), **RUN)
    with pytest.raises(SamplingInterrupted) as interrupted:
        sample_replica_exchange(checkpoint=tmp_path / "run.nc", **options)
    partial = interrupted.value.partial
    assert partial.attrs["interrupted"] == 1
    n = partial["posterior"].sizes["draw"]
    chains = list(partial["posterior"]["chain"].values)
    if cores == 1:
        assert (chains, n) == ([0, 1], 61)
    assert set(chains) <= {0, 1} and 0 < n <= 90
    expected = reference.sel(chain=chains).isel(draw=slice(0, n))
    for name in ("a", "b"):
        np.testing.assert_array_equal(
            partial["posterior"][name].values, expected["posterior"][name].values
        )
    np.testing.assert_array_equal(
        partial["sample_stats"]["replica_log_likelihood"].values,
        expected["sample_stats"]["replica_log_likelihood"].values,
    )
    part, whole = partial["free_energy"].to_dataset(), reference["free_energy"].to_dataset()
    combined = np.hypot(part["mcse"], whole["mcse"]).values
    assert np.all(np.abs((part["free_energy"] - whole["free_energy"]).values) < 5 * combined)
    assert np.all(part["mcse"].values > whole["mcse"].values * 0.9)  # fewer draws, wider


def test_bad_checkpoint_arguments(line, tmp_path):
    options = dict(model=line, cores=1, **RUN)
    for bad in (0, -5, 2.5):
        with pytest.raises(ValueError, match="checkpoint_every must be a positive integer"):
            sample_replica_exchange(checkpoint=tmp_path / "a.nc", checkpoint_every=bad, **options)
    with pytest.raises(TypeError, match="random_seed that can be written down"):
        sample_replica_exchange(
            checkpoint=tmp_path / "b.nc", **{**options, "random_seed": np.random.default_rng(1)}
        )
    not_a_checkpoint = tmp_path / "c.nc"
    xr.Dataset({"x": ("i", [1.0])}).to_netcdf(not_a_checkpoint)
    with pytest.raises(ValueError, match="is not a replica-exchange checkpoint"):
        sample_replica_exchange(checkpoint=not_a_checkpoint, **options)
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        checkpoint_progress(tmp_path / "missing.nc")


def test_draws_so_far_keep_their_chain_numbers(line):
    """When the longest chains are not the first ones (chain processes run at their own
    pace), the partial result keeps PyMC's choice of chains (most draws in all) but
    labels them with their own numbers, not 0, 1, ... as PyMC would."""
    tune, lengths = 5, (8, 25, 30)  # post-tuning draws 3, 20, 25: keep chains 1 and 2
    with line:
        step = ReplicaExchange(n_replicas=3)
    start = line.initial_point()
    _, traces = init_traces(
        backend=None, chains=3, expected_length=30, step=step, initial_point=start,
        model=line, tune=tune,
    )  # fmt: skip
    recorded = {}
    for chain, (trace, length) in enumerate(zip(traces, lengths, strict=True)):
        iterations = iterate_chain(step, np.random.default_rng(chain), start, tune, 25, None)
        for i, point, stats in iterations:
            if i == length:
                break
            trace.record(point, stats, in_warmup=i < tune)
        recorded[chain] = trace.get_values("a")[tune:]
    partial = _draws_so_far(SimpleNamespace(traces=traces, sampling_time=1.0), tune, line, {})
    posterior = partial["posterior"]
    assert list(posterior["chain"].values) == [1, 2] and posterior.sizes["draw"] == 20
    for chain in (1, 2):
        np.testing.assert_array_equal(posterior["a"].sel(chain=chain).values, recorded[chain][:20])
    assert list(partial["sample_stats"]["chain"].values) == [1, 2]
