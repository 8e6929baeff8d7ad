"""The Hermitian eigen-solver Ops against SciPy, finite differences and their own definitions.

Gradient checks run on PyTensor's Python linker (the Ops' NumPy ``perform``): the numba
kernels are the same source, and a separate test checks that the compiled numba
functions give the same values and gradients.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
import pytest
import scipy.linalg
from pytensor.compile.mode import Mode
from pytensor.gradient import verify_grad
from pytensor.link.numba.dispatch.basic import numba_funcify

from measurement_models import hermitian
from measurement_models.hermitian import (
    eigh,
    eigvalsh,
    hermitian_parts,
    reject_non_finite,
    thermal_average,
    transition_lines,
)

PYTHON = Mode(linker="py", optimizer="fast_run")


def random_hermitian(rng, n):
    z = rng.normal(size=(n, n)) + 1j * rng.normal(size=(n, n))
    return (z + z.conj().T) / 2


def parts(h):
    return hermitian_parts(h)


def kramers_like(rng, n_half):
    """H = A ⊗ I₂ for random Hermitian A: every level exactly doubly degenerate."""
    a = random_hermitian(rng, n_half)
    return np.kron(a, np.eye(2))


def check_grad(fun, point, rng, **kwargs):
    verify_grad(fun, point, rng=rng, mode=PYTHON, abs_tol=1e-6, rel_tol=1e-6, **kwargs)


# -- values -------------------------------------------------------------------------------


def test_eigh_matches_scipy_and_diagonalises():
    rng = np.random.default_rng(1)
    h = random_hermitian(rng, 5)
    w, v_re, v_im = eigh(*parts(h))
    np.testing.assert_allclose(w, scipy.linalg.eigvalsh(h), atol=1e-12)
    v = v_re + 1j * v_im
    np.testing.assert_allclose(h @ v, v * w, atol=1e-12)
    np.testing.assert_allclose(v.conj().T @ v, np.eye(5), atol=1e-12)
    largest = v[np.argmax(np.abs(v), axis=0), np.arange(5)]
    np.testing.assert_allclose(largest.imag, 0, atol=1e-14)
    assert np.all(largest.real > 0)


def test_inputs_are_symmetrised():
    """Only sym(X) + i·asym(Y) matters: a non-Hermitian pair gives the Hermitian part's levels."""
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(2, 4, 4))
    h = (x + x.T) / 2 + 1j * (y - y.T) / 2
    np.testing.assert_allclose(eigvalsh(x, y), np.linalg.eigvalsh(h), atol=1e-12)


def test_thermal_average_matches_matrix_exponential():
    rng = np.random.default_rng(3)
    h = random_hermitian(rng, 4)
    a = np.stack([random_hermitian(rng, 4) for _ in range(3)])
    beta = np.array([0.0, 0.3, 2.0, 40.0])
    got = thermal_average(*parts(h), *parts(a), beta)
    for t, b in enumerate(beta):
        rho = scipy.linalg.expm(-b * (h - np.linalg.eigvalsh(h)[0] * np.eye(4)))
        rho /= np.trace(rho).real
        for m in range(3):
            assert got[t, m] == pytest.approx(np.trace(a[m] @ rho).real, abs=1e-12)


def test_transition_lines_match_direct_evaluation():
    rng = np.random.default_rng(4)
    he, hg = random_hermitian(rng, 4), random_hermitian(rng, 2)
    t = rng.normal(size=(3, 4, 2)) + 1j * rng.normal(size=(3, 4, 2))
    positions, intensities = transition_lines(*parts(he), *parts(hg), *parts(t))
    we, ve = np.linalg.eigh(he)
    wg, vg = np.linalg.eigh(hg)
    np.testing.assert_allclose(positions, we[:, None] - wg[None, :], atol=1e-12)
    direct = sum(np.abs(ve.conj().T @ t[q] @ vg) ** 2 for q in range(3))
    np.testing.assert_allclose(intensities, direct, atol=1e-12)


def test_degenerate_lines_share_their_total():
    """Basis-independent intensities: the set total, shared equally within the set."""
    rng = np.random.default_rng(5)
    he = kramers_like(rng, 2)
    hg = np.zeros((2, 2))
    t = rng.normal(size=(2, 4, 2)) + 1j * rng.normal(size=(2, 4, 2))
    _, intensities = transition_lines(*parts(he), *parts(hg), *parts(t))
    _, ve = np.linalg.eigh(he)
    total = [
        sum(np.sum(np.abs(ve[:, s].conj().T @ t[q]) ** 2) for q in range(2))
        for s in (slice(0, 2), slice(2, 4))
    ]
    np.testing.assert_allclose(intensities[:2], total[0] / 4, atol=1e-12)
    np.testing.assert_allclose(intensities[2:], total[1] / 4, atol=1e-12)


