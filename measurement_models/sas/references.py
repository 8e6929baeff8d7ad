"""Published values the SAS model reproduces, and the settings of its case study.

The values are the tests that sasmodels ships in its model files (sasmodels 1.1.0,
``sasmodels.models.sphere`` and ``sasmodels.models.core_shell_sphere``, the ``tests``
list of each:
parameters, q and the intensity its kernels must give, printed to 6–9 digits), each
reproduced by :func:`measurement_models.sas.forward`. sasmodels' parameters map to this
package's as ``sld``/``sld_core`` → ``FormFactor.sld``, ``radius_pd`` → ``pd`` (Gaussian
nodes, ``radius_pd_n`` → ``n_points``, sasmodels' default ``radius_pd_nsigma = 3`` →
``n_sigmas``), ``scale`` → ``scale``; sasmodels' default background is 0.001 cm⁻¹.
"""

from __future__ import annotations

import numpy as np

from ..contract import Reference
from .form_factors import FormFactor

__all__ = ["REFERENCES"]

_SASMODELS = "sasmodels 1.1.0, sasmodels.models.{} (the tests list of the model file)"

#: ``{name: Reference}``: sasmodels' published test values (checked by the zoo-wide
#: harness) and the simulated measurement of the case study (settings).
REFERENCES: dict[str, Reference] = {
    "sasmodels_sphere": Reference(
        source=_SASMODELS.format("sphere"),
        params={
            "radius": [120.0],
            "scale": [1.0],
            "background": 0.0,
            "form": FormFactor("sphere", sld=6.0, sld_solvent=1.0),
        },
        structure={"form": "sphere", "n_populations": 1},
        x=[0.01, 0.1, 0.2],
        expected=[1.34836265e4, 6.20114062, 1.04733914e-1],
        rtol=1e-8,
        description="sphere, R = 120 Å, SLD 6 in 1, scale 1, background 0 (9 digits)",
    ),
    "sasmodels_sphere_defaults": Reference(
        source=_SASMODELS.format("sphere"),
        params={
            "radius": [50.0],
            "scale": [1.0],
            "background": 0.001,
            "form": FormFactor("sphere", sld=1.0, sld_solvent=6.0),
        },
        structure={"form": "sphere", "n_populations": 1},
        x=[0.2],
        expected=[0.726362],
        rtol=1e-6,
        description="sphere at sasmodels' defaults (R = 50 Å, SLD 1 in 6, background "
        "0.001 cm⁻¹); printed to 6 digits",
    ),
    "sasmodels_polydisperse_sphere": Reference(
        source=_SASMODELS.format("sphere"),
        params={
            "radius": [120.0],
            "scale": [1.0],
            "background": 0.0,
            "pd": [0.2],
            "form": FormFactor(
                "polydisperse_sphere",
                sld=6.0,
                sld_solvent=1.0,
                distribution="gaussian",
                n_points=45,
                n_sigmas=3.0,
            ),
        },
        structure={"form": "polydisperse_sphere", "n_populations": 1},
        x=[0.01, 0.1, 0.2],
        expected=[1.74395295e4, 3.68016987, 2.28843099e-1],
        rtol=1e-8,
        description="sphere with Gaussian radii, R = 120 Å, radius_pd = 0.2 on 45 nodes "
        "over ±3σ (9 digits)",
    ),
    "sasmodels_core_shell_sphere": Reference(
        source=_SASMODELS.format("core_shell_sphere"),
        params={
            "radius": [60.0],
            "scale": [1.0],
            "background": 0.0,
            "thickness": [10.0],
            "form": FormFactor("core_shell_sphere", sld=1.0, sld_shell=2.0, sld_solvent=3.0),
        },
        structure={"form": "core_shell_sphere", "n_populations": 1},
        x=[0.4],
        expected=[0.000698838],
        rtol=1e-6,
        description="core–shell sphere, core 60 Å, shell 10 Å, SLDs 1, 2 in 3, background "
        "0 (6 digits)",
    ),
    "sphere_study": Reference(
        source="this package's simulated measurement in the setting of Y. Hayashi, "
        "S. Katakami, S. Kuwamoto, K. Nagata, M. Mizumaki, M. Okada, J. Phys. Soc. Jpn. "
        "92, 094002 (2023), arXiv:2303.04983 (whose exact settings were not available); "
        "the SLDs are those of sasmodels' sphere test",
        params={"radius": [100.0], "scale": [0.01], "background": 0.01},
        structure={"form": "sphere", "n_populations": 1},
        x=np.geomspace(0.002, 0.3, 200),
        description="10 nm spheres, Δρ = 5e-6 Å⁻² (SLD 6 in 1), φ = 1 %, b = 0.01 cm⁻¹, "
        "200 q log-spaced over 0.002–0.3 Å⁻¹ (qR = 0.2–30), as in reduced SAXS data",
    ),
}
