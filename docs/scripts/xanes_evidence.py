"""Free energies of the Fe K-edge XANES against K, with every diagnostic the package has.

Evidence for issue 22, part 6 (the real problem): the Fe2O3 and FeO spectra of
``case_studies/xanes_fe_k_edge.py``, on its pre-edge window (7106-7118 eV, arctan
midpoint above the window; its model, priors and data, read from the case study's own
constants) and on the full window with the rising edge (7105-7125 eV, ``E0`` uniform
over the window, ``xanes.PRE_EDGE_PRIORS``; the window of the case study's first
version, described in ``docs/xanes.md``). Per spectrum, window and K:

- replica exchange (:func:`samplers.sample_replica_exchange`) from the prior reference
  and, where the budget allows, from the mode-census reference (``reference="modes"``);
  F ± MCSE (stepping stone), the spread of the chains' F (max - min) against the
  combined MCSE, round trips per chain (min/max), the chains' chi-squared agreement and
  the verdict of :func:`samplers.evidence.reliability.free_energy_reliability` (round
  trips, chain agreement, mode census);
- dynesty nested sampling (:func:`samplers.evidence.nested.sample_nested`) at the K of
  the lowest replica-exchange F and its neighbours, and its difference from replica
  exchange in combined standard errors. Nested sampling's prior transform cannot map
  the ordered centres of ``xanes.build_model``, so it samples the same model with
  exchangeable centres (``Ek`` uniform over the window, no ordering, no log K!
  potential), whose evidence is the same: the likelihood is symmetric under
  relabelling the Gaussians, and the ordered prior with its log K! potential is the
  exchangeable prior restricted to one of K! equal-mass orderings.

The budget (2 shared cores, one process, ``cores=1``) fixes the sizes in ``SIZES``;
they are far shorter than the case study's full run (4 chains x 32 replicas x 20 000 +
20 000). Seeds are fixed. A measurement, not a test.

    python docs/scripts/xanes_evidence.py           # the full run (about an hour)
    python docs/scripts/xanes_evidence.py --part full  # one part, merged into the results
    python docs/scripts/xanes_evidence.py --quick   # smoke run
    python docs/scripts/xanes_evidence.py --figure  # redraw the figure from the results

The output of the full run is kept in ``docs/scripts/xanes_evidence.txt`` and the
figure (F against K with error bars) in ``docs/figures/xanes_evidence.png``.
"""

from __future__ import annotations

import argparse
import ast
import json
import logging
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np

from measurement_models import xanes
from measurement_models.parameters import Prior
from samplers import sample_replica_exchange
from samplers.app.case_studies import real_data_dir, require_real_data
from samplers.evidence.free_energy import FreeEnergy
from samplers.evidence.nested import sample_nested
from samplers.evidence.path import free_energy_agreement
from samplers.evidence.reliability import free_energy_reliability
from samplers.evidence.run_checks import AGREEMENT_P
from samplers.replica_exchange.diagnostics import ladder_diagnostics

ROOT = Path(__file__).resolve().parents[2]
CASE_STUDY = ROOT / "case_studies" / "xanes_fe_k_edge.py"
FIGURE = ROOT / "docs" / "figures" / "xanes_evidence.png"
RESULTS = Path(__file__).with_suffix(".json")
#: The parts of the run, in the order they run: replica exchange on the pre-edge window,
#: nested sampling there (it needs the first part's F), replica exchange on the full one.
PARTS = ("pre-edge", "nested", "full")
FULL_WINDOW = (7105.0, 7125.0)  # eV, pre-edge and rising edge (docs/xanes.md)
#: Replica exchange sizes of the full run and of the smoke run.
SIZES = {
    "pre-edge": {"draws": 2500, "tune": 2500, "chains": 4, "n_replicas": 32},
    "full": {"draws": 1000, "tune": 1000, "chains": 4, "n_replicas": 32},
}
QUICK_SIZES = {"draws": 200, "tune": 200, "chains": 2, "n_replicas": 8}
#: K sampled per window from the prior reference (full run), and the K of the modes
#: reference (its pilot and census cost several minutes per run).
K_RANGE = {"pre-edge": range(1, 8), "full": range(1, 9)}
MODES_AT = {
    "pre-edge": {"Fe2O3": (4,), "FeO": (5,)},
    "full": {"Fe2O3": (), "FeO": ()},  # no budget left for a census at K = 6 (see the docs)
}
#: Nested sampling: dynesty runs and live points per run; K = lowest F and neighbours.
NESTED = {"chains": 2, "live_points": 150}
NESTED_WINDOWS = ("pre-edge",)
#: Prior starts of the reliability census (besides 25 draws of each chain), and the
#: windows whose runs get it (on the full window the budget allows round trips and chain
#: agreement only).
CENSUS_STARTS = 20
CENSUS_CHECK = {"pre-edge": True, "full": False}
QUIET = {"progressbar": False, "compute_convergence_checks": False, "cores": 1}


