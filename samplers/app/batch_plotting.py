"""Maps of a batch result: the chosen candidate and a key parameter per position."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

__all__ = ["POSITIONS", "plot_batch_map"]

#: Default names of the position coordinates along ``spectrum``.
POSITIONS = ("x", "y")


def _grid(result: xr.Dataset, positions: Sequence[str], values: np.ndarray):
    """Values on the regular grid of the positions (None if they do not form one)."""
    xs, ys = (result[name].values for name in positions)
    ux, uy = np.unique(xs), np.unique(ys)
    if ux.size * uy.size != xs.size:
        return None
    grid = np.full((uy.size, ux.size), np.nan)
    grid[np.searchsorted(uy, ys), np.searchsorted(ux, xs)] = values
    return ux, uy, grid


def _draw(ax, result, positions, values, label: str, cmap="viridis"):
    gridded = _grid(result, positions, values)
    if gridded is None:
        xs, ys = (result[name].values for name in positions)
        artist = ax.scatter(xs, ys, c=values, cmap=cmap, marker="s")
    else:
        artist = ax.pcolormesh(*gridded, cmap=cmap, shading="nearest")
    units = [result[name].attrs.get("units", "") for name in positions]
    ax.set_xlabel(f"{positions[0]} [{units[0]}]" if units[0] else positions[0])
    ax.set_ylabel(f"{positions[1]} [{units[1]}]" if units[1] else positions[1])
    ax.set_aspect("equal")
    ax.figure.colorbar(artist, ax=ax, label=label)
    return artist


def _unit(module, label: str) -> str:
    name = label.split("[")[0]
    table = getattr(module, "PARAMETERS", None)
    try:
        unit = table[name].unit if table is not None else ""
    except (KeyError, TypeError, AttributeError):
        unit = ""
    return f" [{unit}]" if unit else ""


def plot_batch_map(
    result: xr.Dataset,
    positions: Sequence[str] = POSITIONS,
    key_parameter: str | None = None,
    module=None,
):
    """Maps of the chosen candidate and of a key parameter's posterior mean and sd.

    Failed spectra and undecided selections are blank (NaN) on the candidate map; the
    parameter maps show the best candidate's posterior (NaN where it has no such
    parameter). Returns a matplotlib ``Figure`` (made without pyplot).
    """
    from matplotlib.figure import Figure

    labels = [str(c) for c in result["candidate"].values]
    ok = result["status"].values == "ok"
    decided = ok & (result["chosen"].values != "undecided")
    chosen = np.where(decided, result["best_index"].values.astype(float), np.nan)
    if key_parameter is None:
        key_parameter = str(result["parameter"].values[0])
    figure = Figure(figsize=(13, 3.8), layout="constrained")
    axes = figure.subplots(1, 3)
    from matplotlib.colors import ListedColormap

    colours = ListedColormap([f"C{i % 10}" for i in range(len(labels))])
    artist = _draw(axes[0], result, positions, chosen, "chosen candidate", colours)
    artist.set_clim(-0.5, len(labels) - 0.5)
    colorbar = artist.colorbar
    colorbar.set_ticks(range(len(labels)), labels=labels)
    axes[0].set_title(f"chosen by F ({int((~decided & ok).sum())} undecided)")
    unit = _unit(module, key_parameter)
    for ax, name in zip(axes[1:], ("mean", "sd"), strict=True):
        values = result[f"best_{name}"].sel(parameter=key_parameter).values
        _draw(ax, result, positions, np.where(ok, values, np.nan), f"{key_parameter}{unit}")
        ax.set_title(f"posterior {name} of {key_parameter}")
    return figure
