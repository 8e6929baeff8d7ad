"""The ``bayesmeas`` command: list, run a job or a case study, redraw figures, benchmark, batch.

The command lives in ``samplers`` because ``measurement_models`` must not import
``samplers``; everything physical it needs comes from the registry of
``measurement_models``.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys
from pathlib import Path

from measurement_models.registry import MODELS

from .case_studies import CASE_STUDIES_DIR, NotRunnable, get_case_study, list_case_studies
from .jobs import JOBS, get_job

__all__ = ["main"]

#: Folder of a job's output that keeps the finished candidates and the run under way
#: until ``result.nc`` is written (``samplers.select_model(checkpoint=...)``).
CHECKPOINT_FOLDER = "checkpoint"
#: The file a job writes into its output folder.
RESULT_FILE = "result.nc"
#: Exit status after Ctrl-C (128 + SIGINT, as shells report it).
INTERRUPTED = 130

#: ``--quick`` and full settings of ``bayesmeas run``, per sampler.
SIZES = {
    "replica_exchange": {
        "quick": {"draws": 500, "tune": 500, "chains": 2, "n_replicas": 16},
        # 6000 draws: MCSE ≈ 0.04 nats, enough to separate F(K=3) and F(K=4) of the
        # Nagata spectrum (0.2 nats apart) at the tie rule's 2 combined MCSE
        "full": {"draws": 6000, "tune": 2000, "chains": 4, "n_replicas": 32},
    },
    "smc": {"quick": {"draws": 1000, "chains": 2}, "full": {"draws": 2000, "chains": 4}},
    "nested": {
        "quick": {"live_points": 200, "chains": 2},
        "full": {"live_points": 500, "chains": 4},
    },
}
#: Samplers of ``bayesmeas batch`` (its workers run replica exchange or SMC).
BATCH_SAMPLERS = ("replica_exchange", "smc")


def positive_int(text: str) -> int:
    """An argparse type: a whole number ≥ 1 (draws, chains, replicas, cores, ...)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _list(_: argparse.Namespace) -> int:
    print("Measurement models:")
    for entry in MODELS.values():
        print(f"  {entry.name:<24} {entry.title}")
        print(f"  {'':<24} {entry.reference}")
    print("\nJobs (bayesmeas run NAME):")
    for job in JOBS.values():
        print(f"  {job.name:<24} {job.summary}")
    print("\nCase studies (bayesmeas run NAME [--full]; a unique part of NAME will do):")
    studies = list_case_studies()
    if not studies:
        print(f"  none found in {CASE_STUDIES_DIR} (they live in the source checkout)")
    for study in studies:
        print(f"  {study.name:<40} {study.title}")
    return 0


def _run(args: argparse.Namespace) -> int:
    if args.job in JOBS:
        if args.full:
            raise ValueError("--full is for case studies; a job runs full unless --quick")
        return _run_job(args)
    studies = [s.name for s in list_case_studies()]
    if not any(args.job.lower() in name.lower() for name in studies):
        raise ValueError(
            f"unknown job or case study {args.job!r}; jobs: {', '.join(JOBS)}; "
            f"case studies: {', '.join(studies) or f'none in {CASE_STUDIES_DIR}'}"
        )
    return _run_case_study(get_case_study(args.job).name, args)  # ambiguous: an error


def _run_case_study(name: str, args: argparse.Namespace) -> int:
    from .case_studies import run_case_study

    ignored = [
        f"--{k.replace('_', '-')}"
        for k in (
            "sampler",
            "draws",
            "chains",
            "replicas",
            "live_points",
            "cores",
            "checkpoint_every",
        )
        if _given(args, k)
    ]
    if ignored or (args.quick and args.full):
        raise ValueError(
            f"a case study chooses its own sampler settings; {', '.join(ignored) or '--quick'} "
            "cannot be combined with it (use --full for the paper-size run)"
        )
    output = Path(args.output or Path("results") / name)
    size = "full" if args.full else "quick"
    print(f"{name}: {size} run; output folder {output.resolve()}")
    notebook = run_case_study(name, output, full=args.full)
    written = sorted(p.name for p in output.iterdir() if p.is_file())
    print(f"wrote {notebook} and, in the same folder: {', '.join(written)}")
    return 0


def _given(args: argparse.Namespace, key: str) -> bool:
    return getattr(args, key) is not None


