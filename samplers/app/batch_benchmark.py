"""Throughput of :func:`samplers.app.batch.fit_batch` on a local cluster against a loop."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ..settings import ReplicaExchangeSettings, SMCSettings
from .batch import _candidates, _settings, fit_batch, load_spectra, spectrum_seed
from .batch_plotting import POSITIONS
from .batch_worker import SpectrumTask, fit_spectrum

__all__ = ["BatchBenchmark", "benchmark_batch"]


@dataclasses.dataclass(frozen=True)
class BatchBenchmark:
    """Throughput of a batch on the local cluster against a sequential loop (one run).

    Times in seconds; rates in spectra per minute. The cluster time runs from starting
    the cluster to the collected ``batch.nc`` (start-up, every worker's compilation and
    the collection included); the sequential loop fits the first ``n_sequential`` of the
    same spectra in the main process with the same tasks (seeds, settings, reuse of
    compiled samplers; its first spectrum compiles), and ``no_reuse_s`` is the mean time
    per spectrum when every spectrum builds and compiles its models afresh.
    """

    n_spectra: int
    n_workers: int
    cores: int
    cluster_wall_s: float
    n_sequential: int
    sequential_wall_s: float
    sequential_first_s: float
    no_reuse_s: float

    @property
    def cluster_rate(self) -> float:
        """Spectra per minute on the cluster, start-up included."""
        return 60 * self.n_spectra / self.cluster_wall_s

    @property
    def sequential_rate(self) -> float:
        """Spectra per minute of the sequential loop (its first compilation included)."""
        return 60 * self.n_sequential / self.sequential_wall_s

    @property
    def reuse_s(self) -> float:
        """Mean seconds per spectrum of the sequential loop after its first spectrum."""
        rest = self.n_sequential - 1
        return (self.sequential_wall_s - self.sequential_first_s) / rest if rest else np.nan

    def to_dataframe(self):
        """The measurement as a one-row-per-run table (pandas)."""
        import pandas as pd

        return pd.DataFrame(
            {
                "run": [
                    f"Dask LocalCluster, {self.n_workers} workers",
                    "sequential loop, main process",
                ],
                "spectra": [self.n_spectra, self.n_sequential],
                "wall_time_s": [self.cluster_wall_s, self.sequential_wall_s],
                "spectra_per_min": [self.cluster_rate, self.sequential_rate],
                "cores": [self.cores, self.cores],
            }
        )

    def summary(self) -> str:
        """Two sentences: speed-up and the cost of compiling."""
        return (
            f"{self.cores} cores: {self.cluster_rate:.1f} spectra/min on {self.n_workers} "
            f"workers against {self.sequential_rate:.1f} sequentially "
            f"({self.cluster_rate / self.sequential_rate:.2f}×). Per spectrum in the main "
            f"process: {self.sequential_first_s:.1f} s for the first (compiling), "
            f"{self.reuse_s:.2f} s with compiled samplers reused, {self.no_reuse_s:.2f} s "
            "building and compiling afresh."
        )


def _sequential(items, model, candidates, settings, random_seed, reuse: bool):
    from .batch_worker import clear_cache

    clear_cache()
    parts, started, first = [], time.perf_counter(), None
    for spectrum_id, data, error in items:
        task = SpectrumTask(
            spectrum_id,
            data,
            model,
            candidates,
            settings,
            spectrum_seed(random_seed, spectrum_id),
            reuse=reuse,
            error=error,
        )
        parts.append(fit_spectrum(task))
        first = first or time.perf_counter() - started
    clear_cache()
    return parts, time.perf_counter() - started, float(first or 0.0)


def benchmark_batch(
    model: str,
    spectra: xr.Dataset,
    *,
    output: str | Path,
    candidates: Mapping[str, Mapping[str, Any]] | None = None,
    settings: ReplicaExchangeSettings | SMCSettings | str | None = None,
    n_workers: int = 2,
    n_sequential: int = 10,
    n_no_reuse: int = 2,
    random_seed: int = 0,
    **batch_options: Any,
) -> tuple[xr.Dataset, BatchBenchmark, list[xr.Dataset]]:
    """Run :func:`fit_batch` on a new local cluster, then a sequential loop; time both.

    Parameters
    ----------
    model, spectra, output, candidates, settings, random_seed
        As for :func:`fit_batch` (``resume=False``: everything is fitted again).
    n_workers : int
        Workers of the local cluster.
    n_sequential : int
        How many of the spectra (the first) the sequential loop fits.
    n_no_reuse : int
        How many of them are fitted once more without reusing compiled samplers.
    **batch_options
        Further :func:`fit_batch` keywords (``positions``, ``key_parameter``, ...).

    Returns
    -------
    result : xarray.Dataset
        The batch result.
    benchmark : BatchBenchmark
    sequential : list of xarray.Dataset
        The sequential loop's parts (equal to the cluster's for the same spectra).
    """
    candidates = _candidates(model, candidates)
    settings = _settings(settings)
    started = time.perf_counter()
    result = fit_batch(
        model,
        spectra,
        output=output,
        candidates=candidates,
        settings=settings,
        n_workers=n_workers,
        resume=False,
        random_seed=random_seed,
        **batch_options,
    )
    cluster = time.perf_counter() - started
    items = load_spectra(spectra, model, batch_options.get("positions", POSITIONS))[0]
    options = (model, candidates, settings, random_seed)
    parts, sequential, first = _sequential(items[:n_sequential], *options, reuse=True)
    _, fresh, _ = _sequential(items[:n_no_reuse], *options, reuse=False)
    benchmark = BatchBenchmark(
        n_spectra=len(items),
        n_workers=n_workers,
        cores=len(os.sched_getaffinity(0)),
        cluster_wall_s=cluster,
        n_sequential=len(parts),
        sequential_wall_s=sequential,
        sequential_first_s=first,
        no_reuse_s=fresh / min(n_no_reuse, len(items)) if n_no_reuse else np.nan,
    )
    return result, benchmark, parts
