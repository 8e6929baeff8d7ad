"""The NiO cluster model against eq. (5) in second quantisation, NumPy, SciPy and limits."""

from __future__ import annotations

from functools import partial
from itertools import combinations

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
import pytest
from scipy import stats

from measurement_models import nio_cluster as nio
from measurement_models.integration import Measurement, integrated_model, separate_models
from measurement_models.parameters import transformed_point

FAST = pytensor.compile.mode.get_mode("FAST_COMPILE")  # Python perform: no numba compile
SETTINGS = nio.REFERENCES["illustrative_nio"]
TRUTH = {name: SETTINGS.params[name] for name in nio.PHYSICAL + nio.PER_SPECTRUM}
ENERGIES = SETTINGS.x
SQRT2 = np.sqrt(2.0)

# ---------------------------------------------------------------------------------------
# Eq. (5) of Mizumaki's article on Yokoyama et al. (2021), literally, on Slater
# determinants of 21 spin-orbitals:
# d modes 0-9 (e_g 0-3, t_2g 4-9), their ligand partners 10-19, one core level 20.
# ---------------------------------------------------------------------------------------
N_D, CORE = 10, 20
E_G = range(4)


def _sector(n_valence: int, core: int) -> list[int]:
    """Determinants (bit strings) with ``n_valence`` electrons in the 20 valence modes."""
    return [
        sum(1 << m for m in occupied) | (core << CORE)
        for occupied in combinations(range(2 * N_D), n_valence)
    ]


def _sign(state: int, mode: int) -> int:
    """(−1)^(number of occupied modes below ``mode``): the Jordan–Wigner string."""
    return -1 if bin(state & ((1 << mode) - 1)).count("1") % 2 else 1


def _annihilate(state: int, mode: int):
    if not state >> mode & 1:
        return None, 0
    return state ^ (1 << mode), _sign(state, mode)


def _create(state: int, mode: int):
    if state >> mode & 1:
        return None, 0
    return state | (1 << mode), _sign(state, mode)


def _hop(state: int, to: int, frm: int):
    """c†_to c_frm |state⟩ as (new state, sign) or (None, 0)."""
    middle, s1 = _annihilate(state, frm)
    if middle is None:
        return None, 0
    new, s2 = _create(middle, to)
    return (None, 0) if new is None else (new, s1 * s2)


def _levels(delta_avg, dq, u_dd, eps_c=-20.0):
    """One-electron energies: ε_L = 0, ε_d chosen so that E(d⁹L) − E(d⁸) = Δ_avg without
    the crystal field (the added electron meets 8 d electrons), e_g +6Dq, t_2g −4Dq."""
    eps_d = delta_avg - 8 * u_dd
    eps = np.zeros(2 * N_D + 1)
    eps[:N_D] = [eps_d + (6 * dq if m in E_G else -4 * dq) for m in range(N_D)]
    eps[CORE] = eps_c
    return eps


def _full_hamiltonian(basis, eps, v_eg, v_t2g, u_dd, u_dc):
    index = {state: i for i, state in enumerate(basis)}
    h = np.zeros((len(basis), len(basis)))
    for i, state in enumerate(basis):
        occupied = [m for m in range(2 * N_D + 1) if state >> m & 1]
        n_d = sum(1 for m in occupied if m < N_D)
        n_c = state >> CORE & 1
        h[i, i] = eps[occupied].sum() - u_dc * n_d * (1 - n_c) + u_dd * n_d * (n_d - 1) / 2
        for d in range(N_D):
            v = v_eg if d in E_G else v_t2g
            for to, frm in ((d, d + N_D), (d + N_D, d)):
                new, sign = _hop(state, to, frm)
                if new is not None:
                    h[index[new], i] += v * sign
    return h


def _apply(operator_terms, vector, basis_in, basis_out):
    """Σ_terms ops |vector⟩ with each term a list of (kind, mode), applied right to left."""
    index = {state: i for i, state in enumerate(basis_out)}
    out = np.zeros(len(basis_out))
    for amplitude, state in zip(vector, basis_in, strict=True):
        if amplitude == 0:
            continue
        for term in operator_terms:
            new, sign = state, 1
            for kind, mode in reversed(term):
                new, s = (_create if kind == "+" else _annihilate)(new, mode)
                if new is None:
                    break
                sign *= s
            if new is not None:
                out[index[new]] += sign * amplitude
    return out


