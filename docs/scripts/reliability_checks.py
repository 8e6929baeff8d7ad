"""How often the reliability checks of a replica-exchange F fire, and when they should.

Evidence for issue 22: :func:`samplers.evidence.reliability.free_energy_reliability`
(round trips, chains' agreement, mode census) on

- the Nagata spectrum, K = 1 ... 5 (:func:`measurement_models.spectral.simulate_reference`),
  where replica exchange is right (docs/free-energy.md): every F should be trusted;
- :func:`samplers.comparison.targets.unequal_width` with the narrow mode 10 times
  narrower in 4, 3 or 2 of 10 coordinates (exact log Z), five seeds each: a run whose
  error exceeds the tolerance of issue 22, 3 MCSE + 0.15 nats, should be flagged.

Every run is :func:`samplers.sample_replica_exchange` at its defaults (4 chains,
2000 + 2000 draws, 32 replicas); the census uses 1000 prior starts and 25 draws of each
chain. Prints one row per run and, for the targets, how many runs were detected
(outside the tolerance and flagged), missed (outside, trusted), flagged although within
the tolerance, and rightly trusted. Seeds are fixed. A measurement, not a test.

    python docs/scripts/reliability_checks.py           # the full run (about 5 minutes)
    python docs/scripts/reliability_checks.py --quick   # smoke run

The output of the full run is kept in ``docs/scripts/reliability_checks.txt``.
"""

from __future__ import annotations

import argparse
import logging
import time

from measurement_models import spectral
from samplers import sample_replica_exchange
from samplers.comparison.targets import unequal_width
from samplers.evidence.reliability import free_energy_reliability

NARROWED = (4, 3, 2)
SEEDS = (1, 2, 3, 4, 5)
TOLERANCE_NATS = 0.15
QUIET = {"progressbar": False, "compute_convergence_checks": False}


def _verdict(result) -> str:
    checks = zip(result["check"].values, result["passed"].values, strict=True)
    failed = [str(check) for check, passed in checks if not passed]
    return "trusted" if not failed else "flagged: " + ", ".join(failed)


def _stepping_stone(idata) -> tuple[float, float]:
    row = idata["free_energy"].to_dataset().sel(estimator="stepping_stone")
    return float(row["free_energy"]), float(row["mcse"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run (short runs)")
    args = parser.parse_args(argv)
    logging.getLogger("pymc").setLevel(logging.ERROR)
    sizes = {"draws": 200, "tune": 200, "n_replicas": 8} if args.quick else {}
    ks, narrowed, seeds = ((2,), (4,), (1,)) if args.quick else ((1, 2, 3, 4, 5), NARROWED, SEEDS)
    starts = 50 if args.quick else 1000
    started = time.perf_counter()

    print("Nagata spectrum (replica exchange is right here): every F should be trusted")
    print("| K | F ± MCSE | census bias | chains' χ² p | round trips (min) | verdict |")
    print("|---|---|---|---|---|---|")
    data = spectral.simulate_reference()
    for k in ks:
        model = spectral.build_model(data, n_peaks=k)
        idata = sample_replica_exchange(model=model, random_seed=1, **QUIET, **sizes)
        result = free_energy_reliability(idata, model, starts=starts)
        value, mcse = _stepping_stone(idata)
        print(
            f"| {k} | {value:.3f} ± {mcse:.3f} | {float(result['census_bias']):.3f} | "
            f"{float(result['agreement_p']):.2g} | {int(result['round_trips'].min())} | "
            f"{_verdict(result)} |"
        )

    print()
    print(
        "Unequal-width targets (exact log Z): a run with |error| > 3 MCSE + "
        f"{TOLERANCE_NATS} nats should be flagged"
    )
    print(
        "| narrowed | seed | F error ± MCSE | outside tolerance | narrow-mode draws | "
        "census bias | chains' χ² p | verdict |"
    )
    print("|---|---|---|---|---|---|---|---|")
    counts = {"detected": 0, "missed": 0, "flagged within tolerance": 0, "rightly trusted": 0}
    for n in narrowed:
        target = unequal_width(narrow_coordinates=n)
        model = target.model()
        for seed in seeds:
            idata = sample_replica_exchange(model=model, random_seed=seed, **QUIET, **sizes)
            result = free_energy_reliability(idata, model, starts=starts)
            value, mcse = _stepping_stone(idata)
            error = value + target.log_evidence  # F − F_exact
            outside = abs(error) > 3 * mcse + TOLERANCE_NATS
            trusted = bool(result.attrs["trusted"])
            narrow = float(target.mode_fractions(idata)[1])
            key = {
                (True, False): "detected",
                (True, True): "missed",
                (False, False): "flagged within tolerance",
                (False, True): "rightly trusted",
            }[(outside, trusted)]
            counts[key] += 1
            print(
                f"| {n} of 10 | {seed} | {error:+.3f} ± {mcse:.3f} | {'yes' if outside else 'no'} "
                f"| {narrow:.1%} (exact 50%) | {float(result['census_bias']):.3f} | "
                f"{float(result['agreement_p']):.2g} | {_verdict(result)} |"
            )
    print()
    print("Targets: " + ", ".join(f"{key} {value}" for key, value in counts.items()))
    print(f"total time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
