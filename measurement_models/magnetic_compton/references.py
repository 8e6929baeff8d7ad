"""What the magnetic Compton model is checked against, and the article's stopping study."""

from __future__ import annotations

from ..contract import Reference
from .physics import GAMMA_RANGE

__all__ = ["REFERENCES"]

_MIZUMAKI = (
    "M. Mizumaki (JASRI), 機械学習手法の導入によるデータ解析高度化 (advancing data analysis "
    "with machine learning; article in Japanese), sect. 2-2, Figs. 4 and 5: magnetic Compton "
    "scattering of Fe at SPring-8 BL08W (the study: Y. Yokoyama et al., in preparation there)"
)
_BIGGS = (
    "F. Biggs, L. B. Mendelsohn, J. B. Mann, At. Data Nucl. Data Tables 16, 201 (1975): "
    "Hartree–Fock Compton profiles per electron of the Fe {shell} shell ({orbital}), as "
    "tabulated in xraylib 4.3.0, ComptonProfile_Partial(26, {shell}_SHELL, q)"
)
_BIGGS_TOLERANCE = (
    "3 % of J plus 1e-4 J(0): Biggs et al. used Clementi's 1965 Hartree–Fock functions and "
    "print three significant figures; ours are Koga et al.'s 1999 functions, convolved with "
    "the smallest resolution of the tables (Γ = 0.02 a.u., a change below 0.3 %)"
)

#: The article's stopping study (settings and published numbers, for the case study),
#: and Hartree–Fock profiles of another calculation that
#: :func:`~measurement_models.magnetic_compton.forward` reproduces at the smallest
#: resolution (a_3d or a_4s = 1 μ_B: one electron's profile).
REFERENCES = {
    "mizumaki_fe_stopping": Reference(
        source=_MIZUMAKI,
        params={
            "cycles": 136,
            "required_sd_mu_B": 0.01,
            "cycles_until_sd_a_3d_levels_off": 20,
            "cycles_until_sd_mu_s_within_required": 6,
        },
        description="Fe at room temperature: 136 accumulated cycles; the posterior sd of "
        "a_3d stops falling after ~20 cycles; sd(μ_s) ≤ 0.01 μ_B after ~6 cycles",
    ),
    "biggs1975_fe_3d": Reference(
        source=_BIGGS.format(shell="M5", orbital="3d"),
        params={"a_3d": 1.0, "a_4s": 0.0, "Gamma": GAMMA_RANGE[0]},
        x=[0.0, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0],
        expected=[0.201, 0.200, 0.186, 0.112, 0.0541, 0.0250, 0.00553],
        rtol=0.03,
        atol=1e-4 * 0.201,
        description="Fe 3d Compton profile per electron (a.u.⁻¹) on Biggs et al.'s q grid; "
        + _BIGGS_TOLERANCE,
    ),
    "biggs1975_fe_4s": Reference(
        source=_BIGGS.format(shell="N1", orbital="4s"),
        params={"a_3d": 0.0, "a_4s": 1.0, "Gamma": GAMMA_RANGE[0]},
        x=[0.0, 0.5, 1.0, 2.0, 3.0, 4.0, 6.0],
        expected=[1.55, 0.196, 0.0273, 0.00815, 0.00113, 0.000800, 0.000442],
        rtol=0.03,
        atol=1e-4 * 1.55,
        description="Fe 4s Compton profile per electron (a.u.⁻¹) on Biggs et al.'s q grid; "
        + _BIGGS_TOLERANCE,
    ),
}
