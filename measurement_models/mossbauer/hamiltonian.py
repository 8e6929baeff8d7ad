r"""The ⁵⁷Fe hyperfine Hamiltonian and its magnetic-dipole (M1) lines.

Ground level :math:`I = 1/2`, excited level :math:`I = 3/2`; the hyperfine field
:math:`B` points along :math:`\mathbf n = (\sin\theta\cos\phi, \sin\theta\sin\phi,
\cos\theta)` in the principal frame of the electric field gradient (EFG):

.. math::

    H_g = -g_g\mu_N B\,(\mathbf n\cdot\mathbf I), \qquad
    H_e = -g_e\mu_N B\,(\mathbf n\cdot\mathbf I)
          + \frac{A}{3}\left[3I_z^2 - I(I+1) + \eta\,(I_x^2 - I_y^2)\right],
    \qquad A = \frac{eQV_{zz}}{4},

in mm/s. A line :math:`e_i \to g_j` lies at :math:`E^e_i - E^g_j` (plus the isomer shift)
with intensity :math:`\sum_{\boldsymbol\epsilon}|\langle e_i|\boldsymbol\epsilon\cdot
\mathbf T|g_j\rangle|^2`, :math:`\langle \tfrac32 m_e|T_q|\tfrac12 m_g\rangle =
\langle \tfrac12 m_g\, 1\, q\,|\,\tfrac32 m_e\rangle` (Clebsch–Gordan coefficients of
the stretched coupling, :math:`\langle j_1 m_1 j_2 m_2|j_1{+}j_2\, M\rangle^2 =
\binom{2j_1}{j_1+m_1}\binom{2j_2}{j_2+m_2}/\binom{2j_1+2j_2}{j_1+j_2+M}`), summed over
the three Cartesian :math:`\boldsymbol\epsilon` for a powder or over the two
polarisations :math:`\boldsymbol\epsilon \perp \mathbf k` of an unpolarised beam for a
single crystal. The eigenproblems and intensities are solved by
:func:`measurement_models.hermitian.transition_lines`.

Zeeman constants: :data:`G_GROUND` :math:`= g_g\mu_N` and :data:`G_EXCITED`
:math:`= g_e\mu_N` in mm/s per tesla are those of the α-Fe calibration standard
(``REFERENCES["alpha_fe"]``: lines at ±5.312, ±3.076, ±0.840 mm/s at 33.0 T),
:math:`g_g\mu_N B = v_2 + v_3` and :math:`|g_e|\mu_N B = v_2 - v_3` from its inner line
pairs; see the package docstring for how they compare with the nuclear moments.
"""

from __future__ import annotations

import math

import numpy as np
import pytensor.tensor as pt

from ..array_backend import array_module, is_symbolic
from ..hermitian import transition_lines
from .references import REFERENCES

__all__ = [
    "GEOMETRIES",
    "G_EXCITED",
    "G_GROUND",
    "hamiltonians",
    "hyperfine_lines",
    "observable_lines",
    "quadrupole_splitting",
    "spin_operators",
    "transition_operators",
]

_ALPHA_FE = REFERENCES["alpha_fe"]
#: g_g μ_N [mm/s per tesla] of the ground state: (v₂ + v₃)/B of the α-Fe standard.
G_GROUND = (_ALPHA_FE.expected[0][4] + _ALPHA_FE.expected[0][3]) / _ALPHA_FE.x
#: g_e μ_N [mm/s per tesla] of the excited state: −(v₂ − v₃)/B of the α-Fe standard.
G_EXCITED = -(_ALPHA_FE.expected[0][4] - _ALPHA_FE.expected[0][3]) / _ALPHA_FE.x

#: Sample geometries: powder average or single crystal.
GEOMETRIES = ("powder", "single_crystal")


# --------------------------------------------------------------------------------------
# Operators
# --------------------------------------------------------------------------------------


