"""Bayesian integration of several measurements, checked against exact answers.

Independent truths: two straight-line datasets of one line, y = 2 x + 0.5, at noise
σ = 0.1 (12 points) and σ = 0.25 (60 points), and a third with slope 2.45 (the second
dataset's noise realisation on a different line). Their exact evidences are Gaussian
densities written out here, N(y; 0, D + X Σ₀ Xᵀ) with the stacked design matrix X of
each sharing pattern (scipy's dense multivariate normal), the slope posterior is the
precision-weighted combination written by hand, and the posterior of estimated noise
precisions is two-dimensional quadrature of the closed-form evidence over (log b₁, log b₂).
Free-energy tolerances are 4 × the MCSE plus the stepping-stone bias bound
(``bias_bound``); posterior moments use ArviZ's MCSE; every sampling run has a fixed seed.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial

import arviz as az
import numpy as np
import pymc as pm
import pytest
import xarray as xr
from scipy import integrate, optimize, stats

from measurement_models import linear, spectral
from measurement_models.integration import (
    DEFAULT_NOISE_PRIOR,
    Measurement,
    NoisePrecision,
    integrated_model,
    separate_models,
    with_noise_precisions,
)
from measurement_models.parameters import transformed_point
from samplers import ReplicaExchangeSettings, noise_precisions_by_scan

PRIOR_SD = 10.0  # the documented default prior of linear: a, b ~ N(0, 10²)
SIGMA = {"precise": 0.1, "noisy": 0.25}
X = {"precise": np.linspace(-1, 1, 12), "noisy": np.linspace(-1, 1, 60)}
SLOPE, INTERCEPT, OTHER_SLOPE = 2.0, 0.5, 2.45
PRIORS = partial(linear.add_priors, n_terms=2)
SETTINGS = ReplicaExchangeSettings(draws=1000, tune=500, chains=2, n_replicas=12)


def simulate(name: str, slope: float = SLOPE) -> xr.Dataset:
    seed = {"precise": 5, "noisy": 2}[name]
    return linear.simulate(X[name], a=slope, b=INTERCEPT, sigma=SIGMA[name], rng=seed)


DATA = {"precise": simulate("precise"), "noisy": simulate("noisy")}
OTHER = simulate("noisy", OTHER_SLOPE)  # same noise draws as DATA["noisy"], slope 2.45


def measurements(noisy: xr.Dataset = DATA["noisy"], noise=None) -> list[Measurement]:
    """The two datasets with fixed precisions b = 1/σ² (or ``noise`` for both)."""
    return [
        Measurement(
            "precise", DATA["precise"], linear.add_likelihood, noise or 1 / SIGMA["precise"] ** 2
        ),
        Measurement("noisy", noisy, linear.add_likelihood, noise or 1 / SIGMA["noisy"] ** 2),
    ]


# --- exact answers, written independently of the package ---------------------------------


def design(pattern: str) -> np.ndarray:
    """Stacked design matrix (precise rows, then noisy rows) of a sharing pattern.

    ``shared``: columns (x, 1); ``separate``: (x₁, 1₁, x₂, 1₂), block diagonal;
    ``slope``: a shared slope and one intercept per dataset, (x, 1₁, 1₂).
    """
    x1, x2 = X["precise"], X["noisy"]
    o1, o2 = np.ones_like(x1), np.ones_like(x2)
    z1, z2 = np.zeros_like(x1), np.zeros_like(x2)
    columns = {
        "shared": [(x1, x2), (o1, o2)],
        "separate": [(x1, z2), (o1, z2), (z1, x2), (z1, o2)],
        "slope": [(x1, x2), (o1, z2), (z1, o2)],
    }[pattern]
    return np.column_stack([np.concatenate(c) for c in columns])


def dense_log_evidence(pattern: str, noisy: xr.Dataset = DATA["noisy"], sigmas=None) -> float:
    """log N(y; 0, diag(σ²) + X Σ₀ Xᵀ), Σ₀ = 10² I, by scipy's dense Gaussian."""
    sigma1, sigma2 = sigmas or (SIGMA["precise"], SIGMA["noisy"])
    y = np.concatenate([DATA["precise"]["y"].values, noisy["y"].values])
    variances = np.concatenate([np.full(12, sigma1**2), np.full(60, sigma2**2)])
    Xd = design(pattern)
    cov = np.diag(variances) + PRIOR_SD**2 * Xd @ Xd.T
    return float(stats.multivariate_normal(np.zeros(y.size), cov).logpdf(y))


