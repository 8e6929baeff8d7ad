r"""Small-angle scattering (SAS) of spheres, Poisson counts (Hayashi et al. 2023).

Model
-----
Y. Hayashi, S. Katakami, S. Kuwamoto, K. Nagata, M. Mizumaki, M. Okada, *Bayesian
inference for small-angle scattering data*, JPSJ 92, 094002 (2023), arXiv:2303.04983;
seed 001.

The paper's monodisperse sphere, measured for a time :math:`t`:

.. math::

    \lambda(q) = \left[\frac{\phi}{V}\left\{3\,\Delta\rho\, V\,
        \frac{\sin qR - qR\cos qR}{(qR)^3}\right\}^2 + b\right] t,
    \qquad y_i \sim \mathrm{Poisson}(\lambda(q_i)),

with radius :math:`R`, volume :math:`V = 4\pi R^3/3`, volume fraction :math:`\phi`,
contrast :math:`\Delta\rho` and background :math:`b`. Here, more generally, the
absolute intensity of :math:`K` populations of particles is

.. math::

    I(q) = \sum_{k=1}^{K} \phi_k\, P_k(q) + b, \qquad
    y_i \sim \mathrm{Poisson}\big(t\, I(q_i)\big),

where :math:`P_k` is the scattering per unit volume fraction of population :math:`k`
(:func:`~measurement_models.sas_form_factors.population_intensity`, identical to
sasmodels' ``scale = 1`` intensity): a homogeneous sphere (``"sphere"``), spheres with a
Gaussian or Schulz distribution of radii, volume-weighted as in sasmodels
(``"polydisperse_sphere"``, relative width :math:`p = \sigma_R/R`), or a core–shell
sphere (``"core_shell_sphere"``, core radius :math:`R`, shell thickness :math:`T`). The
paper's model is ``"sphere"`` with :math:`K = 1` and :math:`\phi` known
(``fixed={"scale": φ}``). Data already reduced to absolute intensity with
uncertainties :math:`\sigma_i` have the Gaussian likelihood
:math:`I_i \sim N(I(q_i), \sigma_i^2)` (``noise="gaussian"``).

Units (those of sasmodels)
--------------------------
:math:`q` in Å⁻¹ (loaders convert nm⁻¹: 1 nm⁻¹ = 0.1 Å⁻¹), radii and thicknesses in
Å, SLDs in :math:`10^{-6}` Å⁻², intensities and the background in cm⁻¹. The factor
:math:`10^{-4}` turns :math:`\Delta\rho^2 V` in these units into cm⁻¹
(:data:`~measurement_models.sas_form_factors.INTENSITY_FACTOR`). :math:`t` is the
exposure that turns absolute intensity into expected counts, in counts per cm⁻¹
(measurement time × the instrument's count rate per unit intensity: flux, solid angle
of a bin, sample thickness and transmission); the paper calls it the measurement time,
and the posterior width scales with it like :math:`t^{-1/2}`. The SLDs are settings
(:class:`~measurement_models.sas_form_factors.FormFactor`), not parameters: only
:math:`\phi\,\Delta\rho^2` is identifiable from the intensity.

Priors
------
:data:`PARAMETERS`; this package's choice: the paper's prior ranges were not available
to us.

:math:`R \sim U(10, 1000)` Å (particles of 2–200 nm diameter, the sizes a SAS window
:math:`q \approx 10^{-3}\text{–}0.5` Å⁻¹ resolves); :math:`\phi \sim U(0, 1)` (a volume
fraction; give another prior for data in arbitrary units); :math:`p \sim U(0, 0.4)`
(colloidal samples; the default quadrature integrates the size distribution to 1e-6
over this range, see :mod:`~measurement_models.sas_form_factors`); :math:`T \sim
U(0, 200)` Å; :math:`b \sim` HalfNormal(1 cm⁻¹) (incoherent and instrumental
backgrounds are 1e-3–1 cm⁻¹). The populations share one prior, so the posterior of
:math:`K \ge 2` populations is symmetric under relabelling (:func:`relabel_populations`
sorts them by radius for display); the free energy is that of this exchangeable prior.

Checked (``tests/measurement_models/test_sas.py``): every form factor against
sasmodels 1.1 (``sphere``, ``core_shell_sphere``, ``sphere`` with ``radius_pd`` of type
gaussian and schulz, on sasmodels' own nodes) to 1e-9 relative on grids of q and
parameters, and sasmodels' published reference values for the sphere (REFERENCE.md);
the size-distribution quadrature against ``scipy.integrate.quad`` of the defining
integrals (1e-6); the sphere amplitude at small qR against its Taylor series summed
in 40-digit decimal arithmetic and at large qR against ``scipy.special.spherical_jn``;
finite PyTensor gradients at :math:`qR \to 0` against the analytic Guinier-limit
derivative; the Poisson and Gaussian likelihoods against ``scipy.stats``; the Fisher
information of the counts (posterior widths) proportional to :math:`t`; the loader on
headers, column names, nm⁻¹ and bad files; and the generic registry conditions. The
case study ``case_studies/hayashi2023_small_angle_scattering.py`` checks replica
exchange on the paper's model (φ known) against the exact grid posterior and free
energy (unimodal and multimodal cases) and the Fisher-information (Laplace) widths with
their :math:`t^{-1/2}` scaling, and selection among sphere, polydisperse sphere and two
populations on data simulated from each.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from .array_backend import is_symbolic
from .data import count_tempering_ladder, make_dataset, numeric_table, validate_dataset
from .hermitian import reject_non_finite
from .noise import noise_sd
from .parameters import Parameter, ParameterTable, Prior, PriorSpec, check_choice, fixed_constant
from .plotting import sort_labels
from .sas_form_factors import (
    DISTRIBUTIONS,
    FORM_FACTORS,
    FormFactor,
    population_intensity,
)

__all__ = [
    "AXIS",
    "COUNTS",
    "DISTRIBUTIONS",
    "FORM_FACTORS",
    "NOISE_KINDS",
    "PARAMETERS",
    "POPULATION_DIM",
    "Q_UNITS",
    "SASMODELS_SPHERE_REFERENCE",
    "SPHERE_STUDY",
    "VARIABLE",
    "FormFactor",
    "add_likelihood",
    "add_priors",
    "build_model",
    "counts_dataset",
    "example_data",
    "fisher_information",
    "forward",
    "load_sas_text",
    "parameter_names",
    "plot_fit",
    "posterior_intensity",
    "relabel_populations",
    "simulate",
    "tempering_ladder",
]

#: The measured variable of absolute-intensity data (Gaussian likelihood) [cm⁻¹].
VARIABLE = "intensity"
#: The measured variable of count data (Poisson likelihood).
COUNTS = "counts"
#: The axis coordinate: scattering vector q.
AXIS = "q"
#: Dimension of the particle populations.
POPULATION_DIM = "population"
#: Noise models: Poisson counts or Gaussian absolute intensity.
NOISE_KINDS = ("poisson", "gaussian")
#: Accepted q units and their factor to Å⁻¹.
Q_UNITS = {"1/Å": 1.0, "1/A": 1.0, "Å⁻¹": 1.0, "1/nm": 0.1, "nm⁻¹": 0.1}
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

#: sasmodels' reference values for its ``sphere`` model (``sasmodels/models/sphere.py``
#: tests; REFERENCE.md): scale 1, background 0.
SASMODELS_SPHERE_REFERENCE = {
    "sld": 6.0,
    "sld_solvent": 1.0,
    "radius": 120.0,
    "q": np.array([0.01, 0.1, 0.2]),
    "intensity": np.array([1.34836265e4, 6.20114062, 1.04733914e-1]),
}

#: The simulated measurement of the case study (this package's choice, in the spirit of
#: Hayashi et al. 2023, whose exact settings we could not read): 10 nm spheres, Δρ =
#: 5e-6 Å⁻² (sasmodels' reference SLDs 6 and 1), φ = 1 %, b = 0.01 cm⁻¹, 200 q points
#: spaced logarithmically over 0.002–0.3 Å⁻¹ (qR = 0.2–30), as in reduced SAXS data.
SPHERE_STUDY = {
    "q": np.geomspace(0.002, 0.3, 200),
    "radius": 100.0,
    "scale": 0.01,
    "background": 0.01,
    "sld": 6.0,
    "sld_solvent": 1.0,
}


# --------------------------------------------------------------------------------------
# Forward model
# --------------------------------------------------------------------------------------


def parameter_names(form: str | FormFactor = "sphere") -> list[str]:
    """Per-population parameters of a form factor: ``radius``, ``scale`` and its own."""
    return ["radius", "scale", *FormFactor.of(form).shape_parameters]


def forward(q, radius, scale, background=0.0, form: str | FormFactor = "sphere", **shape):
    r"""Absolute intensity :math:`I(q) = \sum_k \phi_k P_k(q) + b` [cm⁻¹].

    Expected counts are :math:`t\,I(q)`.

    Parameters
    ----------
    q : array_like, shape (n,)
        Scattering vector [Å⁻¹].
    radius, scale : array_like or TensorVariable, shape (..., K)
        Radius [Å] and volume fraction of each population; leading axes (draws)
        broadcast.
    background : array_like or TensorVariable, shape (...)
        Flat background [cm⁻¹].
    form : str or FormFactor
        Form factor and its settings (SLDs, size distribution).
    **shape
        ``pd`` (polydisperse spheres) or ``thickness`` (core–shell spheres), shape
        (..., K).

    Returns
    -------
    ndarray or TensorVariable, shape (..., n)
        NumPy for NumPy inputs, a PyTensor graph otherwise.
    """
    form = FormFactor.of(form)
    wanted = set(form.shape_parameters)
    given = {k for k, v in shape.items() if v is not None}
    if given != wanted:
        raise ValueError(
            f"the {form.name} form factor takes shape parameter(s) {sorted(wanted)}, "
            f"got {sorted(given)}"
        )
    symbolic = is_symbolic(q, radius, scale, background, *shape.values())
    asarray = pt.as_tensor_variable if symbolic else (lambda v: np.asarray(v, dtype=float))
    radius, scale, background = asarray(radius), asarray(scale), asarray(background)
    per_population = population_intensity(
        asarray(q), form, radius, shape.get("pd"), shape.get("thickness")
    )
    return (scale[..., None] * per_population).sum(axis=-2) + background[..., None]


def fisher_information(
    q,
    measurement_time: float,
    params: Mapping[str, object],
    form: str | FormFactor = "sphere",
    names: Sequence[str] | None = None,
    step: float = 1e-6,
) -> np.ndarray:
    r"""Expected Fisher information of Poisson counts, :math:`\mathcal I = t\,J^\top
    \mathrm{diag}(1/I)\,J`.

    :math:`J_{ia} = \partial I(q_i)/\partial\theta_a` by central differences (relative
    step ``step``). The inverse is the Laplace (Bernstein–von Mises) posterior
    covariance: posterior widths :math:`\propto t^{-1/2}` at fixed :math:`\theta`.

    Parameters
    ----------
    q : array_like, shape (n,)
    measurement_time : float
    params : mapping
        ``radius``, ``scale`` (length K), ``background`` and the shape parameters.
    form : str or FormFactor
    names : sequence of str, optional
        Differentiate with respect to these, in this order; a per-population name
        stands for all its K entries. Default: all in ``params``.

    Returns
    -------
    ndarray, shape (d, d)
    """
    names = list(params if names is None else names)
    values = {k: np.atleast_1d(np.asarray(v, dtype=float)).copy() for k, v in params.items()}
    values["background"] = values["background"].reshape(())

    def intensity(vals):
        shape = {k: vals[k] for k in FormFactor.of(form).shape_parameters}
        return forward(q, vals["radius"], vals["scale"], vals["background"], form, **shape)

    columns = []
    for name in names:
        flat = values[name].reshape(-1)
        for j in range(flat.size):
            h = step * max(abs(flat[j]), 1e-3)
            plus = {k: v.copy() for k, v in values.items()}
            minus = {k: v.copy() for k, v in values.items()}
            plus[name].reshape(-1)[j] += h
            minus[name].reshape(-1)[j] -= h
            columns.append((intensity(plus) - intensity(minus)) / (2 * h))
    jacobian = np.stack(columns, axis=-1)
    return measurement_time * jacobian.T @ (jacobian / intensity(values)[:, None])


# --------------------------------------------------------------------------------------
# PyMC model
# --------------------------------------------------------------------------------------


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
    n_populations: int = 1,
    form: str | FormFactor = "sphere",
    priors: Mapping[str, PriorSpec] | None = None,
    fixed: Mapping[str, object] | None = None,
    prefix: str = "",
    names: Sequence[str] | None = None,
) -> dict[str, pt.TensorVariable]:
    """Add the per-population priors to the current model (coordinate ``population``).

    Parameters
    ----------
    n_populations : int
        Number of particle populations K.
    form : str or FormFactor
        Decides the shape parameters (``pd``, ``thickness``).
    priors : mapping, optional
        Prior overrides by parameter name.
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


