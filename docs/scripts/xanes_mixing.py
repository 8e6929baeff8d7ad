"""Which directions of the XANES pre-edge posterior mix slowly at β = 1?

Evidence for issue 22, part 6. ``docs/scripts/xanes_sweeps.py`` showed that with ten
componentwise sweeps per swap round the chains still make a tenth or less of the round
trips their swap rates would allow at K ≥ 3, and that at Fe2O3 K = 1 chains with
hundreds of round trips still disagree. This script reruns some of those runs (same
model, priors, data, sizes, seeds and ``n_sweeps``, so the same draws) and measures, at
β = 1, for every parameter and for the combinations the data determine:

- the effective sample size of each chain alone (ArviZ's ``ess``, bulk), as the
  integrated autocorrelation time τ = draws / ESS, the mean over chains;
- the rank-normalised split R-hat over the chains (ArviZ's ``rhat``), which shows
  which quantities the chains disagree on.

The combinations: the arctan step's value at the top and the middle of the window
(``edge(7118)``, ``edge(7112)``: what the data see of the edge), the linear background
``c0 + c1 (E − E₀)`` there (it is referenced at E₀, which lies above the window), the
sum of the two (the smooth part of the spectrum under the Gaussians), ``log(H·Γ)`` (for
E₀ − E ≫ Γ the foot is H·Γ / (2π (E₀ − E)), so the data pin H·Γ and E₀, not H and Γ
apart), the total Gaussian area ``ΣF`` and its centroid ``Σ F E_k / ΣF``, the noise σ
and the log-likelihood ℓ. A parameter with a long τ whose data-determined combination
has a short one lies on a ridge the componentwise moves cross slowly.

    python docs/scripts/xanes_mixing.py            # the runs of RUNS, ~20 min on one core
    python docs/scripts/xanes_mixing.py --runs Fe2O3:4,FeO:3   # some of them
    python docs/scripts/xanes_mixing.py --table    # assemble the saved runs
    python docs/scripts/xanes_mixing.py --quick    # smoke run, small sizes

Output: one block per run in ``docs/scripts/xanes_mixing_<spectrum>_<K>.txt``, assembled
in ``docs/scripts/xanes_mixing.txt`` (a quick run writes to the temporary folder).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import arviz as az
import numpy as np
import xarray as xr

sys.path.insert(0, str(Path(__file__).resolve().parent))
import xanes_evidence as evidence
import xanes_sweeps as sweeps

from measurement_models.xanes.physics import step
from samplers import sample_replica_exchange
from samplers.replica_exchange.diagnostics import ladder_diagnostics

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "xanes_mixing.txt"
#: (spectrum, K): runs of ``xanes_sweeps.txt`` with ten sweeps per swap round. Fe2O3
#: K = 1 (hundreds of round trips, chains disagree), K = 2 (trusted), K = 4 (flagged),
#: FeO K = 3 (no round trip in some chains).
RUNS = (("Fe2O3", 1), ("Fe2O3", 2), ("Fe2O3", 4), ("FeO", 3))
N_SWEEPS = sweeps.N_SWEEPS
#: The moves of xanes_sweeps.py; ``--update`` tries another (``sample_replica_exchange``)
#: at the same number of density evaluations (:func:`equal_cost_sweeps`).
UPDATE = "componentwise"
#: (spectrum, K, update): runs with other moves, shown after RUNS.
OTHER_MOVES = (("Fe2O3", 1, "adaptive"), ("Fe2O3", 4, "adaptive"))
#: Energies (eV) at which the edge step is evaluated: the top and middle of the window.
EDGE_AT = (7118.0, 7112.0)


def derived(posterior: xr.Dataset) -> xr.Dataset:
    """The data-determined combinations of the module docstring, per draw."""
    H, E0, gamma = posterior["H"], posterior["E0"], posterior["Gamma"]
    out = {f"edge({e:.0f})": step(e, H, E0, gamma) for e in EDGE_AT}
    for e in EDGE_AT:  # the linear background, referenced at E0 (above the window)
        out[f"background({e:.0f})"] = posterior["c0"] + posterior["c1"] * (e - E0)
    for e in EDGE_AT:
        out[f"edge + background({e:.0f})"] = out[f"edge({e:.0f})"] + out[f"background({e:.0f})"]
    out["log(H·Γ)"] = np.log(H * gamma)
    if "F" in posterior:
        area = posterior["F"].sum("gaussian")
        out["ΣF"] = area
        out["centroid"] = (posterior["F"] * posterior["Ek"]).sum("gaussian") / area
    return xr.Dataset(out)


def scalars(posterior: xr.Dataset) -> xr.Dataset:
    """Every parameter as scalar variables (``F[0]``, ``Ek[1]``, ...)."""
    out = {}
    for name, values in posterior.data_vars.items():
        extra = [d for d in values.dims if d not in ("chain", "draw")]
        if not extra:
            out[name] = values
            continue
        for i in range(values.sizes[extra[0]]):
            out[f"{name}[{i}]"] = values.isel({extra[0]: i}, drop=True)
    return xr.Dataset(out)


def mixing_table(posterior: xr.Dataset, log_lik: xr.DataArray) -> list[tuple[str, float, float]]:
    """(name, mean τ over chains, R-hat) for every parameter and combination."""
    quantities = xr.merge([scalars(posterior), derived(posterior)])
    quantities["ℓ"] = log_lik
    draws = quantities.sizes["draw"]
    rows = []
    for name, values in quantities.data_vars.items():
        array = values.transpose("chain", "draw").values
        per_chain = [float(az.ess(array[c][None, :], method="bulk")) for c in range(len(array))]
        tau = float(np.mean([draws / max(e, 1e-12) for e in per_chain]))
        rows.append((str(name), tau, float(az.rhat(array, method="rank"))))
    return rows


def equal_cost_sweeps(update: str, dim: int) -> int:
    """Sweeps per swap round: N_SWEEPS componentwise ones (dim evaluations of the
    density each), or as many block moves (one evaluation each) as cost the same."""
    return N_SWEEPS if update == "componentwise" else N_SWEEPS * dim


def run(label: str, k: int, quick: bool, update: str = UPDATE) -> str:
    data, energies, priors, seed = sweeps.spectrum_setup(label)  # xanes_sweeps.py's seeds
    sizes = sweeps.QUICK_SIZES if quick else sweeps.SIZES["pre-edge"]
    model = evidence.build(data, k, energies, priors)
    dim = sum(np.size(v) for v in model.initial_point().values())
    n_sweeps = equal_cost_sweeps(update, dim)
    tic = time.perf_counter()
    idata = sample_replica_exchange(
        model=model,
        random_seed=seed * 100 + k,
        n_sweeps=n_sweeps,
        update=update,
        **evidence.QUIET,
        **sizes,
    )
    seconds = time.perf_counter() - tic
    row = evidence.replica_row(idata, model, seed * 100 + k, census=False)
    trips = ladder_diagnostics(idata)["round_trips"].values
    posterior = idata["posterior"].to_dataset()
    log_lik = _top_level(idata)
    lines = [
        f"{label} K = {k}, {update} moves, {n_sweeps} sweeps per swap round: "
        f"F = {row['F']:.2f} ± {row['mcse']:.2f}, chains "
        + ", ".join(f"{f:.2f}" for f in row["per_chain"])
        + f", round trips {trips.min()}–{trips.max()}, agreement p = {row['agreement_p']:.2g}, "
        f"{seconds:.0f} s",
        "| quantity | τ (draws per independent draw, mean over chains) | R-hat |",
        "|---|---|---|",
    ]
    table = mixing_table(posterior, log_lik)
    lines += [f"| {name} | {tau:.0f} | {rhat:.3f} |" for name, tau, rhat in table]
    return "\n".join(lines)


def _top_level(idata) -> xr.DataArray:
    """ℓ of the replica at β = 1 per draw (the last level of the ladder)."""
    values = idata["sample_stats"]["replica_log_likelihood"]
    level = next(d for d in values.dims if d not in ("chain", "draw"))
    return values.isel({level: -1})


def block_path(label: str, k: int, quick: bool, update: str = UPDATE) -> Path:
    folder = Path(tempfile.gettempdir()) if quick else HERE
    suffix = "" if update == UPDATE else f"_{update}"
    return folder / f"xanes_mixing_{label}_{k}{suffix}.txt"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, Fe2O3 K = 2 only")
    parser.add_argument(
        "--runs", help="comma-separated spectrum:K pairs of RUNS to run (default: all)"
    )
    parser.add_argument("--update", default=UPDATE, help="the moves within levels")
    parser.add_argument("--table", action="store_true", help="only assemble the saved runs")
    args = parser.parse_args(argv)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE
    ).stdout.strip()
    sizes = sweeps.QUICK_SIZES if args.quick else sweeps.SIZES["pre-edge"]
    pairs = (pair.split(":") for pair in args.runs.split(",")) if args.runs else RUNS
    chosen = [(label, int(k)) for label, k in pairs]
    if args.quick:
        chosen = [("Fe2O3", 2)]
    for label, k in [] if args.table else chosen:
        block = f"commit {commit}; update {args.update}\n" + run(label, k, args.quick, args.update)
        block_path(label, k, args.quick, args.update).write_text(block + "\n")
        print(block, flush=True)
    header = (
        f"pre-edge window, {sizes}, {N_SWEEPS} componentwise sweeps per swap round or block "
        "moves at the same number of density evaluations; "
        "seeds of xanes_sweeps.py; one block per run (python docs/scripts/xanes_mixing.py)"
    )
    runs = [("Fe2O3", 2)] if args.quick else RUNS
    blocks = [block_path(*r, args.quick) for r in runs]
    blocks += [] if args.quick else [block_path(*r[:2], False, r[2]) for r in OTHER_MOVES]
    text = "\n".join([header, ""] + [b.read_text() for b in blocks if b.exists()])
    path = Path(tempfile.gettempdir()) / OUTPUT.name if args.quick else OUTPUT
    path.write_text(text)
    print(f"written to {path}")


if __name__ == "__main__":
    main()
