r"""Gaussian data assimilation of calculations and experiments: the Λ model (Harashima et al.).

Model (Y. Harashima et al., arXiv:2007.14101; seed 004)
-------------------------------------------------------
Descriptor features :math:`\phi(x) \in \mathbb{R}^p` (the first one the constant 1) and
targets :math:`y = (y_\mathrm{comp}, y_\mathrm{expt}) \in \mathbb{R}^q` are jointly
Gaussian, :math:`z = (\phi, y) \sim N(0, \Lambda^{-1})`. Given the descriptor,

.. math::

    p(y \mid x; \Lambda) = N\big(y;\ \mu(x),\ \Lambda_{yy}^{-1}\big), \qquad
    \mu(x) = -\Lambda_{yy}^{-1}\Lambda_{yx}\,\phi(x) = W\phi(x),

a multivariate linear regression :math:`y = W\phi + \varepsilon`,
:math:`W = -\Lambda_{yy}^{-1}\Lambda_{yx}`, :math:`\mathrm{Cov}\,\varepsilon =
\Lambda_{yy}^{-1}` (:math:`\Lambda_{xx}` does not enter). A target missing in a row is
integrated out exactly: the observed ones follow the marginal with precision
:math:`\bar\Lambda_{11} = \Lambda_{11} - \Lambda_{12}\Lambda_{22}^{-1}\Lambda_{21}`
(:func:`marginal_precision`), so calculations and experiments may be made at different
descriptor values. Over N rows the log-likelihood is, with :math:`C^N = \sum_n z_n z_n^\top`,

.. math::

    \ell(\Lambda) = \frac{N}{2}\log\frac{|\Lambda_{yy}|}{(2\pi)^q}
        - \frac12\mathrm{Tr}\big(C^N\Lambda^0\big), \qquad
    \Lambda^0 = \begin{pmatrix}\Lambda_{xy}\Lambda_{yy}^{-1}\Lambda_{yx} & \Lambda_{xy}\\
        \Lambda_{yx} & \Lambda_{yy}\end{pmatrix}

(:func:`lambda0`; complete rows).

Chain (modified Cholesky) coordinates. Writing :math:`\Lambda_{yy} = T^\top D T` with
:math:`T` unit lower triangular (:math:`T_{jk} = -\beta_{jk}`, :math:`k<j`) and
:math:`D = \mathrm{diag}(d_j)` turns the model into one regression per target,

.. math::

    y_j = \sum_{k<j}\beta_{jk}\,y_k + G_j\,\phi(x) + e_j,\qquad e_j \sim N(0, 1/d_j),

with :math:`G = TW` and :math:`\Lambda_{yx} = -T^\top D G`. The last row of
:math:`\Lambda_{yx}` is :math:`-d_q G_q`, so *structural zeros* in the experiment's row
of :math:`\Lambda_{yx}` (the seed's demo "restricts the 1st–3rd order terms of model
(ii)") are zeros of :math:`G_q`: :math:`y_\mathrm{expt}` depends on :math:`x` only
through :math:`y_\mathrm{comp}` and the kept *discrepancy features*,
:math:`W_\mathrm{expt} = \beta\,W_\mathrm{comp} + G_\mathrm{expt}`, with
:math:`\beta = \Sigma_{21}/\Sigma_{11}` (:math:`\Sigma = \Lambda_{yy}^{-1}`). That is
what lets a few experiments borrow the shape learnt from many calculations. Without
zeros, and with no row observing both targets, the likelihood is
:math:`\ell_1(W_1, \Sigma_{11}) + \ell_2(W_2, \Sigma_{22})` with :math:`W_2` free: the
model decouples and assimilation gains nothing. Note also :math:`\Sigma_{22} \ge
\beta^2\Sigma_{11}`: the transferred shape carries the calculation's noise, so the
restricted model cannot represent an experiment much less noisy than
:math:`|\beta|` times the calculation.

Prior (conjugate; this package's choice). :math:`\Lambda_{yy} \sim
\mathrm{Wishart}(\nu_0, S_0)`, :math:`S_0 = \mathrm{diag}(1/(\nu_0\sigma_{0j}^2))`
(:math:`\sigma_{0j}`: a guess of target j's noise sd; :math:`E\Lambda_{yy} =
\mathrm{diag}(1/\sigma_{0j}^2)`), and :math:`W \mid \Lambda_{yy} \sim
\mathrm{MN}(0, \Lambda_{yy}^{-1}, (\kappa I_p)^{-1})`. Its density in :math:`(W,
\Lambda_{yy})` is the seed's form :math:`\propto |\Lambda_{yy}|^{(\nu_0+p-q-1)/2}
\exp(-\frac12\mathrm{Tr}(C^0\Lambda^0))` with the pseudo-statistic :math:`C^0 =
\mathrm{diag}(\kappa I_p, \nu_0\sigma_0^2)`, so the posterior after complete rows is the
same form with :math:`C = C^0 + C^N` and :math:`\nu = \nu_0 + N`: adding rows one at a
time adds :math:`z z^\top` (:meth:`ConjugatePosterior.update`; past data not needed).
In chain coordinates (Bartlett decomposition) the prior factorises,

.. math::

    d_j \sim \Gamma\Big(\frac{\nu_0-q+j}{2},\ \mathrm{rate}\ \frac{\nu_0\sigma_{0j}^2}{2}\Big),
    \quad \beta_{jk} \mid d_j \sim N\Big(0, \frac{1}{d_j\nu_0\sigma_{0k}^2}\Big),
    \quad G_j \mid d_j \sim N\Big(0, \frac{1}{d_j\kappa}I\Big),

(j = 1…q) and so does the posterior: q independent Normal–Gamma regressions whose
statistics are Schur complements of :math:`C`. Structural zeros condition
:math:`G_q` on zero entries (the kept entries keep their prior). The log evidence of
complete data is closed form (:meth:`ConjugatePosterior.log_evidence`); with missing
targets the conjugate update holds for complete rows only, and
:mod:`measurement_models.bayesian_optimisation` samples the exact posterior by Gibbs
sampling with data augmentation.

PyMC (:func:`build_model`): free ``conditional_precision`` (:math:`d`), ``coupling``
(:math:`\beta`) and ``coefficient`` (the free entries of :math:`G`, by default rotated
onto the principal axes of the data's :math:`\Phi^\top\Phi`, which leaves their isotropic
prior unchanged) with exactly the prior above; deterministic ``G``, ``Lambda_yy``,
``Lambda_yx`` and ``W``. The likelihood is written in :math:`\Lambda`
(:math:`\mu = -\Lambda_{yy}^{-1}\Lambda_{yx}\phi`, covariance :math:`\Lambda_{yy}^{-1}`,
the inverse from the factors): every row contributes the marginal of its observed
targets, as successive univariate conditionals, all in one observed variable ``y``. The
graph uses no ``Dot`` or linear-algebra Op (numba compiles them very slowly); it still
takes 20–60 s to compile on a cold cache, so the tests check its log-density with
``mode="FAST_COMPILE"`` and sample it only in the slow test and the full case study.

Bases (:class:`Basis`): ``polynomial`` (all monomials of total degree ≤ D, cross terms in
several dimensions) and ``sine`` (:math:`\phi_n(x) = \sin(2\pi n x)` per dimension,
products across dimensions); :math:`\sin(0) = 0`, so :math:`\phi_0 \equiv 1` (the seed's
"2φ₀" is a constant term). Units: descriptors and targets in the data's own units.

Checked (``tests/measurement_models/test_data_assimilation.py``): the predictor against
the conditional mean of the joint Gaussian from :math:`\Lambda^{-1}`, the marginal
precision against the inverse covariance block, the missing-target likelihood against
numerical integration over the missing target, the seed's trace form against the sum of
Gaussian log-densities; the chain prior against ``scipy.stats.wishart`` ×
``matrix_normal`` with the Jacobian :math:`\prod_j d_j^{\,j-1}`; the posterior and
closed-form evidence by Chib's identity with SciPy densities (unrestricted, and with
structural zeros), by one-dimensional quadrature, and against the Student-t predictive
(evidence increments); sequential against batch updates; exact draws against the
matrix-t moments; the PyMC log-density (rotated or not, rows with one or both targets)
against those SciPy densities plus :func:`log_likelihood`; NUTS moments and the
replica-exchange F against the closed form on complete data (slow test, and the full
case study ``case_studies/harashima_data_assimilation.py``).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr
from scipy import special

from .array_backend import is_symbolic
from .parameters import Parameter, ParameterTable, Prior

__all__ = [
    "BASES",
    "DEMO",
    "DEMO_PRIOR",
    "PARAMETERS",
    "TARGETS",
    "Basis",
    "ConjugatePosterior",
    "ConjugatePrior",
    "add_likelihood",
    "add_priors",
    "build_model",
    "chain_from_lambda",
    "condition",
    "demo_f1",
    "demo_f2",
    "example_data",
    "forward",
    "lambda0",
    "lambda_from_chain",
    "load_csv",
    "log_likelihood",
    "make_data",
    "marginal_precision",
    "plot_fit",
    "predictive_covariance",
    "simulate",
    "simulate_demo",
    "stack_measurements",
    "validate_data",
]

VARIABLE = "y"
#: The two targets of the Λ model: the calculation and the experiment.
TARGETS = ("y_comp", "y_expt")
SAMPLE = "sample"
DESCRIPTOR = "descriptor"
#: Feature bases of the descriptor (polynomial or sine features).
BASES = ("polynomial", "sine")

#: Parameter table of the PyMC model of the Λ model.
PARAMETERS = ParameterTable(
    (
        Parameter(
            "conditional_precision",
            "1/target²",
            Prior("Gamma", alpha=1.0, beta=1.5),
            "d_j, precision of target j given the earlier targets and φ (Λ_yy = TᵀDT); "
            "prior Gamma((ν₀−q+j)/2, rate ν₀σ₀ⱼ²/2), shown for j = 1, q = 2, ν₀ = 3, σ₀ = 1",
            ("target",),
            role="noise",
        ),
        Parameter(
            "coupling",
            "target/target",
            Prior("Normal", mu=0.0, sigma=1.0),
            "β_jk, regression of target j on an earlier target k (y_expt on y_comp); "
            "prior N(0, 1/(d_j ν₀ σ₀ₖ²)), shown for d_j ν₀ σ₀ₖ² = 1",
            ("target_pair",),
        ),
        Parameter(
            "coefficient",
            "target",
            Prior("Normal", mu=0.0, sigma=100.0),
            "free entries of G = TW (structural zeros left out), by default rotated onto "
            "the principal axes of ΦᵀΦ; prior N(0, 1/(d_j κ)), shown for d_j κ = 10⁻⁴",
            ("free_coefficient",),
        ),
    )
)


# --------------------------------------------------------------------------- the seed's demo
def demo_f1(x):
    """Seed 004's calculation truth :math:`f_1(x) = 2 - x + 5(x-0.7)^2 + 20(x-0.5)^3`."""
    x = np.asarray(x, dtype=float)
    return 2 - x + 5 * (x - 0.7) ** 2 + 20 * (x - 0.5) ** 3


