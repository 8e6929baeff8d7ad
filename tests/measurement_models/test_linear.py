"""The straight line: exact results against independent computations, and NUTS against them."""

from __future__ import annotations

import arviz as az
import numpy as np
import pymc as pm
import pytest
from scipy import integrate, optimize, stats

from measurement_models import linear


def test_forward_is_a_line():
    values = linear.forward(np.array([0.0, 1.0, 2.0]), a=2.0, b=0.5)
    np.testing.assert_allclose(values, [0.5, 2.5, 4.5])


@pytest.mark.parametrize("n_terms", [1, 2])
def test_exact_evidence_matches_numerical_integration(line_data, n_terms):
    """log ∫ N(y; Xθ, σ²I) N(θ; 0, 10² I) dθ on a grid (K=2) or by quadrature (K=1)."""
    data, _ = line_data
    x, y, sigma = data["x"].values, data["y"].values, 0.3
    exact = linear.exact_log_evidence(x, y, sigma, n_terms)

    # Integrate around the posterior mode: ±8 posterior sd holds all the mass.
    mean, cov = linear.exact_posterior(x, y, sigma, n_terms)
    sd = np.sqrt(np.diag(cov))

    def log_joint(theta):
        resid = y - linear.design_matrix(x, n_terms) @ theta
        return stats.norm(0, sigma).logpdf(resid).sum() + stats.norm(0, 10).logpdf(theta).sum()

    shift = log_joint(mean)
    if n_terms == 1:
        value, _ = integrate.quad(
            lambda a: np.exp(log_joint(np.array([a])) - shift),
            mean[0] - 8 * sd[0],
            mean[0] + 8 * sd[0],
            epsabs=0,
            epsrel=1e-10,
        )
    else:
        axes = [np.linspace(m - 8 * s, m + 8 * s, 801) for m, s in zip(mean, sd, strict=True)]
        grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 2)
        resid = y[None, :] - grid @ linear.design_matrix(x, 2).T
        log_f = (
            stats.norm(0, sigma).logpdf(resid).sum(1) + stats.norm(0, 10).logpdf(grid).sum(1)
        ).reshape(801, 801)
        value = integrate.simpson(
            integrate.simpson(np.exp(log_f - shift), x=axes[1], axis=1), x=axes[0]
        )
    assert np.log(value) + shift == pytest.approx(exact, abs=1e-6)
    # and the dense N-dimensional Gaussian density gives the same number
    X = linear.design_matrix(x, n_terms)
    dense = stats.multivariate_normal(np.zeros(x.size), sigma**2 * np.eye(x.size) + 100 * X @ X.T)
    assert dense.logpdf(y) == pytest.approx(exact, abs=1e-9)


def test_exact_posterior_is_the_normalised_product(line_data):
    """Posterior density ratio at two points equals likelihood × prior ratio."""
    data, _ = line_data
    x, y = data["x"].values, data["y"].values
    mean, cov = linear.exact_posterior(x, y, 0.3, 2)
    points = [mean + np.array([0.05, -0.02]), mean - np.array([0.03, 0.04])]

    def log_joint(theta):
        resid = y - linear.forward(x, a=theta[0], b=theta[1])
        return stats.norm(0, 0.3).logpdf(resid).sum() + stats.norm(0, 10).logpdf(theta).sum()

    post = stats.multivariate_normal(mean, cov)
    assert post.logpdf(points[0]) - post.logpdf(points[1]) == pytest.approx(
        log_joint(points[0]) - log_joint(points[1]), abs=1e-9
    )


def test_noise_estimate_maximises_marginal_likelihood_with_flat_priors():
    """Okada's lecture, eq. (25): σ² = Σr²/(N−2) maximises p(y|σ²) under flat priors on (a, b).

    With very wide Gaussian priors the exact evidence approaches the flat-prior marginal
    likelihood up to a σ-independent constant; maximise it numerically over σ.
    """
    data = linear.simulate(np.linspace(-1, 1, 30), a=1.5, b=-0.2, sigma=0.4, rng=7)
    x, y = data["x"].values, data["y"].values
    result = optimize.minimize_scalar(
        lambda log_s: -linear.exact_log_evidence(x, y, np.exp(log_s), 2, prior_sd=1e6),
        bounds=(np.log(0.05), np.log(5.0)),
        method="bounded",
        options={"xatol": 1e-10},
    )
    assert np.exp(2 * result.x) == pytest.approx(linear.noise_variance_estimate(x, y), rel=1e-6)
    # and it is not the maximum-likelihood σ² = Σr²/N (negative control)
    residual_ss = linear.noise_variance_estimate(x, y) * (x.size - 2)
    assert np.exp(2 * result.x) != pytest.approx(residual_ss / x.size, rel=1e-3)


