"""The posterior of a magnetic Compton profile, drawn over the data."""

from __future__ import annotations

import xarray as xr

from .model import PARAMETER_NAMES
from .physics import VARIABLE, components, forward

__all__ = ["plot_fit"]


def plot_fit(ax, data: xr.Dataset, posterior: xr.Dataset, **_) -> None:
    """Data, posterior band of the MCP, 3d and 4s terms at the posterior mean, truth."""
    from ..plotting import plot_band, plot_data, posterior_draws

    (dim,) = data[VARIABLE].dims
    p = data[dim].values
    draws = posterior_draws(posterior)
    values = {n: draws[n].values for n in PARAMETER_NAMES}
    plot_data(ax, data, VARIABLE)
    plot_band(ax, p, forward(p, **values))
    mean = {n: float(draws[n].mean("sample")) for n in PARAMETER_NAMES}
    parts = components(p, **mean)
    ax.plot(p, parts["3d"], ":", color="C0", lw=1.2, label="Fe 3d")
    ax.plot(p, parts["4s"], "--", color="C2", lw=1.2, label="Fe 4s")
    truth = {n: data.attrs[f"truth_{n}"] for n in PARAMETER_NAMES if f"truth_{n}" in data.attrs}
    if len(truth) == len(PARAMETER_NAMES) and data.attrs.get("truth_scale_3d", 1.0) == 1.0:
        ax.plot(p, forward(p, **truth), "k--", lw=1, label="truth")
    ax.axhline(0.0, color="0.6", lw=0.5)
    ax.set_xlabel("p_z [a.u.]")
    ax.set_ylabel("MCP [μ_B/a.u.]")
    ax.legend(fontsize="small")
