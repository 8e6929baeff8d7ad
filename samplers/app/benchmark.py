r"""Benchmark: replica exchange against PyMC SMC on the Nagata 2012 spectra, K = 1..5.

Run it with ``python -m samplers.app.benchmark`` (``--quick`` for a smoke-sized run,
``--help`` for the options). It is a measurement, not a test: targets are printed next
to the numbers and never asserted.

What is measured, for every number of peaks K on the reference data of
:func:`measurement_models.spectral.simulate_reference` (σ = 0.1 known):

1. **Free energies.** :func:`samplers.sample_replica_exchange` (stepping-stone
   estimator) and :func:`samplers.sample_free_energy` (PyMC ``sample_smc``) with the same
   number of chains on the same cores. Recorded: F of every chain, their mean, their
   spread (standard deviation across chains), the MCSE each method reports, and the
   wall time of each whole call (:func:`time.perf_counter`; compilation included).
2. **Throughput of replica exchange,** in the same process before the sampling runs:
   a fixed number of :meth:`ReplicaExchange.step` iterations after a warm-up (which also
   compiles and adapts), counted as replica log-density evaluations
   (iterations × ``n_sweeps`` × (dim for componentwise moves, else 1) × replicas);
   the bare compiled density call ``step.density(X)`` alone; and a bare NumPy
   evaluation of the same Gaussian log-likelihood of all replicas at once (sum of
   Gaussian peaks by broadcasting, then the Gaussian log-likelihood sum), checked to
   agree with the compiled log-likelihood. The ratios show how much of the evaluation
   speed of plain NumPy the sampler keeps, and how much of the gap is the kernel's
   bookkeeping rather than the compiled evaluation.

Targets (stated, not asserted): chain-to-chain spread of F at most
:data:`SPREAD_TARGET` nats for every K at no more wall time than SMC, and a sampler
throughput of at least :data:`THROUGHPUT_TARGET` of bare NumPy.

:mod:`samplers` is otherwise physics-agnostic. This module is the one exception: it
imports :mod:`measurement_models.spectral` because it benchmarks that one job (the
model, its data and the hand-written NumPy likelihood it is compared with).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pymc as pm
import xarray as xr

from measurement_models import spectral

from ..environment import environment
from ..evidence.free_energy import FreeEnergy
from ..evidence.thermodynamic import ESTIMATORS
from ..replica_exchange.diagnostics import ladder_diagnostics
from ..replica_exchange.sampling import sample_replica_exchange
from ..replica_exchange.step import ReplicaExchange
from ..settings import SMCSettings, sample_free_energy

__all__ = [
    "SPREAD_TARGET",
    "THROUGHPUT_TARGET",
    "VARIABLES",
    "build_parser",
    "format_benchmark",
    "gaussian_log_likelihood",
    "machine_attrs",
    "machine_line",
    "main",
    "measure_throughput",
    "report",
    "run_benchmark",
]

#: Target: standard deviation of F across chains, nats, for every K.
SPREAD_TARGET = 0.3
#: Target: replica evaluations per second of the sampler / those of bare NumPy.
THROUGHPUT_TARGET = 0.5
SIGMA = 0.1
SAMPLERS = ("replica_exchange", "smc")

#: Data variables of the Dataset returned by :func:`run_benchmark`.
VARIABLES = (
    "free_energy_per_chain",
    "free_energy",
    "spread",
    "mcse",
    "wall_time",
    "re_mcse_per_chain",
    "re_free_energy_by_method",
    "re_global_barrier",
    "re_round_trips",
    "dim",
    "throughput_iterations",
    "throughput_evaluations",
    "step_time",
    "step_evaluations_per_second",
    "density_evaluations_per_second",
    "numpy_evaluations_per_second",
    "step_numpy_ratio",
    "density_numpy_ratio",
    "numpy_max_abs_difference",
)

QUICK = {
    "ks": (1, 2),
    "chains": 2,
    "re_draws": 200,
    "re_tune": 200,
    "n_replicas": 16,
    "smc_draws": 300,
    "throughput_iterations": 50,
    "throughput_warmup": 50,
}
FULL = {
    "ks": (1, 2, 3, 4, 5),
    "chains": 4,
    "re_draws": 2000,
    "re_tune": 2000,
    "n_replicas": 32,
    "smc_draws": 2000,
    "throughput_iterations": 500,
    "throughput_warmup": 200,
}


# -- throughput ---------------------------------------------------------------------------
def gaussian_log_likelihood(
    x: np.ndarray, y: np.ndarray, sigma: float, a: np.ndarray, mu: np.ndarray, b: np.ndarray
) -> np.ndarray:
    r"""Gaussian log-likelihood of a sum of Gaussian peaks for many parameter sets at once.

    .. math::

        \ell = -\frac{1}{2\sigma^2}\sum_i \Big(y_i - \sum_k a_k e^{-b_k (x_i-\mu_k)^2/2}\Big)^2
        - n \log(\sigma\sqrt{2\pi})

    Parameters
    ----------
    x, y : ndarray, shape (n,)
        Grid and data.
    sigma : float
        Known noise standard deviation.
    a, mu, b : ndarray, shape (replicas, K)
        Peak heights, positions and inverse variances.

    Returns
    -------
    ndarray, shape (replicas,)
    """
    u = x - mu[:, :, None]
    f = (a[:, :, None] * np.exp(-0.5 * b[:, :, None] * (u * u))).sum(axis=1)
    r = (y - f) / sigma
    return -0.5 * (r * r).sum(axis=1) - y.size * np.log(sigma * np.sqrt(2.0 * np.pi))


def _unraveller(model: pm.Model, step: ReplicaExchange) -> Callable[[np.ndarray], tuple]:
    """``X (replicas, dim) -> (a, mu, b)`` on the constrained scale, for the spectral model."""
    point = model.initial_point()
    offsets, start = {}, 0
    for var in step.vars:
        size = np.size(point[var.name])
        offsets[var.name] = slice(start, start + size)
        start += size
    expected = {"a_log__", "mu", "b_log__"}
    if set(offsets) != expected:
        raise ValueError(f"expected the free variables {sorted(expected)}, got {sorted(offsets)}")

    def unravel(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return (
            np.exp(x[:, offsets["a_log__"]]),
            x[:, offsets["mu"]],
            np.exp(x[:, offsets["b_log__"]]),
        )

    return unravel


def _time_calls(function: Callable[[], object], n_calls: int) -> float:
    start = time.perf_counter()
    for _ in range(n_calls):
        function()
    return time.perf_counter() - start


def measure_throughput(
    data: xr.Dataset,
    n_peaks: int,
    n_replicas: int = 32,
    iterations: int = 500,
    warmup: int = 200,
    seed: int = 0,
) -> dict[str, float]:
    """Replica log-density evaluations per second: sampler, compiled call, bare NumPy.

    Single process. A :class:`ReplicaExchange` step is built (compiling the batched
    density), run ``warmup`` tuning iterations from the model's initial point, frozen
    (:meth:`~ReplicaExchange.stop_tuning`), then timed over ``iterations`` sampling
    iterations. The compiled density ``step.density(X)`` and
    :func:`gaussian_log_likelihood` are then each timed for the same number of batched
    calls on the ladder's final positions ``X``.

    Parameters
    ----------
    data : xarray.Dataset
        Spectrum (``intensity`` along ``x``).
    n_peaks : int
        K.
    n_replicas : int
        Levels of the ladder (rows of ``X``).
    iterations, warmup : int
        Timed and untimed iterations of ``step.step``.
    seed : int
        Seed of the step's generator.

    Returns
    -------
    dict
        ``dim``, ``throughput_iterations``, ``throughput_evaluations``, ``step_time`` (s),
        ``step_evaluations_per_second``, ``density_evaluations_per_second``,
        ``numpy_evaluations_per_second``, ``step_numpy_ratio``, ``density_numpy_ratio``
        and ``numpy_max_abs_difference`` (NumPy against the compiled log-likelihood).
    """
    model = spectral.build_model(data, n_peaks=n_peaks, sigma=SIGMA)
    with model:
        step = ReplicaExchange(n_replicas=n_replicas)
    kernel = step.kernel
    step.setup_chain(np.random.default_rng(seed), warmup, iterations)
    point = model.initial_point()
    for _ in range(warmup):
        point, _stats = step.step(point)
    step.stop_tuning()

    start = time.perf_counter()
    for _ in range(iterations):
        point, _stats = step.step(point)
    step_time = time.perf_counter() - start

    dim = int(step.density.dim)
    calls_per_sweep = dim if kernel.update == "componentwise" else 1
    n_calls = iterations * kernel.n_sweeps * calls_per_sweep
    levels = kernel.n_levels
    evaluations = n_calls * levels

    x_rep = step.state.x.copy()
    density_time = _time_calls(lambda: step.density(x_rep), n_calls)

    x = np.asarray(data[spectral.AXIS].values, dtype=float)
    y = np.asarray(data[spectral.VARIABLE].values, dtype=float)
    unravel = _unraveller(model, step)
    numpy_time = _time_calls(lambda: gaussian_log_likelihood(x, y, SIGMA, *unravel(x_rep)), n_calls)
    difference = np.max(
        np.abs(gaussian_log_likelihood(x, y, SIGMA, *unravel(x_rep)) - step.density(x_rep)[1])
    )

    step_rate = evaluations / step_time
    density_rate = evaluations / density_time
    numpy_rate = evaluations / numpy_time
    return {
        "dim": dim,
        "throughput_iterations": iterations,
        "throughput_evaluations": evaluations,
        "step_time": step_time,
        "step_evaluations_per_second": step_rate,
        "density_evaluations_per_second": density_rate,
        "numpy_evaluations_per_second": numpy_rate,
        "step_numpy_ratio": step_rate / numpy_rate,
        "density_numpy_ratio": density_rate / numpy_rate,
        "numpy_max_abs_difference": float(difference),
    }


# -- the benchmark ------------------------------------------------------------------------
def run_benchmark(
    ks: Sequence[int] = (1, 2, 3, 4, 5),
    chains: int = 4,
    re_draws: int = 2000,
    re_tune: int = 2000,
    n_replicas: int = 32,
    smc_draws: int = 2000,
    cores: int | None = None,
    seed: int = 0,
    log: Callable[[str], object] | None = print,
    throughput_iterations: int = 500,
    throughput_warmup: int = 200,
) -> xr.Dataset:
    """Replica exchange against SMC on the Nagata 2012 data for every K in ``ks``.

    For each K, in this order: the throughput measurement (:func:`measure_throughput`,
    single process), then :func:`samplers.sample_replica_exchange`, then
    :func:`samplers.sample_free_energy` (SMC), each timed as a whole. Both samplers run
    ``chains`` chains on ``cores`` processes with the seed ``seed + K``.

    Parameters
    ----------
    ks : sequence of int
        Numbers of peaks.
    chains : int
        Independent chains (ladders, or SMC particle populations) per sampler.
    re_draws, re_tune : int
        Recorded and tuning iterations of replica exchange per chain.
    n_replicas : int
        Levels of each replica-exchange ladder.
    smc_draws : int
        SMC particles per chain.
    cores : int, optional
        Processes for both samplers; default every CPU this process may use
        (``len(os.sched_getaffinity(0))``).
    seed : int
        Base seed.
    log : callable, optional
        Called with one progress line per run (``print`` by default; ``None`` silences).
    throughput_iterations, throughput_warmup : int
        Timed and warm-up iterations of the throughput measurement.

    Returns
    -------
    xarray.Dataset
        Dims ``sampler`` (``replica_exchange``, ``smc``), ``k``, ``chain`` and ``method``.
        ``free_energy_per_chain`` (sampler, k, chain), ``free_energy`` (mean over chains),
        ``spread`` (sd over chains), ``mcse`` and ``wall_time`` (s) per (sampler, k);
        replica exchange only: ``re_mcse_per_chain`` (k, chain),
        ``re_free_energy_by_method`` (k, method: stepping stone, thermodynamic
        integration, bridge), ``re_global_barrier`` and ``re_round_trips`` (k, chain);
        throughput per k: ``dim``, ``throughput_iterations``, ``throughput_evaluations``,
        ``step_time``, ``step_evaluations_per_second``,
        ``density_evaluations_per_second``, ``numpy_evaluations_per_second``,
        ``step_numpy_ratio``, ``density_numpy_ratio``, ``numpy_max_abs_difference``.
        ``attrs`` hold the settings, the targets and the machine.
    """
    log = log or (lambda _line: None)
    load_start = os.getloadavg()[0]
    ks = [int(k) for k in ks]
    cores = int(cores) if cores else len(os.sched_getaffinity(0))
    data = spectral.simulate_reference()
    smc_settings = SMCSettings(draws=smc_draws, chains=chains, cores=cores)

    per_chain = np.full((len(SAMPLERS), len(ks), chains), np.nan)
    summary = {name: np.full((len(SAMPLERS), len(ks)), np.nan) for name in ("mcse", "wall")}
    re_mcse = np.full((len(ks), chains), np.nan)
    re_methods = np.full((len(ks), len(ESTIMATORS)), np.nan)
    barrier = np.full((len(ks), chains), np.nan)
    trips = np.zeros((len(ks), chains), dtype=int)
    throughput: dict[str, list] = {}

    for i, k in enumerate(ks):
        result = measure_throughput(
            data, k, n_replicas, throughput_iterations, throughput_warmup, seed + k
        )
        for name, value in result.items():
            throughput.setdefault(name, []).append(value)
        log(
            f"K={k}: throughput {result['step_evaluations_per_second']:,.0f} evals/s "
            f"(NumPy {result['numpy_evaluations_per_second']:,.0f}/s, "
            f"ratio {result['step_numpy_ratio']:.0%})"
        )

        model = spectral.build_model(data, n_peaks=k, sigma=SIGMA)
        start = time.perf_counter()
        idata = sample_replica_exchange(
            model=model,
            draws=re_draws,
            tune=re_tune,
            chains=chains,
            cores=cores,
            random_seed=seed + k,
            progressbar=False,
            n_replicas=n_replicas,
            compute_convergence_checks=False,
        )
        summary["wall"][0, i] = time.perf_counter() - start
        stored = idata["free_energy"].to_dataset()  # every estimator, computed once
        fe = FreeEnergy.from_dataset(stored)
        per_chain[0, i] = fe.per_chain
        summary["mcse"][0, i] = fe.mcse
        re_mcse[i] = fe.per_chain_mcse
        re_methods[i] = [FreeEnergy.from_dataset(stored, method).value for method in ESTIMATORS]
        ladder = ladder_diagnostics(idata)
        barrier[i] = ladder["global_barrier"].values
        trips[i] = ladder["round_trips"].values
        log(
            f"K={k}: replica exchange F = {fe.value:.3f} ± {fe.spread:.3f} (spread), "
            f"MCSE {fe.mcse:.3f}, {summary['wall'][0, i]:.1f} s"
        )

        model = spectral.build_model(data, n_peaks=k, sigma=SIGMA)
        start = time.perf_counter()
        _, fe = sample_free_energy(model, smc_settings, random_seed=seed + k, progressbar=False)
        summary["wall"][1, i] = time.perf_counter() - start
        per_chain[1, i] = fe.per_chain
        summary["mcse"][1, i] = fe.mcse
        log(
            f"K={k}: SMC F = {fe.value:.3f} ± {fe.spread:.3f} (spread), "
            f"{summary['wall'][1, i]:.1f} s"
        )

    chain_dims = ("sampler", "k", "chain")
    dataset = xr.Dataset(
        {
            "free_energy_per_chain": (chain_dims, per_chain, {"units": "nats"}),
            "free_energy": (("sampler", "k"), per_chain.mean(axis=-1), {"units": "nats"}),
            "spread": (
                ("sampler", "k"),
                per_chain.std(axis=-1, ddof=1)
                if chains > 1
                else np.full(per_chain.shape[:2], np.nan),
                {"units": "nats", "long_name": "standard deviation of F across chains"},
            ),
            "mcse": (("sampler", "k"), summary["mcse"], {"units": "nats"}),
            "wall_time": (("sampler", "k"), summary["wall"], {"units": "s"}),
            "re_mcse_per_chain": (("k", "chain"), re_mcse, {"units": "nats"}),
            "re_free_energy_by_method": (("k", "method"), re_methods, {"units": "nats"}),
            "re_global_barrier": (("k", "chain"), barrier),
            "re_round_trips": (("k", "chain"), trips),
            **{name: ("k", np.asarray(values)) for name, values in throughput.items()},
        },
        coords={
            "sampler": list(SAMPLERS),
            "k": ks,
            "chain": np.arange(chains),
            "method": list(ESTIMATORS),
        },
        attrs={
            "title": "replica exchange vs PyMC SMC, Nagata 2012 spectral deconvolution",
            "definition": "F = -log p(D); replica exchange by stepping stone",
            "chains": chains,
            "cores": cores,
            "re_draws": re_draws,
            "re_tune": re_tune,
            "n_replicas": n_replicas,
            "smc": smc_settings.describe(),
            "smc_draws": smc_draws,
            "seed": seed,
            "spread_target": SPREAD_TARGET,
            "throughput_target": THROUGHPUT_TARGET,
            **machine_attrs(load_start),
        },
    )
    dataset["step_evaluations_per_second"].attrs["long_name"] = (
        "replica log-density evaluations per second inside ReplicaExchange.step"
    )
    return dataset


# -- reporting ----------------------------------------------------------------------------
def machine_attrs(load_start: float) -> dict:
    """The machine a benchmark ran on (:func:`~samplers.environment.environment`) and its
    1-minute load average at the start (``load_start``) and now, as Dataset attrs."""
    return {
        **environment(),
        "load_average_start": load_start,
        "load_average_end": os.getloadavg()[0],
    }


def machine_line(attrs: Mapping) -> str:
    """The machine and load line of a benchmark's table, from :func:`machine_attrs`."""
    return (
        f"machine: {attrs.get('nproc')} CPUs usable, {attrs.get('cpu_model')}; 1-min load "
        f"average {attrs.get('load_average_start', float('nan')):.1f} at start, "
        f"{attrs.get('load_average_end', float('nan')):.1f} at end"
    )


