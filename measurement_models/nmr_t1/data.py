"""T1 recovery curves as datasets: validation, simulation and the text loader.

A recovery curve is an :class:`xarray.Dataset` along ``time`` [s] (the delays after the
saturating or inverting pulse: positive, increasing, usually log-spaced) holding the
measured ``intensity`` and optionally its per-point ``sigma``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from ..data import load_text, make_dataset, validate_dataset
from .recovery import forward, nuclear_spin, time_grid

__all__ = ["AXIS", "VARIABLE", "delay_times", "example_data", "load", "simulate"]

#: The measured variable: the magnetisation (line intensity) after each delay.
VARIABLE = "intensity"
#: The axis coordinate: the delay after the pulse [s].
AXIS = "time"


def delay_times(data: xr.Dataset) -> np.ndarray:
    """The validated delays of a recovery curve [s], as float64.

    Raises
    ------
    ValueError
        As :func:`~measurement_models.data.validate_dataset` (with the variable
        ``intensity`` and the axis ``time``), or a first delay that is not positive.
    """
    validate_dataset(data, variables=[VARIABLE], axis=AXIS)
    time = data[AXIS].values.astype(np.float64)
    if time[0] <= 0:
        raise ValueError(
            f"times must be positive (delays after the saturating pulse, in s); "
            f"the first is {time[0]!r}"
        )
    return time


def simulate(
    time: np.ndarray,
    *,
    rng: np.random.Generator | int | None = None,
    sigma: float,
    T1,
    M0: float = 1.0,
    offset: float = 0.0,
    weight=None,
    stretch: float | None = None,
    inversion: float = 1.0,
    spin=0.5,
    transition: str = "central",
) -> xr.Dataset:
    """Simulate a recovery curve with Gaussian noise (seeded :class:`numpy.random.Generator`).

    Parameters are those of :func:`~measurement_models.nmr_t1.recovery.forward`;
    ``sigma`` is stored per point. The truth is kept in ``attrs`` (``truth_T1``,
    ``truth_M0``, ``truth_offset``, ``truth_sigma``, and ``truth_weight``,
    ``truth_stretch``, ``truth_inversion`` when given), with ``spin``, ``transition``
    and ``method``.

    Raises
    ------
    ValueError
        A ``sigma`` that is not positive and finite; bad parameters (as ``forward``).
    """
    rng = np.random.default_rng(rng)
    time = np.asarray(time, dtype=float)
    T1 = np.atleast_1d(np.asarray(T1, dtype=float))
    if not (np.isfinite(sigma) and sigma > 0):
        raise ValueError(f"sigma must be positive and finite, got {sigma!r}")
    mean = forward(
        time,
        T1=T1,
        M0=M0,
        offset=offset,
        spin=spin,
        transition=transition,
        weight=weight,
        stretch=stretch,
        inversion=inversion,
    )
    attrs: dict[str, object] = {
        "truth_T1": T1,
        "truth_M0": float(M0),
        "truth_offset": float(offset),
        "truth_sigma": float(sigma),
        "spin": float(nuclear_spin(spin)),
        "transition": transition,
        "method": "saturation" if inversion == 1 else "inversion",
    }
    if weight is not None:
        attrs["truth_weight"] = np.asarray(weight, dtype=float)
    if stretch is not None:
        attrs["truth_stretch"] = float(stretch)
    if inversion != 1:
        attrs["truth_inversion"] = float(inversion)
    return make_dataset(
        time,
        mean + sigma * rng.standard_normal(time.shape),
        sigma=np.full(time.shape, float(sigma)),
        axis=AXIS,
        axis_units="s",
        variable=VARIABLE,
        units="a.u.",
        attrs=attrs,
    )


def load(path: str | Path) -> xr.Dataset:
    """Read a recovery curve: ``time [s]  intensity  [sigma]`` per line.

    White space or commas; comments with ``#``, ``%``, ``;``, ``!`` (see
    :func:`measurement_models.data.load_text`). Times must be positive and increasing.

    Raises
    ------
    ValueError
        As :func:`~measurement_models.data.load_text`; a first time that is not positive.
    """
    data = load_text(path, axis=AXIS, axis_units="s", variable=VARIABLE, units="a.u.")
    delay_times(data)
    return data


def example_data(rng: np.random.Generator | int | None = 0) -> tuple[xr.Dataset, dict]:
    """A stretched I = 1/2 saturation recovery (β = 0.7, σ = 1 %), and the truth."""
    truth = {"T1": np.array([0.01]), "stretch": 0.7, "M0": 1.0, "offset": 0.02}
    return simulate(time_grid(1e-4, 1.0, 24), **truth, sigma=0.01, rng=rng), truth
