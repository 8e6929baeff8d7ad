r"""Nested sampling of a PyMC model with dynesty: an independent evidence estimate.

Nested sampling (Skilling, Bayesian Anal. 1, 833 (2006)) writes the evidence as a
one-dimensional integral over the prior volume enclosed by likelihood contours,

.. math::

    Z = \int L(\theta)\,p(\theta)\,d\theta = \int_0^1 L(X)\,dX, \qquad
    X(\lambda) = \int_{L(\theta) > \lambda} p(\theta)\,d\theta,

and estimates it from a set of live points drawn from the prior and replaced one at a
time, the worst by a new point of higher likelihood, while the enclosed volume shrinks
by about :math:`e^{-1/n}` per step (:math:`n` live points). It compresses over
likelihood contours, not over temperatures, so it fails in other ways than tempering
(replica exchange, SMC): their agreement is evidence a user can act on. This module runs
dynesty's static ``NestedSampler`` (Speagle, Mon. Not. R. Astron. Soc. 493, 3132
(2020); Koposov et al., dynesty on Zenodo, doi:10.5281/zenodo.3348367) on the same
``pm.Model`` the other samplers read:

- **prior transform** (unit cube to the model's free variables): every free variable
  :math:`\theta_j` is its distribution's inverse CDF at a uniform coordinate,
  :math:`\theta_j = F_j^{-1}(u_j \mid \text{parameters})`, built with PyMC's own
  ``pm.icdf`` and compiled once as one PyTensor function of the whole cube. Variables
  are mapped in the model's order (the order they were created, a topological order),
  and a parameter that depends on earlier free variables takes their mapped values,
  so hierarchical priors are exact: :math:`p(\theta_1)\,p(\theta_2\mid\theta_1)\cdots`
  is the push-forward of the uniform cube;
- **log-likelihood**: PyMC's ``model.datalogp`` (observed variables and Potentials,
  the split :mod:`samplers.replica_exchange.tempered_density` tempers), compiled as a
  function of the constrained values (PyMC's value transforms removed, so there is no
  Jacobian and no round trip through the unconstrained space).

What the prior transform refuses, with a ``ValueError`` naming the variable and its
distribution: a distribution without an inverse CDF in PyMC (e.g. ``Flat``,
``HalfFlat``, ``VonMises``, ``SkewNormal``, ``Wald``, mixtures), multivariate variables
(``MvNormal``, ``Dirichlet``: one uniform per coordinate does not map onto them by
marginal inverse CDFs), discrete free variables, and a value transform other than the
distribution's default (``ordered`` restricts the support to a region the inverse CDF
knows nothing of). A model without observed variables or Potentials has no likelihood
to integrate and is refused too.

Each of ``chains`` runs is independent (its own seed), so the free energy
:math:`F = -\log Z` has a spread across runs as well as dynesty's own error estimate
per run (from the information :math:`H`, :math:`\sqrt{H/n}`); the reported MCSE is the
larger of the two (:func:`samplers.evidence.free_energy.combined_mcse`). The posterior
of a run is its dead and final live points with importance weights
:math:`w_i \propto L_i \Delta X_i`, resampled to ``draws`` equally weighted draws.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr
from pymc.distributions.transforms import _default_transform
from pymc.model.transform.conditioning import remove_value_transforms
from pymc.pytensorf import join_nonshared_inputs
from pymc.vartypes import discrete_types
from pytensor.graph.replace import graph_replace
from pytensor.graph.traversal import ancestors, explicit_graph_inputs

from ..compilation import compile_reproducibly
from .free_energy import NESTED, nested_free_energy

__all__ = [
    "UNIT_CUBE_EDGE",
    "NestedDensity",
    "PriorTransform",
    "dynesty_module",
    "sample_nested",
]

#: Bounds the unit-cube coordinates are clipped to: an inverse CDF at exactly 0 or 1 is
#: infinite for unbounded distributions. The prior mass beyond them is below 1e-15.
UNIT_CUBE_EDGE = 1e-300, 1.0 - 2.0**-53


def dynesty_module():
    """The ``dynesty`` package, or an ``ImportError`` that says how to install it."""
    try:
        import dynesty
    except ImportError:
        raise ImportError(
            "nested sampling needs dynesty (>= 3): pip install 'bayesmeas[nested]' "
            "or pip install dynesty"
        ) from None
    return dynesty


def _distribution_name(rv: pt.TensorVariable) -> str:
    op = rv.owner.op
    return getattr(op, "name", None) or type(op).__name__


def _check_likelihood(model: pm.Model) -> None:
    if not model.observed_RVs and not model.potentials:
        raise ValueError(
            "nested sampling integrates the likelihood over the prior, but the model has no "
            "observed variables or Potentials"
        )


def _check_transforms(model: pm.Model) -> None:
    """Refuse value transforms that change the prior (anything but the default)."""
    for rv in model.free_RVs:
        transform = model.rvs_to_transforms.get(rv)
        default = _default_transform(rv.owner.op, rv)
        if transform is None or type(transform) is type(default):
            continue
        raise ValueError(
            f"variable {rv.name!r} ({_distribution_name(rv)}) has the value transform "
            f"{type(transform).__name__}, not its distribution's default; such a transform "
            "(e.g. ordered) restricts the prior to a region that the inverse-CDF prior "
            "transform of nested sampling cannot map"
        )


class PriorTransform:
    r"""The unit cube to a model's free variables, by each distribution's inverse CDF.

    ``transform(u)`` maps a point :math:`u \in (0, 1)^D` to the raveled constrained
    values of the free variables, in the order of ``model.free_RVs``, each variable
    :math:`F_j^{-1}(u_j)` of its distribution, with parameters that depend on earlier
    free variables evaluated at their mapped values. One compiled PyTensor function;
    its graph (``graph``, of the input ``unit``) is also what :class:`NestedDensity`
    composes with the likelihood. Coordinates are clipped to
    :data:`UNIT_CUBE_EDGE` first.

    Parameters
    ----------
    model : pymc.Model

    Attributes
    ----------
    names : list of str
        The free variables, in order.
    shapes : list of tuple
        Their shapes (constrained values).
    dim : int
        D, the total number of scalar coordinates.
    unit, graph : pytensor variables
        The unit-cube input (float64 vector) and the raveled values as its function.

    Raises
    ------
    ValueError
        A free variable that is discrete, multivariate, has a non-default value
        transform, a distribution without an inverse CDF in PyMC, or parameters that
        depend on something the transform cannot evaluate.
    """

    def __init__(self, model: pm.Model) -> None:
        _check_transforms(model)
        plain = remove_value_transforms(model)
        point = plain.initial_point()
        self.names = [rv.name for rv in plain.free_RVs]
        self.shapes = [tuple(np.shape(point[name])) for name in self.names]
        self.dim = int(sum(int(np.prod(shape)) for shape in self.shapes))
        self.unit = unit = pt.vector("unit_cube", dtype="float64")
        clipped = pt.clip(unit, *UNIT_CUBE_EDGE)
        mapped: dict[pt.TensorVariable, pt.TensorVariable] = {}
        outputs, offset = [], 0
        for rv, shape in zip(plain.free_RVs, self.shapes, strict=True):
            size = int(np.prod(shape))
            value = self._inverse_cdf(rv, clipped[offset : offset + size].reshape(shape))
            if mapped:
                value = graph_replace(value, mapped, strict=False)
            mapped[rv] = value
            outputs.append(pt.cast(value, "float64").ravel())
            offset += size
        if not outputs:
            raise ValueError("the model has no free variables to sample")
        self.graph = flat = pt.concatenate(outputs)
        self._check_inputs(plain, flat, unit)
        self._function = compile_reproducibly([unit], flat, on_unused_input="ignore")
        self._function.trust_input = True

    @staticmethod
    def _inverse_cdf(rv: pt.TensorVariable, unit: pt.TensorVariable) -> pt.TensorVariable:
        name, distribution = rv.name, _distribution_name(rv)
        if rv.dtype in discrete_types:
            raise ValueError(
                f"variable {name!r} ({distribution}) is discrete; nested sampling here maps "
                "continuous free variables only"
            )
        if getattr(rv.owner.op, "ndim_supp", 0) > 0:
            raise ValueError(
                f"variable {name!r} ({distribution}) is multivariate; the prior transform "
                "maps each coordinate by a univariate inverse CDF and cannot represent it"
            )
        try:
            return pm.icdf(rv, unit)
        except NotImplementedError:
            raise ValueError(
                f"variable {name!r} has distribution {distribution}, for which PyMC has no "
                "inverse CDF (pm.icdf); nested sampling needs one to map the unit cube to "
                "its prior"
            ) from None

    @staticmethod
    def _check_inputs(plain: pm.Model, flat: pt.TensorVariable, unit: pt.TensorVariable):
        """Every free variable must have been replaced by its mapped value."""
        left = {v for v in ancestors([flat]) if v in set(plain.free_RVs) | set(plain.value_vars)}
        if left:
            raise ValueError(
                "the prior transform still depends on the free variables "
                f"{sorted(v.name for v in left)} (a parameter depends on a free variable "
                "created after it?)"
            )
        others = [
            v
            for v in explicit_graph_inputs([flat])
            if v is not unit and not isinstance(v, pt.TensorConstant)
        ]
        if others:
            raise ValueError(
                "the prior transform depends on inputs it cannot evaluate: "
                f"{[str(v) for v in others]}"
            )

    def __call__(self, unit: np.ndarray) -> np.ndarray:
        """The raveled constrained values at the unit-cube point ``unit`` (shape (D,))."""
        return self._function(np.asarray(unit, dtype=np.float64))

    def unravel(self, values: np.ndarray) -> dict[str, np.ndarray]:
        """Split raveled values (last axis D) into one array per free variable."""
        values = np.asarray(values)
        out, offset = {}, 0
        for name, shape in zip(self.names, self.shapes, strict=True):
            size = int(np.prod(shape))
            out[name] = values[..., offset : offset + size].reshape(values.shape[:-1] + shape)
            offset += size
        return out


class NestedDensity:
    """A model's log-likelihood (observed variables + Potentials) at a unit-cube point.

    ``density(u)`` is ``model.datalogp`` at the values ``transform(u)``, compiled as one
    function of ``u`` (the prior transform and the likelihood in one graph, one call per
    point); ``-inf`` where it is not finite. dynesty then samples the unit cube itself
    (its prior transform is the identity) and the draws are mapped to values at the end.
    ``calls`` counts the evaluations.

    Parameters
    ----------
    model : pymc.Model
    transform : PriorTransform
        The prior transform of ``model``.

    Raises
    ------
    ValueError
        If the model has no observed variables or Potentials.
    """

    def __init__(self, model: pm.Model, transform: PriorTransform) -> None:
        _check_likelihood(model)
        plain = remove_value_transforms(model)
        [log_lik], flat = join_nonshared_inputs(
            point=plain.initial_point(), outputs=[plain.datalogp], inputs=plain.value_vars
        )
        log_lik = graph_replace(log_lik, {flat: pt.cast(transform.graph, flat.dtype)}, strict=False)
        self._function = compile_reproducibly([transform.unit], log_lik, on_unused_input="ignore")
        self._function.trust_input = True
        self.calls = 0

    def __call__(self, unit: np.ndarray) -> float:
        """The log-likelihood at the unit-cube point ``unit`` (shape (D,))."""
        self.calls += 1
        value = float(self._function(np.asarray(unit, dtype=np.float64)))
        return value if np.isfinite(value) else -np.inf


def _unit_cube(unit: np.ndarray) -> np.ndarray:
    """dynesty's prior transform: the identity (the model's lives in :class:`NestedDensity`)."""
    return np.array(unit, dtype=np.float64)


def _equal_weight_indices(log_weights: np.ndarray, draws: int, rng) -> np.ndarray:
    """``draws`` indices by systematic resampling of the importance weights, shuffled."""
    weights = np.exp(log_weights - np.max(log_weights))
    cumulative = np.cumsum(weights / weights.sum())
    cumulative[-1] = 1.0
    positions = (rng.random() + np.arange(draws)) / draws
    return rng.permutation(np.searchsorted(cumulative, positions))


def _kish_ess(log_weights: np.ndarray) -> float:
    weights = np.exp(log_weights - np.max(log_weights))
    return float(weights.sum() ** 2 / np.sum(weights**2))


def _run_once(
    prior_transform: PriorTransform,
    density: NestedDensity,
    *,
    live_points: int,
    sample: str,
    bound: str,
    dlogz: float,
    draws: int,
    rng: np.random.Generator,
    progressbar: bool,
) -> dict[str, object]:
    dynesty = dynesty_module()
    calls = density.calls  # the initial live points are evaluated by the constructor
    sampler = dynesty.NestedSampler(
        density,
        _unit_cube,
        prior_transform.dim,
        nlive=live_points,
        bound=bound,
        sample=sample,
        rstate=rng,
    )
    sampler.run_nested(dlogz=dlogz, print_progress=progressbar)
    results = sampler.results
    log_weights = results["logwt"]
    index = _equal_weight_indices(log_weights, draws, rng)
    return {
        "values": np.array([prior_transform(u) for u in results["samples"][index]]),
        "log_likelihood": results["logl"][index],
        "log_evidence": float(results["logz"][-1]),
        "log_evidence_error": float(results["logzerr"][-1]),
        "n_likelihood_calls": density.calls - calls,
        "n_iterations": int(results["niter"]),
        "efficiency": float(results["eff"]) / 100.0,
        "information": float(results["information"][-1]),
        "effective_sample_size": _kish_ess(log_weights),
    }


def _posterior(model: pm.Model, transform: PriorTransform, values: np.ndarray) -> xr.Dataset:
    """Draws (chain, draw, D) as a Dataset with the model's coords and dims."""
    chains, draws = values.shape[:2]
    variables, coords = {}, {"chain": np.arange(chains), "draw": np.arange(draws)}
    for name, array in transform.unravel(values).items():
        dims = model.named_vars_to_dims.get(name) or tuple(
            f"{name}_dim_{i}" for i in range(array.ndim - 2)
        )
        for dim, size in zip(dims, array.shape[2:], strict=True):
            coords.setdefault(
                dim, np.asarray(model.coords[dim]) if model.coords.get(dim) else np.arange(size)
            )
        variables[name] = (("chain", "draw", *dims), array)
    posterior = xr.Dataset(variables, coords=coords)
    if model.deterministics:
        deterministics = pm.compute_deterministics(posterior, model=model, progressbar=False)
        posterior = posterior.merge(deterministics)
    return posterior


