r"""⁵⁷Fe Mössbauer spectra from the full hyperfine Hamiltonian (Moriguchi et al.; seed 001).

Model (REFERENCE.md "Mössbauer, 57Fe"; K. Moriguchi et al., arXiv:2205.09188, for the form)
-------------------------------------------------------------------------------------------
Each site :math:`s` of the absorber has a ground (:math:`I = 1/2`) and an excited
(:math:`I = 3/2`) nuclear level, with the hyperfine field :math:`B` along
:math:`\mathbf n = (\sin\theta\cos\phi, \sin\theta\sin\phi, \cos\theta)` in the principal
frame of the electric field gradient (EFG):

.. math::

    H_g = -g_g\mu_N B\,(\mathbf n\cdot\mathbf I), \qquad
    H_e = -g_e\mu_N B\,(\mathbf n\cdot\mathbf I)
          + \frac{A}{3}\left[3I_z^2 - I(I+1) + \eta\,(I_x^2 - I_y^2)\right],
    \qquad A = \frac{eQV_{zz}}{4},

all in mm/s (1 mm/s ≙ 4.8075e−8 eV at :math:`E_\gamma` = 14.4125 keV). The lines are
:math:`v_{ij} = \delta + E^e_i - E^g_j` (isomer shift :math:`\delta`), with magnetic-dipole
intensities

.. math::

    I_{ij} \propto \sum_{\boldsymbol\epsilon}
        |\langle e_i|\boldsymbol\epsilon\cdot\mathbf T|g_j\rangle|^2,
    \qquad \langle \tfrac32 m_e|T_q|\tfrac12 m_g\rangle
    = \langle \tfrac12 m_g\, 1\, q\,|\,\tfrac32 m_e\rangle,

summed over the three Cartesian :math:`\boldsymbol\epsilon` for a powder (equivalently over
:math:`q`: the orientation average), or over the two polarisations
:math:`\boldsymbol\epsilon \perp \mathbf k` of an unpolarised beam along
:math:`\mathbf k(\theta_k, \phi_k)` (given in the EFG frame) for a single crystal
(``geometry="single_crystal"``); each site's intensities are normalised to sum to 1. The
Clebsch–Gordan coefficients are those of the stretched coupling,
:math:`\langle j_1 m_1 j_2 m_2|j_1{+}j_2\, M\rangle^2 = \binom{2j_1}{j_1+m_1}
\binom{2j_2}{j_2+m_2} / \binom{2j_1+2j_2}{j_1+j_2+M}`. The eigenproblems and the
intensities are solved by :func:`measurement_models.hermitian.transition_lines` (one batch
entry per site; gradients exact at degeneracies). The transmission spectrum at velocity
:math:`v` is

.. math::

    N(v) = N_\infty\Big[1 - \varepsilon \sum_s f_s \sum_{ij} I^{(s)}_{ij}\,
    L(v - v^{(s)}_{ij}; \Gamma_s)\Big], \qquad
    L(u; \Gamma) = \frac{\Gamma/2\pi}{u^2 + \Gamma^2/4},

with area fractions :math:`f_s` (:math:`\sum_s f_s = 1`), full widths at half maximum
:math:`\Gamma_s`, total absorption area :math:`\varepsilon` (mm/s; thin-absorber limit)
and off-resonance counts :math:`N_\infty`; the data are Poisson counts (or Gaussian,
``noise="gaussian"``). Raw multichannel data are calibrated inside the model,
:math:`v = v_0 + s\,(c - c_\mathrm{ref})` (channel :math:`c`), with :math:`v_0, s` as
parameters.

Hamiltonian variants (for selection by free energy, as on the seed slide)
-------------------------------------------------------------------------
``"singlet"`` :math:`H_c` (δ only), ``"doublet"`` :math:`H_c + H_Q` (+ A, η),
``"sextet"`` :math:`H_c + H_M` (+ B; the field direction matters only for a single
crystal), ``"full"`` :math:`H_c + H_Q + H_M` (+ A, η, B, θ, φ).

Constants
---------
:data:`G_GROUND` :math:`= g_g\mu_N` = 0.118667 and :data:`G_EXCITED` :math:`= g_e\mu_N`
= −0.067758 mm/s/T are those implied by the α-Fe calibration standard (lines at ±5.312,
±3.076, ±0.840 mm/s for B = 33.0 T at room temperature, the calibration values in
laboratory use, e.g. J. Bland's thesis, University of Liverpool, 2002):
:math:`g_g\mu_N B = v_2 + v_3`,
:math:`|g_e|\mu_N B = v_2 - v_3` for the inner line pairs. They agree with the nuclear
moments (:math:`\mu_g = +0.09044\,\mu_N`, :math:`\mu_e = -0.1549\,\mu_N`; N. J. Stone,
At. Data Nucl. Data Tables 90, 75 (2005)) to 0.06 %. REFERENCE.md's rounded 0.1186 and
0.0677 give the middle lines at ±3.074 mm/s, and the published codes' 0.11893 and
0.067913 the outer lines at ±5.324 mm/s: neither reproduces the calibration standard to
its printed precision, and hyperfine fields are quoted on that scale (α-Fe = 33.0 T).

Priors (seed slide; :data:`PARAMETERS`)
---------------------------------------
:math:`A \sim U(-1, 1)` mm/s, :math:`\eta \sim U(0, 1)`, :math:`\theta \sim U(0, \pi)`,
:math:`\phi \sim U(0, 2\pi)`, :math:`\delta \sim U(-1, 2.5)` mm/s ("E_center"),
:math:`\Gamma \sim \mathrm{Gamma}(1.5, 1.5)` mm/s, area fractions :math:`\sim`
Dirichlet(1, …, 1) (the slide's :math:`r \sim U(0, 1)` for two sites). The slide's
:math:`B_{hf} \sim U(0, 10)` has no unit; read in tesla it would exclude its own
synthetic case (magnetite, 46–49 T) and α-Fe (33 T). We read it, like :math:`A` and
:math:`\delta`, in the Hamiltonian's energy unit mm/s, as the ground-state Zeeman
splitting :math:`g_g\mu_N B \le 10` mm/s, so that :math:`B \sim U(0, 10/g_g\mu_N)`
= U(0, 84.27 T), which covers every ⁵⁷Fe hyperfine field (≲ 60 T); the parameter itself
is in tesla. Note that :math:`|A| \le 1` allows quadrupole splittings up to 2 mm/s at
η = 0 and 2.31 mm/s at η = 1. Instrument parameters: :math:`\varepsilon \sim`
HalfNormal(1) mm/s; :math:`N_\infty \sim U(0.5, 1.5)\,N_\mathrm{ref}` with
:math:`N_\mathrm{ref}` the median of the upper half of the counts;
:math:`v_0 \sim N(0, 1)` mm/s; :math:`s \sim \mathrm{LogNormal}(\log s_\mathrm{nom},
0.05)` from the drive's nominal velocity range given to :func:`load_channel_counts`.
Every velocity of a raw spectrum (line positions, widths, offset) scales with :math:`s`,
so the channels determine only :math:`B/s` (and :math:`\Gamma/s`, :math:`v_0/s`): the
scale of :math:`B` comes from that prior, or from fixing :math:`B` (α-Fe as the
calibration standard; ``fixed`` in :func:`build_model`).

Checked (``tests/measurement_models/test_mossbauer.py``): α-Fe line positions
±5.31/±3.08/±0.84 mm/s at 33 T and the intensity ratios 3:2:1:1:2:3 (powder),
3:0:1:1:0:3 (beam along B), 3:4:1:1:4:3 (beam ⊥ B); the constants against the nuclear
moments and the moment ratio of Preston et al., Phys. Rev. 128, 2207 (1962); the
first-order quadrupole shift in a large field (Gütlich, Bill, Trautwein, *Mössbauer
Spectroscopy and Transition Metal Chemistry*, Springer 2011, ch. 4) with its O(A²)
error; the pure quadrupole splitting :math:`2A\sqrt{1+\eta^2/3}` and the single-crystal
doublet ratio :math:`3(1+\cos^2\vartheta)/(5-3\cos^2\vartheta)`; every line against an
independent NumPy implementation (``numpy.linalg.eigh``, Racah's Clebsch–Gordan
formula); gradients with ``verify_grad``, also at the degenerate pure-quadrupole point,
and the compiled (numba) model gradient against finite differences; the Poisson
likelihood against ``scipy.stats.poisson``, also through the channel calibration; on the
real α-Fe spectrum (bartek-krk/MS_data), the calibration-free line-spacing ratio
:math:`(v_6 - v_1)/(v_5 - v_2) = (3|g_e| + g_g)/(|g_e| + g_g)` of six free Lorentzians;
in slow tests, selection by free energy picks the sextet for α-Fe and the doublet for
oxyhaemoglobin, and the magnetite posterior contains the truth. The case study
``case_studies/mossbauer_hamiltonian_selection.py`` checks the sampled free energy
against the Laplace approximation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from .array_backend import array_module, is_symbolic
from .data import (
    count_tempering_ladder,
    load_text,
    make_dataset,
    numeric_row,
    numeric_table,
    validate_dataset,
)
from .hermitian import reject_non_finite, transition_lines
from .noise import noise_sd
from .parameters import Parameter, ParameterTable, Prior, PriorSpec, check_choice, fixed_constant
from .plotting import sort_labels

__all__ = [
    "ALPHA_FE_FIELD",
    "ALPHA_FE_LINES",
    "B_MAX",
    "GEOMETRIES",
    "G_EXCITED",
    "G_GROUND",
    "MAGNETITE_300K",
    "PARAMETERS",
    "VARIANTS",
    "VARIANT_LABELS",
    "absorption",
    "add_likelihood",
    "add_priors",
    "build_model",
    "example_data",
    "forward",
    "hamiltonians",
    "hyperfine_lines",
    "instrument_parameter_names",
    "load_channel_counts",
    "load_velocity_counts",
    "plot_fit",
    "posterior_spectra",
    "quadrupole_splitting",
    "reference_level",
    "relabel_sites",
    "simulate",
    "simulate_channels",
    "simulate_magnetite",
    "site_lines",
    "site_parameter_names",
    "spin_operators",
    "tempering_ladder",
    "transition_operators",
    "transmission",
    "velocity_of",
]

VARIABLE = "counts"
SITE_DIM = "site"

#: α-Fe calibration standard at room temperature [mm/s] and its field [T].
ALPHA_FE_LINES = (5.312, 3.076, 0.840)
#: Hyperfine field of the α-Fe standard at room temperature [T].
ALPHA_FE_FIELD = 33.0
#: g_g μ_N and g_e μ_N [mm/s per tesla] implied by the standard (see module docstring).
G_GROUND = (ALPHA_FE_LINES[1] + ALPHA_FE_LINES[2]) / ALPHA_FE_FIELD
#: g_e μ_N [mm/s per tesla] of the excited state, implied by the α-Fe standard.
G_EXCITED = -(ALPHA_FE_LINES[1] - ALPHA_FE_LINES[2]) / ALPHA_FE_FIELD
#: Upper end of the B_hf prior: ground Zeeman splitting g_g μ_N B ≤ 10 mm/s.
B_MAX = 10.0 / G_GROUND

#: Hamiltonian variants, from the singlet to the full hyperfine Hamiltonian.
VARIANTS = ("singlet", "doublet", "sextet", "full")
#: Variant name to the Hamiltonian terms it contains.
VARIANT_LABELS = {
    "singlet": "H_c",
    "doublet": "H_c+H_Q",
    "sextet": "H_c+H_M",
    "full": "H_c+H_Q+H_M",
}
#: Sample geometries: powder average or single crystal.
GEOMETRIES = ("powder", "single_crystal")
NOISE_KINDS = ("poisson", "gaussian")
_HAMILTONIAN_TERMS = {
    "singlet": (),
    "doublet": ("A", "eta"),
    "sextet": ("B_hf",),
    "full": ("A", "eta", "B_hf", "theta", "phi"),
}
_SITE = (SITE_DIM,)

#: Parameter table: hyperfine parameters per site, instrument and noise.
PARAMETERS = ParameterTable(
    (
        Parameter(
            "delta",
            "mm/s",
            Prior("Uniform", lower=-1.0, upper=2.5),
            "isomer (centre) shift of each site",
            _SITE,
        ),
        Parameter(
            "gamma",
            "mm/s",
            Prior("Gamma", alpha=1.5, beta=1.5),
            "full width at half maximum of each site's Lorentzian lines",
            _SITE,
        ),
        Parameter(
            "A",
            "mm/s",
            Prior("Uniform", lower=-1.0, upper=1.0),
            "quadrupole coupling A = eQV_zz/4 (pure splitting 2A√(1 + η²/3))",
            _SITE,
        ),
        Parameter(
            "eta", "", Prior("Uniform", lower=0.0, upper=1.0), "EFG asymmetry parameter", _SITE
        ),
        Parameter(
            "B_hf",
            "T",
            Prior("Uniform", lower=0.0, upper=B_MAX),
            "magnetic hyperfine field (prior: g_g μ_N B ≤ 10 mm/s, the slide's U(0, 10))",
            _SITE,
        ),
        Parameter(
            "theta",
            "rad",
            Prior("Uniform", lower=0.0, upper=math.pi),
            "polar angle of B_hf in the EFG principal frame",
            _SITE,
        ),
        Parameter(
            "phi",
            "rad",
            Prior("Uniform", lower=0.0, upper=2 * math.pi),
            "azimuth of B_hf in the EFG principal frame",
            _SITE,
        ),
        Parameter(
            "fraction",
            "",
            Prior("Dirichlet", a=1.0),
            "area fraction of each site (Dirichlet(1, …, 1); two or more sites only)",
            _SITE,
        ),
        Parameter(
            "epsilon",
            "mm/s",
            Prior("HalfNormal", sigma=1.0),
            "total absorption area (effective thickness, thin-absorber limit)",
            role="instrument",
        ),
        Parameter(
            "baseline",
            "counts",
            Prior("Uniform", lower=0.5, upper=1.5),
            "off-resonance counts per point; default prior in units of N_ref, the median "
            "of the upper half of the counts",
            role="instrument",
        ),
        Parameter(
            "velocity_offset",
            "mm/s",
            Prior("Normal", mu=0.0, sigma=1.0),
            "velocity v₀ at the reference channel (raw channel data only)",
            role="instrument",
        ),
        Parameter(
            "velocity_scale",
            "mm/s per channel",
            Prior("LogNormal", mu=0.0, sigma=0.05),
            "drive velocity per channel s; default prior in units of the nominal s from "
            "the drive's stated range (raw channel data only)",
            role="instrument",
        ),
        Parameter(
            "k_theta",
            "rad",
            Prior("Uniform", lower=0.0, upper=math.pi),
            "polar angle of the γ-ray beam in the EFG frame (single crystal only)",
            role="instrument",
        ),
        Parameter(
            "k_phi",
            "rad",
            Prior("Uniform", lower=0.0, upper=2 * math.pi),
            "azimuth of the γ-ray beam in the EFG frame (single crystal only)",
            role="instrument",
        ),
        Parameter(
            "sigma",
            "counts",
            Prior("HalfNormal", sigma=1000.0),
            "noise standard deviation (Gaussian noise, when not known)",
            role="noise",
        ),
    )
)

#: Room-temperature magnetite (REFERENCE.md, literature values marked [check] there):
#: tetrahedral A site (Fe³⁺) and octahedral B site (Fe^2.5+), area ratio B:A = 1.9,
#: no quadrupole shift. The widths, absorption area and velocity grid are this
#: package's choice for the synthetic reproduction (not from the paper).
MAGNETITE_300K = {
    "velocity": np.linspace(-10.0, 10.0, 256),
    "delta": np.array([0.27, 0.67]),
    "B_hf": np.array([49.0, 46.0]),
    "fraction": np.array([1.0, 1.9]) / 2.9,
    "gamma": np.array([0.30, 0.30]),
    "A": np.array([0.0, 0.0]),
    "epsilon": 0.5,
    "sites": ("A (tetrahedral)", "B (octahedral)"),
}


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


def quadrupole_splitting(A, eta):
    r"""Pure quadrupole splitting :math:`\Delta E_Q = 2|A|\sqrt{1 + \eta^2/3}` [mm/s]."""
    return 2 * abs(A) * (1 + eta**2 / 3) ** 0.5


# --------------------------------------------------------------------------------------
# Spectrum
# --------------------------------------------------------------------------------------


def absorption(velocity, positions, intensities, delta, gamma, fraction=None):
    r"""Absorption :math:`a(v) = \sum_s f_s \sum_l I_{sl} L(v - \delta_s - p_{sl}; \Gamma_s)`.

    Parameters
    ----------
    velocity : (..., n) or (n,)
        Velocities [mm/s] (leading dims: draws, broadcasting with the parameters).
    positions, intensities : (..., S, L)
        Lines of each site (δ = 0), as from :func:`hyperfine_lines`.
    delta, gamma : (..., S)
        Isomer shift and FWHM of each site [mm/s].
    fraction : (..., S), optional
        Area fractions (default: one site, fraction 1).

    Returns
    -------
    (..., n)
        With the area-normalised Lorentzian :math:`L(u;\Gamma) = (\Gamma/2\pi)/(u^2 +
        \Gamma^2/4)`, so that :math:`\int a\,dv = \sum_s f_s`.
    """
    xp = array_module(velocity, positions, intensities, delta, gamma, fraction)
    velocity, positions, intensities, delta, gamma = (
        _as_array(v, xp) for v in (velocity, positions, intensities, delta, gamma)
    )
    u = velocity[..., None, None, :] - (positions + delta[..., None])[..., None]
    half = (gamma / 2)[..., None, None]
    lorentz = half / np.pi / (u**2 + half**2)
    per_site = (intensities[..., None] * lorentz).sum(axis=-2)  # (..., S, n)
    if fraction is None:
        return per_site.sum(axis=-2)
    fraction = _as_array(fraction, xp)
    return (fraction[..., None] * per_site).sum(axis=-2)


def site_lines(
    delta,
    *,
    B_hf=None,
    A=None,
    eta=None,
    theta=None,
    phi=None,
    geometry: str = "powder",
    k_theta=None,
    k_phi=None,
):
    """Lines of every site (δ = 0): positions and intensities, shape (..., S, L).

    With neither ``B_hf`` nor ``A`` the sites are singlets (L = 1, no eigenproblem);
    otherwise :func:`hyperfine_lines` (L = 8) with omitted terms set to zero. ``delta``
    (..., S) only sets the shape of the singlet case.
    """
    if geometry not in GEOMETRIES:
        raise ValueError(f"unknown geometry {geometry!r}; choose one of {GEOMETRIES}")
    xp = array_module(delta, B_hf, A, eta, theta, phi, k_theta, k_phi)
    if B_hf is None and A is None:
        delta = _as_array(delta, xp)
        return xp.zeros_like(delta)[..., None], xp.ones_like(delta)[..., None]
    if geometry == "single_crystal" and not (k_theta is None or k_phi is None):
        # one beam direction for all sites: add the site axis
        k_theta, k_phi = (_as_array(v, xp)[..., None] for v in (k_theta, k_phi))
    return hyperfine_lines(
        *(0.0 if v is None else v for v in (B_hf, A, eta, theta, phi)),
        geometry=geometry,
        k_theta=k_theta,
        k_phi=k_phi,
    )


def transmission(
    velocity, positions, intensities, *, delta, gamma, epsilon, baseline, fraction=None
):
    r""":math:`N_\infty[1 - \varepsilon\,a(v)]` from the lines (see :func:`absorption`)."""
    xp = array_module(velocity, positions, intensities, delta, epsilon, baseline)
    a = absorption(velocity, positions, intensities, delta, gamma, fraction)
    epsilon, baseline = _as_array(epsilon, xp), _as_array(baseline, xp)
    return baseline[..., None] * (1 - epsilon[..., None] * a)


def forward(
    velocity,
    *,
    delta,
    gamma,
    epsilon,
    baseline,
    B_hf=None,
    A=None,
    eta=None,
    theta=None,
    phi=None,
    fraction=None,
    geometry: str = "powder",
    k_theta=None,
    k_phi=None,
):
    r"""Expected counts :math:`N_\infty[1 - \varepsilon\,a(v)]` of a transmission spectrum.

    Parameters
    ----------
    velocity : (n,) or (..., n)
        Velocities [mm/s].
    delta, gamma : (..., S)
        Isomer shift and FWHM of each of the S sites [mm/s].
    epsilon, baseline : float or (...)
        Absorption area [mm/s] and off-resonance counts.
    B_hf, A, eta, theta, phi : (..., S), optional
        Hamiltonian parameters (:func:`hamiltonians`); omitted terms are zero. With
        neither ``B_hf`` nor ``A`` the sites are singlets (no eigenproblem is solved).
    fraction : (..., S), optional
        Area fractions (needed for S > 1).
    geometry : {"powder", "single_crystal"}
    k_theta, k_phi : float or (...)
        Beam direction in the EFG frame (single crystal).

    Returns
    -------
    (..., n)
        NumPy for NumPy inputs, PyTensor otherwise.

    Raises
    ------
    ValueError
        For NumPy inputs whose site axes differ, several sites without ``fraction``,
        or an unknown geometry.
    """
    site = {"B_hf": B_hf, "A": A, "eta": eta, "theta": theta, "phi": phi}
    if not is_symbolic(velocity, delta, gamma, epsilon, baseline, fraction, *site.values()):
        _check_site_shapes(delta=delta, gamma=gamma, fraction=fraction, **site)
    positions, intensities = site_lines(
        delta, **site, geometry=geometry, k_theta=k_theta, k_phi=k_phi
    )
    return transmission(
        velocity,
        positions,
        intensities,
        delta=delta,
        gamma=gamma,
        epsilon=epsilon,
        baseline=baseline,
        fraction=fraction,
    )


def _check_site_shapes(**arrays) -> None:
    shapes = {name: np.shape(value) for name, value in arrays.items() if value is not None}
    scalar = [name for name, shape in shapes.items() if not shape]
    if scalar:
        raise ValueError(
            f"site parameters need a site axis (the last one), got scalar(s) {scalar}; "
            "use e.g. delta=[0.3] for one site"
        )
    if len({shape[-1] for shape in shapes.values()}) > 1:
        detail = ", ".join(f"{name}: {shape}" for name, shape in shapes.items())
        raise ValueError(f"site parameters disagree on the number of sites ({detail})")
    n_sites = shapes["delta"][-1]
    if n_sites > 1 and arrays.get("fraction") is None:
        raise ValueError(f"{n_sites} sites need their area fractions (fraction)")


# --------------------------------------------------------------------------------------
# PyMC model
# --------------------------------------------------------------------------------------


def site_parameter_names(variant: str, n_sites: int = 1, geometry: str = "powder") -> list[str]:
    """The sample parameters of a Hamiltonian variant, in table order.

    ``delta`` and ``gamma`` always; the Hamiltonian terms of the variant; the field
    direction ``theta, phi`` for the sextet only with a single crystal (in a powder
    without EFG it has no effect); ``fraction`` for two or more sites.
    """
    check_choice(variant, VARIANTS, "Hamiltonian variant")
    check_choice(geometry, GEOMETRIES, "geometry")
    terms = set(_HAMILTONIAN_TERMS[variant])
    if variant == "sextet" and geometry == "single_crystal":
        terms |= {"theta", "phi"}
    if n_sites > 1:
        terms.add("fraction")
    return [name for name in PARAMETERS.names if name in {"delta", "gamma"} | terms]


def _split_fixed(fixed: Mapping[str, object] | None, allowed: Sequence[str]) -> dict:
    fixed = dict(fixed or {})
    unknown = sorted(set(fixed) - set(PARAMETERS.names))
    if unknown:
        raise ValueError(f"cannot fix unknown parameter(s) {unknown}; known: {PARAMETERS.names}")
    return {name: value for name, value in fixed.items() if name in allowed}


def add_priors(
    n_sites: int = 1,
    variant: str = "sextet",
    geometry: str = "powder",
    priors: Mapping[str, PriorSpec] | None = None,
    fixed: Mapping[str, object] | None = None,
    prefix: str = "",
    names: Sequence[str] | None = None,
) -> dict[str, pt.TensorVariable]:
    """Add the sample parameters of ``n_sites`` sites to the current model.

    Parameters
    ----------
    n_sites : int
        Number of sites (length of the ``site`` coordinate, added if missing).
    variant : {"singlet", "doublet", "sextet", "full"}
        Hamiltonian variant (:func:`site_parameter_names`).
    geometry : {"powder", "single_crystal"}
    priors : mapping, optional
        Prior overrides by parameter name.
    fixed : mapping, optional
        Parameters held at given values (scalar or one per site) instead of sampled,
        e.g. ``{"delta": 0.0}`` (α-Fe defines the isomer-shift zero) or
        ``{"B_hf": 33.0}`` (α-Fe as the velocity-scale standard). Names of
        instrument parameters are ignored here (see :func:`add_likelihood`).
    prefix : str
        Prepended to every variable name.
    names : sequence of str, optional
        Only these of the variant's parameters.

    Returns
    -------
    dict
        Parameter name (without prefix) to variable or constant.
    """
    n_sites = _check_n_sites(n_sites)
    wanted = site_parameter_names(variant, n_sites, geometry)
    if names is not None:
        unknown = [name for name in names if name not in wanted]
        if unknown:
            raise ValueError(f"no parameter(s) {unknown} in variant {variant!r}: {wanted}")
        wanted = [name for name in wanted if name in names]
    fixed_here = _split_fixed(fixed, wanted)
    if "fraction" in fixed_here:
        raise ValueError("fraction cannot be fixed through `fixed`; give it a prior instead")
    model = pm.modelcontext(None)
    if SITE_DIM not in model.coords:
        model.add_coord(SITE_DIM, np.arange(n_sites))
    elif len(model.coords[SITE_DIM]) != n_sites:
        raise ValueError(f"the model's {SITE_DIM!r} coordinate does not have {n_sites} entries")
    priors = dict(priors or {})
    if "fraction" in wanted and "fraction" not in priors:
        priors["fraction"] = Prior("Dirichlet", a=np.ones(n_sites))
    sampled = [name for name in wanted if name not in fixed_here]
    params = PARAMETERS.add_priors(
        sampled, {k: v for k, v in priors.items() if k in sampled}, prefix=prefix
    )
    for name, value in fixed_here.items():
        params[name] = fixed_constant(name, value, (n_sites,))
    return {name: params[name] for name in wanted}


def _check_n_sites(n_sites) -> int:
    if isinstance(n_sites, bool) or int(n_sites) != n_sites or n_sites < 1:
        raise ValueError(f"n_sites must be a positive integer, got {n_sites!r}")
    return int(n_sites)


def reference_level(counts: np.ndarray) -> float:
    """:math:`N_\\mathrm{ref}`: the median of the upper half of the counts (off resonance)."""
    counts = np.sort(np.asarray(counts, dtype=float))
    return float(np.median(counts[counts.size // 2 :]))


def velocity_of(data: xr.Dataset, params: Mapping[str, object] | None = None, axis_values=None):
    """The velocity of every point [mm/s]: the axis itself, or the calibrated channels.

    For raw channel data, :math:`v = v_0 + s\\,(c - c_\\mathrm{ref})` with
    ``params["velocity_offset"]``, ``params["velocity_scale"]`` (values, arrays of draws
    with shape (...), or PyTensor variables) and ``data.attrs["reference_channel"]``.
    ``axis_values`` replaces the data's axis values (e.g. by a ``pm.Data`` container).
    """
    axis = _axis(data)
    x = data[axis].values if axis_values is None else axis_values
    if axis == "velocity":
        return x
    params = params or {}
    missing = [n for n in ("velocity_offset", "velocity_scale") if n not in params]
    if missing:
        raise ValueError(f"raw channel data need the calibration parameter(s) {missing}")
    offset, scale = params["velocity_offset"], params["velocity_scale"]
    xp = array_module(offset, scale, x)
    offset, scale = _as_array(offset, xp), _as_array(scale, xp)
    return offset[..., None] + scale[..., None] * (x - float(data.attrs["reference_channel"]))


def _axis(data: xr.Dataset) -> str:
    (axis,) = data.dims
    if axis not in ("velocity", "channel"):
        raise ValueError(f"Mössbauer data need a 'velocity' (mm/s) or 'channel' axis, got {axis!r}")
    return axis


def _instrument_priors(
    data: xr.Dataset, priors: Mapping[str, PriorSpec], containers: Mapping[str, object]
) -> dict:
    """Default priors that depend on the data: N∞ from N_ref, s from the nominal range."""
    out = dict(priors)
    if "baseline" not in out:
        level = containers["reference_level"]
        bounds = PARAMETERS["baseline"].prior.kwargs

        def baseline(name, dims):
            return pm.Uniform(name, lower=bounds["lower"] * level, upper=bounds["upper"] * level)

        out["baseline"] = baseline
    if "velocity_scale" not in out and _axis(data) == "channel":
        nominal = containers.get("nominal_scale")
        if nominal is None:
            raise ValueError(
                "raw channel data need the drive's nominal velocity per channel "
                "(load_channel_counts(..., nominal_velocity_range=...)), a prior for "
                "velocity_scale, or a fixed velocity_scale"
            )
        relative = PARAMETERS["velocity_scale"].prior.kwargs

        def velocity_scale(name, dims):
            log_nominal = pt.log(nominal) if is_symbolic(nominal) else math.log(nominal)
            return pm.LogNormal(name, mu=log_nominal + relative["mu"], sigma=relative["sigma"])

        out["velocity_scale"] = velocity_scale
    return out


def _containers(data: xr.Dataset, name: str, mutable: bool, dtype) -> dict[str, object]:
    """Counts, axis values and the data-derived prior scales; ``pm.Data`` if ``mutable``."""
    values = {
        "observed": data[VARIABLE].values.astype(dtype),
        "axis": data[_axis(data)].values.astype(np.float64),
        "reference_level": np.float64(reference_level(data[VARIABLE].values)),
    }
    if "nominal_velocity_per_channel" in data.attrs:
        values["nominal_scale"] = np.float64(data.attrs["nominal_velocity_per_channel"])
    if not mutable:
        return values
    return {key: pm.Data(f"{name}_{key}", value) for key, value in values.items()}


def instrument_parameter_names(data: xr.Dataset, geometry: str = "powder") -> list[str]:
    """``epsilon``, ``baseline``; the calibration for channel data; the beam direction
    for a single crystal."""
    names = ["epsilon", "baseline"]
    if _axis(data) == "channel":
        names += ["velocity_offset", "velocity_scale"]
    if geometry == "single_crystal":
        names += ["k_theta", "k_phi"]
    return names


def add_likelihood(
    data: xr.Dataset,
    params: Mapping[str, pt.TensorVariable],
    *,
    geometry: str = "powder",
    noise: str = "poisson",
    sigma: float | None = None,
    priors: Mapping[str, PriorSpec] | None = None,
    fixed: Mapping[str, object] | None = None,
    name: str = VARIABLE,
    prefix: str = "",
    mutable_data: bool = False,
) -> pt.TensorVariable:
    """Add one spectrum's instrument parameters and its likelihood to the current model.

    Parameters
    ----------
    data : xarray.Dataset
        ``counts`` along ``velocity`` (mm/s) or ``channel`` (raw data; see
        :func:`load_channel_counts`).
    params : mapping
        Sample parameters from :func:`add_priors`.
    geometry : {"powder", "single_crystal"}
    noise : {"poisson", "gaussian"}
        Poisson counts, or Gaussian with standard deviation ``sigma``, the data's
        ``sigma`` variable, or a ``sigma`` parameter (in that order).
    priors, fixed : mapping, optional
        Prior overrides and fixed values of the instrument parameters (other names
        are ignored here).
    name : str
        Name of the observed variable.
    prefix : str
        Prepended to the instrument parameters' names (several spectra in one model).
    mutable_data : bool
        Put the counts, the axis values and the data-derived prior scales in
        ``pm.Data`` containers (``<name>_observed``, ``<name>_axis``, ...), so that
        models of equal structure and size share one compiled graph: numba caches
        compiled graphs, but constants (data) are part of a graph. Default: constants.

    Returns
    -------
    TensorVariable
        The observed variable. A failed eigen-solve makes the log-density −inf
        (potential ``<name>_solver_failed``).
    """
    validate_dataset(data, variables=[VARIABLE], counts=True)
    check_choice(noise, NOISE_KINDS, "noise model")
    check_choice(geometry, GEOMETRIES, "geometry")
    wanted = instrument_parameter_names(data, geometry)
    fixed_here = _split_fixed(fixed, wanted)
    sampled = [n for n in wanted if n not in fixed_here]
    dtype = np.int64 if noise == "poisson" else np.float64
    containers = _containers(data, name, mutable_data, dtype)
    priors = {
        k: v
        for k, v in _instrument_priors(data, dict(priors or {}), containers).items()
        if k in sampled
    }
    instrument = PARAMETERS.add_priors(sampled, priors, prefix=prefix)
    instrument.update({n: fixed_constant(n, v, ()) for n, v in fixed_here.items()})
    site = {k: params[k] for k in ("B_hf", "A", "eta", "theta", "phi") if k in params}
    positions, intensities = site_lines(
        params["delta"],
        **site,
        geometry=geometry,
        k_theta=instrument.get("k_theta"),
        k_phi=instrument.get("k_phi"),
    )
    if site:
        n_lines = 8
        safe = reject_non_finite(
            pt.concatenate([positions, intensities], axis=-1), f"{name}_solver_failed"
        )
        positions, intensities = safe[..., :n_lines], safe[..., n_lines:]
    mean = transmission(
        velocity_of(data, instrument, containers["axis"]),
        positions,
        intensities,
        delta=params["delta"],
        gamma=params["gamma"],
        epsilon=instrument["epsilon"],
        baseline=instrument["baseline"],
        fraction=params.get("fraction"),
    )
    observed = containers["observed"]
    if noise == "poisson":
        return pm.Poisson(name, mu=mean, observed=observed)
    sd = noise_sd(data, sigma, PARAMETERS, priors)
    return pm.Normal(name, mu=mean, sigma=sd, observed=observed)


def build_model(
    data: xr.Dataset,
    variant: str = "sextet",
    n_sites: int = 1,
    geometry: str = "powder",
    noise: str = "poisson",
    sigma: float | None = None,
    priors: Mapping[str, PriorSpec] | None = None,
    fixed: Mapping[str, object] | None = None,
    mutable_data: bool = False,
) -> pm.Model:
    """PyMC model of one Mössbauer transmission spectrum.

    Parameters
    ----------
    data : xarray.Dataset
        ``counts`` along ``velocity`` [mm/s] (:func:`load_velocity_counts`,
        :func:`simulate`) or along ``channel`` (:func:`load_channel_counts`; the
        velocity calibration :math:`v_0, s` becomes part of the model).
    variant : {"singlet", "doublet", "sextet", "full"}
        Hamiltonian: :math:`H_c`, :math:`H_c+H_Q`, :math:`H_c+H_M`, :math:`H_c+H_Q+H_M`.
    n_sites : int
        Number of sites, all with the same variant.
    geometry : {"powder", "single_crystal"}
    noise : {"poisson", "gaussian"}
    sigma : float, optional
        Known Gaussian noise standard deviation (Gaussian noise only).
    priors : mapping, optional
        Prior overrides by parameter name.
    fixed : mapping, optional
        Parameters held at given values, e.g. ``{"delta": 0.0}``.
    mutable_data : bool
        Data in ``pm.Data`` containers (see :func:`add_likelihood`): models of the same
        variant and size then share one numba-compiled graph across datasets.

    Returns
    -------
    pymc.Model
        Site parameters with dim ``site``; observed variable ``counts``.

    Raises
    ------
    ValueError
        Bad data (via :func:`~measurement_models.data.validate_dataset`: NaN, negative or
        non-integer counts, unsorted or repeated velocities, wrong shapes), an unknown
        variant, geometry or noise model, a bad ``n_sites``, unknown prior or fixed
        names, or ``sigma`` with Poisson noise.
    """
    validate_dataset(data, variables=[VARIABLE], counts=True)
    _axis(data)
    check_choice(variant, VARIANTS, "Hamiltonian variant")
    check_choice(geometry, GEOMETRIES, "geometry")
    check_choice(noise, NOISE_KINDS, "noise model")
    n_sites = _check_n_sites(n_sites)
    if noise == "poisson" and sigma is not None:
        raise ValueError("sigma is for Gaussian noise; Poisson counts have no free noise level")
    used = site_parameter_names(variant, n_sites, geometry) + instrument_parameter_names(
        data, geometry
    )
    if noise == "gaussian":
        used.append("sigma")
    for what, names in (("prior", priors or {}), ("fixed value", fixed or {})):
        unknown = sorted(set(names) - set(used))
        if unknown:
            raise ValueError(
                f"{what} given for parameter(s) {unknown} that the {variant} model with "
                f"{n_sites} site(s) does not have; its parameters: {used}"
            )
    with pm.Model(coords={SITE_DIM: np.arange(n_sites)}) as model:
        params = add_priors(n_sites, variant, geometry, priors, fixed)
        add_likelihood(
            data,
            params,
            geometry=geometry,
            noise=noise,
            sigma=sigma,
            priors=priors,
            fixed=fixed,
            mutable_data=mutable_data,
        )
    return model


# --------------------------------------------------------------------------------------
# Data: simulation and loaders
# --------------------------------------------------------------------------------------

_TRUTH_NAMES = ("delta", "gamma", "B_hf", "A", "eta", "theta", "phi", "fraction")


def simulate(
    velocity: np.ndarray,
    *,
    delta,
    gamma,
    epsilon: float,
    baseline: float,
    B_hf=None,
    A=None,
    eta=None,
    theta=None,
    phi=None,
    fraction=None,
    geometry: str = "powder",
    k_theta: float | None = None,
    k_phi: float | None = None,
    noise: str = "poisson",
    sigma: float | None = None,
    rng: np.random.Generator | int | None = None,
) -> xr.Dataset:
    """Simulate a transmission spectrum (seeded :class:`numpy.random.Generator`).

    Parameters are those of :func:`forward`; site parameters have one value per site.
    ``noise="poisson"`` draws Poisson counts; ``"gaussian"`` adds normal noise of
    standard deviation ``sigma`` (default :math:`\\sqrt{N}`), rounds to whole counts and
    stores ``sigma`` per point. The truth is kept in ``attrs`` (``truth_<name>``).
    """
    check_choice(noise, NOISE_KINDS, "noise model")
    rng = np.random.default_rng(rng)
    velocity = np.asarray(velocity, dtype=float)
    site = {
        "delta": delta,
        "gamma": gamma,
        "B_hf": B_hf,
        "A": A,
        "eta": eta,
        "theta": theta,
        "phi": phi,
        "fraction": fraction,
    }
    site = {k: np.atleast_1d(np.asarray(v, float)) for k, v in site.items() if v is not None}
    mean = forward(
        velocity,
        **site,
        epsilon=epsilon,
        baseline=baseline,
        geometry=geometry,
        k_theta=k_theta,
        k_phi=k_phi,
    )
    if np.any(mean < 0):
        raise ValueError("the expected counts are negative: epsilon too large for these lines")
    truth = {f"truth_{k}": v for k, v in site.items()}
    truth |= {"truth_epsilon": float(epsilon), "truth_baseline": float(baseline)}
    for name, value in (("k_theta", k_theta), ("k_phi", k_phi)):
        if value is not None:
            truth[f"truth_{name}"] = float(value)
    attrs = {**truth, "geometry": geometry, "noise": noise}
    if noise == "poisson":
        counts = rng.poisson(mean)
        sd = None
    else:
        sd = np.sqrt(mean) if sigma is None else np.full(mean.shape, float(sigma))
        counts = np.clip(np.round(mean + sd * rng.standard_normal(mean.shape)), 0, None)
        attrs["truth_sigma"] = float(np.mean(sd)) if sigma is None else float(sigma)
    return make_dataset(
        velocity,
        counts.astype(np.int64),
        sigma=sd,
        axis="velocity",
        axis_units="mm/s",
        variable=VARIABLE,
        units="counts",
        attrs=attrs,
    )


def simulate_channels(
    channels: np.ndarray,
    *,
    velocity_offset: float,
    velocity_scale: float,
    reference_channel: float | None = None,
    nominal_velocity_per_channel: float | None = None,
    **kwargs,
) -> xr.Dataset:
    """Like :func:`simulate`, but on raw channels with the linear calibration
    :math:`v = v_0 + s\\,(c - c_\\mathrm{ref})` (truth in ``attrs``)."""
    channels = np.asarray(channels, dtype=float)
    reference = _reference_channel(channels, reference_channel)
    velocity = velocity_offset + velocity_scale * (channels - reference)
    sim = simulate(velocity, **kwargs)
    attrs = {
        **sim.attrs,
        "truth_velocity_offset": float(velocity_offset),
        "truth_velocity_scale": float(velocity_scale),
        "reference_channel": reference,
    }
    if nominal_velocity_per_channel is not None:
        attrs["nominal_velocity_per_channel"] = float(nominal_velocity_per_channel)
    return make_dataset(
        channels,
        sim[VARIABLE].values,
        sigma=sim["sigma"].values if "sigma" in sim else None,
        axis="channel",
        axis_units="channel",
        variable=VARIABLE,
        units="counts",
        attrs=attrs,
    )


def _reference_channel(channels: np.ndarray, reference: float | None) -> float:
    return float((channels[0] + channels[-1]) / 2 if reference is None else reference)


def load_channel_counts(
    path: str | Path,
    *,
    nominal_velocity_range: float | None = None,
    reference_channel: float | None = None,
) -> xr.Dataset:
    """Read raw multichannel counts, one ``channel<sep>counts`` pair per line.

    The separator may be ``_`` (as in the MOSIEK analyser files of bartek-krk/MS_data),
    a comma, a semicolon or white space; blank lines and ``#`` comments are skipped.
    The velocity calibration is left to the model (:func:`velocity_of`).

    Parameters
    ----------
    path : str or Path
    nominal_velocity_range : float, optional
        The drive's nominal maximum speed :math:`V` [mm/s], the channels spanning
        :math:`-V \\dots V` (a symmetric constant-acceleration sweep): sets the prior of
        the velocity per channel, :math:`s_\\mathrm{nom} = 2V/(n_\\mathrm{ch} - 1)`.
        An assumption about the instrument, recorded in ``attrs``.
    reference_channel : float, optional
        :math:`c_\\mathrm{ref}` (default: the middle of the channel range).

    Returns
    -------
    xarray.Dataset
        ``counts`` along ``channel``; ``attrs``: ``source``, ``reference_channel`` and,
        if given, ``nominal_velocity_range`` and ``nominal_velocity_per_channel``.

    Raises
    ------
    ValueError
        A line that is not two numbers, non-integer channels, or data that fail
        :func:`~measurement_models.data.validate_dataset` (negative counts, unsorted
        or repeated channels, ...), or a non-positive range.
    """
    path = Path(path)
    rows = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        line = line.split("#", 1)[0]
        fields = line.replace("_", " ").replace(",", " ").replace(";", " ").split()
        if not fields:
            continue
        if len(fields) != 2:
            raise ValueError(f"{path}:{number}: expected 'channel_counts', got {line.strip()!r}")
        rows.append((number, numeric_row(path, number, fields, line)))
    channels, counts = numeric_table(path, rows).T
    if np.any(channels != np.round(channels)):
        raise ValueError(f"{path}: channel numbers must be whole numbers")
    attrs: dict[str, object] = {
        "source": str(path),
        "reference_channel": _reference_channel(channels, reference_channel),
    }
    if nominal_velocity_range is not None:
        if not (np.isfinite(nominal_velocity_range) and nominal_velocity_range > 0):
            raise ValueError(
                f"nominal_velocity_range must be positive, got {nominal_velocity_range!r}"
            )
        attrs["nominal_velocity_range"] = float(nominal_velocity_range)
        attrs["nominal_velocity_per_channel"] = (
            2 * float(nominal_velocity_range) / (channels.size - 1)
        )
    return make_dataset(
        channels,
        counts,
        axis="channel",
        axis_units="channel",
        variable=VARIABLE,
        units="counts",
        attrs=attrs,
    )


def load_velocity_counts(path: str | Path) -> xr.Dataset:
    """Read a velocity-calibrated spectrum: ``velocity [mm/s], counts`` per line.

    Comma- or space-separated, no header (comments with ``#``); see
    :func:`measurement_models.data.load_text`. Counts must be whole numbers ≥ 0 and
    the velocities strictly increasing.
    """
    return load_text(path, axis="velocity", axis_units="mm/s", variable=VARIABLE, units="counts")


# --------------------------------------------------------------------------------------
# Examples, relabelling, plots
# --------------------------------------------------------------------------------------


def tempering_ladder(data: xr.Dataset, n_replicas: int) -> np.ndarray:
    """Replica-exchange ladder for a count spectrum: :func:`~.data.count_tempering_ladder`
    of its counts (first level 1/total counts; the default 1e-4 is far too large)."""
    return count_tempering_ladder(data[VARIABLE].values, n_replicas)


def simulate_magnetite(
    baseline: float = 1e5,
    rng: np.random.Generator | int | None = 0,
    velocity: np.ndarray | None = None,
) -> xr.Dataset:
    """Synthetic room-temperature magnetite (:data:`MAGNETITE_300K`), Poisson counts."""
    ref = MAGNETITE_300K
    return simulate(
        ref["velocity"] if velocity is None else velocity,
        delta=ref["delta"],
        gamma=ref["gamma"],
        B_hf=ref["B_hf"],
        fraction=ref["fraction"],
        epsilon=ref["epsilon"],
        baseline=baseline,
        rng=rng,
    )


def example_data(rng: np.random.Generator | int | None = 0) -> tuple[xr.Dataset, dict]:
    """An α-Fe-like sextet (B = 33 T, δ = 0) with Gaussian noise σ = √N, and its truth."""
    truth = {
        "delta": np.array([0.0]),
        "gamma": np.array([0.3]),
        "B_hf": np.array([33.0]),
        "epsilon": 0.4,
        "baseline": 1e4,
    }
    data = simulate(np.linspace(-8.0, 8.0, 128), **truth, noise="gaussian", rng=rng)
    return data, truth


def relabel_sites(posterior: xr.Dataset, by: str = "delta") -> xr.Dataset:
    """Sort the sites of every draw by ``by`` (undoes label switching between sites)."""
    return sort_labels(posterior, SITE_DIM, by)


def posterior_spectra(
    data: xr.Dataset,
    posterior: xr.Dataset,
    geometry: str = "powder",
    fixed: Mapping[str, object] | None = None,
    max_draws: int = 200,
) -> tuple[np.ndarray, np.ndarray]:
    """Velocities (draws, n) and expected counts (draws, n) of posterior draws."""
    from .plotting import posterior_draws

    draws = posterior_draws(posterior, max_draws=max_draws)
    n = draws.sizes["sample"]
    fixed = dict(fixed or {})
    values = {}
    for name in PARAMETERS.names:
        if name in draws:
            values[name] = draws[name].values
        elif name in fixed:
            shape = (n, len(posterior[SITE_DIM])) if PARAMETERS[name].dims else (n,)
            values[name] = np.broadcast_to(np.asarray(fixed[name], float), shape)
    velocity = np.broadcast_to(velocity_of(data, values), (n, data[VARIABLE].size))
    site = {k: values[k] for k in _TRUTH_NAMES if k in values}
    counts = forward(
        velocity,
        **site,
        epsilon=values["epsilon"],
        baseline=values["baseline"],
        geometry=geometry,
        k_theta=values.get("k_theta"),
        k_phi=values.get("k_phi"),
    )
    return velocity, counts


def plot_fit(
    ax,
    data: xr.Dataset,
    posterior: xr.Dataset,
    geometry: str = "powder",
    fixed: Mapping[str, object] | None = None,
    **_,
) -> None:
    """Data, posterior band of the expected counts, and the truth if known."""
    from .plotting import plot_band

    velocity, counts = posterior_spectra(data, posterior, geometry, fixed)
    v = velocity.mean(axis=0)
    ax.plot(v, data[VARIABLE].values, ".", color="0.3", ms=3, label="data")
    plot_band(ax, v, counts)
    if "truth_delta" in data.attrs and _axis(data) == "velocity":
        truth = {k: data.attrs[f"truth_{k}"] for k in _TRUTH_NAMES if f"truth_{k}" in data.attrs}
        expected = forward(
            v,
            **truth,
            epsilon=data.attrs["truth_epsilon"],
            baseline=data.attrs["truth_baseline"],
            geometry=data.attrs.get("geometry", "powder"),
            k_theta=data.attrs.get("truth_k_theta"),
            k_phi=data.attrs.get("truth_k_phi"),
        )
        ax.plot(v, expected, "k--", lw=1, label="truth")
    ax.set_xlabel("velocity [mm/s]")
    ax.set_ylabel("counts")
    ax.legend(fontsize="small")
