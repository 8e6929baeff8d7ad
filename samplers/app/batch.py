r"""Fit one measurement model to thousands of spectra on a Dask cluster: :func:`fit_batch`.

Every spectrum is fitted with every candidate model (``build_model`` keywords of a
registered model, e.g. ``{"K=1": {"n_peaks": 1}, "K=2": {"n_peaks": 2}}``); its free
energies :math:`F(K) = -\log p(D|K)` ± MCSE give :math:`p(K|D)` and the chosen candidate
exactly as :func:`samplers.select_model` does (same seeds: candidate ``i`` of spectrum
``s`` gets the ``i``-th state of ``SeedSequence(spectrum_seed(random_seed, s))``), so a
single spectrum of a batch can be redone with ``select_model`` alone and gives the same
numbers. Per spectrum and candidate the result holds posterior mean, sd, 3 % / 97 %
quantiles, R-hat and bulk ESS of every parameter (see
:func:`samplers.app.batch_worker.summarize_posterior`).

Running
-------
Tasks go to a Dask cluster: by default a ``distributed.LocalCluster`` with one
single-threaded worker *process* per core (PyMC inside a worker samples its chains one
after the other, ``cores=1``); with ``scheduler="tcp://host:8786"`` (or a
``distributed.Client``) an existing cluster, possibly of many machines, does the work.
Results come back through ``distributed.as_completed`` and each is written at once,
atomically (temporary file + rename), to ``output/parts/<spectrum>.nc``; progress goes to
stderr. A spectrum whose data are bad (NaN, unsorted axis: the message of
:func:`measurement_models.data.validate_dataset`) or whose fit raises is recorded as
``status="failed"`` with its error and the batch goes on. A rerun skips the spectra
whose part exists (failed ones too, unless ``retry_failed``), so a killed batch resumes.
Finally all parts are collected into ``output/batch.nc`` (dims ``spectrum``,
``candidate``, ``parameter``; position coordinates when the input has them) and, when
the spectra carry positions, ``output/map.png`` shows the chosen candidate and the best
candidate's posterior mean and sd of a key parameter.

Workers compile each candidate once and reuse it for every spectrum of the same size
(:mod:`samplers.app.batch_worker`).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import sys
import time
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ..settings import FREE_ENERGY_SAMPLERS, SAMPLER_SETTINGS, ReplicaExchangeSettings, SMCSettings
from .batch_plotting import POSITIONS, plot_batch_map
from .batch_worker import SpectrumTask, fit_spectrum

__all__ = [
    "SPECTRUM_DIM",
    "collect_parts",
    "fit_batch",
    "load_spectra",
    "local_cluster",
    "spectrum_seed",
]

#: Name of the spectrum dimension of batch inputs and results.
SPECTRUM_DIM = "spectrum"
#: File suffixes read from a folder of spectra.
TEXT_SUFFIXES = (".txt", ".dat", ".csv", ".xy")
#: Name of the optional positions table in a folder of spectra.
POSITIONS_FILE = "positions.csv"
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+=-]*$")


def spectrum_seed(random_seed: int, spectrum_id: str) -> int:
    """The seed of one spectrum: from the batch seed and the spectrum's id only.

    ``SeedSequence([random_seed, crc32(id)])``'s first state, so a spectrum gets the same
    seed whichever worker fits it, in whatever order, in whichever run.
    """
    entropy = [int(random_seed), zlib.crc32(str(spectrum_id).encode())]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


def _settings(settings: ReplicaExchangeSettings | SMCSettings | str | None):
    if settings is None:
        return ReplicaExchangeSettings()
    if isinstance(settings, str):
        if settings not in FREE_ENERGY_SAMPLERS:
            choices = ", ".join(FREE_ENERGY_SAMPLERS)
            raise ValueError(f"unknown method {settings!r}; choose one of {choices}")
        return SAMPLER_SETTINGS[settings]()
    if not isinstance(settings, ReplicaExchangeSettings | SMCSettings):
        raise TypeError(f"settings must be sampler settings or a method name, got {settings!r}")
    return settings


def _check_ids(ids: Sequence[str]) -> list[str]:
    ids = [str(i) for i in ids]
    bad = [i for i in ids if not _SAFE_ID.match(i)]
    if bad:
        raise ValueError(
            f"spectrum ids must be usable as file names (letters, digits, . _ + = -): {bad[:5]}"
        )
    if len(set(ids)) != len(ids):
        raise ValueError("spectrum ids must be unique")
    return ids


def _from_dataset(spectra: xr.Dataset, positions: Sequence[str]) -> tuple[list, xr.Dataset]:
    if SPECTRUM_DIM not in spectra.dims:
        raise ValueError(
            f"the spectra dataset has no {SPECTRUM_DIM!r} dimension (dims: {dict(spectra.sizes)})"
        )
    if spectra.sizes[SPECTRUM_DIM] == 0:
        raise ValueError("the spectra dataset holds no spectra")
    ids = spectra[SPECTRUM_DIM].values if SPECTRUM_DIM in spectra.coords else None
    ids = _check_ids(
        [f"s{i:05d}" for i in range(spectra.sizes[SPECTRUM_DIM])] if ids is None else list(ids)
    )
    along = [name for name, c in spectra.coords.items() if SPECTRUM_DIM in c.dims]
    coords = xr.Dataset(coords={SPECTRUM_DIM: ids})
    for name in positions:
        if name in spectra.coords and spectra[name].dims == (SPECTRUM_DIM,):
            coords = coords.assign_coords({name: (SPECTRUM_DIM, spectra[name].values)})
            coords[name].attrs.update(spectra[name].attrs)
    items = []
    for i, spectrum_id in enumerate(ids):
        one = spectra.isel({SPECTRUM_DIM: i}).drop_vars(along, errors="ignore")
        one.attrs = {**spectra.attrs, "spectrum_id": spectrum_id}
        items.append((spectrum_id, one, ""))
    return items, coords


def _read_positions(folder: Path, ids: list[str], names: Sequence[str]) -> xr.Dataset:
    coords = xr.Dataset(coords={SPECTRUM_DIM: ids})
    path = folder / POSITIONS_FILE
    if not path.exists():
        return coords
    lines = [ln.strip() for ln in path.read_text().splitlines() if ln.strip()]
    header = [h.strip() for h in lines[0].split(",")]
    if header[:1] != [SPECTRUM_DIM] or any(n not in header for n in names):
        raise ValueError(f"{path} must have the header '{SPECTRUM_DIM},{','.join(names)}'")
    table = {row.split(",")[0].strip(): row.split(",") for row in lines[1:]}
    for name in names:
        column = header.index(name)
        values = [float(table[i][column]) if i in table else np.nan for i in ids]
        coords = coords.assign_coords({name: (SPECTRUM_DIM, np.asarray(values))})
    return coords


def _from_folder(folder: Path, module, positions: Sequence[str]) -> tuple[list, xr.Dataset]:
    from measurement_models.data import load_text

    files = sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES and p.name != POSITIONS_FILE
    )
    if not files:
        raise ValueError(f"no spectra ({', '.join(TEXT_SUFFIXES)} files) in folder {folder}")
    ids = _check_ids([p.stem for p in files])
    loader = getattr(module, "load", None) or (
        lambda path: load_text(path, axis=getattr(module, "AXIS", "x"), variable=module.VARIABLE)
    )
    items = []
    for spectrum_id, path in zip(ids, files, strict=True):
        try:
            items.append((spectrum_id, loader(path), ""))
        except ValueError as error:  # bad data is a failed spectrum, not a batch error
            items.append((spectrum_id, None, str(error)))
    return items, _read_positions(folder, ids, positions)


def load_spectra(
    spectra: xr.Dataset | str | Path, model: str, positions: Sequence[str] = POSITIONS
) -> tuple[list[tuple[str, xr.Dataset | None, str]], xr.Dataset]:
    """Read the spectra of a batch: a Dataset, a netCDF file of one, or a folder.

    Parameters
    ----------
    spectra : xarray.Dataset, str or Path
        A Dataset with a ``spectrum`` dimension (ids from its ``spectrum`` coordinate,
        else ``s00000``, ...), a netCDF file of such a Dataset, or a folder of text files
        read with the model's ``load`` function or :func:`measurement_models.data.load_text`
        (one spectrum per file, id = file stem; positions from an optional
        ``positions.csv`` with header ``spectrum,x,y``).
    model : str
        Registry name of the measurement model.
    positions : pair of str
        Names of the position coordinates along ``spectrum``.

    Returns
    -------
    items : list of (id, Dataset or None, error)
        One per spectrum; unreadable files have None and the loader's message.
    coords : xarray.Dataset
        The ``spectrum`` coordinate and the positions found.

    Raises
    ------
    ValueError
        Unknown model, no ``spectrum`` dimension, an empty folder or dataset, ids that
        are not unique or not usable as file names, a missing path.
    """
    from measurement_models.registry import get_model

    module = get_model(model).module
    if isinstance(spectra, xr.Dataset):
        return _from_dataset(spectra, positions)
    path = Path(spectra)
    if path.is_dir():
        return _from_folder(path, module, positions)
    if not path.exists():
        raise ValueError(f"no such file or folder: {path}")
    with xr.open_dataset(path) as dataset:
        return _from_dataset(dataset.load(), positions)


def _config(model: str, candidates, settings, random_seed: int, tie_tolerance: float) -> str:
    fields = {f.name: repr(getattr(settings, f.name)) for f in dataclasses.fields(settings)}
    fields.pop("cores", None)
    return json.dumps(
        {
            "model": model,
            "candidates": {str(k): repr(sorted(v.items())) for k, v in candidates.items()},
            "settings": [type(settings).__name__, fields],
            "random_seed": int(random_seed),
            "tie_tolerance": float(tie_tolerance),
        },
        sort_keys=True,
    )


def _write_atomic(dataset: xr.Dataset, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    dataset.to_netcdf(tmp, engine="netcdf4")
    os.replace(tmp, path)


def _finished(parts: Path, ids: Iterable[str], config: str, retry_failed: bool) -> set[str]:
    done = set()
    for spectrum_id in ids:
        path = parts / f"{spectrum_id}.nc"
        if not path.exists():
            continue
        with xr.open_dataset(path) as part:
            if part.attrs.get("batch_config") != config:
                raise ValueError(
                    f"{path} was written by a batch with other settings; use a new output "
                    "folder (or delete its parts) to change model, candidates, settings or seed"
                )
            if retry_failed and str(part["status"].values) == "failed":
                continue
        done.add(spectrum_id)
    return done


def local_cluster(n_workers: int | None = None):
    """A ``distributed.LocalCluster`` for batches: one single-threaded process per worker.

    ``n_workers`` defaults to the cores this process may use. No dashboard, and the
    scheduler's HTTP server on a free port (``":0"``), so that several clusters (tests
    in parallel, a batch beside a notebook) never compete for port 8787.
    """
    from distributed import LocalCluster

    return LocalCluster(
        n_workers=n_workers or len(os.sched_getaffinity(0)),
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": ":0"},
        silence_logs=logging.ERROR,
    )


def _client(scheduler, n_workers: int | None, stack: ExitStack):
    from distributed import Client

    if isinstance(scheduler, Client):
        return scheduler
    if scheduler is None:
        cluster = stack.enter_context(local_cluster(n_workers))
        return stack.enter_context(Client(cluster))
    if n_workers is not None:
        raise ValueError("n_workers is for the local cluster; a scheduler brings its own workers")
    return stack.enter_context(Client(scheduler))


def _progress(enabled: bool) -> Callable[[str], None]:
    def write(line: str) -> None:
        if enabled:
            print(line, file=sys.stderr, flush=True)

    return write


def _run_tasks(tasks: list[SpectrumTask], client, parts: Path, config: str, log) -> None:
    from distributed import as_completed

    futures = {
        client.submit(fit_spectrum, task, pure=False, key=f"fit-{task.spectrum_id}-{task.seed}"): (
            task
        )
        for task in tasks
    }
    started, n_done, n_failed = time.perf_counter(), 0, 0
    for future in as_completed(futures):
        task = futures[future]
        try:
            part = future.result()
        except Exception as error:  # a lost worker: recorded like a failed fit
            part = fit_spectrum(dataclasses.replace(task, data=None, error=f"worker: {error!r}"))
        finally:
            future.release()
        _save_part(part, parts, config)
        n_done += 1
        n_failed += str(part["status"].values) == "failed"
        elapsed = time.perf_counter() - started
        log(
            f"[{n_done}/{len(tasks)}] {task.spectrum_id}: {part['status'].values}"
            f" ({float(part['wall_time_s']):.1f} s on {part['worker'].values}); "
            f"{n_failed} failed; {60 * n_done / elapsed:.1f} spectra/min"
        )


def _save_part(part: xr.Dataset, parts: Path, config: str) -> None:
    part = part.copy()
    part.attrs["batch_config"] = config
    _write_atomic(part, parts / f"{part.attrs['spectrum_id']}.nc")


def _conform(datasets: list[xr.Dataset]) -> list[xr.Dataset]:
    """Give every part the same variables and parameters (NaN where a fit failed)."""
    labels: list[str] = []
    for dataset in datasets:
        if "parameter" in dataset.coords:
            labels += [str(p) for p in dataset["parameter"].values if str(p) not in labels]
    template = next((d for d in datasets if "mean" in d), None)
    conformed = []
    for dataset in datasets:
        if "parameter" in dataset.coords:
            dataset = dataset.reindex(parameter=labels)
        elif template is not None:
            dataset = dataset.assign_coords(parameter=labels)
            for name, variable in template.data_vars.items():
                if name not in dataset:
                    shape = [dataset.sizes.get(d, template.sizes[d]) for d in variable.dims]
                    dataset[name] = (variable.dims, np.full(shape, np.nan))
        conformed.append(dataset)
    return conformed


def collect_parts(parts: Path, ids: Sequence[str], coords: xr.Dataset) -> xr.Dataset:
    """Concatenate the part files of ``ids`` along ``spectrum`` (missing parameters: NaN)."""
    datasets = []
    for spectrum_id in ids:
        with xr.open_dataset(parts / f"{spectrum_id}.nc") as part:
            datasets.append(part.load())
    datasets = _conform(datasets)
    result = xr.concat(
        datasets,
        dim=xr.DataArray(list(ids), dims=SPECTRUM_DIM, name=SPECTRUM_DIM),
        join="outer",
        data_vars="all",
        coords="different",
        compat="equals",
        combine_attrs="drop",
    )
    for name in ("chosen", "best", "error", "status", "worker"):
        result[name] = result[name].astype(str)
    return result.assign_coords({n: coords[n] for n in coords.coords if n != SPECTRUM_DIM})


def _candidates(model: str, candidates: Mapping[str, Mapping[str, Any]] | None) -> dict:
    from measurement_models.registry import get_model

    if candidates is None:
        return {"model": dict(get_model(model).example_kwargs)}
    if not candidates:
        raise ValueError("candidates must name at least one set of build_model keywords")
    return {str(k): dict(v) for k, v in candidates.items()}


def fit_batch(
    model: str,
    spectra: xr.Dataset | str | Path,
    *,
    output: str | Path,
    candidates: Mapping[str, Mapping[str, Any]] | None = None,
    settings: ReplicaExchangeSettings | SMCSettings | str | None = None,
    scheduler: Any = None,
    n_workers: int | None = None,
    resume: bool = True,
    retry_failed: bool = False,
    progress: bool = True,
    random_seed: int = 0,
    tie_tolerance: float = 2.0,
    positions: Sequence[str] = POSITIONS,
    key_parameter: str | None = None,
    reuse: bool = True,
) -> xr.Dataset:
    """Fit ``model`` to every spectrum on a Dask cluster; collect one result dataset.

    Parameters
    ----------
    model : str
        Registry name of the measurement model (``bayesmeas list``).
    spectra : xarray.Dataset, str or Path
        See :func:`load_spectra`.
    output : str or Path
        Folder for ``parts/``, ``batch.nc`` and ``map.png``.
    candidates : mapping, optional
        Candidate name to ``build_model`` keywords; default: one candidate ``"model"``
        with the registry's ``example_kwargs`` (no model selection).
    settings : ReplicaExchangeSettings, SMCSettings or str, optional
        Sampler settings or a method name of :func:`samplers.select_model` (default
        replica exchange, class defaults). ``cores`` is forced to 1 in the workers.
    scheduler : str or distributed.Client, optional
        Address of an existing Dask scheduler (``"tcp://host:8786"``) or a client;
        default: a local cluster started (and shut down) here.
    n_workers : int, optional
        Workers of the local cluster (default: one per core).
    resume : bool
        Skip spectra whose part file exists (default). ``False`` fits them again.
    retry_failed : bool
        With ``resume``, fit failed spectra again.
    progress : bool
        A line per finished spectrum on stderr.
    random_seed : int
        Batch seed; see :func:`spectrum_seed`.
    tie_tolerance : float
        As in :func:`samplers.select_model`.
    positions : pair of str
        Position coordinate names along ``spectrum`` (x then y).
    key_parameter : str, optional
        Parameter label drawn on the map (default: the best candidate's first one).
    reuse : bool
        Reuse compiled samplers across spectra in every worker (default).

    Returns
    -------
    xarray.Dataset
        Also written to ``output/batch.nc``: per spectrum ``status``, ``error``,
        ``wall_time_s``, ``worker``, ``seed``, ``chosen`` (or ``"undecided"``),
        ``best``, ``best_index``, ``best_probability``; per candidate ``free_energy``,
        ``free_energy_mcse``, ``trusted`` (the run's own checks of F, 1 or 0:
        :mod:`samplers.evidence.run_checks`; NaN for SMC), ``probability``,
        ``max_r_hat``, ``min_ess_bulk``; per
        candidate and parameter ``mean``, ``sd``, ``q_low``, ``q_high``, ``r_hat``,
        ``ess_bulk``; the best candidate's ``best_mean``, ``best_sd``. Attrs: model,
        candidates, sampler, counts of ok and failed spectra, wall time of this run and
        number of spectra fitted in it.

    Raises
    ------
    ValueError
        Bad input (see :func:`load_spectra`), an unknown method, parts of another batch
        configuration in ``output``.
    """
    from measurement_models.registry import get_model

    entry = get_model(model)
    candidates = _candidates(model, candidates)
    settings = _settings(settings)
    items, coords = load_spectra(spectra, model, positions)
    ids = [item[0] for item in items]
    output = Path(output)
    parts = output / "parts"
    parts.mkdir(parents=True, exist_ok=True)
    config = _config(model, candidates, settings, random_seed, tie_tolerance)
    done = _finished(parts, ids, config, retry_failed) if resume else set()
    tasks = [
        SpectrumTask(
            spectrum_id,
            data,
            model,
            candidates,
            settings,
            spectrum_seed(random_seed, spectrum_id),
            tie_tolerance,
            reuse,
            error,
        )
        for spectrum_id, data, error in items
        if spectrum_id not in done
    ]
    log = _progress(progress)
    log(f"batch: {len(ids)} spectra, {len(done)} already done, {len(tasks)} to fit")
    started = time.perf_counter()
    if tasks:
        with ExitStack() as stack:
            client = _client(scheduler, n_workers, stack)
            _run_tasks(tasks, client, parts, config, log)
    wall = time.perf_counter() - started
    result = collect_parts(parts, ids, coords)
    result.attrs.update(_result_attrs(model, candidates, settings, result, wall, len(tasks)))
    _write_atomic(result, output / "batch.nc")
    if all(name in result.coords for name in positions):
        plot_batch_map(result, positions, key_parameter, entry.module).savefig(
            output / "map.png", dpi=120
        )
    return result


def _result_attrs(model, candidates, settings, result, wall: float, n_fitted: int) -> dict:
    status = result["status"].values
    return {
        "model": model,
        "candidates": json.dumps(candidates, default=repr),
        "sampler": settings.describe(),
        "n_ok": int((status == "ok").sum()),
        "n_failed": int((status == "failed").sum()),
        "wall_time_s": round(wall, 2),
        "n_fitted_this_run": int(n_fitted),
    }
