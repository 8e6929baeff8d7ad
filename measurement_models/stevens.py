r"""Stevens operator equivalents :math:`O_k^q` and angular momentum matrices for any J.

Basis and angular momentum
--------------------------
Matrices act on the :math:`2J + 1` states :math:`|J, M\rangle` ordered
:math:`M = J, J-1, \dots, -J` (row and column 0 is :math:`M = J`), with

.. math::

    J_z|J,M\rangle = M|J,M\rangle, \qquad
    J_\pm|J,M\rangle = \sqrt{J(J+1) - M(M\pm1)}\;|J,M\pm1\rangle,

:math:`J_x = (J_+ + J_-)/2`, :math:`J_y = (J_+ - J_-)/(2i)` (Condon–Shortley phases, all
matrix elements of :math:`J_x, J_\pm` real and non-negative), so :math:`[J_x, J_y] = iJ_z`.

Stevens operators
-----------------
Stevens 1952; Hutchings 1964; Abragam & Bleaney 1970, table 16; the full set with
:math:`q < 0` as in Rudowicz & Chung 2004.

With :math:`X = J(J+1)`, :math:`S_q^{\pm} = J_+^q \pm J_-^q` and a polynomial
:math:`P_{kq}(J_z)` with exact integer coefficients (:data:`POLYNOMIALS`),

.. math::

    O_k^0 = P_{k0}(J_z), \qquad
    O_k^{q} = \tfrac14\left[P_{kq}(J_z)\,S_q^+ + S_q^+\,P_{kq}(J_z)\right], \qquad
    O_k^{-q} = \tfrac{-i}{4}\left[P_{kq}(J_z)\,S_q^- + S_q^-\,P_{kq}(J_z)\right]
    \quad (q > 0),

so that :math:`O_k^k = \tfrac12(J_+^k + J_-^k)`, :math:`O_k^{-k} = \tfrac{1}{2i}(J_+^k - J_-^k)`.
The polynomials:

==========  ===============================================================================
(k, q)      :math:`P_{kq}(J_z)`
==========  ===============================================================================
(2, 0)      :math:`3J_z^2 - X`
(2, 1)      :math:`J_z`
(2, 2)      :math:`1`
(4, 0)      :math:`35J_z^4 - (30X - 25)J_z^2 + 3X^2 - 6X`
(4, 1)      :math:`7J_z^3 - (3X + 1)J_z`
(4, 2)      :math:`7J_z^2 - X - 5`
(4, 3)      :math:`J_z`
(4, 4)      :math:`1`
(6, 0)      :math:`231J_z^6 - (315X - 735)J_z^4 + (105X^2 - 525X + 294)J_z^2 - 5X^3 + 40X^2 - 60X`
(6, 1)      :math:`33J_z^5 - (30X - 15)J_z^3 + (5X^2 - 10X + 12)J_z`
(6, 2)      :math:`33J_z^4 - (18X + 123)J_z^2 + X^2 + 10X + 102`
(6, 3)      :math:`11J_z^3 - (3X + 59)J_z`
(6, 4)      :math:`11J_z^2 - X - 38`
(6, 5)      :math:`J_z`
(6, 6)      :math:`1`
==========  ===============================================================================

:math:`O_k^q` is the operator equivalent of the Cartesian harmonic
:math:`f_{kq}(x, y, z)`, e.g. :math:`O_4^0 \leftrightarrow 35z^4 - 30z^2r^2 + 3r^4`,
:math:`O_4^4 \leftrightarrow x^4 - 6x^2y^2 + y^4 = \mathrm{Re}(x + iy)^4`,
:math:`O_4^{-4} \leftrightarrow \mathrm{Im}(x + iy)^4`; the common factor (Stevens'
:math:`\alpha_J, \beta_J, \gamma_J`) is left out, as usual when :math:`B_k^q` are fitted.
Operators of rank :math:`k > 2J` vanish identically (e.g. every :math:`O_6^q` for
:math:`J = 5/2`).

References: K. W. H. Stevens, Proc. Phys. Soc. A 65, 209 (1952); M. T. Hutchings, Solid
State Phys. 16, 227 (1964); K. R. Lea, M. J. M. Leask, W. P. Wolf, J. Phys. Chem. Solids
23, 1381 (1962); A. Abragam and B. Bleaney, *Electron Paramagnetic Resonance
of Transition Ions* (1970), table 16; C. Rudowicz and C. Y. Chung, J. Phys.: Condens.
Matter 16, 5825 (2004).

Checked (``tests/measurement_models/test_stevens.py``): hermiticity, time-reversal
evenness and :math:`[J_x, J_y] = iJ_z`; every :math:`O_k^q` is an irreducible rank-k tensor
(:math:`\sum_i [J_i, [J_i, O]] = k(k+1)O`) and vanishes for :math:`k > 2J`; the
coherent-state expectation :math:`\langle\hat n|O_k^q|\hat n\rangle` is proportional to
the Cartesian harmonic :math:`f_{kq}(\hat n)` written out independently in the test (this
fixes each :math:`O_k^q` relative to :math:`O_k^0`); the matrix elements for
:math:`J = 5/2` of the Okada group's crystal-field code (diag :math:`O_4^0 = (60, -180,
120, 120, -180, 60)`, :math:`\langle m\pm4|O_4^4|m\rangle = \sqrt{120\cdot24}/2`);
cubic invariance of :math:`O_4^0 + 5O_4^4` and :math:`O_6^0 - 21O_6^4` under the fourfold
and threefold rotations, with the Γ7 + Γ8 splitting :math:`360|B_4^0|` for :math:`J = 5/2`
(Lea, Leask & Wolf 1962) and the :math:`\Gamma_1 + \Gamma_3 + \Gamma_4 + \Gamma_5`
pattern for :math:`J = 4`; and the
spectra of the cubic operators in the frame with :math:`z \parallel [111]`
(:math:`-\tfrac23(O_4^0 - 20\sqrt2 O_4^3)`,
:math:`\tfrac{16}{9}(O_6^0 + \tfrac{35\sqrt2}{4}O_6^3 + \tfrac{77}{8}O_6^6)`, Hutchings 1964).
"""

