r"""Hartree–Fock Compton profiles of the atomic Fe orbitals (3d, 4s and the core).

Source of the orbitals
----------------------
Roothaan–Hartree–Fock Slater-type-orbital (STO) expansions of the Fe ground state
:math:`1s^2 2s^2 2p^6 3s^2 3p^6 3d^6 4s^2\ ^5D` from

    T. Koga, K. Kanayama, S. Watanabe, A. J. Thakkar, *Analytical Hartree–Fock wave
    functions subject to cusp and asymptotic constraints: He to Xe, Li+ to Cs+, H− to I−*,
    Int. J. Quantum Chem. 71, 491 (1999), doi:10.1002/(SICI)1097-461X(1999)71:6<491::
    AID-QUA6>3.0.CO;2-T,

the successor of the Clementi & Roetti (1974) and Bunge, Barrientos & Bunge (1993) tables:
the same kind of RHF/STO expansion, with a total energy within microhartrees of the
numerical Hartree–Fock limit (Fe: :math:`E = -1262.443664689\,E_h`,
:math:`T = 1262.443664533\,E_h`). The numbers in :data:`FE_KOGA1999` were copied from the
file ``neutral/fe.slater`` of ``atomdb/data/slater_atom.tar.xz`` in the AtomDB repository
(github.com/theochem/AtomDB), which reproduces the published table.

Each orbital is :math:`\psi_{nlm}(\mathbf r) = R_{nl}(r)\,Y_{lm}(\hat r)` with

.. math::

    R_{nl}(r) = \sum_k c_k\, \chi_k(r),\qquad
    \chi_k(r) = \frac{(2\zeta_k)^{n_k + 1/2}}{\sqrt{(2 n_k)!}}\, r^{n_k - 1} e^{-\zeta_k r}.

Momentum space and Compton profile
----------------------------------
The momentum-space radial function (atomic units, :math:`\hbar = m = e = 1`) is the
Hankel transform

.. math::

    F_{nl}(p) = \sqrt{\tfrac{2}{\pi}} \int_0^\infty r^2 R_{nl}(r)\, j_l(p r)\, dr,
    \qquad \int_0^\infty F_{nl}^2\, p^2\, dp = 1,

done analytically for every STO:
:math:`\int_0^\infty r^m e^{-\zeta r} e^{i p r} dr = m!/(\zeta - i p)^{m+1}` with
:math:`j_0(x) = \sin x / x` and :math:`j_2(x) = (3/x^3 - 1/x)\sin x - 3\cos x / x^2`
(a power series in :math:`p` below :data:`SERIES_BELOW` avoids the cancellation of the
:math:`1/p^3` terms). The spherically averaged momentum density of one electron is
:math:`n(p) = F^2/4\pi`, and the Compton profile (impulse approximation)

.. math::

    J_{nl}(q) = \iint n(\mathbf p)\, dp_x\, dp_y
    = \tfrac12 \int_{|q|}^\infty F_{nl}(p)^2\, p\, dp,\qquad
    \int_{-\infty}^{\infty} J_{nl}(q)\, dq = 1

per electron (``q`` = :math:`p_z` in a.u. of momentum, :math:`1\ \mathrm{a.u.} =
1.993\times10^{-24}\ \mathrm{kg\,m/s}`). The integral is done on a graded ``p`` grid
(composite Simpson's rule) with the analytic :math:`p^{-2l-8}`-type tail neglected
beyond :data:`P_MAX` (below 1e-7 of the norm for the 3d and 4s orbitals).

Checked (``tests/measurement_models/test_compton_profiles.py``): every orbital of the
table is normalised and orthogonal to the others of the same l (numerical radial
quadrature); the kinetic energy of the whole atom from the table, computed in r space,
reproduces the published :math:`T = 1262.443665\,E_h`; the 3d and 4s momentum functions
are normalised and their :math:`\tfrac12\langle p^2\rangle = \tfrac32\int q^2 J\,dq`
equals the r-space kinetic energy of the same orbital (a check of the Hankel transform);
the hydrogen-like 1s profile :math:`J(q) = 8/[3\pi Z (1 + q^2/Z^2)^3]` (derived in the
test's docstring) through the same machinery; :math:`\int J = 1`; and the 3d and 4s
profiles against xraylib's Biggs, Mendelsohn & Mann (1975) Hartree–Fock tables
(``ComptonProfile_Partial``, per electron, one-sided).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np
from scipy.integrate import cumulative_simpson

__all__ = [
    "FE_KOGA1999",
    "FE_OCCUPATION",
    "P_MAX",
    "SERIES_BELOW",
    "Orbital",
    "compton_profile",
    "fe_orbital",
    "momentum_function",
    "radial_function",
    "sto_momentum",
]

#: Upper end (a.u.) of the momentum integration of :func:`compton_profile`.
P_MAX = 200.0
#: Below this p/ζ the momentum transform of an STO uses its power series.
SERIES_BELOW = 0.05

#: Koga et al. (1999) RHF STO basis of Fe ⁵D, by l: (n_k, ζ_k) and the coefficient columns
#: of each orbital (from AtomDB's ``neutral/fe.slater``; E = −1262.443664689 Eh,
#: T = 1262.443664533 Eh, orbital energies in the header comment of each block).
FE_KOGA1999: dict[int, dict[str, object]] = {
    0: {
        # orbital energies 1s −261.3734219, 2s −31.9355217, 3s −4.1694393, 4s −0.2581805
        "basis": (
            (1, 67.039851), (3, 37.739652), (1, 27.502599), (3, 19.356262), (2, 11.285074),
            (1, 9.367472), (2, 8.606144), (2, 3.732769), (1, 2.599956), (1, 1.821430),
            (2, 0.761362), (1, 0.718583),
        ),
        "orbitals": {
            "1s": (0.0015184, -0.0106577, -0.8270191, 0.0684367, 0.1913138, -0.4067605,
                   0.0184840, -0.0013668, 0.0022126, -0.0004942, -0.0000288, 0.0000656),
            "2s": (0.0015653, -0.0084246, -0.1366790, 0.0465236, 1.2166161, -0.7169434,
                   0.3776062, 0.0112197, -0.0118535, 0.0022054, 0.0000615, -0.0001613),
            "3s": (-0.0007443, 0.0041962, 0.0507275, -0.0186454, -0.2225578, 0.1830688,
                   -0.8655540, 0.8448811, 0.5820667, 0.0072140, 0.0004931, -0.0010485),
            "4s": (0.0001824, -0.0010310, -0.0113065, 0.0039089, 0.0331594, -0.0278507,
                   0.2247979, -0.1544478, 0.1586917, -0.7886902, 0.5508906, 0.7825338),
        },
    },
    1: {
        # orbital energies 2p −27.4137116, 3p −2.7421982
        "basis": (
            (2, 53.958628), (3, 35.552297), (2, 18.139253), (3, 14.420001), (2, 10.398009),
            (2, 8.220976), (3, 3.526362), (2, 3.043306), (2, 1.742634), (2, 0.718583),
        ),
        "orbitals": {
            "2p": (0.0003539, 0.0029461, -0.1710197, -0.1274017, -0.5025877, -0.2353695,
                   0.0067758, -0.0113099, 0.0000849, -0.0000036),
            "3p": (0.0001605, 0.0013264, -0.0188217, 0.0451461, -0.3154501, -0.2957612,
                   -0.4783269, 1.6251079, 0.0289213, 0.0004127),
        },
    },
    2: {
        # orbital energy 3d −0.6468876
        "basis": (
            (3, 23.292198), (4, 18.020857), (3, 7.891984), (3, 5.208309), (3, 3.309121),
            (3, 2.122232), (3, 1.404987), (3, 0.718583),
        ),
        "orbitals": {
            "3d": (0.0016054, 0.0069661, 0.0981612, 0.2946262, 0.3855914, 0.2865224,
                   0.0891893, 0.0003175),
        },
    },
}  # fmt: skip

#: Electrons in each orbital of Fe 3d⁶4s² ⁵D.
FE_OCCUPATION = {"1s": 2, "2s": 2, "3s": 2, "4s": 2, "2p": 6, "3p": 6, "3d": 6}


@dataclass(frozen=True)
class Orbital:
    """A radial orbital :math:`R(r) = \\sum_k c_k \\chi_k(r)` of angular momentum ``l``.

    Attributes
    ----------
    l : int
        Angular momentum (0 or 2 for the momentum transform; any for r space).
    n : tuple of int
        Principal quantum numbers :math:`n_k` of the STOs.
    zeta : tuple of float
        Exponents :math:`\\zeta_k` (1/bohr).
    coefficients : tuple of float
        Expansion coefficients :math:`c_k` (of normalised STOs).
    """

    l: int  # noqa: E741 (the physicists' name)
    n: tuple[int, ...]
    zeta: tuple[float, ...]
    coefficients: tuple[float, ...]


def fe_orbital(name: str) -> Orbital:
    """The Koga (1999) Fe orbital ``name`` (``"1s"``, …, ``"4s"``, ``"2p"``, ``"3p"``, ``"3d"``).

    Raises
    ------
    ValueError
        If the orbital is not in the table.
    """
    l = {"s": 0, "p": 1, "d": 2}.get(name[-1:])  # noqa: E741
    if l is None or name not in FE_KOGA1999[l]["orbitals"]:
        raise ValueError(f"no Fe orbital {name!r}; available: {', '.join(FE_OCCUPATION)}")
    block = FE_KOGA1999[l]
    n, zeta = zip(*block["basis"], strict=True)
    return Orbital(l, tuple(n), tuple(zeta), tuple(block["orbitals"][name]))


def _sto_norm(n: int, zeta: float) -> float:
    return (2 * zeta) ** (n + 0.5) / math.sqrt(math.factorial(2 * n))


def radial_function(orbital: Orbital, r: np.ndarray) -> np.ndarray:
    """:math:`R_{nl}(r)` (bohr^-3/2) on ``r`` (bohr)."""
    r = np.asarray(r, dtype=float)
    out = np.zeros_like(r)
    for n, zeta, c in zip(orbital.n, orbital.zeta, orbital.coefficients, strict=True):
        out += c * _sto_norm(n, zeta) * r ** (n - 1) * np.exp(-zeta * r)
    return out


def _laplace_sin_cos(m: int, zeta: float, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r""":math:`\int_0^\infty r^m e^{-\zeta r}(\sin pr, \cos pr)\,dr` (exact)."""
    value = math.factorial(m) / (zeta - 1j * p) ** (m + 1)
    return value.imag, value.real


def _series_coefficients(l: int, terms: int = 6) -> list[float]:  # noqa: E741
    r"""Taylor coefficients :math:`a_k` of :math:`j_l(x) = x^l \sum_k a_k x^{2k}`."""
    return [
        (-1) ** k
        / (2**k * math.factorial(k) * math.prod(range(2 * l + 3, 2 * l + 2 * k + 2, 2)))
        / math.prod(range(1, 2 * l + 2, 2))
        for k in range(terms)
    ]


def sto_momentum(n: int, zeta: float, l: int, p: np.ndarray) -> np.ndarray:  # noqa: E741
    r""":math:`\int_0^\infty r^{n+1} e^{-\zeta r} j_l(p r)\,dr` for l = 0 or 2 (exact).

    Closed form from ``_laplace_sin_cos`` for :math:`p \ge` ``SERIES_BELOW``·ζ, the
    power series of :math:`j_l` (six terms, relative error below 1e-10) under it.

    Raises
    ------
    ValueError
        For l other than 0 and 2, or l = 2 with n < 3.
    """
    p = np.asarray(p, dtype=float)
    if l not in (0, 2) or (l == 2 and n < 3):
        raise ValueError(
            f"momentum transform implemented for s (n ≥ 1) and d (n ≥ 3), got n={n}, l={l}"
        )
    small = p < SERIES_BELOW * zeta
    safe = np.where(small, 1.0, p)
    if l == 0:
        sin, _ = _laplace_sin_cos(n, zeta, safe)
        closed = sin / safe
    else:
        sin_lo, _ = _laplace_sin_cos(n - 2, zeta, safe)
        sin_hi, _ = _laplace_sin_cos(n, zeta, safe)
        _, cos_mid = _laplace_sin_cos(n - 1, zeta, safe)
        closed = 3 * sin_lo / safe**3 - sin_hi / safe - 3 * cos_mid / safe**2
    series = np.zeros_like(p)
    for k, a in enumerate(_series_coefficients(l)):
        power = n + 1 + l + 2 * k
        series += a * p ** (l + 2 * k) * math.factorial(power) / zeta ** (power + 1)
    return np.where(small, series, closed)


def momentum_function(orbital: Orbital, p: np.ndarray) -> np.ndarray:
    r""":math:`F_{nl}(p)` (a.u.) with :math:`\int F^2 p^2 dp = 1` for a normalised orbital."""
    p = np.asarray(p, dtype=float)
    out = np.zeros_like(p)
    for n, zeta, c in zip(orbital.n, orbital.zeta, orbital.coefficients, strict=True):
        out += c * _sto_norm(n, zeta) * sto_momentum(n, zeta, orbital.l, p)
    return math.sqrt(2 / math.pi) * out


def _momentum_grid(p_max: float = P_MAX, n: int = 40001) -> tuple[np.ndarray, np.ndarray, float]:
    """Graded grid on [0, p_max]: p = s sinh(t) with t uniform (odd length), t and s."""
    scale = 2.0
    t = np.linspace(0.0, math.asinh(p_max / scale), n)
    return scale * np.sinh(t), t, scale


@cache
def _profile_table(orbital: Orbital) -> tuple[np.ndarray, np.ndarray]:
    p, t, scale = _momentum_grid()
    integrand = 0.5 * momentum_function(orbital, p) ** 2 * p * scale * np.cosh(t)
    tail = cumulative_simpson(integrand[::-1], x=-t[::-1], initial=0.0)[::-1]
    return p, tail


def compton_profile(orbital: Orbital, q: np.ndarray) -> np.ndarray:
    r"""Compton profile :math:`J_{nl}(q)` per electron (a.u.⁻¹) at ``q`` (a.u.), both signs.

    Tabulated once per orbital on the grid of ``_momentum_grid`` and interpolated
    linearly (spacing 2.6e-4 a.u. at q = 0, 1.3e-3 a.u. at 10 a.u.; the interpolation
    error is below 1e-6 of J(0)); zero beyond :data:`P_MAX`.
    """
    p, tail = _profile_table(orbital)
    q = np.abs(np.asarray(q, dtype=float))
    return np.interp(q, p, tail, right=0.0)
