# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Which hyperfine Hamiltonian? ⁵⁷Fe Mössbauer spectra by Bayesian free energy
#
# Moriguchi, Tsutsui, Katakami, Nagata, Mizumaki and Okada (JPSJ 91, 104002 (2022),
# arXiv:2205.09188) ask: **can the hyperfine Hamiltonian of a Mössbauer
# spectrum — which of the isomer shift, quadrupole and magnetic (Zeeman) terms are
# present — be chosen from the spectrum by the Bayesian free energy
# F = −log p(D | H), instead of by an expert reading the line shapes, and are the
# physical parameters then recovered with their uncertainties?** A transmission
# spectrum is computed from the full hyperfine Hamiltonian of ⁵⁷Fe (ground I = 1/2,
# excited I = 3/2: isomer shift δ, quadrupole coupling A and asymmetry η, hyperfine
# field B at angles θ, φ to the field gradient), and the Hamiltonian is chosen among
#
# | variant | terms | lines |
# |---|---|---|
# | singlet | H_c | 1 |
# | doublet | H_c + H_Q | 2 |
# | sextet | H_c + H_M | 6 |
# | full | H_c + H_Q + H_M | up to 8 |
#
# The reader will see three data sets:
#
# 1. synthetic **magnetite at 300 K** (two sextets, the example of this work), at
#    several count levels: the posteriors of B, δ and the B:A area ratio against the
#    truth, the selection as the counts grow, and F checked by the Laplace
#    approximation;
# 2. a real **α-Fe** spectrum (raw multichannel counts, not velocity calibrated),
#    where the calibration is part of the model;
# 3. a real **oxyhaemoglobin** spectrum (velocity calibrated), a quadrupole doublet;
#
# then the paper against ours. The real spectra are teaching-lab data from the public
# repository [bartek-krk/MS_data](https://github.com/bartek-krk/MS_data) (`moss.csv`,
# `oxy.csv`; AGH Kraków, 2020); they are read from `../shared/data/real/` with the
# module's loader and the sections that use them are skipped when that folder is
# absent.
#
# `BAYESMEAS_QUICK=1` runs small sampler settings, one count level and two candidates
# per data set (the test suite does this); the numbers quoted in the text are from the
# full run (`nice .venv/bin/python case_studies/mossbauer_hamiltonian_selection.py`).

# %%
import os
import time
from pathlib import Path

import arviz_plots as azp
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import xarray as xr
from pymc.blocking import DictToArrayBijection
from scipy import optimize

from measurement_models import mossbauer as mb
from measurement_models.parameters import transformed_point
from samplers import (
    ReplicaExchangeSettings,
    default_ladder,
    first_level_for_gap,
    plot_model_selection,
    select_model,
)
from samplers.app.case_studies import real_data_dir

QUICK = os.environ.get("BAYESMEAS_QUICK") == "1"
if QUICK:
    print(
        "quick run: select_model's reliability checks are off (runs this short rarely make "
        "replica round trips, so every F would be flagged); the full run applies them"
    )
OUTPUT = Path(os.environ.get("BAYESMEAS_OUTPUT", "results/mossbauer_hamiltonian_selection"))
OUTPUT.mkdir(parents=True, exist_ok=True)
REAL = real_data_dir()
FE_PATH, OXY_PATH = REAL / "alpha_fe_moss.csv", REAL / "oxyhaemoglobin_moss.csv"
started = time.perf_counter()
# Replica exchange (componentwise Metropolis), one ladder per chain. The ladder starts at
# β₁ = 1/(total counts) (`first_level_for_gap`: the log-likelihood gap between prior and
# posterior is of the order of the total counts): a count spectrum's likelihood is so
# sharp that the default first level 1e-4 would not overlap with the prior.
N_REPLICAS, DRAWS, CHAINS = (16, 300, 2) if QUICK else (40, 1500, 4)
CORES = 1 if QUICK else None  # quick: no worker processes to start
# magnetite count levels N∞; quick: one level and the two variants that matter there
# (every variant is one more numba compile on a fresh machine)
LEVELS = (1e3,) if QUICK else (1e2, 3e2, 1e3, 1e4, 1e5)
MAGNETITE_VARIANTS = ("doublet", "sextet") if QUICK else mb.VARIANTS
FE_VARIANTS = ("doublet", "sextet") if QUICK else mb.VARIANTS
OXY_VARIANTS = ("singlet", "doublet") if QUICK else mb.VARIANTS
MAGNETITE = mb.REFERENCES["magnetite_300k"]  # the simulation truth
MAGNETITE_TRUTH = {
    "B_hf": tuple(MAGNETITE.params["B_hf"]),
    "delta": tuple(MAGNETITE.params["delta"]),
    "ratio": 1.9,
}


