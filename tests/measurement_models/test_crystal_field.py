"""Crystal-field observables against an independent NumPy implementation and analytic limits.

Independent references: the J = 5/2 matrices are built here from J± and the published
matrix elements (Hutchings 1964; the same as in the Okada group's code), diagonalised
with ``numpy.linalg.eigh``; the specific heat is checked against the two-level Schottky
closed form, the entropy against
−∂F/∂T by finite differences and its limits R ln(2J+1) and R ln 2, the susceptibility
against the zero-field Kubo–Van Vleck sum and the Curie constant from CODATA constants,
the powder mean against the exact average over a spherical 2-design (tetrahedron
directions), the Landé factors against the textbook table.
"""

from __future__ import annotations

from fractions import Fraction
from functools import partial

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
import pytest
import xarray as xr
from pytensor.gradient import verify_grad

from measurement_models import crystal_field as cf
from measurement_models.integration import Measurement, integrated_model
from measurement_models.parameters import transformed_point

R = 8.31441  # J/mol/K, the authors' gas constant
MU_B_K = 0.671714  # μ_B/k_B in K/T
# CODATA 2018, cgs: N_A, μ_B (erg/G), k_B (erg/K)
N_A, MU_B_CGS, K_B_CGS = 6.02214076e23, 9.2740100783e-21, 1.380649e-16
G_CE = 6 / 7
T_GRID = np.array([0.2, 0.7, 2.0, 5.0, 11.0, 20.0, 35.0, 70.0, 150.0])
CUBIC = {"B40": 0.1167}
TETRAGONAL = {"B20": 0.381, "B40": 0.165, "B44": 0.447}
FAST = pytensor.compile.mode.get_mode("FAST_COMPILE")  # Python perform: no numba compile


# --- an independent implementation (J = 5/2 only) ----------------------------------------


def j_matrices(j=2.5):
    m = np.arange(j, -j - 1, -1)  # M = J … −J
    plus = np.zeros((m.size, m.size))
    for col in range(1, m.size):  # J+|M⟩ = √(J(J+1) − M(M+1)) |M+1⟩, row col−1
        plus[col - 1, col] = np.sqrt(j * (j + 1) - m[col] * (m[col] + 1))
    minus = plus.T
    return (plus + minus) / 2, (plus - minus) / 2j, np.diag(m), plus, minus, m


def reference_hamiltonian(b20=0.0, b40=0.0, b44=0.0, cubic=False):
    """Ce³⁺ (J = 5/2) H_CF from the published O40 diagonal and textbook O20, O44."""
    _, _, jz, plus, minus, _ = j_matrices()
    o20 = 3 * jz @ jz - 35 / 4 * np.eye(6)
    o40 = np.diag([60.0, -180, 120, 120, -180, 60])
    o44 = (np.linalg.matrix_power(plus, 4) + np.linalg.matrix_power(minus, 4)) / 2
    assert o44[0, 4] == pytest.approx(np.sqrt(120 * 24) / 2)
    if cubic:
        return b40 * (o40 + 5 * o44)
    return b20 * o20 + b40 * o40 + b44 * o44


def reference_thermodynamics(h, t):
    """C (J/mol/K) as R(⟨E²⟩ − ⟨E⟩²)/T² and F/R = −T ln Z (K), from numpy eigvalsh."""
    e = np.linalg.eigvalsh(h)
    e0 = e.min()
    w = np.exp(-(e - e0)[None, :] / t[:, None])  # (t, n)
    z = w.sum(axis=1)
    mean_e = (w * (e - e0)).sum(axis=1) / z
    mean_e2 = (w * (e - e0) ** 2).sum(axis=1) / z
    c = R * (mean_e2 - mean_e**2) / t**2
    free = e0 - t * np.log(z)
    return c, free


def reference_magnetisation(h, t, field, n):
    jx, jy, jz, *_ = j_matrices()
    nj = n[0] * jx + n[1] * jy + n[2] * jz
    e, v = np.linalg.eigh(h + G_CE * MU_B_K * field * nj)
    expect = np.einsum("ai,ab,bi->i", v.conj(), -G_CE * nj, v).real
    p = np.exp(-(e - e.min())[None, :] / t[:, None])
    return (p * expect).sum(axis=1) / p.sum(axis=1)


