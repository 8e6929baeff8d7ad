"""The crystal-field PyMC model: parameter table, priors, likelihood, factory, simulation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from ..data import make_dataset, validate_dataset
from ..hermitian import reject_non_finite
from ..noise import noise_sd
from ..parameters import Parameter, ParameterTable, Prior, PriorSpec
from .physics import (
    OBSERVABLES,
    SMALL_FIELD,
    Ion,
    check_observable,
    check_temperature,
    forward,
    get_ion,
    parameter_names,
)
from .references import NOISE_LEVELS, REFERENCES

__all__ = [
    "AXIS",
    "PARAMETERS",
    "VARIABLE",
    "add_likelihood",
    "add_priors",
    "build_model",
    "example_data",
    "observable_of",
    "simulate",
    "simulate_reference",
]

#: The data variable of the default observable (each dataset holds one observable,
#: named after it: :data:`~.physics.OBSERVABLES`).
VARIABLE = "specific_heat"
#: The measurement axis, K.
AXIS = "temperature"


def _b_parameter(name: str) -> Parameter:
    k, q = int(name[1]), int(name[2])
    bound = 0.01 if k == 6 else 1.0
    return Parameter(
        name,
        "K",
        Prior("Uniform", lower=-bound, upper=bound),
        f"crystal-field parameter B_{k}^{q}, coefficient of O_{k}^{q}"
        + (" (cubic: of the cubic combination)" if q == 0 and k > 2 else ""),
    )


#: Parameter table: every crystal-field parameter B_k^q that a symmetry may use, and the noise.
PARAMETERS = ParameterTable(
    (
        *(
            _b_parameter(name)
            for name in ("B20", "B22", "B40", "B42", "B43", "B44", "B60", "B62", "B63", "B64")
        ),
        _b_parameter("B66"),
        Parameter(
            "sigma",
            "data",
            Prior("HalfNormal", sigma=1.0),
            "noise standard deviation (when not known)",
            role="noise",
        ),
    )
)


def observable_of(data: xr.Dataset, observable: str | None = None) -> str:
    """The observable a dataset holds: ``observable`` (checked), or the one present.

    Raises
    ------
    ValueError
        Bad data (:func:`~measurement_models.data.validate_dataset`, axis ``temperature``),
        an unknown observable, none present, or several present without ``observable``.
    """
    if observable is not None:
        check_observable(observable)
        validate_dataset(data, variables=[observable], axis=AXIS)
        return observable
    validate_dataset(data)
    present = [name for name in OBSERVABLES if name in data.data_vars]
    if not present:
        raise ValueError(
            f"missing data variable: one of {list(OBSERVABLES)} is needed; present: "
            f"{list(data.data_vars)}"
        )
    if len(present) > 1:
        raise ValueError(f"the data hold several observables {present}: pass observable=")
    validate_dataset(data, axis=AXIS)
    return present[0]


def add_priors(
    data: xr.Dataset | None = None,
    *,
    ion: str | Ion = "Ce3+",
    symmetry: str = "cubic",
    priors: Mapping[str, PriorSpec] | None = None,
    fixed: Mapping[str, object] | None = None,
    prefix: str = "",
    names: Sequence[str] | None = None,
) -> dict[str, pt.TensorVariable]:
    """Add the crystal-field parameters' priors (not ``sigma``) to the current model.

    Parameters
    ----------
    data : xarray.Dataset, optional
        Not used: the default priors do not depend on the data.
    ion : str or Ion
    symmetry : str
        A key of :data:`~.physics.SYMMETRIES`; the parameters are :func:`parameter_names`.
    priors : mapping, optional
        Prior overrides by parameter name.
    fixed : mapping, optional
        Parameters held at a value (constants, not variables).
    prefix : str
        Prepended to every variable name (as
        :func:`measurement_models.integration.integrated_model` uses it).
    names : sequence of str, optional
        Only these parameters (default: all of the symmetry for this ion).

    Returns
    -------
    dict
        Parameter name (without prefix) to PyMC variable or constant.

    Raises
    ------
    ValueError
        For names or fixed values of parameters the model does not have.
    """
    wanted = parameter_names(ion, symmetry)
    for what, given, allowed in (
        ("parameter(s)", names or [], wanted),
        ("fixed value(s) for", fixed or {}, [*wanted, "sigma"]),
    ):
        unknown = [name for name in given if name not in allowed]
        if unknown:
            raise ValueError(f"no {what} {unknown} in this model; its parameters: {wanted}")
    if names is not None:
        wanted = [name for name in wanted if name in names]
    return PARAMETERS.add_priors(wanted, priors, prefix=prefix, fixed=fixed)


def add_likelihood(
    data: xr.Dataset,
    params: Mapping[str, pt.TensorVariable],
    *,
    sigma=None,
    name: str = VARIABLE,
    ion: str | Ion = "Ce3+",
    symmetry: str = "cubic",
    observable: str | None = None,
    field: float | None = None,
    direction=None,
    mutable_data: bool = False,
) -> pt.TensorVariable:
    """Add the Gaussian likelihood of one crystal-field dataset to the current model.

    The mean goes through :func:`~measurement_models.hermitian.reject_non_finite` (a
    Potential named ``<name>_finite``: log-density −∞ if a solve fails; the noise scan
    knows it is not a likelihood term).

    Parameters
    ----------
    data : xarray.Dataset
        Axis ``temperature`` (K) and one observable variable (:data:`~.physics.OBSERVABLES`).
    params : mapping
        Parameter name to variable; the ones of :func:`parameter_names` are used.
    sigma : float, array or TensorVariable, optional
        Noise standard deviation; default: the data's ``sigma`` variable.
    name : str
        Name of the observed variable (:func:`build_model` names it after the observable).
    ion, symmetry
        As in :func:`~.physics.hamiltonian`.
    observable : str, optional
        Default: the observable variable present in ``data``.
    field, direction
        For magnetic observables; default: ``data.attrs["field"]`` and
        ``data.attrs["field_direction"]``, else 0.01 T along z.
    mutable_data : bool
        The observed values (and the data's ``sigma``) in ``pm.Data`` containers
        ``<name>_observed`` (``<name>_sigma``).

    Raises
    ------
    ValueError
        Bad data, missing parameters, or no noise level (neither ``sigma`` nor a data
        variable ``sigma``).
    """
    observable = observable_of(data, observable)
    ion = get_ion(ion)
    needed = parameter_names(ion, symmetry)
    missing = [p for p in needed if p not in params]
    if missing:
        raise ValueError(f"missing parameter(s) {missing} for the {symmetry} crystal field")
    field = data.attrs.get("field", SMALL_FIELD) if field is None else field
    direction = data.attrs.get("field_direction", "z") if direction is None else direction
    observed = data[observable].values
    if sigma is None:
        if "sigma" not in data.data_vars:
            raise ValueError("no noise level: pass sigma or give the data a 'sigma' variable")
        sigma = data["sigma"].values
        if mutable_data:
            sigma = pm.Data(f"{name}_sigma", sigma)
    if mutable_data:
        observed = pm.Data(f"{name}_observed", observed)
    mean = forward(
        data[AXIS].values,
        observable=observable,
        ion=ion,
        symmetry=symmetry,
        field=field,
        direction=direction,
        **{p: params[p] for p in needed},
    )
    mean = reject_non_finite(mean, f"{name}_finite")
    return pm.Normal(name, mu=mean, sigma=sigma, observed=observed)


def build_model(
    data: xr.Dataset,
    *,
    ion: str | Ion = "Ce3+",
    symmetry: str = "cubic",
    observable: str | None = None,
    field: float | None = None,
    direction=None,
    priors: Mapping[str, PriorSpec] | None = None,
    sigma: float | None = None,
    fixed: Mapping[str, object] | None = None,
    mutable_data: bool = False,
    prefix: str | None = None,
) -> pm.Model:
    """PyMC model of one crystal-field measurement.

    Parameters
    ----------
    data : xarray.Dataset
        See :func:`add_likelihood`.
    ion, symmetry
        The ion (:data:`~.physics.IONS` or an :class:`~.physics.Ion`) and the symmetry
        (:data:`~.physics.SYMMETRIES`).
    observable, field, direction
        See :func:`add_likelihood`.
    priors : mapping, optional
        Prior overrides by parameter name.
    sigma : float, optional
        Known noise standard deviation; default: the data's ``sigma`` variable, else a
        ``sigma`` parameter.
    fixed : mapping, optional
        Parameters held at a value.
    mutable_data : bool
        The measurement in ``pm.Data`` containers (see :func:`add_likelihood`).
    prefix : str, optional
        Prepended to every variable name.

    Returns
    -------
    pymc.Model
        Free variables: the B parameters (and ``sigma``); observed: the observable.
    """
    observable = observable_of(data, observable)
    parameter_names(ion, symmetry)  # checks ion and symmetry first
    prefix = prefix or ""
    with pm.Model() as model:
        params = add_priors(
            data, ion=ion, symmetry=symmetry, priors=priors, fixed=fixed, prefix=prefix
        )
        if sigma is not None or "sigma" not in data.data_vars:  # else the likelihood reads it
            sigma = noise_sd(data, sigma, PARAMETERS, priors, prefix=prefix, fixed=fixed)
        add_likelihood(
            data,
            params,
            sigma=sigma,
            name=prefix + observable,
            ion=ion,
            symmetry=symmetry,
            observable=observable,
            field=field,
            direction=direction,
            mutable_data=mutable_data,
        )
    return model


def simulate(
    temperature,
    *,
    rng: np.random.Generator | int | None = None,
    sigma: float = 0.01,
    observable: str = VARIABLE,
    ion: str | Ion = "Ce3+",
    symmetry: str = "cubic",
    field: float = SMALL_FIELD,
    direction="z",
    **params: float,
) -> xr.Dataset:
    """Simulate one observable with Gaussian noise from a seeded generator.

    ``params`` are the crystal-field parameters as keywords (one value each). The truth
    is kept in ``attrs`` (``truth_<parameter>``, ``truth_sigma``) with ``ion``,
    ``symmetry``, ``field`` (T) and ``field_direction``.
    """
    rng = np.random.default_rng(rng)
    t = check_temperature(temperature)
    if not np.isfinite(sigma) or sigma <= 0:
        raise ValueError(f"sigma must be positive and finite, got {sigma!r}")
    ion = get_ion(ion)
    clean = forward(
        t,
        observable=observable,
        ion=ion,
        symmetry=symmetry,
        field=field,
        direction=direction,
        **params,
    )
    if np.shape(clean) != t.shape:
        raise ValueError("simulate takes one parameter set (scalars), not a batch")
    unit, long_name = OBSERVABLES[observable]
    ds = make_dataset(
        t,
        clean + sigma * rng.standard_normal(t.shape),
        sigma=np.full(t.shape, float(sigma)),
        axis=AXIS,
        axis_units="K",
        variable=observable,
        units=unit,
        attrs={
            **{f"truth_{k}": float(v) for k, v in params.items()},
            "truth_sigma": float(sigma),
            "ion": ion.name,
            "symmetry": symmetry,
            "field": float(field),
            "field_direction": direction if isinstance(direction, str) else np.asarray(direction),
        },
    )
    ds[observable].attrs["long_name"] = long_name
    return ds


def simulate_reference(
    symmetry: str = "cubic", noise: str = "low", rng: np.random.Generator | int | None = 0
) -> dict[str, xr.Dataset]:
    """The lecture's two measurements of Ce³⁺: ``inverse_susceptibility`` and ``specific_heat``.

    The settings of ``REFERENCES["okada_<symmetry>"]`` (T = 0.2, 0.4, …, 70 K, 350 points
    each; 0.01 T along z), noise ``NOISE_LEVELS[noise]``; both from one seeded generator
    (1/χ first).
    """
    if noise not in NOISE_LEVELS:
        raise ValueError(f"unknown noise case {noise!r}; choose one of {list(NOISE_LEVELS)}")
    settings = REFERENCES.get(f"okada_{symmetry}")
    if settings is None:
        raise ValueError(f"the lecture has no {symmetry!r} case; choose 'cubic' or 'tetragonal'")
    rng = np.random.default_rng(rng)
    return {
        observable: simulate(
            settings.x,
            rng=rng,
            sigma=NOISE_LEVELS[noise][observable],
            observable=observable,
            ion=settings.structure["ion"],
            symmetry=symmetry,
            field=SMALL_FIELD,
            direction="z",
            **settings.params,
        )
        for observable in ("inverse_susceptibility", "specific_heat")
    }


def example_data(rng: np.random.Generator | int | None = 0) -> tuple[xr.Dataset, dict]:
    """Specific heat of cubic Ce³⁺ (B40 = 0.1167 K) at 40 temperatures, σ = 0.01 J/mol/K."""
    truth = {"B40": 0.1167}
    t = np.linspace(1.0, 70.0, 40)
    return simulate(t, rng=rng, sigma=0.01, observable="specific_heat", **truth), truth
