"""The Λ model of Gaussian data assimilation against independent computations.

Linear algebra of the joint Gaussian against NumPy written here, the likelihood of a
missing target against numerical integration, the conjugate prior and posterior against
``scipy.stats`` densities, the evidence against quadrature and Student-t predictives,
Gibbs sampling with missing targets against an independent Monte Carlo integral, and
the extrapolation claim of Harashima's demo over many seeds.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import numpy as np
import pymc as pm
import pytest
import xarray as xr
from scipy import integrate, special, stats

from measurement_models import data_assimilation as da
from measurement_models.data_assimilation import optimisation
from measurement_models.parameters import Prior
from samplers.evidence.chib import chib_log_evidence, gibbs_sample

RNG = np.random.default_rng(20240607)


def random_precision(n: int, rng) -> np.ndarray:
    a = rng.normal(size=(n, n))
    return a @ a.T + n * np.eye(n)


def complete_data(n=12, w=None, cov=None, seed=1, basis=None):
    basis = basis or da.Basis("polynomial", 2)
    w = np.array([[1.0, -2.0, 0.5], [0.3, 1.0, -1.0]]) if w is None else w
    cov = np.array([[0.04, 0.02], [0.02, 0.09]]) if cov is None else cov
    x = np.linspace(-1, 1, n)
    data = da.simulate(
        x, rng=seed, observed=np.ones((n, 2), bool), basis=basis, w=w, covariance=cov
    )
    return data, basis


# ------------------------------------------------------------------------------ bases
def test_polynomial_basis_has_cross_terms_up_to_total_degree():
    x = RNG.uniform(-1, 1, (7, 2))
    basis = da.Basis("polynomial", 2)
    expected = np.column_stack(
        [np.ones(7), x[:, 0], x[:, 1], x[:, 0] ** 2, x[:, 0] * x[:, 1], x[:, 1] ** 2]
    )
    np.testing.assert_allclose(basis.features(x), expected)
    assert basis.names(["a", "b"]) == ["1", "a", "b", "a^2", "a*b", "b^2"]
    no_cross = da.Basis("polynomial", 2, cross_terms=False)
    assert no_cross.names(["a", "b"]) == ["1", "a", "b", "a^2", "b^2"]
    assert len(da.Basis("polynomial", 3).indices(3)) == 20  # C(3 + 3, 3)


def test_sine_basis_uses_a_constant_for_n_zero_and_products_across_dimensions():
    x = RNG.uniform(0, 1, (5, 2))
    basis = da.Basis("sine", 3)
    phi = basis.features(x)
    assert phi.shape == (5, 9)
    s = [np.ones(5), np.sin(2 * np.pi * x[:, 0]), np.sin(4 * np.pi * x[:, 0])]
    t = [np.ones(5), np.sin(2 * np.pi * x[:, 1]), np.sin(4 * np.pi * x[:, 1])]
    expected = np.column_stack([s[i] * t[j] for i in range(3) for j in range(3)])
    np.testing.assert_allclose(phi, expected)
    assert basis.names(["x1", "x2"])[:2] == ["1", "sin(2πx2)"]
    assert da.Basis("sine", 7).features(x).shape == (5, 49)  # Harashima's 7 × 7


def test_demo_coefficients_are_the_expansion_of_f1():
    x = np.linspace(0, 1, 11)
    powers = np.vander(x, 4, increasing=True)
    demo = da.REFERENCES["harashima_demo"].params
    np.testing.assert_allclose(powers @ demo["W"]["y_comp"], da.demo_f1(x), atol=1e-12)
    np.testing.assert_allclose(powers @ demo["W"]["y_expt"], da.demo_f1(x) - 1.5, atol=1e-12)
    np.testing.assert_allclose(demo["offset"], -1.5)
    np.testing.assert_allclose(da.demo_f2(x), da.demo_f1(x) - 1.5)


# ------------------------------------------------------------------- Gaussian identities
def test_predictor_is_the_conditional_mean_of_the_joint_gaussian():
    p, q = 4, 2
    precision = random_precision(p + q, RNG)
    cov = np.linalg.inv(precision)
    phi = RNG.normal(size=(6, p))
    conditional_mean = phi @ np.linalg.solve(cov[:p, :p], cov[:p, p:])
    mu = da.forward(phi, lambda_yy=precision[p:, p:], lambda_yx=precision[p:, :p])
    np.testing.assert_allclose(mu, conditional_mean, rtol=1e-10)
    conditional_cov = cov[p:, p:] - cov[p:, :p] @ np.linalg.solve(cov[:p, :p], cov[:p, p:])
    np.testing.assert_allclose(da.predictive_covariance(precision[p:, p:]), conditional_cov)


def test_marginal_precision_is_the_inverse_of_the_covariance_block():
    precision = random_precision(5, RNG)
    cov = np.linalg.inv(precision)
    for keep in ([0], [1, 3], [0, 2, 4]):
        expected = np.linalg.inv(cov[np.ix_(keep, keep)])
        np.testing.assert_allclose(da.marginal_precision(precision, keep), expected, rtol=1e-10)


def test_condition_matches_the_covariance_formula():
    precision = random_precision(4, RNG)
    cov = np.linalg.inv(precision)
    mean = RNG.normal(size=4)
    obs, rest, values = [0, 2], [1, 3], np.array([0.3, -1.2])
    gain = cov[np.ix_(rest, obs)] @ np.linalg.inv(cov[np.ix_(obs, obs)])
    m, lam = da.condition(mean, precision, obs, values)
    np.testing.assert_allclose(m, mean[rest] + gain @ (values - mean[obs]))
    np.testing.assert_allclose(
        np.linalg.inv(lam), cov[np.ix_(rest, rest)] - gain @ cov[np.ix_(obs, rest)]
    )


def test_missing_target_likelihood_is_the_integral_over_the_missing_target():
    basis = da.Basis("polynomial", 1)
    lyy = np.array([[30.0, -12.0], [-12.0, 20.0]])
    lyx = np.array([[-4.0, 6.0], [3.0, -2.0]])
    x = np.array([0.3, -0.4, 0.8])
    data = da.make_data(x, {"y_comp": [1.1, np.nan, 0.2], "y_expt": [np.nan, -0.5, 0.4]})
    mu = da.forward(basis.features(x), lambda_yy=lyy, lambda_yx=lyx)
    joint = [stats.multivariate_normal(mu[i], np.linalg.inv(lyy)) for i in range(3)]

    def integral(i, observed_index, value):
        def density(t):
            point = np.empty(2)
            point[observed_index], point[1 - observed_index] = value, t
            return joint[i].pdf(point)

        return np.log(integrate.quad(density, -np.inf, np.inf, epsabs=0, epsrel=1e-11)[0])

    expected = integral(0, 0, 1.1) + integral(1, 1, -0.5) + joint[2].logpdf([0.2, 0.4])
    assert da.log_likelihood(data, lyy, lyx, basis) == pytest.approx(expected, rel=1e-9)


def test_seed_trace_form_equals_the_sum_of_gaussian_log_densities():
    data, basis = complete_data()
    phi = basis.features(data["x"].values)
    y = np.column_stack([data["y_comp"], data["y_expt"]])
    lyy, lyx = random_precision(2, RNG), RNG.normal(size=(2, 3))
    z = np.hstack([phi, y])
    n = y.shape[0]
    trace_form = (
        0.5 * n * np.linalg.slogdet(lyy)[1]
        - n * np.log(2 * np.pi)
        - 0.5 * np.trace(z.T @ z @ da.lambda0(lyy, lyx))
    )
    mu = da.forward(phi, lambda_yy=lyy, lambda_yx=lyx)
    direct = sum(
        stats.multivariate_normal(mu[i], np.linalg.inv(lyy)).logpdf(y[i]) for i in range(n)
    )
    assert trace_form == pytest.approx(direct, rel=1e-10)
    assert da.log_likelihood(data, lyy, lyx, basis) == pytest.approx(direct, rel=1e-10)


def test_chain_coordinates_and_structural_zeros():
    d = np.array([50.0, 8.0])
    beta = np.array([[0.0, 0.0], [1.3, 0.0]])
    g = np.array([[1.0, 2.0, -1.0], [0.4, 0.0, 0.0]])
    lyy, lyx = da.lambda_from_chain(d, beta, g)
    # zeros of G's last row are zeros of Λ_yx's last row
    np.testing.assert_array_equal(lyx[1, 1:], 0.0)
    w = -np.linalg.solve(lyy, lyx)
    sigma = np.linalg.inv(lyy)
    # W_expt = β W_comp + constant, β = Σ21/Σ11
    assert sigma[1, 0] / sigma[0, 0] == pytest.approx(1.3)
    np.testing.assert_allclose(w[1], 1.3 * w[0] + np.array([0.4, 0.0, 0.0]))
    for back, original in zip(da.chain_from_lambda(lyy, lyx), (d, beta, g), strict=True):
        np.testing.assert_allclose(back, original, atol=1e-12)


# ----------------------------------------------------------------- conjugate machinery
@pytest.mark.parametrize("q", [2, 3])
def test_chain_prior_is_wishart_times_matrix_normal(q):
    """Prior in (d, β, G) divided by the Jacobian Π d_j^(j−1) = scipy density of (Λ_yy, W)."""
    p = 3
    prior = da.ConjugatePrior(
        noise_scale=np.linspace(0.5, 2.0, q), dof=q + 1.5, feature_precision=0.3
    )
    start = da.ConjugatePosterior.start(prior, p, q)
    sigma0, nu0 = prior.resolve(q)
    regs = start.regressions()
    for _ in range(3):
        d = RNG.gamma(2.0, 1.0, q)
        beta = np.tril(RNG.normal(size=(q, q)), -1)
        g = RNG.normal(size=(q, p))
        chain = sum(
            da.normal_gamma_logpdf(regs[j], d[j], np.concatenate([g[j], beta[j, :j]]))
            for j in range(q)
        )
        jacobian = sum(j * np.log(d[j]) for j in range(q))
        lyy, lyx = da.lambda_from_chain(d, beta, g)
        w = -np.linalg.solve(lyy, lyx)
        scipy_density = stats.wishart(nu0, np.diag(1 / (nu0 * sigma0**2))).logpdf(lyy)
        scipy_density += stats.matrix_normal(
            np.zeros((q, p)), np.linalg.inv(lyy), np.eye(p) / 0.3
        ).logpdf(w)
        assert chain - jacobian == pytest.approx(scipy_density, rel=1e-9)


def test_posterior_and_evidence_satisfy_chibs_identity_with_scipy_densities():
    """log p(Y|θ) + log p(θ) − log p(θ|Y) is the same at every θ and equals log p(Y)."""
    data, basis = complete_data()
    prior = da.ConjugatePrior(noise_scale=(0.3, 0.2), dof=3.5, feature_precision=0.01)
    post = da.ConjugatePosterior.from_data(data, basis, prior)
    m, k, s, nu = post.mnw()
    sigma0, nu0 = prior.resolve(2)
    phi = basis.features(data["x"].values)
    y = np.column_stack([data["y_comp"], data["y_expt"]])

    def log_density(lyy, w, dof, scale, mean, col_precision):
        return stats.wishart(dof, scale).logpdf(lyy) + stats.matrix_normal(
            mean, np.linalg.inv(lyy), np.linalg.inv(col_precision)
        ).logpdf(w)

    values = []
    for lyy in stats.wishart(nu, s).rvs(4, random_state=3):
        w = stats.matrix_normal(m, np.linalg.inv(lyy), np.linalg.inv(k)).rvs(random_state=4)
        log_lik = (
            stats.multivariate_normal(np.zeros(2), np.linalg.inv(lyy)).logpdf(y - phi @ w.T).sum()
        )
        log_prior = log_density(
            lyy, w, nu0, np.diag(1 / (nu0 * sigma0**2)), np.zeros((2, 3)), 0.01 * np.eye(3)
        )
        values.append(log_lik + log_prior - log_density(lyy, w, nu, s, m, k))
    np.testing.assert_allclose(values, values[0], rtol=1e-9)
    assert post.log_evidence() == pytest.approx(values[0], rel=1e-9)


def test_evidence_of_one_target_by_quadrature():
    """q = 1: ∫ N(y; 0, (I + ΦΦᵀ/κ)/d) Gamma(d) dd, the coefficients integrated by hand."""
    x = np.linspace(0, 1, 8)
    basis = da.Basis("polynomial", 1)
    phi = basis.features(x)
    y = 0.4 + 1.5 * x + 0.2 * np.sin(9 * x)
    prior = da.ConjugatePrior(noise_scale=0.3, dof=2.0, feature_precision=0.5)
    post = da.ConjugatePosterior.start(prior, 2, 1).update(phi, y[:, None])
    shape, rate = 1.0, 2.0 * 0.09 / 2
    base = np.eye(8) + phi @ phi.T / 0.5

    def integrand(log_d):
        d = np.exp(log_d)
        return np.exp(
            stats.multivariate_normal(np.zeros(8), base / d).logpdf(y)
            + stats.gamma(shape, scale=1 / rate).logpdf(d)
            + log_d
        )

    value, _ = integrate.quad(integrand, -10, 10, epsabs=0, epsrel=1e-10, limit=200)
    assert post.log_evidence() == pytest.approx(np.log(value), abs=1e-7)


def test_sequential_update_equals_batch_and_needs_no_past_data():
    data, basis = complete_data(n=9)
    prior = da.ConjugatePrior(noise_scale=0.2, feature_precision=0.1)
    phi = basis.features(data["x"].values)
    y = np.column_stack([data["y_comp"], data["y_expt"]])
    batch = da.ConjugatePosterior.start(prior, 3).update(phi, y)
    one_by_one = da.ConjugatePosterior.start(prior, 3)
    for i in range(9):
        one_by_one = one_by_one.update(phi[i], y[i])  # only (C, n) is carried along
    np.testing.assert_allclose(one_by_one.statistic, batch.statistic, rtol=1e-12)
    assert one_by_one.n == batch.n == 9
    assert one_by_one.log_evidence() == pytest.approx(batch.log_evidence(), rel=1e-12)
    for a, b in zip(one_by_one.mnw(), batch.mnw(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10)


def test_evidence_increments_are_the_student_t_predictive():
    data, basis = complete_data(n=10)
    prior = da.ConjugatePrior(noise_scale=(0.3, 0.2), feature_precision=0.05)
    phi = basis.features(data["x"].values)
    y = np.column_stack([data["y_comp"], data["y_expt"]])
    post = da.ConjugatePosterior.start(prior, 3).update(phi[:6], y[:6])
    for i in range(6, 10):
        df, loc, shape = post.predictive(phi[i])
        predictive = stats.multivariate_t(loc[0], shape[0], df=df).logpdf(y[i])
        nxt = post.update(phi[i], y[i])
        assert nxt.log_evidence() - post.log_evidence() == pytest.approx(predictive, rel=1e-9)
        post = nxt


def test_restricted_posterior_and_evidence_satisfy_chibs_identity():
    """Structural zeros, chain coordinates: prior and likelihood written here with scipy.

    log p(Y|θ) + log p(θ) − log p(θ|Y) must be the same at every θ (so the posterior is
    likelihood × prior normalised) and equal the closed-form evidence.
    """
    data, basis = complete_data(n=14)
    prior = da.ConjugatePrior(noise_scale=(0.3, 0.2), dof=4.0, feature_precision=0.05)
    post = da.ConjugatePosterior.from_data(data, basis, prior, discrepancy_features=["1"])
    phi = basis.features(data["x"].values)
    y = np.column_stack([data["y_comp"], data["y_expt"]])
    regs = post.regressions()
    values = []
    for _ in range(4):
        d = np.array([stats.gamma(r.shape, scale=1 / r.rate).rvs(random_state=RNG) for r in regs])
        thetas = [
            stats.multivariate_normal(r.mean, np.linalg.inv(d[j] * r.omega)).rvs(random_state=RNG)
            for j, r in enumerate(regs)
        ]
        g1, (g2, beta) = thetas[0], thetas[1]  # y_comp: 1, x, x²; y_expt: 1, then β
        # prior: d_1 ~ Γ((ν₀−1)/2, ν₀σ₀₁²/2), d_2 ~ Γ(ν₀/2, ν₀σ₀₂²/2); β ~ N(0, 1/(d₂ν₀σ₀₁²));
        # coefficients N(0, 1/(d κ))
        log_prior = (
            stats.gamma(1.5, scale=2 / (4 * 0.09)).logpdf(d[0])
            + stats.gamma(2.0, scale=2 / (4 * 0.04)).logpdf(d[1])
            + stats.norm(0, 1 / np.sqrt(d[1] * 4 * 0.09)).logpdf(beta)
            + stats.norm(0, 1 / np.sqrt(d[0] * 0.05)).logpdf(g1).sum()
            + stats.norm(0, 1 / np.sqrt(d[1] * 0.05)).logpdf(g2)
        )
        # likelihood: y_comp = g1·φ + e1, y_expt = β y_comp + g2 + e2
        log_lik = (
            stats.norm(phi @ g1, 1 / np.sqrt(d[0])).logpdf(y[:, 0]).sum()
            + stats.norm(beta * y[:, 0] + g2, 1 / np.sqrt(d[1])).logpdf(y[:, 1]).sum()
        )
        log_post = sum(
            stats.gamma(r.shape, scale=1 / r.rate).logpdf(d[j])
            + stats.multivariate_normal(r.mean, np.linalg.inv(d[j] * r.omega)).logpdf(thetas[j])
            for j, r in enumerate(regs)
        )
        values.append(log_lik + log_prior - log_post)
    np.testing.assert_allclose(values, values[0], rtol=1e-9)
    assert post.log_evidence() == pytest.approx(values[0], rel=1e-9)
    # and the restricted model's likelihood in Λ is the same function
    lyy, lyx = da.lambda_from_chain(d, [[0, 0], [beta, 0]], [g1, [g2, 0, 0]])
    assert da.log_likelihood(data, lyy, lyx, basis) == pytest.approx(log_lik, rel=1e-10)


def test_exact_draws_match_the_posterior_moments():
    data, basis = complete_data(n=12)
    prior = da.ConjugatePrior(noise_scale=(0.3, 0.2), feature_precision=0.05)
    post = da.ConjugatePosterior.from_data(data, basis, prior)
    m, k, s, nu = post.mnw()
    d, beta, g = post.sample(5, 20000)
    lyy, lyx = da.lambda_from_chain(d, beta, g)
    w = -np.linalg.solve(lyy, lyx)
    # E[Λ_yy] = ν S, E[W] = M; matrix-t variance of W: (K⁻¹)_kk (S⁻¹)_jj / (ν − q − 1)
    sd_w = np.sqrt(np.outer(np.diag(np.linalg.inv(s)), np.diag(np.linalg.inv(k))) / (nu - 3))
    assert np.all(np.abs(w.mean(0) - m) < 5 * sd_w / np.sqrt(20000))
    np.testing.assert_allclose(w.std(0), sd_w, rtol=0.05)
    sd_l = np.sqrt(nu * (s**2 + np.outer(np.diag(s), np.diag(s))))
    assert np.all(np.abs(lyy.mean(0) - nu * s) < 5 * sd_l / np.sqrt(20000))
    # the point estimate's predictor is the posterior mean M
    np.testing.assert_allclose(-np.linalg.solve(*post.point()), m, rtol=1e-10)


# -------------------------------------------------------------------------- PyMC model
@pytest.mark.parametrize("rotate", [False, True])
def test_pymc_logp_is_the_conjugate_prior_plus_the_exact_likelihood(rotate):
    """At random points: the model's logp against scipy densities and log_likelihood."""
    data, truth = da.example_data(3)
    basis = da.Basis("polynomial", 3)
    prior = da.DEMO_PRIOR
    model = da.build_model(
        data, basis=basis, discrepancy_features=["1"], conjugate_prior=prior, rotate=rotate
    )
    logp = model.compile_logp(jacobian=False, mode="FAST_COMPILE")
    blocks = model.compile_fn(
        model.replace_rvs_by_values([model["G"], model["Lambda_yy"], model["Lambda_yx"]]),
        inputs=model.value_vars,
        mode="FAST_COMPILE",
    )
    sigma0, nu0 = prior.resolve(2)
    shapes, rates = prior.gamma(2)
    points = [truth] + [
        {
            "conditional_precision": RNG.gamma(3.0, [300.0, 30.0]),
            "coupling": RNG.normal(1.0, 0.3, 1),
            "coefficient": np.concatenate(
                [truth["coefficient"][:4] + RNG.normal(0, 0.05, 4), [-1.0]]
            ),
        }
        for _ in range(2)
    ]
    for point in points:
        values = {
            "conditional_precision_log__": np.log(point["conditional_precision"]),
            "coupling": point["coupling"],
            "coefficient": point["coefficient"],
        }
        g, lyy, lyx = blocks(values)
        d = point["conditional_precision"]
        if not rotate:
            np.testing.assert_allclose(g[0], point["coefficient"][:4])
            np.testing.assert_allclose(g[1], [point["coefficient"][4], 0, 0, 0])
        # a rotation keeps each target's norm, so the isotropic prior is unchanged
        assert np.linalg.norm(g[0]) == pytest.approx(np.linalg.norm(point["coefficient"][:4]))
        np.testing.assert_allclose(
            lyy, da.lambda_from_chain(d, [[0, 0], [point["coupling"][0], 0]], g)[0]
        )
        expected = (
            stats.gamma(shapes, scale=1 / rates).logpdf(d).sum()
            + stats.norm(0, 1 / np.sqrt(d[1] * nu0 * sigma0[0] ** 2))
            .logpdf(point["coupling"])
            .sum()
            + stats.norm(0, 1 / np.sqrt(d[[0, 0, 0, 0, 1]] * 1e-6))
            .logpdf(point["coefficient"])
            .sum()
            + da.log_likelihood(data, lyy, lyx, basis)
        )
        assert np.isfinite(expected)
        assert logp(values) == pytest.approx(expected, rel=1e-10)