def test_batched_call_equals_loop_and_broadcasts():
    rng = np.random.default_rng(6)
    hs = np.stack([random_hermitian(rng, 3) for _ in range(4)])
    a = np.stack([random_hermitian(rng, 3) for _ in range(2)])
    beta = np.array([0.5, 1.0])
    batched = thermal_average(*parts(hs), *parts(a), beta)  # a and beta broadcast
    assert batched.shape == (4, 2, 2)
    for k in range(4):
        np.testing.assert_allclose(batched[k], thermal_average(*parts(hs[k]), *parts(a), beta))
    x, y = pt.tensor3("x"), pt.tensor3("y")
    w = pytensor.function([x, y], eigvalsh(x, y))(*parts(hs))
    np.testing.assert_allclose(w, np.linalg.eigvalsh(hs), atol=1e-12)


# -- gradients ----------------------------------------------------------------------------


def gauge_invariant_eigh(weights):
    """Eigenvalues and |V_ai|² summed within degenerate sets (weights equal there)."""

    def fun(x, y):
        w, v_re, v_im = eigh(x, y)
        return pt.concatenate([w**2, ((v_re**2 + v_im**2) * weights).sum(axis=1)])

    return fun


def test_eigh_gradient_at_a_random_point():
    rng = np.random.default_rng(7)
    x, y = parts(random_hermitian(rng, 4))
    check_grad(gauge_invariant_eigh(rng.normal(size=(4, 4))), [x, y], rng)


def test_eigh_gradient_at_degenerate_levels_along_preserving_directions():
    """H(θ) = A(θ) ⊗ I₂: every level stays doubly degenerate; projector functions differentiate."""
    rng = np.random.default_rng(8)
    a0 = random_hermitian(rng, 3)
    a1 = random_hermitian(rng, 3)
    weights = np.repeat(rng.normal(size=(6, 3)), 2, axis=1)  # equal within each pair
    shift = np.diag([1.0, -1.0, 0.5])

    def observable(theta):
        real = pt.linalg.kron(
            pt.as_tensor(a0.real) + theta[0] * a1.real + theta[1] * shift, pt.eye(2)
        )
        imag = pt.linalg.kron(pt.as_tensor(a0.imag) + theta[0] * a1.imag, pt.eye(2))
        return gauge_invariant_eigh(weights)(real, imag)

    theta = np.array([0.0, 0.0])
    check_grad(observable, [theta], rng)
    w = eigvalsh(*parts(np.kron(a0, np.eye(2))))
    assert np.allclose(w[0::2], w[1::2], atol=1e-12)


def test_eigvalsh_gradient_of_symmetric_functions_in_every_direction():
    """At H = A ⊗ I₂, Σ_i f(λ_i) is smooth in every direction, also splitting ones."""
    rng = np.random.default_rng(9)
    x, y = parts(kramers_like(rng, 2))

    def fun(x, y):
        w = eigvalsh(x, y)
        return pt.stack([pt.exp(-w).sum(), (w**3).sum()])

    check_grad(fun, [x, y], rng)


def test_thermal_average_gradient_at_a_random_point():
    rng = np.random.default_rng(10)
    x, y = parts(random_hermitian(rng, 4))
    a_re, a_im = parts(np.stack([random_hermitian(rng, 4) for _ in range(2)]))
    beta = np.array([0.2, 1.5])
    check_grad(thermal_average, [x, y, a_re, a_im, beta], rng)


@pytest.mark.parametrize("where", ["all_equal", "doublets"])
def test_thermal_average_gradient_at_degenerate_levels_in_every_direction(where):
    """Daleckii–Krein: exact where levels coincide, also when the direction splits them
    (a field splitting a Kramers doublet: the Curie term)."""
    rng = np.random.default_rng(11)
    h = np.zeros((4, 4), complex) if where == "all_equal" else kramers_like(rng, 2)
    a_re, a_im = parts(np.stack([random_hermitian(rng, 4) for _ in range(2)]))
    beta = np.array([0.7, 3.0])
    check_grad(lambda x, y: thermal_average(x, y, a_re, a_im, beta), list(parts(h)), rng)


