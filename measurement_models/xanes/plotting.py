"""The fit of a XANES spectrum: data, posterior band, components, truth."""

from __future__ import annotations

import xarray as xr

from ..plotting import plot_band, plot_data, posterior_draws
from .datasets import VARIABLE
from .physics import FORWARD_PARAMETERS, components, forward

__all__ = ["plot_fit"]


def plot_fit(ax, data: xr.Dataset, posterior: xr.Dataset, **options) -> None:
    """Data, posterior band of μ(E), components at the posterior mean, truth if known.

    ``options`` (such as ``build_model``'s keywords) are ignored: everything is read from
    the data and the posterior.
    """
    (dim,) = data[VARIABLE].dims
    energy = data[dim].values
    draws = posterior_draws(posterior)
    values = {n: draws[n].values for n in FORWARD_PARAMETERS if n in draws}
    plot_data(ax, data, VARIABLE)
    plot_band(ax, energy, forward(energy, **values))
    mean = {n: draws[n].mean("sample").values for n in values}
    parts = components(energy, **mean)
    base = parts["background"]
    ax.plot(energy, parts["step"] + base, color="C2", lw=1, label="step + background")
    if "white_line" in parts:
        ax.plot(energy, parts["white_line"] + base, color="C4", lw=1, label="white line")
    for k, peak in enumerate(parts.get("gaussians", [])):
        ax.plot(energy, peak + base, color="C0", lw=1, label="Gaussians" if k == 0 else None)
    truth = {n: data.attrs[f"truth_{n}"] for n in FORWARD_PARAMETERS if f"truth_{n}" in data.attrs}
    if truth:
        ax.plot(energy, forward(energy, **truth), "k--", lw=1, label="truth")
    ax.set_ylabel("normalised μ")
    ax.legend(fontsize="small")
