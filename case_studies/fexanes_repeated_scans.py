# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # When to stop measuring: the Fe K pre-edge over five repeated fluorescence scans
#
# M. Mizumaki's article (JASRI, "機械学習手法の導入によるデータ解析高度化"; magnetic
# Compton scattering of Fe at SPring-8 BL08W, Yokoyama et al., in preparation there)
# proposes to stop a measurement when the **posterior standard deviation** of the
# quantity of interest reaches the required precision, or when it stops shrinking: the
# Bayesian fit after 1, 2, …, 136 accumulated cycles showed the sd levelling off after
# ~20 cycles and reaching the required ±0.01 μ_B after ~6, "a twentieth of the usual
# measuring time". Here the same tool (`samplers.stopping`) is applied to five repeated
# Fe K-edge XANES scans in fluorescence, with Poisson statistics on the raw detector
# counts, and asks:
#
# 1. how does the posterior sd of the pre-edge features (centre and area of the main
#    feature, the pre-edge area and its area-weighted centroid) fall with the number of
#    accumulated scans; where would one stop for a centroid precision of 0.05 eV, and
#    does the sd level off?
# 2. before the experiment, could the sd have been **predicted** from a simulated
#    measurement at a planned count time, and inverted to the count time needed for the
#    target? The prediction is checked against the sd measured on the real scans.
#
# The reader will see the scans and their metadata, the choice of the number K of
# Gaussians, the fits after 1 and 5 scans with their Pearson residuals, the sd against
# accumulated exposure with the 1/√t line, the per-scan posteriors, the planning
# prediction against the measured curve, and the article's claims against ours.
#
# Data: `fexanes_a.001` … `fexanes_e.001` (APS 13-ID-E, 2022; raw counts of a 7-element
# detector, `I0`) from [xraypy/xraylarch](https://github.com/xraypy/xraylarch)
# `examples/xafsdata/fexafs/` (MIT licence), read from `../shared/data/real/`.
#
# `BAYESMEAS_QUICK=1` uses 2 × 500 draws, two candidate K, two planned exposures, no
# per-scan fits and no NUTS check (the test suite does this); the numbers in the text
# are from the full run.

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

from measurement_models import xanes
from measurement_models.parameters import Prior
from samplers.app.case_studies import real_data_dir, require_real_data
from samplers.stopping import (
    accumulate,
    laplace_sampler,
    nuts_sampler,
    precision_curve,
    precision_law,
    predict_precision,
    required_exposure,
    stopping_point,
)

QUICK = os.environ.get("BAYESMEAS_QUICK") == "1"
OUTPUT = Path(os.environ.get("BAYESMEAS_OUTPUT", "results/fexanes_repeated_scans"))
OUTPUT.mkdir(parents=True, exist_ok=True)
REAL = real_data_dir()
SOURCE = "xraypy/xraylarch examples/xafsdata/fexafs/ (fexanes_a.001 ... fexanes_e.001)"
FILES = [f"fexanes_{s}.001" for s in "abcde"]
NORMALISE = {"e0": 7112.0, "pre": (-80.0, -15.0), "post": (40.0, 240.0)}  # eV
WINDOW = (7105.0, 7117.0)  # eV: pre-edge and the foot of the edge (120 points, 0.1 eV)
PRE_EDGE_MAX = 7114.5  # eV: Gaussians centred below are pre-edge features
#: pre-edge priors of xanes, and the edge midpoint above the window (μ = 0.5 at 7118–7120 eV)
PRIORS = {**xanes.PRE_EDGE_PRIORS, "E0": Prior("Uniform", lower=7112.0, upper=7127.0)}
AXIS_ATOL = 0.01  # eV: energy read-back jitter between scans (the step is 0.1 eV)
TARGET_CENTROID_SD = 0.05  # eV: resolves Fe3+/ΣFe to ±4 % on the 1.4 eV Fe2+–Fe3+ scale
PLATEAU_RTOL, PLATEAU_WINDOW = 0.05, 2
LITERATURE_CENTROID = {"Fe2+": 7112.1, "Fe3+": 7113.5}  # eV, Wilke et al. 2001
K_CANDIDATES = (3, 4) if QUICK else (1, 2, 3, 4, 5)
RESTARTS = 3 if QUICK else 8
MIN_GAP = 0.75  # eV: centres closer than half the 1.5 eV resolution FWHM are not resolved
LAPLACE = {"draws": 500, "chains": 2} if QUICK else {"draws": 1000, "chains": 4}
NUTS_CHECK = not QUICK  # NUTS at steps 1 and 5 checks the Laplace approximation
NUTS = {"draws": 1000, "tune": 1000, "chains": 2}
PLANNED = (0.01, 1.0) if QUICK else (0.01, 0.05, 0.25, 1.0, 4.0)  # mean-scan exposures
REPEATS = 1 if QUICK else 2
PER_SCAN = not QUICK
NAMES = ("H", "E0", "Gamma", "F", "Ek", "W", "c0", "c1")
UNITS = {"centroid": "eV", "area": "μ·eV", "E_main": "eV", "F_main": "μ·eV"}
started = time.perf_counter()