def select(data, variants, label, **build):
    """Free-energy selection among Hamiltonian variants of one data set."""
    settings = ReplicaExchangeSettings(
        draws=DRAWS,
        tune=DRAWS,
        chains=CHAINS,
        cores=CORES,
        n_replicas=N_REPLICAS,
        extra={"betas": default_ladder(N_REPLICAS, first_level_for_gap(float(data.counts.sum())))},
    )
    result = select_model(
        {
            v: (lambda v=v: mb.build_model(data, variant=v, mutable_data=True, **build))
            for v in variants
        },
        "replica_exchange",
        settings=settings,
        dim="hamiltonian",
        random_seed=2205,
        progressbar=False,
        check_reliability=not QUICK,  # quick runs are too short for round trips
        path=OUTPUT / f"{label}.nc",
    )
    table = result.to_dataset(inherit=False)
    print(
        table[["free_energy", "free_energy_mcse", "delta_free_energy", "probability"]]
        .to_dataframe()
        .round(2)
    )
    print(table.attrs["decision"], f"[{table.attrs['wall_time_s']} s]")
    return result, table


def summary(values, digits=3):
    return f"{float(values.mean()):.{digits}f} ± {float(values.std()):.{digits}f}"


def fit_and_selection(data, label, variant, title, **plot):
    """Data with the posterior band of one variant, and F of every candidate."""
    result = xr.open_datatree(OUTPUT / f"{label}.nc")
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
    mb.plot_fit(axes[0], data, result[f"candidates/{variant}/posterior"].to_dataset(), **plot)
    axes[0].set_ylabel("counts per channel")
    axes[0].set_title(title)
    plot_model_selection(result, ax=axes[1])
    fig.savefig(OUTPUT / f"{label}.png", dpi=120)


# %%
print(mb.PARAMETERS.to_markdown())

# %% [markdown]
# ## The Hamiltonian against known numbers
#
# α-Fe at room temperature has B = 33.0 T and δ = 0 by definition (isomer shifts are
# quoted against it); its six lines lie at ±5.31, ±3.08, ±0.84 mm/s with areas
# 3:2:1:1:2:3 in a powder (`mb.REFERENCES["alpha_fe"]`). Constants: g_g μ_N = 0.11867
# and g_e μ_N = −0.06776 mm/s/T, the values implied by that calibration standard (see the
# module docstring for why not the nuclear moments' rounded 0.1186/0.0677).

# %%
alpha_lines, alpha_areas = mb.observable_lines(33.0)
print("α-Fe lines [mm/s]:", np.round(alpha_lines, 3))
print("areas × 12:       ", np.round(alpha_areas * 12, 3))
assert np.allclose(np.round(alpha_lines, 2), [-5.31, -3.08, -0.84, 0.84, 3.08, 5.31])