def test_thermal_average_susceptibility_of_a_free_doublet_is_curie():
    """d⟨σ_z⟩/dB at B = 0 for H = -B σ_z on an exact doublet equals β (the Curie law)."""
    b = pt.scalar("b")
    sz = np.diag([1.0, -1.0])
    avg = thermal_average(-b * sz, pt.zeros((2, 2)), sz[None], np.zeros((1, 2, 2)), [0.25])
    slope = pytensor.function([b], pytensor.grad(avg.sum(), b), mode=PYTHON)(0.0)
    assert slope == pytest.approx(0.25, rel=1e-12)


def test_transition_lines_gradient_at_a_random_point():
    rng = np.random.default_rng(12)
    he, hg = random_hermitian(rng, 4), random_hermitian(rng, 2)
    t = rng.normal(size=(3, 4, 2)) + 1j * rng.normal(size=(3, 4, 2))

    def fun(*args):
        positions, intensities = transition_lines(*args)
        return pt.concatenate([positions.ravel(), intensities.ravel()])

    check_grad(fun, [*parts(he), *parts(hg), *parts(t)], rng)


def test_transition_lines_gradient_at_degenerate_levels_along_preserving_directions():
    rng = np.random.default_rng(13)
    a0, a1 = random_hermitian(rng, 2), random_hermitian(rng, 2)
    t = rng.normal(size=(3, 4, 2)) + 1j * rng.normal(size=(3, 4, 2))

    def fun(theta):
        a = pt.as_tensor(a0.real) + theta[0] * a1.real
        he_re = pt.linalg.kron(a, pt.eye(2))
        he_im = pt.linalg.kron(pt.as_tensor(a0.imag) + theta[0] * a1.imag, pt.eye(2))
        hg_re = theta[1] * pt.eye(2)  # the ground doublet stays degenerate
        hg_im = pt.zeros((2, 2))
        positions, intensities = transition_lines(he_re, he_im, hg_re, hg_im, *parts(t))
        return pt.concatenate([positions.ravel(), intensities.ravel()])

    check_grad(fun, [np.array([0.3, 0.2])], rng)


# -- backends and failures ----------------------------------------------------------------


def test_numba_implementation_is_registered_and_agrees_with_python():
    for op in (
        hermitian.EighOp,
        hermitian.EighVJPOp,
        hermitian.ThermalAverageOp,
        hermitian.ThermalAverageVJPOp,
        hermitian.TransitionLinesOp,
        hermitian.TransitionLinesVJPOp,
    ):
        assert numba_funcify.dispatch(op) is not numba_funcify.dispatch(object)
    rng = np.random.default_rng(14)
    h = np.stack([random_hermitian(rng, 4), kramers_like(rng, 2)])
    a = np.stack([random_hermitian(rng, 4) for _ in range(2)])
    x, y = pt.tensor3("x"), pt.tensor3("y")
    avg = thermal_average(x, y, *parts(a), np.array([0.5, 2.0]))
    outputs = [avg, *pytensor.grad(avg.sum() + eigvalsh(x, y)[..., 0].sum(), [x, y])]
    numba_values = pytensor.function([x, y], outputs, mode="NUMBA")(*parts(h))
    python_values = pytensor.function([x, y], outputs, mode=PYTHON)(*parts(h))
    for got, expected in zip(numba_values, python_values, strict=True):
        np.testing.assert_allclose(got, expected, atol=1e-12)


def test_failed_solve_gives_nan_and_minus_infinity_log_density():
    nan = np.full((2, 2), np.nan)
    assert np.isnan(eigvalsh(nan, np.zeros((2, 2)))).all()
    positions, intensities = transition_lines(
        nan, nan, np.zeros((2, 2)), np.zeros((2, 2)), np.ones((1, 2, 2)), np.zeros((1, 2, 2))
    )
    assert np.isnan(positions).all() and np.isnan(intensities).all()
    with pm.Model() as model:
        scale = pm.Normal("scale")
        h = pt.stack([pt.stack([scale, pt.log(scale)]), pt.stack([pt.log(scale), 0.0])])
        level = reject_non_finite(eigvalsh(h, pt.zeros((2, 2))), "solver_failed")
        pm.Normal("y", mu=level, sigma=1.0, observed=[0.0, 0.0])
    logp = model.compile_logp()
    assert np.isfinite(logp({"scale": 1.0}))
    assert logp({"scale": -1.0}) == -np.inf  # log(-1) = NaN in H: the solve fails


def test_bad_shapes_are_rejected():
    with pytest.raises(ValueError, match="square"):
        eigh(np.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="two dimensions"):
        eigvalsh(np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match="inverse temperatures"):
        thermal_average(
            np.zeros((2, 2)), np.zeros((2, 2)), np.zeros((1, 2, 2)), np.zeros((1, 2, 2)), [-1.0]
        )
