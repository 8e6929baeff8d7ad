r"""Recovery laws of NMR spin–lattice relaxation and the measured magnetisation.

For magnetic dipolar relaxation among the :math:`2I+1` Zeeman levels (transition rates
:math:`W_{m\to m\pm1} \propto I(I+1) - m(m\pm1)`, :math:`1/T_1 = 2W`), the recovery of
one line after its saturation is a fixed sum of exponentials (:data:`RECOVERY_TERMS`),

.. math::

    R(t) = 1 - \frac{M(t)}{M_0} = \sum_i a_i\, e^{-\lambda_i t/T_1}, \qquad
    \sum_i a_i = 1,

with a stretched exponent :math:`\beta` and several components :math:`w_k` for
disordered samples and coexisting relaxation channels, and the measured signal
:math:`M(t) = M_0[1 - f R(t)] + c` (:func:`forward`). Sources of the coefficients and
what was checked: :mod:`measurement_models.nmr_t1`.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytensor.tensor as pt

from ..array_backend import is_symbolic

__all__ = [
    "RECOVERY_TERMS",
    "SPINS",
    "TRANSITIONS",
    "forward",
    "nuclear_spin",
    "recovery",
    "recovery_terms",
    "time_grid",
]

_F = Fraction
#: Recovery of one line after saturation: (spin, transition) -> ((a_i, λ_i), ...), with
#: R(t) = Σ_i a_i exp(-λ_i t / T1): I = 3/2 central line from Andrew & Tunstall, Proc.
#: Phys. Soc. 78, 1 (1961); I = 5/2 and 7/2 central lines from Narath, Phys. Rev. 162,
#: 320 (1967); I = 1/2 and the I = 3/2 NQR line analytic (see the package docstring).
RECOVERY_TERMS: dict[tuple[Fraction, str], tuple[tuple[Fraction, int], ...]] = {
    (_F(1, 2), "central"): ((_F(1), 1),),
    (_F(3, 2), "central"): ((_F(1, 10), 1), (_F(9, 10), 6)),
    (_F(3, 2), "nqr"): ((_F(1), 3),),
    (_F(5, 2), "central"): ((_F(1, 35), 1), (_F(8, 45), 6), (_F(50, 63), 15)),
    (_F(7, 2), "central"): (
        (_F(1, 84), 1),
        (_F(3, 44), 6),
        (_F(75, 364), 15),
        (_F(1225, 1716), 28),
    ),
}
#: Nuclear spins I with a tabulated recovery law.
SPINS = tuple(sorted({spin for spin, _ in RECOVERY_TERMS}))
#: Observed transitions: the central line, or the I = 3/2 NQR line.
TRANSITIONS = ("central", "nqr")


def nuclear_spin(spin) -> Fraction:
    """The nuclear spin I as a ``fractions.Fraction`` (``1.5``, ``"3/2"``).

    Raises
    ------
    ValueError
        Not a number, or a spin without a tabulated recovery law (:data:`SPINS`).
    """
    try:
        value = Fraction(spin)
    except (TypeError, ValueError, ZeroDivisionError):
        raise ValueError(f"spin must be a number such as 1.5 or '3/2', got {spin!r}") from None
    if value not in SPINS:
        choices = ", ".join(str(s) for s in SPINS)
        raise ValueError(f"unsupported nuclear spin I = {spin!r}; supported: {choices}")
    return value


def recovery_terms(spin=0.5, transition: str = "central") -> tuple[np.ndarray, np.ndarray]:
    """Amplitudes :math:`a_i` and exponents :math:`\\lambda_i` of a line's recovery.

    Parameters
    ----------
    spin : float, str or Fraction
        Nuclear spin I: 1/2, 3/2, 5/2 or 7/2 (``1.5``, ``"3/2"``).
    transition : {"central", "nqr"}
        The central line (±1/2; the only line of I = 1/2) or, for I = 3/2, the NQR line
        ±1/2 ↔ ±3/2 in zero field.

    Returns
    -------
    amplitudes, exponents : ndarray
        :math:`R(t) = \\sum_i a_i e^{-\\lambda_i t/T_1}`.

    Raises
    ------
    ValueError
        An unsupported spin or transition, or a combination without a table entry.
    """
    value = nuclear_spin(spin)
    if transition not in TRANSITIONS:
        raise ValueError(f"unknown transition {transition!r}; choose one of {TRANSITIONS}")
    key = (value, transition)
    if key not in RECOVERY_TERMS:
        known = [f"I={s} {t}" for s, t in RECOVERY_TERMS]
        raise ValueError(f"no recovery law for I = {value} {transition!r}; known: {known}")
    terms = RECOVERY_TERMS[key]
    return (
        np.array([float(a) for a, _ in terms]),
        np.array([float(lam) for _, lam in terms]),
    )


def _check_numeric_inputs(time, T1, weight, stretch, inversion) -> None:
    """Physical ranges of NumPy inputs (PyTensor inputs are kept in range by the priors)."""
    if np.any(np.asarray(time) <= 0):
        raise ValueError("times must be positive (delays after the saturating pulse, in s)")
    if np.any(~np.isfinite(T1)) or np.any(np.asarray(T1) <= 0):
        raise ValueError(f"T1 must be positive and finite, got {T1!r}")
    if stretch is not None:
        s = np.asarray(stretch)
        if np.any(~(s > 0)) or np.any(s > 1):
            raise ValueError(f"the stretch exponent must lie in (0, 1], got {stretch!r}")
    if weight is not None:
        w = np.asarray(weight, dtype=float)
        if np.any(w < 0) or not np.allclose(w.sum(axis=-1), 1.0, rtol=0, atol=1e-8):
            raise ValueError(f"component weights must be ≥ 0 and sum to one, got {weight!r}")
        n_components = np.shape(T1)[-1] if np.ndim(T1) else 1
        if w.shape[-1] != n_components:
            raise ValueError(
                f"one weight per component: {w.shape[-1]} weights for {n_components} T1"
            )
    if inversion is not None:
        f = np.asarray(inversion)
        if np.any(~(f >= 1)) or np.any(f > 2):
            raise ValueError(f"the inversion factor must lie in [1, 2], got {inversion!r}")


def recovery(time, T1, *, spin=0.5, transition: str = "central", weight=None, stretch=None):
    r""":math:`R(t) = \sum_k w_k \sum_i a_i \exp[-(\lambda_i t/T_{1,k})^\beta]`, shape (..., n).

    Parameters
    ----------
    time : array_like, shape (n,)
        Delays after saturation [s], positive.
    T1 : array_like, shape (..., K)
        Relaxation time of each component [s] (the last axis is always the component
        axis; a scalar means one component). Leading axes (draws) broadcast.
    spin, transition
        The line (see :func:`recovery_terms`).
    weight : array_like, shape (..., K), optional
        Component fractions summing to one (required for K > 1; without weights the
        components are summed, which only a single component makes a recovery curve).
    stretch : array_like, shape (...), optional
        Stretch exponent β in (0, 1] (plain exponentials when omitted).

    Returns
    -------
    ndarray or TensorVariable
        NumPy for NumPy inputs, a PyTensor graph otherwise.

    Raises
    ------
    ValueError
        (NumPy inputs) as :func:`forward`; several components without weights.
    """
    amplitudes, exponents = recovery_terms(spin, transition)
    symbolic = is_symbolic(time, T1, weight, stretch)
    xp = pt if symbolic else np
    asarray = pt.as_tensor_variable if symbolic else np.asarray
    if not symbolic:
        T1 = np.asarray(T1, dtype=float)
        _check_numeric_inputs(time, T1, weight, stretch, None)
    T1 = asarray(T1)
    if T1.ndim == 0:
        T1 = T1[None]
    if weight is None and not symbolic and T1.shape[-1] != 1:
        raise ValueError(f"{T1.shape[-1]} components need their weights")
    scaled = exponents[:, None] * asarray(time)[None, :]  # (L, n)
    x = scaled / T1[..., :, None, None]  # (..., K, L, n)
    if stretch is not None:
        x = x ** asarray(stretch)[..., None, None, None]
    per_component = (amplitudes[:, None] * xp.exp(-x)).sum(axis=-2)  # (..., K, n)
    if weight is None:
        return per_component.sum(axis=-2)
    return (asarray(weight)[..., :, None] * per_component).sum(axis=-2)


def forward(
    time,
    *,
    T1,
    M0=1.0,
    offset=0.0,
    weight=None,
    stretch=None,
    inversion=1.0,
    spin=0.5,
    transition: str = "central",
):
    r"""The measured magnetisation :math:`M(t) = M_0[1 - f R(t)] + c`, shape (..., n).

    ``inversion`` is the factor :math:`f` (1: saturation recovery; (1, 2]: inversion
    recovery). The other arguments are those of :func:`recovery`; ``M0``, ``offset`` and
    ``inversion`` have shape (...). NumPy for NumPy inputs, a PyTensor graph otherwise.

    Raises
    ------
    ValueError
        (NumPy inputs) non-positive times or T1, a stretch exponent outside (0, 1],
        weights that are negative or do not sum to one, an inversion factor outside
        [1, 2].
    """
    symbolic = is_symbolic(time, T1, M0, offset, weight, stretch, inversion)
    asarray = pt.as_tensor_variable if symbolic else np.asarray
    if not symbolic:
        _check_numeric_inputs(time, np.asarray(T1, float), weight, stretch, inversion)
    r = recovery(time, T1, spin=spin, transition=transition, weight=weight, stretch=stretch)
    M0, offset, inversion = (asarray(v)[..., None] for v in (M0, offset, inversion))
    return M0 * (1 - inversion * r) + offset


def time_grid(t_min: float, t_max: float, n: int) -> np.ndarray:
    """``n`` delays log-spaced from ``t_min`` to ``t_max`` [s], as T1 is measured."""
    if not (0 < t_min < t_max) or int(n) != n or n < 2:
        raise ValueError(f"need 0 < t_min < t_max and n ≥ 2, got {t_min!r}, {t_max!r}, {n!r}")
    return np.geomspace(t_min, t_max, int(n))
