"""The replica-exchange step method inside PyMC, checked against exact answers.

Independent truths: the closed-form evidence of Gaussian linear regression (2 and 10
coefficients; scipy's multivariate normal density of the marginal), the exact mode
weights of a two-mode mixture likelihood, and the closed-form evidence as a function
of the noise level for the noise scan. Tolerances are 4 × the MCSE plus a
stated allowance; every sampling test uses a fixed seed.
"""

from __future__ import annotations

import cloudpickle
import numpy as np
import pymc as pm
import pytensor.tensor as pt
import pytest
import xarray as xr
from scipy import stats

from measurement_models import linear
from samplers import (
    FreeEnergy,
    ReplicaExchange,
    free_energy,
    ladder_diagnostics,
    noise_scan,
    sample_replica_exchange,
)
from samplers.evidence.noise_scan import gaussian_noise

SIGMA = 0.3
# Stepping-stone's log of a mean is biased low by about Var(w)/(2 n E[w]^2) per level;
# with 16 levels and ≥ 1000 draws that is below 0.01 nats in total for these models.
BIAS_ALLOWANCE = 0.02
QUIET = {"progressbar": False, "compute_convergence_checks": False}


def flip_swap_sign(betas, log_lik):
    """A wrong exchange rule (sign flipped) for the negative control."""
    return np.exp(np.minimum(np.diff(betas) * (log_lik[1:] - log_lik[:-1]), 0.0))


@pytest.fixture(scope="module")
def line(line_data):
    data, _ = line_data
    model = linear.build_model(data, n_terms=2, sigma=SIGMA)
    exact = -linear.exact_log_evidence(data["x"].values, data["y"].values, SIGMA, 2)
    return data, model, exact


@pytest.fixture(scope="module")
def line_run(line):
    _, model, _ = line
    return sample_replica_exchange(
        model=model, draws=1500, tune=1000, chains=2, cores=1, random_seed=3, n_replicas=16, **QUIET
    )


def test_free_energy_of_the_line_matches_the_exact_evidence(line, line_run):
    _, _, exact = line
    for method in ("stepping_stone", "bridge"):
        fe = free_energy(line_run, method)
        assert fe.method == method and fe.per_chain.shape == (2,)
        assert abs(fe.value - exact) < 4 * fe.mcse + BIAS_ALLOWANCE, (method, fe, exact)
    # The stored group holds the same numbers, read back without recomputing.
    stored = line_run["free_energy"].to_dataset()
    for method in ("stepping_stone", "thermodynamic_integration", "bridge"):
        read, computed = FreeEnergy.from_dataset(stored, method), free_energy(line_run, method)
        assert (read.value, read.mcse, read.method) == (computed.value, computed.mcse, method)
        np.testing.assert_array_equal(read.per_chain, computed.per_chain)
        np.testing.assert_array_equal(read.per_chain_mcse, computed.per_chain_mcse)
    with pytest.raises(ValueError, match="no 'smc' estimate stored"):
        FreeEnergy.from_dataset(stored, "smc")


def test_negative_control_wrong_swap_rule_is_caught(line):
    """With the exchange exponent's sign flipped the evidence is wrong, and the run says
    so: either its error bar excludes it by many MCSE, or its own checks flag it (the
    chains' free energies can be so far apart that the between-chain MCSE is large)."""
    _, model, exact = line
    with model:
        step = ReplicaExchange(n_replicas=16)
        step.kernel.swap_rule = flip_swap_sign
        idata = pm.sample(
            draws=1500, tune=1000, chains=2, cores=1, step=step, random_seed=3, **QUIET
        )
    fe = free_energy(idata)
    assert abs(fe.value - exact) > 1.0  # wrong (the exact value is 10.8)
    assert abs(fe.value - exact) > 4 * fe.mcse + BIAS_ALLOWANCE or fe.trusted is False


