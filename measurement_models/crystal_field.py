r"""Crystal field of a rare-earth ion: specific heat, magnetisation and susceptibility.

Model
-----
From seed 001 (Bayesian integration of magnetic susceptibility and specific heat) and
the authors' public code for the cubic Ce³⁺ case.

The lowest :math:`J` multiplet of a rare-earth ion (Landé factor :math:`g_J`) in a
crystal field, energies in kelvin (:math:`E/k_B`):

.. math::

    H_\mathrm{CF} = \sum_{p} B_p \sum_{(k,q)} c_{p,kq}\, O_k^q(J), \qquad
    H = H_\mathrm{CF} + g_J \frac{\mu_B}{k_B} B\; \hat n\cdot\mathbf J,

with the Stevens operators :math:`O_k^q` of :mod:`measurement_models.stevens` and one
parameter :math:`B_p` (kelvin) per symmetry-allowed term (:data:`SYMMETRIES`), e.g.
cubic :math:`H_\mathrm{CF} = B_4^0(O_4^0 + 5O_4^4) + B_6^0(O_6^0 - 21O_6^4)`, tetragonal
:math:`B_2^0O_2^0 + B_4^0O_4^0 + B_4^4O_4^4 + B_6^0O_6^0 + B_6^4O_6^4`. Terms whose
operators vanish for the ion's :math:`J` (rank :math:`k > 2J`) are left out: for Ce³⁺
(:math:`J = 5/2`, :math:`g_J = 6/7`) cubic has the one parameter ``B40`` and tetragonal
``B20, B40, B44``, as in the seed. Zeeman term: the moment is
:math:`\boldsymbol\mu = -g_J\mu_B\mathbf J`, so :math:`-\boldsymbol\mu\cdot\mathbf B =
+g_J\mu_B B\,\hat n\cdot\mathbf J` and the magnetisation along the field is
:math:`M = -g_J\langle\hat n\cdot\mathbf J\rangle` in :math:`\mu_B` per ion. (The
authors' form, :math:`-g_J\mu_B B J_z` with :math:`M = +g_J\langle J_z\rangle`, gives
the same :math:`M`: time reversal maps one onto the other and :math:`H_\mathrm{CF}` is
time-reversal even.) :math:`\mu_B/k_B` = :data:`MU_B_OVER_K_B` = 0.671714 K/T.

Observables, with the levels :math:`E_i` of :math:`H_\mathrm{CF}`, :math:`x_i = (E_i -
E_0)/T` and populations :math:`p_i = e^{-x_i}/\sum_j e^{-x_j}` (the shift by the lowest
level :math:`E_0` avoids overflow and cancels):

* specific heat (Schottky), J/mol/K: :math:`C = R\,(\langle x^2\rangle - \langle
  x\rangle^2) = R\sum_i p_i (x_i - \langle x\rangle)^2`, with the authors'
  :math:`R` = :data:`R_GAS` = 8.31441 J/mol/K (CODATA 2018: 8.314462618);
* entropy, J/mol/K: :math:`S = R\,(\ln\sum_i e^{-x_i} + \langle x\rangle)`;
* magnetisation, :math:`\mu_B`/ion:
  :math:`M = \operatorname{Tr}[A\,e^{-H/T}]/\operatorname{Tr}[e^{-H/T}]`,
  :math:`A = -g_J\,\hat n\cdot\mathbf J`, from the full Zeeman Hamiltonian
  (:func:`measurement_models.hermitian.thermal_average`), so that Van Vleck terms are
  included;
* susceptibility, emu/mol: :math:`\chi = 0.5585\,M/B` with :math:`B` in tesla at a small
  field (default :data:`SMALL_FIELD` = 0.01 T): :math:`N_A\mu_B` = 5584.9 emu/mol per
  :math:`\mu_B` per ion and 1 T = 10⁴ Oe, so the factor :data:`EMU_PER_MU_B_PER_TESLA` is
  :math:`N_A\mu_B/10^4` = 0.55849 (the authors write 0.5585 and so do we). The inverse
  susceptibility :math:`1/\chi` (mol/emu) is what the authors fit.

Field direction: ``"x"``, ``"y"``, ``"z"``, a 3-vector, angles ``(theta, phi)``, or
``"powder"``: the mean of the three axes. For the susceptibility at a small field this
mean is the exact powder average (in the linear regime :math:`\chi` is a symmetric
tensor and its orientational average is :math:`\operatorname{Tr}\chi/3`); for the
magnetisation at a large field it is only the three-axis mean.

Curie law at :math:`T \gg` splitting: :math:`\chi \to C_\mathrm{Curie}/T`,
:math:`C_\mathrm{Curie} = N_A g_J^2\mu_B^2 J(J+1)/(3k_B)` = 0.12505 :math:`g_J^2
J(J+1)` emu K/mol, 0.8039 for Ce³⁺ (:math:`\mu_\mathrm{eff}` = 2.535 :math:`\mu_B`; the
often-quoted 0.807 corresponds to a rounded :math:`\mu_\mathrm{eff}` = 2.54).

Data and likelihood: one :class:`xarray.Dataset` per observable on the axis
``temperature`` (K), the data variable named after the observable
(:data:`OBSERVABLES`); the field (T) and direction used are recorded in ``attrs``
(``field``, ``field_direction``). Gaussian noise of precision :math:`b = 1/\sigma^2`,
``pm.Normal`` per point, i.e. :math:`-nbE(\theta) + \frac n2\log\frac{b}{2\pi}`.
Default priors: :math:`B_2^q, B_4^q \sim U(-1, 1)` K (the seed's prior for
:math:`B_4^0`); :math:`B_6^q \sim U(-0.01, 0.01)` K (our choice: the
:math:`O_6^q` matrix elements are 10²–10³ times larger).

Reference settings (:data:`SEED001`): Ce³⁺, :math:`T` = 0.2, 0.4, …, 70 K (350 points
each), cubic :math:`B_4^0` = 0.1167 K, tetragonal :math:`(B_2^0, B_4^0, B_4^4)` =
(0.381, 0.165, 0.447) K, noise :math:`\sigma_\mathrm{mag}` = 10⁻² (on 1/χ) and
:math:`\sigma_\mathrm{spc}` = 10⁻³ (on C), or 1 and 0.1; the paper's noise estimate
:math:`\hat b_\mathrm{mag}` = 8.1113 × 10³ against a true 10⁴ (:math:`\hat b_\mathrm{spc}` =
10⁶ = truth).

Checked (``tests/measurement_models/test_crystal_field.py``): the Hamiltonian, levels,
C, S, M and χ against an independent NumPy implementation written in the test (J = 5/2
matrices from :math:`J_\pm` and the seed's matrix elements, ``numpy.linalg.eigh``; S as
:math:`-\partial F/\partial T` by finite differences; χ also by the zero-field
Kubo–Van Vleck sum, to 10⁻³ at 0.01 T); the two-level and doublet–quartet Schottky closed
forms; :math:`S \to R\ln 6` at high and :math:`R\ln 2` at low temperature (Γ7 Kramers
ground doublet); the Curie law with the constant from CODATA values; isotropy of χ for
cubic Ce³⁺ and Pr³⁺ (to 10⁻⁹ at 10⁻⁴ T; the cubic third-order response shows at 10⁻⁶ at
0.01 T); the three-axis powder mean against the exact average over a spherical 2-design
(tetragonal); the Landé factors against the textbook table; the Jacobian of C, S, M, χ
in the B parameters (through the eigen-solver Ops) against fourth-order finite
differences and with ``pytensor.gradient.verify_grad``, at exactly degenerate points
(every cubic point; B = 0); the joint log-density of the seed's integrated model
against the hand-written Gaussian sum, and its gradient against finite differences;
bad input raises ``ValueError``. The case study ``case_studies/crystal_field_integration.py``
checks the sampled posterior, free energy and noise estimate against quadrature.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cache

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from . import stevens
from .array_backend import is_symbolic
from .data import make_dataset, validate_dataset
from .hermitian import eigvalsh, reject_non_finite, thermal_average
from .noise import noise_sd
from .parameters import Parameter, ParameterTable, Prior, PriorSpec

__all__ = [
    "EMU_PER_MU_B_PER_TESLA",
    "IONS",
    "MU_B_OVER_K_B",
    "OBSERVABLES",
    "PARAMETERS",
    "R_GAS",
    "SEED001",
    "SMALL_FIELD",
    "SYMMETRIES",
    "Ion",
    "add_likelihood",
    "add_priors",
    "build_model",
    "curie_constant",
    "entropy",
    "example_data",
    "field_directions",
    "forward",
    "get_ion",
    "hamiltonian",
    "levels",
    "magnetisation",
    "parameter_names",
    "plot_fit",
    "schottky_entropy",
    "schottky_specific_heat",
    "simulate",
    "simulate_reference",
    "specific_heat",
    "susceptibility",
]

VARIABLE = "specific_heat"
AXIS = "temperature"

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


def _b_parameter(name: str) -> Parameter:
    k, q = int(name[1]), int(name[2])
    bound = 0.01 if k == 6 else 1.0
    return Parameter(
        name,
        "K",
        Prior("Uniform", lower=-bound, upper=bound),
        f"crystal-field parameter B_{k}^{q}, coefficient of O_{k}^{q}"
        + (" (cubic: of the cubic combination)" if q == 0 and k > 2 else ""),
    )


#: Parameter table: every crystal-field parameter B_k^q that a symmetry may use, and the noise.
PARAMETERS = ParameterTable(
    (
        *(
            _b_parameter(name)
            for name in ("B20", "B22", "B40", "B42", "B43", "B44", "B60", "B62", "B63", "B64")
        ),
        _b_parameter("B66"),
        Parameter(
            "sigma",
            "data",
            Prior("HalfNormal", sigma=1.0),
            "noise standard deviation (when not known)",
            role="noise",
        ),
    )
)

#: Seed 001 (Bayesian integration of susceptibility and specific heat, Ce³⁺): settings
#: and published numbers. ``sigma``: the two noise cases of the slide, on 1/χ (mol/emu)
#: and C (J/mol/K); ``estimated_noise_precision``: the paper's free-energy estimates for
#: the low-noise case (truth 1/σ²).
SEED001: dict[str, object] = {
    "ion": "Ce3+",
    "temperature": np.round(0.2 * np.arange(1, 351), 10),
    "field": SMALL_FIELD,
    "field_direction": "z",
    "truth": {"cubic": {"B40": 0.1167}, "tetragonal": {"B20": 0.381, "B40": 0.165, "B44": 0.447}},
    "prior": {"B40": (-1.0, 1.0)},
    "sigma": {
        "low": {"inverse_susceptibility": 1e-2, "specific_heat": 1e-3},
        "high": {"inverse_susceptibility": 1.0, "specific_heat": 0.1},
    },
    "estimated_noise_precision": {"inverse_susceptibility": 8.1113e3, "specific_heat": 1e6},
}


# --- input checks ------------------------------------------------------------------------


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


def _check_temperature(temperature) -> np.ndarray:
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
    if not isinstance(params, Mapping):
        raise ValueError(f"params must be a mapping of parameter name to value, got {params!r}")
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


def hamiltonian(params: Mapping, ion: str | Ion = "Ce3+", symmetry: str = "cubic"):
    r"""Crystal-field Hamiltonian :math:`H_\mathrm{CF}` in kelvin, as real and imaginary parts.

    Parameters
    ----------
    params : mapping
        Every parameter of :func:`parameter_names` (K): scalars or arrays with common
        leading (batch) dims, NumPy or PyTensor.
    ion : str or Ion
    symmetry : str
        A key of :data:`SYMMETRIES`.

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


