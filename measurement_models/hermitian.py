r"""Small Hermitian eigenproblems as PyTensor Ops, with gradients that survive degeneracy.

The Hamiltonian measurement models (Mössbauer, crystal field, core-level cluster
models) need the levels of small complex Hermitian matrices, observables built on the
eigenvectors, and gradients of both for NUTS. PyTensor's own ``eigh`` gradient is for
real symmetric input only and divides by level differences, which vanish at the
degeneracies that are the rule here (Kramers doublets, cubic quartets). This module
provides three Ops, each with a NumPy ``perform``, a numba implementation for PyTensor's
default backend, ``infer_shape``, a gufunc signature (so ``Blockwise`` solves a whole
batch of parameter sets in one call, and ``vectorize_graph`` batches replicas), and a
``pullback`` that is itself a numba-compiled Op.

Inputs are real: a Hermitian matrix is passed as two real arrays,

.. math::

    H = \tfrac12(X + X^\mathsf{T}) + \tfrac{i}{2}(Y - Y^\mathsf{T}),

so that no complex number crosses the PyTensor graph (PyTensor's complex gradients are
not reliable); the Ops symmetrise, which makes every input a valid point and the
gradients the symmetric/antisymmetric parts.

Gradients
---------
With :math:`H = V \Lambda V^\dagger`, :math:`\tilde X = V^\dagger X V` and the
cotangent written as :math:`\delta L = \operatorname{Re}\sum_{ab} \bar G_{ab}^* \delta H_{ab}`:

* **Eigenvalues** (Hellmann–Feynman): :math:`\delta\lambda_i = \langle i|\delta H|i\rangle`,
  :math:`\bar G = V \operatorname{diag}(\bar\lambda) V^\dagger`. Within a set of
  degenerate levels :math:`\bar\lambda` is replaced by its mean, which is the exact
  gradient of every symmetric function of the set (and independent of the arbitrary
  basis LAPACK returns in it).
* **Eigenvectors** (:func:`eigh`): :math:`\bar G = V[\operatorname{diag}(\bar\lambda) +
  \operatorname{herm}(F \circ V^\dagger \bar V)]V^\dagger` with
  :math:`F_{ij} = 1/(\lambda_j - \lambda_i)` between different degenerate sets and 0
  within one. This is exact for any function of the eigenvectors that depends on them
  only through the projectors onto the degenerate sets (gauge- and basis-invariant
  quantities); a quantity that depends on the basis chosen inside a degenerate set has
  no derivative there.
* **Thermal averages** (:func:`thermal_average`),
  :math:`\langle A\rangle_\beta = \operatorname{Tr}[A\,g(H)]/\operatorname{Tr}[g(H)]`,
  :math:`g(\lambda) = e^{-\beta\lambda}`: the Daleckii–Krein formula
  :math:`\delta g(H) = V(G \circ \delta\tilde H)V^\dagger` with the divided differences
  :math:`G_{ij} = (g(\lambda_i) - g(\lambda_j))/(\lambda_i - \lambda_j)`, which tend to
  :math:`g'(\lambda_i)` as the levels merge, so that

  .. math::

      \bar G = \frac{1}{Z} V\big(G \circ \tilde A - \langle A\rangle
      \operatorname{diag}(g'(\lambda))\big)V^\dagger

  is exact at and near degeneracies, in every direction (including the Curie term of a
  Kramers doublet that a field splits). :math:`G_{ij} = -\beta e^{-\beta \bar\lambda}
  \sinh(\beta d/2)/(\beta d/2)` with :math:`\bar\lambda, d` the mean and difference of
  the two levels is used where :math:`|\beta d| < 1` (no cancellation).
  Also :math:`\partial\langle A\rangle/\partial A = \rho` and
  :math:`\partial\langle A\rangle/\partial\beta = -(\langle AH\rangle - \langle A\rangle
  \langle H\rangle)`.
* **Transition lines** (:func:`transition_lines`): positions
  :math:`E^{e}_i - E^{g}_j` and intensities :math:`I_{ij} = \sum_q |M^q_{ij}|^2`,
  :math:`M^q = V_e^\dagger T_q V_g`. Within a pair of degenerate sets the intensity is
  shared equally (the only basis-independent choice; the set total
  :math:`\sum_q \operatorname{Tr}[P_e T_q P_g T_q^\dagger]` is a smooth function of the
  spectral projectors). With :math:`W^q = \bar I \circ M^q` the pullback is
  :math:`\tilde{\bar G}_e = -2\operatorname{herm}(F_e \circ \sum_q W^q M^{q\dagger})`,
  :math:`\tilde{\bar G}_g = 2\operatorname{herm}(F_g \circ \sum_q M^{q\dagger} W^q)`,
  :math:`\bar T_q = 2 V_e W^q V_g^\dagger`, plus Hellmann–Feynman for the positions.

Two levels are *degenerate* when they differ by less than
:data:`DEGENERACY_TOLERANCE` times the largest level magnitude (plus a tiny absolute
floor).

Failures
--------
A non-finite input, or a LAPACK failure, gives NaN outputs (and zero gradients).
Inside a model, :func:`reject_non_finite` turns that into a log-density of
:math:`-\infty` (every sampler rejects the point; NUTS counts it as a divergence)
instead of a NaN.

Checked (``tests/measurement_models/test_hermitian.py``): outputs against
``scipy.linalg.eigh`` and direct NumPy evaluation of the defining formulas; every
pullback with ``pytensor.gradient.verify_grad`` at random (non-degenerate) points, at
exactly degenerate points along degeneracy-preserving directions (and, for thermal
averages, along splitting directions, against central finite differences of the
smooth function); numba and Python implementations agree; batched calls equal loops.
"""

