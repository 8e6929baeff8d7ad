"""Gaussian noise level of a dataset: known, read from the data, or a parameter."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pytensor.tensor as pt
import xarray as xr

from .parameters import ParameterTable, PriorSpec

__all__ = ["noise_sd"]


def noise_sd(
    data: xr.Dataset,
    sigma: float | np.ndarray | pt.TensorVariable | None,
    parameters: ParameterTable | None = None,
    priors: Mapping[str, PriorSpec] | None = None,
    *,
    prefix: str = "",
    fixed: Mapping[str, object] | None = None,
) -> np.float64 | np.ndarray | pt.TensorVariable:
    """The noise standard deviation a likelihood should use.

    In order: ``sigma`` when given (or ``fixed["sigma"]``: a noise level held fixed is a
    known one); else the data's per-point ``sigma`` variable; else, with a parameter
    table, a new variable ``prefix + "sigma"`` with the table's prior.

    Parameters
    ----------
    data : xarray.Dataset
        The measurement; its ``sigma`` variable is used when ``sigma`` is None.
    sigma : float, ndarray, TensorVariable or None
        Known noise standard deviation: one number, one per point, or a PyTensor
        variable (as :func:`~measurement_models.integration.integrated_model` passes
        :math:`b^{-1/2}` for an estimated precision :math:`b`), used as it is.
    parameters : ParameterTable, optional
        The model's table, whose ``sigma`` row gives the prior when σ is estimated.
        Without it (a likelihood on its own), a missing noise level is an error.
    priors : mapping, optional
        Prior overrides (may override ``sigma``).
    prefix : str
        Prepended to the name of a new ``sigma`` variable.
    fixed : mapping, optional
        Parameters held fixed; only its ``sigma`` entry is read here.

    Returns
    -------
    float64, ndarray or TensorVariable
        ``sigma`` as float64 (a Python float exact in float32, such as 0.5, would make
        PyTensor evaluate the likelihood in single precision); else the data's per-point
        ``sigma``; else a new ``sigma`` variable in the current model.

    Raises
    ------
    ValueError
        If ``sigma`` is not positive and finite, is given both as ``sigma`` and in
        ``fixed``, or is nowhere to be found and there is no table to estimate it with.
    """
    if fixed and "sigma" in fixed:
        if sigma is not None:
            raise ValueError("sigma given twice: as sigma= and in fixed; give it once")
        sigma = fixed["sigma"]
    if isinstance(sigma, pt.Variable):
        return sigma
    if sigma is not None:
        values = np.asarray(sigma, dtype=np.float64)
        if not np.all(np.isfinite(values)) or np.any(values <= 0):
            raise ValueError(f"sigma must be positive and finite, got {sigma!r}")
        return np.float64(sigma) if values.ndim == 0 else values
    if "sigma" in data.data_vars:
        return data["sigma"].values
    if parameters is None:
        raise ValueError("no noise level: pass sigma, or give the data a 'sigma' variable")
    return parameters.add_priors(["sigma"], priors, prefix=prefix)["sigma"]
