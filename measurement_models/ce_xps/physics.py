r"""The Ce 3d cluster physics: Hamiltonians, photoemission lines and the broadened spectrum.

NumPy in, NumPy out; PyTensor in, a differentiable graph out (through
:mod:`measurement_models.core_level`), with any common leading (batch) shape. The
definitions are in the docstring of :mod:`measurement_models.ce_xps`.
"""

from __future__ import annotations

import numpy as np
import pytensor.tensor as pt

from .. import core_level
from ..array_backend import array_module

__all__ = [
    "CE_3D_SPIN_ORBIT",
    "CONFIGURATIONS",
    "check_configurations",
    "forward",
    "hamiltonians",
    "lines",
]

#: Numbers of configurations a model may have.
CONFIGURATIONS = (2, 3)
#: Ce 3d spin–orbit doublet: (splitting ζ [eV], intensity ratio 3d3/2 : 3d5/2).
CE_3D_SPIN_ORBIT = (18.6, 2.0 / 3.0)

_SQRT14, _SQRT26 = np.sqrt(14.0), np.sqrt(26.0)


def check_configurations(n_configurations: int, u_ff) -> None:
    """``ValueError`` unless ``n_configurations`` is 2 or 3 and ``u_ff`` is given for 3 only."""
    if n_configurations not in CONFIGURATIONS:
        raise ValueError(
            f"n_configurations must be one of {CONFIGURATIONS}, got {n_configurations!r}"
        )
    if n_configurations == 3 and u_ff is None:
        raise ValueError("the three-configuration model needs u_ff")
    if n_configurations == 2 and u_ff is not None:
        raise ValueError("the two-configuration model has no u_ff (it is the U_ff → ∞ limit)")


def hamiltonians(delta, v, u_fc, u_ff=None, n_configurations: int = 3):
    r"""Initial- and final-state Hamiltonians :math:`H_i, H_f`, shape (..., m, m).

    Parameters
    ----------
    delta, v, u_fc : array_like or TensorVariable, shape (...)
        :math:`\Delta, V, U_{fc}` [eV]; leading axes (draws) broadcast.
    u_ff : array_like or TensorVariable, shape (...), optional
        :math:`U_{ff}` [eV], for three configurations only.
    n_configurations : {2, 3}

    Returns
    -------
    h_initial, h_final : (..., m, m)
        NumPy for NumPy inputs, PyTensor graphs otherwise.
    """
    check_configurations(n_configurations, u_ff)
    core_level.check_line_parameters({"delta": delta, "v": v, "u_fc": u_fc, "u_ff": u_ff})
    xp = array_module(delta, v, u_fc, u_ff)
    if xp is pt:
        values = [pt.as_tensor_variable(x) for x in (delta, v, u_fc, 0.0 if u_ff is None else u_ff)]
        delta, v, u_fc, u_ff_ = (pt.cast(x, "float64") for x in values)
        stack = pt.stack
    else:
        delta, v, u_fc, u_ff_ = np.broadcast_arrays(
            *(np.asarray(x, dtype=float) for x in (delta, v, u_fc, 0.0 if u_ff is None else u_ff))
        )
        stack = np.stack
    zero = 0.0 * delta
    initial = [zero, delta]
    final = [zero, delta - u_fc]
    hopping = [_SQRT14 * v]
    if n_configurations == 3:
        initial.append(2 * delta + u_ff_)
        final.append(2 * delta + u_ff_ - 2 * u_fc)
        hopping.append(_SQRT26 * v)
    hop = stack(hopping, axis=-1)
    return (
        core_level.charge_transfer_hamiltonian(stack(initial, axis=-1), hop),
        core_level.charge_transfer_hamiltonian(stack(final, axis=-1), hop),
    )


def lines(delta, v, u_fc, u_ff=None, n_configurations: int = 3):
    r"""Photoemission lines :math:`\epsilon_f = E_f - E_g` (ascending) and weights.

    Arguments as :func:`hamiltonians`. Returns ``(positions, weights)``, each of shape
    (..., m), the weights :math:`|\langle f|g\rangle|^2` summing to one.
    """
    h_initial, h_final = hamiltonians(delta, v, u_fc, u_ff, n_configurations)
    return core_level.xps_lines(h_initial, h_final)


def forward(
    energy,
    *,
    delta,
    v,
    u_fc,
    gamma,
    amplitude=1.0,
    background=0.0,
    u_ff=None,
    n_configurations: int = 3,
    resolution: float | None = None,
    spin_orbit: tuple[float, float] | None = None,
):
    r"""The spectrum :math:`A\sum_f w_f [V(E-\epsilon_f) + r V(E-\epsilon_f-\zeta)] + B`.

    Parameters
    ----------
    energy : array_like, shape (n,)
        Energy grid [eV] (:math:`E_f - E_g` axis), a constant.
    delta, v, u_fc, gamma, amplitude, background : array_like or TensorVariable, shape (...)
        :math:`\Delta, V, U_{fc}, \Gamma` [eV], :math:`A`, :math:`B`.
    u_ff : array_like or TensorVariable, shape (...), optional
        :math:`U_{ff}` [eV] (three configurations only).
    n_configurations : {2, 3}
    resolution : float, optional
        Gaussian instrument standard deviation [eV] (known); None: Lorentzian lines.
    spin_orbit : (float, float), optional
        ``(splitting, ratio)`` of the 3d3/2 copy, e.g. :data:`CE_3D_SPIN_ORBIT`.

    Returns
    -------
    ndarray or TensorVariable, shape (..., n)

    Raises
    ------
    ValueError
        (NumPy inputs) non-finite parameters, Γ ≤ 0, A < 0; (any input) an unknown
        number of configurations, ``u_ff`` missing for three or given for two
        configurations, a bad energy grid, resolution or spin-orbit setting.
    """
    core_level.check_line_parameters(
        {"gamma": gamma, "amplitude": amplitude, "background": background}
    )
    positions, weights = lines(delta, v, u_fc, u_ff, n_configurations)
    xp = array_module(positions, gamma, amplitude, background)
    asarray = pt.as_tensor_variable if xp is pt else np.asarray
    spectrum = core_level.broadened_spectrum(
        energy, positions, weights, gamma, resolution=resolution, spin_orbit=spin_orbit
    )
    return asarray(amplitude)[..., None] * spectrum + asarray(background)[..., None]
