"""Stevens operators against properties and numbers that do not come from the module.

Independent references used here: the angular-momentum algebra; the defining property of
an irreducible rank-k tensor operator (Casimir double commutator); the Cartesian
harmonics f_kq(x, y, z) of Hutchings (1964), written out below and checked to be harmonic;
the closed form ⟨J,J|O_k^0|J,J⟩ = f_k0(ẑ) (2J)!/(2^k (2J−k)!) (it vanishes for k > 2J, as
no rank-k operator exists there); the matrix elements for J = 5/2 of the Okada group's
crystal-field code (Hutchings 1964); the cubic degeneracies of Lea, Leask & Wolf (1962)
and the threefold-axis form of the cubic operators (Hutchings 1964); cubic invariance
under explicit rotation matrices expm(−iθ n·J).
"""

from __future__ import annotations

from fractions import Fraction
from math import factorial

import numpy as np
import pytest
from scipy.linalg import expm

from measurement_models import stevens
from measurement_models.stevens import (
    OPERATORS,
    angular_momentum,
    j_minus,
    j_plus,
    stevens_operator,
)

SOME_J = [0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 6, 7.5, 8]


def commutator(a, b):
    return a @ b - b @ a


def rotation(j, axis, angle):
    """exp(−i angle n·J), n the unit vector along ``axis``."""
    n = np.asarray(axis, dtype=float) / np.linalg.norm(axis)
    jx, jy, jz = angular_momentum(j)
    return expm(-1j * angle * (n[0] * jx + n[1] * jy + n[2] * jz))


# --- angular momentum ---------------------------------------------------------------------


@pytest.mark.parametrize("j", SOME_J)
def test_angular_momentum_algebra(j):
    jx, jy, jz = angular_momentum(j)
    n = int(2 * j + 1)
    assert jx.shape == (n, n)
    for a in (jx, jy, jz):
        np.testing.assert_allclose(a, a.conj().T, atol=1e-14)
    np.testing.assert_allclose(commutator(jx, jy), 1j * jz, atol=1e-12)
    np.testing.assert_allclose(commutator(jy, jz), 1j * jx, atol=1e-12)
    np.testing.assert_allclose(commutator(jz, jx), 1j * jy, atol=1e-12)
    np.testing.assert_allclose(jx @ jx + jy @ jy + jz @ jz, j * (j + 1) * np.eye(n), atol=1e-12)
    # basis ordered M = J, J-1, ..., -J; J+ raises M
    np.testing.assert_allclose(np.diag(jz).real, np.arange(j, -j - 0.5, -1))
    np.testing.assert_allclose(j_plus(j), jx + 1j * jy, atol=1e-14)
    np.testing.assert_allclose(j_minus(j), jx - 1j * jy, atol=1e-14)
    if n > 1:  # ⟨J|J+|J-1⟩ = √(2J)
        assert j_plus(j)[0, 1] == pytest.approx(np.sqrt(2 * j))


def test_arrays_are_cached_and_read_only():
    a = stevens_operator(4, 4, 2.5)
    assert a is stevens_operator(4, 4, Fraction(5, 2)) is stevens_operator(4, 4, "5/2")
    for array in (a, *angular_momentum(2.5), j_plus(2.5), j_minus(2.5)):
        with pytest.raises(ValueError, match="read-only"):
            array[0, 0] = 1.0


# --- the Stevens operators ---------------------------------------------------------------


def time_reversal(j):
    """U of Θ = U K in the |J, M⟩ basis: Θ|J, M⟩ = (−1)^(J−M) |J, −M⟩."""
    n = int(2 * j + 1)
    u = np.zeros((n, n))
    for i in range(n):  # column i is M = J − i; it maps to −M, row n − 1 − i
        u[n - 1 - i, i] = (-1) ** i
    return u


