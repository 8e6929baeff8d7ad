# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Two or three configurations? Ce 3d XPS Hamiltonian selection by free energy
#
# Mototake, Mizumaki, Akai and Okada (*Bayesian Hamiltonian selection in X-ray
# photoelectron spectroscopy*, JPSJ 88, 034004 (2019), arXiv:1812.01205) ask: **can the
# effective Hamiltonian of a core-level XPS spectrum be chosen from the data, by the
# Bayesian free energy, instead of by physical judgement?** Their Ce 3d example is a
# charge-transfer cluster model on |4f⁰⟩, |4f¹L⟩, |4f²L²⟩ (three configurations) against
# its two-configuration truncation (no |4f²L²⟩). With V = 0.76, U_ff = 10.5,
# U_fc = 12.5 eV the final states lie at E_f − E_g = (−2.8, 2.72, 12.48) eV for
# Δ = 12.5 eV; their table scans Δ downwards and labels the number of visible peaks
# 2 (Δ = 12.5), "2–3" (Δ = 10.08) and 3 (Δ = 7.66). The third line (the highest
# E_f − E_g, mostly |4f²L²⟩ in character) has a weight of 7 × 10⁻⁴ at Δ = 12.5 and
# grows as Δ falls. Expected: where that line is invisible, the two-configuration model
# (fewer parameters, no U_ff) is preferred or the two are tied; where it is visible, the
# three-configuration model wins.
#
# Here: the model against the paper's table; how visible the third line is against Δ
# (its weight, its height in noise units, and how badly the best two-configuration fit
# misses a noise-free three-configuration spectrum); then free-energy selection by
# replica exchange on simulated spectra across Δ (a few noise realisations each). The
# spectra (`ce_xps.REFERENCES["selection_study"]`: Γ = 0.7 eV, instrument σ = 0.3 eV,
# 141 points on −12…16 eV, noise sd 0.05 against a main-line height of about 2.5) are
# our choice, not the paper's data.
#
# `BAYESMEAS_QUICK=1` runs one small selection (the test suite does this); the numbers
# quoted in the text are from the full run (`nice .venv/bin/python
# case_studies/mototake2019_ce3d_xps_selection.py`: 12 selections of two candidates,
# 2695 s of sampling on two cores).

# %%
import os
import time
from pathlib import Path

import arviz_plots as azp
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xarray as xr
from arviz_base.labels import MapLabeller
from scipy import optimize
from scipy.integrate import trapezoid
from scipy.special import voigt_profile

from measurement_models import ce_xps as ce
from samplers import ReplicaExchangeSettings, select_model

QUICK = os.environ.get("BAYESMEAS_QUICK") == "1"
if QUICK:
    print(
        "quick run: select_model's reliability checks are off (runs this short rarely make "
        "replica round trips, so every F would be flagged); the full run applies them"
    )
OUTPUT = Path(os.environ.get("BAYESMEAS_OUTPUT", "results/mototake2019_ce3d_xps_selection"))
OUTPUT.mkdir(parents=True, exist_ok=True)
started = time.perf_counter()
STUDY = ce.REFERENCES["selection_study"]  # the settings, with their source
ENERGY, RESOLUTION, SIGMA = STUDY.x, STUDY.params["resolution"], STUDY.params["sigma"]
# the truth but Δ: V, U_ff, U_fc (the paper's), Γ, A, B (ours)
TRUTH = {name: STUDY.params[name] for name in ce.parameter_names(3) if name != "delta"}
# the Δ of the paper's table (12.5, 10.08, 7.66 eV) and three between them
ALL_DELTAS = (12.5, 11.0, 10.08, 9.0, 8.0, 7.66)
TWO, THREE = ce.parameter_names(2), ce.parameter_names(3)  # the candidates' parameters
# Replica exchange (componentwise Metropolis, adapted ladder); every candidate of one
# structure shares one compiled graph across datasets (mutable_data=True).
# Quick: 16 replicas, 400 + 400 (12 replicas and 200 + 200 biased F₂ by 17 nats at
# Δ = 7.66; even these settings leave F biased by several nats, see the Laplace check).
SETTINGS = ReplicaExchangeSettings(
    draws=400 if QUICK else 3000,
    tune=400 if QUICK else 2000,
    chains=1 if QUICK else 4,
    cores=1 if QUICK else 2,
    n_replicas=16 if QUICK else 24,
)
DELTAS = (7.66,) if QUICK else ALL_DELTAS
N_SEEDS = 1 if QUICK else 2
SHOWN = tuple(dict.fromkeys((DELTAS[0], DELTAS[-1])))  # the Δ whose fits are drawn

