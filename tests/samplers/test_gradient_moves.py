"""Gradient moves inside every replica (MALA and HMC), against exact answers.

Independent truths: finite differences and PyMC's own ``model.compile_dlogp`` for the
batched gradient; the closed-form posterior and evidence of Gaussian targets (a strongly
correlated 3-d linear model, the conjugate Gaussian mean, and the straight line through
PyMC, whose evidence is the closed form of ``measurement_models.linear``). Statistical
checks allow 4 MCSE, as in test_parallel_tempering.py; every run has a fixed
seed. The negative controls drop the Metropolis–Hastings correction (the proposal
density ratio of MALA, the energy error of HMC) and are caught by the same checks.
"""

from __future__ import annotations

import copy
import pickle

import arviz as az
import numpy as np
import pymc as pm
import pytest

from measurement_models import linear
from samplers import ReplicaExchange, ReplicaExchangeSettings, free_energy, sample_replica_exchange
from samplers.evidence.thermodynamic import log_evidence
from samplers.replica_exchange.gradient_moves import HMC_STEPS
from samplers.replica_exchange.kernel import ParallelTempering
from samplers.replica_exchange.tempered_density import TemperedDensity
from tests.samplers.test_parallel_tempering import (
    Conjugate,
    CorrelatedLinear,
    assert_same_state,
    run,
    standard_error,
)

SIGMA = 0.3
BIAS_ALLOWANCE = 0.02  # as in test_replica_exchange.py: stepping-stone's log-of-mean bias
QUIET = {"progressbar": False, "compute_convergence_checks": False}


class GradientCorrelated(CorrelatedLinear):
    """The correlated linear target with its analytic gradient."""

    def gradient(self, x):
        log_prior, log_lik = self.log_density(x)
        residual = self.y[None, :] - x @ self.A.T
        return log_prior, log_lik, -x / self.s0**2, residual @ self.A / self.sigma**2


class GradientConjugate(Conjugate):
    """The conjugate Gaussian mean with its analytic gradient."""

    def gradient(self, x):
        log_prior, log_lik = self.log_density(x)
        return log_prior, log_lik, -x / self.s0**2, self.n * (self.ybar - x) / self.sigma**2


CORRELATED = GradientCorrelated()
GAUSS = GradientConjugate()


def posterior_z_scores(record, mean, var):
    """z-scores of the β = 1 replica's mean and variance of every coordinate."""
    x = record["x"][:, -1, :]
    squares = (x - mean) ** 2
    z_mean = (x.mean(axis=0) - mean) / standard_error(x)
    z_var = (squares.mean(axis=0) - var) / standard_error(squares)
    return z_mean, z_var


# --- the batched gradient of a PyMC model -------------------------------------------------


@pytest.fixture(scope="module")
def line(line_data):
    data, _ = line_data
    model = linear.build_model(data, n_terms=2, sigma=SIGMA)
    exact = -linear.exact_log_evidence(data["x"].values, data["y"].values, SIGMA, 2)
    return model, exact


@pytest.fixture(scope="module")
def line_density(line):
    model, _ = line
    return TemperedDensity(model, model.value_vars, model.initial_point())


def test_gradient_is_compiled_only_when_used(line):
    """The values' function is compiled with the density, the gradient on its first use."""
    model, _ = line
    density = TemperedDensity(model, model.value_vars, model.initial_point())
    assert density.vectorized and density.gradient_vectorized is None
    assert density._gradient is None
    density.gradient(np.zeros((2, density.dim)))
    assert density.gradient_vectorized is True


