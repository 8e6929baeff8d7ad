r"""Magnetic Compton profile of Fe as atomic 3d + 4s Hartree–Fock profiles (seed 000).

Model
-----
The magnetic Compton profile (MCP) is the difference of the Compton profiles measured
with the photon wave vector parallel and antiparallel to the magnetisation (circularly
polarised X-rays; SPring-8 BL08W in the seed), i.e. the projected momentum density of
the unpaired spins, :math:`J_\mathrm{mag}(p_z) = J_\uparrow(p_z) - J_\downarrow(p_z)`.
Its area is the spin moment per atom, and, as in the experiment, the measured MCP is
normalised so that its area is the spin moment in :math:`\mu_B` (the seed's eq. (9)):

.. math::

    f(p; \theta) = \big([a_{3d}\, J_{3d} + a_{4s}\, J_{4s}] * G_\Gamma\big)(p),
    \qquad G_\Gamma(x) = \frac{1}{\sqrt{2\pi}\,\Gamma} e^{-x^2/2\Gamma^2},

with :math:`J_{3d}`, :math:`J_{4s}` the Hartree–Fock Compton profiles of the atomic Fe 3d
and 4s orbitals, each normalised to one electron, :math:`\int J\,dp_z = 1`
(:mod:`measurement_models.compton_profiles`: Koga et al. 1999 Roothaan–Hartree–Fock
orbitals of Fe 3d⁶4s² ⁵D), and :math:`G_\Gamma` the normalised Gaussian resolution of
standard deviation :math:`\Gamma` (the seed's :math:`G` with its normalisation
corrected). So :math:`a_{3d}` and :math:`a_{4s}` are the spin moments (μ_B per atom)
carried by 3d-like and 4s-like electrons, and the spin moment is the area of the MCP,

.. math::

    \mu_s = \int f(p)\,dp = a_{3d} + a_{4s}.

Noise: Gaussian, :math:`y_i = f(p_i;\theta) + \varepsilon_i`,
:math:`\varepsilon_i \sim N(0, 1/b)`; the seed's eq. (10),
:math:`p(Y|\theta, b) = (b/2\pi)^{N/2} \exp\{-N b E(\theta)\}`,
:math:`E = \frac{1}{2N}\sum_i (y_i - f(p_i;\theta))^2`, is exactly this likelihood.
The noise level is known (the data's ``sigma`` or ``sigma=``) or, as in the seed (b
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
The seed gives none; ours are weakly informative: :math:`a_{3d} \sim N(2, 1)` μ_B (the
spin moment of bcc Fe is 2.1–2.2 μ_B, mostly 3d), :math:`a_{4s} \sim N(0, 0.5)` μ_B
(a small diffuse polarisation of either sign; the seed finds it opposite to 3d),
:math:`\Gamma \sim U(0.02, 1)` a.u. (the resolution of high-energy magnetic Compton
spectrometers, ~0.4–0.5 a.u. FWHM at BL08W, i.e. Γ ≈ 0.2 a.u.), and
:math:`\sigma \sim \mathrm{HalfNormal}(0.05)` μ_B/a.u. when estimated.

Checked (``tests/measurement_models/test_magnetic_compton.py``): the forward model (FFT
tables and Hermite interpolation in Γ, at nodes and between them) against a direct
``scipy.integrate.quad`` convolution of the profiles with ``scipy.stats.norm``, to
2e-7; the area :math:`a_{3d} + a_{4s}` by quadrature; the Γ → 0 limit; the solid-like
3d profile of :func:`simulate` against the scaling identity
:math:`[J(\cdot/\lambda)/\lambda] * G_\Gamma = [J * G_{\Gamma/\lambda}](p/\lambda)/\lambda`;
the compiled log-density (the PyTensor graph) against ``scipy.stats`` with the NumPy
forward model, and its gradient against finite differences; loaders and bad input. The
profiles are checked in ``test_compton_profiles.py`` (normalisation, kinetic energy,
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
from .data import load_text, make_dataset, validate_dataset
from .noise import noise_sd
from .parameters import Parameter, ParameterTable, Prior, PriorSpec

__all__ = [
    "AXIS",
    "EXAMPLE_TRUTH",
    "GAMMA_RANGE",
    "ORBITALS",
    "PARAMETERS",
    "VARIABLE",
    "ResolutionTable",
    "add_likelihood",
    "add_priors",
    "build_model",
    "components",
    "convolved_profile",
    "example_data",
    "forward",
    "load_mcp",
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


def components(p, a_3d, a_4s, Gamma) -> dict:
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


def forward(p, a_3d, a_4s, Gamma):
    r"""The MCP :math:`f(p;\theta)` (μ_B/a.u.), shape ``(..., n)``; see :func:`components`."""
    parts = components(p, a_3d, a_4s, Gamma)
    return parts["3d"] + parts["4s"]


def spin_moment(posterior: xr.Dataset, prefix: str = "") -> xr.DataArray:
    r"""Draws of the spin moment :math:`\mu_s = a_{3d} + a_{4s}` (μ_B), the MCP's area."""
    return (posterior[f"{prefix}a_3d"] + posterior[f"{prefix}a_4s"]).rename("mu_s")