def levels(params: Mapping, ion: str | Ion = "Ce3+", symmetry: str = "cubic"):
    """Crystal-field levels in K, ascending, shape (..., 2J+1) (see :func:`hamiltonian`)."""
    return eigvalsh(*hamiltonian(params, ion, symmetry))


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
    t = _check_temperature(temperature)
    x, xp = _reduced_levels(energies, t)
    p, _ = _populations(x, xp)
    mean = (p * x).sum(axis=-1, keepdims=True)
    return R_GAS * (p * (x - mean) ** 2).sum(axis=-1)


def schottky_entropy(temperature, energies):
    r"""Entropy :math:`S = R(\ln\sum_i e^{-x_i} + \langle x\rangle)`, J/mol/K, shape (..., t).

    See :func:`schottky_specific_heat` for the arguments.
    """
    t = _check_temperature(temperature)
    x, xp = _reduced_levels(energies, t)
    p, z = _populations(x, xp)
    return R_GAS * (xp.log(z[..., 0]) + (p * x).sum(axis=-1))


def specific_heat(temperature, params: Mapping, ion: str | Ion = "Ce3+", symmetry="cubic"):
    """Specific heat of the crystal-field levels, J/mol/K, shape (..., t)."""
    return schottky_specific_heat(temperature, levels(params, ion, symmetry))


