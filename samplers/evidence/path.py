r"""The tempering path of a replica-exchange run, and whether its chains agree on it.

Along the power posteriors :math:`\pi_\beta \propto \varphi\, e^{\beta\ell}` (prior
:math:`\varphi`, log-likelihood :math:`\ell`) the log-evidence and its first two
derivatives are

.. math::

    \frac{d \log Z(\beta)}{d\beta} = \langle \ell \rangle_\beta, \qquad
    \frac{d^2 \log Z(\beta)}{d\beta^2} = \frac{d \langle \ell \rangle_\beta}{d\beta}
    = \mathrm{Var}_\beta[\ell],

so :math:`\mathrm{Var}_\beta[\ell]` is the heat capacity of statistical physics up to the
factor :math:`\beta^2` (energy :math:`-\ell`, temperature :math:`1/\beta`). Where a mode
takes the posterior mass over from another at some :math:`\beta_c` (a first-order phase
transition in :math:`\beta`), :math:`\langle\ell\rangle_\beta` jumps and
:math:`\mathrm{Var}_\beta[\ell]` peaks there; replicas at those levels flip between the
two phases rarely, and chains that sit in different phases at the same level disagree on
:math:`\langle\ell\rangle_\beta` by more than their Monte Carlo errors allow (Woodard,
Schmidler & Huber, Electron. J. Probab. 14, 780 (2009), on the torpid mixing of tempering
across such transitions).

:func:`tempering_path` gives the curves of every chain, with ESS-based standard
errors, and, where the chains ran one ladder, for each level a :math:`\chi^2` test of
their agreement on :math:`\langle\ell\rangle_\beta`:

.. math::

    \chi^2_l = \sum_c \frac{(\bar\ell_{c,l} - \hat\ell_l)^2}{s_{c,l}^2}, \qquad
    \hat\ell_l = \frac{\sum_c \bar\ell_{c,l}/s_{c,l}^2}{\sum_c 1/s_{c,l}^2},

with :math:`C - 1` degrees of freedom for :math:`C` chains (:math:`s_{c,l}` the
ESS-based standard error of chain :math:`c`'s mean at level :math:`l`).
:func:`free_energy_agreement` is the same test on the chains' free energies. Both are
statistics for the user and for the reliability verdict; neither decides on its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import xarray as xr
from scipy.stats import chi2

from ..replica_exchange.stats import LEVEL_DIM, replica_stats
from .thermodynamic import mean_standard_error

if TYPE_CHECKING:
    from .free_energy import FreeEnergy

__all__ = ["free_energy_agreement", "tempering_path"]


def _agreement(means: np.ndarray, errors: np.ndarray) -> tuple[float, float]:
    """χ² of chain means about their precision-weighted mean, and its upper p-value."""
    if means.size < 2:
        return np.nan, np.nan
    if np.any(errors <= 0) or not np.all(np.isfinite(errors)):
        return (np.inf, 0.0) if np.ptp(means) > 0 else (0.0, 1.0)
    weights = 1.0 / errors**2
    centre = np.sum(weights * means) / np.sum(weights)
    statistic = float(np.sum(weights * (means - centre) ** 2))
    return statistic, float(chi2.sf(statistic, means.size - 1))


def tempering_path(idata: xr.DataTree) -> xr.Dataset:
    r"""Mean and variance of the log-likelihood at every level of every chain.

    Parameters
    ----------
    idata : xarray.DataTree
        A replica-exchange result (:func:`samplers.sample_replica_exchange`, or
        ``pm.sample(step=ReplicaExchange(...))``) whose recorded draws kept one ladder
        per chain (the tuned draws).

    Returns
    -------
    xarray.Dataset
        Along ``chain`` and ``level``:

        - ``beta``: the chain's ladder (each chain tunes its own);
        - ``mean_log_likelihood`` :math:`\bar\ell_{c,l}` and ``mean_log_likelihood_mcse``,
          its ESS-based standard error;
        - ``log_likelihood_variance`` :math:`\mathrm{Var}_\beta[\ell]` and
          ``heat_capacity`` :math:`\beta^2\,\mathrm{Var}_\beta[\ell]`;

        and along ``level``, when every chain ran the same ladder (a fixed ``betas``),
        ``chain_disagreement`` :math:`\chi^2_l` and its p-value ``chain_agreement_p``
        with :math:`C-1` degrees of freedom (NaN with one chain or with ladders that
        differ: the levels of different ladders are different distributions).

    Raises
    ------
    ValueError
        If the result is not a replica-exchange result, its ladder still changes across
        the draws, or it has fewer than 4 draws per chain (no standard error).
    """
    stats = replica_stats(idata, ("replica_log_likelihood",))
    log_lik = stats["replica_log_likelihood"].transpose("chain", "draw", LEVEL_DIM)
    values = log_lik.values
    if not np.all(np.isfinite(values)):
        raise ValueError("the stored replica log-likelihoods contain NaN or inf")
    if "beta" in stats.data_vars and "draw" in stats["beta"].dims:
        raise ValueError("the ladder changes across the recorded draws; use tuned draws")
    beta = np.broadcast_to(stats["beta"].transpose(..., LEVEL_DIM).values, values[:, 0, :].shape)
    means = values.mean(axis=1)
    errors = np.stack([mean_standard_error(chain) for chain in values])
    variance = values.var(axis=1, ddof=1)
    levels = values.shape[2]
    disagreement = np.full((levels, 2), np.nan)
    if np.allclose(beta, beta[0], rtol=1e-12, atol=0.0):
        disagreement = np.array([_agreement(means[:, i], errors[:, i]) for i in range(levels)])
    return xr.Dataset(
        {
            "beta": (("chain", LEVEL_DIM), np.array(beta)),
            "mean_log_likelihood": (("chain", LEVEL_DIM), means),
            "mean_log_likelihood_mcse": (("chain", LEVEL_DIM), errors),
            "log_likelihood_variance": (("chain", LEVEL_DIM), variance),
            "heat_capacity": (("chain", LEVEL_DIM), beta**2 * variance),
            "chain_disagreement": (LEVEL_DIM, disagreement[:, 0]),
            "chain_agreement_p": (LEVEL_DIM, disagreement[:, 1]),
        },
        coords={"chain": log_lik["chain"].values, LEVEL_DIM: np.arange(levels)},
        attrs={
            "definition": "mean and variance of the log-likelihood under the power "
            "posterior at each level; heat_capacity = beta^2 Var_beta[log-likelihood]"
        },
    )


def free_energy_agreement(estimate: FreeEnergy) -> tuple[float, float]:
    r"""Whether the chains' free energies agree within their Monte Carlo errors.

    Parameters
    ----------
    estimate : FreeEnergy
        With ``per_chain`` and ``per_chain_mcse`` (as replica exchange gives).

    Returns
    -------
    (float, float)
        :math:`\chi^2 = \sum_c (F_c - \hat F)^2 / s_c^2` about the precision-weighted
        mean :math:`\hat F`, and its p-value with :math:`C - 1` degrees of freedom
        (NaN, NaN with one chain). A small p-value means the chains disagree by more
        than their standard errors allow: some chain explored a part of the space that
        another did not, and the combined MCSE understates the error.

    Raises
    ------
    ValueError
        If the estimate has no per-chain standard errors.
    """
    if estimate.per_chain_mcse is None:
        raise ValueError("the free energy has no per-chain MCSE (SMC gives none)")
    return _agreement(np.asarray(estimate.per_chain), np.asarray(estimate.per_chain_mcse))