def full_model_lines(delta_avg, dq, v, v_t2g, u_dd, u_dc, spectrum):
    """Lines of eq. (5) averaged over the degenerate ground manifold, equal positions merged.

    Returns positions in the relative convention of the module (the configuration
    offsets −ε_c − 8U_dc for XPS and ε_eg − ε_c + 8U_dd − 9U_dc for XAS removed)."""
    eps = _levels(delta_avg, dq, u_dd)
    ground_basis = _sector(18, 1)  # d⁸ L¹⁰ c¹: two holes among 20 valence modes
    e_i, v_i = np.linalg.eigh(_full_hamiltonian(ground_basis, eps, v, v_t2g, u_dd, u_dc))
    ground = np.flatnonzero(e_i < e_i[0] + 1e-7)
    if spectrum == "xps":
        final_basis, operator = _sector(18, 0), [[("-", CORE)]]
        offset = -eps[CORE] - 8 * u_dc
    else:
        final_basis, operator = _sector(19, 0), [[("+", d), ("-", CORE)] for d in range(N_D)]
        offset = eps[0] - eps[CORE] + 8 * u_dd - 9 * u_dc
    e_f, v_f = np.linalg.eigh(_full_hamiltonian(final_basis, eps, v, v_t2g, u_dd, u_dc))
    weights = np.zeros(e_f.size)
    for g in ground:
        weights += (v_f.T @ _apply(operator, v_i[:, g], ground_basis, final_basis)) ** 2
    weights /= ground.size
    positions = e_f - e_i[0] - offset
    merged = []  # [position, summed weight] of degenerate final levels (eigh: ascending)
    for position, weight in zip(positions, weights, strict=True):
        if merged and position - merged[-1][0] < 1e-6:
            merged[-1][1] += weight
        else:
            merged.append([position, weight])
    kept = np.array([line for line in merged if line[1] > 1e-10])
    return kept[:, 0], kept[:, 1], ground.size


@pytest.mark.parametrize("spectrum", ["xps", "xas"])
@pytest.mark.parametrize(
    ("delta_avg", "dq", "v", "v_t2g", "u_dd", "u_dc"),
    [(4.4, 0.1, 2.2, -1.1, 7.0, 8.5), (3.0, 0.15, 1.7, 0.85, 6.0, 7.5)],
)
def test_reduced_model_equals_eq5_in_second_quantisation(
    spectrum, delta_avg, dq, v, v_t2g, u_dd, u_dc
):
    positions, weights, degeneracy = full_model_lines(delta_avg, dq, v, v_t2g, u_dd, u_dc, spectrum)
    assert degeneracy == 6  # two holes in any two of the four e_g pairs
    params = {"delta": delta_avg + 6 * dq, "v": v, "u_dd": u_dd, "u_dc": u_dc}
    reduced_positions, reduced_weights = nio.lines(spectrum, **params)
    assert positions.size == reduced_positions.size == (3 if spectrum == "xps" else 2)
    assert np.allclose(positions, reduced_positions, atol=1e-8)
    assert np.allclose(weights, reduced_weights, atol=1e-10)


def test_10dq_and_t2g_hybridisation_enter_only_through_the_eg_charge_transfer_energy():
    """Different 10Dq and V_t2g at the same Δ = Δ_avg + 6Dq: identical spectra; the same
    Δ_avg with another 10Dq: different spectra (the negative control)."""
    a = full_model_lines(4.4, 0.10, 2.2, -1.1, 7.0, 8.5, "xps")
    b = full_model_lines(4.4 - 6 * 0.1, 0.20, 2.2, 1.1, 7.0, 8.5, "xps")
    c = full_model_lines(4.4, 0.20, 2.2, -1.1, 7.0, 8.5, "xps")
    assert np.allclose(a[0], b[0], atol=1e-8) and np.allclose(a[1], b[1], atol=1e-10)
    assert not np.allclose(a[0], c[0], atol=1e-3)


def _by_hand(delta, v, u_dd, u_dc):
    """The module docstring's matrices, written out, solved with numpy.linalg.eigh."""
    a = SQRT2 * v
    h_i = np.array([[0, a, 0], [a, delta, a], [0, a, 2 * delta + u_dd]])
    h_xps = h_i - np.diag([0, u_dc, 2 * u_dc])
    h_xas = np.array([[0, v], [v, delta + u_dd - u_dc]])
    transition = np.array([[SQRT2, 0, 0], [0, 1, 0]])
    e_i, v_i = np.linalg.eigh(h_i)
    e_xps, v_xps = np.linalg.eigh(h_xps)
    e_xas, v_xas = np.linalg.eigh(h_xas)
    ground = v_i[:, 0]
    return (
        (e_xps - e_i[0], (v_xps.T @ ground) ** 2),
        (e_xas - e_i[0], (v_xas.T @ transition @ ground) ** 2),
        ground,
    )