def test_ten_coefficient_regression_evidence():
    rng = np.random.default_rng(7)
    n, k, prior_sd, sigma = 40, 10, 1.0, 0.5
    X = rng.normal(size=(n, k))
    y = X @ rng.normal(0, prior_sd, k) + rng.normal(0, sigma, n)
    exact = -stats.multivariate_normal(
        np.zeros(n), sigma**2 * np.eye(n) + prior_sd**2 * X @ X.T
    ).logpdf(y)
    with pm.Model() as model:
        coef = pm.Normal("coef", 0.0, prior_sd, shape=k)
        pm.Normal("y", pt.dot(X, coef), sigma, observed=y)
    idata = sample_replica_exchange(
        model=model,
        draws=1500,
        tune=1000,
        chains=2,
        cores=1,
        random_seed=11,
        n_replicas=16,
        **QUIET,
    )
    fe = free_energy(idata)
    assert abs(fe.value - exact) < 4 * fe.mcse + BIAS_ALLOWANCE, (fe, exact)
    # The β = 1 replica is the posterior: its mean matches the conjugate posterior mean.
    precision = np.eye(k) / prior_sd**2 + X.T @ X / sigma**2
    mean = np.linalg.solve(precision, X.T @ y / sigma**2)
    draws = idata["posterior"]["coef"].values.reshape(-1, k)
    sd = np.sqrt(np.diag(np.linalg.inv(precision)))
    # ESS of random-walk Metropolis here is well above 150 of 3000 draws.
    assert np.all(np.abs(draws.mean(0) - mean) < 4 * sd / np.sqrt(150))


@pytest.fixture(scope="module")
def two_modes():
    """y = 0 observed with likelihood 0.3 N(0; μ + 4, 0.3²) + 0.7 N(0; μ − 4, 0.3²),
    prior μ ~ N(0, 10²): modes at μ = −4 (weight 0.3) and μ = +4 (weight 0.7), since the
    prior is symmetric."""
    with pm.Model() as model:
        mu = pm.Normal("mu", 0.0, 10.0)
        pm.NormalMixture(
            "y",
            w=np.array([0.3, 0.7]),
            mu=pt.stack([mu + 4.0, mu - 4.0]),
            sigma=0.3,
            observed=np.array(0.0),
        )
    return model


def test_two_modes_visited_in_the_right_proportion(two_modes):
    idata = sample_replica_exchange(
        model=two_modes,
        draws=3000,
        tune=1000,
        chains=2,
        cores=1,
        random_seed=5,
        n_replicas=8,
        **QUIET,
    )
    upper = (idata["posterior"]["mu"].values > 0).astype(float)
    fraction = upper.mean()
    # batch-means standard error of the fraction, pooled over the two chains
    batches = upper.reshape(2, 30, 100).mean(-1).ravel()
    se = batches.std(ddof=1) / np.sqrt(batches.size)
    assert abs(fraction - 0.7) < 4 * se + 0.01, (fraction, se)
    exact = -np.log(stats.norm(0, np.sqrt(100 + 0.09)).pdf(4.0))
    fe = free_energy(idata)
    assert abs(fe.value - exact) < 4 * fe.mcse + BIAS_ALLOWANCE


def test_nuts_alone_stays_in_one_mode(two_modes):
    """The reason for tempering: each NUTS chain keeps to the mode it starts in."""
    with two_modes:
        idata = pm.sample(
            draws=500,
            tune=300,
            chains=4,
            cores=1,
            random_seed=5,
            initvals=[{"mu": -4.0}, {"mu": 4.0}, {"mu": -4.0}, {"mu": 4.0}],
            **QUIET,
        )
    fractions = (idata["posterior"]["mu"].values > 0).mean(axis=1)
    np.testing.assert_array_equal(fractions, [0.0, 1.0, 0.0, 1.0])


def test_wrong_swap_rule_breaks_the_mode_weights(two_modes):
    with two_modes:
        step = ReplicaExchange(n_replicas=8)
        step.kernel.swap_rule = flip_swap_sign
        idata = pm.sample(
            draws=3000, tune=1000, chains=2, cores=1, step=step, random_seed=5, **QUIET
        )
    fraction = (idata["posterior"]["mu"].values > 0).mean()
    assert abs(fraction - 0.7) > 0.1


