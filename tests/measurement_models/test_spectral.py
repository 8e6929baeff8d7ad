"""Spectral deconvolution: reference data, forward model, shapes and priors."""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytest
import xarray as xr

from measurement_models import spectral
from measurement_models.parameters import transformed_point

# NumPy's legacy generator, seed 0: the first standard normal draws as printed in
# countless tutorials (np.random.seed(0); np.random.randn(5)).
LEGACY_SEED0_RANDN = [1.76405235, 0.40015721, 0.97873798, 2.2408932, 1.86755799]


def test_reference_data_bit_for_bit():
    """The recipe of Nagata et al.'s public code (x = 0…3 in 301 steps, three Gaussian
    peaks, np.random.seed(0) noise of sd 0.1), written out here without the package's
    forward model."""
    rng = np.random.RandomState(0)
    x = np.linspace(0, 3, 301)
    g = (
        0.587 * np.exp(-95.689 * (x - 1.210) ** 2 / 2)
        + 1.522 * np.exp(-146.837 * (x - 1.455) ** 2 / 2)
        + 1.183 * np.exp(-164.469 * (x - 1.703) ** 2 / 2)
    )
    expected = g + rng.randn(301) * 0.1
    data = spectral.simulate_reference()
    np.testing.assert_array_equal(data["x"].values, x)
    np.testing.assert_array_equal(data["intensity"].values, expected)
    # far from the peaks the data are the seed-0 draws themselves
    np.testing.assert_allclose(data["intensity"].values[:5] / 0.1, LEGACY_SEED0_RANDN, atol=1e-8)
    assert np.all(data["sigma"].values == 0.1)


def test_reference_leaves_global_random_state_alone():
    np.random.seed(123)  # noqa: NPY002
    before = np.random.get_state()[1].copy()  # noqa: NPY002
    spectral.simulate_reference()
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # noqa: NPY002


def numpy_spectrum(x, a, mu, b):
    """Independent loop-by-loop evaluation of Σ a_k exp(−b_k (x − μ_k)²/2)."""
    out = np.zeros_like(x)
    for ak, muk, bk in zip(a, mu, b, strict=True):
        out += ak * np.exp(-bk * (x - muk) ** 2 / 2)
    return out


def test_forward_numpy_and_pytensor_agree_with_independent_loop():
    ref = spectral.REFERENCES["nagata2012_k10"]
    x, truth = ref.x, {k: ref.params[k] for k in ("a", "mu", "b")}
    expected = numpy_spectrum(x, truth["a"], truth["mu"], truth["b"])
    np.testing.assert_allclose(spectral.forward(x, **truth), expected)
    a, mu, b = (pm.pytensorf.floatX(truth[k]) for k in ("a", "mu", "b"))
    symbolic = spectral.forward(x, a=pm.math.constant(a), mu=mu, b=b).eval()
    np.testing.assert_allclose(symbolic, expected, rtol=1e-12)


def test_forward_broadcasts_over_draws():
    rng = np.random.default_rng(1)
    a, mu, b = (
        rng.uniform(0.5, 1.5, (3, 7, 2)),
        rng.uniform(1, 2, (3, 7, 2)),
        np.full((3, 7, 2), 100.0),
    )
    x = np.linspace(0, 3, 11)
    batched = spectral.forward(x, a=a, mu=mu, b=b)
    assert batched.shape == (3, 7, 11)
    np.testing.assert_allclose(batched[2, 4], numpy_spectrum(x, a[2, 4], mu[2, 4], b[2, 4]))


def test_lorentzian_has_cauchy_profile():
    """Against scipy's Cauchy density with scale = HWHM (an independent implementation)."""
    from scipy import stats

    b, mu = 80.0, 1.4
    h = np.sqrt(2 * np.log(2) / b)
    x = np.linspace(0, 3, 41)
    expected = stats.cauchy(mu, h).pdf(x) * np.pi * h
    values = spectral.forward(x, a=[1.0], mu=[mu], b=[b], shape="lorentzian")
    np.testing.assert_allclose(values, expected)


def test_priors_are_the_papers():
    """a ~ Gamma(5, rate 5), μ ~ N(1.5, var 0.2), b ~ Gamma(5, rate 0.04), against scipy."""
    from scipy import stats

    data = spectral.simulate_reference()
    model = spectral.build_model(data, n_peaks=1)
    values = {"a": [0.8], "mu": [1.3], "b": [120.0]}
    logps = [pm.logp(model[name], np.asarray(v)).sum().eval() for name, v in values.items()]
    expected = [
        stats.gamma(5, scale=1 / 5).logpdf(0.8),
        stats.norm(1.5, np.sqrt(0.2)).logpdf(1.3),
        stats.gamma(5, scale=1 / 0.04).logpdf(120.0),
    ]
    np.testing.assert_allclose(logps, expected, rtol=1e-10)


def test_likelihood_is_gaussian_with_known_sigma():
    data = spectral.simulate_reference()
    model = spectral.build_model(data, n_peaks=3)
    ref = spectral.REFERENCES["nagata2012"]
    truth = {k: ref.params[k] for k in ("a", "mu", "b")}
    point = transformed_point(model, truth)
    from scipy import stats

    resid = data["intensity"].values - numpy_spectrum(ref.x, truth["a"], truth["mu"], truth["b"])
    expected = stats.norm(0, 0.1).logpdf(resid).sum()
    loglike = model.compile_fn(model.datalogp)(point)
    assert loglike == pytest.approx(expected, rel=1e-12)