def test_lines_equal_the_matrices_written_out_and_batch():
    points = [(5.0, 2.2, 7.0, 8.5), (2.0, 1.0, 5.0, 6.0), (8.0, 3.0, 10.0, 12.0)]
    batch = {k: np.array([p[i] for p in points]) for i, k in enumerate(nio.PHYSICAL[:4])}
    for spectrum, column in (("xps", 0), ("xas", 1)):
        positions, weights = nio.lines(spectrum, **batch)
        for row, point in enumerate(points):
            expected = _by_hand(*point)[column]
            assert np.allclose(positions[row], expected[0], atol=1e-12)
            assert np.allclose(weights[row], expected[1], atol=1e-12)
    # sum rules: XPS weights sum to 1; XAS to the number of e_g holes 2|g₀|² + |g₁|²
    _, xps_w = nio.lines("xps", **batch)
    _, xas_w = nio.lines("xas", **batch)
    assert np.allclose(xps_w.sum(-1), 1.0)
    grounds = np.array([_by_hand(*p)[2] for p in points])
    assert np.allclose(xas_w.sum(-1), 2 * grounds[:, 0] ** 2 + grounds[:, 1] ** 2)


def test_no_hybridisation_limit():
    """V = 0: the ground state is pure d⁸, XPS one line at 0 (weight 1), XAS one line at
    0 (weight 2, the two e_g holes)."""
    params = {"delta": 5.0, "v": 0.0, "u_dd": 7.0, "u_dc": 8.0}  # no accidental degeneracy
    for spectrum, weight in (("xps", 1.0), ("xas", 2.0)):
        positions, weights = nio.lines(spectrum, **params)
        strong = weights > 1e-12
        assert np.allclose(positions[strong], [0.0]) and np.allclose(weights[strong], [weight])


def test_reference_lines_quoted_in_the_docstring():
    xps, xas, _ = _by_hand(5.0, 2.2, 7.0, 8.5)
    assert np.allclose(xps[0], [-4.891, 1.594, 4.579], atol=1e-3)
    assert np.allclose(xps[1], [0.576, 0.329, 0.095], atol=1e-3)
    assert np.allclose(xas[0], [0.533, 6.155], atol=1e-3)
    assert 0.009 < xas[1][1] / xas[1].sum() < 0.011


@pytest.mark.parametrize("spectrum", ["xps", "xas"])
def test_spectrum_is_lorentzians_with_the_right_area(spectrum):
    energy = np.linspace(-60.0, 60.0, 24001)
    params = TRUTH | {"amplitude": 1.7, "background": 0.0}
    y = nio.forward(energy, spectrum=spectrum, **params)
    positions, weights = nio.lines(spectrum, **{k: params[k] for k in nio.ENERGIES})
    lorentz = stats.cauchy.pdf(energy[:, None], positions, params["gamma"])  # independent
    assert np.allclose(y, 1.7 * lorentz @ weights, atol=1e-12)
    # area: A Σ w minus the Lorentzian tails beyond ±60 eV (≈ 2Γ/(π·60) of each line)
    area = np.trapezoid(y, energy)
    assert abs(area / (1.7 * weights.sum()) - 1) < 2 * params["gamma"] / (np.pi * 50)
    # the spin–orbit copy adds half the area, the resolution keeps it
    so = nio.forward(energy, spectrum=spectrum, resolution=0.3, spin_orbit=(17.5, 0.5), **params)
    assert abs(np.trapezoid(so, energy) / area - 1.5) < 0.02


def test_symbolic_forward_equals_numpy():
    energy = ENERGIES["xas"]
    symbols = {name: pt.dscalar(name) for name in TRUTH}
    for spectrum in nio.SPECTRA:
        graph = nio.forward(energy, spectrum=spectrum, resolution=0.2, **symbols)
        function = pytensor.function(list(symbols.values()), graph, mode=FAST)
        expected = nio.forward(energy, spectrum=spectrum, resolution=0.2, **TRUTH)
        assert np.allclose(function(*TRUTH.values()), expected, atol=1e-12)


def test_simulate_pair_has_equal_signal_to_noise_and_records_the_truth():
    xps, xas = nio.simulate_pair(ENERGIES, snr=40.0, rng=3, **TRUTH)
    for data in (xps, xas):
        clean = nio.forward(data.energy.values, spectrum=data.attrs["spectrum"], **TRUTH)
        sigma = float(data["sigma"][0])
        assert np.isclose((clean.max() - TRUTH["background"]) / sigma, 40.0)
        assert data.attrs["truth_sigma"] == sigma
        assert all(data.attrs[f"truth_{k}"] == v for k, v in TRUTH.items())
        residual = (data.intensity.values - clean) / sigma
        assert abs(residual.std() - 1) < 4 / np.sqrt(2 * residual.size)
    assert (xps.attrs["spectrum"], xas.attrs["spectrum"]) == ("xps", "xas")


