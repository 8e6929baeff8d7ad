"""The NumPy replica-exchange core against analytic truths, on plain NumPy log-densities.

Statistical checks compare an estimate with an exact value to within 4 Monte Carlo
standard errors (from the effective sample size over the sampling phase, which accounts
for the autocorrelation of the chain); every run has a fixed seed. The negative controls
show that the same checks reject a wrong swap rule, a sampler that does not temper, an
unadapted ladder and a wrong evidence.
"""

from __future__ import annotations

import copy
import pickle

import arviz as az
import numpy as np
import pytest
from scipy import stats

from samplers.evidence.thermodynamic import log_evidence, mean_standard_error
from samplers.replica_exchange.kernel import CHOLESKY_INTERVAL, LadderState, ParallelTempering
from samplers.replica_exchange.ladder import (
    NO_OVERLAP,
    count_round_trips,
    default_ladder,
    equalised_ladder,
    first_level_for_gap,
    swap_probabilities,
    validate_ladder,
)

TUNE, DRAWS = 1000, 4000


def standard_error(series: np.ndarray) -> np.ndarray:
    """ESS-based standard error of the mean of each column of ``series``."""
    series = np.asarray(series, dtype=float).reshape(len(series), -1)
    return mean_standard_error(series)


def run(kernel, x0, seed, tune=TUNE, draws=DRAWS):
    """Tune, then sample; returns the final state and the per-draw records."""
    state = kernel.init(x0, np.random.default_rng(seed))
    ladders = []
    for _ in range(tune):
        state, _ = kernel.step(state, tune=True)
        ladders.append(state.betas.copy())
    log_lik, x, swap, replica = [], [], [], []
    for _ in range(draws):
        state, info = kernel.step(state, tune=False)
        log_lik.append(info.log_lik)
        x.append(state.x.copy())
        swap.append(info.swap_probability)
        replica.append(info.replica)
    return state, {
        "tuning_ladders": np.array(ladders),
        "log_lik": np.array(log_lik),
        "x": np.array(x),
        "swap_probability": np.array(swap),
        "replica": np.array(replica),
    }


# --- a conjugate Gaussian: every tempered level and the evidence are known exactly ------


class Conjugate:
    """Prior x_j ~ N(0, s0²) in ``dim`` coordinates; n points y_i ~ N(x, σ² I).

    At inverse temperature β each coordinate is Gaussian with precision
    τ_β = 1/s0² + β n/σ² and mean m_β = β n ȳ/(σ² τ_β).
    """

    def __init__(self, dim=2, n=10, s0=3.0, sigma=1.0, seed=2024):
        self.dim, self.n, self.s0, self.sigma = dim, n, s0, sigma
        rng = np.random.default_rng(seed)
        self.y = rng.normal(np.linspace(1.0, -0.5, dim), sigma, size=(n, dim))
        self.ybar = self.y.mean(axis=0)
        self.scatter = float(((self.y - self.ybar) ** 2).sum())
        self.constant = -0.5 * n * dim * np.log(2 * np.pi * sigma**2)

    def log_density(self, x):
        log_prior = stats.norm.logpdf(x, 0.0, self.s0).sum(axis=1)
        squares = ((self.y[None] - x[:, None, :]) ** 2).sum(axis=(1, 2))
        return log_prior, self.constant - 0.5 * squares / self.sigma**2

    def log_evidence(self, s0=None):
        """log p(y): the columns of y are independent N(0, σ² I + s0² 11ᵀ) vectors."""
        s0 = self.s0 if s0 is None else s0
        cov = self.sigma**2 * np.eye(self.n) + s0**2 * np.ones((self.n, self.n))
        marginal = stats.multivariate_normal(np.zeros(self.n), cov)
        return float(sum(marginal.logpdf(self.y[:, j]) for j in range(self.dim)))

    def tempered(self, beta):
        """Mean (shape (dim,)) and variance of every coordinate at inverse temperature β."""
        precision = 1 / self.s0**2 + beta * self.n / self.sigma**2
        return beta * self.n * self.ybar / (self.sigma**2 * precision), 1 / precision

    def mean_log_lik(self, beta):
        """E_β[ℓ] = const − (S + n Σ_j (v_β + (m_βj − ȳ_j)²)) / (2σ²)."""
        mean, var = self.tempered(beta)
        spread = self.scatter + self.n * np.sum(var + (mean - self.ybar) ** 2)
        return self.constant - spread / (2 * self.sigma**2)


GAUSS = Conjugate()


@pytest.fixture(scope="module", params=["componentwise", "block", "adaptive"])
def gaussian_run(request):
    kernel = ParallelTempering(GAUSS.log_density, n_replicas=10, update=request.param)
    state, record = run(kernel, np.zeros(GAUSS.dim), seed=7)
    return request.param, state, record