def test_pymc_model_writes_joint_rows_as_conditionals():
    """A row observing both targets contributes the bivariate normal log-density."""
    data, basis = complete_data(n=5)
    model = da.build_model(
        data, basis=basis, conjugate_prior=da.ConjugatePrior(noise_scale=0.3), rotate=False
    )
    point = {
        "conditional_precision_log__": np.log([20.0, 15.0]),
        "coupling": np.array([0.4]),
        "coefficient": RNG.normal(size=6),
    }
    data_logp = model.compile_fn(model.datalogp, inputs=model.value_vars, mode="FAST_COMPILE")
    lyy, lyx = da.lambda_from_chain(
        [20.0, 15.0], [[0, 0], [0.4, 0]], point["coefficient"].reshape(2, 3)
    )
    mu = da.forward(basis.features(data["x"].values), lambda_yy=lyy, lambda_yx=lyx)
    y = np.column_stack([data["y_comp"], data["y_expt"]])
    expected = sum(
        stats.multivariate_normal(mu[i], np.linalg.inv(lyy)).logpdf(y[i]) for i in range(5)
    )
    assert data_logp(point) == pytest.approx(expected, rel=1e-10)
    assert len(model.coords["y_observation"]) == 10  # both targets of 5 rows


def test_prior_overrides_and_fixed_parameters():
    """An overridden prior replaces exactly its conjugate term; a fixed value removes it."""
    data, truth = da.example_data(3)
    options = {
        "basis": da.Basis("polynomial", 3),
        "discrepancy_features": ["1"],
        "conjugate_prior": da.DEMO_PRIOR,
        "rotate": False,
    }
    point = {
        "conditional_precision_log__": np.log(truth["conditional_precision"]),
        "coupling": np.array([0.8]),
        "coefficient": truth["coefficient"],
    }
    default = da.build_model(data, **options)
    logp = default.compile_logp(mode="FAST_COMPILE")
    wider = da.build_model(data, priors={"coupling": Prior("Normal", mu=1.0, sigma=0.5)}, **options)
    d2 = truth["conditional_precision"][1]
    _, nu0 = da.DEMO_PRIOR.resolve(2)
    conjugate_term = stats.norm(0, 1 / np.sqrt(d2 * nu0 * 0.03**2)).logpdf(0.8)
    assert wider.compile_logp(mode="FAST_COMPILE")(point) == pytest.approx(
        logp(point) - conjugate_term + stats.norm(1.0, 0.5).logpdf(0.8), rel=1e-12
    )
    held = da.build_model(data, fixed={"coupling": [0.8]}, **options)
    assert "coupling" not in [rv.name for rv in held.free_RVs]
    rest = {k: v for k, v in point.items() if k != "coupling"}
    assert held.compile_logp(mode="FAST_COMPILE")(rest) == pytest.approx(
        logp(point) - conjugate_term, rel=1e-12
    )


