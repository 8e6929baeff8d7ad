r"""The crystal-field physics: ions, symmetries, the Hamiltonian and the observables.

Everything here is a function of the crystal-field parameters given as keywords
(``B40=0.1167``, ...): NumPy in, NumPy out; PyTensor in, a differentiable graph out
(through the eigen-solver Ops of :mod:`measurement_models.hermitian`), with any common
leading (batch) shape. The definitions and constants are in the docstring of
:mod:`measurement_models.crystal_field`.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from functools import cache

import numpy as np
import pytensor.tensor as pt

from .. import stevens
from ..array_backend import is_symbolic
from ..hermitian import eigvalsh, thermal_average

__all__ = [
    "EMU_PER_MU_B_PER_TESLA",
    "IONS",
    "MAGNETIC",
    "MU_B_OVER_K_B",
    "OBSERVABLES",
    "R_GAS",
    "SMALL_FIELD",
    "SYMMETRIES",
    "Ion",
    "check_observable",
    "check_temperature",
    "curie_constant",
    "entropy",
    "field_directions",
    "forward",
    "get_ion",
    "hamiltonian",
    "levels",
    "magnetisation",
    "parameter_names",
    "schottky_entropy",
    "schottky_specific_heat",
    "specific_heat",
    "susceptibility",
]

#: Gas constant in J/mol/K as the authors use it (CODATA 2018: 8.314462618).
R_GAS = 8.31441
#: Bohr magneton over Boltzmann constant, K/T (CODATA 2018: 0.67171381563).
MU_B_OVER_K_B = 0.671714
#: χ [emu/mol] = this × M [μ_B per ion] / B [T]: N_A μ_B = 5584.94 emu/mol, 1 T = 10⁴ Oe
#: (the authors' 0.5585).
EMU_PER_MU_B_PER_TESLA = 0.5585
#: The small field at which χ = M/B is evaluated, T (the authors' value).
SMALL_FIELD = 0.01

#: Observable name: (unit, long name).
OBSERVABLES: dict[str, tuple[str, str]] = {
    "specific_heat": ("J/mol/K", "specific heat C"),
    "entropy": ("J/mol/K", "entropy S"),
    "magnetisation": ("μ_B/ion", "magnetisation M"),
    "susceptibility": ("emu/mol", "susceptibility χ"),
    "inverse_susceptibility": ("mol/emu", "inverse susceptibility 1/χ"),
}
#: Observables that need the Zeeman Hamiltonian (field and direction).
MAGNETIC = ("magnetisation", "susceptibility", "inverse_susceptibility")


@dataclass(frozen=True)
class Ion:
    """A rare-earth ion's lowest multiplet: J and the Landé factor g_J.

    Attributes
    ----------
    name : str
    j : Fraction
        Total angular momentum J.
    g : float
        Landé factor :math:`g_J = 1 + [J(J+1) + S(S+1) - L(L+1)]/[2J(J+1)]`.
    """

    name: str
    j: Fraction
    g: float

    @classmethod
    def from_hund(cls, name: str, l: int, s, j) -> Ion:  # noqa: E741  (L of Russell–Saunders)
        """The ion with orbital L, spin S and total J (Hund's rules), g_J by Landé."""
        j, s = Fraction(j), Fraction(s)
        jj, ss, ll = j * (j + 1), s * (s + 1), Fraction(l * (l + 1))
        return cls(name, j, float(1 + (jj + ss - ll) / (2 * jj)))

    @property
    def dimension(self) -> int:
        """2J + 1."""
        return int(2 * self.j) + 1


#: Trivalent rare-earth ions with a magnetic ground multiplet (Hund's rules: L, S, J).
IONS: dict[str, Ion] = {
    ion.name: ion
    for ion in (
        Ion.from_hund("Ce3+", 3, Fraction(1, 2), Fraction(5, 2)),
        Ion.from_hund("Pr3+", 5, 1, 4),
        Ion.from_hund("Nd3+", 6, Fraction(3, 2), Fraction(9, 2)),
        Ion.from_hund("Pm3+", 6, 2, 4),
        Ion.from_hund("Sm3+", 5, Fraction(5, 2), Fraction(5, 2)),
        Ion.from_hund("Tb3+", 3, 3, 6),
        Ion.from_hund("Dy3+", 5, Fraction(5, 2), Fraction(15, 2)),
        Ion.from_hund("Ho3+", 6, 2, 8),
        Ion.from_hund("Er3+", 6, Fraction(3, 2), Fraction(15, 2)),
        Ion.from_hund("Tm3+", 5, 1, 6),
        Ion.from_hund("Yb3+", 3, Fraction(1, 2), Fraction(7, 2)),
    )
}

#: Symmetry name → parameter name → {(k, q): coefficient}: the crystal-field terms.
SYMMETRIES: dict[str, dict[str, dict[tuple[int, int], float]]] = {
    "cubic": {"B40": {(4, 0): 1.0, (4, 4): 5.0}, "B60": {(6, 0): 1.0, (6, 4): -21.0}},
    "tetragonal": {
        "B20": {(2, 0): 1.0},
        "B40": {(4, 0): 1.0},
        "B44": {(4, 4): 1.0},
        "B60": {(6, 0): 1.0},
        "B64": {(6, 4): 1.0},
    },
    "hexagonal": {
        "B20": {(2, 0): 1.0},
        "B40": {(4, 0): 1.0},
        "B60": {(6, 0): 1.0},
        "B66": {(6, 6): 1.0},
    },
    "trigonal": {
        "B20": {(2, 0): 1.0},
        "B40": {(4, 0): 1.0},
        "B43": {(4, 3): 1.0},
        "B60": {(6, 0): 1.0},
        "B63": {(6, 3): 1.0},
        "B66": {(6, 6): 1.0},
    },
    "orthorhombic": {
        name: {(int(name[1]), int(name[2])): 1.0}
        for name in ("B20", "B22", "B40", "B42", "B44", "B60", "B62", "B64", "B66")
    },
}


# --- input checks ------------------------------------------------------------------------


def check_observable(observable: str) -> None:
    """``ValueError`` unless ``observable`` is a key of :data:`OBSERVABLES`."""
    if observable not in OBSERVABLES:
        raise ValueError(f"unknown observable {observable!r}; choose one of {list(OBSERVABLES)}")


def get_ion(ion: str | Ion) -> Ion:
    """The :class:`Ion` named ``ion`` (``"Ce3+"``, ...) or ``ion`` itself.

    Raises
    ------
    ValueError
        For an unknown name, or an :class:`Ion` with an invalid J or g.
    """
    if isinstance(ion, Ion):
        stevens.two_j(ion.j)  # checks J
        if not (isinstance(ion.g, numbers.Real) and np.isfinite(ion.g) and ion.g > 0):
            raise ValueError(f"the Landé factor g of {ion.name!r} must be positive, got {ion.g!r}")
        return ion
    if ion not in IONS:
        raise ValueError(f"unknown ion {ion!r}; known: {list(IONS)} (or pass an Ion)")
    return IONS[ion]


def _check_symmetry(symmetry: str) -> dict[str, dict[tuple[int, int], float]]:
    if symmetry not in SYMMETRIES:
        raise ValueError(f"unknown symmetry {symmetry!r}; choose one of {list(SYMMETRIES)}")
    return SYMMETRIES[symmetry]


def parameter_names(ion: str | Ion = "Ce3+", symmetry: str = "cubic") -> list[str]:
    """The crystal-field parameters of ``symmetry`` that act within the ion's J multiplet.

    Terms of rank k > 2J vanish identically and are left out (Ce³⁺, J = 5/2: no k = 6).
    """
    ion = get_ion(ion)
    terms = _check_symmetry(symmetry)
    return [name for name, ops in terms.items() if all(2 * ion.j >= k for k, _ in ops)]


@cache
def _operator_stack(ion: Ion, symmetry: str) -> tuple[np.ndarray, np.ndarray]:
    """Real and imaginary parts of the parameters' operators, shape (P, n, n)."""
    terms = _check_symmetry(symmetry)
    matrices = [
        sum(c * stevens.stevens_operator(k, q, ion.j) for (k, q), c in terms[name].items())
        for name in parameter_names(ion, symmetry)
    ]
    stack = np.array(matrices)
    re, im = np.ascontiguousarray(stack.real), np.ascontiguousarray(stack.imag)
    re.flags.writeable = False
    im.flags.writeable = False
    return re, im


def check_temperature(temperature) -> np.ndarray:
    """The temperatures as a float array; ``ValueError`` unless 1-D, non-empty, finite, > 0."""
    if isinstance(temperature, pt.Variable):
        raise ValueError("temperature must be a NumPy array (the measurement axis), not symbolic")
    t = np.asarray(temperature, dtype=float)
    if t.ndim != 1 or t.size == 0:
        raise ValueError(f"temperature must be a non-empty 1-D array, got shape {t.shape}")
    if not np.all(np.isfinite(t)):
        raise ValueError("temperature has non-finite (NaN/inf) values")
    if np.any(t <= 0):
        raise ValueError(f"temperatures must be positive (K), got minimum {t.min()}")
    return t


def _check_field(field) -> float:
    if (
        isinstance(field, bool)
        or not isinstance(field, numbers.Real)
        or not np.isfinite(field)
        or field <= 0
    ):
        raise ValueError(f"the field must be a positive finite number (tesla), got {field!r}")
    return float(field)


def field_directions(direction) -> np.ndarray:
    """Unit vectors of a field direction specification, shape (d, 3).

    Parameters
    ----------
    direction : str or sequence
        ``"x"``, ``"y"``, ``"z"``, ``"powder"`` (the three axes, averaged by the
        callers), a 3-vector (normalised here), or angles ``(theta, phi)`` in radians
        (polar angle from z, azimuth from x).

    Raises
    ------
    ValueError
        For an unknown name, a zero or non-finite vector, or a sequence of another length.
    """
    axes = {"x": [1.0, 0.0, 0.0], "y": [0.0, 1.0, 0.0], "z": [0.0, 0.0, 1.0]}
    if isinstance(direction, str):
        if direction == "powder":
            return np.eye(3)
        if direction not in axes:
            raise ValueError(
                f"unknown field direction {direction!r}: use 'x', 'y', 'z', 'powder', a "
                "3-vector or angles (theta, phi)"
            )
        return np.array([axes[direction]])
    values = np.asarray(direction, dtype=float)
    if values.shape == (2,):
        theta, phi = values
        values = np.array([np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), np.cos(theta)])
    if values.shape != (3,) or not np.all(np.isfinite(values)):
        raise ValueError(
            "a field direction must be a name, a finite 3-vector or (theta, phi), "
            f"got {direction!r}"
        )
    norm = np.linalg.norm(values)
    if norm == 0:
        raise ValueError("the field direction vector must not be zero")
    return (values / norm)[None, :]