def test_sampler_stats_have_the_documented_shapes(line_run):
    stats_ = line_run["sample_stats"].to_dataset()
    assert stats_["replica_log_likelihood"].dims == ("chain", "draw", "level")
    assert stats_["swap_acceptance"].dims == ("chain", "draw", "pair")
    assert stats_["replica_at_level"].sizes["level"] == 16
    assert stats_["beta"].dims == ("chain", "level")  # a coordinate, fixed after tuning
    beta = stats_["beta"].values
    assert np.all(beta[:, 0] == 0) and np.all(beta[:, -1] == 1) and np.all(np.diff(beta) > 0)
    assert np.all(np.sort(stats_["replica_at_level"].values, axis=-1) == np.arange(16))
    assert int(stats_["n_failures"].max()) == 0


def test_vector_stats_are_declared_with_their_dtype_and_length(line, line_run):
    """The number of levels is known when the step is built: the vector stats are declared
    with it, and PyMC's NDArray trace stores them as numeric arrays."""
    _, model, _ = line
    with model:
        step = ReplicaExchange(n_replicas=7)
    shapes = step.stats_dtypes_shapes
    assert shapes["replica_log_likelihood"] == (np.float64, [7])
    assert shapes["replica_at_level"] == (np.int64, [7])
    assert shapes["swap_acceptance"] == (np.float64, [6])
    assert step.stats_dtypes[0]["beta"] == np.dtype((np.float64, (7,)))
    assert ReplicaExchange.stats_dtypes_shapes["beta"] == (np.float64, [None])
    stats_ = line_run["sample_stats"].to_dataset()
    assert stats_["replica_log_likelihood"].dtype == np.float64
    assert stats_["replica_at_level"].dtype == np.int64


def test_sampling_state_continues_a_chain_on_another_step(line):
    """PyMC's sampling_state of the step is the chain's whole state: set on a new step for
    the same model, it continues the chain exactly (stats and points)."""
    _, model, _ = line
    with model:
        first, second = ReplicaExchange(n_replicas=5), ReplicaExchange(n_replicas=5)
    first.setup_chain(np.random.default_rng(2), 40, 20)
    point = model.initial_point()
    for i in range(50):
        if i == 40:
            first.stop_tuning()
        point, _ = first.step(point)
    state, saved_point = first.sampling_state, point
    assert state.state is not None and not state.tune
    continued = []
    for _ in range(10):
        point, stats_ = first.step(point)
        continued.append((point, stats_))
    second.setup_chain(np.random.default_rng(99), 40, 20)
    second.sampling_state = state
    point = saved_point
    for expected_point, expected_stats in continued:
        point, stats_ = second.step(point)
        np.testing.assert_array_equal(point["a"], expected_point["a"])
        for name, value in expected_stats[0].items():
            np.testing.assert_array_equal(stats_[0][name], value, err_msg=name)


def test_result_survives_netcdf(line_run, tmp_path):
    path = tmp_path / "re.nc"
    line_run.to_netcdf(path)
    back = xr.open_datatree(path)
    assert free_energy(back).value == pytest.approx(free_energy(line_run).value)
    assert noise_scan(back).attrs["n_observations"] == 20


def test_raw_pm_sample_output_gives_the_same_free_energy(line):
    _, model, _ = line
    with model:
        raw = pm.sample(
            draws=300,
            tune=200,
            chains=2,
            cores=1,
            random_seed=9,
            step=ReplicaExchange(n_replicas=8),
            **QUIET,
        )
    tidy = sample_replica_exchange(
        model=model, draws=300, tune=200, chains=2, cores=1, random_seed=9, n_replicas=8, **QUIET
    )
    assert free_energy(raw).value == free_energy(tidy).value
    assert "*_dim_0" not in str(tidy["sample_stats"].dims)