# %% [markdown]
# ## The scans
#
# Each scan is read and normalised on its own (`xanes.load`: line 15–80 eV below 7112 eV,
# quadratic 40–240 eV above), which gives per energy the raw counts N, the exposure
# t = s·I0/d (edge step s, dead-time factor d) and the offset o left by the pre-edge
# line, so that N ~ Poisson(t·(o + μ(E))) with μ the normalised absorption
# (`xanes.add_likelihood`). Scans add as counts: N and t add, and the offsets combine
# weighted by exposure (t·o adds), so the accumulated data keep the same likelihood
# with the *same* μ. The scans are accumulated in the order they were measured (start
# times in the headers). Each scan's exposure is its mean t over the window in units
# of the five scans' average ("mean-scan equivalents"): one scan counts 1 s per point.

# %%
require_real_data(FILES, SOURCE)
scans, rows = [], []
for name in FILES:
    full = xanes.load(REAL / name, **NORMALISE)
    ds = xanes.select_window(full, WINDOW)
    ds["background"] = ds["exposure"] * ds["offset"]
    rows.append(
        {
            "file": name,
            "start": full.attrs["Scan.start_time"],
            "focus_z_mm": float(full.attrs["SampleStage.FocusZ"]),
            "edge_step": ds.attrs["edge_step"],
            "counts": int(ds["counts"].sum()),
            "mean_exposure": float(ds["exposure"].mean()),
            "E_half_eV": float(full.energy[np.argmax(full.intensity.values > 0.5)]),
        }
    )
    scans.append(ds[["counts", "exposure", "background"]])
table = pd.DataFrame(rows)
order = np.argsort(table["start"].values, kind="stable")
table = table.iloc[order].reset_index(drop=True)
scans = [scans[i] for i in order]
relative = table["mean_exposure"] / table["mean_exposure"].mean()
for scan, exposure in zip(scans, relative, strict=True):
    scan.attrs = {"exposure": float(exposure)}
table["exposure"] = [scan.attrs["exposure"] for scan in scans]
table.to_csv(OUTPUT / "scans.csv", index=False)
print(table.to_string())


def finish(ds: xr.Dataset) -> xr.Dataset:
    """Offsets from the accumulated t·o; normalised μ and its Poisson sd for plotting."""
    ds = ds.copy()
    ds["offset"] = ds["background"] / ds["exposure"]
    ds["intensity"] = ds["counts"] / ds["exposure"] - ds["offset"]
    ds["sigma"] = np.sqrt(ds["counts"]) / ds["exposure"]
    return ds


cumulative = [
    finish(ds)
    for ds in accumulate(
        scans, variable="counts", exposure="exposure", monitors=["background"], axis_atol=AXIS_ATOL
    )
]
single = [finish(accumulate([scan], variable="counts")[0]) for scan in scans]
for n, ds in enumerate(cumulative, start=1):
    ds.to_netcdf(OUTPUT / f"data_{n}.nc")
print("counts in the window after 1..5 scans:", [int(ds["counts"].sum()) for ds in cumulative])

# %% [markdown]
# The scans are **not** five repeats of one spectrum: the headers put them at three
# sample focus positions (FocusZ), and their edge steps (0.10–0.35 of the raw μ),
# half-height energies (7117.9–7119.9 eV) and pre-edge heights differ by far more than
# counting noise. The accumulation below treats them as repeats, as a stopping rule
# that sees only the running sum would; the per-scan fits (full run) show what that
# hides.
#
# ## The number of Gaussians
#
# K is fixed once, on the 5-scan sum, by a cheap criterion: a Poisson-weighted least
# squares fit (Pearson χ², `scipy.optimize.least_squares`, restarts from random
# centres) for each candidate K, and the smallest K whose χ²/dof is within 20 % of the
# best candidate's, among the candidates whose Gaussians are *resolved* (neighbouring
# centres at least 0.75 eV apart, half the ~1.5 eV resolution FWHM of the features).
# The resolution condition was added after a first full run: without it K = 5 wins
# (χ²/dof 3.9 against 12.5 at K = 4) by splitting the main feature into three
# Gaussians 0.3–0.4 eV apart, whose individual centres and areas the data cannot
# separate (posterior sd 0.15 eV of the "main" centre; NUTS then reached a bulk ESS of
# 2.5, and the Laplace approximation of that ridge is not trustworthy).
# (A free-energy comparison needs a tempering ladder fine enough for
# ~10⁸ counts, the failure of an earlier attempt; the posterior sd at fixed K needs
# only the posterior at β = 1.)