def _yes(flag: bool) -> str:
    return "yes" if flag else "NO"


def format_benchmark(ds: xr.Dataset) -> str:
    """The benchmark as text: F table, targets per K, then throughput lines.

    Parameters
    ----------
    ds : xarray.Dataset
        Result of :func:`run_benchmark`.

    Returns
    -------
    str
    """
    a = ds.attrs
    lines = [
        f"Replica exchange ({a.get('n_replicas')} replicas, tune {a.get('re_tune')}, "
        f"draws {a.get('re_draws')}, stepping stone) vs {a.get('smc', 'SMC')}",
        f"{ds.sizes['chain']} chains per sampler on {a.get('cores')} cores; " + machine_line(a),
        "",
    ]
    header = [
        "K",
        "RE F per chain",
        "RE mean ± spread",
        "RE wall s",
        "SMC F per chain",
        "SMC mean ± spread",
        "SMC wall s",
    ]
    rows = []
    for k in ds["k"].values:
        row = [str(int(k))]
        for sampler in SAMPLERS:
            sel = ds.sel(sampler=sampler, k=k)
            row += [
                " ".join(f"{v:.2f}" for v in sel["free_energy_per_chain"].values),
                f"{float(sel['free_energy']):.2f} ± {float(sel['spread']):.2f}",
                f"{float(sel['wall_time']):.1f}",
            ]
        rows.append(row)
    widths = [max(len(r[j]) for r in [header, *rows]) for j in range(len(header))]

    def render(cells: list[str]) -> str:
        return " | ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True))

    lines += [render(header), "-+-".join("-" * w for w in widths)]
    lines += [render(row) for row in rows]

    target = float(a.get("spread_target", SPREAD_TARGET))
    lines += ["", f"Targets: RE spread ≤ {target} nats for every K, at wall time ≤ SMC's"]
    all_met = True
    for k in ds["k"].values:
        re = ds.sel(sampler="replica_exchange", k=k)
        smc = ds.sel(sampler="smc", k=k)
        spread_ok = bool(float(re["spread"]) <= target)
        time_ok = bool(float(re["wall_time"]) <= float(smc["wall_time"]))
        all_met &= spread_ok and time_ok
        mean_mcse = float(np.sqrt(np.mean(ds["re_mcse_per_chain"].sel(k=k).values ** 2)))
        lines.append(
            f"  K={int(k)}: RE spread {float(re['spread']):.3f} ≤ {target}: {_yes(spread_ok)}; "
            f"RE wall {float(re['wall_time']):.1f} s ≤ SMC {float(smc['wall_time']):.1f} s: "
            f"{_yes(time_ok)}; RE per-chain MCSE (rms) {mean_mcse:.3f}, "
            f"spread/MCSE {float(re['spread']) / mean_mcse:.1f}; "
            f"SMC spread {float(smc['spread']):.3f}"
        )
    lines.append(f"  all spread/time targets met: {_yes(all_met)}")

    goal = float(a.get("throughput_target", THROUGHPUT_TARGET))
    lines += [
        "",
        f"Throughput (replica log-density evaluations/s, single process; target: sampler "
        f"≥ {goal:.0%} of bare NumPy)",
    ]
    for k in ds["k"].values:
        t = ds.sel(k=k)
        ratio = float(t["step_numpy_ratio"])
        lines.append(
            f"  K={int(k)} (dim {int(t['dim'])}): sampler "
            f"{float(t['step_evaluations_per_second']):,.0f}/s, compiled density call "
            f"{float(t['density_evaluations_per_second']):,.0f}/s, bare NumPy "
            f"{float(t['numpy_evaluations_per_second']):,.0f}/s; sampler/NumPy {ratio:.0%} "
            f"({_yes(ratio >= goal)}), density/NumPy {float(t['density_numpy_ratio']):.0%}"
        )
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    """Command-line options of ``python -m samplers.app.benchmark``."""
    parser = argparse.ArgumentParser(
        prog="python -m samplers.app.benchmark",
        description="Replica exchange vs PyMC SMC on the Nagata 2012 spectra: free energies "
        "per chain, wall times and sampler throughput.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke-sized run (K = 1, 2; 2 chains; short runs)"
    )
    parser.add_argument(
        "--hard",
        action="store_true",
        help="the hard targets instead (samplers.app.hard_benchmark; its own options follow)",
    )
    parser.add_argument("--ks", type=int, nargs="+", help="numbers of peaks (default 1 2 3 4 5)")
    parser.add_argument("--chains", type=int, help="chains per sampler (default 4)")
    parser.add_argument("--cores", type=int, help="processes (default: all usable CPUs)")
    parser.add_argument("--seed", type=int, default=0, help="base seed (default 0)")
    parser.add_argument("--re-draws", type=int, help="replica-exchange draws (default 2000)")
    parser.add_argument("--re-tune", type=int, help="replica-exchange tuning (default 2000)")
    parser.add_argument("--replicas", type=int, help="ladder levels (default 32)")
    parser.add_argument("--smc-draws", type=int, help="SMC particles per chain (default 2000)")
    parser.add_argument(
        "--output", help="folder for benchmark.nc (the Dataset) and benchmark.txt (the table)"
    )
    return parser


