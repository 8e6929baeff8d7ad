r"""The XANES edge model :math:`\mu(E)`: arctan step, pseudo-Voigt white line, Gaussians.

Every function evaluates NumPy arrays to NumPy arrays and PyTensor variables to a graph
(:func:`~measurement_models.array_backend.array_module`). The shapes are area-normalised
with full width at half maximum (FWHM) :math:`w`:

.. math::

    G(E; c, w) = \sqrt{\frac{4\ln 2}{\pi}}\,\frac1w\,
        \exp\!\left[-4\ln 2\,\frac{(E-c)^2}{w^2}\right],\qquad
    L(E; c, w) = \frac{w/2\pi}{(E-c)^2 + w^2/4},\qquad
    \mathrm{pV} = \eta L + (1-\eta) G,

and the edge model (:mod:`measurement_models.xanes`) is

.. math::

    \mu(E) = H\left[\tfrac12 + \tfrac1\pi\arctan\frac{E - E_0}{\Gamma/2}\right]
    + A\,\mathrm{pV}(E;\,E_0 + \Delta E,\,\omega,\,\eta)
    + \sum_{k=1}^{K} F_k\,G(E;\,E_k,\,W_k) + c_0 + c_1\,(E - E_0).
"""

from __future__ import annotations

import math

import numpy as np
import pytensor.tensor as pt

from ..array_backend import array_module

__all__ = [
    "FORWARD_PARAMETERS",
    "centroid",
    "components",
    "forward",
    "gaussian",
    "lorentzian",
    "pseudo_voigt",
    "step",
]

#: The parameters :func:`forward` takes, in the order of :func:`components`' inputs.
FORWARD_PARAMETERS = ("H", "E0", "Gamma", "F", "Ek", "W", "A", "dE", "omega", "eta", "c0", "c1")
_LN2 = math.log(2.0)


def _prepare(energy, *values):
    xp = array_module(energy, *values)
    asarray = pt.as_tensor_variable if xp is pt else np.asarray
    return xp, asarray(energy), [None if v is None else asarray(v) for v in values]


def gaussian(energy, center, fwhm):
    r"""Area-normalised Gaussian :math:`G(E; c, w)` of FWHM ``fwhm`` (broadcasting)."""
    xp = array_module(energy, center, fwhm)
    u = (energy - center) / fwhm
    return math.sqrt(4 * _LN2 / math.pi) / fwhm * xp.exp(-4 * _LN2 * u**2)


def lorentzian(energy, center, fwhm):
    r"""Area-normalised Lorentzian :math:`L(E; c, w) = (w/2\pi) / ((E-c)^2 + w^2/4)`."""
    return fwhm / (2 * math.pi) / ((energy - center) ** 2 + fwhm**2 / 4)


def pseudo_voigt(energy, center, fwhm, eta):
    r"""Area-normalised pseudo-Voigt :math:`\eta L + (1 - \eta) G`, common FWHM."""
    return eta * lorentzian(energy, center, fwhm) + (1 - eta) * gaussian(energy, center, fwhm)


def step(energy, H, E0, Gamma):
    r"""Arctan edge step :math:`H[\tfrac12 + \tfrac1\pi \arctan((E-E_0)/(\Gamma/2))]`."""
    xp = array_module(energy, H, E0, Gamma)
    return H * (0.5 + xp.arctan((energy - E0) / (Gamma / 2)) / math.pi)


def components(
    energy, *, H, E0, Gamma, F=None, Ek=None, W=None, A=None, dE=None, omega=None, eta=None,
    c0=0.0, c1=0.0,
) -> dict:  # fmt: skip
    """Each term of :func:`forward` separately.

    Parameters
    ----------
    energy : array_like, shape (n,)
        Energies (eV).
    H, E0, Gamma, A, dE, omega, eta, c0, c1 : array_like, shape (...)
        Scalars or one value per draw (leading axes broadcast).
    F, Ek, W : array_like, shape (..., K), optional
        Areas, centres and FWHMs of the Gaussian features (none: K = 0).

    Returns
    -------
    dict
        ``step``, ``background`` (shape (..., n)), ``gaussians`` (shape (..., K, n), or
        absent for K = 0) and ``white_line`` (shape (..., n), if ``A`` is given).
        NumPy for NumPy inputs, PyTensor graphs otherwise.

    Raises
    ------
    ValueError
        A white line without all of ``A``, ``dE``, ``omega``, ``eta``, or Gaussian
        features without all of ``F``, ``Ek``, ``W``.
    """
    scalars = (H, E0, Gamma, A, dE, omega, eta, c0, c1)
    _, energy, values = _prepare(energy, *scalars, F, Ek, W)
    H, E0, Gamma, A, dE, omega, eta, c0, c1, F, Ek, W = (
        None if v is None else v[..., None] for v in values
    )
    out = {"step": step(energy, H, E0, Gamma), "background": c0 + c1 * (energy - E0)}
    out["background"] = out["background"] + 0 * energy
    if A is not None:
        if dE is None or omega is None or eta is None:
            raise ValueError("the white line needs A, dE, omega and eta")
        out["white_line"] = A * pseudo_voigt(energy, E0 + dE, omega, eta)
    if F is not None:
        if Ek is None or W is None:
            raise ValueError("the Gaussian features need F, Ek and W")
        out["gaussians"] = F * gaussian(energy, Ek, W)
    return out


def forward(
    energy, *, H, E0, Gamma, F=None, Ek=None, W=None, A=None, dE=None, omega=None, eta=None,
    c0=0.0, c1=0.0,
):  # fmt: skip
    r"""The edge model :math:`\mu(E)` (module docstring), shape ``(..., n)``.

    Arguments as in :func:`components`; NumPy in, NumPy out; PyTensor in, graph out.
    """
    parts = components(
        energy, H=H, E0=E0, Gamma=Gamma, F=F, Ek=Ek, W=W, A=A, dE=dE, omega=omega, eta=eta,
        c0=c0, c1=c1,
    )  # fmt: skip
    total = parts["step"] + parts["background"]
    if "white_line" in parts:
        total = total + parts["white_line"]
    if "gaussians" in parts:
        total = total + parts["gaussians"].sum(axis=-2)
    return total


def centroid(F, Ek, mask=None):
    r"""Area-weighted centroid :math:`\sum_k F_k E_k / \sum_k F_k` (per draw).

    ``mask`` (shape (..., K), bool) selects the features counted (e.g. pre-edge ones);
    NaN where it selects none.
    """
    F, Ek = np.asarray(F, dtype=float), np.asarray(Ek, dtype=float)
    weight = F if mask is None else np.where(mask, F, 0.0)
    total = weight.sum(axis=-1)
    safe = np.where(total > 0, total, 1.0)
    return np.where(total > 0, (weight * Ek).sum(axis=-1) / safe, np.nan)