def test_parallel_chains_pickle_and_reproduce(line):
    """cores > 1 pickles the step (PyMC uses cloudpickle); the same seed gives the same
    draws in any process."""
    _, model, _ = line
    kwargs = dict(draws=100, tune=100, chains=2, random_seed=4, n_replicas=6, **QUIET)
    one = sample_replica_exchange(model=model, cores=1, **kwargs)
    two = sample_replica_exchange(model=model, cores=2, **kwargs)
    again = sample_replica_exchange(model=model, cores=1, **kwargs)
    np.testing.assert_array_equal(one["posterior"]["a"].values, two["posterior"]["a"].values)
    np.testing.assert_array_equal(one["posterior"]["a"].values, again["posterior"]["a"].values)
    other = sample_replica_exchange(model=model, cores=1, **{**kwargs, "random_seed": 5})
    assert not np.array_equal(one["posterior"]["a"].values, other["posterior"]["a"].values)
    with model:
        step = ReplicaExchange(n_replicas=4)
    assert cloudpickle.loads(cloudpickle.dumps(step)).kernel.n_levels == 4


def test_adaptive_moves_through_pymc_match_the_exact_evidence(line):
    """update="adaptive" inside pm.sample: F of the line against the exact evidence, and
    the step (with its learnt covariances) pickles to chain processes reproducibly."""
    _, model, exact = line
    kwargs = dict(draws=1500, tune=1000, chains=2, random_seed=8, n_replicas=16, **QUIET)
    two = sample_replica_exchange(model=model, cores=2, update="adaptive", n_sweeps=2, **kwargs)
    fe = free_energy(two)
    assert abs(fe.value - exact) < 4 * fe.mcse + BIAS_ALLOWANCE, (fe, exact)
    one = sample_replica_exchange(model=model, cores=1, update="adaptive", n_sweeps=2, **kwargs)
    np.testing.assert_array_equal(one["posterior"]["a"].values, two["posterior"]["a"].values)


def test_loop_fallback_matches_the_vectorised_evaluation(line):
    _, model, _ = line
    kwargs = dict(draws=50, tune=50, chains=1, cores=1, random_seed=1, n_replicas=4, **QUIET)
    fast = sample_replica_exchange(model=model, **kwargs)
    slow = sample_replica_exchange(model=model, vectorize=False, **kwargs)
    np.testing.assert_allclose(fast["posterior"]["a"].values, slow["posterior"]["a"].values)


def test_unvectorisable_model_warns_and_loops(line, monkeypatch):
    import samplers.replica_exchange.tempered_density as td

    def refuse(*args, **kwargs):
        raise NotImplementedError("no batched form")

    monkeypatch.setattr(td, "vectorize_graph", refuse)
    _, model, _ = line
    with model, pytest.warns(UserWarning, match="could not vectorise"):
        step = ReplicaExchange(n_replicas=4)
    assert not step.density.vectorized
    log_prior, log_lik = step.density(np.zeros((4, 2)))
    assert log_prior.shape == log_lik.shape == (4,)


def test_noise_scan_matches_the_exact_evidence_against_noise(line, line_run):
    """F(βb) from one run against the closed form with σ = 0.3/√β at every level."""
    data, _, _ = line
    scan = noise_scan(line_run)
    x, y = data["x"].values, data["y"].values
    for chain in scan["chain"].values:
        row = scan.sel(chain=chain)
        exact = np.array(
            [-linear.exact_log_evidence(x, y, SIGMA / np.sqrt(b), 2) for b in row["beta"].values]
        )
        z = (row["free_energy"].values - exact) / (row["free_energy_mcse"].values + 1e-3)
        assert np.all(np.abs(z) < 4.5), z
    assert scan.attrs["model_noise_precision"] == pytest.approx(1 / SIGMA**2)


def test_noise_scan_finds_the_noise_level():
    """Data with σ = 0.3 analysed with a model that assumes σ = 0.1: the minimum of F over
    the ladder is near b = 1/0.3² (the closed-form minimiser, computed on a fine grid)."""
    data, _ = linear.example_data(1)
    x, y = data["x"].values, data["y"].values
    model = linear.build_model(data, n_terms=2, sigma=0.1)
    idata = sample_replica_exchange(
        model=model, draws=1000, tune=1000, chains=2, cores=1, random_seed=2, n_replicas=24, **QUIET
    )
    scan = noise_scan(idata)
    grid = np.geomspace(1.0, 100.0, 400)
    best = grid[np.argmin([-linear.exact_log_evidence(x, y, 1 / np.sqrt(b), 2) for b in grid])]
    # 4 standard errors of the two-chain mean, plus the grid step of the exact minimiser
    tolerance = 4 * scan.attrs["best_noise_precision_se"] + best * 0.012
    assert abs(scan.attrs["best_noise_precision"] - best) < tolerance
    assert scan.attrs["minimum_at_model_precision"] == 0


