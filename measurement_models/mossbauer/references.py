r"""Published and independent numbers the Mössbauer model reproduces (:data:`REFERENCES`).

Values (checked by the zoo-wide harness, ``tests/measurement_models/test_registry.py``,
through :func:`~measurement_models.mossbauer.hamiltonian.observable_lines`):

* ``alpha_fe``: the α-Fe calibration standard. Its two inner line pairs define the
  Zeeman constants :data:`~measurement_models.mossbauer.hamiltonian.G_GROUND` and
  :data:`~measurement_models.mossbauer.hamiltonian.G_EXCITED`; the outer pair (in a pure
  field :math:`v_1 = 2v_2 - v_3`) and the powder areas 3:2:1:1:2:3 are then predictions.
* ``nuclear_moments``: the sextet at 1 T from the nuclear moments of ⁵⁷Fe, the nuclear
  magneton and the γ energy, which share nothing with the calibration standard.
* ``pure_quadrupole``: the doublet of a pure quadrupole interaction, lines at
  :math:`\pm A\sqrt{1 + \eta^2/3}` of equal area (analytic).

Settings (no values): ``magnetite_300k``, the synthetic room-temperature magnetite.
"""

from __future__ import annotations

import math

import numpy as np

from ..contract import Reference

__all__ = ["REFERENCES"]

#: Areas of the six powder lines in a pure magnetic field, in order of position:
#: squared Clebsch–Gordan coefficients ⟨½ m_g 1 q | 3/2 m_e⟩² (1, 2/3, 1/3) summed over
#: the orientations, normalised to 1.
_POWDER_SEXTET_AREAS = (3 / 12, 2 / 12, 1 / 12, 1 / 12, 2 / 12, 3 / 12)

#: Nuclear magneton [eV/T], CODATA 2018.
_NUCLEAR_MAGNETON = 3.15245125417e-8
#: γ energy of the 14.4 keV transition [eV]: hc/λ with λ = 86.025474 pm.
_GAMMA_ENERGY = 14412.497
#: Energy of a Doppler velocity of 1 mm/s [eV]: E_γ v/c.
_EV_PER_MM_S = _GAMMA_ENERGY * 1e-3 / 299792458.0


def _zeeman_sextet(g_ground: float, g_excited: float, field: float) -> tuple[float, ...]:
    r"""Positions of the six allowed lines in a pure field, ascending [mm/s].

    The levels of :math:`-g\mu_N B I_z` are :math:`-g\mu_N B m`, so the line
    :math:`m_e \to m_g` (:math:`|m_e - m_g| \le 1`) lies at
    :math:`(-g_e m_e + g_g m_g)\,\mu_N B`; ``g_ground``, ``g_excited`` are
    :math:`g\mu_N` in mm/s per tesla.
    """
    pairs = [(m_e, m_g) for m_g in (0.5, -0.5) for m_e in (1.5, 0.5, -0.5, -1.5)]
    return tuple(
        sorted(
            (-g_excited * m_e + g_ground * m_g) * field for m_e, m_g in pairs if abs(m_e - m_g) <= 1
        )
    )