def bias_bound(fe) -> float:
    """Stepping-stone estimates log of a mean at every level: by the delta method
    E[log w̄] ≈ log E[w] − Var(w̄)/(2 E[w]²), so each chain's F is biased high by about
    half its squared MCSE (summed over levels). The mean over chains has the mean bias;
    a factor 2 covers correlation between levels: bound = mean(per-chain MCSE²)."""
    return float(np.mean(fe.per_chain_mcse**2))


def assert_free_energy(fe, exact: float) -> None:
    assert abs(fe.value - exact) < 4 * fe.mcse + bias_bound(fe), (fe, exact)


def log_density(point: dict, pattern: str, noisy=DATA["noisy"], sigmas=None) -> float:
    """Prior + Gaussian likelihood of both datasets, by scipy, at ``point``."""
    sigma1, sigma2 = sigmas or (SIGMA["precise"], SIGMA["noisy"])
    names = {
        "shared": (("a", "b"), ("a", "b")),
        "separate": (("precise_a", "precise_b"), ("noisy_a", "noisy_b")),
        "slope": (("a", "precise_b"), ("a", "noisy_b")),
    }[pattern]
    total = sum(stats.norm(0, PRIOR_SD).logpdf(point[k]) for k in set(sum(names, ())))
    for (a, b), data, sigma in zip(names, (DATA["precise"], noisy), (sigma1, sigma2), strict=True):
        mean = point[a] * data["x"].values + point[b]
        total += stats.norm(mean, sigma).logpdf(data["y"].values).sum()
    return float(total)


# --- exact results and the joint log-density, no sampling ---------------------------------


def test_heteroscedastic_exact_evidence_and_posterior():
    """linear.exact_* with one σ per point against the dense Gaussian and the direct
    posterior formula (used below as the stacked datasets' exact answer)."""
    x = np.concatenate([X["precise"], X["noisy"]])
    y = np.concatenate([DATA["precise"]["y"].values, DATA["noisy"]["y"].values])
    sigma = np.concatenate([np.full(12, 0.1), np.full(60, 0.25)])
    assert linear.exact_log_evidence(x, y, sigma, 2) == pytest.approx(
        dense_log_evidence("shared"), abs=1e-9
    )
    Xd = design("shared")
    precision = np.eye(2) / PRIOR_SD**2 + Xd.T @ (Xd / sigma[:, None] ** 2)
    mean, cov = linear.exact_posterior(x, y, sigma, 2)
    np.testing.assert_allclose(cov, np.linalg.inv(precision), rtol=1e-12)
    np.testing.assert_allclose(mean, np.linalg.solve(precision, Xd.T @ (y / sigma**2)), rtol=1e-12)
    # a scalar σ gives the same as a constant array
    y1 = DATA["precise"]["y"].values
    assert linear.exact_log_evidence(X["precise"], y1, 0.1) == pytest.approx(
        linear.exact_log_evidence(X["precise"], y1, np.full(12, 0.1)), abs=1e-12
    )
    with pytest.raises(ValueError, match="one value per point"):
        linear.exact_log_evidence(x, y, np.ones(3))
    with pytest.raises(ValueError, match="positive and finite"):
        linear.exact_posterior(x, y, np.zeros(x.size))


def test_separate_parameters_factorise_exactly():
    """With nothing shared the prior factorises: the joint evidence is p(D₁) p(D₂)."""
    separate = dense_log_evidence("separate")
    f1 = linear.exact_log_evidence(X["precise"], DATA["precise"]["y"].values, 0.1)
    f2 = linear.exact_log_evidence(X["noisy"], DATA["noisy"]["y"].values, 0.25)
    assert separate == pytest.approx(f1 + f2, abs=1e-9)


