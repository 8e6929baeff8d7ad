"""Run replica exchange through ``pm.sample`` and return a self-contained DataTree.

:func:`sample_replica_exchange` is ``pm.sample(step=ReplicaExchange(...))`` plus
bookkeeping: the replica stats get named dims (``level`` for the ladder, ``pair`` for
neighbouring pairs) with the ladder as a ``beta`` coordinate of shape (chain, level),
and a ``free_energy`` group holds F ± MCSE for every estimator (and, for Gaussian
likelihoods with fixed noise, what :func:`samplers.noise_scan` needs). The result
survives ``to_netcdf`` / ``open_datatree`` round trips and is enough to redo every
figure.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pymc as pm
import xarray as xr

from ..evidence.free_energy import FreeEnergy, free_energy
from ..evidence.noise_scan import gaussian_noise
from ..evidence.thermodynamic import ESTIMATORS
from .stats import tidy_replica_stats
from .step import ReplicaExchange

__all__ = ["free_energy_dataset", "sample_replica_exchange", "sample_with_step"]


def free_energy_dataset(idata: xr.DataTree) -> tuple[xr.Dataset, dict[str, FreeEnergy]]:
    """F ± MCSE of every estimator, per chain and combined, as a Dataset."""
    estimates = {method: free_energy(idata, method) for method in ESTIMATORS}
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
    return dataset, estimates


def sample_with_step(step: ReplicaExchange, *, model: pm.Model, **sample_kwargs) -> xr.DataTree:
    """``pm.sample`` with an existing :class:`ReplicaExchange` step, replica stats tidied.

    The step keeps its compiled functions, so a caller that swaps the model's ``pm.Data``
    between runs samples again without recompiling (``samplers.app.batch_worker``); PyMC
    resets the step's ladder, scales and generator before every chain.
    """
    with model:
        idata = pm.sample(step=step, **sample_kwargs)
    for group in ("sample_stats", "warmup_sample_stats"):
        if group in idata.children:
            idata[group] = xr.DataTree(tidy_replica_stats(idata[group].to_dataset()))
    return idata


def sample_replica_exchange(
    *,
    model: pm.Model | None = None,
    draws: int = 2000,
    tune: int = 2000,
    chains: int = 4,
    cores: int | None = None,
    random_seed: int | Sequence[int] | None = None,
    progressbar: bool = True,
    n_replicas: int = 32,
    betas: Sequence[float] | None = None,
    update: str = "componentwise",
    n_sweeps: int = 1,
    vectorize: bool = True,
    **sample_kwargs,
) -> xr.DataTree:
    """Replica exchange on ``model`` with free energies attached.

    Parameters
    ----------
    model : pymc.Model, optional
        Taken from the context when omitted.
    draws, tune, chains, cores, random_seed, progressbar
        As for :func:`pymc.sample`; each chain is an independent ladder.
    n_replicas, betas, update, n_sweeps, vectorize
        Passed to :class:`samplers.ReplicaExchange`.
    **sample_kwargs
        Further keyword arguments of :func:`pymc.sample`.

    Returns
    -------
    xarray.DataTree
        PyMC's result with tidied replica stats and a ``free_energy`` group.
    """
    model = pm.modelcontext(model)
    with model:
        step = ReplicaExchange(
            n_replicas=n_replicas,
            betas=betas,
            update=update,
            n_sweeps=n_sweeps,
            vectorize=vectorize,
        )
    idata = sample_with_step(
        step,
        model=model,
        draws=draws,
        tune=tune,
        chains=chains,
        cores=cores,
        random_seed=random_seed,
        progressbar=progressbar,
        **sample_kwargs,
    )
    dataset, _ = free_energy_dataset(idata)
    noise = gaussian_noise(model)
    if noise is not None:
        dataset.attrs.update({f"gaussian_noise_{key}": value for key, value in noise.items()})
    idata["free_energy"] = xr.DataTree(dataset)
    return idata