def van_vleck_susceptibility(h, t, n):
    """Zero-field χ (emu/mol): Σ_ij |⟨i|μ|j⟩|² (p_i − p_j)/(E_j − E_i), → β p_i within
    a degenerate level; μ = g n·J in μ_B, field energy in K per tesla μ_B/k_B."""
    jx, jy, jz, *_ = j_matrices()
    e, v = np.linalg.eigh(h)
    mu = v.conj().T @ (G_CE * (n[0] * jx + n[1] * jy + n[2] * jz)) @ v
    out = []
    for temperature in t:
        p = np.exp(-(e - e.min()) / temperature)
        p /= p.sum()
        de = e[None, :] - e[:, None]
        same = np.abs(de) < 1e-9
        kernel = np.where(same, p[:, None] / temperature, (p[:, None] - p[None, :]) / (de + same))
        out.append(np.sum(np.abs(mu) ** 2 * kernel))
    return 0.5585 * MU_B_K * np.array(out)  # M/B in μ_B per tesla → emu/mol


# --- ions, parameters, Hamiltonian -------------------------------------------------------


def test_lande_factors_against_the_textbook_table():
    table = {
        "Ce3+": (Fraction(5, 2), Fraction(6, 7)),
        "Pr3+": (4, Fraction(4, 5)),
        "Nd3+": (Fraction(9, 2), Fraction(8, 11)),
        "Sm3+": (Fraction(5, 2), Fraction(2, 7)),
        "Tb3+": (6, Fraction(3, 2)),
        "Dy3+": (Fraction(15, 2), Fraction(4, 3)),
        "Ho3+": (8, Fraction(5, 4)),
        "Er3+": (Fraction(15, 2), Fraction(6, 5)),
        "Tm3+": (6, Fraction(7, 6)),
        "Yb3+": (Fraction(7, 2), Fraction(8, 7)),
    }
    for name, (j, g) in table.items():
        assert cf.IONS[name].j == j
        assert cf.IONS[name].g == pytest.approx(float(g), abs=1e-15)
    # an Ion given directly works like the named one
    custom = cf.Ion("my Ce", Fraction(5, 2), 6 / 7)
    np.testing.assert_allclose(
        cf.susceptibility(T_GRID, ion=custom, **CUBIC),
        cf.susceptibility(T_GRID, ion="Ce3+", **CUBIC),
    )


def test_parameter_names_drop_terms_beyond_rank_2j():
    assert cf.parameter_names("Ce3+", "cubic") == ["B40"]
    assert cf.parameter_names("Ce3+", "tetragonal") == ["B20", "B40", "B44"]
    assert cf.parameter_names("Pr3+", "cubic") == ["B40", "B60"]
    assert cf.parameter_names("Yb3+", "hexagonal") == ["B20", "B40", "B60", "B66"]
    for symmetry in cf.SYMMETRIES:
        for name in cf.parameter_names("Ho3+", symmetry):
            assert name in cf.PARAMETERS.names


@pytest.mark.parametrize(("symmetry", "params"), [("cubic", CUBIC), ("tetragonal", TETRAGONAL)])
def test_hamiltonian_and_levels_match_numpy(symmetry, params):
    h_re, h_im = cf.hamiltonian("Ce3+", symmetry=symmetry, **params)
    expected = reference_hamiltonian(
        *(params.get(k, 0.0) for k in ("B20", "B40", "B44")), cubic=symmetry == "cubic"
    )
    np.testing.assert_allclose(h_re + 1j * h_im, expected, atol=1e-12)
    np.testing.assert_allclose(
        cf.levels("Ce3+", symmetry=symmetry, **params), np.linalg.eigvalsh(expected)
    )


def test_batched_parameters_give_batched_observables():
    b40 = np.array([[0.05, 0.1167, -0.2], [0.3, 0.0, 0.01]])
    c = cf.specific_heat(T_GRID, B40=b40)
    chi = cf.susceptibility(T_GRID, B40=b40)
    assert c.shape == chi.shape == (2, 3, T_GRID.size)
    for idx in np.ndindex(2, 3):
        single = float(b40[idx])
        np.testing.assert_allclose(c[idx], cf.specific_heat(T_GRID, B40=single), rtol=1e-12)
        np.testing.assert_allclose(chi[idx], cf.susceptibility(T_GRID, B40=single), rtol=1e-12)