# %% [markdown]
# ## 1. Synthetic magnetite at 300 K
#
# Rounded literature values of room-temperature Fe₃O₄ (`mb.REFERENCES["magnetite_300k"]`,
# with its source): tetrahedral A site B = 49 T, δ = 0.27 mm/s; octahedral B site
# B = 46 T, δ = 0.67 mm/s; area ratio B:A = 1.9; no quadrupole shift. Widths
# Γ = 0.30 mm/s, absorption area ε = 0.5 mm/s and the ±10 mm/s grid of 256 points are
# our choice. The count level is the off-resonance
# count per channel N∞ (the noise is Poisson). Every model has two sites; the two sites
# have the same prior, so the posterior is symmetric under swapping them and we sort
# the sites of each draw by δ (A first) before summarising.

# %%
magnetite = {}
for level in LEVELS:
    data = mb.simulate_magnetite(level, rng=300)
    data.to_netcdf(OUTPUT / f"magnetite_{level:.0e}_data.nc")
    print(f"\n--- magnetite, N∞ = {level:.0e} counts per channel ---")
    magnetite[level] = (
        data,
        *select(data, MAGNETITE_VARIANTS, f"magnetite_{level:.0e}", n_sites=2),
    )

# %%
rows = []
for level, (_, result, table) in magnetite.items():
    posterior = mb.relabel_sites(result["candidates/sextet/posterior"].to_dataset())
    draws = posterior.stack(s=("chain", "draw"))
    ratio = draws["fraction"].isel(site=1) / draws["fraction"].isel(site=0)
    free, mcse = table["free_energy"], table["free_energy_mcse"]

    def gap(variant, free=free, mcse=mcse):
        if variant not in MAGNETITE_VARIANTS:
            return np.nan, np.nan
        pair = free.sel(hamiltonian=[variant, "sextet"])
        return float(pair[0] - pair[1]), float(np.hypot(*mcse.sel(hamiltonian=[variant, "sextet"])))

    row = {"N_inf": level, "chosen": table.attrs["chosen"], "best": table.attrs["best"]}
    for variant in ("full", "doublet"):
        row[f"F_{variant}-F_sextet"], row[f"F_{variant}-F_sextet_mcse"] = gap(variant)
    for name, values in (
        ("B_A", draws["B_hf"].isel(site=0)),
        ("B_B", draws["B_hf"].isel(site=1)),
        ("delta_A", draws["delta"].isel(site=0)),
        ("delta_B", draws["delta"].isel(site=1)),
        ("ratio", ratio),
    ):
        row[f"{name}_mean"], row[f"{name}_sd"] = float(values.mean()), float(values.std())
    rows.append(row)
magnetite_table = pd.DataFrame(rows)
magnetite_table.to_csv(OUTPUT / "magnetite.csv", index=False)
print(magnetite_table.round(3).to_markdown(index=False))
print("truth: B = 49, 46 T; δ = 0.27, 0.67 mm/s; area B:A = 1.9")

for level, (data, result, table) in magnetite.items():
    if level >= 1e3:
        assert table.attrs["best"] == "sextet", (level, table.attrs["decision"])
    posterior = mb.relabel_sites(result["candidates/sextet/posterior"].to_dataset())
    for name in ("B_hf", "delta"):
        mean = posterior[name].mean(("chain", "draw")).values
        sd = posterior[name].std(("chain", "draw")).values
        assert np.all(np.abs(mean - data.attrs[f"truth_{name}"]) < 5 * sd + 0.02), (level, name)

