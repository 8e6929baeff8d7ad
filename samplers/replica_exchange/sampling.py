"""Run replica exchange and return a self-contained DataTree; checkpoint and resume.

:func:`sample_replica_exchange` is ``pm.sample(step=ReplicaExchange(...))`` plus
bookkeeping: the replica stats get named dims (``level`` for the ladder, ``pair`` for
neighbouring pairs) with the ladder as a ``beta`` coordinate of shape (chain, level),
and a ``free_energy`` group holds F ± MCSE for every estimator (and, for Gaussian
likelihoods with fixed noise, what :func:`samplers.noise_scan` needs). The result
survives ``to_netcdf`` / ``open_datatree`` round trips and is enough to redo every
figure.

The chains are run by :func:`samplers.replica_exchange.chains.run_chains`, which drives
the step exactly as ``pm.sample`` does (same seeds, initial points, calls, trace and
conversion: the draws and stats are those of ``pm.sample(step=...)``) and can keep a
checkpoint: ``sample_replica_exchange(..., checkpoint="run.nc")`` writes every chain's
state and draws at intervals, and the same call after an interruption (Ctrl-C, a killed
process) continues from the file and returns exactly what an uninterrupted run returns.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence

import numpy as np
import pymc as pm
import xarray as xr

from ..evidence.free_energy import FreeEnergy, free_energies
from ..evidence.modes import coordinate_labels
from ..evidence.noise_scan import gaussian_noise
from ..evidence.thermodynamic import ESTIMATORS
from .chains import run_chains
from .checkpoint import read_checkpoint
from .path_reference import REFERENCES, GaussianMixtureReference, check_update
from .pilot import fit_reference
from .run_record import SamplingInterrupted
from .stats import tidy_replica_stats
from .step import ReplicaExchange

__all__ = ["free_energy_dataset", "sample_replica_exchange", "sample_with_step"]

_log = logging.getLogger(__name__)


def free_energy_dataset(idata: xr.DataTree) -> tuple[xr.Dataset, dict[str, FreeEnergy]]:
    """F ± MCSE of every estimator, per chain and combined, as a Dataset, with the run's
    own checks (:mod:`samplers.evidence.run_checks`): ``round_trips`` and
    ``ideal_round_trips`` (what the swap rates would allow with perfect moves) per chain,
    ``trusted`` (1, 0; -1 when nothing could be checked) and ``verdict`` per estimator,
    and the default estimator's in the attrs."""
    estimates = free_energies(idata, ESTIMATORS)
    methods = list(ESTIMATORS)
    dataset = xr.Dataset(
        {
            "free_energy": ("estimator", [estimates[m].value for m in methods]),
            "mcse": ("estimator", [estimates[m].mcse for m in methods]),
            "free_energy_per_chain": (
                ("estimator", "chain"),
                np.stack([estimates[m].per_chain for m in methods]),
            ),
            "mcse_per_chain": (
                ("estimator", "chain"),
                np.stack([estimates[m].per_chain_mcse for m in methods]),
            ),
        },
        coords={"estimator": methods, "chain": idata["posterior"]["chain"].values},
        attrs={"default_method": "stepping_stone", "units": "nats", "definition": "F = -log p(D)"},
    )
    checks = estimates["stepping_stone"].checks
    dataset["round_trips"] = ("chain", checks.round_trips)
    dataset["ideal_round_trips"] = ("chain", checks.ideal_round_trips)
    dataset["trusted"] = ("estimator", [estimates[m].checks.to_attrs()["trusted"] for m in methods])
    dataset["verdict"] = ("estimator", [estimates[m].checks.verdict for m in methods])
    dataset.attrs.update(checks.to_attrs())
    return dataset, estimates


