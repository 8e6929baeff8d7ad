"""The application layer: what needs both the inference core and the physics.

The command line (:mod:`~samplers.app.cli`, ``bayesmeas``), the model-selection jobs it
runs (:mod:`~samplers.app.jobs`), batch fits on a Dask cluster
(:mod:`~samplers.app.batch`, :mod:`~samplers.app.batch_worker`), the sampler benchmark
(:mod:`~samplers.app.benchmark`) and the case-study runner
(:mod:`~samplers.app.case_studies`). This sub-package is the only part of ``samplers``
that imports :mod:`measurement_models`; the rest of ``samplers`` knows no physics
(``tests/test_layers.py`` keeps it so).
"""

__all__: list[str] = []
