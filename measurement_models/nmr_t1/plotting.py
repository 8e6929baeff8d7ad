"""Posterior curves and plots of a T1 recovery curve; relabelling of components."""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..plotting import plot_band, plot_data, posterior_draws, sort_labels
from .data import AXIS, VARIABLE
from .model import COMPONENT_DIM
from .recovery import forward

__all__ = ["plot_fit", "posterior_curves", "relabel_components"]


def relabel_components(posterior: xr.Dataset) -> xr.Dataset:
    """Sort the components of every draw by ``T1`` (undoes label switching)."""
    return sort_labels(posterior, COMPONENT_DIM, "T1")


def posterior_curves(
    time: np.ndarray,
    posterior: xr.Dataset,
    *,
    spin=0.5,
    transition: str = "central",
    max_draws: int = 200,
) -> np.ndarray:
    """:math:`M(t)` of posterior draws, shape (draws, n); absent parameters at defaults."""
    draws = posterior_draws(posterior, max_draws=max_draws)

    def get(name, default=None):
        return draws[name].values if name in draws else default

    return forward(
        np.asarray(time, dtype=float),
        T1=get("T1"),
        M0=get("M0", 1.0),
        offset=get("offset", 0.0),
        spin=spin,
        transition=transition,
        weight=get("weight"),
        stretch=get("stretch"),
        inversion=get("inversion", 1.0),
    )


def plot_fit(
    ax,
    data: xr.Dataset,
    posterior: xr.Dataset,
    *,
    spin=None,
    transition: str | None = None,
    **options,
) -> None:
    """Data, posterior band of :math:`M(t)` on a log time axis, and the truth if known.

    ``spin`` and ``transition`` default to the data's attrs (as
    :func:`~measurement_models.nmr_t1.data.simulate` sets them), else I = 1/2, central
    line. The other ``build_model`` keywords (``variant``, ``method``, ...) may be
    passed and are not needed.
    """
    spin = data.attrs.get("spin", 0.5) if spin is None else spin
    transition = data.attrs.get("transition", "central") if transition is None else transition
    time = data[AXIS].values
    fine = np.geomspace(time[0], time[-1], 200)
    plot_data(ax, data, VARIABLE)
    plot_band(ax, fine, posterior_curves(fine, posterior, spin=spin, transition=transition))
    if "truth_T1" in data.attrs:
        attrs = data.attrs
        truth = forward(
            fine,
            T1=np.asarray(attrs["truth_T1"]),
            M0=attrs["truth_M0"],
            offset=attrs.get("truth_offset", 0.0),
            spin=spin,
            transition=transition,
            weight=attrs.get("truth_weight"),
            stretch=attrs.get("truth_stretch"),
            inversion=attrs.get("truth_inversion", 1.0),
        )
        ax.plot(fine, truth, "k--", lw=1, label="truth")
    ax.set_xscale("log")
    ax.set_xlabel("time [s]")
    ax.set_ylabel(f"{VARIABLE} [{data[VARIABLE].attrs.get('units', '')}]")
    ax.legend(fontsize="small")
