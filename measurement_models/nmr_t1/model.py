r"""The PyMC model of a T1 recovery curve: parameter table, priors, likelihood, factory.

:func:`add_priors` adds the relaxation parameters (:math:`T_1`, stretch, weights) and
the instrument's (:math:`M_0`, offset, inversion factor), :func:`add_likelihood` the
Gaussian likelihood :math:`y_j \sim N(M(t_j), \sigma^2)` of one curve, and
:func:`build_model` both. Several default priors are scaled by the data
(:func:`prior_scales`). The equations, variants and priors are in
:mod:`measurement_models.nmr_t1`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from ..data import validate_dataset
from ..parameters import Parameter, ParameterTable, Prior, PriorSpec, check_choice
from .data import AXIS, VARIABLE, delay_times
from .log_uniform import log_uniform
from .recovery import forward, recovery_terms

__all__ = [
    "COMPONENT_DIM",
    "PARAMETERS",
    "RECOVERY_METHODS",
    "VARIANTS",
    "add_likelihood",
    "add_priors",
    "build_model",
    "parameter_names",
    "prior_scales",
]

#: Dimension of the relaxation components.
COMPONENT_DIM = "component"
_COMPONENT = (COMPONENT_DIM,)
#: Recovery methods: saturation or inversion recovery.
RECOVERY_METHODS = ("saturation", "inversion")
#: Variant name -> (number of components, stretched).
VARIANTS: dict[str, tuple[int, bool]] = {
    "single": (1, False),
    "stretched": (1, True),
    "two_component": (2, False),
}
#: Parameters whose default prior is scaled by the data (:func:`prior_scales`).
_DATA_SCALED = ("T1", "M0", "offset", "sigma")

#: Parameter table: relaxation times, stretch exponent and weights, instrument and noise.
PARAMETERS = ParameterTable(
    (
        Parameter(
            "T1",
            "s",
            Prior("Uniform", lower=0.0, upper=1.0),
            "spin–lattice relaxation time of each component; default prior log-uniform on "
            "[λ_min t_min, λ_max t_max] (the table's U(0, 1) is the position of log T1 "
            "in that log range)",
            _COMPONENT,
        ),
        Parameter(
            "stretch",
            "",
            Prior("Uniform", lower=0.0, upper=1.0),
            "stretch exponent β of every exponential, exp(-(λ t/T1)^β) (stretched variant)",
        ),
        Parameter(
            "weight",
            "",
            Prior("Dirichlet", a=1.0),
            "fraction of each relaxation component (two or more components only)",
            _COMPONENT,
        ),
        Parameter(
            "M0",
            "intensity",
            Prior("Uniform", lower=0.0, upper=2.0),
            "equilibrium magnetisation; default prior in units of M_ref, the largest "
            "absolute intensity",
            role="instrument",
        ),
        Parameter(
            "offset",
            "intensity",
            Prior("Uniform", lower=-0.5, upper=0.5),
            "constant background c (saturation recovery only); in units of M_ref",
            role="instrument",
        ),
        Parameter(
            "inversion",
            "",
            Prior("Uniform", lower=1.0, upper=2.0),
            "inversion factor f, M(0) = M0 (1 - f) (inversion recovery only; f = 2 is a "
            "perfect π pulse)",
            role="instrument",
        ),
        Parameter(
            "sigma",
            "intensity",
            Prior("HalfNormal", sigma=0.1),
            "noise standard deviation (when not known); in units of M_ref",
            role="noise",
        ),
    )
)


def parameter_names(
    variant: str = "single", method: str = "saturation", offset: bool | None = None
) -> list[str]:
    """Names of the model's parameters (without ``sigma``), in table order."""
    check_choice(variant, VARIANTS, "variant")
    check_choice(method, RECOVERY_METHODS, "method")
    n_components, stretched = VARIANTS[variant]
    with_offset = _with_offset(method, offset)
    names = ["T1"]
    names += ["stretch"] if stretched else []
    names += ["weight"] if n_components > 1 else []
    names += ["M0"] + (["offset"] if with_offset else [])
    names += ["inversion"] if method == "inversion" else []
    return names


def _with_offset(method: str, offset: bool | None) -> bool:
    if offset is None:
        return method == "saturation"
    if offset and method == "inversion":
        raise ValueError(
            "an offset is not identifiable in inversion recovery with a fitted inversion "
            "factor (only M0 + offset and M0·f are determined); use offset=False"
        )
    return bool(offset)


