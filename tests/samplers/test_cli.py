"""The ``bayesmeas`` command, end to end on the small linear job."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr

from measurement_models import linear
from samplers.app import cli
from samplers.app.case_studies import CASE_STUDIES_DIR, get_case_study


def test_list_names_models_jobs_and_case_studies(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    for name in ("linear", "spectral", "spectral-deconvolution", "linear-regression"):
        assert name in out
    assert "Case studies" in out
    for study in CASE_STUDIES_DIR.glob("*.py"):
        assert study.stem in out


def test_unknown_job_is_a_clear_error(capsys):
    assert cli.main(["run", "no-such-job"]) == 2
    err = capsys.readouterr().err
    assert "unknown job or case study 'no-such-job'; jobs: spectral-deconvolution" in err
    assert "case studies: batch_spectral_map, crystal_field_integration" in err


def test_unknown_job_name_is_refused_with_the_choices():
    from samplers.app.jobs import get_job

    assert get_job("linear-regression").model == "linear"
    with pytest.raises(ValueError, match="unknown job 'nope'; available: spectral-deconvolution"):
        get_job("nope")


def test_case_study_names_resolve_or_fail_clearly(capsys):
    assert get_case_study("mototake").name == "mototake2019_ce3d_xps_selection"
    assert get_case_study("nagata2012_spectral_deconvolution").path.exists()
    with pytest.raises(ValueError, match=r"ambiguous: it matches .*hayashi2023"):
        get_case_study("_s")
    assert cli.main(["run", "2023"]) == 2  # hayashi2023 and ueda2023
    assert "is ambiguous" in capsys.readouterr().err


def test_case_study_options_that_do_not_apply_are_refused(capsys):
    assert cli.main(["run", "okada", "--draws", "10"]) == 2
    assert "chooses its own sampler settings; --draws" in capsys.readouterr().err
    assert cli.main(["run", "linear-regression", "--full"]) == 2
    assert "--full is for case studies" in capsys.readouterr().err


def test_figures_need_a_results_folder(tmp_path, capsys):
    assert cli.main(["figures", "okada", "--output", str(tmp_path / "missing")]) == 2
    assert "no results folder" in capsys.readouterr().err


SAMPLER_NAMES = {"replica_exchange": "replica exchange", "smc": "sample_smc"}


@pytest.fixture(scope="module", params=sorted(SAMPLER_NAMES))
def linear_job(request, tmp_path_factory):
    output = tmp_path_factory.mktemp(f"linear-job-{request.param}")
    args = ["run", "linear-regression", "--quick", "--chains", "6", "--seed", "4"]
    args += ["--sampler", request.param, "--output", str(output), "--no-progress"]
    assert cli.main(args) == 0
    return output, request.param


def test_run_writes_result_file_and_figure(linear_job):
    linear_job, sampler = linear_job
    assert (linear_job / "result.png").stat().st_size > 10_000
    tree = xr.open_datatree(linear_job / "result.nc", engine="netcdf4")
    assert tree.attrs["job"] == "linear-regression"
    assert SAMPLER_NAMES[sampler] in tree.attrs["sampler"]
    assert set(tree["candidates"].children) == {"1", "2"}
    kwargs = json.loads(tree["candidates/2"].attrs["build_model_kwargs"])
    assert {"posterior", "sample_stats", "observed_data"} <= set(tree["candidates/2"].children)
    assert kwargs == {"n_terms": 2}
    table = tree.to_dataset(inherit=False)
    assert float(table["probability"].sum()) == pytest.approx(1.0)


def test_job_free_energies_match_exact_evidence(linear_job):
    """The whole pipeline (data, model, sampler, file) against the closed-form evidence."""
    linear_job, _ = linear_job
    tree = xr.open_datatree(linear_job / "result.nc", engine="netcdf4")
    data = tree["data"].to_dataset()
    table = tree.to_dataset(inherit=False)
    x, y, sigma = data["x"].values, data["y"].values, float(data["sigma"][0])
    for k in (1, 2):
        exact = -linear.exact_log_evidence(x, y, sigma, n_terms=k)
        row = table.sel(K=k)
        assert abs(float(row.free_energy) - exact) < 5 * float(row.free_energy_mcse), k
    # the truth has an intercept of 0.5 with noise 0.3: y = a x must lose decisively
    assert table.attrs["chosen"] == "2"


def test_plot_redraws_from_the_file_alone(linear_job, capsys):
    linear_job, _ = linear_job
    png = linear_job / "again.png"
    assert cli.main(["plot", str(linear_job / "result.nc"), "--output", str(png)]) == 0
    assert png.stat().st_size > 10_000
    assert str(png) in capsys.readouterr().out
    assert np.isfinite(xr.open_datatree(linear_job / "result.nc")["free_energy"]).all()


def test_plot_path_draws_a_candidates_tempered_path(linear_job, capsys):
    linear_job, sampler = linear_job
    result = linear_job / "result.nc"
    if sampler == "smc":
        assert cli.main(["plot", str(result), "--path"]) == 2
        assert "needs a replica-exchange result" in capsys.readouterr().err
        return
    assert cli.main(["plot", str(result), "--path"]) == 0
    best = linear_job / "result_path_best.png"
    assert best.stat().st_size > 10_000 and str(best) in capsys.readouterr().out
    assert cli.main(["plot", str(result), "--path", "1"]) == 0
    assert (linear_job / "result_path_1.png").stat().st_size > 10_000
    assert cli.main(["plot", str(result), "--path", "7"]) == 2
    assert "no candidate '7' in the result" in capsys.readouterr().err


def test_benchmark_subcommand_forwards_its_options(monkeypatch):
    import samplers.app.benchmark

    seen = []
    monkeypatch.setattr(samplers.app.benchmark, "main", lambda argv: seen.append(argv) or 0)
    assert cli.main(["benchmark", "--quick", "--ks", "1", "2"]) == 0
    assert seen == [["--quick", "--ks", "1", "2"]]


def test_batch_options_become_fit_batch_keywords(tmp_path):
    args = cli.build_parser().parse_args(
        ["batch", "spectral", "spectra.nc", "--output", str(tmp_path), "--draws", "300",
         "--tune", "100", "--chains", "3", "--replicas", "12", "--seed", "7", "--quiet",
         "--candidates", '{"K=1": {"n_peaks": 1}, "K=2": {"n_peaks": 2}}',
         "--positions", "map_x, map_y", "--key-parameter", "mu[0]"]
    )  # fmt: skip
    options = cli._batch_options(args)
    settings = options["settings"]
    assert (settings.draws, settings.tune, settings.chains, settings.n_replicas) == (
        300,
        100,
        3,
        12,
    )
    assert options["candidates"] == {"K=1": {"n_peaks": 1}, "K=2": {"n_peaks": 2}}
    assert options["positions"] == ("map_x", "map_y")
    assert (options["random_seed"], options["progress"], options["key_parameter"]) == (
        7,
        False,
        "mu[0]",
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--candidates", "{K=1}"], "--candidates must be JSON"),
        (["--candidates", '{"K=1": 1}'], "must map candidate names"),
        (["--sampler", "smc", "--tune", "10"], "--tune is for replica exchange"),
        (["--positions", "x"], "--positions needs two names"),
    ],
)
def test_batch_bad_options_are_clear_errors(extra, message, tmp_path, capsys):
    argv = ["batch", "spectral", str(tmp_path), "--output", str(tmp_path / "out"), *extra]
    assert cli.main(argv) == 2
    assert message in capsys.readouterr().err


def test_batch_bad_input_is_reported_before_any_cluster_starts(tmp_path, capsys):
    assert cli.main(["batch", "nope", str(tmp_path), "--output", str(tmp_path / "o")]) == 2
    assert "unknown measurement model 'nope'" in capsys.readouterr().err
    assert cli.main(["batch", "spectral", str(tmp_path), "--output", str(tmp_path / "o")]) == 2
    assert "no spectra" in capsys.readouterr().err


def test_run_refuses_to_replace_a_result_made_with_other_settings(linear_job, capsys):
    """A full result must not be lost to a quick rerun or another seed without --force."""
    linear_job, sampler = linear_job
    result = linear_job / "result.nc"
    before = result.read_bytes()
    args = ["run", "linear-regression", "--quick", "--chains", "6", "--seed", "5"]
    args += ["--sampler", sampler, "--output", str(linear_job), "--no-progress"]
    assert cli.main(args) == 2
    error = capsys.readouterr().err
    assert "other settings" in error and "--force" in error and str(result) in error
    assert error.count("\n") == 1  # one line, no traceback
    assert result.read_bytes() == before


@pytest.mark.parametrize(
    "flag, value", [("--chains", "0"), ("--draws", "-5"), ("--replicas", "0"), ("--cores", "x")]
)
def test_sizes_must_be_positive_whole_numbers(flag, value, capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["run", "linear-regression", flag, value])
    assert stop.value.code == 2
    assert f"argument {flag}: must be" in capsys.readouterr().err


def test_plot_of_a_missing_or_foreign_file_is_one_line(tmp_path, capsys):
    assert cli.main(["plot", str(tmp_path / "nonexistent.nc")]) == 2
    assert "no such result file" in capsys.readouterr().err
    text = tmp_path / "spectrum.txt"
    text.write_text("1 2\n2 3\n")
    assert cli.main(["plot", str(text)]) == 2
    assert "not a netCDF file" in capsys.readouterr().err
    data = tmp_path / "data.nc"
    xr.Dataset({"y": ("x", [1.0, 2.0])}).to_netcdf(data)
    assert cli.main(["plot", str(data)]) == 2
    error = capsys.readouterr().err
    assert "not a result of `bayesmeas run`" in error and error.count("\n") == 1


def test_missing_real_data_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BAYESMEAS_REAL_DATA", str(tmp_path / "none"))
    args = ["run", "xanes_fe_k_edge", "--output", str(tmp_path / "out")]
    assert cli.main(args) == 2
    error = capsys.readouterr().err
    assert "fe2o3_rt1.xmu" in error and "BAYESMEAS_REAL_DATA" in error
    assert error.count("\n") == 1
