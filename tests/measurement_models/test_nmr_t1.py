"""NMR T1 recovery model: the recovery laws against the master equation, limits, priors,
log-density, data handling and (slow) the free energy against quadrature.

The recovery laws are derived here, independently of the module, from the rate (master)
equation of magnetic dipolar relaxation among the 2I+1 Zeeman levels,

    dn_m/dt = Σ_{m'=m±1} W_{m'↔m} (n_{m'} - n_m),   W_{m↔m-1} = W [I(I+1) - m(m-1)],

with 2W = 1/T1, by eigen-decomposition of the (symmetric) rate matrix.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
import pytest
import xarray as xr
from pytensor.compile.mode import Mode
from scipy import integrate, linalg, optimize, stats

from measurement_models import nmr_t1 as nm
from measurement_models.parameters import transformed_point

PYTHON = Mode(linker="py", optimizer="fast_run")  # no numba compile for small checks
KEYS = list(nm.RECOVERY_TERMS)


# --------------------------------------------------------------------------------------
# Independent derivation: master equation of magnetic dipolar relaxation
# --------------------------------------------------------------------------------------


def rate_matrix(spin: float) -> tuple[np.ndarray, np.ndarray]:
    """Levels m = I … -I and Q with dn/dt = Q (n - n_eq), in units of 1/T1 (2W = 1)."""
    m = spin - np.arange(round(2 * spin) + 1)
    q = np.zeros((m.size, m.size))
    for i in range(m.size - 1):
        w = 0.5 * (spin * (spin + 1) - m[i] * (m[i] - 1))  # W_{m ↔ m-1}, W = 1/2
        q[[i, i + 1], [i + 1, i]] += w
        q[[i, i + 1], [i, i + 1]] -= w
    return m, q


def initial_state(spin: float, transition: str, inverted: bool = False):
    """Equilibrium populations, populations after the pulse, and the signal vector."""
    m, _ = rate_matrix(spin)
    eps = 1e-3  # high-temperature limit: populations 1 + ε E/kT (only deviations matter)
    if transition == "central":
        equilibrium = 1 + eps * m  # Zeeman levels, E ∝ -m
        pairs = [(0.5, -0.5)]
    else:  # NQR, zero field: E ∝ m², lines ±1/2 ↔ ±3/2
        equilibrium = 1 - eps * m**2
        pairs = [(0.5, 1.5), (-0.5, -1.5)]
    after = equilibrium.copy()
    signal = np.zeros(m.size)
    for upper, lower in pairs:
        i, j = np.flatnonzero(m == upper)[0], np.flatnonzero(m == lower)[0]
        if inverted:
            after[i], after[j] = equilibrium[j], equilibrium[i]
        else:
            after[i] = after[j] = (equilibrium[i] + equilibrium[j]) / 2
        signal[i], signal[j] = 1.0, -1.0
    return equilibrium, after, signal


def master_equation_terms(spin: float, transition: str, inverted: bool = False):
    """(exponents, amplitudes) of R(t) = 1 - S(t)/S_eq from the eigen-decomposition."""
    _, q = rate_matrix(spin)
    equilibrium, after, signal = initial_state(spin, transition, inverted)
    rates, vectors = linalg.eigh(-q)
    amplitudes = -(signal @ vectors) * (vectors.T @ (after - equilibrium)) / (signal @ equilibrium)
    keep = np.abs(amplitudes) > 1e-12
    return rates[keep], amplitudes[keep]


def master_equation_recovery(spin: float, transition: str, times: np.ndarray) -> np.ndarray:
    """R(t) by propagating the populations with expm(Q t) (T1 = 1)."""
    _, q = rate_matrix(spin)
    equilibrium, after, signal = initial_state(spin, transition)
    s_eq = signal @ equilibrium
    return np.array(
        [
            1 - signal @ (equilibrium + linalg.expm(q * t) @ (after - equilibrium)) / s_eq
            for t in times
        ]
    )


# --------------------------------------------------------------------------------------
# Recovery laws
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", KEYS, ids=lambda k: f"I={k[0]}-{k[1]}")
def test_recovery_terms_match_the_master_equation(key):
    spin, transition = key
    rates, amplitudes = master_equation_terms(float(spin), transition)
    table_amplitudes, table_exponents = nm.recovery_terms(spin, transition)
    np.testing.assert_allclose(rates, table_exponents, rtol=1e-10)
    np.testing.assert_allclose(amplitudes, table_amplitudes, rtol=1e-10)


def test_central_line_exponents_are_l_l_plus_1_over_2():
    # 1, 6, 15, 28 for I = 1/2 … 7/2 (odd ℓ), and the NQR line of I = 3/2 at 3 (ℓ = 2)
    for spin in (0.5, 1.5, 2.5, 3.5):
        rates, _ = master_equation_terms(spin, "central")
        odd = np.arange(1, round(2 * spin) + 1, 2)
        np.testing.assert_allclose(rates, odd * (odd + 1) / 2)
    np.testing.assert_allclose(master_equation_terms(1.5, "nqr")[0], [3.0])


def test_table_amplitudes_are_exact_fractions_summing_to_one():
    for terms in nm.RECOVERY_TERMS.values():
        assert sum(a for a, _ in terms) == 1
        assert all(isinstance(a, Fraction) for a, _ in terms)


@pytest.mark.parametrize("key", KEYS, ids=lambda k: f"I={k[0]}-{k[1]}")
def test_recovery_curve_matches_propagated_populations(key):
    spin, transition = key
    times = np.geomspace(1e-3, 5.0, 40)
    T1 = 0.7
    expected = master_equation_recovery(float(spin), transition, times / T1)
    actual = nm.recovery(times, T1, spin=spin, transition=transition)
    np.testing.assert_allclose(actual, expected, atol=1e-12)


@pytest.mark.parametrize("key", KEYS, ids=lambda k: f"I={k[0]}-{k[1]}")
def test_perfect_inversion_is_factor_two(key):
    spin, transition = key
    rates, amplitudes = master_equation_terms(float(spin), transition, inverted=True)
    table_amplitudes, table_exponents = nm.recovery_terms(spin, transition)
    np.testing.assert_allclose(rates, table_exponents, rtol=1e-10)
    np.testing.assert_allclose(amplitudes, 2 * table_amplitudes, rtol=1e-10)
    times = np.geomspace(1e-3, 3.0, 20)
    recovered = nm.forward(
        times, T1=1.0, M0=2.0, offset=0.0, spin=spin, transition=transition, inversion=2.0
    )
    direct = 2.0 * (1 - 2 * master_equation_recovery(float(spin), transition, times))
    np.testing.assert_allclose(recovered, direct, atol=1e-12)


def test_spin_spellings():
    np.testing.assert_array_equal(nm.recovery_terms("3/2")[1], nm.recovery_terms(1.5)[1])
    np.testing.assert_array_equal(nm.recovery_terms(Fraction(7, 2))[1], [1, 6, 15, 28])


# --------------------------------------------------------------------------------------
# Limits and special cases of the forward model
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("stretch", [None, 0.4, 1.0])
@pytest.mark.parametrize("key", KEYS, ids=lambda k: f"I={k[0]}-{k[1]}")
def test_limits(key, stretch):
    spin, transition = key
    T1, M0, offset = 0.02, 3.0, 0.1
    early, late = np.array([1e-60]), np.array([1e6 * T1])
    kw = {"spin": spin, "transition": transition, "stretch": stretch}
    assert nm.recovery(early, T1, **kw)[0] == pytest.approx(1.0, abs=1e-12)
    assert nm.recovery(late, T1, **kw)[0] == pytest.approx(0.0, abs=1e-12)
    assert nm.forward(late, T1=T1, M0=M0, offset=offset, **kw)[0] == pytest.approx(
        M0 + offset, abs=1e-12
    )
    assert nm.forward(early, T1=T1, M0=M0, offset=offset, **kw)[0] == pytest.approx(
        offset, abs=1e-12
    )
    inverted = nm.forward(early, T1=T1, M0=M0, offset=0.0, inversion=1.8, **kw)[0]
    assert inverted == pytest.approx(M0 * (1 - 1.8), abs=1e-12)


def test_recovery_decreases_monotonically():
    times = np.geomspace(1e-5, 10.0, 200)
    for spin, transition in KEYS:
        for stretch in (None, 0.5):
            r = nm.recovery(times, 0.01, spin=spin, transition=transition, stretch=stretch)
            assert np.all(np.diff(r) <= 0)


def test_stretch_one_equals_plain_and_matches_written_out_formula():
    times = np.geomspace(1e-4, 1.0, 50)
    plain = nm.recovery(times, 0.01, spin=2.5)
    np.testing.assert_allclose(nm.recovery(times, 0.01, spin=2.5, stretch=1.0), plain, rtol=1e-14)
    beta = 0.55
    u = times / 0.01
    written = (
        np.exp(-(u**beta)) / 35
        + 8 / 45 * np.exp(-((6 * u) ** beta))
        + 50 / 63 * np.exp(-((15 * u) ** beta))
    )
    np.testing.assert_allclose(nm.recovery(times, 0.01, spin=2.5, stretch=beta), written)


def test_components():
    times = np.geomspace(1e-4, 1.0, 50)
    one = nm.forward(times, T1=0.01, M0=2.0, offset=0.1, spin=1.5)
    two = nm.forward(times, T1=[0.01, 0.01], M0=2.0, offset=0.1, spin=1.5, weight=[0.3, 0.7])
    np.testing.assert_allclose(two, one, rtol=1e-14)
    mixed = nm.recovery(times, [0.002, 0.05], weight=[0.25, 0.75])
    np.testing.assert_allclose(mixed, 0.25 * np.exp(-times / 0.002) + 0.75 * np.exp(-times / 0.05))


def test_draws_broadcast():
    times = np.geomspace(1e-4, 1.0, 7)
    T1 = np.array([[0.01, 0.1], [0.02, 0.2], [0.03, 0.3]])
    weight = np.array([[0.5, 0.5], [0.2, 0.8], [1.0, 0.0]])
    M0 = np.array([1.0, 2.0, 3.0])
    batched = nm.forward(times, T1=T1, M0=M0, offset=0.0, spin=1.5, weight=weight)
    for i in range(3):
        single = nm.forward(times, T1=T1[i], M0=M0[i], offset=0.0, spin=1.5, weight=weight[i])
        np.testing.assert_allclose(batched[i], single)


def test_pytensor_graph_equals_numpy():
    times = np.geomspace(1e-4, 1.0, 30)
    T1, weight = pt.dvector("T1"), pt.dvector("weight")
    M0, offset, stretch, inversion = pt.dscalars("M0", "offset", "stretch", "inversion")
    graph = nm.forward(
        times,
        T1=T1,
        M0=M0,
        offset=offset,
        spin=3.5,
        weight=weight,
        stretch=stretch,
        inversion=inversion,
    )
    fn = pytensor.function([T1, weight, M0, offset, stretch, inversion], graph, mode=PYTHON)
    values = ([0.003, 0.08], [0.35, 0.65], 1.7, -0.05, 0.8, 1.6)
    expected = nm.forward(
        times,
        T1=values[0],
        M0=1.7,
        offset=-0.05,
        spin=3.5,
        weight=values[1],
        stretch=0.8,
        inversion=1.6,
    )
    np.testing.assert_allclose(fn(*values), expected, rtol=1e-12)


# --------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def example():
    return nm.example_data(0)


@pytest.fixture(scope="module")
def two_components():
    truth = {
        "T1": np.array([0.002, 0.02]),
        "weight": np.array([0.4, 0.6]),
        "M0": 1.0,
        "offset": 0.02,
    }
    return nm.simulate(nm.time_grid(1e-4, 0.2, 24), **truth, sigma=0.01, rng=0), truth


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"spin": 1.0}, "unsupported nuclear spin"),
        ({"spin": 1.4}, "unsupported nuclear spin"),
        ({"spin": "five halves"}, "spin must be a number"),
        ({"transition": "satellite"}, "unknown transition"),
        ({"spin": 2.5, "transition": "nqr"}, "no recovery law"),
        ({"variant": "three_component"}, "unknown variant"),
        ({"method": "spin_echo"}, "unknown method"),
        ({"method": "inversion", "offset": True}, "not identifiable"),
        ({"priors": {"stretch": nm.PARAMETERS["stretch"].prior}}, r"prior given.*\['stretch'\]"),
        ({"sigma": -1.0}, "sigma must be positive"),
    ],
)
def test_bad_options_are_rejected(example, kwargs, match):
    data, _ = example
    with pytest.raises(ValueError, match=match):
        nm.build_model(data, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"inversion": 2.5}, "inversion factor"),
        ({"inversion": 0.5}, "inversion factor"),
        ({"stretch": 0.0}, "stretch exponent"),
        ({"stretch": 1.2}, "stretch exponent"),
        ({"T1": [0.01, 0.1], "weight": [0.5, 0.6]}, "sum to one"),
        ({"T1": [0.01, 0.1], "weight": [1.2, -0.2]}, "≥ 0"),
        ({"T1": [0.01, 0.1], "weight": [1.0]}, "one weight per component"),
        ({"T1": [0.01, 0.1]}, "need their weights"),
        ({"T1": -0.01}, "T1 must be positive"),
        ({"T1": np.nan}, "T1 must be positive"),
    ],
)
def test_bad_forward_inputs_are_rejected(kwargs, match):
    args = {"T1": 0.01} | kwargs
    with pytest.raises(ValueError, match=match):
        nm.forward(np.geomspace(1e-4, 1, 5), **args)
    with pytest.raises(ValueError, match=match):
        nm.simulate(np.geomspace(1e-4, 1, 5), sigma=0.01, **args)


@pytest.mark.parametrize("first", [0.0, -1e-3])
def test_non_positive_times_are_rejected(example, first):
    data, _ = example
    time = data["time"].values.copy()
    time[0] = first
    bad = data.assign_coords(time=time)
    with pytest.raises(ValueError, match="times must be positive"):
        nm.build_model(bad)
    with pytest.raises(ValueError, match="times must be positive"):
        nm.forward(time, T1=0.01)


def test_other_bad_data_are_rejected(example):
    data, _ = example
    with pytest.raises(ValueError, match="not sorted"):
        nm.build_model(data.isel(time=slice(None, None, -1)))
    with pytest.raises(ValueError, match="non-finite"):
        nm.build_model(data.assign(intensity=data["intensity"].where(data["time"] > 1e-3)))
    with pytest.raises(ValueError, match="'time' axis"):
        nm.build_model(data.rename(time="x"))
    with pytest.raises(ValueError, match="all zero"):
        nm.build_model(data.assign(intensity=0 * data["intensity"]))
    with pytest.raises(ValueError, match="sigma must be positive"):
        nm.build_model(data, sigma=np.zeros(data.sizes["time"]))


# --------------------------------------------------------------------------------------
# Priors, log-density, data containers
# --------------------------------------------------------------------------------------


def test_parameters_of_each_variant():
    assert nm.parameter_names("single") == ["T1", "M0", "offset"]
    assert nm.parameter_names("stretched") == ["T1", "stretch", "M0", "offset"]
    assert nm.parameter_names("two_component") == ["T1", "weight", "M0", "offset"]
    assert nm.parameter_names("single", "inversion") == ["T1", "M0", "inversion"]
    assert nm.parameter_names("single", offset=False) == ["T1", "M0"]


def test_log_uniform_prior_is_normalised_and_samples_log_uniformly():
    data = nm.simulate(np.geomspace(2e-4, 0.5, 10), T1=0.01, spin=3.5, sigma=0.01, rng=1)
    model = nm.build_model(data, spin=3.5)
    lower, upper = 1 * 2e-4, 28 * 0.5
    T1 = model["T1"]
    value = model.rvs_to_values[T1]
    logp = pytensor.function([value], model.logp(vars=[T1], jacobian=True), mode=PYTHON)
    total, _ = integrate.quad(lambda z: np.exp(logp(np.array([z]))), -60, 60, limit=200)
    assert total == pytest.approx(1.0, abs=1e-8)
    backward = model.rvs_to_transforms[T1].backward(value)
    back = pytensor.function([value], backward, mode=PYTHON)
    assert back(np.array([-40.0]))[0] == pytest.approx(lower, rel=1e-9)
    assert back(np.array([40.0]))[0] == pytest.approx(upper, rel=1e-9)
    density = pytensor.function([value], model.logp(vars=[T1], jacobian=False), mode=PYTHON)
    t1 = 0.3
    z = np.log(np.log(t1 / lower) / np.log(upper / t1))  # logit of the log position
    assert density(np.array([z])) == pytest.approx(-np.log(t1) - np.log(np.log(upper / lower)))
    draws = pm.draw(T1, 2000, random_seed=3).ravel()
    u = (np.log(draws) - np.log(lower)) / np.log(upper / lower)
    assert stats.kstest(u, "uniform").pvalue > 0.01
    assert stats.kstest(draws / upper, "uniform").pvalue < 1e-6  # negative control


def test_logp_matches_an_independent_density(two_components):
    data, truth = two_components
    model = nm.build_model(data, variant="two_component")
    point = transformed_point(model, truth)
    logp = model.compile_logp(jacobian=False, mode=PYTHON)(point)
    t, y = data["time"].values, data["intensity"].values
    mean = truth["offset"] + truth["M0"] * (
        1
        - truth["weight"][0] * np.exp(-t / truth["T1"][0])
        - truth["weight"][1] * np.exp(-t / truth["T1"][1])
    )
    level = np.abs(y).max()
    lower, upper = t[0], t[-1]
    expected = (
        stats.norm.logpdf(y, mean, 0.01).sum()
        + np.sum(-np.log(truth["T1"]) - np.log(np.log(upper / lower)))
        + stats.dirichlet.logpdf(truth["weight"], [1, 1])
        + stats.uniform.logpdf(truth["M0"], 0, 2 * level)
        + stats.uniform.logpdf(truth["offset"], -level / 2, level)
    )
    assert logp == pytest.approx(expected, rel=1e-12)


def test_noise_options(example):
    data, _ = example
    estimated = nm.build_model(data.drop_vars("sigma"), variant="single")
    assert "sigma" in [rv.name for rv in estimated.free_RVs]
    sigma = estimated["sigma"]
    value = estimated.rvs_to_values[sigma]
    logp = pytensor.function([value], estimated.logp(vars=[sigma], jacobian=False), mode=PYTHON)
    level = np.abs(data["intensity"].values).max()
    expected = stats.halfnorm.logpdf(0.02, scale=0.1 * level)
    assert logp(np.log(0.02)) == pytest.approx(expected)
    known = nm.build_model(data, variant="single", sigma=0.05)
    (observed,) = known.observed_RVs
    np.testing.assert_array_equal(observed.owner.inputs[-1].eval(), 0.05)
    inversion = nm.build_model(data, variant="single", method="inversion")
    assert [rv.name for rv in inversion.free_RVs] == ["T1", "M0", "inversion"]


def test_priors_without_data_need_a_scale_or_a_prior():
    """The default priors of T1, M0 and offset are scaled by the data: without data the
    caller gives them (here in physical units) or gets an error naming them."""
    with pm.Model(), pytest.raises(ValueError, match=r"\['T1', 'M0', 'offset'\] are scaled"):
        nm.add_priors(variant="single")
    with pm.Model() as model:
        params = nm.add_priors(
            variant="stretched",
            priors={"T1": lambda name, dims: pm.LogNormal(name, -4.6, 1.0, dims=dims)},
            fixed={"M0": 1.0, "offset": 0.0},
            prefix="a_",
        )
    assert [rv.name for rv in model.free_RVs] == ["a_T1", "a_stretch"]
    assert float(params["M0"].eval()) == 1.0


def test_fixed_values(example):
    data, _ = example
    held = nm.build_model(data, variant="stretched", fixed={"stretch": 0.7, "sigma": 0.02})
    assert [rv.name for rv in held.free_RVs] == ["T1", "M0", "offset"]
    (observed,) = held.observed_RVs
    np.testing.assert_array_equal(observed.owner.inputs[-1].eval(), 0.02)
    with pytest.raises(ValueError, match=r"fixed value given for parameter\(s\) \['weight'\]"):
        nm.build_model(data, variant="single", fixed={"weight": [0.5, 0.5]})
    with pytest.raises(ValueError, match="shape"):
        nm.build_model(data, variant="two_component", fixed={"T1": [0.01, 0.02, 0.03]})


def test_mutable_data_share_one_graph():
    times = np.geomspace(1e-4, 1.0, 20)
    first = nm.simulate(times, T1=0.01, spin=1.5, sigma=0.01, rng=1)
    second = nm.simulate(times[:15] * 2, T1=0.05, M0=3.0, spin=1.5, sigma=0.03, rng=2)
    point = {"T1": np.array([0.02]), "stretch": 0.7, "M0": 1.5, "offset": 0.01}
    reference = []
    for data in (first, second):
        model = nm.build_model(data, variant="stretched", spin=1.5)
        reference.append(model.compile_logp(mode=PYTHON)(transformed_point(model, point)))
    model = nm.build_model(first, variant="stretched", spin=1.5, mutable_data=True)
    logp = model.compile_logp(mode=PYTHON)
    assert logp(transformed_point(model, point)) == pytest.approx(reference[0], rel=1e-12)
    scales = nm.prior_scales(second, 1.5)
    with model:
        pm.set_data(
            {
                "intensity_time": second["time"].values,
                "intensity_observed": second["intensity"].values,
                "intensity_sigma": second["sigma"].values,
                **{f"intensity_{k}": v for k, v in scales.items()},
            }
        )
    # the same compiled function, new data and new data-derived prior ranges
    assert logp(transformed_point(model, point)) == pytest.approx(reference[1], rel=1e-12)
    assert reference[0] != pytest.approx(reference[1])


def test_shared_T1_in_an_integrated_model(two_components):
    from functools import partial

    from measurement_models.integration import Measurement, NoisePrecision, integrated_model

    data, _ = two_components
    other = nm.simulate(
        data["time"].values, T1=[0.002, 0.02], weight=[0.4, 0.6], M0=2.0, sigma=0.02, rng=5
    )
    model = integrated_model(
        [
            Measurement("a", data, nm.add_likelihood, NoisePrecision.from_data()),
            Measurement("b", other, nm.add_likelihood, NoisePrecision.from_data()),
        ],
        priors=partial(nm.add_priors, data, variant="two_component"),
        shared=["T1", "weight"],
    )
    assert sorted(rv.name for rv in model.free_RVs) == sorted(
        ["T1", "weight", "a_M0", "a_offset", "b_M0", "b_offset"]
    )
    point = {
        "T1": np.array([0.003, 0.03]),
        "weight": np.array([0.5, 0.5]),
        "a_M0": 1.0,
        "a_offset": 0.0,
        "b_M0": 2.0,
        "b_offset": 0.01,
    }
    logp = model.compile_logp(jacobian=False, mode=PYTHON)(transformed_point(model, point))
    separate = 0.0
    for prefix, d in (("a", data), ("b", other)):
        single = nm.build_model(d, variant="two_component")
        values = {
            "T1": point["T1"],
            "weight": point["weight"],
            "M0": point[f"{prefix}_M0"],
            "offset": point[f"{prefix}_offset"],
        }
        separate += single.compile_logp(jacobian=False, mode=PYTHON)(
            transformed_point(single, values)
        )
    # the shared priors (both from `data`'s time range, the same for `other`) once, not twice
    t = data["time"].values
    log_prior_T1 = np.sum(-np.log(point["T1"]) - np.log(np.log(t[-1] / t[0])))
    log_prior_w = stats.dirichlet.logpdf(point["weight"], [1, 1])
    level_b = np.abs(other["intensity"].values).max()
    level_a = np.abs(data["intensity"].values).max()
    # b's M0 and offset priors are scaled by a's M_ref (the priors factory saw `data`)
    correction = 2 * np.log(level_b) - 2 * np.log(level_a)
    assert logp == pytest.approx(separate - log_prior_T1 - log_prior_w + correction, rel=1e-12)


# --------------------------------------------------------------------------------------
# Data, helpers, plots
# --------------------------------------------------------------------------------------


def test_simulate_records_truth_and_noise():
    times = nm.time_grid(1e-4, 1.0, 4000)
    data = nm.simulate(times, T1=0.01, stretch=0.7, M0=2.0, offset=0.1, sigma=0.05, rng=4)
    expected = nm.forward(times, T1=0.01, M0=2.0, offset=0.1, stretch=0.7)
    residual = data["intensity"].values - expected
    # sample sd of 4000 normal draws: relative standard error 1/sqrt(2·3999) = 1.1 %
    assert residual.std() == pytest.approx(0.05, rel=4 * 0.0112)
    assert abs(residual.mean()) < 4 * 0.05 / np.sqrt(4000)
    assert data.attrs["truth_stretch"] == 0.7 and data.attrs["truth_sigma"] == 0.05
    assert data["time"].attrs["units"] == "s"
    again = nm.simulate(times, T1=0.01, stretch=0.7, M0=2.0, offset=0.1, sigma=0.05, rng=4)
    xr.testing.assert_identical(data, again)
    with pytest.raises(ValueError, match="t_min < t_max"):
        nm.time_grid(1.0, 0.1, 5)


def test_load(tmp_path):
    path = tmp_path / "t1.txt"
    path.write_text(
        "# delay [s]  intensity  sigma\n1e-4 0.01 0.02\n1e-3, 0.30, 0.02\n1e-2 0.9 0.02\n"
    )
    data = nm.load(path)
    np.testing.assert_allclose(data["time"].values, [1e-4, 1e-3, 1e-2])
    np.testing.assert_allclose(data["sigma"].values, 0.02)
    path.write_text("0 0.01\n1e-3 0.3\n")
    with pytest.raises(ValueError, match="times must be positive"):
        nm.load(path)


def test_relabel_components_sorts_by_T1():
    posterior = xr.Dataset(
        {
            "T1": (("chain", "draw", "component"), [[[0.1, 0.01], [0.02, 0.2]]]),
            "weight": (("chain", "draw", "component"), [[[0.7, 0.3], [0.4, 0.6]]]),
            "M0": (("chain", "draw"), [[1.0, 1.1]]),
        }
    )
    sorted_ = nm.relabel_components(posterior)
    np.testing.assert_allclose(sorted_["T1"].values, [[[0.01, 0.1], [0.02, 0.2]]])
    np.testing.assert_allclose(sorted_["weight"].values, [[[0.3, 0.7], [0.4, 0.6]]])


def test_plot_fit_draws_data_band_and_truth(two_components):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data, truth = two_components
    rng = np.random.default_rng(0)
    posterior = xr.Dataset(
        {
            "T1": (
                ("chain", "draw", "component"),
                truth["T1"] * (1 + 0.01 * rng.standard_normal((1, 50, 2))),
            ),
            "weight": (
                ("chain", "draw", "component"),
                np.broadcast_to(truth["weight"], (1, 50, 2)),
            ),
            "M0": (("chain", "draw"), np.full((1, 50), 1.0)),
            "offset": (("chain", "draw"), np.full((1, 50), 0.02)),
        }
    )
    fig, ax = plt.subplots()
    nm.plot_fit(ax, data, posterior)
    assert ax.get_xscale() == "log" and "time [s]" in ax.get_xlabel()
    labels = [line.get_label() for line in ax.get_lines()]
    assert "truth" in labels and "data" in labels
    plt.close(fig)


# --------------------------------------------------------------------------------------
# Free energy against quadrature
# --------------------------------------------------------------------------------------


def quadrature_free_energy(data: xr.Dataset, lower: float, upper: float) -> float:
    r"""F of the single-T1 I = 3/2 central-line model by quadrature over the prior.

    M(t) = c + M0 (1 - R(t)) is linear in (M0, c): for each T1 the Gaussian integral
    over them is exact (the uniform prior box is far wider than the likelihood, which
    is checked), and the remaining integral over u = log T1 (uniform prior on
    [log lower, log upper]) is done by adaptive quadrature.
    """
    t, y = data["time"].values, data["intensity"].values
    sigma = float(data["sigma"].values[0])
    level = np.abs(y).max()
    n = y.size

    def design(u):
        T1 = np.exp(u)
        r = 0.1 * np.exp(-t / T1) + 0.9 * np.exp(-6 * t / T1)  # I = 3/2: Andrew & Tunstall 1961
        return np.column_stack([1 - r, np.ones_like(t)])

    def log_g(u):
        x = design(u)
        coef, *_ = np.linalg.lstsq(x, y, rcond=None)
        rss = np.sum((y - x @ coef) ** 2)
        _, logdet = np.linalg.slogdet(x.T @ x)
        return -(n - 2) / 2 * np.log(2 * np.pi * sigma**2) - rss / (2 * sigma**2) - logdet / 2

    a, b = np.log(lower), np.log(upper)
    best = optimize.minimize_scalar(lambda u: -log_g(u), bounds=(a, b), method="bounded")
    peak = -best.fun
    x = design(best.x)
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    sd = sigma * np.sqrt(np.diag(np.linalg.inv(x.T @ x)))
    assert 0 < coef[0] - 10 * sd[0] and coef[0] + 10 * sd[0] < 2 * level  # M0 box
    assert -level / 2 < coef[1] - 10 * sd[1] and coef[1] + 10 * sd[1] < level / 2  # c box
    value, error = integrate.quad(
        lambda u: np.exp(log_g(u) - peak), a, b, points=[best.x], limit=500, epsabs=0, epsrel=1e-10
    )
    assert error < 1e-8 * value
    log_z = peak + np.log(value) - np.log(b - a) - np.log(2 * level) - np.log(level)
    return -log_z


def test_free_energy_matches_quadrature():
    """Replica exchange's F of the single model (T1, M0, offset; σ known) against
    quadrature, at the smallest noise of the selection study (the sharpest likelihood).

    Tolerance 4 MCSE. Negative control: the same tolerance rejects an F off by log 2
    (the size of a forgotten symmetry factor of a two-component prior).
    """
    from samplers import ReplicaExchangeSettings, sample_free_energy

    times = nm.REFERENCES["selection_single"].x
    data = nm.simulate(times, T1=0.01, spin=1.5, sigma=0.003, rng=7)
    expected = quadrature_free_energy(data, 1e-4, 6.0)  # T1 prior: [1 t_min, 6 t_max]
    settings = ReplicaExchangeSettings(draws=3000, tune=2000, chains=4, cores=1, n_replicas=16)
    model = nm.build_model(data, variant="single", spin=1.5, mutable_data=True)
    _, free = sample_free_energy(model, settings, random_seed=4, progressbar=False)
    tolerance = 4 * free.mcse
    assert abs(free.value - expected) < tolerance, (free, expected)
    assert abs(free.value - (expected + np.log(2))) > tolerance, (free, expected)
