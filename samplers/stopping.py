r"""Deciding when to stop measuring: posterior precision against accumulated time.

A measurement repeated in scans (or cycles) is accumulated scan by scan; after each
accumulation the posterior is sampled and the posterior standard deviation of chosen
parameters (or derived quantities) is recorded against the accumulated exposure
:math:`t_n`. With a model that describes the data, Poisson (or Gaussian) statistics
give

.. math::

    \mathrm{sd}_n \simeq c / \sqrt{t_n},

once the prior no longer matters; a systematic limit (model misfit, drifts between
scans) shows as a floor, :math:`\mathrm{sd}_n^2 \simeq c^2/t_n + \delta^2`.

- :func:`accumulate`: the cumulative measurements after 1, 2, …, n scans (counts add,
  means average).
- :func:`precision_curve`: the posterior mean, sd, MCSE of the sd and ESS of each
  quantity after each accumulation (NUTS by default, any sampler by a callable).
- :func:`stopping_point`: the first step whose sd stays below a required precision
  (``target_sd``), or after which the sd levels off (``plateau_rtol``).
- :func:`predict_precision`: before the experiment, the posterior sd of simulated
  measurements at planned exposures; :func:`precision_law` fits
  :math:`\log\mathrm{sd} = a + b\log t` and the floor :math:`\delta`;
  :func:`required_exposure` inverts it to the exposure needed for a target sd.
- :func:`nuts_sampler`, :func:`laplace_sampler`: ``sample(model, seed)`` callables
  (NUTS; the Laplace approximation at the mode for count-rich, near-Gaussian
  posteriors, where NUTS adapts slowly).

The sd's Monte Carlo standard error is ArviZ's (``arviz_stats.mcse(..., method="sd")``,
the delta-method error of the sd with the ESS of the squared deviations).

Checked (``tests/samplers/test_stopping.py``): the sampled sd after every accumulation
against the closed-form posterior sd of a normal mean with known σ and a normal prior,
:math:`(1/s_0^2 + n/\sigma^2)^{-1/2}`, and of a Poisson rate with a Gamma(α, β) prior,
:math:`\sqrt{\alpha + \sum k}/(\beta + t)`, within 4 MCSE; the plateau step of
:math:`\sqrt{\sigma^2/n + \delta^2}` against the analytic step where its relative
fall per step drops below the tolerance (and no plateau for a pure :math:`1/\sqrt n`
within its range: a negative control); :func:`required_exposure` against
:math:`t = (c/\mathrm{target})^2`; accumulation against sums and means written in
the test; the Laplace sampler against the exact normal posterior; bad input.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import arviz_stats as azs
import numpy as np
import pymc as pm
import xarray as xr

__all__ = [
    "PrecisionLaw",
    "StoppingPoint",
    "accumulate",
    "laplace_sampler",
    "nuts_sampler",
    "precision_curve",
    "precision_law",
    "predict_precision",
    "required_exposure",
    "stopping_point",
]

Quantity = str | Callable[[xr.Dataset], xr.DataArray]
Sampler = Callable[[pm.Model, int], xr.DataTree]
_SAMPLE_DIMS = ("chain", "draw")
_INDEXED = re.compile(r"^(?P<name>[^\[\]]+)\[(?P<index>-?\d+)\]$")


# --------------------------------------------------------------------------------------
# Accumulation
# --------------------------------------------------------------------------------------


def _check_axis(scans: Sequence[xr.Dataset], atol: float = 0.0) -> None:
    """Every scan on the first scan's coordinates (ValueError naming the first that differs)."""
    first = scans[0]
    for i, scan in enumerate(scans[1:], start=1):
        if set(scan.dims) != set(first.dims):
            raise ValueError(f"scan {i} has dims {tuple(scan.dims)}, scan 0 {tuple(first.dims)}")
        for dim in first.dims:
            a = first[dim].values if dim in first.coords else np.arange(first.sizes[dim])
            b = scan[dim].values if dim in scan.coords else np.arange(scan.sizes[dim])
            if a.shape != b.shape or not np.allclose(a, b, rtol=1e-9, atol=atol):
                raise ValueError(
                    f"scan {i} has a different '{dim}' axis from scan 0 "
                    f"({b.size} vs {a.size} points, tolerance {atol:g}); accumulate needs a "
                    "common axis"
                )


