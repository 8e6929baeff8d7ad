r"""A census of a posterior's modes: multi-start optimisation and Laplace masses.

Tempering carries a mode up the ladder only if the mode holds a fair share of the mass
at the lower temperatures; a mode that is narrow but, at :math:`\beta = 1`, as heavy as
a broad one is under-weighted on the whole path and may be missed by every chain (a
first-order phase transition in :math:`\beta`; Woodard, Schmidler & Huber, Electron. J.
Probab. 14, 780 (2009)). The census looks for such modes independently of the sampler:

1. L-BFGS (SciPy) maximises the log-posterior :math:`\log p(x) = \log\varphi(x) +
   \ell(x)` in PyMC's unconstrained space (free variables with their Jacobians, as the
   sampler sees them) from many starts drawn from the prior, and optionally from
   starts the caller gives (for instance the sampler's own draws);
2. optima within one Laplace standard deviation of a better one are the same mode;
3. each mode :math:`m` with a negative-definite Hessian gets the Laplace approximation
   of its mass,

   .. math::

       \log M_m = \log p(x_m) + \tfrac{d}{2}\log 2\pi - \tfrac12 \log\det H_m,
       \qquad H_m = -\nabla^2 \log p(x_m),

   (:math:`H_m` by central differences of the exact gradient), and a Laplace weight
   :math:`M_m / \sum_k M_k`.

Modes with the same log-density and Laplace mass are copies of one mode under a symmetry
of the model (the K! relabellings of K exchangeable peaks) and form one class.
:func:`mode_occupancy` assigns a run's :math:`\beta = 1` draws to the modes (to the
Laplace Gaussian :math:`\mathcal N(x_m, H_m^{-1})` of highest weighted density), and
:func:`census_bias` turns the way the draws share out over the heavy classes, against
their Laplace weights, into the bias of the run's log-evidence that under-visited classes
imply. Laplace masses are exact for
Gaussian modes and approximate otherwise; the census is a cross-check of the sampler,
not a second evidence estimate.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr
from pymc.initial_point import make_initial_point_fn
from pymc.pytensorf import compile as compile_pymc
from pymc.pytensorf import join_nonshared_inputs
from pytensor.graph.replace import graph_replace
from scipy.optimize import minimize
from scipy.special import logsumexp

__all__ = ["census_bias", "mode_census", "mode_occupancy", "unconstrained_draws"]

MODE_DIM = "mode"
COORDINATE_DIM = "coordinate"
#: Relative step of the central differences of the gradient (Hessian).
HESSIAN_STEP = 1e-5
#: Modes whose log-densities agree to this relative tolerance and whose log Laplace masses
#: agree to ``SAME_MASS_ATOL`` nats are copies of one mode under a symmetry.
SAME_MODE_RTOL = 1e-6
SAME_MASS_ATOL = 1e-3


class _LogPosterior:
    """The model's log-posterior and its gradient, in one raveled unconstrained vector."""

    def __init__(self, model: pm.Model) -> None:
        self.model = model
        self.vars = list(model.value_vars)
        point = model.initial_point()
        (log_p,), flat = join_nonshared_inputs(
            point=point, outputs=[model.varlogp + model.datalogp], inputs=self.vars
        )
        self._function = compile_pymc(
            [flat], [log_p, pt.grad(log_p, flat)], on_unused_input="ignore"
        )
        self.dtype = flat.dtype
        self.shapes = [np.shape(point[v.name]) for v in self.vars]
        self.labels = [
            label
            for v, shape in zip(self.vars, self.shapes, strict=True)
            for label in _labels(v.name, shape)
        ]

    def __call__(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        log_p, gradient = self._function(np.asarray(x, dtype=self.dtype))
        return float(log_p), np.asarray(gradient, dtype=float)

    def ravel(self, point: dict[str, np.ndarray]) -> np.ndarray:
        return np.concatenate([np.ravel(point[v.name]) for v in self.vars]).astype(float)


def _labels(name: str, shape: tuple[int, ...]) -> list[str]:
    if not shape:
        return [name]
    return [f"{name}[{','.join(map(str, index))}]" for index in np.ndindex(*shape)]


def _hessian(log_posterior: _LogPosterior, x: np.ndarray) -> np.ndarray:
    """:math:`H = -\\nabla^2 \\log p(x)` by central differences of the exact gradient."""
    dim = x.size
    columns = np.empty((dim, dim))
    for j in range(dim):
        step = HESSIAN_STEP * max(1.0, abs(x[j]))
        up, down = x.copy(), x.copy()
        up[j] += step
        down[j] -= step
        columns[:, j] = (log_posterior(up)[1] - log_posterior(down)[1]) / (2 * step)
    return -(columns + columns.T) / 2


def _maximise(log_posterior: _LogPosterior, start: np.ndarray, max_iterations: int):
    def objective(x):
        log_p, gradient = log_posterior(x)
        if not (np.isfinite(log_p) and np.all(np.isfinite(gradient))):
            return np.inf, np.zeros_like(x)
        return -log_p, -gradient

    result = minimize(
        objective, start, jac=True, method="L-BFGS-B", options={"maxiter": max_iterations}
    )
    return result.x, -float(result.fun), bool(result.success)


def _prior_starts(model: pm.Model, log_posterior: _LogPosterior, n: int, seed) -> list:
    draw = make_initial_point_fn(model=model, default_strategy="prior", jitter_rvs=set())
    seeds = np.random.SeedSequence(seed).generate_state(n)
    return [log_posterior.ravel(draw(int(s))) for s in seeds]


def mode_census(
    model: pm.Model | None = None,
    *,
    starts: int = 100,
    extra_starts: np.ndarray | None = None,
    random_seed: int | None = None,
    max_iterations: int = 2000,
) -> xr.Dataset:
    r"""Find the posterior's modes from many starts and give each its Laplace mass.

    Parameters
    ----------
    model : pymc.Model, optional
        The model (default: the one in context).
    starts : int
        Number of starts drawn from the prior.
    extra_starts : ndarray, shape (n, d), optional
        More starts in the unconstrained raveled space (the coordinate order of
        ``result[COORDINATE_DIM]``), e.g. a sampler's draws (:func:`unconstrained_draws`).
    random_seed : int, optional
        Seeds the prior starts.
    max_iterations : int
        L-BFGS iterations per start.

    Returns
    -------
    xarray.Dataset
        Along ``mode`` (best first): ``point`` (mode, coordinate), ``log_density``
        :math:`\log p(x_m)`, ``log_laplace_mass``, ``laplace_weight``, ``starts``
        (how many starts ended there) and ``laplace_covariance`` :math:`H_m^{-1}` (mode,
        coordinate, coordinate_bis). Modes whose Hessian is not positive definite (a
        saddle, or a maximum on a flat ridge) have NaN mass and weight. Attrs:
        ``starts``, ``converged`` (starts whose L-BFGS converged to a finite maximum).

    Raises
    ------
    ValueError
        If ``starts`` is not a positive integer or ``extra_starts`` has the wrong shape.
    """
    model = pm.modelcontext(model)
    if int(starts) != starts or starts < 1:
        raise ValueError(f"starts must be a positive integer, got {starts!r}")
    log_posterior = _LogPosterior(model)
    dim = len(log_posterior.labels)
    points = _prior_starts(model, log_posterior, int(starts), random_seed)
    if extra_starts is not None:
        extra = np.asarray(extra_starts, dtype=float)
        if extra.ndim != 2 or extra.shape[1] != dim:
            raise ValueError(f"extra_starts must have shape (n, {dim}), got {extra.shape}")
        points += list(extra)
    optima = []
    for start in points:
        x, log_p, success = _maximise(log_posterior, start, max_iterations)
        if success and np.isfinite(log_p):
            optima.append((log_p, x))
    optima.sort(key=lambda item: -item[0])
    modes: list[dict] = []
    for log_p, x in optima:
        for mode in modes:
            difference = x - mode["point"]
            if difference @ mode["hessian"] @ difference < 1.0:
                mode["starts"] += 1
                break
        else:
            modes.append(
                {"point": x, "log_p": log_p, "hessian": _hessian(log_posterior, x), "starts": 1}
            )
    return _census_dataset(modes, log_posterior.labels, len(points), len(optima))


def _census_dataset(modes: list[dict], labels: Sequence[str], n_starts: int, converged: int):
    dim = len(labels)
    log_mass, covariances = [], []
    for mode in modes:
        eigenvalues = np.linalg.eigvalsh(mode["hessian"])
        if np.all(eigenvalues > 0):
            log_det = float(np.sum(np.log(eigenvalues)))
            log_mass.append(mode["log_p"] + dim / 2 * np.log(2 * np.pi) - log_det / 2)
            covariances.append(np.linalg.inv(mode["hessian"]))
        else:
            log_mass.append(np.nan)
            covariances.append(np.full((dim, dim), np.nan))
    log_mass = np.asarray(log_mass, dtype=float)
    finite = np.isfinite(log_mass)
    weights = np.full(len(modes), np.nan)
    if finite.any():
        weights[finite] = np.exp(log_mass[finite] - logsumexp(log_mass[finite]))
    return xr.Dataset(
        {
            "point": (
                (MODE_DIM, COORDINATE_DIM),
                np.array([m["point"] for m in modes]).reshape(len(modes), dim),
            ),
            "log_density": (MODE_DIM, np.array([m["log_p"] for m in modes], dtype=float)),
            "log_laplace_mass": (MODE_DIM, log_mass),
            "laplace_weight": (MODE_DIM, weights),
            "starts": (MODE_DIM, np.array([m["starts"] for m in modes], dtype=int)),
            "mode_class": (MODE_DIM, _classes(modes, log_mass)),
            "laplace_covariance": (
                (MODE_DIM, COORDINATE_DIM, f"{COORDINATE_DIM}_bis"),
                np.array(covariances).reshape(len(modes), dim, dim),
            ),
        },
        coords={
            MODE_DIM: np.arange(len(modes)),
            COORDINATE_DIM: list(labels),
            f"{COORDINATE_DIM}_bis": list(labels),
        },
        attrs={
            "starts": n_starts,
            "converged": converged,
            "space": "PyMC's unconstrained (transformed) values",
        },
    )


def _classes(modes: list[dict], log_mass: np.ndarray) -> np.ndarray:
    """Modes with the same log-density and Laplace mass (to round-off) are copies of one
    mode under a symmetry of the model (relabelled peaks); they get one class number."""
    classes = np.full(len(modes), -1)
    for i, mode in enumerate(modes):
        for j in range(i):
            same_density = abs(mode["log_p"] - modes[j]["log_p"]) <= SAME_MODE_RTOL * (
                1.0 + abs(mode["log_p"])
            )
            same_mass = (
                np.isfinite(log_mass[i]) and abs(log_mass[i] - log_mass[j]) <= SAME_MASS_ATOL
            )
            if same_density and same_mass:
                classes[i] = classes[j]
                break
        else:
            classes[i] = classes.max() + 1
    return classes


def unconstrained_draws(idata: xr.DataTree, model: pm.Model) -> np.ndarray:
    """A run's posterior draws in the census's raveled unconstrained space.

    Returns
    -------
    ndarray, shape (chain, draw, d)
    """
    free = list(model.free_RVs)
    posterior = idata["posterior"]
    missing = [rv.name for rv in free if rv.name not in posterior.data_vars]
    if missing:
        raise ValueError(f"the posterior lacks the free variables {missing}")
    placeholders = {rv: rv.type(name=rv.name) for rv in free}
    outputs = []
    for rv in free:
        transform = model.rvs_to_transforms.get(rv)
        outputs.append(rv if transform is None else transform.forward(rv, *rv.owner.inputs))
    outputs = graph_replace(outputs, placeholders, strict=False)
    forward = compile_pymc(list(placeholders.values()), outputs, on_unused_input="ignore")
    values = [posterior[rv.name].values for rv in free]
    rows = [
        [
            np.concatenate([np.ravel(part) for part in forward(*(v[c, d] for v in values))])
            for d in range(posterior.sizes["draw"])
        ]
        for c in range(posterior.sizes["chain"])
    ]
    return np.array(rows, dtype=float)


def mode_occupancy(census: xr.Dataset, draws: np.ndarray) -> xr.DataArray:
    r"""Fraction of each chain's draws assigned to each mode of the census.

    A draw :math:`x` goes to the mode of highest :math:`\log w_m + \log \mathcal N(x;
    x_m, H_m^{-1})` (Laplace weight and Gaussian), among the modes with a Laplace mass.

    Parameters
    ----------
    census : xarray.Dataset
        From :func:`mode_census`.
    draws : ndarray, shape (chain, draw, d)
        In the census's space (:func:`unconstrained_draws`).

    Returns
    -------
    xarray.DataArray
        (chain, mode): fractions that sum to one over the modes with a Laplace mass.
    """
    usable = np.flatnonzero(np.isfinite(census["laplace_weight"].values))
    draws = np.asarray(draws, dtype=float)
    scores = []
    for m in usable:
        centre = census["point"].values[m]
        covariance = census["laplace_covariance"].values[m]
        inverse = np.linalg.inv(covariance)
        _, log_det = np.linalg.slogdet(covariance)
        difference = draws - centre
        quadratic = np.einsum("...i,ij,...j->...", difference, inverse, difference)
        with np.errstate(divide="ignore"):  # a weight that underflowed to 0
            log_weight = np.log(census["laplace_weight"].values[m])
        scores.append(log_weight - (quadratic + log_det) / 2)
    assigned = usable[np.argmax(np.stack(scores, axis=-1), axis=-1)]
    fractions = np.stack(
        [(assigned == m).mean(axis=-1) for m in range(census.sizes[MODE_DIM])], axis=-1
    )
    return xr.DataArray(
        fractions,
        dims=("chain", MODE_DIM),
        coords={"chain": np.arange(draws.shape[0]), MODE_DIM: census[MODE_DIM].values},
        name="occupancy",
    )


def census_bias(
    census: xr.Dataset, occupancy: xr.DataArray, least_weight: float = 0.1
) -> tuple[float, np.ndarray]:
    r"""Bias of a run's log-evidence implied by how its draws share out over heavy modes.

    Symmetric copies of a mode count as one class :math:`c`, with Laplace weight
    :math:`W_c` (summed over its copies) and occupancy :math:`O_c` (the fraction of the
    draws assigned to it, pooled over chains). Only *heavy* classes,
    :math:`W_c \ge` ``least_weight``, are compared, and only with each other (weights and
    occupancies renormalised over them, :math:`w_c` and :math:`o_c`): a posterior with
    many shallow local optima (an overfitted spectrum whose extra peak may sit anywhere)
    has many light classes whose Laplace weights are poor and say little each.

    If tempering carried a fraction :math:`f_c \le 1` of each heavy class to
    :math:`\beta = 1`, the run's evidence over them is :math:`\hat Z = Z \sum_c f_c w_c`
    and its draws sit in class :math:`c` with frequency :math:`o_c = f_c w_c / \sum_k f_k
    w_k`. With the best-carried class complete (:math:`\max f_c = 1`),

    .. math::

        \log Z - \log\hat Z = \log \max_c \frac{o_c}{w_c} \;\ge\; 0,

    so the run's :math:`\hat F = -\log\hat Z` is too high by about this much: by
    :math:`\log 2` when one of two equal modes is never visited, by 0 when the draws
    share out as the weights say. It is only as good as the Laplace weights (exact for
    Gaussian modes) and the occupancies (Monte Carlo estimates).

    Parameters
    ----------
    census : xarray.Dataset
        From :func:`mode_census`.
    occupancy : xarray.DataArray
        From :func:`mode_occupancy` (pooled over its chains here).
    least_weight : float
        Smallest Laplace weight of a heavy class.

    Returns
    -------
    bias : float
        In nats (0 with fewer than two heavy classes).
    under : ndarray of int
        The modes of the heavy classes visited less often than their renormalised
        weight says (empty when the bias is 0).
    """
    weights = census["laplace_weight"].values
    classes = census["mode_class"].values
    observed = occupancy.mean("chain").values
    usable = np.isfinite(weights)
    heavy = []
    for c in np.unique(classes[usable]):
        members = (classes == c) & usable
        if weights[members].sum() >= least_weight:
            heavy.append(members)
    if len(heavy) < 2:
        return 0.0, np.array([], dtype=int)
    w = np.array([weights[members].sum() for members in heavy])
    o = np.array([observed[members].sum() for members in heavy])
    if o.sum() == 0:  # no draw in any heavy class: nothing to compare
        return 0.0, np.array([], dtype=int)
    w, o = w / w.sum(), o / o.sum()
    bias = float(np.log(np.max(o / w)))
    under = [np.flatnonzero(members) for members, a, b in zip(heavy, o, w, strict=True)
             if a < b and bias > 0]  # fmt: skip
    return bias, np.concatenate(under or [np.array([], dtype=int)])
