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
# spectra (`ce_xps.SELECTION_STUDY`: Γ = 0.7 eV, instrument σ = 0.3 eV, 141 points on
# −12…16 eV, noise sd 0.05 against a main-line height of about 2.5) are our choice, not
# the paper's data.
#
# `BAYESMEAS_QUICK=1` runs one small selection (the test suite does this); the numbers
# quoted in the text are from the full run (`nice .venv/bin/python
# case_studies/mototake2019_ce3d_xps_selection.py`: 12 selections of two candidates,
# 2695 s of sampling on two cores).

# %%
import os
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import optimize
from scipy.special import voigt_profile

from measurement_models import ce_xps as ce
from samplers import ReplicaExchangeSettings, select_model

QUICK = os.environ.get("BAYESMEAS_QUICK") == "1"
OUTPUT = Path(os.environ.get("BAYESMEAS_OUTPUT", "results/ce_xps"))
OUTPUT.mkdir(parents=True, exist_ok=True)
started = time.perf_counter()
STUDY = ce.SELECTION_STUDY
ENERGY, TRUTH, RESOLUTION, SIGMA = (
    STUDY["energy"],
    STUDY["truth"],
    STUDY["resolution"],
    STUDY["sigma"],
)
# Replica exchange (componentwise Metropolis, adapted ladder); every candidate of one
# structure shares one compiled graph across datasets (mutable_data=True).
SETTINGS = ReplicaExchangeSettings(
    draws=200 if QUICK else 3000,
    tune=200 if QUICK else 2000,
    chains=1 if QUICK else 4,
    cores=1 if QUICK else 2,
    n_replicas=12 if QUICK else 24,
)
DELTAS = (7.66,) if QUICK else STUDY["deltas"]
N_SEEDS = 1 if QUICK else 2
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
    target = ce.forward(
        ENERGY, *(t[k] for k in ce.parameter_names(2)), u_ff=t["u_ff"], resolution=RESOLUTION
    )

    def residual(x):
        y = ce.forward(ENERGY, *x, n_configurations=2, resolution=RESOLUTION)
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
for delta in STUDY["deltas"]:
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
# batch-means MCSE; "undecided" when the two are within 2 combined MCSE).


# %%
def build(data, n_configurations):
    return ce.build_model(data, n_configurations, resolution=RESOLUTION, mutable_data=True)


results = []
fits = {}
for delta in DELTAS:
    for seed in range(N_SEEDS):
        data = ce.simulate(ENERGY, clean(delta), SIGMA, rng=100 + seed, resolution=RESOLUTION)
        result = select_model(
            {2: lambda d=data: build(d, 2), 3: lambda d=data: build(d, 3)},
            "replica_exchange",
            settings=SETTINGS,
            dim="configurations",
            random_seed=2019 + seed,
            progressbar=False,
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
        if seed == 0:
            fits[delta] = (data, result)
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
# than the Occam factor of U_ff, and that factor is small: the data exclude only the low
# U_ff values that would make the third line visible (at Δ = 12.5 and the other
# parameters fixed, U_ff = 0.5, 2 and 5 eV give the line 6 %, 4 % and 1 % of the weight;
# Δ, V and U_fc re-adjust the two main lines for larger U_ff). Our estimate, not a
# measurement: about a fifth of the U(0, 20) eV prior is excluded, worth
# −log 0.8 ≈ 0.2 nats in favour of two configurations, below the MCSE of these runs
# and consistent with the mean above. Where the line is visible (Δ ≤ 8,
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

# %%
shown = [d for d in (DELTAS[0], DELTAS[-1]) if d in fits]
fig, axes = plt.subplots(1, len(shown), figsize=(5.5 * len(shown), 3.8), squeeze=False)
for ax, delta in zip(axes[0], dict.fromkeys(shown), strict=False):
    data, result = fits[delta]
    for n, color in ((2, "C0"), (3, "C1")):
        posterior = result[f"candidates/{n}/posterior"].to_dataset()
        ce.plot_fit(
            ax,
            data,
            posterior,
            resolution=RESOLUTION,
            label=f"{n} conf.",
            color=color,
            show_data=n == 3,
        )
    ax.set_title(f"Δ = {delta} eV")
fig.tight_layout()
fig.savefig(OUTPUT / "fits.png", dpi=120)
plt.close(fig)

fig, ax = plt.subplots(figsize=(5.5, 3.8))
ax.errorbar(
    selection["Δ"],
    selection["ΔF = F₂ − F₃"],
    yerr=2 * selection["MCSE"],
    fmt="o",
    label="runs (±2 MCSE)",
)
ax.plot(
    visibility.index,
    visibility["χ²_min/2 (2 conf.)"],
    "k--",
    lw=1,
    label="χ²_min/2 of the 2-conf. fit",
)
ax.axhline(0.0, color="0.5", lw=0.8)
ax.set_yscale("symlog", linthresh=1.0)
ax.set(xlabel="Δ [eV]", ylabel="F₂ − F₃ [nats]", title="> 0: three configurations preferred")
ax.legend(fontsize="small")
fig.tight_layout()
fig.savefig(OUTPUT / "delta_f.png", dpi=120)
plt.close(fig)

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
            mean = ce.forward(ENERGY, *x[[0, 1, 3, 4, 5, 6]], u_ff=x[2], resolution=RESOLUTION)
        else:
            mean = ce.forward(ENERGY, *x, n_configurations=2, resolution=RESOLUTION)
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
        data, _ = fits[delta]
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
#
# The paper's noise level and spectra are not known to us: where the choice flips
# (between Δ = 9 and 8 eV at σ = 0.05) is a property of our simulated spectra.

# %%
print(f"wall time {time.perf_counter() - started:.0f} s")
