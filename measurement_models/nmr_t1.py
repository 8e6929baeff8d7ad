r"""NMR spin–lattice relaxation: T1 recovery curves and their models (Ueda et al. 2023).

Model
-----
S. Ueda, S. Katakami, S. Yoshida, T. Koyama, Y. Nakai, T. Mito, M. Mizumaki, M. Okada,
*Bayesian approach to T1 analysis in NMR spectroscopy with applications to solid state
physics*, JPSJ 92, 054002 (2023); seed 001; REFERENCE.md "NMR spin–lattice relaxation T1".

After the observed transition has been saturated at :math:`t = 0`, the nuclear
magnetisation recovers as :math:`M(t) = M_0[1 - R(t)]`. For magnetic dipolar
relaxation among the :math:`2I+1` Zeeman levels (transition rates
:math:`W_{m\to m\pm1} \propto I(I+1) - m(m\pm1)`, :math:`1/T_1 = 2W`) the recovery of
one line is a fixed sum of exponentials,

.. math::

    R(t) = 1 - \frac{M(t)}{M_0} = \sum_i a_i\, e^{-\lambda_i t/T_1}, \qquad
    \sum_i a_i = 1,

with (:data:`RECOVERY_TERMS`)

=============================  ======================================================
:math:`I = 1/2`                :math:`e^{-t/T_1}`
:math:`I = 3/2`, central line  :math:`\tfrac1{10}e^{-t/T_1} + \tfrac9{10}e^{-6t/T_1}`
:math:`I = 3/2`, NQR           :math:`e^{-3t/T_1}` (:math:`\pm\tfrac12\leftrightarrow
                               \pm\tfrac32` in zero field)
:math:`I = 5/2`, central line  :math:`\tfrac1{35}e^{-t/T_1} + \tfrac8{45}e^{-6t/T_1} +
                               \tfrac{50}{63}e^{-15t/T_1}`
:math:`I = 7/2`, central line  :math:`\tfrac1{84}e^{-t/T_1} + \tfrac3{44}e^{-6t/T_1} +
                               \tfrac{75}{364}e^{-15t/T_1} +
                               \tfrac{1225}{1716}e^{-28t/T_1}`
=============================  ======================================================

(the exponents are :math:`\ell(\ell+1)/2` with odd :math:`\ell` for the central line).
Disorder and coexisting relaxation channels (the two kinds of model of Ueda et al.)
enter as

* a **stretched exponent** :math:`0 < \beta \le 1` (distribution of :math:`T_1`), each
  exponential becoming :math:`e^{-(\lambda_i t/T_1)^\beta}`;
* several **components** with weights :math:`w_k` (:math:`\sum_k w_k = 1`):
  :math:`R(t) = \sum_k w_k R(t; T_{1,k})`.

The measured signal is

.. math::

    M(t) = M_0\,[1 - f\,R(t)] + c, \qquad y_j = M(t_j) + \varepsilon_j,\quad
    \varepsilon_j \sim N(0, \sigma^2),

with the saturation (``method="saturation"``: :math:`f = 1`, offset :math:`c` fitted)
or inversion recovery (``method="inversion"``: the inversion factor :math:`f \in
(1, 2]` fitted, :math:`f = 2` a perfect π pulse, :math:`c = 0`). With a fitted
:math:`f`, an offset is not identifiable: :math:`M(t) = (M_0 + c) - M_0 f R(t)`
determines only :math:`M_0 + c` and :math:`M_0 f`, so the inversion model has no
offset (a constant background is absorbed into :math:`M_0` and :math:`f`). The times
:math:`t_j > 0` [s] are usually on a logarithmic grid, as measured. The noise level is
known (``sigma``), read from the data's ``sigma`` variable, or a parameter.

Variants (:data:`VARIANTS`, chosen by free energy as in the paper): ``"single"``
(:math:`T_1`), ``"stretched"`` (:math:`T_1, \beta`), ``"two_component"``
(:math:`T_{1,1}, T_{1,2}, w`).

Priors (:data:`PARAMETERS`; the data-dependent ones are this package's choice)
------------------------------------------------------------------------------
* :math:`T_{1,k}` log-uniform on :math:`[\lambda_{\min} t_{\min},\ \lambda_{\max}
  t_{\max}]`, :math:`t_{\min}, t_{\max}` the first and last measured times and
  :math:`\lambda` the exponents of the line's recovery: every :math:`T_1` for which some
  term's time constant :math:`T_1/\lambda_i` lies in the measured range. The
  components of the two-component model are exchangeable (same prior), so the posterior
  is symmetric under relabelling; :func:`relabel_components` sorts draws by
  :math:`T_1` for display, and the free energy is that of the exchangeable prior.
* :math:`\beta \sim U(0, 1)`; :math:`w \sim \mathrm{Dirichlet}(1, \dots, 1)`;
  :math:`f \sim U(1, 2)`.
* :math:`M_0 \sim U(0, 2 M_\mathrm{ref})`, :math:`c \sim U(-M_\mathrm{ref}/2,
  M_\mathrm{ref}/2)`, :math:`\sigma \sim \mathrm{HalfNormal}(M_\mathrm{ref}/10)` (when
  estimated), with :math:`M_\mathrm{ref} = \max_j |y_j|`.

The table lists the data-scaled priors in units of those scales (``T1``: the position
of :math:`\log T_1` in the log range). A prior given in ``priors`` replaces the default
and is used as given, in physical units.

Checked (``tests/measurement_models/test_nmr_t1.py``): every row of
:data:`RECOVERY_TERMS` (exponents and amplitudes) against the eigen-decomposition of the
master equation of magnetic dipolar relaxation among the :math:`2I+1` levels, written
independently in the test with NumPy/SciPy (central line saturated from a Boltzmann
population; NQR: both :math:`\pm\frac12\leftrightarrow\pm\frac32` lines saturated in
zero field), also the inversion factor 2 of a perfect inversion; :math:`R(0) = 1`,
:math:`R(\infty) = 0`, :math:`M \to M_0 + c`, :math:`\beta = 1` equals the plain
model, two components with equal :math:`T_1` equal one, the PyTensor graph equals the
NumPy forward model; the log-density against ``scipy.stats`` (normal, Dirichlet,
uniform) and the log-uniform prior (normalised, by quadrature; prior draws uniform in
:math:`\log T_1` by a Kolmogorov–Smirnov test); one compiled graph reused across
datasets with ``pm.set_data``; a shared :math:`T_1` in
:func:`measurement_models.integration.integrated_model`; the free energy of the
single-:math:`T_1` model (:math:`T_1, M_0, c`) sampled by replica exchange against
quadrature over the prior (within 4 MCSE, with a negative control at :math:`\log 2`).
The case study ``case_studies/ueda2023_nmr_t1_selection.py`` repeats that check at three
noise levels and measures how often the free energy picks the true variant
(``docs/nmr-t1.md``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr
from pymc.logprob.transforms import Transform

from .array_backend import is_symbolic
from .data import load_text, make_dataset, validate_dataset
from .noise import noise_sd
from .parameters import Parameter, ParameterTable, Prior, PriorSpec, check_choice
from .plotting import sort_labels

__all__ = [
    "COMPONENT_DIM",
    "METHODS",
    "PARAMETERS",
    "RECOVERY_TERMS",
    "SELECTION_STUDY",
    "SPINS",
    "TRANSITIONS",
    "VARIANTS",
    "add_likelihood",
    "add_priors",
    "build_model",
    "example_data",
    "forward",
    "load_recovery",
    "parameter_names",
    "plot_fit",
    "posterior_curves",
    "prior_scales",
    "recovery",
    "recovery_terms",
    "relabel_components",
    "simulate",
    "time_grid",
]

VARIABLE = "intensity"
AXIS = "time"
#: Dimension of the relaxation components.
COMPONENT_DIM = "component"
_COMPONENT = (COMPONENT_DIM,)

_F = Fraction
#: Recovery of one line after saturation: (spin, transition) -> ((a_i, λ_i), ...), with
#: R(t) = Σ_i a_i exp(-λ_i t / T1) (REFERENCE.md; checked against the master equation).
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
#: Recovery methods: saturation or inversion recovery.
METHODS = ("saturation", "inversion")
#: Variant name -> (number of components, stretched).
VARIANTS: dict[str, tuple[int, bool]] = {
    "single": (1, False),
    "stretched": (1, True),
    "two_component": (2, False),
}

#: Parameter table: relaxation times, stretch exponent and weights, instrument and noise.
PARAMETERS = ParameterTable(
    (
        Parameter(
            "T1",
            "s",
            Prior("Uniform", lower=0.0, upper=1.0),
            "spin–lattice relaxation time of each component; default prior log-uniform on "
            "[λ_min t_min, λ_max t_max] (the table's U(0, 1) is the position of log T1 "
            "in that log range)",
            _COMPONENT,
        ),
        Parameter(
            "stretch",
            "",
            Prior("Uniform", lower=0.0, upper=1.0),
            "stretch exponent β of every exponential, exp(-(λ t/T1)^β) (stretched variant)",
        ),
        Parameter(
            "weight",
            "",
            Prior("Dirichlet", a=1.0),
            "fraction of each relaxation component (two or more components only)",
            _COMPONENT,
        ),
        Parameter(
            "M0",
            "intensity",
            Prior("Uniform", lower=0.0, upper=2.0),
            "equilibrium magnetisation; default prior in units of M_ref, the largest "
            "absolute intensity",
            role="instrument",
        ),
        Parameter(
            "offset",
            "intensity",
            Prior("Uniform", lower=-0.5, upper=0.5),
            "constant background c (saturation recovery only); in units of M_ref",
            role="instrument",
        ),
        Parameter(
            "inversion",
            "",
            Prior("Uniform", lower=1.0, upper=2.0),
            "inversion factor f, M(0) = M0 (1 - f) (inversion recovery only; f = 2 is a "
            "perfect π pulse)",
            role="instrument",
        ),
        Parameter(
            "sigma",
            "intensity",
            Prior("HalfNormal", sigma=0.1),
            "noise standard deviation (when not known); in units of M_ref",
            role="noise",
        ),
    )
)

#: The simulated selection study of the case study: I = 3/2 central line, saturation
#: recovery at 30 delays log-spaced over 10⁻⁴–1 s, M0 = 1, no offset; one truth per
#: variant and the noise levels σ/M0. The truths are this package's choice.
SELECTION_STUDY = {
    "spin": 1.5,
    "transition": "central",
    "time": np.geomspace(1e-4, 1.0, 30),
    "truths": {
        "single": {"T1": np.array([0.01])},
        "stretched": {"T1": np.array([0.01]), "stretch": 0.6},
        "two_component": {"T1": np.array([0.004, 0.04]), "weight": np.array([0.5, 0.5])},
    },
    "M0": 1.0,
    "sigmas": (0.003, 0.01, 0.03),
}


# --------------------------------------------------------------------------------------
# Recovery curves
# --------------------------------------------------------------------------------------


def _spin(spin) -> Fraction:
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
    value = _spin(spin)
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
    T1,
    M0=1.0,
    offset=0.0,
    *,
    spin=0.5,
    transition: str = "central",
    weight=None,
    stretch=None,
    inversion=1.0,
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


# --------------------------------------------------------------------------------------
# Priors and likelihood
# --------------------------------------------------------------------------------------


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


def _log_uniform(name: str, lower, upper, dims: tuple[str, ...], shape=None):
    """A log-uniform variable on [lower, upper] (bounds may be ``pm.Data``)."""
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


def parameter_names(
    variant: str = "single", method: str = "saturation", offset: bool | None = None
) -> list[str]:
    """Names of the model's parameters (without ``sigma``), in table order."""
    check_choice(variant, VARIANTS, "variant")
    check_choice(method, METHODS, "method")
    n_components, stretched = VARIANTS[variant]
    with_offset = _with_offset(method, offset)
    names = ["T1"]
    names += ["stretch"] if stretched else []
    names += ["weight"] if n_components > 1 else []
    names += ["M0"] + (["offset"] if with_offset else [])
    names += ["inversion"] if method == "inversion" else []
    return names