# --- thermodynamics ----------------------------------------------------------------------


@pytest.mark.parametrize(("symmetry", "params"), [("cubic", CUBIC), ("tetragonal", TETRAGONAL)])
def test_specific_heat_and_entropy_match_numpy(symmetry, params):
    h = reference_hamiltonian(
        *(params.get(k, 0.0) for k in ("B20", "B40", "B44")), cubic=symmetry == "cubic"
    )
    c_ref, _ = reference_thermodynamics(h, T_GRID)
    np.testing.assert_allclose(
        cf.specific_heat(T_GRID, symmetry=symmetry, **params), c_ref, rtol=1e-9, atol=1e-12
    )
    # entropy S = −∂F/∂T by central differences of the free energy
    step = 1e-4 * T_GRID
    _, f_up = reference_thermodynamics(h, T_GRID + step)
    _, f_down = reference_thermodynamics(h, T_GRID - step)
    s_ref = -R * (f_up - f_down) / (2 * step)
    np.testing.assert_allclose(cf.entropy(T_GRID, symmetry=symmetry, **params), s_ref, rtol=1e-6)


def test_two_level_schottky_closed_form():
    """g0-fold ground and g1-fold excited level Δ above: C = R x² r eˣ/(1 + r eˣ)², x = Δ/T,
    r = g0/g1. Plain two-level (1, 1) and the cubic Ce³⁺ doublet–quartet (2, 4), Δ = 360 B40."""
    t = np.geomspace(0.5, 500, 40)
    for g0, g1, delta in ((1, 1, 10.0), (2, 4, 360 * CUBIC["B40"])):
        x, r = delta / t, g0 / g1
        closed = R * x**2 * r * np.exp(x) / (1 + r * np.exp(x)) ** 2
        energies = np.array([0.0] * g0 + [delta] * g1)
        np.testing.assert_allclose(cf.schottky_specific_heat(t, energies), closed, rtol=1e-10)
    # (atol: the two members of the ground doublet differ by ~1e-14 K after diagonalisation)
    np.testing.assert_allclose(cf.specific_heat(t, **CUBIC), closed, rtol=1e-10, atol=1e-20)


def test_entropy_limits_kramers_doublet_and_full_multiplet():
    """Cubic Ce³⁺ with B40 > 0: Γ7 doublet ground state, S → R ln 2 at T ≪ 42 K and
    R ln 6 at T ≫ 42 K."""
    s = cf.entropy(np.array([0.2, 1.0, 1e4, 1e6]), **CUBIC)
    np.testing.assert_allclose(s[:2], R * np.log(2), rtol=1e-12)
    assert s[2] == pytest.approx(R * np.log(6), rel=1e-4)
    assert s[3] == pytest.approx(R * np.log(6), rel=1e-8)
    assert R * np.log(2) < s[0] + 1e-12 and s[2] < R * np.log(6)


# --- magnetism ---------------------------------------------------------------------------


@pytest.mark.parametrize(("symmetry", "params"), [("cubic", CUBIC), ("tetragonal", TETRAGONAL)])
@pytest.mark.parametrize(
    "direction", ["x", "y", "z", (1.0, -2.0, 0.5), (0.7, 2.1)], ids=lambda d: str(d)
)
def test_magnetisation_matches_numpy(symmetry, params, direction):
    h = reference_hamiltonian(
        *(params.get(k, 0.0) for k in ("B20", "B40", "B44")), cubic=symmetry == "cubic"
    )
    n = cf.field_directions(direction)[0]
    if isinstance(direction, tuple) and len(direction) == 2:
        theta, phi = direction
        np.testing.assert_allclose(
            n, [np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), np.cos(theta)]
        )
    for field in (0.01, 3.0):
        expected = reference_magnetisation(h, T_GRID, field, n)
        got = cf.magnetisation(
            T_GRID, symmetry=symmetry, field=field, direction=direction, **params
        )
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-14)
        assert np.all(got > 0)  # paramagnet: M along the field