def sample_with_step(
    step: ReplicaExchange,
    *,
    model: pm.Model,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    cores: int | None = None,
    random_seed: int | Sequence[int] | None = None,
    progressbar: bool | str = True,
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int | None = None,
    initvals: dict | Sequence[dict] | None = None,
    discard_tuned_samples: bool = True,
    compute_convergence_checks: bool = True,
    idata_kwargs: dict | None = None,
    callback: Callable | None = None,
    quiet: bool = False,
    mp_ctx: str | None = None,
) -> xr.DataTree:
    """``pm.sample(step=step, ...)`` with the replica stats tidied, resumable.

    The step keeps its compiled functions, so a caller that swaps the model's ``pm.Data``
    between runs samples again without recompiling (``samplers.app.batch_worker``); the
    step's ladder, scales and generator are reset before every chain.

    Parameters
    ----------
    step : ReplicaExchange
    model : pymc.Model
    draws, tune, chains, cores, random_seed, progressbar, initvals, discard_tuned_samples,
    compute_convergence_checks, idata_kwargs, callback, quiet, mp_ctx
        As for :func:`pymc.sample` (``cores > 1`` runs one process per chain); the draws
        and stats are those ``pm.sample(step=step, ...)`` gives.
    checkpoint : path-like, optional
        A file that keeps the run: every chain's state and draws are written to it at
        intervals, at the end of every chain and when the run stops (Ctrl-C). If the file
        exists, the run continues from it (a finished one returns its result without
        sampling); a file written by another run (settings, seed or model) is refused.
        With ``random_seed=None`` the seed drawn at the first start is kept in the file.
    checkpoint_every : int, optional
        Write the checkpoint every this many iterations of a chain; by default once a
        minute (:data:`samplers.replica_exchange.run_record.CHECKPOINT_SECONDS`). The
        interval does not change the result.

    Raises
    ------
    samplers.SamplingInterrupted
        On Ctrl-C (a ``KeyboardInterrupt``), after the checkpoint is written; the message
        says how to continue, and its ``partial`` holds the draws so far (None while
        every chain is still tuning).
    samplers.replica_exchange.checkpoint.CheckpointMismatch
        If ``checkpoint`` belongs to another run.
    """
    try:
        idata = run_chains(
            step,
            model=model,
            draws=draws,
            tune=tune,
            chains=chains,
            cores=cores,
            random_seed=random_seed,
            progressbar=progressbar,
            checkpoint=checkpoint,
            checkpoint_every=checkpoint_every,
            initvals=initvals,
            discard_tuned_samples=discard_tuned_samples,
            compute_convergence_checks=compute_convergence_checks,
            idata_kwargs=idata_kwargs,
            callback=callback,
            quiet=quiet,
            mp_ctx=mp_ctx,
        )
    except SamplingInterrupted as stop:
        if stop.partial is not None:
            _tidy_replica_stats(stop.partial)
        raise
    _tidy_replica_stats(idata)
    return idata


def _tidy_replica_stats(idata: xr.DataTree) -> None:
    """Replace the vector replica stats by their tidy form (:mod:`.stats`), in place."""
    for group in ("sample_stats", "warmup_sample_stats"):
        if group in idata.children:
            idata[group] = xr.DataTree(tidy_replica_stats(idata[group].to_dataset()))


