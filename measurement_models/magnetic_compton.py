r"""Magnetic Compton profile of Fe as atomic 3d + 4s Hartree–Fock profiles.

Source
------
M. Mizumaki (JASRI), *機械学習手法の導入によるデータ解析高度化* (advancing data analysis
with machine learning; article in Japanese), section 2-2: when to stop a magnetic
Compton measurement of Fe (SPring-8 BL08W, room temperature, 136 field-reversal cycles;
the study itself is Y. Yokoyama et al., in preparation there). The article's eq. (9) is
the model below, its eq. (10) the likelihood, and its Figs. 4–5 the stopping results:
the posterior sd of :math:`a_{3d}` stops falling after about 20 cycles, and the sd of the
spin moment is within the required :math:`\pm 0.01\,\mu_B` after about 6 cycles
(:data:`REFERENCES`, ``"mizumaki_fe_stopping"``).

Model
-----
The magnetic Compton profile (MCP) is the difference of the Compton profiles measured
with the photon wave vector parallel and antiparallel to the magnetisation (circularly
polarised X-rays), i.e. the projected momentum density of the unpaired spins,
:math:`J_\mathrm{mag}(p_z) = J_\uparrow(p_z) - J_\downarrow(p_z)`. Its area is the spin
moment per atom, and, as in the experiment, the measured MCP is normalised so that its
area is the spin moment in :math:`\mu_B` (the article's eq. (9)):

.. math::

    f(p; \theta) = \big([a_{3d}\, J_{3d} + a_{4s}\, J_{4s}] * G_\Gamma\big)(p),
    \qquad G_\Gamma(x) = \frac{1}{\sqrt{2\pi}\,\Gamma} e^{-x^2/2\Gamma^2},

with :math:`J_{3d}`, :math:`J_{4s}` the Hartree–Fock Compton profiles of the atomic Fe 3d
and 4s orbitals, each normalised to one electron, :math:`\int J\,dp_z = 1`
(:mod:`measurement_models.compton_profiles`: Koga et al. 1999 Roothaan–Hartree–Fock
orbitals of Fe 3d⁶4s² ⁵D), and :math:`G_\Gamma` the normalised Gaussian resolution of
standard deviation :math:`\Gamma` (the article prints :math:`G` with :math:`\Gamma^2` in
its normalisation; the normalised Gaussian is meant). So :math:`a_{3d}` and
:math:`a_{4s}` are the spin moments (μ_B per atom) carried by 3d-like and 4s-like
electrons, and the spin moment is the area of the MCP,

.. math::

    \mu_s = \int f(p)\,dp = a_{3d} + a_{4s}.

Noise: Gaussian, :math:`y_i = f(p_i;\theta) + \varepsilon_i`,
:math:`\varepsilon_i \sim N(0, 1/b)`; the article's eq. (10),
:math:`p(Y|\theta, b) = (b/2\pi)^{N/2} \exp\{-N b E(\theta)\}`,
:math:`E = \frac{1}{2N}\sum_i (y_i - f(p_i;\theta))^2`, is exactly this likelihood.
The noise level is known (the data's ``sigma`` or ``sigma=``) or, as in the article (b
unknown), a parameter ``sigma`` :math:`= b^{-1/2}`.

Units: :math:`p` in atomic units of momentum (1 a.u. = 1.993e-24 kg m/s), the MCP in
μ_B per a.u. (per atom), :math:`a_{nl}` in μ_B, :math:`\Gamma` in a.u.

Computation
-----------
The profiles are convolved with :math:`G_\Gamma` by the trapezoidal rule on a 0.01 a.u.
grid (exact for a Gaussian kernel sampled at spacing ≤ Γ/2 to far below 1e-12) once per
data axis, at nodes :math:`\Gamma_k` 0.01 a.u. apart over :data:`GAMMA_RANGE`, together
with the exact derivative :math:`\partial_\Gamma (J * G_\Gamma) = \Gamma\,(J * G_\Gamma'')`
(the heat equation). Between nodes the convolved profiles are cubic-Hermite interpolated
in Γ (error below 1e-7 of the profile maximum), so the PyTensor graph is two table
look-ups and a few multiplications per point, and its gradient is exact for the
interpolant. Γ outside :data:`GAMMA_RANGE` has zero prior probability.

Priors (:data:`PARAMETERS`)
---------------------------
The article gives none; ours are weakly informative: :math:`a_{3d} \sim N(2, 1)` μ_B (the
spin moment of bcc Fe is 2.1–2.2 μ_B, mostly 3d), :math:`a_{4s} \sim N(0, 0.5)` μ_B
(a small diffuse polarisation of either sign; the article finds it opposite to 3d),
:math:`\Gamma \sim U(0.02, 1)` a.u. (the resolution of high-energy magnetic Compton
spectrometers, ~0.4–0.5 a.u. FWHM at BL08W, i.e. Γ ≈ 0.2 a.u.), and
:math:`\sigma \sim \mathrm{HalfNormal}(0.05)` μ_B/a.u. when estimated. A prior of Γ
given in ``priors`` is cut to :data:`GAMMA_RANGE` (the tables' range) by a potential.

Checked: the forward model against Biggs, Mendelsohn & Mann's Hartree–Fock Compton
profiles of Fe 3d and 4s as tabulated in xraylib 4.3.0 (:data:`REFERENCES`, checked by
``tests/measurement_models/test_registry.py``); in
``tests/measurement_models/test_magnetic_compton.py``: the FFT tables and Hermite
interpolation in Γ (at nodes and between them) against a direct ``scipy.integrate.quad``
convolution of the profiles with ``scipy.stats.norm``, to 2e-7; the area
:math:`a_{3d} + a_{4s}` by quadrature; the Γ → 0 limit; the solid-like 3d profile of
:func:`simulate` against the scaling identity
:math:`[J(\cdot/\lambda)/\lambda] * G_\Gamma = [J * G_{\Gamma/\lambda}](p/\lambda)/\lambda`;
the compiled log-density (the PyTensor graph) against ``scipy.stats`` with the NumPy
forward model, and its gradient against finite differences; the loader and bad input.
The profiles are checked in ``test_compton_profiles.py`` (normalisation, kinetic energy,
hydrogen-like limit, xraylib's Biggs tables), and the posterior after simulated cycles
against a linearised (Gauss–Newton) prediction written in
``tests/case_studies/test_magnetic_compton_stopping.py``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr
from scipy.interpolate import CubicSpline
from scipy.signal import fftconvolve

from .array_backend import array_module
from .compton_profiles import compton_profile, fe_orbital
from .contract import Reference
from .data import load_text as _load_text
from .data import make_dataset, validate_dataset
from .parameters import Parameter, ParameterTable, Prior, PriorSpec

__all__ = [
    "AXIS",
    "EXAMPLE_TRUTH",
    "GAMMA_RANGE",
    "ORBITALS",
    "PARAMETERS",
    "REFERENCES",
    "VARIABLE",
    "ResolutionTable",
    "add_likelihood",
    "add_priors",
    "build_model",
    "components",
    "convolved_profile",
    "example_data",
    "forward",
    "load",
    "plot_fit",
    "resolution_table",
    "simulate",
    "spin_moment",
]

#: Name of the measured variable: the magnetic Compton profile (μ_B/a.u.).
VARIABLE = "mcp"
#: Name of the momentum axis p_z (a.u.).
AXIS = "p"
#: The orbitals of the model, in the order of the table rows.
ORBITALS = ("3d", "4s")
#: Range (a.u.) of the resolution sd Γ covered by the tables (and the prior).
GAMMA_RANGE = (0.02, 1.0)
_GAMMA_STEP = 0.01
_FINE_STEP = 0.01
_KERNEL_HALF_WIDTH = 8.0  # in units of Γ

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

_NAMES = ("a_3d", "a_4s", "Gamma")

_MIZUMAKI = (
    "M. Mizumaki (JASRI), 機械学習手法の導入によるデータ解析高度化 (advancing data analysis "
    "with machine learning; article in Japanese), sect. 2-2, Figs. 4 and 5: magnetic Compton "
    "scattering of Fe at SPring-8 BL08W (the study: Y. Yokoyama et al., in preparation there)"
)
_BIGGS = (
    "F. Biggs, L. B. Mendelsohn, J. B. Mann, At. Data Nucl. Data Tables 16, 201 (1975): "
    "Hartree–Fock Compton profiles per electron of the Fe {shell} shell ({orbital}), as "
    "tabulated in xraylib 4.3.0, ComptonProfile_Partial(26, {shell}_SHELL, q)"
)
_BIGGS_TOLERANCE = (
    "3 % of J plus 1e-4 J(0): Biggs et al. used Clementi's 1965 Hartree–Fock functions and "
    "print three significant figures; ours are Koga et al.'s 1999 functions, convolved with "
    "the smallest resolution of the tables (Γ = 0.02 a.u., a change below 0.3 %)"
)

#: The article's stopping study (settings and published numbers, for the case study),
#: and Hartree–Fock profiles of another calculation that :func:`forward` reproduces at
#: the smallest resolution (a_3d or a_4s = 1 μ_B: one electron's profile).
REFERENCES = {
    "mizumaki_fe_stopping": Reference(
        source=_MIZUMAKI,
        params={
            "cycles": 136,
            "required_sd_mu_B": 0.01,
            "cycles_until_sd_a_3d_levels_off": 20,
            "cycles_until_sd_mu_s_within_required": 6,
        },
        description="Fe at room temperature: 136 accumulated cycles; the posterior sd of "
        "a_3d stops falling after ~20 cycles; sd(μ_s) ≤ 0.01 μ_B after ~6 cycles",
    ),
    "biggs1975_fe_3d": Reference(
        source=_BIGGS.format(shell="M5", orbital="3d"),
        params={"a_3d": 1.0, "a_4s": 0.0, "Gamma": GAMMA_RANGE[0]},
        x=[0.0, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0],
        expected=[0.201, 0.200, 0.186, 0.112, 0.0541, 0.0250, 0.00553],
        rtol=0.03,
        atol=1e-4 * 0.201,
        description="Fe 3d Compton profile per electron (a.u.⁻¹) on Biggs et al.'s q grid; "
        + _BIGGS_TOLERANCE,
    ),
    "biggs1975_fe_4s": Reference(
        source=_BIGGS.format(shell="N1", orbital="4s"),
        params={"a_3d": 0.0, "a_4s": 1.0, "Gamma": GAMMA_RANGE[0]},
        x=[0.0, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0],
        expected=[1.55, 0.196, 0.0273, 0.00815, 0.00113, 0.000800, 0.000442],
        rtol=0.03,
        atol=1e-4 * 1.55,
        description="Fe 4s Compton profile per electron (a.u.⁻¹) on Biggs et al.'s q grid; "
        + _BIGGS_TOLERANCE,
    ),
}


# --------------------------------------------------------------------------------------
# Convolved profiles
# --------------------------------------------------------------------------------------


def _fine_grid(p: np.ndarray, gamma_max: float) -> np.ndarray:
    reach = _KERNEL_HALF_WIDTH * gamma_max
    lo = _FINE_STEP * math.floor((p.min() - reach) / _FINE_STEP)
    hi = _FINE_STEP * math.ceil((p.max() + reach) / _FINE_STEP)
    return np.linspace(lo, hi, round((hi - lo) / _FINE_STEP) + 1)


def _profile(orbital: str, q: np.ndarray, scale: float = 1.0) -> np.ndarray:
    r"""Profile per electron; ``scale`` λ gives :math:`J(q/\lambda)/\lambda` (area kept)."""
    return compton_profile(fe_orbital(orbital), q / scale) / scale


def convolved_profile(p: np.ndarray, orbital: str, gamma: float, scale: float = 1.0) -> np.ndarray:
    r""":math:`(J_{nl} * G_\Gamma)(p)` per electron (a.u.⁻¹), at one Γ (no table).

    Parameters
    ----------
    p : array_like, shape (n,)
        Momenta (a.u.).
    orbital : {"3d", "4s"}
    gamma : float
        Resolution sd Γ (a.u.), at least twice the 0.01 a.u. quadrature step.
    scale : float
        Momentum scale λ of the profile, :math:`J(q/\lambda)/\lambda` (1: the atomic
        profile; used by :func:`simulate` for a solid-like 3d profile).
    """
    p = np.atleast_1d(np.asarray(p, dtype=float))
    if not (np.isfinite(gamma) and gamma >= 2 * _FINE_STEP):
        raise ValueError(f"Gamma must be ≥ {2 * _FINE_STEP} a.u. for the quadrature, got {gamma}")
    u = _fine_grid(p, gamma)
    return _convolve_fft(p, u, _profile(orbital, u, scale), gamma)[0]


@dataclass(frozen=True)
class ResolutionTable:
    """Convolved profiles at Γ nodes for one data axis.

    Attributes
    ----------
    p : ndarray, shape (n,)
        The data axis (a.u.).
    gamma : ndarray, shape (K,)
        The Γ nodes (a.u.), uniform with step ``_GAMMA_STEP`` (0.01 a.u.).
    value : ndarray, shape (2, K, n)
        :math:`(J_{nl} * G_{\\Gamma_k})(p_i)` for the orbitals of :data:`ORBITALS`.
    slope : ndarray, shape (2, K, n)
        :math:`\\partial_\\Gamma` of ``value``.
    """

    p: np.ndarray
    gamma: np.ndarray
    value: np.ndarray
    slope: np.ndarray


@lru_cache(maxsize=8)
def _cached_table(p_bytes: bytes) -> ResolutionTable:
    p = np.frombuffer(p_bytes, dtype=float)
    nodes = np.linspace(*GAMMA_RANGE, round(float(np.ptp(GAMMA_RANGE)) / _GAMMA_STEP) + 1)
    u = _fine_grid(p, GAMMA_RANGE[1])
    value = np.empty((len(ORBITALS), nodes.size, p.size))
    slope = np.empty_like(value)
    for j, name in enumerate(ORBITALS):
        profile = _profile(name, u)
        for k, gamma in enumerate(nodes):
            value[j, k], slope[j, k] = _convolve_fft(p, u, profile, gamma)
    return ResolutionTable(p.copy(), nodes, value, slope)


def _convolve_fft(
    p: np.ndarray, u: np.ndarray, profile: np.ndarray, gamma: float
) -> tuple[np.ndarray, np.ndarray]:
    r"""(J * G_Γ)(p) and Γ (J * G_Γ'')(p): trapezoidal rule on the grid u, FFT, spline.

    The kernel is sampled at the grid's own offsets m h (|m h| ≤ 8Γ), so the discrete
    convolution (``scipy.signal.fftconvolve``) is the trapezoidal rule at the grid
    points; a cubic spline through the 0.01 a.u. grid carries it to ``p`` (error of
    order h⁴ J⁗, below 1e-8 here).
    """
    half = math.ceil(_KERNEL_HALF_WIDTH * gamma / _FINE_STEP)
    z = np.arange(-half, half + 1) * _FINE_STEP / gamma
    kernel = np.exp(-0.5 * z**2) * (_FINE_STEP / (math.sqrt(2 * math.pi) * gamma))
    value = fftconvolve(profile, kernel, mode="same")
    slope = fftconvolve(profile, kernel * (z**2 - 1.0) / gamma, mode="same")
    return CubicSpline(u, value)(p), CubicSpline(u, slope)(p)


def resolution_table(p) -> ResolutionTable:
    """The :class:`ResolutionTable` of the axis ``p`` (cached for the last 8 axes)."""
    p = np.ascontiguousarray(np.asarray(p, dtype=float).ravel())
    if p.size == 0 or not np.all(np.isfinite(p)):
        raise ValueError("the momentum axis must be non-empty and finite")
    return _cached_table(p.tobytes())


def _hermite(table: ResolutionTable, Gamma, xp):
    """Convolved profiles at Γ, shape (2, ..., n), by cubic Hermite interpolation."""
    step = table.gamma[1] - table.gamma[0]
    last = table.gamma.size - 2
    t = (Gamma - table.gamma[0]) / step
    if xp is pt:
        k = pt.clip(pt.floor(t), 0, last).astype("int64")
        value, slope = pt.as_tensor_variable(table.value), pt.as_tensor_variable(table.slope)
    else:
        k = np.clip(np.floor(t), 0, last).astype(int)
        value, slope = table.value, table.slope
    s = (t - k)[..., None]
    h00, h10 = 2 * s**3 - 3 * s**2 + 1, s**3 - 2 * s**2 + s
    h01, h11 = -2 * s**3 + 3 * s**2, s**3 - s**2
    return (
        h00 * value[:, k] + h10 * step * slope[:, k]
        + h01 * value[:, k + 1] + h11 * step * slope[:, k + 1]
    )  # fmt: skip


def components(p, *, a_3d, a_4s, Gamma) -> dict:
    r"""The 3d and 4s terms :math:`a_{nl} (J_{nl} * G_\Gamma)(p)`, shape ``(..., n)``.

    Parameters
    ----------
    p : array_like, shape (n,)
        Momenta (a.u.); a NumPy array (the data axis) also when the parameters are
        PyTensor variables.
    a_3d, a_4s : array_like or TensorVariable, shape (...)
        Spin moments (μ_B); scalars or one value per draw.
    Gamma : array_like or TensorVariable, shape (...)
        Resolution sd (a.u.) within :data:`GAMMA_RANGE`.

    Returns
    -------
    dict
        ``"3d"`` and ``"4s"``; NumPy for NumPy parameters, PyTensor graphs otherwise.

    Raises
    ------
    ValueError
        A NumPy Γ outside :data:`GAMMA_RANGE`, or a bad axis.
    """
    xp = array_module(a_3d, a_4s, Gamma)
    table = resolution_table(p)
    if xp is not pt:
        a_3d, a_4s, Gamma = (np.asarray(v, dtype=float) for v in (a_3d, a_4s, Gamma))
        lo, hi = GAMMA_RANGE
        if np.any(~np.isfinite(Gamma) | (Gamma < lo) | (Gamma > hi)):
            raise ValueError(f"Gamma must lie in {GAMMA_RANGE} a.u., got {Gamma}")
    else:
        a_3d, a_4s, Gamma = (pt.as_tensor_variable(v) for v in (a_3d, a_4s, Gamma))
    shapes = _hermite(table, Gamma, xp)
    return {"3d": a_3d[..., None] * shapes[0], "4s": a_4s[..., None] * shapes[1]}


def forward(p, *, a_3d, a_4s, Gamma):
    r"""The MCP :math:`f(p;\theta)` (μ_B/a.u.), shape ``(..., n)``; see :func:`components`."""
    parts = components(p, a_3d=a_3d, a_4s=a_4s, Gamma=Gamma)
    return parts["3d"] + parts["4s"]


def spin_moment(posterior: xr.Dataset, prefix: str = "") -> xr.DataArray:
    r"""Draws of the spin moment :math:`\mu_s = a_{3d} + a_{4s}` (μ_B), the MCP's area."""
    return (posterior[f"{prefix}a_3d"] + posterior[f"{prefix}a_4s"]).rename("mu_s")


