"""Measured data as :class:`xarray.Dataset`: construction, validation and text loaders.

Every measurement in this package is one Dataset with

* exactly one dimension, the measurement axis (``x``, ``energy``, ``velocity``, ``q``,
  ``time``, ...), carried as a coordinate whose ``attrs["units"]`` names its unit;
* data variables along that axis: the measured signal (``intensity`` for continuous
  signals, ``counts`` for photon or neutron counts) and optionally ``sigma``, the
  standard deviation of each point;
* the truth, for simulated data, in ``attrs`` (see each model's ``simulate``).

:func:`validate_dataset` is the single gate every model factory passes its data
through, so that bad input fails here with a message naming the problem instead of
deep inside PyTensor.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import xarray as xr

__all__ = [
    "load_text",
    "make_dataset",
    "numeric_row",
    "numeric_table",
    "validate_dataset",
]

#: Characters that start a comment in the text formats we read.
COMMENT_CHARS = ("#", "%", ";", "!")


def make_dataset(
    x: Iterable[float],
    y: Iterable[float],
    *,
    sigma: Iterable[float] | None = None,
    axis: str = "x",
    axis_units: str = "",
    variable: str = "intensity",
    units: str = "",
    attrs: Mapping[str, object] | None = None,
) -> xr.Dataset:
    """Build a validated measurement Dataset from plain arrays.

    Parameters
    ----------
    x, y : array_like, shape (n,)
        Measurement axis and measured values.
    sigma : array_like, shape (n,), optional
        Standard deviation of each measured value.
    axis : str
        Name of the measurement axis (the Dataset's only dimension).
    axis_units, units : str
        Units of the axis and of the measured values, stored in ``attrs["units"]``.
    variable : str
        Name of the measured data variable (``intensity`` or ``counts``).
    attrs : mapping, optional
        Extra Dataset attributes (provenance, truth of simulated data).

    Returns
    -------
    xarray.Dataset

    Raises
    ------
    ValueError
        If the arrays are not one-dimensional, differ in length, or fail
        :func:`validate_dataset`.
    """
    arrays = {"x": np.asarray(x, dtype=float), variable: np.asarray(y)}
    if sigma is not None:
        arrays["sigma"] = np.asarray(sigma, dtype=float)
    for name, values in arrays.items():
        if values.ndim != 1:
            raise ValueError(f"{name} must be one-dimensional, got shape {values.shape}")
    lengths = {name: values.size for name, values in arrays.items()}
    if len(set(lengths.values())) > 1:
        detail = ", ".join(f"{name}: {n}" for name, n in lengths.items())
        raise ValueError(f"mismatched lengths ({detail})")
    x_values = arrays.pop("x")
    data_vars = {name: (axis, values, {"units": units}) for name, values in arrays.items()}
    ds = xr.Dataset(
        data_vars,
        coords={axis: (axis, x_values, {"units": axis_units})},
        attrs=dict(attrs or {}),
    )
    return validate_dataset(ds, counts=variable == "counts")


def validate_dataset(
    ds: xr.Dataset,
    *,
    variables: Iterable[str] | None = None,
    counts: bool | Iterable[str] = False,
    axis: str | None = None,
) -> xr.Dataset:
    """Check a measurement Dataset and return it unchanged.

    Parameters
    ----------
    ds : xarray.Dataset
        The measurement.
    variables : iterable of str, optional
        Data variables that must be present (for example ``["intensity"]``).
    counts : bool or iterable of str
        Variables that hold counts, which must be non-negative integers. ``True`` means
        the variable ``counts``.
    axis : str, optional
        Required name of the measurement axis.

    Returns
    -------
    xarray.Dataset
        ``ds`` itself.

    Raises
    ------
    ValueError
        Naming the problem: not a Dataset, not exactly one dimension, a wrong axis name,
        missing variables, a variable on another dimension (mismatched lengths), empty
        data, NaN or infinite values, an unsorted or duplicated axis, non-positive
        ``sigma``, negative or non-integer counts.
    """
    if not isinstance(ds, xr.Dataset):
        raise ValueError(f"measurement data must be an xarray.Dataset, got {type(ds).__name__}")
    if len(ds.dims) != 1:
        raise ValueError(
            f"measurement data must have exactly one dimension (the measurement axis), "
            f"got {dict(ds.sizes)}; variables of different lengths end up on different "
            f"dimensions (mismatched lengths)"
        )
    (dim,) = ds.dims
    if axis is not None and dim != axis:
        raise ValueError(f"measurement axis must be named {axis!r}, got {dim!r}")
    if dim not in ds.coords:
        raise ValueError(f"measurement axis {dim!r} has no coordinate values")
    wanted = list(variables or [])
    counted = (["counts"] if counts else []) if isinstance(counts, bool) else list(counts)
    missing = [name for name in [*wanted, *counted] if name not in ds.data_vars]
    if missing:
        raise ValueError(f"missing data variable(s) {missing}; present: {list(ds.data_vars)}")
    if not ds.data_vars:
        raise ValueError("measurement data has no data variables")
    if ds.sizes[dim] == 0:
        raise ValueError(f"measurement data is empty (axis {dim!r} has length 0)")

    x = np.asarray(ds[dim].values)
    if not np.issubdtype(x.dtype, np.number):
        raise ValueError(f"axis {dim!r} must be numeric, got dtype {x.dtype}")
    _check_finite(dim, x)
    steps = np.diff(x)
    if np.any(steps == 0):
        duplicated = np.unique(x[1:][steps == 0])
        raise ValueError(f"axis {dim!r} has duplicated values: {duplicated[:5].tolist()}")
    if np.any(steps < 0):
        first = int(np.argmax(steps < 0))
        raise ValueError(
            f"axis {dim!r} is not sorted in increasing order "
            f"(x[{first}] = {x[first]} > x[{first + 1}] = {x[first + 1]}); sort with ds.sortby()"
        )

    for name, var in ds.data_vars.items():
        if var.dims != (dim,):
            raise ValueError(
                f"data variable {name!r} has dims {var.dims}, expected ({dim!r},): "
                f"mismatched lengths or shapes"
            )
        values = np.asarray(var.values)
        if not np.issubdtype(values.dtype, np.number):
            raise ValueError(f"data variable {name!r} must be numeric, got dtype {values.dtype}")
        _check_finite(name, values)
    if "sigma" in ds.data_vars and np.any(ds["sigma"].values <= 0):
        raise ValueError("sigma must be positive everywhere")
    for name in counted:
        values = np.asarray(ds[name].values)
        if np.any(values < 0):
            raise ValueError(f"{name!r} holds counts and must not be negative (min {values.min()})")
        if np.any(values != np.round(values)):
            raise ValueError(f"{name!r} holds counts and must be whole numbers")
    return ds


def _check_finite(name: str, values: np.ndarray) -> None:
    bad = ~np.isfinite(values)
    if np.any(bad):
        kinds = sorted({"NaN" if np.isnan(v) else "inf" for v in values[bad]})
        where = np.flatnonzero(bad)[:5].tolist()
        raise ValueError(
            f"{name!r} has {int(bad.sum())} non-finite value(s) ({'/'.join(kinds)}) "
            f"at index {where}"
        )


def numeric_row(path: str | Path, number: int, fields: Sequence[str], line: str) -> list[float]:
    """The fields of line ``number`` of a text file as floats.

    Raises
    ------
    ValueError
        ``path:number: not a numeric row: '<line>'`` when a field is not a number.
    """
    try:
        return [float(field) for field in fields]
    except ValueError:
        raise ValueError(f"{path}:{number}: not a numeric row: {line.strip()[:80]!r}") from None


def numeric_table(path: str | Path, rows: Iterable[tuple[int, Sequence[float]]]) -> np.ndarray:
    """The data rows of a text file, given as (line number, values) pairs, as one array.

    The one check of the text loaders (:func:`load_text`, ``xafs_io``, ``sas``) that every
    row has as many columns as the first.

    Raises
    ------
    ValueError
        ``path:number: k columns, but the first data row has m``, or ``path: no data rows
        (empty data)``.
    """
    table: list[Sequence[float]] = []
    for number, values in rows:
        if table and len(values) != len(table[0]):
            raise ValueError(
                f"{path}:{number}: {len(values)} columns, but the first data row has "
                f"{len(table[0])}"
            )
        table.append(values)
    if not table:
        raise ValueError(f"{path}: no data rows (empty data)")
    return np.array(table, dtype=float)


def load_text(
    path: str | Path,
    *,
    axis: str = "x",
    axis_units: str = "",
    variable: str = "intensity",
    units: str = "",
) -> xr.Dataset:
    """Read a two- or three-column text file ``x  y  [sigma]`` into a Dataset.

    Columns may be separated by white space or commas. Blank lines and everything after
    a comment character (``#``, ``%``, ``;``, ``!``) are ignored.

    Parameters
    ----------
    path : str or Path
        The text file.
    axis, axis_units, variable, units
        As in :func:`make_dataset`.

    Returns
    -------
    xarray.Dataset
        Validated, with ``attrs["source"]`` set to the file path.

    Raises
    ------
    ValueError
        If a line is not numeric, the rows have different numbers of columns, there are
        not 2 or 3 columns, the file holds no data, or the data fail
        :func:`validate_dataset`.
    """
    path = Path(path)

    def rows():
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            for char in COMMENT_CHARS:
                line = line.split(char, 1)[0]
            fields = line.replace(",", " ").split()
            if fields:
                yield number, numeric_row(path, number, fields, line)

    table = numeric_table(path, rows())
    if table.shape[1] not in (2, 3):
        raise ValueError(f"{path}: expected 2 or 3 columns (x, y[, sigma]), got {table.shape[1]}")
    return make_dataset(
        table[:, 0],
        table[:, 1],
        sigma=table[:, 2] if table.shape[1] == 3 else None,
        axis=axis,
        axis_units=axis_units,
        variable=variable,
        units=units,
        attrs={"source": str(path)},
    )
