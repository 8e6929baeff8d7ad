# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Fe K pre-edge of Fe2O3 and FeO by Bayesian XANES spectroscopy
#
# Iwamitsu, Akai and co-workers (*Phys. Status Solidi B* 257, 2000107 (2020); seed 003)
# decompose a XANES spectrum into an arctan edge step, a pseudo-Voigt white line and
# K Gaussian features, with **K chosen by the Bayesian free energy F = −log p(D|K)**
# instead of by the analyst, so that the pre-edge decomposition carries no arbitrariness
# and every feature comes with its posterior. Here the model
# (`measurement_models.xanes`) is applied to two real Fe K-edge transmission spectra,
# Fe2O3 (Fe³⁺) and FeO (Fe²⁺), and asks: **is the area-weighted pre-edge centroid of
# Fe³⁺ higher than that of Fe²⁺ by the ~1.4 eV the literature reports** (Wilke et al.,
# *Am. Mineral.* 86, 714 (2001): 1.4 ± 0.1 eV between Fe²⁺ and Fe³⁺ end members), and
# how well is that difference determined?
#
# The reader will see the normalised spectra, the free energy against K for each, the
# fit of the pre-edge window (data, components, posterior band), the posterior
# centroids and areas, and the paper against ours.
#
# Data: `fe2o3_rt1.xmu` and `feo_rt1.xdi` from
# [xraypy/xraylarch](https://github.com/xraypy/xraylarch) `examples/xafsdata/` (MIT
# licence; APS 20-BM, NXS school 2001), read from `../shared/data/real/`; without that
# folder the case study stops with a message naming the source.
#
# `BAYESMEAS_QUICK=1` compares only K = 3 and 4 with short runs (the test suite does
# this); the numbers in the text are from the full run (K = 1…6).

# %%
import os
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xarray as xr

from measurement_models import xanes
from measurement_models.xafs_io import load_xafs
from samplers import ReplicaExchangeSettings, select_model
from samplers.case_studies import real_data_dir, require_real_data

QUICK = os.environ.get("BAYESMEAS_QUICK") == "1"
OUTPUT = Path(os.environ.get("BAYESMEAS_OUTPUT", "results/xanes_fe_k_edge"))
OUTPUT.mkdir(parents=True, exist_ok=True)
REAL = real_data_dir()
SOURCE = "xraypy/xraylarch examples/xafsdata/ (fe2o3_rt1.xmu, feo_rt1.xdi)"
#: spectrum label: file, E0 for the normalisation ranges (eV)
SPECTRA = {"Fe2O3": ("fe2o3_rt1.xmu", 7125.0), "FeO": ("feo_rt1.xdi", 7120.0)}
WINDOW = (7105.0, 7125.0)  # eV, the pre-edge and the foot of the edge
PRE_EDGE = (7108.0, 7116.5)  # eV, Gaussian centres counted as pre-edge features
LITERATURE_SHIFT = 1.4  # eV, Fe3+ - Fe2+ pre-edge centroid (Wilke et al. 2001)
# full run: K = 1..6, 4 chains x 16 replicas, 3000 tune + 3000 draws
K_FULL = (1, 2, 3, 4, 5, 6)
K_QUICK = {"Fe2O3": (3, 4), "FeO": (3, 4)}  # two small candidates (quick compile)
SETTINGS = (
    ReplicaExchangeSettings(draws=250, tune=250, chains=2, cores=1, n_replicas=6)
    if QUICK
    else ReplicaExchangeSettings(draws=3000, tune=3000, chains=4, cores=1, n_replicas=16)
)
started = time.perf_counter()

# %% [markdown]
# ## Data and normalisation
#
# μ(E) is read as the files give it (the `mu` / `mutrans` columns); it is normalised to
# a unit edge step (`xanes.normalize`: straight line fitted 30–150 eV below E0, quadratic
# 50–300 eV above, as Athena does). The window 7105–7125 eV holds 51 points per
# spectrum. The noise σ of the normalised μ is not known (transmission μ carries no
# counts) and is a parameter.

# %%
require_real_data([name for name, _ in SPECTRA.values()], SOURCE)
data = {label: xanes.normalize(load_xafs(REAL / name), e0) for label, (name, e0) in SPECTRA.items()}
for label, ds in data.items():
    print(f"{label}: edge step {ds.attrs['edge_step']:.4f} (raw mu units)")

