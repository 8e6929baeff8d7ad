"""The figure of a sampler comparison: :func:`plot_comparison`."""

from __future__ import annotations

import numpy as np
import xarray as xr

from .compare import SAMPLER_DIM

__all__ = ["plot_comparison"]


def plot_comparison(dataset: xr.Dataset, title: str | None = None):
    """Summarise a comparison in six panels; returns a :class:`matplotlib.figure.Figure`.

    Panels: F per chain and mean ± MCSE (with the reference F), worst R-hat (1.01
    marked), smallest bulk ESS per second (log), log-density evaluations per effective
    draw (log), error of the posterior means in reference sds, and mode coverage
    (pooled bar, per-chain points). Panels without data say so.
    """
    from matplotlib.figure import Figure

    names = [str(s) for s in dataset[SAMPLER_DIM].values]
    x = np.arange(len(names))
    colors = [f"C{i}" for i in range(len(names))]
    fig = Figure(figsize=(12, 6.5), layout="constrained")
    axes = fig.subplots(2, 3).ravel()

    def finish(ax, label, empty=False):
        ax.set_xticks(x, names, rotation=15)
        ax.set_xlim(-0.6, len(names) - 0.4)
        ax.set_title(label, fontsize="medium")
        if empty:
            ax.text(0.5, 0.5, "not available", ha="center", va="center", transform=ax.transAxes)

    ax = axes[0]
    f = dataset["free_energy"].values
    has_f = np.isfinite(f).any()
    if has_f:
        per_chain = dataset["free_energy_per_chain"].values
        for i in range(len(names)):
            ax.plot(np.full(per_chain.shape[1], x[i]) + 0.15, per_chain[i], ".", color=colors[i])
            if np.isfinite(f[i]):
                ax.errorbar(
                    x[i],
                    f[i],
                    yerr=dataset["free_energy_mcse"].values[i],
                    fmt="o",
                    color=colors[i],
                    capsize=3,
                )
        if "free_energy_error" in dataset:
            ref = f - dataset["free_energy_error"].values
            ref = ref[np.isfinite(ref)]
            if ref.size:
                ax.axhline(ref[0], color="k", ls="--", lw=1, label="reference")
                ax.legend(fontsize="small")
        ax.set_ylabel("F = −log p(D) (nats)")
    finish(ax, "free energy: mean ± MCSE, chains (dots)", not has_f)

    ax = axes[1]
    ax.bar(x, dataset["r_hat_max"].values, color=colors)
    ax.axhline(1.01, color="k", ls="--", lw=1)
    ax.set_ylim(bottom=min(0.99, float(np.nanmin(dataset["r_hat_max"].values)) - 0.01))
    ax.set_ylabel("max R-hat")
    finish(ax, "worst R-hat (1.01 dashed)")

    ax = axes[2]
    ax.bar(x, dataset["ess_bulk_per_second"].values, color=colors)
    ax.set_yscale("log")
    ax.set_ylabel("min bulk ESS / wall second")
    finish(ax, "efficiency in time")

    ax = axes[3]
    ax.bar(x, dataset["evaluations_per_effective_draw"].values, color=colors)
    ax.set_yscale("log")
    ax.set_ylabel("log-density evaluations / min bulk ESS")
    finish(ax, "cost per effective draw")

    ax = axes[4]
    has_ref = "mean_error_in_sd" in dataset
    if has_ref:
        ax.bar(x, dataset["mean_error_in_sd"].values, color=colors)
        ax.set_ylabel("max |mean − ref| / ref sd")
    finish(ax, "error of posterior means", not has_ref)

    ax = axes[5]
    has_modes = "mode_coverage" in dataset
    if has_modes:
        ax.bar(x, dataset["mode_coverage"].values, color=colors, alpha=0.6, label="pooled")
        per_chain = dataset["mode_coverage_per_chain"].values
        for i in range(len(names)):
            jitter = np.linspace(-0.2, 0.2, per_chain.shape[1])
            ax.plot(x[i] + jitter, per_chain[i], "k.", label="per chain" if i == 0 else None)
        ax.set_ylim(0, 1.05)
        ax.set_ylabel("fraction of reference modes visited")
        ax.legend(fontsize="small")
    finish(ax, "mode coverage", not has_modes)

    if title:
        fig.suptitle(title)
    return fig