@pytest.mark.parametrize("pattern", ["shared", "separate", "slope"])
def test_joint_log_density_adds_every_dataset(pattern):
    """compile_logp of the joint model equals prior + both Gaussian likelihoods
    (normalisations included), and the sum over the separate models' densities."""
    shared = {"shared": None, "separate": (), "slope": "a"}[pattern]
    model = integrated_model(measurements(), PRIORS, shared=shared)
    point = {rv.name: 0.3 + 0.4 * i for i, rv in enumerate(model.free_RVs)}
    assert model.compile_logp()(point) == pytest.approx(log_density(point, pattern), rel=1e-12)
    if pattern == "separate":
        parts = separate_models(measurements(), PRIORS)
        total = sum(
            m.compile_logp()({k: point[f"{name}_{k}"] for k in ("a", "b")})
            for name, m in parts.items()
        )
        assert model.compile_logp()(point) == pytest.approx(total, rel=1e-12)
    if pattern == "shared":
        parts = separate_models(measurements(), PRIORS)
        log_lik = model.compile_fn(model.datalogp)(point)
        assert log_lik == pytest.approx(
            sum(m.compile_fn(m.datalogp)(point) for m in parts.values()), rel=1e-12
        )


def test_estimated_noise_enters_as_a_parameter():
    """b_k ~ LogNormal(0, 5) and σ_k = b_k^(-1/2) in the likelihood, by hand."""
    model = integrated_model(measurements(noise=NoisePrecision.parameter()), PRIORS)
    assert [rv.name for rv in model.free_RVs] == [
        "a",
        "b",
        "precise_noise_precision",
        "noisy_noise_precision",
    ]
    values = {"a": 1.9, "b": 0.6, "precise_noise_precision": 80.0, "noisy_noise_precision": 20.0}
    expected = log_density(values, "shared", sigmas=(80.0**-0.5, 20.0**-0.5)) + sum(
        stats.lognorm(s=5.0, scale=1.0).logpdf(values[k])
        for k in ("precise_noise_precision", "noisy_noise_precision")
    )
    logp = model.compile_logp(jacobian=False)(transformed_point(model, values))
    assert logp == pytest.approx(expected, rel=1e-12)
    # starts at the prior median b = 1, not at the LogNormal mean e^12.5
    assert model.initial_point()["precise_noise_precision_log__"] == pytest.approx(0.0)


def test_names_dims_and_noise_kinds():
    data_sigma = Measurement(
        "precise", DATA["precise"], linear.add_likelihood, NoisePrecision.from_data()
    )
    model = integrated_model([data_sigma, measurements()[1]], PRIORS, shared=["a"])
    assert [rv.name for rv in model.free_RVs] == ["a", "precise_b", "noisy_b"]
    assert [rv.name for rv in model.observed_RVs] == ["precise", "noisy"]
    assert model.named_vars_to_dims["noisy"] == ("noisy_x",)
    np.testing.assert_array_equal(model.coords["noisy_x"], X["noisy"])
    # noise from the data: the likelihood's sigma is the data's sigma variable
    sigma = model["precise"].owner.inputs[-1].eval()
    np.testing.assert_array_equal(np.broadcast_to(sigma, (12,)), DATA["precise"]["sigma"].values)
    assert str(NoisePrecision.fixed(4)) == "fixed b = 4"
    assert NoisePrecision.parameter().prior == DEFAULT_NOISE_PRIOR