# ---------------------------------------------------------------------------------------
# The PyMC models: integration normalisation and gradients (Python mode, no numba).
# ---------------------------------------------------------------------------------------


def _measurements():
    xps, xas = nio.simulate_pair(ENERGIES, snr=100.0, rng=7, **TRUTH)
    return [
        Measurement(kind, data, partial(nio.add_likelihood, spectrum=kind), data.truth_sigma**-2)
        for kind, data in (("xps", xps), ("xas", xas))
    ]


@pytest.fixture(scope="module")
def integrated():
    measurements = _measurements()
    model = integrated_model(measurements, nio.add_priors, shared=list(nio.PHYSICAL))
    function = model.compile_fn(
        [model.logp(jacobian=False), model.logp(), model.dlogp()], mode=FAST
    )
    return measurements, model, function


def _uniform_log_density(name):
    prior = nio.PARAMETERS[name].prior.kwargs
    return -np.log(prior["upper"] - prior["lower"])


def test_integrated_log_density_has_both_normalisations(integrated):
    measurements, model, function = integrated
    shared = {"delta": 5.3, "v": 2.0, "u_dd": 7.4, "u_dc": 8.1, "gamma": 0.55}
    own = {
        "xps": {"amplitude": 1.1, "background": 0.01},
        "xas": {"amplitude": 0.9, "background": 0.03},
    }
    values = shared | {f"{k}_{n}": v for k, d in own.items() for n, v in d.items()}
    logp, _, _ = function(transformed_point(model, values))
    expected = 0.0
    for m in measurements:
        y, sigma = m.data.intensity.values, float(m.data.sigma[0])
        f = nio.forward(m.data.energy.values, spectrum=m.name, **shared, **own[m.name])
        # Σ_i log N(y_i; f_i, σ²) = −n b E − (n/2) log(2π/b)
        expected += stats.norm.logpdf(y, f, sigma).sum()
    expected += sum(_uniform_log_density(n) for n in nio.PHYSICAL)
    expected += 2 * sum(_uniform_log_density(n) for n in ("amplitude", "background"))
    assert np.isclose(logp, expected, rtol=0, atol=1e-8 * abs(expected))
    # dropping either normalisation −(n_k/2) log(2π σ_k²) would be far outside that
    assert min(m.n / 2 * abs(np.log(2 * np.pi / m.noise.value)) for m in measurements) > 100

    # and it is the sum of the single-spectrum models with the shared prior counted once
    alone = separate_models(measurements, nio.add_priors)
    total = 0.0
    for m in measurements:
        single = alone[m.name]
        point = shared | own[m.name]  # alone, every parameter has its plain name
        total += single.compile_logp(jacobian=False, mode=FAST)(transformed_point(single, point))
    total -= sum(_uniform_log_density(n) for n in nio.PHYSICAL)
    assert np.isclose(logp, total, rtol=0, atol=1e-8 * abs(expected))


def test_gradient_against_central_differences(integrated):
    _, model, function = integrated
    values = {"delta": 4.8, "v": 2.3, "u_dd": 6.8, "u_dc": 8.7, "gamma": 0.45}
    values |= {f"{m}_{n}": 1.0 for m in ("xps", "xas") for n in ("amplitude",)}
    values |= {f"{m}_background": 0.015 for m in ("xps", "xas")}
    point = transformed_point(model, values)
    names = [v.name for v in model.value_vars]
    _, _, gradient = function(point)
    h = 1e-5
    numeric = []
    for name in names:
        up, down = dict(point), dict(point)
        up[name] = point[name] + h
        down[name] = point[name] - h
        numeric.append((function(up)[1] - function(down)[1]) / (2 * h))
    assert np.allclose(gradient, numeric, rtol=1e-5, atol=1e-4)


def test_failed_forward_gives_minus_infinity_not_nan():
    data, _ = nio.example_data(0)
    with pm.Model() as model:
        params = nio.add_priors()
        params["delta"] = params["delta"] * np.nan
        nio.add_likelihood(data, params, sigma=0.01)
    logp = model.compile_logp(mode=FAST)(model.initial_point())
    assert logp == -np.inf