# %%
print(ce.PARAMETERS.to_markdown())

# %% [markdown]
# ## The model against the paper's table
#
# The paper's rows (arXiv:1812.01205; positions E_f − E_g in eV and intensities, which
# are the weights times 2/π, the height of a unit Lorentzian of half width 0.5 eV):
#
# | Δ | peaks | E₁ | E₂ | E₃ | I₁ | I₂ | I₃ |
# |---|---|---|---|---|---|---|---|
# | 12.5 | 2 | −2.8 | 2.72 | 12.48 | 0.3850 | 0.2512 | 0.0005 |
# | 10.08 | 2–3 | −4.53 | 1.94 | 8.15 | 0.2824 | 0.3509 | 0.0033 |
# | 7.66 | 3 | −6.67 | 1.25 | 4.3746 | | | |

# %%
PAPER_ROWS = {
    12.5: ((-2.8, 2.72, 12.48), (0.3850, 0.2512, 0.0005)),
    10.08: ((-4.53, 1.94, 8.15), (0.2824, 0.3509, 0.0033)),
    7.66: ((-6.67, 1.25, 4.3746), None),
}
ours = {}
for delta, (positions, intensities) in PAPER_ROWS.items():
    p, w = ce.lines(delta, TRUTH["v"], TRUTH["u_fc"], TRUTH["u_ff"])
    ours[delta] = (p, w)
    print(
        f"Δ = {delta:5.2f}: E_f − E_g = {np.round(p, 4)} (paper {positions}); "
        f"2w/π = {np.round(2 * w / np.pi, 4)} (paper {intensities})"
    )
p, w = ours[12.5]
assert np.all(np.abs(p - np.array([-2.8, 2.72, 12.48])) <= [0.05, 0.005, 0.005])
assert np.allclose(2 * w / np.pi, [0.3850, 0.2512, 0.0005], atol=1.5e-4)
for delta in (10.08, 7.66):
    assert np.allclose(ours[delta][0], PAPER_ROWS[delta][0], atol=0.02), delta

# %% [markdown]
# The Δ = 12.5 row agrees to the printed precision (I₂ to one unit in its last digit).
# The Δ = 10.08 and 7.66 rows agree to 0.014 eV; Δ = 10.074 and 7.652 bring them within
# 0.007 eV (and the Δ = 10.08 intensities to their printed digits): the printed Δ of those
# rows may be rounded, or another parameter differs slightly; without the paper we cannot
# tell.
#
# ## How visible is the third line?
#
# For each Δ (the other parameters at the paper's values): the lines, the weight w₃,
# its character, its peak height A w₃ V(0) in noise units, its matched-filter
# signal-to-noise ratio ‖A w₃ V(E − ε₃)‖/σ, and the misfit of the best
# two-configuration spectrum to the noise-free three-configuration one, χ²_min/2 in
# nats: the log-likelihood the two-configuration model must give up on average, which
# the free-energy difference F₂ − F₃ should follow, less the Occam penalty of U_ff.

# %%
peak_unit = voigt_profile(0.0, RESOLUTION, TRUTH["gamma"])
PRIOR_BOX = {"delta": (0, 20), "v": (0, 2), "u_fc": (0, 20), "gamma": (0.05, 3)}


def clean(delta, n_configurations=3):
    truth = {"delta": delta, **TRUTH}
    if n_configurations == 2:
        truth.pop("u_ff")
    return truth


def two_configuration_misfit(delta):
    """min over the two-configuration parameters of χ²/2 against the noise-free spectrum."""
    t = clean(delta)
    target = ce.forward(ENERGY, **t, resolution=RESOLUTION)

    def residual(x):
        y = ce.forward(
            ENERGY, **dict(zip(TWO, x, strict=True)), n_configurations=2, resolution=RESOLUTION
        )
        return (y - target) / SIGMA

    lower = [0.0, 0.0, 0.0, 0.05, 0.0, -5.0]
    upper = [20.0, 2.0, 20.0, 3.0, 100.0, 5.0]
    best = np.inf
    # a grid of starts (quick: only those near the truth, 6 instead of 31 fits)
    grid = [] if QUICK else [(d, u) for d in np.linspace(2, 18, 5) for u in np.linspace(2, 18, 5)]
    starts = grid + [
        (d0, u0) for d0 in (delta - 3, delta, delta + 3) for u0 in (delta - 2, delta + 2)
    ]
    for d0, u0 in starts:
        x0 = np.clip([d0, 0.76, u0, 0.7, 10.0, 0.5], np.add(lower, 1e-3), np.subtract(upper, 1e-3))
        fit = optimize.least_squares(residual, x0, bounds=(lower, upper))
        best = min(best, float(np.sum(fit.fun**2) / 2))
    return best