def prior_scales(
    data: xr.Dataset,
    spin=0.5,
    transition: str = "central",
    *,
    mutable: bool = False,
    name: str = VARIABLE,
) -> dict[str, object]:
    """Data-derived prior scales: the T1 range and :math:`M_\\mathrm{ref} = \\max|y|`.

    ``T1_lower`` :math:`= \\lambda_{\\min} t_{\\min}`, ``T1_upper``
    :math:`= \\lambda_{\\max} t_{\\max}` [s], ``level`` :math:`= M_\\mathrm{ref}`;
    ``pm.Data`` containers (``<name>_T1_lower``, ...) if ``mutable``.

    Raises
    ------
    ValueError
        Bad data (see :func:`~measurement_models.nmr_t1.data.delay_times`), or
        intensities that are all zero.
    """
    _, exponents = recovery_terms(spin, transition)
    time = delay_times(data)
    values = {
        "T1_lower": np.float64(exponents.min() * time[0]),
        "T1_upper": np.float64(exponents.max() * time[-1]),
        "level": np.float64(np.max(np.abs(data[VARIABLE].values))),
    }
    if values["level"] <= 0:
        raise ValueError("the measured intensities are all zero: no scale for M0")
    if not mutable:
        return values
    return {key: pm.Data(f"{name}_{key}", value) for key, value in values.items()}


def _scaled_priors(
    priors: Mapping[str, PriorSpec],
    scales: Mapping[str, object] | None,
    n_components: int = 1,
) -> dict:
    """The default priors that depend on the data (and the size), unless overridden.

    Without ``scales`` only the size-dependent default (the weights') is added.
    """
    out = dict(priors)
    if scales is not None:
        level = scales["level"]
        for row in ("M0", "offset", "sigma"):
            out.setdefault(row, PARAMETERS[row].prior.scaled(level))
    out.setdefault("weight", Prior("Dirichlet", a=np.ones(n_components)))
    if scales is not None:
        out.setdefault(
            "T1",
            lambda name, dims: log_uniform(name, scales["T1_lower"], scales["T1_upper"], dims),
        )
    return out


def _check_names(given: Mapping[str, object], what: str, every: list[str], variant, method):
    unknown = sorted(set(given) - set(every))
    if unknown:
        raise ValueError(
            f"{what} given for parameter(s) {unknown} that the {variant} {method} model does "
            f"not have; its parameters: {every}"
        )


def add_priors(
    data: xr.Dataset | None = None,
    *,
    variant: str = "single",
    spin=0.5,
    transition: str = "central",
    method: str = "saturation",
    offset: bool | None = None,
    priors: Mapping[str, PriorSpec] | None = None,
    fixed: Mapping[str, object] | None = None,
    prefix: str = "",
    names: Sequence[str] | None = None,
    scales: Mapping[str, object] | None = None,
) -> dict[str, pt.TensorVariable]:
    """Add the recovery-curve priors to the current model (adding ``component`` if missing).

    Parameters
    ----------
    data : xarray.Dataset, optional
        The measurement, for the data-derived default priors of ``T1``, ``M0`` and
        ``offset`` (:func:`prior_scales`). Without ``data`` (and without ``scales``)
        each of them needs a prior in ``priors`` or a value in ``fixed``.
    variant : {"single", "stretched", "two_component"}
    spin, transition
        The line (see :func:`~measurement_models.nmr_t1.recovery.recovery_terms`);
        they set the T1 prior's range.
    method : {"saturation", "inversion"}
        Saturation (offset) or inversion recovery (inversion factor).
    offset : bool, optional
        Fit a constant background (default: yes for saturation, no for inversion, where
        it is not identifiable).
    priors : mapping, optional
        Prior overrides by parameter name, in physical units.
    fixed : mapping, optional
        Parameters held at given values (physical units), not sampled.
    prefix : str
        Prepended to every variable name (several parameter sets in one model).
    names : sequence of str, optional
        Only these of the variant's parameters (default: all of them).
    scales : mapping, optional
        Precomputed :func:`prior_scales` (e.g. ``pm.Data`` containers).

    Returns
    -------
    dict
        Parameter name (without prefix) to PyMC variable (or constant, if fixed).

    Raises
    ------
    ValueError
        An unknown variant, method, spin or transition; priors, fixed values or
        ``names`` for parameters the model does not have; a ``component`` coordinate of
        the wrong size; no data for a data-scaled default prior.
    """
    wanted = parameter_names(variant, method, offset)
    every = [*wanted, "sigma"]
    if names is not None:
        unknown = [n for n in names if n not in wanted]
        if unknown:
            raise ValueError(f"no parameter(s) {unknown} in the {variant} model; has {wanted}")
        wanted = [n for n in wanted if n in names]
    priors = dict(priors or {})
    fixed = dict(fixed or {})
    _check_names(priors, "prior", every, variant, method)
    _check_names(fixed, "fixed value", every, variant, method)
    recovery_terms(spin, transition)
    n_components = VARIANTS[variant][0]
    model = pm.modelcontext(None)
    if COMPONENT_DIM not in model.coords:
        model.add_coord(COMPONENT_DIM, np.arange(n_components))
    elif len(model.coords[COMPONENT_DIM]) != n_components:
        raise ValueError(f"the model's {COMPONENT_DIM!r} coordinate has not {n_components} entries")
    if scales is None and data is not None:
        scales = prior_scales(data, spin, transition)
    if scales is None:
        unscaled = [n for n in wanted if n in _DATA_SCALED and n not in priors and n not in fixed]
        if unscaled:
            raise ValueError(
                f"the default priors of {unscaled} are scaled by the data: pass the data "
                f"(or scales=prior_scales(data, ...)), or priors or fixed values for them"
            )
    return PARAMETERS.add_priors(
        wanted, _scaled_priors(priors, scales, n_components), prefix=prefix, fixed=fixed
    )


