r"""Absolute intensity of K particle populations, and its Fisher information.

.. math::

    I(q) = \sum_{k=1}^{K} \phi_k\, P_k(q) + b \quad [\text{cm}^{-1}],

with :math:`P_k` the scattering of population :math:`k` per unit volume fraction
(:func:`~measurement_models.sas.form_factors.population_intensity`). The forward model
of :mod:`measurement_models.sas`: NumPy in and out for NumPy input, a PyTensor graph for
tensor input.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pytensor.tensor as pt

from ..array_backend import is_symbolic
from .form_factors import FormFactor, population_intensity

__all__ = ["fisher_information", "forward", "parameter_names"]


def parameter_names(form: str | FormFactor = "sphere") -> list[str]:
    """Per-population parameters of a form factor: ``radius``, ``scale`` and its own."""
    return ["radius", "scale", *FormFactor.of(form).shape_parameters]


def forward(q, *, radius, scale, background=0.0, form: str | FormFactor = "sphere", **shape):
    r"""Absolute intensity :math:`I(q) = \sum_k \phi_k P_k(q) + b` [cm⁻¹].

    Expected counts are :math:`t\,I(q)`.

    Parameters
    ----------
    q : array_like, shape (n,)
        Scattering vector [Å⁻¹].
    radius, scale : array_like or TensorVariable, shape (..., K)
        Radius [Å] and volume fraction of each population; leading axes (draws)
        broadcast.
    background : array_like or TensorVariable, shape (...)
        Flat background [cm⁻¹].
    form : str or FormFactor
        Form factor and its settings (SLDs, size distribution).
    **shape
        ``pd`` (polydisperse spheres) or ``thickness`` (core–shell spheres), shape
        (..., K).

    Returns
    -------
    ndarray or TensorVariable, shape (..., n)
        NumPy for NumPy inputs, a PyTensor graph otherwise.

    Raises
    ------
    ValueError
        Shape parameters that the form factor does not take, or missing ones.
    """
    form = FormFactor.of(form)
    wanted = set(form.shape_parameters)
    given = {k for k, v in shape.items() if v is not None}
    if given != wanted:
        raise ValueError(
            f"the {form.name} form factor takes shape parameter(s) {sorted(wanted)}, "
            f"got {sorted(given)}"
        )
    symbolic = is_symbolic(q, radius, scale, background, *shape.values())
    asarray = pt.as_tensor_variable if symbolic else (lambda v: np.asarray(v, dtype=float))
    radius, scale, background = asarray(radius), asarray(scale), asarray(background)
    per_population = population_intensity(
        asarray(q), form, radius, shape.get("pd"), shape.get("thickness")
    )
    return (scale[..., None] * per_population).sum(axis=-2) + background[..., None]


def fisher_information(
    q,
    measurement_time: float,
    params: Mapping[str, object],
    *,
    form: str | FormFactor = "sphere",
    names: Sequence[str] | None = None,
    step: float = 1e-6,
) -> np.ndarray:
    r"""Expected Fisher information of Poisson counts, :math:`\mathcal I = t\,J^\top
    \mathrm{diag}(1/I)\,J`.

    :math:`J_{ia} = \partial I(q_i)/\partial\theta_a` by central differences (relative
    step ``step``). The inverse is the Laplace (Bernstein–von Mises) posterior
    covariance: posterior widths :math:`\propto t^{-1/2}` at fixed :math:`\theta`.

    Parameters
    ----------
    q : array_like, shape (n,)
    measurement_time : float
    params : mapping
        ``radius``, ``scale`` (length K), ``background`` and the shape parameters.
    form : str or FormFactor
    names : sequence of str, optional
        Differentiate with respect to these, in this order; a per-population name
        stands for all its K entries. Default: all in ``params``.
    step : float
        Relative step of the central differences.

    Returns
    -------
    ndarray, shape (d, d)
    """
    names = list(params if names is None else names)
    values = {k: np.atleast_1d(np.asarray(v, dtype=float)).copy() for k, v in params.items()}
    values["background"] = values["background"].reshape(())
    shape_names = FormFactor.of(form).shape_parameters

    def intensity(vals):
        shape = {k: vals[k] for k in shape_names}
        return forward(
            q,
            radius=vals["radius"],
            scale=vals["scale"],
            background=vals["background"],
            form=form,
            **shape,
        )

    columns = []
    for name in names:
        flat = values[name].reshape(-1)
        for j in range(flat.size):
            h = step * max(abs(flat[j]), 1e-3)
            plus = {k: v.copy() for k, v in values.items()}
            minus = {k: v.copy() for k, v in values.items()}
            plus[name].reshape(-1)[j] += h
            minus[name].reshape(-1)[j] -= h
            columns.append((intensity(plus) - intensity(minus)) / (2 * h))
    jacobian = np.stack(columns, axis=-1)
    return measurement_time * jacobian.T @ (jacobian / intensity(values)[:, None])