# %% [markdown]
# What the full run gives (40 replicas, 4 chains × 1500 draws; F ± MCSE in nats; posterior
# mean ± sd of the sextet model):
#
# | N∞ | chosen | F_full − F_sextet | F_doublet − F_sextet | B_A [T] | B_B [T] | area B:A |
# |---|---|---|---|---|---|---|
# | 1e2 | (full) | −0.39 ± 0.18 | 11 | 54 ± 13 | 61 ± 17 | — |
# | 3e2 | undecided | 0.70 ± 0.49 | 36 | 49.4 ± 3.1 | 55 ± 14 | 1.45 ± 0.81 |
# | 1e3 | sextet | 4.25 ± 0.22 | 154 | 48.87 ± 0.13 | 46.11 ± 0.10 | 1.65 ± 0.44 |
# | 1e4 | sextet | 5.21 ± 0.34 | 1824 | 48.98 ± 0.06 | 46.04 ± 0.03 | 1.63 ± 0.15 |
# | 1e5 | sextet | 13.3 ± 3.3 | 18965 | 49.00 ± 0.02 | 46.01 ± 0.01 | 1.81 ± 0.05 |
#
# The magnetic splitting is decisive at every level, by a margin that grows like the
# counts. Whether a quadrupole term is present is not: the Occam factor that the full
# Hamiltonian pays for A, η, θ, φ grows only like the logarithm of the counts (the
# posterior of A narrows like 1/√N∞ inside its prior), so at 100 counts per channel
# sextet and full are tied (p = 0.4 and 0.6: the full model is "chosen" by 0.4 nats,
# which is no evidence either way) and at 300 counts undecided; from 10³ counts the
# sextet wins by 4–13 nats. At 10² and 3×10² counts the B site is not resolved (broad,
# multimodal B). From 10³ counts B and δ of both sites contain the truth within 2 sd.
# The area ratio's posteriors are 1.8 sd below 1.9 at 10⁴ and 10⁵ counts for this noise
# realisation (seed 300); maximum-likelihood ratios at 10⁵ counts over five seeds are
# 1.81–1.93 (mean 1.87, each ± 0.05), so this is noise, not a bias.
#
# The figures: the spectrum at the highest count level with the sextet's posterior
# median and 94 % band and the truth (dashed), the free energies of the candidates,
# the posteriors of B and δ of both sites against the truth (as the lecture slides on
# this work show them, true values marked), and the free-energy gaps against N∞.

# %% tags=["figures"]
top = f"magnetite_{LEVELS[-1]:.0e}"
fit_and_selection(
    xr.open_dataset(OUTPUT / f"{top}_data.nc"),
    top,
    "sextet",
    f"magnetite, N∞ = {LEVELS[-1]:.0e}, sextet fit",
)

# %% tags=["figures"]
posterior = mb.relabel_sites(
    xr.open_datatree(OUTPUT / f"{top}.nc")["candidates/sextet/posterior"].to_dataset()
)
posterior = posterior.assign_coords(site=["A", "B"])
plots = azp.plot_dist(
    posterior,
    var_names=["B_hf", "delta"],
    kind="kde",
    backend="matplotlib",
    figure_kwargs={"figsize": (12, 3)},
)
truth = xr.Dataset(
    {name: ("site", list(MAGNETITE_TRUTH[name])) for name in ("B_hf", "delta")},
    coords={"site": ["A", "B"]},
)
azp.add_lines(plots, truth, visuals={"ref_line": {"color": "k", "linestyle": "--"}})
units = {"B_hf": ("B_hf [T]", "[1/T]"), "delta": ("δ [mm/s]", "[s/mm]")}
for name, titles in plots.viz["title"].data_vars.items():
    for text in titles.values.ravel():
        text.axes.set_xlabel(units[name][0])
        text.axes.set_ylabel(f"posterior density {units[name][1]}")
figure = plots.viz["title"]["B_hf"].values.ravel()[0].figure
figure.suptitle(f"magnetite, N∞ = {LEVELS[-1]:.0e}: sextet posterior (dashed: truth)", y=1.15)
figure.savefig(OUTPUT / "magnetite_posterior.png", dpi=120, bbox_inches="tight")

# %% tags=["figures"]
saved = pd.read_csv(OUTPUT / "magnetite.csv")
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), layout="constrained")
for variant, color in (("doublet", "C0"), ("full", "C1")):
    axes[0].errorbar(
        saved["N_inf"],
        saved[f"F_{variant}-F_sextet"],
        yerr=2 * saved[f"F_{variant}-F_sextet_mcse"],
        fmt="o-",
        color=color,
        capsize=3,
        label=f"F_{variant} − F_sextet (±2 MCSE)",
    )