def test_gradient_matches_finite_differences_and_pymc(line, line_density):
    """Both gradients against central differences of the batched values, and their sum
    (β = 1) against PyMC's compile_dlogp, at points spread over the posterior's scale."""
    model, _ = line
    density = line_density
    x = np.random.default_rng(0).normal([2.0, 0.5], 0.5, size=(6, density.dim))
    log_prior, log_lik, grad_prior, grad_lik = density.gradient(x)
    values = density(x)
    np.testing.assert_allclose(log_prior, values[0], rtol=1e-12)
    np.testing.assert_allclose(log_lik, values[1], rtol=1e-12)
    assert grad_prior.shape == grad_lik.shape == (6, density.dim)
    h = 1e-5
    for j in range(density.dim):
        shift = np.zeros(density.dim)
        shift[j] = h
        up, down = density(x + shift), density(x - shift)
        np.testing.assert_allclose(grad_prior[:, j], (up[0] - down[0]) / (2 * h), atol=1e-5)
        np.testing.assert_allclose(
            grad_lik[:, j], (up[1] - down[1]) / (2 * h), rtol=1e-6, atol=1e-4
        )
    dlogp = model.compile_dlogp()
    names = [v.name for v in model.value_vars]
    for row, prior, lik in zip(x, grad_prior, grad_lik, strict=True):
        point = dict(zip(names, row, strict=True))
        np.testing.assert_allclose(prior + lik, dlogp(point), rtol=1e-10, atol=1e-10)
    # the loop over replicas gives the same numbers
    loop = TemperedDensity(model, model.value_vars, model.initial_point(), vectorize=False)
    for batched, looped in zip(density.gradient(x), loop.gradient(x), strict=True):
        np.testing.assert_allclose(batched, looped, rtol=1e-12)
    assert loop.gradient_vectorized is False


def test_unvectorisable_gradient_warns_and_loops(line, monkeypatch):
    import samplers.replica_exchange.tempered_density as td

    model, _ = line
    density = TemperedDensity(model, model.value_vars, model.initial_point())

    def refuse(*args, **kwargs):
        raise NotImplementedError("no batched form")

    monkeypatch.setattr(td, "vectorize_graph", refuse)
    with pytest.warns(UserWarning, match="could not vectorise this model's log-density gradient"):
        density.compile_gradient()
    assert density.vectorized and density.gradient_vectorized is False
    assert density.gradient(np.zeros((3, 2)))[3].shape == (3, 2)


# --- the kernel on exact targets ------------------------------------------------------------


@pytest.fixture(scope="module", params=["mala", "hmc"])
def correlated_run(request):
    kernel = ParallelTempering(
        CORRELATED.log_density, n_replicas=8, update=request.param, gradient=CORRELATED.gradient
    )
    state, record = run(kernel, np.zeros(3), seed=21, tune=1000, draws=4000)
    return request.param, state, record


def test_gradient_moves_sample_the_correlated_posterior_and_evidence(correlated_run):
    """Posterior correlation −0.99: mean and variance of every coordinate at β = 1 and the
    evidence, exact."""
    update, state, record = correlated_run
    mean, cov = CORRELATED.tempered(1.0)
    z_mean, z_var = posterior_z_scores(record, mean, np.diag(cov))
    assert np.all(np.abs(z_mean) < 4), (update, z_mean)
    assert np.all(np.abs(z_var) < 4), (update, z_var)
    estimate, mcse = log_evidence(record["log_lik"], state.betas)
    exact = CORRELATED.log_evidence()
    assert 0 < mcse < 0.2
    assert abs(estimate - exact) < 4 * mcse + mcse**2, (update, estimate, exact, mcse)
    assert state.n_failures == 0


@pytest.mark.parametrize("update", ["mala", "hmc"])
def test_gradient_moves_sample_every_tempered_level(update):
    """The conjugate Gaussian mean: E_β[ℓ] at every level, the β = 1 moments, and the
    evidence, exact."""
    kernel = ParallelTempering(
        GAUSS.log_density, n_replicas=10, update=update, gradient=GAUSS.gradient
    )
    state, record = run(kernel, np.zeros(GAUSS.dim), seed=7)
    log_lik = record["log_lik"]
    exact = np.array([GAUSS.mean_log_lik(beta) for beta in state.betas])
    z = (log_lik.mean(axis=0) - exact) / standard_error(log_lik)
    assert np.all(np.abs(z) < 4), z
    z_mean, z_var = posterior_z_scores(record, *GAUSS.tempered(1.0))
    assert np.all(np.abs(z_mean) < 4) and np.all(np.abs(z_var) < 4), (z_mean, z_var)
    estimate, mcse = log_evidence(record["log_lik"], state.betas)
    assert abs(estimate - GAUSS.log_evidence()) < 4 * mcse + mcse**2


