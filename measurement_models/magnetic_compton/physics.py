"""The Fe magnetic Compton profile: atomic 3d and 4s profiles convolved with the resolution."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pytensor.tensor as pt
import xarray as xr
from scipy.interpolate import CubicSpline
from scipy.signal import fftconvolve

from ..array_backend import array_module
from ..compton_profiles import compton_profile, fe_orbital

__all__ = [
    "AXIS",
    "GAMMA_RANGE",
    "ORBITALS",
    "VARIABLE",
    "ResolutionTable",
    "components",
    "convolved_profile",
    "forward",
    "resolution_table",
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
        profile; used by :func:`~measurement_models.magnetic_compton.simulate` for a
        solid-like 3d profile).
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
