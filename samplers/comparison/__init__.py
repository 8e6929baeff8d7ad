"""Replica exchange, SMC and NUTS on one model, scored against a reference answer.

- :mod:`~samplers.comparison.compare`: :func:`compare_samplers`, :func:`plot_comparison`;
- :mod:`~samplers.comparison.reference_posterior`: :class:`ReferencePosterior`, the
  answer a comparison is scored against (exact draws, evidence, modes);
- :mod:`~samplers.comparison.evaluation_counts`: log-density evaluations per sampler.
"""

from .compare import compare_samplers, plot_comparison
from .reference_posterior import ReferencePosterior

__all__ = ["ReferencePosterior", "compare_samplers", "plot_comparison"]