def _parameter_vector(params: Mapping, ion: Ion, symmetry: str):
    """The parameters in table order, stacked on a last axis: shape (..., P)."""
    names = parameter_names(ion, symmetry)
    unknown = sorted(set(params) - set(names))
    missing = [name for name in names if name not in params]
    if unknown or missing:
        raise ValueError(
            f"{symmetry} crystal field of {ion.name} (J = {ion.j}) has parameters {names}; "
            f"unknown: {unknown}, missing: {missing}"
        )
    values = [params[name] for name in names]
    if is_symbolic(*values):
        return pt.stack([pt.as_tensor_variable(v).astype("float64") for v in values], axis=-1)
    try:
        arrays = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in values))
    except ValueError:
        shapes = {name: np.shape(params[name]) for name in names}
        raise ValueError(f"parameter values have incompatible shapes {shapes}") from None
    return np.stack(arrays, axis=-1)


# --- forward model -----------------------------------------------------------------------


def hamiltonian(ion: str | Ion = "Ce3+", *, symmetry: str = "cubic", **params):
    r"""Crystal-field Hamiltonian :math:`H_\mathrm{CF}` in kelvin, as real and imaginary parts.

    Parameters
    ----------
    ion : str or Ion
    symmetry : str
        A key of :data:`SYMMETRIES`.
    **params
        Every parameter of :func:`parameter_names` (K), e.g. ``B40=0.1167``: scalars or
        arrays with common leading (batch) dims, NumPy or PyTensor.

    Returns
    -------
    h_re, h_im : shape (..., 2J+1, 2J+1)
        NumPy for NumPy inputs, PyTensor otherwise. Basis :math:`M = J, \dots, -J`.

    Raises
    ------
    ValueError
        For an unknown ion or symmetry, or unknown/missing parameter names.
    """
    ion = get_ion(ion)
    b = _parameter_vector(params, ion, symmetry)
    re, im = _operator_stack(ion, symmetry)
    if isinstance(b, pt.Variable):
        return pt.tensordot(b, re, axes=[[-1], [0]]), pt.tensordot(b, im, axes=[[-1], [0]])
    return np.tensordot(b, re, axes=([-1], [0])), np.tensordot(b, im, axes=([-1], [0]))