rows = []
for delta in ALL_DELTAS:
    p, w = ce.lines(delta, TRUTH["v"], TRUTH["u_fc"], TRUTH["u_ff"])
    _, h_f = ce.hamiltonians(delta, TRUTH["v"], TRUTH["u_fc"], TRUTH["u_ff"])
    character = np.linalg.eigh(h_f)[1][:, 2] ** 2  # |4f⁰|², |4f¹L|², |4f²L²|² of line 3
    third = TRUTH["amplitude"] * w[2] * voigt_profile(ENERGY - p[2], RESOLUTION, TRUTH["gamma"])
    rows.append(
        {
            "Δ [eV]": delta,
            "ε₁, ε₂, ε₃ [eV]": ", ".join(f"{v:.2f}" for v in p),
            "w₃": w[2],
            "line 3: 4f⁰/4f¹L/4f²L²": "/".join(f"{c:.2f}" for c in character),
            "height₃/σ": TRUTH["amplitude"] * w[2] * peak_unit / SIGMA,
            "SNR₃": float(np.linalg.norm(third) / SIGMA),
            "χ²_min/2 (2 conf.)": two_configuration_misfit(delta),
        }
    )
visibility = pd.DataFrame(rows).set_index("Δ [eV]")
print(visibility.round(4).to_string())
visibility.to_csv(OUTPUT / "visibility.csv")

# %% [markdown]
# Full run (no sampling here; quick mode starts the two-configuration fits from fewer points):
#
# | Δ [eV] | ε₁, ε₂, ε₃ [eV] | w₃ | line 3: 4f⁰/4f¹L/4f²L² | height₃/σ | SNR₃ | χ²_min/2 [nats] |
# |---|---|---|---|---|---|---|
# | 12.5 | −2.80, 2.72, 12.48 | 0.0007 | 0.01/0.11/0.89 | 0.06 | 0.15 | 0.009 |
# | 11.0 | −3.81, 2.20, 9.77 | 0.0023 | 0.01/0.14/0.85 | 0.19 | 0.48 | 0.09 |
# | 10.08 | −4.53, 1.95, 8.16 | 0.0052 | 0.02/0.16/0.81 | 0.42 | 1.08 | 0.45 |
# | 9.0 | −5.45, 1.68, 6.36 | 0.0154 | 0.05/0.20/0.75 | 1.22 | 3.16 | 4.0 |
# | 8.0 | −6.35, 1.39, 4.84 | 0.0477 | 0.13/0.24/0.63 | 3.79 | 9.79 | 38.8 |
# | 7.66 | −6.67, 1.25, 4.39 | 0.0711 | 0.18/0.25/0.57 | 5.65 | 14.6 | 84.7 |
#
# ## Selection by free energy
#
# For each Δ and noise seed: simulate a spectrum from the three-configuration model,
# build both candidates with the same priors for their shared parameters
# (`ce_xps.PARAMETERS`), and run `select_model` (replica exchange, stepping-stone F,
# MCSE; "undecided" when the two are within 2 combined MCSE).


# %%
def build(data, n_configurations):
    return ce.build_model(
        data, n_configurations=n_configurations, resolution=RESOLUTION, mutable_data=True
    )


def spectrum(delta, seed):
    """The simulated spectrum of noise seed ``seed`` at Δ (the other parameters the paper's)."""
    return ce.simulate(ENERGY, rng=100 + seed, sigma=SIGMA, resolution=RESOLUTION, **clean(delta))


results = []
for delta in DELTAS:
    for seed in range(N_SEEDS):
        data = spectrum(delta, seed)
        shown = seed == 0 and delta in SHOWN
        if shown:
            data.to_netcdf(OUTPUT / f"data_delta{delta}.nc")
        result = select_model(
            {2: lambda d=data: build(d, 2), 3: lambda d=data: build(d, 3)},
            "replica_exchange",
            settings=SETTINGS,
            dim="configurations",
            random_seed=2019 + seed,
            progressbar=False,
            check_reliability=not QUICK,  # quick runs are too short for round trips
            path=OUTPUT / f"selection_delta{delta}.nc" if shown else None,
        )
        table = result.to_dataset(inherit=False)
        f, mcse = table["free_energy"].values, table["free_energy_mcse"].values
        results.append(
            {
                "Δ": delta,
                "seed": seed,
                "F₂": f[0],
                "F₃": f[1],
                "ΔF = F₂ − F₃": f[0] - f[1],
                "MCSE": float(np.hypot(*mcse)),
                "chosen": str(table.attrs["chosen"]),
                "wall [s]": float(table.attrs["wall_time_s"]),
            }
        )
        print(results[-1])
