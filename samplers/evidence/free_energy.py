r"""Bayesian free energy :math:`F = -\log p(D)` with a Monte Carlo standard error.

Two kinds of result are read:

- **replica exchange** (``pm.sample(step=ReplicaExchange(...))`` or
  :func:`samplers.sample_replica_exchange`): the per-level log-likelihoods stored as
  sampler stats give :math:`\log Z` per chain by stepping-stone (default),
  thermodynamic integration or two-sided bridge sampling
  (:mod:`samplers.evidence.thermodynamic`), each with an ESS-based standard error;
- **sequential Monte Carlo** (``pm.sample_smc``): PyMC stores its per-chain estimate
  :math:`\sum_s \log \frac{1}{N}\sum_i w_i^{(s)}` in
  ``sample_stats.log_marginal_likelihood``, a ragged array with NaN for every stage
  but the last (β = 1). SMC gives no within-chain error, so its MCSE is the spread
  across chains;
- **nested sampling** (:func:`samplers.evidence.nested.sample_nested`): one dynesty run
  per chain, its :math:`\log Z` and dynesty's error estimate in
  ``sample_stats.log_evidence`` and ``sample_stats.log_evidence_error``.

Chains are independent, so

.. math::

    F = \frac{1}{C}\sum_{c=1}^{C} F_c, \qquad
    \mathrm{MCSE}(F) = \frac{1}{C}\sqrt{\sum_c \mathrm{MCSE}(F_c)^2}
    \quad\text{(replica exchange, nested sampling)}, \qquad
    \frac{\mathrm{sd}_c\{F_c\}}{\sqrt{C}}\quad\text{(SMC)};

for replica exchange and nested sampling the MCSE is the larger of the first and the
second (:func:`combined_mcse`).

SMC's log-evidence is biased low (F biased high) when its particles miss posterior
mass, which the spread across chains reveals only in part.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import xarray as xr

from ..replica_exchange.diagnostics import ladder_diagnostics
from ..replica_exchange.stats import LEVEL_DIM, replica_stats
from .run_checks import RunChecks, run_checks
from .thermodynamic import ESTIMATORS, log_evidence

#: The method name of nested-sampling free energies.
NESTED = "nested"

__all__ = [
    "NESTED",
    "FreeEnergy",
    "combined_mcse",
    "free_energies",
    "free_energy",
    "nested_free_energy",
    "replica_log_likelihoods",
    "tidy_smc_stats",
]


@dataclass(frozen=True)
class FreeEnergy:
    """A free energy estimate.

    Attributes
    ----------
    value : float
        :math:`F = -\\log p(D)`, mean over chains.
    mcse : float
        Monte Carlo standard error of ``value`` (NaN for one SMC chain).
    per_chain : ndarray, shape (chains,)
        The estimate of each independent chain.
    method : str
        ``"stepping_stone"``, ``"thermodynamic_integration"``, ``"bridge"``, ``"smc"`` or
        ``"nested"``.
    per_chain_mcse : ndarray, shape (chains,), optional
        Within-chain standard errors (replica exchange; nested sampling: dynesty's
        error estimate of each run).
    checks : RunChecks, optional
        The run's own checks of this F (:mod:`samplers.evidence.run_checks`: round
        trips, chain agreement); :func:`free_energy` always attaches them.
    """

    value: float
    mcse: float
    per_chain: np.ndarray
    method: str
    per_chain_mcse: np.ndarray | None = None
    checks: RunChecks | None = None

    @classmethod
    def from_dataset(cls, dataset: xr.Dataset, method: str = "stepping_stone") -> FreeEnergy:
        """The estimate ``method`` stored in a ``free_energy`` group, without recomputing it.

        ``dataset`` is the ``free_energy`` group that
        :func:`samplers.sample_replica_exchange` attaches to its result (every estimator,
        per chain and combined). The run's checks are recomputed from the stored
        per-chain values, ``round_trips`` and ``ideal_round_trips`` (none for groups
        stored without them).

        Raises
        ------
        ValueError
            If the group holds no estimate by ``method``.
        """
        estimators = [str(e) for e in dataset["estimator"].values]
        if method not in estimators:
            raise ValueError(f"no {method!r} estimate stored; the group holds {estimators}")
        row = dataset.sel(estimator=method)
        estimate = cls(
            float(row["free_energy"]),
            float(row["mcse"]),
            row["free_energy_per_chain"].values,
            method,
            row["mcse_per_chain"].values,
        )
        if "round_trips" not in dataset:  # stored before the run's checks were
            return estimate
        ideal = dataset["ideal_round_trips"].values if "ideal_round_trips" in dataset else None
        checks = run_checks(estimate, dataset["round_trips"].values, ideal)
        return replace(estimate, checks=checks)

    @property
    def spread(self) -> float:
        """Standard deviation of the per-chain estimates (NaN with one chain)."""
        return float(self.per_chain.std(ddof=1)) if self.per_chain.size > 1 else np.nan

    @property
    def trusted(self) -> bool | None:
        """Whether the run's own checks passed (None: not checked, see ``checks``)."""
        return None if self.checks is None else self.checks.trusted

    def __str__(self) -> str:
        chains = self.per_chain.size
        text = f"F = {self.value:.3f} ± {self.mcse:.3f} ({self.method}, {chains} chains)"
        return text if self.checks is None else f"{text}; {self.checks.verdict}"