def test_noise_scan_flags_a_minimum_at_the_model_precision():
    """Negative control: a model assuming σ = 1 on data with σ = 0.3 has the F-minimising
    precision (≈ 11) above its own (1), outside the scanned β ≤ 1: the scan must say so."""
    data, _ = linear.example_data(1)
    model = linear.build_model(data, n_terms=2, sigma=1.0)
    idata = sample_replica_exchange(
        model=model, draws=300, tune=300, chains=2, cores=1, random_seed=3, n_replicas=12, **QUIET
    )
    scan = noise_scan(idata)
    assert scan.attrs["minimum_at_model_precision"] == 1
    assert scan.attrs["best_noise_precision"] == pytest.approx(1.0)


def test_noise_scan_refuses_a_non_gaussian_likelihood(two_modes):
    assert gaussian_noise(two_modes) is None
    with pytest.raises(ValueError, match="Gaussian with fixed noise"):
        noise_scan(xr.DataTree(), model=two_modes)


def test_ladder_diagnostics(line_run):
    diagnostics = ladder_diagnostics(line_run)
    swap = diagnostics["swap_rate"]
    assert swap.dims == ("chain", "pair") and float(swap.min()) > 0.3
    np.testing.assert_allclose(diagnostics["global_barrier"], (1 - swap).sum("pair"))
    assert np.all(diagnostics["round_trips"] > 10)
    assert np.all(diagnostics["round_trip_rate"] <= diagnostics["optimal_round_trip_rate"] * 1.2)


# -- clear errors -------------------------------------------------------------------------


def test_model_without_observations_is_refused():
    with pm.Model(), pytest.raises(ValueError, match="no observed variables"):
        pm.Normal("x")
        ReplicaExchange()


def test_discrete_variables_are_refused():
    with pm.Model(), pytest.raises(ValueError, match="discrete free variables"):
        k = pm.Poisson("k", 3.0)
        pm.Normal("y", k, 1.0, observed=1.0)
        ReplicaExchange()


def test_subset_of_variables_is_refused(line):
    _, model, _ = line
    with model, pytest.raises(ValueError, match="must own every free variable"):
        ReplicaExchange(vars=[model["a"]])


@pytest.mark.parametrize(
    ("betas", "message"),
    [([0.0, 0.5, 0.4, 1.0], "strictly increasing"), ([0.0, 0.5, 0.9], "end at β = 1")],
)
def test_bad_ladders_are_refused(line, betas, message):
    _, model, _ = line
    with model, pytest.raises(ValueError, match=message):
        ReplicaExchange(betas=betas)


def test_non_finite_initial_point_is_refused():
    with pm.Model():
        mu = pm.Normal("mu", 0.0, 1.0)
        pm.Normal("y", mu, pt.switch(pt.lt(mu, 1.0), np.nan, 1.0), observed=0.0)
        step = ReplicaExchange(n_replicas=3)
        step.setup_chain(np.random.default_rng(0), 5, 5)
        with pytest.raises(ValueError, match="not finite at the initial point"):
            step.step({"mu": np.array(0.0)})


def test_progress_bar_shows_the_ladder_health(line):
    _, model, _ = line
    with model:
        step = ReplicaExchange(n_replicas=4)
    columns, fields = step._progressbar_config(n_chains=2)
    headers = [column.get_table_column().header for column in columns]
    assert "Min swap" in headers and set(fields) == {"min_swap", "accept", "failures"}
    (update,) = step._make_progressbar_update_functions()
    step.setup_chain(np.random.default_rng(0), 5, 5)
    _, (stats_,) = step.step(model.initial_point())
    assert set(update(stats_)) == set(fields)