@pytest.mark.parametrize("j", SOME_J)
def test_hermitian_and_time_reversal_even(j):
    u = time_reversal(j)
    for a in angular_momentum(j):  # Θ J Θ⁻¹ = −J: checks U
        np.testing.assert_allclose(u @ a.conj() @ u.T, -a, atol=1e-12)
    for k, q in OPERATORS:
        o = stevens_operator(k, q, j)
        scale = max(1.0, np.abs(o).max())
        np.testing.assert_allclose(o, o.conj().T, atol=1e-13 * scale, err_msg=f"O_{k}^{q}")
        np.testing.assert_allclose(u @ o.conj() @ u.T, o, atol=1e-12 * scale)


@pytest.mark.parametrize("j", [3, 3.5, 4, 6, 7.5])
def test_every_operator_is_an_irreducible_rank_k_tensor(j):
    """Σ_i [J_i, [J_i, O]] = k(k+1) O holds for every component of a rank-k tensor
    operator; it fixes the lower-order terms of each polynomial given the leading one."""
    js = angular_momentum(j)
    for k, q in OPERATORS:
        o = stevens_operator(k, q, j)
        casimir = sum(commutator(a, commutator(a, o)) for a in js)
        np.testing.assert_allclose(
            casimir, k * (k + 1) * o, atol=1e-10 * np.abs(o).max(), err_msg=f"O_{k}^{q}"
        )


def test_formula_vanishes_where_no_rank_k_operator_exists():
    """For k > 2J the defining polynomial must give zero by itself: a sharp check of its
    lower-order coefficients (e.g. every O_6^q for J = 1/2 … 5/2)."""
    for twice in range(1, 6):
        for k, q in OPERATORS:
            if k > twice:
                formula = stevens._from_polynomial(twice, k, q)
                scale = twice**k * 300.0  # size of the individual terms
                assert np.abs(formula).max() < 1e-12 * scale, (twice, k, q)
                assert not np.any(stevens_operator(k, q, Fraction(twice, 2)))


def test_top_diagonal_element_closed_form():
    """⟨J,J|O_k^0|J,J⟩ = f_k0(ẑ) (2J)!/(2^k (2J−k)!), f_k0(ẑ) = 2, 8, 16; this and the
    rank-k property fix the normalisation of O_k^0 completely."""
    for twice in range(1, 31):
        j = Fraction(twice, 2)
        for k, top in ((2, 2), (4, 8), (6, 16)):
            expected = top * factorial(twice) / (2**k * factorial(twice - k)) if twice >= k else 0
            assert stevens_operator(k, 0, j)[0, 0].real == pytest.approx(expected, abs=1e-9)


def test_published_matrix_elements_for_j_five_halves():
    """Ce³⁺, J = 5/2: the elements of Hutchings (1964) and of the Okada group's code."""
    np.testing.assert_allclose(
        np.diag(stevens_operator(4, 0, 2.5)).real, [60, -180, 120, 120, -180, 60]
    )
    np.testing.assert_allclose(
        np.diag(stevens_operator(2, 0, 2.5)).real, 3 * np.arange(2.5, -3, -1) ** 2 - 35 / 4
    )
    o44 = stevens_operator(4, 4, 2.5)
    expected = np.zeros((6, 6))
    for i in (0, 1):  # M = 5/2 ↔ −3/2 and 3/2 ↔ −5/2
        expected[i, i + 4] = expected[i + 4, i] = np.sqrt(120 * 24) / 2
    np.testing.assert_allclose(o44, expected, atol=1e-12)