def _run_job(args: argparse.Namespace) -> int:
    from ..settings import NestedSettings, ReplicaExchangeSettings, SMCSettings
    from .jobs import format_selection, run_model_selection, write_result

    job = get_job(args.job)
    sampler = args.sampler or "replica_exchange"
    sizes = dict(SIZES[sampler]["quick" if args.quick else "full"])
    sizes.update({k: v for k in ("draws", "chains") if (v := getattr(args, k)) is not None})
    if args.live_points is not None and sampler != "nested":
        raise ValueError("--live-points is for --sampler nested")
    if sampler == "smc":
        settings = SMCSettings(**sizes, cores=args.cores)
    elif sampler == "nested":
        unused = [f"--{k}" for k in ("replicas", "cores") if _given(args, k)]
        if unused:
            raise ValueError(f"nested sampling runs on one core without a ladder: {unused}")
        if args.live_points is not None:
            sizes["live_points"] = args.live_points
        settings = NestedSettings(**sizes)
    else:
        if args.replicas is not None:
            sizes["n_replicas"] = args.replicas
        settings = ReplicaExchangeSettings(**sizes, cores=args.cores)
    output = Path(args.output or Path("results") / job.name)
    checkpoint = output / CHECKPOINT_FOLDER
    if not args.force:
        refuse_other_result(output / RESULT_FILE, job.name, settings, args.seed)
    print(f"{job.name}: {job.summary}")
    print(f"output folder: {output.resolve()}")
    if checkpoint.exists():
        print(f"continuing from the checkpoint in {checkpoint.resolve()}")
    try:
        tree = run_model_selection(
            job,
            settings,
            args.seed,
            progressbar=not args.no_progress,
            checkpoint=checkpoint,
            checkpoint_every=args.checkpoint_every,
        )
    except KeyboardInterrupt:
        command = shlex.join(["bayesmeas", *args.argv])
        print(
            f"\nbayesmeas: interrupted. The finished candidates and the run under way are "
            f"kept in {checkpoint.resolve()}; run the same command again to continue:\n"
            f"  {command}",
            file=sys.stderr,
        )
        return INTERRUPTED
    print()
    print(format_selection(tree))
    nc_path, png_path = write_result(tree, output)
    shutil.rmtree(checkpoint)
    print(f"\nwrote {nc_path}\nwrote {png_path}\n(total {tree.attrs['wall_time_s']} s sampling)")
    return 0


def refuse_other_result(path: Path, job: str, settings, seed: int) -> None:
    """Raise ``ValueError`` if ``path`` holds a result of ``job`` made with other sampler
    settings or another seed (or of another job), so that ``run`` never replaces it
    silently (``--force`` does)."""
    if not path.exists():
        return
    import xarray as xr

    wanted = {"job": job, "sampler": settings.describe(), "random_seed": str(seed)}
    try:
        with xr.open_datatree(path) as tree:
            stored = {key: str(tree.attrs.get(key)) for key in wanted}
    except (OSError, ValueError):
        stored = {}
    if stored == wanted:
        return  # the same run again: replacing it loses nothing
    made = f"{stored.get('sampler')}, seed {stored.get('random_seed')}" if stored else "unknown"
    raise ValueError(
        f"{path} holds a result made with other settings ({made}); "
        "pass --force to replace it, or --output to write elsewhere"
    )


def _plot(args: argparse.Namespace) -> int:
    from .jobs import plot_candidate_path, plot_result

    path = Path(args.result)
    if not path.is_file():
        raise ValueError(f"no such result file: {path}")
    import xarray as xr

    try:
        with xr.open_datatree(path) as tree:
            is_result = "candidate_dim" in tree.attrs
    except (OSError, ValueError) as error:
        reason = str(error).splitlines()[0].split(". ")[0]
        raise ValueError(f"{path} is not a netCDF file that xarray can read ({reason})") from None
    if not is_result:
        raise ValueError(
            f"{path} is not a result of `bayesmeas run` (no model-selection table in it); "
            "batch results are drawn by `bayesmeas batch`, case-study figures by "
            "`bayesmeas figures`"
        )

    if args.path is not None:
        figure = plot_candidate_path(args.result, args.path or None)
        suffix = f"_path_{args.path or 'best'}.png"
    else:
        figure, suffix = plot_result(args.result), ".png"
    output = args.output or str(Path(args.result).with_suffix("")) + suffix
    figure.savefig(output, dpi=130)
    print(f"wrote {output}")
    return 0


def _figures(args: argparse.Namespace) -> int:
    from .case_studies import redraw_figures

    study = get_case_study(args.case_study)
    output = Path(args.output or Path("results") / study.name)
    for path in redraw_figures(study.name, output):
        print(f"wrote {path}")
    return 0


def _benchmark(args: argparse.Namespace) -> int:
    from .benchmark import main as benchmark_main

    return benchmark_main(args.benchmark_args)