from __future__ import annotations

import types

import numba
import numpy as np
import pymc as pm
import pytensor.tensor as pt
from pytensor.gradient import DisconnectedType, disconnected_type
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.link.numba.dispatch import basic as numba_basic
from pytensor.link.numba.dispatch.basic import register_funcify_default_op_cache_key
from pytensor.tensor.blockwise import Blockwise
from pytensor.tensor.utils import _parse_gufunc_signature

__all__ = [
    "DEGENERACY_TOLERANCE",
    "eigh",
    "eigvalsh",
    "hermitian_parts",
    "reject_non_finite",
    "thermal_average",
    "transition_lines",
]

#: Relative tolerance below which two levels count as degenerate.
DEGENERACY_TOLERANCE = 1e-9


# --------------------------------------------------------------------------------------
# Kernels: plain NumPy written so that numba compiles the same source (one implementation
# for `perform` and for the numba backend).
# --------------------------------------------------------------------------------------


def _hermitian(x, y):
    n = x.shape[0]
    h = np.empty((n, n), dtype=np.complex128)
    for i in range(n):
        for j in range(n):
            h[i, j] = complex(0.5 * (x[i, j] + x[j, i]), 0.5 * (y[i, j] - y[j, i]))
    return h


def _fix_phases(v):
    """Make the largest component of each eigenvector real and positive (reproducible)."""
    n = v.shape[0]
    for j in range(v.shape[1]):
        k = 0
        best = -1.0
        for i in range(n):
            size = abs(v[i, j])
            if size > best * (1.0 + 1e-12):
                best = size
                k = i
        if best > 0.0:
            phase = np.conj(v[k, j]) / best
            for i in range(n):
                v[i, j] = v[i, j] * phase


def _solve(x, y):
    """Eigenvalues (ascending) and eigenvectors of H(x, y); NaN and ok=False on failure."""
    n = x.shape[0]
    w = np.full(n, np.nan)
    v = np.full((n, n), np.nan + 0j)
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        return w, v, False
    h = _hermitian(x, y)
    try:
        levels, vectors = np.linalg.eigh(h)
    except Exception:  # a LAPACK failure is reported as NaN levels
        return w, v, False
    v = np.ascontiguousarray(vectors)
    _fix_phases(v)
    return np.ascontiguousarray(levels), v, True


def _clusters(w):
    """Label of the degenerate set of each (ascending) level."""
    n = w.shape[0]
    labels = np.zeros(n, dtype=np.int64)
    scale = 0.0
    for i in range(n):
        scale = max(scale, abs(w[i]))
    tol = DEGENERACY_TOLERANCE * scale + 1e-300
    for i in range(1, n):
        labels[i] = labels[i - 1] + (1 if w[i] - w[i - 1] > tol else 0)
    return labels


def _cluster_mean(values, labels):
    out = np.empty_like(values)
    for i in range(values.shape[0]):
        total = 0.0
        count = 0
        for k in range(values.shape[0]):
            if labels[k] == labels[i]:
                total += values[k]
                count += 1
        out[i] = total / count
    return out


def _inverse_gaps(w, labels):
    """F_ij = 1/(w_j - w_i) between different degenerate sets, 0 within one."""
    n = w.shape[0]
    f = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            if labels[i] != labels[j]:
                f[i, j] = 1.0 / (w[j] - w[i])
    return f


