r"""Benchmark of the Hermitian eigen-solver Ops and of the Hamiltonian models built on them.

Run it with ``python -m measurement_models.hermitian_benchmark`` (``--quick`` for a
smoke-sized run). It is a measurement, not a test: nothing is asserted. All numbers of
one table come from one process, one after the other, so their ratios are meaningful.

1. **Op throughput**, for each Op at the sizes the models use (eigh of a 4×4, a 6×6
   crystal-field and a 14×14 matrix; thermal averages of a 6×6 Hamiltonian at 350
   temperatures; Mössbauer transition lines 4×2 with three transition operators):

   * *batched*: one compiled PyTensor function (numba backend) solving ``batch`` parameter
     sets in one call (the Op's ``Blockwise`` signature);
   * *one at a time*: the compiled core function called once per parameter set from
     Python (what a sampler without batching pays);
   * *NumPy*: ``numpy.linalg.eigh`` on the same complex matrices, batched (NumPy's own
     stacked ``eigh``) and in a Python loop — the reference for what the numba kernel
     costs against LAPACK through NumPy;
   * *value + gradient, batched*: the compiled function and its pullback for a scalar
     function of all outputs.

   Reported as solves per second and ratios.
2. **Model log-density + gradient** for the registered Hamiltonian models (crystal
   field, Mössbauer) at their example data: the compiled ``logp`` and ``dlogp`` of PyMC
   (numba backend) per call, against the model's own bare NumPy forward model of the
   same data (the physics only, no gradient): ``bare_numpy_crystal_field`` and
   ``bare_numpy_mossbauer``, checked to agree with the models' forward before timing.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

import numpy as np
import pytensor
import pytensor.tensor as pt

from . import hermitian
from .parameters import transformed_point

__all__ = ["main", "model_costs", "op_throughput"]


def _timed(function: Callable[[], object], repeats: int) -> float:
    """Seconds per call (best of three rounds of ``repeats`` calls, after a warm-up)."""
    function()
    best = np.inf
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeats):
            function()
        best = min(best, (time.perf_counter() - start) / repeats)
    return best


def _random_hermitian(rng: np.random.Generator, batch: int, n: int) -> np.ndarray:
    z = rng.normal(size=(batch, n, n)) + 1j * rng.normal(size=(batch, n, n))
    return (z + np.conj(np.swapaxes(z, -1, -2))) / 2


def _cases(rng: np.random.Generator, batch: int) -> list[dict]:
    """Op, symbolic inputs (batched and core), and the NumPy arrays of each benchmark case."""
    cases = []
    for n in (4, 6, 14):
        h = _random_hermitian(rng, batch, n)
        cases.append(
            {
                "name": f"eigh {n}×{n}",
                "function": lambda x, y: hermitian.eigh(x, y)[0],
                "values": [h.real.copy(), h.imag.copy()],
                "core_ndims": (2, 2),
                "numpy": lambda h=h: np.linalg.eigh(h),
                "numpy_one": lambda h=h: [np.linalg.eigh(m) for m in h],
            }
        )
    h = _random_hermitian(rng, batch, 6)
    a = _random_hermitian(rng, 1, 6)
    beta = 1.0 / np.linspace(0.2, 70.0, 350)
    cases.append(
        {
            "name": "thermal average 6×6, 350 T",
            "function": lambda x, y: hermitian.thermal_average(x, y, a.real, a.imag, beta),
            "values": [h.real.copy(), h.imag.copy()],
            "core_ndims": (2, 2),
            "numpy": None,
            "numpy_one": None,
        }
    )
    he, hg = _random_hermitian(rng, batch, 4), _random_hermitian(rng, batch, 2)
    t = rng.normal(size=(3, 4, 2)) + 1j * rng.normal(size=(3, 4, 2))
    cases.append(
        {
            "name": "transition lines 4×2, 3 operators",
            "function": lambda xe, ye, xg, yg: hermitian.transition_lines(
                xe, ye, xg, yg, t.real, t.imag
            )[1],
            "values": [he.real.copy(), he.imag.copy(), hg.real.copy(), hg.imag.copy()],
            "core_ndims": (2, 2, 2, 2),
            "numpy": None,
            "numpy_one": None,
        }
    )
    return cases


def _measure(case: dict, batch: int, repeats: int) -> dict:
    values = case["values"]
    batched_inputs = [pt.tensor(shape=(None,) * (nd + 1)) for nd in case["core_ndims"]]
    core_inputs = [pt.tensor(shape=(None,) * nd) for nd in case["core_ndims"]]
    out = case["function"](*batched_inputs)
    batched = pytensor.function(batched_inputs, out)
    gradient = pytensor.function(
        batched_inputs, [out, *pytensor.grad(pt.sum(out**2), batched_inputs)]
    )
    core = pytensor.function(core_inputs, case["function"](*core_inputs))
    singles = [[v[k] for v in values] for k in range(batch)]
    row = {
        "case": case["name"],
        "batched": batch / _timed(lambda: batched(*values), repeats),
        "one_at_a_time": batch / _timed(lambda: [core(*s) for s in singles], 1),
        "value_and_gradient": batch / _timed(lambda: gradient(*values), repeats),
    }
    if case["numpy"] is not None:
        row["numpy_batched"] = batch / _timed(case["numpy"], repeats)
        row["numpy_loop"] = batch / _timed(case["numpy_one"], 1)
    return row


def op_throughput(batch: int = 1000, repeats: int = 5, seed: int = 0) -> list[dict]:
    """Solves per second of every Op, batched and one at a time (see the module docstring)."""
    rng = np.random.default_rng(seed)
    return [_measure(case, batch, repeats) for case in _cases(rng, batch)]


def _format_ops(rows: list[dict]) -> str:
    columns = ("batched", "one_at_a_time", "value_and_gradient", "numpy_batched", "numpy_loop")
    head = f"{'Op':36s}" + "".join(f"{c:>20s}" for c in columns) + f"{'batched/one':>13s}"
    lines = ["Op throughput, solves per second", head]
    for row in rows:
        cells = "".join(f"{row[c]:>20.3g}" if c in row else f"{'—':>20s}" for c in columns)
        lines.append(f"{row['case']:36s}{cells}{row['batched'] / row['one_at_a_time']:>13.1f}")
    return "\n".join(lines)


def bare_numpy_crystal_field(temperature: np.ndarray, params: dict, observable: str):
    """Ce³⁺ tetragonal C or 1/χ in plain vectorised NumPy (``numpy.linalg.eigh``).

    The reference for the model's cost: the same physics as
    :func:`measurement_models.crystal_field.forward` (field 0.01 T along z), no Ops.
    """
    from . import crystal_field, stevens

    ion = crystal_field.get_ion("Ce3+")
    h_re, h_im = crystal_field.hamiltonian(ion, symmetry="tetragonal", **params)
    h = h_re + 1j * h_im
    if observable == "specific_heat":
        energies = np.linalg.eigvalsh(h)
        x = (energies - energies[0])[None, :] / temperature[:, None]
        p = np.exp(-x)
        p /= p.sum(axis=1, keepdims=True)
        mean = (p * x).sum(axis=1)
        return crystal_field.R_GAS * ((p * x**2).sum(axis=1) - mean**2)
    jz = stevens.angular_momentum(ion.j)[2]
    field = crystal_field.SMALL_FIELD
    energies, vectors = np.linalg.eigh(h + ion.g * crystal_field.MU_B_OVER_K_B * field * jz)
    moment = -ion.g * np.einsum("ai,ab,bi->i", vectors.conj(), jz, vectors).real
    x = (energies - energies[0])[None, :] / temperature[:, None]
    p = np.exp(-x)
    p /= p.sum(axis=1, keepdims=True)
    chi = crystal_field.EMU_PER_MU_B_PER_TESLA * (p @ moment) / field
    return 1.0 / chi


def _crystal_field_cases() -> list[dict]:
    from . import crystal_field

    data = crystal_field.simulate_reference("tetragonal", "low", rng=0)
    truth = dict(crystal_field.REFERENCES["okada_tetragonal"].params)
    cases = []
    for observable, dataset in data.items():
        temperature = dataset["temperature"].values
        reference = crystal_field.forward(
            temperature, observable=observable, symmetry="tetragonal", **truth
        )
        bare = bare_numpy_crystal_field(temperature, truth, observable)
        if not np.allclose(bare, reference, rtol=1e-9, atol=0):
            raise RuntimeError(f"bare NumPy {observable} disagrees with the model's forward")
        cases.append(
            {
                "name": f"crystal field Ce³⁺ tetragonal, {observable}, 350 T",
                "model": crystal_field.build_model(
                    dataset, symmetry="tetragonal", observable=observable
                ),
                "point": truth,
                "numpy": lambda t=temperature, o=observable: bare_numpy_crystal_field(t, truth, o),
            }
        )
    return cases


def bare_numpy_mossbauer(velocity: np.ndarray, truth: dict) -> np.ndarray:
    """Expected counts of a powder spectrum with magnetic sites, in plain NumPy.

    ``numpy.linalg.eigh`` of every site's H_e and H_g (stacked), powder intensities from
    the Cartesian transition operators, area-normalised Lorentzians; the same physics as
    :func:`measurement_models.mossbauer.forward`, no Ops.
    """
    from . import mossbauer

    he_re, he_im, hg_re, hg_im = mossbauer.hamiltonians(B_hf=truth["B_hf"], A=truth["A"])
    w_e, v_e = np.linalg.eigh(he_re + 1j * he_im)
    w_g, v_g = np.linalg.eigh(hg_re + 1j * hg_im)
    t_re, t_im = mossbauer.transition_operators("powder")
    t = t_re + 1j * t_im
    m = np.einsum("sai,qab,sbj->sqij", v_e.conj(), t, v_g)
    intensity = (np.abs(m) ** 2).sum(axis=1)
    intensity /= intensity.sum(axis=(1, 2), keepdims=True)
    positions = truth["delta"][:, None, None] + w_e[:, :, None] - w_g[:, None, :]
    gamma = truth["gamma"][:, None, None, None]
    u = velocity - positions[..., None]
    lorentz = gamma / (2 * np.pi) / (u**2 + gamma**2 / 4)
    absorption = np.einsum("s,sijv->v", truth["fraction"], intensity[..., None] * lorentz)
    return truth["baseline"] * (1 - truth["epsilon"] * absorption)


def _mossbauer_cases() -> list[dict]:
    from . import mossbauer

    data = mossbauer.simulate_magnetite(baseline=1e5, rng=0)
    ref = mossbauer.REFERENCES["magnetite_300k"].params
    truth = {key: ref[key] for key in ("delta", "B_hf", "fraction", "gamma", "A", "epsilon")}
    truth["baseline"] = 1e5
    velocity = data["velocity"].values
    reference = mossbauer.forward(
        velocity,
        delta=truth["delta"],
        gamma=truth["gamma"],
        epsilon=truth["epsilon"],
        baseline=truth["baseline"],
        B_hf=truth["B_hf"],
        fraction=truth["fraction"],
    )
    if not np.allclose(bare_numpy_mossbauer(velocity, truth), reference, rtol=1e-10, atol=0):
        raise RuntimeError("bare NumPy Mössbauer spectrum disagrees with the model's forward")
    return [
        {
            "name": "Mössbauer magnetite, 2 sextets, 256 velocities",
            "model": mossbauer.build_model(data, variant="sextet", n_sites=2),
            "point": {k: truth[k] for k in ("delta", "gamma", "B_hf", "fraction", "epsilon")}
            | {"baseline": truth["baseline"]},
            "numpy": lambda: bare_numpy_mossbauer(velocity, truth),
        }
    ]


def _model_cases() -> list[dict]:
    return _crystal_field_cases() + _mossbauer_cases()


def model_costs(repeats: int = 200) -> list[dict]:
    """Seconds per call of log-density, log-density + gradient, and bare NumPy forward."""
    rows = []
    for case in _model_cases():
        model = case["model"]
        point = model.initial_point() | transformed_point(model, case["point"])
        logp = model.compile_logp()
        dlogp = model.compile_dlogp()
        rows.append(
            {
                "case": case["name"],
                "logp": _timed(lambda logp=logp, point=point: logp(point), repeats),
                "logp_and_gradient": _timed(
                    lambda logp=logp, dlogp=dlogp, point=point: (logp(point), dlogp(point)),
                    repeats,
                ),
                "numpy_forward": _timed(case["numpy"], repeats),
            }
        )
    return rows


def _format_models(rows: list[dict]) -> str:
    head = f"{'model':60s}{'logp [µs]':>12s}{'logp+grad [µs]':>16s}{'NumPy fwd [µs]':>16s}"
    lines = ["Model log-density and gradient, per call", head]
    for row in rows:
        lines.append(
            f"{row['case']:60s}{row['logp'] * 1e6:>12.1f}{row['logp_and_gradient'] * 1e6:>16.1f}"
            f"{row['numpy_forward'] * 1e6:>16.1f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke-sized run")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    batch, repeats = (50, 1) if args.quick else (1000, 5)
    print(_format_ops(op_throughput(batch, repeats, args.seed)))
    print()
    print(_format_models(model_costs(20 if args.quick else 200)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