def sample_replica_exchange(
    *,
    model: pm.Model | None = None,
    draws: int = 2000,
    tune: int = 2000,
    chains: int = 4,
    cores: int | None = None,
    random_seed: int | Sequence[int] | None = None,
    progressbar: bool | str = True,
    n_replicas: int = 32,
    betas: Sequence[float] | None = None,
    update: str = "componentwise",
    n_sweeps: int = 1,
    vectorize: bool = True,
    reference: str = "prior",
    checkpoint: str | os.PathLike | None = None,
    checkpoint_every: int | None = None,
    **run_options,
) -> xr.DataTree:
    r"""Replica exchange on ``model`` with free energies attached.

    Parameters
    ----------
    model : pymc.Model, optional
        Taken from the context when omitted.
    draws, tune, chains, cores, random_seed, progressbar
        As for :func:`pymc.sample`; each chain is an independent ladder.
    n_replicas, betas, update, n_sweeps, vectorize
        Passed to :class:`samplers.ReplicaExchange`.
    reference : {"prior", "variational", "modes"}
        Where the tempered path starts (:mod:`samplers.replica_exchange.path_reference`):
        the prior, one Gaussian fitted to a pilot run's :math:`\beta = 1` draws, or one
        Gaussian per mode of a mode census started from the pilot's replicas at every
        level. The fitted references cost a pilot (``chains`` tuning ladders of
        ``max(tune // 2, 100)`` iterations on the prior path, seeded from
        ``random_seed``) and, for ``"modes"``, a census; F stays :math:`-\log p(D)`.
        The result then holds the reference in a ``tempering_reference`` group.
    checkpoint, checkpoint_every
        Keep the run in a file and continue it from there when called again with the
        same arguments (see :func:`sample_with_step`).
    **run_options
        Further options of :func:`sample_with_step` (``initvals``,
        ``discard_tuned_samples``, ``compute_convergence_checks``, ``idata_kwargs``,
        ``callback``, ``quiet``, ``mp_ctx``).

    Returns
    -------
    xarray.DataTree
        PyMC's result with tidied replica stats and a ``free_energy`` group, which
        carries the run's own checks of F (round trips of every chain, agreement of the
        chains; :func:`free_energy_dataset`). When a check fails, a warning is logged
        (unless ``quiet``) and the group's ``verdict`` says why; the mode census of
        :func:`samplers.evidence.reliability.free_energy_reliability` checks further.

    Raises
    ------
    samplers.SamplingInterrupted
        On Ctrl-C; its ``partial`` holds the draws so far with their ``free_energy``
        group (from fewer draws, so with a larger MCSE), or None while every chain is
        still tuning. See :func:`sample_with_step`.
    ValueError
        An unknown ``reference``, a fitted reference with a seed that is not an integer
        or integers, or with a gradient update.
    """
    model = pm.modelcontext(model)
    if reference not in REFERENCES:
        raise ValueError(f"reference must be one of {REFERENCES}, got {reference!r}")
    if reference != "prior":
        check_update(update)  # before the pilot, not after it
    with model:
        step = ReplicaExchange(
            n_replicas=n_replicas,
            betas=betas,
            update=update,
            n_sweeps=n_sweeps,
            vectorize=vectorize,
        )
    if reference != "prior":
        random_seed = _integer_seed(random_seed, checkpoint)
        fitted, _ = fit_reference(
            step,
            model,
            reference,
            ladders=chains,
            iterations=max(tune // 2, 100),
            random_seed=random_seed,
        )
        step.use_reference(fitted)
    try:
        idata = sample_with_step(
            step,
            model=model,
            draws=draws,
            tune=tune,
            chains=chains,
            cores=cores,
            random_seed=random_seed,
            progressbar=progressbar,
            checkpoint=checkpoint,
            checkpoint_every=checkpoint_every,
            **run_options,
        )
    except SamplingInterrupted as stop:
        if stop.partial is not None:
            try:
                _add_free_energy(stop.partial, model, step.reference)
            except ValueError:  # too few draws for an estimate: the draws alone
                pass
        raise
    _add_free_energy(idata, model, step.reference)
    checks = idata["free_energy"].attrs
    if checks["trusted"] == 0 and not run_options.get("quiet", False):
        _log.warning("The free energy cannot be trusted, %s", checks["verdict"])
    return idata


def _integer_seed(random_seed, checkpoint) -> int | list[int]:
    """The run's seed as an int or ints, fixed before a pilot so that a rerun fits the
    same reference: the checkpoint's seed, or a fresh one, when ``random_seed`` is None."""
    if random_seed is None:
        if checkpoint is not None and os.path.exists(checkpoint):
            return read_checkpoint(checkpoint)[0]["sampler"]["random_seed"]
        return int(np.random.SeedSequence().entropy)
    seeds = np.atleast_1d(np.asarray(random_seed, dtype=object))
    if not all(isinstance(s, int | np.integer) for s in seeds):
        raise ValueError(
            "a fitted reference needs random_seed to be an integer, integers or None "
            f"(the pilot is seeded from it), got {random_seed!r}"
        )
    return random_seed


def _add_free_energy(
    idata: xr.DataTree, model: pm.Model, reference: GaussianMixtureReference | None = None
) -> None:
    """Add the ``free_energy`` group (every estimator; the Gaussian noise level if any)
    and, for a path that starts from a fitted reference, the ``tempering_reference``."""
    dataset, _ = free_energy_dataset(idata)
    dataset.attrs["reference"] = "prior" if reference is None else reference.kind
    noise = gaussian_noise(model)
    if noise is not None:
        dataset.attrs.update({f"gaussian_noise_{key}": value for key, value in noise.items()})
    idata["free_energy"] = xr.DataTree(dataset)
    if reference is not None:
        labels = coordinate_labels(model)
        idata["tempering_reference"] = xr.DataTree(reference.to_dataset(labels))