axes[0].axhline(0.0, color="0.5", lw=0.8)
largest = np.nanmax(saved[["F_doublet-F_sextet", "F_full-F_sextet"]].to_numpy())
axes[0].set(
    xscale="log",
    yscale="symlog",
    ylim=(-3, 5 * max(1.0, largest)),
    xlabel="off-resonance counts per channel N∞ [counts]",
    ylabel="free-energy gap [nats]",
    title="> 0: the sextet is preferred",
)
axes[0].legend(fontsize="small")
axes[1].errorbar(saved["N_inf"], saved["ratio_mean"], yerr=saved["ratio_sd"], fmt="o", capsize=3)
axes[1].axhline(MAGNETITE_TRUTH["ratio"], color="k", ls="--", lw=1, label="truth 1.9")
axes[1].set(
    xscale="log",
    xlabel="off-resonance counts per channel N∞ [counts]",
    ylabel="area ratio B:A [dimensionless]",
    title="posterior mean ± sd of the area ratio",
)
axes[1].legend(fontsize="small")
fig.savefig(OUTPUT / "magnetite_levels.png", dpi=120)

# %% [markdown]
# ### An independent check of F: the Laplace approximation
#
# At 10³ counts and above the sextet posterior is close to Gaussian around each of its
# two equivalent modes (the two sites' labels), so
# F ≈ −log p(D, θ*) − (d/2) log 2π + ½ log det H − log 2, with θ* the mode in PyMC's
# unconstrained space and H the Hessian of −log p(D, θ) there (central second
# differences). It shares nothing with the sampler but the model's log-density (the
# compiled gradient is not used: its numba compilation would cost a minute on a fresh
# machine).
#
# Full run: 1298.29, 1604.85 and 1909.90 at 10³, 10⁴ and 10⁵ counts, against replica
# exchange's 1298.30 ± 0.15, 1605.04 ± 0.31 and 1910.24 ± 0.38.

# %%
laplace_rows = []
for level in (
    [lv for lv in LEVELS if lv >= 1e3][-1:] if QUICK else [lv for lv in LEVELS if lv >= 1e3]
):
    data, result, table = magnetite[level]
    model = mb.build_model(data, variant="sextet", n_sites=2, mutable_data=True)
    logp = model.compile_logp()
    truth = {k: data.attrs[f"truth_{k}"] for k in ("delta", "gamma", "B_hf", "fraction", "epsilon")}
    truth["baseline"] = data.attrs["truth_baseline"]
    start = transformed_point(model, truth)  # the truth in unconstrained coordinates
    layout = DictToArrayBijection.map(start)

    def energy(x, logp=logp, layout=layout):
        return -logp(DictToArrayBijection.rmap(layout._replace(data=x)))

    mode = optimize.minimize(energy, layout.data, jac="3-point", method="BFGS")
    step = 1e-4 * np.eye(mode.x.size)
    hessian = np.array(
        [
            [
                (
                    energy(mode.x + a + b)
                    - energy(mode.x + a - b)
                    - energy(mode.x - a + b)
                    + energy(mode.x - a - b)
                )
                / (4e-8)
                for b in step
            ]
            for a in step
        ]
    )
    laplace_f = (
        mode.fun
        - mode.x.size / 2 * np.log(2 * np.pi)
        + np.linalg.slogdet((hessian + hessian.T) / 2)[1] / 2
        - np.log(2)
    )
    sampled_f = float(table.free_energy.sel(hamiltonian="sextet"))
    sampled_mcse = float(table.free_energy_mcse.sel(hamiltonian="sextet"))
    laplace_rows.append(
        {"N_inf": level, "laplace": laplace_f, "sampled": sampled_f, "sampled_mcse": sampled_mcse}
    )
    print(
        f"N∞ = {level:.0e}: Laplace F(sextet) = {laplace_f:.2f}; replica exchange "
        f"{sampled_f:.2f} ± {sampled_mcse:.2f}"
    )
    assert abs(sampled_f - laplace_f) < (5.0 if QUICK else 1.0)