def _to_real_parts(g):
    """Cotangents of (X, Y) from that of H = sym(X) + i·antisym(Y)."""
    n = g.shape[0]
    gx = np.empty((n, n))
    gy = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            gx[i, j] = 0.5 * (g[i, j].real + g[j, i].real)
            gy[i, j] = 0.5 * (g[i, j].imag - g[j, i].imag)
    return gx, gy


def _back_to_input(v, inner):
    """(X̄, Ȳ) from the eigenbasis cotangent: Ḡ = V herm(inner) V†."""
    herm = 0.5 * (inner + np.conj(inner.T))
    return _to_real_parts(v @ herm @ np.conj(v.T))


# eigh -----------------------------------------------------------------------------------


def _eigh_kernel(x, y):
    w, v, _ = _solve(x, y)
    return w, np.ascontiguousarray(v.real), np.ascontiguousarray(v.imag)


def _eigh_vjp_kernel(x, y, gw, gv_re, gv_im):
    n = x.shape[0]
    w, v, ok = _solve(x, y)
    if not ok:
        return np.zeros((n, n)), np.zeros((n, n))
    labels = _clusters(w)
    m = np.conj(v.T) @ (gv_re + 1j * gv_im)
    inner = _inverse_gaps(w, labels) * m
    gw_mean = _cluster_mean(gw, labels)
    for i in range(n):
        inner[i, i] = gw_mean[i]
    return _back_to_input(v, inner)


# thermal averages -----------------------------------------------------------------------


def _observables(a_re, a_im):
    m, n = a_re.shape[0], a_re.shape[1]
    a = np.empty((m, n, n), dtype=np.complex128)
    for k in range(m):
        a[k] = _hermitian(a_re[k], a_im[k])
    return a


def _boltzmann(w, beta):
    """Weights g_i = exp(-β(λ_i - λ_0)), their sum Z and the populations p = g/Z."""
    g = np.exp(-beta * (w - w[0]))
    z = g.sum()
    return g, z, g / z


def _divided_differences(w, g, beta):
    """G_ij = (g_i - g_j)/(λ_i - λ_j), → g'(λ_i) = -β g_i as the levels merge."""
    n = w.shape[0]
    out = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            d = w[i] - w[j]
            x = 0.5 * beta * d
            if abs(x) < 0.5:
                mean = 0.5 * (w[i] + w[j]) - w[0]
                x2 = x * x
                sinhc = 1.0 + x2 / 6.0 * (1.0 + x2 / 20.0 * (1.0 + x2 / 42.0 * (1.0 + x2 / 72.0)))
                out[i, j] = -beta * np.exp(-beta * mean) * sinhc
            else:
                out[i, j] = (g[i] - g[j]) / d
    return out


def _thermal_kernel(x, y, a_re, a_im, beta):
    n_t, n_m = beta.shape[0], a_re.shape[0]
    out = np.full((n_t, n_m), np.nan)
    w, v, ok = _solve(x, y)
    if not ok:
        return out
    a = _observables(a_re, a_im)
    diag = np.empty((n_m, w.shape[0]))
    for k in range(n_m):
        diag[k] = np.diag(np.conj(v.T) @ a[k] @ v).real
    for t in range(n_t):
        _, _, p = _boltzmann(w, beta[t])
        for k in range(n_m):
            out[t, k] = np.sum(p * diag[k])
    return out


