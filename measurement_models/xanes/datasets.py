r"""XANES spectra as Datasets: read and normalise a file, cut a window, simulate.

A spectrum for :func:`measurement_models.xanes.build_model` is the absorption
normalised to a unit edge step, ``intensity`` on ``energy`` [eV] (Gaussian noise), and
for raw fluorescence counts also ``counts``, ``exposure`` and ``offset`` (Poisson noise):
:func:`load` reads an XAFS file with :func:`measurement_models.xafs_io.load_xafs` and
normalises it with :func:`normalize`; :func:`simulate` makes one from known parameters.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from ..data import make_dataset, validate_dataset
from ..xafs_io import AUTO, load_xafs
from .physics import FORWARD_PARAMETERS, forward

__all__ = [
    "AXIS",
    "COUNTS",
    "VARIABLE",
    "example_data",
    "load",
    "normalize",
    "select_window",
    "simulate",
]

#: Name of the measured data variable: μ normalised to a unit edge step.
VARIABLE = "intensity"
#: Name of the raw fluorescence counts (Poisson noise).
COUNTS = "counts"
#: Name of the measurement axis (eV).
AXIS = "energy"


def select_window(data: xr.Dataset, energy_window: tuple[float, float] | None) -> xr.Dataset:
    """The points with ``energy_window[0] <= E <= energy_window[1]`` (all when None).

    Raises
    ------
    ValueError
        A window that is not two increasing numbers or holds fewer than 5 points.
    """
    if energy_window is None:
        return data
    lo, hi = (float(v) for v in energy_window)
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"energy_window must be (low, high) with low < high, got {energy_window}")
    dim = next(iter(data.dims))
    window = data.sel({dim: slice(lo, hi)})
    if window.sizes[dim] < 5:
        raise ValueError(
            f"energy_window {energy_window} holds {window.sizes[dim]} points; need at least 5"
        )
    return window


def normalize(
    ds: xr.Dataset,
    e0: float,
    pre: tuple[float, float] = (-150.0, -30.0),
    post: tuple[float, float] = (50.0, 300.0),
) -> xr.Dataset:
    r"""Edge-step normalisation :math:`(\mu - p(E)) / s` (Athena's ``norm``).

    :math:`p` is the straight line fitted to μ over ``e0 + pre``, :math:`q` the
    quadratic fitted over ``e0 + post``, and :math:`s = q(E_0) - p(E_0)` the edge step.

    Parameters
    ----------
    ds : xarray.Dataset
        From :func:`measurement_models.xafs_io.load_xafs` (``mu`` on ``energy``).
    e0 : float
        Edge energy (eV) for the normalisation ranges.
    pre, post : (float, float)
        Ranges relative to ``e0`` (eV).

    Returns
    -------
    xarray.Dataset
        ``intensity`` (normalised μ) on ``energy``; if ``ds`` has raw ``counts``, also
        ``counts``, ``exposure`` :math:`= s\,I_0/d` and ``offset`` :math:`= p/s`, so that
        the expected counts are ``exposure * (offset + intensity)``. ``attrs``: the
        source's plus ``e0``, ``edge_step``, ``pre_line`` (slope, intercept).

    Raises
    ------
    ValueError
        No ``mu``, fewer than 3 points in a range, or a non-positive edge step.
    """
    validate_dataset(ds, variables=["mu"], axis=AXIS)
    energy, mu = ds[AXIS].values, ds["mu"].values
    fits = []
    for name, (lo, hi), degree in (("pre", pre, 1), ("post", post, 2)):
        inside = (energy >= e0 + lo) & (energy <= e0 + hi)
        if inside.sum() < 3:
            raise ValueError(f"the {name}-edge range e0 + {(lo, hi)} holds {inside.sum()} points")
        fits.append(np.polyfit(energy[inside], mu[inside], degree))
    pre_fit, post_fit = fits
    edge_step = np.polyval(post_fit, e0) - np.polyval(pre_fit, e0)
    if not edge_step > 0:
        raise ValueError(f"edge step at e0 = {e0} is not positive ({edge_step:g})")
    line = np.polyval(pre_fit, energy)
    attrs = {**ds.attrs, "e0": float(e0), "edge_step": float(edge_step)}
    attrs["pre_line"] = np.asarray(pre_fit, dtype=float)
    out = make_dataset(
        energy, (mu - line) / edge_step, axis=AXIS, axis_units="eV", variable=VARIABLE, attrs=attrs
    )
    if COUNTS in ds and "I0" in ds and "dead_time" in ds:
        out[COUNTS] = (AXIS, ds[COUNTS].values)
        out["exposure"] = (AXIS, edge_step * ds["I0"].values / ds["dead_time"].values)
        out["offset"] = (AXIS, line / edge_step)
    return out


def load(
    path: str | Path,
    *,
    e0: float,
    pre: tuple[float, float] = (-150.0, -30.0),
    post: tuple[float, float] = (50.0, 300.0),
    fluorescence: str | None = AUTO,
) -> xr.Dataset:
    """A XANES spectrum from an XAFS file, normalised to a unit edge step.

    The file is read by :func:`measurement_models.xafs_io.load_xafs` (``.xmu``, XDI,
    APS 13-ID-E step scans; see there) and normalised by :func:`normalize`: the result
    is what :func:`~measurement_models.xanes.build_model` takes, with the raw counts
    for a Poisson likelihood when the file has them.

    Parameters
    ----------
    path : str or Path
        The XAFS file.
    e0 : float
        Edge energy (eV) for the normalisation ranges.
    pre, post : (float, float)
        Normalisation ranges relative to ``e0`` (eV), as in :func:`normalize`.
    fluorescence : str or None
        The fluorescence column, as in :func:`~measurement_models.xafs_io.load_xafs`
        (default ``"auto"``: a ``mu`` column, else ``Sum_Fe_Ka`` if present, else
        transmission; a named column must exist).

    Returns
    -------
    xarray.Dataset
        As :func:`normalize` returns it; ``attrs`` keep the file's header fields.

    Raises
    ------
    ValueError
        Everything :func:`~measurement_models.xafs_io.load_xafs` and :func:`normalize`
        reject, the file's name in the message.
    """
    try:
        return normalize(load_xafs(path, fluorescence=fluorescence), e0, pre=pre, post=post)
    except ValueError as err:
        message = str(err)
        raise ValueError(message if str(path) in message else f"{path}: {message}") from None


def simulate(
    energy: np.ndarray,
    *,
    rng: np.random.Generator | int | None = None,
    sigma: float,
    **params,
) -> xr.Dataset:
    """A normalised XANES spectrum μ(E) + N(0, σ²) from the parameters ``params``.

    ``params`` are the keyword arguments of :func:`~measurement_models.xanes.forward`
    (``H``, ``E0``, ``Gamma``, and optionally the white line, the Gaussians and the
    background); the truth is kept in ``attrs`` as ``truth_<name>`` (and
    ``truth_sigma``).

    Raises
    ------
    ValueError
        An unknown parameter name, or ``sigma`` not positive and finite.
    """
    rng = np.random.default_rng(rng)
    energy = np.asarray(energy, dtype=float)
    unknown = sorted(set(params) - set(FORWARD_PARAMETERS))
    if unknown:
        raise ValueError(f"unknown parameter(s) {unknown}; known: {list(FORWARD_PARAMETERS)}")
    if not np.isfinite(sigma) or sigma <= 0:
        raise ValueError(f"sigma must be positive and finite, got {sigma!r}")
    mean = forward(energy, **{k: np.asarray(v, dtype=float) for k, v in params.items()})
    attrs = {f"truth_{k}": np.asarray(v, dtype=float) for k, v in params.items()}
    return make_dataset(
        energy,
        mean + sigma * rng.standard_normal(energy.shape),
        sigma=np.full(energy.shape, float(sigma)),
        axis=AXIS,
        axis_units="eV",
        variable=VARIABLE,
        attrs={**attrs, "truth_sigma": float(sigma)},
    )


def example_data(rng: np.random.Generator | int | None = 0) -> tuple[xr.Dataset, dict]:
    """A small simulated Fe K-edge spectrum (7100–7160 eV, 61 points, σ = 0.01).

    The truth, an example and no published spectrum: an edge at 7122 eV with a white
    line 8 eV above it and two pre-edge features.
    """
    truth = {
        "H": 1.0,
        "E0": 7122.0,
        "Gamma": 3.0,
        "A": 4.0,
        "dE": 8.0,
        "omega": 6.0,
        "eta": 0.5,
        "F": np.array([0.08, 0.05]),
        "Ek": np.array([7112.5, 7114.0]),
        "W": np.array([1.5, 1.8]),
        "c0": 0.0,
        "c1": 0.002,
    }
    data = simulate(np.linspace(7100.0, 7160.0, 61), sigma=0.01, rng=rng, **truth)
    return data, truth