def levels(ion: str | Ion = "Ce3+", *, symmetry: str = "cubic", **params):
    """Crystal-field levels in K, ascending, shape (..., 2J+1) (see :func:`hamiltonian`)."""
    return eigvalsh(*hamiltonian(ion, symmetry=symmetry, **params))


def _reduced_levels(energies, temperature: np.ndarray):
    """x_i = (E_i − E_0)/T, shape (..., t, n), and the module (np or pt) to use."""
    xp = pt if isinstance(energies, pt.Variable) else np
    # index, then add the axis back: a slice [..., :1] has no static length 1 in PyTensor,
    # and the numba backend refuses to broadcast it
    e = energies - energies[..., 0][..., None]
    return e[..., None, :] / temperature[:, None], xp


def _populations(x, xp):
    g = xp.exp(-x)
    z = g.sum(axis=-1, keepdims=True)
    return g / z, z


def schottky_specific_heat(temperature, energies):
    r"""Schottky specific heat :math:`C = R\sum_i p_i(x_i - \langle x\rangle)^2`, J/mol/K.

    Parameters
    ----------
    temperature : array_like, shape (t,)
        Positive temperatures, K.
    energies : array_like or TensorVariable, shape (..., n)
        Levels in K, ascending (as :func:`levels` returns them).

    Returns
    -------
    shape (..., t)
    """
    t = check_temperature(temperature)
    x, xp = _reduced_levels(energies, t)
    p, _ = _populations(x, xp)
    mean = (p * x).sum(axis=-1, keepdims=True)
    return R_GAS * (p * (x - mean) ** 2).sum(axis=-1)


