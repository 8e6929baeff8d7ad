r"""Published settings and independent values the crystal-field model reproduces.

The settings are those of the Bayesian integration of susceptibility and specific heat
in M. Okada's lecture (:data:`OKADA_LECTURE`); the values come from the definition of
the Stevens operators, the cubic crystal field of Lea, Leask and Wolf, closed forms of
the Schottky anomaly and the entropy, and the Curie constant from CODATA 2018. Each
:class:`~measurement_models.contract.Reference` with values is checked by the zoo-wide
harness (``tests/measurement_models/test_registry.py``).
"""

from __future__ import annotations

import numpy as np

from ..contract import Reference
from .physics import R_GAS

__all__ = ["NOISE_LEVELS", "OKADA_LECTURE", "REFERENCES"]

#: Where the Ce³⁺ settings come from.
OKADA_LECTURE = (
    "M. Okada (Univ. Tokyo), lecture slides 'ベイズ計測の基礎から展開へ' (Bayesian "
    "measurement, from foundations to applications): Bayesian integration of the magnetic "
    "susceptibility and the specific heat of Ce³⁺ in a crystal field, and the authors' "
    "public code for the cubic case"
)

#: The lecture's two noise cases: standard deviations on 1/χ (mol/emu) and on C (J/mol/K).
NOISE_LEVELS: dict[str, dict[str, float]] = {
    "low": {"inverse_susceptibility": 1e-2, "specific_heat": 1e-3},
    "high": {"inverse_susceptibility": 1.0, "specific_heat": 0.1},
}

#: T = 0.2, 0.4, …, 70 K: the lecture's 350 temperatures per observable.
_TEMPERATURE = np.round(0.2 * np.arange(1, 351), 10)
#: ⟨M ± 4|O_4^4|M⟩ for J = 5/2.
_O44 = np.sqrt(120 * 24) / 2
#: O_4^0 + O_4^4 for J = 5/2 on M = 5/2, 3/2, …, −5/2 (O_4^4 joins 5/2 with −3/2 and
#: 3/2 with −5/2).
_O40_PLUS_O44 = np.array(
    [
        [60.0, 0.0, 0.0, 0.0, _O44, 0.0],
        [0.0, -180.0, 0.0, 0.0, 0.0, _O44],
        [0.0, 0.0, 120.0, 0.0, 0.0, 0.0],
        [0.0, 0.0, 0.0, 120.0, 0.0, 0.0],
        [_O44, 0.0, 0.0, 0.0, -180.0, 0.0],
        [0.0, _O44, 0.0, 0.0, 0.0, 60.0],
    ]
)
#: Cubic Ce³⁺ at the lecture's B_4^0: the Γ7–Γ8 gap 360 B_4^0 and its Schottky anomaly.
_B40 = 0.1167
_T_SCHOTTKY = np.array([1.0, 5.0, 20.0, 42.0, 100.0, 300.0])
_X = 360 * _B40 / _T_SCHOTTKY
# N_A μ_B² g_J² J(J+1)/(3 k_B) in emu K/mol, cgs CODATA 2018 values
_CURIE_CE3 = 6.02214076e23 * 9.2740100783e-21**2 * (6 / 7) ** 2 * 2.5 * 3.5 / (3 * 1.380649e-16)