def test_conjugate_evidence_matches_exact(gaussian_run):
    """Stepping stone and bridge against the exact log p(y); the allowance MCSE² covers
    the O(MCSE²/2) bias of the logarithm of a ratio estimate."""
    _, state, record = gaussian_run
    exact = GAUSS.log_evidence()
    for method in ("stepping_stone", "bridge"):
        estimate, mcse = log_evidence(record["log_lik"], state.betas, method)
        assert 0 < mcse < 0.2, method
        assert abs(estimate - exact) < 4 * mcse + mcse**2, (method, estimate, exact, mcse)


def test_conjugate_evidence_check_rejects_a_wrong_prior(gaussian_run):
    """Negative control: log p(y) under priors N(0, 4.5²) is ≈ 0.8 nats lower; the same
    4·MCSE check must tell the two apart."""
    _, state, record = gaussian_run
    wrong = GAUSS.log_evidence(s0=1.5 * GAUSS.s0)
    estimate, mcse = log_evidence(record["log_lik"], state.betas, "stepping_stone")
    assert abs(estimate - wrong) > 4 * mcse + mcse**2


def test_posterior_level_matches_exact_posterior(gaussian_run):
    """The β = 1 replica: posterior mean and variance of every coordinate."""
    _, state, record = gaussian_run
    assert state.betas[-1] == 1.0
    x = record["x"][:, -1, :]
    mean, var = GAUSS.tempered(1.0)
    z_mean = (x.mean(axis=0) - mean) / standard_error(x)
    squares = (x - mean) ** 2
    z_var = (squares.mean(axis=0) - var) / standard_error(squares)
    assert np.all(np.abs(z_mean) < 4), z_mean
    assert np.all(np.abs(z_var) < 4), z_var


def test_every_level_samples_its_tempered_distribution(gaussian_run):
    """E_β[ℓ] at every level, and mean and variance of x at an intermediate level."""
    _, state, record = gaussian_run
    log_lik = record["log_lik"]
    exact = np.array([GAUSS.mean_log_lik(beta) for beta in state.betas])
    se = standard_error(log_lik)
    z = (log_lik.mean(axis=0) - exact) / se
    assert np.all(np.abs(z) < 4), z
    # power: each level is inconsistent with its neighbours' exact values (so a sampler
    # that served a level the wrong temperature, e.g. off by one, would fail the check)
    assert np.all(np.abs(log_lik.mean(axis=0)[:-1] - exact[1:]) > 4 * se[:-1])
    assert np.all(np.abs(log_lik.mean(axis=0)[1:] - exact[:-1]) > 4 * se[1:])

    level = state.betas.size // 2
    beta = state.betas[level]
    assert 0.01 < beta < 0.5
    mean, var = GAUSS.tempered(beta)
    x = record["x"][:, level, :]
    squares = (x - mean) ** 2
    z_mean = (x.mean(axis=0) - mean) / standard_error(x)
    z_var = (squares.mean(axis=0) - var) / standard_error(squares)
    assert np.all(np.abs(z_mean) < 4), z_mean
    assert np.all(np.abs(z_var) < 4), z_var
    # power: the posterior (β = 1) variance is far outside these bounds
    assert np.all(
        np.abs(squares.mean(axis=0) - GAUSS.tempered(1.0)[1]) > 4 * standard_error(squares)
    )


# --- ladder adaptation ------------------------------------------------------------------


def test_ladder_moves_only_at_doubling_tuning_steps(gaussian_run):
    """The ladder is updated after tuning steps 32, 64, 128, ... and never while sampling."""
    _, state, record = gaussian_run
    ladders = record["tuning_ladders"]
    changed = np.flatnonzero(np.any(np.diff(ladders, axis=0) != 0, axis=1)) + 2  # 1-based
    assert list(changed) == [32, 64, 128, 256, 512]
    np.testing.assert_array_equal(ladders[0], default_ladder(10))
    assert np.array_equal(ladders[-1], state.betas)  # unchanged while sampling
    for betas in ladders:
        assert betas[0] == 0.0 and betas[-1] == 1.0
        assert np.all(np.diff(betas) > 0)


def test_adapted_ladder_equalises_swap_rejection(gaussian_run):
    """After tuning, the swap rejection rates of all pairs agree to within a factor 2.

    The last ladder update (tuning step 512) rests on 256 iterations of Rao–Blackwellised
    swap probabilities, taken while the proposals were still adapting; rejection ≈ 0.25
    with an integrated autocorrelation of a few iterations gives each rate a relative
    error of ≈ 15 %, so the extremes of 9 pairs can differ by a factor ≈ 1.5–1.8 even
    with a perfectly equalising update (1.2–1.8 over seeds 0–9). The unadapted ladder
    below is off by a factor ≈ 100.
    """
    _, _, record = gaussian_run
    rejection = 1 - record["swap_probability"].mean(axis=0)
    assert rejection.max() / rejection.min() < 2.0, rejection
    assert np.all(rejection < 0.5)


