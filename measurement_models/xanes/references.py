r"""Values the XANES edge model reproduces, from analytic properties of its terms.

The model's paper (Iwamitsu et al., Phys. Status Solidi B 257, 2000107 (2020)) gives
the functional form; the numbers here follow from it by hand, each with its reasoning
in the ``source`` of its :class:`~measurement_models.contract.Reference`.
"""

from __future__ import annotations

import math

from ..contract import Reference

__all__ = ["REFERENCES"]

_PEAK = math.sqrt(4 * math.log(2) / math.pi)  # maximum of the unit-area Gaussian of FWHM 1


def _white_line_height(area: float, fwhm: float, eta: float) -> float:
    """A pV(c; c, w, η) = A [η · 2/(π w) + (1 − η) √(4 ln 2/π)/w]."""
    return area * (eta * 2 / (math.pi * fwhm) + (1 - eta) * _PEAK / fwhm)


_WHITE_LINE = _white_line_height(3.0, 4.0, 0.3)

#: Analytic values of :func:`~measurement_models.xanes.forward`: the arctan step at and
#: around its midpoint, and the half maximum of a Gaussian feature and of the white line.
REFERENCES = {
    "arctan_step": Reference(
        source=(
            "analytic: H[½ + arctan((E − E0)/(Γ/2))/π] with arctan(±1) = ±π/4 is H/4, H/2 "
            "and 3H/4 at E = E0 − Γ/2, E0, E0 + Γ/2 (here H = 2, E0 = 7120 eV, Γ = 3 eV; "
            "no background)"
        ),
        params={"H": 2.0, "E0": 7120.0, "Gamma": 3.0},
        structure={"n_gaussians": 0, "white_line": False},
        x=[7118.5, 7120.0, 7121.5],
        expected=[0.5, 1.0, 1.5],
        rtol=1e-12,
        description="edge step at its midpoint and half a width either side",
    ),
    "gaussian_feature": Reference(
        source=(
            "analytic: the unit-area Gaussian of FWHM W has its maximum √(4 ln 2/π)/W at its "
            "centre and half of it at the centre ± W/2; a feature of area F = 0.8, centre "
            "7112 eV, W = 1.5 eV on a vanishing step (H = 0)"
        ),
        params={"H": 0.0, "E0": 7100.0, "Gamma": 1.0, "F": [0.8], "Ek": [7112.0], "W": [1.5]},
        structure={"n_gaussians": 1, "white_line": False},
        x=[7111.25, 7112.0, 7112.75],
        expected=[0.8 * _PEAK / 1.5 / 2, 0.8 * _PEAK / 1.5, 0.8 * _PEAK / 1.5 / 2],
        rtol=1e-12,
        description="height and half maximum of one Gaussian feature",
    ),
    "white_line": Reference(
        source=(
            "analytic: the unit-area Lorentzian of FWHM ω, (ω/2π)/((E − c)² + ω²/4), is "
            "2/(πω) at c and 1/(πω) at c ± ω/2, the Gaussian √(4 ln 2/π)/ω and half of it: "
            "so A pV is A[η 2/(πω) + (1 − η) √(4 ln 2/π)/ω] at c = E0 + ΔE and half of that "
            "at c ± ω/2 (A = 3, E0 = 7120 eV, ΔE = 5 eV, ω = 4 eV, η = 0.3; H = 0)"
        ),
        params={
            "H": 0.0,
            "E0": 7120.0,
            "Gamma": 1.0,
            "A": 3.0,
            "dE": 5.0,
            "omega": 4.0,
            "eta": 0.3,
        },
        structure={"n_gaussians": 0, "white_line": True},
        x=[7123.0, 7125.0, 7127.0],
        expected=[_WHITE_LINE / 2, _WHITE_LINE, _WHITE_LINE / 2],
        rtol=1e-12,
        description="height and half maximum of the pseudo-Voigt white line",
    ),
}
