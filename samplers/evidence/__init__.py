"""Bayesian free energies F = -log p(D) and what one run of the ladder says about noise.

- :mod:`~samplers.evidence.thermodynamic`: log Z from a ladder by stepping stone,
  thermodynamic integration and bridge sampling, with ESS-based standard errors;
- :mod:`~samplers.evidence.free_energy`: :func:`samplers.free_energy` of a replica-exchange or
  SMC result, :class:`samplers.FreeEnergy` (value, MCSE, per chain);
- :mod:`~samplers.evidence.noise_scan`: F as a function of the noise precision from
  one run, and the noise estimate;
- :mod:`~samplers.evidence.integration_noise`: one noise precision per dataset of a
  Bayesian integration, each by its own noise scan;
- :mod:`~samplers.evidence.chib`: Gibbs sampling with data augmentation and Chib's
  evidence from its draws (for models whose full conditionals are known).

The public names are imported from :mod:`samplers`; the modules by their full path.
"""

__all__: list[str] = []
