"""Plot helpers shared by the model modules: they draw on a matplotlib Axes they are given."""

from __future__ import annotations

import numpy as np
import xarray as xr

__all__ = ["plot_band", "plot_data", "posterior_draws", "sort_labels"]


def posterior_draws(posterior: xr.Dataset, max_draws: int = 400, seed: int = 0) -> xr.Dataset:
    """Stack ``chain`` and ``draw`` into ``sample`` and keep at most ``max_draws`` of them."""
    stacked = posterior.stack(sample=("chain", "draw"))
    n = stacked.sizes["sample"]
    if n > max_draws:
        keep = np.sort(np.random.default_rng(seed).choice(n, max_draws, replace=False))
        stacked = stacked.isel(sample=keep)
    return stacked.transpose("sample", ...)


def plot_band(ax, x, curves, *, prob: float = 0.94, color="C1", label="posterior"):
    """Median and central ``prob`` band of ``curves`` (shape (draws, n)) against ``x``."""
    lo, mid, hi = np.quantile(curves, [(1 - prob) / 2, 0.5, (1 + prob) / 2], axis=0)
    ax.fill_between(x, lo, hi, color=color, alpha=0.35, lw=0, label=f"{prob:.0%} band")
    ax.plot(x, mid, color=color, lw=1.5, label=f"{label} median")


def plot_data(ax, data: xr.Dataset, variable: str):
    """Measured points with their axis label and units."""
    (axis,) = data[variable].dims
    ax.plot(data[axis].values, data[variable].values, ".", color="0.3", ms=3, label="data")
    units = data[axis].attrs.get("units", "")
    ax.set_xlabel(f"{axis} [{units}]" if units else axis)
    ax.set_ylabel(variable)


def sort_labels(posterior: xr.Dataset, dim: str, by: str) -> xr.Dataset:
    """Sort the entries along ``dim`` of every draw by the variable ``by``.

    Undoes label switching among exchangeable components (peaks, sites, populations):
    every variable with ``dim`` is reordered with the same per-draw permutation.
    """
    order = posterior[by].argsort(axis=posterior[by].get_axis_num(dim))
    relabelled = posterior.copy()
    for name, var in posterior.data_vars.items():
        if dim in var.dims:
            index = order.transpose(*var.dims).values
            values = np.take_along_axis(var.values, index, axis=var.get_axis_num(dim))
            relabelled[name] = var.copy(data=values)
    return relabelled
