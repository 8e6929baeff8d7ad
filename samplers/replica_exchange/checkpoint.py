r"""Checkpoints of a replica-exchange run: one netCDF file that a rerun continues from.

A checkpoint holds, for every chain that has started, the draws and sampler stats
recorded so far and the step's whole state after the last of them
(:class:`~samplers.replica_exchange.step.ReplicaExchangeState`: the kernel's
:class:`~samplers.replica_exchange.kernel.LadderState` with its random generator, the
tuning flag and the running swap rates), and a description of the run (sampler settings,
seed, model) that a rerun must match before it continues. Layout::

    /                     attrs: format, description and progress (JSON), sampling_time
    /chain_<c>/draws      every recorded variable along ``iteration``
    /chain_<c>/stats      the sampler stats along ``iteration``
    /chain_<c>/point      the chain's current point (value variables)
    /chain_<c>/state      the step's state: arrays; scalars and generators as attrs

A run is identified by its settings (draws, tune, chains, seed), its step (starting
ladder, update, sweeps, ladder adaptation, initial scale, swap rule, vectorised
evaluation) and its model: the names, shapes and dtypes of the value variables, the
recorded variables, a SHA-256 digest of the observed and ``pm.Data`` values, a digest of
the chains' initial points, and the log-prior and log-likelihood at those points.

The file is written whole to a temporary file beside it and moved into place
(``os.replace``), so a process killed or interrupted while writing leaves the previous
checkpoint intact.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pymc as pm
import xarray as xr
from pymc.blocking import DictToArrayBijection
from pymc.util import RandomGeneratorState
from pytensor.compile.sharedvalue import SharedVariable
from pytensor.graph.basic import Constant

from .kernel import AdaptationState, LadderState
from .step import ReplicaExchange, ReplicaExchangeState

__all__ = [
    "ChainCheckpoint",
    "CheckpointMismatch",
    "checkpoint_progress",
    "describe_run",
    "model_identity",
    "read_checkpoint",
    "refuse_other_run",
    "write_checkpoint",
]

FORMAT = "bayesmeas replica-exchange checkpoint, version 1"
ITERATION_DIM = "iteration"
#: Relative tolerance on the log-densities at the initial points (round-off of another
#: BLAS or CPU must not make the same model look like another one).
LOG_DENSITY_RTOL = 1e-9


class CheckpointMismatch(ValueError):
    """The checkpoint file belongs to another run (settings, seed or model)."""


@dataclass(frozen=True)
class ChainCheckpoint:
    """One chain's saved progress.

    Attributes
    ----------
    iterations : int
        Iterations recorded (tuning included) and covered by ``step_state``.
    draws, stats : dict of str to ndarray
        The trace's variables and sampler stats, each of leading length ``iterations``.
    point : dict of str to ndarray
        The chain's current point (value variables, in the model's order).
    step_state : ReplicaExchangeState
        The step's state after iteration ``iterations``.
    """

    iterations: int
    draws: dict[str, np.ndarray]
    stats: dict[str, np.ndarray]
    point: dict[str, np.ndarray]
    step_state: ReplicaExchangeState


# -- what identifies a run ----------------------------------------------------------------


def _digest(arrays: Sequence[tuple[str, np.ndarray]]) -> str:
    digest = hashlib.sha256()
    for name, value in arrays:
        array = np.ascontiguousarray(value)
        digest.update(f"{name}|{array.dtype.str}|{array.shape}|".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _data_values(model: pm.Model) -> list[tuple[str, np.ndarray]]:
    """The observed values and the ``pm.Data`` containers of ``model``, by name."""

    def value(variable):
        if isinstance(variable, SharedVariable):
            return variable.get_value()
        if isinstance(variable, Constant):
            return variable.data
        return variable.eval()

    observed = [(rv.name, value(model.rvs_to_values[rv])) for rv in model.observed_RVs]
    data = [(variable.name, value(variable)) for variable in model.data_vars]
    return sorted(observed) + sorted(data, key=lambda item: item[0])


def model_identity(model: pm.Model) -> dict:
    """What identifies a model without compiling anything: the names, dtypes and ranks of
    its value variables, its observed variables and a SHA-256 digest of its data (observed
    values and ``pm.Data`` containers)."""
    return {
        "value_variables": [[v.name, str(v.dtype), int(v.ndim)] for v in model.value_vars],
        "observed_variables": sorted(rv.name for rv in model.observed_RVs),
        "data_sha256": _digest(_data_values(model)),
    }


def _seed_json(seed) -> int | list[int]:
    if isinstance(seed, int | np.integer):
        return int(seed)
    if isinstance(seed, Sequence | np.ndarray) and all(
        isinstance(s, int | np.integer) for s in seed
    ):
        return [int(s) for s in seed]
    raise TypeError(
        "a checkpointed run needs a random_seed that can be written down (an integer, a "
        f"sequence of integers or None), got {type(seed).__name__}"
    )


def describe_run(
    step: ReplicaExchange,
    model: pm.Model,
    *,
    draws: int,
    tune: int,
    chains: int,
    random_seed,
    initial_points: Sequence[dict[str, np.ndarray]],
    recorded: Sequence[str],
) -> dict:
    """What a rerun must match to continue a checkpoint (JSON-serialisable).

    Parameters
    ----------
    step : ReplicaExchange
    model : pymc.Model
    draws, tune, chains : int
    random_seed : int or sequence of int
        The seed the chains' generators and initial points come from.
    initial_points : sequence of dict
        The chains' initial points.
    recorded : sequence of str
        The names of the recorded (traced) variables.
    """
    kernel = step.kernel
    names = [variable.name for variable in step.vars]
    starts = np.stack(
        [DictToArrayBijection.map({n: p[n] for n in names}).data for p in initial_points]
    )
    log_prior, log_lik = step.density(starts)
    swap_rule = kernel.swap_rule
    return {
        "sampler": {
            "draws": int(draws),
            "tune": int(tune),
            "chains": int(chains),
            "random_seed": _seed_json(random_seed),
        },
        "step": {
            "betas": [float(b) for b in kernel.initial_betas],
            "update": kernel.update,
            "n_sweeps": kernel.n_sweeps,
            "adapt_ladder": bool(kernel.adapt_ladder),
            "initial_scale": kernel.initial_scale,
            "swap_rule": f"{swap_rule.__module__}.{swap_rule.__qualname__}",
            "vectorized": bool(step.density.vectorized),
            "reference": "prior" if step.reference is None else step.reference.kind,
        },
        "model": {
            "value_variables": {
                n: [
                    list(np.shape(initial_points[0][n])),
                    str(np.asarray(initial_points[0][n]).dtype),
                ]
                for n in names
            },
            "recorded_variables": list(recorded),
            "data_sha256": _digest(_data_values(model)),
            "initial_points_sha256": _digest(
                [(f"{c}:{n}", p[n]) for c, p in enumerate(initial_points) for n in names]
            ),
            "log_density_at_initial_points": np.column_stack([log_prior, log_lik]).tolist(),
        },
    }


WHAT = {
    ("sampler", "draws"): "draws",
    ("sampler", "tune"): "tune",
    ("sampler", "chains"): "chains",
    ("sampler", "random_seed"): "random_seed",
    ("step", "betas"): "starting ladder (betas / n_replicas)",
    ("step", "update"): "update",
    ("step", "n_sweeps"): "n_sweeps",
    ("step", "adapt_ladder"): "adapt_ladder",
    ("step", "initial_scale"): "initial_scale",
    ("step", "swap_rule"): "swap rule",
    ("step", "vectorized"): "vectorised evaluation",
    ("step", "reference"): "reference (where the tempered path starts)",
    ("model", "value_variables"): "the model's free variables",
    ("model", "recorded_variables"): "the model's recorded variables",
    ("model", "data_sha256"): "the model's data (observed values, pm.Data)",
    ("model", "initial_points_sha256"): "the initial points (initvals, seed)",
    ("model", "log_density_at_initial_points"): "the model's log-density at the initial points",
}


def refuse_other_run(path: str | os.PathLike, saved: dict, current: dict) -> None:
    """Raise :class:`CheckpointMismatch` naming what differs between two descriptions."""
    differences = []
    for (section, key), label in WHAT.items():
        old, new = saved.get(section, {}).get(key), current[section][key]
        if key == "log_density_at_initial_points":
            same = old is not None and np.allclose(
                np.asarray(old, dtype=float), np.asarray(new, dtype=float), rtol=LOG_DENSITY_RTOL
            )
        else:
            same = old == new
        if same:
            continue
        if section == "model" or key in ("betas", "swap_rule"):
            differences.append(f"  {label}: differ")
        else:
            differences.append(f"  {label}: {old!r} in the checkpoint, {new!r} now")
    if differences:
        raise CheckpointMismatch(
            f"the checkpoint {str(path)!r} was written by another run, so it is not "
            "continued:\n" + "\n".join(differences) + "\nRun with the checkpoint's settings, "
            "or give another checkpoint path (or delete this file) to start again."
        )


# -- the step's state as a Dataset ----------------------------------------------------------


def _json(value) -> str:
    """JSON of a generator's state (NumPy arrays, as some bit generators hold, as lists)."""
    return json.dumps(value, default=lambda item: np.asarray(item).tolist())


