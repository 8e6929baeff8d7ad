"""Parameter tables: the one place a model declares its parameters.

A model module lists its parameters once, as :class:`Parameter` rows of a
:class:`ParameterTable` (name, unit, default prior, dims, role, description), in the
manner of sasmodels' parameter tables. The table then

* adds the priors to the current ``pm.Model`` (:meth:`ParameterTable.add_priors`),
  with named dims so that ArviZ output is labelled;
* accepts user overrides of any prior (a :class:`Prior` or a callable);
* renders itself as documentation (:meth:`ParameterTable.to_markdown`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pymc as pm
import pytensor.tensor as pt

__all__ = [
    "Parameter",
    "ParameterTable",
    "Prior",
    "PriorSpec",
    "check_choice",
    "fixed_constant",
    "transformed_point",
]


@dataclass(frozen=True)
class Prior:
    """A prior named by its PyMC distribution and keyword arguments.

    Examples
    --------
    >>> Prior("Gamma", alpha=5.0, beta=5.0)
    Prior('Gamma', alpha=5.0, beta=5.0)
    """

    distribution: str
    kwargs: Mapping[str, float]

    def __init__(self, distribution: str, **kwargs: float) -> None:
        if not hasattr(pm, distribution):
            raise ValueError(f"unknown PyMC distribution {distribution!r}")
        object.__setattr__(self, "distribution", distribution)
        object.__setattr__(self, "kwargs", dict(kwargs))

    def create(self, name: str, dims: tuple[str, ...] = ()) -> pt.TensorVariable:
        """Add this prior to the current model as variable ``name`` with ``dims``.

        Parameters are passed as float64 arrays: PyTensor would turn a Python float that
        is exact in float32 (such as 5.0) into a float32 constant, and evaluate for
        example ``gammaln(5)`` in single precision.
        """
        kwargs = {key: np.asarray(value, dtype=np.float64) for key, value in self.kwargs.items()}
        return getattr(pm, self.distribution)(name, **kwargs, dims=dims or None)

    def scaled(self, factor) -> Callable[[str, tuple[str, ...]], pt.TensorVariable]:
        """This prior with every parameter multiplied by ``factor``, as a :data:`PriorSpec`.

        For default priors stated in units of a data scale (the largest intensity, say):
        ``factor`` may be a number or a ``pm.Data`` variable, so that models of one
        structure share a compiled graph across datasets.
        """

        def create(name: str, dims: tuple[str, ...] = ()) -> pt.TensorVariable:
            kwargs = {key: np.float64(value) * factor for key, value in self.kwargs.items()}
            return getattr(pm, self.distribution)(name, **kwargs, dims=dims or None)

        return create

    def __repr__(self) -> str:
        args = ", ".join(f"{key}={value!r}" for key, value in self.kwargs.items())
        return f"Prior({self.distribution!r}, {args})"

    def __str__(self) -> str:
        args = ", ".join(f"{key}={value:g}" for key, value in self.kwargs.items())
        return f"{self.distribution}({args})"


#: What a user may pass to override a prior: a :class:`Prior`, or a callable
#: ``f(name, dims) -> TensorVariable`` that creates the variable in the current model.
PriorSpec = Prior | Callable[[str, tuple[str, ...]], pt.TensorVariable]


@dataclass(frozen=True)
class Parameter:
    """One row of a parameter table.

    Attributes
    ----------
    name : str
        Variable name in the PyMC model.
    unit : str
        Physical unit ("" for dimensionless).
    prior : Prior
        Default prior, from the paper the model comes from.
    description : str
        What the parameter means physically.
    dims : tuple of str
        Named dims, e.g. ``("peak",)`` for one value per peak.
    role : str
        ``"physical"`` (a quantity of the sample), ``"instrument"`` or ``"noise"``.
    """

    name: str
    unit: str
    prior: Prior
    description: str
    dims: tuple[str, ...] = ()
    role: str = "physical"


@dataclass(frozen=True)
class ParameterTable:
    """An ordered collection of :class:`Parameter` rows."""

    parameters: tuple[Parameter, ...]
    _by_name: dict[str, Parameter] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name = {p.name: p for p in self.parameters}
        if len(by_name) != len(self.parameters):
            raise ValueError("parameter names must be unique")
        object.__setattr__(self, "_by_name", by_name)

    def __getitem__(self, name: str) -> Parameter:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"no parameter {name!r}; known: {self.names}") from None

    def __iter__(self):
        return iter(self.parameters)

    @property
    def names(self) -> list[str]:
        """Parameter names in table order."""
        return [p.name for p in self.parameters]

    def add_priors(
        self,
        names: Iterable[str] | None = None,
        priors: Mapping[str, PriorSpec] | None = None,
        prefix: str = "",
        fixed: Mapping[str, object] | None = None,
    ) -> dict[str, pt.TensorVariable]:
        """Create prior variables in the current ``pm.Model`` context.

        Parameters
        ----------
        names : iterable of str, optional
            Which parameters to add (default: all).
        priors : mapping, optional
            Overrides: parameter name to :class:`Prior` or callable ``f(name, dims)``.
        prefix : str
            Prepended to every variable name (for several models in one ``pm.Model``).
        fixed : mapping, optional
            Parameters held at a value: they become float64 constants of the shape their
            dims have in the current model (:func:`fixed_constant`), not variables.

        Returns
        -------
        dict
            Parameter name to PyMC variable (or constant, for fixed parameters).

        Raises
        ------
        ValueError
            If an override or a fixed value names an unknown parameter, or a fixed value
            does not have the parameter's shape.
        """
        names = list(self.names if names is None else names)
        priors = dict(priors or {})
        fixed = dict(fixed or {})
        for what, given in (("prior", priors), ("fixed value", fixed)):
            unknown = sorted(set(given) - set(self.names))
            if unknown:
                raise ValueError(
                    f"{what} given for unknown parameter(s) {unknown}; known: {self.names}"
                )
        model = pm.modelcontext(None) if fixed else None
        variables = {}
        for name in names:
            row = self[name]
            if name in fixed:
                shape = tuple(len(model.coords[dim]) for dim in row.dims)
                variables[name] = fixed_constant(name, fixed[name], shape)
                continue
            spec = priors.get(name, row.prior)
            create = spec.create if isinstance(spec, Prior) else spec
            variables[name] = create(prefix + name, row.dims)
        return variables

    def to_markdown(self) -> str:
        """The table as Markdown, for documentation."""
        lines = [
            "| parameter | unit | default prior | dims | role | description |",
            "|---|---|---|---|---|---|",
        ]
        for p in self.parameters:
            dims = ", ".join(p.dims) or "—"
            lines.append(
                f"| `{p.name}` | {p.unit or '—'} | `{p.prior}` | {dims} | {p.role} | "
                f"{p.description} |"
            )
        return "\n".join(lines)


def transformed_point(model: pm.Model, values: Mapping[str, object]) -> dict[str, np.ndarray]:
    """Parameter values in the model's own (transformed, unconstrained) coordinates.

    Every free variable of ``model`` named in ``values`` is mapped through its transform
    (if any) to its value variable, e.g. ``{"sigma": 0.1}`` to ``{"sigma_log__": log 0.1}``;
    names that are not free variables are ignored. The result is a point for
    ``model.compile_logp()`` (merge it into ``model.initial_point()`` for a partial one).
    """
    point = {}
    for rv in model.free_RVs:
        if rv.name not in values:
            continue
        value = np.asarray(values[rv.name], dtype=float)
        transform = model.rvs_to_transforms.get(rv)
        if transform is not None:
            value = transform.forward(value, *rv.owner.inputs).eval()
        point[model.rvs_to_values[rv].name] = np.asarray(value)
    return point


def check_choice(value: object, choices: Sequence[object], what: str) -> None:
    """Raise ``ValueError("unknown <what> <value>; choose one of ...")`` for a bad option."""
    if value not in choices:
        raise ValueError(f"unknown {what} {value!r}; choose one of {tuple(choices)}")


def fixed_constant(
    name: str, value: object, shape: tuple[int, ...], hint: str = ""
) -> pt.TensorVariable:
    """A parameter held fixed: ``value`` broadcast to ``shape`` as a float64 constant.

    Raises
    ------
    ValueError
        If ``value`` does not broadcast to ``shape`` (the message ends with ``hint``) or
        is not finite.
    """
    array = np.asarray(value, dtype=np.float64)
    try:
        array = np.broadcast_to(array, shape)
    except ValueError:
        raise ValueError(
            f"fixed value of {name!r} has shape {np.shape(value)}, expected {shape} or scalar"
            + (f": {hint}" if hint else "")
        ) from None
    if not np.all(np.isfinite(array)):
        raise ValueError(f"fixed value of {name!r} must be finite, got {value!r}")
    return pt.as_tensor_variable(array.copy())
