"""The Hermitian eigen-solver Ops and their numba implementations.

Each Op's ``perform`` runs a NumPy kernel of :mod:`.kernels`; the numba backend runs a
compiled copy of the same kernel (registered with
``register_funcify_default_op_cache_key``, so that PyTensor caches it on disk and never
falls back to object mode). Every Op has ``infer_shape`` and a gufunc signature (the
batched functions wrap them in ``Blockwise``), and the forward Ops have a ``pullback``
that is itself an Op of the same kind.
"""

from __future__ import annotations

import types

import numba
import numpy as np
import pytensor.tensor as pt
from pytensor.gradient import DisconnectedType, disconnected_type
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.link.numba.dispatch import basic as numba_basic
from pytensor.link.numba.dispatch.basic import register_funcify_default_op_cache_key
from pytensor.tensor.utils import _parse_gufunc_signature

from . import kernels

__all__ = [
    "EighOp",
    "EighVJPOp",
    "ThermalAverageOp",
    "ThermalAverageVJPOp",
    "TransitionLinesOp",
    "TransitionLinesVJPOp",
    "as_float64",
]


def as_float64(value) -> pt.TensorVariable:
    """``value`` as a float64 PyTensor variable (the Ops compute in float64)."""
    return pt.as_tensor_variable(value).astype("float64")


def _zeros_if_disconnected(outputs, cotangents):
    return [
        o.zeros_like() if isinstance(c.type, DisconnectedType) else c
        for o, c in zip(outputs, cotangents, strict=True)
    ]


class _KernelOp(Op):
    """An Op whose `perform` and numba implementation are one NumPy kernel.

    Subclasses set ``gufunc_signature``, ``kernel`` (a function of the core inputs
    returning a tuple of core outputs), ``input_ndims`` and ``output_ndims``.
    """

    __props__ = ()
    kernel = None
    input_ndims: tuple[int, ...] = ()
    output_ndims: tuple[int, ...] = ()

    def make_node(self, *inputs):
        inputs = [as_float64(value) for value in inputs]
        for value, ndim in zip(inputs, self.input_ndims, strict=True):
            if value.type.ndim != ndim:
                raise ValueError(
                    f"{type(self).__name__}: an input has {value.type.ndim} dimensions, "
                    f"expected {ndim} (use the batched function, not the core Op)"
                )
        # static output shapes from the signature's named dimensions, where inputs know them
        input_sig, output_sig = _parse_gufunc_signature(self.gufunc_signature)
        sizes: dict[str, int] = {}
        for value, names in zip(inputs, input_sig, strict=True):
            for name, size in zip(names, value.type.shape, strict=True):
                if size is not None:
                    sizes[name] = size
        outputs = [
            pt.tensor(dtype="float64", shape=tuple(sizes.get(name) for name in names))
            for names in output_sig
        ]
        return Apply(self, inputs, outputs)

    def core_kernel(self):
        """The NumPy kernel of this Op (its numba version is compiled from the same source)."""
        return type(self).kernel

    def perform(self, node, inputs, output_storage):
        result = self.core_kernel()(*inputs)
        if len(output_storage) == 1:
            result = (result,)
        for storage, value in zip(output_storage, result, strict=True):
            storage[0] = np.asarray(value, dtype=np.float64)


class EighOp(_KernelOp):
    """Eigenvalues and eigenvectors (real and imaginary parts) of H = sym(X) + i·asym(Y)."""

    gufunc_signature = "(n,n),(n,n)->(n),(n,n),(n,n)"
    kernel = staticmethod(kernels.eigh_kernel)
    input_ndims = (2, 2)
    output_ndims = (1, 2, 2)

    def infer_shape(self, node, shapes):
        n = shapes[0][0]
        return [(n,), (n, n), (n, n)]

    def pullback(self, inputs, outputs, cotangents):
        gw, gv_re, gv_im = _zeros_if_disconnected(outputs, cotangents)
        return list(EighVJPOp()(*inputs, gw, gv_re, gv_im))


class EighVJPOp(_KernelOp):
    """Pullback of :class:`EighOp`."""

    gufunc_signature = "(n,n),(n,n),(n),(n,n),(n,n)->(n,n),(n,n)"
    kernel = staticmethod(kernels.eigh_vjp_kernel)
    input_ndims = (2, 2, 1, 2, 2)
    output_ndims = (2, 2)

    def infer_shape(self, node, shapes):
        return [shapes[0], shapes[0]]


