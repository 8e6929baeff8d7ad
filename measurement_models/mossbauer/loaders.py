"""Reading Mössbauer spectra from text files: velocity-calibrated or raw channels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from ..data import load_text, make_dataset, numeric_row, numeric_table
from ..parameters import check_choice
from .model import AXIS, VARIABLE, _reference_channel

__all__ = ["AXES", "load"]

#: The axes a spectrum file can have: calibrated velocities or raw channel numbers.
AXES = (AXIS, "channel")


def load(
    path: str | Path,
    *,
    axis: str = AXIS,
    nominal_velocity_range: float | None = None,
    reference_channel: float | None = None,
) -> xr.Dataset:
    """Read a Mössbauer spectrum, counts along velocity or along raw channels.

    ``axis="velocity"``: a velocity-calibrated spectrum, ``velocity [mm/s], counts`` per
    line (a third column is read as ``sigma``), separated by commas or white space, no
    header; everything after ``#``, ``%``, ``;`` or ``!`` is a comment
    (:func:`measurement_models.data.load_text`).

    ``axis="channel"``: raw multichannel counts, one ``channel<sep>counts`` pair per
    line, the separator ``_`` (as in the MOSIEK analyser files of bartek-krk/MS_data), a
    comma, a semicolon or white space; blank lines and ``#`` comments are skipped. The
    velocity calibration is left to the model
    (:func:`~measurement_models.mossbauer.model.velocity_of`).

    Parameters
    ----------
    path : str or Path
    axis : {"velocity", "channel"}
    nominal_velocity_range : float, optional
        Channels only: the drive's nominal maximum speed :math:`V` [mm/s], the channels
        spanning :math:`-V \\dots V` (a symmetric constant-acceleration sweep); sets the
        prior of the velocity per channel, :math:`s_\\mathrm{nom} = 2V/(n_\\mathrm{ch} -
        1)`. An assumption about the instrument, recorded in ``attrs``.
    reference_channel : float, optional
        Channels only: :math:`c_\\mathrm{ref}` (default: the middle of the channel
        range).

    Returns
    -------
    xarray.Dataset
        ``counts`` along ``velocity`` or ``channel``; ``attrs``: ``source`` and, for
        channels, ``reference_channel`` and, if given, ``nominal_velocity_range`` and
        ``nominal_velocity_per_channel``.

    Raises
    ------
    ValueError
        Naming the file: a line that is not numeric or has the wrong number of
        columns, non-integer channels, data that fail
        :func:`~measurement_models.data.validate_dataset` (negative or non-integer
        counts, unsorted or repeated axis values, ...); an unknown axis, a non-positive
        range, or channel options for a velocity spectrum.
    """
    check_choice(axis, AXES, "axis")
    path = Path(path)
    if axis == AXIS:
        given = [
            name
            for name, value in (
                ("nominal_velocity_range", nominal_velocity_range),
                ("reference_channel", reference_channel),
            )
            if value is not None
        ]
        if given:
            raise ValueError(f"{given} are for raw channel data (axis='channel')")
        return _named(
            path, load_text, path, axis=AXIS, axis_units="mm/s", variable=VARIABLE, units="counts"
        )
    return _load_channels(path, nominal_velocity_range, reference_channel)


def _named(path: Path, function, *args, **kwargs):
    """``function(*args, **kwargs)``, its ``ValueError`` naming the file."""
    try:
        return function(*args, **kwargs)
    except ValueError as error:
        if str(path) in str(error):
            raise
        raise ValueError(f"{path}: {error}") from None


def _load_channels(
    path: Path, nominal_velocity_range: float | None, reference_channel: float | None
) -> xr.Dataset:
    rows = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        line = line.split("#", 1)[0]
        fields = line.replace("_", " ").replace(",", " ").replace(";", " ").split()
        if not fields:
            continue
        if len(fields) != 2:
            raise ValueError(f"{path}:{number}: expected 'channel_counts', got {line.strip()!r}")
        rows.append((number, numeric_row(path, number, fields, line)))
    channels, counts = numeric_table(path, rows).T
    if np.any(channels != np.round(channels)):
        raise ValueError(f"{path}: channel numbers must be whole numbers")
    attrs: dict[str, object] = {
        "source": str(path),
        "reference_channel": _reference_channel(channels, reference_channel),
    }
    if nominal_velocity_range is not None:
        if not (np.isfinite(nominal_velocity_range) and nominal_velocity_range > 0):
            raise ValueError(
                f"nominal_velocity_range must be positive, got {nominal_velocity_range!r}"
            )
        attrs["nominal_velocity_range"] = float(nominal_velocity_range)
        attrs["nominal_velocity_per_channel"] = (
            2 * float(nominal_velocity_range) / (channels.size - 1)
        )
    return _named(
        path,
        make_dataset,
        channels,
        counts,
        axis="channel",
        axis_units="channel",
        variable=VARIABLE,
        units="counts",
        attrs=attrs,
    )
