"""XANES pre-edge free energies with more moves per swap: do the ladders then round-trip?

Evidence for issue 22, part 6. ``docs/scripts/xanes_evidence.py`` found that no pre-edge
F with K ≥ 2 passes the package's checks at 4 chains x 32 replicas x 2500 + 2500 with one
componentwise sweep per swap round, although every pair of levels swaps 65-90 % of the
time. The swap rates would allow 100-200 round trips per chain if the moves within each
level mixed perfectly (``ideal_round_trips`` of
:func:`samplers.replica_exchange.diagnostics.ladder_diagnostics`); the chains made 0-2.
So the moves, not the ladder, hold the replicas back. This script reruns the same model,
priors, data, ladder size, draws and seeds with ``n_sweeps`` componentwise sweeps per
swap round (``N_SWEEPS``) and reports for every K: F ± MCSE, the chains' F, round trips
against ideal ones, the chains' agreement and the verdict of
:func:`samplers.evidence.reliability.free_energy_reliability` (round trips, chain
agreement, mode census of 20 prior starts and 25 draws of each chain), with the F of the
one-sweep runs of ``xanes_evidence.json`` and of the case study's full run (docs/xanes.md)
for comparison.

    python docs/scripts/xanes_sweeps.py --spectrum Fe2O3   # about an hour on one core
    python docs/scripts/xanes_sweeps.py --spectrum FeO
    python docs/scripts/xanes_sweeps.py --spectrum FeO --sweeps 1 --no-census  # baseline
    python docs/scripts/xanes_sweeps.py --table            # both, from the saved results
    python docs/scripts/xanes_sweeps.py --quick --spectrum FeO   # smoke run

The outputs are kept in ``docs/scripts/xanes_sweeps_<spectrum>_<sweeps>.json``, the
table in ``docs/scripts/xanes_sweeps.txt`` and the figure (F against K; filled markers:
runs the checks trust) in ``docs/figures/xanes_sweeps.png``. The one-sweep rerun
(``--sweeps 1``, without the census, whose verdict ``xanes_evidence.txt`` already has)
repeats xanes_evidence's runs to record their ideal round trips.
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import xanes_evidence as evidence

from measurement_models import xanes
from samplers import sample_replica_exchange
from samplers.app.case_studies import real_data_dir, require_real_data
from samplers.replica_exchange.diagnostics import ladder_diagnostics

HERE = Path(__file__).resolve().parent
#: Componentwise sweeps per swap round (``xanes_evidence.py`` used 1; ``--sweeps``).
N_SWEEPS = 10
#: The sizes of ``xanes_evidence.py``'s runs per window, and of a smoke run.
SIZES = evidence.SIZES
QUICK_SIZES = {"draws": 100, "tune": 100, "chains": 2, "n_replicas": 8}
#: K per window (``--k-max`` cuts it).
K_RANGE = {"pre-edge": range(1, 8), "full": range(1, 9)}
#: The case study's full run (4 chains x 32 replicas x 20 000 + 20 000, one sweep;
#: docs/xanes.md, "Real data"), F per K, quoted for comparison only.
FULL_RUN = {
    "Fe2O3": [-100.01, -132.60, -137.14, -138.96, -137.37, -137.40, -137.54],
    "FeO": [-114.38, -115.65, -122.05, -129.31, -132.22, -132.62, -133.55],
}
#: Its MCSEs, same source.
FULL_RUN_MCSE = {
    "Fe2O3": [0.13, 0.21, 0.29, 0.76, 0.75, 1.19, 0.92],
    "FeO": [0.07, 0.17, 1.90, 0.70, 0.83, 0.47, 0.49],
}
FIGURE = HERE.parent / "figures" / "xanes_sweeps.png"


def results_path(label: str, sweeps: int, quick: bool, window: str = "pre-edge") -> Path:
    folder = Path(tempfile.gettempdir()) if quick else HERE
    suffix = "" if window == "pre-edge" else f"_{window}"
    return folder / f"xanes_sweeps_{label}_{sweeps}{suffix}.json"


def spectrum_setup(label: str, window: str = "pre-edge") -> tuple:
    """Data, energy window, priors and seed base of one spectrum, as xanes_evidence.py's
    runs have them (a run of K is seeded ``seed * 100 + K``)."""
    constants = evidence.case_study_constants()
    name, e0 = constants["SPECTRA"][label]
    require_real_data([name], "xraypy/xraylarch examples/xafsdata/")
    data = xanes.load(real_data_dir() / name, e0=e0)
    energies, priors = evidence.window_setups(constants)[window]
    seed = 1 + list(constants["SPECTRA"]).index(label)  # xanes_evidence.py's seeds
    return data, energies, priors, seed


def run(
    label: str, sweeps: int, census: bool, quick: bool, window: str = "pre-edge", k_max=None
) -> None:
    """Every K of one spectrum; the results file is rewritten after each K."""
    data, energies, priors, seed = spectrum_setup(label, window)
    sizes = QUICK_SIZES if quick else SIZES[window]
    ks = [k for k in K_RANGE[window] if k_max is None or k <= k_max]
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE
    ).stdout.strip()
    rows = []
    for k in range(1, 3) if quick else ks:
        model = evidence.build(data, k, energies, priors)
        tic = time.perf_counter()
        idata = sample_replica_exchange(
            model=model,
            random_seed=seed * 100 + k,
            n_sweeps=sweeps,
            **evidence.QUIET,
            **sizes,
        )
        sampled = time.perf_counter() - tic
        row = evidence.replica_row(idata, model, seed * 100 + k, census=census and not quick)
        ladder = ladder_diagnostics(idata)
        rows.append(
            {"spectrum": label, "window": window, "K": k, "n_sweeps": sweeps}
            | {"sizes": sizes, "commit": commit}
            | row
            | {
                "ideal_round_trips": ladder["ideal_round_trips"].values.tolist(),
                "swap_rate_min": float(ladder["swap_rate"].min()),
                "seconds": sampled,
                "check_seconds": time.perf_counter() - tic - sampled,
            }
        )
        results_path(label, sweeps, quick, window).write_text(json.dumps(rows, indent=1))
        print(format_row(rows[-1], one_sweep(label, k, window)), flush=True)


def one_sweep(label: str, k: int, window: str = "pre-edge") -> dict | None:
    """The one-sweep run of ``xanes_evidence.json`` at this K and window (prior path)."""
    saved = json.loads(evidence.RESULTS.read_text())["replica"]
    for row in saved:
        if (row["spectrum"], row["window"], row["K"], row["reference"]) == (
            label,
            window,
            k,
            "prior",
        ) and "F" in row:
            return row
    return None


HEADER = (
    "| spectrum | K | sweeps | F ± MCSE | chain F | round trips (ideal) | min swap rate | "
    "agreement p | verdict | wall time (run + check) | F, xanes_evidence | F, full run |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def format_row(row: dict, single: dict | None) -> str:
    ideal = row["ideal_round_trips"]
    trips = f"{row['trips_min']}–{row['trips_max']} ({min(ideal):.0f}–{max(ideal):.0f})"
    chains = ", ".join(f"{f:.2f}" for f in row["per_chain"])
    single_f = "" if single is None else f"{single['F']:.2f} ± {single['mcse']:.2f}"
    pre_edge = row.get("window", "pre-edge") == "pre-edge"
    full = FULL_RUN[row["spectrum"]][row["K"] - 1] if pre_edge else "not run"
    return (
        f"| {row['spectrum']} | {row['K']} | {row['n_sweeps']} | "
        f"{row['F']:.2f} ± {row['mcse']:.2f} | {chains} | "
        f"{trips} | {row['swap_rate_min']:.2f} | {row['agreement_p']:.2g} | {row['verdict']} | "
        f"{row['seconds']:.0f} + {row['check_seconds']:.0f} s | {single_f} | {full} |"
    )


def table() -> None:
    for window in K_RANGE:
        print(
            f"{window} window, {SIZES[window]}, componentwise sweeps per swap round as given; "
            "round trips per chain, fewest–most, with the ideal ones in brackets"
        )
        print(HEADER)
        for label in ("Fe2O3", "FeO"):
            for sweeps in (1, N_SWEEPS):
                path = results_path(label, sweeps, False, window)
                if not path.exists():
                    print(f"| {label} | not run | {sweeps} | | | | | | | | | |")
                    continue
                rows = json.loads(path.read_text())
                for row in rows:
                    print(format_row(row, one_sweep(label, row["K"], window)))
                print(f"<!-- {label}, {sweeps} sweep(s): commit {rows[0]['commit']} -->")
        print()


def figure(path: Path = FIGURE) -> None:
    """F against K with MCSE error bars per spectrum: one sweep, N_SWEEPS sweeps (filled
    where the checks trust the run, open where they flag it) and the full run."""
    import matplotlib.pyplot as plt  # the backend is set by xanes_evidence

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, label in zip(axes, ("Fe2O3", "FeO"), strict=True):
        for sweeps, colour, offset in ((1, "C1", -0.1), (N_SWEEPS, "C0", 0.1)):
            saved = results_path(label, sweeps, quick=False)
            if not saved.exists():
                continue
            rows = json.loads(saved.read_text())
            ks = [r["K"] + offset for r in rows]
            values = [r["F"] for r in rows]
            ax.errorbar(
                ks, values, yerr=[r["mcse"] for r in rows], color=colour, marker="o",
                mfc="none", capsize=3, label=f"{sweeps} sweep(s) per swap, 2500 + 2500",
            )  # fmt: skip
            trusted = [(k, v) for k, v, r in zip(ks, values, rows, strict=True) if r["trusted"]]
            if trusted:
                ax.plot(*zip(*trusted, strict=True), "o", color=colour)
        full = FULL_RUN[label]
        ax.errorbar(
            range(1, len(full) + 1), full, yerr=FULL_RUN_MCSE[label], color="0.4", marker="s",
            ls=":", capsize=3, mfc="none", label="case study's full run, 1 sweep, 20 000 + 20 000",
        )  # fmt: skip
        ax.set_title(f"{label}, pre-edge window")
    evidence.label_and_save(fig, axes, path)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spectrum", choices=("Fe2O3", "FeO"), help="run every K of one")
    parser.add_argument(
        "--table", action="store_true", help="print the saved results and draw the figure"
    )
    parser.add_argument("--sweeps", type=int, default=N_SWEEPS, help="sweeps per swap round")
    parser.add_argument("--window", choices=tuple(K_RANGE), default="pre-edge")
    parser.add_argument("--k-max", type=int, default=None, help="largest K run")
    parser.add_argument(
        "--no-census", action="store_true", help="verdict from round trips and agreement only"
    )
    parser.add_argument("--quick", action="store_true", help="smoke run (short runs)")
    args = parser.parse_args(argv)
    if args.table or args.spectrum is None:
        table()
        figure()
        return
    logging.getLogger("pymc").setLevel(logging.ERROR)
    logging.getLogger("samplers").setLevel(logging.ERROR)  # the verdict is in the table
    print(HEADER)
    run(args.spectrum, args.sweeps, not args.no_census, args.quick, args.window, args.k_max)


if __name__ == "__main__":
    main()
