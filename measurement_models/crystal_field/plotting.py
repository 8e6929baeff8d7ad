"""The crystal-field fit drawn: data, posterior band and truth."""

from __future__ import annotations

import xarray as xr

from .model import AXIS, observable_of
from .physics import OBSERVABLES, SMALL_FIELD, Ion, forward, parameter_names

__all__ = ["plot_fit"]


def plot_fit(
    ax,
    data: xr.Dataset,
    posterior: xr.Dataset,
    *,
    ion: str | Ion | None = None,
    symmetry: str | None = None,
    observable: str | None = None,
    **options,
) -> None:
    """Data, posterior band of the observable, and the truth if known.

    ``ion`` and ``symmetry`` default to the data's attrs (as
    :func:`~measurement_models.crystal_field.simulate` writes them); other options are
    ignored.
    """
    from ..plotting import plot_band, plot_data, posterior_draws

    observable = observable_of(data, observable)
    ion = data.attrs.get("ion", "Ce3+") if ion is None else ion
    symmetry = data.attrs.get("symmetry", "cubic") if symmetry is None else symmetry
    settings = {
        "observable": observable,
        "ion": ion,
        "symmetry": symmetry,
        "field": data.attrs.get("field", SMALL_FIELD),
        "direction": data.attrs.get("field_direction", "z"),
    }
    names = parameter_names(ion, symmetry)
    t = data[AXIS].values
    draws = posterior_draws(posterior)
    curves = forward(t, **settings, **{p: draws[p].values for p in names})
    plot_data(ax, data, observable)
    plot_band(ax, t, curves)
    if all(f"truth_{p}" in data.attrs for p in names):
        truth = {p: data.attrs[f"truth_{p}"] for p in names}
        ax.plot(t, forward(t, **settings, **truth), "k--", label="truth")
    ax.set_ylabel(f"{observable} [{OBSERVABLES[observable][0]}]")
    ax.legend(fontsize="small")
