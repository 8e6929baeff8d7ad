"""The tempering path (⟨ℓ⟩_β, Var_β[ℓ]) and the chains' agreement, against closed forms.

The straight line with known noise and a Gaussian prior is conjugate at every β: the
power posterior is the exact posterior with noise σ/√β, so the mean and variance of the
log-likelihood at every level are closed-form (moments of a Gaussian quadratic form).
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytest
import xarray as xr

from measurement_models import linear
from samplers import (
    ReplicaExchange,
    ladder_diagnostics,
    plot_tempering_path,
    sample_replica_exchange,
)
from samplers.evidence.free_energy import FreeEnergy
from samplers.evidence.path import free_energy_agreement, tempering_path
from samplers.evidence.thermodynamic import mean_standard_error
from samplers.replica_exchange.stats import tidy_replica_stats

SIGMA = 0.3


def exact_moments(x: np.ndarray, y: np.ndarray, beta: float) -> tuple[float, float]:
    r"""Mean and variance of ℓ(θ) = Σ log N(y_i; Xθ, σ²) for θ under the power posterior.

    With r = y − Xθ ~ N(b, A), b = y − X m_β, A = X C_β Xᵀ:
    E[|r|²] = |b|² + tr A and Var[|r|²] = 2 tr A² + 4 bᵀ A b.
    """
    X = linear.design_matrix(x, 2)
    if beta == 0:
        mean, cov = np.zeros(2), np.diag(np.broadcast_to(linear.PRIOR_SD, 2) ** 2)
    else:
        mean, cov = linear.exact_posterior(x, y, SIGMA / np.sqrt(beta), n_terms=2)
    b, A = y - X @ mean, X @ cov @ X.T
    constant = -y.size * np.log(SIGMA * np.sqrt(2 * np.pi))
    expected = constant - (b @ b + np.trace(A)) / (2 * SIGMA**2)
    variance = (2 * np.trace(A @ A) + 4 * b @ A @ b) / (4 * SIGMA**4)
    return float(expected), float(variance)


@pytest.fixture(scope="module")
def line(line_data):
    data, _ = line_data
    return data, linear.build_model(data, n_terms=2, sigma=SIGMA)


@pytest.fixture(scope="module")
def adapted(line):
    """The default: each chain tunes its own ladder."""
    _, model = line
    return sample_replica_exchange(
        model=model, n_replicas=8, draws=3000, tune=1000, chains=3, cores=1,
        random_seed=11, progressbar=False, compute_convergence_checks=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def one_ladder(line):
    """Every chain on the same fixed ladder, so that levels can be compared across chains."""
    _, model = line
    with model:
        step = ReplicaExchange(betas=[0.0, 0.001, 0.01, 0.05, 0.15, 0.35, 0.65, 1.0],
                               adapt_ladder=False)  # fmt: skip
    return pm.sample(
        step=step, model=model, draws=3000, tune=500, chains=3, cores=1, random_seed=12,
        progressbar=False, compute_convergence_checks=False,
    )  # fmt: skip


def test_path_matches_the_closed_form_at_every_level(line, adapted):
    data, _ = line
    path = tempering_path(adapted)
    x, y = data[linear.AXIS].values, data[linear.VARIABLE].values
    log_lik = (
        adapted["sample_stats"]["replica_log_likelihood"].transpose("chain", "draw", "level").values
    )
    assert np.isnan(path["chain_agreement_p"]).all()  # three ladders: no comparison
    for chain in range(3):
        for level in range(8):
            beta = path["beta"].values[chain, level]
            expected, variance = exact_moments(x, y, beta)
            se = path["mean_log_likelihood_mcse"].values[chain, level]
            assert abs(path["mean_log_likelihood"].values[chain, level] - expected) < 4 * se
            # the variance: standard error of the mean of the squared deviations
            squares = (log_lik[chain, :, level] - expected) ** 2
            se = mean_standard_error(squares)
            error = path["log_likelihood_variance"].values[chain, level] - variance
            assert abs(error) < 4 * se, (chain, level, beta)
    np.testing.assert_allclose(
        path["heat_capacity"], path["beta"] ** 2 * path["log_likelihood_variance"]
    )


def test_chains_on_one_ladder_agree(one_ladder):
    """Negative control of the χ² test: a smooth path, chains agree at every level."""
    path = tempering_path(one_ladder)
    assert np.all(path["chain_agreement_p"].values > 1e-3)


def test_chains_that_disagree_at_one_level_are_found(one_ladder):
    """Positive control: move chain 0's log-likelihoods at level 5 by 15 of its standard
    errors (as a chain stuck in another phase would be); only that level is flagged."""
    shift = 15 * tempering_path(one_ladder)["mean_log_likelihood_mcse"].values[0, 5]
    stats = tidy_replica_stats(one_ladder["sample_stats"].to_dataset())
    moved = stats["replica_log_likelihood"].copy()
    moved.loc[{"chain": 0, "level": 5}] = moved.sel(chain=0, level=5) + shift
    changed = xr.DataTree.from_dict(
        {"/posterior": one_ladder["posterior"].to_dataset(),
         "/sample_stats": stats.assign(replica_log_likelihood=moved)}
    )  # fmt: skip
    flagged = tempering_path(changed)["chain_agreement_p"].values < 1e-6
    assert flagged[5] and flagged.sum() == 1


def test_free_energy_agreement():
    agree = FreeEnergy(-10.0, 0.05, np.array([-10.0, -10.1, -9.95]), "stepping_stone",
                       np.array([0.1, 0.1, 0.1]))  # fmt: skip
    statistic, p = free_energy_agreement(agree)
    assert statistic == pytest.approx(1.1667, abs=1e-3) and p > 0.5  # χ²(2) = 7/6
    apart = FreeEnergy(-10.0, 0.05, np.array([-10.0, -12.0, -10.0]), "stepping_stone",
                       np.array([0.1, 0.1, 0.1]))  # fmt: skip
    assert free_energy_agreement(apart)[1] < 1e-20
    with pytest.raises(ValueError, match="no per-chain MCSE"):
        free_energy_agreement(FreeEnergy(-10.0, 0.05, np.array([-10.0, -10.1]), "smc"))


def test_not_a_replica_exchange_result(line_data):
    empty = xr.DataTree.from_dict(
        {"/sample_stats": xr.Dataset({"lp": (("chain", "draw"), [[1.0]])})}
    )
    with pytest.raises(ValueError, match="not a replica-exchange result"):
        tempering_path(empty)


def test_the_path_figure_draws_what_tempering_path_and_the_ladder_give(adapted):
    """Each panel holds one line per chain with the data of ``tempering_path`` (levels
    above β = 0) and of ``ladder_diagnostics``; the swap panel names each chain's
    lowest swap rate."""
    path = tempering_path(adapted)
    swaps = ladder_diagnostics(adapted)["swap_rate"].values
    mean_ax, heat_ax, swap_ax = plot_tempering_path(adapted)
    for c in range(path.sizes["chain"]):
        positive = path["beta"].values[c] > 0
        np.testing.assert_allclose(
            heat_ax.lines[c].get_ydata(), path["heat_capacity"].values[c][positive]
        )
        np.testing.assert_allclose(swap_ax.lines[c].get_ydata(), swaps[c][1:])  # β = 0 pair
        assert f"{swaps[c].min():.2f} at β≈" in swap_ax.get_title()
    assert mean_ax.get_xscale() == "log" and len(heat_ax.lines) == path.sizes["chain"]
