"""The eigen-solvers as functions: NumPy in, NumPy out; PyTensor in, a batched graph out.

NumPy inputs run the kernels of :mod:`.kernels` over the broadcast leading (batch)
dimensions; PyTensor inputs build a graph of the Ops of :mod:`.ops` wrapped in
``Blockwise``. :func:`reject_non_finite` guards a model against failed solves.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from pytensor.tensor.blockwise import Blockwise

from .ops import EighOp, ThermalAverageOp, TransitionLinesOp, as_float64

__all__ = [
    "eigh",
    "eigvalsh",
    "hermitian_parts",
    "reject_non_finite",
    "thermal_average",
    "transition_lines",
]

_eigh = Blockwise(EighOp())
_thermal = {flag: Blockwise(ThermalAverageOp(flag)) for flag in (True, False)}
_lines = Blockwise(TransitionLinesOp())


def _symbolic(*values) -> bool:
    return any(isinstance(value, pt.Variable) for value in values)


def _numpy_batched(op_type, core_ndims, *arrays):
    """Evaluate a kernel over broadcast leading (batch) dims with NumPy."""
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    batch = np.broadcast_shapes(
        *(a.shape[: a.ndim - nd] for a, nd in zip(arrays, core_ndims, strict=True))
    )
    arrays = [
        np.broadcast_to(a, batch + a.shape[a.ndim - nd :])
        for a, nd in zip(arrays, core_ndims, strict=True)
    ]
    results = None
    for index in np.ndindex(*batch):
        out = op_type.kernel(*(a[index] for a in arrays))
        out = out if isinstance(out, tuple) else (out,)
        if results is None:
            results = [np.empty(batch + np.shape(o)) for o in out]
        for store, value in zip(results, out, strict=True):
            store[index] = value
    return tuple(results)


def _check_square(name: str, *matrices) -> None:
    for m in matrices:
        shape = np.shape(m) if not isinstance(m, pt.Variable) else None
        ndim = m.type.ndim if isinstance(m, pt.Variable) else len(shape)
        if ndim < 2:
            raise ValueError(f"{name}: a matrix needs at least two dimensions, got {ndim}")
        if shape is not None and shape[-1] != shape[-2]:
            raise ValueError(f"{name}: matrices must be square, got shape {shape}")


def eigh(h_re, h_im):
    r"""Eigenvalues and eigenvectors of :math:`H = \mathrm{sym}(X) + i\,\mathrm{asym}(Y)`.

    Parameters
    ----------
    h_re, h_im : array_like or TensorVariable, shape (..., n, n)
        Real and imaginary parts (symmetrised by the Op); leading dims broadcast.

    Returns
    -------
    w : (..., n)
        Eigenvalues, ascending.
    v_re, v_im : (..., n, n)
        Eigenvectors in the columns; the largest component of each is real positive.
        Gradients through them are exact for quantities that depend on the degenerate
        sets' projectors only (see the module docstring).
    """
    _check_square("eigh", h_re, h_im)
    if _symbolic(h_re, h_im):
        return tuple(_eigh(as_float64(h_re), as_float64(h_im)))
    return _numpy_batched(EighOp, (2, 2), h_re, h_im)


def eigvalsh(h_re, h_im):
    """Eigenvalues (ascending) of the Hermitian matrix; Hellmann–Feynman gradient.

    See :func:`eigh` for the arguments.
    """
    return eigh(h_re, h_im)[0]


def thermal_average(h_re, h_im, a_re, a_im, beta):
    r"""Thermal averages :math:`\langle A_m\rangle_{\beta_t} =
    \operatorname{Tr}[A_m e^{-\beta_t H}] / \operatorname{Tr}[e^{-\beta_t H}]`.

    Parameters
    ----------
    h_re, h_im : (..., n, n)
        The Hamiltonian (real and imaginary parts).
    a_re, a_im : (..., m, n, n)
        Hermitian observables, in the same basis.
    beta : (..., t)
        Inverse temperatures in the inverse energy unit of H (H in K: β = 1/T).

    Returns
    -------
    (..., t, m)
        Exact gradient in H, A and β, also where levels are degenerate (observables
        given as NumPy arrays are constants: no gradient in A is built).
    """
    _check_square("thermal_average", h_re, h_im)
    if _symbolic(h_re, h_im, a_re, a_im, beta):
        args = [as_float64(v) for v in (h_re, h_im, a_re, a_im, beta)]
        return _thermal[_symbolic(a_re, a_im)](*args)
    beta = np.asarray(beta, dtype=float)
    if np.any(beta < 0):
        raise ValueError("thermal_average: inverse temperatures must be ≥ 0")
    return _numpy_batched(ThermalAverageOp, (2, 2, 3, 3, 1), h_re, h_im, a_re, a_im, beta)[0]


def transition_lines(he_re, he_im, hg_re, hg_im, t_re, t_im):
    r"""Lines between the levels of two Hamiltonians (e.g. excited and ground nuclear states).

    Parameters
    ----------
    he_re, he_im : (..., ne, ne)
        Upper-state Hamiltonian.
    hg_re, hg_im : (..., ng, ng)
        Lower-state Hamiltonian.
    t_re, t_im : (..., q, ne, ng)
        Transition operators :math:`T_q` (matrix elements :math:`\langle e|T_q|g\rangle`
        in the bases of the two Hamiltonians).

    Returns
    -------
    positions : (..., ne, ng)
        :math:`E^e_i - E^g_j` (levels ascending).
    intensities : (..., ne, ng)
        :math:`\sum_q |\langle e_i|T_q|g_j\rangle|^2`; lines between two sets of
        degenerate levels share the set total equally.
    """
    _check_square("transition_lines", he_re, he_im, hg_re, hg_im)
    args = (he_re, he_im, hg_re, hg_im, t_re, t_im)
    if _symbolic(*args):
        return tuple(_lines(*(as_float64(v) for v in args)))
    return _numpy_batched(TransitionLinesOp, (2, 2, 2, 2, 3, 3), *args)


def hermitian_parts(matrix) -> tuple[np.ndarray, np.ndarray]:
    """Real and imaginary parts of a complex NumPy matrix, as the Ops take them."""
    matrix = np.asarray(matrix)
    return np.ascontiguousarray(matrix.real, dtype=float), np.ascontiguousarray(
        matrix.imag, dtype=float
    )


def reject_non_finite(values, name: str, fill: float = 1.0):
    r"""Turn a failed forward model into a log-density of :math:`-\infty`, never NaN.

    Inside a ``pm.Model`` context, adds ``pm.Potential(name, 0 or -inf)`` (``-inf``
    when any entry of ``values`` is not finite) and returns ``values`` with non-finite
    entries replaced by ``fill``, so that the likelihood built on them stays finite and
    the total log-density is exactly :math:`-\infty` at a failed solve. The potential
    is tagged ``non_finite_guard``, so that code which needs a purely Gaussian
    likelihood (the noise scan) knows it is not a likelihood term.
    """
    values = pt.as_tensor_variable(values)
    finite = pt.isfinite(values)
    guard = pm.Potential(name, pt.switch(pt.all(finite), np.float64(0.0), np.float64(-np.inf)))
    guard.tag.non_finite_guard = True  # not a likelihood term: samplers may ignore it
    return pt.switch(finite, values, fill)