# %%
def unpack(x: np.ndarray, k: int) -> dict[str, np.ndarray]:
    """Parameter vector (H, E0, Γ, c0, c1, F_1..K, E_1..K, W_1..K) to a dict."""
    H, E0, Gamma, c0, c1 = x[:5]
    F, Ek, W = x[5 : 5 + k], x[5 + k : 5 + 2 * k], x[5 + 2 * k :]
    return {"H": H, "E0": E0, "Gamma": Gamma, "F": F, "Ek": Ek, "W": W, "c0": c0, "c1": c1}


def pack(values: dict) -> np.ndarray:
    order = np.argsort(values["Ek"])
    head = [values[n] for n in ("H", "E0", "Gamma", "c0", "c1")]
    return np.r_[head, values["F"][order], values["Ek"][order], values["W"][order]]


def expected_counts(ds: xr.Dataset, values: dict) -> np.ndarray:
    mu = xanes.forward(ds["energy"].values, **{n: np.asarray(values[n]) for n in NAMES})
    return ds["exposure"].values * (ds["offset"].values + mu)


def pearson(ds: xr.Dataset, values: dict) -> np.ndarray:
    rate = expected_counts(ds, values)
    return (ds["counts"].values - rate) / np.sqrt(np.maximum(rate, 1.0))


def posterior_rate(ds: xr.Dataset, post: xr.Dataset, draws: int = 400) -> np.ndarray:
    """Posterior mean of the expected counts (over ``draws`` evenly spaced draws)."""
    stacked = post.stack(sample=("chain", "draw"))
    pick = np.linspace(0, stacked.sizes["sample"] - 1, draws).astype(int)
    values = {n: stacked[n].transpose("sample", ...).values[pick] for n in NAMES}
    mu = xanes.forward(ds["energy"].values, **values).mean(axis=0)
    return ds["exposure"].values * (ds["offset"].values + mu)


def least_squares_fit(ds: xr.Dataset, k: int, starts: list[np.ndarray]) -> tuple[dict, float]:
    """Best Pearson-χ² fit from the given starting vectors."""
    lo = np.r_[0.0, 7112.0, 0.3, -0.5, -0.05, np.zeros(k), np.full(k, WINDOW[0]), np.full(k, 0.3)]
    hi = np.r_[10.0, 7127.0, 10.0, 0.5, 0.05, np.full(k, 2.0), np.full(k, WINDOW[1]), np.full(k, 5)]
    best = None
    for x0 in starts:
        fit = least_squares(
            lambda x: pearson(ds, unpack(x, k)), np.clip(x0, lo, hi), bounds=(lo, hi),
            x_scale="jac", max_nfev=2000,
        )  # fmt: skip
        if best is None or fit.cost < best.cost:
            best = fit
    return unpack(pack(unpack(best.x, k)), k), 2 * best.cost


def random_starts(k: int, rng: np.random.Generator, n: int) -> list[np.ndarray]:
    """Centres evenly over 7109.5–7115.2 eV (the visible features), then random ones."""
    even = np.r_[1.0, 7119.0, 1.0, 0, 0, np.full(k, 0.02), np.linspace(7109.5, 7115.2, k),
                 np.full(k, 1.5)]  # fmt: skip
    return [even] + [
        np.r_[rng.uniform(0.5, 2), rng.uniform(7116, 7121), rng.uniform(1, 4), 0, 0,
              np.full(k, 0.05), np.sort(rng.uniform(WINDOW[0] + 1, 7116, k)), np.full(k, 1.5)]
        for _ in range(n)
    ]  # fmt: skip


rng = np.random.default_rng(5)
n_points = cumulative[-1].sizes["energy"]
k_rows, k_fits = [], {}
for k in K_CANDIDATES:
    k_fits[k], chi2 = least_squares_fit(cumulative[-1], k, random_starts(k, rng, RESTARTS))
    dof = n_points - (5 + 3 * k)
    gap = float(np.diff(k_fits[k]["Ek"]).min()) if k > 1 else np.inf
    k_rows.append({"K": k, "chi2": chi2, "dof": dof, "chi2_per_dof": chi2 / dof, "gap_eV": gap})
