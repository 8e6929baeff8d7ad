"""Samplers for precision curves: NUTS, and the Laplace approximation at the mode."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pymc as pm
import xarray as xr

from ..compilation import without_fast_math

__all__ = ["laplace_sampler", "nuts_sampler"]

#: ``sample(model, seed) -> DataTree``: how a model is sampled after each accumulation.
Sampler = Callable[[pm.Model, int], xr.DataTree]
_SAMPLE_DIMS = ("chain", "draw")


def nuts_sampler(
    draws: int = 1000, tune: int = 1000, chains: int = 4, progress: bool = False, **options
) -> Sampler:
    """``sample(model, seed)`` running PyMC's NUTS (``cores=1``) and returning its DataTree.

    ``options`` go to ``pm.sample`` (e.g. ``init="adapt_diag"``, ``initvals``,
    ``target_accept``, ``max_treedepth``).
    """

    def sample(model: pm.Model, seed: int) -> xr.DataTree:
        with model:
            return pm.sample(
                draws=draws,
                tune=tune,
                chains=chains,
                cores=1,
                random_seed=seed,
                progressbar=progress,
                compute_convergence_checks=False,
                **options,
            )

    sample.description = f"NUTS, {chains} chains x {draws} draws ({tune} tuning)"
    return sample


def _hessian(grad: Callable[[np.ndarray], np.ndarray], x: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Symmetrised central-difference Hessian of a log-density from its gradient."""
    columns = []
    for i in range(x.size):
        step = np.zeros_like(x)
        step[i] = h[i]
        columns.append((grad(x + step) - grad(x - step)) / (2 * h[i]))
    hess = np.array(columns)
    return (hess + hess.T) / 2


def _damped_newton(hess: np.ndarray, gradient: np.ndarray) -> np.ndarray:
    """Newton step uphill; Levenberg damping where the Hessian is not negative definite."""
    scale = np.maximum(np.abs(np.diag(hess)), 1e-12)
    for damping in (0.0, 1e-6, 1e-4, 1e-2, 1.0, 1e2, 1e4):
        try:
            chol = np.linalg.cholesky(-hess + damping * np.diag(scale))
        except np.linalg.LinAlgError:
            continue
        return np.linalg.solve(chol.T, np.linalg.solve(chol, gradient))
    return gradient / scale


def laplace_sampler(
    draws: int = 1000,
    chains: int = 4,
    initvals: Mapping | Callable[[], Mapping] | None = None,
    newton_steps: int = 50,
) -> Sampler:
    r"""``sample(model, seed)`` drawing from the Laplace approximation of the posterior.

    In the unconstrained space of the model's value variables, Newton steps from
    ``initvals`` find the mode :math:`\hat x` of the log-density (with the transforms'
    Jacobians), the Hessian :math:`H` is taken by central differences of the compiled
    gradient (steps of 0.2 of the approximate posterior sd), and
    :math:`x \sim \mathcal N(\hat x, (-H)^{-1})` is mapped back to the constrained
    variables. The compiled functions are kept per model (a model whose ``pm.Data``
    change between calls is compiled once). Exact for a Gaussian posterior; for
    count-rich data (Bernstein–von Mises) a fast stand-in for MCMC, to be checked
    against it. ``initvals`` (constrained values by name) may be a function called at
    each sampling, e.g. to start each accumulated dataset at its own least-squares fit.

    Raises
    ------
    ValueError
        The Newton iteration does not reach a maximum (Hessian not negative definite).
    """
    from pymc.blocking import DictToArrayBijection
    from pymc.initial_point import make_initial_point_fn

    compiled: dict[int, tuple] = {}  # per model: logp, dlogp, outputs and their function

    def functions(model: pm.Model) -> tuple:
        if id(model) not in compiled:
            outputs = [v for v in model.unobserved_value_vars if not v.name.endswith("__")]
            with without_fast_math():  # the same bits from a fresh compile and the cache
                fn = model.compile_fn(outputs, inputs=model.value_vars, on_unused_input="ignore",
                                      point_fn=False)  # fmt: skip
                compiled[id(model)] = (model.compile_logp(), model.compile_dlogp(), outputs, fn)
        return compiled[id(model)]

    def sample(model: pm.Model, seed: int) -> xr.DataTree:
        logp_fn, dlogp_fn, outputs, fn = functions(model)
        start = make_initial_point_fn(
            model=model,
            overrides=dict((initvals() if callable(initvals) else initvals) or {}),
            jitter_rvs=set(),
            return_transformed=True,
        )(seed)
        point = DictToArrayBijection.map({v.name: start[v.name] for v in model.value_vars})

        def as_point(x):
            return DictToArrayBijection.rmap(point._replace(data=x))

        def logp(x):
            return float(logp_fn(as_point(x)))

        def grad(x):
            return np.asarray(dlogp_fn(as_point(x)), dtype=float)

        x = point.data.astype(float)
        h = 1e-4 * np.maximum(1.0, np.abs(x))
        for _ in range(newton_steps):
            hess = _hessian(grad, x, h)
            move = _damped_newton(hess, grad(x))
            old, scale = logp(x), 1.0
            while scale > 1e-6 and not logp(x + scale * move) >= old:
                scale /= 2
            if scale <= 1e-6:
                break
            x = x + scale * move
            if np.all(np.isfinite(np.diag(hess))) and np.all(np.diag(hess) < 0):
                h = 0.2 / np.sqrt(-np.diag(hess))
            if abs(logp(x) - old) < 1e-9 * max(1.0, abs(old)):
                break
        hess = _hessian(grad, x, h)
        try:
            chol = np.linalg.cholesky(np.linalg.inv(-hess))
        except np.linalg.LinAlgError as error:
            raise ValueError(
                "Laplace approximation: no maximum found (Hessian not negative "
                "definite); start closer to the mode"
            ) from error
        rng = np.random.default_rng(seed)
        z = x + rng.standard_normal((chains * draws, x.size)) @ chol.T
        values = [fn(**as_point(row)) for row in z]
        posterior = {}
        for j, var in enumerate(outputs):
            stacked = np.array([v[j] for v in values])
            dims = model.named_vars_to_dims.get(var.name, ())
            array = stacked.reshape(chains, draws, *stacked.shape[1:])
            coords = {d: list(model.coords[d]) for d in dims if model.coords.get(d) is not None}
            posterior[var.name] = xr.DataArray(array, dims=(*_SAMPLE_DIMS, *dims), coords=coords)
        return xr.DataTree.from_dict({"posterior": xr.Dataset(posterior)})

    sample.description = f"Laplace approximation at the mode, {chains} x {draws} draws"
    return sample