def settings_from_args(args: argparse.Namespace) -> dict:
    """Keyword arguments of :func:`run_benchmark` from parsed options."""
    settings = dict(QUICK if args.quick else FULL)
    given = {
        "ks": tuple(args.ks) if args.ks else None,
        "chains": args.chains,
        "re_draws": args.re_draws,
        "re_tune": args.re_tune,
        "n_replicas": args.replicas,
        "smc_draws": args.smc_draws,
    }
    settings.update({key: value for key, value in given.items() if value is not None})
    settings["cores"] = args.cores
    settings["seed"] = args.seed
    return settings


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the table and optionally write it (see :func:`build_parser`)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--hard" in argv:
        from .hard_benchmark import main as hard_benchmark_main

        return hard_benchmark_main([arg for arg in argv if arg != "--hard"])
    args = build_parser().parse_args(argv)
    settings = settings_from_args(args)
    start = time.perf_counter()
    dataset = run_benchmark(**settings)
    dataset.attrs["command"] = " ".join(["python -m samplers.app.benchmark", *argv])
    dataset.attrs["total_time_s"] = time.perf_counter() - start
    report(dataset, format_benchmark(dataset), args.output, "benchmark")
    return 0


def report(dataset: xr.Dataset, table: str, output: str | None, stem: str) -> None:
    """Print a benchmark's table with its total time and, with ``output``, write
    ``<stem>.nc`` (the Dataset) and ``<stem>.txt`` (the table) into that folder."""
    table += f"\n\ntotal time {dataset.attrs['total_time_s']:.0f} s"
    print()
    print(table)
    if output:
        folder = Path(output)
        folder.mkdir(parents=True, exist_ok=True)
        dataset.to_netcdf(folder / f"{stem}.nc", engine="netcdf4")
        (folder / f"{stem}.txt").write_text(table + "\n")
        print(f"wrote {folder / f'{stem}.nc'} and {folder / f'{stem}.txt'}")


if __name__ == "__main__":
    raise SystemExit(main())
