r"""Replica exchange (parallel tempering) as a PyMC step method.

>>> with model:
...     idata = pm.sample(step=ReplicaExchange(n_replicas=32))   # doctest: +SKIP

One :class:`ReplicaExchange` owns a whole ladder :math:`0=\beta_0<\dots<\beta_L=1` and
hands PyMC the :math:`\beta=1` replica as the chain's state, so every PyMC chain is an
independent ladder and R-hat/ESS keep their meaning. The work is done by the NumPy core
:class:`samplers.replica_exchange.kernel.ParallelTempering` on the batched densities of
:class:`samplers.replica_exchange.tempered_density.TemperedDensity`; this module is the adapter.

Life cycle, in the order PyMC runs it:

1. ``__init__`` compiles the batched log-prior / log-likelihood once (shared by all
   chains; the object pickles for ``cores > 1``) and builds the kernel.
2. ``setup_chain(rng, tune, draws)`` takes the chain's generator and forgets any
   previous chain's ladder.
3. The first ``step(point)`` starts every level at ``point`` (``kernel.init``); each
   ``step`` then runs one kernel iteration (``n_sweeps`` × (Metropolis moves in every
   replica, one even/odd swap round) and, while tuning, adaptation of the proposals and
   the ladder) and returns the β = 1 replica as the new point.
4. ``stop_tuning()`` freezes scales and ladder; the recorded draws then share one
   ladder, which the free-energy estimators need.

The chain's whole state (the kernel's :class:`~samplers.replica_exchange.kernel.LadderState`,
its generator included, the tuning flag and the running swap rates) is PyMC's
``sampling_state`` of the step (:class:`ReplicaExchangeState`): reading it after any
draw and setting it on a step built for the same model continues the chain bit for bit.

Sampler stats per draw, declared with their dtype and length (the number of levels is
known when the step is built): ``replica_log_likelihood`` and ``beta`` (per level),
``swap_acceptance`` (the swap probability of every neighbouring pair),
``replica_acceptance`` (within-replica acceptance per level), ``replica_at_level``
(which replica sits at each level), and the scalars ``accept`` (β = 1 acceptance),
``min_swap_rate`` (lowest running mean swap acceptance, shown on the progress bar) and
``n_failures`` (non-finite log-densities so far in this chain). PyMC's NDArray trace
stores a stat in an array of the declared dtype, one entry per draw, so each vector stat
is declared to it as a NumPy sub-array dtype (``(float64, (levels,))``); PyMC's
conversion still names their dims ``<stat>_dim_0`` (it passes no dims for sample stats),
which :func:`samplers.replica_exchange.stats.tidy_replica_stats` renames.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import pymc as pm
from pymc.blocking import DictToArrayBijection, RaveledVars
from pymc.step_methods.compound import BlockedStep, Competence, StepMethodState
from pymc.step_methods.state import dataclass_state
from pymc.util import RandomGenerator, get_random_generator, get_value_vars_from_user_vars
from pymc.vartypes import continuous_types
from rich.progress import TextColumn
from rich.table import Column

from .kernel import GRADIENT_UPDATES, LadderState, ParallelTempering, Update
from .path_reference import GaussianMixtureReference, ReferencedDensity, check_update
from .tempered_density import TemperedDensity, check_temperable

__all__ = ["ReplicaExchange", "ReplicaExchangeState"]

#: Vector stats: dtype and whether their length is the number of levels or of pairs.
PER_LEVEL_STATS = {
    "replica_log_likelihood": np.float64,
    "beta": np.float64,
    "replica_acceptance": np.float64,
    "replica_at_level": np.int64,
}
PER_PAIR_STATS = {"swap_acceptance": np.float64}


@dataclass_state
class ReplicaExchangeState(StepMethodState):
    """One chain's state of a :class:`ReplicaExchange` step (PyMC's ``sampling_state``).

    Attributes
    ----------
    tune : bool
        Whether the chain is still tuning.
    state : LadderState or None
        The kernel's state (None before the chain's first step).
    swap_sum : ndarray or float
        Sum of the swap probabilities of every pair since tuning stopped (or since the
        chain started), for the running ``min_swap_rate``.
    swap_count : int
        Number of iterations in ``swap_sum``.
    """

    tune: bool
    state: LadderState | None
    swap_sum: np.ndarray | float
    swap_count: int


class ReplicaExchange(BlockedStep):
    r"""Non-reversible replica exchange step method.

    Parameters
    ----------
    vars : list, optional
        Value variables; must be all free variables of the model (the default).
    n_replicas : int
        Number of levels of the default ladder (β = 0, then geometric to 1, adapted
        during tuning). Ignored when ``betas`` is given.
    betas : array_like, optional
        Starting ladder: strictly increasing, ending at 1 (start it at 0 for free
        energies).
    adapt_ladder : bool
        Equalise swap rejection rates during tuning (default True).
    update : {"componentwise", "block", "adaptive", "mala", "hmc"}
        Move inside each replica: random-walk Metropolis one coordinate at a time, all at
        once with per-coordinate scales, or all at once along a per-level covariance
        learnt while tuning (for strongly correlated parameters); or a gradient move,
        Metropolis-adjusted Langevin or Hamiltonian Monte Carlo (their gradient is
        compiled when the step is built; see :mod:`samplers.replica_exchange.kernel`).
    n_sweeps : int
        Metropolis sweeps (each followed by a swap round) per recorded draw.
    initial_scale : float
        Starting proposal scale in the transformed space.
    vectorize : bool
        Evaluate all replicas in one batched call (default); ``False`` loops.
    reference : GaussianMixtureReference, optional
        Start the path from this normalised density in the unconstrained space instead
        of the prior (:mod:`samplers.replica_exchange.path_reference`); the recorded
        ``replica_log_likelihood`` is then :math:`\tilde\ell = \log\varphi + \ell -
        \log q`. :func:`samplers.sample_replica_exchange` builds one from a pilot run.
    model : pymc.Model, optional
    rng : RandomGenerator, optional
    initial_point : dict, optional
    compile_kwargs : dict, optional
        Passed to :func:`pytensor.function`.

    Attributes
    ----------
    kernel : ParallelTempering
        The NumPy kernel (the configuration).
    model_density : TemperedDensity
        The model's batched log-prior and log-likelihood.
    density : TemperedDensity or ReferencedDensity
        What the kernel tempers (the model's density, re-split for the reference).
    state : LadderState or None
        The current chain's kernel state.
    """

    name = "replica_exchange"
    default_blocked = True
    _state_class = ReplicaExchangeState
    # The vector stats' length is the ladder's, set per step in ``__init__``.
    stats_dtypes_shapes: ClassVar[dict[str, tuple[type, list | None]]] = {
        "accept": (np.float64, []),
        "min_swap_rate": (np.float64, []),
        "n_failures": (np.int64, []),
        **{name: (dtype, [None]) for name, dtype in (PER_LEVEL_STATS | PER_PAIR_STATS).items()},
    }

    def __init__(
        self,
        vars: Sequence | None = None,
        *,
        n_replicas: int = 32,
        betas: Sequence[float] | np.ndarray | None = None,
        adapt_ladder: bool = True,
        update: Update = "componentwise",
        n_sweeps: int = 1,
        initial_scale: float = 1.0,
        vectorize: bool = True,
        reference: GaussianMixtureReference | None = None,
        model: pm.Model | None = None,
        rng: RandomGenerator = None,
        initial_point: dict | None = None,
        compile_kwargs: dict | None = None,
        blocked: bool = True,
    ) -> None:
        model = pm.modelcontext(model)
        vars = model.value_vars if vars is None else get_value_vars_from_user_vars(vars, model)
        check_temperable(model, vars)
        if initial_point is None:
            initial_point = model.initial_point()
        self.vars = list(vars)
        self.blocked = blocked
        self.rng = get_random_generator(rng)
        self.model_density = TemperedDensity(
            model, self.vars, initial_point, compile_kwargs=compile_kwargs, vectorize=vectorize
        )
        self.kernel = ParallelTempering(
            self.model_density,
            betas=None if betas is None else np.asarray(betas, dtype=float),
            n_replicas=n_replicas,
            update=update,
            n_sweeps=n_sweeps,
            adapt_ladder=adapt_ladder,
            initial_scale=initial_scale,
        )
        if update in GRADIENT_UPDATES:  # compiled once here, before chains are pickled
            self.model_density.compile_gradient()
        self.use_reference(reference)
        self._declare_stats(self.kernel.n_levels)
        self.tune = True
        self.state: LadderState | None = None
        self._reset_running_swap_rate()

    def _declare_stats(self, levels: int) -> None:
        """Vector stats with their real length; the NDArray trace gets sub-array dtypes."""
        shapes = dict(self.stats_dtypes_shapes)
        for names, length in ((PER_LEVEL_STATS, levels), (PER_PAIR_STATS, levels - 1)):
            for name, dtype in names.items():
                shapes[name] = (dtype, [length])
        self.stats_dtypes_shapes = shapes
        self.stats_dtypes = [
            {
                name: np.dtype((dtype, tuple(shape))) if shape else np.dtype(dtype)
                for name, (dtype, shape) in shapes.items()
            }
        ]

    def use_reference(self, reference: GaussianMixtureReference | None) -> None:
        """Start the path from ``reference`` (None: the prior); forgets any chain's state.

        Raises
        ------
        ValueError
            A reference with a gradient update (:func:`~.path_reference.check_update`).
        """
        if reference is not None:
            check_update(self.kernel.update)
        self.reference = reference
        if reference is None:
            self.density = self.model_density
            self.kernel.reference_sampler = None
        else:
            self.density = ReferencedDensity(self.model_density, reference)
            self.kernel.reference_sampler = reference.sample
        self.kernel.log_density = self.density
        self.state = None

    @property
    def betas(self) -> np.ndarray:
        """The current ladder (the starting ladder before the first step)."""
        return self.kernel.initial_betas if self.state is None else self.state.betas.copy()

    def setup_chain(self, rng: RandomGenerator, tune: int, draws: int) -> None:
        """Start a new chain (called by PyMC before each chain): its generator, tuning
        when ``tune > 0``, no ladder yet."""
        super().setup_chain(rng, tune, draws)
        self.tune = tune > 0
        self.reset_tuning()

    def reset_tuning(self) -> None:
        """Forget the ladder and scales learnt so far (PyMC calls this before a chain)."""
        self.state = None
        self._reset_running_swap_rate()

    def stop_tuning(self) -> None:
        """Freeze the ladder and the proposal scales."""
        self.tune = False
        self._reset_running_swap_rate()

    def _reset_running_swap_rate(self) -> None:
        self.swap_sum = 0.0
        self.swap_count = 0

    def step(self, point: dict) -> tuple[dict, list[dict]]:
        """One replica-exchange iteration; returns the β = 1 replica as the new point."""
        names = [v.name for v in self.vars]
        raveled = DictToArrayBijection.map({name: point[name] for name in names})
        state = self.state
        if state is None:
            state = self.kernel.init(raveled.data, self.rng)
        state, info = self.kernel.step(state, tune=self.tune)
        new_point = DictToArrayBijection.rmap(
            RaveledVars(state.x[-1].copy(), raveled.point_map_info), start_point=point
        )
        swap_sum = self.swap_sum + info.swap_probability
        self.state, self.swap_sum, self.swap_count = state, swap_sum, self.swap_count + 1
        stats = {
            "accept": float(info.acceptance[-1]),
            "min_swap_rate": float(np.min(swap_sum / self.swap_count)),
            "n_failures": int(state.n_failures),
            "replica_log_likelihood": info.log_lik,
            "beta": state.betas,
            "swap_acceptance": info.swap_probability,
            "replica_acceptance": info.acceptance,
            "replica_at_level": info.replica,
        }
        return new_point, [stats]

    @staticmethod
    def competence(var, has_grad):
        """Compatible with continuous variables (never chosen automatically)."""
        if var.dtype in continuous_types:
            return Competence.COMPATIBLE
        return Competence.INCOMPATIBLE

    @staticmethod
    def _progressbar_config(n_chains=1):
        columns = [
            TextColumn("{task.fields[min_swap]:0.2f}", table_column=Column("Min swap", ratio=1)),
            TextColumn("{task.fields[accept]:0.2f}", table_column=Column("Accept β=1", ratio=1)),
            TextColumn("{task.fields[failures]}", table_column=Column("Failures", ratio=1)),
        ]
        stats = {
            "min_swap": [0.0] * n_chains,
            "accept": [0.0] * n_chains,
            "failures": [0] * n_chains,
        }
        return columns, stats

    @staticmethod
    def _make_progressbar_update_functions():
        def update_stats(step_stats):
            return {
                "min_swap": step_stats["min_swap_rate"],
                "accept": step_stats["accept"],
                "failures": step_stats["n_failures"],
            }

        return (update_stats,)
