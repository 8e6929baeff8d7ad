"""NumPy kernels of the Hermitian eigen-solver Ops, one source for two backends.

Every kernel and helper here is plain NumPy written in the subset numba compiles: the
Ops' ``perform`` runs these functions as Python, and :mod:`.ops` compiles copies of the
same source for PyTensor's numba backend. The mathematics (Hellmann–Feynman, the
Daleckii–Krein divided differences, degenerate sets) is in the docstring of
:mod:`measurement_models.hermitian`.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "DEGENERACY_TOLERANCE",
    "HELPERS",
    "eigh_kernel",
    "eigh_vjp_kernel",
    "lines_kernel",
    "lines_vjp_kernel",
    "thermal_kernel",
    "thermal_vjp_kernel",
    "thermal_vjp_kernel_without_observables",
]

#: Relative tolerance below which two levels count as degenerate.
DEGENERACY_TOLERANCE = 1e-9


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


def eigh_kernel(x, y):
    """Eigenvalues (ascending) and eigenvectors (real, imaginary parts) of sym(X) + i asym(Y)."""
    w, v, _ = _solve(x, y)
    return w, np.ascontiguousarray(v.real), np.ascontiguousarray(v.imag)


def eigh_vjp_kernel(x, y, gw, gv_re, gv_im):
    """Pullback of :func:`eigh_kernel`: cotangents of X and Y (degenerate sets averaged)."""
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


def thermal_kernel(x, y, a_re, a_im, beta):
    """Thermal averages ⟨A_m⟩ at the inverse temperatures β_t, shape (t, m)."""
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


def thermal_vjp_kernel(x, y, a_re, a_im, beta, g_out):
    """Pullback of :func:`thermal_kernel` in X, Y, A and β (Daleckii–Krein)."""
    return _thermal_vjp_core(x, y, a_re, a_im, beta, g_out, True)


def thermal_vjp_kernel_without_observables(x, y, a_re, a_im, beta, g_out):
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


def lines_kernel(xe, ye, xg, yg, t_re, t_im):
    """Line positions E_e,i − E_g,j and intensities Σ_q |⟨e_i|T_q|g_j⟩|², shape (e, g)."""
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


def lines_vjp_kernel(xe, ye, xg, yg, t_re, t_im, g_pos, g_int):
    """Pullback of :func:`lines_kernel` in both Hamiltonians and the operators."""
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


#: Helpers the kernels call by name: compiled first, so that the compiled kernels call
#: compiled helpers.
HELPERS = (
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
