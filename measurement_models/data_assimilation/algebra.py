r"""Gaussian identities of the Λ model, in NumPy (and PyTensor for the predictor).

With :math:`z = (\phi(x), y) \sim N(0, \Lambda^{-1})` the targets given the features are
:math:`N(\mu, \Lambda_{yy}^{-1})`, :math:`\mu = -\Lambda_{yy}^{-1}\Lambda_{yx}\phi`
(:func:`forward`); a target missing in a row is integrated out, leaving the marginal of
the observed ones (:func:`marginal_precision`, :func:`log_likelihood`). Chain (modified
Cholesky) coordinates :math:`\Lambda_{yy} = T^\top D T`, :math:`\Lambda_{yx} =
-T^\top D G` (:func:`lambda_from_chain`, :func:`chain_from_lambda`) turn the model into
one regression per target.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytensor.tensor as pt
import xarray as xr

from ..array_backend import is_symbolic
from .table import TARGETS, Basis, design

__all__ = [
    "chain_from_lambda",
    "condition",
    "forward",
    "lambda0",
    "lambda_from_chain",
    "log_likelihood",
    "marginal_precision",
    "observed_patterns",
    "predictive_covariance",
]


def forward(phi, *, lambda_yy, lambda_yx):
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
    r"""Harashima et al.'s :math:`\Lambda^0` (package docstring): for complete rows

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


def observed_patterns(y: np.ndarray) -> dict[tuple[int, ...], np.ndarray]:
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
    phi, y, _ = design(data, basis, targets)
    mean = forward(phi, lambda_yy=lambda_yy, lambda_yx=lambda_yx)
    cov = predictive_covariance(lambda_yy)
    total = 0.0
    for obs, rows in observed_patterns(y).items():
        obs = list(obs)
        c = cov[np.ix_(obs, obs)]
        r = y[np.ix_(rows, obs)] - mean[np.ix_(rows, obs)]
        chol = np.linalg.cholesky(c)
        white = np.linalg.solve(chol, r.T)
        total += -0.5 * np.sum(white**2) - rows.size * (
            np.log(np.diag(chol)).sum() + 0.5 * len(obs) * np.log(2 * np.pi)
        )
    return float(total)
