"""Does a log-density compiled afresh give the same bits as one from the compile cache?

Replica exchange and every other Markov chain here are chaotic in the last bits of the
log-density: two runs with the same seed repeat each other's draws only as long as every
accept/reject decision and swap sees the same numbers. This script compiles the log-
density of a few models in fresh Python processes that share one new, empty PyTensor
compile directory (``base_compiledir``; numba's cache inside it): the first process
compiles cold, the later ones load from the cache. The density is the batched one of
replica exchange (:class:`samplers.replica_exchange.tempered_density.TemperedDensity`),
compiled two ways per model: with PyTensor's default Numba flags (fast math on; PyMC's
compile), and as the package compiles it
(:func:`samplers.compilation.compile_reproducibly`, no fast math). Each process
evaluates the density at the same 64 points (seeded) and the script reports, per model
and way of compiling, the largest absolute and relative difference of the log-prior and
the log-likelihood between the cold process and the first warm one, and between the two
warm ones, and the seconds to compile and call it once, cold and warm. It also times
one call of the batched density on 32 replicas compiled each way, alternately in one
process, and reports the ratio of the medians.

    python docs/scripts/compile_cache_bits.py          # ~4 min on one core
    python docs/scripts/compile_cache_bits.py --quick  # one small model

Output: ``docs/scripts/compile_cache_bits.txt`` (a quick run writes to the temporary
folder).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "compile_cache_bits.txt"
#: Models (name: builder code run in the child process), each small enough to compile in
#: seconds. The XANES one needs the real data (BAYESMEAS_REAL_DATA).
MODELS = {
    "spectral K=3 (Nagata benchmark data)": (
        "from measurement_models import spectral\n"
        "data = spectral.simulate_reference()\n"
        "model = spectral.build_model(data, n_peaks=3)\n"
    ),
    "XANES Fe2O3 pre-edge K=2": (
        "import xanes_evidence as evidence\n"
        "from measurement_models import xanes\n"
        "from samplers.app.case_studies import real_data_dir\n"
        "c = evidence.case_study_constants()\n"
        "name, e0 = c['SPECTRA']['Fe2O3']\n"
        "data = xanes.load(real_data_dir() / name, e0=e0)\n"
        "energies, priors = evidence.window_setups(c)['pre-edge']\n"
        "model = evidence.build(data, 2, energies, priors)\n"
    ),
}
CHILD = """
import sys, json, time
import numpy as np
HERE = {here!r}
sys.path.insert(0, HERE)
from compile_cache_bits import batched_density
{builder}
point = model.initial_point()
x0 = np.concatenate([np.ravel(point[v.name]) for v in model.value_vars])
x = x0 + 0.1 * np.random.default_rng(0).standard_normal((64, x0.size))
tic = time.perf_counter()
log_prior, log_lik = batched_density(model, {fast_math})(x)
seconds = time.perf_counter() - tic
print(json.dumps([np.asarray(log_prior).tolist(), np.asarray(log_lik).tolist(), seconds]))
"""
#: The two ways of compiling compared: PyMC's compile with PyTensor's default fast math,
#: and the package's (:func:`samplers.compilation.compile_reproducibly`).
VARIANTS = {"PyTensor default (fast math)": True, "compile_reproducibly": False}


def evaluate(builder: str, compiledir: Path, fast_math: bool) -> tuple[np.ndarray, float]:
    """(log-prior, log-likelihood) at the fixed points, from a fresh process, and the
    seconds it took to compile the density and evaluate it once."""
    env = os.environ | {
        "PYTENSOR_FLAGS": f"base_compiledir={compiledir}",
        "NUMBA_CACHE_DIR": str(compiledir / "numba"),
    }
    code = CHILD.format(here=str(HERE), builder=builder, fast_math=fast_math)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    if done.returncode:
        raise RuntimeError(f"the child process failed:\n{done.stderr[-3000:]}")
    log_prior, log_lik, seconds = json.loads(done.stdout.strip().splitlines()[-1])
    return np.array([log_prior, log_lik]), seconds


def differences(a: np.ndarray, b: np.ndarray) -> str:
    absolute = np.abs(a - b).max(axis=1)
    relative = (np.abs(a - b) / np.abs(b)).max(axis=1)
    differing = (a != b).sum(axis=1)
    return (
        f"log-prior {absolute[0]:.1e} ({relative[0]:.1e} relative, {differing[0]}/64 differ); "
        f"log-likelihood {absolute[1]:.1e} ({relative[1]:.1e} relative, {differing[1]}/64 differ)"
    )


def batched_density(model, fast_math: bool):
    """The replica-exchange density of ``model``, compiled with or without fast math."""
    import pytensor
    from pymc.pytensorf import compile as compile_pymc

    import samplers.replica_exchange.tempered_density as tempered
    from samplers.replica_exchange.tempered_density import TemperedDensity

    def with_fast_math(*args, **kwargs):
        with pytensor.config.change_flags(numba__fastmath=True):
            return compile_pymc(*args, **kwargs)

    original = tempered.compile_reproducibly
    if fast_math:
        tempered.compile_reproducibly = with_fast_math
    try:
        return TemperedDensity(model, model.value_vars, model.initial_point())
    finally:
        tempered.compile_reproducibly = original


def speed_ratio(builder: str, repeats: int = 2000) -> str:
    """Median time per call of the batched density (32 replicas) without fast math over
    with it, the two timed alternately in this process (warm cache)."""
    import time

    namespace = {}
    exec(builder, namespace)
    model = namespace["model"]
    densities = {flag: batched_density(model, flag) for flag in (True, False)}
    point = model.initial_point()
    x0 = np.concatenate([np.ravel(point[v.name]) for v in model.value_vars])
    x = x0 + 0.1 * np.random.default_rng(0).standard_normal((32, x0.size))
    times = {True: [], False: []}
    for _ in range(repeats):
        for flag, density in densities.items():
            tic = time.perf_counter()
            density(x)
            times[flag].append(time.perf_counter() - tic)
    on, off = (float(np.median(times[flag])) for flag in (True, False))
    return f"{off * 1e6:.0f} µs without fast math, {on * 1e6:.0f} µs with; ratio {off / on:.2f}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the spectral model only")
    args = parser.parse_args(argv)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE
    ).stdout.strip()
    lines = [f"commit {commit}; three fresh processes per model sharing one new compile dir"]
    models = dict(list(MODELS.items())[:1]) if args.quick else MODELS
    for name, builder in models.items():
        for variant, fast_math in VARIANTS.items():
            with tempfile.TemporaryDirectory() as folder:
                runs = [evaluate(builder, Path(folder), fast_math) for _ in range(3)]
            (cold, cold_s), (warm, warm_s), (again, _) = runs
            lines.append(f"{name}, {variant}: cold vs warm: {differences(cold, warm)}")
            lines.append(f"{name}, {variant}: warm vs warm: {differences(warm, again)}")
            lines.append(
                f"{name}, {variant}: compile and first call {cold_s:.1f} s cold, "
                f"{warm_s:.1f} s warm"
            )
            print("\n".join(lines[-3:]), flush=True)
        lines.append(f"{name}, one call on 32 replicas (median): {speed_ratio(builder)}")
        print(lines[-1], flush=True)
    path = Path(tempfile.gettempdir()) / OUTPUT.name if args.quick else OUTPUT
    path.write_text("\n".join(lines) + "\n")
    print(f"written to {path}")


if __name__ == "__main__":
    main()