def _thermal_vjp_core(x, y, a_re, a_im, beta, g_out, with_observables):
    n, n_t, n_m = x.shape[0], beta.shape[0], a_re.shape[0]
    gx = np.zeros((n, n))
    gy = np.zeros((n, n))
    ga_re = np.zeros((n_m, n, n))
    ga_im = np.zeros((n_m, n, n))
    g_beta = np.zeros(n_t)
    w, v, ok = _solve(x, y)
    if not ok:
        return gx, gy, ga_re, ga_im, g_beta
    vh = np.conj(v.T)
    a = _observables(a_re, a_im)
    a_tilde = np.empty((n_m, n, n), dtype=np.complex128)
    for k in range(n_m):
        a_tilde[k] = vh @ a[k] @ v
    inner = np.zeros((n, n), dtype=np.complex128)
    for t in range(n_t):
        g, z, p = _boltzmann(w, beta[t])
        dd = _divided_differences(w, g, beta[t])
        mean_energy = np.sum(p * w)
        weight = np.zeros(n)  # Σ_k ḡ_tk ⟨A_k⟩ (for the normalisation term)
        combined = np.zeros((n, n), dtype=np.complex128)  # Σ_k ḡ_tk Ã_k
        for k in range(n_m):
            gk = g_out[t, k]
            if gk == 0.0:
                continue
            diag = np.diag(a_tilde[k]).real
            average = np.sum(p * diag)
            combined += gk * a_tilde[k]
            weight += gk * average
            g_beta[t] -= gk * np.sum(p * diag * (w - mean_energy))
        inner += (dd * combined) / z
        for i in range(n):
            inner[i, i] -= weight[i] * (-beta[t] * g[i]) / z
        if not with_observables:
            continue
        rho = (v * p) @ vh
        rho_re, rho_im = _to_real_parts(rho)
        for k in range(n_m):
            ga_re[k] += g_out[t, k] * rho_re
            ga_im[k] += g_out[t, k] * rho_im
    gx, gy = _back_to_input(v, inner)
    return gx, gy, ga_re, ga_im, g_beta


def _thermal_vjp_kernel(x, y, a_re, a_im, beta, g_out):
    return _thermal_vjp_core(x, y, a_re, a_im, beta, g_out, True)


def _thermal_vjp_kernel_without_observables(x, y, a_re, a_im, beta, g_out):
    """The same, without the gradient in A (returned as zeros): for constant observables."""
    return _thermal_vjp_core(x, y, a_re, a_im, beta, g_out, False)


# transition lines -----------------------------------------------------------------------


def _transition_matrices(v_e, v_g, t_re, t_im):
    n_q = t_re.shape[0]
    m = np.empty((n_q, v_e.shape[0], v_g.shape[0]), dtype=np.complex128)
    vh_e = np.conj(v_e.T)
    for q in range(n_q):
        m[q] = vh_e @ (t_re[q] + 1j * t_im[q]) @ v_g
    return m


def _block_average(values, labels_e, labels_g):
    n_e, n_g = values.shape
    out = np.empty((n_e, n_g))
    for i in range(n_e):
        for j in range(n_g):
            total = 0.0
            count = 0
            for k in range(n_e):
                if labels_e[k] != labels_e[i]:
                    continue
                for m in range(n_g):
                    if labels_g[m] == labels_g[j]:
                        total += values[k, m]
                        count += 1
            out[i, j] = total / count
    return out


def _lines_kernel(xe, ye, xg, yg, t_re, t_im):
    n_e, n_g = xe.shape[0], xg.shape[0]
    positions = np.full((n_e, n_g), np.nan)
    intensities = np.full((n_e, n_g), np.nan)
    w_e, v_e, ok_e = _solve(xe, ye)
    w_g, v_g, ok_g = _solve(xg, yg)
    if not (ok_e and ok_g and np.all(np.isfinite(t_re)) and np.all(np.isfinite(t_im))):
        return positions, intensities
    labels_e = _clusters(w_e)
    labels_g = _clusters(w_g)
    mean_e = _cluster_mean(w_e, labels_e)
    mean_g = _cluster_mean(w_g, labels_g)
    m = _transition_matrices(v_e, v_g, t_re, t_im)
    raw = np.zeros((n_e, n_g))
    for q in range(m.shape[0]):
        raw += m[q].real ** 2 + m[q].imag ** 2
    for i in range(n_e):
        for j in range(n_g):
            positions[i, j] = mean_e[i] - mean_g[j]
    return positions, _block_average(raw, labels_e, labels_g)