# --------------------------------------------------------------------------------------
# PyMC model
# --------------------------------------------------------------------------------------


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
    names = list(_NAMES if names is None else names)
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


# --------------------------------------------------------------------------------------
# Simulation, example, loader, plotting
# --------------------------------------------------------------------------------------


def simulate(
    p: np.ndarray,
    *,
    rng: np.random.Generator | int | None = None,
    sigma: float,
    scale_3d: float = 1.0,
    include_sigma: bool = True,
    a_3d: float,
    a_4s: float,
    Gamma: float,
) -> xr.Dataset:
    r"""A simulated MCP :math:`f(p) + N(0, \sigma^2)` (truth in ``attrs["truth_<name>"]``).

    Parameters
    ----------
    p : array_like, shape (n,)
        Momenta (a.u.), sorted.
    rng : Generator or int, optional
        Random generator or its seed.
    sigma : float
        Noise sd (μ_B/a.u.).
    scale_3d : float
        Momentum scale λ of the *simulated* 3d profile, :math:`J_{3d}(q/\lambda)/\lambda`:
        λ > 1 mimics the broader 3d momentum density of the metal (its 3d orbitals are
        compressed in r relative to the free atom's), a misfit that the atomic model
        cannot absorb. The area, :math:`a_{3d} + a_{4s}`, is unchanged.
        ``attrs["truth_scale_3d"]`` records it.
    include_sigma : bool
        Store the known ``sigma`` with the data (False: the noise is to be estimated).
    a_3d, a_4s : float
        True spin moments (μ_B).
    Gamma : float
        True resolution sd (a.u.).
    """
    rng = np.random.default_rng(rng)
    p = np.asarray(p, dtype=float)
    if not np.isfinite(sigma) or sigma <= 0:
        raise ValueError(f"sigma must be positive and finite, got {sigma!r}")
    if not np.isfinite(scale_3d) or scale_3d <= 0:
        raise ValueError(f"scale_3d must be positive, got {scale_3d!r}")
    truth = {"a_3d": a_3d, "a_4s": a_4s, "Gamma": Gamma}
    gamma = float(Gamma)
    mean = float(a_3d) * convolved_profile(p, "3d", gamma, scale_3d) + float(
        a_4s
    ) * convolved_profile(p, "4s", gamma)
    attrs = {f"truth_{k}": float(v) for k, v in truth.items()}
    attrs |= {"truth_sigma": float(sigma), "truth_scale_3d": float(scale_3d)}
    return make_dataset(
        p,
        mean + sigma * rng.standard_normal(p.shape),
        sigma=np.full(p.shape, float(sigma)) if include_sigma else None,
        axis=AXIS,
        axis_units="a.u.",
        variable=VARIABLE,
        units="μ_B/a.u.",
        attrs=attrs,
    )