def case_study_constants() -> dict:
    """``SPECTRA``, ``WINDOW`` and ``EDGE_MIDPOINT`` as the case study defines them.

    Read from the case study's source (its top-level literal assignments) rather than
    imported, because importing it would run it.
    """
    wanted = {"SPECTRA", "WINDOW", "EDGE_MIDPOINT"}
    found = {}
    for node in ast.parse(CASE_STUDY.read_text()).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            name = getattr(node.targets[0], "id", None)
            if name in wanted:
                found[name] = ast.literal_eval(node.value)
    missing = wanted - set(found)
    if missing:
        raise RuntimeError(f"{CASE_STUDY} no longer defines {sorted(missing)} as literals")
    return found


def window_setups(constants: dict) -> dict:
    """Per window: the energy range and the priors of ``xanes.build_model``."""
    lo, hi = constants["EDGE_MIDPOINT"]
    return {
        "pre-edge": (
            tuple(constants["WINDOW"]),
            {**xanes.PRE_EDGE_PRIORS, "E0": Prior("Uniform", lower=lo, upper=hi)},
        ),
        "full": (FULL_WINDOW, dict(xanes.PRE_EDGE_PRIORS)),
    }


def build(data, k: int, window, priors, ordered: bool = True):
    """The XANES model of K Gaussians; ``ordered=False``: exchangeable centres."""
    if not ordered:
        priors = {**priors, "Ek": Prior("Uniform", lower=window[0], upper=window[1])}
    return xanes.build_model(
        data, n_gaussians=k, energy_window=window, white_line=False, priors=priors
    )


def replica_row(idata, model, seed: int, census: bool) -> dict:
    """F, its spread and MCSE, round trips, agreement and the reliability verdict.

    Without ``census``, the verdict rests on round trips and chain agreement alone (the
    first two checks of :func:`~samplers.evidence.reliability.free_energy_reliability`,
    with its thresholds).
    """
    table = idata["free_energy"].to_dataset().sel(estimator="stepping_stone")
    estimate = FreeEnergy.from_dataset(idata["free_energy"].to_dataset(), "stepping_stone")
    per_chain = table["free_energy_per_chain"].values
    trips = ladder_diagnostics(idata)["round_trips"].values
    _, p = free_energy_agreement(estimate)
    if not census:
        fired = {"round_trips": trips.min() < 1, "chain_agreement": p < AGREEMENT_P}
        failed = [name for name, yes in fired.items() if yes]
        trusted = not failed
        verdict = ("trusted" if trusted else "flagged: " + ", ".join(failed)) + " (no census)"
    else:
        trusted, verdict = census_verdict(idata, model, seed)
    return {
        "F": float(table["free_energy"]),
        "mcse": float(table["mcse"]),
        "per_chain": per_chain.tolist(),
        "spread": float(per_chain.max() - per_chain.min()),
        "trips_min": int(trips.min()),
        "trips_max": int(trips.max()),
        "agreement_p": float(p),
        "trusted": trusted,
        "verdict": verdict,
    }


def census_verdict(idata, model, seed: int) -> tuple[bool, str]:
    """Trusted or not, and why, by the full reliability check (mode census included)."""
    try:
        check = free_energy_reliability(idata, model, starts=CENSUS_STARTS, random_seed=seed)
        trusted = bool(check.attrs["trusted"])
        checks = zip(check["check"].values, check["passed"].values, strict=True)
        failed = [str(name) for name, passed in checks if not passed]
        verdict = "trusted" if trusted else "flagged: " + ", ".join(failed)
    except ValueError as error:  # the census found no mode with a Laplace mass
        trusted = False
        verdict = f"check failed: {error}"
    return trusted, verdict


def run_replica(data, k, window, priors, reference, sizes, seed, census=True) -> dict:
    model = build(data, k, window, priors)
    tic = time.perf_counter()
    try:
        idata = sample_replica_exchange(
            model=model, reference=reference, random_seed=seed, **QUIET, **sizes
        )
    except ValueError as error:  # e.g. "modes" refusing the census
        return {"error": str(error), "seconds": time.perf_counter() - tic}
    sampled = time.perf_counter() - tic
    row = replica_row(idata, model, seed, census)
    return row | {"seconds": sampled, "check_seconds": time.perf_counter() - tic - sampled}