from __future__ import annotations

import numbers
from fractions import Fraction
from functools import cache

import numpy as np

__all__ = [
    "MAX_TWO_J",
    "OPERATORS",
    "POLYNOMIALS",
    "angular_momentum",
    "dimension",
    "j_minus",
    "j_plus",
    "stevens_operator",
    "two_j",
]

#: Largest 2J accepted (J = 50): beyond it the integer polynomial coefficients times
#: :math:`J^{2k}` lose float64 precision in the cancellations of :math:`O_6^q`.
MAX_TWO_J = 100


def _p(*terms):
    """Polynomial in J_z whose coefficient of J_z^n is a polynomial in X = J(J+1).

    ``terms`` are ``(n, (c0, c1, c2, c3))``: coefficient of J_z^n is c0 + c1 X + c2 X² + c3 X³.
    """
    return tuple((n, tuple(coeffs)) for n, coeffs in terms)


#: :math:`P_{kq}(J_z)` for q ≥ 0 (the same polynomial serves :math:`O_k^{-q}`), as
#: ``{(k, q): ((power of J_z, (coefficients of 1, X, X², X³)), ...)}``; integers, exact.
POLYNOMIALS: dict[tuple[int, int], tuple[tuple[int, tuple[int, ...]], ...]] = {
    (2, 0): _p((2, (3,)), (0, (0, -1))),
    (2, 1): _p((1, (1,))),
    (2, 2): _p((0, (1,))),
    (4, 0): _p((4, (35,)), (2, (25, -30)), (0, (0, -6, 3))),
    (4, 1): _p((3, (7,)), (1, (-1, -3))),
    (4, 2): _p((2, (7,)), (0, (-5, -1))),
    (4, 3): _p((1, (1,))),
    (4, 4): _p((0, (1,))),
    (6, 0): _p((6, (231,)), (4, (735, -315)), (2, (294, -525, 105)), (0, (0, -60, 40, -5))),
    (6, 1): _p((5, (33,)), (3, (15, -30)), (1, (12, -10, 5))),
    (6, 2): _p((4, (33,)), (2, (-123, -18)), (0, (102, 10, 1))),
    (6, 3): _p((3, (11,)), (1, (-59, -3))),
    (6, 4): _p((2, (11,)), (0, (-38, -1))),
    (6, 5): _p((1, (1,))),
    (6, 6): _p((0, (1,))),
}

#: Every (k, q) available: k = 2, 4, 6 and -k ≤ q ≤ k (q < 0: sine type).
OPERATORS: tuple[tuple[int, int], ...] = tuple((k, q) for k in (2, 4, 6) for q in range(-k, k + 1))


def two_j(j) -> int:
    """2J as an int, for J a positive integer or half-integer (int, float, Fraction, str).

    Raises
    ------
    ValueError
        If J is not a positive multiple of 1/2, or 2J exceeds :data:`MAX_TWO_J`.
    """
    if isinstance(j, bool):
        raise ValueError(f"J must be a positive integer or half-integer, got {j!r}")
    try:
        twice = Fraction(j) * 2 if isinstance(j, str | numbers.Rational) else Fraction(float(j)) * 2
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"J must be a positive integer or half-integer, got {j!r}") from None
    if twice.denominator != 1 or twice <= 0:
        raise ValueError(f"J must be a positive integer or half-integer, got {j!r}")
    if twice > MAX_TWO_J:
        raise ValueError(f"J = {j!r} is too large: 2J ≤ {MAX_TWO_J} is supported")
    return int(twice)