def schottky_entropy(temperature, energies):
    r"""Entropy :math:`S = R(\ln\sum_i e^{-x_i} + \langle x\rangle)`, J/mol/K, shape (..., t).

    See :func:`schottky_specific_heat` for the arguments.
    """
    t = check_temperature(temperature)
    x, xp = _reduced_levels(energies, t)
    p, z = _populations(x, xp)
    return R_GAS * (xp.log(z[..., 0]) + (p * x).sum(axis=-1))


def specific_heat(temperature, *, ion: str | Ion = "Ce3+", symmetry: str = "cubic", **params):
    """Specific heat of the crystal-field levels, J/mol/K, shape (..., t).

    ``params``: the crystal-field parameters as keywords (see :func:`hamiltonian`).
    """
    return schottky_specific_heat(temperature, levels(ion, symmetry=symmetry, **params))


def entropy(temperature, *, ion: str | Ion = "Ce3+", symmetry: str = "cubic", **params):
    """Entropy of the crystal-field levels, J/mol/K, shape (..., t) (see :func:`specific_heat`)."""
    return schottky_entropy(temperature, levels(ion, symmetry=symmetry, **params))


@cache
def _zeeman_operators(ion: Ion, directions: tuple[tuple[float, float, float], ...]):
    """n·J for each direction: real and imaginary parts, shape (d, n, n)."""
    jx, jy, jz = stevens.angular_momentum(ion.j)
    ops = np.array([n[0] * jx + n[1] * jy + n[2] * jz for n in directions])
    return np.ascontiguousarray(ops.real), np.ascontiguousarray(ops.imag)


