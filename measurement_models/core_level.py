r"""Core-level spectra of configuration-interaction cluster models: XPS and XAS.

The forward solver shared by the Ce 3d XPS model (:mod:`measurement_models.ce_xps`) and
the NiO 2p XPS + XAS model (:mod:`measurement_models.nio_cluster`).

Model
-----
A cluster model is written on a few charge-transfer configurations
(:math:`|4f^0\rangle, |4f^1\underline L\rangle, |4f^2\underline L^2\rangle` for Ce,
:math:`|d^8\rangle, |d^9\underline L\rangle, |d^{10}\underline L^2\rangle` for NiO). The
initial-state Hamiltonian :math:`H_i` and final-state Hamiltonian :math:`H_f` (with the
core hole) are real symmetric, tridiagonal in this basis
(:func:`charge_transfer_hamiltonian`). With the ground state :math:`|g\rangle` of
:math:`H_i` (energy :math:`E_g`) and the eigenstates :math:`|f\rangle` of :math:`H_f`,

.. math::

    I(\omega) = \sum_f |\langle f|T|g\rangle|^2\,
        V(\omega - (E_f - E_g);\ \sigma, \Gamma),

with :math:`T = 1` for photoemission in the sudden approximation (:func:`xps_lines`;
the core electron leaves, the valence configuration is unchanged) and the dipole
operator projected on the configurations for absorption (:func:`xas_lines`).
:math:`V` is the Voigt profile (:func:`voigt_profile`): the Lorentzian of half width
:math:`\Gamma` (core-hole lifetime; eq. (6) of the NiO model,
:mod:`measurement_models.nio_cluster`) convolved with a Gaussian of standard deviation
:math:`\sigma` (instrument). ``sigma=None`` gives the Lorentzian alone.

The eigenproblems are solved by :func:`measurement_models.hermitian.transition_lines`
(real inputs, a numba kernel, an exact pullback, and ``Blockwise`` batching over
leading dimensions), so every function here takes NumPy arrays (and returns NumPy) or
PyTensor variables (and returns a differentiable graph), with any leading batch shape.

Voigt profile
-------------
:math:`V(x;\sigma,\Gamma) = \operatorname{Re} w(z) / (\sigma\sqrt{2\pi})`,
:math:`z = (x + i\Gamma)/(\sigma\sqrt 2)`, with the Faddeeva function :math:`w` from
Weideman's rational expansion (J. A. C. Weideman, SIAM J. Numer. Anal. 31, 1497
(1994)) with :data:`VOIGT_TERMS` = 32 terms,

.. math::

    w(z) \approx \frac{2\sum_{n=0}^{N-1} a_{n+1} Z^n}{(L - iz)^2}
        + \frac{1}{\sqrt\pi\,(L - iz)}, \qquad Z = \frac{L + iz}{L - iz},
        \quad L = 2^{-1/4}\sqrt N,

written in real arithmetic (PyTensor's complex gradients are not relied on). It
agrees with :func:`scipy.special.voigt_profile` to about 1e-14 of the peak height for
every :math:`\Gamma/\sigma` (a Gauss–Hermite sum over instrument shifts, the usual
shortcut, is wrong by tens of per cent when :math:`\Gamma < \sigma`).

Checked (``tests/measurement_models/test_core_level.py``): the Voigt profile against
SciPy; line positions and weights against :func:`numpy.linalg.eigh`; gradients
against finite differences; bad input refused.
"""

from __future__ import annotations

import numpy as np
import pytensor.tensor as pt

from . import hermitian
from .array_backend import array_module, is_symbolic

__all__ = [
    "VOIGT_TERMS",
    "broadened_spectrum",
    "charge_transfer_hamiltonian",
    "check_broadening",
    "check_energy_grid",
    "check_line_parameters",
    "voigt_profile",
    "xas_lines",
    "xps_lines",
]

#: Number of terms of Weideman's expansion of the Faddeeva function.
VOIGT_TERMS = 32


def _weideman_coefficients(n_terms: int) -> tuple[np.ndarray, float]:
    """Coefficients :math:`a_1 \\dots a_N` (highest power first, for Horner) and L."""
    m = 2 * n_terms
    k = np.arange(-m + 1, m)
    length = np.sqrt(n_terms / np.sqrt(2.0))
    t = length * np.tan(k * np.pi / (2 * m))
    f = np.concatenate([[0.0], np.exp(-(t**2)) * (length**2 + t**2)])
    a = np.real(np.fft.fft(np.fft.fftshift(f))) / (2 * m)
    return np.flipud(a[1 : n_terms + 1]), float(length)


_COEFFICIENTS, _LENGTH = _weideman_coefficients(VOIGT_TERMS)