@pytest.mark.parametrize(("symmetry", "params"), [("cubic", CUBIC), ("tetragonal", TETRAGONAL)])
def test_susceptibility_is_the_zero_field_van_vleck_sum(symmetry, params):
    h = reference_hamiltonian(
        *(params.get(k, 0.0) for k in ("B20", "B40", "B44")), cubic=symmetry == "cubic"
    )
    for direction in ("x", "z"):
        n = cf.field_directions(direction)[0]
        expected = van_vleck_susceptibility(h, T_GRID, n)
        got = cf.susceptibility(T_GRID, symmetry=symmetry, direction=direction, **params)
        # 0.01 T is in the linear regime: relative non-linearity below 1e-3 at 0.2 K
        np.testing.assert_allclose(got, expected, rtol=1e-3)
    inverse = cf.forward(T_GRID, observable="inverse_susceptibility", symmetry=symmetry, **params)
    np.testing.assert_allclose(inverse, 1 / cf.susceptibility(T_GRID, symmetry=symmetry, **params))


def test_curie_law_at_high_temperature():
    curie = N_A * MU_B_CGS**2 * G_CE**2 * 2.5 * 3.5 / (3 * K_B_CGS)  # emu K/mol
    assert curie == pytest.approx(0.8039, abs=1e-4)
    assert cf.curie_constant("Ce3+") == pytest.approx(curie, rel=1e-4)
    for symmetry, params in (("cubic", CUBIC), ("tetragonal", TETRAGONAL)):
        t = np.array([3e3, 3e4])
        chi_t = cf.susceptibility(t, symmetry=symmetry, direction="powder", **params) * t
        assert chi_t[0] == pytest.approx(curie, rel=3e-3)
        assert chi_t[1] == pytest.approx(curie, rel=3e-4)
    # no crystal field: exactly the free-ion Brillouin limit C/T at small field
    chi_t = cf.susceptibility(np.array([1.0, 10.0]), B40=0.0) * np.array([1.0, 10.0])
    np.testing.assert_allclose(chi_t, curie, rtol=2e-3)


@pytest.mark.parametrize(("ion", "params"), [("Ce3+", CUBIC), ("Pr3+", {"B40": 0.02, "B60": 3e-4})])
def test_cubic_susceptibility_is_isotropic(ion, params):
    """Exactly in the linear regime; at 0.01 T the cubic non-linear response (third order in
    B, anisotropic) shows at the 1e-6 level."""
    t = np.array([0.5, 3.0, 30.0])
    directions = ("x", "y", "z", (1, 1, 1), (0.3, 1.9), "powder")
    for field, rtol in ((1e-4, 1e-9), (0.01, 1e-5)):
        chis = [
            cf.susceptibility(t, ion=ion, symmetry="cubic", field=field, direction=d, **params)
            for d in directions
        ]
        for chi in chis[1:]:
            np.testing.assert_allclose(chi, chis[0], rtol=rtol)


def test_powder_mean_is_the_orientational_average():
    """χ(n) = nᵀχn in the linear regime: the three-axis mean equals the exact average over a
    spherical 2-design (the four tetrahedron directions), which uses other directions."""
    t = np.array([0.5, 3.0, 30.0])
    tetrahedron = [(1, 1, 1), (1, -1, -1), (-1, 1, -1), (-1, -1, 1)]
    design = np.mean(
        [
            cf.susceptibility(t, symmetry="tetragonal", direction=d, **TETRAGONAL)
            for d in tetrahedron
        ],
        axis=0,
    )
    powder = cf.susceptibility(t, symmetry="tetragonal", direction="powder", **TETRAGONAL)
    np.testing.assert_allclose(powder, design, rtol=1e-4)
    chi_x, chi_z = (
        cf.susceptibility(t, symmetry="tetragonal", direction=d, **TETRAGONAL) for d in ("x", "z")
    )
    assert np.all(np.abs(chi_x / chi_z - 1) > 0.02)  # tetragonal is anisotropic


# --- gradients ---------------------------------------------------------------------------