# %% [markdown]
# ## Selecting K by the free energy
#
# Candidates: K Gaussians plus the arctan step and a linear background, no white line
# (its maximum is above the window). Priors: `xanes.PARAMETERS` with the pre-edge
# overrides `xanes.PRE_EDGE_PRIORS` (feature FWHM around 1.5 eV; background near zero
# after normalisation). Ordered centres avoid label switching; the potential log K!
# keeps F that of the exchangeable prior.

# %%
selections = {}
for seed, (label, ds) in enumerate(data.items(), start=1):
    ks = K_QUICK[label] if QUICK else K_FULL
    selections[label] = select_model(
        {
            k: (
                lambda k=k, ds=ds: xanes.build_model(
                    ds,
                    k,
                    energy_window=WINDOW,
                    white_line=False,
                    priors=xanes.PRE_EDGE_PRIORS,
                    mutable_data=True,  # both spectra share each K's compiled graph
                )
            )
            for k in ks
        },
        settings=SETTINGS,
        random_seed=seed,
        progressbar=False,
        log=print,
        path=OUTPUT / f"selection_{label}.nc",
    )
    print(label, selections[label].attrs["decision"])

# %% [markdown]
# ## Pre-edge centroids and areas
#
# A Gaussian is a pre-edge feature when its centre lies in 7108–7116.5 eV (below the
# rise of the edge); per posterior draw, the centroid is the area-weighted mean of their
# centres and the pre-edge area the sum of their areas. The same is computed for every
# K sampled, to see how much the answer depends on K.


