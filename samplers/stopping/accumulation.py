"""Accumulating repeated scans or cycles: the measurement after 1, 2, ..., n of them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import xarray as xr

__all__ = ["accumulate"]


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