def magnetisation(
    temperature,
    *,
    ion: str | Ion = "Ce3+",
    symmetry: str = "cubic",
    field: float = SMALL_FIELD,
    direction="z",
    **params,
):
    r"""Magnetisation along the field, :math:`\mu_B` per ion, shape (..., t).

    :math:`M = -g_J\langle\hat n\cdot\mathbf J\rangle` in the thermal state of
    :math:`H_\mathrm{CF} + g_J(\mu_B/k_B)B\,\hat n\cdot\mathbf J` (K), by exact
    diagonalisation (Van Vleck terms included). ``direction="powder"``: the mean over
    x, y, z (see the package docstring).

    Parameters
    ----------
    temperature : array_like, shape (t,)
        K, positive.
    ion, symmetry, **params
        As in :func:`hamiltonian`.
    field : float
        B in tesla, positive.
    direction : str or sequence
        See :func:`field_directions`.
    """
    ion = get_ion(ion)
    t = check_temperature(temperature)
    field = _check_field(field)
    n = field_directions(direction)
    h_re, h_im = hamiltonian(ion, symmetry=symmetry, **params)
    z_re, z_im = _zeeman_operators(ion, tuple(map(tuple, n)))
    zeeman = ion.g * MU_B_OVER_K_B * field  # K per unit of n·J
    h_re, h_im = h_re[..., None, :, :], h_im[..., None, :, :]  # a direction axis
    total_re = h_re + zeeman * z_re
    total_im = h_im + zeeman * z_im
    # observable A = −g n·J: shape (d, 1, n, n), one per direction
    a_re, a_im = -ion.g * z_re[:, None], -ion.g * z_im[:, None]
    m = thermal_average(total_re, total_im, a_re, a_im, 1.0 / t)  # (..., d, t, 1)
    return m[..., 0].mean(axis=-2)


def susceptibility(
    temperature,
    *,
    ion: str | Ion = "Ce3+",
    symmetry: str = "cubic",
    field: float = SMALL_FIELD,
    direction="z",
    **params,
):
    r"""Susceptibility :math:`\chi = 0.5585\,M/B`, emu/mol, shape (..., t).

    See :func:`magnetisation`; ``field`` should be small (linear regime, default 0.01 T).
    """
    m = magnetisation(
        temperature, ion=ion, symmetry=symmetry, field=field, direction=direction, **params
    )
    return EMU_PER_MU_B_PER_TESLA * m / _check_field(field)


def forward(
    temperature,
    *,
    observable: str = "specific_heat",
    ion: str | Ion = "Ce3+",
    symmetry: str = "cubic",
    field: float = SMALL_FIELD,
    direction="z",
    **params,
):
    """Any observable of :data:`OBSERVABLES` at ``temperature``, shape (..., t).

    Parameters
    ----------
    temperature : array_like, shape (t,)
        K, positive (a NumPy array: the measurement axis).
    observable : str
        A key of :data:`OBSERVABLES`; ``inverse_susceptibility`` is 1/χ in mol/emu (what
        the authors fit).
    ion, symmetry
        As in :func:`hamiltonian`.
    field, direction
        For the magnetic observables (:data:`MAGNETIC`), as in :func:`magnetisation`.
    **params
        The crystal-field parameters of :func:`parameter_names` (K), e.g. ``B40=0.1167``;
        NumPy (any common batch shape) or PyTensor.

    Raises
    ------
    ValueError
        An unknown observable, ion or symmetry; unknown or missing parameters; a bad
        temperature grid, field or direction.
    """
    check_observable(observable)
    if observable == "specific_heat":
        return specific_heat(temperature, ion=ion, symmetry=symmetry, **params)
    if observable == "entropy":
        return entropy(temperature, ion=ion, symmetry=symmetry, **params)
    magnetic = {"ion": ion, "symmetry": symmetry, "field": field, "direction": direction}
    if observable == "magnetisation":
        return magnetisation(temperature, **magnetic, **params)
    chi = susceptibility(temperature, **magnetic, **params)
    return chi if observable == "susceptibility" else 1.0 / chi


def curie_constant(ion: str | Ion = "Ce3+") -> float:
    r""":math:`C = N_A g_J^2\mu_B^2 J(J+1)/(3k_B)` in emu K/mol, with this module's constants
    (:math:`N_A\mu_B^2/k_B` = 0.5585 × 0.671714 emu K/mol)."""
    ion = get_ion(ion)
    j = float(ion.j)
    return EMU_PER_MU_B_PER_TESLA * MU_B_OVER_K_B * ion.g**2 * j * (j + 1) / 3