class ThermalAverageOp(_KernelOp):
    """⟨A_m⟩ at inverse temperatures β_t for H = sym(X) + i·asym(Y).

    ``observable_gradient=False`` (constant observables) skips the gradient in A, which
    costs a density matrix per temperature.
    """

    __props__ = ("observable_gradient",)
    gufunc_signature = "(n,n),(n,n),(m,n,n),(m,n,n),(t)->(t,m)"
    kernel = staticmethod(kernels.thermal_kernel)
    input_ndims = (2, 2, 3, 3, 1)
    output_ndims = (2,)

    def infer_shape(self, node, shapes):
        return [(shapes[4][0], shapes[2][0])]

    def __init__(self, observable_gradient: bool = True):
        self.observable_gradient = bool(observable_gradient)

    def connection_pattern(self, node):
        flag = self.observable_gradient
        return [[True], [True], [flag], [flag], [True]]

    def pullback(self, inputs, outputs, cotangents):
        (g_out,) = _zeros_if_disconnected(outputs, cotangents)
        grads = list(ThermalAverageVJPOp(self.observable_gradient)(*inputs, g_out))
        if not self.observable_gradient:
            grads[2:4] = [disconnected_type(), disconnected_type()]
        return grads


class ThermalAverageVJPOp(_KernelOp):
    """Pullback of :class:`ThermalAverageOp` (Daleckii–Krein divided differences)."""

    __props__ = ("observable_gradient",)

    gufunc_signature = "(n,n),(n,n),(m,n,n),(m,n,n),(t),(t,m)->(n,n),(n,n),(m,n,n),(m,n,n),(t)"
    kernel = staticmethod(kernels.thermal_vjp_kernel)
    input_ndims = (2, 2, 3, 3, 1, 2)
    output_ndims = (2, 2, 3, 3, 1)

    def __init__(self, observable_gradient: bool = True):
        self.observable_gradient = bool(observable_gradient)

    def core_kernel(self):
        if self.observable_gradient:
            return kernels.thermal_vjp_kernel
        return kernels.thermal_vjp_kernel_without_observables

    def infer_shape(self, node, shapes):
        return [shapes[0], shapes[0], shapes[2], shapes[2], shapes[4]]


class TransitionLinesOp(_KernelOp):
    """Line positions E_e,i − E_g,j and intensities Σ_q |⟨e_i|T_q|g_j⟩|²."""

    gufunc_signature = "(e,e),(e,e),(g,g),(g,g),(q,e,g),(q,e,g)->(e,g),(e,g)"
    kernel = staticmethod(kernels.lines_kernel)
    input_ndims = (2, 2, 2, 2, 3, 3)
    output_ndims = (2, 2)

    def infer_shape(self, node, shapes):
        shape = (shapes[0][0], shapes[2][0])
        return [shape, shape]

    def pullback(self, inputs, outputs, cotangents):
        g_pos, g_int = _zeros_if_disconnected(outputs, cotangents)
        return list(TransitionLinesVJPOp()(*inputs, g_pos, g_int))


class TransitionLinesVJPOp(_KernelOp):
    """Pullback of :class:`TransitionLinesOp`."""

    gufunc_signature = (
        "(e,e),(e,e),(g,g),(g,g),(q,e,g),(q,e,g),(e,g),(e,g)"
        "->(e,e),(e,e),(g,g),(g,g),(q,e,g),(q,e,g)"
    )
    kernel = staticmethod(kernels.lines_vjp_kernel)
    input_ndims = (2, 2, 2, 2, 3, 3, 2, 2)
    output_ndims = (2, 2, 2, 2, 3, 3)

    def infer_shape(self, node, shapes):
        return [shapes[0], shapes[0], shapes[2], shapes[2], shapes[4], shapes[4]]


_OPS = (EighOp, EighVJPOp, ThermalAverageOp, ThermalAverageVJPOp, TransitionLinesOp)
_OPS += (TransitionLinesVJPOp,)
_KERNELS = (*(op.kernel for op in _OPS), kernels.thermal_vjp_kernel_without_observables)


# numba: the same kernels, compiled. Copies of the kernels and helpers are made with a
# namespace in which every helper is its compiled version, so the Python originals (used
# by `perform`) stay plain NumPy.
_NUMBA_CACHE_VERSION = 1
_jitted: dict = {}


def _jit_all() -> dict:
    if not _jitted:
        namespace = dict(vars(kernels))

        def rebind(function):
            return types.FunctionType(function.__code__, namespace, function.__name__)

        for helper in kernels.HELPERS:
            namespace[helper.__name__] = numba.njit(rebind(helper))
        for kernel in _KERNELS:
            _jitted[kernel] = numba_basic.numba_njit(rebind(kernel))
    return _jitted


def _register(op_type) -> None:
    @register_funcify_default_op_cache_key(op_type)
    def _funcify(op, node, **kwargs):
        return _jit_all()[op.core_kernel()], _NUMBA_CACHE_VERSION


for _op in _OPS:
    _register(_op)