def entropy(temperature, params: Mapping, ion: str | Ion = "Ce3+", symmetry="cubic"):
    """Entropy of the crystal-field levels, J/mol/K, shape (..., t)."""
    return schottky_entropy(temperature, levels(params, ion, symmetry))


@cache
def _zeeman_operators(ion: Ion, directions: tuple[tuple[float, float, float], ...]):
    """n·J for each direction: real and imaginary parts, shape (d, n, n)."""
    jx, jy, jz = stevens.angular_momentum(ion.j)
    ops = np.array([n[0] * jx + n[1] * jy + n[2] * jz for n in directions])
    return np.ascontiguousarray(ops.real), np.ascontiguousarray(ops.imag)


def magnetisation(
    temperature,
    params: Mapping,
    ion: str | Ion = "Ce3+",
    symmetry: str = "cubic",
    field: float = SMALL_FIELD,
    direction="z",
):
    r"""Magnetisation along the field, :math:`\mu_B` per ion, shape (..., t).

    :math:`M = -g_J\langle\hat n\cdot\mathbf J\rangle` in the thermal state of
    :math:`H_\mathrm{CF} + g_J(\mu_B/k_B)B\,\hat n\cdot\mathbf J` (K), by exact
    diagonalisation (Van Vleck terms included). ``direction="powder"``: the mean over
    x, y, z (see the module docstring).

    Parameters
    ----------
    temperature : array_like, shape (t,)
        K, positive.
    params, ion, symmetry
        As in :func:`hamiltonian`.
    field : float
        B in tesla, positive.
    direction : str or sequence
        See :func:`field_directions`.
    """
    ion = get_ion(ion)
    t = _check_temperature(temperature)
    field = _check_field(field)
    n = field_directions(direction)
    h_re, h_im = hamiltonian(params, ion, symmetry)
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
    params: Mapping,
    ion: str | Ion = "Ce3+",
    symmetry: str = "cubic",
    field: float = SMALL_FIELD,
    direction="z",
):
    r"""Susceptibility :math:`\chi = 0.5585\,M/B`, emu/mol, shape (..., t).

    See :func:`magnetisation`; ``field`` should be small (linear regime, default 0.01 T).
    """
    m = magnetisation(temperature, params, ion, symmetry, field, direction)
    return EMU_PER_MU_B_PER_TESLA * m / _check_field(field)