def _lines_vjp_kernel(xe, ye, xg, yg, t_re, t_im, g_pos, g_int):
    n_e, n_g, n_q = xe.shape[0], xg.shape[0], t_re.shape[0]
    gt_re = np.zeros((n_q, n_e, n_g))
    gt_im = np.zeros((n_q, n_e, n_g))
    w_e, v_e, ok_e = _solve(xe, ye)
    w_g, v_g, ok_g = _solve(xg, yg)
    if not (ok_e and ok_g and np.all(np.isfinite(t_re)) and np.all(np.isfinite(t_im))):
        zero_e, zero_g = np.zeros((n_e, n_e)), np.zeros((n_g, n_g))
        return zero_e, zero_e.copy(), zero_g, zero_g.copy(), gt_re, gt_im
    labels_e = _clusters(w_e)
    labels_g = _clusters(w_g)
    m = _transition_matrices(v_e, v_g, t_re, t_im)
    g_raw = _block_average(g_int, labels_e, labels_g)
    inner_e = np.zeros((n_e, n_e), dtype=np.complex128)
    inner_g = np.zeros((n_g, n_g), dtype=np.complex128)
    for q in range(n_q):
        wq = g_raw * m[q]
        inner_e -= 2.0 * (wq @ np.conj(m[q].T))
        inner_g += 2.0 * (np.conj(m[q].T) @ wq)
        gt = 2.0 * (v_e @ wq @ np.conj(v_g.T))
        gt_re[q] = gt.real
        gt_im[q] = gt.imag
    inner_e = _inverse_gaps(w_e, labels_e) * inner_e
    inner_g = _inverse_gaps(w_g, labels_g) * inner_g
    gw_e = _cluster_mean(g_pos.sum(axis=1), labels_e)
    gw_g = _cluster_mean(-g_pos.sum(axis=0), labels_g)
    for i in range(n_e):
        inner_e[i, i] = gw_e[i]
    for j in range(n_g):
        inner_g[j, j] = gw_g[j]
    gxe, gye = _back_to_input(v_e, inner_e)
    gxg, gyg = _back_to_input(v_g, inner_g)
    return gxe, gye, gxg, gyg, gt_re, gt_im


_HELPERS = (
    _hermitian,
    _fix_phases,
    _solve,
    _clusters,
    _cluster_mean,
    _inverse_gaps,
    _to_real_parts,
    _back_to_input,
    _observables,
    _boltzmann,
    _divided_differences,
    _thermal_vjp_core,
    _transition_matrices,
    _block_average,
)


# --------------------------------------------------------------------------------------
# Ops
# --------------------------------------------------------------------------------------


def _as_float64(value) -> pt.TensorVariable:
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
        inputs = [_as_float64(value) for value in inputs]
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
    kernel = staticmethod(_eigh_kernel)
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
    kernel = staticmethod(_eigh_vjp_kernel)
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
    kernel = staticmethod(_thermal_kernel)
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
    kernel = staticmethod(_thermal_vjp_kernel)
    input_ndims = (2, 2, 3, 3, 1, 2)
    output_ndims = (2, 2, 3, 3, 1)

    def __init__(self, observable_gradient: bool = True):
        self.observable_gradient = bool(observable_gradient)

    def core_kernel(self):
        if self.observable_gradient:
            return _thermal_vjp_kernel
        return _thermal_vjp_kernel_without_observables

    def infer_shape(self, node, shapes):
        return [shapes[0], shapes[0], shapes[2], shapes[2], shapes[4]]


class TransitionLinesOp(_KernelOp):
    """Line positions E_e,i − E_g,j and intensities Σ_q |⟨e_i|T_q|g_j⟩|²."""

    gufunc_signature = "(e,e),(e,e),(g,g),(g,g),(q,e,g),(q,e,g)->(e,g),(e,g)"
    kernel = staticmethod(_lines_kernel)
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
    kernel = staticmethod(_lines_vjp_kernel)
    input_ndims = (2, 2, 2, 2, 3, 3, 2, 2)
    output_ndims = (2, 2, 2, 2, 3, 3)

    def infer_shape(self, node, shapes):
        return [shapes[0], shapes[0], shapes[2], shapes[2], shapes[4], shapes[4]]


_OPS = (EighOp, EighVJPOp, ThermalAverageOp, ThermalAverageVJPOp, TransitionLinesOp)
_OPS += (TransitionLinesVJPOp,)
_KERNELS = (*(op.kernel for op in _OPS), _thermal_vjp_kernel_without_observables)


# numba: the same kernels, compiled. Copies of the kernels and helpers are made with a
# namespace in which every helper is its compiled version, so the Python originals (used
# by `perform`) stay plain NumPy.
_NUMBA_CACHE_VERSION = 1
_jitted: dict = {}


def _jit_all() -> dict:
    if not _jitted:
        namespace = dict(globals())

        def rebind(function):
            return types.FunctionType(function.__code__, namespace, function.__name__)

        for helper in _HELPERS:
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


# --------------------------------------------------------------------------------------
# Public functions: NumPy in, NumPy out; PyTensor in, PyTensor out (batched).
# --------------------------------------------------------------------------------------

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
        return tuple(_eigh(_as_float64(h_re), _as_float64(h_im)))
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
        args = [_as_float64(v) for v in (h_re, h_im, a_re, a_im, beta)]
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
        return tuple(_lines(*(_as_float64(v) for v in args)))
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