pd.DataFrame(laplace_rows).to_csv(OUTPUT / "laplace.csv", index=False)

# %% [markdown]
# ## 2. Real α-Fe foil, raw channels
#
# 256 channels, counts ≈ 4400 off resonance, one sextet. The velocity of channel c is
# v = v₀ + s (c − 128.5), with v₀ and s parameters of the model. **What fixes the
# scale.** For a single sextet every velocity (line positions, width, offset) scales
# with s, so the data determine B/s, Γ/s and v₀/s but not s and B separately. We take
# the drive's nominal range as ±10 mm/s (a common setting, *not* stated in the source
# repository: an assumption) and give s a log-normal prior of 5 % width around
# 20/255 mm/s per channel. α-Fe also defines δ = 0, so δ is fixed and v₀ is the
# source's offset.
#
# What is and is not recovered: the Hamiltonian (sextet) and the line-spacing ratio are
# properties of the data alone; B in tesla is only as good as the ±10 mm/s assumption
# (its posterior width *is* the 5 % prior width). Read the other way round, as
# Mössbauer labs do: with α-Fe's B = 33.0 T as the standard, the spectrum calibrates
# the drive.
#
# Full run: the sextet is chosen (F_full − F_sextet = 3.35 ± 0.30, the doublet 527 and the
# singlet 708 nats worse); B = 33.2 ± 1.7 T (the 5 % of the s prior); B/s = 417.8 ± 0.4
# T per (mm/s per channel), so with B = 33.0 T the drive spans ±10.07 mm/s, within the
# assumed ±10 mm/s; Γ = 0.31 ± 0.02 mm/s. The line-spacing ratio of six free
# Lorentzians, 1.7243, against the Hamiltonian's 1.7269 (the test suite checks that they
# agree within three standard errors, which are 0.3 %).

# %%
if FE_PATH.exists():
    fe = mb.load(FE_PATH, axis="channel", nominal_velocity_range=10.0)
    fe_result, fe_table = select(fe, FE_VARIANTS, "alpha_fe", fixed={"delta": 0.0})
    assert fe_table.attrs["best"] == "sextet", fe_table.attrs["decision"]
    fe_post = fe_result["candidates/sextet/posterior"].to_dataset().stack(s=("chain", "draw"))
    field = fe_post["B_hf"].isel(site=0)
    scale = fe_post["velocity_scale"]
    field_per_scale = field / scale  # what the data determine
    calibrated = 33.0 / field_per_scale  # s if α-Fe's 33.0 T is taken as the standard
    print(f"B_hf (nominal ±10 mm/s, s prior ±5 %) = {summary(field, 2)} T  [known: 33.0 T]")
    print(
        f"B/s = {summary(field_per_scale, 1)} T per (mm/s/channel): relative sd "
        f"{float(field_per_scale.std() / field_per_scale.mean()):.1e}"
    )
    print(
        f"with B = 33.0 T: s = {summary(calibrated, 5)} mm/s per channel, i.e. the drive "
        f"spans ±{float(calibrated.mean()) * 255 / 2:.2f} mm/s"
    )
    print(f"Γ = {summary(fe_post['gamma'])} mm/s, v₀ = {summary(fe_post['velocity_offset'])}")
    assert abs(float(field.mean()) - 33.0) < 3 * float(field.std())

    # A calibration-free check: six free Lorentzians in channel units (no Hamiltonian)
    x, y = fe.channel.values, fe.counts.values

    def six_lorentzians(x, base, *p):
        out = np.full_like(x, base)
        for depth, centre, width in zip(p[0::3], p[1::3], p[2::3], strict=True):
            out -= depth / (1 + ((x - centre) / (width / 2)) ** 2)
        return out

    p0 = [4430.0] + [v for c in (60, 88, 116, 138, 166, 194) for v in (600.0, c, 4.0)]
    popt, _ = optimize.curve_fit(six_lorentzians, x, y, p0=p0, sigma=np.sqrt(y))
    c = popt[2::3]
    lorentz_ratio = (c[5] - c[0]) / (c[4] - c[1])
    hamiltonian_ratio = (alpha_lines[5] - alpha_lines[0]) / (alpha_lines[4] - alpha_lines[1])
    print(
        f"line spacing ratio (c6 − c1)/(c5 − c2) = {lorentz_ratio:.4f}; "
        f"Hamiltonian: {hamiltonian_ratio:.4f}"
    )
    fe_numbers = {
        "chosen": fe_table.attrs["chosen"],
        "best": fe_table.attrs["best"],
        "B_hf": field,
        "B_per_scale": field_per_scale,
        "calibrated_scale": calibrated,
        "drive_span": calibrated * 255 / 2,
        "gamma": fe_post["gamma"].isel(site=0),
        "velocity_offset": fe_post["velocity_offset"],
    }
    pd.DataFrame(
        [
            {"quantity": k, "mean": float(v.mean()), "sd": float(v.std())}
            if not isinstance(v, str)
            else {"quantity": k, "value": v}
            for k, v in fe_numbers.items()
        ]
        + [
            {"quantity": "lorentz_ratio", "mean": lorentz_ratio},
            {"quantity": "hamiltonian_ratio", "mean": hamiltonian_ratio},
        ]
    ).to_csv(OUTPUT / "alpha_fe.csv", index=False)