def _array_variable(name: str, value: np.ndarray, leading: str | None = None) -> xr.Variable:
    value = np.asarray(value)
    dims = [f"{name}_dim_{k}" for k in range(value.ndim)]
    if leading is not None:
        dims[0] = leading
    return xr.Variable(dims, value)


def _state_dataset(step_state: ReplicaExchangeState) -> xr.Dataset:
    rng = step_state.rng
    attrs = {
        "var_names": json.dumps(list(step_state.var_names)),
        "rng": _json(
            {"bit_generator": rng.bit_generator_state, "seed_sequence": rng.seed_seq_state}
        ),
        "tune": int(step_state.tune),
        "swap_count": int(step_state.swap_count),
        "has_ladder": int(step_state.state is not None),
    }
    arrays = {"swap_sum": _array_variable("swap_sum", step_state.swap_sum)}
    ladder = step_state.state
    if ladder is not None:
        fields = {
            **ladder._asdict(),
            **{f"adaptation_{k}": v for k, v in ladder.adaptation._asdict().items()},
        }
        del fields["adaptation"]
        attrs["ladder_rng_state"] = _json(fields.pop("rng_state"))
        for name, value in fields.items():
            if isinstance(value, np.ndarray):
                arrays[name] = _array_variable(name, value)
            else:
                attrs[name] = int(value)
    return xr.Dataset(arrays, attrs=attrs)