@pytest.mark.parametrize("update", ["mala", "hmc"])
def test_negative_control_without_the_metropolis_correction(update):
    """MALA without its proposal-density ratio and HMC without its kinetic-energy change
    (each then a Metropolis test of the target ratio alone, which is not exact for these
    proposals) do not leave the target invariant: at the tuned step sizes the β = 1
    variances come out too small (measured: z ≈ −11 for MALA and ≈ −17 to −23 for HMC at
    seeds 21, 22; the exact moves give |z| < 2) and the same moment check fails."""
    kernel = ParallelTempering(
        CORRELATED.log_density, n_replicas=8, update=update, gradient=CORRELATED.gradient
    )
    kernel._exact_acceptance = False
    _, record = run(kernel, np.zeros(3), seed=21, tune=1000, draws=4000)
    mean, cov = CORRELATED.tempered(1.0)
    _, z_var = posterior_z_scores(record, mean, np.diag(cov))
    assert np.max(np.abs(z_var)) > 4, z_var


def truncated_with_gradient(counter):
    """N(0, 1) on (−3, 1): NaN log-likelihood for 1 < x < 2 and +inf log-prior for x ≥ 2
    (failures), −inf log-likelihood for x ≤ −3 (a legitimate zero); the gradient is NaN
    on 0.9 < x ≤ 1 although the density is finite there (a failure too)."""

    def log_density(x):
        x = x[:, 0]
        log_prior = np.where(x >= 2, np.inf, -0.5 * x**2 - 0.5 * np.log(2 * np.pi))
        log_lik = np.where((x > 1) & (x < 2), np.nan, np.where(x <= -3, -np.inf, 0.0))
        return log_prior, log_lik

    def gradient(x):
        log_prior, log_lik = log_density(x)
        bad_gradient = (x[:, 0] > 0.9) & (x[:, 0] <= 1)
        counter[0] += int(
            np.sum(np.isnan(log_lik) | (log_prior == np.inf) | (bad_gradient & (x[:, 0] > -3)))
        )
        grad_prior = np.where(bad_gradient[:, None], np.nan, -x)
        return log_prior, log_lik, grad_prior, np.zeros_like(x)

    return log_density, gradient


@pytest.mark.parametrize("update", ["mala", "hmc"])
def test_non_finite_proposals_and_gradients_are_rejected_and_counted(update):
    counter = [0]
    density, gradient = truncated_with_gradient(counter)
    kernel = ParallelTempering(
        density, betas=np.array([0.0, 0.5, 1.0]), update=update, gradient=gradient
    )
    state, record = run(kernel, np.array([0.0]), seed=5, tune=500, draws=4000)
    x = record["x"][:, :, 0]
    assert np.all(np.isfinite(record["log_lik"])) and np.all(np.isfinite(x))
    assert np.all((x > -3) & (x <= 0.9))
    if update == "mala":  # one evaluation per move: every failure is counted once
        assert state.n_failures == counter[0] > 100
    else:  # a diverged trajectory counts once, however many of its steps fail
        assert 100 < state.n_failures <= counter[0]


def test_gradient_update_without_a_gradient_is_refused():
    with pytest.raises(ValueError, match="gradient of the log-density"):
        ParallelTempering(CorrelatedLinear().log_density, update="mala")
    kernel = ParallelTempering(CORRELATED.log_density, n_replicas=4, update="block")
    state = kernel.init(np.zeros(3), np.random.default_rng(0))
    mala = ParallelTempering(
        CORRELATED.log_density, n_replicas=4, update="mala", gradient=CORRELATED.gradient
    )
    with pytest.raises(ValueError, match="mala moves need a state made by a gradient kernel"):
        mala.step(state, tune=False)

    # the gradient is looked up on the log-density at every use: a log-density replaced
    # later (as a path reference replaces the prior's) brings its own, or a clear error
    class WithGradient:
        __call__ = staticmethod(CORRELATED.log_density)
        gradient = staticmethod(CORRELATED.gradient)

    kernel = ParallelTempering(WithGradient(), n_replicas=4, update="mala")
    state, _ = kernel.step(kernel.init(np.zeros(3), np.random.default_rng(0)), tune=True)
    kernel.log_density = CORRELATED.log_density
    with pytest.raises(ValueError, match="gradient of the log-density"):
        kernel.step(state, tune=True)
    with pytest.raises(ValueError, match="update must be one of"):
        ReplicaExchangeSettings(update="nuts")
    assert ReplicaExchangeSettings(update="hmc").update == "hmc"


