"""Gibbs sampling and Chib's evidence against a model with a closed-form evidence.

The model (normal means with latent group means): y_i | z_i ~ N(z_i, s_y²),
z_i | θ ~ N(θ, s_z²), θ ~ N(m₀, s₀²), i = 1…n. Everything is Gaussian, so, written
out here independently of the estimator:

* the evidence: y ~ N(m₀ 1, (s_y² + s_z²) I + s₀² 1 1ᵀ);
* the likelihood with z integrated out: y_i | θ ~ N(θ, s_y² + s_z²);
* the posterior: θ | y ~ N(m, v), 1/v = 1/s₀² + n/(s_y² + s_z²),
  m = v (m₀/s₀² + Σy/(s_y² + s_z²));
* the Gibbs conditionals: z_i | θ, y ~ N((y_i/s_y² + θ/s_z²) u, u), 1/u = 1/s_y² + 1/s_z²,
  and θ | z ~ N((m₀/s₀² + Σz/s_z²) w, w), 1/w = 1/s₀² + n/s_z² (Chib's ordinate).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from samplers.evidence.chib import GibbsDraws, chib_log_evidence, gibbs_sample

Y = np.array([1.3, 0.2, 2.1, 1.7, 0.9, 1.1, 2.6, 0.4])
S_Y, S_Z, M0, S0 = 0.5, 0.8, 0.0, 3.0
N = Y.size
U = 1 / (1 / S_Y**2 + 1 / S_Z**2)
W = 1 / (1 / S0**2 + N / S_Z**2)


def step(state, rng):
    """One sweep: z | θ, y, then θ | z; records the mean of θ's conditional."""
    z = (Y / S_Y**2 + state["theta"] / S_Z**2) * U + np.sqrt(U) * rng.standard_normal(N)
    mean = (M0 / S0**2 + z.sum() / S_Z**2) * W
    theta = mean + np.sqrt(W) * rng.standard_normal()
    return {"theta": theta, "z": z}, mean


def exact_log_evidence() -> float:
    covariance = (S_Y**2 + S_Z**2) * np.eye(N) + S0**2 * np.ones((N, N))
    return float(stats.multivariate_normal(np.full(N, M0), covariance).logpdf(Y))


def exact_posterior() -> tuple[float, float]:
    v = 1 / (1 / S0**2 + N / (S_Y**2 + S_Z**2))
    return v * (M0 / S0**2 + Y.sum() / (S_Y**2 + S_Z**2)), v


def chib_terms(run: GibbsDraws, ordinate_sd: float = np.sqrt(W)):
    theta_star = run.draws["theta"].mean()
    log_likelihood = stats.norm(theta_star, np.sqrt(S_Y**2 + S_Z**2)).logpdf(Y).sum()
    log_prior = stats.norm(M0, S0).logpdf(theta_star)
    ordinates = stats.norm(np.array(run.records), ordinate_sd).logpdf(theta_star)
    return log_likelihood, log_prior, ordinates


@pytest.fixture(scope="module")
def run() -> GibbsDraws:
    return gibbs_sample(
        step, {"theta": 0.0}, draws=4000, tune=100, chains=2, rng=1, keep=["theta"], record=True
    )


def test_draws_follow_the_exact_posterior(run):
    mean, variance = exact_posterior()
    theta = run.draws["theta"]
    assert theta.shape == (2, 4000)
    batches = np.array([b.mean() for b in np.array_split(theta.ravel(), 40)])
    mcse = batches.std(ddof=1) / np.sqrt(40)
    assert abs(theta.mean() - mean) < 5 * mcse
    assert theta.var() == pytest.approx(variance, rel=0.05)


def test_chib_estimate_is_the_exact_evidence(run):
    value, mcse = chib_log_evidence(*chib_terms(run))
    assert 0 < mcse < 0.01
    assert abs(value - exact_log_evidence()) < 5 * mcse


def test_a_wrong_ordinate_is_rejected_by_the_same_check(run):
    """Negative control: the conditional density of θ with its variance doubled."""
    value, mcse = chib_log_evidence(*chib_terms(run, ordinate_sd=np.sqrt(2 * W)))
    assert abs(value - exact_log_evidence()) > 5 * mcse


def test_the_loop_discards_tuning_restarts_chains_and_keeps_records():
    def count(state, rng):
        return {"n": state["n"] + 1, "label": "ignored"}, state["n"]

    out = gibbs_sample(count, {"n": 0}, draws=3, tune=2, chains=2, rng=0, keep=["n"], record=True)
    np.testing.assert_array_equal(out.draws["n"], [[3, 4, 5], [3, 4, 5]])
    assert out.records == [2, 3, 4, 2, 3, 4]  # the state before each kept sweep
    assert out.state == {"n": 5, "label": "ignored"}
    default = gibbs_sample(step, {"theta": 0.0}, draws=2, tune=0, rng=0)
    assert sorted(default.draws) == ["theta", "z"] and default.draws["z"].shape == (1, 2, N)
    assert default.records == []


def test_same_seed_same_draws():
    first = gibbs_sample(step, {"theta": 0.0}, draws=50, tune=5, chains=2, rng=7)
    second = gibbs_sample(step, {"theta": 0.0}, draws=50, tune=5, chains=2, rng=7)
    np.testing.assert_array_equal(first.draws["theta"], second.draws["theta"])


def test_bad_input():
    with pytest.raises(ValueError, match="draws must be an integer ≥ 1"):
        gibbs_sample(step, {"theta": 0.0}, draws=0)
    with pytest.raises(ValueError, match="tune must be an integer ≥ 0"):
        gibbs_sample(step, {"theta": 0.0}, tune=-1)
    with pytest.raises(ValueError, match=r"no entry \['mu'\]"):
        gibbs_sample(step, {"theta": 0.0}, draws=1, tune=0, keep=["mu"])
    with pytest.raises(ValueError, match="at least 2"):
        chib_log_evidence(0.0, 0.0, [1.0])
    with pytest.raises(ValueError, match="n_batches"):
        chib_log_evidence(0.0, 0.0, [1.0, 2.0, 3.0], n_batches=5)
    with pytest.raises(ValueError, match="finite"):
        chib_log_evidence(-np.inf, 0.0, [1.0, 2.0], n_batches=2)
    with pytest.raises(ValueError, match="finite"):
        chib_log_evidence(0.0, 0.0, [1.0, np.nan], n_batches=2)