def _containers(data: xr.Dataset, name: str, mutable: bool) -> dict[str, object]:
    """Times, intensities and the data's sigma; ``pm.Data`` if ``mutable``."""
    values = {
        "time": delay_times(data),
        "observed": data[VARIABLE].values.astype(np.float64),
    }
    if "sigma" in data.data_vars:
        values["sigma"] = data["sigma"].values.astype(np.float64)
    if not mutable:
        return values
    return {key: pm.Data(f"{name}_{key}", value) for key, value in values.items()}


def add_likelihood(
    data: xr.Dataset,
    params: Mapping[str, pt.TensorVariable],
    *,
    sigma=None,
    name: str = VARIABLE,
    spin=0.5,
    transition: str = "central",
    priors: Mapping[str, PriorSpec] | None = None,
    fixed: Mapping[str, object] | None = None,
    scales: Mapping[str, object] | None = None,
    prefix: str | None = None,
    mutable_data: bool = False,
) -> pt.TensorVariable:
    """Add the Gaussian likelihood of one recovery curve to the current model.

    Parameters
    ----------
    data : xarray.Dataset
        ``intensity`` along ``time`` [s] (optional ``sigma``).
    params : mapping
        From :func:`add_priors`: ``T1`` and, as present, ``stretch``, ``weight``,
        ``M0``, ``offset``, ``inversion`` (absent ones take their plain values: one
        component, unstretched, :math:`M_0 = 1`, no offset, saturation).
    sigma : float, array or TensorVariable, optional
        Noise standard deviation: a known value (per point, or a variable as
        :func:`measurement_models.integration.integrated_model` passes); else a fixed
        ``sigma`` in ``fixed``; else the data's ``sigma``; else a ``sigma`` parameter
        (prior HalfNormal(M_ref/10) unless overridden in ``priors``).
    name : str
        Name of the observed variable.
    spin, transition
        The line (see :func:`~measurement_models.nmr_t1.recovery.recovery_terms`).
    priors, fixed : mapping, optional
        Prior override and fixed value of ``sigma`` (other names are ignored here).
    scales : mapping, optional
        :func:`prior_scales` (for the ``sigma`` prior).
    prefix : str, optional
        Prepended to the ``sigma`` parameter: default none for the name
        ``intensity``, ``"<name>_"`` otherwise.
    mutable_data : bool
        Put times, intensities and the data's sigma in ``pm.Data`` containers
        (``<name>_time``, ``<name>_observed``, ``<name>_sigma``), so that models of one
        structure share one numba-compiled graph across datasets (constants are part of
        a graph, and numba caches compiled graphs).

    Returns
    -------
    TensorVariable
        The observed variable.

    Raises
    ------
    ValueError
        Bad data, or a ``sigma`` that is not positive and finite.
    """
    containers = _containers(data, name, mutable_data)
    mean = forward(
        containers["time"],
        T1=params["T1"],
        M0=params.get("M0", np.float64(1.0)),
        offset=params.get("offset", np.float64(0.0)),
        spin=spin,
        transition=transition,
        weight=params.get("weight"),
        stretch=params.get("stretch"),
        inversion=params.get("inversion", np.float64(1.0)),
    )
    prefix = ("" if name == VARIABLE else f"{name}_") if prefix is None else prefix
    noise = _noise(data, sigma, containers, priors, fixed, scales, spin, transition, prefix)
    return pm.Normal(name, mu=mean, sigma=noise, observed=containers["observed"])


