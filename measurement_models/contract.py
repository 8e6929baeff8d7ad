r"""The contract every measurement module follows, written once.

A *measurement module* (``linear``, ``spectral``, ``mossbauer``, ...) turns one kind of
measurement into PyMC models. Every registered module exposes the same names with the
same calling conventions, so that a sampler, the command line, the zoo-wide tests and
:func:`measurement_models.integration.integrated_model` can use any of them without
knowing the physics, and so that a reader who knows one module knows them all. The
pattern follows sasmodels' model files (one module per model: definition, parameter
table, reference values that one generic harness checks) and the targets of TFP's
Inference Gym (a public forward model that simulates its own data).

What a module defines
---------------------

=====================  ==================================================================
``VARIABLE``           name of the measured data variable (``"intensity"``, ``"counts"``)
``AXIS``               name of the measurement axis (``"energy"``, ``"velocity"``, ``"q"``)
``PARAMETERS``         the :class:`~measurement_models.parameters.ParameterTable`: name,
                       unit, default prior, dims, role, description of every parameter
``REFERENCES``         ``{name: Reference}``: the published settings and the published or
                       independent values the module reproduces (:class:`Reference`);
                       at least one of them carries values that a test checks
``build_model``        ``build_model(data, *, <structure>, priors=None, sigma=None,
                       fixed=None, mutable_data=False, prefix=None) -> pm.Model``
``add_priors``         ``add_priors(data=None, *, <structure>, priors=None, fixed=None,
                       prefix="", names=None) -> {parameter: variable}``
``add_likelihood``     ``add_likelihood(data, params, *, sigma=None, name=VARIABLE,
                       <structure>, mutable_data=False) -> observed variable``
``forward``            ``forward(x, *, <options>, **params)``: the physics, NumPy in and
                       out for NumPy input, a PyTensor graph for tensor input
``simulate``           ``simulate(x, *, rng=None, <noise>, <options>, **params) ->
                       Dataset``, the truth kept in ``attrs`` as ``truth_<name>``
``example_data``       ``example_data(rng=0) -> (Dataset, truth)``: a small simulated
                       measurement and its true parameter values
``plot_fit``           ``plot_fit(ax, data, posterior, **options)``: the data with the
                       posterior's curves
``load``               ``load(path, **options) -> Dataset``, where the measurement has a
                       file format of its own
``TABLE``              only where the data are a table of samples instead of a one-axis
                       measurement: a :class:`Table` that says how generic code reads them
=====================  ==================================================================

The structural keyword(s) (``n_peaks``, ``variant``, ``form``, ``ion``, ...) differ by
model, but they always come right after ``data`` and are always keyword-only; so are
all the options after them.

What the arguments mean, everywhere
-----------------------------------
``priors``
    ``{parameter: Prior or callable f(name, dims)}``: overrides of the table's default
    priors. An unknown name is an error.
``sigma``
    The Gaussian noise standard deviation: a number (known noise), ``None`` (the data's
    per-point ``sigma`` variable when present, otherwise a free parameter ``sigma`` with
    the table's prior), or, in ``add_likelihood``, a tensor (as
    :func:`~measurement_models.integration.integrated_model` passes
    :math:`b^{-1/2}` for an estimated precision :math:`b`). Ignored by Poisson models.
``fixed``
    ``{parameter: value}``: parameters held at a value instead of sampled; they are
    not free variables of the model.
``mutable_data``
    Put the measurement in ``pm.Data`` containers, so that measurements of one shape
    share one compiled model (``pm.set_data``).
``prefix``
    Prepended to the name of every variable the module adds (free, deterministic and
    observed), so that several measurements live in one ``pm.Model``. Dims keep the
    module's names.
``names``
    In ``add_priors``: only these parameters (for shared and per-measurement parameters
    in an integrated model). ``None``: all of them.

Checked (``tests/measurement_models/test_registry.py``): every registered module
against :func:`contract_problems`; every :class:`Reference` with values against the
module's own function; and all registered models together in one
``integrated_model``, whose log-density is the sum of theirs.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from .parameters import ParameterTable

__all__ = [
    "BUILD_KEYWORDS",
    "MeasurementModule",
    "Reference",
    "Table",
    "check_references",
    "contract_problems",
]

#: The keywords every ``build_model`` takes after its structural keyword(s), and their
#: defaults.
BUILD_KEYWORDS: dict[str, object] = {
    "priors": None,
    "sigma": None,
    "fixed": None,
    "mutable_data": False,
    "prefix": None,
}
#: The keywords every ``add_priors`` takes, and their defaults.
PRIOR_KEYWORDS: dict[str, object] = {"priors": None, "fixed": None, "prefix": "", "names": None}


@dataclass(frozen=True)
class Reference:
    """A published or independent result that a measurement module reproduces.

    Two kinds share this one type. *Settings* (``expected`` is None) are the parameter
    values a paper used (the true peaks of a benchmark spectrum, a sample's hyperfine
    parameters), for simulations and case studies. *Values* (``expected`` given) are
    numbers the module must reproduce: ``getattr(module, quantity)(x, **params)`` equals
    ``expected`` within ``rtol``/``atol``. They come from a paper, an analytic result
    or another package, never from this package's own output.

    Attributes
    ----------
    source : str
        Where the numbers come from, as a reader can follow it: authors, journal,
        volume, page (year) and DOI; or a package and its version (``"sasmodels
        1.0.9, sasmodels.models.sphere"``); or the analytic result, stated.
    params : mapping
        Keyword arguments of ``quantity`` (parameter values and options).
    structure : mapping
        The ``build_model`` structural keywords these settings belong to (e.g.
        ``{"n_peaks": 3}``).
    quantity : str
        Name of the module's public function that reproduces ``expected``
        (default ``"forward"``).
    x : object
        Its first positional argument (the measurement axis, usually).
    expected : array_like, optional
        The published or independent values.
    rtol, atol : float
        Tolerance of the comparison (state why in ``description`` when it is loose,
        e.g. numbers printed with four digits).
    description : str
        One line: what these numbers are.
    """

    source: str
    params: Mapping[str, Any] = field(default_factory=dict)
    structure: Mapping[str, Any] = field(default_factory=dict)
    quantity: str = "forward"
    x: Any = None
    expected: Any = None
    rtol: float = 1e-7
    atol: float = 0.0
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.source, str) or not self.source.strip():
            raise ValueError("a Reference needs a source a reader can follow")
        if not (self.rtol >= 0 and self.atol >= 0):
            raise ValueError(f"tolerances must be ≥ 0, got rtol={self.rtol}, atol={self.atol}")

    @property
    def has_values(self) -> bool:
        """Whether this reference carries values to reproduce (not only settings)."""
        return self.expected is not None

    def compute(self, module: ModuleType) -> np.ndarray:
        """``module.<quantity>(x, **params)`` as a float array."""
        function = getattr(module, self.quantity, None)
        if not callable(function):
            raise ValueError(
                f"{module.__name__} has no function {self.quantity!r} to reproduce the "
                f"reference from {self.source!r}"
            )
        return np.asarray(function(self.x, **self.params), dtype=float)

    def check(self, module: ModuleType) -> None:
        """Raise ``AssertionError`` if the module does not reproduce ``expected``."""
        if not self.has_values:
            raise ValueError(f"the reference from {self.source!r} holds settings, not values")
        np.testing.assert_allclose(
            self.compute(module),
            np.asarray(self.expected, dtype=float),
            rtol=self.rtol,
            atol=self.atol,
            err_msg=f"{module.__name__}.{self.quantity} against {self.source}",
        )


@dataclass(frozen=True)
class Table:
    """Declares that a module's data are a table of samples, not a one-axis measurement.

    A measurement is, by default, a Dataset with one dimension, the measurement axis:
    sorted, every value finite, checked by
    :func:`~measurement_models.data.validate_dataset`. Some data are instead rows of
    samples in no particular order (descriptors and targets of data assimilation), with
    a target not measured in a row marked NaN. A module whose data are such a table sets
    ``TABLE = Table(...)``, and generic code (the zoo-wide harness,
    :class:`~measurement_models.integration.Measurement`) reads it instead of assuming a
    spectrum.

    Attributes
    ----------
    rows : str
        The row dimension (``"sample"``); rows are exchangeable, so their order does not
        change the log-density.
    measured : tuple of str
        The data variables holding measured values, NaN where not measured; the
        observed variable of ``build_model`` holds their finite values.
    required : str
        A data variable every row must have, with finite values (the descriptors).
    validate : callable
        ``validate(data)``: the module's check of its data, raising ``ValueError`` that
        names the problem (the table's counterpart of ``validate_dataset``).
    """

    rows: str
    measured: tuple[str, ...]
    required: str
    validate: Callable[[xr.Dataset], object]


@runtime_checkable
class MeasurementModule(Protocol):
    """What a measurement module provides (see the module docstring for the signatures).

    A module is checked against this description by :func:`contract_problems`; the
    ``Protocol`` lets type checkers and ``isinstance`` see the same thing.
    """

    VARIABLE: str
    AXIS: str
    PARAMETERS: ParameterTable
    REFERENCES: Mapping[str, Reference]

    def build_model(self, data: xr.Dataset, **kwargs: Any) -> pm.Model: ...

    def add_priors(
        self, data: xr.Dataset | None = None, **kwargs: Any
    ) -> dict[str, pt.TensorVariable]: ...

    def add_likelihood(
        self, data: xr.Dataset, params: Mapping[str, pt.TensorVariable], **kwargs: Any
    ) -> pt.TensorVariable: ...

    def forward(self, x: Any, **params: Any) -> Any: ...

    def simulate(self, x: Any, **kwargs: Any) -> xr.Dataset: ...

    def example_data(
        self, rng: np.random.Generator | int | None = 0
    ) -> tuple[xr.Dataset, dict[str, Any]]: ...

    def plot_fit(
        self, ax: Any, data: xr.Dataset, posterior: xr.Dataset, **options: Any
    ) -> None: ...


def _signature(module: ModuleType, name: str) -> inspect.Signature | None:
    function = getattr(module, name, None)
    return inspect.signature(function) if callable(function) else None


def _positional(signature: inspect.Signature) -> list[str]:
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [p.name for p in signature.parameters.values() if p.kind in kinds]


def _keyword_defaults(
    signature: inspect.Signature, where: str, expected: Mapping[str, object]
) -> list[str]:
    problems = []
    for key, default in expected.items():
        parameter = signature.parameters.get(key)
        if parameter is None:
            problems.append(f"{where} lacks the keyword {key!r}")
        elif parameter.kind is not inspect.Parameter.KEYWORD_ONLY:
            problems.append(f"{where}: {key!r} must be keyword-only")
        elif parameter.default != default:
            problems.append(f"{where}: {key!r} must default to {default!r}")
    return problems


def contract_problems(module: ModuleType) -> list[str]:
    """Everything in which ``module`` departs from the contract (empty when it follows it).

    Checks the names and the calling conventions: constants present and of the right
    type, the positional arguments of every function, the keyword-only status and the
    defaults of the common keywords, at least one :class:`Reference` with values.
    Behaviour (building, log-density, bad data, composition) is checked by the
    zoo-wide tests.
    """
    problems: list[str] = []
    name = module.__name__.rsplit(".", 1)[-1]
    for constant, kind in (("VARIABLE", str), ("AXIS", str), ("PARAMETERS", ParameterTable)):
        if not isinstance(getattr(module, constant, None), kind):
            problems.append(f"{name}.{constant} missing or not a {kind.__name__}")
    references = getattr(module, "REFERENCES", None)
    if not isinstance(references, Mapping) or not all(
        isinstance(r, Reference) for r in references.values()
    ):
        problems.append(f"{name}.REFERENCES missing or not a mapping of Reference")
    elif not any(r.has_values for r in references.values()):
        problems.append(f"{name}.REFERENCES holds no values to reproduce (only settings)")
    table = getattr(module, "TABLE", None)
    if table is not None and not isinstance(table, Table):
        problems.append(f"{name}.TABLE is not a Table")
    if not (module.__doc__ and "Checked" in module.__doc__):
        problems.append(f"{name}'s docstring must say what was checked against what")

    positional: dict[str, list[str]] = {
        "build_model": ["data"],
        "add_priors": ["data"],
        "add_likelihood": ["data", "params"],
        "simulate": ["x"],
        "example_data": ["rng"],
        "plot_fit": ["ax", "data", "posterior"],
        "forward": ["x"],
    }
    signatures = {}
    for function, expected in positional.items():
        signature = _signature(module, function)
        if signature is None:
            problems.append(f"{name}.{function} missing")
            continue
        signatures[function] = signature
        found = _positional(signature)
        # forward's and simulate's first argument is the axis, whatever its name
        if function in ("forward", "simulate"):
            found = ["x"] if len(found) == 1 else found
        if found != expected:
            problems.append(f"{name}.{function}: positional arguments {found}, expected {expected}")
    if "build_model" in signatures:
        problems += _keyword_defaults(
            signatures["build_model"], f"{name}.build_model", BUILD_KEYWORDS
        )
    if "add_priors" in signatures:
        signature = signatures["add_priors"]
        data = signature.parameters.get("data")
        if data is not None and data.default is not None:
            problems.append(f"{name}.add_priors: data must default to None")
        problems += _keyword_defaults(signature, f"{name}.add_priors", PRIOR_KEYWORDS)
    if "add_likelihood" in signatures:
        variable = getattr(module, "VARIABLE", None)
        problems += _keyword_defaults(
            signatures["add_likelihood"],
            f"{name}.add_likelihood",
            {"sigma": None, "name": variable, "mutable_data": False},
        )
    if "simulate" in signatures:
        problems += _keyword_defaults(signatures["simulate"], f"{name}.simulate", {"rng": None})
    if "plot_fit" in signatures and not any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in signatures["plot_fit"].parameters.values()
    ):
        problems.append(f"{name}.plot_fit must accept **options")
    load = _signature(module, "load")
    if load is not None and _positional(load) != ["path"]:
        problems.append(f"{name}.load: positional arguments {_positional(load)}, expected ['path']")
    return problems


def check_references(module: ModuleType) -> list[str]:
    """Names of the module's references with values (each checked; raises on a mismatch)."""
    checked = []
    for key, reference in module.REFERENCES.items():
        if reference.has_values:
            reference.check(module)
            checked.append(key)
    return checked