def test_spectra_share_positions_and_keep_the_peak_coordinate():
    """Two spectra with shared positions and widths, own heights: names, dims, and the
    joint log-density against priors and Gaussian peaks written out by hand."""
    data, truth = spectral.example_data(0)
    half_heights = truth | {"a": 0.5 * truth["a"]}
    other = spectral.simulate(data["x"].values, sigma=0.05, rng=1, **half_heights)
    both = [
        Measurement("first", data, spectral.add_likelihood, NoisePrecision.from_data()),
        Measurement("second", other, spectral.add_likelihood, 400.0),
    ]
    model = integrated_model(both, partial(spectral.add_priors, n_peaks=2), shared=["mu", "b"])
    assert [rv.name for rv in model.free_RVs] == ["mu", "b", "first_a", "second_a"]
    assert model.named_vars_to_dims["second_a"] == ("peak",)
    assert list(model.coords["peak"]) == [0, 1]
    values = {"mu": truth["mu"], "b": truth["b"], "first_a": truth["a"], "second_a": truth["a"] / 2}
    expected = (
        stats.norm(1.5, np.sqrt(0.2)).logpdf(values["mu"]).sum()
        + stats.gamma(5, scale=1 / 0.04).logpdf(values["b"]).sum()
        + stats.gamma(5, scale=1 / 5).logpdf(values["first_a"]).sum()
        + stats.gamma(5, scale=1 / 5).logpdf(values["second_a"]).sum()
    )
    for name, ds, sigma in (("first", data, 0.1), ("second", other, 400**-0.5)):
        x = ds["x"].values[:, None]
        mean = (values[f"{name}_a"] * np.exp(-values["b"] * (x - values["mu"]) ** 2 / 2)).sum(1)
        expected += stats.norm(mean, sigma).logpdf(ds["intensity"].values).sum()
    logp = model.compile_logp(jacobian=False)(transformed_point(model, values))
    assert logp == pytest.approx(expected, rel=1e-12)


# --- sampled free energies: integrated against separate parameters ----------------------


@pytest.fixture(scope="module")
def free_energies():
    """Replica-exchange F of the integrated (shared) and separate models, for the shared
    truth (``same``) and the different-slope truth (``different``)."""
    results = {}
    for seed, (truth, noisy) in enumerate((("same", DATA["noisy"]), ("different", OTHER))):
        for pattern, shared in (("shared", None), ("separate", ())):
            model = integrated_model(measurements(noisy), PRIORS, shared=shared)
            _, results[truth, pattern] = SETTINGS.sample(
                model, 10 + 2 * seed + (shared == ()), False
            )
    return results


@pytest.mark.parametrize("truth", ["same", "different"])
@pytest.mark.parametrize("pattern", ["shared", "separate"])
def test_sampled_free_energy_matches_the_exact_evidence(free_energies, truth, pattern):
    noisy = DATA["noisy"] if truth == "same" else OTHER
    assert_free_energy(free_energies[truth, pattern], -dense_log_evidence(pattern, noisy))


@pytest.mark.parametrize("truth", ["same", "different"])
def test_free_energy_prefers_the_true_sharing(free_energies, truth):
    """Shared truth: F_integrated < F_1 + F_2; different slopes: F_integrated > F_1 + F_2.
    The exact difference is checked first (|ΔF| several nats), then the sampled one:
    the right sign by more than 4 combined MCSE, and the right value."""
    noisy = DATA["noisy"] if truth == "same" else OTHER
    exact = dense_log_evidence("separate", noisy) - dense_log_evidence("shared", noisy)
    sign = -1 if truth == "same" else 1
    assert sign * exact > 5  # -10.2 nats (same line), +10.2 nats (slopes 2.0 and 2.45)
    shared, separate = free_energies[truth, "shared"], free_energies[truth, "separate"]
    delta = shared.value - separate.value
    se = np.hypot(shared.mcse, separate.mcse)
    assert sign * delta > 4 * se
    assert abs(delta - exact) < 4 * se + bias_bound(shared) + bias_bound(separate)


# --- slope posterior: the precision-weighted combination ----------------------------------


@pytest.fixture(scope="module")
def nuts_shared():
    with integrated_model(measurements(), PRIORS):
        return pm.sample(
            draws=1000,
            tune=1000,
            chains=2,
            cores=1,
            random_seed=7,
            progressbar=False,
            compute_convergence_checks=False,
        )


