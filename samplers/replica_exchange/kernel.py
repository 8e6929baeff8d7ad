r"""Non-reversible parallel tempering on plain NumPy arrays (the replica-exchange core).

This module knows arrays and log-densities only; :mod:`samplers.replica_exchange` adapts
it to PyMC. A *ladder* of inverse temperatures :math:`0 = \beta_0 < \dots < \beta_L = 1`
holds one replica per level, level :math:`l` targeting the tempered density

.. math::

    \pi_l(x) \propto \varphi(x)\, p(D|x)^{\beta_l}, \qquad
    \log \pi_l(x) = \log\varphi(x) + \beta_l\, \ell(x),

with :math:`\varphi` the prior (including the Jacobian of the transform to unconstrained
space) and :math:`\ell` the log-likelihood. The user supplies one function that
evaluates *all replicas at once*: ``log_density(X) -> (log_prior, log_likelihood)`` with
``X`` of shape ``(replicas, dim)`` and both outputs of shape ``(replicas,)``.

One iteration (:meth:`ParallelTempering.step`) runs, in this order:

1. **moves** – ``n_sweeps`` random-walk Metropolis sweeps inside every replica, all
   replicas proposed and evaluated together. ``"componentwise"`` updates one
   coordinate at a time (target acceptance 0.44; one sweep costs ``dim`` evaluations),
   ``"block"`` all coordinates at once with per-coordinate scales (target 0.234; one
   evaluation), ``"adaptive"`` all coordinates at once along a per-level full
   covariance learnt while tuning (adaptive Metropolis, Haario, Saksman & Tamminen,
   Bernoulli 7, 223 (2001), with the global scale of Andrieu & Thoms, Stat. Comput. 18,
   343 (2008), Alg. 4; target 0.234; one evaluation):

   .. math::

       x' = x + \lambda_l\, C_l z, \quad z \sim N(0, I), \quad
       C_l C_l^T = (1 - \kappa)\,\hat\Sigma_l + \kappa\,\mathrm{diag}(\hat\Sigma_l),

   with :math:`\hat\Sigma_l` the running covariance of level :math:`l`'s states (used
   once it rests on ``2 dim`` moves, shrunk by :math:`\kappa = 0.05` towards its
   diagonal so that it stays positive definite) and
   :math:`\log\lambda_l` moved by Robbins–Monro towards the target acceptance. It pays
   off when parameters are strongly correlated (areas and widths of overlapping
   peaks, a step and a background). All scales and covariances are frozen when tuning
   ends, so the recorded draws come from a fixed Markov kernel.
2. **swaps** – after each sweep, the deterministic even/odd scheme of non-reversible
   parallel tempering (Syed et al., JRSS B 84, 321 (2022); Pigeons.jl): on odd
   iterations the pairs (0,1), (2,3), ..., on even ones (1,2), (3,4), ... are proposed,
   each accepted with probability (Hukushima & Nemoto, JPSJ 65, 1604 (1996))

   .. math::

       \alpha_l = \min\{1, \exp[(\beta_{l+1} - \beta_l)(\ell(x_l) - \ell(x_{l+1}))]\}.

   The swap probabilities of *every* pair are returned (a Rao–Blackwellised estimate
   of the rejection rates used by the adaptation and the diagnostics).
3. **adaptation** (tuning only) – Robbins–Monro updates of the proposal scales; at
   iterations 32, 64, 128, ... the ladder is moved so that the estimated rejection
   rates :math:`r_l = 1 - \bar\alpha_l` become equal across neighbours: with the
   cumulative barrier :math:`\Lambda(\beta_l) = \sum_{j<l} r_j` interpolated monotonically
   (PCHIP), the new ladder is :math:`\beta'_k = \Lambda^{-1}(k\Lambda(1)/L)`.

Non-finite log-densities (NaN or +inf, e.g. a failed forward model) are treated as
:math:`-\infty` (the proposal is rejected) and counted in ``n_failures``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

import numpy as np
from scipy.interpolate import PchipInterpolator

__all__ = [
    "NO_OVERLAP",
    "LadderState",
    "ParallelTempering",
    "StepInfo",
    "count_round_trips",
    "default_ladder",
    "equalised_ladder",
    "first_level_for_gap",
    "swap_probabilities",
    "validate_ladder",
]

LogDensity = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
Update = Literal["componentwise", "block", "adaptive"]
TARGET_ACCEPTANCE = {"componentwise": 0.44, "block": 0.234, "adaptive": 0.234}
#: Adaptive moves: the Cholesky factor is refreshed every this many tuning iterations,
#: the covariance estimate never forgets faster than this weight per iteration, and it
#: is shrunk by this fraction towards its diagonal before factorising.
CHOLESKY_INTERVAL = 16
MIN_COVARIANCE_WEIGHT = 2e-3
COVARIANCE_SHRINKAGE = 0.05


def default_ladder(n_replicas: int, smallest: float = 1e-4) -> np.ndarray:
    """β_0 = 0 followed by a geometric ladder from ``smallest`` to 1 (the authors' choice).

    Parameters
    ----------
    n_replicas : int
        Number of levels including β = 0 and β = 1 (at least 2).
    smallest : float
        β_1, the first level above the prior.
    """
    if int(n_replicas) != n_replicas or n_replicas < 2:
        raise ValueError(f"n_replicas must be an integer ≥ 2, got {n_replicas!r}")
    if n_replicas == 2:
        return np.array([0.0, 1.0])
    return np.concatenate([[0.0], np.geomspace(smallest, 1.0, int(n_replicas) - 1)])


#: Mean swap probability between the prior and the first tempered level below which
#: the two are taken not to overlap (see ``ParallelTempering._adapt_ladder``).
NO_OVERLAP = 0.01


def first_level_for_gap(gap: float) -> float:
    r"""First tempered level :math:`\beta_1 = 1/\Delta` for a log-likelihood gap Δ.

    Δ is the mean log-likelihood of the posterior level minus that of the prior level.
    A swap between β = 0 and β₁ is accepted with probability
    :math:`\exp[-\beta_1(\ell_1 - \ell_0)]`, so β₁ of order 1/Δ makes the two levels
    overlap. For count data Δ is of the order of the total counts; for Gaussian data of
    n points with noise σ it is of order n·(spread of the prior's curves)²/σ².
    """
    if not np.isfinite(gap) or gap <= 1.0:
        return 1e-2
    return float(max(1.0 / gap, 1e-300))


def validate_ladder(betas: np.ndarray) -> np.ndarray:
    """Check that a ladder is a strictly increasing vector in [0, 1] ending at 1."""
    betas = np.asarray(betas, dtype=float)
    if betas.ndim != 1 or betas.size < 2:
        raise ValueError(f"betas must be a vector of at least 2 levels, got shape {betas.shape}")
    if not np.all(np.isfinite(betas)):
        raise ValueError("betas contain NaN or inf")
    if np.any(np.diff(betas) <= 0):
        raise ValueError(f"betas must be strictly increasing, got {betas}")
    if betas[0] < 0:
        raise ValueError(f"betas must be ≥ 0, got β_0 = {betas[0]}")
    if betas[-1] != 1.0:
        raise ValueError(f"the ladder must end at β = 1 (the posterior), got {betas[-1]}")
    return betas


def swap_probabilities(betas: np.ndarray, log_lik: np.ndarray) -> np.ndarray:
    r"""Acceptance probability of swapping each neighbouring pair of levels.

    :math:`\alpha_l = \min\{1, \exp[(\beta_{l+1}-\beta_l)(\ell_l - \ell_{l+1})]\}`, shape
    ``(L,)``. A pair with a level at :math:`\ell = -\infty` is never swapped into
    (probability 0 when the lower level is at :math:`-\infty`).
    """
    with np.errstate(invalid="ignore"):
        log_ratio = np.diff(betas) * (log_lik[:-1] - log_lik[1:])
    log_ratio = np.where(np.isnan(log_ratio), -np.inf, log_ratio)
    return np.exp(np.minimum(log_ratio, 0.0))


def equalised_ladder(betas: np.ndarray, rejection: np.ndarray) -> np.ndarray:
    r"""Ladder with the same number of levels and equal rejection between neighbours.

    Implements the schedule update of Syed et al. (2022), Algorithm 4: the cumulative
    barrier :math:`\Lambda(\beta)` through the points :math:`(\beta_l, \sum_{j<l} r_j)` is
    interpolated with a monotone cubic (PCHIP) and inverted at equally spaced levels.

    Parameters
    ----------
    betas : ndarray, shape (L+1,)
        Current ladder.
    rejection : ndarray, shape (L,)
        Estimated rejection rate of each neighbouring pair.
    """
    rejection = np.clip(np.asarray(rejection, dtype=float), 1e-6, None)
    barrier = np.concatenate([[0.0], np.cumsum(rejection)])
    inverse = PchipInterpolator(barrier, betas)
    targets = np.linspace(0.0, barrier[-1], betas.size)
    new = inverse(targets)
    new[0], new[-1] = betas[0], betas[-1]
    if np.any(np.diff(new) <= 0):  # only possible through round-off; keep the old ladder
        return betas.copy()
    return new


def count_round_trips(replica_at_level: np.ndarray) -> np.ndarray:
    """Round trips of every replica from the reference (β_0) to the target (β_L) and back.

    Parameters
    ----------
    replica_at_level : ndarray, shape (iterations, levels)
        Which replica sat at each level after each iteration.

    Returns
    -------
    ndarray of int, shape (replicas,)
    """
    replica_at_level = np.asarray(replica_at_level)
    n_replicas = replica_at_level.shape[1]
    last_end = np.full(n_replicas, -1)  # -1 none yet, 0 bottom, 1 top
    trips = np.zeros(n_replicas, dtype=int)
    for row in replica_at_level:
        bottom, top = row[0], row[-1]
        if last_end[top] == 0:
            last_end[top] = 1
        if last_end[bottom] == 1:
            trips[bottom] += 1
        last_end[bottom] = 0
    return trips


@dataclass
class LadderState:
    """State of one ladder; arrays are indexed by level (0 = prior, L = posterior).

    Attributes
    ----------
    x : ndarray, shape (levels, dim)
        Position of the replica at each level.
    log_prior, log_lik : ndarray, shape (levels,)
        Their log-prior and log-likelihood.
    betas : ndarray, shape (levels,)
        Inverse temperatures.
    replica : ndarray of int, shape (levels,)
        Identity of the replica at each level (permuted by swaps).
    scales : ndarray, shape (levels, dim)
        Random-walk proposal scale of each coordinate (componentwise), or the running
        standard deviation of each coordinate at each level (block).
    factor : ndarray, shape (levels,)
        Block moves: the proposal is ``x + factor * scales * z``; adaptive moves:
        ``x + factor * chol @ z``.
    chol : ndarray, shape (levels, dim, dim), optional
        Adaptive moves only: Cholesky factor of each level's proposal covariance.
    iteration : int
        Completed iterations (sets the swap parity).
    n_failures : int
        Non-finite log-density evaluations so far.
    """

    x: np.ndarray
    log_prior: np.ndarray
    log_lik: np.ndarray
    betas: np.ndarray
    replica: np.ndarray
    scales: np.ndarray
    factor: np.ndarray
    iteration: int = 0
    n_failures: int = 0
    chol: np.ndarray | None = None

    @property
    def log_density(self) -> np.ndarray:
        """Tempered log-density of each level."""
        return _tempered(self.log_prior, self.log_lik, self.betas)


class StepInfo(NamedTuple):
    """What one iteration did (all arrays indexed by level or by neighbouring pair)."""

    log_lik: np.ndarray  # (levels,) after the iteration
    swap_probability: np.ndarray  # (levels - 1,) α_l of every pair, last sweep
    swapped: np.ndarray  # (levels - 1,) bool, pairs that exchanged in the last sweep
    acceptance: np.ndarray  # (levels,) mean within-replica acceptance over the sweeps
    replica: np.ndarray  # (levels,) replica identity at each level


def _tempered(log_prior: np.ndarray, log_lik: np.ndarray, betas: np.ndarray) -> np.ndarray:
    """log φ + β ℓ, and -inf wherever either term is not finite."""
    if np.isfinite(log_lik).all() and np.isfinite(log_prior).all():
        return log_prior + betas * log_lik
    ok = np.isfinite(log_prior) & np.isfinite(log_lik)
    with np.errstate(invalid="ignore"):
        return np.where(ok, log_prior + betas * log_lik, -np.inf)


@dataclass
class _Adaptation:
    """Tuning accumulators (reset at each ladder update)."""

    tuning_steps: int = 0
    since_ladder_update: int = 0
    swap_sum: np.ndarray = field(default_factory=lambda: np.zeros(0))
    log_lik_sum: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per level
    next_ladder_update: int = 32
    mean: np.ndarray = field(default_factory=lambda: np.zeros(0))  # block moves: running
    var: np.ndarray = field(default_factory=lambda: np.zeros(0))  # moments per level
    covariance: np.ndarray = field(default_factory=lambda: np.zeros(0))  # adaptive moves
    moves: int = 0  # adaptive moves made while tuning


class ParallelTempering:
    """Non-reversible parallel tempering kernel on a NumPy log-density.

    Parameters
    ----------
    log_density : callable
        ``log_density(X) -> (log_prior, log_likelihood)``, ``X`` of shape
        ``(levels, dim)``; both outputs of shape ``(levels,)``.
    betas : array_like, optional
        Fixed starting ladder (strictly increasing, ending at 1).
    n_replicas : int
        Number of levels when ``betas`` is not given (default ladder: 0 then geometric).
    update : {"componentwise", "block", "adaptive"}
        Within-replica random-walk Metropolis variant (see the module docstring).
    n_sweeps : int
        Metropolis sweeps (each followed by a swap round) per iteration.
    adapt_ladder : bool
        Move the ladder during tuning to equalise swap rejection.
    initial_scale : float
        Starting random-walk scale of every coordinate.
    swap_rule : callable
        ``swap_rule(betas, log_lik) -> probabilities`` of swapping each neighbouring
        pair; :func:`swap_probabilities` (the only correct rule). Replaceable so that tests
        can show a wrong rule is caught.
    """

    def __init__(
        self,
        log_density: LogDensity,
        *,
        betas: np.ndarray | None = None,
        n_replicas: int = 32,
        update: Update = "componentwise",
        n_sweeps: int = 1,
        adapt_ladder: bool = True,
        initial_scale: float = 1.0,
        swap_rule: Callable[[np.ndarray, np.ndarray], np.ndarray] = swap_probabilities,
    ) -> None:
        if update not in TARGET_ACCEPTANCE:
            raise ValueError(f"update must be one of {sorted(TARGET_ACCEPTANCE)}, got {update!r}")
        if int(n_sweeps) != n_sweeps or n_sweeps < 1:
            raise ValueError(f"n_sweeps must be a positive integer, got {n_sweeps!r}")
        if not initial_scale > 0:
            raise ValueError(f"initial_scale must be positive, got {initial_scale!r}")
        self.log_density = log_density
        self.initial_betas = default_ladder(n_replicas) if betas is None else validate_ladder(betas)
        self.update = update
        self.target_acceptance = TARGET_ACCEPTANCE[update]
        self.n_sweeps = int(n_sweeps)
        self.adapt_ladder = adapt_ladder
        self.initial_scale = float(initial_scale)
        self.swap_rule = swap_rule
        self.adaptation = _Adaptation()

    @property
    def n_levels(self) -> int:
        return self.initial_betas.size

    # -- life cycle ---------------------------------------------------------------
    def init(self, x0: np.ndarray) -> LadderState:
        """Start every level at ``x0`` (shape ``(dim,)``) or at the rows of ``x0``.

        Raises
        ------
        ValueError
            If a starting log-density is not finite.
        """
        x0 = np.asarray(x0, dtype=float)
        x = np.array(np.broadcast_to(x0, (self.n_levels, x0.shape[-1])))
        log_prior, log_lik = self._evaluate(x)
        bad = ~(np.isfinite(log_prior) & np.isfinite(log_lik))
        if bad.any():
            raise ValueError(
                "the log-density is not finite at the initial point "
                f"(log-prior {log_prior[bad][0]}, log-likelihood {log_lik[bad][0]})"
            )
        dim = x.shape[1]
        self.adaptation = _Adaptation(
            swap_sum=np.zeros(self.n_levels - 1),
            log_lik_sum=np.zeros(self.n_levels),
            mean=x.copy(),
            var=np.full(x.shape, self.initial_scale**2),
            covariance=np.zeros((self.n_levels, dim, dim) if self.update == "adaptive" else 0),
        )
        return LadderState(
            x=x,
            log_prior=log_prior,
            log_lik=log_lik,
            betas=self.initial_betas.copy(),
            replica=np.arange(self.n_levels),
            scales=np.full(x.shape, self.initial_scale),
            factor=np.full(self.n_levels, 2.38 / np.sqrt(dim)),
            chol=(
                np.tile(np.eye(dim) * self.initial_scale, (self.n_levels, 1, 1))
                if self.update == "adaptive"
                else None
            ),
        )

    def step(self, rng: np.random.Generator, state: LadderState, tune: bool) -> StepInfo:
        """One iteration: ``n_sweeps`` × (moves, swaps), then adaptation when tuning."""
        acceptance = np.zeros(self.n_levels)
        for _ in range(self.n_sweeps):
            if self.update == "componentwise":
                accepted = self._componentwise_sweep(rng, state, tune)
            elif self.update == "block":
                accepted = self._block_move(rng, state, tune)
            else:
                accepted = self._adaptive_move(rng, state, tune)
            acceptance += accepted
            probability, swapped = self._swap(rng, state)
            state.iteration += 1
        if tune:
            self._adapt_ladder(state, probability)
        return StepInfo(
            log_lik=state.log_lik.copy(),
            swap_probability=probability,
            swapped=swapped,
            acceptance=acceptance / self.n_sweeps,
            replica=state.replica.copy(),
        )

    # -- pieces -------------------------------------------------------------------
    def _evaluate(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        log_prior, log_lik = self.log_density(x)
        return np.asarray(log_prior, dtype=float), np.asarray(log_lik, dtype=float)

    def _evaluate_counted(self, state: LadderState, x: np.ndarray):
        log_prior, log_lik = self._evaluate(x)
        if not (np.isfinite(log_prior).all() and np.isfinite(log_lik).all()):
            failed = np.isnan(log_prior) | np.isnan(log_lik)
            failed |= (log_prior == np.inf) | (log_lik == np.inf)
            state.n_failures += int(failed.sum())
        return log_prior, log_lik

    def _learning_rate(self) -> float:
        return 0.5 / (1.0 + self.adaptation.since_ladder_update / 50.0) ** 0.6

    def _metropolis(self, rng, state, proposal):
        """Accept or reject ``proposal`` at every level; the current density is finite."""
        log_prior, log_lik = self._evaluate_counted(state, proposal)
        log_alpha = _tempered(log_prior, log_lik, state.betas) - state.log_density
        alpha = np.exp(np.minimum(log_alpha, 0.0))
        accept = rng.random(alpha.size) < alpha
        state.x[accept] = proposal[accept]
        state.log_prior[accept] = log_prior[accept]
        state.log_lik[accept] = log_lik[accept]
        return accept, alpha

    def _componentwise_sweep(self, rng, state, tune) -> np.ndarray:
        dim = state.x.shape[1]
        accepted = np.zeros(self.n_levels)
        for j in rng.permutation(dim):
            proposal = state.x.copy()
            proposal[:, j] += state.scales[:, j] * rng.standard_normal(self.n_levels)
            accept, alpha = self._metropolis(rng, state, proposal)
            accepted += accept
            if tune:
                state.scales[:, j] *= np.exp(
                    self._learning_rate() * (alpha - self.target_acceptance)
                )
        return accepted / dim

    def _block_move(self, rng, state, tune) -> np.ndarray:
        step = state.factor[:, None] * state.scales * rng.standard_normal(state.x.shape)
        accept, alpha = self._metropolis(rng, state, state.x + step)
        if tune:
            state.factor *= np.exp(self._learning_rate() * (alpha - self.target_acceptance))
            # Running moments of each level's coordinates set the proposal's shape.
            moments = self.adaptation
            delta = state.x - moments.mean
            moments.mean += 0.05 * delta
            moments.var = 0.95 * (moments.var + 0.05 * delta**2)
            state.scales = np.sqrt(np.maximum(moments.var, 1e-24))
        return accept.astype(float)

    def _adaptive_move(self, rng, state, tune) -> np.ndarray:
        if state.chol is None:
            raise ValueError("adaptive moves need a state made by an adaptive kernel's init")
        z = rng.standard_normal(state.x.shape)
        step = state.factor[:, None] * np.einsum("lij,lj->li", state.chol, z)
        accept, alpha = self._metropolis(rng, state, state.x + step)
        if tune:
            state.factor *= np.exp(self._learning_rate() * (alpha - self.target_acceptance))
            self._update_covariance(state)
        return accept.astype(float)

    def _update_covariance(self, state: LadderState) -> None:
        r"""Running mean and covariance of every level; a new Cholesky factor now and then.

        The weight :math:`\max(1/n, w_\min)` averages over all tuning moves at first and
        then forgets slowly, so the estimate follows the ladder as it moves. When the
        learnt covariance is first used, the global scale restarts at the optimal
        :math:`2.38/\sqrt{d}` for a Gaussian target. A level whose covariance is not
        positive definite keeps its previous factor.
        """
        moments = self.adaptation
        moments.moves += 1
        weight = max(1.0 / moments.moves, MIN_COVARIANCE_WEIGHT)
        delta = state.x - moments.mean
        moments.mean += weight * delta
        moments.covariance = (1.0 - weight) * (
            moments.covariance + weight * np.einsum("li,lj->lij", delta, delta)
        )
        dim = state.x.shape[1]
        if moments.moves % CHOLESKY_INTERVAL or moments.moves < 2 * dim:
            return
        diagonal = np.einsum("lii->li", moments.covariance)
        regular = (1.0 - COVARIANCE_SHRINKAGE) * moments.covariance
        regular[:, np.arange(dim), np.arange(dim)] += COVARIANCE_SHRINKAGE * diagonal
        first = moments.moves < 2 * dim + CHOLESKY_INTERVAL  # the first factorisation
        for level, matrix in enumerate(regular):
            try:
                state.chol[level] = np.linalg.cholesky(matrix)
            except np.linalg.LinAlgError:
                continue
            if first:  # from the starting isotropic proposal to the learnt shape
                state.factor[level] = 2.38 / np.sqrt(dim)

    def _swap(self, rng, state) -> tuple[np.ndarray, np.ndarray]:
        probability = self.swap_rule(state.betas, state.log_lik)
        pairs = np.zeros(self.n_levels - 1, dtype=bool)
        pairs[state.iteration % 2 :: 2] = True
        swapped = pairs & (rng.uniform(size=pairs.size) < probability)
        lower = np.flatnonzero(swapped)
        upper = lower + 1
        for array in (state.x, state.log_prior, state.log_lik, state.replica):
            array[lower], array[upper] = array[upper].copy(), array[lower].copy()
        return probability, swapped

    def _adapt_ladder(self, state: LadderState, probability: np.ndarray) -> None:
        """Every doubling window of tuning: lower the ladder's start or equalise it.

        When the prior level and the first tempered level hardly ever swap (mean
        probability below :data:`NO_OVERLAP`), rejection rates cannot say how far apart
        they are (a rejection rate saturates at 1), so equalising would leave the gap;
        the ladder is then restarted geometrically from :func:`first_level_for_gap`.
        Otherwise it is equalised (:func:`equalised_ladder`).
        """
        adaptation = self.adaptation
        adaptation.tuning_steps += 1
        adaptation.since_ladder_update += 1
        adaptation.swap_sum += probability
        adaptation.log_lik_sum += state.log_lik
        if not self.adapt_ladder or adaptation.tuning_steps < adaptation.next_ladder_update:
            return
        window = adaptation.since_ladder_update
        swap_rate = adaptation.swap_sum / window
        mean_log_lik = adaptation.log_lik_sum / window
        if state.betas[0] == 0.0 and swap_rate[0] < NO_OVERLAP and self.n_levels > 2:
            smallest = min(
                state.betas[1] / 10.0, first_level_for_gap(mean_log_lik[-1] - mean_log_lik[0])
            )
            state.betas = default_ladder(self.n_levels, smallest)
        else:
            state.betas = equalised_ladder(state.betas, 1.0 - swap_rate)
        adaptation.next_ladder_update *= 2
        adaptation.since_ladder_update = 0
        adaptation.swap_sum[:] = 0.0
        adaptation.log_lik_sum[:] = 0.0
