# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # A spectral map on a Dask cluster: the number of peaks of every pixel by F
#
# **The question.** K. Ono's seminar (KEK, "機械学習を用いたシンクロトロン光計測・解析の
# 最適化", 2019) shows STXM nanospectroscopy: one XAS/XMCD spectrum per 30 nm pixel,
# "enormous numbers of spectra (10,000 for 100 × 100 pixels)" (T. Ueno *et al.*, AIP Adv.
# **7**, 056804 (2017)), and M. Mizumaki's article (JASRI, "機械学習手法の導入によるデータ
# 解析高度化") applies Bayesian spectral deconvolution to such spectra. *Can the full
# Bayesian analysis — posterior and free energy F = −log p(D) of every candidate number
# of peaks K, for every pixel — be run on a map, and how fast?*
#
# **What you will see.** A simulated map (20 × 20 pixels in the full run, 4 × 4 quick)
# of spectral-deconvolution spectra (`measurement_models.spectral`, Gaussian peaks,
# σ = 0.1 known) with a known spatial pattern: a host peak everywhere whose position
# shifts linearly from 1.10 to 1.30 across the map, and a second phase inside a disc
# whose peak height falls off as 1 − (r/R)² towards its rim. Every pixel is fitted with
# K = 1, 2, 3 by replica exchange through `samplers.app.batch.fit_batch` on a Dask
# `LocalCluster` (2 single-threaded worker processes on this 2-core machine), which
# writes one part file per pixel as it finishes; one pixel is deliberately corrupted
# (a NaN) to show how failures are recorded. Quick: 3 × 3 pixels, K = 1, 2 only. Then:
#
# 1. maps of the truth against the posterior: chosen K, the second phase's peak height
#    and the host peak's position, with their posterior sd;
# 2. the fraction of pixels where F picks the true K;
# 3. the failure record and a resumed run that finds every part and fits nothing;
# 4. throughput: spectra per minute on the cluster against a sequential loop in one
#    process, measured in the same run (`samplers.app.batch_benchmark.benchmark_batch`);
# 5. the paper's 10 000 spectra against our throughput.
#
# The numbers quoted in the text are from the full run
# (`nice .venv/bin/bayesmeas run batch_spectral_map --full`: 22 min 4 s wall on 2 cores
# shared with two other jobs at a load average of 5–7).

# %%
import json
import os
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xarray as xr

from measurement_models import spectral
from samplers import ReplicaExchangeSettings
from samplers.app.batch import fit_batch
from samplers.app.batch_benchmark import benchmark_batch

QUICK = os.environ.get("BAYESMEAS_QUICK") == "1"
OUTPUT = Path(os.environ.get("BAYESMEAS_OUTPUT", "results/batch_spectral_map"))
OUTPUT.mkdir(parents=True, exist_ok=True)
start = time.perf_counter()
SIDE = 3 if QUICK else 20  # pixels per side
STEP_UM = 0.5  # pixel size [µm]
X = np.linspace(0.0, 3.0, 61)  # spectral axis
SIGMA = 0.1
HOST = {"a": 1.0, "b": 100.0, "mu": (1.10, 1.30)}  # position from left to right edge
PHASE = {"a": 0.9, "b": 100.0, "mu": 1.90, "radius": 0.36 * SIDE}  # disc, radius in pixels
CANDIDATES = {f"K={k}": {"n_peaks": k} for k in ((1, 2) if QUICK else (1, 2, 3))}
SETTINGS = (
    ReplicaExchangeSettings(draws=100, tune=100, chains=2, n_replicas=6)
    if QUICK
    else ReplicaExchangeSettings(draws=300, tune=300, chains=2, n_replicas=10)
)
N_SEQUENTIAL = 2 if QUICK else 24  # spectra of the sequential loop
N_NO_REUSE = 0 if QUICK else 3  # spectra fitted without reusing compiled samplers
CORRUPTED = "r00c02"  # this pixel gets a NaN
POSITIONS = ("map_x", "map_y")
SEED = 2026

# %% [markdown]
# ## 1. The simulated map
#
# Pixel (row i, column j) at (x, y) = (j, i) × 0.5 µm. Host peak: height 1, b = 100
# (sd 0.1), position 1.10 + 0.20 j/(N−1). Second phase: height 0.9 (1 − (r/R)²) at
# position 1.90 for r < R = 0.36 N pixels from the map centre, so true K = 2 inside the
# disc and 1 outside. Each spectrum is simulated with its own seed; the truth is saved
# with the spectra in `spectra.nc`.

