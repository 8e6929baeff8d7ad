r"""Fit one spectrum of a batch: the function every Dask worker runs (:func:`fit_spectrum`).

One task is one spectrum and all candidate models of it. The result is a small
``xarray.Dataset`` (a *part*) with dims ``candidate`` and ``parameter``: F ± MCSE and
:math:`p(K|D)` per candidate (:func:`samplers.selection_table`), the chosen candidate,
posterior mean, sd, 3 % and 97 % quantiles, R-hat and bulk ESS of every parameter, the
status (``"ok"`` or ``"failed"`` with the error message), the wall time and the worker.
A task never raises: bad data (NaN, unsorted axis, ...) fail in
:func:`measurement_models.data.validate_dataset` and are recorded with its message.

Compiled-function reuse
-----------------------
Building and numba-compiling a model costs seconds, sampling a small one about a second,
so every process keeps a cache of compiled samplers. For each spectrum and candidate the
model is built (cheap: a graph, no compilation) with ``mutable_data=True`` when the model
module supports it (data in ``pm.Data`` containers). If a cached model of the same
registry model, keywords and container shapes has the *same* log-density graph up to the
value variables and the data containers (``pytensor.graph.basic.equal_computations``),
its containers receive the new spectrum's values (``set_value``, which is what
``pm.set_data`` does) and its :class:`samplers.ReplicaExchange` step, whose compiled
batched log-density reads those containers, samples again through ``pm.sample``.
Anything else baked into the graph as a constant (a per-spectrum noise level the module
does not put in a container, a data-dependent prior) makes the graphs differ, and the
spectrum gets a freshly compiled model, cached in turn: reuse can be slower, never wrong.
PyMC resets the step per chain (``setup_chain``: ladder, scales, generator), so a reused
step gives the same draws as a new one with the same seed.

The candidate seeds are those of :func:`samplers.select_model` with ``random_seed`` equal
to the spectrum's seed, so a batch result can be reproduced with ``select_model`` alone.
"""

from __future__ import annotations

import dataclasses
import inspect
import socket
import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any

import arviz as az
import numpy as np
import pymc as pm
import xarray as xr
from pytensor.compile.sharedvalue import SharedVariable
from pytensor.graph.basic import equal_computations
from pytensor.graph.traversal import graph_inputs
from pytensor.tensor.random.type import RandomGeneratorType

from ..evidence.free_energy import FreeEnergy, free_energy
from ..replica_exchange.sampling import sample_with_step
from ..replica_exchange.step import ReplicaExchange
from ..selection.table import selection_table
from ..settings import ReplicaExchangeSettings, SMCSettings

__all__ = ["QUANTILES", "SpectrumTask", "clear_cache", "fit_spectrum", "summarize_posterior"]

#: Lower and upper quantiles reported per parameter (a central 94 % interval).
QUANTILES = (0.03, 0.97)
#: ``ReplicaExchangeSettings.extra`` keys that belong to the step, not to ``pm.sample``.
STEP_OPTIONS = ("betas", "vectorize", "adapt_ladder", "initial_scale")


@dataclass(frozen=True)
class SpectrumTask:
    """Everything a worker needs to fit one spectrum.

    Attributes
    ----------
    spectrum_id : str
        Name of the spectrum (its part file is ``parts/<spectrum_id>.nc``).
    data : xarray.Dataset or None
        The measurement; None when it could not be read (``error`` says why).
    model : str
        Registry name of the measurement model.
    candidates : mapping
        Candidate name to ``build_model`` keywords.
    settings : ReplicaExchangeSettings or SMCSettings
        Sampler settings (``cores`` is forced to 1 in the worker).
    seed : int
        The spectrum's seed.
    tie_tolerance : float
        As in :func:`samplers.select_model`.
    reuse : bool
        Reuse compiled samplers across spectra (replica exchange; SMC always compiles).
    error : str
        Why ``data`` is None.
    """

    spectrum_id: str
    data: xr.Dataset | None
    model: str
    candidates: Mapping[str, Mapping[str, Any]]
    settings: ReplicaExchangeSettings | SMCSettings
    seed: int
    tie_tolerance: float = 2.0
    reuse: bool = True
    error: str = ""