def test_mutable_data_share_one_model_across_target_values():
    """pm.set_data with new targets (same rows and pattern) gives the new data's density."""
    data, truth = da.example_data(3)
    other, _ = da.example_data(5)  # other descriptors and targets, the same pattern
    options = {"basis": da.Basis("polynomial", 3), "discrepancy_features": ["1"], "rotate": False}
    point = {
        "conditional_precision_log__": np.log(truth["conditional_precision"]),
        "coupling": truth["coupling"],
        "coefficient": truth["coefficient"],
    }
    mutable = da.build_model(data, mutable_data=True, **options)
    assert sorted(v.name for v in mutable.data_vars) == ["y_features", "y_observed"]
    fixed_data = da.build_model(data, **options).compile_logp(mode="FAST_COMPILE")
    logp = mutable.compile_logp(mode="FAST_COMPILE")
    assert logp(point) == pytest.approx(fixed_data(point), rel=1e-12)
    phi, y, _ = da.table.design(other, options["basis"])
    patterns = sorted(da.algebra.observed_patterns(y).items())
    with mutable:
        pm.set_data(
            {
                "y_features": phi,
                "y_observed": np.concatenate([y[rows, j] for obs, rows in patterns for j in obs]),
            }
        )
    logp = mutable.compile_logp(mode="FAST_COMPILE")
    expected = da.build_model(other, **options).compile_logp(mode="FAST_COMPILE")(point)
    assert logp(point) == pytest.approx(expected, rel=1e-12)
    assert abs(expected - fixed_data(point)) > 1e-3  # far beyond the tolerance: new data