else:
    print(f"{FE_PATH} absent: fetch moss.csv from github.com/bartek-krk/MS_data")

# %% tags=["figures"]
if FE_PATH.exists():
    fit_and_selection(
        mb.load(FE_PATH, axis="channel", nominal_velocity_range=10.0),
        "alpha_fe",
        "sextet",
        "α-Fe (bartek-krk/MS_data), sextet, calibrated",
        fixed={"delta": 0.0},
    )

# %% [markdown]
# ## 3. Real oxyhaemoglobin, velocity calibrated
#
# ±2.955 mm/s, 256 points, counts ≈ 3.4 × 10⁶: a doublet. The prior
# |A| ≤ 1 mm/s allows splittings up to 2 mm/s at η = 0 and 2.31 mm/s at η = 1; for a
# powder doublet only ΔE_Q = 2|A|√(1 + η²/3) is determined, so we report that.
# δ is on the velocity scale of the file (its zero is not documented).
#
# Full run: the doublet is chosen; the full Hamiltonian is 15.2 ± 0.5 nats worse, the
# sextet 36.6 ± 0.2 and the singlet 1901 nats. The sextet comes that close because the
# window is narrow: a 41 T sextet puts its inner pair at ±1.05 mm/s, where the doublet
# is, and its other four lines outside ±2.955 mm/s, leaving only their tails to tell
# it apart. ΔE_Q = 2.091 ± 0.006 mm/s, δ = 0.165 ± 0.003 mm/s, Γ = 0.405 ± 0.010 mm/s
# (the source repository's own two-Lorentzian fit starts from lines at −0.869 and
# +1.217 mm/s: splitting 2.09, centre 0.17).

