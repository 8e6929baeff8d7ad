r"""Noise precisions of several datasets, each by the noise scan of its own model.

For Bayesian integration each dataset :math:`k` needs its noise precision :math:`b_k`.
One way (the noise estimate of the Bayesian-measurement papers,
:mod:`samplers.evidence.noise_scan`): sample each single-dataset model, built with
a fixed *reference* precision :math:`b_\mathrm{ref}` larger than the data's, by replica
exchange; the replica at :math:`\beta` is that model with precision
:math:`\beta b_\mathrm{ref}`, so one run gives :math:`F_k(\beta b_\mathrm{ref})` along the
whole ladder (:func:`samplers.noise_scan`), and :math:`\hat b_k` is its minimiser. The
integrated model then uses the :math:`\hat b_k` as fixed precisions.

This module knows nothing about physics: it takes ``pm.Model`` objects whose
likelihood is Gaussian with one fixed precision (every observed variable ``Normal``
with a constant ``sigma``, the same for all points of a model).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import pymc as pm
import xarray as xr

from ..settings import ReplicaExchangeSettings
from .noise_scan import gaussian_noise, noise_scan

__all__ = ["noise_precisions_by_scan"]

#: Small settings that resolve the minimum of F(b) of a small dataset (see the tests).
DEFAULT_SETTINGS = ReplicaExchangeSettings(draws=1000, tune=1000, chains=4, n_replicas=24)


def _check_models(models: Mapping[str, pm.Model]) -> dict[str, dict]:
    if not models:
        raise ValueError("noise_precisions_by_scan needs at least one model")
    noises = {}
    for name, model in models.items():
        noise = gaussian_noise(model)
        if noise is None:
            raise ValueError(
                f"model {name!r}: the noise scan needs a Gaussian likelihood with fixed noise "
                "(every observed variable Normal with a constant sigma, no Potentials)"
            )
        if not np.isfinite(noise["precision"]):
            raise ValueError(
                f"model {name!r}: its data points have different precisions; the noise scan "
                "estimates one precision per dataset: build the model with one fixed sigma"
            )
        noises[name] = noise
    return noises


def noise_precisions_by_scan(
    models: Mapping[str, pm.Model],
    settings: ReplicaExchangeSettings = DEFAULT_SETTINGS,
    random_seed: int | None = None,
    progressbar: bool = False,
) -> xr.Dataset:
    r"""Estimate the noise precision of each dataset from the noise scan of its own model.

    Parameters
    ----------
    models : mapping of str to pymc.Model
        One single-dataset model per measurement, each with a fixed reference precision
        :math:`b_\mathrm{ref}` (one ``sigma`` for all its points) larger than the data's,
        since the ladder covers :math:`\beta b_\mathrm{ref} \le b_\mathrm{ref}` only
        (``measurement_models.integration.separate_models`` builds them).
    settings : ReplicaExchangeSettings
        Replica-exchange settings of every run. At least two chains give a standard
        error of :math:`\hat b_k`; more replicas resolve F(b) more finely.
    random_seed : int, optional
        Seeds every run (independent streams derived from it).
    progressbar : bool

    Returns
    -------
    xarray.Dataset
        Along ``measurement``: ``best_noise_precision`` (:math:`\hat b_k`, mean over
        chains), ``best_noise_precision_se`` (standard error from the spread across
        chains), ``free_energy_at_best`` (:math:`F_k(\hat b_k)`, mean over chains) and
        ``free_energy_at_best_mcse`` (stepping-stone MCSE of the level below
        :math:`\hat b_k`; reweighting to :math:`\hat b_k` adds a little),
        ``reference_precision`` (:math:`b_\mathrm{ref}`), ``minimum_at_reference``
        (the minimum lies at the top of the ladder, within 0.1 %: :math:`\hat b_k` is then
        only a lower bound; raise :math:`b_\mathrm{ref}`); and ``best_noise_precision_per_chain``
        on ``(measurement, chain)``. ``attrs["sampler"]`` describes the settings.

    Raises
    ------
    ValueError
        If no models are given, or a model's likelihood is not Gaussian with one fixed
        precision.

    Warns
    -----
    UserWarning
        If a minimum lies at the reference precision.
    """
    noises = _check_models(models)
    names = list(models)
    seeds = (
        [None] * len(names)
        if random_seed is None
        else [
            int(s.generate_state(1)[0])
            for s in np.random.SeedSequence(random_seed).spawn(len(names))
        ]
    )
    chains = settings.chains
    best = np.full((len(names), chains), np.nan)
    f_best = np.full((len(names), chains), np.nan)
    f_best_se = np.full((len(names), chains), np.nan)
    for i, (name, seed) in enumerate(zip(names, seeds, strict=True)):
        model = models[name]
        idata, _ = settings.sample(model, seed, progressbar)
        scan = noise_scan(idata, model)
        best[i] = scan["best_noise_precision"].values
        f_best[i] = scan["free_energy_at_best"].values
        f_best_se[i] = scan["free_energy_at_best_mcse"].values
    reference = np.array([noises[name]["precision"] for name in names])
    # The bounded minimiser of noise_scan stops within its tolerance of the ladder's top
    # (β = 0.99999…), so "at the reference" means within 0.1 % of it.
    at_reference = np.any(best >= reference[:, None] * (1 - 1e-3), axis=1)
    if at_reference.any():
        flagged = [name for name, flag in zip(names, at_reference, strict=True) if flag]
        warnings.warn(
            f"the minimum of F(b) lies at the reference precision for {flagged}: the estimate "
            "is only a lower bound; build those models with a larger precision (smaller sigma)",
            UserWarning,
            stacklevel=2,
        )
    n_chains = np.sum(np.isfinite(best), axis=1)
    se = np.where(n_chains > 1, np.nanstd(best, axis=1, ddof=1) / np.sqrt(n_chains), np.nan)
    dim = "measurement"
    return xr.Dataset(
        {
            "best_noise_precision": (dim, np.nanmean(best, axis=1), {"long_name": "b_k"}),
            "best_noise_precision_se": (dim, se),
            "best_noise_precision_per_chain": ((dim, "chain"), best),
            "free_energy_at_best": (
                dim,
                np.nanmean(f_best, axis=1),
                {"long_name": "F_k(b_k)", "units": "nats"},
            ),
            "free_energy_at_best_mcse": (
                dim,
                np.sqrt(np.nansum(f_best_se**2, axis=1)) / n_chains,
                {"units": "nats"},
            ),
            "reference_precision": (dim, reference),
            "minimum_at_reference": (dim, at_reference),
            "n_observations": (dim, [noises[name]["n"] for name in names]),
        },
        coords={dim: names, "chain": np.arange(chains)},
        attrs={"sampler": settings.describe()},
    )
