r"""Assimilation data: a table of samples, descriptor features, loading and simulation.

The data of the Λ model are one :class:`xarray.Dataset` along ``sample``: the descriptors
``x`` (sample, descriptor) and one variable per target (``y_comp``, ``y_expt``), NaN
marking a target not measured for that sample, so that calculations and experiments may
be made at different descriptor values. :func:`validate_data` is the gate every function
passes the data through. :class:`Basis` turns descriptors into the features
:math:`\phi(x)` (the first one the constant 1).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

__all__ = [
    "BASES",
    "DESCRIPTOR",
    "SAMPLE",
    "TARGETS",
    "Basis",
    "design",
    "load",
    "make_data",
    "simulate",
    "stack_measurements",
    "validate_data",
]

#: The two targets of the Λ model: the calculation and the experiment.
TARGETS = ("y_comp", "y_expt")
#: Name of the row dimension (one row per sample).
SAMPLE = "sample"
#: Name of the descriptor dimension of ``x``.
DESCRIPTOR = "descriptor"
#: Feature bases of the descriptor (polynomial or sine features).
BASES = ("polynomial", "sine")


@dataclass(frozen=True)
class Basis:
    r"""Descriptor features :math:`\phi(x)`.

    Parameters
    ----------
    kind : {"polynomial", "sine"}
        ``polynomial``: monomials :math:`\prod_i x_i^{e_i}` of total degree
        :math:`\sum e_i \le` ``size``; ``sine``: products :math:`\prod_i \phi_{n_i}(x_i)`,
        :math:`n_i = 0 \dots` ``size`` − 1, :math:`\phi_n(x) = \sin(2\pi n x)`,
        :math:`\phi_0 \equiv 1` (since :math:`\sin 0 = 0`).
    size : int
        Polynomial degree (≥ 0) or number of sine functions per dimension (≥ 1).
    cross_terms : bool
        Include products of several dimensions (default); ``False`` keeps the constant
        and one-dimensional terms only.
    """

    kind: str = "polynomial"
    size: int = 3
    cross_terms: bool = True

    def __post_init__(self) -> None:
        if self.kind not in BASES:
            raise ValueError(f"unknown basis {self.kind!r}; choose one of {BASES}")
        low = 0 if self.kind == "polynomial" else 1
        if int(self.size) != self.size or self.size < low:
            raise ValueError(
                f"{self.kind} basis size must be an integer ≥ {low}, got {self.size!r}"
            )

    def indices(self, n_dims: int) -> list[tuple[int, ...]]:
        """Exponents (polynomial) or frequencies (sine) of every feature, in order."""
        if self.kind == "polynomial":
            found = [
                e
                for e in itertools.product(range(self.size + 1), repeat=n_dims)
                if sum(e) <= self.size
            ]
            found.sort(key=lambda e: (sum(e), tuple(-v for v in e)))
        else:
            found = list(itertools.product(range(self.size), repeat=n_dims))
        if not self.cross_terms:
            found = [e for e in found if sum(v > 0 for v in e) <= 1]
        return found

    def features(self, x) -> np.ndarray:
        """:math:`\\phi(x)`, shape ``(n, p)``, for descriptors ``x`` of shape (n,) or (n, d)."""
        x = _as_descriptors(x)
        columns = []
        for index in self.indices(x.shape[1]):
            column = np.ones(x.shape[0])
            for dim, k in enumerate(index):
                if k:
                    column = column * (
                        x[:, dim] ** k
                        if self.kind == "polynomial"
                        else np.sin(2 * np.pi * k * x[:, dim])
                    )
            columns.append(column)
        return np.column_stack(columns)

    def names(self, descriptors: Sequence[str]) -> list[str]:
        """Readable feature labels, e.g. ``1``, ``x^2``, ``x1*x2``, ``sin(4πx1)``."""
        labels = []
        for index in self.indices(len(descriptors)):
            parts = []
            for name, k in zip(descriptors, index, strict=True):
                if k and self.kind == "polynomial":
                    parts.append(name if k == 1 else f"{name}^{k}")
                elif k:
                    parts.append(f"sin({2 * k}π{name})")
            labels.append("*".join(parts) or "1")
        return labels


def _as_descriptors(x) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ValueError(f"descriptors must have shape (n,) or (n, d), got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("descriptors contain NaN or inf")
    return x


def make_data(
    x,
    targets: Mapping[str, object],
    *,
    descriptors: Sequence[str] | None = None,
    attrs: Mapping[str, object] | None = None,
) -> xr.Dataset:
    """Build validated assimilation data: one row per sample, NaN marks a missing target.

    Parameters
    ----------
    x : array_like, shape (n,) or (n, d)
        Descriptor values.
    targets : mapping
        Target name (``y_comp``, ``y_expt``) to values, shape (n,), NaN where missing.
    descriptors : sequence of str, optional
        Descriptor names (default ``x`` for d = 1, else ``x1 … xd``).
    attrs : mapping, optional
        Provenance and, for simulated data, the truth.

    Returns
    -------
    xarray.Dataset
        ``x`` with dims (sample, descriptor) and one variable per target along sample.
    """
    x = np.asarray(x, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ValueError(f"x must have shape (n,) or (n, d), got {x.shape}")
    if descriptors is None:
        descriptors = ["x"] if x.shape[1] == 1 else [f"x{i + 1}" for i in range(x.shape[1])]
    if len(descriptors) != x.shape[1]:
        raise ValueError(f"{len(descriptors)} descriptor names for {x.shape[1]} descriptor columns")
    data_vars = {"x": ((SAMPLE, DESCRIPTOR), x)}
    for name, values in targets.items():
        values = np.asarray(values, dtype=float)
        if values.shape != (x.shape[0],):
            raise ValueError(
                f"mismatched lengths: target {name!r} has shape {values.shape}, x has "
                f"{x.shape[0]} rows"
            )
        data_vars[name] = (SAMPLE, values)
    ds = xr.Dataset(
        data_vars,
        coords={SAMPLE: np.arange(x.shape[0]), DESCRIPTOR: list(descriptors)},
        attrs=dict(attrs or {}),
    )
    return validate_data(ds, targets=list(targets))


def stack_measurements(measurements: Mapping[str, tuple[object, object]], **kwargs) -> xr.Dataset:
    """Rows of separate measurements, ``{"y_comp": (x, y), "y_expt": (x, y)}``, in one table.

    Each measurement's rows have the other targets missing (NaN). Keywords go to
    :func:`make_data`.
    """
    names = list(measurements)
    xs, columns = [], {name: [] for name in names}
    for name, (x, y) in measurements.items():
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        x = x[:, None] if x.ndim == 1 else x
        if y.shape != (x.shape[0],):
            raise ValueError(f"mismatched lengths: {name!r} has {x.shape[0]} x and {y.shape} y")
        xs.append(x)
        for other in names:
            columns[other].append(y if other == name else np.full(y.shape, np.nan))
    return make_data(
        np.concatenate(xs), {k: np.concatenate(v) for k, v in columns.items()}, **kwargs
    )


def load(
    path: str | Path,
    *,
    descriptors: Sequence[str] = ("x",),
    targets: Sequence[str] = TARGETS,
) -> xr.Dataset:
    """Read a comma-separated table with a header row into assimilation data.

    The columns named ``descriptors`` and ``targets`` are read (others ignored); an
    empty field or ``nan`` marks a missing target. Lines starting with ``#`` are
    comments.

    Raises
    ------
    ValueError
        If a named column is absent, a field is not numeric, or the data fail
        :func:`validate_data`.
    """
    path = Path(path)
    lines = [line.split("#", 1)[0].strip() for line in path.read_text().splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        raise ValueError(f"{path}: no header row")
    names = [name.strip() for name in lines[0].split(",")]
    absent = [c for c in [*descriptors, *targets] if c not in names]
    if absent:
        raise ValueError(f"{path}: missing column(s) {absent}; columns: {names}")
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        fields = [field.strip() for field in line.split(",")]
        if len(fields) != len(names):
            raise ValueError(
                f"{path}: data row {number - 1} has {len(fields)} fields, header {len(names)}"
            )
        try:
            rows.append([float(field) if field else np.nan for field in fields])
        except ValueError:
            raise ValueError(f"{path}: data row {number - 1} is not numeric: {line!r}") from None
    table = {name: np.array([row[i] for row in rows]) for i, name in enumerate(names)}
    x = np.column_stack([table[c] for c in descriptors]) if rows else np.zeros((0, 1))
    return make_data(
        x,
        {t: table[t] for t in targets},
        descriptors=list(descriptors),
        attrs={"source": str(path)},
    )


def validate_data(ds: xr.Dataset, targets: Sequence[str] = TARGETS) -> xr.Dataset:
    """Check assimilation data and return them unchanged.

    Raises
    ------
    ValueError
        Naming the problem: not a Dataset, missing variables, wrong dims (a variable
        not along ``sample``: mismatched lengths or shapes), empty data, duplicated
        sample labels (a row given twice), non-numeric values, non-finite (NaN or inf)
        descriptors, infinite targets, a sample with every target missing, a target
        never observed, duplicated target or descriptor names.
    """
    if not isinstance(ds, xr.Dataset):
        raise ValueError(f"assimilation data must be an xarray.Dataset, got {type(ds).__name__}")
    targets = list(targets)
    if not targets or len(set(targets)) != len(targets):
        raise ValueError(f"targets must be distinct names, got {targets}")
    missing = [name for name in ["x", *targets] if name not in ds.data_vars]
    if missing:
        raise ValueError(f"missing data variable(s) {missing}; present: {list(ds.data_vars)}")
    if ds["x"].dims != (SAMPLE, DESCRIPTOR):
        raise ValueError(f"'x' must have dims ({SAMPLE!r}, {DESCRIPTOR!r}), got {ds['x'].dims}")
    if DESCRIPTOR in ds.coords and len(set(ds[DESCRIPTOR].values.tolist())) != ds.sizes[DESCRIPTOR]:
        raise ValueError(f"duplicated descriptor names {ds[DESCRIPTOR].values.tolist()}")
    if ds.sizes[SAMPLE] == 0 or ds.sizes[DESCRIPTOR] == 0:
        raise ValueError(f"empty data: {dict(ds.sizes)}")
    if SAMPLE in ds.coords:
        labels, counts = np.unique(ds[SAMPLE].values, return_counts=True)
        if np.any(counts > 1):
            raise ValueError(
                f"duplicated sample labels {labels[counts > 1][:5].tolist()}: a row given twice"
            )
    for name, variable in ds.data_vars.items():
        if name != "x" and variable.dims != (SAMPLE,):
            raise ValueError(
                f"data variable {name!r} has dims {variable.dims}, expected ({SAMPLE!r},): "
                "mismatched lengths or shapes"
            )
    for name in ["x", *targets]:
        if not np.issubdtype(ds[name].dtype, np.number):
            raise ValueError(f"{name!r} must be numeric, got dtype {ds[name].dtype}")
    x = ds["x"].values
    bad = ~np.isfinite(x).all(axis=1)
    if bad.any():
        raise ValueError(
            f"descriptor 'x' has non-finite values (NaN or inf) in {int(bad.sum())} "
            f"sample(s) at index {np.flatnonzero(bad)[:5].tolist()}"
        )
    y = np.column_stack([ds[name].values for name in targets]).astype(float)
    if np.isinf(y).any():
        raise ValueError("targets contain inf (only NaN may mark a missing target)")
    observed = ~np.isnan(y)
    empty = ~observed.any(axis=1)
    if empty.any():
        raise ValueError(
            f"{int(empty.sum())} sample(s) have every target missing (NaN) at index "
            f"{np.flatnonzero(empty)[:5].tolist()}: drop them"
        )
    never = [name for name, seen in zip(targets, observed.any(axis=0), strict=True) if not seen]
    if never:
        raise ValueError(f"target(s) {never} never observed")
    return ds


def design(
    data: xr.Dataset, basis: Basis, targets: Sequence[str] = TARGETS
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Validated features Φ (n, p), targets Y (n, q) with NaN, and the feature names."""
    validate_data(data, targets)
    phi = basis.features(data["x"].values)
    y = np.column_stack([data[name].values for name in targets]).astype(float)
    return phi, y, basis.names([str(v) for v in data[DESCRIPTOR].values])


