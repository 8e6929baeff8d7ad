r"""The conditionals of Gibbs sampling with data augmentation for the Λ model.

In chain coordinates the conjugate prior and the likelihood of *complete* rows factorise
into q Normal–Gamma regressions, :math:`y_j` on :math:`(\phi_{F_j}, y_{<j})`. A missing
target is therefore imputed only where a later target of the same row is observed (it is
then a covariate), from its Gaussian conditional given the row's observed targets; a
missing target with no later one observed is integrated out simply by leaving the row out
of the later regressions. One sweep (:meth:`GibbsKernel.step`):

1. impute :math:`y_\text{mis} \sim p(y_\text{mis} \mid y_\text{obs}, \theta)` row by row;
2. draw every regression's :math:`(d_j, \theta_j)` from its Normal–Gamma posterior given
   the completed rows (:math:`C = C^0 + \sum zz^\top` over the rows it uses).

The loop over sweeps and chains, and Chib's estimate of the evidence from the recorded
conditionals (Chib, J. Am. Stat. Assoc. 90, 1313 (1995)), are model-free and live in
:mod:`samplers.evidence.chib`; this module gives them the model's pieces (:meth:`GibbsKernel.init`,
:meth:`GibbsKernel.step`, :meth:`GibbsKernel.chib_terms`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr

from .algebra import lambda_from_chain, log_likelihood, observed_patterns
from .conjugate import (
    ConjugatePosterior,
    ConjugatePrior,
    Regression,
    draw_chain,
    free_mask,
    normal_gamma,
    normal_gamma_logpdf,
    resolve_features,
)
from .model import coupling_labels
from .table import TARGETS, Basis, design

__all__ = ["STATE_DRAWS", "GibbsKernel"]

#: The entries of a :class:`GibbsKernel` state that are parameters (the rest, ``y``, holds
#: the completed targets): keep these when sampling, e.g.
#: ``samplers.evidence.chib.gibbs_sample(..., keep=STATE_DRAWS)``.
STATE_DRAWS = ("d", "beta", "g")


class GibbsKernel:
    """One Gibbs sweep with data augmentation for the Λ model with missing targets.

    A state is a dict: ``y`` (n, q), the targets with the missing ones imputed; ``d``
    (q,), ``beta`` (q, q), ``g`` (q, p), the chain coordinates. Run it with
    :func:`samplers.evidence.chib.gibbs_sample` (``kernel.step``, ``kernel.init()``).

    Parameters
    ----------
    data : xarray.Dataset
        As for :func:`~measurement_models.data_assimilation.build_model`.
    basis : Basis
    prior : ConjugatePrior
    discrepancy_features : sequence of str or int, optional
        Features kept in the last target's row of Λ_yx; None: unrestricted.
    targets : sequence of str
    """

    def __init__(
        self,
        data: xr.Dataset,
        basis: Basis,
        prior: ConjugatePrior,
        discrepancy_features: Sequence[int | str] | None = None,
        targets: Sequence[str] = TARGETS,
    ) -> None:
        self.data = data
        self.basis = basis
        self.targets = list(targets)
        self.phi, self.y, self.feature_names = design(data, basis, targets)
        self.n, self.p = self.phi.shape
        self.q = len(self.targets)
        discrepancy = resolve_features(discrepancy_features, self.feature_names)
        self.template = ConjugatePosterior.start(prior, self.p, self.q, discrepancy)
        self.prior_statistic = self.template.statistic
        self.shapes, _ = prior.gamma(self.q)
        observed = ~np.isnan(self.y)
        last = np.array([np.flatnonzero(row).max() for row in observed])
        self.rows = [np.flatnonzero(last >= j) for j in range(self.q)]
        self.columns = [self.template.regression_columns(j) for j in range(self.q)]
        self.groups = []  # (rows, observed indices, imputed indices)
        for obs, rows in observed_patterns(self.y).items():
            impute = [k for k in range(max(obs)) if k not in obs]
            if impute:
                self.groups.append((rows, list(obs), impute))

    # ------------------------------------------------------------------ one sweep
    def init(self, state: Mapping[str, np.ndarray] | None = None) -> dict:
        """The state a chain starts from.

        The missing targets filled by per-target ridge fits (no parameters yet: the
        first sweep draws them). With ``state`` from an earlier run (e.g. before rows
        were added), its parameters (d, β, G) are kept, and its completed targets too
        when they have this data's shape.
        """
        if state is not None:
            current = dict(state)
            if "y" in current and current["y"].shape == self.y.shape:
                return current
            return {
                **self.init(),
                **{k: current[k] for k in STATE_DRAWS if k in current},
            }
        filled = self.y.copy()
        kappa = self.template.prior.feature_precision
        for j in range(self.q):
            seen = ~np.isnan(self.y[:, j])
            a = self.phi[seen]
            coef = np.linalg.solve(a.T @ a + kappa * np.eye(self.p), a.T @ self.y[seen, j])
            filled[~seen, j] = self.phi[~seen] @ coef
        return {"y": filled}

    def impute(self, state: Mapping[str, np.ndarray], rng: np.random.Generator) -> np.ndarray:
        """Step 1: missing targets that precede an observed one, from their conditional."""
        filled = state["y"].copy()
        if not self.groups:
            return filled
        t = np.eye(self.q) - np.tril(state["beta"], -1)
        w = np.linalg.solve(t, state["g"])
        t_inv = np.linalg.inv(t)
        cov = (t_inv / state["d"][None, :]) @ t_inv.T
        mean = self.phi @ w.T
        for rows, obs, mis in self.groups:
            gain = np.linalg.solve(cov[np.ix_(obs, obs)], cov[np.ix_(obs, mis)]).T
            cond_cov = cov[np.ix_(mis, mis)] - gain @ cov[np.ix_(obs, mis)]
            cond_mean = (
                mean[np.ix_(rows, mis)]
                + (self.y[np.ix_(rows, obs)] - mean[np.ix_(rows, obs)]) @ gain.T
            )
            noise = rng.standard_normal((rows.size, len(mis))) @ np.linalg.cholesky(cond_cov).T
            filled[np.ix_(rows, mis)] = cond_mean + noise
        return filled

    def conditional_regressions(self, filled: np.ndarray) -> list[Regression]:
        """Step 2's Normal–Gamma posteriors given the completed rows."""
        regs = []
        for j in range(self.q):
            z = np.hstack([self.phi, filled])[self.rows[j]]
            statistic = self.prior_statistic + z.T @ z
            shape = self.shapes[j] + self.rows[j].size / 2
            regs.append(normal_gamma(statistic, self.p + j, self.columns[j], shape))
        return regs

    def step(
        self, state: Mapping[str, np.ndarray], rng: np.random.Generator
    ) -> tuple[dict, list[Regression]]:
        """One sweep (impute, then draw the parameters): the new state, and the q
        conditional posteriors its parameters were drawn from (for Chib's estimate)."""
        filled = self.impute(state, rng) if "d" in state else state["y"]
        regs = self.conditional_regressions(filled)
        d, beta, g = draw_chain(regs, self.p, self.q, self.template.discrepancy, rng, 1)
        return {"y": filled, "d": d[0], "beta": beta[0], "g": g[0]}, regs

    # ------------------------------------------------------------------ results
    def to_dataset(self, d: np.ndarray, beta: np.ndarray, g: np.ndarray) -> xr.Dataset:
        """Draws (chain, draw, ...) as a posterior Dataset with the PyMC model's names and dims."""
        lyy, lyx = lambda_from_chain(d, beta, g)
        w = -np.linalg.solve(lyy, lyx)
        mask = free_mask(self.q, self.p, self.template.discrepancy)
        rows, cols = np.nonzero(mask)
        pair_j, pair_k = np.tril_indices(self.q, -1)
        dims = ("chain", "draw")
        return xr.Dataset(
            {
                "conditional_precision": ((*dims, "target"), d),
                "coupling": ((*dims, "target_pair"), beta[..., pair_j, pair_k]),
                "coefficient": ((*dims, "free_coefficient"), g[..., rows, cols]),
                "Lambda_yy": ((*dims, "target", "target_"), lyy),
                "Lambda_yx": ((*dims, "target", "feature"), lyx),
                "W": ((*dims, "target", "feature"), w),
            },
            coords={
                "chain": np.arange(d.shape[0]),
                "draw": np.arange(d.shape[1]),
                "target": self.targets,
                "target_": self.targets,
                "feature": self.feature_names,
                "target_pair": coupling_labels(self.targets),
                "free_coefficient": [
                    f"{self.targets[r]}:{self.feature_names[c]}"
                    for r, c in zip(rows, cols, strict=True)
                ],
            },
        )

    def _theta(self, j: int, beta: np.ndarray, g: np.ndarray) -> np.ndarray:
        mask = free_mask(self.q, self.p, self.template.discrepancy)
        return np.concatenate([g[j, mask[j]], beta[j, :j]])

    def log_prior(self, d, beta, g) -> float:
        """log p(θ) in chain coordinates (the conjugate prior)."""
        regs = self.template.regressions()
        return sum(
            normal_gamma_logpdf(regs[j], d[j], self._theta(j, beta, g)) for j in range(self.q)
        )

    def chib_terms(
        self,
        d: np.ndarray,
        beta: np.ndarray,
        g: np.ndarray,
        conditionals: Sequence[Sequence[Regression]],
    ) -> tuple[float, float, np.ndarray]:
        r"""The three terms of Chib's identity at :math:`\theta^*`, the posterior mean of (d, β, G).

        Parameters
        ----------
        d, beta, g : ndarray
            Draws (chain, draw, ...) of the chain coordinates.
        conditionals : sequence
            Per draw, the q Normal–Gamma conditionals :meth:`step` returned (recorded by
            ``samplers.evidence.chib.gibbs_sample(..., record=True)``).

        Returns
        -------
        log_likelihood : float
            :math:`\log p(D \mid \theta^*)`, the exact marginal likelihood of the
            observed targets (:func:`~measurement_models.data_assimilation.log_likelihood`).
        log_prior : float
            :math:`\log p(\theta^*)`.
        log_ordinates : ndarray
            :math:`\log p(\theta^* \mid D, y_\text{mis}^{(m)})` per draw m, closed-form
            Normal–Gamma densities; their mean estimates :math:`p(\theta^* \mid D)`.

        Raises
        ------
        ValueError
            If no conditionals were recorded.
        """
        if not len(conditionals):
            raise ValueError(
                "no conditionals recorded: sample with record=True for Chib's estimate"
            )
        d = np.asarray(d).reshape(-1, self.q).mean(0)
        beta = np.asarray(beta).reshape(-1, self.q, self.q).mean(0)
        g = np.asarray(g).reshape(-1, self.q, self.p).mean(0)
        thetas = [self._theta(j, beta, g) for j in range(self.q)]
        log_ordinates = np.array(
            [
                sum(normal_gamma_logpdf(regs[j], d[j], thetas[j]) for j in range(self.q))
                for regs in conditionals
            ]
        )
        lyy, lyx = lambda_from_chain(d, beta, g)
        log_lik = log_likelihood(self.data, lyy, lyx, self.basis, self.targets)
        return log_lik, self.log_prior(d, beta, g), log_ordinates
