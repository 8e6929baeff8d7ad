"""One generic harness over every registered measurement model (and the docs' example).

For each model: it follows the contract of :mod:`measurement_models.contract` (names,
calling conventions, references with values), reproduces its reference values, builds
from its simulated example data with a finite log-density at the truth, declares its
dims and shapes truly, refuses bad data with the documented errors, and honours
``prefix``, ``fixed`` and ``mutable_data``. Then all of them together form one
``integrated_model`` whose log-density is the sum of theirs.

A module whose data are a table of samples rather than a one-axis measurement declares
it (``TABLE``, a :class:`~measurement_models.contract.Table`), and the checks read the
declaration instead of assuming a spectrum: the observed values are the finite values of
the measured variables, the corruptions act on the rows and on the variable every row
needs, rows in another order give the same log-density (where a measurement axis must
be sorted), and the data's own check stands in for ``validate_dataset``.
"""

from __future__ import annotations

import inspect
import sys
from functools import partial
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import xarray as xr

from measurement_models import registry
from measurement_models.contract import Reference, check_references, contract_problems
from measurement_models.integration import Measurement, integrated_model
from measurement_models.parameters import transformed_point

sys.path.insert(0, str(Path(__file__).parent))
import decay_example

EXAMPLE = registry.MeasurementModel(
    "decay_example", decay_example, "Exponential decay (docs example)", "analytic", {}
)
ENTRIES = [*registry.MODELS.values(), EXAMPLE]


def _ids(entry) -> str:
    return entry.name


@pytest.fixture(scope="module", params=ENTRIES, ids=_ids)
def built(request):
    entry = request.param
    data, truth = entry.module.example_data(0)
    model = entry.module.build_model(data, **entry.example_kwargs)
    return entry, data, truth, model


def _table(entry):
    """The module's :class:`Table` declaration, or None for a one-axis measurement."""
    return getattr(entry.module, "TABLE", None)


def _rows_and_variable(entry, data) -> tuple[str, str]:
    """The dimension the corruptions act on, and the variable they corrupt or drop."""
    table = _table(entry)
    if table is not None:
        return table.rows, table.required
    variable = entry.module.VARIABLE
    return data[variable].dims[0], variable


def _truth_point(model, data, truth):
    known_sigma = {"sigma": data.attrs["truth_sigma"]} if "truth_sigma" in data.attrs else {}
    return model.initial_point() | transformed_point(model, truth | known_sigma)


def _logp(model, point) -> float:
    return float(model.compile_logp()(point))


@pytest.mark.parametrize("entry", ENTRIES, ids=_ids)
def test_module_follows_the_contract(entry):
    assert contract_problems(entry.module) == []


@pytest.mark.parametrize("entry", ENTRIES, ids=_ids)
def test_references_are_reproduced(entry):
    assert check_references(entry.module), f"{entry.name} reproduces no reference values"


def test_the_contract_check_fails_a_module_without_reference_values():
    """Negative control: the example model stripped of its values, or given wrong ones."""
    stripped = ModuleType("stripped")
    stripped.__dict__.update(vars(decay_example))
    stripped.__name__ = "stripped"
    settings_only = Reference(source="a paper", params={"amplitude": [1.0]})
    stripped.REFERENCES = {"settings": settings_only}
    assert any("no values" in p for p in contract_problems(stripped))
    del stripped.REFERENCES
    assert any("REFERENCES missing" in p for p in contract_problems(stripped))
    wrong = Reference(
        source="a wrong number",
        params=decay_example.REFERENCES["half_life"].params,
        x=[0.0],
        expected=[2.6],
    )
    stripped.REFERENCES = {"wrong": wrong}
    with pytest.raises(AssertionError, match="a wrong number"):
        check_references(stripped)


def test_the_contract_check_fails_a_table_declaration_of_the_wrong_type():
    odd = ModuleType("odd")
    odd.__dict__.update(vars(decay_example))
    odd.__name__ = "odd"
    odd.TABLE = "sample"
    assert any("TABLE is not a Table" in p for p in contract_problems(odd))


def test_the_contract_check_fails_positional_options():
    def build_model(data, n_peaks=3, sigma=None):  # the old, positional style
        raise AssertionError("not called")

    loose = ModuleType("loose")
    loose.__dict__.update(vars(decay_example))
    loose.__name__ = "loose"
    loose.build_model = build_model
    problems = contract_problems(loose)
    assert any("positional arguments ['data', 'n_peaks', 'sigma']" in p for p in problems)
    assert any("lacks the keyword 'prefix'" in p for p in problems)


def test_logp_is_finite_at_truth(built):
    entry, data, truth, model = built
    logp = _logp(model, _truth_point(model, data, truth))
    assert np.isfinite(logp), f"{entry.name}: log-density {logp} at the truth"


def test_dims_and_shapes_are_as_declared(built):
    entry, data, _, model = built
    for rv in model.free_RVs:
        declared = entry.module.PARAMETERS[rv.name].dims
        assert tuple(model.named_vars_to_dims.get(rv.name, ())) == declared
        sizes = tuple(len(model.coords[d]) for d in declared)
        assert model.initial_point()[model.rvs_to_values[rv].name].shape == sizes
    (observed,) = model.observed_RVs
    assert observed.name == entry.module.VARIABLE
    table = _table(entry)
    if table is None:
        n_observed = data.sizes[data[observed.name].dims[0]]
    else:  # every finite measured value, none of the missing ones
        n_observed = sum(int(np.isfinite(data[name].values).sum()) for name in table.measured)
    assert model.rvs_to_values[observed].data.shape == (n_observed,)