# ------------------------------------------------------------------------ bad inputs
def test_bad_data_are_rejected_with_clear_messages():
    x = np.linspace(0, 1, 4)
    good = {"y_comp": [1.0, np.nan, 2.0, 3.0], "y_expt": [np.nan, 1.0, 2.0, np.nan]}
    da.make_data(x, good)
    with pytest.raises(ValueError, match="every target missing"):
        da.make_data(x, {"y_comp": [1.0, np.nan, 2.0, 3.0], "y_expt": [np.nan] * 2 + [1.0, 1.0]})
    with pytest.raises(ValueError, match="NaN or inf"):
        da.make_data([0.0, np.nan, 0.5, 1.0], good)
    with pytest.raises(ValueError, match="inf"):
        da.make_data(x, {**good, "y_comp": [1.0, np.inf, 2.0, 3.0]})
    with pytest.raises(ValueError, match="mismatched lengths"):
        da.make_data(x, {**good, "y_expt": [1.0, 2.0]})
    with pytest.raises(ValueError, match="never observed"):
        da.make_data(x, {"y_comp": [1.0] * 4, "y_expt": [np.nan] * 4})
    with pytest.raises(ValueError, match="empty data"):
        da.make_data(np.zeros(0), {"y_comp": [], "y_expt": []})
    data = da.make_data(x, good)
    with pytest.raises(ValueError, match="missing data variable"):
        da.validate_data(data.drop_vars("y_expt"))
    with pytest.raises(ValueError, match=r"must be an xarray\.Dataset"):
        da.validate_data({"x": x})
    with pytest.raises(ValueError, match="mismatched lengths or shapes"):
        da.validate_data(data.assign(y_expt=("other", [1.0, 2.0])))
    with pytest.raises(ValueError, match="unknown basis"):
        da.Basis("fourier", 3)
    with pytest.raises(ValueError, match="integer"):
        da.Basis("sine", 0)
    with pytest.raises(ValueError, match="unknown feature"):
        da.build_model(data, basis=da.Basis("polynomial", 1), discrepancy_features=["x^2"])
    with pytest.raises(ValueError, match="out of range"):
        da.build_model(data, basis=da.Basis("polynomial", 1), discrepancy_features=[5])
    with pytest.raises(ValueError, match="complete rows"):
        da.ConjugatePosterior.from_data(data, da.Basis("polynomial", 1), da.ConjugatePrior())
    with pytest.raises(ValueError, match="dof must exceed"):
        da.ConjugatePrior(dof=0.5).resolve(2)
    with pytest.raises(ValueError, match="noise_scale"):
        da.ConjugatePrior(noise_scale=(1.0, -1.0)).resolve(2)
    with pytest.raises(ValueError, match="mismatched shapes"):
        da.ConjugatePosterior.start(da.ConjugatePrior(), 2).update(np.ones((3, 2)), np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"duplicated sample labels \[0\]: a row given twice"):
        da.validate_data(data.isel(sample=[0, 0, 1, 2]))
    with pytest.raises(ValueError, match="'note' has dims \\('other',\\)"):
        da.validate_data(data.assign(note=("other", [1.0, 2.0])))
    da.validate_data(data.assign(note=("sample", [1.0, 2.0, 3.0, 4.0])))  # per-sample extras
    with pytest.raises(ValueError, match="non-finite values"):
        da.validate_data(data.assign(x=data["x"].where(data["sample"] != 1)))
    basis = da.Basis("polynomial", 1)
    with pytest.raises(ValueError, match="sigma must be None"):
        da.build_model(data, basis=basis, sigma=0.1)
    with pm.Model():
        with pytest.raises(ValueError, match="need the data"):
            da.add_priors(basis=basis)
        with pytest.raises(ValueError, match="come together"):
            da.add_priors(data, basis=basis, names=["coupling"])
        with pytest.raises(ValueError, match=r"prior given for unknown parameter\(s\) \['sigma'\]"):
            da.add_priors(data, basis=basis, priors={"sigma": Prior("HalfNormal", sigma=1.0)})
        with pytest.raises(ValueError, match="conditional_precision must be positive"):
            da.add_priors(data, basis=basis, fixed={"conditional_precision": [1.0, -1.0]})