selection = pd.DataFrame(results)
selection.to_csv(OUTPUT / "selection.csv", index=False)
print(selection.round(2).to_string(index=False))

# %% [markdown]
# Full run (4 chains × 24 replicas, 2000 tune + 3000 draws per candidate; F in nats):
#
# | Δ [eV] | w₃ | seed 0: ΔF ± MCSE, chosen | seed 1: ΔF ± MCSE, chosen | χ²_min/2 |
# |---|---|---|---|---|
# | 12.5 | 0.0007 | +0.03 ± 0.31, undecided | +0.19 ± 0.22, undecided | 0.009 |
# | 11 | 0.0023 | −0.21 ± 0.16, undecided | −0.13 ± 0.36, undecided | 0.09 |
# | 10.08 | 0.0052 | +0.17 ± 0.22, undecided | −0.22 ± 0.22, undecided | 0.45 |
# | 9 | 0.0154 | +0.37 ± 0.29, undecided | −0.12 ± 0.29, undecided | 4.0 |
# | 8 | 0.0477 | +26.64 ± 0.24, **3** | +27.53 ± 0.29, **3** | 38.8 |
# | 7.66 | 0.0711 | +67.51 ± 0.24, **3** | +72.33 ± 0.34, **3** | 84.7 |
#
# Reading: where the third line is invisible (Δ ≥ 10.08, SNR₃ ≤ 1, χ²_min/2 < 0.5 nat)
# the free energies of the two models are equal within their Monte Carlo error in all six
# runs: |ΔF| ≤ 0.22 nats, mean −0.03 ± 0.10, every one "undecided",
# none choosing three configurations. F cannot prefer two configurations here by more
# than the Occam factor of U_ff; the Laplace section below measures it (0.11–0.26 nats on
# noise-free spectra, smaller than the spread the noise gives). Where the line is visible (Δ ≤ 8,
# SNR₃ ≥ 10) the three-configuration model wins by 26.6–72.3 nats in every run. At
# Δ = 9 (SNR₃ ≈ 3, χ²_min/2 = 4 nats) both runs are undecided (+0.37 and −0.12):
# that is the detection threshold for this noise level.
#
# A first, shorter run (2 chains × 16 replicas, 700 + 700 iterations) had reported the
# invisible cases as two configurations ahead by 0.8–2.3 nats (one of them "chosen", at
# 2.5 MCSE): its F were biased by the short tuning and its MCSE too small. The settings
# above were chosen after that; the longer runs reproduce themselves (Δ = 12.5, seed 0
# gave F₂ = −200.290 ± 0.257 and F₃ = −200.324 ± 0.177 both in a separate run
# and in the case study).

# %%
summary = selection.groupby("Δ").agg(
    dF=("ΔF = F₂ − F₃", "mean"),
    dF_min=("ΔF = F₂ − F₃", "min"),
    dF_max=("ΔF = F₂ − F₃", "max"),
    mcse=("MCSE", "max"),
    chosen=("chosen", lambda c: ", ".join(c)),
)
summary["w₃"] = [visibility.loc[d, "w₃"] for d in summary.index]
summary["χ²_min/2"] = [visibility.loc[d, "χ²_min/2 (2 conf.)"] for d in summary.index]
print(summary.round(3).to_string())

for delta, row in summary.iterrows():
    snr = visibility.loc[delta, "SNR₃"]
    if snr > 10:  # clearly visible: three configurations must win
        assert set(row["chosen"].split(", ")) == {"3"}, (delta, row["chosen"])
    if snr < 1:  # invisible: three configurations must not win
        assert "3" not in row["chosen"].split(", "), (delta, row["chosen"])

# %% [markdown]
# ## Figures: the fits of both models, and ΔF against Δ
#
# Drawn from the saved results (`bayesmeas figures mototake2019_ce3d_xps_selection`
# redraws them without sampling): the simulated spectrum with the posterior median and
# 94 % band of each model, for the lowest and the highest Δ; then F₂ − F₃ of every run.

# %% tags=["figures"]
fig, axes = plt.subplots(1, len(SHOWN), figsize=(5.5 * len(SHOWN), 3.8), squeeze=False)
for ax, delta in zip(axes[0], SHOWN, strict=True):
    data = xr.open_dataset(OUTPUT / f"data_delta{delta}.nc")
    runs = xr.open_datatree(OUTPUT / f"selection_delta{delta}.nc")
    for n, color in (("2", "C0"), ("3", "C1")):
        ce.plot_fit(
            ax,
            data,
            runs[f"candidates/{n}/posterior"].to_dataset(),
            resolution=RESOLUTION,
            label=f"{n} conf.",
            color=color,
            show_data=n == "3",
        )
    ax.set_title(f"Δ = {delta} eV (simulated, seed 0)")