@dataclass
class _Compiled:
    model: pm.Model
    step: ReplicaExchange
    uses: int = 0


#: Per-process cache: (model, keywords, container shapes) -> compiled samplers.
_CACHE: dict[Hashable, list[_Compiled]] = {}
#: Counters of this process: fresh compilations and reuses.
STATS = {"compiled": 0, "reused": 0}


def clear_cache() -> None:
    """Forget every cached compiled sampler of this process (and reset the counters)."""
    _CACHE.clear()
    STATS.update(compiled=0, reused=0)


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return f"local:{socket.gethostname()}"


def _build(module, data: xr.Dataset, kwargs: Mapping[str, Any], reuse: bool) -> pm.Model:
    if reuse and "mutable_data" in inspect.signature(module.build_model).parameters:
        kwargs = {**kwargs, "mutable_data": True}
    return module.build_model(data, **kwargs)


def _containers(model: pm.Model) -> dict[str, Any]:
    return {var.name: var for var in model.data_vars}


def _graph_outputs(model: pm.Model) -> list:
    observed = [model.rvs_to_values[rv] for rv in model.observed_RVs]
    random = [*model.free_RVs, *model.observed_RVs, *model.potentials, *model.deterministics]
    return random + observed


def _shared_inputs(outputs: list) -> list[SharedVariable]:
    return [v for v in graph_inputs(outputs) if isinstance(v, SharedVariable)]


def _same_shared(cached: pm.Model, new: pm.Model, old_inputs: list, new_inputs: list) -> bool:
    """Data containers must correspond by name, other non-RNG shared values must be equal."""
    old_data, new_data = set(cached.data_vars), set(new.data_vars)
    for old, other in zip(old_inputs, new_inputs, strict=True):
        if (old in old_data) != (other in new_data) or type(old.type) is not type(other.type):
            return False
        if old in old_data:
            if old.name != other.name:
                return False
        elif not isinstance(old.type, RandomGeneratorType) and not np.array_equal(
            old.get_value(), other.get_value()
        ):
            return False
    return True


def _same_graph(cached: pm.Model, new: pm.Model) -> bool:
    """Whether two models are equal up to the values in their data containers.

    Compares the random-variable graphs (free, observed, potentials, deterministics) and
    the observed values with ``equal_computations``, mapping shared inputs in graph order:
    data containers must match by name, RNGs are ignored, other shared values (dim
    lengths) must be equal; transforms are compared by class. Cheap: no log-density graph
    is derived and nothing is compiled.
    """
    if [v.name for v in cached.value_vars] != [v.name for v in new.value_vars]:
        return False
    transforms = [
        [type(m.rvs_to_transforms.get(rv)).__name__ for rv in m.free_RVs] for m in (cached, new)
    ]
    if transforms[0] != transforms[1]:
        return False
    old_outputs, new_outputs = _graph_outputs(cached), _graph_outputs(new)
    old_inputs, new_inputs = _shared_inputs(old_outputs), _shared_inputs(new_outputs)
    if len(old_inputs) != len(new_inputs) or not _same_shared(cached, new, old_inputs, new_inputs):
        return False
    return equal_computations(old_outputs, new_outputs, old_inputs, new_inputs)


def _cache_key(model_name: str, kwargs: Mapping[str, Any], model: pm.Model) -> Hashable:
    shapes = tuple(sorted((n, v.get_value().shape) for n, v in _containers(model).items()))
    return (model_name, repr(sorted(kwargs.items())), shapes)


def _split_extra(settings: ReplicaExchangeSettings) -> tuple[dict, dict]:
    extra = dict(settings.extra)
    step = {k: extra.pop(k) for k in STEP_OPTIONS if k in extra}
    return step, extra


def _new_step(model: pm.Model, settings: ReplicaExchangeSettings) -> ReplicaExchange:
    step_options, _ = _split_extra(settings)
    with model:
        return ReplicaExchange(
            n_replicas=settings.n_replicas,
            update=settings.update,
            n_sweeps=settings.n_sweeps,
            **step_options,
        )