def test_load_reads_missing_targets(tmp_path):
    path = tmp_path / "table.csv"
    path.write_text("# demo\nx,y_comp,y_expt,note\n0.1,1.5,,7\n0.4,nan,0.2,8\n0.9,2.0,0.6,9\n")
    data = da.load(path)
    np.testing.assert_allclose(data["x"].values[:, 0], [0.1, 0.4, 0.9])
    np.testing.assert_array_equal(np.isnan(data["y_comp"].values), [False, True, False])
    np.testing.assert_array_equal(np.isnan(data["y_expt"].values), [True, False, False])
    path.write_text("x,y_comp\n0.1,1.5\n")
    with pytest.raises(ValueError, match="missing column"):
        da.load(path)
    path.write_text("x,y_comp,y_expt\n0.1,,\n")
    with pytest.raises(ValueError, match="every target missing"):
        da.load(path)


# -------------------------------------------------------------- Gibbs sampling, Chib
def test_gibbs_on_complete_data_reproduces_the_conjugate_posterior():
    data, basis = complete_data(n=12)
    prior = da.ConjugatePrior(noise_scale=(0.3, 0.2), feature_precision=0.05)
    exact = da.ConjugatePosterior.from_data(data, basis, prior, discrepancy_features=["1"])
    kernel = da.GibbsKernel(data, basis, prior, ["1"])
    run = gibbs_sample(
        kernel.step, kernel.init(), draws=4000, tune=0, rng=2, keep=da.STATE_DRAWS, record=True
    )
    # nothing to impute: every sweep is an exact independent draw
    d_mean, _, g_mean = exact.mean_chain()
    d = run.draws["d"][0]
    assert np.all(np.abs(d.mean(0) - d_mean) < 5 * d.std(0) / np.sqrt(4000))
    g = run.draws["g"][0]
    assert np.all(np.abs(g.mean(0) - g_mean) <= 5 * g.std(0) / np.sqrt(4000) + 1e-15)
    value, mcse = chib_log_evidence(*kernel.chib_terms(**run.draws, conditionals=run.records))
    assert mcse < 1e-12
    assert value == pytest.approx(exact.log_evidence(), rel=1e-9)