def _faddeeva_real(z_re, z_im):
    r"""Re w(z) for Im z > 0 in real arithmetic (NumPy or PyTensor)."""
    # D = L - i z, N = L + i z; Z = N / D.
    d_re, d_im = _LENGTH + z_im, -z_re
    n_re, n_im = _LENGTH - z_im, z_re
    d_abs2 = d_re**2 + d_im**2
    inv_re, inv_im = d_re / d_abs2, -d_im / d_abs2  # 1 / D
    big_re = n_re * inv_re - n_im * inv_im
    big_im = n_re * inv_im + n_im * inv_re
    p_re, p_im = _COEFFICIENTS[0] + 0 * big_re, 0 * big_im
    for coefficient in _COEFFICIENTS[1:]:
        p_re, p_im = p_re * big_re - p_im * big_im + coefficient, p_re * big_im + p_im * big_re
    inv2_re = inv_re**2 - inv_im**2
    inv2_im = 2 * inv_re * inv_im
    return 2 * (p_re * inv2_re - p_im * inv2_im) + inv_re / np.sqrt(np.pi)


def voigt_profile(x, sigma, gamma):
    r"""Voigt profile: Lorentzian (half width ``gamma``) ∗ Gaussian (sd ``sigma``).

    Normalised to unit area. ``sigma=None`` (or 0 for NumPy input) gives the Lorentzian
    :math:`\Gamma/\pi / (x^2 + \Gamma^2)`.

    Parameters
    ----------
    x : array_like or TensorVariable
        Distance from the line centre.
    sigma : float or None
        Gaussian standard deviation (> 0), a known instrument resolution.
    gamma : array_like or TensorVariable
        Lorentzian half width at half maximum (> 0); broadcasts with ``x``.
    """
    if sigma is None or (not is_symbolic(sigma) and float(sigma) == 0.0):
        return gamma / np.pi / (x**2 + gamma**2)
    scale = sigma * np.sqrt(2.0)
    return _faddeeva_real(x / scale, gamma / scale) / (sigma * np.sqrt(2 * np.pi))


def charge_transfer_hamiltonian(diagonal, hopping):
    r"""Real symmetric tridiagonal Hamiltonian of a configuration chain.

    :math:`H_{kk} = \epsilon_k`, :math:`H_{k,k+1} = H_{k+1,k} = t_k`.

    Parameters
    ----------
    diagonal : (..., m)
        Configuration energies.
    hopping : (..., m - 1)
        Couplings between neighbouring configurations.

    Returns
    -------
    (..., m, m)
    """
    xp = array_module(diagonal, hopping)
    if xp is pt:
        diagonal, hopping = pt.as_tensor_variable(diagonal), pt.as_tensor_variable(hopping)
        m = diagonal.type.shape[-1]
        if m is None:
            raise ValueError("the number of configurations must be known when building")
        size = m
    else:
        diagonal, hopping = np.asarray(diagonal, float), np.asarray(hopping, float)
        size = diagonal.shape[-1]
    hop_size = hopping.type.shape[-1] if xp is pt else hopping.shape[-1]
    if hop_size is not None and hop_size != size - 1:
        raise ValueError(
            f"a chain of {size} configurations needs {size - 1} couplings, got {hop_size}"
        )
    eye = np.eye(size)
    # H = diag(ε) + Σ_k t_k (E_{k,k+1} + E_{k+1,k}), built from constant masks so that
    # it batches over leading dims in NumPy and PyTensor alike.
    h = diagonal[..., :, None] * eye
    for k in range(size - 1):
        mask = np.zeros((size, size))
        mask[k, k + 1] = mask[k + 1, k] = 1.0
        h = h + hopping[..., k, None, None] * mask
    return h


def _lines(h_final, h_initial, transition):
    """Positions E_f − E_g and intensities |⟨f|T|g⟩|² from the lowest initial state."""
    xp = array_module(h_final, h_initial, transition)
    zeros_f = 0 * h_final
    zeros_i = 0 * h_initial
    t = transition[None, ...] if xp is np else pt.as_tensor_variable(transition)[None, ...]
    positions, intensities = hermitian.transition_lines(
        h_final, zeros_f, h_initial, zeros_i, t, 0 * t
    )
    return positions[..., 0], intensities[..., 0]


def xps_lines(h_initial, h_final):
    r"""Photoemission lines in the sudden approximation (:math:`T = 1`).

    Parameters
    ----------
    h_initial, h_final : (..., m, m)
        Initial- and final-state Hamiltonians on the same configuration basis.

    Returns
    -------
    positions : (..., m)
        :math:`E_f - E_g`, ascending (the binding energy relative to the reference of
        the final-state diagonal).
    weights : (..., m)
        :math:`|\langle f|g\rangle|^2`, summing to 1.
    """
    size = _matrix_size(h_initial)
    if _matrix_size(h_final) != size:
        raise ValueError("initial and final Hamiltonians need the same configuration basis")
    return _lines(h_final, h_initial, np.eye(size))


