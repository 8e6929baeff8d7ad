"""Replica exchange inside PyMC, Bayesian free energies, noise estimation, model selection.

- :class:`ReplicaExchange`: a PyMC step method (non-reversible parallel tempering);
  :func:`sample_replica_exchange` runs it and attaches free energies.
- :func:`free_energy`: F = -log p(D) ± MCSE from replica-exchange or SMC results.
- :func:`noise_scan`: F as a function of the noise precision from one run.
- :func:`ladder_diagnostics`: swap rates, round trips, communication barrier.
- :func:`compare_samplers`: replica exchange, SMC and NUTS on one model, scored against
  a :class:`ReferencePosterior`; :func:`plot_comparison` draws it.
- :func:`noise_precisions_by_scan`: one noise precision per dataset, for integration.
- :func:`select_model`: sample candidate models, choose by F (or say "undecided").

This package knows nothing about physics; its command-line front end
(:mod:`samplers.cli`) runs the jobs that :mod:`measurement_models` declares.
"""

from .comparison import NUTSSettings, compare_samplers, plot_comparison
from .free_energy import FreeEnergy, free_energy
from .integration_noise import noise_precisions_by_scan
from .ladder_diagnostics import ladder_diagnostics
from .model_selection import (
    ReplicaExchangeSettings,
    SMCSettings,
    model_probabilities,
    sample_free_energy,
    selection_table,
)
from .noise_scan import noise_scan, plot_noise_scan
from .reference_posterior import ReferencePosterior
from .replica_exchange import ReplicaExchange
from .replica_exchange_run import sample_replica_exchange
from .selection import plot_model_selection, select_model

__all__ = [
    "FreeEnergy",
    "NUTSSettings",
    "ReferencePosterior",
    "ReplicaExchange",
    "ReplicaExchangeSettings",
    "SMCSettings",
    "compare_samplers",
    "free_energy",
    "ladder_diagnostics",
    "model_probabilities",
    "noise_precisions_by_scan",
    "noise_scan",
    "plot_comparison",
    "plot_model_selection",
    "plot_noise_scan",
    "sample_free_energy",
    "sample_replica_exchange",
    "select_model",
    "selection_table",
]
