"""Gradient moves against random-walk moves inside the replicas: ESS per evaluation and
per second at β = 1, and the free energy.

Evidence for issue 22, part 3. On three models,

- the Nagata spectrum (:func:`measurement_models.spectral.simulate_reference`) fitted with
  K = 5 and K = 10 Gaussians (15 and 30 parameters);
- the Fe K pre-edge of Fe2O3 with K = 4 Gaussians, the window, priors and edge of
  ``case_studies/xanes_fe_k_edge.py`` (the measured spectrum ``fe2o3_rt1.xmu`` of the
  xraylarch examples, read from :func:`samplers.app.case_studies.real_data_dir`; when it
  is absent, the simulated spectrum :func:`measurement_models.xanes.example_data` with
  K = 2, and the output says so),

every update of :class:`samplers.ReplicaExchange` (``componentwise``, ``adaptive``,
``mala``, ``hmc``) runs :func:`samplers.sample_replica_exchange` with the same settings
and seed, at equal cost per recorded iteration: ``n_sweeps`` is set so that every update
spends about ``dim`` value-call equivalents per iteration, as one componentwise sweep
does (``--sweeps one``: one sweep of every update instead). First the cost of one
gradient call (values and gradients of all replicas,
:meth:`~samplers.replica_exchange.tempered_density.TemperedDensity.gradient`) is
measured against one value call on the same batch (median of repeated calls), and every
update's evaluations are counted in value calls: componentwise ``dim`` per sweep,
adaptive 1, MALA one gradient call, HMC ``HMC_STEPS`` gradient calls. Reported per
update: the β = 1 acceptance, the smallest bulk ESS over the parameters (ArviZ; small
wherever peaks swap labels) and the ESS of the β = 1 log-likelihood, both per 1000
value-call equivalents of the recorded draws and per second of sampling (tuning
included, compilation excluded), the largest R-hat, and F ± MCSE (stepping stone)
against the long reference where docs/free-energy.md or docs/xanes.md
has one. Seeds are fixed. A measurement, not a test.

    python docs/scripts/gradient_moves.py           # the full run (about 18 minutes)
    python docs/scripts/gradient_moves.py --quick   # smoke run
    python docs/scripts/gradient_moves.py --sweeps one   # one sweep per iteration (~8 min)

The output of the full runs is kept in ``docs/scripts/gradient_moves.txt`` and
``docs/scripts/gradient_moves_one_sweep.txt``.
"""

from __future__ import annotations

import argparse
import logging
import time

import arviz as az
import numpy as np
import pymc as pm

from measurement_models import spectral, xanes
from measurement_models.parameters import Prior
from samplers import ReplicaExchange, sample_replica_exchange
from samplers.app.case_studies import real_data_dir
from samplers.replica_exchange.gradient_moves import HMC_STEPS

UPDATES = ("componentwise", "adaptive", "mala", "hmc")
QUIET = {"progressbar": False, "compute_convergence_checks": False}
#: As in case_studies/xanes_fe_k_edge.py: the pre-edge window and the edge above it.
XANES_WINDOW = (7106.0, 7118.0)
XANES_PRIORS = {
    **xanes.PRE_EDGE_PRIORS,
    "E0": Prior("Uniform", lower=7117.0, upper=7140.0),
}
#: Long references: docs/free-energy.md (Nagata K = 5, 4 chains x 2000 + 6000, seed 0)
#: and docs/xanes.md (Fe2O3 K = 4, 4 chains x 20000 + 20000).
REFERENCES = {"Nagata K=5": (-242.239, 0.089), "Fe2O3 pre-edge K=4": (-138.96, 0.76)}


def models() -> dict[str, pm.Model]:
    data = spectral.simulate_reference()
    found = {
        "Nagata K=5": spectral.build_model(data, n_peaks=5),
        "Nagata K=10": spectral.build_model(data, n_peaks=10),
    }
    path = real_data_dir() / "fe2o3_rt1.xmu"
    if path.exists():
        spectrum = xanes.load(path, e0=7125.0)
        found["Fe2O3 pre-edge K=4"] = xanes.build_model(
            spectrum,
            n_gaussians=4,
            energy_window=XANES_WINDOW,
            white_line=False,
            priors=XANES_PRIORS,
        )
    else:
        print(f"{path} absent: the simulated XANES example (K = 2) instead")
        simulated, _ = xanes.example_data(0)
        found["simulated XANES K=2"] = xanes.build_model(simulated, n_gaussians=2)
    return found


