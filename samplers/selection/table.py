r"""The model-selection table: free energies, p(K|D), the decision, and model averages.

For candidate models :math:`K` with free energies :math:`F(K) = -\log p(D|K)` and prior
:math:`p(K)` (uniform by default),

.. math::

    p(K|D) = \frac{\exp(-F(K))\,p(K)}{\sum_{K'} \exp(-F(K'))\,p(K')}.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import numpy as np
import xarray as xr
from scipy.special import logsumexp

from ..evidence.free_energy import FreeEnergy

__all__ = ["model_average", "model_probabilities", "selection_table"]


def model_probabilities(
    free_energies: Sequence[float], log_prior: Sequence[float] | None = None
) -> np.ndarray:
    """Posterior model probabilities :math:`p(K|D) \\propto e^{-F(K)} p(K)`."""
    f = np.asarray(free_energies, dtype=float)
    if not np.all(np.isfinite(f)):
        raise ValueError(f"free energies must be finite, got {f}")
    log_p = -f + (0.0 if log_prior is None else np.asarray(log_prior, dtype=float))
    return np.exp(log_p - logsumexp(log_p))


def model_average(
    draws: Mapping[Hashable, np.ndarray],
    probability: xr.DataArray,
    size: int = 20000,
    rng: np.random.Generator | int | None = None,
) -> np.ndarray:
    r"""Draws of a quantity averaged over the candidate models by :math:`p(K|D)`.

    .. math::

        p(q|D) = \sum_K p(K|D)\, p(q|D, K):

    ``size`` draws from this mixture, each candidate contributing a multinomial number
    of draws (weights ``probability``) sampled with replacement from its own draws. The
    answer that does not rest on one K when F leaves several undecided.

    Parameters
    ----------
    draws : mapping
        Candidate label to its posterior draws of the quantity (any shape; flattened;
        NaN draws, e.g. of a quantity a draw does not define, are left out).
    probability : xarray.DataArray
        p(K|D) along one dimension whose labels are the candidates, e.g.
        ``select_model(...).to_dataset()["probability"]``; every candidate must have draws.
    size : int
        Number of draws returned.
    rng : numpy.random.Generator or int, optional

    Returns
    -------
    numpy.ndarray, shape (size,)
        Draws in random order.

    Raises
    ------
    ValueError
        Candidates without draws or not in ``probability``, probabilities that are not
        finite and non-negative or sum to zero, or a candidate drawn from that has no
        finite draw.
    """
    rng = np.random.default_rng(rng)
    if probability.ndim != 1:
        raise ValueError(
            f"probability must have one dimension (the candidates), got {probability.dims}"
        )
    (dim,) = probability.dims
    labels = {str(label): label for label in probability[dim].values}
    missing = sorted(set(labels) - {str(k) for k in draws})
    unknown = sorted({str(k) for k in draws} - set(labels))
    if missing or unknown:
        raise ValueError(
            f"draws must be given for exactly the candidates {sorted(labels)}; "
            f"missing {missing}, unknown {unknown}"
        )
    weights = np.array([float(probability.sel({dim: labels[str(k)]})) for k in draws])
    if not (np.all(np.isfinite(weights)) and np.all(weights >= 0) and weights.sum() > 0):
        raise ValueError(f"probabilities must be finite, non-negative and not all zero: {weights}")
    counts = rng.multinomial(int(size), weights / weights.sum())
    parts = []
    for (label, values), weight, count in zip(draws.items(), weights, counts, strict=True):
        values = np.ravel(np.asarray(values, dtype=float))
        values = values[np.isfinite(values)]
        if count and values.size == 0:
            raise ValueError(f"candidate {label!r} (p = {weight:.3g}) has no finite draw")
        if count:
            parts.append(rng.choice(values, count))
    return rng.permutation(np.concatenate(parts))


def selection_table(
    free_energies: Mapping[Hashable, FreeEnergy],
    dim: str = "model",
    log_prior: Sequence[float] | None = None,
    tie_tolerance: float = 2.0,
) -> xr.Dataset:
    r"""Tabulate free energies with their MCSE, p(K|D), and choose, or say "undecided".

    The candidates are ranked by :math:`G(K) = F(K) - \log p(K)`. The best one is
    chosen only if every other candidate's :math:`G` exceeds it by more than
    ``tie_tolerance`` times their combined standard error
    :math:`\sqrt{\mathrm{MCSE}_1^2 + \mathrm{MCSE}_2^2}`; otherwise the table says
    ``"undecided"``. A candidate without a finite MCSE is never counted as tied.

    Parameters
    ----------
    free_energies : mapping
        Candidate name to :class:`FreeEnergy`.
    dim : str
        Name of the candidate dimension.
    log_prior : sequence of float, optional
        :math:`\log p(K)` in the mapping's order; uniform if omitted.
    tie_tolerance : float
        Multiple of the combined MCSE within which two candidates count as tied.

    Returns
    -------
    xarray.Dataset
        Along ``dim``: ``free_energy``, ``free_energy_mcse``, ``free_energy_per_chain``
        (with ``chain``; NaN-padded), ``delta_free_energy`` (F minus F of the best),
        ``prior_probability``, ``probability`` (p(K|D)) and ``tied_with_best``. Attrs:
        ``chosen`` (name or ``"undecided"``), ``best``, ``tied`` (comma-separated
        names, the best included), ``decision`` (a sentence), ``candidate_dim``,
        ``method``, ``tie_tolerance``.
    """
    labels = list(free_energies)
    if not labels:
        raise ValueError("no free energies to tabulate")
    n = len(labels)
    log_prior = np.full(n, -np.log(n)) if log_prior is None else np.asarray(log_prior, float)
    if log_prior.shape != (n,):
        raise ValueError(f"log_prior has shape {log_prior.shape}, expected ({n},)")
    values = np.array([free_energies[k].value for k in labels], dtype=float)
    mcse = np.array([free_energies[k].mcse for k in labels], dtype=float)
    chains = max(free_energies[k].per_chain.size for k in labels)
    per_chain = np.full((n, chains), np.nan)
    for i, k in enumerate(labels):
        per_chain[i, : free_energies[k].per_chain.size] = free_energies[k].per_chain

    score = values - log_prior  # G = F - log p(K): lower is more probable
    best = int(np.argmin(score))
    combined = np.sqrt(mcse**2 + mcse[best] ** 2)
    tied = (score - score[best] <= tie_tolerance * combined) & np.isfinite(combined)
    tied[best] = True
    tied_names = [str(labels[i]) for i in np.flatnonzero(tied)]
    if tied.sum() > 1:
        chosen = "undecided"
        decision = (
            f"undecided between {', '.join(tied_names)}: their free energies differ by less "
            f"than {tie_tolerance:g} x their combined MCSE; sample longer to decide"
        )
    else:
        chosen = labels[best]
        others = np.delete(np.arange(n), best)
        margin = (score[others] - score[best]) / combined[others]
        decision = f"{dim} = {chosen}" + (
            f": next best is {np.nanmin(margin):.1f} combined MCSE away"
            if np.isfinite(margin).any()
            else " (no MCSE available: ties were not checked)"
        )
    return xr.Dataset(
        {
            "free_energy": (dim, values, {"long_name": "F = -log p(D|model)", "units": "nats"}),
            "free_energy_mcse": (dim, mcse, {"units": "nats"}),
            "free_energy_per_chain": ((dim, "chain"), per_chain, {"units": "nats"}),
            "delta_free_energy": (
                dim,
                values - values[best],
                {"long_name": "F - F(best)", "units": "nats"},
            ),
            "prior_probability": (dim, np.exp(log_prior - logsumexp(log_prior))),
            "probability": (dim, model_probabilities(values, log_prior), {"long_name": "p(K|D)"}),
            "tied_with_best": (dim, tied),
        },
        coords={dim: labels, "chain": np.arange(chains)},
        attrs={
            "chosen": str(chosen),
            "best": str(labels[best]),
            "tied": ", ".join(tied_names),
            "decision": decision,
            "candidate_dim": dim,
            "tie_tolerance": float(tie_tolerance),
            "method": ", ".join(sorted({fe.method for fe in free_energies.values()})),
        },
    )