def test_slope_sd_is_the_precision_weighted_combination(nuts_shared):
    """sd(a)⁻² = 1/10² + Σ_k b_k Σ_i x_ki² (x centred in each dataset, so slope and
    intercept decouple), against NUTS within 4 MCSE; the exact stacked posterior agrees."""
    weights = {k: np.sum(X[k] ** 2) / SIGMA[k] ** 2 for k in X}
    analytic = (1 / PRIOR_SD**2 + sum(weights.values())) ** -0.5
    x = np.concatenate([X["precise"], X["noisy"]])
    y = np.concatenate([DATA["precise"]["y"].values, DATA["noisy"]["y"].values])
    sigma = np.concatenate([np.full(12, 0.1), np.full(60, 0.25)])
    mean, cov = linear.exact_posterior(x, y, sigma, 2)
    assert np.sqrt(cov[0, 0]) == pytest.approx(analytic, rel=1e-12)
    draws = nuts_shared["posterior"]["a"].values
    mcse_sd = float(az.mcse(nuts_shared, method="sd", var_names=["a"])["a"])
    mcse_mean = float(az.mcse(nuts_shared, method="mean", var_names=["a"])["a"])
    assert abs(draws.std() - analytic) < 4 * mcse_sd
    assert abs(draws.mean() - mean[0]) < 4 * mcse_mean
    # Negative controls, the same check has the power to reject: the precise dataset
    # alone, and the two datasets weighted equally (their mean precision for both)
    alone = (1 / PRIOR_SD**2 + weights["precise"]) ** -0.5
    pooled_b = np.mean([1 / SIGMA[k] ** 2 for k in X])
    equal = (1 / PRIOR_SD**2 + pooled_b * sum(np.sum(X[k] ** 2) for k in X)) ** -0.5
    for wrong in (alone, equal):
        assert abs(draws.std() - wrong) > 4 * mcse_sd


# --- estimated noise precisions ------------------------------------------------------------


def log_evidence_grid(log_b1: np.ndarray, log_b2: np.ndarray) -> np.ndarray:
    """log p(D₁, D₂ | b₁, b₂) of the shared line on a grid, from sufficient statistics:
    A = Σ₀⁻¹ + Σ_k b_k X_kᵀX_k, h = Σ_k b_k X_kᵀy_k and
    log p = −½[n log 2π − Σ_k n_k log b_k + log det Σ₀ + log det A + Σ_k b_k y_kᵀy_k − hᵀA⁻¹h]."""
    b = np.stack(np.meshgrid(np.exp(log_b1), np.exp(log_b2), indexing="ij"), axis=-1)
    A = np.broadcast_to(np.eye(2) / PRIOR_SD**2, (*b.shape[:-1], 2, 2)).copy()
    h = np.zeros((*b.shape[:-1], 2))
    value = np.zeros(b.shape[:-1])
    for k, name in enumerate(("precise", "noisy")):
        Xk = np.column_stack([X[name], np.ones_like(X[name])])
        yk = DATA[name]["y"].values
        bk = b[..., k]
        A += bk[..., None, None] * (Xk.T @ Xk)
        h += bk[..., None] * (Xk.T @ yk)
        value += yk.size * np.log(bk) - bk * (yk @ yk) - yk.size * np.log(2 * np.pi)
    value -= 2 * np.log(PRIOR_SD**2) + np.linalg.slogdet(A)[1]
    value += np.einsum("...i,...i", h, np.linalg.solve(A, h[..., None])[..., 0])
    return 0.5 * value


@pytest.fixture(scope="module")
def estimated_noise():
    model = integrated_model(measurements(noise=NoisePrecision.parameter()), PRIORS)
    return SETTINGS.sample(model, 21, False)