def call_cost(model: pm.Model, n_replicas: int, repeats: int) -> tuple[float, float, int]:
    """Median seconds of one value call and one gradient call on a batch of replicas at
    prior draws (the gradient compiled first), and the dimension."""
    with model:
        step = ReplicaExchange(n_replicas=n_replicas, update="mala")
    density = step.density
    rng = np.random.default_rng(0)
    start = np.concatenate([np.ravel(v) for v in model.initial_point().values()])
    x = start + 0.1 * rng.standard_normal((n_replicas, density.dim))
    timings = {}
    for name, function in (("value", density), ("gradient", density.gradient)):
        function(x)
        seconds = []
        for _ in range(repeats):
            begin = time.perf_counter()
            function(x)
            seconds.append(time.perf_counter() - begin)
        timings[name] = float(np.median(seconds))
    return timings["value"], timings["gradient"], density.dim


def evaluations_per_sweep(update: str, dim: int, ratio: float) -> float:
    """Value-call equivalents of one sweep."""
    return {"componentwise": dim, "adaptive": 1.0, "mala": ratio, "hmc": HMC_STEPS * ratio}[update]


def equal_cost_sweeps(update: str, dim: int, ratio: float) -> int:
    """Sweeps per iteration that cost about what one componentwise sweep costs."""
    return max(1, round(dim / evaluations_per_sweep(update, dim, ratio)))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run (short runs)")
    parser.add_argument(
        "--sweeps",
        choices=("equal-cost", "one"),
        default="equal-cost",
        help="sweeps per iteration: equal cost for every update (default), or one",
    )
    args = parser.parse_args(argv)
    logging.getLogger("pymc").setLevel(logging.ERROR)
    settings = (
        dict(draws=100, tune=100, chains=2, n_replicas=8)
        if args.quick
        else dict(draws=1500, tune=1500, chains=2, n_replicas=32)
    )
    repeats = 20 if args.quick else 300
    print(
        f"settings: {settings['chains']} chains x {settings['n_replicas']} replicas, "
        f"{settings['tune']} tune + {settings['draws']} draws, one core, seed 1; "
        f"HMC: {HMC_STEPS} leapfrog steps; sweeps per iteration: {args.sweeps}"
    )
    started = time.perf_counter()
    for label, model in models().items():
        value_s, gradient_s, dim = call_cost(model, settings["n_replicas"], repeats)
        ratio = gradient_s / value_s
        reference = REFERENCES.get(label)
        print()
        print(
            f"{label}: dim {dim}; one call on {settings['n_replicas']} replicas: values "
            f"{1e6 * value_s:.0f} µs, values + gradients {1e6 * gradient_s:.0f} µs, "
            f"cost ratio {ratio:.2f}"
            + (f"; reference F = {reference[0]} ± {reference[1]}" if reference else "")
        )
        print(
            "| update | sweeps | accept β=1 | min ESS | ESS ℓ | min ESS /1000 evals | "
            "ESS ℓ /1000 evals | min ESS /s | ESS ℓ /s | max R-hat | time [s] | F ± MCSE | "
            "(F − ref)/σ |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for update in UPDATES:
            sweeps = 1 if args.sweeps == "one" else equal_cost_sweeps(update, dim, ratio)
            begin = time.perf_counter()
            idata = sample_replica_exchange(
                model=model,
                cores=1,
                random_seed=1,
                update=update,
                n_sweeps=sweeps,
                **settings,
                **QUIET,
            )
            seconds = time.perf_counter() - begin
            sampling = float(idata["posterior"].attrs.get("sampling_time", seconds))
            posterior = idata["posterior"].to_dataset()
            stats = idata["sample_stats"].to_dataset()
            ess = az.ess(posterior, method="bulk")
            min_ess = min(float(ess[name].min()) for name in ess.data_vars)
            rhat = az.rhat(posterior)
            max_rhat = max(float(rhat[name].max()) for name in rhat.data_vars)
            top = stats["replica_log_likelihood"].isel(level=-1)
            ess_lik = float(az.ess(top.values, method="bulk"))
            evaluations = (
                evaluations_per_sweep(update, dim, ratio)
                * sweeps
                * settings["draws"]
                * settings["chains"]
            )
            row = idata["free_energy"].to_dataset().sel(estimator="stepping_stone")
            value, mcse = float(row["free_energy"]), float(row["mcse"])
            against = "–"
            if reference:
                against = f"{(value - reference[0]) / np.hypot(mcse, reference[1]):+.1f}"
            print(
                f"| {update} | {sweeps} | {float(stats['accept'].mean()):.2f} | {min_ess:.0f} | "
                f"{ess_lik:.0f} | {1000 * min_ess / evaluations:.2f} | "
                f"{1000 * ess_lik / evaluations:.2f} | "
                f"{min_ess / sampling:.1f} | {ess_lik / sampling:.1f} | {max_rhat:.3f} | "
                f"{sampling:.0f} | {value:.2f} ± {mcse:.2f} | {against} |",
                flush=True,
            )
    print()
    print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