@pytest.fixture(scope="module")
def nuts_line(line_data):
    data, _ = line_data
    with linear.build_model(data, n_terms=2, sigma=0.3):
        idata = pm.sample(
            draws=2000, tune=1000, chains=2, cores=1, random_seed=11, progressbar=False
        )
    return data, idata


def test_nuts_matches_exact_posterior_within_5_mcse(nuts_line):
    data, idata = nuts_line
    mean, cov = linear.exact_posterior(data["x"].values, data["y"].values, 0.3, 2)
    sd = np.sqrt(np.diag(cov))
    mcse_mean = az.mcse(idata, method="mean")
    mcse_sd = az.mcse(idata, method="sd")
    for i, name in enumerate(["a", "b"]):
        draws = idata["posterior"][name].values
        assert abs(draws.mean() - mean[i]) < 5 * float(mcse_mean[name]), name
        assert abs(draws.std() - sd[i]) < 5 * float(mcse_sd[name]), name


def test_nuts_check_has_power(nuts_line):
    """Negative control: the same 5·MCSE check rejects the posterior of a wrong σ."""
    data, idata = nuts_line
    _, wrong_cov = linear.exact_posterior(data["x"].values, data["y"].values, 0.6, 2)
    draws = idata["posterior"]["a"].values
    mcse_sd = float(az.mcse(idata, method="sd")["a"])
    assert abs(draws.std() - np.sqrt(wrong_cov[0, 0])) > 5 * mcse_sd


def test_bad_arguments():
    data, _ = linear.example_data(0)
    with pytest.raises(ValueError, match="n_terms must be 1"):
        linear.build_model(data, n_terms=3)
    with pytest.raises(ValueError, match="sigma must be positive"):
        linear.build_model(data, sigma=-1.0)
    with pytest.raises(ValueError, match="unknown parameter"):
        linear.build_model(data, priors={"slope": linear.PARAMETERS["a"].prior})
    with pytest.raises(ValueError, match="at least 3 points"):
        linear.noise_variance_estimate([0.0, 1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"fixed value\(s\) for \['b'\], not parameters"):
        linear.build_model(data, n_terms=1, fixed={"b": 0.5})
    with pytest.raises(ValueError, match="sigma given twice"):
        linear.build_model(data, sigma=0.3, fixed={"sigma": 0.3})
    with pm.Model(), pytest.raises(ValueError, match="no noise level"):
        linear.add_likelihood(data.drop_vars("sigma"), {"a": 1.0})


def test_fixed_sigma_is_a_known_noise_level(line_data):
    """fixed={"sigma": s} and sigma=s give the same model (no sigma variable), and
    without a noise level in the data sigma becomes a variable with the table's prior."""
    data, truth = line_data
    known = linear.build_model(data.drop_vars("sigma"), sigma=0.3)
    held = linear.build_model(data.drop_vars("sigma"), fixed={"sigma": 0.3})
    assert [rv.name for rv in held.free_RVs] == ["a", "b"]
    point = {"a": np.array(truth["a"]), "b": np.array(truth["b"])}
    assert held.compile_logp()(point) == pytest.approx(known.compile_logp()(point), rel=1e-14)
    free = linear.build_model(data.drop_vars("sigma"), prefix="m_")
    assert [rv.name for rv in free.free_RVs] == ["m_a", "m_b", "m_sigma"]


def test_likelihood_is_double_precision_for_float32_exact_sigma():
    """σ = 0.5 is exact in float32; PyTensor must still evaluate the likelihood in float64."""
    data = linear.simulate(np.linspace(-1, 1, 7), a=1.0, b=0.0, sigma=0.5, rng=3)
    model = linear.build_model(data, n_terms=1, sigma=0.5)
    resid = data["y"].values - 1.25 * data["x"].values
    expected = stats.norm(0, 0.5).logpdf(resid).sum()
    assert model.compile_fn(model.datalogp)({"a": np.array(1.25)}) == pytest.approx(
        expected, rel=1e-14
    )