def _sample_stats(idata: xr.DataTree) -> xr.Dataset:
    try:
        return idata["sample_stats"].to_dataset()
    except KeyError:
        raise ValueError("the result has no sample_stats group") from None


STAGE_DIM = "stage"


def tidy_smc_stats(idata: xr.DataTree) -> xr.DataTree:
    """Make ``pm.sample_smc`` sample stats numeric, so the result can be written to netCDF.

    PyMC stores the per-stage SMC stats (``log_marginal_likelihood``, ``beta``,
    ``accept_rate``, ...) as object arrays, one Python number per chain and stage, which
    netCDF cannot hold. They become float64 arrays along a ``stage`` dim, NaN-padded
    where chains took fewer stages. Other groups are left as they are.
    """
    stats = _sample_stats(idata)
    tidy = {}
    for name, variable in stats.data_vars.items():
        values = variable.values
        if values.dtype != object:
            tidy[name] = variable
            continue
        if values.ndim not in (1, 2):
            raise ValueError(f"unexpected SMC stat {name!r} with dims {variable.dims}")
        rows = per_chain_rows(values)
        padded = np.full((len(rows), max(row.size for row in rows)), np.nan)
        for c, row in enumerate(rows):
            padded[c, : row.size] = row
        tidy[name] = xr.DataArray(padded, dims=(variable.dims[0], STAGE_DIM))
    new_stats = xr.Dataset(tidy, attrs=stats.attrs)
    if STAGE_DIM in new_stats.dims:
        new_stats = new_stats.assign_coords({STAGE_DIM: np.arange(new_stats.sizes[STAGE_DIM])})
    result = idata.copy()
    result["sample_stats"] = xr.DataTree(dataset=new_stats)
    return result


def replica_log_likelihoods(idata: xr.DataTree) -> tuple[xr.DataArray, xr.DataArray]:
    """Per-level log-likelihoods ``(chain, draw, level)`` and ladders ``(chain, level)``.

    Accepts the raw output of ``pm.sample(step=ReplicaExchange(...))`` (dims named
    ``*_dim_0`` by PyMC, the ladder recorded per draw) and the tidied output of
    :func:`samplers.sample_replica_exchange` (``level`` dim, ``beta`` coordinate).

    Raises
    ------
    ValueError
        If the result holds no replica log-likelihoods, or the ladder changed during the
        recorded draws (tuning draws kept in the posterior).
    """
    stats = _sample_stats(idata)
    if "replica_log_likelihood" not in stats.data_vars:
        raise ValueError("the result holds no replica log-likelihoods (not a replica-exchange run)")
    stats = replica_stats(idata)
    if "beta" in stats.data_vars:
        raise ValueError(
            "the ladder changed during the recorded draws (were tuning draws kept?); "
            "free energies need a fixed ladder"
        )
    if "beta" not in stats.coords:
        raise ValueError("the result records no ladder (beta) for its replica log-likelihoods")
    log_lik = stats["replica_log_likelihood"]
    return log_lik.drop_vars(["beta", LEVEL_DIM]), stats["beta"].drop_vars(LEVEL_DIM)


def _replica_exchange_free_energy(idata: xr.DataTree, method: str) -> FreeEnergy:
    log_lik, beta = replica_log_likelihoods(idata)
    per_chain, per_chain_mcse = [], []
    for chain in range(log_lik.sizes["chain"]):
        value, se = log_evidence(
            log_lik.isel(chain=chain).values, beta.isel(chain=chain).values, method
        )
        per_chain.append(-value)
        per_chain_mcse.append(se)
    per_chain, per_chain_mcse = np.asarray(per_chain), np.asarray(per_chain_mcse)
    mcse = combined_mcse(per_chain, per_chain_mcse)
    return FreeEnergy(float(per_chain.mean()), mcse, per_chain, method, per_chain_mcse)


def combined_mcse(per_chain: np.ndarray, per_chain_mcse: np.ndarray) -> float:
    r"""MCSE of the mean of independent chains: the larger of two estimates.

    Within chains, :math:`\sqrt{\sum_c s_c^2}/C` from each chain's own standard error;
    between chains, :math:`\mathrm{sd}(F_c)/\sqrt{C}`. A chain whose ladder has not
    equilibrated can sit many of its own standard errors away from the others; only the
    between-chain estimate sees that. Taking the larger keeps the error bar honest, at
    the price of being conservative with few chains.
    """
    per_chain = np.asarray(per_chain, dtype=float)
    errors = np.asarray(per_chain_mcse, dtype=float)
    within = float(np.sqrt(np.sum(errors**2)) / per_chain.size)
    if per_chain.size < 2:
        return within
    return max(within, float(per_chain.std(ddof=1) / np.sqrt(per_chain.size)))