def _noise(data, sigma, containers, priors, fixed, scales, spin, transition, prefix):
    """Known σ (scalar, per point, or a variable), a fixed σ, the data's σ, or a σ parameter."""
    if isinstance(sigma, pt.Variable):
        return sigma
    if sigma is None and "sigma" in (fixed or {}):
        sigma = fixed["sigma"]
    if sigma is not None:
        values = np.asarray(sigma, dtype=np.float64)
        if values.ndim and not np.all(np.isfinite(values) & (values > 0)):
            raise ValueError("sigma must be positive and finite everywhere")
        if not values.ndim and not (np.isfinite(values) and values > 0):
            raise ValueError(f"sigma must be positive and finite, got {sigma!r}")
        return values if values.ndim else np.float64(values)
    if "sigma" in containers:
        return containers["sigma"]
    if scales is None:
        scales = prior_scales(data, spin, transition)
    return PARAMETERS.add_priors(["sigma"], _scaled_priors(priors or {}, scales), prefix=prefix)[
        "sigma"
    ]


def build_model(
    data: xr.Dataset,
    *,
    variant: str = "single",
    spin=0.5,
    transition: str = "central",
    method: str = "saturation",
    offset: bool | None = None,
    priors: Mapping[str, PriorSpec] | None = None,
    sigma: float | None = None,
    fixed: Mapping[str, object] | None = None,
    mutable_data: bool = False,
    prefix: str | None = None,
) -> pm.Model:
    """PyMC model of a T1 recovery curve.

    Parameters
    ----------
    data : xarray.Dataset
        ``intensity`` along ``time`` [s] (positive, increasing; usually log-spaced),
        optional ``sigma`` (see :func:`~measurement_models.nmr_t1.data.simulate`,
        :func:`~measurement_models.nmr_t1.data.load`).
    variant : {"single", "stretched", "two_component"}
        One exponential law, stretched (:math:`\\beta`), or two components
        (:math:`T_{1,1}, T_{1,2}, w`).
    spin : float or str
        Nuclear spin I (1/2, 3/2, 5/2, 7/2).
    transition : {"central", "nqr"}
        Observed line (NQR for I = 3/2 only).
    method : {"saturation", "inversion"}
        Saturation recovery (:math:`f = 1`) or inversion recovery (:math:`f \\sim
        U(1, 2)`).
    offset : bool, optional
        Fit the background :math:`c` (default: saturation yes, inversion no).
    priors : mapping, optional
        Prior overrides by parameter name (physical units).
    sigma : float, optional
        Known noise standard deviation; default the data's ``sigma``, else a parameter.
    fixed : mapping, optional
        Parameters held at given values (physical units), not sampled.
    mutable_data : bool
        Data and data-derived prior scales in ``pm.Data`` containers: models of one
        structure then share one compiled graph across datasets.
    prefix : str, optional
        Prepended to every variable name (free, observed, data containers).

    Returns
    -------
    pymc.Model
        ``T1`` (and ``weight``) with dim ``component``; observed ``intensity``.

    Raises
    ------
    ValueError
        Bad data (via :func:`~measurement_models.data.validate_dataset`: NaN, unsorted
        or repeated times, wrong shapes, a missing variable; here: an axis not named
        ``time``, non-positive times), an unknown variant, spin, transition or method,
        an offset with inversion recovery, priors or fixed values for parameters the
        model lacks.
    """
    validate_dataset(data, variables=[VARIABLE])
    if AXIS not in data.dims:
        raise ValueError(f"T1 data need a {AXIS!r} axis (seconds), got {tuple(data.dims)}")
    delay_times(data)
    check_choice(variant, VARIANTS, "variant")
    check_choice(method, RECOVERY_METHODS, "method")
    recovery_terms(spin, transition)
    prefix = prefix or ""
    name = prefix + VARIABLE
    with pm.Model(coords={COMPONENT_DIM: np.arange(VARIANTS[variant][0])}) as model:
        scales = prior_scales(data, spin, transition, mutable=mutable_data, name=name)
        params = add_priors(
            data,
            variant=variant,
            spin=spin,
            transition=transition,
            method=method,
            offset=offset,
            priors=priors,
            fixed=fixed,
            prefix=prefix,
            scales=scales,
        )
        add_likelihood(
            data,
            params,
            sigma=sigma,
            name=name,
            spin=spin,
            transition=transition,
            priors=priors,
            fixed=fixed,
            scales=scales,
            prefix=prefix,
            mutable_data=mutable_data,
        )
    return model