def _with_offset(method: str, offset: bool | None) -> bool:
    if offset is None:
        return method == "saturation"
    if offset and method == "inversion":
        raise ValueError(
            "an offset is not identifiable in inversion recovery with a fitted inversion "
            "factor (only M0 + offset and M0·f are determined); use offset=False"
        )
    return bool(offset)


def prior_scales(
    data: xr.Dataset,
    spin=0.5,
    transition: str = "central",
    *,
    mutable: bool = False,
    name: str = VARIABLE,
) -> dict[str, object]:
    """Data-derived prior scales: the T1 range and :math:`M_\\mathrm{ref} = \\max|y|`.

    ``T1_lower`` :math:`= \\lambda_{\\min} t_{\\min}`, ``T1_upper``
    :math:`= \\lambda_{\\max} t_{\\max}` [s], ``level`` :math:`= M_\\mathrm{ref}`;
    ``pm.Data`` containers (``<name>_T1_lower``, ...) if ``mutable``.
    """
    _, exponents = recovery_terms(spin, transition)
    time = _times(data)
    values = {
        "T1_lower": np.float64(exponents.min() * time[0]),
        "T1_upper": np.float64(exponents.max() * time[-1]),
        "level": np.float64(np.max(np.abs(data[VARIABLE].values))),
    }
    if values["level"] <= 0:
        raise ValueError("the measured intensities are all zero: no scale for M0")
    if not mutable:
        return values
    return {key: pm.Data(f"{name}_{key}", value) for key, value in values.items()}


