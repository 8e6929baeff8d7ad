"""Model selection by Bayesian free energy.

- :mod:`~samplers.selection.select`: :func:`select_model` samples every candidate
  model and chooses by F, or says "undecided" (with the round-trip caution for
  replica exchange); writing and plotting its result;
- :mod:`~samplers.selection.table`: the table itself (F ± MCSE, p(K|D), the tie rule)
  and :func:`model_average` over candidates.
"""

from .select import plot_model_selection, select_model, write_model_selection
from .table import model_average, model_probabilities, selection_table

__all__ = [
    "model_average",
    "model_probabilities",
    "plot_model_selection",
    "select_model",
    "selection_table",
    "write_model_selection",
]
