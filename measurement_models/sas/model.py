r"""The PyMC model of a SAS measurement: parameter table, priors, likelihood, factory.

:func:`add_priors` adds the per-population parameters (radius, volume fraction, shape),
:func:`add_likelihood` one measurement's background, noise and likelihood (Poisson
counts :math:`y_i \sim \mathrm{Poisson}(t\,I(q_i))`, or Gaussian absolute intensity
:math:`I_i \sim N(I(q_i), \sigma_i^2)`), and :func:`build_model` both. The equations,
units and priors are in :mod:`measurement_models.sas`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from ..hermitian import reject_non_finite
from ..noise import noise_sd
from ..parameters import Parameter, ParameterTable, Prior, PriorSpec, fixed_constant
from .data import AXIS, COUNTS, VARIABLE, check_data, resolve_measurement_time
from .form_factors import FormFactor
from .intensity import forward, parameter_names

__all__ = [
    "PARAMETERS",
    "POPULATION_DIM",
    "add_likelihood",
    "add_priors",
    "build_model",
]

#: Dimension of the particle populations.
POPULATION_DIM = "population"
_POP = (POPULATION_DIM,)

#: Parameter table: size, volume fraction and shape per population, background and noise.
PARAMETERS = ParameterTable(
    (
        Parameter(
            "radius",
            "Å",
            Prior("Uniform", lower=10.0, upper=1000.0),
            "sphere radius (core radius of a core–shell sphere) of each population",
            _POP,
        ),
        Parameter(
            "scale",
            "",
            Prior("Uniform", lower=0.0, upper=1.0),
            "volume fraction φ of each population (sasmodels' scale)",
            _POP,
        ),
        Parameter(
            "pd",
            "",
            Prior("Uniform", lower=0.0, upper=0.4),
            "relative width σ_R/R of the size distribution (polydisperse spheres)",
            _POP,
        ),
        Parameter(
            "thickness",
            "Å",
            Prior("Uniform", lower=0.0, upper=200.0),
            "shell thickness (core–shell spheres)",
            _POP,
        ),
        Parameter(
            "background",
            "1/cm",
            Prior("HalfNormal", sigma=1.0),
            "flat background b (incoherent and instrumental)",
            role="instrument",
        ),
        Parameter(
            "sigma",
            "1/cm",
            Prior("HalfNormal", sigma=1.0),
            "noise standard deviation (Gaussian noise, when the data have no sigma)",
            role="noise",
        ),
    )
)


def _check_n_populations(n_populations) -> int:
    try:
        valid = not isinstance(n_populations, bool) and int(n_populations) == n_populations
        valid = valid and n_populations >= 1
    except (TypeError, ValueError):
        valid = False
    if not valid:
        raise ValueError(
            f"n_populations must be a positive integer (the number of particle "
            f"populations), got {n_populations!r}"
        )
    return int(n_populations)


def add_priors(
    data: xr.Dataset | None = None,
    *,
    form: str | FormFactor = "sphere",
    n_populations: int = 1,
    priors: Mapping[str, PriorSpec] | None = None,
    fixed: Mapping[str, object] | None = None,
    prefix: str = "",
    names: Sequence[str] | None = None,
) -> dict[str, pt.TensorVariable]:
    """Add the per-population priors to the current model (coordinate ``population``).

    The background and the noise level belong to one measurement: :func:`add_likelihood`
    adds them.

    Parameters
    ----------
    data : xarray.Dataset, optional
        Accepted for the common signature of the measurement modules; the SAS priors
        do not depend on the data.
    form : str or FormFactor
        Decides the shape parameters (``pd``, ``thickness``).
    n_populations : int
        Number of particle populations K.
    priors : mapping, optional
        Prior overrides by parameter name (those of other parameters are ignored here).
    fixed : mapping, optional
        Parameters held at given values (scalar or one per population), e.g. the
        paper's known volume fraction ``{"scale": 0.01}``.
    prefix : str
        Prepended to every variable name (several parameter sets in one model).
    names : sequence of str, optional
        Only these of the form factor's parameters (default: all).

    Returns
    -------
    dict
        Parameter name (without prefix) to PyMC variable or constant.

    Raises
    ------
    ValueError
        A bad number of populations (also against the model's ``population``
        coordinate or the length of a fixed value), unknown ``names``.
    """
    n = _check_n_populations(n_populations)
    wanted = parameter_names(form)
    if names is not None:
        unknown = [name for name in names if name not in wanted]
        if unknown:
            raise ValueError(f"no parameter(s) {unknown} for {form}; parameters: {wanted}")
        wanted = [name for name in wanted if name in names]
    model = pm.modelcontext(None)
    if POPULATION_DIM not in model.coords:
        model.add_coord(POPULATION_DIM, np.arange(n))
    elif len(model.coords[POPULATION_DIM]) != n:
        raise ValueError(
            f"the model's {POPULATION_DIM!r} coordinate does not have {n} entries "
            f"(wrong number of populations)"
        )
    fixed = dict(fixed or {})
    sampled = [name for name in wanted if name not in fixed]
    params = PARAMETERS.add_priors(
        sampled, {k: v for k, v in (priors or {}).items() if k in sampled}, prefix=prefix
    )
    hint = "wrong number of populations?"
    params.update({k: fixed_constant(k, fixed[k], (n,), hint) for k in wanted if k in fixed})
    return params


def _containers(data: xr.Dataset, name: str, noise: str, time, mutable: bool) -> dict:
    """Axis, observations and t as constants, or as ``pm.Data`` if ``mutable``."""
    variable = COUNTS if noise == "poisson" else VARIABLE
    dtype = np.int64 if noise == "poisson" else np.float64
    values = {
        "q": data[AXIS].values.astype(np.float64),
        "observed": data[variable].values.astype(dtype),
    }
    if time is not None:
        values["measurement_time"] = np.float64(time)
    if not mutable:
        return values
    return {key: pm.Data(f"{name}_{key}", value) for key, value in values.items()}


def _physical(params: Mapping[str, pt.TensorVariable], background) -> pt.TensorVariable:
    """R > 0 and scale, pd, thickness, background ≥ 0 (priors with a wider support)."""
    checks = [pt.all(pt.as_tensor_variable(params["radius"]) > 0)]
    for value in [params[k] for k in ("scale", "pd", "thickness") if k in params] + [background]:
        checks.append(pt.all(pt.as_tensor_variable(value) >= 0))
    return functools.reduce(pt.and_, checks)


def _only(mapping: Mapping[str, object] | None, name: str) -> dict[str, object]:
    return {k: v for k, v in (mapping or {}).items() if k == name}


def add_likelihood(
    data: xr.Dataset,
    params: Mapping[str, pt.TensorVariable],
    *,
    sigma=None,
    name: str = VARIABLE,
    form: str | FormFactor = "sphere",
    noise: str = "poisson",
    measurement_time: float | None = None,
    priors: Mapping[str, PriorSpec] | None = None,
    fixed: Mapping[str, object] | None = None,
    prefix: str | None = None,
    mutable_data: bool = False,
) -> pt.TensorVariable:
    """Add one measurement's background, noise and likelihood to the current model.

    Parameters
    ----------
    data : xarray.Dataset
        ``counts`` along ``q`` with ``attrs["measurement_time"]`` (Poisson), or
        ``intensity`` [cm⁻¹] along ``q``, optionally with ``sigma`` (Gaussian).
    params : mapping
        ``radius``, ``scale`` and shape parameters from :func:`add_priors`.
    sigma : float, array or TensorVariable, optional
        Known Gaussian noise sd [cm⁻¹] (a number, one per point, or a variable as
        :func:`~measurement_models.integration.integrated_model` passes); else a fixed
        ``sigma`` in ``fixed``, else the data's ``sigma``, else a ``sigma`` parameter.
        Gaussian noise only.
    name : str
        Name of the observed variable (:func:`build_model` names count data
        ``counts``, absolute intensity ``intensity``).
    form : str or FormFactor
    noise : {"poisson", "gaussian"}
    measurement_time : float, optional
        :math:`t` [counts per cm⁻¹], overriding ``attrs["measurement_time"]``.
    priors, fixed : mapping, optional
        Prior overrides and fixed values for ``background`` and ``sigma``.
    prefix : str, optional
        Prepended to ``background`` (and ``sigma``): default none for the names
        ``intensity`` and ``counts``, ``"<name>_"`` otherwise (several measurements in
        one model).
    mutable_data : bool
        Put q, the observations and t in ``pm.Data`` containers (``<name>_q``, ...), so
        that models of equal structure share one compiled graph across datasets.

    Returns
    -------
    TensorVariable
        The observed variable. Non-finite intensities, and unphysical parameters from
        user priors (R ≤ 0; negative scale, pd, thickness or background), make the
        log-density −inf (potential ``<name>_non_finite``).

    Raises
    ------
    ValueError
        Bad data (see :func:`~measurement_models.sas.data.check_data`), a missing or
        bad measurement time, ``sigma`` with Poisson counts, a non-positive ``sigma``.
    """
    check_data(data, noise)
    if noise == "poisson" and sigma is not None:
        raise ValueError("sigma is for Gaussian noise; Poisson counts have no free noise level")
    form = FormFactor.of(form)
    prefix = ("" if name in (VARIABLE, COUNTS) else f"{name}_") if prefix is None else prefix
    time = resolve_measurement_time(data, measurement_time) if noise == "poisson" else None
    box = _containers(data, name, noise, time, mutable_data)
    fixed = dict(fixed or {})
    if "background" in fixed:
        background = fixed_constant("background", fixed["background"], ())
    else:
        overrides = _only(priors, "background")
        background = PARAMETERS.add_priors(["background"], overrides, prefix=prefix)["background"]
    shape = {k: params[k] for k in form.shape_parameters}
    mean = forward(
        box["q"],
        radius=params["radius"],
        scale=params["scale"],
        background=background,
        form=form,
        **shape,
    )
    mean = pt.switch(_physical(params, background), mean, np.nan)
    mean = reject_non_finite(mean, f"{name}_non_finite")
    if noise == "poisson":
        return pm.Poisson(name, mu=box["measurement_time"] * mean, observed=box["observed"])
    sd = noise_sd(data, sigma, PARAMETERS, _only(priors, "sigma"), prefix=prefix, fixed=fixed)
    return pm.Normal(name, mu=mean, sigma=sd, observed=box["observed"])


def build_model(
    data: xr.Dataset,
    *,
    form: str | FormFactor = "sphere",
    n_populations: int = 1,
    noise: str = "poisson",
    measurement_time: float | None = None,
    priors: Mapping[str, PriorSpec] | None = None,
    sigma: float | None = None,
    fixed: Mapping[str, object] | None = None,
    mutable_data: bool = False,
    prefix: str | None = None,
) -> pm.Model:
    """PyMC model of one SAS measurement.

    Parameters
    ----------
    data : xarray.Dataset
        ``counts`` along ``q`` [Å⁻¹] with ``attrs["measurement_time"]``
        (:func:`~measurement_models.sas.data.counts_dataset`,
        :func:`~measurement_models.sas.data.simulate`), or ``intensity`` [cm⁻¹] with
        ``sigma`` (:func:`~measurement_models.sas.data.load`) for ``noise="gaussian"``.
    form : str or FormFactor
        ``"sphere"``, ``"polydisperse_sphere"``, ``"core_shell_sphere"`` (default
        settings), or a :class:`~measurement_models.sas.form_factors.FormFactor` with
        SLDs and quadrature.
    n_populations : int
        Number of particle populations K, each with its own radius, volume fraction
        and shape parameters.
    noise : {"poisson", "gaussian"}
        Poisson counts (default), or Gaussian absolute intensity.
    measurement_time : float, optional
        :math:`t`, if not in the data's attrs (Poisson only).
    priors : mapping, optional
        Prior overrides by parameter name.
    sigma : float, optional
        Known Gaussian noise sd (Gaussian noise only).
    fixed : mapping, optional
        Parameters held at given values, e.g. ``{"scale": 0.01}``.
    mutable_data : bool
        Data in ``pm.Data`` containers (one compiled graph for many datasets).
    prefix : str, optional
        Prepended to every variable name (free, observed, data containers).

    Returns
    -------
    pymc.Model
        Per-population parameters with dim ``population``; ``background``; observed
        variable ``counts`` (Poisson) or ``intensity`` (Gaussian).

    Raises
    ------
    ValueError
        Bad data (NaN, unsorted or repeated q, negative or non-integer counts, q ≤ 0,
        missing variables, ...), a non-positive or missing measurement time, an unknown
        form factor, distribution or noise model, a bad number of populations, or
        priors or fixed values for parameters the model does not have.
    """
    check_data(data, noise)
    form = FormFactor.of(form)
    n = _check_n_populations(n_populations)
    if noise == "poisson":
        if sigma is not None:
            raise ValueError("sigma is for Gaussian noise; Poisson counts have no free noise level")
        resolve_measurement_time(data, measurement_time)
    elif measurement_time is not None:
        raise ValueError("measurement_time is for Poisson counts, not Gaussian intensities")
    used = [*parameter_names(form), "background"]
    if noise == "gaussian":
        used.append("sigma")
    for what, names in (("prior", priors or {}), ("fixed value", fixed or {})):
        unknown = sorted(set(names) - set(used))
        if unknown:
            raise ValueError(
                f"{what} given for parameter(s) {unknown} that the {form.name} model does "
                f"not have; its parameters: {used}"
            )
    prefix = prefix or ""
    observed = COUNTS if noise == "poisson" else VARIABLE
    with pm.Model(coords={POPULATION_DIM: np.arange(n)}) as model:
        params = add_priors(
            data, form=form, n_populations=n, priors=priors, fixed=fixed, prefix=prefix
        )
        add_likelihood(
            data,
            params,
            sigma=sigma,
            name=prefix + observed,
            form=form,
            noise=noise,
            measurement_time=measurement_time,
            priors=priors,
            fixed=fixed,
            prefix=prefix,
            mutable_data=mutable_data,
        )
    return model
