"""When to stop: the first step that meets a target precision or after which it levels off."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

__all__ = ["StoppingPoint", "stopping_point"]


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
        From :func:`~samplers.precision_curve` (``sd``, optionally ``sd_mcse``, on ``quantity`` and
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