def forward(
    temperature,
    params: Mapping,
    observable: str = VARIABLE,
    ion: str | Ion = "Ce3+",
    symmetry: str = "cubic",
    field: float = SMALL_FIELD,
    direction="z",
):
    """Any observable of :data:`OBSERVABLES` at ``temperature``, shape (..., t).

    ``inverse_susceptibility`` is 1/χ in mol/emu (what the authors fit).
    """
    _check_observable(observable)
    if observable == "specific_heat":
        return specific_heat(temperature, params, ion, symmetry)
    if observable == "entropy":
        return entropy(temperature, params, ion, symmetry)
    if observable == "magnetisation":
        return magnetisation(temperature, params, ion, symmetry, field, direction)
    chi = susceptibility(temperature, params, ion, symmetry, field, direction)
    return chi if observable == "susceptibility" else 1.0 / chi


def curie_constant(ion: str | Ion = "Ce3+") -> float:
    r""":math:`C = N_A g_J^2\mu_B^2 J(J+1)/(3k_B)` in emu K/mol, with this module's constants
    (:math:`N_A\mu_B^2/k_B` = 0.5585 × 0.671714 emu K/mol)."""
    ion = get_ion(ion)
    j = float(ion.j)
    return EMU_PER_MU_B_PER_TESLA * MU_B_OVER_K_B * ion.g**2 * j * (j + 1) / 3