# --------------------------------------------------------------------------------------
# PyMC model
# --------------------------------------------------------------------------------------


def add_priors(
    priors: Mapping[str, PriorSpec] | None = None,
    prefix: str = "",
    names: Sequence[str] | None = None,
) -> dict[str, pt.TensorVariable]:
    """Add the priors of ``a_3d``, ``a_4s`` and ``Gamma`` (or of ``names``) to the model.

    Returns the parameter name (without prefix) to variable mapping.

    Raises
    ------
    ValueError
        A prior for an unknown parameter.
    """
    names = list(names or _NAMES)
    priors = dict(priors or {})
    unknown = sorted(set(priors) - set(PARAMETERS.names))
    if unknown:
        raise ValueError(f"prior given for unknown parameter(s) {unknown}; known: {_NAMES}")
    return PARAMETERS.add_priors(names, {k: v for k, v in priors.items() if k in names}, prefix)


def add_likelihood(
    data: xr.Dataset,
    params: Mapping[str, pt.TensorVariable],
    *,
    sigma: float | None = None,
    priors: Mapping[str, PriorSpec] | None = None,
    name: str = VARIABLE,
    mutable_data: bool = False,
) -> pt.TensorVariable:
    r"""Add the Gaussian likelihood of one MCP to the current model.

    ``mcp`` ~ Normal(f(p), σ) with σ given, the data's ``sigma`` or a parameter.
    ``mutable_data=True`` puts the measured values in ``pm.Data`` (``<name>_observed``),
    so that successive accumulations of one measurement share a compiled graph.
    When ``priors`` overrides ``Gamma``, a potential ``<name>_Gamma_range`` gives
    :math:`-\infty` outside :data:`GAMMA_RANGE` (the tables' range), so that no draw
    is evaluated by extrapolation.
    """
    validate_dataset(data, variables=[VARIABLE])
    p = data[next(iter(data[VARIABLE].dims))].values
    observed = data[VARIABLE].values
    if mutable_data:
        observed = pm.Data(f"{name}_observed", observed)
    gamma = params["Gamma"]
    if priors and "Gamma" in priors:
        inside = (gamma >= GAMMA_RANGE[0]) & (gamma <= GAMMA_RANGE[1])
        guard = pm.Potential(
            f"{name}_Gamma_range", pt.switch(inside, np.float64(0.0), np.float64(-np.inf))
        )
        guard.tag.non_finite_guard = True  # not a likelihood term
    mean = forward(p, params["a_3d"], params["a_4s"], gamma)
    sd = noise_sd(data, sigma, PARAMETERS, priors)
    return pm.Normal(name, mu=mean, sigma=sd, observed=observed)


