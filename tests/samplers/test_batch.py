"""``samplers.app.batch``: many spectra on a Dask cluster, checked against independent results.

One ``distributed.LocalCluster`` (2 single-threaded worker processes) serves the module
and is reached by its address, the path of a real multi-machine cluster. The spectra
are tiny (41 points, Gaussian peaks, σ = 0.1) and the sampler short.

Independent checks: the free energy of the one-peak model against a Laplace
approximation of the evidence written here with SciPy (the posterior of three
well-determined parameters is close to Gaussian); each batch result against
:func:`samplers.select_model` run in this process on a freshly built model with the
spectrum's seed (a different code path: no data containers, no reused compiled
functions, no Dask); the posterior mean against the simulation's truth.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy import optimize, stats

from measurement_models import spectral
from samplers import ReplicaExchangeSettings, SMCSettings, select_model
from samplers.app.batch import POSITIONS_FILE, fit_batch, load_spectra, local_cluster, spectrum_seed
from samplers.app.cli import main

X = np.linspace(0.0, 3.0, 41)
SIGMA = 0.1
SETTINGS = ReplicaExchangeSettings(draws=200, tune=200, chains=2, n_replicas=8)
CANDIDATES = {"K=1": {"n_peaks": 1}, "K=2": {"n_peaks": 2}}
#: Truth per spectrum: heights, positions, sharpness b (inverse variance).
TRUTH = {
    "s0": ([1.0], [1.3], [100.0]),
    "s1": ([0.8], [1.6], [120.0]),
    "s2": ([1.0, 1.0], [1.0, 2.0], [100.0, 100.0]),
    "bad": ([1.0], [1.5], [100.0]),
}


def make_spectra(positions: bool = True) -> xr.Dataset:
    rows = [
        spectral.simulate(X, a=a, mu=mu, b=b, sigma=SIGMA, rng=i)["intensity"].values
        for i, (a, mu, b) in enumerate(TRUTH.values())
    ]
    intensity = np.array(rows)
    intensity[3, 7] = np.nan  # the "bad" spectrum
    spectra = xr.Dataset(
        {
            "intensity": (("spectrum", "x"), intensity),
            "sigma": (("spectrum", "x"), np.full(intensity.shape, SIGMA)),
        },
        coords={"spectrum": list(TRUTH), "x": X},
    )
    if positions:
        spectra = spectra.assign_coords(
            map_x=("spectrum", [0.0, 1.0, 0.0, 1.0], {"units": "mm"}),
            map_y=("spectrum", [0.0, 0.0, 1.0, 1.0], {"units": "mm"}),
        )
    return spectra


@pytest.fixture(scope="module")
def cluster():
    with local_cluster(2) as local:
        yield local


@pytest.fixture(scope="module")
def runs(cluster, tmp_path_factory):
    """A batch killed after two spectra (simulated: only they were given), then resumed."""
    output = tmp_path_factory.mktemp("batch")
    options = {
        "output": output,
        "candidates": CANDIDATES,
        "settings": SETTINGS,
        "scheduler": cluster.scheduler_address,
        "positions": ("map_x", "map_y"),
        "progress": False,
    }
    spectra = make_spectra()
    first = fit_batch("spectral", make_spectra(positions=False).isel(spectrum=[0, 1]), **options)
    map_after_first = (output / "map.png").exists()
    second = fit_batch("spectral", spectra, **options)
    third = fit_batch("spectral", spectra, **options)
    saved = xr.open_dataset(output / "batch.nc").load()
    return {
        "output": output,
        "options": options,
        "first": first,
        "second": second,
        "third": third,
        "map_after_first": map_after_first,
        "saved": saved,
    }


def laplace_log_evidence(y: np.ndarray) -> float:
    """log p(y | K = 1) by Laplace in (log a, μ, log b), priors of Nagata et al. 2012."""

    def log_joint(u):
        a, mu, b = np.exp(u[0]), u[1], np.exp(u[2])
        f = a * np.exp(-b * (X - mu) ** 2 / 2)
        return (
            stats.norm.logpdf(y, f, SIGMA).sum()
            + stats.gamma.logpdf(a, 5.0, scale=1 / 5.0)
            + u[0]
            + stats.norm.logpdf(mu, 1.5, np.sqrt(0.2))
            + stats.gamma.logpdf(b, 5.0, scale=1 / 0.04)
            + u[2]
        )

    start = np.array([0.0, X[np.argmax(y)], np.log(100.0)])
    best = optimize.minimize(
        lambda u: -log_joint(u),
        start,
        method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20000},
    ).x
    h = 1e-4
    hessian = np.empty((3, 3))
    for i in range(3):
        for j in range(3):
            e_i, e_j = np.eye(3)[i] * h, np.eye(3)[j] * h
            hessian[i, j] = -(
                log_joint(best + e_i + e_j)
                - log_joint(best + e_i - e_j)
                - log_joint(best - e_i + e_j)
                + log_joint(best - e_i - e_j)
            ) / (4 * h * h)
    return log_joint(best) + 1.5 * np.log(2 * np.pi) - 0.5 * np.linalg.slogdet(hessian)[1]


def test_free_energy_matches_laplace_evidence(runs):
    result = runs["second"]
    spectra = make_spectra()
    for sid in ("s0", "s1"):
        f = float(result["free_energy"].sel(spectrum=sid, candidate="K=1"))
        mcse = float(result["free_energy_mcse"].sel(spectrum=sid, candidate="K=1"))
        exact = -laplace_log_evidence(spectra["intensity"].sel(spectrum=sid).values)
        assert abs(f - exact) < 4 * mcse + 0.15, (sid, f, mcse, exact)


def test_smc_settings_fit_on_the_cluster(cluster, tmp_path):
    """settings=SMCSettings: every spectrum compiled afresh on a worker; F against Laplace
    (SMC's chain spread as MCSE; the same allowance as for replica exchange)."""
    spectra = make_spectra().isel(spectrum=[0])
    result = fit_batch(
        "spectral",
        spectra,
        output=tmp_path,
        candidates={"K=1": {"n_peaks": 1}},
        settings=SMCSettings(draws=400, chains=2),
        scheduler=cluster.scheduler_address,
        progress=False,
    )
    assert str(result["status"].values[0]) == "ok"
    f = float(result["free_energy"].sel(spectrum="s0", candidate="K=1"))
    mcse = float(result["free_energy_mcse"].sel(spectrum="s0", candidate="K=1"))
    exact = -laplace_log_evidence(spectra["intensity"].sel(spectrum="s0").values)
    assert abs(f - exact) < 4 * mcse + 0.15, (f, mcse, exact)
    assert "sample_smc" in xr.open_dataset(tmp_path / "batch.nc").attrs["sampler"]


def test_posterior_and_selection_against_truth(runs):
    result = runs["second"]
    for sid in ("s0", "s1"):
        mean = float(result["mean"].sel(spectrum=sid, candidate="K=1", parameter="mu[0]"))
        sd = float(result["sd"].sel(spectrum=sid, candidate="K=1", parameter="mu[0]"))
        assert abs(mean - TRUTH[sid][1][0]) < 4 * sd
        assert str(result["best"].sel(spectrum=sid).values) == "K=1"
    assert str(result["chosen"].sel(spectrum="s2").values) == "K=2"
    mu = result["best_mean"].sel(spectrum="s2", parameter=["mu[0]", "mu[1]"]).values
    sd = result["best_sd"].sel(spectrum="s2", parameter=["mu[0]", "mu[1]"]).values
    np.testing.assert_array_less(np.abs(mu - np.array([1.0, 2.0])), 4 * sd)  # relabelled
    assert float(result["max_r_hat"].sel(spectrum="s0", candidate="K=1")) < 1.1


def test_equals_select_model_with_the_spectrum_seed(runs):
    """The batch (data containers, reused compiled steps, Dask) = select_model afresh."""
    result = runs["second"]
    data = load_spectra(make_spectra(), "spectral")[0][2][1]
    tree = select_model(
        {label: (lambda k=kw: spectral.build_model(data, **k)) for label, kw in CANDIDATES.items()},
        settings=SETTINGS,
        cores=1,
        dim="candidate",
        random_seed=spectrum_seed(0, "s2"),
        progressbar=False,
    )
    np.testing.assert_allclose(
        result["free_energy"].sel(spectrum="s2").values, tree["free_energy"].values, atol=1e-8
    )  # equal draws; the graphs with data containers round differently (1e-10 nats)
    np.testing.assert_allclose(
        result["probability"].sel(spectrum="s2").values, tree["probability"].values, atol=1e-8
    )


def test_spectra_ran_on_the_cluster_workers(runs, cluster):
    workers = set(cluster.scheduler_info["workers"])
    assert set(runs["second"]["worker"].values) <= workers


def test_seed_depends_on_batch_seed_and_id_only():
    assert spectrum_seed(0, "s1") == spectrum_seed(0, "s1")
    assert len({spectrum_seed(0, "s1"), spectrum_seed(1, "s1"), spectrum_seed(0, "s2")}) == 3


def test_failed_spectrum_is_recorded_with_the_validation_message(runs):
    result = runs["second"]
    assert list(result["status"].values) == ["ok", "ok", "ok", "failed"]
    assert "non-finite" in str(result["error"].sel(spectrum="bad").values)
    assert np.isnan(result["free_energy"].sel(spectrum="bad")).all()
    assert result.attrs["n_failed"] == 1


def test_resume_fits_only_what_is_missing(runs):
    assert runs["first"].attrs["n_fitted_this_run"] == 2
    assert runs["second"].attrs["n_fitted_this_run"] == 2
    assert runs["third"].attrs["n_fitted_this_run"] == 0
    xr.testing.assert_identical(
        runs["second"].drop_attrs(), runs["third"].drop_attrs()
    )  # the parts are reread, not refitted


def test_retry_failed_and_other_settings(runs):
    options = runs["options"]
    retried = fit_batch("spectral", make_spectra(), retry_failed=True, **options)
    assert retried.attrs["n_fitted_this_run"] == 1
    other = {**options, "random_seed": 1}
    with pytest.raises(ValueError, match="other settings"):
        fit_batch("spectral", make_spectra(), **other)


def test_netcdf_round_trip_and_map_only_with_positions(runs):
    output = runs["output"]
    saved = runs["saved"]
    xr.testing.assert_identical(saved, runs["third"])
    assert saved["map_x"].attrs["units"] == "mm"
    assert not runs["map_after_first"]
    assert (output / "map.png").stat().st_size > 10_000


def test_command_line_with_scheduler_address(runs, cluster, tmp_path, capsys):
    path = tmp_path / "spectra.nc"
    make_spectra().to_netcdf(path)
    argv = [
        "batch", "spectral", str(path), "--output", str(runs["output"]),
        "--candidates", '{"K=1": {"n_peaks": 1}, "K=2": {"n_peaks": 2}}',
        "--draws", "200", "--tune", "200", "--chains", "2", "--replicas", "8",
        "--positions", "map_x,map_y", "--scheduler", cluster.scheduler_address, "--quiet",
    ]  # fmt: skip
    assert main(argv) == 0
    assert "4 spectra: 3 ok, 1 failed; 0 fitted" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("spectra", "model", "message"),
    [
        (make_spectra(), "no_such_model", "unknown measurement model"),
        (make_spectra().isel(spectrum=0), "spectral", "no 'spectrum' dimension"),
        (make_spectra().isel(spectrum=[]), "spectral", "holds no spectra"),
        (make_spectra().assign_coords(spectrum=["a", "a", "b", "c"]), "spectral", "unique"),
        (make_spectra().assign_coords(spectrum=["a/1", "b", "c", "d"]), "spectral", "file names"),
    ],
)
def test_bad_input_is_a_value_error(spectra, model, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        fit_batch(model, spectra, output=tmp_path, progress=False)


def test_empty_or_missing_folder(tmp_path):
    with pytest.raises(ValueError, match="no spectra"):
        fit_batch("spectral", tmp_path, output=tmp_path / "out", progress=False)
    with pytest.raises(ValueError, match="no such file"):
        fit_batch("spectral", tmp_path / "nope.nc", output=tmp_path / "out", progress=False)


def test_folder_of_text_files_with_positions(tmp_path):
    spectra = make_spectra()
    for sid in spectra["spectrum"].values:
        y = spectra["intensity"].sel(spectrum=sid).values
        np.savetxt(tmp_path / f"{sid}.txt", np.column_stack([X, y]), header="x intensity")
    (tmp_path / POSITIONS_FILE).write_text("spectrum,x,y\ns0,0,0\ns1,1,0\ns2,0,1\nbad,1,1\n")
    items, coords = load_spectra(tmp_path, "spectral")
    assert [item[0] for item in items] == ["bad", "s0", "s1", "s2"]
    assert items[0][1] is None and "non-finite" in items[0][2]
    np.testing.assert_array_equal(items[1][1]["intensity"].values, spectra["intensity"][0])
    np.testing.assert_array_equal(coords["x"].values, [1.0, 0.0, 1.0, 0.0])