# --- PyMC model --------------------------------------------------------------------------


def _check_observable(observable: str) -> None:
    if observable not in OBSERVABLES:
        raise ValueError(f"unknown observable {observable!r}; choose one of {list(OBSERVABLES)}")


def _observable_of(data: xr.Dataset, observable: str | None) -> str:
    """The observable a dataset holds: given, or the one observable variable present."""
    if observable is not None:
        _check_observable(observable)
        validate_dataset(data, variables=[observable], axis=AXIS)
        return observable
    validate_dataset(data)
    present = [name for name in OBSERVABLES if name in data.data_vars]
    if not present:
        raise ValueError(
            f"missing data variable: one of {list(OBSERVABLES)} is needed; present: "
            f"{list(data.data_vars)}"
        )
    if len(present) > 1:
        raise ValueError(f"the data hold several observables {present}: pass observable=")
    validate_dataset(data, axis=AXIS)
    return present[0]


def add_priors(
    ion: str | Ion = "Ce3+",
    symmetry: str = "cubic",
    priors: Mapping[str, PriorSpec] | None = None,
    prefix: str = "",
    names: Sequence[str] | None = None,
) -> dict[str, pt.TensorVariable]:
    """Add the crystal-field parameters' priors to the current model.

    Parameters
    ----------
    ion : str or Ion
    symmetry : str
        A key of :data:`SYMMETRIES`; the parameters are :func:`parameter_names`.
    priors : mapping, optional
        Prior overrides by parameter name.
    prefix : str
        Prepended to every variable name (as
        :func:`measurement_models.integration.integrated_model` uses it).
    names : sequence of str, optional
        Only these parameters (default: all of the symmetry for this ion).

    Returns
    -------
    dict
        Parameter name (without prefix) to PyMC variable.
    """
    wanted = parameter_names(ion, symmetry)
    if names is not None:
        unknown = [name for name in names if name not in wanted]
        if unknown:
            raise ValueError(f"no parameter(s) {unknown} in this model; its parameters: {wanted}")
        wanted = [name for name in wanted if name in names]
    return PARAMETERS.add_priors(wanted, priors, prefix=prefix)