# %%
rows, cols = np.divmod(np.arange(SIDE * SIDE), SIDE)
centre = (SIDE - 1) / 2
radius = np.hypot(rows - centre, cols - centre)
host_mu = HOST["mu"][0] + (HOST["mu"][1] - HOST["mu"][0]) * cols / (SIDE - 1)
phase_a = np.where(radius < PHASE["radius"], PHASE["a"] * (1 - (radius / PHASE["radius"]) ** 2), 0)
true_k = np.where(phase_a > 0, 2, 1)
ids = [f"r{i:02d}c{j:02d}" for i, j in zip(rows, cols, strict=True)]
intensity = np.empty((ids.__len__(), X.size))
for n in range(len(ids)):
    a, mu, b = [HOST["a"]], [host_mu[n]], [HOST["b"]]
    if phase_a[n] > 0:
        a, mu, b = [*a, phase_a[n]], [*mu, PHASE["mu"]], [*b, PHASE["b"]]
    spectrum = spectral.simulate(X, a=a, mu=mu, b=b, sigma=SIGMA, rng=[SEED, n])
    intensity[n] = spectrum["intensity"].values
intensity[ids.index(CORRUPTED), 30] = np.nan
spectra = xr.Dataset(
    {
        "intensity": (("spectrum", "x"), intensity),
        "sigma": (("spectrum", "x"), np.full(intensity.shape, SIGMA)),
        "true_k": ("spectrum", true_k),
        "true_phase_height": ("spectrum", phase_a, {"units": "intensity"}),
        "true_host_position": ("spectrum", host_mu, {"units": "x"}),
    },
    coords={
        "spectrum": ids,
        "x": X,
        "map_x": ("spectrum", cols * STEP_UM, {"units": "µm"}),
        "map_y": ("spectrum", rows * STEP_UM, {"units": "µm"}),
    },
)
spectra.to_netcdf(OUTPUT / "spectra.nc")
print(f"{len(ids)} spectra; true K = 2 in {int((true_k == 2).sum())} pixels; corrupted {CORRUPTED}")

# %% [markdown]
# ## 2. The batch, timed against a sequential loop
#
# `benchmark_batch` starts a fresh `LocalCluster(2 workers, threads_per_worker=1,
# processes=True)`, runs `fit_batch` on every pixel (progress lines on stderr), then fits
# the first pixels again in a loop in this process with the same tasks, and a few more
# without reusing compiled samplers. The per-pixel result is `batch/batch.nc`.

# %%
result, bench, sequential = benchmark_batch(
    "spectral",
    spectra.drop_vars(["true_k", "true_phase_height", "true_host_position"]),
    output=OUTPUT / "batch",
    candidates=CANDIDATES,
    settings=SETTINGS,
    n_workers=2,
    n_sequential=N_SEQUENTIAL,
    n_no_reuse=N_NO_REUSE,
    random_seed=SEED,
    positions=POSITIONS,
    key_parameter="a[1]",
    progress=not QUICK,
)
table = bench.to_dataframe()
table.to_csv(OUTPUT / "benchmark.csv", index=False)
same = [
    np.array_equal(
        p["free_energy"].values, result["free_energy"].sel(spectrum=sid).values, equal_nan=True
    )
    for sid, p in zip(ids, sequential, strict=False)
]
summary = {
    "benchmark": bench.summary(),
    "sequential_equals_cluster": all(same),
    "no_reuse_s": bench.no_reuse_s,
    "reuse_s": bench.reuse_s,
    "first_s": bench.sequential_first_s,
}
(OUTPUT / "benchmark.json").write_text(json.dumps(summary, indent=1))
print(table.to_markdown(index=False, floatfmt=".1f"))
print(bench.summary())
print(f"sequential F equal to the cluster's for the same pixels: {all(same)}")
assert all(same), "the loop and the cluster must give the same numbers for the same seeds"

# %% [markdown]
# ## 3. Failures and resuming
#
# The corrupted pixel is recorded as failed with the message of
# `measurement_models.data.validate_dataset`; nothing else failed. Running `fit_batch`
# again on the same output folder finds every part and fits nothing (its `wall_time_s`
# covers only reading and collecting).

