"""Key numbers of the straight-line case study against closed forms written here.

The learning path of M. Okada's lecture "ベイズ計測の基礎から展開へ" (University of
Tokyo): compute y = a x + b analytically, then numerically, and check
that they agree. The test does the analytic side itself, with NumPy/SciPy and nothing
from ``measurement_models.linear``: for known noise σ and priors a, b ~ N(0, 10²),

    y ~ N(0, C),  C = σ² I + X Σ₀ Xᵀ,  Σ₀ = 10² I,  X = [x, 1],

so log p(D) = log N(y; 0, C) (``scipy.stats.multivariate_normal``), and the posterior is
N(m, S) with S = (Σ₀⁻¹ + XᵀX/σ²)⁻¹, m = S Xᵀ y/σ². The lecture's flat-prior results are
a₀ = ⟨xy⟩/⟨x²⟩, b₀ = ⟨y⟩ and σ̂² = Σr²/(N − 2). The saved sampled numbers must agree
with these within tolerances built from the quick run's own Monte Carlo errors.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import stats

from .conftest import run_quick

PRIOR_SD = 10.0
SIGMA = 0.3
#: SMC's MCSE is the spread of 4 chains (3 degrees of freedom): it can come out far too
#: small (0.004 nats at K = 1 in the full run), and SMC's evidence has a small bias
#: (+0.04 nats at K = 2 in the full run). A floor of 0.05 nats covers both.
SMC_FLOOR = 0.05


@pytest.fixture(scope="module")
def output(tmp_path_factory):
    return run_quick("okada_straight_line", tmp_path_factory)


@pytest.fixture(scope="module")
def line(output):
    data = xr.open_dataset(output / "data.nc")
    return data["x"].values, data["y"].values


def design(x, n_terms):
    return np.column_stack([x, np.ones_like(x)][:n_terms])


def log_evidence(x, y, sigma, n_terms=2):
    """log N(y; 0, diag(σ²) + X Σ₀ Xᵀ), written out independently of the package."""
    X = design(x, n_terms)
    cov = np.diag(np.broadcast_to(np.asarray(sigma, float) ** 2, y.shape)) + PRIOR_SD**2 * X @ X.T
    return stats.multivariate_normal(np.zeros(y.size), cov).logpdf(y)


def test_data_are_the_lectures_setting(line):
    x, _ = line
    assert x.size == 30
    assert abs(x.mean()) < 1e-12  # the lecture's centring x̄ = 0


def test_nuts_posterior_against_closed_form(output, line):
    # tolerance: 4 MCSE of the sampled mean (quick run: 2 chains × 500 draws) for the
    # mean; for the sd, 4 × sd/√(2 ESS) with ESS ≥ 250 in the quick run, i.e. 18 %.
    x, y = line
    X = design(x, 2)
    cov = np.linalg.inv(np.eye(2) / PRIOR_SD**2 + X.T @ X / SIGMA**2)
    mean = cov @ X.T @ y / SIGMA**2
    saved = pd.read_csv(output / "posterior.csv", index_col="parameter")
    for i, p in enumerate(("a", "b")):
        assert abs(saved.loc[p, "nuts_mean"] - mean[i]) < 4 * saved.loc[p, "nuts_mean_mcse"]
        assert abs(saved.loc[p, "nuts_sd"] / np.sqrt(cov[i, i]) - 1) < 0.18
    # the lecture's flat-prior closed forms; the N(0, 10²) prior moves them by < 0.01 sd
    assert saved.loc["a", "flat_prior_mean"] == pytest.approx(np.mean(x * y) / np.mean(x**2))
    assert saved.loc["b", "flat_prior_mean"] == pytest.approx(np.mean(y))
    assert abs(mean[0] - np.mean(x * y) / np.mean(x**2)) < 0.01 * np.sqrt(cov[0, 0])


def test_sampled_free_energy_against_closed_form_evidence(output, line):
    # F = −log p(D) of every estimator and sampler within 4 MCSE plus stepping-stone's
    # bias bound (mean squared per-chain MCSE, saved as bias_bound; 0 for SMC), the
    # tolerance the case study asserts for its integration runs; SMC: plus SMC_FLOOR.
    x, y = line
    exact = {k: -log_evidence(x, y, SIGMA, k) for k in (1, 2)}
    methods = pd.read_csv(output / "free_energy_methods.csv", index_col="method")
    for method in ("stepping_stone", "bridge"):
        row = methods.loc[method]
        assert abs(row["free_energy"] - exact[2]) < 4 * row["free_energy_mcse"] + row["bias_bound"]
    # negative control: the trapezoid rule on 16 levels is biased upwards by more than that
    ti = methods.loc["thermodynamic_integration"]
    assert ti["free_energy"] - exact[2] > 4 * ti["free_energy_mcse"]
    selection = pd.read_csv(output / "model_selection.csv")
    for row in selection.itertuples():
        assert row.exact_free_energy == pytest.approx(exact[row.K], abs=1e-8)
        floor = SMC_FLOOR if row.sampler == "smc" else 0.0
        tolerance = 4 * row.free_energy_mcse + row.bias_bound + floor
        assert abs(row.free_energy - exact[row.K]) < tolerance, row
        # K = 2 (the truth has an intercept 0.5, 9 sd from 0) takes all the probability
        assert row.probability == pytest.approx(1.0 if row.K == 2 else 0.0, abs=1e-9)


def test_the_lectures_asymptotic_delta_f(output, line):
    # the lecture: F(K) = (N/σ²) E(θ̂_K) + (K/2) log N + const, E = Σr²/2N. It is an
    # asymptotic (BIC-like) form: it agrees with the exact ΔF in sign and to ~10 %.
    x, y = line
    rss = {}
    for k in (1, 2):
        coef, *_ = np.linalg.lstsq(design(x, k), y, rcond=None)
        rss[k] = np.sum((y - design(x, k) @ coef) ** 2)
    asymptotic = (rss[1] - rss[2]) / (2 * SIGMA**2) - np.log(x.size) / 2
    selection = pd.read_csv(output / "model_selection.csv")
    assert selection["asymptotic_delta_f"].iloc[0] == pytest.approx(asymptotic)
    exact = log_evidence(x, y, SIGMA, 2) - log_evidence(x, y, SIGMA, 1)
    assert asymptotic > 0 and exact > 0
    assert abs(asymptotic / exact - 1) < 0.15


def test_noise_estimates_against_the_lecture(output, line):
    x, y = line
    coef, *_ = np.linalg.lstsq(design(x, 2), y, rcond=None)
    sigma_hat = np.sqrt(np.sum((y - design(x, 2) @ coef) ** 2) / (x.size - 2))
    noise = pd.read_csv(output / "noise.csv", index_col="estimate")
    assert noise.loc["closed form sqrt(sum r^2/(N-2))", "sigma"] == pytest.approx(sigma_hat)
    # the exact F(σ) with flat priors is minimal at the lecture's closed form (optimiser: 1e-4)
    assert noise.loc["argmin F(sigma), flat priors", "sigma"] == pytest.approx(sigma_hat, rel=1e-4)
    # the noise scan of one replica-exchange run: its minimiser b̂ against the minimiser
    # of the closed-form F(b) (N(0, 10²) priors) on a fine grid, within 4 of its standard
    # errors plus 1 % (the ladder's discreteness)
    grid = np.geomspace(5.0, 50.0, 4001)
    f = [-log_evidence(x, y, b**-0.5) for b in grid]
    b_exact = grid[np.argmin(f)]
    scan = noise.loc["noise scan: sigma at min F(beta b)"]
    assert abs(scan["noise_precision"] - b_exact) < 4 * scan["noise_precision_se"] + 0.01 * b_exact


def test_integration_against_stacked_closed_form(output):
    # F_int of the joint model = −log N(y_stacked; 0, diag(σ_i²) + X Σ₀ Xᵀ), and F₁ + F₂
    # of the separate models; tolerances saved by the case study: 4 MCSE + bias bound.
    tree = xr.open_datatree(output / "integration_data.nc")
    precise = tree["precise"].to_dataset()
    saved = pd.read_csv(output / "integration_free_energy.csv", index_col="case")
    for case, key in (("same line", "same_line"), ("slopes 2.0 and 2.45", "different_slopes")):
        noisy = tree[key].to_dataset()
        x = np.concatenate([precise["x"].values, noisy["x"].values])
        y = np.concatenate([precise["y"].values, noisy["y"].values])
        sigma = np.concatenate([precise["sigma"].values, noisy["sigma"].values])
        exact_int = -log_evidence(x, y, sigma)
        exact_sep = -sum(
            log_evidence(ds["x"].values, ds["y"].values, ds["sigma"].values)
            for ds in (precise, noisy)
        )
        row = saved.loc[case]
        assert abs(row["F_int"] - exact_int) < row["F_int tolerance"]
        assert abs(row["F1+F2"] - exact_sep) < row["F1+F2 tolerance"]
        assert np.sign(row["ΔF"]) == np.sign(exact_int - exact_sep)
    assert list(saved["preferred"]) == ["integrated", "separate"]


def test_slope_sd_is_the_precision_weighted_combination(output):
    # 1/sd(a)² = 1/10² + Σ_k Σ_i x_ki²/σ_k² (x centred in each dataset), computed here
    x = {"precise": np.linspace(-1, 1, 12), "noisy": np.linspace(-1, 1, 60)}
    sigma = {"precise": 0.1, "noisy": 0.25}
    weight = {k: np.sum(x[k] ** 2) / sigma[k] ** 2 for k in x}
    expected = {
        "precise alone": weight["precise"],
        "noisy alone": weight["noisy"],
        "integrated": weight["precise"] + weight["noisy"],
    }
    saved = pd.read_csv(output / "slope_sd.csv", index_col="data")
    for label, w in expected.items():
        sd = (1 / PRIOR_SD**2 + w) ** -0.5
        assert saved.loc[label, "sd(a) analytic"] == pytest.approx(sd)
        assert abs(saved.loc[label, "sd(a) sampled"] - sd) < 4 * saved.loc[label, "MCSE"]