T_SHORT = np.array([0.5, 4.0, 30.0])
GRADIENT_CASES = [
    ("cubic", [0.1167], "z"),  # every cubic point is degenerate (Γ7 doublet + Γ8 quartet)
    ("cubic", [-0.05], "powder"),  # quartet ground state, three field directions
    ("cubic", [0.0], "z"),  # sixfold degenerate without the field
    ("tetragonal", [0.381, 0.165, 0.447], "x"),  # three Kramers doublets, field ⊥ axis
    ("tetragonal", [0.0, 0.0, 0.0], "z"),
]
OBSERVABLES = ["specific_heat", "entropy", "magnetisation", "susceptibility"]


def observables_function(symmetry, direction, field=0.01):
    """All four observables, stacked: shape (4, t), as a function of the B parameters."""
    names = cf.parameter_names("Ce3+", symmetry)

    def f(*values):
        params = dict(zip(names, values, strict=True))
        return pt.stack(
            [
                cf.forward(
                    T_SHORT,
                    observable=o,
                    symmetry=symmetry,
                    field=field,
                    direction=direction,
                    **params,
                )
                for o in OBSERVABLES
            ]
        )

    return f


def richardson_jacobian(f, point, h=1e-6):
    """Fourth-order central differences: accurate even where the function is sharply
    curved and its gradient vanishes (B = 0), unlike a one-sided difference."""
    columns = []
    for j in range(point.size):
        e = np.zeros_like(point)
        e[j] = h
        d1 = (f(*(point + e)) - f(*(point - e))) / (2 * h)
        d2 = (f(*(point + e / 2)) - f(*(point - e / 2))) / h
        columns.append((4 * d2 - d1) / 3)
    return np.stack(columns, axis=-1)


@pytest.mark.parametrize(("symmetry", "point", "direction"), GRADIENT_CASES)
def test_gradients_in_the_crystal_field_parameters(symmetry, point, direction):
    """The Jacobian of C, S, M and χ in the B parameters (PyTensor's gradient through the
    eigen-solver Ops) against fourth-order finite differences, at degenerate points too."""
    point = np.asarray(point, dtype=float)
    inputs = [pt.dscalar(name) for name in cf.parameter_names("Ce3+", symmetry)]
    y = observables_function(symmetry, direction)(*inputs)
    value = pytensor.function(inputs, y, mode=FAST)
    flat = y.ravel()
    rows = [pt.stack(pt.grad(flat[i], inputs)) for i in range(len(OBSERVABLES) * T_SHORT.size)]
    jacobian = pytensor.function(inputs, pt.stack(rows), mode=FAST)
    analytic = jacobian(*point).reshape(len(OBSERVABLES), T_SHORT.size, point.size)
    h = 1e-6
    numeric = richardson_jacobian(value, point, h)
    values = value(*point)
    for k, name in enumerate(OBSERVABLES):
        # finite-difference error: 1e-5 of the Jacobian's size, rounding (~1e-14 of the
        # observable's size, divided by h), and 1e-9 for the O(h⁴) remainder where the
        # Jacobian vanishes (C and S at B = 0); typical Jacobian entries are 1e-3 to 1e2
        atol = 1e-5 * np.abs(numeric[k]).max() + 1e-14 * np.abs(values[k]).max() / h + 1e-9
        np.testing.assert_allclose(analytic[k], numeric[k], rtol=0, atol=atol, err_msg=name)


@pytest.mark.parametrize(
    ("symmetry", "point", "direction"), GRADIENT_CASES[:2] + GRADIENT_CASES[3:4]
)
def test_verify_grad_in_the_crystal_field_parameters(symmetry, point, direction):
    """``pytensor.gradient.verify_grad`` (random projection, one-sided differences) where
    the gradient does not vanish: the cubic points are exactly degenerate."""
    verify_grad(
        observables_function(symmetry, direction),
        [np.asarray(p, dtype=float) for p in point],
        rng=np.random.default_rng(42),
        mode=FAST,
        eps=1e-7,
        abs_tol=1e-5,
        rel_tol=1e-3,
    )


# --- the PyMC model ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed_data():
    return cf.simulate_reference("cubic", "low", rng=0)