#: The published or independent values and settings of the Mössbauer model.
REFERENCES: dict[str, Reference] = {
    "alpha_fe": Reference(
        source=(
            "α-Fe calibration standard at room temperature, B_hf = 33.0 T, lines at "
            "±5.312, ±3.076, ±0.840 mm/s (J. Bland, PhD thesis, University of Liverpool "
            "(2002), velocity calibration, "
            "http://www.cmp.liv.ac.uk/frink/thesis/thesis/node57.html); powder M1 areas "
            "3:2:1:1:2:3 (P. Gütlich, E. Bill, A. X. Trautwein, Mössbauer Spectroscopy and "
            "Transition Metal Chemistry, Springer 2011, ch. 4)"
        ),
        params={},
        structure={"variant": "sextet", "n_sites": 1, "geometry": "powder"},
        quantity="observable_lines",
        x=33.0,
        expected=((-5.312, -3.076, -0.840, 0.840, 3.076, 5.312), _POWDER_SEXTET_AREAS),
        rtol=1e-12,
        atol=1e-12,
        description=(
            "α-Fe sextet at 33.0 T (δ = 0, powder): line positions [mm/s] and areas; the "
            "inner pairs define G_GROUND and G_EXCITED, the outer pair and the areas are "
            "predictions"
        ),
    ),
    "nuclear_moments": Reference(
        source=(
            "⁵⁷Fe moments μ_g = +0.09044 μ_N (I = 1/2) and μ_e = −0.1549 μ_N (I = 3/2), "
            "N. J. Stone, At. Data Nucl. Data Tables 90, 75 (2005); μ_N = 3.15245125417e−8 "
            "eV/T, CODATA 2018; E_γ = hc/λ = 14.412497 keV with λ = 86.025474 pm, "
            "Yu. V. Shvyd'ko et al., Phys. Rev. Lett. 85, 495 (2000); 1 mm/s ≙ E_γ v/c"
        ),
        params={},
        structure={"variant": "sextet", "n_sites": 1, "geometry": "powder"},
        quantity="observable_lines",
        x=1.0,
        expected=(
            _zeeman_sextet(
                0.09044 / 0.5 * _NUCLEAR_MAGNETON / _EV_PER_MM_S,
                -0.1549 / 1.5 * _NUCLEAR_MAGNETON / _EV_PER_MM_S,
                1.0,
            ),
            _POWDER_SEXTET_AREAS,
        ),
        rtol=1e-3,
        description=(
            "the sextet at B_hf = 1 T from the nuclear moments (positions [mm/s], areas); "
            "tolerance 0.1 %: the calibration-derived constants differ from the moments "
            "by 0.06 %"
        ),
    ),
    "pure_quadrupole": Reference(
        source=(
            "analytic: the I = 3/2 levels of (A/3)[3I_z² − I(I+1) + η(I_x² − I_y²)] are "
            "±A√(1 + η²/3), the I = 1/2 level is unsplit, so a powder doublet has lines "
            "at ±ΔE_Q/2, ΔE_Q = 2A√(1 + η²/3), of equal area (Gütlich, Bill, Trautwein, "
            "Springer 2011, ch. 4)"
        ),
        params={"A": 0.8, "eta": 0.6},
        structure={"variant": "doublet", "n_sites": 1, "geometry": "powder"},
        quantity="observable_lines",
        x=0.0,
        expected=(
            (-0.8 * math.sqrt(1 + 0.6**2 / 3), 0.8 * math.sqrt(1 + 0.6**2 / 3)),
            (0.5, 0.5),
        ),
        rtol=1e-12,
        atol=1e-12,
        description="pure quadrupole doublet, A = 0.8 mm/s, η = 0.6, B_hf = 0: lines, areas",
    ),
    "magnetite_300k": Reference(
        source=(
            "the synthetic 'magnetite at 300 K' example of R. Moriguchi, S. Tsutsui, "
            "S. Katakami, K. Nagata, M. Mizumaki, M. Okada, J. Phys. Soc. Jpn. 91, 104002 "
            "(2022), arXiv:2205.09188, with rounded literature values of room-temperature "
            "Fe3O4 (not traced to one table): tetrahedral A site (Fe³⁺) B_hf = 49 T, "
            "δ = 0.27 mm/s; octahedral B site (Fe^2.5+) B_hf = 46 T, δ = 0.67 mm/s; area "
            "ratio B:A = 1.9; no quadrupole shift. The widths Γ, the absorption area ε and "
            "the velocity grid are this package's choices"
        ),
        params={
            "delta": np.array([0.27, 0.67]),
            "B_hf": np.array([49.0, 46.0]),
            "fraction": np.array([1.0, 1.9]) / 2.9,
            "gamma": np.array([0.30, 0.30]),
            "A": np.array([0.0, 0.0]),
            "epsilon": 0.5,
        },
        structure={"variant": "sextet", "n_sites": 2, "geometry": "powder"},
        x=np.linspace(-10.0, 10.0, 256),
        description=(
            "two sextets, sites ordered A (tetrahedral), B (octahedral); velocities [mm/s]"
        ),
    ),
}
