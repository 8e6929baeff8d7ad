r"""Settings of the NiO integration study, and analytic values the model reproduces.

Each :class:`~measurement_models.contract.Reference` with values is checked by the
zoo-wide harness (``tests/measurement_models/test_registry.py``).
"""

from __future__ import annotations

import numpy as np

from ..contract import Reference

__all__ = ["REFERENCES"]

#: The study whose model and experiment this package repeats.
_PAPER = (
    "Y. Yokoyama, T. Uozumi, K. Nagata, M. Okada, M. Mizumaki, J. Phys. Soc. Jpn. 90, "
    "034703 (2021), as summarised (eqs. (5) and (6)) in M. Mizumaki (JASRI), article "
    "'機械学習手法の導入によるデータ解析高度化' (advancing data analysis with machine learning)"
)
#: No hybridisation, no accidental degeneracy: configuration energies 0, Δ − U_dc = −3,
#: 2Δ + U_dd − 2U_dc = 1 (XPS) and 0, Δ + U_dd − U_dc = 4 (XAS).
_BARE = {"delta": 5.0, "v": 0.0, "u_dd": 7.0, "u_dc": 8.0}
_GAMMA, _AMPLITUDE, _BACKGROUND = 0.5, 1.7, 0.02

#: Settings and values (see :class:`~measurement_models.contract.Reference`).
REFERENCES: dict[str, Reference] = {
    "illustrative_nio": Reference(
        source=(
            "illustrative values in the range of the NiO cluster analyses of G. van der "
            "Laan, J. Zaanen, G. A. Sawatzky, R. Karnatak, J.-M. Esteva, Phys. Rev. B 33, "
            "4253 (1986) and A. Fujimori, F. Minami, Phys. Rev. B 30, 957 (1984) (not a fit "
            "to data; their exact numbers were not checked); the experiment (XPS and XAS at "
            "one signal-to-noise ratio) of " + _PAPER
        ),
        quantity="simulate_pair",
        x={"xps": np.linspace(-10.0, 10.0, 201), "xas": np.linspace(-4.0, 12.0, 161)},
        params={
            "delta": 5.0,
            "v": 2.2,
            "u_dd": 7.0,
            "u_dc": 8.5,
            "gamma": 0.5,
            "amplitude": 1.0,
            "background": 0.02,
            "snr": 100.0,
        },
        description=(
            "Δ = 5.0, V = 2.2, U_dd = 7.0, U_dc = 8.5, Γ = 0.5 eV, amplitude 1, background "
            "0.02; XPS on −10 … 10 eV (201 points), XAS on −4 … 12 eV (161 points), both at "
            "S/N 100 (σ = peak height above the background / 100)"
        ),
    ),
    "no_hybridisation_xps": Reference(
        source=(
            "analytic: with V = 0 the ground state is pure d⁸ and the XPS final states are "
            "the bare configurations c̲d⁸, c̲d⁹L̲, c̲d¹⁰L̲² at 0, Δ − U_dc, 2Δ + U_dd − 2U_dc; "
            "in the sudden approximation (T = 1) all the weight is on c̲d⁸"
        ),
        quantity="lines",
        x="xps",
        params=_BARE,
        structure={"spectrum": "xps"},
        expected=[[-3.0, 0.0, 1.0], [0.0, 1.0, 0.0]],
        atol=1e-12,
        description="XPS lines (positions, weights) at Δ = 5, V = 0, U_dd = 7, U_dc = 8 eV",
    ),
    "no_hybridisation_xas": Reference(
        source=(
            "analytic: with V = 0 the XAS final states are c̲d⁹ at 0 and c̲d¹⁰L̲ at "
            "Δ + U_dd − U_dc; the dipole operator takes d⁸ to c̲d⁹ with weight 2, one per "
            "e_g hole"
        ),
        quantity="lines",
        x="xas",
        params=_BARE,
        structure={"spectrum": "xas"},
        expected=[[0.0, 4.0], [2.0, 0.0]],
        atol=1e-12,
        description="XAS lines (positions, weights) at Δ = 5, V = 0, U_dd = 7, U_dc = 8 eV",
    ),
    "no_hybridisation_spectrum": Reference(
        source=(
            "analytic: eq. (6) of " + _PAPER + " with one line of weight 1 at ω = 0 "
            "(V = 0): I(ω) = A (Γ/π)/(ω² + Γ²) + B, so I(0) = A/(πΓ) + B and "
            "I(±Γ) = A/(2πΓ) + B"
        ),
        params={
            **_BARE,
            "gamma": _GAMMA,
            "amplitude": _AMPLITUDE,
            "background": _BACKGROUND,
            "spectrum": "xps",
        },
        structure={"spectrum": "xps"},
        x=[-_GAMMA, 0.0, _GAMMA],
        expected=_BACKGROUND + _AMPLITUDE / (np.pi * _GAMMA) * np.array([0.5, 1.0, 0.5]),
        rtol=1e-12,
        description="XPS spectrum at Δ = 5, V = 0, U_dd = 7, U_dc = 8, Γ = 0.5 eV, A = 1.7, "
        "B = 0.02 at ω = −Γ, 0, Γ",
    ),
}
