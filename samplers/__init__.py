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
- :mod:`samplers.stopping`: when to stop measuring (:func:`precision_curve`: posterior sd
  against accumulated scans; :func:`stopping_point`: target or plateau;
  :func:`predict_precision`, :func:`required_exposure`: planning the count time).
- :mod:`samplers.batch`: one model fitted to many spectra on a Dask cluster
  (:func:`samplers.batch.fit_batch`, ``bayesmeas batch``; imported on demand).

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
    model_average,
    model_probabilities,
    sample_free_energy,
    selection_table,
)
from .noise_scan import noise_scan, plot_noise_scan
from .reference_posterior import ReferencePosterior
from .replica_exchange import ReplicaExchange
from .replica_exchange_run import sample_replica_exchange
from .selection import plot_model_selection, select_model
from .stopping import (
    PrecisionLaw,
    StoppingPoint,
    accumulate,
    laplace_sampler,
    nuts_sampler,
    precision_curve,
    precision_law,
    predict_precision,
    required_exposure,
    stopping_point,
)

__all__ = [
    "FreeEnergy",
    "NUTSSettings",
    "PrecisionLaw",
    "ReferencePosterior",
    "ReplicaExchange",
    "ReplicaExchangeSettings",
    "SMCSettings",
    "StoppingPoint",
    "accumulate",
    "compare_samplers",
    "free_energy",
    "ladder_diagnostics",
    "laplace_sampler",
    "model_average",
    "model_probabilities",
    "noise_precisions_by_scan",
    "noise_scan",
    "nuts_sampler",
    "plot_comparison",
    "plot_model_selection",
    "plot_noise_scan",
    "precision_curve",
    "precision_law",
    "predict_precision",
    "required_exposure",
    "sample_free_energy",
    "sample_replica_exchange",
    "select_model",
    "selection_table",
    "stopping_point",
]