# %%
if OXY_PATH.exists():
    oxy = mb.load(OXY_PATH)
    oxy_result, oxy_table = select(oxy, OXY_VARIANTS, "oxyhaemoglobin")
    assert oxy_table.attrs["best"] == "doublet", oxy_table.attrs["decision"]
    oxy_post = oxy_result["candidates/doublet/posterior"].to_dataset().stack(s=("chain", "draw"))
    oxy_numbers = {
        "splitting": mb.quadrupole_splitting(oxy_post["A"], oxy_post["eta"]).isel(site=0),
        "delta": oxy_post["delta"].isel(site=0),
        "gamma": oxy_post["gamma"].isel(site=0),
    }
    print(
        f"oxyhaemoglobin: ΔE_Q = {summary(oxy_numbers['splitting'])} mm/s, δ = "
        f"{summary(oxy_numbers['delta'])} mm/s, Γ = {summary(oxy_numbers['gamma'])} mm/s"
    )
    pd.DataFrame(
        [
            {"quantity": k, "mean": float(v.mean()), "sd": float(v.std())}
            for k, v in oxy_numbers.items()
        ]
    ).to_csv(OUTPUT / "oxyhaemoglobin.csv", index=False)
else:
    print(f"{OXY_PATH} absent: fetch oxy.csv from github.com/bartek-krk/MS_data")

# %% tags=["figures"]
if OXY_PATH.exists():
    fit_and_selection(
        mb.load(OXY_PATH),
        "oxyhaemoglobin",
        "doublet",
        "oxyhaemoglobin (bartek-krk/MS_data), doublet",
    )

# %%
print(f"wall time {time.perf_counter() - started:.0f} s")

# %% [markdown]
# ## Paper against ours
#
# | quantity | paper | ours | agreement |
# |---|---|---|---|
# | Hamiltonian, magnetite | the true one chosen by F | sextet from 10³ counts | yes |
# | … with fewer counts | — | full/sextet tied at 10², undecided at 3×10² | — (ours) |
# | B_A, B_B [T], magnetite | 49, 46 (truth) | 49.00 ± 0.02, 46.01 ± 0.01 (10⁵) | yes |
# | δ_A, δ_B [mm/s] | 0.27, 0.67 (truth) | within 2 sd from 10³ counts | yes |
# | area ratio B:A | 1.9 (truth) | 1.81 ± 0.05 (10⁵) | 1.8 sd |
# | F against Laplace (sextet) | — | within 0.35 nats, 10³–10⁵ counts | — (ours) |
# | α-Fe lines [mm/s] | ±5.31, ±3.08, ±0.84 ¹ | ±5.312, ±3.076, ±0.840 | exact |
# | α-Fe, real: Hamiltonian | sextet ¹ | sextet, by ≥ 3.2 nats | yes |
# | α-Fe: drive span, B = 33 T | ±10 mm/s (assumed) | ±10.07 mm/s | 0.7 % |
# | α-Fe: spacing ratio | 1.7269 (Hamiltonian) | 1.7243 (six free lines) | within 3 se |
# | oxyhaemoglobin: Hamiltonian | doublet ² | doublet, by 15 nats | yes |
# | oxyhaemoglobin: ΔE_Q, centre [mm/s] | 2.09, 0.17 ² | 2.091 ± 0.006, 0.165 ± 0.003 | yes |
#
# ¹ Not from the paper: the α-Fe calibration standard (room temperature, B = 33.0 T).
# ² Not from the paper: the starting lines of the source repository's own fit
# (bartek-krk/MS_data), −0.869 and +1.217 mm/s.
#
# Why they differ, and what is missing: the paper's magnetite spectrum, its count level
# and its posterior numbers are not available to us (M. Okada's lecture slides on this
# work, "ベイズ計測の基礎から展開へ", show the synthetic "magnetite at 300 K" spectrum and the
# posteriors against the true values, without numbers), so the magnetite rows compare
# our posteriors with the truth of our own simulation of the literature values, and the
# selection with the paper's claim.
# The area ratio's 1.8 sd is this noise realisation (over five seeds the
# maximum-likelihood ratio at 10⁵ counts averages 1.87). The paper's prior B_hf ~ U(0, 10)
# has no unit; we read it as g_g μ_N B ≤ 10 mm/s (module docstring), since in tesla it
# would exclude its own magnetite example. The real spectra are not the paper's: they
# test the model against known physics (α-Fe) and an independent fit (oxyhaemoglobin).