def spin_operators(spin: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Spin matrices :math:`I_x, I_y, I_z` (complex), basis :math:`m = I, I-1, \dots, -I`.

    :math:`I_\pm|m\rangle = \sqrt{I(I+1) - m(m\pm1)}\,|m\pm1\rangle`,
    :math:`I_x = (I_+ + I_-)/2`, :math:`I_y = (I_+ - I_-)/2i`.
    """
    twice = 2 * spin
    if twice != int(twice) or spin <= 0:
        raise ValueError(f"spin must be a positive multiple of 1/2, got {spin!r}")
    m = spin - np.arange(int(twice) + 1)
    raising = np.diag(np.sqrt(spin * (spin + 1) - m[1:] * (m[1:] + 1)), 1).astype(complex)
    return (
        (raising + raising.T) / 2,
        (raising - raising.T) / 2j,
        np.diag(m).astype(complex),
    )


def _stretched_cg(j1: float, m1: float, j2: float, m2: float) -> float:
    r""":math:`\langle j_1 m_1 j_2 m_2 | j_1{+}j_2, m_1{+}m_2\rangle` (all non-negative)."""
    big = j1 + j2
    return math.sqrt(
        math.comb(round(2 * j1), round(j1 + m1))
        * math.comb(round(2 * j2), round(j2 + m2))
        / math.comb(round(2 * big), round(big + m1 + m2))
    )


def _spherical_transition_operators() -> dict[int, np.ndarray]:
    """:math:`T_q` for q = −1, 0, 1: (4, 2) matrices ⟨3/2 m_e|T_q|1/2 m_g⟩ (m descending)."""
    m_e = 1.5 - np.arange(4)
    m_g = 0.5 - np.arange(2)
    out = {q: np.zeros((4, 2)) for q in (-1, 0, 1)}
    for q in (-1, 0, 1):
        for i, me in enumerate(m_e):
            for j, mg in enumerate(m_g):
                if me == mg + q:
                    out[q][i, j] = _stretched_cg(0.5, mg, 1.0, q)
    return out


def _cartesian_transition_operators() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r""":math:`T_x = (T_{-1} - T_{+1})/\sqrt2` and :math:`T_z = T_0` (real), and the real
    matrix :math:`Y` with :math:`T_y = i(T_{-1} + T_{+1})/\sqrt2 = iY`."""
    t = _spherical_transition_operators()
    return (t[-1] - t[1]) / math.sqrt(2), (t[-1] + t[1]) / math.sqrt(2), t[0]


def transition_operators(geometry: str = "powder", k_theta=None, k_phi=None):
    r"""Real and imaginary parts of the operators :math:`\boldsymbol\epsilon\cdot\mathbf T`.

    Parameters
    ----------
    geometry : {"powder", "single_crystal"}
        ``powder``: the three Cartesian components (orientation average);
        ``single_crystal``: the two polarisations :math:`\boldsymbol\epsilon_1 =
        \hat{\boldsymbol\theta}_k`, :math:`\boldsymbol\epsilon_2 = \hat{\boldsymbol\phi}_k`
        perpendicular to the beam :math:`\mathbf k(\theta_k, \phi_k)`.
    k_theta, k_phi : float, array or TensorVariable, shape (...)
        Beam direction in the EFG frame (single crystal only).

    Returns
    -------
    t_re, t_im : shape (3, 4, 2) for a powder, (..., 2, 4, 2) for a single crystal.
    """
    tx, ty_im, tz = _cartesian_transition_operators()
    if geometry == "powder":
        zero = np.zeros_like(tx)
        return np.stack([tx, zero, tz]), np.stack([zero, ty_im, zero])
    if geometry != "single_crystal":
        raise ValueError(f"unknown geometry {geometry!r}; choose one of {GEOMETRIES}")
    if k_theta is None or k_phi is None:
        raise ValueError("a single-crystal spectrum needs the beam direction k_theta, k_phi")
    xp = array_module(k_theta, k_phi)
    k_theta, k_phi = (_as_array(v, xp) for v in (k_theta, k_phi))
    ct, st, cp, sp = xp.cos(k_theta), xp.sin(k_theta), xp.cos(k_phi), xp.sin(k_phi)
    polarisations = (  # (ε_x, ε_y, ε_z) for θ̂_k and φ̂_k
        (ct * cp, ct * sp, -st),
        (-sp, cp, xp.zeros_like(cp)),
    )
    t_re = xp.stack(
        [_e(ex) * tx + _e(ez) * tz for ex, _, ez in polarisations],
        axis=-3,
    )
    t_im = xp.stack([_e(ey) * ty_im for _, ey, _ in polarisations], axis=-3)
    return t_re, t_im


def _e(value):
    """Append two axes (a scalar coefficient per matrix)."""
    return value[..., None, None]


def _as_array(value, xp):
    """``value`` as a float64 array of ``xp`` (NumPy or PyTensor; shared by the package)."""
    return pt.as_tensor_variable(value).astype("float64") if xp is pt else np.asarray(value, float)


# --------------------------------------------------------------------------------------
# Hamiltonian and lines
# --------------------------------------------------------------------------------------

_IX_G, _IY_G, _IZ_G = spin_operators(0.5)
_IX_E, _IY_E, _IZ_E = spin_operators(1.5)
_Q0 = (3 * _IZ_E @ _IZ_E - 15 / 4 * np.eye(4)).real
_Q2 = (_IX_E @ _IX_E - _IY_E @ _IY_E).real


def hamiltonians(B_hf=0.0, A=0.0, eta=0.0, theta=0.0, phi=0.0):
    r"""Real and imaginary parts of :math:`H_e` (4×4) and :math:`H_g` (2×2), in mm/s.

    Parameters
    ----------
    B_hf : float, array or TensorVariable, shape (...)
        Hyperfine field [T].
    A : shape (...)
        Quadrupole coupling :math:`eQV_{zz}/4` [mm/s].
    eta : shape (...)
        EFG asymmetry.
    theta, phi : shape (...)
        Direction of the field in the EFG principal frame [rad].

    Returns
    -------
    he_re, he_im : (..., 4, 4)
    hg_re, hg_im : (..., 2, 2)
        Bases :math:`|I, m\rangle`, :math:`m` descending; leading dims broadcast.
    """
    xp = array_module(B_hf, A, eta, theta, phi)
    B_hf, A, eta, theta, phi = (_as_array(v, xp) for v in (B_hf, A, eta, theta, phi))
    nx = xp.sin(theta) * xp.cos(phi)
    ny = xp.sin(theta) * xp.sin(phi)
    nz = xp.cos(theta)
    zeeman_e = -G_EXCITED * B_hf
    zeeman_g = -G_GROUND * B_hf
    he_re = (
        _e(zeeman_e * nx) * _IX_E.real
        + _e(zeeman_e * nz) * _IZ_E.real
        + _e(A / 3) * _Q0
        + _e(A * eta / 3) * _Q2
    )
    he_im = _e(zeeman_e * ny) * _IY_E.imag
    hg_re = _e(zeeman_g * nx) * _IX_G.real + _e(zeeman_g * nz) * _IZ_G.real
    hg_im = _e(zeeman_g * ny) * _IY_G.imag
    return he_re, he_im, hg_re, hg_im


def hyperfine_lines(
    B_hf=0.0,
    A=0.0,
    eta=0.0,
    theta=0.0,
    phi=0.0,
    geometry: str = "powder",
    k_theta=None,
    k_phi=None,
):
    r"""The eight :math:`m_e \to m_g` lines: positions (δ = 0) and normalised intensities.

    Parameters are those of :func:`hamiltonians` and :func:`transition_operators`.

    Returns
    -------
    positions : (..., 8)
        :math:`E^e_i - E^g_j` [mm/s], in the order (i, j) of ascending levels of each
        Hamiltonian (so the order is that of the levels, not of the positions).
    intensities : (..., 8)
        :math:`\sum_{\boldsymbol\epsilon}|\langle e_i|\boldsymbol\epsilon\cdot\mathbf T|
        g_j\rangle|^2`, divided by their sum (each site's spectrum has area 1). Lines
        between degenerate levels share their total equally. Forbidden lines
        (:math:`|\Delta m| = 2` in a pure field) have intensity 0.
    """
    he_re, he_im, hg_re, hg_im = hamiltonians(B_hf, A, eta, theta, phi)
    t_re, t_im = transition_operators(geometry, k_theta, k_phi)
    positions, intensities = transition_lines(he_re, he_im, hg_re, hg_im, t_re, t_im)
    if is_symbolic(positions):
        flat_pos = positions.flatten(positions.ndim - 1)
        flat_int = intensities.flatten(intensities.ndim - 1)
    else:
        flat_pos = positions.reshape(*positions.shape[:-2], 8)
        flat_int = intensities.reshape(*intensities.shape[:-2], 8)
    return flat_pos, flat_int / flat_int.sum(axis=-1, keepdims=True)


def observable_lines(
    B_hf: float = 0.0,
    A: float = 0.0,
    eta: float = 0.0,
    theta: float = 0.0,
    phi: float = 0.0,
    geometry: str = "powder",
    k_theta: float | None = None,
    k_phi: float | None = None,
    *,
    tolerance: float = 1e-9,
) -> tuple[np.ndarray, np.ndarray]:
    """The lines a spectrum of one site shows, sorted by position (δ = 0).

    The lines of :func:`hyperfine_lines` (same parameters, scalars) with intensity above
    ``tolerance``; lines whose positions agree within ``tolerance`` (transitions between
    degenerate levels) are merged, their intensities added.

    Returns
    -------
    positions, intensities : ndarray, shape (L,)
        E.g. six lines of areas 3:2:1:1:2:3 (divided by 12) for a powder in a pure field,
        two of area 1/2 for a pure quadrupole interaction.

    Raises
    ------
    ValueError
        For PyTensor or non-scalar inputs.
    """
    values = (B_hf, A, eta, theta, phi, k_theta, k_phi)
    if is_symbolic(*values) or any(np.ndim(v) for v in values if v is not None):
        raise ValueError("observable_lines takes the numbers of one site (NumPy scalars)")
    positions, intensities = hyperfine_lines(
        B_hf, A, eta, theta, phi, geometry, k_theta=k_theta, k_phi=k_phi
    )
    keep = intensities > tolerance
    order = np.argsort(positions[keep], kind="stable")
    merged: list[list[float]] = []
    for position, intensity in zip(positions[keep][order], intensities[keep][order], strict=True):
        if merged and position - merged[-1][0] <= tolerance:
            merged[-1][1] += intensity
        else:
            merged.append([float(position), float(intensity)])
    lines = np.array(merged).reshape(-1, 2)
    return lines[:, 0], lines[:, 1]


def quadrupole_splitting(A, eta):
    r"""Pure quadrupole splitting :math:`\Delta E_Q = 2|A|\sqrt{1 + \eta^2/3}` [mm/s]."""
    return 2 * abs(A) * (1 + eta**2 / 3) ** 0.5