def _times(data: xr.Dataset) -> np.ndarray:
    validate_dataset(data, variables=[VARIABLE], axis=AXIS)
    time = data[AXIS].values.astype(np.float64)
    if time[0] <= 0:
        raise ValueError(
            f"times must be positive (delays after the saturating pulse, in s); "
            f"the first is {time[0]!r}"
        )
    return time


def _scaled_priors(
    priors: Mapping[str, PriorSpec], scales: Mapping[str, object], n_components: int = 1
) -> dict:
    """Default priors that depend on the data (and the size), unless overridden."""
    out = dict(priors)
    level = scales["level"]

    for row in ("M0", "offset", "sigma"):
        out.setdefault(row, PARAMETERS[row].prior.scaled(level))
    out.setdefault("weight", Prior("Dirichlet", a=np.ones(n_components)))
    out.setdefault(
        "T1", lambda name, dims: _log_uniform(name, scales["T1_lower"], scales["T1_upper"], dims)
    )
    return out


def add_priors(
    data: xr.Dataset,
    variant: str = "single",
    *,
    spin=0.5,
    transition: str = "central",
    method: str = "saturation",
    offset: bool | None = None,
    priors: Mapping[str, PriorSpec] | None = None,
    prefix: str = "",
    names: Sequence[str] | None = None,
    scales: Mapping[str, object] | None = None,
) -> dict[str, pt.TensorVariable]:
    """Add the recovery-curve priors to the current model (adding ``component`` if missing).

    Parameters
    ----------
    data : xarray.Dataset
        The measurement (for the data-derived prior scales, :func:`prior_scales`).
    variant : {"single", "stretched", "two_component"}
    spin, transition
        The line (see :func:`recovery_terms`); they set the T1 prior's range.
    method : {"saturation", "inversion"}
        Saturation (offset) or inversion recovery (inversion factor).
    offset : bool, optional
        Fit a constant background (default: yes for saturation, no for inversion, where
        it is not identifiable).
    priors : mapping, optional
        Prior overrides by parameter name, in physical units.
    prefix : str
        Prepended to every variable name (several parameter sets in one model).
    names : sequence of str, optional
        Only these of the variant's parameters (default: all of them).
    scales : mapping, optional
        Precomputed :func:`prior_scales` (e.g. ``pm.Data`` containers).

    Returns
    -------
    dict
        Parameter name (without prefix) to PyMC variable.
    """
    wanted = parameter_names(variant, method, offset)
    every = [*wanted, "sigma"]
    if names is not None:
        unknown = [n for n in names if n not in wanted]
        if unknown:
            raise ValueError(f"no parameter(s) {unknown} in the {variant} model; has {wanted}")
        wanted = [n for n in wanted if n in names]
    priors = dict(priors or {})
    unknown = sorted(set(priors) - set(every))
    if unknown:
        raise ValueError(
            f"prior given for parameter(s) {unknown} that the {variant} {method} model does "
            f"not have; its parameters: {every}"
        )
    n_components = VARIANTS[variant][0]
    model = pm.modelcontext(None)
    if COMPONENT_DIM not in model.coords:
        model.add_coord(COMPONENT_DIM, np.arange(n_components))
    elif len(model.coords[COMPONENT_DIM]) != n_components:
        raise ValueError(f"the model's {COMPONENT_DIM!r} coordinate has not {n_components} entries")
    if scales is None:
        scales = prior_scales(data, spin, transition)
    return PARAMETERS.add_priors(
        wanted, _scaled_priors(priors, scales, n_components), prefix=prefix
    )