def test_mutable_data_swaps_spectra_in_one_compiled_function():
    """pm.set_data on a mutable-data model gives each spectrum's own Gaussian likelihood
    (scipy on the residuals), with per-point sigma, without recompiling."""
    from scipy import stats

    ref = spectral.REFERENCES["nagata2012"]
    truth = {k: ref.params[k] for k in ("a", "mu", "b")}
    first = spectral.simulate_reference()
    second = first.copy()
    second["intensity"] = first["intensity"] + 0.05
    second["sigma"] = ("x", np.full(first.sizes["x"], 0.2))
    model = spectral.build_model(first.assign(sigma=second["sigma"]), n_peaks=3, mutable_data=True)
    point = transformed_point(model, truth)
    loglike = model.compile_fn(model.datalogp)
    curve = numpy_spectrum(ref.x, truth["a"], truth["mu"], truth["b"])
    for data in (first, second):
        with model:
            pm.set_data({"intensity_observed": data["intensity"].values})
        expected = stats.norm(0, 0.2).logpdf(data["intensity"].values - curve).sum()
        assert loglike(point) == pytest.approx(expected, rel=1e-12)
    assert spectral.build_model(first, n_peaks=3).data_vars == []  # the default: constants


def test_model_has_labelled_peak_dim():
    model = spectral.build_model(spectral.simulate_reference(), n_peaks=4, shape="pseudo_voigt")
    assert list(model.coords["peak"]) == [0, 1, 2, 3]
    assert {rv.name: model.named_vars_to_dims[rv.name] for rv in model.free_RVs} == {
        name: ("peak",) for name in ("a", "mu", "b", "eta")
    }


def test_relabel_by_position_sorts_every_peak_variable_together():
    mu = np.array([[[1.7, 1.2, 1.4], [1.1, 1.9, 1.5]]])
    a = np.array([[[7.0, 2.0, 4.0], [1.0, 9.0, 5.0]]])
    posterior = xr.Dataset(
        {"mu": (("chain", "draw", "peak"), mu), "a": (("chain", "draw", "peak"), a)}
    )
    out = spectral.relabel_by_position(posterior)
    np.testing.assert_array_equal(out["mu"].values, [[[1.2, 1.4, 1.7], [1.1, 1.5, 1.9]]])
    np.testing.assert_array_equal(out["a"].values, [[[2.0, 4.0, 7.0], [1.0, 5.0, 9.0]]])


def test_bad_arguments():
    data = spectral.simulate_reference()
    with pytest.raises(ValueError, match="unknown peak shape 'voigt'"):
        spectral.build_model(data, shape="voigt")
    with pytest.raises(ValueError, match="n_peaks must be a positive integer"):
        spectral.build_model(data, n_peaks=0)
    with pytest.raises(ValueError, match="pseudo-Voigt shape needs eta"):
        spectral.forward(data["x"].values, a=[1.0], mu=[1.0], b=[1.0], shape="pseudo_voigt")
    with pytest.raises(ValueError, match="one value per peak"):
        spectral.simulate(data["x"].values, a=[1.0, 2.0], mu=[1.0], b=[1.0], sigma=0.1)
    with pytest.raises(ValueError, match=r"fixed value\(s\) for \['eta'\]"):
        spectral.build_model(data, n_peaks=2, fixed={"eta": 0.5})
    with pytest.raises(ValueError, match="does not have 2 entries"):
        with pm.Model(coords={"peak": [0, 1, 2]}):
            spectral.add_priors(n_peaks=2)


def test_simulate_is_seeded_and_keeps_truth():
    ref = spectral.REFERENCES["nagata2012"]
    one = spectral.simulate(ref.x, **ref.params, rng=5)
    two = spectral.simulate(ref.x, **ref.params, rng=np.random.default_rng(5))
    xr.testing.assert_identical(one, two)
    np.testing.assert_array_equal(one.attrs["truth_mu"], ref.params["mu"])
    truth = [ref.params[k] for k in ("a", "mu", "b")]
    resid = one["intensity"].values - numpy_spectrum(ref.x, *truth)
    assert resid.std() == pytest.approx(0.1, rel=0.15)  # 301 draws: sd of sd ≈ 4 %


def test_plot_fit_draws_truth_with_the_simulated_shape():
    """Truth curve of pseudo-Voigt data must use its own shape, not the Gaussian one."""
    from matplotlib.figure import Figure

    x = np.linspace(0, 3, 61)
    truth = {"a": [1.0], "mu": [1.5], "b": [100.0], "eta": [0.8]}
    data = spectral.simulate(x, sigma=0.05, rng=1, shape="pseudo_voigt", **truth)
    draws = {
        k: (("chain", "draw", "peak"), np.full((1, 4, 1), v))
        for k, v in {"a": 1.0, "mu": 1.5, "b": 100.0, "eta": 0.8}.items()
    }
    ax = Figure().subplots()
    spectral.plot_fit(ax, data, xr.Dataset(draws), shape="pseudo_voigt")
    (truth_line,) = [line for line in ax.lines if line.get_label() == "truth"]
    expected = spectral.forward(x, shape="pseudo_voigt", **truth)
    np.testing.assert_allclose(truth_line.get_ydata(), expected)
