"""When to stop measuring: precision curves against closed-form conjugate posteriors.

Two conjugate models, each compiled once (module-scoped, data in ``pm.Data``), are sampled
with NUTS after every accumulated scan, and the posterior sd is compared with its exact
value within 4 Monte Carlo standard errors (ArviZ's MCSE of the sd): for a normal mean
with known σ and a normal prior, sd_n = (1/s0² + m n/σ²)^(-1/2); for a Poisson rate with
a Gamma(α, β) prior, sd = sqrt(α + Σk)/(β + Σt). A negative control scores the same runs
against the prior-free curve σ/√(mn), which they must miss at the first step. The
stopping rules and the exposure inversion are checked on analytic curves.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytest
import xarray as xr

from samplers import (
    StoppingPoint,
    accumulate,
    laplace_sampler,
    precision_curve,
    precision_law,
    predict_precision,
    required_exposure,
    stopping_point,
)

N_MCSE = 4.0  # tolerance in Monte Carlo standard errors (two-sided p ≈ 6e-5 per step)
SIGMA, M, S0, MU0 = 2.0, 4, 1.0, 0.0  # normal: noise sd, points per scan, prior sd, mean
ALPHA, BETA = 2.0, 0.5  # Gamma prior of the Poisson rate (shape, rate)
N_SCANS = 5
FAST = {"draws": 1000, "tune": 500, "chains": 2}


def _scan(values, exposure=None, **extra) -> xr.Dataset:
    ds = xr.Dataset({"y": ("x", np.asarray(values))}, coords={"x": np.arange(len(values))})
    for name, value in extra.items():
        ds[name] = ("x", np.asarray(value))
    if exposure is not None:
        ds.attrs["exposure"] = exposure
    return ds


# --------------------------------------------------------------------------------------
# Conjugate models, compiled once
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def normal_model():
    with pm.Model() as model:
        ybar = pm.Data("ybar", np.zeros(M))
        sd = pm.Data("sd", np.full(M, SIGMA))
        mu = pm.Normal("mu", MU0, S0)
        pm.Normal("y", mu, sd, observed=ybar)
    return model


def _normal_builder(model):
    def build(ds: xr.Dataset) -> pm.Model:
        pm.set_data({"ybar": ds["y"].values, "sd": ds["sigma"].values}, model=model)
        return model

    return build


@pytest.fixture(scope="module")
def normal_run(normal_model):
    rng = np.random.default_rng(1)
    scans = [_scan(1.3 + SIGMA * rng.standard_normal(M), sigma=np.full(M, SIGMA)) for _ in range(5)]
    cumulative = accumulate(scans, variable="y", kind="mean")
    curve = precision_curve(
        _normal_builder(normal_model), cumulative, {"mu": "mu"}, random_seed=3, **FAST
    )
    return scans, curve


@pytest.fixture(scope="module")
def poisson_model():
    with pm.Model() as model:
        counts = pm.Data("counts", np.zeros(3, dtype="int64"))
        time = pm.Data("time", np.ones(3))
        rate = pm.Gamma("rate", alpha=ALPHA, beta=BETA)
        pm.Deterministic("rate_per_minute", rate * 60)
        pm.Poisson("k", rate * time, observed=counts)
    return model


def _poisson_builder(model):
    def build(ds: xr.Dataset) -> pm.Model:
        pm.set_data({"counts": ds["y"].values, "time": ds["time"].values}, model=model)
        return model

    return build


@pytest.fixture(scope="module")
def poisson_run(poisson_model):
    rng = np.random.default_rng(2)
    times = [np.array([0.2, 0.3, 0.5]) * (j + 1) for j in range(N_SCANS)]
    scans = [_scan(rng.poisson(3.0 * t), exposure=t.sum(), time=t) for t in times]
    cumulative = accumulate(scans, variable="y", kind="counts", exposure="time")
    quantities = {"rate": "rate", "per_minute": lambda post: post["rate"] * 60.0}
    curve = precision_curve(_poisson_builder(poisson_model), cumulative, quantities, **FAST)
    return scans, curve


def _normal_exact(n):
    return (1 / S0**2 + M * np.asarray(n) / SIGMA**2) ** -0.5


def test_normal_mean_sd_is_exact_at_every_step(normal_run):
    _, curve = normal_run
    sd = curve["sd"].sel(quantity="mu").values
    mcse = curve["sd_mcse"].sel(quantity="mu").values
    exact = _normal_exact(np.arange(1, 6))
    assert np.all(np.abs(sd - exact) < N_MCSE * mcse), (sd, exact, mcse)
    # the MCSE is ArviZ's: about sd / sqrt(2 ESS) for a near-normal posterior
    ess = curve["ess"].sel(quantity="mu").values
    assert np.all(ess > 300)
    np.testing.assert_allclose(mcse, sd / np.sqrt(2 * ess), rtol=0.5)
    # negative control: without the prior the first step's sd is √2 larger
    no_prior = SIGMA / np.sqrt(M * np.arange(1, 6))
    assert abs(sd[0] - no_prior[0]) > N_MCSE * mcse[0]


def test_normal_mean_posterior_mean_is_exact(normal_run):
    scans, curve = normal_run
    ys = np.array([s["y"].values for s in scans])
    for n in range(1, 6):
        precision = 1 / S0**2 + M * n / SIGMA**2
        exact = (MU0 / S0**2 + ys[:n].sum() / SIGMA**2) / precision
        got = curve["mean"].sel(quantity="mu", step=n).item()
        assert abs(got - exact) < N_MCSE * precision**-0.5 / np.sqrt(500)


def test_curve_coordinates(normal_run, poisson_run):
    _, curve = normal_run
    assert curve["sd"].dims == ("quantity", "step")
    np.testing.assert_array_equal(curve["step"], np.arange(1, 6))
    np.testing.assert_array_equal(curve["exposure"], np.arange(1.0, 6.0))  # no attrs: n scans
    np.testing.assert_array_equal(curve["n_scans"], np.arange(1, 6))
    assert "NUTS" in curve.attrs["sampler"]
    assert curve["divergences"].dims == ("step",) and int(curve["divergences"].max()) == 0
    scans, pcurve = poisson_run
    times = np.cumsum([s.attrs["exposure"] for s in scans])
    np.testing.assert_allclose(pcurve["exposure"], times)


def test_poisson_rate_sd_is_exact_at_every_step(poisson_run):
    scans, curve = poisson_run
    k = np.cumsum([s["y"].values.sum() for s in scans])
    t = np.cumsum([s["time"].values.sum() for s in scans])
    exact = np.sqrt(ALPHA + k) / (BETA + t)
    for label, factor in (("rate", 1.0), ("per_minute", 60.0)):
        sd = curve["sd"].sel(quantity=label).values
        mcse = curve["sd_mcse"].sel(quantity=label).values
        assert np.all(np.abs(sd - factor * exact) < N_MCSE * mcse), (label, sd, exact, mcse)


def test_precision_curve_rejects_unknown_and_empty(normal_model):
    build = _normal_builder(normal_model)
    ds = accumulate([_scan(np.zeros(M), sigma=np.full(M, SIGMA))], variable="y", kind="mean")
    with pytest.raises(ValueError, match="unknown quantity 'nu'"):
        precision_curve(build, ds, {"nu": "nu"})
    with pytest.raises(ValueError, match="unknown quantity 'sigma\\[0\\]'"):
        precision_curve(build, ds, {"s": "sigma[0]"})
    with pytest.raises(ValueError, match="list is empty"):
        precision_curve(build, [], {"mu": "mu"})
    with pytest.raises(ValueError, match="no quantities"):
        precision_curve(build, ds, {})


# --------------------------------------------------------------------------------------
# Accumulation
# --------------------------------------------------------------------------------------


def test_accumulate_counts_add():
    a = _scan([1, 2, 3], exposure=2.0, I0=[10, 20, 30])
    b = _scan([4, 5, 6], exposure=3.0, I0=[1, 1, 1])
    c = _scan([0, 0, 7], exposure=1.5, I0=[2, 2, 2])
    out = accumulate([a, b, c], variable="y", monitors=["I0"])
    np.testing.assert_array_equal(out[1]["y"], [5, 7, 9])
    np.testing.assert_array_equal(out[2]["y"], [5, 7, 16])
    np.testing.assert_array_equal(out[2]["I0"], [13, 23, 33])
    assert out[2]["y"].dtype.kind == "i"  # counts stay whole numbers
    assert [d.attrs["exposure"] for d in out] == [2.0, 5.0, 6.5]
    assert [d.attrs["n_scans"] for d in out] == [1, 2, 3]
    np.testing.assert_array_equal(a["y"], [1, 2, 3])  # inputs untouched


def test_accumulate_means_average_and_sigma_scales():
    scans = [_scan([1.0, 2.0], sigma=[0.4, 0.8]), _scan([3.0, 6.0], sigma=[0.4, 0.8])]
    scans.append(_scan([5.0, 1.0], sigma=[0.4, 0.8]))
    out = accumulate(scans, variable="y", kind="mean")
    np.testing.assert_allclose(out[1]["y"], [2.0, 4.0])
    np.testing.assert_allclose(out[2]["y"], [3.0, 3.0])
    np.testing.assert_allclose(out[2]["sigma"], np.array([0.4, 0.8]) / np.sqrt(3))
    assert [d.attrs["exposure"] for d in out] == [1.0, 2.0, 3.0]  # no attrs: scan count


def test_accumulate_bad_input():
    a, b = _scan([1, 2, 3]), _scan([1, 2, 3])
    shifted = _scan([1, 2, 3]).assign_coords(x=[0.0, 1.0, 2.5])
    with pytest.raises(ValueError, match="scan 2 has a different 'x' axis"):
        accumulate([a, b, shifted], variable="y")
    with pytest.raises(ValueError, match="scan 1 has a different 'x' axis"):
        accumulate([a, _scan([1, 2])], variable="y")
    # read-back jitter within axis_atol is accepted; the first scan's axis is kept
    jitter = _scan([1, 2, 3]).assign_coords(x=[0.004, 1.0, 1.997])
    out = accumulate([a, jitter], variable="y", axis_atol=0.005)
    np.testing.assert_array_equal(out[1]["x"], [0, 1, 2])
    np.testing.assert_array_equal(out[1]["y"], [2, 4, 6])
    with pytest.raises(ValueError, match="scan 1 has a different 'x' axis"):
        accumulate([a, jitter], variable="y", axis_atol=0.002)
    with pytest.raises(ValueError, match="list is empty"):
        accumulate([], variable="y")
    with pytest.raises(ValueError, match=r"scan 0 has no variable\(s\) \['I0'\]"):
        accumulate([a, b], variable="y", monitors=["I0"])
    with pytest.raises(ValueError, match="kind must be"):
        accumulate([a], variable="y", kind="sum")


# --------------------------------------------------------------------------------------
# Stopping rules on analytic curves
# --------------------------------------------------------------------------------------


def _curve(sd, exposure=None, mcse=None) -> xr.Dataset:
    sd = np.asarray(sd, dtype=float)
    steps = np.arange(1, sd.size + 1)
    ds = xr.Dataset(
        {"sd": (("quantity", "step"), sd[None])},
        coords={
            "quantity": ["q"],
            "step": steps,
            "exposure": ("step", steps * 1.0 if exposure is None else exposure),
        },
    )
    if mcse is not None:
        ds["sd_mcse"] = (("quantity", "step"), np.asarray(mcse, dtype=float)[None])
    return ds


def test_target_on_exact_curve():
    n = np.arange(1, 31)
    target = 0.3
    # closed form: (1/s0² + m n/σ²)^(-1/2) <= target  <=>  n >= (1/target² - 1/s0²) σ²/m
    expected = int(np.ceil((1 / target**2 - 1 / S0**2) * SIGMA**2 / M))
    point = stopping_point(_curve(_normal_exact(n), exposure=2.5 * n), "q", target_sd=target)
    assert point == StoppingPoint(expected, 2.5 * expected, _normal_exact(expected), "target")
    unreachable = stopping_point(_curve(_normal_exact(n)), "q", target_sd=0.01)
    assert unreachable == StoppingPoint(None, None, None, "not reached")


def test_target_must_be_kept():
    point = stopping_point(_curve([1.0, 0.4, 0.6, 0.45, 0.3]), "q", target_sd=0.5)
    assert point.step == 4 and point.reason == "target"


def test_plateau_on_floored_curve():
    sigma, delta, rtol = 1.0, 0.1, 0.02
    n = np.arange(1, 61)
    sd = np.sqrt(sigma**2 / n + delta**2)
    # analytic fall per step: 1 - sqrt((σ²/(n+1) + δ²) / (σ²/n + δ²)), decreasing in n
    fall = 1 - np.sqrt((sigma**2 / (n + 1) + delta**2) / (sigma**2 / n + delta**2))
    expected = int(n[np.argmax(fall < rtol)])
    assert 10 < expected < 50
    point = stopping_point(_curve(sd), "q", plateau_rtol=rtol)
    assert point.reason == "plateau" and point.step == expected
    assert point.sd == pytest.approx(np.sqrt(sigma**2 / expected + delta**2))
    # MCSE widens the allowance: a noisy curve levels off no later
    noisy = stopping_point(_curve(sd, mcse=np.full(n.size, 0.002)), "q", plateau_rtol=rtol)
    assert noisy.step < expected


def test_pure_inverse_sqrt_has_no_plateau():
    n = np.arange(1, 11)
    smallest_fall = 1 - np.sqrt(9 / 10)  # 5.1 % between steps 9 and 10
    point = stopping_point(_curve(1 / np.sqrt(n)), "q", plateau_rtol=0.8 * smallest_fall)
    assert point == StoppingPoint(None, None, None, "not reached")
    # the positive side of the same curve: with window 1 the fall drops below 6 % at n = 8
    point = stopping_point(_curve(1 / np.sqrt(n)), "q", plateau_rtol=0.06, window=1)
    assert point.step == 8


def test_stopping_point_bad_input():
    curve = _curve([1.0, 0.5])
    with pytest.raises(ValueError, match="exactly one criterion"):
        stopping_point(curve, "q")
    with pytest.raises(ValueError, match="exactly one criterion"):
        stopping_point(curve, "q", target_sd=0.1, plateau_rtol=0.1)
    for bad in (0.0, -1.0):
        with pytest.raises(ValueError, match="target_sd must be positive"):
            stopping_point(curve, "q", target_sd=bad)
    with pytest.raises(ValueError, match="plateau_rtol must be positive"):
        stopping_point(curve, "q", plateau_rtol=0.0)
    with pytest.raises(ValueError, match="unknown quantity 'r'"):
        stopping_point(curve, "r", target_sd=0.1)


# --------------------------------------------------------------------------------------
# Planning: predicted sd and the exposure for a target
# --------------------------------------------------------------------------------------


def _prediction(t, sd) -> xr.Dataset:
    sd = np.asarray(sd, dtype=float)
    return xr.Dataset(
        {"sd": (("quantity", "exposure", "repeat"), sd[None, :, None])},
        coords={"quantity": ["q"], "exposure": np.asarray(t, float), "repeat": [0]},
    )


def test_required_exposure_inverts_inverse_sqrt():
    c = 3.0
    t = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    prediction = _prediction(t, c / np.sqrt(t))
    law = precision_law(prediction, "q")
    assert law.b == pytest.approx(-0.5, abs=1e-12)
    assert law.scale == pytest.approx(c, rel=1e-9) and law.floor < 1e-6
    for target in (2.0, 1.0, 0.3, 5.0):  # inside, inside, extrapolated down and up
        assert required_exposure(prediction, "q", target) == pytest.approx((c / target) ** 2)


def test_required_exposure_refuses_a_floor_above_target():
    t = np.array([1.0, 2.0, 4.0, 8.0, 16.0, 32.0])
    prediction = _prediction(t, np.sqrt(4.0 / t + 0.2**2))
    assert precision_law(prediction, "q").floor == pytest.approx(0.2, rel=1e-6)
    with pytest.raises(ValueError, match=r"levels off at 0\.2"):
        required_exposure(prediction, "q", 0.15)
    # a target above the floor and inside the planned range: log-log interpolation
    # between t = 16 and 32 approaches the exact t = c² / (target² − δ²) = 19.05
    assert required_exposure(prediction, "q", 0.5) == pytest.approx(
        4.0 / (0.5**2 - 0.2**2), rel=0.05
    )
    with pytest.raises(ValueError, match="target_sd must be positive"):
        required_exposure(prediction, "q", 0.0)


def test_predict_precision_with_exact_sampler(poisson_model):
    """The planning loop: simulate → model → sd, with an exact Gamma-posterior sampler."""
    lam, shape = 3.0, np.array([0.2, 0.3, 0.5])

    def simulate(t, rng):
        time = shape * t
        return _scan(rng.poisson(lam * time), time=time)

    def exact_sampler(model, seed):
        k, time = model["counts"].get_value(), model["time"].get_value()
        draws = np.random.default_rng(seed).gamma(ALPHA + k.sum(), 1 / (BETA + time.sum()), 4000)
        return xr.DataTree.from_dict(
            {"posterior": xr.Dataset({"rate": (("chain", "draw"), draws.reshape(2, 2000))})}
        )

    exposures = [10.0, 40.0, 160.0]
    prediction = predict_precision(
        simulate, _poisson_builder(poisson_model), exposures, {"rate": "rate"},
        repeats=2, sample=exact_sampler, random_seed=7,
    )  # fmt: skip
    assert prediction["sd"].dims == ("quantity", "exposure", "repeat")
    for i, t in enumerate(exposures):
        for r in range(2):
            k = simulate(t, np.random.default_rng([7, i, r]))["y"].values.sum()
            exact = np.sqrt(ALPHA + k) / (BETA + t)
            got = prediction["sd"].sel(quantity="rate").values[i, r]
            assert got == pytest.approx(exact, rel=0.1)  # 4000 iid draws: sd to ~1.1 %
    # sd ≈ sqrt(λ/t): the inversion recovers t = λ / target² within the draws' scatter
    assert required_exposure(prediction, "rate", 0.1) == pytest.approx(lam / 0.01, rel=0.15)
    with pytest.raises(ValueError, match="strictly increasing"):
        predict_precision(simulate, _poisson_builder(poisson_model), [2.0, 1.0], {"r": "rate"})


def test_laplace_sampler_is_exact_for_the_normal_mean(normal_model):
    """A Gaussian posterior: the Laplace approximation is exact; iid draws, sd to ~1.6 %."""
    scans = [_scan(np.array([0.5, 1.0, 1.5, 2.0]) + j, sigma=np.full(M, SIGMA)) for j in range(3)]
    cumulative = accumulate(scans, variable="y", kind="mean")
    sample = laplace_sampler(draws=1000, chains=2, initvals={"mu": 3.0})
    curve = precision_curve(_normal_builder(normal_model), cumulative, {"mu": "mu"}, sample=sample)
    sd = curve["sd"].sel(quantity="mu").values
    np.testing.assert_allclose(sd, _normal_exact([1, 2, 3]), rtol=4 / np.sqrt(2 * 2000))
    ys = np.array([s["y"].values for s in scans])
    precision = 1 / S0**2 + M * np.arange(1, 4) / SIGMA**2
    exact_mean = (MU0 / S0**2 + np.cumsum(ys.sum(axis=1)) / SIGMA**2) / precision
    np.testing.assert_allclose(curve["mean"].sel(quantity="mu"), exact_mean, atol=0.05)
    assert "Laplace" in curve.attrs["sampler"]