fig.tight_layout()
fig.savefig(OUTPUT / "fits.png", dpi=120)

# %% tags=["figures"]
selection_saved = pd.read_csv(OUTPUT / "selection.csv")
visibility_saved = pd.read_csv(OUTPUT / "visibility.csv", index_col=0)
fig, ax = plt.subplots(figsize=(5.5, 3.8))
ax.errorbar(
    selection_saved["Δ"],
    selection_saved["ΔF = F₂ − F₃"],
    yerr=2 * selection_saved["MCSE"],
    fmt="o",
    label="replica exchange (±2 MCSE)",
)
ax.plot(
    visibility_saved.index,
    visibility_saved["χ²_min/2 (2 conf.)"],
    "k--",
    lw=1,
    label="χ²_min/2 of the 2-conf. fit (noise-free)",
)
ax.axhline(0.0, color="0.5", lw=0.8)
ax.set_yscale("symlog", linthresh=1.0)
ax.set(xlabel="Δ [eV]", ylabel="F₂ − F₃ [nats]", title="> 0: three configurations preferred")
ax.legend(fontsize="small")
fig.tight_layout()
fig.savefig(OUTPUT / "delta_f.png", dpi=120)

# %% [markdown]
# The three-configuration posterior at the highest Δ drawn above (ArviZ pair plot, all
# chains; full run: Δ = 12.5 eV, where the third line is invisible). Δ, U_fc and V move
# with U_ff along a ridge that keeps the two main lines in place: the data fix the
# spectrum, not U_ff (see the Laplace section below).

# %% tags=["figures"]
pair_delta = SHOWN[0]
pair_runs = xr.open_datatree(OUTPUT / f"selection_delta{pair_delta}.nc")
pair = azp.plot_pair(
    pair_runs["candidates/3"],
    var_names=["delta", "u_ff", "u_fc", "v"],
    backend="matplotlib",
    labeller=MapLabeller(
        var_name_map={"delta": "Δ [eV]", "u_ff": "U_ff [eV]", "u_fc": "U_fc [eV]", "v": "V [eV]"}
    ),
    visuals={"scatter": {"alpha": 0.15}},
    figure_kwargs={"figsize": (7, 7)},
)
pair.savefig(OUTPUT / "pair_three_configurations.png", dpi=110)

# %% [markdown]
# ## The visible-case margins against least squares on the same noisy spectra
#
# F₂ − F₃ should be the maximum-likelihood gap on the data themselves, Δχ²/2, less the
# Occam factors. Full mode only (72 least-squares fits per spectrum).


# %%
def best_half_chi2(data, n_configurations):
    """min χ²/2 of one candidate on a noisy spectrum, from a grid of starts in (Δ, U_fc)."""
    y = data["intensity"].values

    def residual(x):
        if n_configurations == 3:
            mean = ce.forward(ENERGY, **dict(zip(THREE, x, strict=True)), resolution=RESOLUTION)
        else:
            mean = ce.forward(
                ENERGY, **dict(zip(TWO, x, strict=True)), n_configurations=2, resolution=RESOLUTION
            )
        return (mean - y) / SIGMA

    lower = [0, 0, 0, 0, 0.05, 0, -5] if n_configurations == 3 else [0, 0, 0, 0.05, 0, -5]
    upper = [20, 2, 20, 20, 3, 100, 5] if n_configurations == 3 else [20, 2, 20, 3, 100, 5]
    best = np.inf
    for d0 in np.linspace(2, 18, 6):
        for u0 in np.linspace(2, 18, 6):
            x0 = (
                [d0, 0.76, 10.5, u0, 0.7, 10, 0.5]
                if n_configurations == 3
                else [d0, 0.76, u0, 0.7, 10, 0.5]
            )
            x0 = np.clip(x0, np.add(lower, 1e-3), np.subtract(upper, 1e-3))
            fit = optimize.least_squares(residual, x0, bounds=(lower, upper))
            best = min(best, float(np.sum(fit.fun**2) / 2))
    return best


if not QUICK:
    for delta in (7.66, 8.0):
        data = spectrum(delta, 0)
        gap = best_half_chi2(data, 2) - best_half_chi2(data, 3)
        row = selection[(selection["Δ"] == delta) & (selection["seed"] == 0)].iloc[0]
        print(f"Δ = {delta}: Δχ²/2 = {gap:.1f} nats; F₂ − F₃ = {row['ΔF = F₂ − F₃']:.1f}")
        assert row["ΔF = F₂ − F₃"] < gap + 3 * row["MCSE"]  # Occam factors only lower it