def run_nested(data, k, window, priors, chains, live_points, seed, census=False) -> dict:
    """F of ``chains`` dynesty runs; with ``census``, also the verdict of
    :func:`free_energy_reliability` on them (their agreement and a census of
    :data:`CENSUS_STARTS` prior starts and their draws) and its ``check_seconds``."""
    model = build(data, k, window, priors, ordered=False)
    tic = time.perf_counter()
    idata = sample_nested(model, live_points=live_points, chains=chains, random_seed=seed)
    table = idata["free_energy"].to_dataset().sel(estimator="nested")
    row = {
        "F": float(table["free_energy"]),
        "se": float(table["mcse"]),
        "per_chain": table["free_energy_per_chain"].values.tolist(),
        "seconds": time.perf_counter() - tic,
    }
    if census:
        checked = free_energy_reliability(
            idata, model, method="nested", starts=CENSUS_STARTS, random_seed=seed
        )
        row["verdict"] = checked.attrs["verdict"]
        row["check_seconds"] = time.perf_counter() - tic - row["seconds"]
    return row


def format_replica(label, window, k, reference, row) -> str:
    if "error" in row:
        return f"| {label} | {window} | {k} | {reference} | refused: {row['error']} |"
    return (
        f"| {label} | {window} | {k} | {reference} | {row['F']:.2f} ± {row['mcse']:.2f} | "
        f"{row['spread']:.2f} | {row['trips_min']}/{row['trips_max']} | "
        f"{row['agreement_p']:.2g} | {row['verdict']} | "
        f"{row['seconds']:.0f} + {row['check_seconds']:.0f} s |"
    )


def figure(results: dict, path: Path) -> None:
    """F against K with error bars, one panel per window, both spectra.

    Filled markers: runs the reliability check trusts; open: flagged ones.
    """
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, window in zip(axes, ("pre-edge", "full"), strict=True):
        for colour, label in zip(("C0", "C1"), ("Fe2O3", "FeO"), strict=True):
            rows = [r for r in results["replica"] if r["spectrum"] == label]
            for reference, marker, offset in (("prior", "o", 0.0), ("modes", "s", 0.12)):
                chosen = [
                    r for r in rows
                    if r["window"] == window and r["reference"] == reference and "F" in r
                ]  # fmt: skip
                if not chosen:
                    continue
                ks = np.array([r["K"] for r in chosen]) + offset
                values = np.array([r["F"] for r in chosen])
                ax.errorbar(
                    ks, values, yerr=[r["mcse"] for r in chosen], color=colour, marker=marker,
                    mfc="none", capsize=3, ls="-" if reference == "prior" else "",
                    label=f"{label}, replica exchange ({reference})",
                )  # fmt: skip
                trusted = np.array([r["trusted"] for r in chosen])
                ax.plot(ks[trusted], values[trusted], marker, color=colour, ls="")
            nested = [r for r in results["nested"] if r["spectrum"] == label]
            nested = [r for r in nested if r["window"] == window]
            if nested:
                ax.errorbar(
                    np.array([r["K"] for r in nested]) - 0.12, [r["F"] for r in nested],
                    yerr=[r["se"] for r in nested], color=colour, marker="^", ls="",
                    capsize=3, label=f"{label}, nested sampling",
                )  # fmt: skip
        ax.set_title(f"{window} window")
    label_and_save(fig, axes, path)