def _containers(data: xr.Dataset, name: str, mutable: bool) -> dict[str, object]:
    """Times, intensities and the data's sigma; ``pm.Data`` if ``mutable``."""
    values = {
        "time": _times(data),
        "observed": data[VARIABLE].values.astype(np.float64),
    }
    if "sigma" in data.data_vars:
        values["sigma"] = data["sigma"].values.astype(np.float64)
    if not mutable:
        return values
    return {key: pm.Data(f"{name}_{key}", value) for key, value in values.items()}


def add_likelihood(
    data: xr.Dataset,
    params: Mapping[str, pt.TensorVariable],
    sigma=None,
    *,
    spin=0.5,
    transition: str = "central",
    priors: Mapping[str, PriorSpec] | None = None,
    scales: Mapping[str, object] | None = None,
    name: str = VARIABLE,
    mutable_data: bool = False,
) -> pt.TensorVariable:
    """Add the Gaussian likelihood of one recovery curve to the current model.

    Parameters
    ----------
    data : xarray.Dataset
        ``intensity`` along ``time`` [s] (optional ``sigma``).
    params : mapping
        From :func:`add_priors`: ``T1`` and, as present, ``stretch``, ``weight``,
        ``M0``, ``offset``, ``inversion`` (absent ones take their plain values: one
        component, unstretched, :math:`M_0 = 1`, no offset, saturation).
    sigma : float, array or TensorVariable, optional
        Noise standard deviation: a known value (per point, or a variable as
        :func:`measurement_models.integration.integrated_model` passes); else the data's
        ``sigma``; else a ``sigma`` parameter (prior HalfNormal(M_ref/10) unless
        overridden in ``priors``).
    spin, transition
        The line (see :func:`recovery_terms`).
    priors : mapping, optional
        Prior overrides (only ``sigma`` is used here).
    scales : mapping, optional
        :func:`prior_scales` (for the ``sigma`` prior).
    name : str
        Name of the observed variable.
    mutable_data : bool
        Put times, intensities and the data's sigma in ``pm.Data`` containers
        (``<name>_time``, ``<name>_observed``, ``<name>_sigma``), so that models of one
        structure share one numba-compiled graph across datasets (constants are part of
        a graph, and numba caches compiled graphs).

    Returns
    -------
    TensorVariable
        The observed variable.
    """
    containers = _containers(data, name, mutable_data)
    mean = forward(
        containers["time"],
        params["T1"],
        params.get("M0", np.float64(1.0)),
        params.get("offset", np.float64(0.0)),
        spin=spin,
        transition=transition,
        weight=params.get("weight"),
        stretch=params.get("stretch"),
        inversion=params.get("inversion", np.float64(1.0)),
    )
    return pm.Normal(
        name,
        mu=mean,
        sigma=_noise(data, sigma, containers, priors, scales, spin, transition),
        observed=containers["observed"],
    )