kchoice = pd.DataFrame(k_rows)
kchoice["resolved"] = kchoice["gap_eV"] >= MIN_GAP
best_ratio = kchoice.loc[kchoice["resolved"], "chi2_per_dof"].min()
K = int(kchoice.loc[kchoice["resolved"] & (kchoice["chi2_per_dof"] <= 1.2 * best_ratio), "K"].min())
kchoice["chosen"] = kchoice["K"] == K
kchoice.to_csv(OUTPUT / "kchoice.csv", index=False)
START = k_fits[K]
MAIN = int(np.argmax(np.where(START["Ek"] < PRE_EDGE_MAX, START["F"], -1.0)))
print(kchoice.to_string())
print(f"K = {K}; least-squares centres {np.round(START['Ek'], 2)} eV, main feature {MAIN}")

# %% [markdown]
# ## Posterior sd after 1, 2, …, 5 accumulated scans
#
# One model (`xanes.build_model`, K Gaussians, no white line, Poisson counts, data in
# `pm.Data`) serves every step. With 4·10⁷–2·10⁸ counts in the window the posterior
# is in the Bernstein–von Mises regime: it is sampled by the Laplace approximation at
# its mode (`samplers.stopping.laplace_sampler`: Newton steps from the least-squares
# optimum of that step's data, Hessian from the compiled gradient, 4 × 1000 draws),
# and NUTS (2 × 1000 draws after 1000 tuning steps, started at the same optimum
# without jitter) checks it at step 5 in the full run. NUTS does not mix on this
# posterior in such budgets (a trial with 2 × 100 draws after 150 tuning steps gave a
# centroid sd 20 times below the Laplace value after one scan; the full run's check
# reaches a bulk ESS of 2.6), which is why it is not the sampler here. Quantities:
# the centre and area of the main pre-edge feature, the pre-edge area (Gaussians
# centred below 7114.5 eV; the 7115.2 eV shoulder belongs to the edge) and its
# area-weighted centroid.


# %%
class PreEdgeFit:
    """One compiled model for every dataset of the window, started at the LSQ optimum."""

    def __init__(self, ds: xr.Dataset):
        self.model = xanes.build_model(
            ds, n_gaussians=K, energy_window=WINDOW, white_line=False, noise="poisson",
            priors=PRIORS, mutable_data=True,
        )  # fmt: skip
        self.start, self.label = START, None
        self.laplace = laplace_sampler(**LAPLACE, initvals=self.initvals)

    def initvals(self) -> dict[str, np.ndarray]:
        return {n: np.asarray(self.start[n], dtype=float) for n in NAMES}

    def build(self, ds: xr.Dataset, label: str | None = None) -> pm.Model:
        values = {"observed": ds["counts"].values, "exposure": ds["exposure"].values}
        values["offset"] = ds["offset"].values
        pm.set_data({f"counts_{key}": v for key, v in values.items()}, model=self.model)
        self.start = least_squares_fit(ds, K, [pack(self.start), pack(START)])[0]
        self.label = label
        return self.model

    def sample(self, model: pm.Model, seed: int) -> xr.DataTree:
        tree = self.laplace(model, seed)
        if self.label is not None:
            tree["posterior"].to_dataset().to_netcdf(OUTPUT / f"posterior_{self.label}.nc")
        return tree

    def nuts(self, model: pm.Model, seed: int) -> xr.DataTree:
        run = nuts_sampler(**NUTS, init="adapt_diag", initvals=self.initvals(), target_accept=0.9)
        return run(model, seed)


def pre_edge_mask(post: xr.Dataset) -> xr.DataArray:
    return post["Ek"] < PRE_EDGE_MAX


QUANTITIES = {
    "centroid": lambda post: (
        (post["F"] * post["Ek"]).where(pre_edge_mask(post), 0).sum("gaussian")
        / post["F"].where(pre_edge_mask(post), 0).sum("gaussian")
    ),
    "area": lambda post: post["F"].where(pre_edge_mask(post), 0).sum("gaussian"),
    "E_main": f"Ek[{MAIN}]",
    "F_main": f"F[{MAIN}]",
}
fit = PreEdgeFit(cumulative[-1])
labels = iter(f"step{n}" for n in range(1, 6))
curve = precision_curve(
    lambda ds: fit.build(ds, next(labels)), cumulative, QUANTITIES, sample=fit.sample,
    random_seed=20,
)  # fmt: skip
curve.to_netcdf(OUTPUT / "curve.nc")
print(curve[["mean", "sd", "sd_mcse"]].to_dataframe().to_string())

# %%
if NUTS_CHECK:
    check = precision_curve(
        fit.build, [cumulative[-1]], QUANTITIES, sample=fit.nuts, random_seed=50
    )  # fmt: skip
    check = check.assign_coords(step=[5])
    check.to_netcdf(OUTPUT / "nuts_check.nc")
    ratio = check["sd"] / curve["sd"].sel(step=[5])
    print("NUTS sd / Laplace sd:\n", ratio.to_pandas().to_string())
    print("NUTS divergences:", check["divergences"].values, "min ESS", float(check["ess"].min()))

