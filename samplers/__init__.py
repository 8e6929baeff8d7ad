"""Replica exchange inside PyMC, Bayesian free energies, noise estimation, model selection.

The public API, importable from ``samplers``:

- :class:`ReplicaExchange`: a PyMC step method (non-reversible parallel tempering);
  :func:`sample_replica_exchange` runs it and attaches free energies, and with
  ``checkpoint=`` keeps the run in a file that the same call continues from
  (:func:`checkpoint_progress`; Ctrl-C raises :class:`SamplingInterrupted`, another
  run's checkpoint :class:`CheckpointMismatch`);
  :func:`default_ladder` and :func:`first_level_for_gap` make starting ladders.
- :func:`free_energy`: F = -log p(D) ± MCSE from replica-exchange or SMC results.
- :func:`noise_scan`: F as a function of the noise precision from one run.
- :func:`ladder_diagnostics`: swap rates, round trips, communication barrier;
  :func:`plot_tempering_path`: mean log-likelihood, heat capacity and swap rates
  against β, where a phase transition or a bottleneck of the ladder shows.
- :func:`select_model`: sample candidate models, choose by F (or say "undecided");
  :func:`model_average` over them.
- :func:`compare_samplers`: replica exchange, SMC and NUTS on one model, scored against
  a :class:`ReferencePosterior`; :func:`plot_comparison` draws it.
- :func:`noise_precisions_by_scan`: one noise precision per dataset, for integration.
- :mod:`samplers.stopping`: when to stop measuring (:func:`precision_curve`: posterior sd
  against accumulated scans; :func:`stopping_point`: target or plateau;
  :func:`predict_precision`, :func:`required_exposure`: planning the count time).
- :func:`sample_nested`: dynesty nested sampling of a PyMC model, an independent
  evidence check (optional dependency ``bayesmeas[nested]``).
- :class:`ReplicaExchangeSettings`, :class:`SMCSettings`, :class:`NestedSettings`,
  :class:`NUTSSettings`: the sampler settings (:mod:`samplers.settings`).

The code is grouped by concept: :mod:`samplers.replica_exchange` (kernel, tempered
density, step method, sampling, diagnostics), :mod:`samplers.evidence` (free energies,
noise scans), :mod:`samplers.selection`, :mod:`samplers.comparison`,
:mod:`samplers.stopping` and :mod:`samplers.settings`. None of them knows any physics
or imports :mod:`measurement_models`. The application layer :mod:`samplers.app` (the
``bayesmeas`` command line, model-selection jobs, batch fits on Dask, the benchmark, the
case-study runner) stands on both; nothing below it imports it.
"""

from .comparison.compare import compare_samplers
from .comparison.plotting import plot_comparison
from .comparison.reference_posterior import ReferencePosterior
from .evidence.free_energy import FreeEnergy, free_energy
from .evidence.integration_noise import noise_precisions_by_scan
from .evidence.nested import sample_nested
from .evidence.noise_scan import noise_scan, plot_noise_scan
from .evidence.path_plotting import plot_tempering_path
from .replica_exchange.checkpoint import CheckpointMismatch, checkpoint_progress
from .replica_exchange.diagnostics import ladder_diagnostics
from .replica_exchange.ladder import default_ladder, first_level_for_gap
from .replica_exchange.run_record import SamplingInterrupted
from .replica_exchange.sampling import sample_replica_exchange
from .replica_exchange.step import ReplicaExchange
from .selection.plotting import plot_model_selection
from .selection.select import select_model
from .selection.table import model_average, model_probabilities, selection_table
from .settings import (
    NestedSettings,
    NUTSSettings,
    ReplicaExchangeSettings,
    SMCSettings,
    sample_free_energy,
)
from .stopping.accumulation import accumulate
from .stopping.planning import PrecisionLaw, precision_law, predict_precision, required_exposure
from .stopping.posterior_samplers import laplace_sampler, nuts_sampler
from .stopping.precision import precision_curve
from .stopping.rule import StoppingPoint, stopping_point

__all__ = [
    "CheckpointMismatch",
    "FreeEnergy",
    "NUTSSettings",
    "NestedSettings",
    "PrecisionLaw",
    "ReferencePosterior",
    "ReplicaExchange",
    "ReplicaExchangeSettings",
    "SMCSettings",
    "SamplingInterrupted",
    "StoppingPoint",
    "accumulate",
    "checkpoint_progress",
    "compare_samplers",
    "default_ladder",
    "first_level_for_gap",
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
    "plot_tempering_path",
    "precision_curve",
    "precision_law",
    "predict_precision",
    "required_exposure",
    "sample_free_energy",
    "sample_nested",
    "sample_replica_exchange",
    "select_model",
    "selection_table",
    "stopping_point",
]