def _noise(data, sigma, containers, priors, scales, spin, transition):
    """Known σ (scalar, per point, or a variable), the data's σ, or a σ parameter."""
    if isinstance(sigma, pt.Variable):
        return sigma
    if sigma is not None and np.ndim(sigma) > 0:
        values = np.asarray(sigma, dtype=np.float64)
        if not np.all(np.isfinite(values) & (values > 0)):
            raise ValueError("sigma must be positive and finite everywhere")
        return values
    if sigma is None and "sigma" in containers:
        return containers["sigma"]
    if scales is None:
        scales = prior_scales(data, spin, transition)
    return noise_sd(
        data.drop_vars("sigma", errors="ignore"),
        sigma,
        PARAMETERS,
        _scaled_priors(priors or {}, scales),
    )


def build_model(
    data: xr.Dataset,
    variant: str = "single",
    *,
    spin=0.5,
    transition: str = "central",
    method: str = "saturation",
    offset: bool | None = None,
    sigma: float | None = None,
    priors: Mapping[str, PriorSpec] | None = None,
    mutable_data: bool = False,
) -> pm.Model:
    """PyMC model of a T1 recovery curve.

    Parameters
    ----------
    data : xarray.Dataset
        ``intensity`` along ``time`` [s] (positive, increasing; usually log-spaced),
        optional ``sigma`` (see :func:`simulate`, :func:`load_recovery`).
    variant : {"single", "stretched", "two_component"}
        One exponential law, stretched (:math:`\\beta`), or two components
        (:math:`T_{1,1}, T_{1,2}, w`).
    spin : float or str
        Nuclear spin I (1/2, 3/2, 5/2, 7/2).
    transition : {"central", "nqr"}
        Observed line (NQR for I = 3/2 only).
    method : {"saturation", "inversion"}
        Saturation recovery (:math:`f = 1`) or inversion recovery (:math:`f \\sim
        U(1, 2)`).
    offset : bool, optional
        Fit the background :math:`c` (default: saturation yes, inversion no).
    sigma : float, optional
        Known noise standard deviation; default the data's ``sigma``, else a parameter.
    priors : mapping, optional
        Prior overrides by parameter name (physical units).
    mutable_data : bool
        Data and data-derived prior scales in ``pm.Data`` containers: models of one
        structure then share one compiled graph across datasets.

    Returns
    -------
    pymc.Model
        ``T1`` (and ``weight``) with dim ``component``; observed ``intensity``.

    Raises
    ------
    ValueError
        Bad data (via :func:`~measurement_models.data.validate_dataset`: NaN, unsorted
        or repeated times, wrong shapes, a missing variable; here: an axis not named
        ``time``, non-positive times), an unknown variant, spin, transition or method,
        an offset with inversion recovery, priors for parameters the model lacks.
    """
    validate_dataset(data, variables=[VARIABLE])
    if AXIS not in data.dims:
        raise ValueError(f"T1 data need a {AXIS!r} axis (seconds), got {tuple(data.dims)}")
    _times(data)
    check_choice(variant, VARIANTS, "variant")
    check_choice(method, METHODS, "method")
    recovery_terms(spin, transition)
    with pm.Model(coords={COMPONENT_DIM: np.arange(VARIANTS[variant][0])}) as model:
        scales = prior_scales(data, spin, transition, mutable=mutable_data)
        params = add_priors(
            data,
            variant,
            spin=spin,
            transition=transition,
            method=method,
            offset=offset,
            priors=priors,
            scales=scales,
        )
        add_likelihood(
            data,
            params,
            sigma,
            spin=spin,
            transition=transition,
            priors=priors,
            scales=scales,
            mutable_data=mutable_data,
        )
    return model