def sample_nested(
    model: pm.Model | None = None,
    *,
    live_points: int = 500,
    chains: int = 4,
    draws: int = 1000,
    random_seed: int | None = None,
    dlogz: float = 0.1,
    sample: str = "rslice",
    bound: str = "multi",
    progressbar: bool = False,
) -> xr.DataTree:
    r"""Run ``chains`` independent dynesty nested-sampling runs on a PyMC model.

    Parameters
    ----------
    model : pymc.Model, optional
        The model (default: the one of the current ``with`` context).
    live_points : int
        Live points of each run (dynesty's ``nlive``); the error of :math:`\log Z`
        falls as :math:`\sqrt{H/n}` with the information :math:`H`.
    chains : int
        Independent runs (≥ 1), each with its own seed.
    draws : int
        Equally weighted posterior draws kept per run (systematic resampling of the
        importance weights; a draw may repeat when ``draws`` exceeds the run's effective
        sample size, reported in ``sample_stats``).
    random_seed : int, optional
        Seeds every run (run ``c`` gets the ``c``-th of
        ``numpy.random.SeedSequence(random_seed).spawn(chains)``).
    dlogz : float
        Stop when the live points could add at most this much to :math:`\log Z`
        (dynesty's ``dlogz``; the live points' own contribution is then added).
    sample : str
        dynesty's way of drawing a new point inside the likelihood contour:
        ``"rslice"`` (slices along random directions, ``3 + D`` per new point; its cost
        grows smoothly with the dimension D) by default; ``"auto"`` (dynesty's choice
        by dimension: uniform in the bounding ellipsoids below D = 10, random walks up to
        20, random slices above), ``"rwalk"``, ``"slice"`` or ``"unif"``. Measured on
        the Nagata spectrum with K = 3 (D = 9, 500 live points, one run): ``"rslice"``
        50 s; ``"auto"`` (uniform sampling) had not finished after 5 minutes.
    bound : str
        dynesty's bounding distribution (``"multi"``: several ellipsoids, for
        multimodal posteriors).
    progressbar : bool
        dynesty's progress line.

    Returns
    -------
    xarray.DataTree
        ``posterior`` (chain, draw, the model's dims; deterministics included),
        ``sample_stats`` with ``log_likelihood`` (chain, draw) of every draw and, per
        run (chain): ``log_evidence``, ``log_evidence_error`` (dynesty's estimate),
        ``n_likelihood_calls``, ``n_iterations``, ``efficiency`` (accepted points per
        likelihood call), ``information`` (H, nats) and ``effective_sample_size``
        (Kish, of the importance weights); a ``free_energy`` group as
        :func:`samplers.sample_replica_exchange` writes it, with the one estimator
        ``"nested"`` (read it with :func:`samplers.free_energy`).

    Raises
    ------
    ValueError
        No likelihood, a free variable the prior transform cannot map (see the module
        docstring), or bad sizes.
    ImportError
        If dynesty is not installed.
    """
    model = pm.modelcontext(model)
    for name, value in (("live_points", live_points), ("chains", chains), ("draws", draws)):
        if int(value) != value or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if not (np.isfinite(dlogz) and dlogz > 0):
        raise ValueError(f"dlogz must be positive and finite, got {dlogz!r}")
    dynesty_module()  # fail early and clearly if the optional dependency is missing

    _check_likelihood(model)
    transform = PriorTransform(model)
    density = NestedDensity(model, transform)
    seeds = np.random.SeedSequence(random_seed).spawn(int(chains))
    started = time.perf_counter()
    runs = [
        _run_once(
            transform,
            density,
            live_points=int(live_points),
            sample=sample,
            bound=bound,
            dlogz=dlogz,
            draws=int(draws),
            rng=np.random.default_rng(seed),
            progressbar=progressbar,
        )
        for seed in seeds
    ]
    sampling_time = time.perf_counter() - started
    settings = {
        "live_points": int(live_points),
        "dlogz": float(dlogz),
        "sample": sample,
        "bound": bound,
        "random_seed": "None" if random_seed is None else int(random_seed),
    }
    return _result(model, transform, runs, sampling_time, settings)


