r"""Bayesian free energy :math:`F = -\log p(D)` with a Monte Carlo standard error.

Supported results: ``pm.sample_smc`` (PyMC's sequential Monte Carlo). SMC estimates
:math:`\log p(D)` per chain as :math:`\sum_s \log \frac{1}{N}\sum_i w_i^{(s)}` over
its tempering stages; PyMC stores it in ``sample_stats.log_marginal_likelihood`` as a
ragged array, one row per chain, NaN for every stage but the last (β = 1).

Each chain is an independent estimate, so

.. math::

    F = -\frac{1}{C}\sum_{c=1}^{C} \log \hat p_c(D), \qquad
    \mathrm{MCSE}(F) = \frac{\mathrm{sd}_c\{\log \hat p_c(D)\}}{\sqrt{C}}.

The MCSE needs at least two chains; with one it is NaN. SMC's log-evidence is biased
low (F biased high) when its particles miss posterior mass, which the spread across
chains reveals only in part: run several chains and compare samplers when in doubt.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

__all__ = ["FreeEnergy", "free_energy"]


@dataclass(frozen=True)
class FreeEnergy:
    """A free energy estimate.

    Attributes
    ----------
    value : float
        :math:`F = -\\log p(D)`, mean over chains.
    mcse : float
        Monte Carlo standard error of ``value`` (NaN with one chain).
    per_chain : ndarray, shape (chains,)
        The estimate of each independent chain.
    method : str
        How it was estimated (``"smc"``).
    """

    value: float
    mcse: float
    per_chain: np.ndarray
    method: str

    def __str__(self) -> str:
        return (
            f"F = {self.value:.3f} ± {self.mcse:.3f} ({self.method}, {self.per_chain.size} chains)"
        )


def free_energy(idata: xr.DataTree) -> FreeEnergy:
    """Free energy from a sampling result.

    Parameters
    ----------
    idata : xarray.DataTree
        Result of ``pm.sample_smc``.

    Returns
    -------
    FreeEnergy

    Raises
    ------
    ValueError
        If the result holds no evidence estimate (not an SMC run), or a chain never
        reached β = 1.
    """
    try:
        stats = idata["sample_stats"]
    except KeyError:
        raise ValueError("the result has no sample_stats group") from None
    if "log_marginal_likelihood" not in stats.data_vars:
        raise ValueError(
            "the result holds no evidence estimate: free_energy() reads results of "
            "pm.sample_smc (sample_stats.log_marginal_likelihood)"
        )
    raw = stats["log_marginal_likelihood"].values
    rows = [raw] if raw.dtype != object and raw.ndim == 1 else list(raw)
    per_chain = []
    for chain, row in enumerate(rows):
        values = np.asarray(list(np.ravel(row)) if np.ndim(row) else [row], dtype=float)
        finite = values[np.isfinite(values)]
        if finite.size == 0:
            raise ValueError(
                f"chain {chain} has no finite log marginal likelihood (β = 1 not reached)"
            )
        per_chain.append(-finite[-1])
    per_chain = np.asarray(per_chain)
    mcse = per_chain.std(ddof=1) / np.sqrt(per_chain.size) if per_chain.size > 1 else np.nan
    return FreeEnergy(float(per_chain.mean()), float(mcse), per_chain, "smc")