#: Truth of :func:`example_data`: bcc-Fe-like spin moments (3d up, diffuse 4s opposite),
#: μ_s = 2.1 μ_B, and a 0.45 a.u. FWHM resolution.
EXAMPLE_TRUTH = {"a_3d": 2.3, "a_4s": -0.2, "Gamma": 0.19}


def example_data(rng: np.random.Generator | int | None = 0) -> tuple[xr.Dataset, dict]:
    """A simulated Fe MCP on p = −8…8 a.u. (81 points), σ = 0.01 μ_B/a.u., atomic model."""
    data = simulate(np.linspace(-8.0, 8.0, 81), rng=rng, sigma=0.01, **EXAMPLE_TRUTH)
    return data, dict(EXAMPLE_TRUTH)


def load(path: str | Path) -> xr.Dataset:
    """Read a two- or three-column text file ``p [a.u.]  J_mag [μ_B/a.u.]  [sigma]``.

    See :func:`measurement_models.data.load_text` for the format and its errors.
    """
    return _load_text(path, axis=AXIS, axis_units="a.u.", variable=VARIABLE, units="μ_B/a.u.")


def plot_fit(ax, data: xr.Dataset, posterior: xr.Dataset, **_) -> None:
    """Data, posterior band of the MCP, 3d and 4s terms at the posterior mean, truth."""
    from .plotting import plot_band, plot_data, posterior_draws

    (dim,) = data[VARIABLE].dims
    p = data[dim].values
    draws = posterior_draws(posterior)
    values = {n: draws[n].values for n in _NAMES}
    plot_data(ax, data, VARIABLE)
    plot_band(ax, p, forward(p, **values))
    mean = {n: float(draws[n].mean("sample")) for n in _NAMES}
    parts = components(p, **mean)
    ax.plot(p, parts["3d"], ":", color="C0", lw=1.2, label="Fe 3d")
    ax.plot(p, parts["4s"], "--", color="C2", lw=1.2, label="Fe 4s")
    truth = {n: data.attrs[f"truth_{n}"] for n in _NAMES if f"truth_{n}" in data.attrs}
    if len(truth) == len(_NAMES) and data.attrs.get("truth_scale_3d", 1.0) == 1.0:
        ax.plot(p, forward(p, **truth), "k--", lw=1, label="truth")
    ax.axhline(0.0, color="0.6", lw=0.5)
    ax.set_xlabel("p_z [a.u.]")
    ax.set_ylabel("MCP [μ_B/a.u.]")
    ax.legend(fontsize="small")
