r"""A log-uniform prior whose bounds may be ``pm.Data``: the default prior of T1.

:math:`\log x \sim U(\log a, \log b)`, i.e. density :math:`1/[x \log(b/a)]` on
:math:`[a, b]`, as a ``pm.CustomDist`` (the exponential of a uniform) with its own
transform to an unconstrained coordinate, the logit of the position of :math:`\log x`
in :math:`[\log a, \log b]`. PyMC's ``Interval`` transform does not accept symbolic
bounds; these bounds may be data containers, so that models of one structure share a
compiled graph across datasets.
"""

from __future__ import annotations

import pymc as pm
import pytensor.tensor as pt
from pymc.logprob.transforms import Transform

__all__ = ["log_uniform"]


class _LogInterval(Transform):
    r"""Unconstrained coordinate of a log-uniform variable on :math:`[e^a, e^b]`.

    :math:`z = \mathrm{logit}\,u`, :math:`u = (\log x - a)/(b - a)`; the bounds may be
    symbolic (``pm.Data``), which PyMC's own ``Interval`` does not allow.
    """

    name = "log_interval"
    ndim_supp = 0

    def __init__(self, log_lower, log_upper) -> None:
        self.a = pt.as_tensor_variable(log_lower)
        self.b = pt.as_tensor_variable(log_upper)

    def forward(self, value, *inputs):
        u = (pt.log(value) - self.a) / (self.b - self.a)
        return pt.log(u) - pt.log1p(-u)

    def backward(self, value, *inputs):
        return pt.exp(self.a + (self.b - self.a) * pt.sigmoid(value))

    def log_jac_det(self, value, *inputs):
        s = pt.sigmoid(value)
        return pt.log(self.b - self.a) + pt.log(s) + pt.log1p(-s) + self.a + (self.b - self.a) * s


def log_uniform(name: str, lower, upper, dims: tuple[str, ...], shape=None) -> pt.TensorVariable:
    """A log-uniform variable ``name`` on [lower, upper] in the current model.

    Parameters
    ----------
    name : str
        Variable name.
    lower, upper : float or TensorVariable
        The bounds (positive; may be ``pm.Data``).
    dims : tuple of str
        Named dims of the variable.
    shape : tuple of int, optional
        Its shape, when not given by ``dims``.
    """
    log_lower, log_upper = pt.log(lower), pt.log(upper)

    def dist(lo, hi, size):
        return pt.exp(pm.Uniform.dist(pt.log(lo), pt.log(hi), size=size))

    return pm.CustomDist(
        name,
        lower,
        upper,
        dist=dist,
        dims=dims or None,
        shape=shape,
        transform=_LogInterval(log_lower, log_upper),
    )