def test_unadapted_ladder_has_unequal_rejection():
    """Negative control: the default geometric ladder, kept fixed, is far from equal."""
    kernel = ParallelTempering(GAUSS.log_density, n_replicas=10, adapt_ladder=False)
    state, record = run(kernel, np.zeros(GAUSS.dim), seed=7, tune=300, draws=1500)
    np.testing.assert_array_equal(state.betas, default_ladder(10))
    rejection = 1 - record["swap_probability"].mean(axis=0)
    assert rejection.max() / rejection.min() > 10, rejection


def test_equalised_ladder_inverts_a_linear_barrier():
    """Rejection proportional to Δβ means Λ(β) ∝ β: the equalised ladder is uniform in β
    (PCHIP reproduces collinear points exactly)."""
    betas = default_ladder(8, smallest=1e-3)
    new = equalised_ladder(betas, 0.7 * np.diff(betas))
    np.testing.assert_allclose(new, np.linspace(0.0, 1.0, 8), atol=1e-12)
    barrier = 0.7 * new  # the cumulative barrier at the new levels: equal increments
    np.testing.assert_allclose(np.diff(barrier), 0.1, rtol=1e-10)


def test_equalised_ladder_inverts_a_square_root_barrier():
    """Λ(β) = √β on the ladder j/200: the equalised levels are (k/200)².

    Where a target barrier k/200 is an old node, √(j/200) with j = k²/200 (k = 20 m), the
    interpolation is exact; between nodes the PCHIP error is < 5e-4, largest near β = 0
    where √β is not smooth.
    """
    betas = np.linspace(0.0, 1.0, 201)
    new = equalised_ladder(betas, np.diff(np.sqrt(betas)))
    assert new.size == 201
    np.testing.assert_allclose(new[::20], (np.arange(11) / 10) ** 2, atol=1e-12)
    np.testing.assert_allclose(new, (np.arange(201) / 200) ** 2, atol=5e-4)


def test_equalised_ladder_keeps_an_already_equal_ladder():
    betas = np.array([0.0, 0.01, 0.05, 0.3, 1.0])
    np.testing.assert_allclose(equalised_ladder(betas, np.full(4, 0.2)), betas, atol=1e-12)


def test_equalised_ladder_survives_zero_rejection():
    """Rates of 0 (clipped to 1e-6) still give a strictly increasing ladder with the same
    ends, nearly all of the levels moved to the one pair that rejects."""
    betas = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
    new = equalised_ladder(betas, np.array([0.0, 0.0, 0.0, 0.9]))
    assert new[0] == 0.0 and new[-1] == 1.0
    assert np.all(np.diff(new) > 0)
    assert new[1] > 0.75


# --- a sharp likelihood: the default ladder's first level does not overlap the prior --

SHARP = Conjugate(dim=8, sigma=1e-3)  # log-likelihood gap prior → posterior ≈ 4e8


@pytest.fixture(scope="module")
def sharp_run():
    kernel = ParallelTempering(SHARP.log_density, n_replicas=16)
    state, record = run(kernel, np.zeros(SHARP.dim), seed=1, tune=1000, draws=3000)
    return state, record


def test_sharp_likelihood_lowers_the_ladder_start_and_gets_the_evidence(sharp_run):
    """The default ladder starts at 1e-4; the data need about 1/(4e8). The prior level never
    swaps with 1e-4, so the tuning restarts the ladder from 1/gap, and the evidence is
    right (the unadapted ladder below is off by hundreds of nats with a small error bar)."""
    state, record = sharp_run
    gap = SHARP.mean_log_lik(1.0) - SHARP.mean_log_lik(0.0)
    assert state.betas[1] < 10.0 / gap
    assert record["swap_probability"].mean(axis=0).min() > 0.05
    value, se = log_evidence(record["log_lik"], state.betas, "stepping_stone")
    assert abs(value - SHARP.log_evidence()) < 4 * se


def test_sharp_likelihood_negative_control_without_ladder_adaptation():
    kernel = ParallelTempering(SHARP.log_density, n_replicas=16, adapt_ladder=False)
    state, record = run(kernel, np.zeros(SHARP.dim), seed=1, tune=300, draws=1000)
    assert record["swap_probability"].mean(axis=0)[0] < NO_OVERLAP
    value, se = log_evidence(record["log_lik"], state.betas, "stepping_stone")
    assert SHARP.log_evidence() - value > 50 * se


def test_first_level_for_gap():
    assert first_level_for_gap(4e8) == pytest.approx(2.5e-9)
    for no_gap in (0.5, -3.0, np.inf, np.nan):
        assert first_level_for_gap(no_gap) == 1e-2


# --- a bimodal target with unequal weights ----------------------------------------------

MODES, MODE_SD, LEFT_WEIGHT, PRIOR_SD = 4.0, 0.3, 0.3, 5.0


def bimodal_density(x):
    """Prior N(0, 5²); likelihood 0.3 N(x; −4, 0.3²) + 0.7 N(x; 4, 0.3²)."""
    x = x[:, 0]
    log_lik = np.logaddexp(
        np.log(LEFT_WEIGHT) + stats.norm.logpdf(x, -MODES, MODE_SD),
        np.log(1 - LEFT_WEIGHT) + stats.norm.logpdf(x, MODES, MODE_SD),
    )
    return stats.norm.logpdf(x, 0.0, PRIOR_SD), log_lik