def accumulate(
    scans: Sequence[xr.Dataset],
    *,
    variable: str,
    kind: Literal["counts", "mean"] = "counts",
    exposure: str | None = None,
    monitors: Sequence[str] = (),
    axis_atol: float = 0.0,
) -> list[xr.Dataset]:
    r"""The cumulative measurements after 1, 2, …, n scans.

    ``kind="counts"``: the counts add, :math:`N^{(n)} = \sum_{j\le n} N_j`, and so do the
    per-point exposure variable ``exposure`` and the ``monitors`` (e.g. ``I0``).
    ``kind="mean"``: the data are averaged, :math:`\bar y^{(n)} = \frac1n\sum_{j\le n} y_j`,
    and a ``sigma`` variable becomes :math:`\sigma_1/\sqrt n` (σ of the first scan; the
    scans are taken as equally precise); ``exposure`` and ``monitors`` still add.

    Parameters
    ----------
    scans : sequence of xarray.Dataset
        One dataset per scan, all on the same axis (same coordinate values).
    variable : str
        The measured data variable.
    kind : {"counts", "mean"}
        Add counts or average means.
    exposure : str, optional
        A per-point exposure variable (count time, monitor × normalisation) that adds.
    monitors : sequence of str
        Further variables that add (monitor counts such as ``I0``).
    axis_atol : float
        Absolute tolerance on the axis (e.g. a monochromator's energy read-back jitter);
        the accumulated data keep the first scan's axis. Default: equal to 1e-9 relative.

    Returns
    -------
    list of xarray.Dataset
        The n cumulative datasets (other variables and attrs from the first scan), each
        with ``attrs["exposure"]`` (the sum of the scans' ``attrs["exposure"]`` when every
        scan has one, else the number of scans) and ``attrs["n_scans"]``.

    Raises
    ------
    ValueError
        No scans, an unknown ``kind``, a variable missing from a scan, or scans on
        different axes (naming the first scan that differs).
    """
    scans = list(scans)
    if not scans:
        raise ValueError("accumulate needs at least one scan; the list is empty")
    if kind not in ("counts", "mean"):
        raise ValueError(f"kind must be 'counts' or 'mean', got {kind!r}")
    added = [variable, *([exposure] if exposure else []), *monitors]
    for i, scan in enumerate(scans):
        missing = [name for name in added if name not in scan]
        if missing:
            raise ValueError(f"scan {i} has no variable(s) {missing}")
    if not np.isfinite(axis_atol) or axis_atol < 0:
        raise ValueError(f"axis_atol must be ≥ 0, got {axis_atol!r}")
    _check_axis(scans, axis_atol)
    have_time = all("exposure" in scan.attrs for scan in scans)
    out, totals = [], {name: np.zeros_like(scans[0][name].values) for name in added}
    for n, scan in enumerate(scans, start=1):
        totals = {name: totals[name] + scan[name].values for name in added}
        ds = scans[0].copy(deep=True)
        for name in added:
            ds[name] = (scan[name].dims, np.array(totals[name]))
        if kind == "mean":
            ds[variable] = (scan[variable].dims, totals[variable] / n)
            if "sigma" in ds:
                ds["sigma"] = ds["sigma"] / np.sqrt(n)
        time = sum(float(s.attrs["exposure"]) for s in scans[:n]) if have_time else float(n)
        ds.attrs = {**scans[0].attrs, "exposure": time, "n_scans": n}
        out.append(ds)
    return out


