"""Replica exchange, SMC and NUTS on one model, scored against a reference answer.

- :mod:`~samplers.comparison.compare`: :func:`samplers.compare_samplers`;
- :mod:`~samplers.comparison.plotting`: :func:`samplers.plot_comparison`;
- :mod:`~samplers.comparison.reference_posterior`: :class:`samplers.ReferencePosterior`, the
  answer a comparison is scored against (exact draws, evidence, modes);
- :mod:`~samplers.comparison.evaluation_counts`: log-density evaluations per sampler;
- :mod:`~samplers.comparison.targets`: multimodal test targets with exact evidence and
  mode weights (unequal-width modes, three modes, Gaussian shells, the egg box).

The public names are imported from :mod:`samplers`; the modules by their full path.
"""

__all__: list[str] = []