def _missing_data():
    """Non-monotone missingness: experiments without calculations and vice versa."""
    basis = da.Basis("polynomial", 1)
    x = np.array([0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 0.1, 0.5, 0.9])
    y_comp = 1.0 + 2.0 * x[:6] + np.array([0.05, -0.1, 0.08, 0.0, -0.04, 0.1])
    y_expt = 0.8 * (1.0 + 2.0 * x[6:]) - 0.5 + np.array([0.1, -0.05, 0.02])
    data = da.stack_measurements({"y_comp": (x[:6], y_comp), "y_expt": (x[6:], y_expt)})
    prior = da.ConjugatePrior(noise_scale=(0.1, 0.1), dof=6.0, feature_precision=0.1)
    return data, basis, prior


def _reference_evidence(data, basis, prior, restricted, n_draws, seed):
    """Monte Carlo over (d₁, d₂, β) from the prior; G integrated analytically.

    Given (d, β), the observed values are y = A g + T⁻¹e row by row (y_comp = G₁φ + e₁,
    y_expt = β(G₁φ + e₁) + G₂φ + e₂), with g = (G₁, kept G₂) ~ N(0, diag(1/(dκ))):
    a dense Gaussian, N(0, A Σ_g Aᵀ + noise). Written here independently of the module.
    """
    rng = np.random.default_rng(seed)
    phi = basis.features(data["x"].values)
    y = np.column_stack([data["y_comp"], data["y_expt"]])
    rows, cols = np.nonzero(~np.isnan(y))
    values = y[rows, cols]
    sigma0, nu0 = prior.resolve(2)
    kappa = prior.feature_precision
    d1 = rng.gamma((nu0 - 1) / 2, 2 / (nu0 * sigma0[0] ** 2), n_draws)
    d2 = rng.gamma(nu0 / 2, 2 / (nu0 * sigma0[1] ** 2), n_draws)
    beta = rng.normal(0, 1, n_draws) / np.sqrt(d2 * nu0 * sigma0[0] ** 2)
    kept = [0] if restricted else list(range(phi.shape[1]))
    is_expt = (cols == 1)[None, :]
    # A: (draws, n_obs, p + kept); y_comp rows see G₁φ, y_expt rows see βG₁φ and G₂φ
    a1 = phi[rows][None] * np.where(is_expt, beta[:, None], 1.0)[..., None]
    a2 = phi[rows][:, kept][None] * is_expt[..., None]
    a2 = np.broadcast_to(a2, (n_draws, *a2.shape[1:]))
    cov = (a1 @ np.swapaxes(a1, 1, 2)) / (d1 * kappa)[:, None, None]
    cov = cov + (a2 @ np.swapaxes(a2, 1, 2)) / (d2 * kappa)[:, None, None]
    # noise: Cov(T⁻¹e) within a row, T⁻¹ = [[1, 0], [β, 1]]
    same = rows[:, None] == rows[None, :]
    n11 = 1 / d1
    n12 = beta / d1
    n22 = beta**2 / d1 + 1 / d2
    block = np.where(
        (cols[:, None] == 0) & (cols[None, :] == 0),
        n11[:, None, None],
        np.where(
            (cols[:, None] == 1) & (cols[None, :] == 1), n22[:, None, None], n12[:, None, None]
        ),
    )
    cov = cov + np.where(same[None], block, 0.0)
    chol = np.linalg.cholesky(cov)
    white = np.linalg.solve(chol, np.broadcast_to(values, (n_draws, values.size))[..., None])[
        ..., 0
    ]
    log_w = (
        -0.5 * np.sum(white**2, axis=1)
        - np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)
        - 0.5 * values.size * np.log(2 * np.pi)
    )
    log_z = special.logsumexp(log_w) - np.log(n_draws)
    w = np.exp(log_w - log_w.max())
    se = w.std(ddof=1) / np.sqrt(n_draws) / w.mean()
    mean_beta = np.sum(w * beta) / w.sum()
    se_beta = np.sqrt(np.sum(w**2 * (beta - mean_beta) ** 2)) / w.sum()
    return log_z, se, mean_beta, se_beta