# Cartesian harmonics (Hutchings 1964, table of operator equivalents): O_k^q ↔
# P_kq(z, r²) Re(x + iy)^q, O_k^-q ↔ P_kq(z, r²) Im(x + iy)^q.
RADIAL = {
    (2, 0): lambda z, r2: 3 * z**2 - r2,
    (2, 1): lambda z, r2: z,
    (2, 2): lambda z, r2: 1.0,
    (4, 0): lambda z, r2: 35 * z**4 - 30 * z**2 * r2 + 3 * r2**2,
    (4, 1): lambda z, r2: 7 * z**3 - 3 * z * r2,
    (4, 2): lambda z, r2: 7 * z**2 - r2,
    (4, 3): lambda z, r2: z,
    (4, 4): lambda z, r2: 1.0,
    (6, 0): lambda z, r2: 231 * z**6 - 315 * z**4 * r2 + 105 * z**2 * r2**2 - 5 * r2**3,
    (6, 1): lambda z, r2: 33 * z**5 - 30 * z**3 * r2 + 5 * z * r2**2,
    (6, 2): lambda z, r2: 33 * z**4 - 18 * z**2 * r2 + r2**2,
    (6, 3): lambda z, r2: 11 * z**3 - 3 * z * r2,
    (6, 4): lambda z, r2: 11 * z**2 - r2,
    (6, 5): lambda z, r2: z,
    (6, 6): lambda z, r2: 1.0,
}


def harmonic(k, q, x, y, z):
    r2 = x**2 + y**2 + z**2
    w = (x + 1j * y) ** abs(q)
    return RADIAL[(k, abs(q))](z, r2) * (w.real if q >= 0 else w.imag)


def test_cartesian_harmonics_are_harmonic():
    """The references themselves: every f_kq has zero Laplacian (finite differences)."""
    rng = np.random.default_rng(0)
    h = 1e-3
    for k, q in OPERATORS:
        for x, y, z in rng.normal(size=(3, 3)):
            lap = (
                sum(
                    harmonic(k, q, *(np.array([x, y, z]) + h * e))
                    + harmonic(k, q, *(np.array([x, y, z]) - h * e))
                    - 2 * harmonic(k, q, x, y, z)
                    for e in np.eye(3)
                )
                / h**2
            )
            scale = 300 * (x**2 + y**2 + z**2) ** (k / 2 - 1)
            assert abs(lap) < 1e-4 * scale, (k, q, lap)


@pytest.mark.parametrize("j", [3, 3.5, 4, 6])
def test_coherent_state_expectations_follow_the_cartesian_harmonics(j):
    """In the spin coherent state |n⟩ = e^{−iφJz} e^{−iθJy}|J, J⟩ only the q' = 0 part of
    the rotated rank-k tensor survives, so ⟨n|O_k^q|n⟩ / ⟨J,J|O_k^0|J,J⟩ = f_kq(n)/f_k0(ẑ)
    exactly: this fixes every O_k^q (q ≠ 0, sine types too) relative to O_k^0."""
    _, jy, jz = angular_momentum(j)
    top = np.zeros(int(2 * j + 1), dtype=complex)
    top[0] = 1.0
    rng = np.random.default_rng(1)
    for _ in range(4):
        theta, phi = np.arccos(rng.uniform(-1, 1)), rng.uniform(0, 2 * np.pi)
        state = expm(-1j * phi * jz) @ expm(-1j * theta * jy) @ top
        n = (np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), np.cos(theta))
        np.testing.assert_allclose(state.conj() @ jz @ state, j * n[2], atol=1e-12)
        for k, q in OPERATORS:
            o = stevens_operator(k, q, j)
            top_element = stevens_operator(k, 0, j)[0, 0].real
            ratio = (state.conj() @ o @ state).real / top_element
            expected = harmonic(k, q, *n) / harmonic(k, 0, 0.0, 0.0, 1.0)
            assert ratio == pytest.approx(expected, abs=1e-10), (k, q)


def cubic(j, b4=1.0, b6=0.0):
    return b4 * (stevens_operator(4, 0, j) + 5 * stevens_operator(4, 4, j)) + b6 * (
        stevens_operator(6, 0, j) - 21 * stevens_operator(6, 4, j)
    )


def multiplicities(values, tol=1e-8):
    scale = max(1.0, np.abs(values).max())
    groups = np.split(values, np.flatnonzero(np.diff(values) > tol * scale) + 1)
    return [len(g) for g in groups], np.array([g.mean() for g in groups])


