"""Smoke test of the replica-exchange vs SMC benchmark at tiny sizes (not a timing test)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from samplers.app import benchmark, hard_benchmark

TINY = {
    "ks": (1,),
    "chains": 2,
    "re_draws": 100,
    "re_tune": 100,
    "n_replicas": 8,
    "smc_draws": 200,
    "cores": 1,
    "seed": 3,
    "throughput_iterations": 20,
    "throughput_warmup": 20,
}


@pytest.fixture(scope="module")
def tiny():
    lines = []
    return benchmark.run_benchmark(**TINY, log=lines.append), lines


def test_dataset_has_the_documented_variables(tiny):
    ds, lines = tiny
    assert set(benchmark.VARIABLES) <= set(ds.data_vars)
    assert ds.sizes == {"sampler": 2, "k": 1, "chain": 2, "method": 3}
    assert list(ds["sampler"].values) == ["replica_exchange", "smc"]
    assert ds.attrs["cores"] == 1 and ds.attrs["n_replicas"] == 8
    assert len(lines) == 3  # throughput, replica exchange, SMC for the one K


def test_values_are_finite_and_consistent(tiny):
    ds, _ = tiny
    for name in benchmark.VARIABLES:
        assert np.all(np.isfinite(ds[name].values)), name
    np.testing.assert_allclose(ds["free_energy"], ds["free_energy_per_chain"].mean("chain"))
    np.testing.assert_allclose(ds["spread"], ds["free_energy_per_chain"].std("chain", ddof=1))
    assert (ds["wall_time"] > 0).all() and (ds["mcse"] > 0).all()


def test_throughput_is_positive_and_numpy_matches_the_compiled_likelihood(tiny):
    ds, _ = tiny
    for name in (
        "step_evaluations_per_second",
        "density_evaluations_per_second",
        "numpy_evaluations_per_second",
        "step_numpy_ratio",
    ):
        assert (ds[name] > 0).all(), name
    # dim = 3 (a, mu, b for one peak), componentwise: 3 calls of 8 replicas per iteration
    assert int(ds["dim"].item()) == 3
    assert int(ds["throughput_evaluations"].item()) == 20 * 3 * 8
    assert float(ds["numpy_max_abs_difference"].item()) < 1e-6


def test_table_lists_every_k_and_the_targets(tiny):
    ds, _ = tiny
    table = benchmark.format_benchmark(ds)
    assert "RE mean ± spread" in table and "SMC wall s" in table
    assert "\n1 |" in table
    assert f"≤ {benchmark.SPREAD_TARGET}" in table
    assert "sampler/NumPy" in table


def test_parser_quick_defaults_and_overrides():
    parser = benchmark.build_parser()
    quick = benchmark.settings_from_args(parser.parse_args(["--quick"]))
    assert quick["ks"] == benchmark.QUICK["ks"] and quick["cores"] is None
    args = parser.parse_args(["--quick", "--ks", "2", "3", "--chains", "3", "--cores", "1"])
    settings = benchmark.settings_from_args(args)
    assert settings["ks"] == (2, 3) and settings["chains"] == 3 and settings["cores"] == 1
    assert settings["re_draws"] == benchmark.QUICK["re_draws"]
    full = benchmark.settings_from_args(parser.parse_args(["--seed", "5"]))
    assert full["ks"] == (1, 2, 3, 4, 5) and full["chains"] == 4 and full["seed"] == 5


def test_main_writes_netcdf_and_table(tiny, tmp_path, monkeypatch, capsys):
    ds, _ = tiny
    received = {}

    def fake_run(**settings):
        received.update(settings)
        return ds.copy()

    monkeypatch.setattr(benchmark, "run_benchmark", fake_run)
    assert benchmark.main(["--quick", "--cores", "1", "--output", str(tmp_path)]) == 0
    assert received["cores"] == 1 and received["ks"] == benchmark.QUICK["ks"]
    assert "RE F per chain" in capsys.readouterr().out
    back = xr.load_dataset(tmp_path / "benchmark.nc", engine="netcdf4")
    xr.testing.assert_allclose(back["free_energy_per_chain"], ds["free_energy_per_chain"])
    assert back.attrs[
        "command"
    ] == "python -m samplers.app.benchmark --quick --cores 1 --output " + str(tmp_path)
    assert "Throughput" in (tmp_path / "benchmark.txt").read_text()


# -- bayesmeas benchmark --hard -----------------------------------------------------------

HARD_TINY = {
    "targets": ("egg box",),
    "re_budgets": (50, 100),
    "smc_budgets": (50,),
    "nested_budgets": (20,),
    "chains": 2,
    "n_replicas": 8,
    "max_seconds": 60.0,
    "seed": 3,
}


@pytest.fixture(scope="module")
def hard_tiny():
    lines = []
    return hard_benchmark.run_hard_benchmark(**HARD_TINY, log=lines.append), lines


def test_hard_benchmark_runs_and_reports_finite_numbers(hard_tiny):
    ds, lines = hard_tiny
    assert ds.sizes == {"target": 1, "sampler": 5, "step": 2}
    assert float(ds["exact_log_z"].item()) == pytest.approx(235.856, abs=1e-3)
    status = ds["status"].sel(target="egg box")
    for sampler in ("re_variational", "re_modes"):  # the egg box's peaks are not points
        assert str(status.sel(sampler=sampler).values).startswith("not applicable")
    ran = 0
    for sampler in ("re_prior", "smc", "nested"):
        sel = ds.sel(target="egg box", sampler=sampler)
        done = np.isfinite(sel["budget"].values)
        assert done[0], sampler  # the first budget always runs
        for name in ("log_z_error", "mcse", "weight_error", "wall_time"):
            assert np.all(np.isfinite(sel[name].values[done])), (sampler, name)
        assert np.all(sel["wall_time"].values[done] > 0)
        assert float(sel["total_time"]) == pytest.approx(sel["wall_time"].values[done].sum())
        reached = sel["reached"].values[done]
        assert str(sel["status"].values) == ("reached" if reached[-1] else "not reached")
        if reached[-1]:  # the time to reach is that run's, the ratio is to the fastest
            assert float(sel["time_to_target"]) == sel["wall_time"].values[done][-1]
            assert float(sel["ratio_to_fastest"]) >= 1.0
        ran += int(done.sum())
    assert len(lines) == ran
    table = hard_benchmark.format_hard_benchmark(ds)
    assert "egg box (exact log Z = 235.856)" in table
    assert "n/a (exchangeable peaks)" in table


def test_hard_benchmark_refuses_unknown_targets_and_bad_budgets():
    with pytest.raises(ValueError, match="unknown targets"):
        hard_benchmark.run_hard_benchmark(targets=("banana",))
    with pytest.raises(ValueError, match="increasing positive integers"):
        hard_benchmark.run_hard_benchmark(targets=("egg box",), re_budgets=(200, 100))


def test_benchmark_hard_writes_netcdf_and_table(hard_tiny, tmp_path, monkeypatch, capsys):
    """`bayesmeas benchmark --hard` reaches the hard benchmark with its own options."""
    ds, _ = hard_tiny
    received = {}

    def fake_run(**settings):
        received.update(settings)
        return ds.copy()

    monkeypatch.setattr(hard_benchmark, "run_hard_benchmark", fake_run)
    argv = ["--hard", "--quick", "--targets", "egg box", "--output", str(tmp_path)]
    assert benchmark.main(argv) == 0
    assert received["targets"] == ("egg box",)
    assert received["re_budgets"] == hard_benchmark.QUICK["re_budgets"]
    assert "time to reach s" in capsys.readouterr().out
    back = xr.load_dataset(tmp_path / "hard_benchmark.nc", engine="netcdf4")
    xr.testing.assert_allclose(back["log_z_error"], ds["log_z_error"])
    assert back.attrs["command"].startswith("bayesmeas benchmark --hard --quick")
    assert "exact log Z" in (tmp_path / "hard_benchmark.txt").read_text()
