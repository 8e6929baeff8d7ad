r"""The published Ce 3d numbers the model reproduces, and the settings of the selection study.

Each :class:`~measurement_models.contract.Reference` with values is checked by the
zoo-wide harness (``tests/measurement_models/test_registry.py``).
"""

from __future__ import annotations

import numpy as np

from ..contract import Reference

__all__ = ["REFERENCES"]

#: The paper the model and its numbers come from.
_PAPER = (
    "Y. Mototake, M. Mizumaki, I. Akai, M. Okada, J. Phys. Soc. Jpn. 88, 034004 (2019), "
    "arXiv:1812.01205"
)

#: Settings and values (see :class:`~measurement_models.contract.Reference`).
REFERENCES: dict[str, Reference] = {
    "mototake2019_table": Reference(
        source=_PAPER + ", the table of the Δ scan (row Δ = 12.5 eV)",
        quantity="lines",
        x=12.5,
        params={"v": 0.76, "u_fc": 12.5, "u_ff": 10.5},
        structure={"n_configurations": 3},
        # positions as printed; weights from the printed intensities 2w/π (0.3850,
        # 0.2512, 0.0005: the height of a unit Lorentzian of half width 0.5 eV)
        expected=[[-2.8, 2.72, 12.48], np.pi / 2 * np.array([0.3850, 0.2512, 0.0005])],
        atol=0.005,
        description=(
            "final-state energies E_f − E_g = (−2.8, 2.72, 12.48) eV and weights of the "
            "three-configuration model at Δ = 12.5, V = 0.76, U_ff = 10.5, U_fc = 12.5 eV "
            "(x is Δ); atol half a unit in the last printed digit of the positions (the "
            "weights agree to 1.5e-4 × π/2, tested in test_ce_xps.py)"
        ),
    ),
    "selection_study": Reference(
        source=(
            _PAPER + " (V, U_ff, U_fc and the Δ scan of its table); Γ, the instrument "
            "resolution, A, B, the energy grid and the noise are this package's choice for "
            "the simulated study of case_studies/mototake2019_ce3d_xps_selection.py, not the "
            "paper's data"
        ),
        quantity="simulate",
        x=np.linspace(-12.0, 16.0, 141),
        params={
            "v": 0.76,
            "u_ff": 10.5,
            "u_fc": 12.5,
            "gamma": 0.7,
            "amplitude": 10.0,
            "background": 0.5,
            "resolution": 0.3,
            "sigma": 0.05,
        },
        structure={"n_configurations": 3, "resolution": 0.3},
        description=(
            "141 points from −12 to 16 eV (0.2 eV apart), Γ = 0.7 eV, instrument σ = 0.3 "
            "eV, A = 10, B = 0.5, noise σ = 0.05; Δ (not given here) scanned over 12.5, "
            "11.0, 10.08, 9.0, 8.0 and 7.66 eV"
        ),
    ),
}