def add_likelihood(
    data: xr.Dataset,
    params: Mapping[str, pt.TensorVariable],
    sigma,
    name: str | None = None,
    ion: str | Ion = "Ce3+",
    symmetry: str = "cubic",
    observable: str | None = None,
    field: float | None = None,
    direction=None,
) -> pt.TensorVariable:
    """Add the Gaussian likelihood of one crystal-field dataset to the current model.

    The mean goes through :func:`~measurement_models.hermitian.reject_non_finite` (a
    Potential named ``<name>_finite``: log-density −∞ if a solve fails; the noise scan
    knows it is not a likelihood term).

    Parameters
    ----------
    data : xarray.Dataset
        Axis ``temperature`` (K) and one observable variable (:data:`OBSERVABLES`).
    params : mapping
        Parameter name to variable; the ones of :func:`parameter_names` are used.
    sigma : float, array or TensorVariable
        Noise standard deviation.
    name : str, optional
        Name of the observed variable (default: the observable's name).
    ion, symmetry
        As in :func:`hamiltonian`.
    observable : str, optional
        Default: the observable variable present in ``data``.
    field, direction
        For magnetic observables; default: ``data.attrs["field"]`` and
        ``data.attrs["field_direction"]``, else 0.01 T along z.
    """
    observable = _observable_of(data, observable)
    ion = get_ion(ion)
    needed = parameter_names(ion, symmetry)
    missing = [p for p in needed if p not in params]
    if missing:
        raise ValueError(f"missing parameter(s) {missing} for the {symmetry} crystal field")
    field = data.attrs.get("field", SMALL_FIELD) if field is None else field
    direction = data.attrs.get("field_direction", "z") if direction is None else direction
    t = data[AXIS].values
    mean = forward(t, {p: params[p] for p in needed}, observable, ion, symmetry, field, direction)
    name = observable if name is None else name
    mean = reject_non_finite(mean, f"{name}_finite")
    return pm.Normal(name, mu=mean, sigma=sigma, observed=data[observable].values)


def build_model(
    data: xr.Dataset,
    ion: str | Ion = "Ce3+",
    symmetry: str = "cubic",
    sigma: float | None = None,
    priors: Mapping[str, PriorSpec] | None = None,
    observable: str | None = None,
    field: float | None = None,
    direction=None,
) -> pm.Model:
    """PyMC model of one crystal-field measurement.

    Parameters
    ----------
    data : xarray.Dataset
        See :func:`add_likelihood`.
    ion, symmetry
        The ion (:data:`IONS` or an :class:`Ion`) and the symmetry (:data:`SYMMETRIES`).
    sigma : float, optional
        Known noise standard deviation; default: the data's ``sigma`` variable, else a
        ``sigma`` parameter.
    priors : mapping, optional
        Prior overrides by parameter name.
    observable, field, direction
        See :func:`add_likelihood`.

    Returns
    -------
    pymc.Model
        Free variables: the B parameters (and ``sigma``); observed: the observable.
    """
    observable = _observable_of(data, observable)
    parameter_names(ion, symmetry)  # checks ion and symmetry first
    with pm.Model() as model:
        params = add_priors(ion, symmetry, priors)
        add_likelihood(
            data,
            params,
            noise_sd(data, sigma, PARAMETERS, priors),
            ion=ion,
            symmetry=symmetry,
            observable=observable,
            field=field,
            direction=direction,
        )
    return model


def simulate(
    temperature,
    params: Mapping[str, float],
    observable: str = VARIABLE,
    sigma: float = 0.01,
    rng: np.random.Generator | int | None = None,
    ion: str | Ion = "Ce3+",
    symmetry: str = "cubic",
    field: float = SMALL_FIELD,
    direction="z",
) -> xr.Dataset:
    """Simulate one observable with Gaussian noise from a seeded generator.

    The truth is kept in ``attrs`` (``truth_<parameter>``, ``truth_sigma``) with ``ion``,
    ``symmetry``, ``field`` (T) and ``field_direction``.
    """
    rng = np.random.default_rng(rng)
    t = _check_temperature(temperature)
    if not np.isfinite(sigma) or sigma <= 0:
        raise ValueError(f"sigma must be positive and finite, got {sigma!r}")
    ion = get_ion(ion)
    clean = forward(t, params, observable, ion, symmetry, field, direction)
    if np.shape(clean) != t.shape:
        raise ValueError("simulate takes one parameter set (scalars), not a batch")
    unit, long_name = OBSERVABLES[observable]
    ds = make_dataset(
        t,
        clean + sigma * rng.standard_normal(t.shape),
        sigma=np.full(t.shape, float(sigma)),
        axis=AXIS,
        axis_units="K",
        variable=observable,
        units=unit,
        attrs={
            **{f"truth_{k}": float(v) for k, v in params.items()},
            "truth_sigma": float(sigma),
            "ion": ion.name,
            "symmetry": symmetry,
            "field": float(field),
            "field_direction": direction if isinstance(direction, str) else np.asarray(direction),
        },
    )
    ds[observable].attrs["long_name"] = long_name
    return ds


