"""Free energies and model selection for PyMC models.

Today the free energy comes from PyMC's sequential Monte Carlo (``pm.sample_smc``).
This package knows nothing about physics; its command-line front end
(:mod:`samplers.cli`) runs the jobs that :mod:`measurement_models` declares.
"""

from .free_energy import FreeEnergy, free_energy
from .model_selection import SMCSettings, model_probabilities, sample_free_energy, selection_table

__all__ = [
    "FreeEnergy",
    "SMCSettings",
    "free_energy",
    "model_probabilities",
    "sample_free_energy",
    "selection_table",
]
