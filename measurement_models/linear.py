r"""Straight line with Gaussian noise: the analytic case every sampler is checked against.

Model
-----
M. Okada's lecture *ベイズ計測の基礎から展開へ* (Bayesian measurement, from foundations
to applications; University of Tokyo, slides) works Bayesian measurement through by hand
on the straight line, the "three treasures" (posterior, model selection, noise
estimation) of every later measurement model:

K = 1: :math:`y_i = a x_i + \varepsilon_i`;  K = 2: :math:`y_i = a x_i + b + \varepsilon_i`,
with :math:`\varepsilon_i \sim N(0, \sigma^2)`. Priors (this package's defaults):
:math:`a, b \sim N(0, 10^2)` independently; :math:`\sigma` known, or
:math:`\sigma \sim \mathrm{HalfNormal}(1)` when estimated.

The lecture's results (flat priors, centred data :math:`\bar x = 0`, error function
:math:`E(a, b) = \frac{1}{2N}\sum_i (y_i - a x_i - b)^2`, :math:`\langle\cdot\rangle`
the mean over the N points):

* least squares :math:`a_0 = \langle xy\rangle/\langle x^2\rangle`,
  :math:`b_0 = \langle y\rangle`, and a Gaussian posterior around them with standard
  deviations :math:`\sigma/\sqrt{N\langle x^2\rangle}` and :math:`\sigma/\sqrt N`;
* the noise estimate (its eq. (25)) :math:`\hat\sigma^2 = 2N E(a_0, b_0)/(N-2)
  = \sum_i (y_i - a_0 x_i - b_0)^2/(N-2)`, the maximum of :math:`p(\sigma^2 \mid y)`;
* model selection between K = 1 and K = 2 by the free energy, asymptotically
  :math:`F(K) = (N/\sigma^2) E(\hat\theta_K) + (K/2)\log N` + const.

Exact results
-------------
With a Gaussian prior :math:`N(m_0, \Sigma_0)`, known :math:`\sigma` and the design
matrix :math:`X` with columns :math:`x` and, for K = 2, :math:`1`:

* posterior: :math:`\Sigma_N = (\Sigma_0^{-1} + X^\top X/\sigma^2)^{-1}`,
  :math:`m_N = \Sigma_N(\Sigma_0^{-1} m_0 + X^\top y/\sigma^2)`;
* log evidence: :math:`\log p(y) = \log N(y;\ X m_0,\ \sigma^2 I + X \Sigma_0 X^\top)`,
  the free energy being :math:`F = -\log p(y)`; both also with one :math:`\sigma_i` per
  point (:math:`\sigma^2 I \to \mathrm{diag}(\sigma_i^2)`), which is the exact answer for
  several datasets of one line with different noise, stacked
  (:mod:`measurement_models.integration`).

These are the ground truth for sampler tests.

Checked: :func:`exact_log_evidence` and :func:`noise_variance_estimate` against values
worked out by hand (:data:`REFERENCES`); the exact evidence against two-dimensional
numerical integration of likelihood × prior on a grid and against the dense Gaussian
density, the flat-prior noise estimate against the numerical maximum of the evidence
over σ, and NUTS posterior moments against the exact posterior
(``tests/measurement_models/test_linear.py``); the per-point-σ evidence and posterior
against the dense Gaussian and the direct formula
(``tests/measurement_models/test_integration.py``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from .contract import Reference
from .data import make_dataset, validate_dataset
from .noise import noise_sd
from .parameters import Parameter, ParameterTable, Prior, PriorSpec

__all__ = [
    "AXIS",
    "PARAMETERS",
    "PRIOR_SD",
    "REFERENCES",
    "VARIABLE",
    "add_likelihood",
    "add_priors",
    "build_model",
    "design_matrix",
    "exact_log_evidence",
    "exact_posterior",
    "example_data",
    "forward",
    "least_squares",
    "noise_variance_estimate",
    "plot_fit",
    "simulate",
]

#: Name of the measured data variable.
VARIABLE = "y"
#: Name of the measurement axis.
AXIS = "x"
#: Standard deviation of the default N(0, PRIOR_SD²) priors of slope and intercept.
PRIOR_SD = 10.0

#: Parameter table: slope, intercept and noise.
PARAMETERS = ParameterTable(
    (
        Parameter("a", "y/x", Prior("Normal", mu=0.0, sigma=PRIOR_SD), "slope"),
        Parameter("b", "y", Prior("Normal", mu=0.0, sigma=PRIOR_SD), "intercept (K = 2 only)"),
        Parameter(
            "sigma",
            "y",
            Prior("HalfNormal", sigma=1.0),
            "noise standard deviation (when not known)",
            role="noise",
        ),
    )
)

#: Values worked out by hand that :func:`exact_log_evidence` and
#: :func:`noise_variance_estimate` reproduce.
REFERENCES = {
    "evidence_slope": Reference(
        source=(
            "analytic: y = a x, a ~ N(0, 10²), σ = 1, x = (1, 2), y = (1, 2). y ~ N(0, C), "
            "C = I + 100 x xᵀ; det C = 1 + 100 |x|² = 501 (matrix determinant lemma), "
            "yᵀC⁻¹y = |y|² − 100 (x·y)²/501 = 5 − 2500/501 = 5/501 (Sherman–Morrison), so "
            "log p(y) = −log 2π − ½ log 501 − 5/1002"
        ),
        quantity="exact_log_evidence",
        structure={"n_terms": 1},
        x=[1.0, 2.0],
        params={"y": [1.0, 2.0], "sigma": 1.0, "n_terms": 1},
        expected=-math.log(2 * math.pi) - 0.5 * math.log(501.0) - 5.0 / 1002.0,
        rtol=1e-12,
        description="log evidence of y = a x for two points",
    ),
    "evidence_line": Reference(
        source=(
            "analytic: y = a x + b, a, b ~ N(0, 10²), σ = 1, x = (−1, 1), y = (1, 3). "
            "X = [x, 1] has orthogonal columns of squared length 2, so "
            "C = I + 100 X Xᵀ = 201 I and log p(y) = −log 2π − log 201 − |y|²/402 "
            "= −log 2π − log 201 − 10/402"
        ),
        quantity="exact_log_evidence",
        structure={"n_terms": 2},
        x=[-1.0, 1.0],
        params={"y": [1.0, 3.0], "sigma": 1.0, "n_terms": 2},
        expected=-math.log(2 * math.pi) - math.log(201.0) - 10.0 / 402.0,
        rtol=1e-12,
        description="log evidence of y = a x + b for two points",
    ),
    "noise_estimate": Reference(
        source=(
            "M. Okada, lecture 'ベイズ計測の基礎から展開へ' (Univ. Tokyo), eq. (25): "
            "σ̂² = Σ r²/(N − 2). By hand for x = (−1, 0, 1), y = (0, 1, 0): a₀ = ⟨xy⟩/⟨x²⟩ "
            "= 0, b₀ = ⟨y⟩ = 1/3, residuals (−1/3, 2/3, −1/3), Σ r² = 2/3, N − 2 = 1"
        ),
        quantity="noise_variance_estimate",
        structure={"n_terms": 2},
        x=[-1.0, 0.0, 1.0],
        params={"y": [0.0, 1.0, 0.0]},
        expected=2.0 / 3.0,
        rtol=1e-12,
        description="flat-prior noise estimate of three points",
    ),
}


def _terms(n_terms: int) -> list[str]:
    if n_terms not in (1, 2):
        raise ValueError(f"n_terms must be 1 (y = a x) or 2 (y = a x + b), got {n_terms!r}")
    return ["a", "b"][:n_terms]


def forward(x, *, a, b=0.0):
    """Straight line :math:`f(x) = a x + b`; NumPy or PyTensor inputs."""
    return a * x + b


def add_priors(
    data: xr.Dataset | None = None,
    *,
    n_terms: int = 2,
    priors: Mapping[str, PriorSpec] | None = None,
    fixed: Mapping[str, object] | None = None,
    prefix: str = "",
    names: Sequence[str] | None = None,
) -> dict[str, pt.TensorVariable]:
    """Add the priors of the slope (and intercept) to the current model.

    Parameters
    ----------
    data : xarray.Dataset, optional
        Not needed: the default priors do not depend on the data.
    n_terms : {1, 2}
        K = 1: ``a``; K = 2: ``a`` and ``b``.
    priors : mapping, optional
        Prior overrides by parameter name.
    fixed : mapping, optional
        Parameters held at a value (constants, not variables).
    prefix : str
        Prepended to every variable name (several parameter sets in one model, as in
        :func:`measurement_models.integration.integrated_model`).
    names : sequence of str, optional
        Only these of the model's parameters (default: all ``n_terms`` of them).

    Returns
    -------
    dict
        Parameter name (without prefix) to PyMC variable.

    Raises
    ------
    ValueError
        A bad ``n_terms``, or ``names`` or ``fixed`` naming a parameter the model does
        not have.
    """
    terms = _terms(n_terms)
    unknown = sorted(set(fixed or {}) - {*terms, "sigma"})
    if unknown:
        raise ValueError(f"fixed value(s) for {unknown}, not parameters of this model {terms}")
    return PARAMETERS.add_priors(_subset(terms, names), priors, prefix=prefix, fixed=fixed)


def _subset(terms: list[str], names: Sequence[str] | None) -> list[str]:
    if names is None:
        return terms
    unknown = [name for name in names if name not in terms]
    if unknown:
        raise ValueError(f"no parameter(s) {unknown} in this model; its parameters: {terms}")
    return [name for name in terms if name in names]


def add_likelihood(
    data: xr.Dataset,
    params: Mapping[str, pt.TensorVariable],
    *,
    sigma: float | np.ndarray | pt.TensorVariable | None = None,
    name: str = VARIABLE,
    mutable_data: bool = False,
) -> pt.TensorVariable:
    """Add the Gaussian likelihood of one straight-line dataset to the current model.

    Parameters
    ----------
    data : xarray.Dataset
        With data variable ``y`` along one axis.
    params : mapping
        ``a`` (and ``b``; without it the line goes through the origin).
    sigma : float, ndarray or TensorVariable, optional
        The noise standard deviation; default: the data's ``sigma`` variable.
    name : str
        Name of the observed variable.
    mutable_data : bool
        Put the axis, the observed values and a per-point ``sigma`` in ``pm.Data``
        containers (``<name>_x``, ``<name>_observed``, ``<name>_sigma``).

    Raises
    ------
    ValueError
        Bad data, or no noise level (neither ``sigma`` nor a ``sigma`` variable).
    """
    validate_dataset(data, variables=[VARIABLE])
    x = data[data[VARIABLE].dims[0]].values
    observed = data[VARIABLE].values
    sd = noise_sd(data, sigma)
    if mutable_data:
        x = pm.Data(f"{name}_x", x)
        observed = pm.Data(f"{name}_observed", observed)
        if isinstance(sd, np.ndarray) and sd.ndim == 1:
            sd = pm.Data(f"{name}_sigma", sd)
    mean = forward(x, a=params["a"], b=params.get("b", 0.0))
    return pm.Normal(name, mu=mean, sigma=sd, observed=observed)


def build_model(
    data: xr.Dataset,
    *,
    n_terms: int = 2,
    priors: Mapping[str, PriorSpec] | None = None,
    sigma: float | None = None,
    fixed: Mapping[str, object] | None = None,
    mutable_data: bool = False,
    prefix: str | None = None,
) -> pm.Model:
    """PyMC model of a straight line.

    Parameters
    ----------
    data : xarray.Dataset
        With data variable ``y`` along one axis (see :func:`simulate`).
    n_terms : {1, 2}
        K = 1: ``y = a x``; K = 2: ``y = a x + b``.
    priors : mapping, optional
        Prior overrides by parameter name (see :class:`~measurement_models.parameters.Prior`).
    sigma : float, optional
        Known noise standard deviation. If omitted: the data's ``sigma`` variable when
        present, otherwise ``sigma`` becomes a parameter with the table's prior.
    fixed : mapping, optional
        Parameters held at a value; ``{"sigma": s}`` is a known noise level.
    mutable_data : bool
        Data in ``pm.Data`` containers (see :func:`add_likelihood`).
    prefix : str, optional
        Prepended to the name of every variable.

    Returns
    -------
    pymc.Model
    """
    validate_dataset(data, variables=[VARIABLE])
    prefix = prefix or ""
    with pm.Model() as model:
        params = add_priors(data, n_terms=n_terms, priors=priors, fixed=fixed, prefix=prefix)
        sd = noise_sd(data, sigma, PARAMETERS, priors, prefix=prefix, fixed=fixed)
        add_likelihood(data, params, sigma=sd, name=prefix + VARIABLE, mutable_data=mutable_data)
    return model


def simulate(
    x: np.ndarray,
    *,
    rng: np.random.Generator | int | None = None,
    sigma: float = 1.0,
    a: float,
    b: float = 0.0,
) -> xr.Dataset:
    """Simulate ``y = a x + b + N(0, sigma²)``; the truth is kept in ``attrs``."""
    rng = np.random.default_rng(rng)
    x = np.asarray(x, dtype=float)
    y = forward(x, a=a, b=b) + sigma * rng.standard_normal(x.shape)
    return make_dataset(
        x,
        y,
        sigma=np.full(x.shape, float(sigma)),
        axis=AXIS,
        variable=VARIABLE,
        attrs={"truth_a": float(a), "truth_b": float(b), "truth_sigma": float(sigma)},
    )


def example_data(rng: np.random.Generator | int | None = 0) -> tuple[xr.Dataset, dict]:
    """Small example (centred x, as in Okada's lecture; N = 20) and its truth point."""
    x = np.linspace(-1.0, 1.0, 20)
    truth = {"a": 2.0, "b": 0.5}
    return simulate(x, **truth, sigma=0.3, rng=rng), truth


def design_matrix(x: np.ndarray, n_terms: int = 2) -> np.ndarray:
    """Columns ``x`` and, for ``n_terms = 2``, ones: shape (n, n_terms)."""
    x = np.asarray(x, dtype=float)
    return np.column_stack([x, np.ones_like(x)][: len(_terms(n_terms))])


def _prior_moments(n_terms, prior_mean, prior_sd):
    k = len(_terms(n_terms))
    mean = np.broadcast_to(np.asarray(prior_mean, dtype=float), (k,))
    sd = np.broadcast_to(np.asarray(prior_sd, dtype=float), (k,))
    return mean, np.diag(sd**2)


def _precision_weights(sigma, n: int) -> np.ndarray:
    """Per-point precisions 1/σ_i² from a scalar or per-point ``sigma``."""
    sigma = np.asarray(sigma, dtype=float)
    if sigma.ndim > 1 or (sigma.ndim == 1 and sigma.size != n):
        raise ValueError(
            f"sigma must be a scalar or have one value per point ({n}), got {sigma.shape}"
        )
    if not np.all(np.isfinite(sigma)) or np.any(sigma <= 0):
        raise ValueError("sigma must be positive and finite")
    return np.broadcast_to(1.0 / sigma**2, (n,))


def exact_posterior(
    x: np.ndarray,
    y: np.ndarray,
    sigma: float | np.ndarray,
    n_terms: int = 2,
    prior_mean: float | np.ndarray = 0.0,
    prior_sd: float | np.ndarray = PRIOR_SD,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Exact Gaussian posterior of ``(a[, b])`` for known noise.

    ``sigma`` is one standard deviation for all points or one per point (:math:`W =
    \mathrm{diag}(1/\sigma_i^2)`; several datasets with different noise, stacked).

    Returns
    -------
    mean : ndarray, shape (n_terms,)
    cov : ndarray, shape (n_terms, n_terms)
        :math:`\Sigma_N = (\Sigma_0^{-1} + X^\top W X)^{-1}`,
        :math:`m_N = \Sigma_N(\Sigma_0^{-1} m_0 + X^\top W y)`.
    """
    X = design_matrix(x, n_terms)
    w = _precision_weights(sigma, X.shape[0])
    m0, S0 = _prior_moments(n_terms, prior_mean, prior_sd)
    precision = np.linalg.inv(S0) + X.T @ (w[:, None] * X)
    cov = np.linalg.inv(precision)
    mean = cov @ (np.linalg.solve(S0, m0) + X.T @ (w * np.asarray(y, dtype=float)))
    return mean, cov


def exact_log_evidence(
    x: np.ndarray,
    y: np.ndarray,
    sigma: float | np.ndarray,
    n_terms: int = 2,
    prior_mean: float | np.ndarray = 0.0,
    prior_sd: float | np.ndarray = PRIOR_SD,
) -> float:
    r"""Exact :math:`\log p(y) = \log N(y;\ X m_0,\ C)`, :math:`C = D + X\Sigma_0X^\top`.

    :math:`D = \mathrm{diag}(\sigma_i^2)`: ``sigma`` is one standard deviation for all
    points or one per point (several datasets with different noise, stacked). The
    Bayesian free energy is the negative. Evaluated in the parameter space (k × k) with
    the matrix determinant lemma and the Woodbury identity, so that it stays accurate
    for very wide priors and long data:

    .. math::

        \log\det C = \sum_i\log\sigma_i^2 + \log\det\Sigma_0 + \log\det A, \quad
        r^\top C^{-1} r = r^\top W r - (X^\top W r)^\top A^{-1} X^\top W r,

    with :math:`W = D^{-1}`, :math:`A = \Sigma_0^{-1} + X^\top W X` and
    :math:`r = y - X m_0`.
    """
    X = design_matrix(x, n_terms)
    m0, S0 = _prior_moments(n_terms, prior_mean, prior_sd)
    r = np.asarray(y, dtype=float) - X @ m0
    n = r.size
    w = _precision_weights(sigma, n)
    A = np.linalg.inv(S0) + X.T @ (w[:, None] * X)
    chol = np.linalg.cholesky(A)
    z = np.linalg.solve(chol, X.T @ (w * r))
    log_det_c = -np.log(w).sum() + np.linalg.slogdet(S0)[1] + 2 * np.log(np.diag(chol)).sum()
    quadratic = r @ (w * r) - z @ z
    return float(-0.5 * (n * np.log(2 * np.pi) + log_det_c + quadratic))


def least_squares(x: np.ndarray, y: np.ndarray, n_terms: int = 2) -> np.ndarray:
    """Least-squares ``(a_0[, b_0])``."""
    coef, *_ = np.linalg.lstsq(design_matrix(x, n_terms), np.asarray(y, float), rcond=None)
    return coef


def noise_variance_estimate(x: np.ndarray, y: np.ndarray) -> float:
    r"""The noise estimate :math:`\hat\sigma^2 = \sum_i (y_i - a_0x_i - b_0)^2/(N-2)`.

    Eq. (25) of Okada's lecture (module docstring): it maximises the marginal likelihood
    of :math:`\sigma^2` for y = a x + b under flat priors on (a, b).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.size < 3:
        raise ValueError(f"the noise estimate needs at least 3 points, got {x.size}")
    residual = y - design_matrix(x, 2) @ least_squares(x, y, 2)
    return float(residual @ residual / (x.size - 2))


def plot_fit(ax, data: xr.Dataset, posterior: xr.Dataset, **options) -> None:
    """Data, posterior band of the line, and the true line if known (``options``: unused)."""
    from .plotting import plot_band, plot_data, posterior_draws

    x = data[AXIS].values
    draws = posterior_draws(posterior)
    b = draws["b"].values[:, None] if "b" in draws else 0.0
    plot_data(ax, data, VARIABLE)
    plot_band(ax, x, forward(x[None, :], a=draws["a"].values[:, None], b=b))
    if "truth_a" in data.attrs:
        truth = forward(x, a=data.attrs["truth_a"], b=data.attrs["truth_b"])
        ax.plot(x, truth, "k--", label="truth")
    ax.legend(fontsize="small")