# %%
def pre_edge(posterior: xr.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Per draw: area-weighted centroid and total area of the pre-edge Gaussians."""
    post = posterior.stack(s=("chain", "draw"))
    F, Ek = (post[n].transpose("s", "gaussian").values for n in ("F", "Ek"))
    mask = (Ek > PRE_EDGE[0]) & (Ek < PRE_EDGE[1])
    return xanes.centroid(F, Ek, mask), np.where(mask, F, 0.0).sum(axis=1)


def summarise(label: str, k, table: xr.Dataset, posterior: xr.Dataset) -> tuple[dict, np.ndarray]:
    """One row of numbers for candidate ``k`` of one spectrum, and its centroid draws."""
    centroid, area = pre_edge(posterior)
    row = {
        "spectrum": label,
        "K": int(k),
        "F": float(table.free_energy.sel(model=k)),
        "F_mcse": float(table.free_energy_mcse.sel(model=k)),
        "centroid_eV": np.nanmean(centroid),
        "centroid_sd_eV": np.nanstd(centroid),
        "pre_edge_area": area.mean(),
        "pre_edge_area_sd": area.std(),
        "draws_without_pre_edge": float(np.isnan(centroid).mean()),
    }
    return row, centroid


rows, per_k, centroids = [], [], {}
for label, tree in selections.items():
    table = tree.to_dataset()
    for k in table["model"].values:
        per_k.append(summarise(label, k, table, tree[f"candidates/{k}/posterior"].to_dataset())[0])
    best = next(k for k in table["model"].values if str(k) == str(tree.attrs["best"]))
    row, centroids[label] = summarise(
        label, best, table, tree[f"candidates/{best}/posterior"].to_dataset()
    )
    rows.append(row | {"edge_step": data[label].attrs["edge_step"]})
rng = np.random.default_rng(0)
fe3 = rng.choice(centroids["Fe2O3"][np.isfinite(centroids["Fe2O3"])], 20000)
fe2 = rng.choice(centroids["FeO"][np.isfinite(centroids["FeO"])], 20000)
shift = fe3 - fe2  # independent spectra: posterior of the difference
summary = pd.DataFrame(rows)
summary["shift_eV"] = shift.mean()
summary["shift_sd_eV"] = shift.std()
summary.to_csv(OUTPUT / "summary.csv", index=False)
pd.DataFrame(per_k).to_csv(OUTPUT / "per_k.csv", index=False)
xr.Dataset({"shift": ("sample", shift)}).to_netcdf(OUTPUT / "shift.nc")
print(summary.to_string())
print(pd.DataFrame(per_k).to_string())
print(f"wall time {time.perf_counter() - started:.0f} s")

# %% tags=["figures"]
fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
for ax, label in zip(axes, SPECTRA, strict=True):
    name, e0 = SPECTRA[label]
    ds = xanes.normalize(load_xafs(REAL / name), e0)
    tree = xr.open_datatree(OUTPUT / f"selection_{label}.nc")
    best = tree.attrs["best"]
    window = xanes.select_window(ds, WINDOW)
    xanes.plot_fit(ax, window, tree[f"candidates/{best}/posterior"].to_dataset())
    ax.set_title(f"{label}: K = {best} (lowest F)")
fig.tight_layout()
fig.savefig(OUTPUT / "fit.png", dpi=120)

# %% tags=["figures"]
fig, ax = plt.subplots(figsize=(5, 3.5))
for label in SPECTRA:
    table = xr.open_datatree(OUTPUT / f"selection_{label}.nc").to_dataset()
    ax.errorbar(
        table["model"].values,
        table["free_energy"].values,
        yerr=table["free_energy_mcse"].values,
        marker="o",
        capsize=3,
        label=label,
    )
ax.set_xlabel("number of Gaussians K")
ax.set_ylabel("free energy F [nats]")
ax.legend()
fig.tight_layout()
fig.savefig(OUTPUT / "free_energy.png", dpi=120)

# %% tags=["figures"]
shift = xr.open_dataset(OUTPUT / "shift.nc")["shift"].values
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.hist(shift, bins=60, density=True, color="C1", alpha=0.7, label="posterior")
ax.axvline(LITERATURE_SHIFT, color="k", ls="--", label="Wilke et al. 2001")
ax.set_xlabel("pre-edge centroid Fe³⁺ − Fe²⁺ [eV]")
ax.set_ylabel("density [1/eV]")
ax.legend()
fig.tight_layout()
fig.savefig(OUTPUT / "centroid_shift.png", dpi=120)

# %% [markdown]
# ## Results of the full run
#
# Full run: `BAYESMEAS_OUTPUT=... nice .venv/bin/python case_studies/xanes_fe_k_edge.py`
# on 2 shared AMD EPYC cores, 11 min 33 s wall (sampling K = 1…6 for both spectra; the
# per-K table was then computed by this notebook's analysis cell from the saved
# `selection_*.nc`). That run's energy priors spanned the window's first to last data
# point (19.88 eV) rather than the nominal 20 eV used now: at most 0.04 nats in F.
#
# | K | F(Fe2O3) | centroid Fe2O3 [eV] | F(FeO) | centroid FeO [eV] | shift [eV] |
# |---|---|---|---|---|---|
# | 1 | −140.25 ± 0.25 | 7113.64 ± 0.15 | −161.46 ± 0.19 | (no pre-edge feature) | — |
# | 2 | −163.22 ± 0.49 | 7113.46 ± 0.06 | −166.17 ± 1.75 | 7112.49 ± 0.12 | — |
# | 3 | −176.81 ± 1.48 | 7114.01 ± 0.09 | −169.03 ± 1.65 | 7112.86 ± 0.60 | 1.15 ± 0.62 |
# | 4 | −185.01 ± 0.99 | 7114.17 ± 0.21 | −174.04 ± 2.62 | 7112.77 ± 0.58 | 1.41 ± 0.61 |
# | 5 | −188.03 ± 1.42 | 7114.50 ± 0.38 | −173.82 ± 1.05 | 7113.43 ± 1.07 | 1.09 ± 1.13 |
# | 6 | −191.62 ± 1.89 | 7114.29 ± 0.61 | −176.40 ± 0.89 | 7113.38 ± 0.90 | 0.91 ± 1.09 |
#
# (F ± MCSE in nats; centroids as posterior mean ± sd.) The lowest F is at K = 6 for
# both (p(K|D) = 0.97 for Fe2O3 and 0.85 for FeO), but `select_model` calls both
# **undecided** (K = 5, 6 for Fe2O3; K = 4, 5, 6 for FeO), and for Fe2O3 F is still
# falling at K = 6, the largest K sampled: the 51 points of these transmission spectra
# have σ = 0.0012 (Fe2O3) and 0.0022 (FeO) of the edge step at K = 6, and every extra Gaussian
# on the rising edge (7117–7125 eV) still pays. At the lowest F the pre-edge areas are 0.23 ± 0.12
# (Fe2O3) and 0.18 ± 0.10 (FeO) edge-step·eV, and the **Fe³⁺ − Fe²⁺ centroid shift is
# 0.9 ± 1.1 eV**.
#
# **K is not decided by these runs, and F at K ≥ 5 is biased.** A longer run of K = 6, 7, 8
# alone (24 replicas, 4 chains × 4000 + 4000; not part of the case study) gave
# F = −197.2 ± 2.2, −195.8 ± 0.6, −200.2 ± 1.7 (Fe2O3) and −179.4 ± 0.7, −179.2 ± 0.8,
# −182.5 ± 0.8 (FeO): F still falls at K = 8, and at K = 6 the two runs differ by 5.6 and
# 3.0 nats (1.9 and 2.6 combined MCSE). The ladder diagnostics say why: in every chain of
# those runs (both spectra, K = 6, 7, 8) **no replica made a round trip** from the prior
# to the posterior, and only
# 4–10 of the 24 replicas ever reached β = 1. Replicas that start at the prior climb to
# β ≈ 0.3 and stop; above it each ladder keeps the arrangement of Gaussians it froze into.
# Three single ladders of Fe2O3 at K = 6 with equal numbers of evaluations (24 levels,
# 4000 + 4000 iterations, an exploration outside the repository) show how far
# apart these arrangements are:
#
# | moves | F per ladder (nats) | mean log-likelihood at β = 1 |
# |---|---|---|
# | componentwise, 1 sweep | −195.6, −193.4, −195.6 | 294, 306, 287 |
# | `update="adaptive"`, 25 moves | −187.8, −227.5, −193.4 | 257, 332, 263 |
# | componentwise, 10 sweeps, 1000 + 2000 (3.6×) | −211.8, −205.5, −208.8 | 309, 310, 305 |
#
# Each set of ladders roughly agrees within itself, yet F falls as the computation grows,
# and one adaptive ladder found an arrangement 22 units of log-likelihood better than any
# other and an F 16 nats below the lowest other (the last row costs 3.6× the evaluations).
# Agreement between ladders that all freeze is no evidence of correctness: F(K = 6) of
# Fe2O3 is near −227 or lower, and the table's F at K = 6 (likely at every large K) is
# too high by an unknown amount. Neither the adaptive moves nor a fixed noise level (σ =
# 0.0012) gave a round trip, and PyMC's SMC (2 × 2000 particles) gave −135.8 ± 2.3,
# further off still; nested sampling (dynesty 3.1, 300 live points, random
# slices; an exploration outside the repository) gave −153.5 ± 0.6, best log-likelihood
# of 272.5, although at K = 1 it agrees with the ladder (−139.59 ± 0.34 against
# −140.25 ± 0.25). The multi-start optimisation of the K = 6 posterior (60 starts)
# found a best log-likelihood of 304. `select_model` now counts round trips and would
# have flagged these runs. Deciding K here needs moves that carry a Gaussian from one
# feature to another. A first try (outside the repository) moved one Gaussian of each
# level to a uniformly drawn energy per move: it samples the prior level correctly and
# lowered F of three componentwise ladders to −203.2, −205.7 and −208.6, but made no
# round trip either, so it is not in the package.
#
# ## Paper against ours
#
# | quantity | paper | ours | agreement |
# |---|---|---|---|
# | K by F | K = 13, full XANES (seed 003) | undecided: F falls to K = 8 | not reached |
# | Fe³⁺ − Fe²⁺ centroid | ≈ 1.4 eV (Wilke 2001) | 0.9 ± 1.1 eV (K = 6) | within 0.5 sd |
# | same, at K = 4 | ≈ 1.4 eV | 1.41 ± 0.61 eV | within 0.1 sd |
# | Fe³⁺ above Fe²⁺ | yes | yes (posterior mean, every K ≥ 2) | qualitative |
#
# Reasons for the differences: (1) the FeO pre-edge is weak and lies on the foot of its
# edge (the FeO edge is 4–5 eV below that of Fe2O3), so whether a Gaussian near
# 7115–7116 eV belongs to the pre-edge or to the edge is not decided by the data; as
# K grows such a feature moves into the 7108–7116.5 eV pre-edge range and pulls the FeO
# centroid up (7112.8 → 7113.4 eV) and its uncertainty with it. (2) Wilke et al. fit a
# narrower pre-edge window with a baseline and fixed-width pseudo-Voigts; our
# "pre-edge" is defined by the centre range alone. (3) The componentwise-Metropolis
# replica exchange mixes slowly for K ≥ 5: single feature centres have posterior sd of
# 1–3 eV (features exchanging roles), and F's MCSE reaches 2–3 nats, which is why the
# neighbouring K are "undecided". (4) The energy scales of the two 2001 APS 20-BM files
# are not calibrated against a common Fe foil here, so part of the shift may be a
# calibration offset.
