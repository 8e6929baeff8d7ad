"""Bayesian free energies F = -log p(D) and what one run of the ladder says about noise.

- :mod:`~samplers.evidence.thermodynamic`: log Z from a ladder by stepping stone,
  thermodynamic integration and bridge sampling, with batch-means standard errors;
- :mod:`~samplers.evidence.free_energy`: :func:`free_energy` of a replica-exchange or
  SMC result, :class:`FreeEnergy` (value, MCSE, per chain);
- :mod:`~samplers.evidence.noise_scan`: F as a function of the noise precision from
  one run, and the noise estimate;
- :mod:`~samplers.evidence.integration_noise`: one noise precision per dataset of a
  Bayesian integration, each by its own noise scan.
"""

from .free_energy import FreeEnergy, free_energy
from .integration_noise import noise_precisions_by_scan
from .noise_scan import noise_scan, plot_noise_scan

__all__ = ["FreeEnergy", "free_energy", "noise_precisions_by_scan", "noise_scan", "plot_noise_scan"]
