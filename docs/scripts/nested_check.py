"""Nested sampling (dynesty) against replica exchange and against exact evidences.

Evidence for issue 22 (an independent evidence path): :func:`samplers.sample_nested`
on

- the Nagata spectrum, K = 1, 2, 3 (:func:`measurement_models.spectral.simulate_reference`),
  next to :func:`samplers.sample_replica_exchange` at its defaults (4 chains,
  2000 + 2000 draws, 32 replicas, stepping stone), both on one core: F ± MCSE of each
  and their difference in combined standard errors;
- the Gaussian shells of Feroz, Hobson & Bridges, Mon. Not. R. Astron. Soc. 398, 1601
  (2009) (:func:`samplers.comparison.targets.gaussian_shell`) in 2, 5 and 10
  dimensions, whose log Z is exact (their Table 1: −1.75, −5.67, −14.59).

Nested sampling runs 4 independent dynesty runs (``rslice`` proposals, ``dlogz`` 0.1)
with 400 live points on the spectra and 500 on the shells. Seeds are fixed. A
measurement, not a test.

    python docs/scripts/nested_check.py            # the full run (about 8 minutes)
    python docs/scripts/nested_check.py --quick    # smoke run

The output of the full run is kept in ``docs/scripts/nested_check.txt``.
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np

from measurement_models import spectral
from samplers import free_energy, sample_nested, sample_replica_exchange
from samplers.comparison.targets import gaussian_shell

QUIET = {"progressbar": False, "compute_convergence_checks": False}
SEED = 1
DLOGZ = 0.1


def _timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - started


def _per_chain(values) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run (short runs)")
    args = parser.parse_args(argv)
    logging.getLogger("pymc").setLevel(logging.ERROR)
    if args.quick:
        ks, dims, spectrum_live, shell_live = (1,), (2,), 50, 50
        re_sizes = {"draws": 200, "tune": 200, "n_replicas": 8}
    else:
        ks, dims, spectrum_live, shell_live = (1, 2, 3), (2, 5, 10), 400, 500
        re_sizes = {}
    started = time.perf_counter()

    print("Nagata spectrum: replica exchange (stepping stone) and nested sampling, one core")
    print(
        "| K | RE F ± MCSE | RE wall | nested F ± MCSE | nested per run | nested wall "
        "| likelihood calls | difference / combined SE |"
    )
    print("|---|---|---|---|---|---|---|---|")
    data = spectral.simulate_reference()
    for k in ks:
        model = spectral.build_model(data, n_peaks=k)
        idata, re_wall = _timed(
            sample_replica_exchange, model=model, random_seed=SEED, cores=1, **QUIET, **re_sizes
        )
        re_fe = free_energy(idata)
        nested, nested_wall = _timed(
            sample_nested, model, live_points=spectrum_live, dlogz=DLOGZ, random_seed=SEED
        )
        fe = free_energy(nested)
        z = (fe.value - re_fe.value) / np.hypot(fe.mcse, re_fe.mcse)
        calls = int(nested["sample_stats"]["n_likelihood_calls"].sum())
        print(
            f"| {k} | {re_fe.value:.3f} ± {re_fe.mcse:.3f} | {re_wall:.0f} s | "
            f"{fe.value:.3f} ± {fe.mcse:.3f} | {_per_chain(fe.per_chain)} | "
            f"{nested_wall:.0f} s | {calls:,} | {z:+.1f} |",
            flush=True,
        )

    print()
    print("Gaussian shells (Feroz, Hobson & Bridges 2009): exact log Z against nested sampling")
    print(
        "| d | exact log Z | nested log Z ± MCSE | nested per run | error / MCSE "
        "| within 3 MCSE + dlogz | nested wall |"
    )
    print("|---|---|---|---|---|---|---|")
    for d in dims:
        target = gaussian_shell(d)
        nested, wall = _timed(
            sample_nested, target.model(), live_points=shell_live, dlogz=DLOGZ, random_seed=SEED
        )
        fe = free_energy(nested)
        error = -fe.value - target.log_evidence
        within = abs(error) < 3 * fe.mcse + DLOGZ
        print(
            f"| {d} | {target.log_evidence:.3f} | {-fe.value:.3f} ± {fe.mcse:.3f} | "
            f"{_per_chain(-fe.per_chain)} | {error / fe.mcse:+.1f} | "
            f"{'yes' if within else 'no'} | {wall:.0f} s |",
            flush=True,
        )
    print(f"\ntotal {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
