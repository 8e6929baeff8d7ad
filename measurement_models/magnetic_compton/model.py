"""The PyMC model of a magnetic Compton profile: parameter table, priors, likelihood."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from ..data import validate_dataset
from ..parameters import Parameter, ParameterTable, Prior, PriorSpec
from .physics import GAMMA_RANGE, VARIABLE, forward

__all__ = ["PARAMETERS", "PARAMETER_NAMES", "add_likelihood", "add_priors", "build_model"]

#: Parameters: spin moments of the 3d and 4s parts, resolution, noise.
PARAMETERS = ParameterTable(
    (
        Parameter(
            "a_3d", "μ_B", Prior("Normal", mu=2.0, sigma=1.0), "spin moment of the 3d electrons"
        ),
        Parameter(
            "a_4s", "μ_B", Prior("Normal", mu=0.0, sigma=0.5), "spin moment of the 4s electrons"
        ),
        Parameter(
            "Gamma",
            "a.u.",
            Prior("Uniform", lower=GAMMA_RANGE[0], upper=GAMMA_RANGE[1]),
            "sd of the Gaussian momentum resolution",
            role="instrument",
        ),
        Parameter(
            "sigma",
            "μ_B/a.u.",
            Prior("HalfNormal", sigma=0.05),
            "noise standard deviation b^(-1/2) (when not known)",
            role="noise",
        ),
    )
)

#: The model's physical parameters, in the order of the table.
PARAMETER_NAMES = ("a_3d", "a_4s", "Gamma")


def add_priors(
    data: xr.Dataset | None = None,
    *,
    priors: Mapping[str, PriorSpec] | None = None,
    fixed: Mapping[str, object] | None = None,
    prefix: str = "",
    names: Sequence[str] | None = None,
) -> dict[str, pt.TensorVariable]:
    r"""Add the priors of ``a_3d``, ``a_4s`` and ``Gamma`` (or of ``names``) to the model.

    Parameters
    ----------
    data : xarray.Dataset, optional
        Not needed (the default priors do not depend on the data); accepted for the
        common signature.
    priors : mapping, optional
        Prior overrides by parameter name. An overridden prior of ``Gamma`` gets a
        potential ``<prefix>Gamma_range``, :math:`-\infty` outside :data:`GAMMA_RANGE`
        (the tables' range), so that no draw is evaluated by extrapolation.
    fixed : mapping, optional
        Parameters held at a value (``Gamma`` inside :data:`GAMMA_RANGE`).
    prefix : str
        Prepended to every variable name.
    names : sequence of str, optional
        Only these parameters (default: ``a_3d``, ``a_4s``, ``Gamma``).

    Returns
    -------
    dict
        Parameter name (without prefix) to variable (or constant, for fixed parameters).

    Raises
    ------
    ValueError
        A prior or fixed value for an unknown parameter, a fixed ``Gamma`` outside
        :data:`GAMMA_RANGE`.
    """
    names = list(PARAMETER_NAMES if names is None else names)
    fixed = dict(fixed or {})
    if "Gamma" in fixed:
        gamma = np.asarray(fixed["Gamma"], dtype=float)
        if not np.all((gamma >= GAMMA_RANGE[0]) & (gamma <= GAMMA_RANGE[1])):
            raise ValueError(f"fixed Gamma must lie in {GAMMA_RANGE} a.u., got {fixed['Gamma']!r}")
    params = PARAMETERS.add_priors(names, priors, prefix=prefix, fixed=fixed)
    if priors and "Gamma" in priors and "Gamma" in names and "Gamma" not in fixed:
        gamma = params["Gamma"]
        inside = (gamma >= GAMMA_RANGE[0]) & (gamma <= GAMMA_RANGE[1])
        guard = pm.Potential(
            f"{prefix}Gamma_range", pt.switch(inside, np.float64(0.0), np.float64(-np.inf))
        )
        guard.tag.non_finite_guard = True  # not a likelihood term
    return params


def add_likelihood(
    data: xr.Dataset,
    params: Mapping[str, pt.TensorVariable],
    *,
    sigma: float | pt.TensorVariable | None = None,
    name: str = VARIABLE,
    mutable_data: bool = False,
) -> pt.TensorVariable:
    r"""Add the Gaussian likelihood of one MCP to the current model.

    ``mcp`` ~ Normal(f(p), σ) with σ given (a number, or a variable such as the prior of
    ``sigma``) or, when None, the data's per-point ``sigma``.
    ``mutable_data=True`` puts the measured values in ``pm.Data`` (``<name>_observed``),
    so that successive accumulations of one measurement share a compiled graph.

    Raises
    ------
    ValueError
        Bad data, a non-positive ``sigma``, or no noise level (``sigma`` None and no
        ``sigma`` variable in the data).
    """
    validate_dataset(data, variables=[VARIABLE])
    if sigma is None and "sigma" not in data.data_vars:
        raise ValueError(
            "no noise level: pass sigma (a number, or a variable such as the prior of "
            "'sigma') or give the data a 'sigma' variable"
        )
    p = data[next(iter(data[VARIABLE].dims))].values
    observed = data[VARIABLE].values
    if mutable_data:
        observed = pm.Data(f"{name}_observed", observed)
    mean = forward(p, a_3d=params["a_3d"], a_4s=params["a_4s"], Gamma=params["Gamma"])
    if sigma is None:
        sd = data["sigma"].values
    elif isinstance(sigma, pt.Variable):
        sd = sigma
    else:
        sd = np.asarray(sigma, dtype=np.float64)
        if not np.all(np.isfinite(sd) & (sd > 0)):
            raise ValueError(f"sigma must be positive and finite, got {sigma!r}")
    return pm.Normal(name, mu=mean, sigma=sd, observed=observed)


def build_model(
    data: xr.Dataset,
    *,
    priors: Mapping[str, PriorSpec] | None = None,
    sigma: float | None = None,
    fixed: Mapping[str, object] | None = None,
    mutable_data: bool = False,
    prefix: str | None = None,
) -> pm.Model:
    """PyMC model of a magnetic Compton profile (3d + 4s atomic profiles ∗ resolution).

    Parameters
    ----------
    data : xarray.Dataset
        ``mcp`` (μ_B/a.u.) on ``p`` (a.u.), optionally ``sigma``.
    priors : mapping, optional
        Prior overrides by parameter name (see :func:`add_priors`).
    sigma : float, optional
        Known noise sd (else the data's ``sigma``, else the parameter ``sigma``).
    fixed : mapping, optional
        Parameters held at a value instead of sampled.
    mutable_data : bool
        Measured values in ``pm.Data`` (see :func:`add_likelihood`).
    prefix : str, optional
        Prepended to every variable name.

    Returns
    -------
    pymc.Model
        Free ``a_3d``, ``a_4s``, ``Gamma`` (and ``sigma``); observed ``mcp``.

    Raises
    ------
    ValueError
        Bad data (via :func:`~measurement_models.data.validate_dataset`), unknown
        prior or fixed names, a non-positive ``sigma``.
    """
    validate_dataset(data, variables=[VARIABLE])
    prefix = prefix or ""
    with pm.Model() as model:
        params = add_priors(data, priors=priors, fixed=fixed, prefix=prefix)
        if sigma is None and "sigma" not in data.data_vars:
            sigma = PARAMETERS.add_priors(["sigma"], priors, prefix=prefix, fixed=fixed)["sigma"]
        add_likelihood(data, params, sigma=sigma, name=prefix + VARIABLE, mutable_data=mutable_data)
    return model
