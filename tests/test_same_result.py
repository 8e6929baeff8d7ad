"""The bit-for-bit comparison of result files (``tests/same_result.py``)."""

from __future__ import annotations

import numpy as np
import xarray as xr

from tests.same_result import differences, main


def _tree(value: float) -> xr.DataTree:
    return xr.DataTree.from_dict(
        {
            "/": xr.Dataset({"free_energy": ("model", [value, np.nan])}, attrs={"t": 1.0}),
            "/candidates/1/posterior": xr.Dataset({"a": (("chain", "draw"), [[1, 2]])}),
        }
    )


def test_identical_results_have_no_differences(tmp_path):
    first, second = _tree(-244.231), _tree(-244.231)
    second.attrs["t"] = 2.0  # attributes (times, dates) are not compared
    assert differences(first, second) == (2, [])
    first.to_netcdf(tmp_path / "a.nc")
    second.to_netcdf(tmp_path / "b.nc")
    assert main([str(tmp_path / "a.nc"), str(tmp_path / "b.nc")]) == 0


def test_one_ulp_or_a_missing_group_is_a_difference(tmp_path):
    first = _tree(-244.231)
    changed = _tree(np.nextafter(-244.231, 0.0))
    assert differences(first, changed) == (2, ["/: free_energy differs"])
    fewer = xr.DataTree.from_dict({"/": first.to_dataset()})
    _, found = differences(first, fewer)
    assert "group /candidates/1/posterior only in the first" in found
    first.to_netcdf(tmp_path / "a.nc")
    changed.to_netcdf(tmp_path / "b.nc")
    assert main([str(tmp_path / "a.nc"), str(tmp_path / "b.nc")]) == 1
