"""Plot of assimilation data with the posterior of the predictors."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from .table import DESCRIPTOR, TARGETS, Basis

__all__ = ["plot_fit"]


def plot_fit(
    ax,
    data: xr.Dataset,
    posterior: xr.Dataset,
    *,
    basis: Basis | None = None,
    targets: Sequence[str] = TARGETS,
    x_range: tuple[float, float] | None = None,
    **options,
) -> None:
    """Data, posterior band of every target's predictor μ_j(x), and the truth if known (1-D x).

    The band is drawn over ``x_range`` (default: the data's range).
    """
    from ..plotting import plot_band, posterior_draws

    basis = basis or Basis()
    if data.sizes[DESCRIPTOR] != 1:
        raise ValueError("plot_fit draws one descriptor; slice multi-dimensional data first")
    x = data["x"].values[:, 0]
    grid = np.linspace(*(x_range or (x.min(), x.max())), 200)
    phi = basis.features(grid)
    w = posterior_draws(posterior[["W"]])["W"].transpose("sample", "target", "feature").values
    for j, name in enumerate(targets):
        color = f"C{j}"
        seen = ~np.isnan(data[name].values)
        ax.plot(x[seen], data[name].values[seen], "o", color=color, ms=4, label=f"{name} data")
        plot_band(ax, grid, w[:, j] @ phi.T, color=color, label=name)
        if f"truth_W_{name}" in data.attrs:
            ax.plot(grid, phi @ np.asarray(data.attrs[f"truth_W_{name}"]), "--", color="k", lw=1)
    ax.set_xlabel(str(data[DESCRIPTOR].values[0]))
    ax.set_ylabel("target")
    ax.legend(fontsize="small")