def simulate_reference(
    symmetry: str = "cubic", noise: str = "low", rng: np.random.Generator | int | None = 0
) -> dict[str, xr.Dataset]:
    """Seed 001's two measurements of Ce³⁺: ``inverse_susceptibility`` and ``specific_heat``.

    T = 0.2, 0.4, …, 70 K (350 points each), truth :data:`SEED001` ``["truth"][symmetry]``,
    noise ``SEED001["sigma"][noise]``; both from one seeded generator (1/χ first).
    """
    if noise not in SEED001["sigma"]:
        raise ValueError(f"unknown noise case {noise!r}; choose one of {list(SEED001['sigma'])}")
    if symmetry not in SEED001["truth"]:
        raise ValueError(
            f"seed 001 has no {symmetry!r} case; choose one of {list(SEED001['truth'])}"
        )
    rng = np.random.default_rng(rng)
    return {
        observable: simulate(
            SEED001["temperature"],
            SEED001["truth"][symmetry],
            observable,
            sigma=SEED001["sigma"][noise][observable],
            rng=rng,
            ion=SEED001["ion"],
            symmetry=symmetry,
            field=SEED001["field"],
            direction=SEED001["field_direction"],
        )
        for observable in ("inverse_susceptibility", "specific_heat")
    }


def example_data(rng: np.random.Generator | int | None = 0) -> tuple[xr.Dataset, dict]:
    """Specific heat of cubic Ce³⁺ (B40 = 0.1167 K) at 40 temperatures, σ = 0.01 J/mol/K."""
    truth = {"B40": 0.1167}
    t = np.linspace(1.0, 70.0, 40)
    return simulate(t, truth, "specific_heat", sigma=0.01, rng=rng), truth


def plot_fit(
    ax,
    data: xr.Dataset,
    posterior: xr.Dataset,
    ion: str | Ion | None = None,
    symmetry: str | None = None,
    observable: str | None = None,
    **_,
) -> None:
    """Data, posterior band of the observable, and the truth if known.

    ``ion`` and ``symmetry`` default to the data's attrs (as :func:`simulate` writes them).
    """
    from .plotting import plot_band, plot_data, posterior_draws

    observable = _observable_of(data, observable)
    ion = data.attrs.get("ion", "Ce3+") if ion is None else ion
    symmetry = data.attrs.get("symmetry", "cubic") if symmetry is None else symmetry
    field = data.attrs.get("field", SMALL_FIELD)
    direction = data.attrs.get("field_direction", "z")
    names = parameter_names(ion, symmetry)
    t = data[AXIS].values
    draws = posterior_draws(posterior)
    curves = forward(
        t, {p: draws[p].values for p in names}, observable, ion, symmetry, field, direction
    )
    plot_data(ax, data, observable)
    plot_band(ax, t, curves)
    if all(f"truth_{p}" in data.attrs for p in names):
        truth = {p: data.attrs[f"truth_{p}"] for p in names}
        ax.plot(
            t, forward(t, truth, observable, ion, symmetry, field, direction), "k--", label="truth"
        )
    ax.set_ylabel(f"{observable} [{OBSERVABLES[observable][0]}]")
    ax.legend(fontsize="small")
