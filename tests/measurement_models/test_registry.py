"""One generic test over every registered measurement model.

For each model: it builds from its simulated example data, its log-density is finite at
the truth, its variables have the dims and shapes its parameter table declares, and bad
data raise the documented ``ValueError``.
"""

from __future__ import annotations

import numpy as np
import pytest

from measurement_models import registry
from measurement_models.parameters import transformed_point

ENTRIES = list(registry.MODELS.values())


@pytest.fixture(scope="module", params=ENTRIES, ids=lambda entry: entry.name)
def built(request):
    entry = request.param
    data, truth = entry.module.example_data(0)
    model = entry.module.build_model(data, **entry.example_kwargs)
    return entry, data, truth, model


def test_every_module_follows_the_pattern():
    for entry in ENTRIES:
        for name in ("PARAMETERS", "VARIABLE", "build_model", "simulate", "example_data"):
            assert hasattr(entry.module, name), f"{entry.name} lacks {name}"
        assert entry.module.__doc__ and "Checked" in entry.module.__doc__, (
            f"{entry.name}'s docstring must say what was checked against what"
        )


def test_logp_is_finite_at_truth(built):
    entry, data, truth, model = built
    known_sigma = {"sigma": data.attrs["truth_sigma"]}
    point = transformed_point(model, truth | known_sigma)
    logp = model.compile_logp()(point)
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
    assert model.rvs_to_values[observed].data.shape == (data.sizes[data[observed.name].dims[0]],)


def test_estimated_noise_becomes_a_parameter(built):
    entry, data, _, _ = built
    model = entry.module.build_model(data.drop_vars("sigma"), **entry.example_kwargs)
    assert "sigma" in [rv.name for rv in model.free_RVs]


@pytest.mark.parametrize(
    ("corrupt", "match"),
    [
        (lambda ds, v: ds.assign({v: ds[v].where(np.arange(ds[v].size) != 3)}), "non-finite"),
        (lambda ds, v: ds.isel({ds[v].dims[0]: slice(None, None, -1)}), "not sorted"),
        (lambda ds, v: ds.isel({ds[v].dims[0]: [0, 0, 1, 2]}), "duplicated"),
        (lambda ds, v: ds.isel({ds[v].dims[0]: slice(0, 0)}), "empty"),
        (lambda ds, v: ds.drop_vars(v), "missing data variable"),
        (lambda ds, v: ds.assign(extra=("other", [1.0, 2.0])), "exactly one dimension"),
    ],
    ids=["nan", "unsorted", "duplicated", "empty", "missing", "mismatched"],
)
def test_bad_data_raise_documented_errors(built, corrupt, match):
    entry, data, _, _ = built
    with pytest.raises(ValueError, match=match):
        entry.module.build_model(corrupt(data, entry.module.VARIABLE), **entry.example_kwargs)


def test_unknown_names_are_rejected():
    with pytest.raises(ValueError, match=r"unknown measurement model 'nope'.*available: linear"):
        registry.get_model("nope")
    with pytest.raises(ValueError, match="unknown job"):
        registry.get_job("nope")


def test_docs_show_every_parameter_table_as_the_code_has_it():
    from pathlib import Path

    page = (Path(__file__).parents[2] / "docs" / "models.md").read_text()
    for entry in ENTRIES:
        assert entry.module.PARAMETERS.to_markdown() in page, (
            f"docs/models.md is out of step with {entry.name}.PARAMETERS"
        )


def test_measurement_models_does_not_import_samplers():
    import subprocess
    import sys

    code = "import sys, measurement_models; assert 'samplers' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
