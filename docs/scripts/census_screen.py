"""What the census's batched screen finds, and what it costs.

Evidence for issue 22: :func:`samplers.evidence.modes.mode_census` with 100 L-BFGS
starts from the prior alone, and with a batched screen of 1000 more prior draws
(``screen_starts=1000``: the draws climb together by gradient ascent on the batched
log-posterior, and only end points that no listed mode holds are refined by L-BFGS, at
most 200), on

- :func:`samplers.comparison.targets.unequal_width`, narrow in 4 and in 6 of 10
  coordinates, and :func:`samplers.comparison.targets.three_modes`, where the exact
  modes are known: does the census list every mode, and with which Laplace weight
  (exact: the targets' ``mode_weights``)?
- the Nagata spectrum at K = 3 and K = 5 (:func:`measurement_models.spectral.simulate_reference`),
  whose posterior is badly conditioned: how much of the screen ends unconverged and is
  passed to L-BFGS?

Wall times include compiling the batched log-posterior (the screen) and are measured
on a shared machine (its load is printed). Seeds are fixed. A measurement, not a test.

    python docs/scripts/census_screen.py            # the full run (a few minutes)
    python docs/scripts/census_screen.py --quick    # smoke run

The output of the full run is kept in ``docs/scripts/census_screen.txt``.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from measurement_models import spectral
from samplers.comparison.targets import three_modes, unequal_width
from samplers.evidence.modes import mode_census

SEEDS = (1, 2)


def _targets():
    for name, target in (
        ("unequal width, narrow in 4 of 10", unequal_width(narrow_coordinates=4)),
        ("unequal width, narrow in 6 of 10", unequal_width(narrow_coordinates=6)),
        ("three modes", three_modes()),
    ):
        yield name, target.model(), target
    data = spectral.simulate_reference()
    for k in (3, 5):
        yield f"Nagata spectrum, K = {k}", spectral.build_model(data, n_peaks=k), None


def _row(name, model, target, screen, seed) -> str:
    tic = time.perf_counter()
    census = mode_census(model, starts=100, screen_starts=screen, random_seed=seed)
    wall = time.perf_counter() - tic
    attrs = census.attrs
    weights = census["laplace_weight"].values
    found = ""
    if target is not None:
        # the weight the census gives each true mode (sum over census modes in it)
        owner = target.mode_of(census["point"].values)
        per_mode = [np.nansum(weights[owner == m]) for m in range(target.n_modes)]
        found = (
            " ".join(f"{w:.3f}" for w in per_mode)
            + " (exact "
            + " ".join(f"{w:.3f}" for w in target.mode_weights)
            + ")"
        )
    return (
        f"| {name} | {screen} | {seed} | {census.sizes['mode']} | {attrs['converged']} of "
        f"{attrs['starts']} | {attrs.get('screened', 0)} | {attrs.get('screen_held', 0)} | "
        f"{attrs.get('refined', 0)} | {found or '–'} | {wall:.1f} |"
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: screen of 200")
    args = parser.parse_args(argv)
    screens = (0, 200) if args.quick else (0, 1000)
    print(f"census: 100 L-BFGS prior starts; screens {screens}; seeds {SEEDS}")
    print(f"1-min load average at start: {os.getloadavg()[0]:.1f}")
    print(
        "| target | screen starts | seed | modes listed | L-BFGS converged | screened | "
        "screen end points held | refined | census weight of each true mode | wall s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    started = time.perf_counter()
    for name, model, target in _targets():
        for screen in screens:
            for seed in SEEDS:
                print(_row(name, model, target, screen, seed), flush=True)
    print(f"1-min load average at end: {os.getloadavg()[0]:.1f}")
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