# %% [markdown]
# Full run: Δχ²/2 = 70.7 nats at Δ = 7.66 and 29.3 nats at Δ = 8 (seed 0), against
# F₂ − F₃ = 67.5 ± 0.2 and 26.6 ± 0.2: the 3 nats between them are the Occam factors
# (U_ff's prior range against its posterior width, and the different posterior volumes
# of the shared parameters). The noise-free χ²_min/2 above (84.7, 38.8) differs from
# these by the noise realisation (spread ≈ √(2 χ²_min/2) ≈ 9–13 nats).
#
# ## Every ΔF against a Laplace profile in U_ff, and the Occam factor of U_ff
#
# An independent check of every sampled F₂ − F₃, in NumPy/SciPy only, and a measurement of
# how much F can prefer two configurations when the third line is invisible. The
# three-configuration evidence is an integral over U_ff of the evidence at fixed U_ff,
#
# $$ \frac{Z_3}{Z_2} = \frac{1}{20\,\mathrm{eV}} \int_0^{20} \frac{Z_3(U_{ff})}{Z_2}\,
#    dU_{ff}, $$
#
# and at fixed U_ff both models have the same six parameters (Δ, V, U_fc, Γ, A, B) with
# the same priors, well determined by the two main lines, so Laplace's method gives the
# ratio with the prior constants cancelling:
# log Z₃(U_ff)/Z₂ = Δ log L_max − ½ Δ log det(JᵀJ), J the Jacobian of the residuals
# (σ known). The grid runs from U_ff = 20 down to 0.1 eV with warm starts (and a start at
# the truth); where the optimum lies on a prior bound (Δ → 20 eV at small U_ff: the prior
# cuts the ridge) Laplace's method does not apply, and those points are left out of the
# integral (`F₂ − F₃ (Laplace)`) or counted at their bounded value (`… upper`), which
# brackets the value. F₂ − F₃ = log Z₃/Z₂.
#
# The same computation on the **noise-free** spectra gives the Occam factor without the
# noise realisation: what F prefers on average at each Δ.

# %%
LOWER = np.array([0.0, 0.0, 0.0, 0.05, 0.0, -5.0])  # Δ, V, U_fc, Γ, A, B
UPPER = np.array([20.0, 2.0, 20.0, 3.0, 100.0, 5.0])
U_GRID = np.linspace(20.0, 0.1, 40 if QUICK else 200)  # descending: warm starts


def laplace_profile(y, delta):
    """log Z₃(U_ff)/Z₂ on U_GRID (NaN where the optimum is on a prior bound) and bounded.

    Starts: the previous grid point's optimum, and the truth of the spectrum at Δ.
    """

    def residual(x, u_ff):
        if u_ff is None:
            mean = ce.forward(
                ENERGY, **dict(zip(TWO, x, strict=True)), n_configurations=2, resolution=RESOLUTION
            )
        else:
            mean = ce.forward(
                ENERGY, **dict(zip(TWO, x, strict=True)), u_ff=u_ff, resolution=RESOLUTION
            )
        return (mean - y) / SIGMA

    def laplace(u_ff, start):
        fit = optimize.least_squares(
            residual,
            start,
            args=(u_ff,),
            bounds=(LOWER, UPPER),
            x_scale="jac",
            xtol=1e-12,
            ftol=1e-12,
            gtol=1e-12,
        )
        log_z = -0.5 * np.sum(fit.fun**2) - 0.5 * np.linalg.slogdet(fit.jac.T @ fit.jac)[1]
        inside = bool(np.all((fit.x > LOWER + 1e-6) & (fit.x < UPPER - 1e-6)))
        return fit.x, log_z, inside

    truth = np.array([clean(delta)[k] for k in TWO])
    x2, log_z2, _ = laplace(None, truth)
    x, interior, bounded = x2, [], []
    for u_ff in U_GRID:
        candidates = [laplace(u_ff, x), laplace(u_ff, truth)]
        x, log_z, inside = max(candidates, key=lambda c: c[1])
        bounded.append(log_z - log_z2)
        interior.append(log_z - log_z2 if inside else np.nan)
    return np.array(interior), np.array(bounded)


def log_evidence_ratio(profile):
    """log Z₃/Z₂ = log ∫ p(U_ff) Z₃(U_ff)/Z₂ dU_ff, p = U(0, 20); NaN points count 0."""
    order = np.argsort(U_GRID)
    ratio = np.nan_to_num(np.exp(profile[order]), nan=0.0)
    return float(np.log(trapezoid(ratio, U_GRID[order]) / 20.0))


