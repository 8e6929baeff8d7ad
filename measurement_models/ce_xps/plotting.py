"""The Ce 3d XPS fit drawn: data, posterior band and truth."""

from __future__ import annotations

import xarray as xr

from .model import AXIS, VARIABLE, parameter_names
from .physics import forward

__all__ = ["plot_fit"]


def plot_fit(
    ax,
    data: xr.Dataset,
    posterior: xr.Dataset,
    *,
    resolution: float | None = None,
    spin_orbit: tuple[float, float] | None = None,
    label: str = "posterior",
    color: str = "C1",
    show_data: bool = True,
    **options,
) -> None:
    """Data, posterior band of the spectrum, and the truth if known.

    The number of configurations is read from the posterior (``u_ff`` present: three).
    ``show_data=False`` draws the band alone (to overlay several models on one axes);
    other options are ignored.
    """
    from ..plotting import plot_band, plot_data, posterior_draws

    energy = data[AXIS].values
    draws = posterior_draws(posterior)
    n_configurations = 3 if "u_ff" in draws else 2
    curves = forward(
        energy,
        **{name: draws[name].values for name in parameter_names(n_configurations)},
        n_configurations=n_configurations,
        resolution=resolution,
        spin_orbit=spin_orbit,
    )
    plot_band(ax, energy, curves, color=color, label=label)
    ax.set_xlabel("E_f − E_g [eV]")
    if not show_data:
        return
    plot_data(ax, data, VARIABLE)
    ax.set_xlabel("E_f − E_g [eV]")
    if "truth_delta" in data.attrs:
        truth_n = int(data.attrs.get("n_configurations", 3))
        truth = {n: data.attrs[f"truth_{n}"] for n in parameter_names(truth_n)}
        ax.plot(
            energy,
            forward(
                energy,
                **truth,
                n_configurations=truth_n,
                resolution=data.attrs.get("resolution", resolution),
                spin_orbit=spin_orbit,
            ),
            "k--",
            lw=1,
            label="truth",
        )
    ax.legend(fontsize="small")
