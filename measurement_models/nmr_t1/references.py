"""Published recovery laws the T1 model reproduces, and the settings of its case study.

Each law is checked as the pair (amplitudes :math:`a_i`, exponents :math:`\\lambda_i`)
of :math:`R(t) = \\sum_i a_i e^{-\\lambda_i t/T_1}` that
:func:`measurement_models.nmr_t1.recovery_terms` returns for a spin and a line, against
the coefficients printed in the literature (magnetic dipolar relaxation, the observed
line saturated at t = 0) or an analytic result.
"""

from __future__ import annotations

import numpy as np

from ..contract import Reference

__all__ = ["REFERENCES"]

_ANDREW_TUNSTALL = (
    "E. R. Andrew and D. P. Tunstall, Proc. Phys. Soc. 78, 1 (1961): recovery of the "
    "central line of I = 3/2 under magnetic relaxation"
)
_NARATH = (
    "A. Narath, Phys. Rev. 162, 320 (1967), doi:10.1103/PhysRev.162.320: recovery of the "
    "central line of I = {} under magnetic relaxation"
)
_STUDY = (
    "this package's simulated selection study in the setting of R. Ueda, S. Katakami, "
    "S. Yoshida, T. Koyama, Y. Nakai, T. Mito, M. Mizumaki, M. Okada, J. Phys. Soc. Jpn. "
    "92, 054002 (2023) (whose measured curves were not available): I = 3/2 central line, "
    "saturation recovery at 30 delays log-spaced over 1e-4–1 s, M0 = 1, no offset"
)
_TIMES = np.geomspace(1e-4, 1.0, 30)


def _law(source: str, spin: str, transition: str, amplitudes, exponents) -> Reference:
    return Reference(
        source=source,
        params={"transition": transition},
        quantity="recovery_terms",
        x=spin,
        expected=[amplitudes, exponents],
        rtol=1e-14,
        description=f"I = {spin}, {transition} line: amplitudes a_i (first row) and "
        f"exponents λ_i (second row), exact fractions",
    )


def _study(variant: str, **truth) -> Reference:
    return Reference(
        source=_STUDY,
        params={**truth, "M0": 1.0, "spin": 1.5, "transition": "central"},
        structure={"variant": variant, "spin": 1.5, "transition": "central"},
        x=_TIMES,
        description=f"the true {variant} recovery of the selection study (our choice); "
        f"noise levels σ/M0 = 0.3 %, 1 %, 3 % in the case study",
    )


#: ``{name: Reference}``: the recovery law of every line in the table (checked by the
#: zoo-wide harness) and the three truths of the case study's selection study (settings).
REFERENCES: dict[str, Reference] = {
    "spin_1_2": _law(
        "analytic: the two levels of I = 1/2 relax with the one rate 2W = 1/T1 (the "
        "definition of T1), R(t) = exp(-t/T1)",
        "1/2",
        "central",
        [1.0],
        [1.0],
    ),
    "spin_3_2_central": _law(_ANDREW_TUNSTALL, "3/2", "central", [1 / 10, 9 / 10], [1, 6]),
    "spin_3_2_nqr": _law(
        "analytic: in zero field with populations symmetric in ±m, n(±3/2) − n(±1/2) obeys "
        "d/dt = −2 W_{3/2↔1/2} (·) with W_{3/2↔1/2} = 3W and 2W = 1/T1, so R(t) = "
        "exp(−3t/T1)",
        "3/2",
        "nqr",
        [1.0],
        [3.0],
    ),
    "spin_5_2_central": _law(
        _NARATH.format("5/2"), "5/2", "central", [1 / 35, 8 / 45, 50 / 63], [1, 6, 15]
    ),
    "spin_7_2_central": _law(
        _NARATH.format("7/2"),
        "7/2",
        "central",
        [1 / 84, 3 / 44, 75 / 364, 1225 / 1716],
        [1, 6, 15, 28],
    ),
    "selection_single": _study("single", T1=np.array([0.01])),
    "selection_stretched": _study("stretched", T1=np.array([0.01]), stretch=0.6),
    "selection_two_component": _study(
        "two_component", T1=np.array([0.004, 0.04]), weight=np.array([0.5, 0.5])
    ),
}