def _result(model, transform, runs, sampling_time, settings) -> xr.DataTree:
    dynesty = dynesty_module()

    posterior = _posterior(model, transform, np.stack([run["values"] for run in runs]))
    chain = posterior["chain"].values
    per_run = [k for k in runs[0] if k not in ("values", "log_likelihood")]
    stats = xr.Dataset(
        {
            "log_likelihood": (("chain", "draw"), np.stack([r["log_likelihood"] for r in runs])),
            **{key: ("chain", np.array([r[key] for r in runs])) for key in per_run},
        },
        coords={"chain": chain, "draw": posterior["draw"].values},
    )
    attrs = {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "inference_library": "dynesty",
        "inference_library_version": dynesty.__version__,
        "sampling_time": round(sampling_time, 3),
        **{f"nested_{key}": value for key, value in settings.items()},
    }
    posterior.attrs.update(attrs)
    stats.attrs.update(attrs)
    fe = nested_free_energy(stats)
    free_energy_group = xr.Dataset(
        {
            "free_energy": ("estimator", [fe.value]),
            "mcse": ("estimator", [fe.mcse]),
            "free_energy_per_chain": (("estimator", "chain"), fe.per_chain[None, :]),
            "mcse_per_chain": (("estimator", "chain"), fe.per_chain_mcse[None, :]),
        },
        coords={"estimator": [NESTED], "chain": chain},
        attrs={"default_method": NESTED, "units": "nats", "definition": "F = -log p(D)"},
    )
    return xr.DataTree.from_dict(
        {"posterior": posterior, "sample_stats": stats, "free_energy": free_energy_group}
    )
