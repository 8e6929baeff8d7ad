r"""Ladders of inverse temperatures: construction, swap probabilities, equalisation.

A ladder :math:`0 = \beta_0 < \dots < \beta_L = 1` holds one replica per level. This
module holds what acts on ladders alone (no positions, no random numbers): the starting
ladders, the swap acceptance probability of neighbouring levels, the schedule update
that equalises swap rejection (Syed et al., JRSS B 84, 321 (2022), Algorithm 4) and the
round-trip count of the replica map. :mod:`samplers.replica_exchange.kernel` uses them.
"""

from __future__ import annotations

import numpy as np
from scipy.interpolate import PchipInterpolator

__all__ = [
    "NO_OVERLAP",
    "count_round_trips",
    "default_ladder",
    "equalised_ladder",
    "first_level_for_gap",
    "ideal_round_trip_rate",
    "swap_probabilities",
    "tempered_log_density",
    "validate_ladder",
]


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
#: the two are taken not to overlap (the ladder adaptation of
#: :class:`samplers.replica_exchange.kernel.ParallelTempering` then restarts the ladder).
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


def ideal_round_trip_rate(swap_rates: np.ndarray) -> np.ndarray:
    r"""Round trips per swap round that non-reversible swaps make on a ladder with these
    swap rates when the moves within every level mix perfectly.

    .. math:: \tau = \Bigl(2 + 2 \sum_l \frac{r_l}{1 - r_l}\Bigr)^{-1}, \qquad
              r_l = 1 - \bar\alpha_l,

    summed over all replicas of one ladder (Syed, Bouchard-Côté, Deligiannidis & Doucet,
    "Non-reversible parallel tempering", J. R. Stat. Soc. B 84, 321 (2022), Theorem 3,
    under efficient local exploration); it tends to :math:`1/(2 + 2\Lambda)` as the
    ladder is refined. A ladder whose replicas make far fewer round trips than this is
    held back by its moves within levels, not by its swaps.

    Parameters
    ----------
    swap_rates : ndarray, shape (..., pairs)
        Mean swap acceptance :math:`\bar\alpha_l` of each neighbouring pair.

    Returns
    -------
    ndarray, shape (...)
        Zero where some pair never swaps.
    """
    swap_rates = np.asarray(swap_rates, dtype=float)
    with np.errstate(divide="ignore"):
        odds = np.where(swap_rates > 0, (1.0 - swap_rates) / swap_rates, np.inf)
    return 1.0 / (2.0 + 2.0 * odds.sum(axis=-1))


def tempered_log_density(
    log_prior: np.ndarray, log_lik: np.ndarray, betas: np.ndarray
) -> np.ndarray:
    """log φ + β ℓ of every level, and -inf wherever either term is not finite."""
    if np.isfinite(log_lik).all() and np.isfinite(log_prior).all():
        return log_prior + betas * log_lik
    ok = np.isfinite(log_prior) & np.isfinite(log_lik)
    with np.errstate(invalid="ignore"):
        return np.where(ok, log_prior + betas * log_lik, -np.inf)