def dimension(j) -> int:
    """Number of states 2J + 1."""
    return two_j(j) + 1


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


def _m_values(twice: int) -> np.ndarray:
    """M = J, J-1, ..., -J."""
    return (twice - 2 * np.arange(twice + 1)) / 2


@cache
def _j_plus(twice: int) -> np.ndarray:
    j = twice / 2
    m = _m_values(twice)
    # ⟨M+1|J+|M⟩ = √(J(J+1) − M(M+1)): row of M+1 is one above the column of M
    plus = np.diag(np.sqrt(j * (j + 1) - m[1:] * (m[1:] + 1)), k=1).astype(complex)
    return _read_only(plus)


@cache
def _angular_momentum(twice: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    plus = _j_plus(twice)
    minus = plus.T
    jx = (plus + minus) / 2
    jy = (plus - minus) / 2j
    jz = np.diag(_m_values(twice)).astype(complex)
    return _read_only(jx), _read_only(jy), _read_only(jz)


def j_plus(j) -> np.ndarray:
    r""":math:`J_+`, shape (2J+1, 2J+1), read-only (basis M = J … −J)."""
    return _j_plus(two_j(j))


def j_minus(j) -> np.ndarray:
    r""":math:`J_- = J_+^\dagger`, read-only."""
    return _j_plus(two_j(j)).T


def angular_momentum(j) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r""":math:`(J_x, J_y, J_z)` as complex read-only arrays in the basis M = J … −J.

    Parameters
    ----------
    j : int, float, Fraction or str
        Total angular momentum J (a positive multiple of 1/2).
    """
    return _angular_momentum(two_j(j))


def _polynomial(twice: int, k: int, q: int) -> np.ndarray:
    """Diagonal of :math:`P_{kq}(J_z)` (exact integer coefficients, evaluated in float64)."""
    j = Fraction(twice, 2)
    x = j * (j + 1)
    m = _m_values(twice)
    values = np.zeros(twice + 1)
    for power, coeffs in POLYNOMIALS[(k, q)]:
        coefficient = sum(c * x**i for i, c in enumerate(coeffs))
        values = values + float(coefficient) * m**power
    return values


def _from_polynomial(twice: int, k: int, q: int) -> np.ndarray:
    """The defining formula of :math:`O_k^q`, evaluated for any 2J (also k > 2J)."""
    p = np.diag(_polynomial(twice, k, abs(q))).astype(complex)
    if q == 0:
        return _read_only(p)
    plus = _j_plus(twice)
    plus_q = np.linalg.matrix_power(plus, abs(q))
    minus_q = plus_q.T
    if q > 0:
        s = plus_q + minus_q
        op = (p @ s + s @ p) / 4
    else:
        s = plus_q - minus_q
        op = -1j * (p @ s + s @ p) / 4
    return op


@cache
def _stevens(twice: int, k: int, q: int) -> np.ndarray:
    if k > twice:
        # No rank-k operator exists in a (2J+1)-dimensional space for k > 2J; the
        # formula gives zero up to rounding (checked in the tests): return exact zeros.
        return _read_only(np.zeros((twice + 1, twice + 1), dtype=complex))
    return _read_only(_from_polynomial(twice, k, q))


def stevens_operator(k: int, q: int, j) -> np.ndarray:
    r"""The Stevens operator :math:`O_k^q` for angular momentum J.

    Parameters
    ----------
    k : {2, 4, 6}
        Rank.
    q : int
        Component, :math:`-k \le q \le k`; :math:`q < 0` gives the sine-type operator.
    j : int, float, Fraction or str
        Total angular momentum J (positive multiple of 1/2, 2J ≤ :data:`MAX_TWO_J`).

    Returns
    -------
    numpy.ndarray
        Complex Hermitian, shape (2J+1, 2J+1), basis :math:`M = J, \dots, -J`; read-only
        and cached (built once per (2J, k, q)). Zero when :math:`k > 2J`.

    Raises
    ------
    ValueError
        For an unknown (k, q) or an invalid J.

    Examples
    --------
    >>> np.diag(stevens_operator(4, 0, 2.5)).real
    array([  60., -180.,  120.,  120., -180.,   60.])
    """
    if isinstance(k, bool) or isinstance(q, bool) or (int(k), int(q)) != (k, q):
        raise ValueError(f"k and q must be integers, got k={k!r}, q={q!r}")
    if (k, q) not in OPERATORS:
        raise ValueError(
            f"no Stevens operator O_{k}^{q}: k must be 2, 4 or 6 and -k ≤ q ≤ k "
            f"(available: {OPERATORS})"
        )
    return _stevens(two_j(j), int(k), int(q))
