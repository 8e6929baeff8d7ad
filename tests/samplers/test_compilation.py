"""The same bits from a fresh compile and from the compile cache (``samplers.compilation``),
and from a chain process that was spawned rather than forked.

The cache cases run in fresh processes that compile into new, empty PyTensor compile
directories: the first process into a directory compiles cold, a later one loads from
the cache.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pymc as pm
import pytest

from samplers import sample_replica_exchange

CHILD = """
import json
import numpy as np
from pymc.pytensorf import compile as compile_pymc
from measurement_models import spectral
from samplers.replica_exchange.tempered_density import TemperedDensity
model = spectral.build_model(spectral.simulate_reference(), n_peaks=2)
point = model.initial_point()
x0 = np.concatenate([np.ravel(point[v.name]) for v in model.value_vars])
x = x0 + 0.1 * np.random.default_rng(0).standard_normal((32, x0.size))
if {fast_math}:  # PyMC's compile with PyTensor's default (fast-math) flags
    function = compile_pymc([v for v in model.value_vars], [model.datalogp])
    shapes = [np.shape(point[v.name]) for v in model.value_vars]
    sizes = np.cumsum([int(np.prod(s)) for s in shapes])[:-1]
    def one(row):
        return function(*[p.reshape(s) for p, s in zip(np.split(row, sizes), shapes)])[0]
    log_lik = [float(one(row)) for row in x]
else:
    log_lik = TemperedDensity(model, model.value_vars, point)(x)[1].tolist()
print(json.dumps(log_lik))
"""


RUN_CHILD = """
import json
from measurement_models import spectral
from samplers import sample_replica_exchange
model = spectral.build_model(spectral.simulate_reference(), n_peaks=2)
idata = sample_replica_exchange(
    model=model, draws=200, tune=200, chains=1, n_replicas=8, random_seed=1,
    progressbar=False, compute_convergence_checks=False,
)
print(json.dumps(idata["posterior"]["mu"].values.ravel().tolist()))
"""


def _in_fresh_process(code: str, compiledir) -> np.ndarray:
    """The JSON list ``code`` prints, from a new Python process compiling into
    ``compiledir``."""
    env = os.environ | {
        "PYTENSOR_FLAGS": f"base_compiledir={compiledir}",
        "NUMBA_CACHE_DIR": str(compiledir / "numba"),
    }
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    return np.array(json.loads(done.stdout.strip().splitlines()[-1]))


def _cold_then_warm(tmp_path, fast_math: bool) -> tuple[np.ndarray, np.ndarray]:
    code = CHILD.format(fast_math=fast_math)
    return _in_fresh_process(code, tmp_path), _in_fresh_process(code, tmp_path)


def test_same_seed_same_draws_with_any_compile_cache(tmp_path):
    """A short replica-exchange run: cold in one empty compile directory, again warm in
    it, and cold in another empty one. The draws are the same to the last bit."""
    first, second = tmp_path / "a", tmp_path / "b"
    cold = _in_fresh_process(RUN_CHILD, first)
    warm = _in_fresh_process(RUN_CHILD, first)
    other = _in_fresh_process(RUN_CHILD, second)
    np.testing.assert_array_equal(cold, warm)
    np.testing.assert_array_equal(cold, other)


def test_negative_control_fast_math_differs_between_cold_and_warm(tmp_path):
    """PyTensor's default flags give the density other bits from the cache on this model
    (what the test above guards against); if PyTensor stops doing that, there is nothing
    to show."""
    cold, warm = _cold_then_warm(tmp_path, fast_math=True)
    if np.array_equal(cold, warm):
        pytest.skip("PyTensor's fast-math compile now gives the same bits from the cache")
    assert np.abs(cold - warm).max() < 1e-9 * np.abs(warm).max()  # last bits only


def _line_model() -> pm.Model:
    rng = np.random.default_rng(0)
    x = np.linspace(-1.0, 2.0, 200)
    y = 0.5 + 1.3 * x + 0.3 * rng.standard_normal(x.size)
    with pm.Model() as model:
        a = pm.Normal("a", 0.0, 2.0)
        b = pm.Normal("b", 0.0, 2.0)
        pm.Normal("y", a + b * x, 0.3, observed=y)
    return model


def test_spawned_chain_processes_give_the_draws_of_forked_ones():
    """A chain process that is not forked unpickles the step, which recompiles its
    density; it must compile it as the parent did (without fast math), or its draws
    drift from those of a forked process (they did, by 9e-9 after 600 iterations)."""
    draws = {}
    for context in ("fork", "spawn"):
        idata = sample_replica_exchange(
            model=_line_model(), draws=300, tune=300, chains=2, cores=2, n_replicas=8,
            random_seed=1, mp_ctx=context, progressbar=False, compute_convergence_checks=False,
        )  # fmt: skip
        draws[context] = idata["posterior"]["a"].values
    np.testing.assert_array_equal(draws["fork"], draws["spawn"])