# %%
failed = result["status"].values == "failed"
print(
    pd.DataFrame(
        {"spectrum": result["spectrum"].values[failed], "error": result["error"].values[failed]}
    )
)
again = fit_batch(
    "spectral",
    spectra.drop_vars(["true_k", "true_phase_height", "true_host_position"]),
    output=OUTPUT / "batch",
    candidates=CANDIDATES,
    settings=SETTINGS,
    random_seed=SEED,
    positions=POSITIONS,
    key_parameter="a[1]",
    progress=False,
)
print(f"rerun: {again.attrs['n_fitted_this_run']} spectra fitted, {again.attrs['wall_time_s']} s")
assert again.attrs["n_fitted_this_run"] == 0
assert list(result["spectrum"].values[failed]) == [CORRUPTED]

# %% [markdown]
# ## 4. Maps: truth against posterior
#
# Chosen K (F with the tie rule of `select_model`: blank = undecided or failed), the
# second phase's peak height (peak 2 after sorting the peaks by position; zero/blank where
# the chosen model has one peak) and the host peak's position, each as truth, posterior
# mean of the best candidate, and posterior sd.

# %% tags=["figures"]
res = xr.open_dataset(OUTPUT / "batch" / "batch.nc")
truth = xr.open_dataset(OUTPUT / "spectra.nc")
side = int(np.sqrt(res.sizes["spectrum"]))
extent = [-0.25, (side - 0.5) * 0.5, (side - 0.5) * 0.5, -0.25]


def grid(values):
    """Pixel values as a (row, column) image."""
    return np.asarray(values, dtype=float).reshape(side, side)


ok = res["status"].values == "ok"
decided = ok & (res["chosen"].values != "undecided")
chosen_k = np.where(decided, res["best_index"].values + 1.0, np.nan)
panels = [
    ("true K", truth["true_k"].values, "K", (0.5, 3.5)),
    ("chosen K by F", chosen_k, "K", (0.5, 3.5)),
    (None, None, None, None),
    ("true phase-2 height", truth["true_phase_height"].values, "height [intensity]", (0, 1)),
    (
        "posterior mean",
        np.where(ok, np.nan_to_num(res["best_mean"].sel(parameter="a[1]").values), np.nan),
        "height [intensity]",
        (0, 1),
    ),
    ("posterior sd", res["best_sd"].sel(parameter="a[1]").values, "sd [intensity]", None),
    ("true host position", truth["true_host_position"].values, "μ [x]", (1.1, 1.3)),
    ("posterior mean", res["best_mean"].sel(parameter="mu[0]").values, "μ [x]", (1.1, 1.3)),
    ("posterior sd", res["best_sd"].sel(parameter="mu[0]").values, "sd [x]", None),
]
fig, axes = plt.subplots(3, 3, figsize=(11, 9.5), layout="constrained")
for ax, (title, values, label, limits) in zip(axes.flat, panels, strict=True):
    if title is None:
        ax.axis("off")
        continue
    image = ax.imshow(grid(values), extent=extent, origin="upper", cmap="viridis")
    if limits is not None:
        image.set_clim(*limits)
    fig.colorbar(image, ax=ax, label=label)
    ax.set_title(title)
    ax.set_xlabel("x [µm]")
    ax.set_ylabel("y [µm]")
fig.savefig(OUTPUT / "maps.png", dpi=110)

# %% [markdown]
# ## 5. How often does F pick the true K?
#
# Over all fitted pixels, and over the *well-separated* ones: outside the disc
# (true K = 1) or with a second-phase height ≥ 0.3, three times the noise σ (near the rim
# the second peak sinks into the noise and K = 1 is the honest answer).

# %%
res = xr.open_dataset(OUTPUT / "batch" / "batch.nc")
truth = xr.open_dataset(OUTPUT / "spectra.nc")
ok = res["status"].values == "ok"
picked = np.where(res["chosen"].values == "undecided", 0, res["best_index"].values + 1)
right = picked == truth["true_k"].values
clear = ok & ((truth["true_k"].values == 1) | (truth["true_phase_height"].values >= 0.3))
scores = pd.DataFrame(
    {
        "pixels": ["all fitted", "well separated"],
        "n": [int(ok.sum()), int(clear.sum())],
        "true K chosen": [int(right[ok].sum()), int(right[clear].sum())],
        "undecided": [int((picked[ok] == 0).sum()), int((picked[clear] == 0).sum())],
    }
)
scores["fraction"] = scores["true K chosen"] / scores["n"]
scores.to_csv(OUTPUT / "selection.csv", index=False)
print(scores.to_markdown(index=False, floatfmt=".3f"))
print(
    f"max R-hat of the chosen model: median {np.nanmedian(res['max_r_hat'].max('candidate')):.3f}"
)
print(f"total {time.perf_counter() - start:.0f} s")

