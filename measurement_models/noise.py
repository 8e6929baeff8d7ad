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
    sigma: float | None,
    parameters: ParameterTable,
    priors: Mapping[str, PriorSpec] | None = None,
) -> np.float64 | np.ndarray | pt.TensorVariable:
    """The noise standard deviation a likelihood should use.

    Parameters
    ----------
    data : xarray.Dataset
        The measurement; its ``sigma`` variable is used when ``sigma`` is None.
    sigma : float or None
        Known noise standard deviation.
    parameters : ParameterTable
        The model's table, whose ``sigma`` row gives the prior when σ is estimated.
    priors : mapping, optional
        Prior overrides (may override ``sigma``).

    Returns
    -------
    float64, ndarray or TensorVariable
        ``sigma`` as float64 (a Python float exact in float32, such as 0.5, would make
        PyTensor evaluate the likelihood in single precision); else the data's per-point
        ``sigma``; else a new ``sigma`` variable in the current model.

    Raises
    ------
    ValueError
        If ``sigma`` is not positive and finite.
    """
    if sigma is not None:
        if not np.isfinite(sigma) or sigma <= 0:
            raise ValueError(f"sigma must be positive and finite, got {sigma!r}")
        return np.float64(sigma)
    if "sigma" in data.data_vars:
        return data["sigma"].values
    return parameters.add_priors(["sigma"], priors)["sigma"]
