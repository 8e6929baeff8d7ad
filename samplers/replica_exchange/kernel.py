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

The kernel has the shape of a blackjax kernel: :class:`ParallelTempering` is the
configuration only (log-density, update kind, sweeps, adaptation flag, swap rule);
``init(x0, rng) -> state`` and ``step(state, tune) -> (state, info)`` pass an immutable
:class:`LadderState` that carries everything a run needs to continue (positions,
densities, ladder, replica map, proposal scales and covariance factors, every tuning
accumulator, counters and the random generator's state). One kernel therefore runs any
number of ladders, and a ladder saved to disk continues bit for bit.

One iteration (:meth:`ParallelTempering.step`) runs, in this order (the gradient moves
live in :mod:`samplers.replica_exchange.gradient_moves`):

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
   peaks, a step and a background).

   Two updates follow the gradient of the tempered density,
   :math:`g_l(x) = \nabla\log\varphi(x) + \beta_l\nabla\ell(x)`, which they get from a
   second batched function ``gradient(X) -> (log_prior, log_lik, grad_log_prior,
   grad_log_lik)`` (gradients of shape ``(replicas, dim)``). Both are preconditioned by
   :math:`S_l = \mathrm{diag}(s_l)`, the running standard deviations of level
   :math:`l`'s coordinates that the block move keeps, and have a per-level step size
   :math:`\epsilon_l` moved by Robbins–Monro towards the target acceptance.
   ``"mala"`` is the Metropolis-adjusted Langevin algorithm (Roberts & Tweedie,
   Bernoulli 2, 341 (1996); target 0.574, Roberts & Rosenthal, JRSS B 60, 255 (1998);
   one gradient evaluation):

   .. math::

       x' = x + \tfrac{\epsilon_l^2}{2} S_l^2 g_l(x) + \epsilon_l S_l z, \qquad
       \log\alpha = \log\pi_l(x') - \log\pi_l(x) + \log q(x|x') - \log q(x'|x),

   with :math:`q(x'|x) \propto \exp(-\lVert S_l^{-1}(x' - x - \tfrac{\epsilon_l^2}{2}
   S_l^2 g_l(x))\rVert^2 / 2\epsilon_l^2)`. ``"hmc"`` is Hamiltonian Monte Carlo
   (Duane, Kennedy, Pendleton & Roweth, Phys. Lett. B 195, 216 (1987); Neal, "MCMC using
   Hamiltonian dynamics", Handbook of MCMC (2011)) with mass matrix :math:`S_l^{-2}`:
   :data:`~samplers.replica_exchange.gradient_moves.HMC_STEPS` leapfrog steps of size
   :math:`\epsilon_l u`, :math:`u \sim U(0.8, 1.2)` drawn per move and level
   (the jitter breaks periodic trajectories), accepted with probability
   :math:`\min\{1, e^{-\Delta H}\}` (target 0.65, Beskos et al., Bernoulli 19, 1501
   (2013); that many gradient evaluations). The gradient
   at the current position of every replica is kept in the state (by replica, with the
   position it belongs to), so MALA costs one gradient evaluation per move.

   All scales, step sizes and covariances are frozen when tuning ends, so the recorded
   draws come from a fixed Markov kernel.
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

With a ``reference_sampler`` (a path that starts from a normalised reference :math:`q`
instead of the prior, :mod:`samplers.replica_exchange.path_reference`), the first
proposal of every sweep at level 0 (when :math:`\beta_0 = 0`) is an exact draw from
:math:`q`, accepted whenever its log-density is finite (an independence proposal from
the level's own target has Metropolis ratio 1), so the reference level mixes over all of
:math:`q` at once.

Non-finite log-densities (NaN or +inf, e.g. a failed forward model) are treated as
:math:`-\infty` (the proposal is rejected) and counted in ``n_failures``; so are
non-finite gradients at a point of finite density (gradient updates).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, NamedTuple

import numpy as np

from .gradient_moves import GRADIENT_UPDATES, GradientMoves
from .ladder import (
    NO_OVERLAP,
    default_ladder,
    equalised_ladder,
    first_level_for_gap,
    swap_probabilities,
    validate_ladder,
)
from .ladder import (
    tempered_log_density as _tempered,
)

__all__ = [
    "GRADIENT_UPDATES",
    "TARGET_ACCEPTANCE",
    "UPDATES",
    "AdaptationState",
    "LadderState",
    "ParallelTempering",
    "StepInfo",
    "generator_from_state",
]

LogDensity = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
Gradient = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]
Update = Literal["componentwise", "block", "adaptive", "mala", "hmc"]
#: Target acceptance rate of each update, to which its step sizes are adapted.
TARGET_ACCEPTANCE = {
    "componentwise": 0.44,
    "block": 0.234,
    "adaptive": 0.234,
    "mala": 0.574,
    "hmc": 0.65,
}
#: Every update (the move inside each replica).
UPDATES = tuple(TARGET_ACCEPTANCE)
#: Adaptive moves: the Cholesky factor is refreshed every this many tuning iterations,
#: the covariance estimate never forgets faster than this weight per iteration, and it
#: is shrunk by this fraction towards its diagonal before factorising.
CHOLESKY_INTERVAL = 16
MIN_COVARIANCE_WEIGHT = 2e-3
COVARIANCE_SHRINKAGE = 0.05


class AdaptationState(NamedTuple):
    """Tuning accumulators of one ladder (the window sums restart at every ladder update).

    Attributes
    ----------
    tuning_steps : int
        Tuning iterations so far.
    since_ladder_update : int
        Tuning iterations since the ladder last moved (sets the Robbins–Monro rate).
    next_ladder_update : int
        Tuning iteration after which the ladder moves next (32, 64, 128, ...).
    swap_sum : ndarray, shape (levels - 1,)
        Sum of every pair's swap probability since the last ladder update.
    log_lik_sum : ndarray, shape (levels,)
        Sum of every level's log-likelihood since the last ladder update.
    mean, var : ndarray, shape (levels, dim)
        Running moments of every level's coordinates (block moves; adaptive moves use
        ``mean``).
    covariance : ndarray, shape (levels, dim, dim), or (0, 0, 0)
        Adaptive moves: running covariance of every level (empty for the other updates).
    moves : int
        Adaptive moves made while tuning.
    """

    tuning_steps: int
    since_ladder_update: int
    next_ladder_update: int
    swap_sum: np.ndarray
    log_lik_sum: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    covariance: np.ndarray
    moves: int


class LadderState(NamedTuple):
    """Everything one ladder needs to continue; arrays are indexed by level (0 = prior,
    L = posterior) and read-only. :meth:`ParallelTempering.step` returns a new state and
    never changes the one it is given.

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
    chol : ndarray, shape (levels, dim, dim), or (0, 0, 0)
        Adaptive moves: Cholesky factor of each level's proposal covariance (empty for the
        other updates).
    gradients : ndarray, shape (levels, 3, dim), or (0, 0, 0)
        Gradient updates: for each *replica* (row ``replica[l]`` belongs to level ``l``'s
        position), the position the gradients were evaluated at, the gradient of the
        log-prior and that of the log-likelihood (NaN rows: not evaluated yet; empty for
        the other updates). MALA and HMC take the step size from ``factor`` and the
        preconditioner from ``scales``.
    iteration : int
        Completed sweeps (sets the swap parity).
    n_failures : int
        Non-finite log-density evaluations so far.
    adaptation : AdaptationState
        The tuning accumulators.
    rng_state : dict
        State of the NumPy bit generator the next iteration draws from
        (``numpy.random.Generator.bit_generator.state``).
    """

    x: np.ndarray
    log_prior: np.ndarray
    log_lik: np.ndarray
    betas: np.ndarray
    replica: np.ndarray
    scales: np.ndarray
    factor: np.ndarray
    chol: np.ndarray
    gradients: np.ndarray
    iteration: int
    n_failures: int
    adaptation: AdaptationState
    rng_state: dict

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


#: Seeds the bit generator that :func:`generator_from_state` then sets to a saved state
#: (a ready SeedSequence is cheaper to seed from than an integer; it is only read).
_PLACEHOLDER_SEED = np.random.SeedSequence(0)


def generator_from_state(rng_state: dict) -> np.random.Generator:
    """A NumPy generator that continues from ``rng_state`` (a ``bit_generator.state``)."""
    name = rng_state.get("bit_generator") if isinstance(rng_state, dict) else None
    bit_generator_class = getattr(np.random, str(name), None)
    if not (
        isinstance(bit_generator_class, type)
        and issubclass(bit_generator_class, np.random.BitGenerator)
    ):
        raise ValueError(f"not the state of a NumPy bit generator: {rng_state!r}")
    bit_generator = bit_generator_class(_PLACEHOLDER_SEED)  # overwritten on the next line
    bit_generator.state = rng_state
    return np.random.Generator(bit_generator)


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


class _Sweep:
    """Writable copies of the parts of a :class:`LadderState` that one iteration changes.

    Moves and swaps change positions, densities and the replica map; only tuning
    changes the proposals, the ladder and the accumulators, so those are copied only
    then (the read-only arrays of the input state are shared otherwise).
    """

    def __init__(self, state: LadderState, tune: bool) -> None:
        def own(array):
            return np.array(array) if tune else array

        adaptation = state.adaptation
        self.x = np.array(state.x)
        self.log_prior = np.array(state.log_prior)
        self.log_lik = np.array(state.log_lik)
        self.replica = np.array(state.replica)
        self.betas = state.betas
        self.scales, self.factor, self.chol = own(state.scales), own(state.factor), own(state.chol)
        self.gradients = np.array(state.gradients)
        self.iteration, self.n_failures = int(state.iteration), int(state.n_failures)
        self.tuning_steps = int(adaptation.tuning_steps)
        self.since_ladder_update = int(adaptation.since_ladder_update)
        self.next_ladder_update = int(adaptation.next_ladder_update)
        self.swap_sum, self.log_lik_sum = own(adaptation.swap_sum), own(adaptation.log_lik_sum)
        self.mean, self.var = own(adaptation.mean), own(adaptation.var)
        self.covariance, self.moves = own(adaptation.covariance), int(adaptation.moves)

    @property
    def log_density(self) -> np.ndarray:
        return _tempered(self.log_prior, self.log_lik, self.betas)

    def freeze(self, rng: np.random.Generator) -> LadderState:
        adaptation = AdaptationState(
            tuning_steps=self.tuning_steps,
            since_ladder_update=self.since_ladder_update,
            next_ladder_update=self.next_ladder_update,
            swap_sum=_read_only(self.swap_sum),
            log_lik_sum=_read_only(self.log_lik_sum),
            mean=_read_only(self.mean),
            var=_read_only(self.var),
            covariance=_read_only(self.covariance),
            moves=self.moves,
        )
        return LadderState(
            x=_read_only(self.x),
            log_prior=_read_only(self.log_prior),
            log_lik=_read_only(self.log_lik),
            betas=_read_only(self.betas),
            replica=_read_only(self.replica),
            scales=_read_only(self.scales),
            factor=_read_only(self.factor),
            chol=_read_only(self.chol),
            gradients=_read_only(self.gradients),
            iteration=self.iteration,
            n_failures=self.n_failures,
            adaptation=adaptation,
            rng_state=rng.bit_generator.state,
        )


class ParallelTempering(GradientMoves):
    """Non-reversible parallel tempering kernel on a NumPy log-density.

    The kernel is the configuration only; everything a run needs to continue (positions,
    ladder, proposals, tuning accumulators, the random generator) lives in the immutable
    :class:`LadderState` that :meth:`init` makes and :meth:`step` takes and returns, so
    one kernel runs any number of ladders and a state can be written to disk.

    Parameters
    ----------
    log_density : callable
        ``log_density(X) -> (log_prior, log_likelihood)``, ``X`` of shape
        ``(levels, dim)``; both outputs of shape ``(levels,)``.
    betas : array_like, optional
        Starting ladder (strictly increasing, ending at 1).
    n_replicas : int
        Number of levels when ``betas`` is not given (default ladder: 0 then geometric).
    update : {"componentwise", "block", "adaptive", "mala", "hmc"}
        Within-replica move: a random-walk Metropolis variant or a gradient move (see the
        module docstring).
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
    reference_sampler : callable, optional
        ``reference_sampler(rng) -> x`` (shape ``(dim,)``): an exact draw from the
        normalised density that ``log_density``'s first output is (the path's start);
        level 0 then proposes it once per sweep. ``None`` (the prior path): level 0
        moves by random walk like the others.
    gradient : callable, optional
        ``gradient(X) -> (log_prior, log_lik, grad_log_prior, grad_log_lik)``, the last
        two of shape ``(levels, dim)``, the values the same as ``log_density``'s; needed
        by ``"mala"`` and ``"hmc"`` only (whose acceptance uses these values). By default
        ``log_density.gradient``, looked up at every use.

    Raises
    ------
    ValueError
        An unknown update, bad settings, or a gradient update without a gradient.
    """

    #: Test-only hook: False drops the proposal-density ratio of MALA and the energy
    #: error of HMC from the acceptance (a sampler that is no longer exact).
    _exact_acceptance = True

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
        reference_sampler: Callable[[np.random.Generator], np.ndarray] | None = None,
        gradient: Gradient | None = None,
    ) -> None:
        if update not in UPDATES:
            raise ValueError(f"update must be one of {list(UPDATES)}, got {update!r}")
        if int(n_sweeps) != n_sweeps or n_sweeps < 1:
            raise ValueError(f"n_sweeps must be a positive integer, got {n_sweeps!r}")
        if not initial_scale > 0:
            raise ValueError(f"initial_scale must be positive, got {initial_scale!r}")
        self.log_density = log_density
        self._gradient = gradient
        if update in GRADIENT_UPDATES:
            self._gradient_function(update)  # a clear error now rather than at the first move
        self.initial_betas = default_ladder(n_replicas) if betas is None else validate_ladder(betas)
        self.update = update
        self.target_acceptance = TARGET_ACCEPTANCE[update]
        self.n_sweeps = int(n_sweeps)
        self.adapt_ladder = adapt_ladder
        self.initial_scale = float(initial_scale)
        self.swap_rule = swap_rule
        self.reference_sampler = reference_sampler

    @property
    def gradient(self) -> Gradient | None:
        """The gradient function: the one given, else ``log_density.gradient`` (looked up
        on every use, so a ``log_density`` replaced later brings its own), else None."""
        if self._gradient is not None:
            return self._gradient
        return getattr(self.log_density, "gradient", None)

    def _gradient_function(self, update: str) -> Gradient:
        gradient = self.gradient
        if not callable(gradient):
            raise ValueError(
                f"update={update!r} follows the gradient of the log-density, but none was "
                "given: pass gradient=... or a log_density with a gradient method"
            )
        return gradient

    @property
    def n_levels(self) -> int:
        return self.initial_betas.size

    # -- life cycle ---------------------------------------------------------------
    def init(self, x0: np.ndarray, rng: np.random.Generator) -> LadderState:
        """Start every level at ``x0`` (shape ``(dim,)``) or at the rows of ``x0``.

        ``rng`` seeds the ladder: its current state is copied into the state (``rng``
        itself is not advanced).

        Raises
        ------
        ValueError
            If a starting log-density is not finite.
        """
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
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
        adaptive = self.update == "adaptive"
        matrices = (self.n_levels, dim, dim) if adaptive else (0, 0, 0)
        sweep = _Sweep.__new__(_Sweep)
        sweep.x, sweep.log_prior, sweep.log_lik = x, log_prior, log_lik
        sweep.betas = self.initial_betas.copy()
        sweep.replica = np.arange(self.n_levels)
        sweep.scales = np.full(x.shape, self.initial_scale)
        sweep.factor = np.full(self.n_levels, 2.38 / np.sqrt(dim))
        sweep.chol = (
            np.tile(np.eye(dim) * self.initial_scale, (self.n_levels, 1, 1))
            if adaptive
            else np.zeros(matrices)
        )
        sweep.gradients = self._unevaluated_gradients(x.shape)
        sweep.iteration = sweep.n_failures = 0
        sweep.tuning_steps = sweep.since_ladder_update = sweep.moves = 0
        sweep.next_ladder_update = 32
        sweep.swap_sum = np.zeros(self.n_levels - 1)
        sweep.log_lik_sum = np.zeros(self.n_levels)
        sweep.mean = x.copy()
        sweep.var = np.full(x.shape, self.initial_scale**2)
        sweep.covariance = np.zeros(matrices)
        return sweep.freeze(rng)

    def step(self, state: LadderState, tune: bool) -> tuple[LadderState, StepInfo]:
        """One iteration: ``n_sweeps`` × (moves, swaps), then adaptation when tuning.

        Returns the new state and what the iteration did; ``state`` is left as it was.
        """
        if self.update == "adaptive" and state.chol.shape != (*state.x.shape, state.x.shape[1]):
            raise ValueError("adaptive moves need a state made by an adaptive kernel's init")
        if self.update in GRADIENT_UPDATES and state.gradients.shape != (
            state.x.shape[0],
            3,
            state.x.shape[1],
        ):
            raise ValueError(
                f"{self.update} moves need a state made by a gradient kernel's init "
                f"(update in {GRADIENT_UPDATES})"
            )
        rng = generator_from_state(state.rng_state)
        sweep = _Sweep(state, tune)
        acceptance = np.zeros(state.betas.size)
        for _ in range(self.n_sweeps):
            if self.update == "componentwise":
                accepted = self._componentwise_sweep(rng, sweep, tune)
            elif self.update == "block":
                accepted = self._block_move(rng, sweep, tune)
            elif self.update == "mala":
                accepted = self._mala_move(rng, sweep, tune)
            elif self.update == "hmc":
                accepted = self._hmc_move(rng, sweep, tune)
            else:
                accepted = self._adaptive_move(rng, sweep, tune)
            acceptance += accepted
            probability, swapped = self._swap(rng, sweep)
            sweep.iteration += 1
        if tune:
            self._adapt_ladder(sweep, probability)
        new = sweep.freeze(rng)
        info = StepInfo(
            log_lik=new.log_lik,
            swap_probability=probability,
            swapped=swapped,
            acceptance=acceptance / self.n_sweeps,
            replica=new.replica,
        )
        return new, info

    # -- pieces (each works on the writable copies of one iteration) ---------------
    def _evaluate(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        log_prior, log_lik = self.log_density(x)
        return np.asarray(log_prior, dtype=float), np.asarray(log_lik, dtype=float)

    def _evaluate_counted(self, sweep: _Sweep, x: np.ndarray):
        log_prior, log_lik = self._evaluate(x)
        if not (np.isfinite(log_prior).all() and np.isfinite(log_lik).all()):
            failed = np.isnan(log_prior) | np.isnan(log_lik)
            failed |= (log_prior == np.inf) | (log_lik == np.inf)
            sweep.n_failures += int(failed.sum())
        return log_prior, log_lik

    @staticmethod
    def _learning_rate(sweep: _Sweep) -> float:
        return 0.5 / (1.0 + sweep.since_ladder_update / 50.0) ** 0.6

    def _metropolis(self, rng, sweep, proposal, reference_draw: bool = True):
        """Accept or reject ``proposal`` at every level; the current density is finite.

        With ``reference_draw`` and a reference sampler (β_0 = 0), level 0's proposal is
        first replaced by an exact draw from its target (the reference), accepted
        whenever its density is finite; its returned acceptance probability is then the
        target rate, so that level 0's proposal scale learns only from random-walk moves.
        """
        independent = (
            reference_draw and self.reference_sampler is not None and sweep.betas[0] == 0.0
        )
        if independent:
            proposal[0] = self.reference_sampler(rng)
        log_prior, log_lik = self._evaluate_counted(sweep, proposal)
        log_alpha = _tempered(log_prior, log_lik, sweep.betas) - sweep.log_density
        if independent:
            log_alpha[0] = 0.0 if np.isfinite(log_alpha[0]) else -np.inf
        alpha = np.exp(np.minimum(log_alpha, 0.0))
        accept = rng.random(alpha.size) < alpha
        sweep.x[accept] = proposal[accept]
        sweep.log_prior[accept] = log_prior[accept]
        sweep.log_lik[accept] = log_lik[accept]
        if independent:
            alpha[0] = self.target_acceptance
        return accept, alpha

    def _componentwise_sweep(self, rng, sweep, tune) -> np.ndarray:
        levels, dim = sweep.x.shape
        accepted = np.zeros(levels)
        for number, j in enumerate(rng.permutation(dim)):
            proposal = sweep.x.copy()
            proposal[:, j] += sweep.scales[:, j] * rng.standard_normal(levels)
            # one exact reference draw per sweep, in the first coordinate's move
            accept, alpha = self._metropolis(rng, sweep, proposal, reference_draw=number == 0)
            accepted += accept
            if tune:
                sweep.scales[:, j] *= np.exp(
                    self._learning_rate(sweep) * (alpha - self.target_acceptance)
                )
        return accepted / dim

    def _block_move(self, rng, sweep, tune) -> np.ndarray:
        step = sweep.factor[:, None] * sweep.scales * rng.standard_normal(sweep.x.shape)
        accept, alpha = self._metropolis(rng, sweep, sweep.x + step)
        if tune:
            self._adapt_factor_and_scales(sweep, alpha)
        return accept.astype(float)

    def _adapt_factor_and_scales(self, sweep: _Sweep, alpha: np.ndarray) -> None:
        """Robbins–Monro on each level's step factor; each level's coordinate scales from
        the running moments of its coordinates (block and gradient moves)."""
        sweep.factor *= np.exp(self._learning_rate(sweep) * (alpha - self.target_acceptance))
        delta = sweep.x - sweep.mean
        sweep.mean += 0.05 * delta
        sweep.var = 0.95 * (sweep.var + 0.05 * delta**2)
        sweep.scales = np.sqrt(np.maximum(sweep.var, 1e-24))

    def _adaptive_move(self, rng, sweep, tune) -> np.ndarray:
        z = rng.standard_normal(sweep.x.shape)
        step = sweep.factor[:, None] * np.einsum("lij,lj->li", sweep.chol, z)
        accept, alpha = self._metropolis(rng, sweep, sweep.x + step)
        if tune:
            sweep.factor *= np.exp(self._learning_rate(sweep) * (alpha - self.target_acceptance))
            self._update_covariance(sweep)
        return accept.astype(float)

    def _update_covariance(self, sweep: _Sweep) -> None:
        r"""Running mean and covariance of every level; a new Cholesky factor now and then.

        The weight :math:`\max(1/n, w_\min)` averages over all tuning moves at first and
        then forgets slowly, so the estimate follows the ladder as it moves. When the
        learnt covariance is first used, the global scale restarts at the optimal
        :math:`2.38/\sqrt{d}` for a Gaussian target. A level whose covariance is not
        positive definite keeps its previous factor.
        """
        sweep.moves += 1
        weight = max(1.0 / sweep.moves, MIN_COVARIANCE_WEIGHT)
        delta = sweep.x - sweep.mean
        sweep.mean += weight * delta
        sweep.covariance = (1.0 - weight) * (
            sweep.covariance + weight * np.einsum("li,lj->lij", delta, delta)
        )
        dim = sweep.x.shape[1]
        if sweep.moves % CHOLESKY_INTERVAL or sweep.moves < 2 * dim:
            return
        diagonal = np.einsum("lii->li", sweep.covariance)
        regular = (1.0 - COVARIANCE_SHRINKAGE) * sweep.covariance
        regular[:, np.arange(dim), np.arange(dim)] += COVARIANCE_SHRINKAGE * diagonal
        first = sweep.moves < 2 * dim + CHOLESKY_INTERVAL  # the first factorisation
        for level, matrix in enumerate(regular):
            try:
                sweep.chol[level] = np.linalg.cholesky(matrix)
            except np.linalg.LinAlgError:
                continue
            if first:  # from the starting isotropic proposal to the learnt shape
                sweep.factor[level] = 2.38 / np.sqrt(dim)

    # -- gradient moves -----------------------------------------------------------------
    # -- swaps and ladder -----------------------------------------------------------------
    def _swap(self, rng, sweep) -> tuple[np.ndarray, np.ndarray]:
        probability = self.swap_rule(sweep.betas, sweep.log_lik)
        pairs = np.zeros(sweep.betas.size - 1, dtype=bool)
        pairs[sweep.iteration % 2 :: 2] = True
        swapped = pairs & (rng.uniform(size=pairs.size) < probability)
        lower = np.flatnonzero(swapped)
        upper = lower + 1
        for array in (sweep.x, sweep.log_prior, sweep.log_lik, sweep.replica):
            array[lower], array[upper] = array[upper].copy(), array[lower].copy()
        return probability, swapped

    def _adapt_ladder(self, sweep: _Sweep, probability: np.ndarray) -> None:
        """Every doubling window of tuning: lower the ladder's start or equalise it.

        When the prior level and the first tempered level hardly ever swap (mean
        probability below :data:`NO_OVERLAP`), rejection rates cannot say how far apart
        they are (a rejection rate saturates at 1), so equalising would leave the gap;
        the ladder is then restarted geometrically from :func:`first_level_for_gap`.
        Otherwise it is equalised (:func:`equalised_ladder`).
        """
        sweep.tuning_steps += 1
        sweep.since_ladder_update += 1
        sweep.swap_sum += probability
        sweep.log_lik_sum += sweep.log_lik
        if not self.adapt_ladder or sweep.tuning_steps < sweep.next_ladder_update:
            return
        window = sweep.since_ladder_update
        swap_rate = sweep.swap_sum / window
        mean_log_lik = sweep.log_lik_sum / window
        levels = sweep.betas.size
        if sweep.betas[0] == 0.0 and swap_rate[0] < NO_OVERLAP and levels > 2:
            smallest = min(
                sweep.betas[1] / 10.0, first_level_for_gap(mean_log_lik[-1] - mean_log_lik[0])
            )
            sweep.betas = default_ladder(levels, smallest)
        else:
            sweep.betas = equalised_ladder(sweep.betas, 1.0 - swap_rate)
        sweep.next_ladder_update *= 2
        sweep.since_ladder_update = 0
        sweep.swap_sum[:] = 0.0
        sweep.log_lik_sum[:] = 0.0