@pytest.mark.parametrize("restricted", [True, False])
def test_gibbs_and_chib_with_missing_targets_against_independent_integration(restricted):
    data, basis, prior = _missing_data()
    kernel = da.GibbsKernel(data, basis, prior, ["1"] if restricted else None)
    run = gibbs_sample(
        kernel.step,
        kernel.init(),
        draws=3000,
        tune=300,
        chains=2,
        rng=11,
        keep=da.STATE_DRAWS,
        record=True,
    )
    chib, chib_se = chib_log_evidence(*kernel.chib_terms(**run.draws, conditionals=run.records))
    reference, ref_se, ref_beta, ref_beta_se = _reference_evidence(
        data, basis, prior, restricted, 100_000, seed=5
    )
    assert abs(chib - reference) < 5 * np.hypot(chib_se, ref_se) + 0.02, (chib, reference)
    # the posterior mean of β: Gibbs (batch-means MCSE) against the importance weights
    beta = run.draws["beta"][:, :, 1, 0].ravel()
    batches = np.array([b.mean() for b in np.array_split(beta, 40)])
    gibbs_se = batches.std(ddof=1) / np.sqrt(40)
    assert abs(beta.mean() - ref_beta) < 5 * np.hypot(gibbs_se, ref_beta_se), (
        beta.mean(),
        ref_beta,
    )
    # negative control: the same check rejects the evidence under another prior
    wider = da.ConjugatePrior(noise_scale=(0.1, 0.1), dof=6.0, feature_precision=0.01)
    other, other_se, *_ = _reference_evidence(data, basis, wider, restricted, 20_000, seed=6)
    assert abs(chib - other) > 5 * np.hypot(chib_se, other_se) + 0.02


def test_gibbs_result_as_dataset_has_the_pymc_names():
    data, _ = da.example_data(1)
    basis = da.Basis("polynomial", 3)
    kernel = da.GibbsKernel(data, basis, da.DEMO_PRIOR, ["1"])
    run = gibbs_sample(kernel.step, kernel.init(), draws=50, tune=10, rng=0, keep=da.STATE_DRAWS)
    posterior = kernel.to_dataset(**run.draws)
    assert isinstance(posterior, xr.Dataset)
    assert posterior["W"].dims == ("chain", "draw", "target", "feature")
    assert list(posterior["free_coefficient"].values) == [
        "y_comp:1", "y_comp:x", "y_comp:x^2", "y_comp:x^3", "y_expt:1",
    ]  # fmt: skip
    np.testing.assert_array_equal(posterior["Lambda_yx"].sel(target="y_expt").values[..., 1:], 0)


# ------------------------------------------------------------ Harashima's demonstration
def _extrapolation_errors(seeds, draws=300):
    basis = da.Basis("polynomial", 3)
    grid = np.linspace(0.5, 1.0, 51)
    phi, truth = basis.features(grid), da.demo_f2(grid)
    errors = {"ols": [], "restricted": [], "unrestricted": []}
    for seed in seeds:
        data = da.simulate_demo(seed)
        seen = ~np.isnan(data["y_expt"].values)
        coef = np.polyfit(data["x"].values[seen, 0], data["y_expt"].values[seen], 3)
        errors["ols"].append(np.sqrt(np.mean((np.polyval(coef, grid) - truth) ** 2)))
        for name, kept in (("restricted", ["1"]), ("unrestricted", None)):
            kernel = da.GibbsKernel(data, basis, da.DEMO_PRIOR, kept)
            run = gibbs_sample(
                kernel.step, kernel.init(), draws=draws, tune=100, rng=seed, keep=da.STATE_DRAWS
            )
            lyy, lyx = da.lambda_from_chain(
                run.draws["d"][0], run.draws["beta"][0], run.draws["g"][0]
            )
            w = (-np.linalg.solve(lyy, lyx))[:, 1].mean(0)
            errors[name].append(np.sqrt(np.mean((phi @ w - truth) ** 2)))
    return {k: np.array(v) for k, v in errors.items()}