def bimodal_truth():
    """Exact P(x > 0) under the posterior and log p(D).

    The prior is symmetric, so each component's posterior mass is its weight times
    N(±4; 0, 5² + 0.3²); component k is N(μ_k, v) with v = (1/5² + 1/0.3²)⁻¹,
    μ_k = ±4 v / 0.3².
    """
    v = 1 / (1 / PRIOR_SD**2 + 1 / MODE_SD**2)
    mu = MODES * v / MODE_SD**2
    right = (1 - LEFT_WEIGHT) * stats.norm.sf(0, mu, np.sqrt(v)) + LEFT_WEIGHT * stats.norm.sf(
        0, -mu, np.sqrt(v)
    )
    log_z = stats.norm.logpdf(MODES, 0.0, np.sqrt(PRIOR_SD**2 + MODE_SD**2))
    return right, log_z


def wrong_swap_rule(betas, log_lik):
    """The Metropolis ratio with its sign flipped: favours moving worse states up."""
    return np.exp(np.minimum(np.diff(betas) * (log_lik[1:] - log_lik[:-1]), 0.0))


def mode_weight(record):
    """Fraction of draws with the β = 1 replica in the right mode, and its MCSE."""
    right = (record["x"][:, -1, 0] > 0).astype(float)
    return right.mean(), standard_error(right)[0]


def test_bimodal_mode_weights_and_evidence():
    """The mode indicator at β = 1 has an integrated autocorrelation time of ≈ 10
    iterations; 8000 draws give its standard error from ≈ 800 effective draws."""
    exact_right, exact_log_z = bimodal_truth()
    kernel = ParallelTempering(bimodal_density, n_replicas=10)
    state, record = run(kernel, np.array([MODES]), seed=3, draws=8000)
    weight, se = mode_weight(record)
    assert 0 < se < 0.05
    assert abs(weight - exact_right) < 4 * se, (weight, se)
    estimate, mcse = log_evidence(record["log_lik"], state.betas, "stepping_stone")
    assert abs(estimate - exact_log_z) < 4 * mcse + mcse**2, (estimate, exact_log_z, mcse)
    # the replicas do travel between prior and posterior
    assert count_round_trips(record["replica"]).sum() > 100


def test_bimodal_check_rejects_a_wrong_swap_rule():
    """Negative control: the sign-flipped swap rule sends low-likelihood states up the
    ladder; the β = 1 level then over-weights the left mode and the same check fails."""
    exact_right, _ = bimodal_truth()
    kernel = ParallelTempering(bimodal_density, n_replicas=10, swap_rule=wrong_swap_rule)
    _, record = run(kernel, np.array([MODES]), seed=3)
    weight, se = mode_weight(record)
    assert abs(weight - exact_right) > 4 * se, (weight, se)


def test_bimodal_without_tempering_stays_in_one_mode():
    """Negative control: two levels at β = 0.999 and 1 cannot cross the barrier
    (density ratio ≈ e⁻⁸⁹ between the modes), so the posterior level never leaves the
    mode it started in and the mode-weight check is failed."""
    exact_right, _ = bimodal_truth()
    kernel = ParallelTempering(bimodal_density, betas=np.array([0.999, 1.0]), adapt_ladder=False)
    _, record = run(kernel, np.array([MODES]), seed=3)
    weight, _ = mode_weight(record)
    assert weight == 1.0
    assert abs(weight - exact_right) > 0.25


# --- a strongly correlated posterior: what the adaptive (full-covariance) moves are for -


class CorrelatedLinear:
    """Prior x ~ N(0, s0² I) in 3-D; y ~ N(A x, σ² I) with nearly collinear columns of A.

    The tempered posterior is Gaussian with precision P_β = I/s0² + β AᵀA/σ² and mean
    P_β⁻¹ β Aᵀy/σ²; the posterior correlation of x₀ and x₁ is ≈ −0.99. The evidence is
    that of y ~ N(0, σ² I + s0² A Aᵀ).
    """

    def __init__(self, n=20, s0=3.0, sigma=0.5, seed=3):
        rng = np.random.default_rng(seed)
        t = np.linspace(0.0, 1.0, n)
        self.A = np.column_stack([1.0 + 0.0 * t, 1.0 + 0.08 * t, np.cos(3 * t)])
        self.s0, self.sigma = s0, sigma
        self.y = self.A @ np.array([1.0, 0.5, -0.5]) + sigma * rng.standard_normal(n)

    def log_density(self, x):
        log_prior = stats.norm.logpdf(x, 0.0, self.s0).sum(axis=1)
        residual = self.y[None, :] - x @ self.A.T
        log_lik = stats.norm.logpdf(residual, 0.0, self.sigma).sum(axis=1)
        return log_prior, log_lik

    def tempered(self, beta):
        precision = np.eye(3) / self.s0**2 + beta * self.A.T @ self.A / self.sigma**2
        cov = np.linalg.inv(precision)
        return cov @ (beta * self.A.T @ self.y / self.sigma**2), cov

    def log_evidence(self):
        n = self.y.size
        cov = self.sigma**2 * np.eye(n) + self.s0**2 * self.A @ self.A.T
        return float(stats.multivariate_normal(np.zeros(n), cov).logpdf(self.y))


