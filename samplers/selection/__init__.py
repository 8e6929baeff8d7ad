"""Model selection by Bayesian free energy.

- :mod:`~samplers.selection.select`: :func:`samplers.select_model` samples every candidate
  model and chooses by F, or says "undecided" (with the round-trip caution for
  replica exchange);
- :mod:`~samplers.selection.table`: the table itself (F ± MCSE, p(K|D), the tie rule)
  and :func:`samplers.model_average` over candidates;
- :mod:`~samplers.selection.checkpoint`: finished candidates kept on disk, so that an
  interrupted selection continues candidate by candidate;
- :mod:`~samplers.selection.files` and :mod:`~samplers.selection.plotting`: the result
  as one netCDF file, and its figure.

The public names are imported from :mod:`samplers`; the modules by their full path.
"""

__all__: list[str] = []
