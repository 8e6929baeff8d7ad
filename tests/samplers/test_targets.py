"""The exact answers of the hard targets, checked against independent computations.

No sampler of ours runs here. Independent truths: scipy quadrature of prior × likelihood
in 1 and 2 dimensions; in 10 dimensions an importance-sampling estimate (a defensive
mixture of the prior and widened Gaussians at the likelihood centres, fixed seed) with a
tolerance of 4 of its own standard errors; for the Gaussian shells the published values
of Feroz, Hobson & Bridges, Mon. Not. R. Astron. Soc. 398, 1601 (2009), Table 1, and a
plain Monte Carlo estimate from the prior; for the egg box the published value of the same
paper (Table 3) and scipy's adaptive quadrature over the prior square and around each
peak. Every density on the right-hand side is written with scipy.stats or math, not with
the module's closed forms.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from scipy import integrate, stats
from scipy.special import logsumexp

from samplers.comparison.targets import (
    GaussianMixtureTarget,
    GaussianShellTarget,
    egg_box,
    gaussian_shell,
    three_modes,
    unequal_width,
)
from samplers.replica_exchange.tempered_density import TemperedDensity

ROOT = Path(__file__).parents[2]


def log_prior(target: GaussianMixtureTarget, theta: np.ndarray) -> np.ndarray:
    return stats.norm(0.0, target.prior_sd).logpdf(theta).sum(axis=-1)


def log_weighted_components(target: GaussianMixtureTarget, theta: np.ndarray) -> np.ndarray:
    """log w_k + log N(θ; μ_k, diag σ_k²) by scipy, shape (n, K)."""
    return np.stack(
        [
            np.log(w) + stats.multivariate_normal(mu, np.diag(sd**2)).logpdf(theta)
            for w, mu, sd in zip(target.weights, target.means, target.sds, strict=True)
        ],
        axis=-1,
    ).reshape(len(theta), -1)


def log_likelihood(target: GaussianMixtureTarget, theta: np.ndarray) -> np.ndarray:
    return logsumexp(log_weighted_components(target, theta), axis=-1)


# --- 1 and 2 dimensions: quadrature --------------------------------------------------


ONE_D = {
    "unequal width, narrow mass 0.3": unequal_width(dim=1, ratio=10.0, weights=0.3),
    "three modes, own weights": GaussianMixtureTarget(
        prior_sd=2.0,
        means=[[-3.0], [0.5], [4.0]],
        sds=[[0.2], [1.0], [0.05]],
        weights=[0.7, 2.0, 0.01],  # not normalised: Z scales with them
    ),
}


def point_density(target: GaussianMixtureTarget, k: int | None = None):
    """θ ↦ prior × likelihood (or × the k-th weighted component) at one point, written out
    with ``math`` for quadrature (scalar calls, fast)."""
    s0 = target.prior_sd
    components = [
        (float(target.weights[j]), target.means[j].tolist(), target.sds[j].tolist())
        for j in (range(target.n_modes) if k is None else [k])
    ]

    def normal(t, mean, sd):
        return math.exp(-0.5 * ((t - mean) / sd) ** 2) / (math.sqrt(2 * math.pi) * sd)

    def density(*theta):
        prior = math.prod(normal(t, 0.0, s0) for t in theta)
        likelihood = sum(
            w * math.prod(normal(t, m, sd) for t, m, sd in zip(theta, means, sds, strict=True))
            for w, means, sds in components
        )
        return prior * likelihood

    return density


@pytest.mark.parametrize("name", ONE_D)
def test_one_dimensional_evidence_and_weights_match_quadrature(name):
    target = ONE_D[name]
    edge, peaks = 12 * target.prior_sd, list(target.means[:, 0])

    def integral(k=None):
        value, error = integrate.quad(
            point_density(target, k), -edge, edge, points=peaks, limit=500, epsabs=0, epsrel=1e-10
        )
        assert error < 1e-8 * value
        return value

    z = integral()
    assert target.log_evidence == pytest.approx(np.log(z), abs=1e-7)
    masses = np.array([integral(k) for k in range(target.n_modes)]) / z
    np.testing.assert_allclose(target.mode_weights, masses, atol=1e-7)


def test_unequal_width_gets_the_requested_posterior_weights_in_one_dimension():
    """The likelihood weights are solved for the posterior masses: check by quadrature."""
    target = unequal_width(dim=1, ratio=10.0, weights=0.3)
    np.testing.assert_allclose(target.mode_weights, [0.7, 0.3], atol=1e-12)
    assert target.weights.sum() == pytest.approx(1.0)
    assert target.names == ("broad", "narrow")
    assert target.sds[1, 0] == pytest.approx(target.sds[0, 0] / 10)


TWO_D = {
    "unequal width, narrow in 2 of 2, mass 0.3": unequal_width(dim=2, weights=0.3),
    "unequal width, narrow in 1 of 2": unequal_width(dim=2, narrow_coordinates=1),
    "three modes, narrow in 1 of 2": three_modes(dim=2, narrow_coordinates=1),
}


@pytest.mark.parametrize("name", TWO_D)
def test_two_dimensional_evidence_and_weights_match_quadrature(name):
    """Each mode's mass by 2-d quadrature over a window ±15 likelihood sds around its
    centre (the integrand outside is below 1e-40 of it), the evidence their sum."""
    target = TWO_D[name]
    masses = []
    for k, (mu, sd) in enumerate(zip(target.means, target.sds, strict=True)):
        ranges = [(m - 15 * s, m + 15 * s) for m, s in zip(mu, sd, strict=True)]
        value, error = integrate.nquad(
            point_density(target, k), ranges, opts={"epsabs": 0, "epsrel": 1e-9}
        )
        assert error < 1e-8 * value
        masses.append(value)
    z = sum(masses)
    assert target.log_evidence == pytest.approx(np.log(z), abs=1e-7)
    np.testing.assert_allclose(target.mode_weights, np.array(masses) / z, atol=1e-7)


# --- 10 dimensions: importance sampling ----------------------------------------------


TEN_D = {
    "unequal width, narrow in 10 of 10 (the needle)": unequal_width(),
    "unequal width, narrow in 4 of 10, narrow mass 0.2": unequal_width(
        narrow_coordinates=4, weights=0.2
    ),
    "three modes": three_modes(),
}


@pytest.mark.parametrize("name", TEN_D)
def test_ten_dimensional_evidence_weights_and_mode_assignment_match_importance_sampling(name):
    r"""Z = E_q[p L / q] with q = 0.1 prior + 0.9 (mixture of N(μ_k, (1.5 σ_k)²)): the
    widened components cover each posterior mode, the prior keeps the weights bounded.
    Each mode's mass is E_q[p w_k N_k / q] / Z, and the mass of the draws that
    ``mode_of`` assigns to mode k must be the same (the modes are well separated)."""
    target = TEN_D[name]
    rng = np.random.default_rng(20260522)
    n, k, d = 160_000, target.n_modes, target.dimension
    component = rng.choice(k + 1, size=n, p=[0.1, *([0.9 / k] * k)])
    theta = np.empty((n, d))
    prior_draws = component == 0
    theta[prior_draws] = rng.normal(0.0, target.prior_sd, (prior_draws.sum(), d))
    for j in range(k):
        chosen = component == j + 1
        theta[chosen] = rng.normal(target.means[j], 1.5 * target.sds[j], (chosen.sum(), d))
    log_q = logsumexp(
        np.stack(
            [np.log(0.1) + log_prior(target, theta)]
            + [
                np.log(0.9 / k) + stats.norm(mu, 1.5 * sd).logpdf(theta).sum(axis=1)
                for mu, sd in zip(target.means, target.sds, strict=True)
            ]
        ),
        axis=0,
    )
    terms = log_weighted_components(target, theta)  # (n, K)
    log_ratio = log_prior(target, theta) - log_q
    shift = log_ratio.max() + terms.max()
    ratio = np.exp(log_ratio[:, None] + terms - shift)  # p w_k N_k / q, scaled
    total = ratio.sum(axis=1)
    z_hat, se = total.mean(), total.std(ddof=1) / np.sqrt(n)
    log_z_error = abs(target.log_evidence - (np.log(z_hat) + shift))
    assert log_z_error < 4 * se / z_hat, (log_z_error, se / z_hat)
    assert 4 * se / z_hat < 0.04  # resolution: a dropped σ_k² in Z would be 0.13 nats off

    def check_masses(per_draw):
        masses = per_draw.mean(axis=0) / z_hat
        # delta method for the ratio of means
        residual = per_draw - masses * total[:, None]
        mass_se = residual.std(axis=0, ddof=1) / np.sqrt(n) / z_hat
        assert np.all(np.abs(target.mode_weights - masses) < 4 * mass_se + 1e-9), (
            target.mode_weights,
            masses,
            mass_se,
        )

    check_masses(ratio)
    assigned = target.mode_of(theta)[:, None] == np.arange(k)
    check_masses(assigned * total[:, None])


# --- the PyMC model -------------------------------------------------------------------


MODELS = {
    "unequal width, narrow in 4 of 10": unequal_width(narrow_coordinates=4, weights=0.3),
    "three modes in 3 coordinates": three_modes(dim=3, narrow_coordinates=2),
}


@pytest.mark.parametrize("name", MODELS)
def test_the_model_is_the_prior_and_the_likelihood_as_the_sampler_sees_them(name):
    """The batched (log-prior, log-likelihood) that replica exchange tempers
    (PyMC's varlogp and datalogp) equal the scipy densities at points in and between
    the modes and far out."""
    target = MODELS[name]
    model = target.model()
    assert [v.name for v in model.free_RVs] == ["theta"] and not model.observed_RVs
    assert [p.name for p in model.potentials] == ["mixture_likelihood"]
    assert model.named_vars_to_dims["theta"] == ("coordinate",)
    density = TemperedDensity(model, model.value_vars, model.initial_point())
    rng = np.random.default_rng(3)
    points = np.concatenate(
        [
            target.means,
            target.means.mean(0, keepdims=True),
            rng.normal(0, 8, (3, len(target.means[0]))),
        ]
    )
    prior, likelihood = density(points)
    np.testing.assert_allclose(prior, log_prior(target, points), rtol=1e-13)
    np.testing.assert_allclose(likelihood, log_likelihood(target, points), rtol=1e-10)
    np.testing.assert_allclose(target.log_likelihood(points), likelihood, rtol=1e-10)


def test_the_shell_model_has_a_uniform_prior_and_the_shell_likelihood():
    """Through the interval transform x → θ = -b + 2b / (1 + e^-x): log-prior with its
    Jacobian is Σ log(σ(x)(1 - σ(x))), the likelihood the sum of the two shells."""
    target = gaussian_shell(3)
    model = target.model()
    density = TemperedDensity(model, model.value_vars, model.initial_point())
    b = target.half_width
    theta = np.array([[-3.5, 2.0, 0.0], [3.5, 0.0, -1.9], [0.1, 0.2, 0.3], [5.0, -5.0, 1.0]])
    x = np.log((theta + b) / (b - theta))
    prior, likelihood = density(x)
    sig = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(prior, np.log(sig * (1 - sig)).sum(axis=1), rtol=1e-10)
    shells = []
    for c in (-3.5, 3.5):
        distance = np.linalg.norm(theta - [c, 0.0, 0.0], axis=1)
        shells.append(stats.norm(2.0, 0.1).logpdf(distance))
    np.testing.assert_allclose(likelihood, np.logaddexp(*shells), rtol=1e-10)


# --- Gaussian shells ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dimension", "published"), [(2, -1.75), (5, -5.67), (10, -14.59), (20, -36.09), (30, -60.13)]
)
def test_shell_evidence_matches_the_published_values(dimension, published):
    """Feroz, Hobson & Bridges (2009), Table 1 ("analytical" log Z, two decimals)."""
    assert gaussian_shell(dimension).log_evidence == pytest.approx(published, abs=0.005)
    np.testing.assert_array_equal(gaussian_shell(dimension).mode_weights, [0.5, 0.5])


def test_shell_evidence_and_weights_match_plain_monte_carlo_from_the_prior():
    target = gaussian_shell(2)
    rng = np.random.default_rng(11)
    theta = rng.uniform(-6, 6, (1_000_000, 2))
    shells = [
        stats.norm(2.0, 0.1).pdf(np.linalg.norm(theta - [c, 0.0], axis=1)) for c in (-3.5, 3.5)
    ]
    likelihood = shells[0] + shells[1]
    z_hat, se = likelihood.mean(), likelihood.std(ddof=1) / np.sqrt(theta.shape[0])
    assert abs(target.log_evidence - np.log(z_hat)) < 4 * se / z_hat
    left = target.mode_of(theta) == 0
    log_shells = [
        stats.norm(2.0, 0.1).logpdf(np.linalg.norm(theta - [c, 0.0], axis=1)) for c in (-3.5, 3.5)
    ]
    np.testing.assert_array_equal(left, log_shells[0] > log_shells[1])
    mass, mass_se = (likelihood * left).mean() / z_hat, se / z_hat
    assert abs(mass - 0.5) < 4 * mass_se


# --- the egg box ---------------------------------------------------------------------


def egg_box_density(y: float, x: float) -> float:
    """L(θ) / e^243 (the peak value factored out), scalar, for scipy's dblquad."""
    return math.exp((2 + math.cos(x / 2) * math.cos(y / 2)) ** 5 - 243)


def test_egg_box_evidence_matches_quadrature_and_the_published_value():
    """log Z = log((10π)^-2 ∫∫ L) by dblquad over the 25 squares of side 2π (peaks at their
    corners); Feroz, Hobson & Bridges (2009), Table 3, give 235.88, which lies 0.024 above
    (their 'analytical' value; the quadrature here agrees with the module to 1e-10)."""
    side, cell = 10 * math.pi, 2 * math.pi
    total = 0.0
    for i in range(5):
        for j in range(5):
            value, error = integrate.dblquad(
                egg_box_density,
                cell * i,
                cell * (i + 1),
                cell * j,
                cell * (j + 1),
                epsabs=0,
                epsrel=1e-10,
            )
            assert error < 1e-8 * value
            total += value
    assert egg_box().log_evidence == pytest.approx(np.log(total / side**2) + 243, abs=1e-9)
    assert egg_box().log_evidence == pytest.approx(235.88, abs=0.03)


def test_egg_box_peaks_hold_the_stated_masses():
    """Each peak's mass by dblquad over the square ±2 around it, clipped to the prior (the
    likelihood 2 from a peak is e^-139 of its top; the next peak is 8.9 away): the masses
    are 2/25 inside, 1/25 on an edge and 1/50 in a corner, sum to Z, and every point of
    each square is assigned to its peak."""
    target, side = egg_box(), 10 * math.pi
    assert target.n_modes == 18 and len(target.names) == 18
    masses = []
    rng = np.random.default_rng(4)
    for k, peak in enumerate(target.peaks):
        low, high = np.clip(peak - 2, 0, side), np.clip(peak + 2, 0, side)
        value, _ = integrate.dblquad(
            egg_box_density, low[0], high[0], low[1], high[1], epsabs=0, epsrel=1e-10
        )
        masses.append(value)
        points = rng.uniform(low, high, (200, 2))
        np.testing.assert_array_equal(target.mode_of(points), k)
    masses = np.array(masses)
    assert target.log_evidence == pytest.approx(np.log(masses.sum() / side**2) + 243, abs=1e-9)
    np.testing.assert_allclose(target.mode_weights, masses / masses.sum(), atol=1e-10)
    in_fiftieths = np.sort(masses / masses.sum() * 50)  # 2 corners, 8 edges, 8 inside
    np.testing.assert_allclose(in_fiftieths, [1] * 2 + [2] * 8 + [4] * 8, atol=1e-8)


def test_the_egg_box_model_is_the_uniform_prior_and_the_egg_box_likelihood():
    target = egg_box()
    model = target.model()
    density = TemperedDensity(model, model.value_vars, model.initial_point())
    side = 10 * math.pi
    theta = np.array([[0.3, 0.2], [2 * math.pi, 4 * math.pi], [13.0, 29.0], [31.0, 1.0]])
    x = np.log(theta / (side - theta))
    prior, likelihood = density(x)
    sig = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(prior, np.log(sig * (1 - sig)).sum(axis=1), rtol=1e-10)
    expected = (2 + np.cos(theta[:, 0] / 2) * np.cos(theta[:, 1] / 2)) ** 5
    np.testing.assert_allclose(likelihood, expected, rtol=1e-10)
    np.testing.assert_allclose(target.log_likelihood(theta), expected, rtol=1e-12)


# --- mode fractions from a result -----------------------------------------------------


def test_mode_fractions_count_the_posterior_draws_in_each_mode():
    target = unequal_width(dim=3)
    broad, narrow = target.means
    chains = np.array([[broad, broad, broad, narrow], [narrow, narrow, broad, narrow]])
    idata = xr.DataTree.from_dict(
        {"posterior": xr.Dataset({"theta": (("chain", "draw", "coordinate"), chains)})}
    )
    np.testing.assert_array_equal(target.mode_of(chains), [[0, 0, 0, 1], [1, 1, 0, 1]])
    np.testing.assert_allclose(target.mode_fractions(idata), [0.5, 0.5])
    np.testing.assert_allclose(
        target.mode_fractions(idata, per_chain=True), [[0.75, 0.25], [0.25, 0.75]]
    )
    with pytest.raises(ValueError, match="no posterior variable 'theta'"):
        target.mode_fractions(
            xr.DataTree.from_dict({"posterior": xr.Dataset({"x": ("chain", [1.0])})})
        )
    with pytest.raises(ValueError, match="the 3 coordinates of theta"):
        target.mode_of(np.zeros((5, 4)))


# --- bad input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: GaussianMixtureTarget(1.0, [[0.0]], [[1.0]], [0.0]), "weights must be positive"),
        (lambda: GaussianMixtureTarget(1.0, [[0.0]], [[1.0]], [-1.0]), "weights must be positive"),
        (lambda: GaussianMixtureTarget(1.0, [[0.0]], [[0.0]], [1.0]), "sds must be positive"),
        (lambda: GaussianMixtureTarget(0.0, [[0.0]], [[1.0]], [1.0]), "prior_sd must be positive"),
        (
            lambda: GaussianMixtureTarget(1.0, [[0.0, 1.0]], [[1.0]], [1.0]),
            "sds must have the shape",
        ),
        (
            lambda: GaussianMixtureTarget(1.0, [[0.0], [1.0]], [[1.0], [1.0]], [1.0]),
            "one value per component",
        ),
        (
            lambda: GaussianMixtureTarget(1.0, np.zeros((1, 0)), np.zeros((1, 0)), [1.0]),
            "at least one",
        ),
        (
            lambda: GaussianMixtureTarget(1.0, [0.0, 1.0], [1.0, 1.0], [1.0]),
            "shape \\(components, dimension\\)",
        ),
        (lambda: GaussianMixtureTarget(1.0, [[np.nan]], [[1.0]], [1.0]), "means must be finite"),
        (
            lambda: GaussianMixtureTarget(1.0, [[0.0]], [[1.0]], [1.0], ("a", "b")),
            "names must name",
        ),
        (
            lambda: GaussianMixtureTarget.with_posterior_weights(
                1.0, [[0.0], [1.0]], [[1.0], [1.0]], [0.5, 0.6]
            ),
            "must sum to 1",
        ),
        (lambda: unequal_width(dim=0), "dim must be a positive integer"),
        (lambda: unequal_width(dim=10, narrow_coordinates=11), "narrow_coordinates must be"),
        (lambda: unequal_width(dim=10, narrow_coordinates=0), "narrow_coordinates must be"),
        (lambda: unequal_width(ratio=-1.0), "ratio must be positive"),
        (lambda: unequal_width(weights="unequal"), "weights must be 'equal'"),
        (lambda: unequal_width(weights=1.0), "must be in \\(0, 1\\)"),
        (lambda: unequal_width(separation=0.0), "separation must be positive"),
        (lambda: three_modes(ratios=(1.0, 10.0)), "one value per mode"),
        (lambda: three_modes(weights=(0.5, 0.5, 0.5)), "must sum to 1"),
        (lambda: gaussian_shell(1), "dimension must be an integer of at least 2"),
        (lambda: gaussian_shell(2, radius=3.0), "lie inside the prior box and apart"),
        (lambda: GaussianShellTarget(2, width=-0.1), "width must be positive"),
        (lambda: egg_box().mode_of(np.zeros((5, 3))), "the 2 coordinates of theta"),
    ],
)
def test_bad_input_is_refused_with_a_clear_error(build, message):
    with pytest.raises(ValueError, match=message):
        build()


# --- the measurement script -----------------------------------------------------------


def test_hard_targets_script_runs_one_case_quickly(monkeypatch):
    """Smoke test of docs/scripts/hard_targets.py: one case at the --quick sizes."""
    spec = importlib.util.spec_from_file_location(
        "hard_targets", ROOT / "docs" / "scripts" / "hard_targets.py"
    )
    script = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "hard_targets", script)  # dataclasses look it up
    spec.loader.exec_module(script)
    rows = script.run_case("narrow in 4 of 10", unequal_width(narrow_coordinates=4), 1, quick=True)
    assert [row.sampler for row in rows] == ["replica exchange", "SMC"]
    for row in rows:
        assert np.isfinite(row.estimate.value) and row.estimate.mcse > 0
        assert 0 <= row.narrow_fraction <= 1 and row.narrow_per_chain.shape == (2,)
    assert "| narrow in 4 of 10 | SMC |" in script.markdown(rows)