# %% [markdown]
# ## 6. Throughput
#
# Full run (400 pixels, K = 1, 2, 3 each, 2 chains × 10 replicas, 300 tune + 300 draws):
#
# | run | spectra | wall time [s] | spectra/min |
# |---|---|---|---|
# | Dask LocalCluster, 2 workers (start-up, compilation, collection included) | 400 | 1195 | 20.1 |
# | sequential loop, main process, same tasks | 24 | 69.2 | 20.8 |
#
# No speed-up (0.97×) in that run, and the reason is the machine, not the batch: the two
# workers were busy all the time (1.93 worker-seconds per second), but took 4.8 s per
# pixel (median) against 2.63 s in the loop, because two other jobs shared the two
# cores. The same benchmark on the **otherwise idle** machine, on 80 of the map's pixels
# (every fifth; `bayesmeas batch spectral subset80.nc --candidates ... --draws 300 --tune
# 300 --chains 2 --replicas 10 --benchmark 24`, 2 min 16 s wall):
#
# | run (idle 2-core machine) | spectra | wall time [s] | spectra/min |
# |---|---|---|---|
# | Dask LocalCluster, 2 workers (start-up, compilation, collection included) | 80 | 81.6 | 58.8 |
# | sequential loop, main process, same tasks | 24 | 39.1 | 36.8 |
#
# **1.60× on 2 cores**; in that run's main process the first pixel took 4.0 s, every
# further one 1.52 s with the compiled samplers reused, against 4.89 s building and
# compiling afresh (3.2×). The worker start-up (about 5 s) and each worker's own first
# compilation are paid once per worker, which is why 2 workers give less than 2×. The
# loop's numbers were identical to the cluster's for the same pixels. F chose the true
# K on 327 of the 347 well-separated pixels (19 undecided, 1 wrong; 94 %) and on 339 of
# all 399 fitted (85 %), missing mostly near the disc's rim, where the second peak is
# below three noise levels; median R-hat of the chosen model 1.10 with these short runs.

# %% tags=["figures"]
bench = pd.read_csv(OUTPUT / "benchmark.csv")
fig, ax = plt.subplots(figsize=(6, 2.8), layout="constrained")
ax.barh(bench["run"], bench["spectra_per_min"], color=["C0", "C1"])
ax.set_xlabel("spectra per minute (K = 1, 2, 3 each)")
ax.set_title(f"{int(bench['cores'][0])} cores")
fig.savefig(OUTPUT / "throughput.png", dpi=110)

# %% [markdown]
# ## Paper against ours
#
# | quantity | paper | ours | agreement |
# |---|---|---|---|
# | spectra per map | 10 000 (100 × 100, STXM; Ono) | 400 (20 × 20, simulated) | scaled below |
# | analysis per spectrum | deconvolution (Mizumaki) | posterior, F for K = 1, 2, 3 | — |
# | throughput | not stated | 58.8 spectra/min on 2 idle cores (1.60× the loop) | measured |
# | time for 10 000 spectra | — | 2.8 h on 2 cores; ≈ 8 min on 32 cores | extrapolated |
#
# The seminar gives the size of the problem, not a time, so the comparison is with what
# its 10 000 spectra would cost us. At the 58.8 spectra/min measured on the idle 2-core
# machine the map would take 2.8 h (8.3 h at the 20.1 spectra/min of the full run on
# shared cores). A pixel costs 1.52 s of one core once the samplers are compiled, so
# 10 000 pixels are 4.2 core-hours: about 8 min on 32 worker
# cores *if* the rate scales linearly with cores, which we did not measure (Dask's
# overhead per task is milliseconds against seconds of work, and each worker compiles
# once, about 9 s). The settings are short (300 draws; median R-hat 1.10): longer runs
# for a decision on the rim pixels cost proportionally more.
