"""The main job, `bayesmeas run spectral-deconvolution --quick`, end to end (slow)."""

from __future__ import annotations

import pytest
import xarray as xr

from samplers.app import cli


@pytest.mark.slow
def test_main_job_quick(tmp_path):
    assert cli.main(["run", "spectral-deconvolution", "--quick", "--output", str(tmp_path)]) == 0
    tree = xr.open_datatree(tmp_path / "result.nc", engine="netcdf4")
    table = tree.to_dataset(inherit=False)
    # one and two peaks cannot explain three: ruled out by far more than the MC error
    assert float(table["probability"].sel(K=[1, 2]).sum()) < 1e-20
    # the truth (3) or a split peak (4) wins; see docs/free-energy.md
    assert table.attrs["best"] in ("3", "4")
    assert (tmp_path / "result.png").exists()
