# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # When to stop a magnetic Compton measurement: posterior precision against cycles (Fe)
#
# M. Mizumaki (JASRI), "機械学習手法の導入によるデータ解析高度化" (advancing data
# analysis with machine learning; article in Japanese), section 2-2 — Fe at SPring-8
# BL08W, room temperature, 136 field-reversal cycles; the study is Y. Yokoyama et al., in
# preparation there — asks: **how long must a magnetic Compton profile (MCP) be
# measured?** It fits the MCP with
# f(p) = ([a_3d J_3d + a_4s J_4s] ∗ G_Γ)(p) — atomic Hartree–Fock Fe 3d and 4s Compton
# profiles and a Gaussian resolution Γ — with Gaussian noise of unknown precision b, after
# 1, 2, …, 136 accumulated cycles, and reads two stopping rules off the posterior:
#
# 1. the posterior sd of a_3d stops falling after about 20 cycles (while the statistical
#    error of the intensity keeps falling smoothly): the 3d/4s separation is then limited
#    by how well the atomic profiles fit, not by counting statistics;
# 2. the sd of the spin moment μ_s = a_3d + a_4s (the MCP's area) is inside ±0.01 μ_B
#    after about 6 cycles — about 1/20 of the usual measuring time.
#
# The measured spectra are not available to us, so the cycles are simulated
# (`measurement_models.magnetic_compton`): 136 cycles of an Fe MCP on p = −10…10 a.u.
# (201 points), each with Gaussian noise. The model (3d and 4s profiles from the Koga et
# al. 1999 Roothaan–Hartree–Fock orbitals of atomic Fe) is used unchanged; the *simulated
# truth* differs from it in one physically motivated way — its 3d profile is that of a
# 3d orbital compressed in r by 6 % (broader in momentum, as the 3d band of the metal is
# relative to the free atom) — because without a misfit the posterior sd can only fall as
# 1/√n and nothing levels off. Two numbers were **calibrated to reproduce the article** and
# are ours, not measured: the per-cycle noise σ₁ = 0.0234 μ_B/a.u. (chosen so that the
# linearised sd of μ_s crosses 0.01 μ_B between 5 and 6 cycles) and the 3d scale
# λ = 1.06 (chosen so that the linearised sd of a_3d levels off, by the rule below, near
# 20 cycles). The stopping decisions themselves come from the sampled posteriors
# (`samplers.stopping`), and a control simulation without misfit shows no plateau.
#
# The reader will see the MCP after 1, 6 and 136 cycles with the fit and its 3d and 4s
# parts (the article's Fig. 3), the posterior sds and the statistical error against cycles
# (Fig. 4), the spin moment and its sd against the ±0.01 μ_B requirement (Fig. 5), and
# the paper against ours.
#
# `BAYESMEAS_QUICK=1` samples 4 accumulations (1, 6, 20, 60 cycles) with short NUTS
# runs; the numbers quoted in the text are from the full run (`nice
# .venv/bin/python case_studies/magnetic_compton_stopping.py`, 24 accumulations from 1
# to 136 cycles plus 11 of the control, NUTS 4 × 2000 draws: 6 min 52 s wall time, 2 min
# 11 s CPU, on two cores shared with two other jobs).

# %%
import os
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr
from scipy.optimize import least_squares

from measurement_models import magnetic_compton as mc
from samplers.stopping import accumulate, nuts_sampler, precision_curve, stopping_point

QUICK = os.environ.get("BAYESMEAS_QUICK") == "1"
OUTPUT = Path(os.environ.get("BAYESMEAS_OUTPUT", "results/magnetic_compton_stopping"))
OUTPUT.mkdir(parents=True, exist_ok=True)
started = time.perf_counter()

