"""Evidence estimators and their standard errors against exact results, without MCMC.

The draws of every level are generated directly with NumPy from the exact tempered
distributions of a one-dimensional conjugate Gaussian model (independent, or as a
stationary AR(1) series to mimic a Markov chain), so the estimators are tested apart from
any sampler, and the Monte Carlo standard errors can be checked for calibration over
many replicate data sets.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal, stats

from samplers.evidence.thermodynamic import (
    ESTIMATORS,
    batch_means_covariance,
    log_evidence,
    log_evidence_path,
)

# --- batch means on AR(1) series -------------------------------------------------------


def ar1(rng, phi, shape):
    """Stationary AR(1) series x_t = φ x_{t−1} + ε_t, ε ~ N(0, 1), along axis 0."""
    innovations = rng.standard_normal(shape)
    innovations[0] /= np.sqrt(1 - phi**2)  # start in the stationary law
    return signal.lfilter([1.0], [1.0, -phi], innovations, axis=0)


def var_of_mean(phi, m):
    """Exact variance of the mean of m consecutive values of the AR(1) above:
    (1/m²) Σ_{|h|<m} (m − |h|) γ(h) with γ(h) = φ^|h| / (1 − φ²)."""
    h = np.arange(1, m)
    return (m + 2 * np.sum((m - h) * phi**h)) / (m**2 * (1 - phi**2))


def expected_batch_means(phi, n):
    """Exact expectation of the batch-means estimate for the AR(1) above.

    With b = ⌊√n⌋, a = ⌊n/b⌋ and batch means Y_k of the first a·b values,
    E Σ_k (Y_k − Ȳ)² = a Var(Y_k) − a Var(Ȳ), i.e. a (V(b) − V(ab)) with V = var_of_mean.
    """
    b = int(np.sqrt(n))
    a = n // b
    return b / (n * (a - 1)) * a * (var_of_mean(phi, b) - var_of_mean(phi, a * b))


def test_batch_means_variance_of_an_ar1_mean():
    """φ = 0.5, n = 2500 (50 batches of 50), 400 replicate series.

    The truth is Var(x̄) = [n(1+φ)/(1−φ) − 2φ(1−φⁿ)/(1−φ)²] / (n²(1−φ²)) ≈ σ²/(n(1−φ)²).
    Batch means are biased low by O(1/b) ≈ 2.6 % here, the exact expectation of the
    estimator (``expected_batch_means``) carries that bias, and the check is against both:
    the mean of the 400 estimates within 4 standard errors of the expectation, and within
    4 SE plus the computed bias of the truth.
    """
    phi, n, replicates = 0.5, 2500, 400
    series = ar1(np.random.default_rng(0), phi, (n, replicates))
    estimates = np.array([batch_means_covariance(series[:, [r]])[0, 0] for r in range(replicates)])
    mean, se = estimates.mean(), estimates.std(ddof=1) / np.sqrt(replicates)

    truth = var_of_mean(phi, n)
    closed_form = (n * (1 + phi) / (1 - phi) - 2 * phi * (1 - phi**n) / (1 - phi) ** 2) / (
        n**2 * (1 - phi**2)
    )
    assert truth == pytest.approx(closed_form, rel=1e-12)
    assert truth == pytest.approx(1 / (n * (1 - phi) ** 2), rel=0.01)  # σ² = 1
    expected = expected_batch_means(phi, n)
    bias = truth - expected
    assert 0 < bias < 0.05 * truth

    assert abs(mean - expected) < 4 * se, (mean, expected, se)
    assert abs(mean - truth) < 4 * se + bias
    # power: the i.i.d. answer γ(0)/n, a factor (1+φ)/(1−φ) = 3 too small, is rejected
    assert abs(mean - 1 / (n * (1 - phi**2))) > 4 * se


def test_batch_means_covariance_of_a_vector_series():
    """Columns u (AR(1), φ = 0.8) and v = u + e (e white, variance 1): the expected
    estimate is [[E, E], [E, E + 1/n]] with E = expected_batch_means(0.8, n), since for
    white noise V(m) = 1/m gives b a (1/b − 1/(ab)) / (n(a − 1)) = 1/n exactly."""
    phi, n, replicates = 0.8, 1600, 300
    rng = np.random.default_rng(1)
    u = ar1(rng, phi, (n, replicates))
    v = u + rng.standard_normal((n, replicates))
    estimates = np.array(
        [batch_means_covariance(np.column_stack([u[:, r], v[:, r]])) for r in range(replicates)]
    )
    assert estimates.shape == (replicates, 2, 2)
    np.testing.assert_allclose(estimates, estimates.transpose(0, 2, 1), rtol=1e-12)
    e = expected_batch_means(phi, n)
    expected = np.array([[e, e], [e, e + 1 / n]])
    mean = estimates.mean(axis=0)
    se = estimates.std(axis=0, ddof=1) / np.sqrt(replicates)
    assert np.all(np.abs(mean - expected) < 4 * se), (mean - expected) / se


def test_batch_means_needs_two_batches():
    assert batch_means_covariance(np.arange(2.0)[:, None]).shape == (1, 1)
    with pytest.raises(ValueError, match="standard error"):
        batch_means_covariance(np.ones((1, 3)))


# --- a conjugate model whose tempered distributions are known ----------------------------

PRIOR_SD, NOISE_SD, N_POINTS = 2.0, 1.0, 10
_y = np.random.default_rng(0).normal(1.0, NOISE_SD, N_POINTS)
YBAR, SCATTER = _y.mean(), float(((_y - _y.mean()) ** 2).sum())
CONSTANT = -0.5 * N_POINTS * np.log(2 * np.pi * NOISE_SD**2)


def log_lik(x):
    """ℓ(x) = Σ_i log N(y_i; x, σ²) = const − (S + n (x − ȳ)²) / (2σ²)."""
    return CONSTANT - (SCATTER + N_POINTS * (x - YBAR) ** 2) / (2 * NOISE_SD**2)


def tempered(beta):
    """Mean and sd of φ(x) e^{βℓ(x)}: precision 1/s0² + βn/σ², mean βnȳ/(σ² precision)."""
    precision = 1 / PRIOR_SD**2 + beta * N_POINTS / NOISE_SD**2
    return beta * N_POINTS * YBAR / (NOISE_SD**2 * precision), 1 / np.sqrt(precision)


def exact_log_z(beta):
    """log Z(β) = log ∫ N(x; 0, s0²) e^{βℓ(x)} dx
    = β const − β S/(2σ²) + ½ log(2π v) + log N(ȳ; 0, s0² + v), v = σ²/(βn)."""
    beta = np.atleast_1d(np.asarray(beta, dtype=float))
    out = np.zeros(beta.shape)
    positive = beta > 0
    b = beta[positive]
    v = NOISE_SD**2 / (b * N_POINTS)
    out[positive] = (
        b * CONSTANT
        - b * SCATTER / (2 * NOISE_SD**2)
        + 0.5 * np.log(2 * np.pi * v)
        + stats.norm.logpdf(YBAR, 0.0, np.sqrt(PRIOR_SD**2 + v))
    )
    return out


def exact_mean_log_lik(beta):
    """E_β[ℓ] = d log Z/dβ = const − (S + n(sd² + (m − ȳ)²)) / (2σ²)."""
    mean, sd = tempered(np.asarray(beta, dtype=float))
    return CONSTANT - (SCATTER + N_POINTS * (sd**2 + (mean - YBAR) ** 2)) / (2 * NOISE_SD**2)


def exact_draws(rng, betas, draws, phi=0.0, shared=False):
    """Log-likelihoods of draws from each tempered level, shape (draws, levels).

    Each column is a stationary AR(1) series (φ = 0: independent draws) with the exact
    tempered marginal; ``shared`` drives all levels with one series (strong correlation
    between levels, as swaps create).
    """
    mean, sd = tempered(betas)
    standard = ar1(rng, phi, (draws, 1 if shared else betas.size)) * np.sqrt(1 - phi**2)
    return log_lik(mean + sd * standard)


LADDER = np.concatenate([[0.0], np.geomspace(1e-3, 1.0, 11)])
EXACT = float(exact_log_z(1.0)[0])


def test_exact_log_z_is_the_marginal_likelihood():
    """The closed form against the multivariate normal of y, and E_β[ℓ] against its
    numerical derivative."""
    cov = NOISE_SD**2 * np.eye(N_POINTS) + PRIOR_SD**2 * np.ones((N_POINTS, N_POINTS))
    assert EXACT == pytest.approx(stats.multivariate_normal(np.zeros(N_POINTS), cov).logpdf(_y))
    for beta in (0.01, 0.3, 1.0):
        h = 1e-6
        derivative = (exact_log_z(beta + h) - exact_log_z(beta - h))[0] / (2 * h)
        assert exact_mean_log_lik(beta) == pytest.approx(derivative, rel=1e-6)


@pytest.mark.parametrize("method", ["stepping_stone", "bridge"])
def test_ratio_estimators_on_exact_draws(method):
    """Allowance MCSE²: the bias of the log of a ratio estimate, ≈ −MCSE²/2."""
    log_lik_draws = exact_draws(np.random.default_rng(2), LADDER, 4000)
    estimate, mcse = log_evidence(log_lik_draws, LADDER, method)
    assert 0 < mcse < 0.05
    assert abs(estimate - EXACT) < 4 * mcse + mcse**2, (estimate, EXACT, mcse)


def trapezoid_bias(betas):
    """Exact trapezoid rule on the exact E_β[ℓ], minus the exact log Z(1)."""
    means = exact_mean_log_lik(betas)
    return float(np.sum(np.diff(betas) / 2 * (means[1:] + means[:-1])) - EXACT)


def test_thermodynamic_integration_on_exact_draws():
    """On 64 levels the trapezoid bias, computed from the exact E_β[ℓ], is −0.003 nats,
    about a fifth of the MCSE (0.013); the estimate is unbiased for the exact trapezoid
    sum, and within 4 MCSE plus that bias of log Z itself."""
    betas = np.concatenate([[0.0], np.geomspace(1e-3, 1.0, 63)])
    bias = trapezoid_bias(betas)
    estimate, mcse = log_evidence(
        exact_draws(np.random.default_rng(3), betas, 1000), betas, "thermodynamic_integration"
    )
    assert abs(bias) < 0.25 * mcse
    assert abs(estimate - (EXACT + bias)) < 4 * mcse, (estimate, EXACT, bias, mcse)
    assert abs(estimate - EXACT) < 4 * mcse + abs(bias)


def test_thermodynamic_integration_bias_on_a_coarse_ladder():
    """On the 12-level ladder the trapezoid bias (−0.10 nats) is several MCSE: the estimate
    agrees with the exact trapezoid sum, and the check against log Z itself fails."""
    bias = trapezoid_bias(LADDER)
    estimate, mcse = log_evidence(
        exact_draws(np.random.default_rng(4), LADDER, 4000), LADDER, "thermodynamic_integration"
    )
    assert bias < -4 * mcse
    assert abs(estimate - (EXACT + bias)) < 4 * mcse
    assert abs(estimate - EXACT) > 4 * mcse


def test_evidence_path_follows_exact_log_z():
    log_lik_draws = exact_draws(np.random.default_rng(5), LADDER, 4000)
    values, errors = log_evidence_path(log_lik_draws, LADDER)
    assert values.shape == errors.shape == LADDER.shape
    assert values[0] == 0.0 and errors[0] == 0.0
    assert np.all(errors[1:] > 0)
    exact = exact_log_z(LADDER)
    assert np.all(np.abs(values - exact) <= 4 * errors + errors**2), (values - exact) / errors
    # power: log Z(β) changes along the ladder by many standard errors per level
    assert np.all(np.abs(values[1:] - exact[:-1]) > 4 * errors[1:])


# --- calibration of the Monte Carlo standard errors over replicate data sets -------------


def z_scores(draws, phi, shared, replicates, seed, permute=False):
    """(estimate − exact)/MCSE of every method over independent replicate data sets.

    ``permute`` shuffles the draws (the estimates are unchanged, the autocorrelation is
    destroyed), which gives the standard error that ignores autocorrelation."""
    # the expectation of each estimate: TI carries the trapezoid bias of this ladder
    expected = [EXACT + (trapezoid_bias(LADDER) if "integration" in m else 0.0) for m in ESTIMATORS]
    rng = np.random.default_rng(seed)
    z = np.empty((replicates, len(ESTIMATORS)))
    for r in range(replicates):
        log_lik_draws = exact_draws(rng, LADDER, draws, phi=phi, shared=shared)
        shuffled = log_lik_draws[rng.permutation(draws)] if permute else log_lik_draws
        for m, method in enumerate(ESTIMATORS):
            estimate, mcse = log_evidence(shuffled, LADDER, method)
            z[r, m] = (estimate - expected[m]) / mcse
    return z


@pytest.mark.parametrize(
    ("phi", "shared"),
    [(0.0, False), (0.8, False), (0.8, True)],
    ids=["independent", "autocorrelated", "autocorrelated-shared"],
)
def test_mcse_is_calibrated(phi, shared):
    """Over 200 replicates the z-scores have mean ≈ 0 and sd ≈ 1 for every method.

    The sd of 200 standard normals has a standard error of 0.05, and the batch-means MCSE
    (≈ 44 batches) is itself uncertain by ≈ 11 % and biased low by O(1/b) for φ = 0.8
    (≈ 5 % in the SE), hence the window [0.8, 1.25]. The mean is within 4/√200 ≈ 0.28
    plus 0.1 for the biases of the logarithm.
    """
    z = z_scores(draws=2000, phi=phi, shared=shared, replicates=200, seed=6)
    sd = z.std(axis=0, ddof=1)
    assert np.all((sd > 0.8) & (sd < 1.25)), dict(zip(ESTIMATORS, sd, strict=True))
    assert np.all(np.abs(z.mean(axis=0)) < 0.38), dict(zip(ESTIMATORS, z.mean(axis=0), strict=True))


def test_mcse_that_ignores_autocorrelation_is_rejected():
    """Negative control: with φ = 0.8 the same estimates with an MCSE that ignores the
    autocorrelation (the draws shuffled) are overconfident by a factor between
    √((1+φ²)/(1−φ²)) ≈ 2.1 (ℓ is quadratic in x, whose square has autocorrelation φ²)
    and √((1+φ)/(1−φ)) = 3; the sd of 60 z-scores is uncertain by ≈ 9 %."""
    z = z_scores(draws=2000, phi=0.8, shared=False, replicates=60, seed=7, permute=True)
    assert np.all(z.std(axis=0, ddof=1) > 1.5), z.std(axis=0, ddof=1)


# --- errors ---------------------------------------------------------------------------


def test_invalid_inputs_are_rejected():
    good = exact_draws(np.random.default_rng(8), LADDER, 100)
    for method in ESTIMATORS:
        assert np.isfinite(log_evidence(good, LADDER, method)[0])
    with pytest.raises(ValueError, match="must have shape"):
        log_evidence(good[:, :-1], LADDER)
    with pytest.raises(ValueError, match="must have shape"):
        log_evidence(good[:, 0], LADDER[:1])
    with pytest.raises(ValueError, match="must have shape"):
        log_evidence_path(good.T, LADDER)
    for bad_value in (np.nan, np.inf, -np.inf):
        bad = good.copy()
        bad[3, 4] = bad_value
        with pytest.raises(ValueError, match="NaN or inf"):
            log_evidence(bad, LADDER)
        with pytest.raises(ValueError, match="NaN or inf"):
            log_evidence_path(bad, LADDER)
    shifted = LADDER[1:]
    with pytest.raises(ValueError, match="start at β = 0"):
        log_evidence(good[:, 1:], shifted)
    with pytest.raises(ValueError, match="start at β = 0"):
        log_evidence_path(good[:, 1:], shifted)
    with pytest.raises(ValueError, match="unknown free-energy method 'harmonic_mean'"):
        log_evidence(good, LADDER, "harmonic_mean")


@pytest.mark.parametrize(
    "betas",
    [[0.0, 0.5, 0.7], [0.0, 0.8, 0.3], [0.0, np.nan, 1.0]],
    ids=["not-ending-at-1", "not-increasing", "nan"],
)
@pytest.mark.parametrize("method", ESTIMATORS)
def test_invalid_ladders_are_rejected(betas, method):
    """A ladder that does not end at 1 silently gives log Z(β_L) labelled as log Z(1); a
    non-increasing one a meaningless number; a NaN level NaN (bridge: RuntimeWarnings)."""
    good = exact_draws(np.random.default_rng(9), np.array([0.0, 0.5, 1.0]), 100)
    with pytest.raises(ValueError):
        log_evidence(good, np.array(betas), method)
