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

import warnings
from collections.abc import Sequence

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr
from pymc.initial_point import make_initial_point_fn
from pymc.pytensorf import join_nonshared_inputs
from pytensor.graph.replace import graph_replace, vectorize_graph
from scipy.optimize import minimize
from scipy.special import logsumexp
from scipy.stats import chi2

from ..compilation import compile_reproducibly

__all__ = [
    "ASCENT_ITERATIONS",
    "ASSIGN_PROBABILITY",
    "GRADIENT_MOMENT_WEIGHT",
    "POLISH_ITERATIONS",
    "census_bias",
    "coordinate_labels",
    "heavy_classes",
    "mode_census",
    "mode_occupancy",
    "unconstrained_draws",
]

MODE_DIM = "mode"
COORDINATE_DIM = "coordinate"
#: Relative step of the central differences of the gradient (Hessian).
HESSIAN_STEP = 1e-5
#: Modes whose log-densities agree to this relative tolerance and whose log Laplace masses
#: agree to ``SAME_MASS_ATOL`` nats are copies of one mode under a symmetry.
SAME_MODE_RTOL = 1e-6
SAME_MASS_ATOL = 1e-3
#: Steps of the batched gradient ascent, and its first step length (unconstrained units).
ASCENT_ITERATIONS = 300
INITIAL_ASCENT_STEP = 0.1
#: Further steps from the ascent's end points, diagonally preconditioned (the basin is
#: chosen by then; these converge within it on badly conditioned posteriors).
POLISH_ITERATIONS = 700
#: Weight of the newest squared gradient in the running mean that scales each
#: coordinate of the polishing steps' direction (the diagonal preconditioner).
GRADIENT_MOMENT_WEIGHT = 0.1
#: An ascent's end point within this quantile of chi²_d of a mode (in the mode's Hessian
#: metric) belongs to that mode without its own L-BFGS run.
ASSIGN_PROBABILITY = 0.999