def xas_lines(h_initial, h_final, transition):
    r"""Absorption lines :math:`E_f - E_g`, :math:`|\langle f|T|g\rangle|^2`.

    Parameters
    ----------
    h_initial : (..., m, m)
    h_final : (..., k, k)
    transition : (k, m)
        The dipole operator between the configuration bases (a constant).
    """
    transition = np.asarray(transition, dtype=float)
    m, k = _matrix_size(h_initial), _matrix_size(h_final)
    if transition.shape != (k, m):
        raise ValueError(
            f"the transition operator must map {m} initial to {k} final configurations: "
            f"shape ({k}, {m}), got {transition.shape}"
        )
    return _lines(h_final, h_initial, transition)


def _matrix_size(h) -> int | None:
    shape = h.type.shape if is_symbolic(h) else np.shape(h)
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise ValueError(f"a Hamiltonian must be a (..., m, m) array, got shape {shape}")
    return shape[-1]


def check_energy_grid(energy) -> np.ndarray:
    """The energy grid as a float array; ``ValueError`` unless it is a non-empty 1-d array
    of finite values."""
    energy = np.asarray(energy, dtype=float)
    if energy.ndim != 1 or energy.size == 0 or not np.all(np.isfinite(energy)):
        raise ValueError("the energy grid must be a non-empty 1-d array of finite values")
    return energy


def check_broadening(resolution: float | None, spin_orbit: tuple[float, float] | None) -> None:
    """``ValueError`` unless ``resolution`` is None or a positive number (eV) and
    ``spin_orbit`` is None or ``(splitting, ratio)`` with finite values and ratio ≥ 0."""
    if resolution is not None and not (np.isfinite(resolution) and resolution > 0):
        raise ValueError(
            f"the resolution must be a positive number of eV or None, got {resolution!r}"
        )
    if spin_orbit is None:
        return
    try:
        splitting, ratio = (float(v) for v in spin_orbit)
    except (TypeError, ValueError):
        raise ValueError(f"spin_orbit must be (splitting, ratio), got {spin_orbit!r}") from None
    if not (np.isfinite(splitting) and np.isfinite(ratio) and ratio >= 0):
        raise ValueError(f"spin_orbit must be (splitting, ratio ≥ 0), got {spin_orbit!r}")


def check_line_parameters(values: dict[str, object]) -> None:
    """``ValueError`` unless every numeric value (NumPy, not PyTensor; None skipped) is
    finite, the Lorentzian half width ``gamma`` is positive and ``amplitude`` ≥ 0.

    The one check of the cluster models' (``ce_xps``, ``nio_cluster``) numeric
    parameters; PyTensor inputs are kept in range by the priors.
    """
    numeric = {k: v for k, v in values.items() if v is not None and not is_symbolic(v)}
    for name, value in numeric.items():
        if not np.all(np.isfinite(np.asarray(value, dtype=float))):
            raise ValueError(f"parameter {name!r} must be finite, got {value!r}")
    if "gamma" in numeric and np.any(np.asarray(numeric["gamma"], dtype=float) <= 0):
        raise ValueError(
            f"the Lorentzian half width gamma must be positive, got {numeric['gamma']!r}"
        )
    if "amplitude" in numeric and np.any(np.asarray(numeric["amplitude"], dtype=float) < 0):
        raise ValueError(f"the amplitude must not be negative, got {numeric['amplitude']!r}")


def broadened_spectrum(
    energy,
    positions,
    weights,
    gamma,
    resolution: float | None = None,
    spin_orbit: tuple[float, float] | None = None,
):
    r"""Lines broadened into a spectrum on an energy grid.

    .. math::

        I(\omega) = \sum_f w_f\,[V(\omega - \epsilon_f) + r\,V(\omega - \epsilon_f - \zeta)]

    with the second term only for ``spin_orbit = (ζ, r)`` (the other spin–orbit
    component of the core level: splitting ζ, intensity ratio r; 1/2 for 2p, 2/3 for
    3d).

    Parameters
    ----------
    energy : (n,)
        The energy grid (a constant).
    positions, weights : (..., m)
        Line positions and weights.
    gamma : (...,)
        Lorentzian half width; broadcasts with the leading dims of ``positions``.
    resolution : float, optional
        Gaussian instrument standard deviation (known).
    spin_orbit : (float, float), optional
        Splitting and relative intensity of the second core-level component.

    Returns
    -------
    (..., n)
    """
    xp = array_module(positions, weights, gamma)
    energy = check_energy_grid(energy)
    check_broadening(resolution, spin_orbit)
    if xp is pt:
        positions, weights = pt.as_tensor_variable(positions), pt.as_tensor_variable(weights)
        gamma = pt.as_tensor_variable(gamma)
    else:
        positions, weights, gamma = (np.asarray(v, float) for v in (positions, weights, gamma))
    gamma = gamma[..., None, None]
    u = energy - positions[..., None]
    profile = voigt_profile(u, resolution, gamma)
    if spin_orbit is not None:
        splitting, ratio = spin_orbit
        profile = profile + ratio * voigt_profile(u - splitting, resolution, gamma)
    return (weights[..., None] * profile).sum(axis=-2)
