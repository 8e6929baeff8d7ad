"""The NiO fit drawn: data, posterior band and truth of one spectrum."""

from __future__ import annotations

import numpy as np
import xarray as xr

from .model import AXIS, VARIABLE
from .physics import PER_SPECTRUM, PHYSICAL, forward

__all__ = ["plot_fit"]

_FORWARD = PHYSICAL + PER_SPECTRUM


def _draw_values(posterior: xr.Dataset, prefix: str) -> dict[str, np.ndarray]:
    values = {}
    for name in _FORWARD:
        key = prefix + name if prefix + name in posterior else name
        if key not in posterior:
            raise ValueError(f"the posterior has no {prefix + name!r} or {name!r}")
        values[name] = posterior[key].values
    return values


def plot_fit(
    ax,
    data: xr.Dataset,
    posterior: xr.Dataset,
    *,
    spectrum: str | None = None,
    prefix: str = "",
    resolution: float | None = None,
    spin_orbit: tuple[float, float] | None = None,
    **options,
) -> None:
    """Data, posterior band of the spectrum, and the truth if known.

    ``prefix`` names a measurement's own parameters in an integrated model (e.g.
    ``"xps_"`` for ``xps_amplitude``); shared parameters are found without it. Other
    options are ignored.
    """
    from ..plotting import plot_band, plot_data, posterior_draws

    spectrum = spectrum or data.attrs.get("spectrum", "xps")
    settings = {"spectrum": spectrum, "resolution": resolution, "spin_orbit": spin_orbit}
    energy = data[AXIS].values
    draws = posterior_draws(posterior)
    curves = forward(energy, **settings, **_draw_values(draws, prefix))
    plot_data(ax, data, VARIABLE)
    plot_band(ax, energy, curves)
    if all(f"truth_{name}" in data.attrs for name in _FORWARD):
        truth = {name: data.attrs[f"truth_{name}"] for name in _FORWARD}
        ax.plot(energy, forward(energy, **settings, **truth), "k--", lw=1, label="truth")
    label = "binding energy" if spectrum == "xps" else "photon energy"
    ax.set_xlabel(f"{label} (relative) [eV]")
    ax.set_title(f"Ni 2p {spectrum.upper()}", fontsize="medium")
    ax.legend(fontsize="small")
