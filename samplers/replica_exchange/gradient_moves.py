r"""Gradient moves inside every replica: MALA and HMC, all levels at once.

A mixin of :class:`samplers.replica_exchange.kernel.ParallelTempering` (the kernel's
``update="mala"`` and ``"hmc"``), kept apart from the random-walk moves. At level
:math:`l` the moves follow the gradient of the tempered density,
:math:`\nabla\log\varphi + \beta_l \nabla\ell`, preconditioned by each level's running
coordinate scales :math:`S_l` (as the block move keeps them) and with a step size per
level adapted by Robbins–Monro during tuning (targets 0.574 and 0.65 in
:data:`~samplers.replica_exchange.kernel.TARGET_ACCEPTANCE`):

- MALA (Roberts & Tweedie, Bernoulli 2, 341 (1996)): :math:`x' = x + \tfrac{h^2}{2}
  g(x) + h z`, accepted with the Metropolis–Hastings ratio of the Langevin proposal;
- HMC (Duane et al., Phys. Lett. B 195, 216 (1987); Neal, Handbook of MCMC (2011)):
  :data:`HMC_STEPS` leapfrog steps in :math:`y = S_l^{-1} x` with unit mass, the step
  size jittered by :data:`HMC_JITTER`, accepted on the energy error.

The gradients of every replica's position are cached by replica in the state
(``LadderState.gradients``: position, gradient of log φ, gradient of ℓ), so swaps carry
them along and each move costs one (MALA) or :data:`HMC_STEPS` (HMC) batched gradient
calls. Non-finite values or gradients reject the proposal and are counted as failures.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .ladder import tempered_log_density as _tempered

if TYPE_CHECKING:
    from .kernel import _Sweep

__all__ = ["GRADIENT_UPDATES", "HMC_JITTER", "HMC_STEPS", "GradientMoves"]

#: The updates that need the gradient of the log-density.
GRADIENT_UPDATES = ("mala", "hmc")
#: Leapfrog steps of one HMC move (each costs one gradient evaluation of every replica).
HMC_STEPS = 8
#: HMC: every move scales each level's step size by a uniform draw from this range.
HMC_JITTER = (0.8, 1.2)


class GradientMoves:
    """MALA and HMC moves of every level at once (mixed into the kernel, whose
    ``update``, ``_gradient_function``, ``_adapt_factor_and_scales`` and
    ``_exact_acceptance`` they use)."""

    def _unevaluated_gradients(self, shape: tuple[int, int]) -> np.ndarray:
        """The gradient cache of a new ladder: NaN rows (evaluated on the first move)."""
        if self.update not in GRADIENT_UPDATES:
            return np.zeros((0, 0, 0))
        levels, dim = shape
        return np.full((levels, 3, dim), np.nan)

    def _evaluate_gradient(self, x: np.ndarray):
        """Values and gradients at ``x``, as float arrays, and where any is not finite."""
        log_prior, log_lik, grad_prior, grad_lik = self._gradient_function(self.update)(x)
        log_prior = np.asarray(log_prior, dtype=float)
        log_lik = np.asarray(log_lik, dtype=float)
        grad_prior = np.asarray(grad_prior, dtype=float).reshape(x.shape)
        grad_lik = np.asarray(grad_lik, dtype=float).reshape(x.shape)
        finite_values = np.isfinite(log_prior) & np.isfinite(log_lik)
        failed = np.isnan(log_prior) | np.isnan(log_lik)
        failed |= (log_prior == np.inf) | (log_lik == np.inf)
        # a gradient that is not finite where the density is: a failure too
        failed |= finite_values & ~(
            np.isfinite(grad_prior).all(axis=1) & np.isfinite(grad_lik).all(axis=1)
        )
        return log_prior, log_lik, grad_prior, grad_lik, failed

    def _current_gradients(self, sweep: _Sweep) -> tuple[np.ndarray, np.ndarray]:
        """Gradients of log φ and ℓ at every level's position, by level.

        Read from the cache (kept by replica, so swaps carry them along); rows whose
        cached position is not the replica's position (a new ladder, or a position set
        by other code) are evaluated now.
        """
        rows = sweep.gradients[sweep.replica]
        stale = ~np.all(rows[:, 0] == sweep.x, axis=1)
        if stale.any():
            x = sweep.x[stale]
            _, _, grad_prior, grad_lik, failed = self._evaluate_gradient(x)
            sweep.n_failures += int(failed.sum())
            rows[stale] = np.stack([x, grad_prior, grad_lik], axis=1)
            sweep.gradients[sweep.replica[stale]] = rows[stale]
        return rows[:, 1], rows[:, 2]

    def _accept_gradient_move(
        self, rng, sweep, tune, proposal, rejected, log_alpha, log_prior, log_lik, grad_prior,
        grad_lik,
    ) -> np.ndarray:  # fmt: skip
        """Accept each level's proposal with probability min(1, exp(log_alpha)) (0 where
        ``rejected``), adapt the step while tuning, and return the acceptances."""
        log_alpha[rejected] = -np.inf
        log_alpha = np.where(np.isnan(log_alpha), -np.inf, log_alpha)
        alpha = np.exp(np.minimum(log_alpha, 0.0))
        accept = rng.random(alpha.size) < alpha
        sweep.x[accept] = proposal[accept]
        sweep.log_prior[accept] = log_prior[accept]
        sweep.log_lik[accept] = log_lik[accept]
        sweep.gradients[sweep.replica[accept]] = np.stack(
            [proposal[accept], grad_prior[accept], grad_lik[accept]], axis=1
        )
        if tune:
            self._adapt_factor_and_scales(sweep, alpha)
        return accept.astype(float)

    def _mala_move(self, rng, sweep, tune) -> np.ndarray:
        r"""One preconditioned Langevin proposal at every level, Metropolis-adjusted."""
        betas = sweep.betas[:, None]
        grad_prior, grad_lik = self._current_gradients(sweep)
        step = sweep.factor[:, None] * sweep.scales  # ε_l s_l, per coordinate
        z = rng.standard_normal(sweep.x.shape)
        proposal = sweep.x + 0.5 * step**2 * (grad_prior + betas * grad_lik) + step * z
        log_prior, log_lik, new_prior, new_lik, failed = self._evaluate_gradient(proposal)
        sweep.n_failures += int(failed.sum())
        with np.errstate(invalid="ignore", over="ignore"):
            log_alpha = _tempered(log_prior, log_lik, sweep.betas) - sweep.log_density
            if self._exact_acceptance:
                back = (sweep.x - proposal - 0.5 * step**2 * (new_prior + betas * new_lik)) / step
                log_alpha += 0.5 * np.sum(z**2, axis=1) - 0.5 * np.sum(back**2, axis=1)
        return self._accept_gradient_move(
            rng, sweep, tune, proposal, failed, log_alpha, log_prior, log_lik, new_prior, new_lik
        )

    def _hmc_move(self, rng, sweep, tune) -> np.ndarray:
        r""":data:`HMC_STEPS` leapfrog steps at every level, in the coordinates
        :math:`y = S_l^{-1} x` (unit mass), then a Metropolis test of the energy error."""
        betas = sweep.betas[:, None]
        grad_prior, grad_lik = self._current_gradients(sweep)
        step = sweep.factor[:, None] * rng.uniform(*HMC_JITTER, size=(sweep.betas.size, 1))
        momentum = rng.standard_normal(sweep.x.shape)
        kinetic = 0.5 * np.sum(momentum**2, axis=1)
        x = sweep.x.copy()
        diverged = np.zeros(sweep.betas.size, dtype=bool)
        force = sweep.scales * (grad_prior + betas * grad_lik)  # ∇_y log π_l
        with np.errstate(invalid="ignore", over="ignore"):
            for _ in range(HMC_STEPS):
                momentum += 0.5 * step * force
                x += step * sweep.scales * momentum
                log_prior, log_lik, new_prior, new_lik, failed = self._evaluate_gradient(x)
                sweep.n_failures += int((failed & ~diverged).sum())
                diverged |= failed | ~(np.isfinite(log_prior) & np.isfinite(log_lik))
                force = sweep.scales * (new_prior + betas * new_lik)
                momentum += 0.5 * step * force
            log_alpha = _tempered(log_prior, log_lik, sweep.betas) - sweep.log_density
            if self._exact_acceptance:
                log_alpha += kinetic - 0.5 * np.sum(momentum**2, axis=1)
        return self._accept_gradient_move(
            rng, sweep, tune, x, diverged, log_alpha, log_prior, log_lik, new_prior, new_lik
        )