rows, profiles = [], {}
for _, run in selection.iterrows():
    delta, seed = run["Δ"], int(run["seed"])
    interior, bounded = laplace_profile(spectrum(delta, seed)["intensity"].values, delta)
    profiles[f"Δ={delta}, seed {seed}"] = interior
    laplace_df = log_evidence_ratio(interior)
    rows.append(
        {
            "Δ": delta,
            "seed": seed,
            "F₂ − F₃ (sampled)": run["ΔF = F₂ − F₃"],
            "MCSE": run["MCSE"],
            "F₂ − F₃ (Laplace)": laplace_df,
            "F₂ − F₃ (Laplace, upper)": log_evidence_ratio(bounded),
            "(sampled − Laplace)/MCSE": (run["ΔF = F₂ − F₃"] - laplace_df) / run["MCSE"],
        }
    )
laplace_check = pd.DataFrame(rows)
laplace_check.to_csv(OUTPUT / "laplace_check.csv", index=False)
print(laplace_check.round(3).to_string(index=False))

noise_free = []
for delta in (12.5,) if QUICK else ALL_DELTAS:
    y = ce.forward(ENERGY, **clean(delta), resolution=RESOLUTION)
    interior, bounded = laplace_profile(y, delta)
    profiles[f"Δ={delta}, noise-free"] = interior
    noise_free.append(
        {
            "Δ": delta,
            "F₂ − F₃ (Laplace)": log_evidence_ratio(interior),
            "F₂ − F₃ (Laplace, upper)": log_evidence_ratio(bounded),
            "U_ff at the largest Z₃(U_ff)": U_GRID[np.nanargmax(interior)],
        }
    )
occam = pd.DataFrame(noise_free)
occam.to_csv(OUTPUT / "occam_noise_free.csv", index=False)
print(occam.round(3).to_string(index=False))
xr.Dataset(
    {"log_z3_over_z2": (("case", "u_ff"), np.array(list(profiles.values())))},
    coords={"case": list(profiles), "u_ff": U_GRID},
    attrs={"description": "Laplace log Z3(U_ff)/Z2; NaN where the optimum is on a prior bound"},
).to_netcdf(OUTPUT / "laplace_profiles.nc")

# Full run: every sampled ΔF agrees with its Laplace value (3 MCSE plus 0.1 nat for
# Laplace's error). The quick run (one chain, 400 + 400) is not long enough for that: its
# F are biased by several nats more than its MCSE says (F₂ − F₃ =
# 58.4–61.7 in three runs, against Laplace's 67.4), so it is checked only for the choice.
deviation = laplace_check["F₂ − F₃ (sampled)"] - laplace_check["F₂ − F₃ (Laplace)"]
if not QUICK:
    assert np.all(np.abs(deviation) <= 3 * laplace_check["MCSE"] + 0.1), laplace_check

# %% tags=["figures"]
profiles_saved = xr.open_dataset(OUTPUT / "laplace_profiles.nc")["log_z3_over_z2"]
check_saved = pd.read_csv(OUTPUT / "laplace_check.csv")
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
deltas_saved = sorted({float(c.split(",")[0][2:]) for c in profiles_saved["case"].values})
colours = dict(
    zip(deltas_saved, plt.cm.viridis(np.linspace(0, 0.9, len(deltas_saved))), strict=True)
)
for case in profiles_saved["case"].values:
    delta = float(case.split(",")[0][2:])
    left.plot(
        profiles_saved["u_ff"],
        profiles_saved.sel(case=case),
        "--" if "noise-free" in case else "-",
        color=colours[delta],
        lw=1.2 if "noise-free" in case else 0.8,
        label=case,
    )
left.axhline(0.0, color="0.5", lw=0.8)
left.set_yscale("symlog", linthresh=1.0)
left.set(
    xlabel="U_ff [eV]",
    ylabel="log Z₃(U_ff) / Z₂",
    ylim=(-3, 100),
    title="evidence at fixed U_ff (Laplace; dashed: noise-free)",
)
left.legend(fontsize="x-small", ncol=2)
right.errorbar(
    check_saved["F₂ − F₃ (Laplace)"],
    check_saved["F₂ − F₃ (sampled)"],
    yerr=2 * check_saved["MCSE"],
    fmt="o",
    label="runs (±2 MCSE)",
)
lim = [check_saved["F₂ − F₃ (Laplace)"].min() - 1, check_saved["F₂ − F₃ (Laplace)"].max() + 1]
right.plot(lim, lim, "k--", lw=0.8, label="equal")
right.set_xscale("symlog", linthresh=1.0)
right.set_yscale("symlog", linthresh=1.0)
right.set(
    xlabel="F₂ − F₃, Laplace [nats]",
    ylabel="F₂ − F₃, replica exchange [nats]",
    title="sampled against Laplace",
)
right.legend(fontsize="small")
fig.tight_layout()
fig.savefig(OUTPUT / "laplace.png", dpi=120)

