r"""The figure of a tempered path: where along β the ladder struggles.

Three panels against :math:`\beta` (log scale), one line per chain:

- the mean log-likelihood :math:`\langle\ell\rangle_\beta` with its standard error;
  :math:`\log Z = \int_0^1 \langle\ell\rangle_\beta\,d\beta`, so a jump here is a
  first-order phase transition, where the posterior mass moves from one region to
  another over a narrow range of β (the case tempering mixes torpidly on);
- the heat capacity :math:`C(\beta) = \beta^2\,\mathrm{Var}_\beta[\ell]`; a sharp peak
  marks the same transition, and a ladder needs its levels dense where :math:`C` is
  large;
- the swap acceptance of each adjacent pair of levels, drawn at the geometric mean of
  the pair's β; a pair far below the others is the ladder's bottleneck, the place
  where replicas stop travelling (a chain that makes no round trip usually has one).

On a path that starts from a fitted reference q (``reference="modes"`` or
``"variational"``) the tempered quantity is :math:`\log(\varphi L / q)` rather than the
log-likelihood; the panels read the same way.

A transition that no replica ever crosses leaves no trace here: on a posterior whose
narrow mode the ladder never reaches, the curves are as smooth as on an easy target.
The mode census of :func:`~samplers.evidence.reliability.free_energy_reliability`
looks for that case.

Data: :func:`~samplers.evidence.path.tempering_path` and
:func:`~samplers.replica_exchange.diagnostics.ladder_diagnostics`.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..replica_exchange.diagnostics import ladder_diagnostics
from .path import tempering_path

__all__ = ["plot_tempering_path"]


def plot_tempering_path(idata: xr.DataTree, axes=None):
    r"""Draw :math:`\langle\ell\rangle_\beta`, the heat capacity and the swap rates.

    Parameters
    ----------
    idata : xarray.DataTree
        A replica-exchange result with its tuned draws
        (:func:`samplers.sample_replica_exchange`).
    axes : sequence of three matplotlib Axes, optional
        Where to draw; a new figure (made without pyplot) when None.

    Returns
    -------
    ndarray of matplotlib Axes
        The three panels (module docstring). The title of the swap panel names the
        lowest swap rate of each chain and its β.

    Raises
    ------
    ValueError
        As :func:`~samplers.evidence.path.tempering_path` (not a replica-exchange
        result, a ladder that still changes, too few draws).
    """
    path = tempering_path(idata)
    swaps = ladder_diagnostics(idata)["swap_rate"]
    if axes is None:
        from matplotlib.figure import Figure

        axes = Figure(figsize=(12, 3.6), layout="constrained").subplots(1, 3)
    mean_ax, heat_ax, swap_ax = axes
    beta = path["beta"].values
    positive = beta > 0  # β = 0 cannot sit on a log axis
    bottlenecks = []
    for c, chain in enumerate(path["chain"].values):
        label = f"chain {chain}"
        b = beta[c][positive[c]]
        mean_ax.errorbar(
            b,
            path["mean_log_likelihood"].values[c][positive[c]],
            yerr=path["mean_log_likelihood_mcse"].values[c][positive[c]],
            fmt=".-",
            ms=3,
            label=label,
        )
        heat_ax.plot(b, path["heat_capacity"].values[c][positive[c]], ".-", ms=3, label=label)
        pairs = np.sqrt(beta[c][:-1] * beta[c][1:])
        rate = swaps.values[c]
        drawn = pairs > 0
        swap_ax.plot(pairs[drawn], rate[drawn], ".-", ms=3, label=label)
        worst = int(np.argmin(rate))
        bottlenecks.append(f"{rate[worst]:.2f} at β≈{pairs[worst]:.2g}")
    mean_ax.set(xscale="log", xlabel="β", ylabel="⟨log-likelihood⟩_β", title="mean log-likelihood")
    mean_ax.set_yscale("symlog", linthresh=1.0)
    heat_ax.set(xscale="log", xlabel="β", ylabel="β² Var_β[log-likelihood]", title="heat capacity")
    swap_ax.set(xscale="log", xlabel="β (pair)", ylabel="swap acceptance", ylim=(0, 1.02))
    swap_ax.set_title("lowest swap rate: " + "; ".join(bottlenecks), fontsize="small")
    mean_ax.legend(fontsize="x-small")
    return np.asarray(axes)
