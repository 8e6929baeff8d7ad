"""Physics measurement models as PyMC model factories.

Each measurement is one small module (``linear``, ``spectral``, ...) with a parameter
table, a forward model in PyTensor, priors and likelihood that can be added to any
``pm.Model``, ``build_model`` and ``simulate``. Measured data are ``xarray.Dataset``
objects checked by :func:`validate_dataset`. This package does not depend on
``samplers``: a model is a plain ``pm.Model`` that any PyMC sampler can run.
"""

from . import (
    ce_xps,
    core_level,
    crystal_field,
    data_assimilation,
    hermitian,
    linear,
    mossbauer,
    nio_cluster,
    nmr_t1,
    sas,
    spectral,
    stevens,
    xafs_io,
    xanes,
)
from .data import load_text, make_dataset, validate_dataset
from .parameters import Parameter, ParameterTable, Prior
from .registry import MODELS, get_model

__all__ = [
    "MODELS",
    "Parameter",
    "ParameterTable",
    "Prior",
    "ce_xps",
    "core_level",
    "crystal_field",
    "data_assimilation",
    "get_model",
    "hermitian",
    "linear",
    "load_text",
    "make_dataset",
    "mossbauer",
    "nio_cluster",
    "nmr_t1",
    "sas",
    "spectral",
    "stevens",
    "validate_dataset",
    "xafs_io",
    "xanes",
]