def test_estimated_noise_posterior_matches_quadrature(estimated_noise):
    """Posterior means of b_k and F against 2-D quadrature over u_k = log b_k, where the
    default prior is log b ~ N(0, 5²); the truth 1/σ² lies within 3 posterior sd."""
    idata, fe = estimated_noise
    u1 = np.linspace(np.log(100) - 5, np.log(100) + 4, 301)
    u2 = np.linspace(np.log(16) - 3, np.log(16) + 3, 301)
    log_f = log_evidence_grid(u1, u2) + stats.norm(0, 5).logpdf(u1)[:, None]
    log_f += stats.norm(0, 5).logpdf(u2)[None, :]
    shift = log_f.max()
    assert np.all(log_f[[0, -1], :] < shift - 20) and np.all(log_f[:, [0, -1]] < shift - 20)

    def integral(f):
        return integrate.simpson(integrate.simpson(f, x=u2, axis=1), x=u1)

    weights = np.exp(log_f - shift)
    z = integral(weights)
    assert_free_energy(fe, -(np.log(z) + shift))
    mcse = az.mcse(idata, method="mean")
    for k, (name, u) in enumerate((("precise", u1), ("noisy", u2))):
        b = np.exp(u)[:, None] if k == 0 else np.exp(u)[None, :]
        mean = integral(weights * b) / z
        sd = np.sqrt(integral(weights * b**2) / z - mean**2)
        var = f"{name}_noise_precision"
        draws = idata["posterior"][var].values
        assert abs(draws.mean() - mean) < 4 * float(mcse[var]), (name, draws.mean(), mean)
        assert abs(mean - 1 / SIGMA[name] ** 2) < 3 * sd, (name, mean, sd)


def test_quadrature_grid_matches_the_dense_evidence():
    """The sufficient-statistics formula above against scipy's dense Gaussian."""
    value = log_evidence_grid(np.log([80.0]), np.log([20.0]))[0, 0]
    assert value == pytest.approx(
        dense_log_evidence("shared", sigmas=(80.0**-0.5, 20.0**-0.5)), abs=1e-9
    )


@pytest.fixture(scope="module")
def scan():
    """Each dataset's noise scan, from models with reference precisions 10× the truth."""
    reference = measurements()
    reference = [m.with_noise(10 / SIGMA[m.name] ** 2) for m in reference]
    return noise_precisions_by_scan(separate_models(reference, PRIORS), random_seed=3)


def test_noise_scan_recovers_each_precision(scan):
    """b̂_k against the exact minimiser of F_k(b) = −log p(D_k | b) (scipy, on the
    closed-form evidence), and F_k(b̂_k) against the exact minimum."""
    assert list(scan["measurement"].values) == ["precise", "noisy"]
    assert not scan["minimum_at_reference"].any()
    for name in ("precise", "noisy"):
        x, y = X[name], DATA[name]["y"].values
        exact = optimize.minimize_scalar(
            lambda log_b, x=x, y=y: -linear.exact_log_evidence(x, y, np.exp(-0.5 * log_b)),
            bounds=(np.log(1.0), np.log(1e4)),
            method="bounded",
            options={"xatol": 1e-8},
        )
        row = scan.sel(measurement=name)
        b_hat, se = float(row["best_noise_precision"]), float(row["best_noise_precision_se"])
        assert abs(b_hat - np.exp(exact.x)) < 4 * se + 0.01 * np.exp(exact.x), (name, b_hat)
        f_hat, f_se = float(row["free_energy_at_best"]), float(row["free_energy_at_best_mcse"])
        assert abs(f_hat - exact.fun) < 4 * f_se + 0.05, (name, f_hat, exact.fun)
    fixed = with_noise_precisions(measurements(), scan["best_noise_precision"])
    assert [m.noise.value for m in fixed] == pytest.approx(scan["best_noise_precision"].values)


# --- bad input --------------------------------------------------------------------------


