r"""Straight line with Gaussian noise: the analytic case every sampler is checked against.

Model (seed 001, Okada, "Bayesian measurement from basics to applications")
---------------------------------------------------------------------------
K = 1: :math:`y_i = a x_i + \varepsilon_i`;  K = 2: :math:`y_i = a x_i + b + \varepsilon_i`,
with :math:`\varepsilon_i \sim N(0, \sigma^2)`. Priors (this package's defaults):
:math:`a, b \sim N(0, 10^2)` independently; :math:`\sigma` known, or
:math:`\sigma \sim \mathrm{HalfNormal}(1)` when estimated.

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
  (:mod:`measurement_models.integration`);
* noise estimate (flat priors, seed 001 eq. 25): :math:`\hat\sigma^2 = N E(a_0, b_0)/(N-2)
  = \sum_i (y_i - a_0 x_i - b_0)^2/(N-2)` with the least-squares :math:`a_0, b_0`.

These are the ground truth for sampler tests. Checked: the exact evidence against
two-dimensional numerical integration of likelihood × prior on a grid, and NUTS
posterior moments against the exact posterior (``tests/measurement_models/test_linear.py``);
the per-point-σ evidence and posterior against the dense Gaussian and the direct formula
(``tests/measurement_models/test_integration.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from .data import make_dataset, validate_dataset
from .noise import noise_sd
from .parameters import Parameter, ParameterTable, Prior, PriorSpec

__all__ = [
    "PARAMETERS",
    "add_likelihood",
    "add_priors",
    "build_model",
    "exact_log_evidence",
    "exact_posterior",
    "forward",
    "least_squares",
    "noise_variance_estimate",
    "simulate",
]

VARIABLE = "y"
AXIS = "x"
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


def _terms(n_terms: int) -> list[str]:
    if n_terms not in (1, 2):
        raise ValueError(f"n_terms must be 1 (y = a x) or 2 (y = a x + b), got {n_terms!r}")
    return ["a", "b"][:n_terms]


def forward(x, a, b=0.0):
    """Straight line :math:`f(x) = a x + b`; NumPy or PyTensor inputs."""
    return a * x + b


def add_priors(
    n_terms: int = 2,
    priors: Mapping[str, PriorSpec] | None = None,
    prefix: str = "",
    names: Sequence[str] | None = None,
) -> dict[str, pt.TensorVariable]:
    """Add the priors of the slope (and intercept) to the current model.

    Parameters
    ----------
    n_terms : {1, 2}
        K = 1: ``a``; K = 2: ``a`` and ``b``.
    priors : mapping, optional
        Prior overrides by parameter name.
    prefix : str
        Prepended to every variable name (several parameter sets in one model, as in
        :func:`measurement_models.integration.integrated_model`).
    names : sequence of str, optional
        Only these of the model's parameters (default: all ``n_terms`` of them).

    Returns
    -------
    dict
        Parameter name (without prefix) to PyMC variable.
    """
    terms = _terms(n_terms)
    return PARAMETERS.add_priors(_subset(terms, names), priors, prefix=prefix)


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
    sigma: float | pt.TensorVariable | np.ndarray,
    name: str = VARIABLE,
) -> pt.TensorVariable:
    """Add the Gaussian likelihood of one straight-line dataset to the current model."""
    validate_dataset(data, variables=[VARIABLE])
    x = data[data[VARIABLE].dims[0]].values
    mean = forward(x, params["a"], params.get("b", 0.0))
    return pm.Normal(name, mu=mean, sigma=sigma, observed=data[VARIABLE].values)


def build_model(
    data: xr.Dataset,
    n_terms: int = 2,
    sigma: float | None = None,
    priors: Mapping[str, PriorSpec] | None = None,
) -> pm.Model:
    """PyMC model of a straight line.

    Parameters
    ----------
    data : xarray.Dataset
        With data variable ``y`` along one axis (see :func:`simulate`).
    n_terms : {1, 2}
        K = 1: ``y = a x``; K = 2: ``y = a x + b``.
    sigma : float, optional
        Known noise standard deviation. If omitted: the data's ``sigma`` variable when
        present, otherwise ``sigma`` becomes a parameter with the table's prior.
    priors : mapping, optional
        Prior overrides by parameter name (see :class:`~measurement_models.parameters.Prior`).

    Returns
    -------
    pymc.Model
    """
    validate_dataset(data, variables=[VARIABLE])
    with pm.Model() as model:
        params = add_priors(n_terms, priors)
        add_likelihood(data, params, noise_sd(data, sigma, PARAMETERS, priors))
    return model


def simulate(
    x: np.ndarray,
    a: float,
    b: float = 0.0,
    sigma: float = 1.0,
    rng: np.random.Generator | int | None = None,
) -> xr.Dataset:
    """Simulate ``y = a x + b + N(0, sigma²)``; the truth is kept in ``attrs``."""
    rng = np.random.default_rng(rng)
    x = np.asarray(x, dtype=float)
    y = forward(x, a, b) + sigma * rng.standard_normal(x.shape)
    return make_dataset(
        x,
        y,
        sigma=np.full(x.shape, float(sigma)),
        axis=AXIS,
        variable=VARIABLE,
        attrs={"truth_a": float(a), "truth_b": float(b), "truth_sigma": float(sigma)},
    )


def example_data(rng: np.random.Generator | int | None = 0) -> tuple[xr.Dataset, dict]:
    """Small example (seed 001's setting: centred x, N = 20) and its truth point."""
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
    r"""Seed 001's noise estimate :math:`\hat\sigma^2 = \sum_i (y_i - a_0x_i - b_0)^2/(N-2)`.

    It maximises the marginal likelihood of :math:`\sigma^2` for y = a x + b under flat
    priors on (a, b).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.size < 3:
        raise ValueError(f"the noise estimate needs at least 3 points, got {x.size}")
    residual = y - design_matrix(x, 2) @ least_squares(x, y, 2)
    return float(residual @ residual / (x.size - 2))


def plot_fit(ax, data: xr.Dataset, posterior: xr.Dataset, **_) -> None:
    """Data, posterior band of the line, and the true line if known."""
    from .plotting import plot_band, plot_data, posterior_draws

    x = data[AXIS].values
    draws = posterior_draws(posterior)
    b = draws["b"].values[:, None] if "b" in draws else 0.0
    plot_data(ax, data, VARIABLE)
    plot_band(ax, x, forward(x[None, :], draws["a"].values[:, None], b))
    if "truth_a" in data.attrs:
        ax.plot(x, forward(x, data.attrs["truth_a"], data.attrs["truth_b"]), "k--", label="truth")
    ax.legend(fontsize="small")
