"""Validation and loading of measurement Datasets: every bad input names its problem."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from measurement_models.data import load_text, make_dataset, validate_dataset


def good(**overrides):
    values = {"x": np.arange(5.0), "y": np.array([1.0, 2.0, 3.0, 2.0, 1.0])} | overrides
    return make_dataset(values["x"], values["y"], axis="energy", axis_units="eV")


def test_make_dataset_layout():
    ds = good()
    assert ds["intensity"].dims == ("energy",)
    assert ds["energy"].attrs["units"] == "eV"
    assert validate_dataset(ds, variables=["intensity"], axis="energy") is ds


@pytest.mark.parametrize(
    ("x", "y", "match"),
    [
        ([0.0, 1.0, np.nan], [1.0, 2.0, 3.0], "'x'.*non-finite.*NaN"),
        ([0.0, 1.0, 2.0], [1.0, np.inf, 3.0], "'intensity'.*non-finite.*inf"),
        ([0.0, 2.0, 1.0], [1.0, 2.0, 3.0], "not sorted"),
        ([0.0, 1.0, 1.0], [1.0, 2.0, 3.0], "duplicated"),
        ([0.0, 1.0, 2.0], [1.0, 2.0], "mismatched lengths"),
        ([], [], "empty"),
        ([[0.0, 1.0]], [[1.0, 2.0]], "one-dimensional"),
    ],
)
def test_bad_arrays_raise_named_errors(x, y, match):
    with pytest.raises(ValueError, match=match):
        make_dataset(x, y)


def test_counts_must_be_non_negative_integers():
    make_dataset([0, 1, 2], [3, 0, 7], variable="counts")
    with pytest.raises(ValueError, match=r"counts.*negative"):
        make_dataset([0, 1, 2], [3, -1, 7], variable="counts")
    with pytest.raises(ValueError, match="whole numbers"):
        make_dataset([0, 1, 2], [3, 0.5, 7], variable="counts")


def test_sigma_must_be_positive():
    with pytest.raises(ValueError, match="sigma must be positive"):
        make_dataset([0, 1], [1, 2], sigma=[0.1, 0.0])


def test_validate_rejects_wrong_structure():
    with pytest.raises(ValueError, match=r"xarray\.Dataset"):
        validate_dataset(np.zeros(3))
    two_dims = xr.Dataset({"intensity": ("x", [1.0, 2.0]), "sigma": ("y", [1.0, 1.0, 1.0])})
    with pytest.raises(ValueError, match="exactly one dimension"):
        validate_dataset(two_dims)
    with pytest.raises(ValueError, match="missing data variable"):
        validate_dataset(good(), variables=["counts"])
    with pytest.raises(ValueError, match="must be named 'q'"):
        validate_dataset(good(), axis="q")
    no_coord = xr.Dataset({"intensity": ("x", [1.0, 2.0])})
    with pytest.raises(ValueError, match="no coordinate"):
        validate_dataset(no_coord)


def test_load_text_with_comments_commas_and_sigma(tmp_path):
    path = tmp_path / "spectrum.txt"
    path.write_text(
        "# energy  intensity  sigma\n"
        "% written by some instrument\n"
        "\n"
        "1.0, 10.0, 0.5   ; first point\n"
        "2.0  11.0  0.5\n"
        "3.0\t12.5\t0.6  # last\n"
    )
    ds = load_text(path, axis="energy", axis_units="eV")
    np.testing.assert_array_equal(ds["energy"].values, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(ds["intensity"].values, [10.0, 11.0, 12.5])
    np.testing.assert_array_equal(ds["sigma"].values, [0.5, 0.5, 0.6])
    assert ds.attrs["source"] == str(path)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("# only a comment\n", "no data rows"),
        ("1 2\n3 x\n", ":2: not a numeric row"),
        ("1 2\n3 4 5\n", ":2: 3 columns"),
        ("1 2 3 4\n", "expected 2 or 3 columns"),
        ("2 1\n1 2\n", "not sorted"),
        ("1 nan\n2 2\n", "non-finite"),
    ],
)
def test_load_text_bad_files(tmp_path, text, match):
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(ValueError, match=match):
        load_text(path)