def test_estimated_noise_becomes_a_parameter(built):
    """Without a per-point ``sigma`` in the data, the noise is a free parameter."""
    entry, data, _, model = built
    if "sigma" in data.data_vars:
        model = entry.module.build_model(data.drop_vars("sigma"), **entry.example_kwargs)
        assert "sigma" in [rv.name for rv in model.free_RVs]
    else:  # the model estimates its noise always (a noise covariance, say)
        roles = [entry.module.PARAMETERS[rv.name].role for rv in model.free_RVs]
        assert "noise" in roles, f"{entry.name}: no noise parameter and no sigma in the data"


@pytest.mark.parametrize(
    ("corrupt", "match"),
    [
        (
            lambda ds, rows, v: ds.assign(
                {v: ds[v].where(xr.DataArray(np.arange(ds.sizes[rows]) != 3, dims=rows))}
            ),
            "non-finite",
        ),
        (lambda ds, rows, v: ds.isel({rows: [0, 0, 1, 2]}), "duplicated"),
        (lambda ds, rows, v: ds.isel({rows: slice(0, 0)}), "empty"),
        (lambda ds, rows, v: ds.drop_vars(v), "missing data variable"),
        (lambda ds, rows, v: ds.assign(extra=("other", [1.0, 2.0])), "mismatched lengths"),
    ],
    ids=["nan", "duplicated", "empty", "missing", "mismatched"],
)
def test_bad_data_raise_documented_errors(built, corrupt, match):
    entry, data, _, _ = built
    rows, variable = _rows_and_variable(entry, data)
    with pytest.raises(ValueError, match=match):
        entry.module.build_model(corrupt(data, rows, variable), **entry.example_kwargs)


def test_rows_sorted_or_exchangeable(built):
    """A measurement axis must be sorted; the rows of a table are exchangeable."""
    entry, data, truth, model = built
    rows, _ = _rows_and_variable(entry, data)
    reversed_data = data.isel({rows: slice(None, None, -1)})
    if _table(entry) is None:
        with pytest.raises(ValueError, match="not sorted"):
            entry.module.build_model(reversed_data, **entry.example_kwargs)
        return
    reordered = entry.module.build_model(reversed_data, **entry.example_kwargs)
    point = _truth_point(model, data, truth)
    assert _logp(reordered, point) == pytest.approx(_logp(model, point), rel=1e-12)


def test_prefix_names_every_variable(built):
    entry, data, truth, model = built
    prefixed = entry.module.build_model(data, prefix="m1_", **entry.example_kwargs)
    names = [v.name for v in prefixed.free_RVs + prefixed.observed_RVs + prefixed.deterministics]
    assert names and all(name.startswith("m1_") for name in names), names
    point = _truth_point(model, data, truth)
    renamed = {"m1_" + key: value for key, value in point.items()}
    assert _logp(prefixed, renamed) == pytest.approx(_logp(model, point), rel=1e-12, abs=1e-9)


def test_fixed_parameters_leave_the_model(built):
    """Holding a parameter at its true value removes exactly its prior term."""
    entry, data, truth, model = built
    name = next(rv.name for rv in model.free_RVs if rv.name in truth)
    held = entry.module.build_model(data, fixed={name: truth[name]}, **entry.example_kwargs)
    assert name not in [rv.name for rv in held.free_RVs]
    point = _truth_point(model, data, truth)
    own_term = float(model.compile_logp(vars=[model[name]])(point))
    rest = {key: value for key, value in point.items() if key in held.initial_point()}
    assert _logp(held, rest) == pytest.approx(_logp(model, point) - own_term, rel=1e-10)


def test_mutable_data_gives_the_same_density(built):
    entry, data, truth, model = built
    mutable = entry.module.build_model(data, mutable_data=True, **entry.example_kwargs)
    assert mutable.data_vars, f"{entry.name}: mutable_data=True made no pm.Data"
    point = _truth_point(model, data, truth)
    assert _logp(mutable, point) == pytest.approx(_logp(model, point), rel=1e-12)


def _accepted(function, options: dict) -> dict:
    """The options ``function`` takes by name (structure keywords differ by function)."""
    parameters = inspect.signature(function).parameters
    return {key: value for key, value in options.items() if key in parameters}


def test_every_model_composes_with_every_other():
    """All registered models in one integrated model: its log-density is the sum of theirs.

    Each measurement brings its own priors and likelihood (``shared=()``), so the joint
    density must factorise exactly; a module that reads another's variables, names a
    variable without its prefix or adds to a global coordinate breaks the equality.
    """
    measurements = []
    for entry in ENTRIES:
        module, options = entry.module, dict(entry.example_kwargs)
        data, _ = module.example_data(0)
        table = _table(entry)
        measurements.append(
            Measurement(
                entry.name,
                data,
                partial(module.add_likelihood, **_accepted(module.add_likelihood, options)),
                priors=partial(module.add_priors, data, **_accepted(module.add_priors, options)),
                **({} if table is None else {"validate": table.validate}),
            )
        )
    joint = integrated_model(measurements, shared=())
    point = joint.initial_point()
    total = 0.0
    for measurement in measurements:
        alone = integrated_model([measurement])
        assert set(alone.initial_point()) <= set(point)
        total += _logp(alone, {key: point[key] for key in alone.initial_point()})
    assert _logp(joint, point) == pytest.approx(total, rel=1e-12)


def test_unknown_names_are_rejected():
    with pytest.raises(ValueError, match=r"unknown measurement model 'nope'.*available: linear"):
        registry.get_model("nope")


def test_docs_show_every_parameter_table_as_the_code_has_it():
    page = (Path(__file__).parents[2] / "docs" / "models.md").read_text()
    for entry in registry.MODELS.values():
        assert entry.module.PARAMETERS.to_markdown() in page, (
            f"docs/models.md is out of step with {entry.name}.PARAMETERS"
        )