def test_bad_input_is_refused_with_a_clear_message():
    good = measurements()
    with pytest.raises(ValueError, match="at least one measurement"):
        integrated_model([], PRIORS)
    with pytest.raises(ValueError, match=r"duplicate measurement name\(s\) \['precise'\]"):
        integrated_model([good[0], good[0]], PRIORS)
    with pytest.raises(ValueError, match="expected Measurement"):
        integrated_model([DATA["precise"]], PRIORS)
    with pytest.raises(ValueError, match=r"unknown shared parameter\(s\) \['slope'\]"):
        integrated_model(good, PRIORS, shared=["a", "slope"])
    with pytest.raises(ValueError, match="clash with parameter names"):
        integrated_model([good[0].with_noise(1.0), replace(good[1], name="a")], PRIORS)
    with pytest.raises(ValueError, match="keywords prefix and names"):
        integrated_model(good, lambda: linear.add_priors(n_terms=2))
    for bad in (0.0, -4.0, np.nan, np.inf, "100", True):
        with pytest.raises(ValueError, match="positive finite number"):
            Measurement("precise", DATA["precise"], linear.add_likelihood, bad)
    with pytest.raises(ValueError, match="unknown noise kind"):
        NoisePrecision("guessed")
    with pytest.raises(ValueError, match="Python identifier"):
        Measurement("XPS 2p", DATA["precise"], linear.add_likelihood, 1.0)
    broken = DATA["precise"].copy(deep=True)
    broken["y"][3] = np.nan
    with pytest.raises(ValueError, match=r"measurement 'precise': 'y' has 1 non-finite"):
        Measurement("precise", broken, linear.add_likelihood, 1.0)
    unsorted = DATA["precise"].isel(x=slice(None, None, -1))
    with pytest.raises(ValueError, match="not sorted"):
        Measurement("precise", unsorted, linear.add_likelihood, 1.0)
    without_sigma = DATA["precise"].drop_vars("sigma")
    with pytest.raises(ValueError, match="needs a 'sigma' variable"):
        Measurement("precise", without_sigma, linear.add_likelihood, NoisePrecision.from_data())

    def forgets_the_name(data, params, sigma, name):
        return linear.add_likelihood(data, params, sigma=sigma, name="y")

    with pytest.raises(ValueError, match="did not add an observed variable named 'precise'"):
        integrated_model([replace(good[0], likelihood=forgets_the_name)], PRIORS)
    with pytest.raises(ValueError, match=r"no parameter\(s\) \['c'\]"):
        with pm.Model():
            linear.add_priors(n_terms=2, names=["a", "c"])
    with pytest.raises(ValueError, match=r"no parameter\(s\) \['eta'\]"):
        with pm.Model():
            spectral.add_priors(n_peaks=2, names=["eta"])
    with pytest.raises(
        ValueError, match=r"no noise precision given for measurement\(s\) \['noisy'\]"
    ):
        with_noise_precisions(good, {"precise": 100.0})
    with pytest.raises(ValueError, match="along one 'measurement' dim"):
        with_noise_precisions(good, xr.DataArray([100.0, 16.0], dims="dataset"))


def test_noise_scan_refuses_models_it_cannot_scan():
    """Checked before any sampling: estimated noise, per-point precisions, no models."""
    estimated = separate_models(measurements(noise=NoisePrecision.parameter()), PRIORS)
    with pytest.raises(ValueError, match=r"model 'precise'.*Gaussian likelihood with fixed"):
        noise_precisions_by_scan(estimated)
    varying = DATA["precise"].assign(sigma=("x", np.linspace(0.05, 0.2, 12)))
    per_point = Measurement("precise", varying, linear.add_likelihood, NoisePrecision.from_data())
    with pytest.raises(ValueError, match="different precisions"):
        noise_precisions_by_scan(separate_models([per_point], PRIORS))
    with pytest.raises(ValueError, match="at least one model"):
        noise_precisions_by_scan({})


def test_noise_scan_flags_a_minimum_at_the_reference_precision():
    """A reference precision below the data's (b_ref = 10 < b̂ ≈ 110): the minimum sits at
    the top of the ladder, so the estimate is only a bound; flagged and warned about."""
    low = [measurements()[0].with_noise(10.0)]
    tiny = ReplicaExchangeSettings(draws=200, tune=200, chains=2, n_replicas=8)
    with pytest.warns(UserWarning, match="only a lower bound"):
        scan = noise_precisions_by_scan(separate_models(low, PRIORS), tiny, random_seed=1)
    assert bool(scan["minimum_at_reference"].sel(measurement="precise"))
    b_hat = float(scan["best_noise_precision"].sel(measurement="precise"))
    assert b_hat == pytest.approx(10.0, rel=1e-3)
