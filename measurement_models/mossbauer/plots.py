"""Posterior spectra and the fit plot of a Mössbauer spectrum."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

from ..plotting import plot_band, posterior_draws, sort_labels
from .model import AXIS, PARAMETERS, SITE_DIM, VARIABLE, _axis, velocity_of
from .simulation import _TRUTH_NAMES
from .spectrum import forward

__all__ = ["plot_fit", "posterior_spectra", "relabel_sites"]


def relabel_sites(posterior: xr.Dataset, by: str = "delta") -> xr.Dataset:
    """Sort the sites of every draw by ``by`` (undoes label switching between sites)."""
    return sort_labels(posterior, SITE_DIM, by)


def posterior_spectra(
    data: xr.Dataset,
    posterior: xr.Dataset,
    *,
    geometry: str = "powder",
    fixed: Mapping[str, object] | None = None,
    max_draws: int = 200,
) -> tuple[np.ndarray, np.ndarray]:
    """Velocities (draws, n) and expected counts (draws, n) of posterior draws.

    ``fixed`` gives the values of parameters the model held fixed (as in
    :func:`~measurement_models.mossbauer.model.build_model`).
    """
    draws = posterior_draws(posterior, max_draws=max_draws)
    n = draws.sizes["sample"]
    fixed = dict(fixed or {})
    values = {}
    for name in PARAMETERS.names:
        if name in draws:
            values[name] = draws[name].values
        elif name in fixed:
            shape = (n, len(posterior[SITE_DIM])) if PARAMETERS[name].dims else (n,)
            values[name] = np.broadcast_to(np.asarray(fixed[name], float), shape)
    velocity = np.broadcast_to(velocity_of(data, values), (n, data[VARIABLE].size))
    site = {k: values[k] for k in _TRUTH_NAMES if k in values}
    counts = forward(
        velocity,
        **site,
        epsilon=values["epsilon"],
        baseline=values["baseline"],
        geometry=geometry,
        k_theta=values.get("k_theta"),
        k_phi=values.get("k_phi"),
    )
    return velocity, counts


def plot_fit(
    ax,
    data: xr.Dataset,
    posterior: xr.Dataset,
    *,
    geometry: str = "powder",
    fixed: Mapping[str, object] | None = None,
    **options,
) -> None:
    """Data, posterior band of the expected counts, and the truth if known.

    ``geometry`` and ``fixed`` as given to
    :func:`~measurement_models.mossbauer.model.build_model`; its other keywords
    (``variant``, ``n_sites``, ...) may be passed too and are not needed here.
    """
    velocity, counts = posterior_spectra(data, posterior, geometry=geometry, fixed=fixed)
    v = velocity.mean(axis=0)
    ax.plot(v, data[VARIABLE].values, ".", color="0.3", ms=3, label="data")
    plot_band(ax, v, counts)
    if "truth_delta" in data.attrs and _axis(data) == AXIS:
        truth = {k: data.attrs[f"truth_{k}"] for k in _TRUTH_NAMES if f"truth_{k}" in data.attrs}
        expected = forward(
            v,
            **truth,
            epsilon=data.attrs["truth_epsilon"],
            baseline=data.attrs["truth_baseline"],
            geometry=data.attrs.get("geometry", "powder"),
            k_theta=data.attrs.get("truth_k_theta"),
            k_phi=data.attrs.get("truth_k_phi"),
        )
        ax.plot(v, expected, "k--", lw=1, label="truth")
    ax.set_xlabel("velocity [mm/s]")
    ax.set_ylabel("counts")
    ax.legend(fontsize="small")