def _compiled_for(
    model_name: str, kwargs: Mapping[str, Any], model: pm.Model, settings: ReplicaExchangeSettings
) -> _Compiled:
    """A cached compiled sampler whose containers now hold ``model``'s data, or a new one."""
    key = (_cache_key(model_name, kwargs, model), repr(_split_extra(settings)[0]), settings.update)
    key = (*key, settings.n_replicas, settings.n_sweeps)
    for entry in _CACHE.get(key, []):
        if _same_graph(entry.model, model):
            new_data = _containers(model)
            for name, container in _containers(entry.model).items():
                container.set_value(new_data[name].get_value())
            entry.uses += 1
            STATS["reused"] += 1
            return entry
    entry = _Compiled(model, _new_step(model, settings))
    _CACHE.setdefault(key, []).append(entry)
    STATS["compiled"] += 1
    return entry


def _sample_with_step(
    compiled: _Compiled, settings: ReplicaExchangeSettings, seed: int
) -> tuple[xr.DataTree, FreeEnergy]:
    """``sample_replica_exchange`` on an existing step: same seeds, same draws."""
    _, sample_options = _split_extra(settings)
    idata = sample_with_step(
        compiled.step,
        model=compiled.model,
        draws=settings.draws,
        tune=settings.tune,
        chains=settings.chains,
        cores=1,
        random_seed=seed,
        progressbar=False,
        compute_convergence_checks=False,
        quiet=True,
        **sample_options,
    )
    return idata, free_energy(idata, settings.method)


def _parameter_labels(da: xr.DataArray) -> tuple[list[str], np.ndarray]:
    """Flatten a posterior variable's own dims into labels ``name[i,j]``."""
    own = [d for d in da.dims if d not in ("chain", "draw")]
    values = da.transpose("chain", "draw", *own).values
    values = values.reshape(values.shape[0], values.shape[1], -1)
    if not own:
        return [str(da.name)], values
    index = np.ndindex(*(da.sizes[d] for d in own))
    return [f"{da.name}[{','.join(map(str, i))}]" for i in index], values


def summarize_posterior(posterior: xr.Dataset) -> xr.Dataset:
    """Mean, sd, quantiles, R-hat and bulk ESS of every scalar of a posterior.

    Parameters
    ----------
    posterior : xarray.Dataset
        With dims ``chain`` and ``draw`` (and the variables' own dims).

    Returns
    -------
    xarray.Dataset
        Along ``parameter`` (labels such as ``a[1]``): ``mean``, ``sd`` (ddof 1),
        ``q_low``, ``q_high`` (:data:`QUANTILES`), ``r_hat`` (rank-normalised split
        R-hat) and ``ess_bulk``.
    """
    labels, blocks = [], []
    for name in posterior.data_vars:
        names, values = _parameter_labels(posterior[name])
        labels += names
        blocks.append(values)
    draws = np.concatenate(blocks, axis=-1)  # (chain, draw, parameter)
    flat = draws.reshape(-1, draws.shape[-1])
    stacked = xr.Dataset({"theta": (("chain", "draw", "parameter"), draws)})
    r_hat = az.rhat(stacked)["theta"].values
    ess = az.ess(stacked, method="bulk")["theta"].values
    low, high = np.quantile(flat, QUANTILES, axis=0)
    return xr.Dataset(
        {
            "mean": ("parameter", flat.mean(axis=0)),
            "sd": ("parameter", flat.std(axis=0, ddof=1)),
            "q_low": ("parameter", low),
            "q_high": ("parameter", high),
            "r_hat": ("parameter", np.asarray(r_hat, dtype=float)),
            "ess_bulk": ("parameter", np.asarray(ess, dtype=float)),
        },
        coords={"parameter": labels},
    )


def _relabel(module) -> Callable[[xr.Dataset], xr.Dataset]:
    return getattr(module, "relabel_by_position", lambda posterior: posterior)


