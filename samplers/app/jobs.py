"""The model-selection jobs of ``bayesmeas run``: what they are and how they run.

A job (:class:`ModelSelectionJob`, all of them in :data:`JOBS`) names a registered
measurement model (:mod:`measurement_models.registry`), its built-in data and the
candidate structures to choose among by free energy.

A job's result is one ``xarray.DataTree``, written to netCDF, that holds everything its
figure needs:

* ``/``: the selection table of :func:`samplers.select_model` (F, its MCSE, per-chain
  F, ΔF, p(K|D), ties) with attrs job, model, chosen, decision, sampler, seed, versions;
* ``/data``: the measurement;
* ``/candidates/<label>``: the full run of every candidate (posterior, sample stats,
  observed data; for replica exchange the ``free_energy`` group with every estimator
  per chain), with the ``build_model`` keywords in attrs.

:func:`plot_result` redraws the figure from such a tree (or from the file).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import xarray as xr

from measurement_models import linear, spectral
from measurement_models.registry import get_model

from ..evidence.path_plotting import plot_tempering_path
from ..selection.files import write_model_selection
from ..selection.plotting import plot_model_selection
from ..selection.select import select_model
from ..settings import FREE_ENERGY_SAMPLERS, SAMPLER_SETTINGS, ReplicaExchangeSettings, SMCSettings

__all__ = [
    "JOBS",
    "ModelSelectionJob",
    "format_selection",
    "get_job",
    "plot_candidate_path",
    "plot_result",
    "run_model_selection",
    "write_result",
]


@dataclass(frozen=True)
class ModelSelectionJob:
    """Select among candidate models of one measurement by Bayesian free energy.

    Attributes
    ----------
    name : str
        Name on the command line (``bayesmeas run NAME``).
    model : str
        Registry name of the measurement model.
    summary : str
        One line for listings.
    data : callable
        Returns the built-in measurement.
    candidate_dim : str
        Name of the candidate axis in result tables (e.g. ``"K"``).
    candidates : mapping
        Candidate label to ``build_model`` keywords.
    """

    name: str
    model: str
    summary: str
    data: Callable[[], xr.Dataset]
    candidate_dim: str
    candidates: Mapping[int, Mapping[str, object]]


#: Every model-selection job that ``bayesmeas run NAME`` runs, by name.
JOBS: dict[str, ModelSelectionJob] = {
    job.name: job
    for job in (
        ModelSelectionJob(
            "spectral-deconvolution",
            "spectral",
            "Number of peaks K = 1..5 of the Nagata 2012 spectrum by free energy (main job)",
            spectral.simulate_reference,
            "K",
            {k: {"n_peaks": k} for k in range(1, 6)},
        ),
        ModelSelectionJob(
            "linear-regression",
            "linear",
            "y = a x (K = 1) against y = a x + b (K = 2) on a simulated line",
            lambda: linear.example_data(0)[0],
            "K",
            {1: {"n_terms": 1}, 2: {"n_terms": 2}},
        ),
    )
}


def get_job(name: str) -> ModelSelectionJob:
    """The job ``name``; ``ValueError`` naming the choices if unknown."""
    try:
        return JOBS[name]
    except KeyError:
        raise ValueError(f"unknown job {name!r}; available: {', '.join(JOBS)}") from None


def run_model_selection(
    job: ModelSelectionJob,
    settings: ReplicaExchangeSettings | SMCSettings,
    random_seed: int = 0,
    progressbar: bool = True,
    log: Callable[[str], None] = print,
    checkpoint: str | Path | None = None,
    checkpoint_every: int | None = None,
) -> xr.DataTree:
    """Run :func:`samplers.select_model` on every candidate of ``job``.

    Returns the :func:`~samplers.select_model` tree with the measurement added as
    ``/data``, the ``build_model`` keywords of each candidate in the attrs of its run,
    and the job's name and model in the root attrs. ``checkpoint`` (a folder) and
    ``checkpoint_every`` are those of :func:`~samplers.select_model`: the same call
    continues an interrupted job candidate by candidate.
    """
    entry = get_model(job.model)
    data = job.data()
    method = next(
        name for name in FREE_ENERGY_SAMPLERS if isinstance(settings, SAMPLER_SETTINGS[name])
    )
    candidates = {
        label: partial(entry.module.build_model, data, **kwargs)
        for label, kwargs in job.candidates.items()
    }
    tree = select_model(
        candidates,
        method,
        settings=settings,
        dim=job.candidate_dim,
        random_seed=random_seed,
        progressbar=progressbar,
        log=log,
        checkpoint=checkpoint,
        checkpoint_every=checkpoint_every,
    )
    for label, kwargs in job.candidates.items():
        tree[f"candidates/{label}"].attrs["build_model_kwargs"] = json.dumps(dict(kwargs))
    tree["data"] = xr.DataTree(dataset=data)
    tree.attrs.update({"job": job.name, "model": job.model})
    return tree


def format_selection(tree: xr.DataTree) -> str:
    """The model-selection table as aligned text, ending with the decision."""
    table = tree.to_dataset(inherit=False)
    dim = table.attrs["candidate_dim"]
    checked = "trusted" in table
    lines = [
        f"{dim:>3}  {'F':>11}  {'MCSE':>7}  {'P(' + dim + '|D)':>9}"
        + (f"  {'trusted':>7}" if checked else "")
    ]
    unreliable = table.attrs.get("unreliable", "").split(", ")
    for label in table[dim].values:
        row = table.sel({dim: label})
        mark = "  <- chosen" if str(label) == table.attrs["chosen"] else ""
        if table.attrs["chosen"] == "undecided" and bool(row.tied_with_best):
            mark = "  <- tied"
        if table.attrs["chosen"] == "unreliable" and str(label) in unreliable:
            mark = "  <- unreliable"
        trusted = ""
        if checked:
            trusted = "  " + {1.0: "yes", 0.0: "no"}.get(float(row.trusted), "-").rjust(7)
        lines.append(
            f"{label!s:>3}  {float(row.free_energy):11.3f}  {float(row.free_energy_mcse):7.3f}  "
            f"{float(row.probability):9.4f}{trusted}{mark}"
        )
    lines.append(f"decision: {table.attrs['decision']}")
    lines.append(f"F = -log p(D | {dim}) in nats; sampler: {table.attrs['sampler']}")
    return "\n".join(lines)


def write_result(tree: xr.DataTree, output_dir: str | Path) -> tuple[Path, Path]:
    """Write ``result.nc`` and ``result.png`` into ``output_dir``; return both paths."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    nc_path = output_dir / "result.nc"
    png_path = output_dir / "result.png"
    write_model_selection(tree, nc_path)
    plot_result(tree).savefig(png_path, dpi=130)
    return nc_path, png_path