P = np.linspace(-10.0, 10.0, 201)  # momentum axis [a.u.]
TRUTH = {"a_3d": 2.3, "a_4s": -0.2, "Gamma": 0.19}  # μ_B, μ_B, a.u. (0.45 a.u. FWHM)
SCALE_3D = 1.06  # calibrated: momentum scale of the simulated (solid-like) 3d profile
SIGMA_CYCLE = 0.0234  # calibrated: noise sd of one cycle [μ_B/a.u.]
ARTICLE = mc.REFERENCES["mizumaki_fe_stopping"].params  # the article's settings and numbers
N_CYCLES = 60 if QUICK else ARTICLE["cycles"]  # quick: only the cycles it uses are simulated
# full: every cycle to 8, then geometric (ratio ≈ 1.2) to 136; a 1/√n sd falls by
# 8.7 % per step there, well above the Monte Carlo error of a sampled sd (~1 %), so a
# levelling off is visible — between consecutive cycles beyond ~20 a statistical fall
# (< 2.5 %) could not be told from Monte Carlo noise.
CYCLES = (1, 6, 20, 60) if QUICK else (
    1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 17, 20, 24, 29, 34, 41, 50, 59, 71, 86, 103, 123, 136
)  # fmt: skip
# control without misfit: the same geometric steps where the main curve levels off
CONTROL_CYCLES = () if QUICK else (6, 8, 10, 12, 14, 17, 20, 24, 29, 34, 136)
DRAWS, TUNE, CHAINS = (300, 300, 2) if QUICK else (2000, 1000, 4)
TARGET_SD = ARTICLE["required_sd_mu_B"]  # required precision of the spin moment [μ_B]
PLATEAU_RTOL, WINDOW = 0.02, 3  # "levels off": < 2 % fall (+ 2 MCSE) for 3 steps
FIT_CYCLES = (1, 6, CYCLES[-1])  # drawn like the article's Fig. 3
SEED = 20260000
QUANTITIES = {"a_3d": "a_3d", "a_4s": "a_4s", "Gamma": "Gamma", "mu_s": mc.spin_moment}

# %% [markdown]
# ## Simulated cycles and their accumulation
#
# Every cycle is an independent MCP with noise sd σ₁; the cumulative MCP after n cycles
# is their mean (`samplers.stopping.accumulate(kind="mean")`), noise σ₁/√n. The noise
# level is **not** given to the model: as in the article, the precision b = 1/σ² is a
# parameter. The statistical error of the MCP area (μ_B) is what an experimenter gets
# from the cycle-to-cycle scatter: the pooled standard error of the mean per point
# times Δp √N.


# %%
def simulate_cycles(scale_3d: float, seed: int) -> list[xr.Dataset]:
    """N_CYCLES single-cycle MCPs (noise to be estimated; exposure = 1 cycle each)."""
    scans = []
    for j in range(N_CYCLES):
        scan = mc.simulate(
            P, rng=seed + j, sigma=SIGMA_CYCLE, scale_3d=scale_3d, include_sigma=False, **TRUTH
        )
        scan.attrs["exposure"] = 1.0
        scans.append(scan)
    return scans


def statistical_error(scans: list[xr.Dataset], n: int) -> float:
    """Area error after n cycles from the scatter between cycles (NaN for n = 1)."""
    if n < 2:
        return float("nan")
    y = np.stack([s[mc.VARIABLE].values for s in scans[:n]])
    per_point = y.std(axis=0, ddof=1) / np.sqrt(n)
    return float(np.sqrt(np.mean(per_point**2)) * (P[1] - P[0]) * np.sqrt(P.size))


scans = simulate_cycles(SCALE_3D, SEED)
cumulative = accumulate(scans, variable=mc.VARIABLE, kind="mean")
selected = [cumulative[n - 1] for n in CYCLES]
xr.concat(selected, dim=pd.Index(list(CYCLES), name="cycles")).to_netcdf(OUTPUT / "data.nc")
stat = pd.DataFrame(
    {"cycles": CYCLES, "stat_error_muB": [statistical_error(scans, n) for n in CYCLES]}
)
stat.to_csv(OUTPUT / "statistical_error.csv", index=False)
print(stat.to_string(index=False))

# %% [markdown]
# ## Posterior after every accumulation
#
# NUTS after every accumulation (`samplers.stopping.precision_curve`). One PyMC model
# with the measured values in `pm.Data` and one NUTS step method: every accumulation
# reuses the compiled log-density and gradient. The posteriors at 1, 6 and the last
# cycle count are kept for the fits.