def label_and_save(fig, axes, path: Path) -> None:
    """Axes of F against K, a legend in the first panel, and the figure saved."""
    for ax in axes:
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.set_xlabel("number of Gaussians K")
        ax.set_ylabel("free energy F [nats]")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def replica_section(window, setups, data, k_range, sizes, results, quick) -> None:
    """Replica exchange on one window: every K from the prior, some from the modes."""
    energies, priors = setups[window]
    print()
    print(f"Replica exchange, {window} window")
    print(
        "| spectrum | window | K | reference | F ± MCSE | chain spread | round trips min/max | "
        "agreement p | verdict | wall time (run + check) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for seed, (label, ds) in enumerate(data.items(), start=1):
        modes_k = MODES_AT[window][label]
        if quick:
            modes_k = (max(k_range),) if modes_k else ()
        plan = [(k, "prior") for k in k_range] + [(k, "modes") for k in modes_k]
        for k, reference in plan:
            row = run_replica(
                ds, k, energies, priors, reference, sizes, seed * 100 + k, CENSUS_CHECK[window]
            )
            results["replica"].append(
                {"spectrum": label, "window": window, "K": k, "reference": reference} | row
            )
            print(format_replica(label, window, k, reference, row), flush=True)


def nested_section(window, setups, data, nested_size, results) -> None:
    """Nested sampling at the lowest replica-exchange F (prior reference) and around it."""
    energies, priors = setups[window]
    print()
    print(f"Nested sampling, {window} window, at the lowest replica-exchange F and its neighbours")
    print(
        "| spectrum | window | K | nested F ± SE | per run | replica exchange F ± MCSE | "
        "difference / combined SE | wall time |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for seed, (label, ds) in enumerate(data.items(), start=1):
        rows = {
            r["K"]: r
            for r in results["replica"]
            if r["spectrum"] == label and r["window"] == window
            and r["reference"] == "prior" and "F" in r
        }  # fmt: skip
        best = min(rows, key=lambda k: rows[k]["F"])
        for k in sorted({max(1, best - 1), best, best + 1}):
            row = run_nested(ds, k, energies, priors, seed=seed * 100 + k, **nested_size)
            results["nested"].append({"spectrum": label, "window": window, "K": k} | row)
            versus = "not sampled | "
            if k in rows:
                z = (row["F"] - rows[k]["F"]) / np.hypot(row["se"], rows[k]["mcse"])
                versus = f"{rows[k]['F']:.2f} ± {rows[k]['mcse']:.2f} | {z:+.1f}"
            per_run = ", ".join(f"{f:.2f}" for f in row["per_chain"])
            print(
                f"| {label} | {window} | {k} | {row['F']:.2f} ± {row['se']:.2f} | "
                f"{per_run} | {versus} | {row['seconds']:.0f} s |",
                flush=True,
            )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run (short runs)")
    parser.add_argument(
        "--part",
        choices=PARTS,
        default=None,
        help="run one part only and merge its results into the saved ones (default: all)",
    )
    parser.add_argument(
        "--figure", action="store_true", help="only redraw the figure from the saved results"
    )
    args = parser.parse_args(argv)
    if args.figure:
        figure(json.loads(RESULTS.read_text()), FIGURE)
        return
    logging.getLogger("pymc").setLevel(logging.ERROR)
    started = time.perf_counter()
    constants = case_study_constants()
    spectra = constants["SPECTRA"]
    source = "xraypy/xraylarch examples/xafsdata/ (fe2o3_rt1.xmu, feo_rt1.xdi)"
    require_real_data([name for name, _ in spectra.values()], source)
    data = {
        label: xanes.load(real_data_dir() / name, e0=e0) for label, (name, e0) in spectra.items()
    }
    setups = window_setups(constants)
    k_range = {w: range(1, 3) for w in K_RANGE} if args.quick else K_RANGE
    sizes = {w: QUICK_SIZES for w in SIZES} if args.quick else SIZES
    nested_size = {"chains": 2, "live_points": 40} if args.quick else NESTED
    scratch = Path(tempfile.gettempdir())  # a smoke run leaves the docs' files alone
    results_path = scratch / RESULTS.name if args.quick else RESULTS
    figure_path = scratch / FIGURE.name if args.quick else FIGURE
    results: dict[str, list] = {"replica": [], "nested": []}
    if args.part is not None and results_path.exists():  # keep the other parts' results
        saved = json.loads(results_path.read_text())
        if args.part == "nested":
            saved["nested"] = []
        else:
            saved["replica"] = [r for r in saved["replica"] if r["window"] != args.part]
        results = saved

    print("Settings")
    for window, (energies, priors) in setups.items():
        print(
            f"- {window}: {energies[0]:g}-{energies[1]:g} eV, priors "
            + ", ".join(f"{n} {p}" for n, p in priors.items())
            + f"; replica exchange {sizes[window]}, update componentwise, cores 1; "
            f"prior reference at K = {list(k_range[window])}, modes reference at "
            f"{MODES_AT[window]}"
        )
    print(
        f"- reliability census: {CENSUS_STARTS} prior starts + 25 draws of each chain, on "
        f"{[w for w, on in CENSUS_CHECK.items() if on]}; "
        f"nested sampling {nested_size} (dynesty rslice, multi-ellipsoid bound, dlogz 0.1)"
    )
    sections = {
        "pre-edge": lambda: replica_section(
            "pre-edge", setups, data, k_range["pre-edge"], sizes["pre-edge"], results, args.quick
        ),
        "nested": lambda: nested_section("pre-edge", setups, data, nested_size, results),
        "full": lambda: replica_section(
            "full", setups, data, k_range["full"], sizes["full"], results, args.quick
        ),
    }
    chosen = PARTS if args.part is None else (args.part,)
    for part in chosen:  # results and figure after each part, so a stopped run keeps them
        sections[part]()
        results_path.write_text(json.dumps(results, indent=1))
        figure(results, figure_path)
    print()
    print(f"total time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