# --------------------------------------------------------------------------------------
# Posterior precision after each accumulation
# --------------------------------------------------------------------------------------


def _check_quantities(quantities: Mapping[str, Quantity], model: pm.Model) -> None:
    if not quantities:
        raise ValueError("no quantities given: name posterior variables or give functions")
    for label, quantity in quantities.items():
        if callable(quantity):
            continue
        if not isinstance(quantity, str):
            raise ValueError(f"quantity {label!r} must be a variable name or a function")
        match = _INDEXED.match(quantity)
        name = match["name"] if match else quantity
        if name not in model.named_vars:
            raise ValueError(
                f"unknown quantity {quantity!r} ({label!r}): the model has no variable "
                f"{name!r}; its variables: {sorted(model.named_vars)}"
            )


def _evaluate(posterior: xr.Dataset, label: str, quantity: Quantity) -> np.ndarray:
    """Draws of one quantity as an array (chain, draw)."""
    if callable(quantity):
        value = quantity(posterior)
    else:
        match = _INDEXED.match(quantity)
        if match:
            value = posterior[match["name"]]
            extra = [d for d in value.dims if d not in _SAMPLE_DIMS]
            if len(extra) != 1:
                raise ValueError(f"quantity {quantity!r}: indexing needs exactly one extra dim")
            value = value.isel({extra[0]: int(match["index"])})
        else:
            value = posterior[quantity]
    value = xr.DataArray(value)
    extra = [d for d in value.dims if d not in _SAMPLE_DIMS]
    if extra:
        raise ValueError(
            f"quantity {label!r} has dims {extra} besides (chain, draw): select one element "
            f"(e.g. 'F[0]') or give a function returning one value per draw"
        )
    return np.asarray(value.transpose(*_SAMPLE_DIMS).values, dtype=float)


def _summary(draws: np.ndarray) -> dict[str, float]:
    """Mean, sd, MCSE of the sd and bulk ESS of draws (chain, draw); NaN draws dropped."""
    if not np.all(np.isfinite(draws)):
        raise ValueError(
            f"{int((~np.isfinite(draws)).sum())} non-finite draws of a quantity; a derived "
            "quantity must be defined for every draw"
        )
    return {
        "mean": float(draws.mean()),
        "sd": float(draws.std(ddof=1)),
        "sd_mcse": float(azs.mcse(draws, method="sd")),
        "ess": float(azs.ess(draws, method="bulk")),
    }


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


def _posterior(result) -> xr.Dataset:
    tree = result if isinstance(result, xr.DataTree) else xr.DataTree.from_dict(dict(result))
    if "posterior" not in tree.children:
        raise ValueError("the sampler returned no 'posterior' group")
    return tree["posterior"].to_dataset()


def _divergences(result) -> int:
    """Number of divergent transitions recorded in ``sample_stats`` (0 when none recorded)."""
    try:
        return int(result["sample_stats"]["diverging"].values.sum())
    except (KeyError, TypeError):
        return 0


def _posterior_sds(
    model: pm.Model, quantities: Mapping[str, Quantity], sample: Sampler, seed: int
) -> tuple[dict[str, dict[str, float]], int]:
    result = sample(model, seed)
    posterior = _posterior(result)
    summary = {label: _summary(_evaluate(posterior, label, q)) for label, q in quantities.items()}
    return summary, _divergences(result)