def _fit_candidates(task: SpectrumTask) -> tuple[dict[str, FreeEnergy], dict, dict]:
    from measurement_models.registry import get_model

    module = get_model(task.model).module
    settings = dataclasses.replace(task.settings, cores=1)
    labels = list(task.candidates)
    seeds = np.random.SeedSequence(task.seed).generate_state(len(labels))
    energies, summaries, times = {}, {}, {}
    for label, seed in zip(labels, seeds, strict=True):
        tic = time.perf_counter()
        kwargs = task.candidates[label]
        model = _build(module, task.data, kwargs, task.reuse)
        if not isinstance(settings, ReplicaExchangeSettings):
            idata, energy = settings.sample(model, int(seed), False)
        else:
            compiled = (
                _compiled_for(task.model, kwargs, model, settings)
                if task.reuse
                else _Compiled(model, _new_step(model, settings))
            )
            idata, energy = _sample_with_step(compiled, settings, int(seed))
        posterior = _relabel(module)(idata["posterior"].to_dataset())
        energies[label] = energy
        summaries[label] = summarize_posterior(posterior)
        times[label] = time.perf_counter() - tic
    return energies, summaries, times


def _ok_part(task: SpectrumTask, energies, summaries, times) -> xr.Dataset:
    labels = list(task.candidates)
    summary = xr.concat(
        [summaries[label] for label in labels],
        dim=xr.DataArray(labels, dims="candidate"),
        join="outer",
    )
    if len(labels) > 1:
        table = selection_table(energies, dim="candidate", tie_tolerance=task.tie_tolerance)
        probability = table["probability"].values
        chosen, best = table.attrs["chosen"], table.attrs["best"]
    else:
        probability, chosen, best = np.ones(1), labels[0], labels[0]
    best_index = labels.index(best)
    part = summary.assign(
        free_energy=("candidate", [energies[label].value for label in labels]),
        free_energy_mcse=("candidate", [energies[label].mcse for label in labels]),
        trusted=("candidate", [_trusted(energies[label]) for label in labels]),
        probability=("candidate", np.asarray(probability, dtype=float)),
        candidate_wall_time_s=("candidate", [times[label] for label in labels]),
        max_r_hat=summary["r_hat"].max("parameter"),
        min_ess_bulk=summary["ess_bulk"].min("parameter"),
        chosen=((), str(chosen)),
        best=((), str(best)),
        best_index=((), best_index),
        best_probability=((), float(probability[best_index])),
    )
    for name in ("mean", "sd"):
        part[f"best_{name}"] = summary[name].isel(candidate=best_index, drop=True)
    return part


def _trusted(energy: FreeEnergy) -> float:
    """1 or 0 when the run's own checks of F passed or failed, NaN when unchecked."""
    return np.nan if energy.trusted is None else float(energy.trusted)


def _failed_part(task: SpectrumTask, error: str) -> xr.Dataset:
    labels = list(task.candidates)
    nan = np.full(len(labels), np.nan)
    return xr.Dataset(
        {
            "free_energy": ("candidate", nan),
            "free_energy_mcse": ("candidate", nan),
            "trusted": ("candidate", nan),
            "probability": ("candidate", nan),
            "chosen": ((), ""),
            "best": ((), ""),
            "best_index": ((), -1),
            "best_probability": ((), np.nan),
            "error": ((), error),
        },
        coords={"candidate": labels},
    )


def _message(error: Exception) -> str:
    return str(error) if isinstance(error, ValueError) else f"{type(error).__name__}: {error}"


def fit_spectrum(task: SpectrumTask) -> xr.Dataset:
    """Fit every candidate to one spectrum; never raises (failures are recorded).

    Parameters
    ----------
    task : SpectrumTask

    Returns
    -------
    xarray.Dataset
        The part: dims ``candidate`` (and ``parameter`` when the fit succeeded); see the
        module docstring. Scalars ``status``, ``error``, ``wall_time_s``, ``worker``,
        ``seed``, ``chosen``, ``best``, ``best_index``, ``best_probability``; the
        spectrum's id in ``attrs["spectrum_id"]``.
    """
    tic = time.perf_counter()
    try:
        if task.data is None:
            raise ValueError(task.error)
        part = _ok_part(task, *_fit_candidates(task))
        part["error"] = ((), "")
        status = "ok"
    except Exception as error:  # recorded, never raised: one bad spectrum must not stop a batch
        message = _message(error)
        part, status = _failed_part(task, message), "failed"
    part["status"] = ((), status)
    part["wall_time_s"] = ((), time.perf_counter() - tic)
    part["worker"] = ((), _worker_name())
    part["seed"] = ((), np.int64(task.seed))
    part.attrs["spectrum_id"] = task.spectrum_id
    return part
