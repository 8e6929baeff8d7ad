"""The core-level cluster-model solver against SciPy, NumPy and finite differences."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from scipy.special import voigt_profile as scipy_voigt

from measurement_models import core_level

# Mototake et al., J. Phys. Soc. Jpn. 88, 034004 (2019), Ce 3d: the three-configuration
# parameters of the paper's table (Δ = 12.5 eV row).
V, U_FF, U_FC, DELTA = 0.76, 10.5, 12.5, 12.5


def _ce_matrices(delta, v, u_ff, u_fc):
    """The Ce 3d matrices written out by hand (Mototake et al. 2019)."""
    a, b = np.sqrt(14) * v, np.sqrt(26) * v
    h_i = np.array([[0, a, 0], [a, delta, b], [0, b, 2 * delta + u_ff]])
    h_f = np.array([[0, a, 0], [a, delta - u_fc, b], [0, b, 2 * delta + u_ff - 2 * u_fc]])
    return h_i, h_f


@pytest.mark.parametrize(
    ("sigma", "gamma"), [(0.3, 1.0), (0.3, 0.3), (1.0, 0.3), (1.0, 0.01), (0.01, 2.0)]
)
def test_voigt_equals_scipy_for_every_width_ratio(sigma, gamma):
    x = np.linspace(-30, 30, 2001)
    ours = core_level.voigt_profile(x, sigma, gamma)
    reference = scipy_voigt(x, sigma, gamma)
    assert np.max(np.abs(ours - reference)) < 1e-12 * reference.max()


def test_voigt_without_resolution_is_the_lorentzian():
    x = np.linspace(-5, 5, 101)
    assert np.allclose(core_level.voigt_profile(x, None, 0.4), scipy_voigt(x, 0.0, 0.4))


def test_hamiltonian_is_the_tridiagonal_chain():
    h = core_level.charge_transfer_hamiltonian([0.0, 2.0, 5.0], [0.5, 0.7])
    expected = np.array([[0, 0.5, 0], [0.5, 2.0, 0.7], [0, 0.7, 5.0]])
    assert np.array_equal(h, expected)
    batch = core_level.charge_transfer_hamiltonian(np.zeros((4, 2)), np.ones((4, 1)))
    assert batch.shape == (4, 2, 2)


def test_ce_check_energies_of_the_paper_and_numpy():
    h_i = core_level.charge_transfer_hamiltonian(
        [0, DELTA, 2 * DELTA + U_FF], [np.sqrt(14) * V, np.sqrt(26) * V]
    )
    h_f = core_level.charge_transfer_hamiltonian(
        [0, DELTA - U_FC, 2 * DELTA + U_FF - 2 * U_FC], [np.sqrt(14) * V, np.sqrt(26) * V]
    )
    positions, weights = core_level.xps_lines(h_i, h_f)
    # The paper's table, to its printed precision.
    assert np.allclose(positions, [-2.8, 2.72, 12.48], atol=0.005)
    # NumPy, independently.
    m_i, m_f = _ce_matrices(DELTA, V, U_FF, U_FC)
    e_i, v_i = np.linalg.eigh(m_i)
    e_f, v_f = np.linalg.eigh(m_f)
    assert np.allclose(positions, e_f - e_i[0], atol=1e-12)
    assert np.allclose(weights, (v_f.T @ v_i[:, 0]) ** 2, atol=1e-12)
    assert np.isclose(weights.sum(), 1.0)


def test_xas_lines_equal_numpy_for_a_rectangular_transition():
    rng = np.random.default_rng(3)
    h_i = core_level.charge_transfer_hamiltonian([0.0, 3.0, 13.0], [2.8, 2.8])
    h_f = core_level.charge_transfer_hamiltonian([0.0, 2.0], [2.0])
    transition = rng.normal(size=(2, 3))
    positions, weights = core_level.xas_lines(h_i, h_f, transition)
    e_i, v_i = np.linalg.eigh(h_i)
    e_f, v_f = np.linalg.eigh(h_f)
    assert np.allclose(positions, e_f - e_i[0])
    assert np.allclose(weights, (v_f.T @ transition @ v_i[:, 0]) ** 2)


def test_broadened_spectrum_area_and_spin_orbit_copy():
    energy = np.linspace(-200, 230, 43001)
    positions, weights = np.array([-2.0, 3.0]), np.array([0.6, 0.4])
    single = core_level.broadened_spectrum(energy, positions, weights, 0.5, resolution=0.3)
    both = core_level.broadened_spectrum(
        energy, positions, weights, 0.5, 0.3, spin_orbit=(17.0, 0.5)
    )
    step = energy[1] - energy[0]
    # Lorentzian tails beyond ±200 eV hold 2Γ/(π·200) of the area.
    assert np.isclose(single.sum() * step, 1.0, atol=2e-3)
    assert np.isclose(both.sum() * step, 1.5, atol=3e-3)
    shifted = core_level.broadened_spectrum(energy, positions + 17.0, weights, 0.5, 0.3)
    assert np.allclose(both, single + 0.5 * shifted)


def test_batched_spectrum_equals_the_loop():
    energy = np.linspace(-5, 15, 81)
    diag = np.array([[0.0, 4.0, 12.0], [0.0, 5.0, 13.0]])
    hop = np.array([[2.0, 2.0], [2.5, 2.5]])
    h_i = core_level.charge_transfer_hamiltonian(diag, hop)
    h_f = core_level.charge_transfer_hamiltonian(diag - [0, 8.0, 16.0], hop)
    positions, weights = core_level.xps_lines(h_i, h_f)
    batch = core_level.broadened_spectrum(energy, positions, weights, np.array([0.4, 0.6]), 0.2)
    for k, gamma in enumerate((0.4, 0.6)):
        one = core_level.broadened_spectrum(
            energy, *core_level.xps_lines(h_i[k], h_f[k]), gamma, 0.2
        )
        assert np.allclose(batch[k], one)


def test_symbolic_spectrum_and_gradient_against_numpy_and_finite_differences():
    """Lorentzian lines keep the compiled graph small (the Voigt graph compiles for tens of
    seconds); the Voigt graph and its gradient are checked in test_ce_xps.py."""
    energy = np.linspace(-8, 18, 131)
    theta = pt.dvector("theta")

    def spectrum(delta, v, u_ff, u_fc, gamma, xp):
        stack = (lambda values: pt.stack(values, axis=-1)) if xp is pt else np.array
        hop = stack([np.sqrt(14) * v, np.sqrt(26) * v])
        h_i = core_level.charge_transfer_hamiltonian(stack([0 * v, delta, 2 * delta + u_ff]), hop)
        h_f = core_level.charge_transfer_hamiltonian(
            stack([0 * v, delta - u_fc, 2 * delta + u_ff - 2 * u_fc]), hop
        )
        return core_level.broadened_spectrum(
            energy, *core_level.xps_lines(h_i, h_f), gamma, resolution=None
        )

    weights = np.random.default_rng(0).normal(size=energy.size)
    graph = (spectrum(*(theta[k] for k in range(5)), pt) * weights).sum()
    function = pytensor.function([theta], [graph, pytensor.grad(graph, theta)])
    point = np.array([DELTA, V, U_FF, U_FC, 0.7])
    value, gradient = function(point)

    def numpy_value(p):
        return float((spectrum(*p, np) * weights).sum())

    assert np.isclose(value, numpy_value(point), rtol=1e-12)
    step = 1e-6
    finite = [
        (numpy_value(point + step * e) - numpy_value(point - step * e)) / (2 * step)
        for e in np.eye(5)
    ]
    assert np.allclose(gradient, finite, rtol=1e-6, atol=1e-8)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="needs 2 couplings"):
        core_level.charge_transfer_hamiltonian([0.0, 1.0, 2.0], [1.0])
    h3 = core_level.charge_transfer_hamiltonian([0.0, 1.0, 2.0], [1.0, 1.0])
    h2 = core_level.charge_transfer_hamiltonian([0.0, 1.0], [1.0])
    with pytest.raises(ValueError, match="same configuration basis"):
        core_level.xps_lines(h3, h2)
    with pytest.raises(ValueError, match="shape \\(2, 3\\)"):
        core_level.xas_lines(h3, h2, np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"must be a \(\.\.\., m, m\) array"):
        core_level.xps_lines(np.ones((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="energy grid"):
        core_level.broadened_spectrum([np.nan, 1.0], [0.0], [1.0], 0.5)
    with pytest.raises(ValueError, match="resolution"):
        core_level.broadened_spectrum([0.0, 1.0], [0.0], [1.0], 0.5, resolution=-1.0)
    with pytest.raises(ValueError, match="spin_orbit"):
        core_level.broadened_spectrum([0.0, 1.0], [0.0], [1.0], 0.5, spin_orbit=(17.0, -1.0))


def test_failed_solve_gives_nan_not_a_crash():
    h = np.array([[np.nan, 0.0], [0.0, 1.0]])
    positions, weights = core_level.xps_lines(h, h)
    assert np.all(np.isnan(positions)) and np.all(np.isnan(weights))
