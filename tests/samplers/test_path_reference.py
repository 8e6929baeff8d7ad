"""A tempered path that starts from a fitted reference instead of the prior.

References independent of the code under test: SciPy's multivariate normal (the mixture's
density and draws), the exact evidence of a conjugate Gaussian and of the straight line
(the evidence must not move when the path's start does), and the exact evidence and mode
weights of an unequal-width Gaussian-mixture target, where the prior path is measured to
be 0.7 nats wrong (docs/scripts/hard_targets.txt) and is the negative control.
Tolerances: 4 Monte Carlo standard errors for the NumPy kernel (as in
test_parallel_tempering.py), and the issue's 3 MCSE + 0.15 nats and 0.05 of mode weight
for the hard target.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy import stats

from measurement_models import linear
from samplers import noise_scan, sample_replica_exchange
from samplers.comparison.targets import unequal_width
from samplers.evidence.thermodynamic import log_evidence
from samplers.replica_exchange.kernel import ParallelTempering
from samplers.replica_exchange.path_reference import (
    GaussianMixtureReference,
    ReferencedDensity,
    modes_reference,
    variational_reference,
)

from .test_parallel_tempering import Conjugate, run

QUIET = {"progressbar": False, "compute_convergence_checks": False}

MEANS = np.array([[0.0, 1.0], [3.0, -2.0]])
COVARIANCES = np.array([[[1.0, 0.3], [0.3, 0.5]], [[0.2, 0.0], [0.0, 2.0]]])
WEIGHTS = np.array([0.25, 0.75])


def test_mixture_density_is_scipys():
    reference = GaussianMixtureReference(MEANS, COVARIANCES, 3 * WEIGHTS)  # normalised
    x = np.random.default_rng(0).normal(size=(7, 2)) * 2
    expected = np.log(
        sum(
            w * stats.multivariate_normal(m, c).pdf(x)
            for m, c, w in zip(MEANS, COVARIANCES, WEIGHTS, strict=True)
        )
    )
    np.testing.assert_allclose(reference.log_density(x), expected, rtol=1e-12)


def test_mixture_draws_have_the_mixture_moments():
    reference = GaussianMixtureReference(MEANS, COVARIANCES, WEIGHTS)
    rng = np.random.default_rng(1)
    draws = np.array([reference.sample(rng) for _ in range(20000)])
    mean = WEIGHTS @ MEANS
    second = sum(
        w * (c + np.outer(m, m)) for m, c, w in zip(MEANS, COVARIANCES, WEIGHTS, strict=True)
    )
    covariance = second - np.outer(mean, mean)
    se = np.sqrt(np.diag(covariance) / draws.shape[0])
    assert np.all(np.abs(draws.mean(axis=0) - mean) < 4 * se)
    np.testing.assert_allclose(np.cov(draws, rowvar=False), covariance, atol=0.1)


@pytest.mark.parametrize(
    ("means", "covariances", "weights", "message"),
    [
        (MEANS, COVARIANCES[:1], WEIGHTS, "covariances of shape"),
        (MEANS, COVARIANCES, [1.0, -1.0], "positive"),
        (MEANS, -COVARIANCES, WEIGHTS, "not positive definite"),
        ([[0.0, np.nan], [1.0, 1.0]], COVARIANCES, WEIGHTS, "not all finite"),
    ],
)
def test_bad_mixtures_are_refused(means, covariances, weights, message):
    with pytest.raises(ValueError, match=message):
        GaussianMixtureReference(means, covariances, weights)


def test_reference_round_trips_a_dataset():
    reference = GaussianMixtureReference(MEANS, COVARIANCES, WEIGHTS, kind="modes")
    again = GaussianMixtureReference.from_dataset(reference.to_dataset(["a", "b"]))
    assert again.kind == "modes"
    x = np.array([[0.5, 0.5]])
    np.testing.assert_array_equal(again.log_density(x), reference.log_density(x))


def _census(points, classes, weights=None):
    k = len(points)
    weights = np.full(k, 1.0 / k) if weights is None else np.asarray(weights)
    return xr.Dataset(
        {
            "point": (("mode", "coordinate"), np.asarray(points, dtype=float)),
            "laplace_weight": ("mode", weights),
            "mode_class": ("mode", np.asarray(classes)),
            "laplace_covariance": (("mode", "coordinate", "coordinate_bis"), COVARIANCES[:k]),
        }
    )


def test_modes_reference_weighs_modes_by_laplace_mass_and_keeps_a_broad_part():
    prior = np.random.default_rng(2).normal(0.0, 5.0, size=(4000, 2))
    reference = modes_reference(_census(MEANS, [0, 1], WEIGHTS), prior, broad_weight=0.1)
    np.testing.assert_allclose(reference.weights, [0.9 * 0.25, 0.9 * 0.75, 0.1])
    np.testing.assert_allclose(reference.means[-1], prior.mean(axis=0))
    np.testing.assert_allclose(reference.covariances[-1], np.cov(prior, rowvar=False), rtol=1e-6)


def test_modes_reference_refuses_symmetric_copies_and_empty_censuses():
    prior = np.random.default_rng(2).normal(size=(100, 2))
    with pytest.raises(ValueError, match="symmetric copies"):
        modes_reference(_census(MEANS, [0, 0]), prior)
    with pytest.raises(ValueError, match="no mode"):
        modes_reference(_census(MEANS, [0, 1], [np.nan, np.nan]), prior)


def test_variational_reference_is_the_moment_match():
    rng = np.random.default_rng(3)
    posterior = rng.multivariate_normal(MEANS[0], COVARIANCES[0], size=3000)
    prior = rng.normal(0.0, 4.0, size=(3000, 2))
    reference = variational_reference(posterior, prior, broad_weight=0.2)
    np.testing.assert_allclose(reference.weights, [0.8, 0.2])
    np.testing.assert_allclose(reference.means[0], posterior.mean(axis=0))
    with pytest.raises(ValueError, match="broad_weight"):
        variational_reference(posterior, prior, broad_weight=1.0)


# --- the NumPy kernel on a conjugate Gaussian: log Z must not depend on the reference ---

GAUSS = Conjugate()


class _ModelDensity:
    """The conjugate Gaussian as a batched density with the attributes a step passes on."""

    vectorized, dim, dtype = True, GAUSS.dim, np.float64

    def __call__(self, x):
        return GAUSS.log_density(x)


def _reference_run(reference, normalisation_error=0.0):
    density = ReferencedDensity(_ModelDensity(), reference)

    def log_density(x):  # a reference whose log-density is off by a constant
        log_q, log_ratio = density(x)
        return log_q + normalisation_error, log_ratio - normalisation_error

    kernel = ParallelTempering(log_density, n_replicas=6, reference_sampler=reference.sample)
    state, record = run(kernel, np.zeros(GAUSS.dim), seed=11, tune=500, draws=3000)
    return log_evidence(record["log_lik"], state.betas, "stepping_stone"), record


@pytest.fixture(scope="module")
def offset_reference():
    """A Gaussian near, but not at, the posterior (wider, shifted, correlated)."""
    mean, variance = GAUSS.tempered(1.0)  # the variance is the same in every coordinate
    covariance = variance * (4 * np.eye(GAUSS.dim) + 0.2)
    return GaussianMixtureReference([mean + 0.3], [covariance], [1.0])


def test_evidence_from_a_reference_path_is_exact(offset_reference):
    (value, se), record = _reference_run(offset_reference)
    assert abs(value - GAUSS.log_evidence()) < 4 * se
    # the path starts near the posterior: the reference level is close in ℓ̃ to β = 1
    assert np.ptp(record["log_lik"].mean(axis=0)) < 5.0


def test_evidence_check_rejects_a_reference_that_is_not_normalised(offset_reference):
    (value, se), _ = _reference_run(offset_reference, normalisation_error=0.5)
    assert abs(value - GAUSS.log_evidence()) > 4 * se
    assert value - GAUSS.log_evidence() == pytest.approx(-0.5, abs=4 * se)


# --- through PyMC: the straight line (exact evidence) and a hard target -----------------


@pytest.fixture(scope="module")
def line(line_data):
    data, _ = line_data
    return data, linear.build_model(data, n_terms=2, sigma=0.3)


@pytest.mark.parametrize("reference", ["variational", "modes"])
def test_straight_line_evidence_does_not_move_with_the_reference(line, reference):
    data, model = line
    idata = sample_replica_exchange(
        model=model, reference=reference, random_seed=5, draws=800, tune=600, n_replicas=8,
        chains=2, cores=1, **QUIET,
    )  # fmt: skip
    exact = -linear.exact_log_evidence(data["x"].values, data["y"].values, 0.3, 2)
    group = idata["free_energy"]
    value = float(group["free_energy"].sel(estimator="stepping_stone"))
    mcse = float(group["mcse"].sel(estimator="stepping_stone"))
    # the Laplace / moment-matched Gaussian is nearly the posterior, so the MCSE is tiny;
    # 0.01 nats covers the stepping stones' bias of order Var[ℓ̃]/2 per step
    assert abs(value - exact) < 3 * mcse + 0.01
    assert group.attrs["reference"] == reference
    stored = idata["tempering_reference"].to_dataset()
    assert stored.attrs["kind"] == reference
    assert list(stored["coordinate"].values) == ["a", "b"]  # the linear model's names
    with pytest.raises(ValueError, match="prior-referenced path"):
        noise_scan(idata)


def test_unknown_reference_is_refused(line):
    with pytest.raises(ValueError, match="reference must be one of"):
        sample_replica_exchange(model=line[1], reference="posterior", **QUIET)


HARD = {"random_seed": 2, "draws": 1000, "tune": 1000, "chains": 2, "cores": 1, **QUIET}


@pytest.fixture(scope="module")
def reachable_target():
    """Two modes of equal mass, one 10 times narrower in 4 of 10 coordinates."""
    target = unequal_width(narrow_coordinates=4)
    return target, target.model()


def test_mode_reference_gets_unequal_widths_right(reachable_target):
    target, model = reachable_target
    idata = sample_replica_exchange(model=model, reference="modes", **HARD)
    group = idata["free_energy"]
    error = -float(group["free_energy"].sel(estimator="stepping_stone")) - target.log_evidence
    mcse = float(group["mcse"].sel(estimator="stepping_stone"))
    assert abs(error) < 3 * mcse + 0.15
    np.testing.assert_allclose(target.mode_fractions(idata), target.mode_weights, atol=0.05)
    assert idata["tempering_reference"]["weight"].size == 3  # both modes and the broad part


def test_prior_path_misses_the_narrow_mode(reachable_target):
    """Negative control: the same target, settings and checks on the prior path."""
    target, model = reachable_target
    idata = sample_replica_exchange(model=model, **HARD)
    group = idata["free_energy"]
    error = -float(group["free_energy"].sel(estimator="stepping_stone")) - target.log_evidence
    mcse = float(group["mcse"].sel(estimator="stepping_stone"))
    assert abs(error) > 3 * mcse + 0.15
    assert abs(target.mode_fractions(idata)[1] - target.mode_weights[1]) > 0.05


def test_gradient_updates_refuse_a_reference(line):
    with pytest.raises(ValueError, match="cannot start the path from a reference"):
        sample_replica_exchange(model=line[1], reference="modes", update="mala", **QUIET)
