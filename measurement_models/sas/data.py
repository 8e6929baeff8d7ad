r"""SAS measurements as datasets: validation, simulation and the text loader.

A measurement is an :class:`xarray.Dataset` along ``q`` [Å⁻¹] holding either photon or
neutron ``counts`` with ``attrs["measurement_time"]`` (the exposure :math:`t` in counts
per cm⁻¹; Poisson likelihood), or absolute ``intensity`` [cm⁻¹] with optional per-point
``sigma`` (reduced data; Gaussian likelihood). :func:`check_data` is the one gate every
function of :mod:`measurement_models.sas` passes its data through.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import xarray as xr

from ..data import make_dataset, numeric_table, validate_dataset
from ..parameters import check_choice
from .form_factors import FormFactor
from .intensity import forward

__all__ = [
    "AXIS",
    "COUNTS",
    "NOISE_KINDS",
    "Q_UNITS",
    "VARIABLE",
    "check_data",
    "counts_dataset",
    "example_data",
    "load",
    "resolve_measurement_time",
    "simulate",
]

#: The measured variable of absolute-intensity data (Gaussian likelihood) [cm⁻¹].
VARIABLE = "intensity"
#: The measured variable of count data (Poisson likelihood).
COUNTS = "counts"
#: The axis coordinate: scattering vector q.
AXIS = "q"
#: Noise models: Poisson counts or Gaussian absolute intensity.
NOISE_KINDS = ("poisson", "gaussian")
#: Accepted q units and their factor to Å⁻¹.
Q_UNITS = {"1/Å": 1.0, "1/A": 1.0, "Å⁻¹": 1.0, "1/nm": 0.1, "nm⁻¹": 0.1}


def resolve_measurement_time(data: xr.Dataset, measurement_time: float | None) -> float:
    """The exposure :math:`t` [counts per cm⁻¹]: ``measurement_time``, else the data's.

    Raises
    ------
    ValueError
        No measurement time given or in ``attrs["measurement_time"]``, or one that is
        not positive and finite.
    """
    value = data.attrs.get("measurement_time") if measurement_time is None else measurement_time
    if value is None:
        raise ValueError(
            "Poisson counts need the measurement time t (counts per cm⁻¹): "
            "attrs['measurement_time'] of the data or measurement_time="
        )
    value = float(np.asarray(value))
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"the measurement time t must be positive and finite, got {value!r}")
    return value


def check_data(data: xr.Dataset, noise: str) -> xr.Dataset:
    """The single gate for SAS data: validate_dataset, the axis ``q`` and q > 0.

    Parameters
    ----------
    data : xarray.Dataset
    noise : {"poisson", "gaussian"}
        ``counts`` (whole numbers ≥ 0) for Poisson noise, ``intensity`` for Gaussian.

    Returns
    -------
    xarray.Dataset
        ``data`` itself.

    Raises
    ------
    ValueError
        As :func:`~measurement_models.data.validate_dataset`; an axis not named ``q``;
        q ≤ 0; an unknown noise model.
    """
    check_choice(noise, NOISE_KINDS, "noise model")
    if noise == "poisson":
        validate_dataset(data, variables=[COUNTS], counts=True)
    else:
        validate_dataset(data, variables=[VARIABLE])
    validate_dataset(data, axis=AXIS)
    q = data[AXIS].values
    if np.any(q <= 0):
        raise ValueError(
            f"q must be positive (scattering vector in Å⁻¹); got q = {q.min()!r} at index "
            f"{int(np.argmin(q))}"
        )
    return data


def _q_factor(q_unit: str) -> float:
    if q_unit not in Q_UNITS:
        raise ValueError(f"unknown q unit {q_unit!r}; choose one of {tuple(Q_UNITS)}")
    return Q_UNITS[q_unit]


def counts_dataset(
    q,
    counts,
    measurement_time: float,
    *,
    q_unit: str = "1/Å",
    attrs: Mapping[str, object] | None = None,
) -> xr.Dataset:
    """A validated count measurement: ``counts`` along ``q`` [Å⁻¹], ``attrs`` with t.

    Parameters
    ----------
    q : array_like, shape (n,)
        Scattering vector in ``q_unit`` (converted to Å⁻¹).
    counts : array_like, shape (n,)
        Photon or neutron counts (whole numbers ≥ 0).
    measurement_time : float
        :math:`t` [counts per cm⁻¹], positive.
    q_unit : {"1/Å", "1/nm", ...}
        See :data:`Q_UNITS`.
    attrs : mapping, optional
        Further attributes (provenance, truth).

    Raises
    ------
    ValueError
        Negative or non-integer counts, NaN, unsorted or repeated q, q ≤ 0, a
        non-positive t, mismatched lengths.
    """
    time = resolve_measurement_time(xr.Dataset(), measurement_time)
    data = make_dataset(
        np.asarray(q, dtype=float) * _q_factor(q_unit),
        np.asarray(counts),
        axis=AXIS,
        axis_units="1/Å",
        variable=COUNTS,
        units="counts",
        attrs={**dict(attrs or {}), "measurement_time": time},
    )
    return check_data(data, "poisson")


def _population_arrays(radius, scale, shape: Mapping[str, object]) -> dict[str, np.ndarray]:
    arrays = {"radius": radius, "scale": scale, **shape}
    arrays = {k: np.atleast_1d(np.asarray(v, dtype=float)) for k, v in arrays.items()}
    sizes = {k: v.shape for k, v in arrays.items()}
    if len(set(sizes.values())) != 1 or arrays["radius"].ndim != 1:
        raise ValueError(
            f"radius, scale and shape parameters need one value per population, got shapes "
            f"{sizes}: wrong number of populations"
        )
    return arrays


def simulate(
    q,
    *,
    rng: np.random.Generator | int | None = None,
    radius,
    scale,
    background: float,
    form: str | FormFactor = "sphere",
    measurement_time: float = 1.0,
    noise: str = "poisson",
    sigma=None,
    **shape,
) -> xr.Dataset:
    r"""Simulate a SAS measurement (seeded :class:`numpy.random.Generator`).

    ``noise="poisson"``: counts :math:`y_i \sim \mathrm{Poisson}(t\,I(q_i))`, a
    ``counts`` Dataset with ``attrs["measurement_time"]``. ``noise="gaussian"``:
    reduced absolute intensity :math:`I_i \sim N(I(q_i), \sigma_i^2)` with
    :math:`\sigma_i` = ``sigma`` if given, else the counting error of the exposure,
    :math:`\sqrt{I(q_i)/t}`; stored as ``intensity`` and ``sigma``. The truth is kept in
    ``attrs`` (``truth_radius``, ``truth_scale``, ``truth_background``, ...).

    Parameters
    ----------
    q : array_like, shape (n,)
        Scattering vector [Å⁻¹], positive.
    rng : numpy.random.Generator or int, optional
        Random generator or seed.
    radius, scale, background, form, **shape
        As in :func:`~measurement_models.sas.intensity.forward`, one value per
        population.
    measurement_time : float
        :math:`t` [counts per cm⁻¹].
    noise : {"poisson", "gaussian"}
    sigma : float or array_like, optional
        Gaussian noise sd [cm⁻¹] (Gaussian noise only).

    Raises
    ------
    ValueError
        q ≤ 0, a wrong number of values per population, ``sigma`` with Poisson noise,
        an unknown noise model or form factor.
    """
    check_choice(noise, NOISE_KINDS, "noise model")
    form = FormFactor.of(form)
    rng = np.random.default_rng(rng)
    time = resolve_measurement_time(xr.Dataset(), measurement_time)
    pops = _population_arrays(radius, scale, shape)
    q = np.asarray(q, dtype=float)
    if np.any(q <= 0):
        raise ValueError("q must be positive (scattering vector in Å⁻¹)")
    extra = {k: pops[k] for k in form.shape_parameters if k in pops}
    mean = forward(
        q,
        radius=pops["radius"],
        scale=pops["scale"],
        background=float(background),
        form=form,
        **extra,
    )
    attrs = {f"truth_{k}": v for k, v in pops.items()}
    attrs |= {
        "truth_background": float(background),
        "form": form.name,
        "sld": form.sld,
        "sld_solvent": form.sld_solvent,
        "noise": noise,
    }
    if form.sld_shell is not None:
        attrs["sld_shell"] = form.sld_shell
    if noise == "poisson":
        if sigma is not None:
            raise ValueError("sigma is for Gaussian noise")
        return counts_dataset(q, rng.poisson(time * mean), time, attrs=attrs)
    sd = (
        np.sqrt(mean / time)
        if sigma is None
        else np.broadcast_to(np.asarray(sigma, float), q.shape)
    )
    attrs |= {"truth_sigma": float(np.mean(sd)), "measurement_time": time}
    data = make_dataset(
        q,
        mean + sd * rng.standard_normal(q.shape),
        sigma=sd,
        axis=AXIS,
        axis_units="1/Å",
        variable=VARIABLE,
        units="1/cm",
        attrs=attrs,
    )
    return check_data(data, "gaussian")


_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eEdD][+-]?\d+)?$|^[+-]?(nan|inf)$", re.IGNORECASE)


def _fields(line: str) -> list[str]:
    return line.replace(",", " ").replace(";", " ").split()


def _is_numeric_row(fields: list[str]) -> bool:
    return bool(fields) and all(_NUMBER.match(f) for f in fields)


def load(path: str | Path, *, q_unit: str = "1/Å") -> xr.Dataset:
    """Read the usual SAS text format: columns q, I [, dI [, dq]] after header lines.

    Lines before the first all-numeric row are the header (title, sample notes,
    column names such as ``q I dI`` or ``<X> <Y> <dY>``): kept in ``attrs["header"]``.
    After that every non-blank line must be a numeric row with the same number of
    columns; ``#`` starts a comment anywhere. Separators: white space, commas,
    semicolons. Fortran exponents (``1.0D-03``) are read.

    Parameters
    ----------
    path : str or Path
    q_unit : {"1/Å", "1/nm", ...}
        Unit of the file's q (and dq) column; converted to Å⁻¹ (:data:`Q_UNITS`).

    Returns
    -------
    xarray.Dataset
        ``intensity`` (cm⁻¹ assumed: absolute units) along ``q`` [Å⁻¹], ``sigma`` = dI
        if present, ``dq`` [Å⁻¹] if present (kept, not used by the models); attrs
        ``source``, ``header``, ``q_unit_in_file``.

    Raises
    ------
    ValueError
        A non-numeric line after the data started, rows with different numbers of
        columns, fewer than 2 or more than 4 columns, no data rows, or data that fail
        validation (NaN, unsorted or repeated q, q ≤ 0, dI ≤ 0).
    """
    path = Path(path)
    factor = _q_factor(q_unit)
    header: list[str] = []

    def rows():
        started = False  # non-numeric lines are header lines until the data start
        for number, raw in enumerate(path.read_text().splitlines(), start=1):
            fields = _fields(raw.split("#", 1)[0])
            if not fields:
                continue
            if not _is_numeric_row(fields) or (not started and len(fields) < 2):
                if started:
                    raise ValueError(
                        f"{path}:{number}: non-numeric line after the data started: {raw.strip()!r}"
                    )
                header.append(raw.strip())
                continue
            started = True
            yield number, [float(f.replace("D", "E").replace("d", "e")) for f in fields]

    table = numeric_table(path, rows())
    if not 2 <= table.shape[1] <= 4:
        raise ValueError(
            f"{path}: expected 2 to 4 columns (q, I[, dI[, dq]]), got {table.shape[1]}"
        )
    data = make_dataset(
        table[:, 0] * factor,
        table[:, 1],
        sigma=table[:, 2] if table.shape[1] >= 3 else None,
        axis=AXIS,
        axis_units="1/Å",
        variable=VARIABLE,
        units="1/cm",
        attrs={"source": str(path), "header": "\n".join(header), "q_unit_in_file": q_unit},
    )
    if table.shape[1] == 4:
        data["dq"] = (AXIS, table[:, 3] * factor, {"units": "1/Å"})
    return check_data(data, "gaussian")


def example_data(rng: np.random.Generator | int | None = 0) -> tuple[xr.Dataset, dict]:
    """Spheres of radius 10 nm reduced to absolute intensity (σ from t = 100), 60 q."""
    truth = {"radius": np.array([100.0]), "scale": np.array([0.01]), "background": 0.01}
    data = simulate(
        np.geomspace(0.003, 0.3, 60),
        **truth,
        measurement_time=100.0,
        noise="gaussian",
        rng=rng,
    )
    return data, truth
