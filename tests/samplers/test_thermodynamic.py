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
    log_evidence,
    log_evidence_path,
    mean_standard_error,
)

# --- standard errors of AR(1) means ----------------------------------------------------


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


def batch_means_se(series):
    """The estimator mean_standard_error replaced: non-overlapping batch means with
    b = ⌊√n⌋ draws per batch, √(b Σ_k (Ȳ_k − Ȳ)² / (n (a − 1))), per column."""
    n = series.shape[0]
    b = int(np.sqrt(n))
    a = n // b
    means = series[: a * b].reshape(a, b, -1).mean(axis=1)
    return np.sqrt(b * means.var(axis=0, ddof=1) / n)


def coverage(series, errors, phi):
    """Share of replicate means (truth 0) within 1.96 of their standard errors."""
    return float(np.mean(np.abs(series.mean(axis=0)) < 1.96 * errors))


# 400 replicates: a coverage of 0.95 is estimated to ±4 √(0.95·0.05/400) = ±0.044.
COVERAGE_TOLERANCE = 4 * np.sqrt(0.95 * 0.05 / 400)


@pytest.mark.parametrize("phi", [0.0, 0.5, 0.97])
def test_mean_standard_error_of_ar1_means(phi):
    """n = 2500 draws, 400 replicate series, integrated autocorrelation time
    τ = (1+φ)/(1−φ) = 1, 3 and 66 draws. The 95 % intervals x̄ ± 1.96 MCSE cover the true
    mean 0 in 95 % of the replicates, and the mean MCSE is within 10 % of the exact
    sd(x̄) (``var_of_mean``; on seeds 10-12 it is 1-6 % high; at φ = 0.97 the estimate's
    distribution is skewed to the right, its mean square 20-30 % above Var(x̄))."""
    n, replicates = 2500, 400
    series = ar1(np.random.default_rng(10), phi, (n, replicates))
    errors = mean_standard_error(series)
    assert errors.shape == (replicates,)
    assert abs(coverage(series, errors, phi) - 0.95) < COVERAGE_TOLERANCE
    assert np.mean(errors) == pytest.approx(np.sqrt(var_of_mean(phi, n)), rel=0.10)


def test_batch_means_undercover_slow_chains():
    """Negative control, the reason for the ESS: at τ = 66 draws (φ = 0.97, n = 2500)
    batches of ⌊√n⌋ = 50 draws are shorter than the correlation, and the batch-means
    intervals cover the truth far less often than 95 %, while the ESS-based ones do
    (same series)."""
    n, replicates, phi = 2500, 400, 0.97
    series = ar1(np.random.default_rng(10), phi, (n, replicates))
    assert coverage(series, batch_means_se(series), phi) < 0.95 - COVERAGE_TOLERANCE
    assert abs(coverage(series, mean_standard_error(series), phi) - 0.95) < COVERAGE_TOLERANCE


def test_mean_standard_error_shapes_and_limits():
    series = ar1(np.random.default_rng(2), 0.5, (500, 3))
    series[:, 1] = 4.0
    errors = mean_standard_error(series)
    assert errors.shape == (3,) and errors[1] == 0.0
    assert mean_standard_error(series[:, 2]) == pytest.approx(errors[2], rel=1e-12)
    with pytest.raises(ValueError, match="at least 4 draws"):
        mean_standard_error(np.ones((3, 2)))


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

    The sd of 200 standard normals has a standard error of 0.05, and the MCSE (from the
    ESS of 2000 draws) is itself uncertain by several per cent, hence the window
    [0.8, 1.25]. The mean is within 4/√200 ≈ 0.28
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
