"""Where the tempered path starts: the prior, a variational Gaussian or the census's modes.

Evidence for issue 22 (the cure): :func:`samplers.sample_replica_exchange` with
``reference="prior"``, ``"variational"`` and ``"modes"`` on targets with exact log Z and
mode weights (:mod:`samplers.comparison.targets`):

- :func:`~samplers.comparison.targets.unequal_width`, two modes of equal mass, the
  narrow one 10 times narrower in 3, 4 or 6 of 10 coordinates;
- the same with 4 narrowed coordinates and unequal masses (narrow mode 0.2 and 0.8);
- :func:`~samplers.comparison.targets.three_modes` (widths 1, 1/3, 1/10 in 4 of 10
  coordinates, masses 0.5, 0.3, 0.2);
- the straight line of :mod:`measurement_models.linear` (exact evidence, one mode): the
  evidence must not move with the reference.

Every run is at the defaults (4 chains, 2000 + 2000 draws, 32 replicas, componentwise
moves); the fitted references add a pilot of 4 ladders x 1000 tuning iterations and,
for ``"modes"``, a census with 100 + 100 L-BFGS starts and a screen of 4000 prior draws.
Each row gives the error of log Z against the exact value with its MCSE, whether it is
within issue 22's tolerance (3 MCSE + 0.15 nats), the largest error of a mode's weight,
the reliability verdict (:func:`samplers.evidence.reliability.free_energy_reliability`,
100 L-BFGS starts) and the wall time. Seeds are fixed. A measurement, not a test.

    python docs/scripts/reference_paths.py           # the full run (about 40 minutes)
    python docs/scripts/reference_paths.py --quick   # smoke run

The output of the full run is kept in ``docs/scripts/reference_paths.txt``.
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np

from measurement_models import linear
from samplers import sample_replica_exchange
from samplers.comparison.targets import three_modes, unequal_width
from samplers.evidence.reliability import free_energy_reliability

REFERENCES = ("prior", "variational", "modes")
SEEDS = (1, 2)
TOLERANCE_NATS = 0.15
QUIET = {"progressbar": False, "compute_convergence_checks": False, "cores": 1}


def _targets(quick: bool) -> dict:
    if quick:
        return {"narrow in 4 of 10": unequal_width(narrow_coordinates=4)}
    return {
        "narrow in 3 of 10": unequal_width(narrow_coordinates=3),
        "narrow in 4 of 10": unequal_width(narrow_coordinates=4),
        "narrow in 6 of 10": unequal_width(narrow_coordinates=6),
        "narrow in 4 of 10, mass 0.2": unequal_width(narrow_coordinates=4, weights=0.2),
        "narrow in 4 of 10, mass 0.8": unequal_width(narrow_coordinates=4, weights=0.8),
        "three modes": three_modes(),
    }


def _stepping_stone(idata) -> tuple[float, float]:
    row = idata["free_energy"].to_dataset().sel(estimator="stepping_stone")
    return float(row["free_energy"]), float(row["mcse"])


def _verdict(result) -> str:
    checks = zip(result["check"].values, result["passed"].values, strict=True)
    failed = [str(check) for check, passed in checks if not passed]
    return "trusted" if not failed else "flagged: " + ", ".join(failed)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run (short runs)")
    args = parser.parse_args(argv)
    logging.getLogger("pymc").setLevel(logging.ERROR)
    sizes = {"draws": 300, "tune": 300, "n_replicas": 12, "chains": 2} if args.quick else {}
    seeds = (1,) if args.quick else SEEDS
    started = time.perf_counter()

    print(
        "| target | reference | seed | log Z error ± MCSE | within 3 MCSE + 0.15 | "
        "largest mode-weight error | verdict | wall time |"
    )
    print("|---|---|---|---|---|---|---|---|")
    summary: dict[str, list[int]] = {reference: [0, 0] for reference in REFERENCES}
    for name, target in _targets(args.quick).items():
        model = target.model()
        for reference in REFERENCES:
            for seed in seeds:
                tic = time.perf_counter()
                idata = sample_replica_exchange(
                    model=model, reference=reference, random_seed=seed, **QUIET, **sizes
                )
                seconds = time.perf_counter() - tic
                result = free_energy_reliability(idata, model)
                value, mcse = _stepping_stone(idata)
                error = -value - target.log_evidence  # log Z − exact log Z
                within = abs(error) <= 3 * mcse + TOLERANCE_NATS
                weights = np.max(np.abs(target.mode_fractions(idata) - target.mode_weights))
                summary[reference][0] += int(within)
                summary[reference][1] += 1
                print(
                    f"| {name} | {reference} | {seed} | {error:+.3f} ± {mcse:.3f} | "
                    f"{'yes' if within else 'no'} | {weights:.3f} | {_verdict(result)} | "
                    f"{seconds:.0f} s |"
                )

    print()
    print("Straight line (exact evidence, one mode): the evidence must not move")
    print("| reference | F − F exact ± MCSE | wall time |")
    print("|---|---|---|")
    data, _ = linear.example_data(0)
    line = linear.build_model(data, n_terms=2, sigma=0.3)
    exact = -linear.exact_log_evidence(data["x"].values, data["y"].values, 0.3, 2)
    for reference in REFERENCES:
        tic = time.perf_counter()
        idata = sample_replica_exchange(model=line, reference=reference, random_seed=1, **QUIET)
        value, mcse = _stepping_stone(idata)
        print(f"| {reference} | {value - exact:+.4f} ± {mcse:.4f} | "
              f"{time.perf_counter() - tic:.0f} s |")  # fmt: skip

    print()
    print(
        "Runs within the tolerance: "
        + ", ".join(f"{ref} {ok} of {n}" for ref, (ok, n) in summary.items())
    )
    print(f"total time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