def build_model(
    data: xr.Dataset,
    sigma: float | None = None,
    priors: Mapping[str, PriorSpec] | None = None,
    mutable_data: bool = False,
) -> pm.Model:
    """PyMC model of a magnetic Compton profile (3d + 4s atomic profiles ∗ resolution).

    Parameters
    ----------
    data : xarray.Dataset
        ``mcp`` (μ_B/a.u.) on ``p`` (a.u.), optionally ``sigma``.
    sigma : float, optional
        Known noise sd (else the data's ``sigma``, else the parameter ``sigma``).
    priors : mapping, optional
        Prior overrides by parameter name.
    mutable_data : bool
        Measured values in ``pm.Data`` (see :func:`add_likelihood`).

    Returns
    -------
    pymc.Model
        Free ``a_3d``, ``a_4s``, ``Gamma`` (and ``sigma``); observed ``mcp``.

    Raises
    ------
    ValueError
        Bad data (via :func:`~measurement_models.data.validate_dataset`), unknown
        prior names, a non-positive ``sigma``.
    """
    validate_dataset(data, variables=[VARIABLE])
    with pm.Model() as model:
        params = add_priors(priors)
        add_likelihood(data, params, sigma=sigma, priors=priors, mutable_data=mutable_data)
    return model


# --------------------------------------------------------------------------------------
# Simulation, example, loaders, plotting
# --------------------------------------------------------------------------------------


def simulate(
    p: np.ndarray,
    truth: Mapping[str, float],
    sigma: float,
    rng: np.random.Generator | int | None = None,
    scale_3d: float = 1.0,
    include_sigma: bool = True,
) -> xr.Dataset:
    r"""A simulated MCP :math:`f(p) + N(0, \sigma^2)` (truth in ``attrs["truth_<name>"]``).

    Parameters
    ----------
    p : array_like, shape (n,)
        Momenta (a.u.), sorted.
    truth : mapping
        ``a_3d``, ``a_4s`` (μ_B), ``Gamma`` (a.u.).
    sigma : float
        Noise sd (μ_B/a.u.).
    rng : Generator or seed
    scale_3d : float
        Momentum scale λ of the *simulated* 3d profile, :math:`J_{3d}(q/\lambda)/\lambda`:
        λ > 1 mimics the broader 3d momentum density of the metal (its 3d orbitals are
        compressed in r relative to the free atom's), a misfit that the atomic model
        cannot absorb. The area, :math:`a_{3d} + a_{4s}`, is unchanged.
        ``attrs["truth_scale_3d"]`` records it.
    include_sigma : bool
        Store the known ``sigma`` with the data (False: the noise is to be estimated).
    """
    rng = np.random.default_rng(rng)
    p = np.asarray(p, dtype=float)
    unknown = sorted(set(truth) - set(_NAMES))
    if unknown or set(truth) != set(_NAMES):
        raise ValueError(f"truth must give exactly {_NAMES}, got {sorted(truth)}")
    if not np.isfinite(sigma) or sigma <= 0:
        raise ValueError(f"sigma must be positive and finite, got {sigma!r}")
    if not np.isfinite(scale_3d) or scale_3d <= 0:
        raise ValueError(f"scale_3d must be positive, got {scale_3d!r}")
    gamma = float(truth["Gamma"])
    mean = float(truth["a_3d"]) * convolved_profile(p, "3d", gamma, scale_3d) + float(
        truth["a_4s"]
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
    data = simulate(np.linspace(-8.0, 8.0, 81), EXAMPLE_TRUTH, sigma=0.01, rng=rng)
    return data, dict(EXAMPLE_TRUTH)


def load_mcp(path: str | Path) -> xr.Dataset:
    """Read a two- or three-column text file ``p [a.u.]  J_mag [μ_B/a.u.]  [sigma]``.

    See :func:`measurement_models.data.load_text` for the format and its errors.
    """
    return load_text(path, axis=AXIS, axis_units="a.u.", variable=VARIABLE, units="μ_B/a.u.")


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
