r"""The conjugate (matrix-normal–Wishart) prior of the Λ model and its exact posterior.

Prior (this package's choice): :math:`\Lambda_{yy} \sim \mathrm{Wishart}(\nu_0, S_0)`,
:math:`S_0 = \mathrm{diag}(1/(\nu_0\sigma_{0j}^2))`, and :math:`W \mid \Lambda_{yy} \sim
\mathrm{MN}(0, \Lambda_{yy}^{-1}, (\kappa I_p)^{-1})`. In chain coordinates (Bartlett
decomposition) it factorises into q Normal–Gamma regressions, and so does the posterior
after complete rows: :math:`C = C^0 + \sum_n z_n z_n^\top`, each regression's statistics
Schur complements of :math:`C`. The evidence of complete data is closed form
(:meth:`ConjugatePosterior.log_evidence`, :func:`conjugate_log_evidence`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import xarray as xr
from scipy import special

from .algebra import lambda_from_chain
from .table import TARGETS, Basis, design

__all__ = [
    "ConjugatePosterior",
    "ConjugatePrior",
    "Regression",
    "conjugate_log_evidence",
    "draw_chain",
    "free_mask",
    "normal_gamma",
    "normal_gamma_log_evidence",
    "normal_gamma_logpdf",
    "resolve_features",
]


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


def free_mask(q: int, p: int, discrepancy: Sequence[int] | None) -> np.ndarray:
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


def _gamma_logpdf(x, shape, rate):
    return shape * np.log(rate) + (shape - 1) * np.log(x) - rate * x - special.gammaln(shape)


def _normal_logpdf(x, mean, precision_chol_logdet, quad):
    """log N given the log-determinant of the precision's Cholesky factor and the quadratic form."""
    return -0.5 * x.size * np.log(2 * np.pi) + precision_chol_logdet - 0.5 * quad


def normal_gamma_logpdf(reg: Regression, d: float, theta: np.ndarray) -> float:
    """log density of (d, θ) under a Normal–Gamma regression posterior (or prior)."""
    r = theta - reg.mean
    precision = d * reg.omega
    chol = np.linalg.cholesky(precision)
    return float(
        _gamma_logpdf(d, reg.shape, reg.rate)
        + _normal_logpdf(r, None, np.log(np.diag(chol)).sum(), r @ precision @ r)
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
        phi, y, names = design(data, basis, targets)
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
                "targets with data_assimilation.GibbsKernel"
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
        features = np.flatnonzero(free_mask(self.n_targets, p, self.discrepancy)[j])
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
    mask = free_mask(q, p, discrepancy)
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
    mask = free_mask(q, p, discrepancy)
    for j, reg in enumerate(regressions):
        d[:, j] = rng.gamma(reg.shape, 1 / reg.rate, size)
        chol = np.linalg.cholesky(reg.omega)
        noise = rng.standard_normal((size, reg.mean.size))
        theta = reg.mean + np.linalg.solve(chol.T, noise.T).T / np.sqrt(d[:, j])[:, None]
        n_feat = int(mask[j].sum())
        g[:, j, mask[j]] = theta[:, :n_feat]
        beta[:, j, :j] = theta[:, n_feat:]
    return d, beta, g


def conjugate_log_evidence(
    data: xr.Dataset,
    *,
    basis: Basis,
    prior: ConjugatePrior,
    discrepancy_features: Sequence[int | str] | None = None,
    targets: Sequence[str] = TARGETS,
) -> float:
    r"""Exact :math:`\log p(Y \mid X)` of complete data under the conjugate prior.

    :meth:`ConjugatePosterior.log_evidence` of :meth:`ConjugatePosterior.from_data`: the
    sum over the chain regressions of their Normal–Gamma evidences.

    Raises
    ------
    ValueError
        If a row misses a target (use
        :class:`~measurement_models.data_assimilation.gibbs.GibbsKernel` and Chib's estimate).
    """
    return ConjugatePosterior.from_data(
        data, basis, prior, targets=targets, discrepancy_features=discrepancy_features
    ).log_evidence()