# %% [markdown]
# Residuals: the Pearson residuals (N − λ)/√λ, λ the posterior mean of the expected
# counts (the posterior median of each parameter is no point of the posterior: H, Γ
# and E0 are strongly correlated), show how well the
# smooth model describes the counts; with a model that fits, χ²/dof ≈ 1 at every step.
# The √t scaling of the sd is measured by sd·√t, constant for pure counting statistics.

# %%
residual_rows = []
for n, ds in enumerate(cumulative, start=1):
    post = xr.load_dataset(OUTPUT / f"posterior_step{n}.nc")
    rate = posterior_rate(ds, post)
    chi2 = float((((ds["counts"].values - rate) / np.sqrt(rate)) ** 2).sum())
    residual_rows.append(
        {
            "step": n,
            "counts": int(ds["counts"].sum()),
            "chi2_per_dof": chi2 / (n_points - 5 - 3 * K),
        }
    )
residuals = pd.DataFrame(residual_rows)
t = curve["exposure"].values
scaled = (curve["sd"] * np.sqrt(curve["exposure"])).to_pandas().T
stops = {}
for q in QUANTITIES:
    stops[q] = {
        "plateau": stopping_point(curve, q, plateau_rtol=PLATEAU_RTOL, window=PLATEAU_WINDOW)
    }
stops["centroid"]["target"] = stopping_point(curve, "centroid", target_sd=TARGET_CENTROID_SD)
for q, found in stops.items():
    for kind, point in found.items():
        print(f"{q:9s} {kind:8s}: {point}")
residuals = residuals.join(scaled.reset_index(drop=True).add_prefix("sd_sqrt_t_"))
residuals.to_csv(OUTPUT / "residuals.csv", index=False)
print(residuals.to_string())

# %% [markdown]
# ## Each scan alone (full run)
#
# If the scans were repeats, the per-scan posterior means would scatter by about their
# posterior sds (χ² of the scatter ≈ number of scans − 1). The full run fits each scan
# alone with the same model and sampler.

# %%
if PER_SCAN:
    per_mean = np.full((len(QUANTITIES), len(single)), np.nan)
    per_sd = np.full_like(per_mean, np.nan)
    for j, ds in enumerate(single):
        fit.start = START
        try:
            one = precision_curve(
                fit.build, [ds], QUANTITIES, sample=fit.sample, random_seed=40 + j
            )
        except ValueError as error:  # e.g. a feature's area at zero: no interior mode
            print(f"scan {j + 1} ({table['file'][j]}) not fitted: {error}")
            continue
        per_mean[:, j], per_sd[:, j] = one["mean"].values[:, 0], one["sd"].values[:, 0]
    per_scan = xr.Dataset(
        {"mean": (("quantity", "step"), per_mean), "sd": (("quantity", "step"), per_sd)},
        coords={"quantity": list(QUANTITIES), "step": np.arange(1, len(single) + 1)},
    ).assign_coords(file=("step", table["file"].values))
    per_scan.to_netcdf(OUTPUT / "per_scan.nc")
    for q in QUANTITIES:
        m, s = per_scan["mean"].sel(quantity=q).values, per_scan["sd"].sel(quantity=q).values
        ok = np.isfinite(m)
        m, s = m[ok], s[ok]
        weighted = np.sum(m / s**2) / np.sum(1 / s**2)
        print(
            f"{q}: per-scan means {np.round(m, 4)}, sds {np.round(s, 5)}; scatter sd "
            f"{m.std(ddof=1):.4g}, χ² of the scatter {np.sum(((m - weighted) / s) ** 2):.3g} "
            f"on {m.size - 1} dof"
        )

# %% [markdown]
# ## Planning before the experiment
#
# From the 5-scan posterior median, measurements are simulated at planned exposures
# (in mean-scan equivalents): Poisson counts with the 5-scan exposure profile scaled
# to the planned exposure. The posterior sd of each is found with the same model and
# sampler (`predict_precision`), the law sd = e^a t^b and the floor δ of
# sd² = c²/t + δ² are fitted (`precision_law`), and `required_exposure` inverts it to
# the exposure for the target. The independent check: the real scans' sd after n
# accumulated scans against the prediction at the same exposure.

# %%
post5 = xr.load_dataset(OUTPUT / "posterior_step5.nc")
truth = {name: post5[name].median(("chain", "draw")).values for name in NAMES}
base = cumulative[-1]
profile = base["exposure"].values / float(base.attrs["exposure"])  # per mean-scan
rate_per_scan = profile * (base["offset"].values + xanes.forward(base["energy"].values, **truth))