def simulate(
    x,
    *,
    rng: np.random.Generator | int | None = None,
    observed,
    basis: Basis,
    w,
    covariance,
    targets: Sequence[str] = TARGETS,
    descriptors: Sequence[str] | None = None,
) -> xr.Dataset:
    r"""Rows :math:`y \sim N(W\phi(x), \Sigma)`, then NaN where ``observed`` is False.

    Parameters
    ----------
    x : array_like, shape (n,) or (n, d)
        Descriptors.
    rng : Generator or int, optional
        Random generator or its seed.
    observed : array_like of bool, shape (n, q)
        Which targets each row measures.
    basis : Basis
        The features :math:`\phi`.
    w : array_like, shape (q, p)
        True predictor coefficients :math:`W`.
    covariance : array_like, shape (q, q)
        True noise covariance :math:`\Sigma = \Lambda_{yy}^{-1}`.
    targets, descriptors : sequence of str
        Target and descriptor names.

    Returns
    -------
    xarray.Dataset
        The truth in ``attrs``: ``truth_W_<target>`` and ``truth_covariance_<target>``
        (rows of W and Σ) and ``truth_sigma`` (noise sds).
    """
    rng = np.random.default_rng(rng)
    phi = basis.features(x)
    w = np.asarray(w, float)
    covariance = np.asarray(covariance, float)
    observed = np.asarray(observed, bool)
    q = len(targets)
    if (
        w.shape != (q, phi.shape[1])
        or covariance.shape != (q, q)
        or observed.shape != (phi.shape[0], q)
    ):
        raise ValueError(
            f"mismatched shapes: w {w.shape}, covariance {covariance.shape}, observed "
            f"{observed.shape} for {phi.shape[0]} rows, {phi.shape[1]} features, {q} targets"
        )
    noise = rng.standard_normal((phi.shape[0], q)) @ np.linalg.cholesky(covariance).T
    y = np.where(observed, phi @ w.T + noise, np.nan)
    attrs = {
        "truth_sigma": np.sqrt(np.diag(covariance)),
        "basis": basis.kind,
        "basis_size": basis.size,
    }
    for j, name in enumerate(targets):
        attrs[f"truth_W_{name}"] = w[j]
        attrs[f"truth_covariance_{name}"] = covariance[j]
    return make_data(
        x, {name: y[:, j] for j, name in enumerate(targets)}, descriptors=descriptors, attrs=attrs
    )
