"""Key numbers of the Nagata 2012 case study against the paper, the truth and Laplace.

Independent values: the paper's choice K = 3 (Nagata, Sugita, Okada, Neural Networks
28, 82 (2012)); the generating parameters of the benchmark (the authors' public C++
code for the paper's model), which the data are reproduced from bit for bit; and F(K = 3) by a
Laplace approximation, which shares only the log-density with the sampler. The quick
run samples K = 1…3 with 2 chains × 16 replicas, 300 + 300 iterations.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from .conftest import run_quick

#: The benchmark's generating peaks (the authors' public code for Nagata et al. 2012).
TRUTH = {
    "a": [0.587, 1.522, 1.183],
    "mu": [1.210, 1.455, 1.703],
    "b": [95.689, 146.837, 164.469],
}
#: The Laplace approximation's own error on this posterior: the full run (4 chains × 32
#: replicas, 4000 draws) put replica exchange 0.12 nats below it (docs/free-energy.md).
LAPLACE_ERROR = 0.3


@pytest.fixture(scope="module")
def output(tmp_path_factory):
    return run_quick("nagata2012_spectral_deconvolution", tmp_path_factory)


def test_data_are_the_benchmark(output):
    # x = linspace(0, 3, 301), y = f(x) + 0.1 randn from np.random.seed(0) (authors' code)
    data = xr.open_dataset(output / "data.nc")
    x = np.linspace(0.0, 3.0, 301)
    f = sum(
        a * np.exp(-b * (x - mu) ** 2 / 2)
        for a, mu, b in zip(TRUTH["a"], TRUTH["mu"], TRUTH["b"], strict=True)
    )
    expected = f + 0.1 * np.random.RandomState(0).randn(301)
    np.testing.assert_allclose(data["x"].values, x)
    np.testing.assert_allclose(data["intensity"].values, expected, rtol=0, atol=1e-12)


def test_three_peaks_chosen_as_in_the_paper(output):
    table = xr.open_datatree(output / "model_selection.nc").to_dataset(inherit=False)
    assert int(table.attrs["best"]) == 3
    f = table["free_energy"].to_series()
    mcse = table["free_energy_mcse"].to_series()
    # one and two peaks are excluded by far more than any Monte Carlo error (the full
    # run: by 195 and 97 nats); 20 nats is > 40 combined quick-run MCSE
    for k in (1, 2):
        assert f[k] - f[3] > 20 + 4 * np.hypot(mcse[k], mcse[3])
    assert float(table["probability"].sel(K=[1, 2]).sum()) < 1e-30


def test_peaks_against_the_generating_parameters(output):
    # each peak's posterior mean within 4 posterior sd of the truth (a draw-based mean of
    # a correct posterior is off by ~1 sd; 4 sd also covers the quick run's MC error,
    # sd/√ESS with ESS ≥ 20)
    peaks = pd.read_csv(output / "peaks.csv")
    assert (peaks["K"] == 3).all()
    for row in peaks.itertuples():
        truth = TRUTH[row.parameter][row.peak]
        assert row.truth == pytest.approx(truth)
        assert abs(row.mean - truth) < 4 * row.sd, row
    # the positions are resolved: sorted, and sharper than their spacing
    mu = peaks[peaks["parameter"] == "mu"].sort_values("peak")
    assert np.all(np.diff(mu["mean"]) > 4 * mu["sd"].to_numpy()[1:])


def test_free_energy_against_laplace(output):
    # tolerance: 4 quick-run MCSE plus the Laplace approximation's own error
    check = pd.read_csv(output / "laplace.csv").iloc[0]
    assert check["hessian_min_eigenvalue"] > 0
    difference = check["replica_exchange_free_energy"] - check["laplace_free_energy"]
    assert abs(difference) < 4 * check["replica_exchange_mcse"] + LAPLACE_ERROR
