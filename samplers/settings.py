r"""Sampler settings, one class per sampler, and what every sampler call shares.

- :class:`ReplicaExchangeSettings`: :func:`samplers.sample_replica_exchange` with free
  energies by stepping stone (or another estimator of
  :data:`samplers.evidence.thermodynamic.ESTIMATORS`);
- :class:`SMCSettings`: ``pm.sample_smc`` and its evidence;
- :class:`NestedSettings`: dynesty nested sampling
  (:func:`samplers.evidence.nested.sample_nested`) and its evidence;
- :class:`NUTSSettings`: ``pm.sample`` with NUTS (no free energy).

Each is a frozen dataclass with ``describe()`` (one line for tables and logs) and
``sample(model, random_seed, progressbar) -> (result, FreeEnergy or None)``.
:data:`SAMPLER_SETTINGS` maps the sampler names used on the command line and in
:func:`samplers.select_model` and :func:`samplers.compare_samplers` to these classes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

import pymc as pm
import xarray as xr

from .evidence.free_energy import FreeEnergy, free_energy, tidy_smc_stats
from .evidence.nested import dynesty_module, sample_nested
from .replica_exchange.kernel import UPDATES
from .replica_exchange.path_reference import REFERENCES
from .replica_exchange.sampling import sample_replica_exchange

__all__ = [
    "FREE_ENERGY_SAMPLERS",
    "SAMPLER_SETTINGS",
    "NUTSSettings",
    "NestedSettings",
    "ReplicaExchangeSettings",
    "SMCSettings",
    "run_options",
    "sample_free_energy",
]


def _default_cores(chains: int) -> int:
    """Every core this process may use, at most one per chain (PyMC's own default counts
    half the CPUs, assuming hyper-threads)."""
    return min(chains, len(os.sched_getaffinity(0)))


def run_options(settings, random_seed: int | None, progressbar: bool) -> dict[str, object]:
    """Keywords every sampler call shares: size, cores, seed, progress bar.

    ``settings`` has ``draws``, ``chains`` and ``cores``; without ``cores``, chains run
    in parallel on every core this process may use. Convergence checks are left to the
    caller (free-energy runs do not need PyMC's warnings; comparisons compute their own).
    """
    return {
        "draws": settings.draws,
        "chains": settings.chains,
        "cores": settings.cores or _default_cores(settings.chains),
        "random_seed": random_seed,
        "progressbar": progressbar,
        "compute_convergence_checks": False,
    }


@dataclass(frozen=True)
class ReplicaExchangeSettings:
    """Settings of :func:`samplers.sample_replica_exchange` used for free energies.

    Each chain is an independent ladder of ``n_replicas`` levels (β = 0, then
    geometric to 1, adapted during ``tune`` to equal swap rejection); the free energy is
    the stepping-stone estimate from the ``draws`` recorded afterwards. ``update`` is the
    move inside each replica, one of :data:`samplers.replica_exchange.kernel.UPDATES`
    (random-walk ``"componentwise"``, ``"block"``, ``"adaptive"``, or gradient
    ``"mala"``, ``"hmc"``). ``reference`` is where the tempered path starts
    (``"prior"``, ``"variational"`` or ``"modes"``;
    :mod:`samplers.replica_exchange.path_reference`).

    Raises
    ------
    ValueError
        An unknown ``update`` or ``reference``.
    """

    draws: int = 2000
    tune: int = 2000
    chains: int = 4
    cores: int | None = None
    n_replicas: int = 32
    update: str = "componentwise"
    n_sweeps: int = 1
    method: str = "stepping_stone"
    reference: str = "prior"
    extra: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.update not in UPDATES:
            raise ValueError(f"update must be one of {list(UPDATES)}, got {self.update!r}")
        if self.reference not in REFERENCES:
            raise ValueError(f"reference must be one of {REFERENCES}, got {self.reference!r}")

    def describe(self) -> str:
        """One line naming the sampler and its settings."""
        start = "" if self.reference == "prior" else f", path from the {self.reference} reference"
        return (
            f"replica exchange in PyMC {pm.__version__} ({self.chains} chains x "
            f"{self.n_replicas} replicas, {self.tune} tune + {self.draws} draws, "
            f"{self.update} Metropolis{start}, F by {self.method.replace('_', '-')})"
        )

    def sample(
        self,
        model: pm.Model,
        random_seed: int | None,
        progressbar: bool,
        checkpoint: str | os.PathLike | None = None,
        checkpoint_every: int | None = None,
    ) -> tuple[xr.DataTree, FreeEnergy]:
        """Run replica exchange on ``model``; return the result and its free energy.

        ``checkpoint`` and ``checkpoint_every`` keep the run in a file that the same call
        continues from (see :func:`samplers.sample_replica_exchange`).
        """
        idata = sample_replica_exchange(
            model=model,
            tune=self.tune,
            n_replicas=self.n_replicas,
            update=self.update,
            n_sweeps=self.n_sweeps,
            reference=self.reference,
            checkpoint=checkpoint,
            checkpoint_every=checkpoint_every,
            **run_options(self, random_seed, progressbar),
            **dict(self.extra),
        )
        # sample_replica_exchange has computed every estimator once: read it back
        return idata, FreeEnergy.from_dataset(idata["free_energy"].to_dataset(), self.method)


@dataclass(frozen=True)
class SMCSettings:
    """Settings of ``pm.sample_smc`` used for free energies.

    The defaults temper more slowly (``threshold=0.9``) and move particles longer
    (``correlation_threshold=0.0001``) than PyMC's, because evidence estimates of
    multi-peak spectra are biased at PyMC's defaults.
    """

    draws: int = 2000
    chains: int = 4
    cores: int | None = None
    threshold: float = 0.9
    correlation_threshold: float = 0.0001
    kernel: type = pm.smc.kernels.MH
    extra: Mapping[str, object] = field(default_factory=dict)

    def describe(self) -> str:
        """One line naming the sampler and its settings."""
        return (
            f"PyMC {pm.__version__} sample_smc (kernel {self.kernel.__name__}, "
            f"{self.chains} chains x {self.draws} "
            f"particles, threshold={self.threshold}, "
            f"correlation_threshold={self.correlation_threshold})"
        )

    def sample(
        self, model: pm.Model, random_seed: int | None, progressbar: bool
    ) -> tuple[xr.DataTree, FreeEnergy]:
        """Run ``pm.sample_smc`` on ``model``; return the result and its free energy."""
        with model:
            idata = pm.sample_smc(
                kernel=self.kernel,
                threshold=self.threshold,
                correlation_threshold=self.correlation_threshold,
                **run_options(self, random_seed, progressbar),
                **dict(self.extra),
            )
        return tidy_smc_stats(idata), free_energy(idata)


@dataclass(frozen=True)
class NestedSettings:
    """Settings of :func:`samplers.evidence.nested.sample_nested` (dynesty).

    ``chains`` independent static nested-sampling runs of ``live_points`` live points
    each, stopped when the live points could add at most ``dlogz`` to log Z, new points
    proposed by dynesty's ``proposal`` method (its ``sample`` argument) within ``bound``;
    each run's posterior is resampled to ``draws`` equally weighted draws. Runs are
    sequential, on one core. F is the mean over runs; its MCSE the larger of dynesty's
    errors combined and the spread across runs.
    """

    live_points: int = 500
    chains: int = 4
    draws: int = 1000
    dlogz: float = 0.1
    proposal: str = "rslice"
    bound: str = "multi"
    extra: Mapping[str, object] = field(default_factory=dict)

    def describe(self) -> str:
        """One line naming the sampler and its settings."""
        return (
            f"dynesty {dynesty_module().__version__} static nested sampling ({self.chains} runs x "
            f"{self.live_points} live points, sample={self.proposal}, bound={self.bound}, "
            f"dlogz={self.dlogz:g})"
        )

    def sample(
        self, model: pm.Model, random_seed: int | None, progressbar: bool
    ) -> tuple[xr.DataTree, FreeEnergy]:
        """Run nested sampling on ``model``; return the result and its free energy."""
        idata = sample_nested(
            model,
            live_points=self.live_points,
            chains=self.chains,
            draws=self.draws,
            dlogz=self.dlogz,
            sample=self.proposal,
            bound=self.bound,
            random_seed=random_seed,
            progressbar=progressbar,
            **dict(self.extra),
        )
        return idata, free_energy(idata)


def sample_free_energy(
    model: pm.Model,
    settings: SMCSettings | ReplicaExchangeSettings | NestedSettings = SMCSettings(),
    random_seed: int | None = None,
    progressbar: bool = True,
) -> tuple[xr.DataTree, FreeEnergy]:
    """Sample ``model`` and return the result and its free energy.

    ``settings`` chooses the sampler (:class:`SMCSettings`,
    :class:`ReplicaExchangeSettings` or :class:`NestedSettings`). Without
    ``settings.cores``, chains run in parallel on every core this process may use
    (nested-sampling runs are sequential).
    """
    return settings.sample(model, random_seed, progressbar)


@dataclass(frozen=True)
class NUTSSettings:
    """Settings of ``pm.sample`` with PyMC's NUTS, in the style of the other settings.

    Tuning draws are kept (``discard_tuned_samples=False``: ``warmup_posterior`` and
    ``warmup_sample_stats`` groups) so that the gradient evaluations of warm-up can be
    counted. NUTS gives no free energy.
    """

    draws: int = 1000
    tune: int = 1000
    chains: int = 4
    cores: int | None = None
    target_accept: float = 0.8
    extra: Mapping[str, object] = field(default_factory=dict)

    def describe(self) -> str:
        """One line naming the sampler and its settings."""
        return (
            f"PyMC {pm.__version__} NUTS ({self.chains} chains, {self.tune} tune + "
            f"{self.draws} draws, target_accept={self.target_accept})"
        )

    def sample(
        self, model: pm.Model, random_seed: int | None, progressbar: bool
    ) -> tuple[xr.DataTree, None]:
        """Run NUTS on ``model``; return the result and ``None`` (no free energy)."""
        with model:
            idata = pm.sample(
                tune=self.tune,
                target_accept=self.target_accept,
                discard_tuned_samples=False,
                **run_options(self, random_seed, progressbar),
                **dict(self.extra),
            )
        return idata, None


#: Sampler name to its settings class.
SAMPLER_SETTINGS: dict[str, type] = {
    "replica_exchange": ReplicaExchangeSettings,
    "smc": SMCSettings,
    "nuts": NUTSSettings,
    "nested": NestedSettings,
}
#: The samplers that give a free energy (the choices of :func:`samplers.select_model`).
FREE_ENERGY_SAMPLERS: tuple[str, ...] = ("replica_exchange", "smc", "nested")