def _measurement_time(data: xr.Dataset, measurement_time: float | None) -> float:
    value = data.attrs.get("measurement_time") if measurement_time is None else measurement_time
    if value is None:
        raise ValueError(
            "Poisson counts need the measurement time t (counts per cm⁻¹): "
            "attrs['measurement_time'] of the data or measurement_time="
        )
    value = float(np.asarray(value))
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"the measurement time t must be positive and finite, got {value!r}")
    return value


def _check_data(data: xr.Dataset, noise: str) -> xr.Dataset:
    """The single gate for SAS data: validate_dataset, the axis ``q`` and q > 0."""
    check_choice(noise, NOISE_KINDS, "noise model")
    if noise == "poisson":
        validate_dataset(data, variables=[COUNTS], counts=True)
    else:
        validate_dataset(data, variables=[VARIABLE])
    validate_dataset(data, axis=AXIS)
    q = data[AXIS].values
    if np.any(q <= 0):
        raise ValueError(
            f"q must be positive (scattering vector in Å⁻¹); got q = {q.min()!r} at index "
            f"{int(np.argmin(q))}"
        )
    return data


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


def add_likelihood(
    data: xr.Dataset,
    params: Mapping[str, pt.TensorVariable],
    sigma: float | None = None,
    *,
    form: str | FormFactor = "sphere",
    noise: str = "poisson",
    measurement_time: float | None = None,
    priors: Mapping[str, PriorSpec] | None = None,
    fixed: Mapping[str, object] | None = None,
    name: str | None = None,
    prefix: str | None = None,
    mutable_data: bool = False,
) -> pt.TensorVariable:
    """Add one measurement's background and likelihood to the current model.

    Parameters
    ----------
    data : xarray.Dataset
        ``counts`` along ``q`` with ``attrs["measurement_time"]`` (Poisson), or
        ``intensity`` [cm⁻¹] along ``q``, optionally with ``sigma`` (Gaussian).
    params : mapping
        ``radius``, ``scale`` and shape parameters from :func:`add_priors`.
    sigma : float, optional
        Known Gaussian noise sd [cm⁻¹] (Gaussian noise only); else the data's
        ``sigma``, else a ``sigma`` parameter.
    form : str or FormFactor
    noise : {"poisson", "gaussian"}
    measurement_time : float, optional
        :math:`t` [counts per cm⁻¹], overriding ``attrs["measurement_time"]``.
    priors, fixed : mapping, optional
        Prior overrides and fixed values for ``background`` and ``sigma``.
    name : str, optional
        Name of the observed variable (default: the data variable).
    prefix : str, optional
        Prepended to ``background`` (and ``sigma``): default none for the default name,
        ``"<name>_"`` otherwise (several measurements in one model).
    mutable_data : bool
        Put q, the observations and t in ``pm.Data`` containers (``<name>_q``, ...), so
        that models of equal structure share one compiled graph across datasets.

    Returns
    -------
    TensorVariable
        The observed variable. Non-finite intensities, and unphysical parameters from
        user priors (R ≤ 0; negative scale, pd, thickness or background), make the
        log-density −inf (potential ``<name>_non_finite``).
    """
    _check_data(data, noise)
    if noise == "poisson" and sigma is not None:
        raise ValueError("sigma is for Gaussian noise; Poisson counts have no free noise level")
    form = FormFactor.of(form)
    variable = COUNTS if noise == "poisson" else VARIABLE
    name = variable if name is None else name
    prefix = ("" if name == variable else f"{name}_") if prefix is None else prefix
    time = _measurement_time(data, measurement_time) if noise == "poisson" else None
    box = _containers(data, name, noise, time, mutable_data)
    fixed = dict(fixed or {})
    if "background" in fixed:
        background = fixed_constant("background", fixed["background"], ())
    else:
        overrides = {k: v for k, v in (priors or {}).items() if k == "background"}
        background = PARAMETERS.add_priors(["background"], overrides, prefix=prefix)["background"]
    shape = {k: params[k] for k in form.shape_parameters}
    mean = forward(box["q"], params["radius"], params["scale"], background, form, **shape)
    mean = pt.switch(_physical(params, background), mean, np.nan)
    mean = reject_non_finite(mean, f"{name}_non_finite")
    if noise == "poisson":
        return pm.Poisson(name, mu=box["measurement_time"] * mean, observed=box["observed"])
    sd = noise_sd(
        data, sigma, PARAMETERS, {k: v for k, v in (priors or {}).items() if k == "sigma"}
    )
    return pm.Normal(name, mu=mean, sigma=sd, observed=box["observed"])