def _state_from_dataset(dataset: xr.Dataset) -> ReplicaExchangeState:
    attrs = dataset.attrs
    rng = json.loads(attrs["rng"])
    seed_sequence = {**rng["seed_sequence"], "spawn_key": tuple(rng["seed_sequence"]["spawn_key"])}
    swap_sum = dataset["swap_sum"].values
    ladder = None
    if int(attrs["has_ladder"]):

        def field(name):
            return dataset[name].values if name in dataset else int(attrs[name])

        adaptation = AdaptationState(*(field(f"adaptation_{n}") for n in AdaptationState._fields))
        values = {
            name: field(name)
            for name in LadderState._fields
            if name not in ("adaptation", "rng_state")
        }
        ladder = LadderState(
            **values, adaptation=adaptation, rng_state=json.loads(attrs["ladder_rng_state"])
        )
    return ReplicaExchangeState(
        var_names=json.loads(attrs["var_names"]),
        rng=RandomGeneratorState(
            bit_generator_state=rng["bit_generator"], seed_seq_state=seed_sequence
        ),
        tune=bool(int(attrs["tune"])),
        state=ladder,
        swap_sum=float(swap_sum) if swap_sum.ndim == 0 else swap_sum,
        swap_count=int(attrs["swap_count"]),
    )