@pytest.mark.parametrize("update", ["mala", "hmc"])
def test_gradient_state_is_pure_frozen_and_continues(update):
    """The input state is left as it was; step sizes and preconditioner are frozen after
    tuning; a state pickled mid-tuning continues bit for bit; HMC pays HMC_STEPS gradient
    evaluations per move, MALA one (the gradient at the current point is kept)."""
    calls = [0]

    def counted(x):
        calls[0] += 1
        return GAUSS.gradient(x)

    options = dict(n_replicas=6, update=update, gradient=counted)
    whole, _ = run(ParallelTempering(GAUSS.log_density, **options), np.zeros(2), 5, 90, 30)
    kernel = ParallelTempering(GAUSS.log_density, **options)
    state = kernel.init(np.zeros(GAUSS.dim), np.random.default_rng(5))
    calls[0] = 0
    state, _ = kernel.step(state, tune=True)  # the first move evaluates the cache too
    assert calls[0] == 1 + (1 if update == "mala" else HMC_STEPS)
    for _ in range(69):
        before = copy.deepcopy(state)
        calls[0] = 0
        new, _ = kernel.step(state, tune=True)
        assert calls[0] == (1 if update == "mala" else HMC_STEPS)
        assert_same_state(state, before)
        state = new
    state = pickle.loads(pickle.dumps(state))
    kernel = ParallelTempering(GAUSS.log_density, **options)
    for iteration in range(70, 120):
        state, _ = kernel.step(state, tune=iteration < 90)
        if iteration == 90:
            frozen = (state.factor, state.scales, state.betas)
    assert_same_state(state, whole)
    for before, after in zip(frozen, (state.factor, state.scales, state.betas), strict=True):
        np.testing.assert_array_equal(before, after)


# --- through PyMC ---------------------------------------------------------------------------


def test_mala_through_pymc_matches_the_exact_evidence(line, line_data):
    """update="mala" inside pm.sample on the straight line: F against the closed-form
    evidence and the β = 1 mean against the conjugate posterior mean."""
    model, exact = line
    line_data, _ = line_data
    idata = sample_replica_exchange(
        model=model,
        draws=1500,
        tune=1000,
        chains=2,
        cores=1,
        random_seed=3,
        n_replicas=16,
        update="mala",
        **QUIET,
    )
    fe = free_energy(idata)
    assert abs(fe.value - exact) < 4 * fe.mcse + BIAS_ALLOWANCE, (fe, exact)
    assert int(idata["sample_stats"]["n_failures"].max()) == 0
    mean, cov = linear.exact_posterior(line_data["x"].values, line_data["y"].values, SIGMA, 2)
    posterior = idata["posterior"].to_dataset()
    for k, name in enumerate(("a", "b")):
        draws = posterior[name]
        mcse_mean = float(az.mcse(draws, method="mean"))
        mcse_sd = float(az.mcse(draws, method="sd"))
        assert abs(float(draws.mean()) - mean[k]) < 4 * mcse_mean, name
        assert abs(float(draws.std()) - np.sqrt(cov[k, k])) < 4 * mcse_sd, name
    with model:
        step = ReplicaExchange(n_replicas=4, update="hmc")
    assert step.density.gradient_vectorized is True  # compiled with the step
    with model, pytest.raises(ValueError, match="update must be one of"):
        pm.sample(step=ReplicaExchange(n_replicas=4, update="langevin"))