def build_model(
    data: xr.Dataset,
    form: str | FormFactor = "sphere",
    n_populations: int = 1,
    *,
    noise: str = "poisson",
    sigma: float | None = None,
    measurement_time: float | None = None,
    priors: Mapping[str, PriorSpec] | None = None,
    fixed: Mapping[str, object] | None = None,
    mutable_data: bool = False,
) -> pm.Model:
    """PyMC model of one SAS measurement.

    Parameters
    ----------
    data : xarray.Dataset
        ``counts`` along ``q`` [Å⁻¹] with ``attrs["measurement_time"]``
        (:func:`counts_dataset`, :func:`simulate`), or ``intensity`` [cm⁻¹] with
        ``sigma`` (:func:`load_sas_text`) for ``noise="gaussian"``.
    form : str or FormFactor
        ``"sphere"``, ``"polydisperse_sphere"``, ``"core_shell_sphere"`` (default
        settings), or a :class:`FormFactor` with SLDs and quadrature.
    n_populations : int
        Number of particle populations K, each with its own radius, volume fraction
        and shape parameters.
    noise : {"poisson", "gaussian"}
        Poisson counts (default), or Gaussian absolute intensity.
    sigma : float, optional
        Known Gaussian noise sd (Gaussian noise only).
    measurement_time : float, optional
        :math:`t`, if not in the data's attrs (Poisson only).
    priors : mapping, optional
        Prior overrides by parameter name.
    fixed : mapping, optional
        Parameters held at given values, e.g. ``{"scale": 0.01}``.
    mutable_data : bool
        Data in ``pm.Data`` containers (one compiled graph for many datasets).

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
    _check_data(data, noise)
    form = FormFactor.of(form)
    n = _check_n_populations(n_populations)
    if noise == "poisson":
        if sigma is not None:
            raise ValueError("sigma is for Gaussian noise; Poisson counts have no free noise level")
        _measurement_time(data, measurement_time)
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
    with pm.Model(coords={POPULATION_DIM: np.arange(n)}) as model:
        params = add_priors(n, form, priors, fixed)
        add_likelihood(
            data,
            params,
            sigma,
            form=form,
            noise=noise,
            measurement_time=measurement_time,
            priors=priors,
            fixed=fixed,
            mutable_data=mutable_data,
        )
    return model


# --------------------------------------------------------------------------------------
# Data: counts datasets, simulation, loaders
# --------------------------------------------------------------------------------------


def _q_factor(q_unit: str) -> float:
    if q_unit not in Q_UNITS:
        raise ValueError(f"unknown q unit {q_unit!r}; choose one of {tuple(Q_UNITS)}")
    return Q_UNITS[q_unit]


def counts_dataset(
    q,
    counts,
    measurement_time: float,
    *,
    q_unit: str = "1/Å",
    attrs: Mapping[str, object] | None = None,
) -> xr.Dataset:
    """A validated count measurement: ``counts`` along ``q`` [Å⁻¹], ``attrs`` with t.

    Parameters
    ----------
    q : array_like, shape (n,)
        Scattering vector in ``q_unit`` (converted to Å⁻¹).
    counts : array_like, shape (n,)
        Photon or neutron counts (whole numbers ≥ 0).
    measurement_time : float
        :math:`t` [counts per cm⁻¹], positive.
    q_unit : {"1/Å", "1/nm", ...}
        See :data:`Q_UNITS`.
    attrs : mapping, optional
        Further attributes (provenance, truth).

    Raises
    ------
    ValueError
        Negative or non-integer counts, NaN, unsorted or repeated q, q ≤ 0, a
        non-positive t, mismatched lengths.
    """
    time = _measurement_time(xr.Dataset(), measurement_time)
    data = make_dataset(
        np.asarray(q, dtype=float) * _q_factor(q_unit),
        np.asarray(counts),
        axis=AXIS,
        axis_units="1/Å",
        variable=COUNTS,
        units="counts",
        attrs={**dict(attrs or {}), "measurement_time": time},
    )
    return _check_data(data, "poisson")


def _population_arrays(radius, scale, shape: Mapping[str, object]) -> dict[str, np.ndarray]:
    arrays = {"radius": radius, "scale": scale, **shape}
    arrays = {k: np.atleast_1d(np.asarray(v, dtype=float)) for k, v in arrays.items()}
    sizes = {k: v.shape for k, v in arrays.items()}
    if len(set(sizes.values())) != 1 or arrays["radius"].ndim != 1:
        raise ValueError(
            f"radius, scale and shape parameters need one value per population, got shapes "
            f"{sizes}: wrong number of populations"
        )
    return arrays


def simulate(
    q,
    *,
    radius,
    scale,
    background: float,
    form: str | FormFactor = "sphere",
    measurement_time: float = 1.0,
    noise: str = "poisson",
    sigma=None,
    rng: np.random.Generator | int | None = None,
    **shape,
) -> xr.Dataset:
    r"""Simulate a SAS measurement (seeded :class:`numpy.random.Generator`).

    ``noise="poisson"``: counts :math:`y_i \sim \mathrm{Poisson}(t\,I(q_i))`, a
    ``counts`` Dataset with ``attrs["measurement_time"]``. ``noise="gaussian"``:
    reduced absolute intensity :math:`I_i \sim N(I(q_i), \sigma_i^2)` with
    :math:`\sigma_i` = ``sigma`` if given, else the counting error of the exposure,
    :math:`\sqrt{I(q_i)/t}`; stored as ``intensity`` and ``sigma``. The truth is kept in
    ``attrs`` (``truth_radius``, ``truth_scale``, ``truth_background``, ...).
    """
    check_choice(noise, NOISE_KINDS, "noise model")
    form = FormFactor.of(form)
    rng = np.random.default_rng(rng)
    time = _measurement_time(xr.Dataset(), measurement_time)
    pops = _population_arrays(radius, scale, shape)
    q = np.asarray(q, dtype=float)
    if np.any(q <= 0):
        raise ValueError("q must be positive (scattering vector in Å⁻¹)")
    extra = {k: pops[k] for k in form.shape_parameters if k in pops}
    mean = forward(q, pops["radius"], pops["scale"], float(background), form, **extra)
    attrs = {f"truth_{k}": v for k, v in pops.items()}
    attrs |= {
        "truth_background": float(background),
        "form": form.name,
        "sld": form.sld,
        "sld_solvent": form.sld_solvent,
        "noise": noise,
    }
    if form.sld_shell is not None:
        attrs["sld_shell"] = form.sld_shell
    if noise == "poisson":
        if sigma is not None:
            raise ValueError("sigma is for Gaussian noise")
        return counts_dataset(q, rng.poisson(time * mean), time, attrs=attrs)
    sd = (
        np.sqrt(mean / time)
        if sigma is None
        else np.broadcast_to(np.asarray(sigma, float), q.shape)
    )
    attrs |= {"truth_sigma": float(np.mean(sd)), "measurement_time": time}
    data = make_dataset(
        q,
        mean + sd * rng.standard_normal(q.shape),
        sigma=sd,
        axis=AXIS,
        axis_units="1/Å",
        variable=VARIABLE,
        units="1/cm",
        attrs=attrs,
    )
    return _check_data(data, "gaussian")


_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eEdD][+-]?\d+)?$|^[+-]?(nan|inf)$", re.IGNORECASE)


def _fields(line: str) -> list[str]:
    return line.replace(",", " ").replace(";", " ").split()


def _is_numeric_row(fields: list[str]) -> bool:
    return bool(fields) and all(_NUMBER.match(f) for f in fields)


def load_sas_text(path: str | Path, *, q_unit: str = "1/Å") -> xr.Dataset:
    """Read the usual SAS text format: columns q, I [, dI [, dq]] after header lines.

    Lines before the first all-numeric row are the header (title, sample notes,
    column names such as ``q I dI`` or ``<X> <Y> <dY>``): kept in ``attrs["header"]``.
    After that every non-blank line must be a numeric row with the same number of
    columns; ``#`` starts a comment anywhere. Separators: white space, commas,
    semicolons. Fortran exponents (``1.0D-03``) are read.

    Parameters
    ----------
    path : str or Path
    q_unit : {"1/Å", "1/nm", ...}
        Unit of the file's q (and dq) column; converted to Å⁻¹ (:data:`Q_UNITS`).

    Returns
    -------
    xarray.Dataset
        ``intensity`` (cm⁻¹ assumed: absolute units) along ``q`` [Å⁻¹], ``sigma`` = dI
        if present, ``dq`` [Å⁻¹] if present (kept, not used by the models); attrs
        ``source``, ``header``, ``q_unit_in_file``.

    Raises
    ------
    ValueError
        A non-numeric line after the data started, rows with different numbers of
        columns, fewer than 2 or more than 4 columns, no data rows, or data that fail
        validation (NaN, unsorted or repeated q, q ≤ 0, dI ≤ 0).
    """
    path = Path(path)
    factor = _q_factor(q_unit)
    header: list[str] = []

    def rows():
        started = False  # non-numeric lines are header lines until the data start
        for number, raw in enumerate(path.read_text().splitlines(), start=1):
            fields = _fields(raw.split("#", 1)[0])
            if not fields:
                continue
            if not _is_numeric_row(fields) or (not started and len(fields) < 2):
                if started:
                    raise ValueError(
                        f"{path}:{number}: non-numeric line after the data started: {raw.strip()!r}"
                    )
                header.append(raw.strip())
                continue
            started = True
            yield number, [float(f.replace("D", "E").replace("d", "e")) for f in fields]

    table = numeric_table(path, rows())
    if not 2 <= table.shape[1] <= 4:
        raise ValueError(
            f"{path}: expected 2 to 4 columns (q, I[, dI[, dq]]), got {table.shape[1]}"
        )
    data = make_dataset(
        table[:, 0] * factor,
        table[:, 1],
        sigma=table[:, 2] if table.shape[1] >= 3 else None,
        axis=AXIS,
        axis_units="1/Å",
        variable=VARIABLE,
        units="1/cm",
        attrs={"source": str(path), "header": "\n".join(header), "q_unit_in_file": q_unit},
    )
    if table.shape[1] == 4:
        data["dq"] = (AXIS, table[:, 3] * factor, {"units": "1/Å"})
    return _check_data(data, "gaussian")


# --------------------------------------------------------------------------------------
# Examples, ladders, relabelling, plots
# --------------------------------------------------------------------------------------


def example_data(rng: np.random.Generator | int | None = 0) -> tuple[xr.Dataset, dict]:
    """Spheres of radius 10 nm reduced to absolute intensity (σ from t = 100), 60 q."""
    truth = {"radius": np.array([100.0]), "scale": np.array([0.01]), "background": 0.01}
    data = simulate(
        np.geomspace(0.003, 0.3, 60),
        **truth,
        measurement_time=100.0,
        noise="gaussian",
        rng=rng,
    )
    return data, truth


def tempering_ladder(data: xr.Dataset, n_replicas: int) -> np.ndarray:
    """Replica-exchange ladder for count data: :func:`~.data.count_tempering_ladder`."""
    if COUNTS not in data:
        raise ValueError("tempering_ladder is for count data (variable 'counts')")
    return count_tempering_ladder(data[COUNTS].values, n_replicas)


def relabel_populations(posterior: xr.Dataset, by: str = "radius") -> xr.Dataset:
    """Sort the populations of every draw by ``by`` (undoes label switching)."""
    return sort_labels(posterior, POPULATION_DIM, by)


def posterior_intensity(
    data: xr.Dataset,
    posterior: xr.Dataset,
    form: str | FormFactor = "sphere",
    fixed: Mapping[str, object] | None = None,
    max_draws: int = 200,
) -> np.ndarray:
    """Absolute intensity [cm⁻¹] of posterior draws at the data's q, shape (draws, n)."""
    from .plotting import posterior_draws

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
        data[AXIS].values, values["radius"], values["scale"], values["background"], form, **shape
    )


def plot_fit(
    ax,
    data: xr.Dataset,
    posterior: xr.Dataset,
    form: str | FormFactor = "sphere",
    fixed: Mapping[str, object] | None = None,
    **_,
) -> None:
    """Data, posterior band and the truth if known, on log–log axes (counts or cm⁻¹)."""
    from .plotting import plot_band

    form = FormFactor.of(form)
    q = data[AXIS].values
    counts = COUNTS in data
    factor = data.attrs["measurement_time"] if counts else 1.0
    curves = posterior_intensity(data, posterior, form, fixed) * factor
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
        truth = forward(q, radius, scale, data.attrs["truth_background"], truth_form, **shape)
        ax.plot(q, truth * factor, "k--", lw=1, label="truth")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("q [1/Å]")
    ax.set_ylabel("counts" if counts else "I(q) [1/cm]")
    ax.legend(fontsize="small")