def simulate(exposure: float, rng: np.random.Generator) -> xr.Dataset:
    """Poisson counts of the 5-scan posterior-median spectrum at ``exposure`` mean scans."""
    ds = base[["offset"]].copy()
    ds["counts"] = ("energy", rng.poisson(exposure * rate_per_scan))
    ds["exposure"] = ("energy", exposure * profile)
    return ds


fit.start = {k: np.asarray(v) for k, v in truth.items()}
prediction = predict_precision(
    simulate, fit.build, PLANNED, QUANTITIES, repeats=REPEATS, sample=fit.sample, random_seed=30
)  # fmt: skip
prediction.to_netcdf(OUTPUT / "prediction.nc")
plan_rows = []
for q in QUANTITIES:
    law = precision_law(prediction, q)
    predicted = np.exp(law.a + law.b * np.log(t))
    measured = curve["sd"].sel(quantity=q).values
    row = {"quantity": q, "a": law.a, "b": law.b, "scale": law.scale, "floor": law.floor}
    row |= {f"ratio_{n}": r for n, r in enumerate(measured / predicted, start=1)}
    # the largest planned exposure carried to the measured ones by √t (asymptotic regime)
    t_max = float(prediction["exposure"].max())
    at_max = prediction["sd"].sel(quantity=q, exposure=t_max).mean("repeat").item()
    row |= {f"ratio_sqrt_{n}": r for n, r in enumerate(measured / (at_max * np.sqrt(t_max / t)), 1)}
    plan_rows.append(row)
plan = pd.DataFrame(plan_rows).set_index("quantity")
try:
    needed = required_exposure(prediction, "centroid", TARGET_CENTROID_SD)
    message = ""
except ValueError as error:
    needed, message = np.nan, str(error)
plan["target_sd"] = np.nan
plan.loc["centroid", "target_sd"] = TARGET_CENTROID_SD
plan["required_exposure"] = np.nan
plan.loc["centroid", "required_exposure"] = needed
plan.to_csv(OUTPUT / "plan.csv")
print(plan.to_string())
print(f"exposure for a centroid sd of {TARGET_CENTROID_SD} eV: {needed:.3g} mean scans {message}")

# %%
summary = {
    "K": K,
    "quick": QUICK,
    "centroid_5": float(curve["mean"].sel(quantity="centroid", step=5)),
    "centroid_sd_5": float(curve["sd"].sel(quantity="centroid", step=5)),
    "target_step": stops["centroid"]["target"].step,
    "required_exposure": needed,
    "chi2_per_dof_1": residuals["chi2_per_dof"].iloc[0],
    "chi2_per_dof_5": residuals["chi2_per_dof"].iloc[-1],
    "wall_time_s": time.perf_counter() - started,
}
for q in QUANTITIES:
    summary[f"plateau_step_{q}"] = stops[q]["plateau"].step
pd.Series(summary).to_csv(OUTPUT / "summary.csv", header=["value"])
print(pd.Series(summary).to_string())

