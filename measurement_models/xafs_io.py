r"""Readers for XAFS text files: ``.xmu`` columns, XDI headers, 13-ID-E step scans.

Three flavours of the same plain-text layout are read (a header of ``#`` lines, then a
table of numbers, one row per energy point):

* ``.xmu`` (ifeffit/Athena export, e.g. xraylarch ``examples/xafsdata/fe2o3_rt1.xmu``):
  header lines ``#%key: value`` and the column labels on the last comment line before
  the data (``#   energy     mu       i0``);
* XDI (``# XDI/1.0``; e.g. ``feo_rt1.xdi``): header lines ``# Family.member: value``,
  column labels from ``# Column.N: label [units]``;
* the XDI-style EPICS step scans of APS 13-ID-E (``fexanes_a.001`` …): ``# Column.N:
  label units || PV``, raw multi-element detector counts per channel
  (``Fe_Ka_mca1`` … ``Fe_Ka_mca7``), their dead-time factors (``DTFactor_mca*``), the
  dead-time corrected sum (``Sum_Fe_Ka`` :math:`= \sum_j N_j\,d_j`) and ``I0``.

:func:`load_xafs` returns a Dataset on the coordinate ``energy`` [eV] with every
measured column (named by its label), the header in ``attrs`` and the absorption

.. math::

    \mu(E) = \begin{cases}
    \text{the file's } \mu \text{ column} & \text{(columns } \mathtt{mu}, \mathtt{xmu},
        \mathtt{mutrans}, \mathtt{mufluor}, \ldots)\\
    F(E)/I_0(E) & \text{(fluorescence: a } \mathtt{Sum\_\ast} \text{ column and } I_0)\\
    \ln\left(I_0(E)/I_1(E)\right) & \text{(transmission: } I_0 \text{ and } I_1)
    \end{cases}

in that order of precedence, as variable ``mu`` (``attrs["mu_kind"]`` says which).
For fluorescence the raw counts :math:`N(E) = \sum_j N_j(E)` of the detector channels
are kept as ``counts`` (whole numbers, for a Poisson likelihood) with the dead-time
factor ``dead_time`` :math:`= F/N`, so that the expected raw counts are
:math:`\mu(E)\,I_0(E)/d(E)`.

Checked (``tests/measurement_models/test_xafs_io.py``): every column against
``numpy.loadtxt`` of the same file, column labels and header values against the header
lines read by hand, :math:`\sum_j N_j d_j` against the file's ``Sum_Fe_Ka`` column, and
bad files (missing columns, unsorted or duplicated energies, NaN, non-positive
:math:`I_0`) raise ``ValueError`` naming the problem.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import xarray as xr

from .data import numeric_row, numeric_table, validate_dataset

__all__ = ["AUTO", "DEFAULT_FLUORESCENCE", "MU_COLUMNS", "load_xafs", "read_xafs_text"]

#: Column labels (case-insensitive) that hold an absorption coefficient already.
MU_COLUMNS = ("mu", "xmu", "mutrans", "mufluor", "murefer", "norm")
#: Column labels (case-insensitive) taken as the energy axis.
ENERGY_COLUMNS = ("energy", "e", "energy_ev")
#: ``fluorescence=AUTO`` (the default of :func:`load_xafs`): a ``mu`` column if the file
#: has one, else :data:`DEFAULT_FLUORESCENCE` over I0 if it has that column, else
#: transmission.
AUTO = "auto"
#: The fluorescence column :data:`AUTO` looks for (the APS 13-ID-E Fe Kα sum).
DEFAULT_FLUORESCENCE = "Sum_Fe_Ka"

_COLUMN = re.compile(r"^column\.(\d+)$", re.IGNORECASE)


def _header_fields(lines: list[str]) -> tuple[dict[str, str], dict[int, list[str]], list[str]]:
    """Key–value header fields, ``Column.N`` labels, and the last plain comment line."""
    attrs: dict[str, str] = {}
    columns: dict[int, list[str]] = {}
    last_comment: list[str] = []
    for line in lines:
        text = line.lstrip("#").strip()
        if text.startswith("%"):  # .xmu: "#%key: value"
            text = text[1:]
        key, sep, value = text.partition(":")
        key = key.strip()
        if sep and key and " " not in key:
            value = value.split("||", 1)[0].strip()  # 13-ID-E: "value || EPICS PV"
            match = _COLUMN.match(key)
            if match:
                columns[int(match.group(1))] = value.split()
            else:
                attrs[key] = value
        elif text and not set(text) <= set("-/ "):
            last_comment = text.split()
    return attrs, columns, last_comment


def read_xafs_text(
    path: str | Path,
) -> tuple[dict[str, str], list[str], dict[str, str], np.ndarray]:
    """Split an XAFS text file into header fields, column labels, units and the table.

    Parameters
    ----------
    path : str or Path
        An ``.xmu``, XDI or 13-ID-E step-scan file.

    Returns
    -------
    attrs : dict
        Header fields (``"Element.symbol": "Fe"``, ``"name": "Fe2O3 powder ..."``);
        for 13-ID-E files the value before ``||``.
    labels : list of str
        One label per column: from ``# Column.N:`` lines when present, otherwise from
        the last comment line before the data.
    units : dict
        Label to unit, from ``# Column.N: label unit`` lines.
    table : ndarray, shape (n_points, n_columns)

    Raises
    ------
    ValueError
        A non-numeric data row, rows of different lengths, no data, or a number of
        labels different from the number of columns.
    """
    path = Path(path)
    header: list[str] = []

    def rows():
        started = False  # comment lines before the first data row are the header
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if line.lstrip().startswith("#"):
                if not started:
                    header.append(line)
            elif line.strip():
                started = True
                yield number, numeric_row(path, number, line.split(), line)

    table = numeric_table(path, rows())
    attrs, columns, last_comment = _header_fields(header)
    if columns:
        labels = [columns[i][0] for i in sorted(columns)]
        units = {columns[i][0]: " ".join(columns[i][1:]) for i in columns if len(columns[i]) > 1}
    else:
        labels, units = last_comment, {}
    if len(labels) != table.shape[1]:
        raise ValueError(
            f"{path}: {table.shape[1]} data columns but {len(labels)} column labels "
            f"({labels}); missing or extra columns"
        )
    if len(set(labels)) != len(labels):
        raise ValueError(f"{path}: repeated column labels {labels}")
    return attrs, labels, units, table


def _find(labels: list[str], candidates: tuple[str, ...]) -> str | None:
    lower = {label.lower(): label for label in labels}
    return next((lower[c] for c in candidates if c in lower), None)


def _channels(labels: list[str], fluorescence: str) -> list[str]:
    """Raw detector channels of a ``Sum_<line>`` column: ``<line>_mca1``, ``<line>_mca2``..."""
    line = fluorescence.removeprefix("Sum_")
    pattern = re.compile(rf"^{re.escape(line)}_mca\d+$")
    return [label for label in labels if pattern.match(label)]


def _named_fluorescence(path: Path, labels: list[str], fluorescence: str) -> str:
    """The column a user named (case-insensitive), or a ``ValueError`` listing the columns."""
    found = _find(labels, (fluorescence.lower(),))
    if found is None:
        raise ValueError(
            f"{path}: no fluorescence column {fluorescence!r}; columns: {labels} "
            "(fluorescence=None for transmission or a given mu column)"
        )
    return found


def _absorption(
    path: Path, columns: dict[str, np.ndarray], fluorescence: str | None
) -> tuple[np.ndarray, str, dict[str, np.ndarray]]:
    """μ(E), how it was obtained, and extra variables (raw counts, dead time)."""
    labels = list(columns)
    mu_label = _find(labels, MU_COLUMNS)
    i0 = _find(labels, ("i0",))
    named = fluorescence not in (None, AUTO)
    if named:
        fluorescence = _named_fluorescence(path, labels, fluorescence)
        if i0 is None:
            raise ValueError(
                f"{path}: fluorescence {fluorescence!r} needs an I0 column; columns: {labels}"
            )
    elif fluorescence == AUTO:
        fluorescence = _find(labels, (DEFAULT_FLUORESCENCE.lower(),))
    if mu_label is not None and not named:
        return columns[mu_label], f"given ({mu_label} column)", {}
    if i0 is not None and np.any(columns[i0] <= 0):
        raise ValueError(f"{path}: I0 column {i0!r} must be positive to normalise by it")
    if fluorescence is not None and fluorescence in columns and i0 is not None:
        extra = {}
        raw = _channels(labels, fluorescence)
        if raw:
            counts = np.sum([columns[c] for c in raw], axis=0)
            if np.any(counts <= 0):
                raise ValueError(f"{path}: raw counts {raw} sum to zero at some energy")
            extra = {"counts": counts, "dead_time": columns[fluorescence] / counts}
        return columns[fluorescence] / columns[i0], f"fluorescence {fluorescence}/{i0}", extra
    i1 = _find(labels, ("i1", "it"))
    if i0 is not None and i1 is not None:
        if np.any(columns[i1] <= 0):
            raise ValueError(f"{path}: transmission column {i1!r} must be positive for ln(I0/I1)")
        return np.log(columns[i0] / columns[i1]), f"transmission ln({i0}/{i1})", {}
    raise ValueError(
        f"{path}: missing columns: need a mu column ({', '.join(MU_COLUMNS)}), "
        f"{DEFAULT_FLUORESCENCE} and I0 (fluorescence), or I0 and I1 (transmission); "
        f"columns: {labels}"
    )


def load_xafs(path: str | Path, *, fluorescence: str | None = AUTO) -> xr.Dataset:
    r"""Read an ``.xmu``, XDI or 13-ID-E XAFS file into a Dataset on ``energy`` [eV].

    Parameters
    ----------
    path : str or Path
        The file (see the module docstring for the formats).
    fluorescence : str or None
        Label of the (dead-time corrected) fluorescence column for
        :math:`\mu = F/I_0` (matched case-insensitively); its raw channels
        ``<line>_mca<j>`` (``Sum_Fe_Ka`` → ``Fe_Ka_mca1`` …) are summed into
        ``counts``. A named column is used even if the file has a ``mu`` column, and
        must exist (else ``ValueError`` listing the columns). :data:`AUTO` (default):
        a ``mu`` column, else :data:`DEFAULT_FLUORESCENCE` if present, else
        transmission. ``None``: a ``mu`` column or transmission.

    Returns
    -------
    xarray.Dataset
        Coordinate ``energy`` (eV); every other column as a variable named by its
        label; ``mu``; for fluorescence scans ``counts`` (raw, whole numbers) and
        ``dead_time``. ``attrs``: the header fields, ``source``, ``mu_kind``,
        ``columns`` (labels in file order).

    Raises
    ------
    ValueError
        Missing energy or absorption columns, a named fluorescence column that the
        file does not have, non-positive :math:`I_0` or
        :math:`I_1`, and everything :func:`~measurement_models.data.validate_dataset`
        rejects (unsorted or duplicated energies, NaN, negative or fractional counts).
    """
    path = Path(path)
    attrs, labels, units, table = read_xafs_text(path)
    energy_label = _find(labels, ENERGY_COLUMNS)
    if energy_label is None:
        raise ValueError(f"{path}: missing energy column; columns: {labels}")
    columns = dict(zip(labels, table.T, strict=True))
    if not np.all(np.isfinite(table)):
        bad = [label for label, col in columns.items() if not np.all(np.isfinite(col))]
        raise ValueError(f"{path}: non-finite value(s) (NaN/inf) in column(s) {bad}")
    energy = columns.pop(energy_label)
    mu, kind, extra = _absorption(path, columns, fluorescence)
    data_vars = {
        label: ("energy", values, {"units": units.get(label, "")})
        for label, values in columns.items()
    }
    data_vars["mu"] = ("energy", mu, {"units": "", "long_name": f"absorption, {kind}"})
    if "counts" in extra:
        data_vars["counts"] = ("energy", np.round(extra["counts"]).astype(np.int64), {})
        data_vars["dead_time"] = ("energy", extra["dead_time"], {})
    ds = xr.Dataset(
        data_vars,
        coords={"energy": ("energy", energy, {"units": "eV"})},
        attrs={**attrs, "source": str(path), "mu_kind": kind, "columns": labels},
    )
    if "counts" in extra and np.any(extra["counts"] != np.round(extra["counts"])):
        raise ValueError(f"{path}: raw detector counts must be whole numbers")
    try:
        return validate_dataset(ds, counts=["counts"] if "counts" in extra else False)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None