# -- the file -------------------------------------------------------------------------------


def _arrays_dataset(arrays: Mapping[str, np.ndarray], leading: str | None) -> xr.Dataset:
    dataset = xr.Dataset({n: _array_variable(n, v, leading) for n, v in arrays.items()})
    dataset.attrs["names"] = json.dumps(list(arrays))
    return dataset


def _arrays_from_dataset(dataset: xr.Dataset) -> dict[str, np.ndarray]:
    return {name: dataset[name].values for name in json.loads(dataset.attrs["names"])}


def write_checkpoint(
    path: str | os.PathLike,
    description: dict,
    chains: Mapping[int, ChainCheckpoint],
    sampling_time: float,
) -> None:
    """Write (or replace) the checkpoint file atomically.

    Parameters
    ----------
    path : path-like
    description : dict
        :func:`describe_run` of the run.
    chains : mapping of chain index to ChainCheckpoint
        The chains that have started.
    sampling_time : float
        Seconds spent sampling so far (over every session of the run).
    """
    path = Path(path)
    total = description["sampler"]["draws"] + description["sampler"]["tune"]
    progress = {
        str(c): chains[c].iterations if c in chains else 0
        for c in range(description["sampler"]["chains"])
    }
    groups = {
        "/": xr.Dataset(
            attrs={
                "format": FORMAT,
                "description": json.dumps(description),
                "progress": json.dumps(progress),
                "iterations_per_chain": total,
                "complete": int(all(n == total for n in progress.values())),
                "sampling_time": float(sampling_time),
            }
        )
    }
    for chain, saved in sorted(chains.items()):
        groups[f"/chain_{chain}"] = xr.Dataset(attrs={"iterations": saved.iterations})
        groups[f"/chain_{chain}/draws"] = _arrays_dataset(saved.draws, ITERATION_DIM)
        groups[f"/chain_{chain}/stats"] = _arrays_dataset(saved.stats, ITERATION_DIM)
        groups[f"/chain_{chain}/point"] = _arrays_dataset(saved.point, None)
        groups[f"/chain_{chain}/state"] = _state_dataset(saved.step_state)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        xr.DataTree.from_dict(groups).to_netcdf(temporary, engine="netcdf4")
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def _open(path: Path, load: bool = True) -> xr.DataTree:
    """The checkpoint's tree, read into memory (or only its attributes, ``load=False``)."""
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {str(path)!r}")
    with xr.open_datatree(
        path, engine="netcdf4", mask_and_scale=False, decode_times=False, decode_timedelta=False
    ) as tree:
        if tree.attrs.get("format") != FORMAT:
            raise ValueError(f"{str(path)!r} is not a replica-exchange checkpoint")
        return tree.load() if load else xr.DataTree(xr.Dataset(attrs=tree.attrs))


def read_checkpoint(path: str | os.PathLike) -> tuple[dict, dict[int, ChainCheckpoint], float]:
    """The run description, every started chain's progress and the sampling time so far."""
    tree = _open(Path(path))
    chains = {}
    for name, group in tree.children.items():
        chain = int(name.removeprefix("chain_"))
        chains[chain] = ChainCheckpoint(
            iterations=int(group.attrs["iterations"]),
            draws=_arrays_from_dataset(group["draws"].to_dataset()),
            stats=_arrays_from_dataset(group["stats"].to_dataset()),
            point=_arrays_from_dataset(group["point"].to_dataset()),
            step_state=_state_from_dataset(group["state"].to_dataset()),
        )
    return json.loads(tree.attrs["description"]), chains, float(tree.attrs["sampling_time"])


def checkpoint_progress(path: str | os.PathLike) -> dict[int, int]:
    """Iterations (tuning included) saved so far for each chain of a checkpoint."""
    tree = _open(Path(path), load=False)
    return {int(c): n for c, n in json.loads(tree.attrs["progress"]).items()}
