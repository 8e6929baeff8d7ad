"""Planning before the experiment: the posterior sd at planned exposures; the exposure needed."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pymc as pm
import xarray as xr

from .posterior_samplers import Sampler, nuts_sampler
from .precision import Quantity, _check_quantities, _posterior_sds

__all__ = ["PrecisionLaw", "precision_law", "predict_precision", "required_exposure"]


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
        As in :func:`~samplers.precision_curve`.
    repeats : int
        Simulated measurements per exposure (the spread of their sd shows how much one
        measurement's sd varies).
    sample : callable, optional
        As in :func:`~samplers.precision_curve` (default NUTS with ``chains``, ``draws``, ``tune``).
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
    :math:`\log t`; outside it the power law of :func:`~samplers.precision_law` is extrapolated,
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
