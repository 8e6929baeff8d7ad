"""XAFS readers against the files read independently (numpy.loadtxt, header by hand)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from measurement_models.xafs_io import load_xafs, read_xafs_text

REAL = Path(__file__).parents[3] / "shared/data/real"
SOURCE = "xraypy/xraylarch, examples/xafsdata/ (MIT licence)"


def real(name: str) -> Path:
    path = REAL / name
    if not path.exists():
        pytest.skip(f"{path} absent: fetch {name} from {SOURCE} into {REAL}")
    return path


def test_xmu_columns_and_header():
    path = real("fe2o3_rt1.xmu")
    table = np.loadtxt(path, comments="#")
    ds = load_xafs(path)
    np.testing.assert_array_equal(ds["energy"].values, table[:, 0])
    np.testing.assert_array_equal(ds["mu"].values, table[:, 1])
    np.testing.assert_array_equal(ds["i0"].values, table[:, 2])
    assert ds.attrs["atom"] == "Fe2O3"  # "#%atom: Fe2O3"
    assert ds.attrs["det"] == "I0=N2 15cm; I1=N2 15cm"
    assert ds.attrs["columns"] == ["energy", "mu", "i0"]
    assert ds.attrs["mu_kind"].startswith("given")
    assert ds["energy"].attrs["units"] == "eV"


def test_xdi_column_labels_and_header():
    path = real("feo_rt1.xdi")
    table = np.loadtxt(path, comments="#")
    ds = load_xafs(path)
    # "# Column.2: mutrans", "# Column.3: i0"
    assert ds.attrs["columns"] == ["energy", "mutrans", "i0"]
    np.testing.assert_array_equal(ds["mutrans"].values, table[:, 1])
    np.testing.assert_array_equal(ds["mu"].values, table[:, 1])
    assert ds.attrs["Element.symbol"] == "Fe"
    assert ds.attrs["Sample.name"] == "FeO"
    assert ds.attrs["Mono.d_spacing"] == "3.13553"


def test_fluorescence_scan_counts_and_normalisation():
    path = real("fexanes_a.001")
    table = np.loadtxt(path, comments="#")
    ds = load_xafs(path)
    # "# Column.3: I0 counts ||", "# Column.8: Sum_Fe_Ka counts ||", Fe_Ka_mca1..7 = 23..29
    assert ds.attrs["columns"][2] == "I0" and ds.attrs["columns"][7] == "Sum_Fe_Ka"
    assert ds["I0"].attrs["units"] == "counts"
    np.testing.assert_allclose(ds["mu"].values, table[:, 7] / table[:, 2], rtol=1e-14)
    raw = table[:, 22:29]
    np.testing.assert_array_equal(ds["counts"].values, raw.sum(axis=1))
    # the file's dead-time corrected sum is sum_j N_j d_j (DTFactor_mca1..7 = columns 30..36)
    np.testing.assert_allclose((raw * table[:, 29:36]).sum(axis=1), table[:, 7], rtol=1e-6)
    np.testing.assert_allclose(ds["dead_time"] * ds["counts"], table[:, 7], rtol=1e-12)
    assert ds.attrs["ScanParameters.E0"] == "7112.000"
    assert ds.attrs["Scan.start_time"] == "2022-04-01 20:20:31"


def _write(tmp_path, text: str) -> Path:
    path = tmp_path / "scan.xdi"
    path.write_text(text)
    return path


HEADER = "# XDI/1.0\n# Column.1: energy eV\n# Column.2: i0\n# Column.3: i1\n# ///\n"


def test_transmission_is_log_i0_over_i1(tmp_path):
    path = _write(tmp_path, HEADER + "7100 1000 500\n7101 1000 250\n7102 800 100\n")
    ds = load_xafs(path)
    np.testing.assert_allclose(ds["mu"].values, np.log([2.0, 4.0, 8.0]))
    assert ds.attrs["mu_kind"] == "transmission ln(i0/i1)"
    _, labels, units, table = read_xafs_text(path)
    assert labels == ["energy", "i0", "i1"] and units == {"energy": "eV"}
    assert table.shape == (3, 3)


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("7100 1000 500\n7099 1000 250\n7102 800 100\n", "not sorted"),
        ("7100 1000 500\n7100 1000 250\n7102 800 100\n", "duplicated"),
        ("7100 1000 500\n7101 nan 250\n7102 800 100\n", "non-finite"),
        ("7100 1000 500\n7101 0 250\n7102 800 100\n", "I0 column 'i0' must be positive"),
        ("7100 1000 500\n7101 1000\n", "2 columns, but the first data row has 3"),
        ("", "no data rows"),
        ("7100 1000 500\n7101 x 250\n", "not a numeric row"),
    ],
    ids=["unsorted", "duplicated", "nan", "zero_i0", "ragged", "empty", "text"],
)
def test_bad_files_raise(tmp_path, body, match):
    with pytest.raises(ValueError, match=match):
        load_xafs(_write(tmp_path, HEADER + body))


def test_missing_columns_raise(tmp_path):
    path = _write(tmp_path, "# Column.1: energy eV\n# Column.2: i0\n7100 1\n7101 2\n")
    with pytest.raises(ValueError, match="missing columns"):
        load_xafs(path)
    path = _write(tmp_path, "# Column.1: angle\n# Column.2: mu\n7100 1\n7101 2\n")
    with pytest.raises(ValueError, match="missing energy column"):
        load_xafs(path)
    path = _write(tmp_path, "# Column.1: energy\n# Column.2: mu\n7100 1 3\n7101 2 4\n")
    with pytest.raises(ValueError, match="3 data columns but 2 column labels"):
        load_xafs(path)


FLUORESCENCE = (
    "# XDI/1.0\n# Column.1: energy eV\n# Column.2: I0\n# Column.3: I1\n"
    "# Column.4: Sum_Fe_Ka\n# Column.5: mutrans\n# ///\n"
    "7100 1000 500 10 0.7\n7101 1000 250 30 1.4\n7102 800 100 40 2.1\n"
)


def test_named_fluorescence_column_is_used_or_refused(tmp_path):
    """A fluorescence column the user names is used (any case, even beside a mu column)
    and, if the file lacks it, an error lists the columns: never a silent fall-back to
    transmission or to the given mu."""
    path = _write(tmp_path, FLUORESCENCE)
    fluorescence = np.array([10 / 1000, 30 / 1000, 40 / 800])
    for name in ("Sum_Fe_Ka", "sum_fe_ka"):
        ds = load_xafs(path, fluorescence=name)
        np.testing.assert_allclose(ds["mu"].values, fluorescence)
        assert ds.attrs["mu_kind"] == "fluorescence Sum_Fe_Ka/I0"
    with pytest.raises(ValueError, match=r"no fluorescence column 'Sum_Fe_Kb'; columns: \["):
        load_xafs(path, fluorescence="Sum_Fe_Kb")
    # the default takes the file's mu column; None never reads fluorescence
    np.testing.assert_allclose(load_xafs(path)["mu"].values, [0.7, 1.4, 2.1])
    np.testing.assert_allclose(load_xafs(path, fluorescence=None)["mu"].values, [0.7, 1.4, 2.1])


def test_default_fluorescence_falls_back_to_transmission_only_when_absent(tmp_path):
    body = "7100 1000 500 10\n7101 1000 250 30\n7102 800 100 40\n"
    header = "# XDI/1.0\n# Column.1: energy eV\n# Column.2: I0\n# Column.3: I1\n"
    with_it = _write(tmp_path, header + "# Column.4: sum_fe_ka\n# ///\n" + body)
    np.testing.assert_allclose(load_xafs(with_it)["mu"].values, [0.01, 0.03, 0.05])
    without = _write(tmp_path, header + "# Column.4: other\n# ///\n" + body)
    np.testing.assert_allclose(load_xafs(without)["mu"].values, np.log([2.0, 4.0, 8.0]))
    no_i0 = _write(tmp_path, "# Column.1: energy\n# Column.2: Sum_Fe_Ka\n7100 1\n7101 2\n")
    with pytest.raises(ValueError, match="needs an I0 column"):
        load_xafs(no_i0, fluorescence="Sum_Fe_Ka")
