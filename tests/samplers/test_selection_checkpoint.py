"""A model selection (and ``bayesmeas run``) interrupted and continued candidate by candidate.

The reference is the same selection run without interruption: the continued one must
give the same table and the same run of every candidate, bit for bit (only the creation
times and wall-clock times differ).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import xarray as xr

from measurement_models import linear
from samplers import (
    CheckpointMismatch,
    ReplicaExchange,
    ReplicaExchangeSettings,
    SamplingInterrupted,
    checkpoint_progress,
    select_model,
)
from samplers.app import cli

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = ReplicaExchangeSettings(draws=60, tune=40, chains=2, n_replicas=4, cores=1)
ITERATIONS = SETTINGS.chains * (SETTINGS.draws + SETTINGS.tune)  # per candidate
TIMES = ("created", "created_at", "wall_time_s", "sampling_time")


def candidates(data):
    return {
        "y=ax": lambda: linear.build_model(data, n_terms=1),
        "y=ax+b": lambda: linear.build_model(data, n_terms=2),
    }


def assert_same_tree(first: xr.DataTree, second: xr.DataTree) -> None:
    """Every node identical (data, coordinates, attrs as xarray compares them: a reused
    run read from its file has NumPy scalars where a fresh one has Python numbers), but
    the times."""
    assert [node.path for node in first.subtree] == [node.path for node in second.subtree]
    for node in first.subtree:
        a, b = node.to_dataset(inherit=False), second[node.path].to_dataset(inherit=False)
        a.attrs = {k: v for k, v in a.attrs.items() if k not in TIMES}
        b.attrs = {k: v for k, v in b.attrs.items() if k not in TIMES}
        xr.testing.assert_identical(a, b)


@pytest.fixture(scope="module")
def uninterrupted(line_data):
    data, _ = line_data
    return select_model(candidates(data), settings=SETTINGS, random_seed=3, progressbar=False)


def ctrl_c_at_step(monkeypatch, iteration: int) -> list[int]:
    """Make ReplicaExchange press Ctrl-C (SIGINT) after its ``iteration``-th step of the
    session; returns the running count of steps."""
    original, count = ReplicaExchange.step, [0]

    def step(self, point):
        result = original(self, point)
        count[0] += 1
        if count[0] == iteration:
            signal.raise_signal(signal.SIGINT)
        return result

    monkeypatch.setattr(ReplicaExchange, "step", step)
    return count


@pytest.fixture
def ctrl_c_raises():
    """SIGINT handled as in an interactive Python (KeyboardInterrupt), whatever the test
    runner does with it (a runner started in the background ignores SIGINT)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def interactive_sigint() -> None:
    """In the child process before it runs: SIGINT as a terminal delivers it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.usefixtures("ctrl_c_raises")
def test_interrupted_selection_continues_to_the_uninterrupted_result(
    line_data, uninterrupted, tmp_path, monkeypatch
):
    """Ctrl-C in the middle of the second candidate: the first candidate's run and the
    second's checkpoint are kept; the same call reuses the first as it is (no step taken
    for it), continues the second and returns the uninterrupted result."""
    data, _ = line_data
    folder = tmp_path / "selection"
    options = dict(settings=SETTINGS, random_seed=3, progressbar=False, checkpoint=folder)
    steps = ctrl_c_at_step(monkeypatch, ITERATIONS + 70)
    with pytest.raises(SamplingInterrupted, match="Run the same call again") as interrupted:
        select_model(candidates(data), checkpoint_every=25, **options)
    assert "candidate y=ax+b" in str(interrupted.value) and "(y=ax)" in str(interrupted.value)
    assert interrupted.value.checkpoint == folder
    kept = sorted(path.name for path in folder.iterdir())
    assert kept == ["candidate-y=ax+b.checkpoint.nc", "candidate-y=ax.nc", "selection.json"]
    assert checkpoint_progress(folder / "candidate-y=ax+b.checkpoint.nc") == {0: 70, 1: 0}

    steps[0] = -(10**9)  # no more Ctrl-C; count the steps of the continued run
    result = select_model(candidates(data), **options)
    assert steps[0] + 10**9 == ITERATIONS - 70
    assert_same_tree(uninterrupted, result)
    assert sorted(path.name for path in folder.iterdir()) == [
        "candidate-y=ax+b.nc",
        "candidate-y=ax.nc",
        "selection.json",
    ]
    # finished: everything is reused, nothing sampled
    steps[0] = -(10**9)
    assert_same_tree(uninterrupted, select_model(candidates(data), **options))
    assert steps[0] == -(10**9)


def test_selection_checkpoint_of_another_selection_is_refused(line_data, tmp_path):
    data, _ = line_data
    folder = tmp_path / "selection"
    first = {"y=ax": candidates(data)["y=ax"], "y=ax (again)": candidates(data)["y=ax"]}
    select_model(first, settings=SETTINGS, random_seed=3, progressbar=False, checkpoint=folder)
    for change in ({"random_seed": 4}, {"draws": 61}):
        with pytest.raises(CheckpointMismatch, match="belongs to another selection"):
            options = {"random_seed": 3, **change}
            select_model(first, settings=SETTINGS, progressbar=False, checkpoint=folder, **options)
    other_data = {
        "y=ax": lambda: linear.build_model(data * 1.01, n_terms=1),
        "y=ax (again)": candidates(data)["y=ax"],
    }
    with pytest.raises(CheckpointMismatch, match="other variables or data"):
        select_model(
            other_data, settings=SETTINGS, random_seed=3, progressbar=False, checkpoint=folder
        )
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="is not a folder"):
        select_model(first, settings=SETTINGS, progressbar=False, checkpoint=tmp_path / "file")


JOB = ["run", "linear-regression", "--quick", "--draws", "300", "--chains", "2"]
JOB += ["--replicas", "4", "--cores", "1", "--seed", "4", "--no-progress"]


def test_interrupted_cli_job_continues(tmp_path):
    """``bayesmeas run linear-regression`` in a real process, Ctrl-C (SIGINT) while the
    second candidate samples: exit status 130, the first candidate and the second's
    checkpoint kept, a message saying how to continue; the same command then finishes
    with the result of an uninterrupted run and removes the checkpoint."""
    output, reference = tmp_path / "interrupted", tmp_path / "reference"
    job = [*JOB, "--checkpoint-every", "200", "--output", str(output)]
    sampled = output / "checkpoint" / "candidate-2.checkpoint.nc"
    process = subprocess.Popen(
        [sys.executable, "-m", "samplers.app.cli", *job],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        preexec_fn=interactive_sigint,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        while not (sampled.exists() and checkpoint_progress(sampled)[0] >= 200):
            if process.poll() is not None:
                pytest.fail(f"the job ended before it was interrupted:\n{process.stderr.read()}")
            time.sleep(0.05)
        process.send_signal(signal.SIGSTOP)  # hold it still while the file is read
        assert checkpoint_progress(sampled)[1] == 0  # the first chain of K = 2 is under way
        process.send_signal(signal.SIGINT)
        process.send_signal(signal.SIGCONT)
        _, err = process.communicate()
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == cli.INTERRUPTED, err
    assert "run the same command again to continue" in err and str(output) in err
    assert (output / "checkpoint" / "candidate-1.nc").exists()
    assert 200 <= checkpoint_progress(sampled)[0] < 800
    assert not (output / "result.nc").exists()

    assert cli.main(job) == 0
    assert not (output / "checkpoint").exists()
    assert cli.main([*JOB, "--output", str(reference)]) == 0
    with (
        xr.open_datatree(output / "result.nc", engine="netcdf4") as continued,
        xr.open_datatree(reference / "result.nc", engine="netcdf4") as expected,
    ):
        assert_same_tree(expected.load(), continued.load())