def demo_f2(x):
    """Seed 004's experiment truth :math:`f_2 = f_1 - 1.5` (differs by a constant)."""
    return demo_f1(x) - 1.5


#: Seed 004's 1-D demonstration: model (i) calculation, model (ii) experiment, sampled
#: independently (x uniform on the range), cubic features.
DEMO = {
    "n": {"y_comp": 10, "y_expt": 5},
    "noise_sd": {"y_comp": 0.03, "y_expt": 0.1},
    "range": {"y_comp": (0.0, 1.0), "y_expt": (0.0, 0.5)},
    "degree": 3,
    "offset": -1.5,
    # f1 expanded in 1, x, x², x³
    "W": {
        "y_comp": np.array([1.95, 7.0, -25.0, 20.0]),
        "y_expt": np.array([0.45, 7.0, -25.0, 20.0]),
    },
}


# --------------------------------------------------------------------------------- bases
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


# ---------------------------------------------------------------------------------- data
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


def load_csv(
    path,
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
    from pathlib import Path

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
        Naming the problem: not a Dataset, missing variables, wrong dims (mismatched
        lengths or shapes), empty data, non-numeric values, NaN or inf descriptors,
        infinite targets, a sample with every target missing, a target never observed,
        duplicated target or descriptor names.
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
    for name in ["x", *targets]:
        if name != "x" and ds[name].dims != (SAMPLE,):
            raise ValueError(
                f"target {name!r} has dims {ds[name].dims}, expected ({SAMPLE!r},): "
                "mismatched lengths or shapes"
            )
        if not np.issubdtype(ds[name].dtype, np.number):
            raise ValueError(f"{name!r} must be numeric, got dtype {ds[name].dtype}")
    x = ds["x"].values
    bad = ~np.isfinite(x).all(axis=1)
    if bad.any():
        raise ValueError(
            f"descriptor 'x' has NaN or inf in {int(bad.sum())} sample(s) at index "
            f"{np.flatnonzero(bad)[:5].tolist()}"
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


def _table(data: xr.Dataset, basis: Basis, targets: Sequence[str]):
    """Validated features Φ (n, p), targets Y (n, q) with NaN, and feature names."""
    validate_data(data, targets)
    phi = basis.features(data["x"].values)
    y = np.column_stack([data[name].values for name in targets]).astype(float)
    return phi, y, basis.names([str(v) for v in data[DESCRIPTOR].values])


# ---------------------------------------------------------- Λ algebra (NumPy and PyTensor)
def forward(phi, lambda_yy, lambda_yx):
    r"""The predictor :math:`\mu = -\Lambda_{yy}^{-1}\Lambda_{yx}\phi`, shape ``(..., n, q)``.

    Parameters
    ----------
    phi : array_like, shape (n, p)
        Features (:meth:`Basis.features`).
    lambda_yy : array_like, shape (..., q, q)
    lambda_yx : array_like, shape (..., q, p)
        Blocks of the precision; leading axes (draws) broadcast (NumPy only).

    Returns
    -------
    ndarray or TensorVariable
        NumPy for NumPy inputs; a PyTensor graph (2-D blocks) otherwise.
    """
    if is_symbolic(phi, lambda_yy, lambda_yx):
        w = -pt.linalg.solve(lambda_yy, lambda_yx)
        return pt.as_tensor_variable(phi) @ w.T
    w = -np.linalg.solve(np.asarray(lambda_yy, float), np.asarray(lambda_yx, float))
    return np.asarray(phi, float) @ np.swapaxes(w, -1, -2)


def predictive_covariance(lambda_yy):
    r"""Covariance of the targets given the descriptor, :math:`\Lambda_{yy}^{-1}`."""
    if is_symbolic(lambda_yy):
        return pt.linalg.inv(lambda_yy)
    return np.linalg.inv(np.asarray(lambda_yy, float))


def marginal_precision(precision: np.ndarray, keep: Sequence[int]) -> np.ndarray:
    r"""Precision of the marginal of ``keep``.

    :math:`\bar\Lambda_{11} = \Lambda_{11} - \Lambda_{12}\Lambda_{22}^{-1}\Lambda_{21}`, with 1 the
    kept and 2 the dropped components.
    """
    precision = np.asarray(precision, float)
    keep = np.asarray(keep, int)
    drop = np.setdiff1d(np.arange(precision.shape[-1]), keep)
    a = precision[np.ix_(keep, keep)]
    if drop.size == 0:
        return a
    b = precision[np.ix_(keep, drop)]
    return a - b @ np.linalg.solve(precision[np.ix_(drop, drop)], b.T)


def condition(mean, precision, observed: Sequence[int], values) -> tuple[np.ndarray, np.ndarray]:
    r"""Gaussian :math:`N(\text{mean}, \text{precision}^{-1})` conditioned on some components.

    Returns the mean and precision of the others,
    :math:`m_2 - \Lambda_{22}^{-1}\Lambda_{21}(v - m_1)` and :math:`\Lambda_{22}`.
    """
    mean = np.asarray(mean, float)
    precision = np.asarray(precision, float)
    observed = np.asarray(observed, int)
    rest = np.setdiff1d(np.arange(mean.size), observed)
    l22 = precision[np.ix_(rest, rest)]
    shift = np.linalg.solve(
        l22, precision[np.ix_(rest, observed)] @ (np.asarray(values) - mean[observed])
    )
    return mean[rest] - shift, l22


def lambda0(lambda_yy, lambda_yx) -> np.ndarray:
    r"""The seed's :math:`\Lambda^0` (module docstring): for complete rows

    .. math:: \ell = \frac N2\log\frac{|\Lambda_{yy}|}{(2\pi)^q} - \frac12\mathrm{Tr}(C^N\Lambda^0).
    """
    lambda_yy = np.asarray(lambda_yy, float)
    lambda_yx = np.asarray(lambda_yx, float)
    top = lambda_yx.T @ np.linalg.solve(lambda_yy, lambda_yx)
    return np.block([[top, lambda_yx.T], [lambda_yx, lambda_yy]])


def lambda_from_chain(d, beta, g) -> tuple[np.ndarray, np.ndarray]:
    r"""Precision blocks from chain coordinates: :math:`T^\top DT` and :math:`-T^\top DG`.

    ``d`` (..., q), ``beta`` (..., q, q) strictly lower triangular (other entries
    ignored), ``g`` (..., q, p); leading axes broadcast.
    """
    d = np.asarray(d, float)
    q = d.shape[-1]
    t = np.eye(q) - np.tril(np.asarray(beta, float), -1)
    tt_d = np.swapaxes(t, -1, -2) * d[..., None, :]
    return tt_d @ t, -tt_d @ np.asarray(g, float)


def chain_from_lambda(lambda_yy, lambda_yx) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inverse of :func:`lambda_from_chain`: (d, beta, G) of one precision (2-D blocks)."""
    lambda_yy = np.asarray(lambda_yy, float)
    reverse = np.arange(lambda_yy.shape[0])[::-1]
    r = np.linalg.cholesky(lambda_yy[np.ix_(reverse, reverse)])
    upper = r[np.ix_(reverse, reverse)]  # Λ_yy = U Uᵀ, U upper triangular, U = Tᵀ D^{1/2}
    root = np.diag(upper)
    t = (upper / root[None, :]).T
    d = root**2
    g = -np.linalg.solve(t.T * d[None, :], np.asarray(lambda_yx, float))
    return d, -np.tril(t, -1), g


def _patterns(y: np.ndarray) -> dict[tuple[int, ...], np.ndarray]:
    """Rows grouped by the tuple of observed target indices."""
    observed = ~np.isnan(y)
    groups: dict[tuple[int, ...], list[int]] = {}
    for row, mask in enumerate(observed):
        groups.setdefault(tuple(np.flatnonzero(mask).tolist()), []).append(row)
    return {key: np.asarray(rows) for key, rows in groups.items()}


def log_likelihood(
    data: xr.Dataset, lambda_yy, lambda_yx, basis: Basis, targets: Sequence[str] = TARGETS
) -> float:
    """Exact log-likelihood (NumPy): each row's observed targets under their marginal."""
    phi, y, _ = _table(data, basis, targets)
    mean = forward(phi, lambda_yy, lambda_yx)
    cov = predictive_covariance(lambda_yy)
    total = 0.0
    for obs, rows in _patterns(y).items():
        obs = list(obs)
        c = cov[np.ix_(obs, obs)]
        r = y[np.ix_(rows, obs)] - mean[np.ix_(rows, obs)]
        chol = np.linalg.cholesky(c)
        white = np.linalg.solve(chol, r.T)
        total += -0.5 * np.sum(white**2) - rows.size * (
            np.log(np.diag(chol)).sum() + 0.5 * len(obs) * np.log(2 * np.pi)
        )
    return float(total)


# ------------------------------------------------------------------- conjugate machinery
@dataclass(frozen=True)
class ConjugatePrior:
    r"""Matrix-normal–Wishart prior of :math:`(W, \Lambda_{yy})`, pseudo-statistic :math:`C^0`.

    Parameters
    ----------
    noise_scale : float or sequence of float
        :math:`\sigma_{0j}`, a guess of each target's noise sd: :math:`S_0 =
        \mathrm{diag}(1/(\nu_0\sigma_0^2))`, :math:`E\Lambda_{yy} = \mathrm{diag}(\sigma_0^{-2})`.
    dof : float, optional
        :math:`\nu_0 > q - 1`; default :math:`q + 1`.
    feature_precision : float
        :math:`\kappa`: :math:`W_j \mid \Lambda \sim N(0, \Sigma_{jj}/\kappa)` per entry,
        coefficients of prior sd about :math:`\sigma_j/\sqrt\kappa`.
    """

    noise_scale: float | Sequence[float] = 1.0
    dof: float | None = None
    feature_precision: float = 1e-4

    def resolve(self, q: int) -> tuple[np.ndarray, float]:
        """(σ₀ of every target, ν₀), validated for q targets."""
        sigma0 = np.broadcast_to(np.asarray(self.noise_scale, float), (q,)).copy()
        nu0 = float(q + 1 if self.dof is None else self.dof)
        if not np.all(np.isfinite(sigma0)) or np.any(sigma0 <= 0):
            raise ValueError(f"noise_scale must be positive and finite, got {self.noise_scale!r}")
        if not np.isfinite(nu0) or nu0 <= q - 1:
            raise ValueError(f"dof must exceed q - 1 = {q - 1}, got {nu0!r}")
        if not np.isfinite(self.feature_precision) or self.feature_precision <= 0:
            raise ValueError(f"feature_precision must be positive, got {self.feature_precision!r}")
        return sigma0, nu0

    def statistic(self, n_features: int, q: int) -> np.ndarray:
        r""":math:`C^0 = \mathrm{diag}(\kappa I_p, \nu_0\sigma_0^2)` over :math:`z = (\phi, y)`."""
        sigma0, nu0 = self.resolve(q)
        return np.diag(
            np.concatenate([np.full(n_features, self.feature_precision), nu0 * sigma0**2])
        )

    def gamma(self, q: int) -> tuple[np.ndarray, np.ndarray]:
        """Shapes and rates of the :math:`d_j` (chain coordinates)."""
        sigma0, nu0 = self.resolve(q)
        return (nu0 - q + 1 + np.arange(q)) / 2, nu0 * sigma0**2 / 2


#: Conjugate prior of the demo: noise guesses at the seed's error bars, ν₀ = q + 1, and
#: κ = 10⁻⁶ (prior sd of the cubic coefficients ≈ σ/√κ = 30 and 100, above the true magnitude 25).
DEMO_PRIOR = ConjugatePrior(noise_scale=(0.03, 0.1), dof=3.0, feature_precision=1e-6)


def _free_mask(q: int, p: int, discrepancy: Sequence[int] | None) -> np.ndarray:
    """Boolean (q, p): which entries of G are free (the last row keeps ``discrepancy``)."""
    mask = np.ones((q, p), bool)
    if discrepancy is not None:
        mask[-1] = False
        mask[-1, list(discrepancy)] = True
    return mask


def resolve_features(
    discrepancy_features: Sequence[int | str] | None, names: Sequence[str]
) -> list[int] | None:
    """Indices of the discrepancy features (names or indices), or None (unrestricted)."""
    if discrepancy_features is None:
        return None
    found = []
    for item in discrepancy_features:
        if isinstance(item, str):
            if item not in names:
                raise ValueError(f"unknown feature {item!r}; features: {list(names)}")
            found.append(list(names).index(item))
        elif int(item) == item and 0 <= item < len(names):
            found.append(int(item))
        else:
            raise ValueError(f"feature index {item!r} out of range 0..{len(names) - 1}")
    if len(set(found)) != len(found):
        raise ValueError(f"duplicated discrepancy features {discrepancy_features!r}")
    return sorted(found)


@dataclass(frozen=True)
class Regression:
    """Normal–Gamma posterior of one chain regression: θ | d ~ N(mean, (d Ω)⁻¹), d ~ Γ(a, b)."""

    columns: np.ndarray  # indices into z = (φ, y) of the covariates
    omega: np.ndarray
    mean: np.ndarray
    shape: float
    rate: float


def normal_gamma(
    statistic: np.ndarray, response: int, columns: np.ndarray, shape: float
) -> Regression:
    r"""Regression of :math:`z_\text{response}` on :math:`z_\text{columns}` from :math:`C`.

    :math:`\Omega = C_{uu}`, mean :math:`\Omega^{-1}C_{uy}`, rate
    :math:`\frac12(C_{yy} - C_{yu}\Omega^{-1}C_{uy})`; ``shape`` is the Gamma shape.
    """
    omega = statistic[np.ix_(columns, columns)]
    cross = statistic[columns, response]
    mean = np.linalg.solve(omega, cross) if columns.size else np.zeros(0)
    rate = 0.5 * (statistic[response, response] - cross @ mean)
    return Regression(columns, omega, mean, float(shape), float(rate))


def normal_gamma_log_evidence(prior: Regression, post: Regression, n: float) -> float:
    """log p(y) of a Normal–Gamma regression from its prior and posterior."""
    logdet = np.linalg.slogdet(prior.omega)[1] - np.linalg.slogdet(post.omega)[1]
    return float(
        -0.5 * n * np.log(2 * np.pi)
        + 0.5 * logdet
        + prior.shape * np.log(prior.rate)
        - post.shape * np.log(post.rate)
        + special.gammaln(post.shape)
        - special.gammaln(prior.shape)
    )


@dataclass(frozen=True)
class ConjugatePosterior:
    r"""Posterior of the Λ model after complete rows: the statistic :math:`C = C^0 + \sum zz^\top`.

    Build with :meth:`start` (the prior) and :meth:`update`, or :meth:`from_data`.
    ``discrepancy`` lists the kept features of the last target's row of
    :math:`\Lambda_{yx}` (None: unrestricted).
    """

    prior: ConjugatePrior
    statistic: np.ndarray
    n: int
    n_features: int
    n_targets: int
    discrepancy: tuple[int, ...] | None = None

    @classmethod
    def start(
        cls,
        prior: ConjugatePrior,
        n_features: int,
        n_targets: int = 2,
        discrepancy: Sequence[int] | None = None,
    ) -> ConjugatePosterior:
        """The prior itself (no data)."""
        if discrepancy is not None and n_targets < 2:
            raise ValueError("structural zeros need at least two targets")
        return cls(
            prior,
            prior.statistic(n_features, n_targets),
            0,
            n_features,
            n_targets,
            None if discrepancy is None else tuple(int(i) for i in discrepancy),
        )

    @classmethod
    def from_data(
        cls,
        data: xr.Dataset,
        basis: Basis,
        prior: ConjugatePrior,
        targets: Sequence[str] = TARGETS,
        discrepancy_features: Sequence[int | str] | None = None,
    ) -> ConjugatePosterior:
        """Posterior after every row of ``data``, which must all be complete."""
        phi, y, names = _table(data, basis, targets)
        start = cls.start(
            prior, phi.shape[1], len(targets), resolve_features(discrepancy_features, names)
        )
        return start.update(phi, y)

    def update(self, phi, y) -> ConjugatePosterior:
        """Add complete rows (``phi`` (m, p) or (p,), ``y`` (m, q) or (q,)): C + Σ zzᵀ."""
        phi = np.atleast_2d(np.asarray(phi, float))
        y = np.atleast_2d(np.asarray(y, float))
        if phi.shape != (y.shape[0], self.n_features) or y.shape[1] != self.n_targets:
            raise ValueError(
                f"mismatched shapes: phi {phi.shape}, y {y.shape}; expected (m, "
                f"{self.n_features}) and (m, {self.n_targets})"
            )
        if np.isnan(y).any():
            raise ValueError(
                "the conjugate update needs complete rows (a target is NaN); sample missing "
                "targets with bayesian_optimisation.GibbsSampler"
            )
        if not (np.isfinite(phi).all() and np.isfinite(y).all()):
            raise ValueError("features and targets must be finite")
        z = np.hstack([phi, y])
        return ConjugatePosterior(
            self.prior, self.statistic + z.T @ z, self.n + y.shape[0], self.n_features,
            self.n_targets, self.discrepancy,
        )  # fmt: skip

    def regression_columns(self, j: int) -> np.ndarray:
        """Covariates of chain regression j in z = (φ, y): kept features, then y_<j."""
        p = self.n_features
        features = np.flatnonzero(_free_mask(self.n_targets, p, self.discrepancy)[j])
        return np.concatenate([features, p + np.arange(j)]).astype(int)

    def regressions(self, statistic: np.ndarray | None = None) -> list[Regression]:
        """The q Normal–Gamma regressions of ``statistic`` (default: this posterior's)."""
        statistic = self.statistic if statistic is None else statistic
        n = self.n if statistic is self.statistic else 0
        shapes, _ = self.prior.gamma(self.n_targets)
        return [
            normal_gamma(
                statistic, self.n_features + j, self.regression_columns(j), shapes[j] + n / 2
            )
            for j in range(self.n_targets)
        ]

    def prior_regressions(self) -> list[Regression]:
        """The prior's regressions (from :math:`C^0`)."""
        return self.regressions(self.prior.statistic(self.n_features, self.n_targets))

    def log_evidence(self) -> float:
        r"""Exact :math:`\log p(Y \mid X)` of the rows added so far (sum over regressions)."""
        return sum(
            normal_gamma_log_evidence(pri, post, self.n)
            for pri, post in zip(self.prior_regressions(), self.regressions(), strict=True)
        )

    def mnw(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        r"""Matrix-normal–Wishart parameters :math:`(M, K, S, \nu)` (unrestricted model only).

        :math:`K = C_{xx}`, :math:`M = C_{yx}K^{-1}`, :math:`S^{-1} = C_{yy} - C_{yx}K^{-1}C_{xy}`,
        :math:`\nu = \nu_0 + N`; :math:`\Lambda_{yy} \sim W(\nu, S)`, :math:`W \mid
        \Lambda_{yy} \sim MN(M, \Lambda_{yy}^{-1}, K^{-1})`.
        """
        if self.discrepancy is not None:
            raise ValueError("the matrix-normal–Wishart form holds for the unrestricted model only")
        p = self.n_features
        c = self.statistic
        k = c[:p, :p]
        m = np.linalg.solve(k, c[:p, p:]).T
        s_inv = c[p:, p:] - m @ c[:p, p:]
        _, nu0 = self.prior.resolve(self.n_targets)
        return m, k, np.linalg.inv(s_inv), nu0 + self.n

    def predictive(self, phi) -> tuple[float, np.ndarray, np.ndarray]:
        r"""Student-t predictive of new rows (unrestricted): df, location (n, q), shape (n, q, q).

        df :math:`= \nu - q + 1`, location :math:`M\phi`, shape
        :math:`(1 + \phi^\top K^{-1}\phi)\,S^{-1}/\mathrm{df}`.
        """
        m, k, s, nu = self.mnw()
        phi = np.atleast_2d(np.asarray(phi, float))
        df = nu - self.n_targets + 1
        leverage = 1 + np.einsum("np,np->n", phi, np.linalg.solve(k, phi.T).T)
        return df, phi @ m.T, leverage[:, None, None] * np.linalg.inv(s)[None] / df

    def mean_chain(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Posterior means of (d, beta, G) in chain coordinates."""
        return _chain_arrays(self.regressions(), self.n_features, self.n_targets, self.discrepancy)

    def point(self) -> tuple[np.ndarray, np.ndarray]:
        r"""(:math:`\Lambda_{yy}`, :math:`\Lambda_{yx}`) at the posterior means of (d, β, G).

        Its predictor :math:`W = T^{-1}G` is the posterior mean (and MAP) of W for the
        unrestricted model, :math:`M = C_{yx}C_{xx}^{-1}`.
        """
        return lambda_from_chain(*self.mean_chain())

    def sample(self, rng: np.random.Generator | int | None, size: int):
        """Exact posterior draws of (d (s, q), beta (s, q, q), G (s, q, p))."""
        rng = np.random.default_rng(rng)
        return draw_chain(
            self.regressions(), self.n_features, self.n_targets, self.discrepancy, rng, size
        )


def _chain_arrays(regressions, p, q, discrepancy, values=None, d=None):
    """Scatter per-regression coefficient vectors into (d, beta (q, q), G (q, p))."""
    beta = np.zeros((q, q))
    g = np.zeros((q, p))
    mask = _free_mask(q, p, discrepancy)
    for j, reg in enumerate(regressions):
        theta = reg.mean if values is None else values[j]
        n_feat = int(mask[j].sum())
        g[j, mask[j]] = theta[:n_feat]
        beta[j, :j] = theta[n_feat:]
    if d is None:
        d = np.array([reg.shape / reg.rate for reg in regressions])
    return d, beta, g


def draw_chain(regressions, p, q, discrepancy, rng, size):
    """Draws of (d, beta, G) from independent Normal–Gamma regressions."""
    d = np.empty((size, q))
    beta = np.zeros((size, q, q))
    g = np.zeros((size, q, p))
    mask = _free_mask(q, p, discrepancy)
    for j, reg in enumerate(regressions):
        d[:, j] = rng.gamma(reg.shape, 1 / reg.rate, size)
        chol = np.linalg.cholesky(reg.omega)
        noise = rng.standard_normal((size, reg.mean.size))
        theta = reg.mean + np.linalg.solve(chol.T, noise.T).T / np.sqrt(d[:, j])[:, None]
        n_feat = int(mask[j].sum())
        g[:, j, mask[j]] = theta[:, :n_feat]
        beta[:, j, :j] = theta[:, n_feat:]
    return d, beta, g


# -------------------------------------------------------------------------- PyMC model
def _coupling_labels(targets: Sequence[str]) -> list[str]:
    return [f"{targets[j]}~{targets[k]}" for j in range(len(targets)) for k in range(j)]


def _rotation(gram: np.ndarray | None, columns: np.ndarray) -> np.ndarray:
    """Orthogonal matrix of the principal axes of ``gram[columns, columns]`` (identity if None)."""
    if gram is None:
        return np.eye(columns.size)
    _, vectors = np.linalg.eigh(np.asarray(gram, float)[np.ix_(columns, columns)])
    return vectors[:, ::-1]


def _free_layout(q: int, p: int, discrepancy, gram):
    """Constant maps of the free coefficients: G.ravel() = R v, and the target of each."""
    mask = _free_mask(q, p, discrepancy)
    blocks = [np.flatnonzero(mask[j]) for j in range(q)]
    n_free = int(mask.sum())
    scatter = np.zeros((q * p, n_free))
    owner = np.zeros(n_free, int)
    start = 0
    for j, columns in enumerate(blocks):
        stop = start + columns.size
        scatter[j * p + columns, start:stop] = _rotation(gram, columns)
        owner[start:stop] = j
        start = stop
    return mask, scatter, owner


def _matmul(a, b):
    """Matrix product as a broadcast multiply and sum.

    The graphs here are tiny, and numba compiles ``Dot`` very slowly (about 40 s cold),
    so the PyMC model uses no ``Dot`` at all.
    """
    return (a[:, :, None] * b[None, :, :]).sum(axis=1)


def _power_series_inverse(beta, q: int):
    r""":math:`T^{-1} = (I - B)^{-1} = \sum_{k<q} B^k` for strictly lower triangular B."""
    inverse = term = pt.eye(q)
    for _ in range(q - 1):
        term = _matmul(term, beta)
        inverse = inverse + term
    return inverse


def add_priors(
    targets: Sequence[str],
    feature_names: Sequence[str],
    prior: ConjugatePrior | None = None,
    discrepancy_features: Sequence[int | str] | None = None,
    gram: np.ndarray | None = None,
    prefix: str = "",
    names: Sequence[str] | None = None,
) -> dict[str, pt.TensorVariable]:
    r"""Add the conjugate prior in chain coordinates and the Λ blocks to the current model.

    Parameters
    ----------
    targets, feature_names : sequence of str
        Target names (y_comp, y_expt) and feature labels (:meth:`Basis.names`).
    prior : ConjugatePrior, optional
        Hyperparameters (default :class:`ConjugatePrior` ()).
    discrepancy_features : sequence of str or int, optional
        Features kept in the last target's row of :math:`\Lambda_{yx}` (the others are
        structural zeros); None: unrestricted.
    gram : ndarray, shape (p, p), optional
        If given, each target's free coefficients are sampled in the principal axes of
        this matrix (e.g. :math:`\Phi^\top\Phi` of the data): :math:`G_{jF} = Q_j v_j`.
        The prior :math:`N(0, (d_j\kappa)^{-1}I)` is isotropic, so the model is unchanged;
        the posterior of v is far less correlated (monomials on [0, 1] are nearly
        collinear), which NUTS and random-walk replica exchange need.
    prefix : str
        Prepended to every variable name.
    names : sequence of str, optional
        Must be None or all of ``PARAMETERS.names``: the parameters only make sense
        together.

    Returns
    -------
    dict
        Free ``conditional_precision``, ``coupling``, ``coefficient`` (v); deterministic
        ``G``, ``Lambda_yy``, ``Lambda_yx``, ``W``, and ``Sigma`` = :math:`\Lambda_{yy}^{-1}`
        (a graph; :math:`T^{-1}D^{-1}T^{-\top}`).
    """
    if names is not None and sorted(names) != sorted(PARAMETERS.names):
        raise ValueError(f"the Λ model's parameters come together: {PARAMETERS.names}")
    prior = prior or ConjugatePrior()
    q, p = len(targets), len(feature_names)
    sigma0, nu0 = prior.resolve(q)
    shapes, rates = prior.gamma(q)
    discrepancy = resolve_features(discrepancy_features, feature_names)
    if discrepancy is not None and q < 2:
        raise ValueError("structural zeros need at least two targets")
    mask, scatter, owner = _free_layout(q, p, discrepancy, gram)
    pair_j, pair_k = np.tril_indices(q, -1)
    pairs = np.zeros((q * q, pair_j.size))
    pairs[pair_j * q + pair_k, np.arange(pair_j.size)] = 1.0
    rows, cols = np.nonzero(mask)
    axis = "axis" if gram is not None else ""
    model = pm.modelcontext(None)
    coords = {
        "target": list(targets),
        "target_": list(targets),
        "feature": list(feature_names),
        "target_pair": _coupling_labels(targets),
        "free_coefficient": [
            f"{targets[r]}:{axis}{i}" if axis else f"{targets[r]}:{feature_names[c]}"
            for i, (r, c) in enumerate(zip(rows, cols, strict=True))
        ],
    }
    for dim, values in coords.items():
        if dim not in model.coords:
            model.add_coord(dim, values)
    d = pm.Gamma(f"{prefix}conditional_precision", alpha=shapes, beta=rates, dims="target")
    beta_free = pm.Normal(
        f"{prefix}coupling",
        mu=0.0,
        sigma=1 / pt.sqrt(d[pair_j] * nu0 * sigma0[pair_k] ** 2),
        dims="target_pair",
    )
    coefficient = pm.Normal(
        f"{prefix}coefficient",
        mu=0.0,
        sigma=1 / pt.sqrt(d[owner] * prior.feature_precision),
        dims="free_coefficient",
    )
    g = pm.Deterministic(
        f"{prefix}G",
        (scatter * coefficient[None, :]).sum(axis=1).reshape((q, p)),
        dims=("target", "feature"),
    )
    beta = (
        (pairs * beta_free[None, :]).sum(axis=1).reshape((q, q))
        if pair_j.size
        else pt.zeros((q, q))
    )
    t = pt.eye(q) - beta
    tt_d = t.T * d[None, :]
    t_inv = _power_series_inverse(beta, q)
    lambda_yy = pm.Deterministic(f"{prefix}Lambda_yy", _matmul(tt_d, t), dims=("target", "target_"))
    lambda_yx = pm.Deterministic(
        f"{prefix}Lambda_yx", -_matmul(tt_d, g), dims=("target", "feature")
    )
    w = pm.Deterministic(f"{prefix}W", _matmul(t_inv, g), dims=("target", "feature"))
    return {
        "conditional_precision": d,
        "coupling": beta_free,
        "coefficient": coefficient,
        "G": g,
        "Lambda_yy": lambda_yy,
        "Lambda_yx": lambda_yx,
        "W": w,
        "Sigma": _matmul(t_inv / d[None, :], t_inv.T),
    }


def add_likelihood(
    data: xr.Dataset,
    params: Mapping[str, pt.TensorVariable],
    basis: Basis,
    targets: Sequence[str] = TARGETS,
    name: str = VARIABLE,
) -> pt.TensorVariable:
    r"""Add the exact likelihood, written in Λ, as one observed variable ``name``.

    Rows observing the targets :math:`o` follow :math:`N(\mu_o, \Sigma_{oo})` with
    :math:`\mu = -\Sigma\Lambda_{yx}\phi` and :math:`\Sigma = \Lambda_{yy}^{-1}`
    (``params["Sigma"]`` if given, else inverted here); a missing target is thereby
    integrated out. Each row's observed targets are written as successive univariate
    conditionals (unrolled Cholesky factor of :math:`\Sigma_{oo}`), so all observed
    values form one ``pm.Normal`` on the dim ``<name>_observation``, labelled
    ``"<sample>:<target>"`` (grouped by pattern, the row's targets in order).
    """
    phi, y, _ = _table(data, basis, targets)
    lambda_yx = params["Lambda_yx"]
    sigma = params["Sigma"] if "Sigma" in params else pt.linalg.inv(params["Lambda_yy"])
    w = -_matmul(sigma, lambda_yx)
    sample = data[SAMPLE].values
    means, sds, values, labels = [], [], [], []
    for obs, rows in sorted(_patterns(y).items()):
        mean = _matmul(pt.as_tensor_variable(phi[rows]), w.T)
        chol: dict[tuple[int, int], pt.TensorVariable] = {}
        white = []
        for a, j in enumerate(obs):
            for b in range(a):
                total = sigma[j, obs[b]] - sum(chol[a, c] * chol[b, c] for c in range(b))
                chol[a, b] = total / chol[b, b]
            chol[a, a] = pt.sqrt(sigma[j, j] - sum(chol[a, c] ** 2 for c in range(a)))
            cond_mean = mean[:, j] + sum(chol[a, b] * white[b] for b in range(a))
            means.append(cond_mean)
            sds.append(pt.ones(rows.size) * chol[a, a])
            values.append(y[rows, j])
            labels += [f"{s}:{targets[j]}" for s in sample[rows]]
            white.append((y[rows, j] - cond_mean) / chol[a, a])
    model = pm.modelcontext(None)
    dim = f"{name}_observation"
    if dim not in model.coords:
        model.add_coord(dim, labels)
    return pm.Normal(
        name,
        mu=pt.concatenate(means),
        sigma=pt.concatenate(sds),
        observed=np.concatenate(values),
        dims=dim,
    )


def build_model(
    data: xr.Dataset,
    basis: Basis | None = None,
    prior: ConjugatePrior | None = None,
    discrepancy_features: Sequence[int | str] | None = None,
    targets: Sequence[str] = TARGETS,
    rotate: bool = True,
) -> pm.Model:
    """PyMC model of the Λ model with the conjugate prior (see module docstring).

    Parameters
    ----------
    data : xarray.Dataset
        From :func:`make_data` / :func:`simulate` (NaN marks a missing target).
    basis : Basis
        Descriptor features (default cubic polynomial).
    prior : ConjugatePrior, optional
        Hyperparameters (default :class:`ConjugatePrior` ()).
    discrepancy_features : sequence of str or int, optional
        Features kept in the last target's row of Λ_yx (``["1"]``: the seed's demo, the
        experiment is the calculation times β plus a constant); None: unrestricted.
    targets : sequence of str
        Target variables, the restricted one last.
    rotate : bool
        Sample the coefficients in the principal axes of the data's :math:`\\Phi^\\top\\Phi`
        (:func:`add_priors`; same model, better geometry). ``G`` holds them per feature.

    Returns
    -------
    pymc.Model
    """
    basis = basis or Basis()
    phi, _, names = _table(data, basis, targets)
    with pm.Model() as model:
        params = add_priors(
            targets, names, prior, discrepancy_features, gram=phi.T @ phi if rotate else None
        )
        add_likelihood(data, params, basis, targets)
    return model


# ----------------------------------------------------------------------- simulation
def simulate(
    x,
    observed,
    basis: Basis,
    w,
    covariance,
    rng: np.random.Generator | int | None = None,
    targets: Sequence[str] = TARGETS,
    descriptors: Sequence[str] | None = None,
) -> xr.Dataset:
    r"""Rows :math:`y \sim N(W\phi(x), \Sigma)`, then NaN where ``observed`` is False.

    ``x`` (n,) or (n, d); ``observed`` boolean (n, q); ``w`` (q, p); ``covariance``
    (q, q). The truth is kept as ``truth_W_<target>`` and ``truth_covariance_<target>``
    (rows) and ``truth_sigma`` (noise sds) in ``attrs``.
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


def simulate_demo(rng: np.random.Generator | int | None = None) -> xr.Dataset:
    """Seed 004's demo: 10 calculations on [0, 1] (sd 0.03), 5 experiments on [0, 0.5] (sd 0.1).

    Descriptors uniform on each range, drawn independently; the two never share a row.
    """
    rng = np.random.default_rng(rng)
    x = {name: rng.uniform(*DEMO["range"][name], DEMO["n"][name]) for name in TARGETS}
    observed = np.zeros((sum(DEMO["n"].values()), 2), bool)
    observed[: DEMO["n"]["y_comp"], 0] = True
    observed[DEMO["n"]["y_comp"] :, 1] = True
    sd = np.array([DEMO["noise_sd"][name] for name in TARGETS])
    data = simulate(
        np.concatenate([x["y_comp"], x["y_expt"]]),
        observed,
        Basis("polynomial", DEMO["degree"]),
        np.stack([DEMO["W"][name] for name in TARGETS]),
        np.diag(sd**2),
        rng,
    )
    data.attrs["source"] = "Harashima et al., arXiv:2007.14101 (seed 004): simulated demo"
    return data


def demo_truth_point() -> dict[str, np.ndarray]:
    """A truth of the restricted demo model (β = 1, constant discrepancy −1.5).

    The demo's rows never observe both targets, so only the marginals are fixed:
    Σ₁₁ = 0.03², Σ₂₂ = 0.1²; β = Σ₂₁/Σ₁₁ = 1 then sets Σ₂₁ = Σ₁₁.
    """
    s11, s22 = DEMO["noise_sd"]["y_comp"] ** 2, DEMO["noise_sd"]["y_expt"] ** 2
    return {
        "conditional_precision": np.array([1 / s11, 1 / (s22 - s11)]),
        "coupling": np.array([1.0]),
        "coefficient": np.concatenate([DEMO["W"]["y_comp"], [DEMO["offset"]]]),
    }


def example_data(rng: np.random.Generator | int | None = 0) -> tuple[xr.Dataset, dict]:
    """Seed 004's demo data and a truth point of the restricted model (discrepancy ``["1"]``)."""
    return simulate_demo(rng), demo_truth_point()


# ------------------------------------------------------------------------------ plots
def plot_fit(
    ax,
    data: xr.Dataset,
    posterior: xr.Dataset,
    basis: Basis | None = None,
    targets: Sequence[str] = TARGETS,
    x_range: tuple[float, float] | None = None,
    **_,
) -> None:
    """Data, posterior band of every target's predictor μ_j(x), and the truth if known (1-D x).

    The band is drawn over ``x_range`` (default: the data's range).
    """
    from .plotting import plot_band, posterior_draws

    basis = basis or Basis()
    if data.sizes[DESCRIPTOR] != 1:
        raise ValueError("plot_fit draws one descriptor; slice multi-dimensional data first")
    x = data["x"].values[:, 0]
    grid = np.linspace(*(x_range or (x.min(), x.max())), 200)
    phi = basis.features(grid)
    w = posterior_draws(posterior[["W"]])["W"].transpose("sample", "target", "feature").values
    for j, name in enumerate(targets):
        color = f"C{j}"
        seen = ~np.isnan(data[name].values)
        ax.plot(x[seen], data[name].values[seen], "o", color=color, ms=4, label=f"{name} data")
        plot_band(ax, grid, w[:, j] @ phi.T, color=color, label=name)
        if f"truth_W_{name}" in data.attrs:
            ax.plot(grid, phi @ np.asarray(data.attrs[f"truth_W_{name}"]), "--", color="k", lw=1)
    ax.set_xlabel(str(data[DESCRIPTOR].values[0]))
    ax.set_ylabel("target")
    ax.legend(fontsize="small")