def _batch_settings(args: argparse.Namespace):
    from dataclasses import replace

    from ..settings import SAMPLER_SETTINGS

    settings = SAMPLER_SETTINGS[args.sampler]()
    given = {k: getattr(args, k) for k in ("draws", "chains") if getattr(args, k) is not None}
    if args.tune is not None:
        if args.sampler != "replica_exchange":
            raise ValueError("--tune is for replica exchange")
        given["tune"] = args.tune
    if args.replicas is not None:
        if args.sampler != "replica_exchange":
            raise ValueError("--replicas is for replica exchange")
        given["n_replicas"] = args.replicas
    return replace(settings, **given)


def _batch_candidates(text: str | None) -> dict | None:
    import json

    if text is None:
        return None
    try:
        candidates = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(
            f'--candidates must be JSON, e.g. \'{{"K=1": {{"n_peaks": 1}}}}\': {error}'
        ) from None
    if not isinstance(candidates, dict) or not all(
        isinstance(v, dict) for v in candidates.values()
    ):
        raise ValueError("--candidates must map candidate names to build_model keywords")
    return candidates


def _batch_options(args: argparse.Namespace) -> dict:
    """``fit_batch`` keywords from the ``bayesmeas batch`` arguments."""
    positions = tuple(p.strip() for p in args.positions.split(","))
    if len(positions) != 2:
        raise ValueError(
            f"--positions needs two names separated by a comma, got {args.positions!r}"
        )
    return {
        "output": Path(args.output),
        "candidates": _batch_candidates(args.candidates),
        "settings": _batch_settings(args),
        "random_seed": args.seed,
        "positions": positions,
        "key_parameter": args.key_parameter,
        "progress": not args.quiet,
    }


def _batch(args: argparse.Namespace) -> int:
    from .batch import fit_batch
    from .batch_benchmark import benchmark_batch

    options = _batch_options(args)
    if args.benchmark is not None:
        if args.scheduler is not None:
            raise ValueError("--benchmark measures a local cluster; it cannot use --scheduler")
        _, bench, _ = benchmark_batch(
            args.model,
            args.spectra,
            n_workers=args.workers or 2,
            n_sequential=args.benchmark,
            **options,
        )
        print(bench.to_dataframe().to_string(index=False))
        print(bench.summary())
        return 0
    result = fit_batch(
        args.model,
        args.spectra,
        scheduler=args.scheduler,
        n_workers=args.workers,
        resume=not args.no_resume,
        retry_failed=args.retry_failed,
        **options,
    )
    output = options["output"]
    print(
        f"{result.sizes['spectrum']} spectra: {result.attrs['n_ok']} ok, "
        f"{result.attrs['n_failed']} failed; {result.attrs['n_fitted_this_run']} fitted in "
        f"{result.attrs['wall_time_s']} s\nwrote {output / 'batch.nc'}"
    )
    if (output / "map.png").exists():
        print(f"wrote {output / 'map.png'}")
    return 0