CORRELATED = CorrelatedLinear()


@pytest.fixture(scope="module")
def correlated_runs():
    """The same budget of evaluations (3 block moves = 1 componentwise sweep of 3
    coordinates) for the diagonal block moves and the adaptive ones."""
    runs = {}
    for update in ("block", "adaptive"):
        kernel = ParallelTempering(CORRELATED.log_density, n_replicas=8, update=update)
        runs[update] = run(kernel, np.zeros(3), seed=21, tune=2000, draws=6000)
    return runs


def test_adaptive_moves_learn_the_posterior_covariance(correlated_runs):
    state, _ = correlated_runs["adaptive"]
    _, exact = CORRELATED.tempered(1.0)
    assert exact[0, 1] / np.sqrt(exact[0, 0] * exact[1, 1]) < -0.98
    learnt = state.chol[-1] @ state.chol[-1].T
    # the proposal is the running covariance shrunk 5 % towards its diagonal, which
    # leaves the correlation at 0.95 of the posterior's; its size within 20 %
    correlation = learnt[0, 1] / np.sqrt(learnt[0, 0] * learnt[1, 1])
    assert abs(correlation - 0.95 * exact[0, 1] / np.sqrt(exact[0, 0] * exact[1, 1])) < 0.02
    np.testing.assert_allclose(np.diag(learnt), np.diag(exact), rtol=0.2)


def test_adaptive_moves_sample_the_exact_posterior_and_evidence(correlated_runs):
    state, record = correlated_runs["adaptive"]
    mean, cov = CORRELATED.tempered(1.0)
    x = record["x"][:, -1, :]
    z_mean = (x.mean(axis=0) - mean) / standard_error(x)
    squares = (x - mean) ** 2
    z_var = (squares.mean(axis=0) - np.diag(cov)) / standard_error(squares)
    assert np.all(np.abs(z_mean) < 4), z_mean
    assert np.all(np.abs(z_var) < 4), z_var
    estimate, mcse = log_evidence(record["log_lik"], state.betas)
    exact = CORRELATED.log_evidence()
    assert abs(estimate - exact) < 4 * mcse + mcse**2, (estimate, exact, mcse)


def test_adaptive_moves_mix_faster_than_diagonal_block_moves(correlated_runs):
    """Same moves, same draws: the β = 1 chain of x₀ has an effective sample size at least
    3× larger with the learnt covariance than with per-coordinate scales (measured: 6–7×
    for seeds 21, 22). ArviZ's ESS, not batch means, whose √n batches are shorter than the
    diagonal chain's autocorrelation and would understate the difference."""
    ess = {
        update: float(az.ess(record["x"][None, :, -1, 0]))
        for update, (_, record) in correlated_runs.items()
    }
    assert ess["adaptive"] > 3 * ess["block"], ess


def test_adaptive_move_needs_an_adaptive_state():
    block = ParallelTempering(CORRELATED.log_density, n_replicas=4, update="block")
    adaptive = ParallelTempering(CORRELATED.log_density, n_replicas=4, update="adaptive")
    state = block.init(np.zeros(3), np.random.default_rng(0))
    with pytest.raises(ValueError, match="adaptive"):
        adaptive.step(state, tune=False)


# --- swaps, bookkeeping, non-finite values ----------------------------------------------


def labelled_density(x):
    """Coordinate 0: prior N(0, 1), likelihood N(2; x, 0.5²). Coordinate 1 is a label:
    the prior is −∞ unless it is an integer, so random-walk moves of it are always
    rejected and it stays with its replica through every swap."""
    label_ok = x[:, 1] == np.round(x[:, 1])
    log_prior = np.where(label_ok, stats.norm.logpdf(x[:, 0]), -np.inf)
    return log_prior, stats.norm.logpdf(2.0, x[:, 0], 0.5)