def precision_curve(
    build_model: Callable[[xr.Dataset], pm.Model],
    measurements: Sequence[xr.Dataset],
    quantities: Mapping[str, Quantity],
    *,
    sample: Sampler | None = None,
    random_seed: int = 0,
    progress: bool = False,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
) -> xr.Dataset:
    """Posterior mean and sd of each quantity after each accumulated measurement.

    Parameters
    ----------
    build_model : callable
        ``build_model(dataset) -> pm.Model``. (It may return one model whose ``pm.Data``
        it updates, so that one compiled graph serves every step.)
    measurements : sequence of xarray.Dataset
        The cumulative measurements (:func:`accumulate`); ``attrs["exposure"]`` and
        ``attrs["n_scans"]`` are used when present (else the step number).
    quantities : mapping
        Label to a posterior variable name (``"E0"``; ``"F[0]"`` picks element 0 of a
        variable with one extra dim) or to a function of the posterior Dataset returning
        one value per draw (a derived quantity).
    sample : callable, optional
        ``sample(model, seed) -> DataTree`` with a ``posterior`` group (e.g. replica
        exchange). Default: NUTS, ``chains`` × ``draws`` after ``tune``, ``cores=1``.
    random_seed : int
        Step i (1-based) is sampled with seed ``random_seed + i``.
    progress : bool
        Show the default sampler's progress bar.
    draws, tune, chains : int
        Sizes of the default NUTS run.

    Returns
    -------
    xarray.Dataset
        Dims ``("quantity", "step")``, ``step = 1..n``, coords ``exposure(step)`` and
        ``n_scans(step)`` and ``divergences(step)`` (divergent transitions, when the
        sampler records them); variables ``mean``, ``sd``, ``sd_mcse`` (ArviZ MCSE of
        the sd) and ``ess`` (bulk ESS). ``attrs["sampler"]`` describes the sampler.

    Raises
    ------
    ValueError
        An empty list of measurements or quantities, an unknown variable name (checked
        on the first model, before any sampling), or a quantity not scalar per draw.
    """
    measurements = list(measurements)
    if not measurements:
        raise ValueError("precision_curve needs at least one measurement; the list is empty")
    if sample is None:
        sample = nuts_sampler(draws=draws, tune=tune, chains=chains, progress=progress)
    rows, divergences = [], []
    for step, data in enumerate(measurements, start=1):
        model = build_model(data)
        if step == 1:
            _check_quantities(quantities, model)
        row, n_div = _posterior_sds(model, quantities, sample, random_seed + step)
        rows.append(row)
        divergences.append(n_div)
    labels = list(quantities)
    steps = np.arange(1, len(measurements) + 1)
    exposure = [float(d.attrs.get("exposure", s)) for s, d in zip(steps, measurements, strict=True)]
    n_scans = [int(d.attrs.get("n_scans", s)) for s, d in zip(steps, measurements, strict=True)]
    variables = {
        key: (("quantity", "step"), [[row[q][key] for row in rows] for q in labels])
        for key in ("mean", "sd", "sd_mcse", "ess")
    }
    return xr.Dataset(
        variables,
        coords={
            "quantity": labels,
            "step": steps,
            "exposure": ("step", exposure),
            "n_scans": ("step", n_scans),
            "divergences": ("step", divergences),
        },
        attrs={"sampler": getattr(sample, "description", getattr(sample, "__name__", "custom"))},
    )


# --------------------------------------------------------------------------------------
# Stopping rules
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoppingPoint:
    """Where to stop: the step, its accumulated exposure and sd, and why.

    ``reason`` is ``"target"`` (the sd reached the required precision), ``"plateau"``
    (the sd levelled off) or ``"not reached"`` (then step, exposure and sd are None).
    """

    step: int | None
    exposure: float | None
    sd: float | None
    reason: str