def test_reference_settings(seed_data):
    t = cf.REFERENCES["okada_cubic"].x
    assert t.size == 350 and t[0] == pytest.approx(0.2) and t[-1] == pytest.approx(70.0)
    np.testing.assert_allclose(np.diff(t), 0.2)
    chi, c = seed_data["inverse_susceptibility"], seed_data["specific_heat"]
    assert chi.attrs["truth_B40"] == 0.1167 and chi.attrs["field"] == 0.01
    np.testing.assert_allclose(chi["sigma"], 1e-2)
    np.testing.assert_allclose(c["sigma"], 1e-3)
    # the noise is what was asked for
    clean = cf.forward(t, observable="specific_heat", **CUBIC)
    assert np.std(c["specific_heat"].values - clean) == pytest.approx(1e-3, rel=0.15)
    assert c["temperature"].attrs["units"] == "K"
    assert chi["inverse_susceptibility"].attrs["units"] == "mol/emu"


@pytest.fixture(scope="module")
def integrated(seed_data):
    measurements = [
        Measurement("magnetic", seed_data["inverse_susceptibility"], cf.add_likelihood, 1e4),
        Measurement("thermal", seed_data["specific_heat"], cf.add_likelihood, 1e6),
    ]
    return integrated_model(measurements, partial(cf.add_priors, ion="Ce3+", symmetry="cubic"))


@pytest.fixture(scope="module")
def integrated_functions(integrated):
    """log-density without and with the Jacobian, and its gradient, compiled once with
    the default (numba) backend: the path NUTS and replica exchange take."""
    model = integrated
    return model.compile_fn([model.logp(jacobian=False), model.logp(), model.dlogp()])


def test_integrated_log_density_at_the_truth(integrated, integrated_functions, seed_data):
    """The joint log-density is the hand-written sum of the two Gaussian terms and the
    uniform prior, and it is finite at the truth."""
    model = integrated
    assert [rv.name for rv in model.free_RVs] == ["B40"]
    assert sorted(rv.name for rv in model.observed_RVs) == ["magnetic", "thermal"]
    t = cf.REFERENCES["okada_cubic"].x
    values = {}
    for b40 in (0.1167, 0.1):
        logp = integrated_functions(transformed_point(model, {"B40": b40}))[0]
        expected = np.log(0.5)  # U(−1, 1)
        for name, b in (("inverse_susceptibility", 1e4), ("specific_heat", 1e6)):
            residual = seed_data[name][name].values - cf.forward(t, observable=name, B40=b40)
            expected += 0.5 * t.size * np.log(b / (2 * np.pi)) - 0.5 * b * residual @ residual
        assert np.isfinite(logp)
        assert logp == pytest.approx(expected, rel=1e-9)
        values[b40] = logp
    assert values[0.1167] > values[0.1]


def test_model_gradient_matches_finite_differences(integrated, integrated_functions):
    """NUTS's gradient, through the numba-compiled Ops, at the truth."""
    point = transformed_point(integrated, {"B40": 0.1167})
    (name,) = point
    h = 1e-7
    up, down = dict(point), dict(point)
    up[name] = point[name] + h
    down[name] = point[name] - h
    numeric = (integrated_functions(up)[1] - integrated_functions(down)[1]) / (2 * h)
    assert integrated_functions(point)[2][0] == pytest.approx(numeric, rel=1e-4)


def test_build_model_from_example_data():
    data, _ = cf.example_data(0)
    model = cf.build_model(data)
    (observed,) = model.observed_RVs
    assert observed.name == cf.VARIABLE
    assert [rv.name for rv in model.free_RVs] == ["B40"]
    assert "specific_heat_finite" in [p.name for p in model.potentials]
    from samplers.evidence.noise_scan import gaussian_noise

    noise = gaussian_noise(cf.build_model(data, sigma=0.01))  # the guard is not a likelihood
    assert noise is not None and noise["precision"] == pytest.approx(1e4)
    model = cf.build_model(data.drop_vars("sigma"))
    assert "sigma" in [rv.name for rv in model.free_RVs]
    tetragonal = cf.build_model(
        cf.simulate(
            T_GRID,
            rng=1,
            sigma=0.01,
            observable="inverse_susceptibility",
            symmetry="tetragonal",
            **TETRAGONAL,
        ),
        symmetry="tetragonal",
    )
    assert [rv.name for rv in tetragonal.free_RVs] == ["B20", "B40", "B44"]
    logp = tetragonal.compile_logp(mode=FAST)
    assert np.isfinite(logp(transformed_point(tetragonal, TETRAGONAL)))