@pytest.mark.parametrize("n_sweeps", [1, 3])
def test_deterministic_even_odd_swaps(n_sweeps):
    betas = np.linspace(0.0, 1.0, 7)
    kernel = ParallelTempering(labelled_density, betas=betas, n_sweeps=n_sweeps)
    x0 = np.column_stack([np.zeros(7), np.arange(7)])
    state = kernel.init(x0, np.random.default_rng(11))
    swapped_count = np.zeros((2, 6))
    surprise = np.zeros(6)  # Σ (swapped − α) over the pairs that could swap
    variance = np.zeros(6)  # Σ α (1 − α): the variance of that sum
    for _ in range(1500):
        before = state.replica.copy()
        iteration = state.iteration
        state, info = kernel.step(state, tune=False)
        assert state.iteration == iteration + n_sweeps
        parity = (iteration + n_sweeps - 1) % 2  # the parity of the last sweep's swaps
        eligible = np.zeros(6, dtype=bool)
        eligible[parity::2] = True
        assert not np.any(info.swapped & ~eligible)
        swapped_count[parity] += info.swapped
        # the replica map stays a permutation that carries x, ℓ and the log-prior along
        assert sorted(state.replica) == list(range(7))
        np.testing.assert_array_equal(info.replica, state.replica)
        np.testing.assert_array_equal(state.x[:, 1], state.replica)
        log_prior, log_lik = labelled_density(state.x)
        np.testing.assert_array_equal(state.log_prior, log_prior)
        np.testing.assert_array_equal(state.log_lik, log_lik)
        np.testing.assert_array_equal(info.log_lik, log_lik)
        if n_sweeps == 1:
            # exactly the swapped pairs were transposed
            expected = before.copy()
            for pair in np.flatnonzero(info.swapped):
                expected[[pair, pair + 1]] = expected[[pair + 1, pair]]
            np.testing.assert_array_equal(state.replica, expected)
            alpha = info.swap_probability
            surprise += np.where(eligible, info.swapped - alpha, 0.0)
            variance += np.where(eligible, alpha * (1 - alpha), 0.0)
    # both parities do swap, each only its own pairs
    assert np.all(swapped_count[0, 0::2] > 50) and np.all(swapped_count[1, 1::2] > 50)
    assert np.all(swapped_count[0, 1::2] == 0) and np.all(swapped_count[1, 0::2] == 0)
    assert state.n_failures == 0
    if n_sweeps == 1:
        # swaps happen with probability α: a sum of independent Bernoulli surprises
        assert np.all(np.abs(surprise) < 4 * np.sqrt(variance)), surprise / np.sqrt(variance)


def test_swap_probabilities_by_hand():
    betas = np.array([0.0, 0.5, 1.0])
    # pair 0: 0.5 · (−1 − (−3)) = +1 → 1; pair 1: 0.5 · (−3 − (−2)) = −0.5
    np.testing.assert_allclose(
        swap_probabilities(betas, np.array([-1.0, -3.0, -2.0])), [1.0, np.exp(-0.5)]
    )
    two = np.array([0.0, 1.0])
    assert swap_probabilities(two, np.array([-np.inf, 0.0]))[0] == 0.0
    assert swap_probabilities(two, np.array([0.0, -np.inf]))[0] == 1.0
    assert swap_probabilities(two, np.array([-np.inf, -np.inf]))[0] == 0.0


def truncated_density(counter):
    """N(0, 1) restricted to (−3, 1) in three ways: NaN for 1 < x < 2, +inf for x ≥ 2 (both
    failures) and a log-likelihood of −inf for x ≤ −3 (a legitimate zero, not a failure).
    ``counter`` counts the evaluations that are failures by that definition."""

    def log_density(x):
        x = x[:, 0]
        log_prior = np.where(x >= 2, np.inf, stats.norm.logpdf(x))
        log_lik = np.where((x > 1) & (x < 2), np.nan, np.where(x <= -3, -np.inf, 0.0))
        counter[0] += int(np.sum(np.isnan(log_lik) | (log_prior == np.inf)))
        return log_prior, log_lik

    return log_density


@pytest.mark.parametrize("update", ["componentwise", "block", "adaptive"])
def test_non_finite_proposals_are_rejected_and_counted(update):
    counter = [0]
    kernel = ParallelTempering(
        truncated_density(counter), betas=np.array([0.0, 0.5, 1.0]), update=update
    )
    state, record = run(kernel, np.array([0.0]), seed=5, tune=500, draws=4000)
    assert state.n_failures == counter[0] > 100
    for array in (state.x, state.log_prior, state.log_lik, record["log_lik"], record["x"]):
        assert np.all(np.isfinite(array))
    x = record["x"][:, :, 0]
    assert np.all((x > -3) & (x <= 1))
    # every level targets N(0, 1) truncated to (−3, 1): a log-likelihood of −∞ excludes a
    # point even at β = 0 (log φ + 0·(−∞) is treated as −∞)
    truth = stats.truncnorm(-3.0, 1.0)
    z = (x.mean(axis=0) - truth.mean()) / standard_error(x)
    assert np.all(np.abs(z) < 4), z


def test_init_rejects_a_non_finite_start():
    counter = [0]
    kernel = ParallelTempering(truncated_density(counter), betas=np.array([0.0, 1.0]))
    rng = np.random.default_rng(0)
    for bad in (1.5, 2.5, -3.5):  # NaN, +inf and −inf
        with pytest.raises(ValueError, match="not finite at the initial point"):
            kernel.init(np.array([bad]), rng)
    with pytest.raises(ValueError, match="not finite"):  # one bad row is enough
        kernel.init(np.array([[0.0], [1.5]]), rng)
    with pytest.raises(TypeError, match="must be a numpy"):
        kernel.init(np.array([0.0]), 0)
    state = kernel.init(np.array([[0.0], [0.5]]), rng)
    np.testing.assert_array_equal(state.x[:, 0], [0.0, 0.5])


