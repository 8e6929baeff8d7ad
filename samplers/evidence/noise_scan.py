r"""Noise estimation from one replica-exchange run: the free energy as a function of b.

For Gaussian noise with fixed precisions :math:`b_i` the log-likelihood is
:math:`\ell = c - \tfrac12\sum_i b_i r_i^2` with :math:`c = \sum_i \tfrac12\log(b_i/2\pi)`
(:math:`N` observations). The replica at :math:`\beta` then samples the posterior of the
same model with precisions :math:`\beta b_i`, whose evidence follows from the stepping-
stone path :math:`\log Z(\beta) = \log\int\varphi\,e^{\beta\ell}`:

.. math::

    F(\beta b) = -\frac N2\log\beta - (1-\beta)\,c - \log Z(\beta),

which is :math:`F(\beta b) = -\frac n2\log\frac{\beta b}{2\pi} - \log\tilde Z(\beta)` of
S. Tokuda, K. Nagata, M. Okada, J. Phys. Soc. Jpn. 86, 024001 (2017), arXiv:1607.07590
(noise variance and number of peaks from one exchange Monte Carlo run) rewritten for the
tempered likelihood. The noise estimate is the :math:`\beta b` minimising :math:`F`,
found between the levels by reweighting the draws of the level below. The ladder covers
:math:`\beta b \le b` only: give the model a noise smaller than the data's (a larger b)
so that the minimum lies inside; a minimum at β = 1 is flagged in the attrs
(``minimum_at_model_precision``). Valid only when every observed variable is Normal with
a ``sigma`` that depends on no free variable, and the model has no Potentials.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr
from pytensor.graph.traversal import ancestors
from pytensor.tensor.random.basic import NormalRV
from scipy import optimize
from scipy.special import logsumexp

from .free_energy import replica_log_likelihoods
from .thermodynamic import log_evidence_path

__all__ = ["gaussian_noise", "noise_scan", "plot_noise_scan"]


def gaussian_noise(model: pm.Model) -> dict[str, float] | None:
    r"""Fixed Gaussian noise of a model: ``{"n", "log_normalisation", "precision"}``.

    ``log_normalisation`` is :math:`c = \sum_i\tfrac12\log(b_i/2\pi)`; ``precision`` is
    the common :math:`b` when all observations share it, else NaN. ``None`` when the
    likelihood is not purely Gaussian with fixed noise. Potentials tagged
    ``non_finite_guard`` (0, or −∞ where a forward model failed, as added by
    ``measurement_models.hermitian.reject_non_finite``) are not likelihood terms and are
    allowed.
    """
    guards = [p for p in model.potentials if getattr(p.tag, "non_finite_guard", False)]
    if len(guards) != len(model.potentials) or not model.observed_RVs:
        return None
    free = set(model.free_RVs) | set(model.value_vars)
    n, normalisation, precisions = 0, 0.0, []
    for rv in model.observed_RVs:
        if not isinstance(rv.owner.op, NormalRV):
            return None
        sigma = rv.owner.inputs[-1]
        if any(var in free for var in ancestors([sigma])):
            return None
        precision = 1.0 / np.broadcast_to(pt.as_tensor(sigma).eval(), rv.shape.eval()) ** 2
        n += precision.size
        normalisation += float(np.sum(0.5 * np.log(precision / (2 * np.pi))))
        precisions.append(np.ravel(precision))
    precisions = np.concatenate(precisions)
    common = float(precisions[0]) if np.allclose(precisions, precisions[0]) else np.nan
    return {"n": n, "log_normalisation": normalisation, "precision": common}


def _level_below(betas: np.ndarray, beta: float) -> int:
    """Index of the nearest level :math:`\beta_l \\le \beta`."""
    return int(np.clip(np.searchsorted(betas, beta, side="right") - 1, 0, betas.size - 1))


def free_energy_at(
    beta: float, log_lik: np.ndarray, betas: np.ndarray, log_z: np.ndarray, noise: dict
) -> float:
    r""":math:`F(\beta b) = -\frac N2\log\beta - (1-\beta)c - \log Z(\beta)` at any β.

    Between levels, :math:`\log Z(\beta) = \log Z(\beta_l) +
    \log\langle e^{(\beta-\beta_l)\ell}\rangle_{\beta_l}` reweights the draws
    ``log_lik[:, l]`` of the nearest level below (:math:`\beta_l \le \beta <
    \beta_{l+1}`); ``log_z`` is :math:`\log Z` on the ladder (one chain) and ``noise``
    the :func:`gaussian_noise` description.
    """
    level = _level_below(betas, beta)
    shift = (beta - betas[level]) * log_lik[:, level]
    log_z_beta = log_z[level] + logsumexp(shift) - np.log(shift.size)
    return float(
        -0.5 * noise["n"] * np.log(beta) - (1 - beta) * noise["log_normalisation"] - log_z_beta
    )


def _minimising_beta(log_lik: np.ndarray, betas: np.ndarray, log_z: np.ndarray, noise) -> float:
    """β minimising F(βb) (:func:`free_energy_at`, smooth between the levels too)."""

    def f(log_beta: float) -> float:
        return free_energy_at(np.exp(log_beta), log_lik, betas, log_z, noise)

    grid = np.log(betas[1:])
    values = [f(g) for g in grid]
    best = int(np.argmin(values))
    low, high = grid[max(best - 1, 0)], grid[min(best + 1, grid.size - 1)]
    if low == high:
        return float(np.exp(low))
    result = optimize.minimize_scalar(f, bounds=(low, high), method="bounded")
    if high == grid[-1] and high - result.x < 1e-4:
        # the bounded search stops within its tolerance of the top (β = 1), never on
        # it: a minimum there is a minimum at the model's own precision, or beyond it
        return float(np.exp(high))
    return float(np.exp(result.x))


def noise_scan(idata: xr.DataTree, model: pm.Model | None = None) -> xr.Dataset:
    r"""Free energy against noise precision over the whole ladder, from one run.

    Parameters
    ----------
    idata : xarray.DataTree
        A replica-exchange result.
    model : pymc.Model, optional
        Needed only when ``idata`` does not carry the noise description (results of
        :func:`samplers.sample_replica_exchange` do, in the ``free_energy`` group).

    Returns
    -------
    xarray.Dataset
        ``free_energy`` and ``free_energy_mcse`` on ``(chain, level)`` with the
        coordinates ``beta`` and ``noise_precision`` (:math:`\beta b`; the precision
        scale :math:`\beta` when the observations have different :math:`b_i`), level 0
        (β = 0) excluded; per chain, ``best_noise_precision`` and
        ``free_energy_at_best`` (F there) with ``free_energy_at_best_mcse`` (the
        stepping-stone MCSE of the level below; reweighting to b̂ adds a little); attrs
        with the mean and standard error of the estimate and the model's own precision.

    Raises
    ------
    ValueError
        If the likelihood is not Gaussian with fixed noise, or the run's path starts from
        a reference other than the prior.
    """
    if "free_energy" in idata.children:
        reference = idata["free_energy"].attrs.get("reference", "prior")
        if reference != "prior":
            raise ValueError(
                f"noise_scan reads the log-likelihoods of a prior-referenced path; this run's "
                f"path starts from the {reference!r} reference, so its replicas record "
                "log φ + ℓ - log q instead. Run with reference='prior' to scan the noise"
            )
    noise = None
    if model is not None:
        noise = gaussian_noise(model)
    elif "free_energy" in idata.children and "gaussian_noise_n" in idata["free_energy"].attrs:
        attrs = idata["free_energy"].attrs
        noise = {
            "n": int(attrs["gaussian_noise_n"]),
            "log_normalisation": float(attrs["gaussian_noise_log_normalisation"]),
            "precision": float(attrs["gaussian_noise_precision"]),
        }
    if noise is None:
        raise ValueError(
            "noise_scan needs a likelihood that is Gaussian with fixed noise (every observed "
            "variable Normal with a constant sigma, no Potentials); pass model= if the result "
            "does not record it"
        )
    log_lik, beta = replica_log_likelihoods(idata)
    chains = log_lik.sizes["chain"]
    levels = log_lik.sizes["level"]
    values = np.empty((chains, levels - 1))
    errors = np.empty((chains, levels - 1))
    best, f_best, f_best_se = np.empty(chains), np.empty(chains), np.empty(chains)
    for chain in range(chains):
        betas = beta.isel(chain=chain).values
        ll = log_lik.isel(chain=chain).values
        log_z, log_z_se = log_evidence_path(ll, betas)
        b = betas[1:]
        values[chain] = (
            -0.5 * noise["n"] * np.log(b) - (1 - b) * noise["log_normalisation"] - log_z[1:]
        )
        errors[chain] = log_z_se[1:]
        best[chain] = _minimising_beta(ll, betas, log_z, noise)
        f_best[chain] = free_energy_at(best[chain], ll, betas, log_z, noise)
        f_best_se[chain] = log_z_se[_level_below(betas, best[chain])]
    scale = noise["precision"] if np.isfinite(noise["precision"]) else 1.0
    dims = ("chain", "level")
    scan = xr.Dataset(
        {
            "free_energy": (dims, values, {"long_name": "F(βb)", "units": "nats"}),
            "free_energy_mcse": (dims, errors, {"units": "nats"}),
            "best_noise_precision": ("chain", best * scale),
            "free_energy_at_best": ("chain", f_best, {"long_name": "F(b̂)", "units": "nats"}),
            "free_energy_at_best_mcse": ("chain", f_best_se, {"units": "nats"}),
        },
        coords={
            "chain": log_lik["chain"].values,
            "level": np.arange(1, levels),
            "beta": (dims, beta.values[:, 1:]),
            "noise_precision": (dims, beta.values[:, 1:] * scale),
        },
    )
    scan.attrs.update(
        model_noise_precision=noise["precision"],
        n_observations=noise["n"],
        best_noise_precision=float(np.mean(best * scale)),
        minimum_at_model_precision=int(np.any(best >= 1.0)),
        best_noise_precision_se=float(np.std(best * scale, ddof=1) / np.sqrt(chains))
        if chains > 1
        else np.nan,
    )
    return scan


def plot_noise_scan(scan: xr.Dataset, ax=None):
    """Plot F against the noise precision βb for every chain, marking the minimum."""
    if ax is None:
        from matplotlib.figure import Figure

        ax = Figure(figsize=(5, 3.5), layout="constrained").add_subplot()
    for chain in scan["chain"].values:
        row = scan.sel(chain=chain)
        ax.errorbar(
            row["noise_precision"],
            row["free_energy"],
            yerr=row["free_energy_mcse"],
            fmt=".-",
            lw=1,
            label=f"chain {chain}",
        )
    ax.axvline(scan.attrs["best_noise_precision"], color="k", ls="--", lw=1, label="minimum")
    ax.set_xscale("log")
    ax.set_xlabel("noise precision βb")
    ax.set_ylabel("F(βb) [nats]")
    finite = scan["free_energy"].values
    low = np.nanmin(finite)
    ax.set_ylim(low - 5, low + 5 * max(1.0, np.nanstd(finite[finite < low + 50])))
    ax.legend(fontsize="small")
    return ax