#: Settings and values (see :class:`~measurement_models.contract.Reference`).
REFERENCES: dict[str, Reference] = {
    "okada_cubic": Reference(
        source=OKADA_LECTURE,
        params={"B40": 0.1167},
        structure={"ion": "Ce3+", "symmetry": "cubic"},
        x=_TEMPERATURE,
        description=(
            "cubic Ce³⁺, B_4^0 = 0.1167 K (prior U(−1, 1) K), T = 0.2, 0.4, …, 70 K, 1/χ and "
            "C at 0.01 T along z, noise NOISE_LEVELS; the lecture's noise estimate for 1/χ "
            "in the low-noise case is b̂ = 8.1113 × 10³ against a true 10⁴ (and 10⁶ = truth "
            "for C)"
        ),
    ),
    "okada_tetragonal": Reference(
        source=OKADA_LECTURE,
        params={"B20": 0.381, "B40": 0.165, "B44": 0.447},
        structure={"ion": "Ce3+", "symmetry": "tetragonal"},
        x=_TEMPERATURE,
        description="tetragonal Ce³⁺, (B_2^0, B_4^0, B_4^4) = (0.381, 0.165, 0.447) K, as "
        "the cubic case otherwise",
    ),
    "stevens_operators_j52": Reference(
        source=(
            "K. W. H. Stevens, Proc. Phys. Soc. A 65, 209 (1952); M. T. Hutchings, Solid "
            "State Phys. 16, 227 (1964): O_4^0 = 35J_z⁴ − (30X − 25)J_z² + 3X² − 6X, "
            "O_4^4 = (J₊⁴ + J₋⁴)/2, X = J(J + 1); for J = 5/2 the matrix elements of the "
            "authors' code in " + OKADA_LECTURE
        ),
        quantity="hamiltonian",
        x="Ce3+",
        params={"symmetry": "tetragonal", "B20": 0.0, "B40": 1.0, "B44": 1.0},
        structure={"ion": "Ce3+", "symmetry": "tetragonal"},
        expected=np.stack([_O40_PLUS_O44, np.zeros((6, 6))]),
        atol=1e-12,
        description="H = O_4^0 + O_4^4 of Ce³⁺ (real and imaginary parts): diag O_4^0 = "
        "(60, −180, 120, 120, −180, 60), ⟨M ± 4|O_4^4|M⟩ = √(120·24)/2",
    ),
    "cubic_levels": Reference(
        source=(
            "K. R. Lea, M. J. M. Leask, W. P. Wolf, J. Phys. Chem. Solids 23, 1381 (1962): "
            "for J = 5/2 the cubic field B_4^0(O_4^0 + 5O_4^4) gives a Γ7 doublet at "
            "−240 B_4^0 and a Γ8 quartet at +120 B_4^0"
        ),
        quantity="levels",
        x="Ce3+",
        params={"symmetry": "cubic", "B40": _B40},
        structure={"ion": "Ce3+", "symmetry": "cubic"},
        expected=_B40 * np.array([-240.0, -240.0, 120.0, 120.0, 120.0, 120.0]),
        rtol=1e-12,
        atol=1e-12,
        description="levels of cubic Ce³⁺ at B_4^0 = 0.1167 K",
    ),
    "schottky_doublet_quartet": Reference(
        source=(
            "analytic: a g₀-fold ground level and a g₁-fold level Δ above it give "
            "C = R x² r eˣ/(1 + r eˣ)², x = Δ/T, r = g₀/g₁; cubic Ce³⁺ has g₀ = 2, g₁ = 4, "
            "Δ = 360 B_4^0 (Lea, Leask, Wolf 1962), R = 8.31441 J/mol/K as the authors use it"
        ),
        params={"observable": "specific_heat", "B40": _B40},
        structure={"ion": "Ce3+", "symmetry": "cubic"},
        x=_T_SCHOTTKY,
        expected=R_GAS * _X**2 * 0.5 * np.exp(_X) / (1 + 0.5 * np.exp(_X)) ** 2,
        rtol=1e-10,
        atol=1e-20,
        description="specific heat of cubic Ce³⁺ at B_4^0 = 0.1167 K from 1 to 300 K",
    ),
    "entropy_limits": Reference(
        source=(
            "analytic: S = R ln g of the g populated states: the Γ7 Kramers doublet alone "
            "for T ≪ 360 B_4^0, all 2J + 1 = 6 states for T ≫ 360 B_4^0"
        ),
        params={"observable": "entropy", "B40": _B40},
        structure={"ion": "Ce3+", "symmetry": "cubic"},
        x=[0.2, 1.0, 1e6],
        expected=R_GAS * np.log([2.0, 2.0, 6.0]),
        rtol=1e-8,
        description="entropy of cubic Ce³⁺ at 0.2 and 1 K (R ln 2) and at 10⁶ K (R ln 6)",
    ),
    "curie_constant": Reference(
        source=(
            "analytic: C = N_A g_J² μ_B² J(J + 1)/(3k_B) with the CODATA 2018 values "
            "N_A = 6.02214076e23 /mol, μ_B = 9.2740100783e-21 erg/G, k_B = 1.380649e-16 erg/K"
        ),
        quantity="curie_constant",
        x="Ce3+",
        expected=_CURIE_CE3,
        rtol=1e-4,
        description="Curie constant of Ce³⁺ (g_J = 6/7, J = 5/2), 0.80389 emu K/mol; the "
        "module's rounded constants 0.5585 × 0.671714 (the authors') agree to 1.1 × 10⁻⁵",
    ),
}