class _LogPosterior:
    """The model's log-posterior and its gradient, in one raveled unconstrained vector."""

    def __init__(self, model: pm.Model) -> None:
        self.model = model
        self.vars = list(model.value_vars)
        point = model.initial_point()
        (log_p,), flat = join_nonshared_inputs(
            point=point, outputs=[model.varlogp + model.datalogp], inputs=self.vars
        )
        self.outputs = [log_p, pt.grad(log_p, flat)]
        self.input = flat
        self._function = compile_reproducibly([flat], self.outputs, on_unused_input="ignore")
        self.dtype = flat.dtype
        self.start = self.ravel(point)
        self.labels = coordinate_labels(model)

    def __call__(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        log_p, gradient = self._function(np.asarray(x, dtype=self.dtype))
        return float(log_p), np.asarray(gradient, dtype=float)

    def ravel(self, point: dict[str, np.ndarray]) -> np.ndarray:
        return np.concatenate([np.ravel(point[v.name]) for v in self.vars]).astype(float)


def coordinate_labels(model: pm.Model) -> list[str]:
    """Names of the coordinates of the raveled unconstrained space (``name[i,j]``)."""
    point = model.initial_point()
    labels = []
    for v in model.value_vars:
        shape = np.shape(point[v.name])
        if not shape:
            labels.append(v.name)
        else:
            labels += [f"{v.name}[{','.join(map(str, i))}]" for i in np.ndindex(*shape)]
    return labels


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


class _BatchedLogPosterior:
    """The log-posterior and its gradient at every row of a matrix, in one call (the
    graph of :class:`_LogPosterior` vectorised over a leading axis); ``None`` from
    :meth:`build` when the model's Ops do not vectorise."""

    def __init__(self, function) -> None:
        self._function = function

    @classmethod
    def build(cls, log_posterior: _LogPosterior) -> _BatchedLogPosterior | None:
        flat = log_posterior.input
        try:
            batch = pt.matrix("starts", dtype=flat.dtype)
            outputs = vectorize_graph(log_posterior.outputs, replace={flat: batch})
            function = compile_reproducibly([batch], outputs, on_unused_input="ignore")
            start = log_posterior.start.astype(flat.dtype)
            function(np.stack([start, start]))
        except Exception:  # any failure to build or run the batched graph: no batching
            return None
        return cls(function)

    def __call__(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        log_p, gradient = self._function(np.ascontiguousarray(x))
        log_p, gradient = np.asarray(log_p, dtype=float), np.asarray(gradient, dtype=float)
        bad = ~(np.isfinite(log_p) & np.all(np.isfinite(gradient), axis=1))
        log_p[bad] = -np.inf
        return log_p, gradient


def _ascend(
    batched: _BatchedLogPosterior, x: np.ndarray, iterations: int, precondition: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    r"""Gradient ascent of every row at once.

    Each row moves along its normalised gradient or, with ``precondition``, along
    :math:`d = g / \sqrt{v}` normalised, where :math:`v` is a running mean of its
    squared gradient per coordinate (weight :data:`GRADIENT_MOMENT_WEIGHT`; RMSProp's
    scaling), so that coordinates of very different curvature (peak heights against
    widths) converge at comparable rates. The plain gradient flow decides the basin
    (its basins are those of steepest ascent, where a narrow mode's is largest); the
    preconditioned one then converges within it. A step is kept only if it goes uphill;
    the row's step length then grows by half, and halves after a failed step.
    """
    x = np.array(x, dtype=float)
    log_p, gradient = batched(x)
    step = np.full(x.shape[0], INITIAL_ASCENT_STEP)
    moment = gradient**2 if precondition else np.ones_like(gradient)
    for _ in range(iterations):
        live = np.isfinite(log_p) & (step > 1e-12)
        if not live.any():
            break
        direction = gradient[live] / np.sqrt(np.maximum(moment[live], 1e-300))
        norm = np.linalg.norm(direction, axis=1, keepdims=True)
        trial = x[live] + step[live, None] * direction / np.maximum(norm, 1e-300)
        trial_log_p, trial_gradient = batched(trial)
        better = trial_log_p > log_p[live]
        rows = np.flatnonzero(live)
        moved = rows[better]
        x[moved], log_p[moved], gradient[moved] = (
            trial[better],
            trial_log_p[better],
            trial_gradient[better],
        )
        if precondition:
            moment[moved] = (1 - GRADIENT_MOMENT_WEIGHT) * moment[moved] + (
                GRADIENT_MOMENT_WEIGHT * gradient[moved] ** 2
            )
        step[rows] = np.where(better, 1.5 * step[rows], 0.5 * step[rows])
    return x, log_p


def _maximise(
    log_posterior: _LogPosterior, start: np.ndarray, max_iterations: int, **options: float
):
    def objective(x):
        log_p, gradient = log_posterior(x)
        if not (np.isfinite(log_p) and np.all(np.isfinite(gradient))):
            return np.inf, np.zeros_like(x)
        return -log_p, -gradient

    result = minimize(
        objective,
        start,
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": max_iterations, **options},
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
    screen_starts: int = 0,
    random_seed: int | None = None,
    max_iterations: int = 2000,
    max_refined: int = 200,
) -> xr.Dataset:
    r"""Find the posterior's modes from many starts and give each its Laplace mass.

    Two stages. First, L-BFGS from each of ``starts`` prior draws and ``extra_starts``.
    Then, with ``screen_starts``, a screen for modes whose basins hold a small share of
    the prior (a narrow mode, reached by a start in a thousand): that many more prior
    draws climb all at once (a batched gradient ascent of :data:`ASCENT_ITERATIONS`
    steps, vectorised over starts as replica exchange vectorises over replicas, then
    :data:`POLISH_ITERATIONS` diagonally preconditioned steps that converge within the
    basin reached); an end
    point within the :data:`ASSIGN_PROBABILITY` quantile of :math:`\chi^2_d` of a mode
    already found (in the mode's Hessian metric) belongs to it, and the others, best
    first, are refined by L-BFGS, at most ``max_refined`` of them. The screen is
    skipped, with a warning, for a model whose graph does not vectorise.

    Parameters
    ----------
    model : pymc.Model, optional
        The model (default: the one in context).
    starts : int
        Number of L-BFGS starts drawn from the prior.
    extra_starts : ndarray, shape (n, d), optional
        More starts in the unconstrained raveled space (the coordinate order of
        ``result[COORDINATE_DIM]``), e.g. a sampler's draws (:func:`unconstrained_draws`).
    screen_starts : int
        Prior draws of the batched screen (0: no screen).
    random_seed : int, optional
        Seeds the prior starts.
    max_iterations : int
        L-BFGS iterations per start.
    max_refined : int
        Most end points of the screen refined by L-BFGS.

    Returns
    -------
    xarray.Dataset
        Along ``mode`` (best first): ``point`` (mode, coordinate), ``log_density``
        :math:`\log p(x_m)`, ``log_laplace_mass``, ``laplace_weight``, ``starts``
        (how many starts ended there) and ``laplace_covariance`` :math:`H_m^{-1}` (mode,
        coordinate, coordinate_bis). Modes whose Hessian is not positive definite (a
        saddle, or a maximum on a flat ridge) have NaN mass and weight. Attrs:
        ``starts`` (L-BFGS starts), ``converged`` (those that converged to a finite
        maximum), ``screened`` (end points of the screen), ``screen_held`` (of them,
        those held by a listed mode) and ``refined`` (screen end points refined).

    Raises
    ------
    ValueError
        If ``starts`` is not a positive integer, ``screen_starts`` is negative or
        ``extra_starts`` has the wrong shape.
    """
    model = pm.modelcontext(model)
    if int(starts) != starts or starts < 1:
        raise ValueError(f"starts must be a positive integer, got {starts!r}")
    if int(screen_starts) != screen_starts or screen_starts < 0:
        raise ValueError(f"screen_starts must be a non-negative integer, got {screen_starts!r}")
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
        mode = _mode_holding(modes, x, 1.0)
        if mode is None:
            mode = _new_mode(log_posterior, x, log_p)
            modes.append(mode)
        mode["starts"] += 1
    screen = {"screened": 0, "screen_held": 0, "refined": 0}
    if screen_starts:
        seed = int(np.random.SeedSequence(random_seed).spawn(1)[0].generate_state(1)[0])
        screen = _screen(model, log_posterior, modes, int(screen_starts), seed, max_refined)
        modes.sort(key=lambda mode: -mode["log_p"])
    census = _census_dataset(modes, log_posterior.labels, len(points), len(optima))
    census.attrs.update(screen)
    return census


def _new_mode(log_posterior: _LogPosterior, x: np.ndarray, log_p: float) -> dict:
    hessian = _hessian(log_posterior, x)
    positive = bool(np.all(np.linalg.eigvalsh(hessian) > 0))
    return {"point": x, "log_p": log_p, "hessian": hessian, "positive": positive, "starts": 0}


def _screen(model, log_posterior, modes, n, seed, max_refined) -> dict[str, int]:
    """The batched screen of :func:`mode_census`: adds the modes it finds to ``modes``."""
    batched = _BatchedLogPosterior.build(log_posterior)
    if batched is None:
        warnings.warn(
            "the mode census's screen needs a model whose log-posterior vectorises over "
            "starts; this one does not, so only the L-BFGS starts were used",
            UserWarning,
            stacklevel=3,
        )
        return {"screened": 0, "screen_held": 0, "refined": 0}
    starts = np.array(_prior_starts(model, log_posterior, n, seed), dtype=float)
    ends, _ = _ascend(batched, starts, ASCENT_ITERATIONS)
    ends, values = _ascend(batched, ends, POLISH_ITERATIONS, precondition=True)
    radius = float(chi2.ppf(ASSIGN_PROBABILITY, ends.shape[1]))
    held = refined = 0
    for i in np.argsort(-values, kind="stable"):
        if not np.isfinite(values[i]):
            break
        mode = _mode_holding(modes, ends[i], radius)
        if mode is None and refined < max_refined:
            refined += 1
            # from a point near a maximum, L-BFGS's default relative-reduction test
            # stops it after a step or two: stop on the gradient alone
            x, log_p, success = _maximise(log_posterior, ends[i], 2000, ftol=0.0)
            if success and np.isfinite(log_p):
                mode = _mode_holding(modes, x, 1.0)
                if mode is None:
                    mode = _new_mode(log_posterior, x, log_p)
                    modes.append(mode)
        elif mode is not None:
            held += 1
        if mode is not None:
            mode["starts"] += 1
    return {"screened": int(np.isfinite(values).sum()), "screen_held": held, "refined": refined}


def _mode_holding(modes: list[dict], x: np.ndarray, radius: float) -> dict | None:
    """The first mode within ``radius`` of ``x`` in its Hessian's metric
    (:math:`(x - x_m)^T H_m (x - x_m)`); a mode without a positive definite Hessian
    holds only its own point (to round-off)."""
    for mode in modes:
        difference = x - mode["point"]
        if mode["positive"]:
            if difference @ mode["hessian"] @ difference < radius:
                return mode
        elif np.linalg.norm(difference) <= 1e-6 * (1.0 + np.linalg.norm(x)):
            return mode
    return None


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
    forward = compile_reproducibly(list(placeholders.values()), outputs, on_unused_input="ignore")
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
        (chain, mode): fractions that sum to one over the modes with a Laplace mass
        (all zero when no mode has one: every optimum was a saddle or a flat ridge).
    """
    usable = np.flatnonzero(np.isfinite(census["laplace_weight"].values))
    draws = np.asarray(draws, dtype=float)
    if usable.size == 0:
        return xr.DataArray(
            np.zeros((draws.shape[0], census.sizes[MODE_DIM])),
            dims=("chain", MODE_DIM),
            coords={"chain": np.arange(draws.shape[0]), MODE_DIM: census[MODE_DIM].values},
            name="occupancy",
        )
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


def heavy_classes(
    census: xr.Dataset, occupancy: xr.DataArray, least_weight: float = 0.1
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """The heavy classes of modes, with weights and occupancies renormalised over them.

    Symmetric copies of a mode form one class; a class is heavy when its Laplace weight
    (summed over its copies) is at least ``least_weight`` (see :func:`census_bias`).

    Returns
    -------
    members : list of ndarray of bool
        For each heavy class, which modes of the census belong to it.
    weights, occupancies : ndarray
        :math:`w_c` and :math:`o_c`, each summing to 1 over the heavy classes (the
        occupancies are NaN when no draw sits in any heavy class).
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
    w = np.array([weights[members].sum() for members in heavy])
    o = np.array([observed[members].sum() for members in heavy])
    w = w / w.sum() if w.size else w
    o = o / o.sum() if o.sum() > 0 else np.full_like(w, np.nan)
    return heavy, w, o


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
    heavy, w, o = heavy_classes(census, occupancy, least_weight)
    if len(heavy) < 2 or not np.isfinite(o).all():
        return 0.0, np.array([], dtype=int)
    bias = float(np.log(np.max(o / w)))
    under = [np.flatnonzero(members) for members, a, b in zip(heavy, o, w, strict=True)
             if a < b and bias > 0]  # fmt: skip
    return bias, np.concatenate(under or [np.array([], dtype=int)])
