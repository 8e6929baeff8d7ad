"""The posterior precision of chosen quantities after every accumulation."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

import arviz_stats as azs
import numpy as np
import pymc as pm
import xarray as xr

from .posterior_samplers import _SAMPLE_DIMS, Sampler, nuts_sampler

__all__ = ["precision_curve"]

#: A quantity: a variable name (``"a"``, ``"mu[1]"``) or a function of the posterior.
Quantity = str | Callable[[xr.Dataset], xr.DataArray]
_INDEXED = re.compile(r"^(?P<name>[^\[\]]+)\[(?P<index>-?\d+)\]$")


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
        The cumulative measurements (:func:`~samplers.accumulate`); ``attrs["exposure"]`` and
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