# --------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------


def simulate(
    time: np.ndarray,
    *,
    T1,
    M0: float = 1.0,
    offset: float = 0.0,
    weight=None,
    stretch: float | None = None,
    inversion: float = 1.0,
    spin=0.5,
    transition: str = "central",
    sigma: float,
    rng: np.random.Generator | int | None = None,
) -> xr.Dataset:
    """Simulate a recovery curve with Gaussian noise (seeded :class:`numpy.random.Generator`).

    Parameters are those of :func:`forward`; ``sigma`` is stored per point. The truth is
    kept in ``attrs`` (``truth_T1``, ``truth_M0``, ``truth_offset``, ``truth_sigma``,
    and ``truth_weight``, ``truth_stretch``, ``truth_inversion`` when given), with
    ``spin``, ``transition`` and ``method``.
    """
    rng = np.random.default_rng(rng)
    time = np.asarray(time, dtype=float)
    T1 = np.atleast_1d(np.asarray(T1, dtype=float))
    if not (np.isfinite(sigma) and sigma > 0):
        raise ValueError(f"sigma must be positive and finite, got {sigma!r}")
    mean = forward(
        time,
        T1,
        M0,
        offset,
        spin=spin,
        transition=transition,
        weight=weight,
        stretch=stretch,
        inversion=inversion,
    )
    attrs: dict[str, object] = {
        "truth_T1": T1,
        "truth_M0": float(M0),
        "truth_offset": float(offset),
        "truth_sigma": float(sigma),
        "spin": float(_spin(spin)),
        "transition": transition,
        "method": "saturation" if inversion == 1 else "inversion",
    }
    if weight is not None:
        attrs["truth_weight"] = np.asarray(weight, dtype=float)
    if stretch is not None:
        attrs["truth_stretch"] = float(stretch)
    if inversion != 1:
        attrs["truth_inversion"] = float(inversion)
    return make_dataset(
        time,
        mean + sigma * rng.standard_normal(time.shape),
        sigma=np.full(time.shape, float(sigma)),
        axis=AXIS,
        axis_units="s",
        variable=VARIABLE,
        units="a.u.",
        attrs=attrs,
    )