# %% [markdown]
# Full run (the sampled values from the run above; the Laplace computation, in
# NumPy/SciPy, takes 5 minutes): every sampled F₂ − F₃ agrees with its Laplace value,
# (sampled − Laplace)/MCSE from −1.76 to +0.97 over the 12 runs, the visible cases to
# 0.01–0.12 nats (26.64 vs 26.65, 27.53 vs 27.40, 67.51 vs 67.47, 72.33 vs 72.43). The
# two independent computations of F confirm each other: the replica-exchange MCSE is
# honest at these settings, and Laplace's method is accurate here. The bracket
# (Laplace against Laplace, upper) is 0.02 nats or less: the prior bounds cut off almost
# nothing.
#
# | Δ [eV] | F₂ − F₃ on the noise-free spectrum (Laplace) | U_ff of the largest Z₃(U_ff) |
# |---|---|---|
# | 12.5 | −0.108 | 8.0 |
# | 11 | −0.258 | 9.8 |
# | 10.08 | −0.181 | 10.2 |
# | 9 | +2.32 | 10.4 |
# | 8 | +35.97 | 10.5 |
# | 7.66 | +81.39 | 10.5 |
#
# **The Occam factor of U_ff, measured.** Where the third line is invisible the
# two-configuration model *is* preferred, on average, but by 0.11–0.26 nats only (a Bayes
# factor of 1.1–1.3): small against the noise realisation, which moves F₂ − F₃ by
# ±0.25 nats (the six noisy spectra: −0.43 to +0.23 by Laplace), so that single spectra
# tie. The reason is visible in the left panel: Z₃(U_ff) stays within a factor e^{±0.5}
# of Z₂ for U_ff from 4 to 20 eV, because along a ridge Δ rises as U_ff falls (at
# Δ = 12.5: Δ̂ = 11.0 at U_ff = 20, 14.8 at U_ff = 5, 19.4 at U_ff = 2) and keeps the two
# main lines where the data put them. Only U_ff ≲ 4 eV is excluded, a fifth of the prior,
# and part of that is paid back by the slightly better fit at U_ff ≈ 8–10 eV. Under these
# priors F cannot prefer two configurations by more; a narrower prior on Δ or U_ff (from
# other measurements, or from atomic values) would cut the ridge and raise the penalty.
# Where the line is visible, F₂ − F₃ on noise-free spectra (36 and 81 nats) is χ²_min/2
# (38.8, 84.7) less an Occam factor of 3 nats, and Z₃(U_ff) peaks at the true 10.5 eV.
#
# ## Paper against ours
#
# | quantity | paper | ours | agreement |
# |---|---|---|---|
# | E_f − E_g, Δ = 12.5 [eV] | −2.8, 2.72, 12.48 | −2.797, 2.724, 12.481 | to printed digits |
# | 2w/π, Δ = 12.5 | .3850, .2512, .0005 | .3850, .2511, .0005 | I₂ by 1 in last digit |
# | E_f − E_g, Δ = 10.08 | −4.53, 1.94, 8.15 | −4.532, 1.946, 8.163 | to 0.014 eV |
# | E_f − E_g, Δ = 7.66 | −6.67, 1.25, 4.3746 | −6.666, 1.254, 4.388 | to 0.014 eV |
# | peaks, Δ = 12.5 | 2 | line 3 at 0.06 σ; F: tie, never 3 | consistent |
# | peaks, Δ = 10.08 | "2–3" | line 3 at 0.4 σ; F: undecided | consistent |
# | peaks, Δ = 7.66 | 3 | line 3 at 5.6 σ; F: 3 by 68–72 nats | yes |
# | F picks the Hamiltonian | yes | yes where line 3 is visible | yes |
# | 2 conf. preferred, line 3 invisible | yes | by 0.11–0.26 nats (noise-free) | in sign; small |
#
# The paper's noise level and spectra are not known to us: where the choice flips
# (between Δ = 9 and 8 eV at σ = 0.05) is a property of our simulated spectra, and so is
# the size of the two-configuration margin, which depends on the priors of Δ and U_ff
# (ours: U(0, 20) eV each; the paper's are not known to us).

# %%
print(f"wall time {time.perf_counter() - started:.0f} s")
