"""Key numbers of the quick small-angle-scattering case study, against independent values.

The quick run samples the paper's model Θ = {R, b} (φ and Δρ known) at t = 1 and 100,
and at t = 1 with the low-q data cut at q_min = 0.06 Å⁻¹, then chooses between one and
two sphere populations on two-population data at t = 100. The references are computed
here, sharing nothing with the package but the saved data:

* the sphere intensity in closed form (checked against sasmodels' published values);
* the exact posterior of (R, b) on a grid (quadrature of the Poisson likelihood times
  the priors U(10, 1000) Å and HalfNormal(1) cm⁻¹): its moments, P(|R − 100| < 10 Å)
  and the free energy;
* the maximum-likelihood gap between the two candidates (scipy.optimize), which the free
  energies must reproduce up to Occam factors;
* the simulation truth (R = 100 Å, b = 0.01 cm⁻¹; populations 60 and 150 Å) and the
  Laplace law sd ∝ t^(−1/2).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import optimize, special, stats

from .conftest import run_quick

NAME = "hayashi2023_small_angle_scattering"
PHI, R_TRUE, B_TRUE, CONTRAST = 0.01, 100.0, 0.01, 5.0  # Δρ in 1e-6 / Å²


@pytest.fixture(scope="module")
def output(tmp_path_factory):
    return run_quick(NAME, tmp_path_factory)


def sphere(q, radius, scale=1.0, contrast=CONTRAST):
    """I(q) [1/cm] of monodisperse spheres: (φ/V)(Δρ V 3 j₁(qR)/(qR))² × 1e−4."""
    q, radius = np.asarray(q, float), np.atleast_1d(np.asarray(radius, float))[:, None]
    x = q * radius
    volume = 4 / 3 * np.pi * radius**3
    amplitude = contrast * volume * 3 * (np.sin(x) - x * np.cos(x)) / x**3
    return 1e-4 * scale / volume * amplitude**2


def test_closed_form_sphere_matches_sasmodels():
    # the tests of sasmodels 1.1.0, sasmodels.models.sphere: sld 6 in 1, R = 120 Å, scale 1
    reference = [1.34836265e4, 6.20114062, 1.04733914e-1]
    assert np.allclose(sphere([0.01, 0.1, 0.2], 120.0)[0], reference, rtol=1e-7)


def grid_posterior(q, counts, t, radius, background, radius_window=True):
    """Moments, P(|R − 100| < 10) and F of the (R, b) posterior on the given grid.

    ``radius_window``: the R grid is a window (its edges must hold no mass), not the
    whole prior range 10–1000 Å.
    """
    shape = sphere(q, radius) * PHI  # (nR, nq)
    log_post = np.empty((radius.size, background.size))
    for j, b in enumerate(background):
        mu = t * (shape + b)
        log_post[:, j] = (counts * np.log(mu) - mu).sum(axis=1)
    log_post -= special.gammaln(counts + 1).sum()
    log_post += stats.uniform(10, 990).logpdf(radius)[:, None]
    log_post += stats.halfnorm().logpdf(background)[None, :]
    top = log_post.max()
    weight = np.exp(log_post - top)
    z = np.trapezoid(np.trapezoid(weight, background, axis=1), radius)
    p_radius = np.trapezoid(weight, background, axis=1) / z
    p_background = np.trapezoid(weight, radius, axis=0) / z
    mean_r = np.trapezoid(p_radius * radius, radius)
    mean_b = np.trapezoid(p_background * background, background)
    # the grid must hold the whole posterior: negligible mass at its edges
    edge_r = max(p_radius[0], p_radius[-1]) * np.ptp(radius) if radius_window else 0.0
    edge_b = p_background[-1] * np.ptp(background)
    assert max(edge_r, edge_b) < 1e-5, (edge_r, edge_b)
    return {
        "radius_mean": mean_r,
        "radius_sd": np.sqrt(np.trapezoid(p_radius * (radius - mean_r) ** 2, radius)),
        "background_sd": np.sqrt(
            np.trapezoid(p_background * (background - mean_b) ** 2, background)
        ),
        "near_truth": np.trapezoid(np.where(abs(radius - R_TRUE) < 10, p_radius, 0), radius),
        "free_energy": -(top + np.log(z)),
    }


def test_posterior_against_the_exact_grid_posterior(output):
    scan = xr.open_dataset(output / "measurement_time.nc")
    q = scan.q.values
    windows = {1.0: (5.0, 0.4), 100.0: (0.5, 0.03)}  # R ± [Å], b up to [1/cm]
    for t, (half_width, b_max) in windows.items():
        run = scan.sel(t=t)
        exact = grid_posterior(
            q,
            run.counts.values,
            t,
            np.linspace(R_TRUE - half_width, R_TRUE + half_width, 801),
            np.linspace(0.0, b_max, 601),
        )
        radius, background = run.radius.values, run.background.values
        # Tolerances. Mean: 4 posterior sd / √(ESS ≈ 30), i.e. < 1 sd. Widths: the
        # relative error of an sd from ESS ≳ 30 draws is ≲ 1/√(2 ESS) ≈ 0.13; 0.3 is 2.3
        # of those. F: 5 MCSE (the sampler's MCSE) + 0.3 nats, the
        # case study's own tolerance against its grid.
        assert abs(radius.mean() - exact["radius_mean"]) < 0.8 * exact["radius_sd"]
        assert radius.std() / exact["radius_sd"] == pytest.approx(1, abs=0.3)
        assert background.std() / exact["background_sd"] == pytest.approx(1, abs=0.3)
        fe, mcse = float(run.free_energy), float(run.free_energy_mcse)
        assert abs(fe - exact["free_energy"]) < 5 * mcse + 0.3, (t, fe, exact)
        # and the truth: the posterior of R contains it (4 posterior sd)
        assert abs(radius.mean() - R_TRUE) < 4 * radius.std()


def test_width_follows_the_inverse_square_root_of_the_measurement_time(output):
    scan = xr.open_dataset(output / "measurement_time.nc")
    sd = scan.radius.std("sample").values
    t = scan.t.values
    slope = np.diff(np.log(sd)) / np.diff(np.log(t))
    # Laplace: sd ∝ t^(−1/2); the two sds each carry ≲ 13 % Monte Carlo error (ESS ≳ 30),
    # which over two decades of t is ≤ 0.2/ln(100) ≈ 0.05 in the exponent (3σ: 0.15)
    assert slope == pytest.approx([-0.5], abs=0.15)


def test_losing_the_low_q_data_loses_the_radius(output):
    scan = xr.open_dataset(output / "low_q_loss.nc")
    full_range = scan.sel(t=1.0, q_min=0.002)
    assert float(full_range.near_truth) > 0.99
    cut = scan.sel(t=1.0, q_min=0.06)
    q_first = float(cut.q_first)
    q = scan.q.values
    keep = q >= q_first
    exact = grid_posterior(
        q[keep],
        scan.counts.sel(t=1.0).values[keep],
        1.0,
        np.arange(10.0, 1000.0, 0.1),
        np.linspace(0.0, 0.4, 201),
        radius_window=False,
    )
    # without the Guinier region R is lost: little posterior mass near the truth
    assert exact["near_truth"] < 0.1
    # P(|R − 100| < 10) sampled against exact: its Monte Carlo error from ~600
    # correlated draws is ≲ 0.03 at these small values; 0.1 is the case study's tolerance
    assert abs(float(cut.near_truth) - exact["near_truth"]) < 0.1
    fe, mcse = float(cut.free_energy), float(cut.free_energy_mcse)
    assert abs(fe - exact["free_energy"]) < 5 * mcse + 0.3, (fe, exact["free_energy"])


def poisson_nll(counts, mu):
    return float(np.sum(mu - counts * np.log(mu) + special.gammaln(counts + 1)))


def best_nll(q, counts, t, n_populations, starts):
    """min −log p(D|θ) over radii, volume fractions and background (scipy.optimize)."""

    def nll(x):
        radius, scale, b = x[:n_populations], np.exp(x[n_populations:-1]), np.exp(x[-1])
        intensity = sphere(q, radius, scale[:, None]).sum(axis=0) + b
        return poisson_nll(counts, t * intensity)

    bounds = [(10.0, 1000.0)] * n_populations + [(None, None)] * (n_populations + 1)
    fits = [optimize.minimize(nll, x0, bounds=bounds, method="L-BFGS-B") for x0 in starts]
    return min(fit.fun for fit in fits)


def test_two_populations_are_chosen_and_recovered(output):
    data = xr.open_dataset(output / "selection_two_spheres_t100_data.nc")
    result = xr.open_datatree(output / "selection_two_spheres_t100.nc")
    assert result.attrs["chosen"] == "two spheres"
    table = result.to_dataset(inherit=False)
    free = table.free_energy
    gap_f = float(free.sel(model="sphere") - free.sel(model="two spheres"))
    q, counts, t = data.q.values, data.counts.values, data.attrs["measurement_time"]
    # one sphere: start from the three best radii of a 1 Å scan (volume fraction set by
    # the lowest-q counts, b = 0.01), then refine all three parameters
    scan = np.arange(20.0, 300.0, 1.0)
    level = sphere(q[:1], scan)[:, 0]
    scales = counts[:3].mean() / t / level
    mu = t * (sphere(q, scan) * scales[:, None] + 0.01)
    nll = (mu - counts * np.log(mu)).sum(axis=1)
    starts = [[r, np.log(f), np.log(0.01)] for r, f in zip(scan, scales, strict=True)]
    one = best_nll(q, counts, t, 1, [starts[i] for i in np.argsort(nll)[:3]])
    two = best_nll(q, counts, t, 2, [[60.0, 150.0, np.log(0.005), np.log(0.005), np.log(0.01)]])
    # F = min NLL + Occam factor (≈ Σ log(prior width / posterior width) over the
    # parameters, ≲ 10 nats each here); the two extra parameters of the two-population
    # model change the gap by at most ~30 nats out of ~10⁴
    assert two < one - 1000
    assert abs(gap_f - (one - two)) < 30, (gap_f, one - two)
    saved = pd.read_csv(output / "selection_posteriors.csv")
    radii = saved[saved.parameter == "radius"].sort_values("population")
    # the truth (60 and 150 Å) within 4 posterior sd of the relabelled populations
    assert np.all(np.abs(radii["mean"].values - [60.0, 150.0]) < 4 * radii["sd"].values)