def load_recovery(path: str | Path) -> xr.Dataset:
    """Read a recovery curve: ``time [s]  intensity  [sigma]`` per line.

    White space or commas; comments with ``#``, ``%``, ``;``, ``!`` (see
    :func:`measurement_models.data.load_text`). Times must be positive and increasing.
    """
    data = load_text(path, axis=AXIS, axis_units="s", variable=VARIABLE, units="a.u.")
    _times(data)
    return data


def example_data(rng: np.random.Generator | int | None = 0) -> tuple[xr.Dataset, dict]:
    """A stretched I = 1/2 saturation recovery (β = 0.7, σ = 1 %), and the truth."""
    truth = {"T1": np.array([0.01]), "stretch": 0.7, "M0": 1.0, "offset": 0.02}
    return simulate(time_grid(1e-4, 1.0, 24), **truth, sigma=0.01, rng=rng), truth


# --------------------------------------------------------------------------------------
# Posterior helpers and plots
# --------------------------------------------------------------------------------------


def relabel_components(posterior: xr.Dataset) -> xr.Dataset:
    """Sort the components of every draw by ``T1`` (undoes label switching)."""
    return sort_labels(posterior, COMPONENT_DIM, "T1")


def posterior_curves(
    time: np.ndarray,
    posterior: xr.Dataset,
    *,
    spin=0.5,
    transition: str = "central",
    max_draws: int = 200,
) -> np.ndarray:
    """:math:`M(t)` of posterior draws, shape (draws, n); absent parameters at defaults."""
    from .plotting import posterior_draws

    draws = posterior_draws(posterior, max_draws=max_draws)

    def get(name, default=None):
        return draws[name].values if name in draws else default

    return forward(
        np.asarray(time, dtype=float),
        get("T1"),
        get("M0", 1.0),
        get("offset", 0.0),
        spin=spin,
        transition=transition,
        weight=get("weight"),
        stretch=get("stretch"),
        inversion=get("inversion", 1.0),
    )


def plot_fit(
    ax,
    data: xr.Dataset,
    posterior: xr.Dataset,
    spin=None,
    transition: str | None = None,
    **_,
) -> None:
    """Data, posterior band of :math:`M(t)` on a log time axis, and the truth if known.

    ``spin`` and ``transition`` default to the data's attrs (as :func:`simulate` sets
    them), else I = 1/2, central line.
    """
    from .plotting import plot_band, plot_data

    spin = data.attrs.get("spin", 0.5) if spin is None else spin
    transition = data.attrs.get("transition", "central") if transition is None else transition
    time = data[AXIS].values
    fine = np.geomspace(time[0], time[-1], 200)
    plot_data(ax, data, VARIABLE)
    plot_band(ax, fine, posterior_curves(fine, posterior, spin=spin, transition=transition))
    if "truth_T1" in data.attrs:
        attrs = data.attrs
        truth = forward(
            fine,
            np.asarray(attrs["truth_T1"]),
            attrs["truth_M0"],
            attrs.get("truth_offset", 0.0),
            spin=spin,
            transition=transition,
            weight=attrs.get("truth_weight"),
            stretch=attrs.get("truth_stretch"),
            inversion=attrs.get("truth_inversion", 1.0),
        )
        ax.plot(fine, truth, "k--", lw=1, label="truth")
    ax.set_xscale("log")
    ax.set_xlabel("time [s]")
    ax.set_ylabel(f"{VARIABLE} [{data[VARIABLE].attrs.get('units', '')}]")
    ax.legend(fontsize="small")