def test_assimilation_extrapolates_the_experiment_far_better_than_least_squares():
    """Harashima's demo: with the shared shape, 5 experiments on [0, 0.5] predict f2 on [0.5, 1]."""
    errors = _extrapolation_errors(range(16))
    assert np.median(errors["restricted"]) < 0.5
    assert np.median(errors["ols"]) > 5 * np.median(errors["restricted"])
    assert np.mean(errors["restricted"] < errors["ols"]) >= 0.9
    # negative control: the unrestricted model, no row observing both targets, gains nothing
    assert np.median(errors["unrestricted"]) > 5 * np.median(errors["restricted"])


def test_unrestricted_model_decouples_without_joint_rows():
    """The likelihood does not see Σ₁₂, and W_expt = OLS on the experiments maximises it."""
    data, _ = da.example_data(4)
    basis = da.Basis("polynomial", 3)
    phi = basis.features(data["x"].values)
    y = np.column_stack([data["y_comp"], data["y_expt"]])
    w, var = [], []
    for j in range(2):
        seen = ~np.isnan(y[:, j])
        coef, res, *_ = np.linalg.lstsq(phi[seen], y[seen, j], rcond=None)
        w.append(coef)
        var.append(res[0] / seen.sum())
    w = np.array(w)

    def loglik(w, s12):
        cov = np.array([[var[0], s12], [s12, var[1]]])
        lyy = np.linalg.inv(cov)
        return da.log_likelihood(data, lyy, -lyy @ w, basis)

    top = loglik(w, 0.0)
    assert loglik(w, 0.5 * np.sqrt(var[0] * var[1])) == pytest.approx(top, rel=1e-12)
    for _ in range(5):
        step = np.zeros_like(w)
        step[1] = RNG.normal(0, 1e-3, 4)
        assert loglik(w + step, 0.0) < top


# ---------------------------------------------------------------- Bayesian optimisation
def test_bo_problem_is_the_seeds_shared_shape():
    problem = da.bo_problem(0, size=3, grid_points=5)
    x = RNG.uniform(0, 1, (6, 2))
    a, b = problem.truth(x)
    np.testing.assert_allclose(b, a - 2.0 - 0.6 * np.sin(2 * np.pi * x[:, 0]))
    phi = da.Basis("sine", 3).features(x)
    np.testing.assert_allclose(a, phi @ problem.coefficients)


def test_greedy_variance_picks_the_least_explored_points():
    grid = np.linspace(0, 1, 11)[:, None]
    phi = da.Basis("polynomial", 1).features(grid)
    seen = phi[[5, 5, 6]]  # measured in the middle only
    picks = optimisation._greedy_variance_picks(phi, seen, 1e-3, 2)
    assert set(picks) == {0, 10}  # the two ends


@pytest.mark.parametrize("method", ["assimilation", "experiment_only"])
def test_optimisation_loop_runs_and_counts_experiments(method):
    problem = da.bo_problem(1, size=2, grid_points=9)
    out = da.optimise(problem, method, rng=3, max_experiments=12, sweeps=10)
    n = len(out["experiments"])
    assert out["best"].size == n - 4  # one value for the initial five, then one per experiment
    assert np.all(np.diff(out["best"]) >= 0)
    _, truth_b = problem.truth(problem.grid)
    threshold = truth_b.max() - 0.02 * np.ptp(truth_b)
    if out["found_at"] is not None:
        assert out["found_at"] == n and out["best"][-1] >= threshold
    else:
        assert n == 12 and out["best"][-1] < threshold
    with pytest.raises(ValueError, match="unknown method"):
        da.optimise(problem, "random", rng=0)


# ----------------------------------------------------------------- NUTS (slow)
@pytest.mark.slow
def test_nuts_and_replica_exchange_match_the_closed_form():
    """Complete data, conjugate prior in PyMC: NUTS moments and the sampled F."""
    from samplers import ReplicaExchangeSettings

    data, basis = complete_data(
        n=15, basis=da.Basis("polynomial", 1), w=np.array([[1.0, -2.0], [0.3, 1.0]])
    )
    prior = da.ConjugatePrior(noise_scale=(0.3, 0.3), feature_precision=0.01)
    exact = da.ConjugatePosterior.from_data(data, basis, prior)
    m, _, s, nu = exact.mnw()
    model = da.build_model(data, basis=basis, conjugate_prior=prior)
    with model:
        idata = pm.sample(
            draws=2000, tune=1000, chains=2, cores=1, random_seed=3, progressbar=False
        )
    import arviz as az

    w = idata["posterior"]["W"]
    mcse = az.mcse(idata, var_names=["W", "Lambda_yy"], method="mean")
    assert np.all(np.abs(w.mean(("chain", "draw")).values - m) < 5 * mcse["W"].values)
    lyy = idata["posterior"]["Lambda_yy"].mean(("chain", "draw")).values
    assert np.all(np.abs(lyy - nu * s) < 5 * mcse["Lambda_yy"].values)
    settings = ReplicaExchangeSettings(draws=1500, tune=1500, chains=2, cores=1, n_replicas=24)
    _, fe = settings.sample(model, 4, False)
    assert abs(-fe.value - exact.log_evidence()) < 5 * fe.mcse + 0.1


def test_package_is_split_by_concern_and_its_page_is_in_step():
    """Every module of the package has a docstring and one job; the page shows the table."""
    for info in pkgutil.iter_modules(da.__path__):
        module = importlib.import_module(f"{da.__name__}.{info.name}")
        assert module.__doc__, info.name
        assert len(inspect.getsource(module).splitlines()) < 600, info.name
    assert "Checked" in da.__doc__
    page = (Path(__file__).parents[2] / "docs" / "data-assimilation.md").read_text()
    assert da.PARAMETERS.to_markdown() in page