def _curve_arrays(curve: xr.Dataset, quantity: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if "sd" not in curve or "quantity" not in curve.dims:
        raise ValueError("curve must be a precision_curve result (variable 'sd', dim 'quantity')")
    labels = [str(q) for q in curve["quantity"].values]
    if quantity not in labels:
        raise ValueError(f"unknown quantity {quantity!r}; the curve has {labels}")
    sd = curve["sd"].sel(quantity=quantity).values.astype(float)
    mcse = (
        curve["sd_mcse"].sel(quantity=quantity).values.astype(float)
        if "sd_mcse" in curve
        else np.zeros_like(sd)
    )
    steps = curve["step"].values
    if sd.size == 0:
        raise ValueError("the curve has no steps")
    return steps, sd, np.nan_to_num(mcse)


def _point(curve: xr.Dataset, i: int, sd: np.ndarray, reason: str) -> StoppingPoint:
    exposure = curve["exposure"].values[i] if "exposure" in curve.coords else curve["step"][i]
    return StoppingPoint(int(curve["step"].values[i]), float(exposure), float(sd[i]), reason)


def stopping_point(
    curve: xr.Dataset,
    quantity: str,
    *,
    target_sd: float | None = None,
    plateau_rtol: float | None = None,
    window: int = 3,
    n_mcse: float = 2.0,
) -> StoppingPoint:
    r"""The step at which to stop measuring, by exactly one of two criteria.

    ``target_sd``: the first step :math:`i` with :math:`\mathrm{sd}_j \le` target for every
    :math:`j \ge i` (the required precision is reached and kept).

    ``plateau_rtol``: the first step :math:`i` after which, for each of the next
    ``window`` steps, the sd falls by less than its tolerance,

    .. math::

        \mathrm{sd}_j - \mathrm{sd}_{j+1} < r\,\mathrm{sd}_j
        + n_\mathrm{mcse}\sqrt{\mathrm{mcse}_j^2 + \mathrm{mcse}_{j+1}^2},
        \qquad j = i, \dots, i + \mathrm{window} - 1,

    i.e. the relative fall per step is below ``plateau_rtol`` once the Monte Carlo
    error of the two sds is allowed for ("the sd levels off"). A curve
    :math:`\propto 1/\sqrt n` falls by :math:`1 - \sqrt{n/(n+1)}` per step, so the
    tolerance should lie well below that at the steps considered (e.g. 4.7 % at n = 10).

    Parameters
    ----------
    curve : xarray.Dataset
        From :func:`precision_curve` (``sd``, optionally ``sd_mcse``, on ``quantity`` and
        ``step``, coordinate ``exposure``).
    quantity : str
        Label of the quantity.
    target_sd : float, optional
        Required posterior sd (> 0).
    plateau_rtol : float, optional
        Relative fall per step below which the sd counts as level (> 0).
    window : int
        Number of consecutive level steps required (≥ 1).
    n_mcse : float
        Allowance for Monte Carlo error, in combined MCSEs.

    Returns
    -------
    StoppingPoint

    Raises
    ------
    ValueError
        Both or neither criterion, a non-positive target or tolerance, a bad window, an
        unknown quantity.
    """
    if (target_sd is None) == (plateau_rtol is None):
        raise ValueError("give exactly one criterion: target_sd or plateau_rtol (not both)")
    steps, sd, mcse = _curve_arrays(curve, quantity)
    if target_sd is not None:
        if not np.isfinite(target_sd) or target_sd <= 0:
            raise ValueError(f"target_sd must be positive, got {target_sd!r}")
        below = sd <= target_sd
        for i in range(steps.size):
            if below[i:].all():
                return _point(curve, i, sd, "target")
        return StoppingPoint(None, None, None, "not reached")
    if not np.isfinite(plateau_rtol) or plateau_rtol <= 0:
        raise ValueError(f"plateau_rtol must be positive, got {plateau_rtol!r}")
    if isinstance(window, bool) or int(window) != window or window < 1:
        raise ValueError(f"window must be an integer ≥ 1, got {window!r}")
    fall = sd[:-1] - sd[1:]
    allowed = plateau_rtol * sd[:-1] + n_mcse * np.hypot(mcse[:-1], mcse[1:])
    level = fall < allowed
    for i in range(steps.size - window):
        if level[i : i + window].all():
            return _point(curve, i, sd, "plateau")
    return StoppingPoint(None, None, None, "not reached")


# --------------------------------------------------------------------------------------
# Planning before the experiment
# --------------------------------------------------------------------------------------


def predict_precision(
    simulate: Callable[[float, np.random.Generator], xr.Dataset],
    build_model: Callable[[xr.Dataset], pm.Model],
    exposures: Sequence[float],
    quantities: Mapping[str, Quantity],
    *,
    repeats: int = 3,
    sample: Sampler | None = None,
    random_seed: int = 0,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
) -> xr.Dataset:
    """Posterior sd of simulated measurements at planned exposures (before measuring).

    Parameters
    ----------
    simulate : callable
        ``simulate(exposure, rng) -> Dataset``: one simulated measurement of that
        exposure (e.g. Poisson counts at the planned count time).
    build_model : callable
        ``build_model(dataset) -> pm.Model``.
    exposures : sequence of float
        Planned exposures (> 0, increasing).
    quantities : mapping
        As in :func:`precision_curve`.
    repeats : int
        Simulated measurements per exposure (the spread of their sd shows how much one
        measurement's sd varies).
    sample : callable, optional
        As in :func:`precision_curve` (default NUTS with ``chains``, ``draws``, ``tune``).
    random_seed : int
        Seeds the simulations (``numpy.random.default_rng([random_seed, i, r])``) and the
        sampler.

    Returns
    -------
    xarray.Dataset
        ``sd``, ``mean`` and ``sd_mcse`` on dims ``("quantity", "exposure", "repeat")``.

    Raises
    ------
    ValueError
        No exposures, non-positive or unsorted exposures, ``repeats < 1``, unknown
        quantities.
    """
    exposures = np.asarray(exposures, dtype=float)
    if exposures.ndim != 1 or exposures.size == 0:
        raise ValueError("exposures must be a non-empty 1-d sequence")
    if not np.all(np.isfinite(exposures)) or np.any(exposures <= 0):
        raise ValueError(f"exposures must be positive and finite, got {exposures}")
    if np.any(np.diff(exposures) <= 0):
        raise ValueError(f"exposures must be strictly increasing, got {exposures}")
    if isinstance(repeats, bool) or int(repeats) != repeats or repeats < 1:
        raise ValueError(f"repeats must be an integer ≥ 1, got {repeats!r}")
    if sample is None:
        sample = nuts_sampler(draws=draws, tune=tune, chains=chains)
    labels = list(quantities)
    out = {key: np.empty((len(labels), exposures.size, repeats)) for key in ("mean", "sd")}
    out["sd_mcse"] = np.empty_like(out["sd"])
    for i, t in enumerate(exposures):
        for r in range(repeats):
            data = simulate(float(t), np.random.default_rng([random_seed, i, r]))
            model = build_model(data)
            if i == 0 and r == 0:
                _check_quantities(quantities, model)
            seed = random_seed + 1000 * (i + 1) + r
            row, _ = _posterior_sds(model, quantities, sample, seed)
            for q, label in enumerate(labels):
                for key in out:
                    out[key][q, i, r] = row[label][key]
    dims = ("quantity", "exposure", "repeat")
    return xr.Dataset(
        {key: (dims, value) for key, value in out.items()},
        coords={"quantity": labels, "exposure": exposures, "repeat": np.arange(repeats)},
        attrs={"sampler": getattr(sample, "description", getattr(sample, "__name__", "custom"))},
    )


@dataclass(frozen=True)
class PrecisionLaw:
    r"""The predicted sd against exposure, summarised two ways.

    ``a``, ``b``: least-squares fit :math:`\log\mathrm{sd} = a + b\log t` of the
    repeat-mean sd (:math:`b = -1/2` for pure counting statistics). ``scale``, ``floor``:
    non-negative least-squares fit :math:`\mathrm{sd}^2 = c^2/t + \delta^2` (``scale`` =
    c, ``floor`` = δ, the systematic limit; 0 when the data show none).
    """

    a: float
    b: float
    scale: float
    floor: float


def _mean_sd(prediction: xr.Dataset, quantity: str) -> tuple[np.ndarray, np.ndarray]:
    if "sd" not in prediction or "exposure" not in prediction.dims:
        raise ValueError("prediction must come from predict_precision (sd on 'exposure')")
    labels = [str(q) for q in prediction["quantity"].values]
    if quantity not in labels:
        raise ValueError(f"unknown quantity {quantity!r}; the prediction has {labels}")
    sd = prediction["sd"].sel(quantity=quantity)
    if "repeat" in sd.dims:
        sd = sd.mean("repeat")
    t = prediction["exposure"].values.astype(float)
    return t, sd.values.astype(float)


def precision_law(prediction: xr.Dataset, quantity: str) -> PrecisionLaw:
    r"""Fit :math:`\log\mathrm{sd} = a + b\log t` and :math:`\mathrm{sd}^2 = c^2/t + \delta^2`.

    Raises
    ------
    ValueError
        Fewer than two exposures, non-positive sds, an unknown quantity.
    """
    t, sd = _mean_sd(prediction, quantity)
    if t.size < 2:
        raise ValueError("a precision law needs at least two planned exposures")
    if not np.all(np.isfinite(sd)) or np.any(sd <= 0):
        raise ValueError(f"predicted sds must be positive and finite, got {sd}")
    b, a = np.polyfit(np.log(t), np.log(sd), 1)
    from scipy.optimize import nnls

    design = np.column_stack([1.0 / t, np.ones_like(t)]) / sd[:, None] ** 2
    (c2, d2), _ = nnls(design, np.ones_like(t))  # relative residuals of sd²
    return PrecisionLaw(float(a), float(b), float(np.sqrt(c2)), float(np.sqrt(d2)))


def required_exposure(prediction: xr.Dataset, quantity: str, target_sd: float) -> float:
    r"""The exposure at which the predicted posterior sd reaches ``target_sd``.

    Inside the planned range (the target lies between the repeat-mean sds of two
    neighbouring exposures) :math:`\log\mathrm{sd}` is interpolated linearly in
    :math:`\log t`; outside it the power law of :func:`precision_law` is extrapolated,
    :math:`t = \exp[(\log\mathrm{target} - a)/b]`, after checking that the floor δ of
    :math:`\mathrm{sd}^2 = c^2/t + \delta^2` lies below the target.

    Raises
    ------
    ValueError
        ``target_sd`` ≤ 0; the sd levels off above the target (floor δ ≥ target, or
        the fitted slope b > −0.1): no exposure reaches it, the limit is systematic (model
        misfit, drift), not statistical.
    """
    if not np.isfinite(target_sd) or target_sd <= 0:
        raise ValueError(f"target_sd must be positive, got {target_sd!r}")
    t, sd = _mean_sd(prediction, quantity)
    law = precision_law(prediction, quantity)
    if law.floor >= target_sd:
        raise ValueError(
            f"the predicted sd of {quantity!r} levels off at {law.floor:.3g} (fit sd² = c²/t + "
            f"δ²), above the target {target_sd:.3g}: more exposure cannot reach it (systematic "
            "limit: model misfit or drift)"
        )
    if law.b > -0.1:
        raise ValueError(
            f"the predicted sd of {quantity!r} hardly falls with exposure (log-log slope "
            f"{law.b:.3f}); the target {target_sd:.3g} cannot be reached by measuring longer"
        )
    logt, logsd = np.log(t), np.log(sd)
    for i in range(t.size - 1):
        lo, hi = sorted((logsd[i], logsd[i + 1]))
        if lo <= np.log(target_sd) <= hi and logsd[i] != logsd[i + 1]:
            frac = (np.log(target_sd) - logsd[i]) / (logsd[i + 1] - logsd[i])
            return float(np.exp(logt[i] + frac * (logt[i + 1] - logt[i])))
    return float(np.exp((np.log(target_sd) - law.a) / law.b))