def plot_candidate_path(tree: xr.DataTree | str | Path, candidate: str | None = None):
    """The tempered path of one candidate of a job result
    (:func:`~samplers.evidence.path_plotting.plot_tempering_path`): mean log-likelihood,
    heat capacity and swap rates against β, where a phase transition or a bottleneck
    of the ladder shows. ``candidate`` defaults to the one with the lowest F.

    Raises
    ------
    ValueError
        An unknown candidate, or a result not sampled by replica exchange.
    """
    if not isinstance(tree, xr.DataTree):
        tree = xr.open_datatree(tree, engine="netcdf4")
    table = tree.to_dataset(inherit=False)
    labels = [str(label) for label in table[table.attrs["candidate_dim"]].values]
    candidate = table.attrs["best"] if candidate is None else str(candidate)
    if candidate not in labels:
        raise ValueError(f"no candidate {candidate!r} in the result; it holds {labels}")
    run = tree[f"candidates/{candidate}"]
    if "replica_at_level" not in run["sample_stats"].data_vars:
        raise ValueError("the tempered path needs a replica-exchange result")
    axes = plot_tempering_path(run)
    axes[1].figure.suptitle(
        f"{tree.attrs['job']}: tempered path of {table.attrs['candidate_dim']} = {candidate}"
    )
    return axes[0].figure


def plot_result(tree: xr.DataTree | str | Path):
    """Figure of a job result: data with the chosen model's fit, and F against the candidates.

    ``tree`` may be the path of a file written by :func:`write_result`. When the
    selection is undecided the fit shown is that of the candidate with the lowest F. The
    figure is a plain :class:`matplotlib.figure.Figure`, made without pyplot: it needs
    no display and leaves the user's matplotlib backend alone.
    """
    from matplotlib.figure import Figure

    if not isinstance(tree, xr.DataTree):
        tree = xr.open_datatree(tree, engine="netcdf4")
    table = tree.to_dataset(inherit=False)
    dim = table.attrs["candidate_dim"]
    best = table.attrs["best"]
    run = tree[f"candidates/{best}"]
    posterior = run["posterior"].to_dataset()  # inherits chain, stored once at the root
    kwargs = json.loads(run.attrs.get("build_model_kwargs", "{}"))
    module = get_model(tree.attrs["model"]).module

    figure = Figure(figsize=(11, 4.2))
    ax_fit, ax_f = figure.subplots(1, 2, width_ratios=(1.6, 1))
    module.plot_fit(ax_fit, tree["data"].to_dataset(inherit=False), posterior, **kwargs)
    shown = "chosen" if table.attrs["chosen"] == best else f"lowest F, {table.attrs['chosen']}"
    ax_fit.set_title(f"{tree.attrs['job']}: fit with {dim} = {best} ({shown})")
    plot_model_selection(table, ax=ax_f)
    ax_f.set_title(f"free energy ± MCSE; {ax_f.get_title()}", fontsize="medium")
    figure.text(0.01, 0.005, f"sampler: {table.attrs['sampler']}", fontsize=7, color="0.4")
    figure.tight_layout(rect=(0, 0.03, 1, 1))
    return figure
