"""Posterior curves and plots of a SAS measurement; relabelling of populations."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import xarray as xr

from ..plotting import plot_band, posterior_draws, sort_labels
from .data import AXIS, COUNTS, VARIABLE
from .form_factors import FormFactor
from .intensity import forward, parameter_names
from .model import PARAMETERS, POPULATION_DIM

__all__ = ["plot_fit", "posterior_intensity", "relabel_populations"]


def relabel_populations(posterior: xr.Dataset, by: str = "radius") -> xr.Dataset:
    """Sort the populations of every draw by ``by`` (undoes label switching)."""
    return sort_labels(posterior, POPULATION_DIM, by)


def posterior_intensity(
    data: xr.Dataset,
    posterior: xr.Dataset,
    *,
    form: str | FormFactor = "sphere",
    fixed: Mapping[str, object] | None = None,
    max_draws: int = 200,
) -> np.ndarray:
    """Absolute intensity [cm⁻¹] of posterior draws at the data's q, shape (draws, n).

    Parameters absent from ``posterior`` are taken from ``fixed`` (the values the model
    was built with).
    """
    form = FormFactor.of(form)
    draws = posterior_draws(posterior, max_draws=max_draws)
    n_draws = draws.sizes["sample"]
    n_pop = len(posterior[POPULATION_DIM]) if POPULATION_DIM in posterior.coords else 1
    fixed = dict(fixed or {})
    values = {}
    for name in [*parameter_names(form), "background"]:
        if name in draws:
            values[name] = draws[name].values
        else:
            shape = (n_draws, n_pop) if PARAMETERS[name].dims else (n_draws,)
            values[name] = np.broadcast_to(np.asarray(fixed[name], float), shape)
    shape = {k: values[k] for k in form.shape_parameters}
    return forward(
        data[AXIS].values,
        radius=values["radius"],
        scale=values["scale"],
        background=values["background"],
        form=form,
        **shape,
    )


def plot_fit(
    ax,
    data: xr.Dataset,
    posterior: xr.Dataset,
    *,
    form: str | FormFactor = "sphere",
    fixed: Mapping[str, object] | None = None,
    **options,
) -> None:
    """Data, posterior band and the truth if known, on log–log axes (counts or cm⁻¹).

    ``form`` and ``fixed`` are those the model was built with; the other ``build_model``
    keywords (``n_populations``, ``noise``, ...) may be passed and are not needed.
    """
    form = FormFactor.of(form)
    q = data[AXIS].values
    counts = COUNTS in data
    factor = data.attrs["measurement_time"] if counts else 1.0
    curves = posterior_intensity(data, posterior, form=form, fixed=fixed) * factor
    observed = data[COUNTS if counts else VARIABLE].values
    ax.plot(q, np.where(observed > 0, observed, np.nan), ".", color="0.3", ms=3, label="data")
    plot_band(ax, q, curves)
    if "truth_radius" in data.attrs:
        truth_form = FormFactor(
            data.attrs.get("form", form.name),
            sld=data.attrs.get("sld", form.sld),
            sld_solvent=data.attrs.get("sld_solvent", form.sld_solvent),
            sld_shell=data.attrs.get("sld_shell"),
        )
        # per-population truths: netCDF reads a one-population array back as a scalar
        per_population = [
            np.atleast_1d(data.attrs[f"truth_{k}"])
            for k in ("radius", "scale", *truth_form.shape_parameters)
        ]
        radius, scale, *shape_values = per_population
        shape = dict(zip(truth_form.shape_parameters, shape_values, strict=True))
        truth = forward(
            q,
            radius=radius,
            scale=scale,
            background=data.attrs["truth_background"],
            form=truth_form,
            **shape,
        )
        ax.plot(q, truth * factor, "k--", lw=1, label="truth")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("q [1/Å]")
    ax.set_ylabel("counts" if counts else "I(q) [1/cm]")
    ax.legend(fontsize="small")