def _add_batch_parser(commands) -> None:
    batch = commands.add_parser(
        "batch",
        help="fit one model to many spectra on a Dask cluster (resumable)",
        description="Fit MODEL to every spectrum of SPECTRA (netCDF file with a 'spectrum' "
        "dimension, or a folder of text files) on a local Dask cluster or on --scheduler; "
        "per-spectrum parts in OUTPUT/parts, the collection in OUTPUT/batch.nc, maps in "
        "OUTPUT/map.png when the spectra have positions. A rerun resumes.",
    )
    batch.add_argument("model", help="registered measurement model (bayesmeas list)")
    batch.add_argument("spectra", help="netCDF file or folder of spectra")
    batch.add_argument("--output", required=True, help="output folder")
    batch.add_argument(
        "--candidates",
        help='JSON: candidate name to build_model keywords, e.g. \'{"K=1": {"n_peaks": 1}, '
        '"K=2": {"n_peaks": 2}}\' (default: the registry\'s example keywords, one candidate)',
    )
    batch.add_argument("--sampler", choices=BATCH_SAMPLERS, default="replica_exchange")
    batch.add_argument(
        "--draws", type=positive_int, help="recorded draws (SMC: particles) per chain"
    )
    batch.add_argument("--tune", type=positive_int, help="replica exchange: tuning iterations")
    batch.add_argument("--chains", type=positive_int, help="independent chains (for the MCSE)")
    batch.add_argument("--replicas", type=positive_int, help="replica-exchange ladder levels")
    batch.add_argument("--scheduler", help="address of a Dask scheduler, e.g. tcp://host:8786")
    batch.add_argument(
        "--workers", type=positive_int, help="local cluster workers (default: cores)"
    )
    batch.add_argument("--seed", type=int, default=0, help="batch random seed (default 0)")
    batch.add_argument("--positions", default="x,y", help="position coordinates (default x,y)")
    batch.add_argument("--key-parameter", help="parameter drawn on the map, e.g. 'a[0]'")
    batch.add_argument("--no-resume", action="store_true", help="fit every spectrum again")
    batch.add_argument("--retry-failed", action="store_true", help="fit failed spectra again")
    batch.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    batch.add_argument(
        "--benchmark",
        type=int,
        metavar="N",
        help="also fit the first N spectra in a sequential loop and report spectra/min",
    )
    batch.set_defaults(func=_batch)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``bayesmeas``."""
    parser = argparse.ArgumentParser(
        prog="bayesmeas", description="Bayesian measurement on PyMC: models, free energies."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("list", help="list measurement models, jobs and case studies").set_defaults(
        func=_list
    )

    run = commands.add_parser(
        "run",
        help="run a job on its built-in data, or a case study",
        description="A job (default: full sampler settings, --quick for small ones) or a case "
        "study (default: its quick size, --full for the paper-size run), by name.",
    )
    run.add_argument("job", help=f"a job ({', '.join(JOBS)}) or a case study (bayesmeas list)")
    run.add_argument("--quick", action="store_true", help="job: small sampler settings (< 2 min)")
    run.add_argument("--full", action="store_true", help="case study: the paper-size run")
    run.add_argument("--output", help="output folder (default results/NAME)")
    run.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    run.add_argument(
        "--sampler",
        choices=sorted(SIZES),
        help="job: free-energy sampler (default replica_exchange)",
    )
    run.add_argument(
        "--draws",
        type=positive_int,
        help="recorded draws (SMC: particles; nested: resampled draws) per chain",
    )
    run.add_argument("--chains", type=positive_int, help="independent chains (for the MCSE)")
    run.add_argument("--replicas", type=positive_int, help="replica-exchange ladder levels")
    run.add_argument(
        "--live-points", type=positive_int, help="nested sampling: live points per run"
    )
    run.add_argument("--cores", type=positive_int, help="processes (default: all cores)")
    run.add_argument("--no-progress", action="store_true", help="hide progress bars")
    run.add_argument(
        "--force",
        action="store_true",
        help="job: replace a result in the output folder made with other settings",
    )
    run.add_argument(
        "--checkpoint-every",
        type=positive_int,
        metavar="N",
        help="job: write the replica-exchange checkpoint every N iterations (default: once "
        "a minute); a job keeps its finished candidates and the run under way in "
        "OUTPUT/checkpoint, and the same command continues from there after Ctrl-C",
    )
    run.set_defaults(func=_run)

    plot = commands.add_parser("plot", help="redraw the figure of a result file")
    plot.add_argument("result", help="result.nc written by `bayesmeas run`")
    plot.add_argument("--output", help="PNG path (default: beside the result)")
    plot.add_argument(
        "--path",
        nargs="?",
        const="",
        metavar="CANDIDATE",
        help="draw the tempered path (mean log-likelihood, heat capacity, swap rates "
        "against β) of a candidate instead (default: the one with the lowest F)",
    )
    plot.set_defaults(func=_plot)

    figures = commands.add_parser(
        "figures", help="redraw a case study's figures from its saved results (no sampling)"
    )
    figures.add_argument("case_study", help="a case study (bayesmeas list)")
    figures.add_argument("--output", help="its results folder (default results/NAME)")
    figures.set_defaults(func=_figures)

    benchmark = commands.add_parser(
        "benchmark",
        help="replica exchange against PyMC SMC on the Nagata 2012 spectrum, K = 1..5",
        description=(
            "Options are those of `python -m samplers.app.benchmark --help` (e.g. --quick)."
        ),
    )
    benchmark.add_argument("benchmark_args", nargs=argparse.REMAINDER)
    benchmark.set_defaults(func=_benchmark)
    _add_batch_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``bayesmeas`` console command."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["benchmark"]:  # options belong to the benchmark's own parser
        args = argparse.Namespace(func=_benchmark, benchmark_args=argv[1:])
    else:
        args = build_parser().parse_args(argv)
    args.argv = argv
    try:
        return args.func(args)
    except (ValueError, NotRunnable) as error:  # a user's mistake or missing data: one line
        print(f"bayesmeas: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nbayesmeas: interrupted", file=sys.stderr)
        return INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
