"""Run a model-selection job declared in :mod:`measurement_models.registry`.

A job's result is one ``xarray.DataTree``, written to netCDF, that holds everything its
figure needs:

* ``/`` attrs: job, model, sampler (what produced the numbers), seed, versions, time;
* ``/data``: the measurement;
* ``/model_selection``: F, its MCSE, per-chain F and p(K|D) along the candidate axis;
* ``/candidates/<label>/posterior``: the posterior draws of every candidate, with the
  ``build_model`` keywords in attrs;
* ``/candidates/<label>/free_energy`` (replica exchange): F ± MCSE of every estimator,
  per chain.

:func:`plot_result` redraws the figure from such a tree (or from the file).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import arviz
import numpy as np
import pymc as pm
import xarray as xr

from measurement_models.registry import ModelSelectionJob, get_model

from .free_energy import FreeEnergy
from .model_selection import (
    ReplicaExchangeSettings,
    SMCSettings,
    sample_free_energy,
    selection_table,
)

__all__ = ["format_table", "plot_result", "run_model_selection", "write_result"]


def run_model_selection(
    job: ModelSelectionJob,
    settings: ReplicaExchangeSettings | SMCSettings,
    random_seed: int = 0,
    progressbar: bool = True,
    log: Callable[[str], None] = print,
) -> xr.DataTree:
    """Sample every candidate of ``job``, compute free energies and tabulate them."""
    entry = get_model(job.model)
    data = job.data()
    rng = np.random.default_rng(random_seed)
    free_energies: dict[int, FreeEnergy] = {}
    groups: dict[str, xr.Dataset] = {}
    started = time.perf_counter()
    for i, (label, kwargs) in enumerate(job.candidates.items(), start=1):
        log(f"[{i}/{len(job.candidates)}] {job.candidate_dim} = {label}: {settings.describe()}")
        tic = time.perf_counter()
        model = entry.module.build_model(data, **kwargs)
        idata, fe = sample_free_energy(model, settings, int(rng.integers(2**31)), progressbar)
        free_energies[label] = fe
        posterior = idata["posterior"].to_dataset()
        posterior.attrs = {"build_model_kwargs": json.dumps(dict(kwargs))}
        name = f"/candidates/{job.candidate_dim}{label}"
        groups[f"{name}/posterior"] = posterior
        if "free_energy" in idata.children:  # replica exchange: all estimators, per chain
            groups[f"{name}/free_energy"] = idata["free_energy"].to_dataset()
        log(f"      {fe}  [{time.perf_counter() - tic:.1f} s]")
    table = selection_table(free_energies, dim=job.candidate_dim)
    tree = xr.DataTree.from_dict(
        {
            "/data": data,
            "/model_selection": table,
            **groups,
        }
    )
    tree.attrs = {
        "job": job.name,
        "model": job.model,
        "candidate_dim": job.candidate_dim,
        "sampler": settings.describe(),
        "random_seed": random_seed,
        "wall_time_s": round(time.perf_counter() - started, 1),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": f"pymc {pm.__version__}, arviz {arviz.__version__}, xarray {xr.__version__}",
    }
    return tree


def format_table(tree: xr.DataTree) -> str:
    """The model-selection table as aligned text."""
    table = tree["model_selection"].to_dataset()
    dim = tree.attrs["candidate_dim"]
    lines = [f"{dim:>3}  {'F':>11}  {'MCSE':>7}  {'P(' + dim + '|D)':>9}"]
    for label in table[dim].values:
        row = table.sel({dim: label})
        mark = "  <- selected" if label == table.attrs["selected"] else ""
        lines.append(
            f"{label!s:>3}  {float(row.free_energy):11.3f}  {float(row.free_energy_mcse):7.3f}  "
            f"{float(row.probability):9.4f}{mark}"
        )
    lines.append(f"F = -log p(D | {dim}) in nats; sampler: {tree.attrs['sampler']}")
    return "\n".join(lines)


def write_result(tree: xr.DataTree, output_dir: str | Path) -> tuple[Path, Path]:
    """Write ``result.nc`` and ``result.png`` into ``output_dir``; return both paths."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    nc_path = output_dir / "result.nc"
    png_path = output_dir / "result.png"
    tree.to_netcdf(nc_path, engine="netcdf4")
    plot_result(tree).savefig(png_path, dpi=130)
    return nc_path, png_path


def plot_result(tree: xr.DataTree | str | Path):
    """Figure of a job result: data with the selected model's fit, and F against the candidates.

    ``tree`` may be the path of a file written by :func:`write_result`. The figure is a
    plain :class:`matplotlib.figure.Figure`, made without pyplot: it needs no display
    and leaves the user's matplotlib backend alone.
    """
    from matplotlib.figure import Figure

    if not isinstance(tree, xr.DataTree):
        tree = xr.open_datatree(tree, engine="netcdf4")
    dim = tree.attrs["candidate_dim"]
    table = tree["model_selection"].to_dataset()
    selected = table.attrs["selected"]
    node = tree["candidates"][f"{dim}{selected}"]["posterior"]
    posterior = node.to_dataset()
    kwargs = json.loads(posterior.attrs.get("build_model_kwargs", "{}"))
    module = get_model(tree.attrs["model"]).module

    figure = Figure(figsize=(11, 4.2))
    ax_fit, ax_f = figure.subplots(1, 2, width_ratios=(1.6, 1))
    module.plot_fit(ax_fit, tree["data"].to_dataset(), posterior, **kwargs)
    ax_fit.set_title(f"{tree.attrs['job']}: fit with {dim} = {selected}")
    free = table["free_energy"].values
    above_min = free - free.min()
    ax_f.errorbar(
        table[dim].values, above_min, yerr=table["free_energy_mcse"].values, fmt="o-", capsize=3
    )
    ax_f.set_yscale("symlog", linthresh=1.0)
    ax_f.set_ylim(-0.5, 5 * max(1.0, above_min.max()))
    ax_f.set_xlabel(dim)
    ax_f.set_ylabel(f"F - min F  [nats]  (min F = {free.min():.2f})")
    ax_f.set_xticks(table[dim].values)
    for label, height, p in zip(
        table[dim].values, above_min, table["probability"].values, strict=True
    ):
        ax_f.annotate(
            f"P={p:.2g}",
            (label, height),
            textcoords="offset points",
            xytext=(0, 8),
            ha="center",
            fontsize=7,
        )
    ax_f.set_title("free energy F = -log p(D) ± MCSE")
    figure.text(0.01, 0.005, f"sampler: {tree.attrs['sampler']}", fontsize=7, color="0.4")
    figure.tight_layout(rect=(0, 0.03, 1, 1))
    return figure
