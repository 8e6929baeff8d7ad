"""The figure of a model selection: F against the candidates, with p(K|D)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

__all__ = ["plot_model_selection"]


def plot_model_selection(result: xr.DataTree | xr.Dataset | str | Path, ax=None):
    """F − min F against the candidates, with MCSE error bars and p(K|D).

    ``result`` is what :func:`samplers.select_model` returned (or its table, or its netCDF
    file). Candidates tied with the best are drawn in orange and the title says
    "undecided" or "unreliable". Returns the matplotlib ``Axes`` (a new figure, made without pyplot,
    when ``ax`` is None).
    """
    if isinstance(result, str | Path):
        result = xr.open_datatree(result, engine="netcdf4")
    table = result.to_dataset(inherit=False) if isinstance(result, xr.DataTree) else result
    if ax is None:
        from matplotlib.figure import Figure

        ax = Figure(figsize=(5.5, 3.8), layout="constrained").subplots()
    dim = table.attrs["candidate_dim"]
    labels = [str(v) for v in table[dim].values]
    free = table["free_energy"].values
    above = free - free.min()
    position = np.arange(len(labels))
    tied = table["tied_with_best"].values.astype(bool)
    ax.errorbar(
        position, above, yerr=table["free_energy_mcse"].values, fmt="o-", color="C0", capsize=3
    )
    if tied.sum() > 1:
        ax.plot(position[tied], above[tied], "o", color="C1", ms=9, label="within MCSE of best")
        ax.legend(fontsize="small")
    ax.set_yscale("symlog", linthresh=1.0)
    ax.set_ylim(-0.5, 5 * max(1.0, above.max()))
    ax.set_xticks(position, labels)
    ax.set_xlabel(dim)
    ax.set_ylabel(f"F − min F  [nats]  (min F = {free.min():.2f})")
    for x, height, p in zip(position, above, table["probability"].values, strict=True):
        ax.annotate(
            f"p={p:.2g}",
            (x, height),
            textcoords="offset points",
            xytext=(0, 8),
            ha="center",
            fontsize=7,
        )
    chosen = table.attrs["chosen"]
    titles = {
        "undecided": f"undecided: {table.attrs['tied']}",
        "unreliable": f"unreliable: {table.attrs.get('unreliable', '')}",
    }
    ax.set_title(titles.get(chosen, f"chosen: {chosen}"), fontsize="medium")
    return ax
