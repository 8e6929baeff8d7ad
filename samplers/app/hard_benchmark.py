r"""Benchmark on hard targets: the wall time each sampler needs to get log Z right.

Run it with ``bayesmeas benchmark --hard`` (the same as
``python -m samplers.app.hard_benchmark``; ``--quick`` for a smoke-sized run, ``--help``
for the options). It is a measurement, not a test: nothing is asserted.

The targets (:mod:`samplers.comparison.targets`) have an exact :math:`\log Z` and exact
mode weights:

- ``unequal width``: :func:`~samplers.comparison.targets.unequal_width` with the narrow
  mode 10 times narrower in 4 of 10 coordinates, both modes of mass 1/2 (a first-order
  phase transition on the tempered path from the prior);
- ``three modes``: :func:`~samplers.comparison.targets.three_modes` (widths 1, 1/3, 1/10
  in 4 of 10 coordinates, masses 0.5, 0.3, 0.2);
- ``shells d=10``: the two Gaussian shells of Feroz, Hobson & Bridges, Mon. Not. R.
  Astron. Soc. 398, 1601 (2009), in 10 dimensions
  (:func:`~samplers.comparison.targets.gaussian_shell`);
- ``egg box``: the egg box of the same paper (:func:`~samplers.comparison.targets.egg_box`).

The samplers: replica exchange (:func:`samplers.sample_replica_exchange`, F by stepping
stone) from each reference that applies (``prior`` everywhere; ``variational`` and
``modes`` on the two Gaussian mixtures, whose modes are points: a Laplace census of a
shell, a ring, means nothing, and the egg box's peaks are exchangeable copies that the
mode reference refuses), PyMC's SMC (:class:`samplers.SMCSettings`) and dynesty nested
sampling (:class:`samplers.NestedSettings`), every one with ``chains`` chains (runs) on
one core.

For each target and sampler the budget doubles (replica exchange: ``draws = tune``;
SMC: particles per chain; nested sampling: live points per run) until a run's
:math:`\log Z` is within :data:`TOLERANCE_NATS` of the exact value with an MCSE below
:data:`MCSE_LIMIT` and every mode's share of its posterior draws is within
:data:`WEIGHT_TOLERANCE` of the mode's mass ("reached"; the weights are part of it
because a run that misses a light mode lands within 0.3 nats of the exact
:math:`\log Z` anyway: on ``three modes``, missing the mode of mass 0.2 costs only
:math:`\log 0.8 = -0.22` nats, and replica exchange from the prior at 250 draws was
0.14 nats low without a draw in that mode), or the budgets run out, or the next run
(expected to take twice the last) would bring the time spent on that sampler and target
beyond :data:`MAX_SECONDS` ("not reached"). The time to reach is the wall time of the
reaching run alone (what a user who knew the budget would spend; compilation included),
and the ratio is to the fastest sampler that reached, all measured in one process, one
run after another. Every run also records the largest error of a mode's share of the
posterior draws.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence

import numpy as np
import pymc as pm
import xarray as xr

from ..comparison.targets import egg_box, gaussian_shell, three_modes, unequal_width
from ..evidence.free_energy import FreeEnergy
from ..evidence.nested import dynesty_module
from ..replica_exchange.sampling import sample_replica_exchange
from ..settings import NestedSettings, SMCSettings
from .benchmark import machine_attrs, machine_line, report

__all__ = [
    "MAX_SECONDS",
    "MCSE_LIMIT",
    "SAMPLERS",
    "TARGETS",
    "TOLERANCE_NATS",
    "WEIGHT_TOLERANCE",
    "applicable",
    "build_parser",
    "format_hard_benchmark",
    "main",
    "run_hard_benchmark",
]

#: A run reaches the target when its log Z is within this many nats of the exact value...
TOLERANCE_NATS = 0.3
#: ... and its MCSE is below this (nats).
MCSE_LIMIT = 0.3
#: ... and every mode's share of the posterior draws within this of its mass.
WEIGHT_TOLERANCE = 0.05
#: Default time cap of the runs of one sampler on one target, seconds.
MAX_SECONDS = 400.0

#: The targets by name.
TARGETS: dict[str, Callable[[], object]] = {
    "unequal width": lambda: unequal_width(narrow_coordinates=4),
    "three modes": three_modes,
    "shells d=10": lambda: gaussian_shell(10),
    "egg box": egg_box,
}
#: Targets whose modes are points, where the variational and mode references apply.
POINT_MODES = ("unequal width", "three modes")
#: The samplers: replica exchange from each reference, SMC, nested sampling.
SAMPLERS = ("re_prior", "re_variational", "re_modes", "smc", "nested")
LABELS = {
    "re_prior": "RE, prior",
    "re_variational": "RE, variational",
    "re_modes": "RE, modes",
    "smc": "SMC",
    "nested": "nested",
}
BUDGET_NAMES = {"re": "draws = tune", "smc": "particles", "nested": "live points"}

FULL = {
    "targets": tuple(TARGETS),
    "re_budgets": (250, 500, 1000, 2000, 4000),
    "smc_budgets": (250, 500, 1000, 2000, 4000, 8000),
    "nested_budgets": (50, 100, 200, 400, 800, 1600),
    "chains": 4,
    "n_replicas": 32,
    "max_seconds": MAX_SECONDS,
}
QUICK = {
    "targets": tuple(TARGETS),
    "re_budgets": (100, 200),
    "smc_budgets": (100, 200),
    "nested_budgets": (25, 50),
    "chains": 2,
    "n_replicas": 16,
    "max_seconds": 60.0,
}


#: Why the fitted references do not apply to the other targets.
NOT_POINT_MODES = {"shells d=10": "ring-shaped modes", "egg box": "exchangeable peaks"}


def applicable(target: str, sampler: str) -> str:
    """Why ``sampler`` does not apply to ``target``; empty when it does."""
    if sampler in ("re_variational", "re_modes") and target not in POINT_MODES:
        return NOT_POINT_MODES.get(target, "modes that are not points")
    return ""


def _family(sampler: str) -> str:
    return "re" if sampler.startswith("re_") else sampler


def _run(
    target, sampler: str, budget: int, chains: int, n_replicas: int, seed: int
) -> tuple[FreeEnergy, float, float]:
    """One run: its free energy, the largest mode-weight error and its wall time."""
    model = target.model()
    start = time.perf_counter()
    if _family(sampler) == "re":
        idata = sample_replica_exchange(
            model=model,
            draws=budget,
            tune=budget,
            chains=chains,
            cores=1,
            n_replicas=n_replicas,
            reference=sampler.removeprefix("re_"),
            random_seed=seed,
            progressbar=False,
            compute_convergence_checks=False,
        )
        fe = FreeEnergy.from_dataset(idata["free_energy"].to_dataset())
    elif sampler == "smc":
        idata, fe = SMCSettings(draws=budget, chains=chains, cores=1).sample(model, seed, False)
    else:
        idata, fe = NestedSettings(live_points=budget, chains=chains).sample(model, seed, False)
    seconds = time.perf_counter() - start
    weight_error = float(np.max(np.abs(target.mode_fractions(idata) - target.mode_weights)))
    return fe, weight_error, seconds


def _describe_smc() -> str:
    smc = SMCSettings()
    return (
        f"PyMC {pm.__version__} sample_smc (kernel {smc.kernel.__name__}, threshold="
        f"{smc.threshold}, correlation_threshold={smc.correlation_threshold}); particles per "
        "chain = the budget"
    )


def _describe_nested() -> str:
    nested = NestedSettings()
    return (
        f"dynesty {dynesty_module().__version__} static nested sampling (sample="
        f"{nested.proposal}, bound={nested.bound}, dlogz={nested.dlogz:g}, {nested.draws} "
        "draws per run); live points per run = the budget"
    )


def run_hard_benchmark(
    targets: Sequence[str] = tuple(TARGETS),
    re_budgets: Sequence[int] = FULL["re_budgets"],
    smc_budgets: Sequence[int] = FULL["smc_budgets"],
    nested_budgets: Sequence[int] = FULL["nested_budgets"],
    chains: int = 4,
    n_replicas: int = 32,
    max_seconds: float = MAX_SECONDS,
    seed: int = 0,
    log: Callable[[str], object] | None = print,
) -> xr.Dataset:
    """Time to :math:`|\\log Z - \\log Z_\\text{exact}| \\le 0.3` nats, every sampler, every target.

    Parameters
    ----------
    targets : sequence of str
        Names from :data:`TARGETS`.
    re_budgets, smc_budgets, nested_budgets : sequence of int
        The increasing budgets tried: replica-exchange ``draws = tune``, SMC particles
        per chain, nested-sampling live points per run.
    chains : int
        Chains (ladders, particle populations, nested runs) per run, on one core.
    n_replicas : int
        Levels of each replica-exchange ladder.
    max_seconds : float
        No further budget is tried when the next run, expected to take twice the last,
        would bring the time spent on a sampler and target beyond this.
    seed : int
        Seed of every run.
    log : callable, optional
        Called with one line per run (``print`` by default; ``None`` silences).

    Returns
    -------
    xarray.Dataset
        Dims ``target``, ``sampler`` (:data:`SAMPLERS`) and ``step`` (the budget's index).
        Per run (NaN where not run): ``budget``, ``log_z_error`` (estimate − exact),
        ``mcse``, ``weight_error`` (largest error of a mode's share of the draws),
        ``wall_time`` (s) and ``reached`` (1 or 0). Per target and sampler:
        ``time_to_target`` (s, the reaching run), ``budget_to_target``, ``total_time``
        (all runs tried), ``ratio_to_fastest`` (NaN where not reached) and ``status``
        (``reached``, ``not reached`` or ``not applicable: ...``). ``exact_log_z`` per
        target. ``attrs``: settings and machine.

    Raises
    ------
    ValueError
        An unknown target or budgets that are not increasing positive integers.
    """
    log = log or (lambda _line: None)
    unknown = [name for name in targets if name not in TARGETS]
    if unknown:
        raise ValueError(f"unknown targets {unknown}; choose from {list(TARGETS)}")
    budgets = {"re": tuple(re_budgets), "smc": tuple(smc_budgets), "nested": tuple(nested_budgets)}
    for family, values in budgets.items():
        if (
            not values
            or any(int(b) != b or b < 1 for b in values)
            or list(values) != sorted(set(values))
        ):
            raise ValueError(f"{family} budgets must be increasing positive integers, got {values}")
    logging.getLogger("pymc").setLevel(logging.ERROR)
    load_start = os.getloadavg()[0]
    targets = list(targets)
    steps = max(len(values) for values in budgets.values())
    shape = (len(targets), len(SAMPLERS), steps)
    runs = {
        name: np.full(shape, np.nan)
        for name in ("budget", "log_z_error", "mcse", "weight_error", "wall_time", "reached")
    }
    summary = {
        name: np.full(shape[:2], np.nan)
        for name in ("time_to_target", "budget_to_target", "total_time", "ratio_to_fastest")
    }
    status = np.full(shape[:2], "", dtype=object)
    exact = np.full(len(targets), np.nan)

    for t, name in enumerate(targets):
        target = TARGETS[name]()
        exact[t] = target.log_evidence
        for s, sampler in enumerate(SAMPLERS):
            reason = applicable(name, sampler)
            if reason:
                status[t, s] = f"not applicable: {reason}"
                continue
            status[t, s] = "not reached"
            total = 0.0
            for i, budget in enumerate(budgets[_family(sampler)]):
                fe, weight_error, seconds = _run(
                    target, sampler, int(budget), chains, n_replicas, seed
                )
                error = -fe.value - exact[t]
                reached = bool(
                    abs(error) <= TOLERANCE_NATS
                    and fe.mcse < MCSE_LIMIT
                    and weight_error <= WEIGHT_TOLERANCE
                )
                total += seconds
                for key, value in (
                    ("budget", budget),
                    ("log_z_error", error),
                    ("mcse", fe.mcse),
                    ("weight_error", weight_error),
                    ("wall_time", seconds),
                    ("reached", reached),
                ):
                    runs[key][t, s, i] = value
                log(
                    f"{name}, {LABELS[sampler]}, {BUDGET_NAMES[_family(sampler)]} {budget}: "
                    f"log Z error {error:+.3f} ± {fe.mcse:.3f}, mode weights off by "
                    f"{weight_error:.3f}, {seconds:.1f} s{' (reached)' if reached else ''}"
                )
                if reached:
                    status[t, s] = "reached"
                    summary["time_to_target"][t, s] = seconds
                    summary["budget_to_target"][t, s] = budget
                    break
                if total + 2 * seconds > max_seconds:
                    break
            summary["total_time"][t, s] = total
        fastest = np.nanmin(summary["time_to_target"][t], initial=np.inf)
        if np.isfinite(fastest):
            summary["ratio_to_fastest"][t] = summary["time_to_target"][t] / fastest

    per_run = ("target", "sampler", "step")
    dataset = xr.Dataset(
        {
            "budget": (per_run, runs["budget"]),
            "log_z_error": (per_run, runs["log_z_error"], {"units": "nats"}),
            "mcse": (per_run, runs["mcse"], {"units": "nats"}),
            "weight_error": (per_run, runs["weight_error"]),
            "wall_time": (per_run, runs["wall_time"], {"units": "s"}),
            "reached": (per_run, runs["reached"]),
            "time_to_target": (("target", "sampler"), summary["time_to_target"], {"units": "s"}),
            "budget_to_target": (("target", "sampler"), summary["budget_to_target"]),
            "total_time": (("target", "sampler"), summary["total_time"], {"units": "s"}),
            "ratio_to_fastest": (("target", "sampler"), summary["ratio_to_fastest"]),
            "status": (("target", "sampler"), status.astype(str)),
            "exact_log_z": ("target", exact, {"units": "nats"}),
        },
        coords={"target": targets, "sampler": list(SAMPLERS), "step": np.arange(steps)},
        attrs={
            "title": "time to |log Z error| <= 0.3 nats on hard targets with exact evidence",
            "tolerance_nats": TOLERANCE_NATS,
            "mcse_limit": MCSE_LIMIT,
            "weight_tolerance": WEIGHT_TOLERANCE,
            "re_budgets": list(budgets["re"]),
            "smc_budgets": list(budgets["smc"]),
            "nested_budgets": list(budgets["nested"]),
            "chains": chains,
            "cores": 1,
            "n_replicas": n_replicas,
            "max_seconds": max_seconds,
            "seed": seed,
            "smc": _describe_smc(),
            "nested": _describe_nested(),
            **machine_attrs(load_start),
        },
    )
    dataset["weight_error"].attrs["long_name"] = (
        "largest error of a mode's share of the posterior draws"
    )
    return dataset


def format_hard_benchmark(ds: xr.Dataset) -> str:
    """The benchmark as text: one table per target.

    Parameters
    ----------
    ds : xarray.Dataset
        Result of :func:`run_hard_benchmark`.

    Returns
    -------
    str
    """
    a = ds.attrs
    lines = [
        f"Time to |log Z error| <= {a['tolerance_nats']} nats with MCSE < {a['mcse_limit']} "
        f"and every mode's share of the draws within {a['weight_tolerance']} of its mass; "
        f"budgets doubled until reached (cap {a['max_seconds']:.0f} s of runs per sampler "
        "and target)",
        f"replica exchange: {a['chains']} chains x {a['n_replicas']} replicas, draws = tune "
        f"in {a['re_budgets']}; SMC: {a['chains']} chains, particles in {a['smc_budgets']}; "
        f"nested (dynesty): {a['chains']} runs, live points in {a['nested_budgets']}; "
        f"one core each; seed {a['seed']}",
        machine_line(a),
    ]
    header = [
        "sampler",
        "budgets tried",
        "reached at",
        "log Z error ± MCSE",
        "weights off by",
        "time to reach s",
        "x fastest",
        "all runs s",
    ]
    for target in ds["target"].values:
        rows = []
        for sampler in ds["sampler"].values:
            sel = ds.sel(target=target, sampler=sampler)
            status = str(sel["status"].values)
            if status.startswith("not applicable"):
                reason = status.removeprefix("not applicable: ")
                rows.append([LABELS[str(sampler)], "-", f"n/a ({reason})", *[""] * 5])
                continue
            done = np.isfinite(sel["budget"].values)
            tried = [int(b) for b in sel["budget"].values[done]]
            last = int(np.flatnonzero(done)[-1])
            at = sel.isel(step=last)
            reached = status == "reached"
            rows.append(
                [
                    LABELS[str(sampler)],
                    " ".join(str(b) for b in tried),
                    str(int(sel["budget_to_target"])) if reached else "not reached",
                    f"{float(at['log_z_error']):+.3f} ± {float(at['mcse']):.3f}",
                    f"{float(at['weight_error']):.3f}",
                    f"{float(sel['time_to_target']):.1f}" if reached else "-",
                    f"{float(sel['ratio_to_fastest']):.1f}" if reached else "-",
                    f"{float(sel['total_time']):.1f}",
                ]
            )
        widths = [max(len(r[j]) for r in [header, *rows]) for j in range(len(header))]

        def render(cells: list[str], widths=widths) -> str:
            return " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

        exact = float(ds["exact_log_z"].sel(target=target))
        lines += ["", f"{target} (exact log Z = {exact:.3f})", render(header)]
        lines += ["-+-".join("-" * w for w in widths)] + [render(row) for row in rows]
    lines += [
        "",
        "log Z error ± MCSE and weights off by: at the reaching budget, else at the last tried.",
    ]
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of ``bayesmeas benchmark --hard``."""
    parser = argparse.ArgumentParser(
        prog="bayesmeas benchmark --hard",
        description="Wall time of replica exchange (each reference), SMC and nested sampling "
        "to reach |log Z error| <= 0.3 nats on hard targets with exact evidence.",
    )
    parser.add_argument("--quick", action="store_true", help="smoke-sized run (short budgets)")
    parser.add_argument("--targets", nargs="+", choices=list(TARGETS), help="default: all")
    parser.add_argument("--chains", type=int, help="chains per run (default 4)")
    parser.add_argument("--seed", type=int, default=0, help="seed of every run (default 0)")
    parser.add_argument(
        "--max-seconds",
        type=float,
        help=f"time cap per sampler and target (default {MAX_SECONDS:g})",
    )
    parser.add_argument(
        "--output", help="folder for hard_benchmark.nc (the Dataset) and hard_benchmark.txt"
    )
    return parser


def settings_from_args(args: argparse.Namespace) -> dict:
    """Keyword arguments of :func:`run_hard_benchmark` from parsed options."""
    settings = dict(QUICK if args.quick else FULL)
    given = {
        "targets": tuple(args.targets) if args.targets else None,
        "chains": args.chains,
        "max_seconds": args.max_seconds,
    }
    settings.update({key: value for key, value in given.items() if value is not None})
    settings["seed"] = args.seed
    return settings


def main(argv: Sequence[str] | None = None) -> int:
    """Run the hard-target benchmark, print the table and optionally write it."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    start = time.perf_counter()
    dataset = run_hard_benchmark(**settings_from_args(args))
    dataset.attrs["command"] = " ".join(["bayesmeas benchmark --hard", *argv])
    dataset.attrs["total_time_s"] = time.perf_counter() - start
    report(dataset, format_hard_benchmark(dataset), args.output, "hard_benchmark")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
