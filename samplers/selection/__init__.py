"""Model selection by Bayesian free energy.

- :mod:`~samplers.selection.select`: :func:`samplers.select_model` samples every candidate
  model and chooses by F, or says "undecided" (with the round-trip caution for
  replica exchange); writing and plotting its result;
- :mod:`~samplers.selection.table`: the table itself (F ± MCSE, p(K|D), the tie rule)
  and :func:`samplers.model_average` over candidates.

The public names are imported from :mod:`samplers`; the modules by their full path.
"""

__all__: list[str] = []