def test_add_priors_prefix_and_names():
    with pm.Model() as model:
        params = cf.add_priors(ion="Ce3+", symmetry="tetragonal", prefix="x_", names=["B44", "B20"])
    assert list(params) == ["B20", "B44"]
    assert sorted(model.named_vars) == ["x_B20", "x_B44"]
    with pm.Model(), pytest.raises(ValueError, match="no parameter"):
        cf.add_priors(ion="Ce3+", symmetry="cubic", names=["B20"])
    with pm.Model(), pytest.raises(ValueError, match=r"no fixed value\(s\) for \['B20'\]"):
        cf.add_priors(ion="Ce3+", symmetry="cubic", fixed={"B20": 0.1})


def test_likelihood_needs_a_noise_level():
    data, _ = cf.example_data(0)
    with pm.Model(), pytest.raises(ValueError, match="no noise level"):
        cf.add_likelihood(data.drop_vars("sigma"), {"B40": pt.scalar("B40")})


# --- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("temperature", "match"),
    [
        ([1.0, 0.0, 2.0], "positive"),
        ([1.0, -3.0], "positive"),
        ([1.0, np.nan], "non-finite"),
        ([[1.0, 2.0]], "1-D"),
        ([], "non-empty"),
    ],
)
def test_bad_temperatures_are_rejected(temperature, match):
    with pytest.raises(ValueError, match=match):
        cf.specific_heat(temperature, **CUBIC)
    with pytest.raises(ValueError, match=match):
        cf.susceptibility(temperature, **CUBIC)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: cf.specific_heat(T_GRID, ion="Xx3+", B40=0.1), "unknown ion"),
        (lambda: cf.specific_heat(T_GRID, symmetry="monoclinic", B40=0.1), "unknown symmetry"),
        (lambda: cf.specific_heat(T_GRID, B20=0.1), r"unknown: \['B20'\]"),
        (lambda: cf.specific_heat(T_GRID, B60=0.1), "missing"),
        (lambda: cf.specific_heat(T_GRID, symmetry="tetragonal", B20=1, B40=1), "B44"),
        (
            lambda: cf.hamiltonian("Ce3+", symmetry="tetragonal", B20=[1, 2], B40=[1, 2, 3], B44=0),
            "shapes",
        ),
        (lambda: cf.susceptibility(T_GRID, field=0.0, **CUBIC), "field"),
        (lambda: cf.susceptibility(T_GRID, field=np.nan, **CUBIC), "field"),
        (lambda: cf.susceptibility(T_GRID, direction="w", **CUBIC), "direction"),
        (lambda: cf.susceptibility(T_GRID, direction=(0, 0, 0), **CUBIC), "zero"),
        (lambda: cf.susceptibility(T_GRID, direction=(1, 2, 3, 4), **CUBIC), "direction"),
        (lambda: cf.forward(T_GRID, observable="heat", **CUBIC), "unknown observable"),
        (lambda: cf.get_ion(cf.Ion("bad", Fraction(1, 3), 1.0)), "half-integer"),
        (lambda: cf.get_ion(cf.Ion("bad", Fraction(5, 2), -1.0)), "Landé"),
        (lambda: cf.simulate(T_GRID, sigma=0.0, **CUBIC), "sigma"),
        (lambda: cf.simulate_reference(noise="medium"), "noise case"),
    ],
)
def test_bad_arguments_are_rejected(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_bad_datasets_are_rejected():
    data, _ = cf.example_data(0)
    t = data["temperature"].values
    with pytest.raises(ValueError, match="not sorted"):
        cf.build_model(data.isel(temperature=slice(None, None, -1)))
    with pytest.raises(ValueError, match="non-finite"):
        cf.build_model(data.assign(specific_heat=data["specific_heat"].where(t != t[3])))
    with pytest.raises(ValueError, match="missing data variable"):
        cf.build_model(data.drop_vars("specific_heat"))
    with pytest.raises(ValueError, match="axis must be named 'temperature'"):
        cf.build_model(data.rename(temperature="x"))
    both = data.assign(susceptibility=data["specific_heat"])
    with pytest.raises(ValueError, match="several observables"):
        cf.build_model(both)
    with pytest.raises(ValueError, match="positive"):
        cf.build_model(data.assign_coords(temperature=t - 5.0))
    with pytest.raises(ValueError, match="exactly one dimension"):
        cf.build_model(data.assign(extra=xr.DataArray([1.0, 2.0], dims="other")))
    with pm.Model(), pytest.raises(ValueError, match="missing parameter"):
        cf.add_likelihood(data, {"B20": pt.scalar("B20")}, sigma=0.01)


def test_plot_fit_draws_data_band_and_truth():
    from matplotlib.figure import Figure

    data = cf.simulate(
        T_GRID,
        rng=3,
        sigma=0.01,
        observable="inverse_susceptibility",
        symmetry="tetragonal",
        **TETRAGONAL,
    )
    rng = np.random.default_rng(0)
    posterior = xr.Dataset(
        {k: (("chain", "draw"), v + 1e-3 * rng.normal(size=(2, 5))) for k, v in TETRAGONAL.items()}
    )
    ax = Figure().add_subplot()
    cf.plot_fit(ax, data, posterior)
    labels = [line.get_label() for line in ax.get_lines()]
    assert "truth" in labels and "data" in labels
    truth_line = ax.get_lines()[labels.index("truth")]
    np.testing.assert_allclose(
        truth_line.get_ydata(),
        cf.forward(
            T_GRID, observable="inverse_susceptibility", symmetry="tetragonal", **TETRAGONAL
        ),
    )
    assert ax.get_ylabel() == "inverse_susceptibility [mol/emu]"


def test_nuts_samples_the_exact_cubic_posterior():
    """NUTS on the gradient of the Ops reproduces the posterior of B40 from quadrature.

    The example data (specific heat, 40 temperatures, σ = 0.01) with the U(−1, 1) prior;
    the quadrature uses the NumPy forward model on a grid of ±8 posterior sd. Tolerances
    are 4 Monte Carlo standard errors (ArviZ's MCSE of the mean and of the sd). NUTS
    starts at the truth without jitter: B40 < 0 (Γ8 below Γ7) is a local mode 8 × 10⁵ nats
    lower where a jittered start can trap it (finding the global mode is replica
    exchange's job, not the gradient's).
    """
    import arviz as az

    data, truth = cf.example_data(0)
    t, y, sigma = data["temperature"].values, data["specific_heat"].values, 0.01
    coarse = np.linspace(0.05, 0.2, 3001)
    loglik = np.array(
        [
            -0.5 * np.sum((y - cf.forward(t, observable="specific_heat", B40=b)) ** 2) / sigma**2
            for b in coarse
        ]
    )
    centre = coarse[np.argmax(loglik)]
    weights = np.exp(loglik - loglik.max())
    spread = np.sqrt(np.sum(weights * (coarse - centre) ** 2) / weights.sum())
    grid = np.linspace(centre - 8 * spread, centre + 8 * spread, 801)
    loglik = np.array(
        [
            -0.5 * np.sum((y - cf.forward(t, observable="specific_heat", B40=b)) ** 2) / sigma**2
            for b in grid
        ]
    )
    weights = np.exp(loglik - loglik.max())
    weights /= weights.sum()
    mean = np.sum(weights * grid)
    sd = np.sqrt(np.sum(weights * (grid - mean) ** 2))

    model = cf.build_model(data, sigma=sigma)
    with model:
        idata = pm.sample(
            1000,
            tune=1000,
            chains=2,
            cores=1,
            init="adapt_diag",
            initvals={"B40": truth["B40"]},
            random_seed=3,
            progressbar=False,
            compute_convergence_checks=False,
        )
    assert int(idata.sample_stats["diverging"].sum()) == 0
    draws = idata.posterior["B40"]
    summary = az.summary(idata, var_names=["B40"], kind="all")
    mcse_mean = float(summary["mcse_mean"].iloc[0])
    mcse_sd = float(summary["mcse_sd"].iloc[0])
    assert abs(float(draws.mean()) - mean) < 4 * mcse_mean
    assert abs(float(draws.std()) - sd) < 4 * mcse_sd
    assert abs(mean - truth["B40"]) < 4 * sd