@pytest.mark.parametrize("j", [2.5, 3.5, 4, 6, 7.5])
def test_cubic_operators_are_invariant_under_the_cube_rotations(j):
    for b4, b6 in ((1.0, 0.0), (0.0, 1.0), (0.3, 0.02)):
        h = cubic(j, b4, b6)
        for axis, angle in (
            ((1, 0, 0), np.pi / 2),
            ((0, 1, 0), np.pi / 2),
            ((1, 1, 1), 2 * np.pi / 3),
        ):
            r = rotation(j, axis, angle)
            np.testing.assert_allclose(r @ h @ r.conj().T, h, atol=1e-9 * np.abs(h).max())
    # a non-cubic mixture is not invariant (the check can fail)
    h = stevens_operator(4, 0, j) + 4 * stevens_operator(4, 4, j)
    r = rotation(j, (1, 1, 1), 2 * np.pi / 3)
    assert np.abs(r @ h @ r.conj().T - h).max() > 1e-3 * np.abs(h).max()


@pytest.mark.parametrize("b4", [0.1167, -0.3, 1.0])
def test_cerium_cubic_doublet_and_quartet(b4):
    """J = 5/2, H = B40 (O40 + 5 O44): Γ7 doublet and Γ8 quartet split by 360|B40|
    (Γ7 at −240 B40 below Γ8 at +120 B40 for B40 > 0)."""
    counts, levels = multiplicities(np.linalg.eigvalsh(cubic(2.5, b4)))
    assert sorted(counts) == [2, 4]
    assert levels[-1] - levels[0] == pytest.approx(360 * abs(b4))
    assert counts[0] == (2 if b4 > 0 else 4)
    assert sorted(levels / b4) == pytest.approx([-240, 120])


@pytest.mark.parametrize(("b4", "b6"), [(1.0, 0.0), (0.0, 1.0), (0.05, 0.002), (-0.05, 0.004)])
def test_j_four_cubic_singlet_doublet_two_triplets(b4, b6):
    counts, _ = multiplicities(np.linalg.eigvalsh(cubic(4, b4, b6)))
    assert sorted(counts) == [1, 2, 3, 3]


@pytest.mark.parametrize("j", [3.5, 4, 6, 7.5])
def test_cubic_operators_about_the_threefold_axis(j):
    """Hutchings (1964): with z ∥ [111], O40 + 5 O44 → −(2/3)(O40 − 20√2 O43) and
    O60 − 21 O64 → (16/9)(O60 + (35√2/4) O63 + (77/8) O66): the same spectra. This fixes
    the normalisation of O43, O63 and O66 against O40, O60."""
    o = lambda k, q: stevens_operator(k, q, j)  # noqa: E731
    pairs = (
        (cubic(j, 1, 0), -2 / 3 * (o(4, 0) - 20 * np.sqrt(2) * o(4, 3))),
        (cubic(j, 0, 1), 16 / 9 * (o(6, 0) + 35 * np.sqrt(2) / 4 * o(6, 3) + 77 / 8 * o(6, 6))),
    )
    for a, b in pairs:
        scale = np.abs(a).max()
        np.testing.assert_allclose(np.linalg.eigvalsh(a), np.linalg.eigvalsh(b), atol=1e-9 * scale)
    # negative control: a wrong coefficient changes the spectrum
    wrong = 16 / 9 * (o(6, 0) + 35 * np.sqrt(2) / 4 * o(6, 3) + 8 * o(6, 6))
    assert np.abs(np.linalg.eigvalsh(cubic(j, 0, 1)) - np.linalg.eigvalsh(wrong)).max() > 1.0


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize("j", [0, -1, 1.3, float("nan"), float("inf"), "x", None, True, 51])
def test_invalid_j_is_rejected(j):
    with pytest.raises(ValueError, match="J"):
        stevens_operator(2, 0, j)
    with pytest.raises(ValueError, match="J"):
        angular_momentum(j)


@pytest.mark.parametrize(("k", "q"), [(3, 0), (2, 3), (4, -5), (8, 0), (2.5, 0), (True, 0)])
def test_unknown_operator_is_rejected(k, q):
    with pytest.raises(ValueError, match="k"):
        stevens_operator(k, q, 2.5)