# %% tags=["figures"]
fig, axes = plt.subplots(
    2, 2, figsize=(11, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
)  # fmt: skip
for column, n in enumerate((1, 5)):
    data = xr.load_dataset(OUTPUT / f"data_{n}.nc")
    post = xr.load_dataset(OUTPUT / f"posterior_step{n}.nc")
    xanes.plot_fit(axes[0, column], data, post)
    axes[0, column].set_title(f"{n} scan{'s' if n > 1 else ''} accumulated")
    stacked = post.stack(sample=("chain", "draw"))
    values = {name: stacked[name].transpose("sample", ...).values[::10] for name in NAMES}
    mu = xanes.forward(data["energy"].values, **values).mean(axis=0)
    rate = data["exposure"].values * (data["offset"].values + mu)
    axes[1, column].plot(data["energy"], (data["counts"] - rate) / np.sqrt(rate), ".", ms=3)
    axes[1, column].axhline(0, color="k", lw=0.8)
    axes[1, column].set_xlabel("energy [eV]")
    axes[1, column].set_ylabel("Pearson residual")
fig.tight_layout()
fig.savefig(OUTPUT / "fit.png", dpi=120)

# %% tags=["figures"]
curve = xr.load_dataset(OUTPUT / "curve.nc")
prediction = xr.load_dataset(OUTPUT / "prediction.nc")
fig, axes = plt.subplots(1, 4, figsize=(15, 3.8))
for ax, q in zip(axes, curve["quantity"].values, strict=True):
    t = curve["exposure"].values
    sd = curve["sd"].sel(quantity=q).values
    ax.errorbar(
        t, sd, yerr=2 * curve["sd_mcse"].sel(quantity=q).values, fmt="o", label="real scans"
    )
    ax.plot(t, sd[0] * np.sqrt(t[0] / t), "k--", lw=1, label="1/√t from step 1")
    planned = prediction["sd"].sel(quantity=q)
    for r in planned["repeat"].values:
        ax.plot(prediction["exposure"], planned.sel(repeat=r), "s", color="C1", ms=4, alpha=0.7,
                label="planning (simulated)" if r == 0 else None)  # fmt: skip
    if q == "centroid":
        ax.axhline(TARGET_CENTROID_SD, color="C3", ls=":", label="target")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("accumulated exposure [mean scans]")
    ax.set_ylabel(f"posterior sd of {q} [{UNITS[str(q)]}]")
axes[0].legend(fontsize="small")
fig.tight_layout()
fig.savefig(OUTPUT / "precision.png", dpi=120)

# %% tags=["figures"]
curve = xr.load_dataset(OUTPUT / "curve.nc")
fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
for ax, q in zip(axes, ("centroid", "E_main"), strict=True):
    m, s = curve["mean"].sel(quantity=q), curve["sd"].sel(quantity=q)
    ax.errorbar(curve["n_scans"], m, yerr=s, fmt="o-", capsize=3, label="accumulated 1..n")
    if (OUTPUT / "per_scan.nc").exists():
        per = xr.load_dataset(OUTPUT / "per_scan.nc")
        ax.errorbar(per["step"] + 0.15, per["mean"].sel(quantity=q), yerr=per["sd"].sel(quantity=q),
                    fmt="s", color="C1", capsize=3, label="scan n alone")  # fmt: skip
    ax.set_xlabel("scan number (measurement order)")
    ax.set_ylabel(f"{q} [eV] (mean ± sd)")
    ax.legend(fontsize="small")
fig.tight_layout()
fig.savefig(OUTPUT / "per_scan.png", dpi=120)

# %% [markdown]
# ## Results of the full run
#
# Full run: `BAYESMEAS_OUTPUT=/work/tmp/s17/stop/full nice .venv/bin/python
# case_studies/fexanes_repeated_scans.py` (from `case_studies/`), 2 shared cores,
# 2 min 51 s wall (of which NUTS 134 s). Measurement order b, d, e, c, a (start times
# 16:16–20:20); FocusZ 53.85, 53.85, 53.49, 53.49, 54.33 mm; edge steps 0.197, 0.202,
# 0.355, 0.102, 0.292; 3.8·10⁷ counts in the window after one scan, 1.9·10⁸ after five.
#
# **K.** Least-squares χ²/dof on the 5-scan sum: 1023, 542, 73.5, 12.5 and 3.9 for
# K = 1…5; K = 5 splits the main feature (centres 0.27 eV apart, unresolved), so K = 4
# (centres 7109.58, 7111.44, 7112.97 and 7115.20 eV, the last being the edge shoulder).
#
# **Posterior sd after 1…5 scans** (Laplace, 4 × 1000 draws; sd ± MCSE ≤ 1.2 %):
#
# | n | t | centroid [eV] | sd | area | sd | main centre [eV] | sd | χ²/dof |
# |---|---|---|---|---|---|---|---|---|
# | 1 | 0.84 | 7111.711 | 0.0098 | 0.0819 | 0.0023 | 7111.349 | 0.0039 | 12.5 |
# | 2 | 1.70 | 7111.680 | 0.0079 | 0.0723 | 0.0013 | 7111.340 | 0.0025 | 16.9 |
# | 3 | 3.25 | 7111.743 | 0.0064 | 0.0751 | 0.0013 | 7111.344 | 0.0024 | 28.9 |
# | 4 | 3.69 | 7111.737 | 0.0042 | 0.0744 | 0.0008 | 7111.346 | 0.0023 | 29.0 |
# | 5 | 5.00 | 7111.654 | 0.0023 | 0.0850 | 0.0004 | 7111.440 | 0.0010 | 12.8 |
#
# (n scans, exposure t in mean-scan equivalents; area in edge-step·eV.) sd·√t of the centroid is
# 0.0089, 0.0103, 0.0115, 0.0080, 0.0052 eV: **not** constant, and the posterior means
# move by 5–40 of their sds from step to step (the main feature's area jumps from
# 0.054 to 0.070 when scan a is added). χ²/dof stays at 12–29: the smooth 4-Gaussian
# model leaves structure at the main feature (Pearson residuals up to ±10 at
# 7111–7112 eV, figure above), and the sums mix spectra of different shape.
#
# **Stopping.** The 0.05 eV centroid target is met by the first scan (sd 0.0098 eV);
# the plateau rule (fall < 5 % per step over 2 steps) finds a plateau only for the main
# centre (step 2: 0.0039 → 0.0025 → 0.0024 → 0.0023 eV) and none for the centroid and
# the areas. That plateau is not a systematic floor of the article's kind: the sd falls
# again (to 0.0010 eV) when scan a is added; it reflects scans e and c, whose
# pre-edge differs from b and d.
#
# **NUTS check (step 5).** NUTS (2 × 1000 after 1000 tuning) reached a bulk ESS of only
# 2.6–5.7 without divergences; its sds are 0.65–1.18 of Laplace's. NUTS does not mix
# on this 10⁸-count posterior in that budget (the H–Γ–E0 edge ridge), so it does not
# check the Laplace sds; the independent check is the Cramér–Rao sd (test): Poisson
# Fisher information plus prior curvature at the 5-scan posterior gives 0.00234 eV
# (centroid), 0.000367 (area), 0.000989 eV (main centre), 0.000178 (main area), i.e.
# Laplace/Cramér–Rao = 0.986, 0.986, 1.009, 0.958.
#
# **Each scan alone.** Scans c and a could not be fitted with K = 4 (no interior mode:
# a feature's area goes to zero; their pre-edges differ, scan a with a strong peak near
# 7112.3 eV). Of b, d and e, the per-scan centroids are 7111.711 ± 0.009,
# 7111.666 ± 0.012 and 7111.786 ± 0.057 eV, main areas 0.0615 ± 0.0011,
# 0.0532 ± 0.0009 and 0.0376 ± 0.0008: χ² of the scatter 11.1 (centroid), 47 (area),
# 20.8 (main centre) and 337 (main area) on 2 dof. Even b and d, taken at the same
# focus 31 min apart, differ by 6 sd in the main area. **The scans are not repeats**,
# and the statistical sd (0.002–0.01 eV) is far below the scan-to-scan scatter of the
# centroid (0.06 eV).
#
# **Planning.** Simulated at 0.01, 0.05, 0.25, 1 and 4 mean scans (2 repeats each), the
# centroid sd is 0.088/0.289, 0.234/0.028, 0.0116/0.0135, 0.0064/0.0054,
# 0.0029/0.0030 eV: below ~0.25 scans (10⁷ counts) the weak features are not
# determined and single measurements scatter by factors of 3–8, so the fitted power
# b = −0.77 (centroid; −0.65 to −1.02 for the others) is steeper than −1/2. Inverted,
# the 0.05 eV target needs 0.097 mean scans (0.1 s per point), 7 times the asymptotic
# Cramér–Rao answer (0.014 scans), which does not hold at ~10⁶ counts. Checked against
# the real curve: the sd at 4 planned scans carried by √t to the real 5-scan exposure
# gives measured/predicted = 0.88 (centroid), 0.84 (area), 0.99 (main centre),
# 0.87 (main area); at 1–4 scans the real sds are 1.4–2.4 times the prediction, because
# the earlier sums are other spectra than the 5-scan one the simulation starts from.
#
# ## Paper against ours
#
# | quantity | Mizumaki's article / literature | ours | agreement |
# |---|---|---|---|
# | sd levels off | ~20 of 136 cycles | main centre: 2 of 5 scans; others: no | not a floor |
# | target reached | ±0.01 μ_B: ~6 cycles | 0.05 eV centroid: 1 scan | method only |
# | time saved | ~1/20 | 0.1 scan for 0.05 eV (plan) | statistical only |
# | pre-edge centroid [eV] | 7112.1 (Fe²⁺)–7113.5 (Fe³⁺) | 7111.65 ± 0.06 | 0.45 eV low |
# | sd ∝ 1/√t | where the model fits | 5 scans: Cramér–Rao ± 4 % | where it applies |
#
# Reasons: (1) the five files are three sample positions with visibly different
# spectra (edge positions 7117.9–7119.9 eV, pre-edge heights), so accumulating them is
# not accumulating repeats; the sd curve then measures how well each *sum* is fitted,
# not the precision of one spectrum, and no plateau of the article's kind (the model's
# misfit dominating a *stationary* signal) can appear. (2) With 10⁷–10⁸ counts the
# statistical sd is tiny and χ²/dof of 12–29 shows model misfit: the honest
# uncertainty of the pre-edge centroid is the scan-to-scan scatter, ~0.06 eV. (3) The
# files carry no Fe-foil reference (the I2 channel is empty), so the absolute energy
# scale, and with it the comparison with Wilke et al.'s centroids, is uncertain by
# several tenths of an eV; the main feature at 7111.4 eV and the centroid 7111.65 eV
# point to a mostly Fe²⁺ sample or a calibration offset. (4) The article gives no
# numbers for XANES; its stopping claims are for magnetic Compton profiles.