# --- validation, reproducibility, round trips -------------------------------------------


def test_validate_ladder_errors():
    np.testing.assert_array_equal(validate_ladder([0.0, 0.5, 1.0]), [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(validate_ladder([0.2, 1.0]), [0.2, 1.0])  # β_0 > 0 allowed
    with pytest.raises(ValueError, match="strictly increasing"):
        validate_ladder([0.0, 0.5, 0.5, 1.0])
    with pytest.raises(ValueError, match="strictly increasing"):
        validate_ladder([0.0, 0.7, 0.3, 1.0])
    with pytest.raises(ValueError, match="end at β = 1"):
        validate_ladder([0.0, 0.5, 0.9])
    with pytest.raises(ValueError, match="NaN or inf"):
        validate_ladder([0.0, np.nan, 1.0])
    with pytest.raises(ValueError, match="NaN or inf"):
        validate_ladder([0.0, 0.5, np.inf])
    with pytest.raises(ValueError, match="≥ 0"):
        validate_ladder([-0.1, 0.5, 1.0])
    with pytest.raises(ValueError, match="at least 2 levels"):
        validate_ladder([1.0])
    with pytest.raises(ValueError, match="at least 2 levels"):
        validate_ladder([[0.0, 1.0]])


def test_default_ladder():
    np.testing.assert_array_equal(default_ladder(2), [0.0, 1.0])
    betas = default_ladder(6, smallest=1e-4)
    assert betas[0] == 0.0 and betas[1] == pytest.approx(1e-4) and betas[-1] == 1.0
    np.testing.assert_allclose(betas[2:] / betas[1:-1], 10.0)  # geometric: 1e-4 … 1 in 4 steps
    for bad in (1, 2.5, 0):
        with pytest.raises(ValueError, match="integer ≥ 2"):
            default_ladder(bad)


def test_constructor_errors():
    density = GAUSS.log_density
    with pytest.raises(ValueError, match="update must be one of"):
        ParallelTempering(density, update="gibbs")
    for bad in (0, -1, 1.5):
        with pytest.raises(ValueError, match="n_sweeps"):
            ParallelTempering(density, n_sweeps=bad)
    for bad in (0.0, -1.0, np.nan):
        with pytest.raises(ValueError, match="initial_scale"):
            ParallelTempering(density, initial_scale=bad)
    with pytest.raises(ValueError, match="strictly increasing"):
        ParallelTempering(density, betas=np.array([0.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match="integer ≥ 2"):
        ParallelTempering(density, n_replicas=1)


@pytest.mark.parametrize("update", ["componentwise", "block", "adaptive"])
def test_same_seed_same_trajectory(update):
    def trajectory(seed):
        kernel = ParallelTempering(GAUSS.log_density, n_replicas=6, update=update)
        state, record = run(kernel, np.zeros(GAUSS.dim), seed=seed, tune=200, draws=100)
        return state, record

    first, again, other = trajectory(1), trajectory(1), trajectory(2)
    for key in ("x", "log_lik", "replica", "tuning_ladders", "swap_probability"):
        np.testing.assert_array_equal(first[1][key], again[1][key])
    np.testing.assert_array_equal(first[0].scales, again[0].scales)
    np.testing.assert_array_equal(first[0].factor, again[0].factor)
    if update == "adaptive":
        np.testing.assert_array_equal(first[0].chol, again[0].chol)
    assert not np.array_equal(first[1]["x"], other[1]["x"])
    assert not np.array_equal(first[0].betas, other[0].betas)


@pytest.mark.parametrize("update", ["componentwise", "block", "adaptive"])
def test_proposals_and_ladder_are_frozen_when_not_tuning(update):
    """Outside tuning the kernel is a fixed Markov kernel: no scale, factor, covariance or
    ladder moves."""
    kernel = ParallelTempering(GAUSS.log_density, n_replicas=6, update=update)
    state = kernel.init(np.zeros(GAUSS.dim), np.random.default_rng(4))
    for _ in range(100):
        state, _ = kernel.step(state, tune=True)

    def proposal(state):
        return state.scales, state.factor, state.betas, state.chol, state.adaptation

    frozen = proposal(state)
    x = state.x
    for _ in range(100):
        state, _ = kernel.step(state, tune=False)
    assert not np.array_equal(state.x, x)
    for before, after in zip(frozen[:4], proposal(state)[:4], strict=True):
        np.testing.assert_array_equal(before, after)
    for before, after in zip(frozen[4], proposal(state)[4], strict=True):
        np.testing.assert_array_equal(before, after)
    # while tuning, they do move (componentwise: the scales; block: the factor and scales;
    # adaptive: the factor, and the covariance factor every CHOLESKY_INTERVAL moves)
    for _ in range(CHOLESKY_INTERVAL):
        state, _ = kernel.step(state, tune=True)
    moved = proposal(state)
    if update == "componentwise":
        assert not np.array_equal(frozen[0], moved[0])
    else:
        assert not np.array_equal(frozen[1], moved[1])
    if update == "adaptive":
        assert not np.array_equal(frozen[3], moved[3])


def assert_same_state(first, second):
    """Every field of two states (and of their accumulators) is identical."""
    assert type(first) is type(second)
    for name, a, b in zip(first._fields, first, second, strict=True):
        if isinstance(a, tuple):
            assert_same_state(a, b)
        elif isinstance(a, np.ndarray):
            assert a.dtype == b.dtype, name
            np.testing.assert_array_equal(a, b, err_msg=name)
        else:
            assert a == b, name


@pytest.mark.parametrize("update", ["componentwise", "block", "adaptive"])
@pytest.mark.parametrize("tune", [True, False])
def test_step_leaves_its_input_state_unchanged(update, tune):
    """The kernel is pure: the state it is given is read-only and equal before and after
    the step (including the generator's state), and the new state differs from it."""
    kernel = ParallelTempering(GAUSS.log_density, n_replicas=5, update=update)
    state = kernel.init(np.zeros(GAUSS.dim), np.random.default_rng(3))
    for _ in range(40):  # past the first Cholesky refresh (adaptive) and a ladder update
        state, _ = kernel.step(state, tune=True)
    before = copy.deepcopy(state)
    new, _ = kernel.step(state, tune=tune)
    assert_same_state(state, before)
    assert new.iteration == state.iteration + 1 and new.rng_state != state.rng_state
    assert not np.array_equal(new.x, state.x)
    for array in (state.x, state.log_lik, state.scales, state.adaptation.mean, new.betas):
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 0.0


def test_one_kernel_runs_many_ladders():
    """Two ladders stepped in turn by one kernel follow exactly the trajectories each
    follows alone: the kernel keeps nothing between steps."""
    kernel = ParallelTempering(GAUSS.log_density, n_replicas=6, update="block")
    alone = [run(kernel, np.zeros(GAUSS.dim), seed, tune=100, draws=50)[0] for seed in (1, 2)]
    states = [kernel.init(np.zeros(GAUSS.dim), np.random.default_rng(seed)) for seed in (1, 2)]
    for iteration in range(150):
        states = [kernel.step(state, tune=iteration < 100)[0] for state in states]
    for together, single in zip(states, alone, strict=True):
        assert_same_state(together, single)
    assert not np.array_equal(states[0].x, states[1].x)


@pytest.mark.parametrize("update", ["componentwise", "adaptive"])
def test_a_saved_state_continues_the_same_trajectory(update):
    """A state pickled in the middle of tuning and given to a new kernel continues exactly
    as the uninterrupted run: the state holds everything a run needs."""
    options = dict(n_replicas=6, update=update)
    whole, _ = run(ParallelTempering(GAUSS.log_density, **options), np.zeros(GAUSS.dim), 5, 90, 30)
    kernel = ParallelTempering(GAUSS.log_density, **options)
    state = kernel.init(np.zeros(GAUSS.dim), np.random.default_rng(5))
    for _ in range(70):
        state, _ = kernel.step(state, tune=True)
    state = pickle.loads(pickle.dumps(state))
    kernel = ParallelTempering(GAUSS.log_density, **options)
    for iteration in range(70, 120):
        state, _ = kernel.step(state, tune=iteration < 90)
    assert_same_state(state, whole)
    assert isinstance(state, LadderState)


def test_count_round_trips_by_hand():
    """Rows: the replica at levels (0, 1, 2). A round trip is bottom → top → bottom.

    replica 0 at levels 0 1 2 0 1 2 0 2: trips completed at rows 3 and 6 → 2;
    replica 1 at levels 1 0 0 2 2 0 1 1: first at the bottom in row 1, top at 3, back at 5 → 1;
    replica 2 at levels 2 2 1 1 0 1 2 0: starts at the top, which does not count; bottom at 4,
    top at 6, bottom at 7 → 1.
    """
    replica_at_level = np.array(
        [[0, 1, 2], [1, 0, 2], [1, 2, 0], [0, 2, 1], [2, 0, 1], [1, 2, 0], [0, 1, 2], [2, 1, 0]]
    )
    np.testing.assert_array_equal(count_round_trips(replica_at_level), [2, 1, 1])
    # half-way (bottom → top) is not a round trip; nor is staying at the ends
    np.testing.assert_array_equal(count_round_trips([[0, 1], [1, 0]]), [0, 0])
    np.testing.assert_array_equal(count_round_trips([[0, 1], [1, 0], [0, 1]]), [1, 0])
    np.testing.assert_array_equal(count_round_trips([[0, 1, 2]] * 5), [0, 0, 0])