def per_chain_rows(values: np.ndarray) -> list[np.ndarray]:
    """One float vector per chain from a per-stage SMC stat.

    Accepts PyMC's raw object arrays ((chain, stage) of numbers, or (chain,) of lists
    when chains took different numbers of stages), the NaN-padded float arrays of
    :func:`tidy_smc_stats`, and a plain 1-D array (one chain).
    """
    rows = [values] if values.dtype != object and values.ndim == 1 else list(values)
    return [
        np.concatenate([np.ravel(np.asarray(item, dtype=float)) for item in np.ravel(row)])
        if np.ndim(row)
        else np.array([row], dtype=float)
        for row in rows
    ]


def _smc_free_energy(stats: xr.Dataset) -> FreeEnergy:
    per_chain = []
    for chain, values in enumerate(per_chain_rows(stats["log_marginal_likelihood"].values)):
        finite = values[np.isfinite(values)]
        if finite.size == 0:
            raise ValueError(
                f"chain {chain} has no finite log marginal likelihood (β = 1 not reached)"
            )
        per_chain.append(-finite[-1])
    per_chain = np.asarray(per_chain)
    mcse = per_chain.std(ddof=1) / np.sqrt(per_chain.size) if per_chain.size > 1 else np.nan
    return FreeEnergy(float(per_chain.mean()), float(mcse), per_chain, "smc")


def nested_free_energy(stats: xr.Dataset) -> FreeEnergy:
    r"""F ± MCSE of a nested-sampling result from its ``sample_stats``.

    :math:`F_c = -\log Z_c` of each run; the MCSE is :func:`combined_mcse` of dynesty's
    per-run errors and the spread across runs.
    """
    per_chain = -np.asarray(stats["log_evidence"].values, dtype=float)
    per_chain_mcse = np.asarray(stats["log_evidence_error"].values, dtype=float)
    mcse = combined_mcse(per_chain, per_chain_mcse)
    return FreeEnergy(float(per_chain.mean()), mcse, per_chain, NESTED, per_chain_mcse)


def free_energy(idata: xr.DataTree, method: str = "stepping_stone") -> FreeEnergy:
    """Free energy from a replica-exchange, SMC or nested-sampling result.

    Parameters
    ----------
    idata : xarray.DataTree
        Result of ``pm.sample(step=ReplicaExchange(...))``,
        :func:`samplers.sample_replica_exchange`, ``pm.sample_smc`` or
        :func:`samplers.evidence.nested.sample_nested`.
    method : {"stepping_stone", "thermodynamic_integration", "bridge"}
        Estimator for replica-exchange results; SMC and nested-sampling results have their
        own (``"smc"``, ``"nested"``), which the default also selects.

    Returns
    -------
    FreeEnergy
        With the run's own checks attached (``checks``, :mod:`samplers.evidence.run_checks`);
        printing it prints their verdict.

    Raises
    ------
    ValueError
        If the result holds no evidence information, the method is unknown, or (SMC) a
        chain never reached β = 1.
    """
    return free_energies(idata, (method,))[method]


def free_energies(idata: xr.DataTree, methods: Sequence[str]) -> dict[str, FreeEnergy]:
    """:func:`free_energy` by each of ``methods``, with the run's round trips counted
    once for all of them (replica exchange: one pass over the ladder's history)."""
    estimates = {method: _estimate(idata, method) for method in methods}
    trips = ideal = None
    if any(estimate.method in ESTIMATORS for estimate in estimates.values()):
        ladder = ladder_diagnostics(idata)
        trips, ideal = ladder["round_trips"].values, ladder["ideal_round_trips"].values
    return {
        method: replace(
            estimate,
            checks=run_checks(estimate, trips, ideal)
            if estimate.method in ESTIMATORS
            else run_checks(estimate),
        )
        for method, estimate in estimates.items()
    }


def _estimate(idata: xr.DataTree, method: str) -> FreeEnergy:
    stats = _sample_stats(idata)
    if "replica_log_likelihood" in stats.data_vars:
        if method not in ESTIMATORS:
            raise ValueError(f"unknown free-energy method {method!r}; choose one of {ESTIMATORS}")
        return _replica_exchange_free_energy(idata, method)
    if "log_marginal_likelihood" in stats.data_vars:
        if method not in ("stepping_stone", "smc"):
            raise ValueError(f"an SMC result has only its own estimator ('smc'), not {method!r}")
        return _smc_free_energy(stats)
    if "log_evidence_error" in stats.data_vars:
        if method not in ("stepping_stone", NESTED):
            raise ValueError(
                f"a nested-sampling result has only its own estimator ({NESTED!r}), not {method!r}"
            )
        return nested_free_energy(stats)
    raise ValueError(
        "the result holds no evidence estimate: free_energy() reads replica-exchange "
        "results (sample_stats.replica_log_likelihood), pm.sample_smc results "
        "(sample_stats.log_marginal_likelihood) and nested-sampling results "
        "(sample_stats.log_evidence, log_evidence_error)"
    )