# %%
MODEL = mc.build_model(selected[0], mutable_data=True)
with MODEL:
    STEP = pm.NUTS()  # compiled once; its tuning is reset by every pm.sample
POSTERIORS: dict[int, xr.Dataset] = {}


def build(data: xr.Dataset) -> pm.Model:
    with MODEL:
        pm.set_data({f"{mc.VARIABLE}_observed": data[mc.VARIABLE].values})
    return MODEL


def make_sampler(keep: dict[int, xr.Dataset], cycles: tuple[int, ...], seed0: int):
    """NUTS with the compiled step, keeping the posteriors of the cycles drawn later."""
    nuts = nuts_sampler(draws=DRAWS, tune=TUNE, chains=CHAINS, step=STEP)

    def sample(model: pm.Model, seed: int) -> xr.DataTree:
        tree = nuts(model, seed)
        n = cycles[seed - seed0 - 1]
        if n in FIT_CYCLES:
            keep[n] = tree["posterior"].to_dataset()
        return tree

    sample.description = nuts.description
    return sample


curve = precision_curve(
    build, selected, QUANTITIES, sample=make_sampler(POSTERIORS, CYCLES, SEED), random_seed=SEED
)
curve.to_netcdf(OUTPUT / "curve.nc")
xr.concat(
    [POSTERIORS[n].thin(draw=max(1, DRAWS // 250)) for n in FIT_CYCLES],
    dim=pd.Index(list(FIT_CYCLES), name="cycles"),
).to_netcdf(OUTPUT / "fits.nc")
curve["sd"].to_pandas().T.rename(index=dict(enumerate(CYCLES, start=1)))

# %% [markdown]
# ## Control: the same cycles without misfit
#
# (Full run only.) The truth is then a member of the model, the noise estimate falls as
# 1/n, and every sd should fall as 1/√n with no plateau — judged by the same rule on the
# same cycle counts (6 to 34, where the main curve levels off; and 136).

# %%
if CONTROL_CYCLES:
    control_scans = simulate_cycles(1.0, SEED + 10_000)
    control_cum = accumulate(control_scans, variable=mc.VARIABLE, kind="mean")
    control = precision_curve(
        build,
        [control_cum[n - 1] for n in CONTROL_CYCLES],
        QUANTITIES,
        sample=make_sampler({}, CONTROL_CYCLES, SEED + 10_000),
        random_seed=SEED + 10_000,
    )
    control.to_netcdf(OUTPUT / "control.nc")

# %% [markdown]
# ## Linearised prediction
#
# The Gauss–Newton (Fisher) sd at the best fit of the atomic model to the noise-free
# simulated truth θ*: with the noise estimated from the residuals, the posterior
# variance of a linear function g·θ is (σ₁²/n + m²) gᵀ(XᵀX)⁻¹g, where X is the Jacobian
# of f at θ* and m² the mean squared misfit of that fit — 1/√n statistics with a floor.
# The test suite checks the sampled sds against the same formula computed independently.

# %%
noise_free = mc.simulate(P, rng=0, sigma=1e-12, scale_3d=SCALE_3D, **TRUTH)[mc.VARIABLE].values
theta_names = ("a_3d", "a_4s", "Gamma")


def model_curve(theta: np.ndarray) -> np.ndarray:
    return mc.forward(P, **dict(zip(theta_names, theta, strict=True)))


fit = least_squares(
    lambda th: model_curve(th) - noise_free,
    x0=[TRUTH[k] for k in theta_names],
    bounds=([-10, -10, mc.GAMMA_RANGE[0]], [10, 10, mc.GAMMA_RANGE[1]]),
)
step = 1e-6
jac = np.stack(
    [(model_curve(fit.x + step * e) - model_curve(fit.x - step * e)) / (2 * step)
     for e in np.eye(3)],
    axis=1,
)  # fmt: skip
cov = np.linalg.inv(jac.T @ jac)
misfit2 = float(np.mean(fit.fun**2))
grid = np.arange(1, N_CYCLES + 1)
directions = {"a_3d": [1, 0, 0], "a_4s": [0, 1, 0], "Gamma": [0, 0, 1], "mu_s": [1, 1, 0]}
prediction = pd.DataFrame(
    {
        label: np.sqrt((SIGMA_CYCLE**2 / grid + misfit2) * (np.array(g) @ cov @ np.array(g)))
        for label, g in directions.items()
    },
    index=pd.Index(grid, name="cycles"),
)
prediction["stat_error_muB"] = SIGMA_CYCLE / np.sqrt(grid) * (P[1] - P[0]) * np.sqrt(P.size)
prediction.to_csv(OUTPUT / "prediction.csv")
pseudo_truth = dict(zip(theta_names, fit.x, strict=True)) | {"mu_s": fit.x[0] + fit.x[1]}
print("best atomic fit to the truth:", {k: round(v, 4) for k, v in pseudo_truth.items()})
print(f"rms misfit {np.sqrt(misfit2):.4f} μ_B/a.u.; floor reached at n0 = σ₁²/m² = "
      f"{SIGMA_CYCLE**2 / misfit2:.1f} cycles")  # fmt: skip

# %% [markdown]
# ## Stopping rules


# %%
def as_cycles(point, curve: xr.Dataset) -> int | None:
    return None if point.step is None else int(curve["n_scans"].values[point.step - 1])


plateau = stopping_point(curve, "a_3d", plateau_rtol=PLATEAU_RTOL, window=WINDOW)
target = stopping_point(curve, "mu_s", target_sd=TARGET_SD)
predicted_target = int(grid[np.argmax(prediction["mu_s"].values <= TARGET_SD)])
summary = pd.DataFrame(
    [
        {
            "rule": "a_3d levels off",
            "cycles": as_cycles(plateau, curve),
            "value": plateau.sd,
            "reason": plateau.reason,
        },
        {
            "rule": "sd(mu_s) <= 0.01 muB",
            "cycles": as_cycles(target, curve),
            "value": target.sd,
            "reason": target.reason,
        },
        {"rule": "sd(mu_s) <= 0.01 muB, linearised", "cycles": predicted_target, "value": None,
         "reason": "prediction"},
    ]
)  # fmt: skip
for name, value in pseudo_truth.items():
    summary.loc[len(summary)] = {"rule": f"best atomic fit {name}", "cycles": None, "value": value,
                                 "reason": "pseudo-truth"}  # fmt: skip
summary.to_csv(OUTPUT / "summary.csv", index=False)
if CONTROL_CYCLES:
    control_plateau = stopping_point(control, "a_3d", plateau_rtol=PLATEAU_RTOL, window=WINDOW)
    print("control (no misfit), a_3d:", control_plateau)
assert target.reason == "target", target
assert curve["sd"].sel(quantity="mu_s").values[-1] < TARGET_SD
print(summary.to_string(index=False))

# %% [markdown]
# ## The MCP after 1, 6 and all cycles (the article's Fig. 3)
#
# Points: the cumulative MCP; orange: the posterior median and 94 % band of f(p);
# dotted and dashed: the 3d and 4s terms at the posterior mean. The dip at p = 0 is
# the 4s term, whose spin is opposite to the 3d spin.

# %% tags=["figures"]
data_saved = xr.open_dataset(OUTPUT / "data.nc")
fits_saved = xr.open_dataset(OUTPUT / "fits.nc")
true_mcp = mc.simulate(P, rng=0, sigma=1e-12, scale_3d=SCALE_3D, **TRUTH)[mc.VARIABLE].values
fig, axes = plt.subplots(1, 3, figsize=(14, 3.8), sharey=True)
for ax, n in zip(axes, fits_saved["cycles"].values, strict=True):
    mc.plot_fit(ax, data_saved.sel(cycles=n), fits_saved.sel(cycles=n))
    ax.plot(P, true_mcp, "k--", lw=1, label="truth (solid-like 3d)")
    ax.set_title(f"{n} cycle{'s' if n > 1 else ''}")
    ax.set_xlim(-6, 6)
fig.tight_layout()
fig.savefig(OUTPUT / "mcp_fits.png", dpi=120)

# %% [markdown]
# ## Posterior sds against cycles (the article's Fig. 4)
#
# Sampled sds (points, with 2 MCSE bars), the linearised prediction (lines), and the
# statistical error of the area (bottom). The sd of a_3d levels off where the noise
# estimate meets the misfit floor; the statistical error keeps falling as 1/√n.

# %% tags=["figures"]
curve_saved = xr.open_dataset(OUTPUT / "curve.nc")
pred_saved = pd.read_csv(OUTPUT / "prediction.csv", index_col="cycles")
stat_saved = pd.read_csv(OUTPUT / "statistical_error.csv")
summary_saved = pd.read_csv(OUTPUT / "summary.csv")
control_file = OUTPUT / "control.nc"
cycles = curve_saved["n_scans"].values
fig, axes = plt.subplots(2, 1, figsize=(7, 7.5), sharex=True)
for k, (label, unit) in enumerate([("a_3d", "μ_B"), ("a_4s", "μ_B"), ("Gamma", "a.u.")]):
    sd = curve_saved["sd"].sel(quantity=label).values
    err = 2 * curve_saved["sd_mcse"].sel(quantity=label).values
    axes[0].errorbar(cycles, sd, err, fmt="o", ms=3, color=f"C{k}", label=f"sd({label}) [{unit}]")
    axes[0].plot(pred_saved.index, pred_saved[label], color=f"C{k}", lw=1)
if control_file.exists():
    control_saved = xr.open_dataset(control_file)
    axes[0].plot(control_saved["n_scans"], control_saved["sd"].sel(quantity="a_3d"), "k^", ms=4,
                 label="sd(a_3d), control without misfit")  # fmt: skip
stop = summary_saved.set_index("rule").loc["a_3d levels off", "cycles"]
if np.isfinite(stop):
    axes[0].axvline(stop, color="C0", ls=":", label=f"a_3d levels off: {stop:.0f} cycles")
axes[0].set(xscale="log", yscale="log", ylabel="posterior sd")
axes[0].legend(fontsize="small")
axes[1].plot(stat_saved["cycles"], stat_saved["stat_error_muB"], "o", color="C3", ms=3,
             label="from the scatter between cycles")  # fmt: skip
axes[1].plot(pred_saved.index, pred_saved["stat_error_muB"], color="C3", lw=1, label="σ₁ ΔpN^½/√n")
axes[1].set(xscale="log", yscale="log", xlabel="accumulated cycles",
            ylabel="statistical error of the area [μ_B]")  # fmt: skip
axes[1].legend(fontsize="small")
fig.tight_layout()
fig.savefig(OUTPUT / "sd_vs_cycles.png", dpi=120)

# %% [markdown]
# ## The spin moment against cycles (the article's Fig. 5)
#
# Posterior mean ± sd of μ_s = a_3d + a_4s (top, with the true area 2.1 μ_B and the
# best atomic fit's area dashed) and its sd against the ±0.01 μ_B requirement (bottom).

# %% tags=["figures"]
curve_saved = xr.open_dataset(OUTPUT / "curve.nc")
pred_saved = pd.read_csv(OUTPUT / "prediction.csv", index_col="cycles")
rules = pd.read_csv(OUTPUT / "summary.csv").set_index("rule")
cycles = curve_saved["n_scans"].values
mean = curve_saved["mean"].sel(quantity="mu_s").values
sd = curve_saved["sd"].sel(quantity="mu_s").values
fig, axes = plt.subplots(2, 1, figsize=(7, 6.5), sharex=True)
axes[0].errorbar(cycles, mean, sd, fmt="o", ms=3, color="C3", label="posterior mean ± sd")
axes[0].axhline(TRUTH["a_3d"] + TRUTH["a_4s"], color="k", ls="--", lw=1, label="true area")
axes[0].axhline(rules.loc["best atomic fit mu_s", "value"], color="0.5", ls="--", lw=1,
                label="best atomic fit's area")  # fmt: skip
axes[0].set(xscale="log", ylabel="μ_s [μ_B]")
axes[0].legend(fontsize="small")
axes[1].plot(cycles, sd, "o", color="C3", ms=3, label="sampled sd(μ_s)")
axes[1].plot(pred_saved.index, pred_saved["mu_s"], color="C3", lw=1, label="linearised")
axes[1].axhline(TARGET_SD, color="k", ls=":", label="±0.01 μ_B")
reached = rules.loc["sd(mu_s) <= 0.01 muB", "cycles"]
axes[1].axvline(reached, color="C3", ls=":", label=f"reached at {reached:.0f} cycles")
axes[1].set(xscale="log", yscale="log", xlabel="accumulated cycles", ylabel="sd(μ_s) [μ_B]")
axes[1].legend(fontsize="small")
fig.tight_layout()
fig.savefig(OUTPUT / "moment_vs_cycles.png", dpi=120)

# %%
print(f"wall time {time.perf_counter() - started:.0f} s")

# %% [markdown]
# ## Paper against ours
#
# | quantity | paper | ours | agreement |
# |---|---|---|---|
# | cycles until sd(a_3d) levels off | ~20 | 14 (17 linearised) | same order (calibrated) |
# | cycles until sd(μ_s) ≤ 0.01 μ_B | ~6 | 7 (6 linearised) | within one cycle |
# | cycles measured | 136 | 136 (simulated) | by construction |
# | time needed for ±0.01 μ_B | ~1/20 | 7/136 = 1/19 | yes |
# | statistical error | falls smoothly | ∝ 1/√n, 0.0234 → 0.0028 μ_B | yes |
# | sd(a_3d) without misfit | — | no plateau, ∝ 1/√n | — (ours) |
# | spin moment | not given | 2.056 ± 0.005 μ_B (true 2.1) | — (ours) |
#
# Details: "levels off" is our rule (the sd falls by less than 2 % plus 2 MCSE in each
# of 3 successive steps; the same rule applied to the linearised sd gives 17); the sd
# of μ_s is 0.0101 μ_B at 6 cycles and 0.0093 at 7; the statistical error is from the
# scatter between cycles, 0.0234 μ_B at 2 cycles and 0.0028 at 136; in the control
# (no misfit) sd(a_3d) falls from 0.0104 to 0.0025 μ_B between 6 and 136 cycles and
# the rule finds no plateau.
#
# Why they differ, and what the comparison means. The article's spectra are not available,
# so every number here comes from simulated cycles, and two of their inputs were chosen
# to reproduce the article: the per-cycle noise σ₁ = 0.0234 μ_B/a.u. (the linearised sd of
# μ_s crosses 0.01 μ_B between 5 and 6 cycles) and the 6 % momentum broadening of the
# simulated 3d profile (the linearised sd of a_3d levels off, by our rule, near 20
# cycles). The agreement of the two stopping cycles with the article is therefore a
# consistency check — the posterior machinery, the stopping rules and the linearised
# theory agree, and a 6 % misfit of the 3d profile is enough to explain a plateau at
# ~20 cycles — not an independent reproduction. The sampled cycles (14 and 7) differ
# from the linearised ones (17 and 6) through the noise realisation: the posterior sd is
# proportional to the noise level estimated from that realisation, which scatters by
# ±5 % (1/√(2N), N = 201 points), and the sd at 6 cycles lies 4 % above the linearised
# value. "Levels off" needs a rule; ours compares steps of a geometric cycle sequence
# (ratio ≈ 1.2) because between consecutive cycles beyond ~10 the statistical fall of
# the sd is smaller than its Monte Carlo error; the article judged its curve by eye. With
# the misfit, the sd of a_3d keeps falling slowly towards its floor (by 32 % from 14 to
# 136 cycles) rather than staying exactly constant. Finally, a misfit does more than set
# a floor: the fitted area is 2.056 μ_B, 0.044 μ_B below the simulated spin moment,
# nine posterior sds away — a required precision of ±0.01 μ_B is a statistical precision
# and says nothing about such a systematic error of the atomic model.