# ---------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: nio.forward(np.linspace(0, 1, 5), spectrum="ups", **TRUTH), "unknown spectrum"),
        (lambda: nio.forward(np.zeros((2, 2)), **TRUTH), "energy grid"),
        (lambda: nio.forward([], **TRUTH), "energy grid"),
        (lambda: nio.forward([0.0, np.nan], **TRUTH), "energy grid"),
        (lambda: nio.forward([0.0, 1.0], **TRUTH | {"gamma": -0.1}), "gamma must be positive"),
        (lambda: nio.forward([0.0, 1.0], **TRUTH | {"v": np.inf}), "'v' must be finite"),
        (lambda: nio.forward([0.0, 1.0], delta=1.0), "missing parameter"),
        (lambda: nio.forward([0.0, 1.0], dq=0.1, **TRUTH), r"unknown parameter\(s\) \['dq'\]"),
        (lambda: nio.forward([0.0, 1.0], resolution=-0.2, **TRUTH), "resolution"),
        (lambda: nio.forward([0.0, 1.0], spin_orbit=(17.0,), **TRUTH), "spin_orbit"),
        (lambda: nio.forward([0.0, 1.0], spin_orbit=(17.0, -1), **TRUTH), "spin_orbit"),
        (lambda: nio.lines("xes", **TRUTH), "unknown spectrum kind"),
        (lambda: nio.simulate([0.0, 1.0], sigma=0.0, **TRUTH), "sigma"),
        (lambda: nio.simulate_pair(ENERGIES, snr=-1.0, **TRUTH), "snr"),
        (lambda: nio.add_priors(names=["delta", "dq"]), "no parameter"),
    ],
)
def test_bad_input_is_rejected(call, match):
    with pm.Model(), pytest.raises(ValueError, match=match):
        call()


def test_model_refuses_the_other_kind_of_spectrum():
    xps, xas = nio.simulate_pair(ENERGIES, rng=0, **SETTINGS.params)
    with pytest.raises(ValueError, match="'xas' spectrum"):
        nio.build_model(xas, spectrum="xps")
    with pytest.raises(ValueError, match="unknown spectrum kind"):
        nio.build_model(xps, spectrum="auger")
    with pm.Model(), pytest.raises(ValueError, match="no noise level"):
        nio.add_likelihood(xps.drop_vars("sigma"), nio.add_priors())


# ---------------------------------------------------------------------------------------
# Sampled free energy against quadrature (one small numba compile, ~5 s of sampling)
# ---------------------------------------------------------------------------------------


def test_replica_exchange_free_energy_equals_quadrature():
    """XPS with Γ and the amplitude free (the rest fixed at the truth): F by replica
    exchange against a two-dimensional trapezoid quadrature of the NumPy likelihood."""
    from samplers import ReplicaExchangeSettings

    data, _ = nio.example_data(5)
    sigma = float(data.sigma[0])
    fixed = {n: TRUTH[n] for n in ("delta", "v", "u_dd", "u_dc", "background")}
    constants = {
        n: (lambda name, dims, v=v: pt.as_tensor_variable(np.float64(v))) for n, v in fixed.items()
    }
    model = nio.build_model(data, spectrum="xps", priors=constants)
    assert sorted(rv.name for rv in model.free_RVs) == ["amplitude", "gamma"]

    energy, y = data.energy.values, data.intensity.values
    gamma = np.linspace(0.47, 0.53, 241)
    amplitude = np.linspace(0.96, 1.04, 241)
    g, a = np.meshgrid(gamma, amplitude, indexing="ij")
    params = fixed | {"gamma": g.ravel(), "amplitude": a.ravel()}
    log_lik = stats.norm.logpdf(y, nio.forward(energy, spectrum="xps", **params), sigma).sum(-1)
    log_lik = log_lik.reshape(g.shape)
    top = log_lik.max()
    # the grid holds the whole posterior: the edges are > 20 nats below the top
    edges = np.concatenate([log_lik[0], log_lik[-1], log_lik[:, 0], log_lik[:, -1]])
    assert edges.max() < top - 20
    inner = np.trapezoid(np.trapezoid(np.exp(log_lik - top), amplitude, axis=1), gamma)
    exact = -(top + np.log(inner) - np.log(1.95 * 5.0))  # uniform priors: widths 1.95, 5

    chi2 = float(((y - y.mean()) ** 2).sum()) / sigma**2
    settings = ReplicaExchangeSettings(
        draws=1000,
        tune=1000,
        chains=2,
        cores=1,
        n_replicas=16,
        extra={"betas": np.concatenate([[0.0], np.geomspace(1 / chi2, 1.0, 15)])},
    )
    _, fe = settings.sample(model, 11, False)
    assert abs(fe.value - exact) < 5 * fe.mcse + 0.2, (fe, exact)
