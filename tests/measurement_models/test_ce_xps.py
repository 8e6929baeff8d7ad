"""Ce 3d XPS cluster model (Mototake et al. 2019): lines against the paper's table and an
independent eigen-solution, physical limits, the spectrum against SciPy's Voigt profile,
the log-density and its gradient, bad input, and the free energy against quadrature."""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
import pytest
from scipy import integrate, optimize, special, stats

from measurement_models import ce_xps as ce
from measurement_models.parameters import Prior, transformed_point

#: Python perform without graph rewrites: nothing is compiled by numba, nothing is
#: rewritten (rewriting this graph costs seconds; and rewritten, the gradient's additions
#: become Elemwise nodes of more than 32 operands, which Python mode cannot evaluate).
PYTHON = pytensor.compile.mode.Mode(linker="py", optimizer=None)
SHAPE_KEYS = ("delta", "v", "u_fc", "gamma", "amplitude", "background")


# --------------------------------------------------------------------------------------
# An independent implementation, written out from the model's definition
# --------------------------------------------------------------------------------------


def eigh_lines(delta, v, u_ff, u_fc, n_configurations=3):
    """E_f − E_g and |<f|g>|² by numpy.linalg.eigh of the written-out 3×3 (or 2×2) matrices."""
    a, b = np.sqrt(14.0) * v, np.sqrt(26.0) * v
    h_i = np.array([[0.0, a, 0.0], [a, delta, b], [0.0, b, 2 * delta + u_ff]])
    h_f = np.array([[0.0, a, 0.0], [a, delta - u_fc, b], [0.0, b, 2 * delta + u_ff - 2 * u_fc]])
    m = n_configurations
    e_i, x_i = np.linalg.eigh(h_i[:m, :m])
    e_f, x_f = np.linalg.eigh(h_f[:m, :m])
    return e_f - e_i[0], (x_f.T @ x_i[:, 0]) ** 2


def spectrum_by_scipy(energy, p, n_configurations=3, resolution=0.3, spin_orbit=None):
    """The broadened spectrum from :func:`eigh_lines` and scipy.special.voigt_profile."""
    positions, weights = eigh_lines(
        p["delta"], p["v"], p.get("u_ff", 0.0), p["u_fc"], n_configurations
    )
    y = np.zeros_like(energy)
    for e, w in zip(positions, weights, strict=True):
        y += w * special.voigt_profile(energy - e, resolution, p["gamma"])
        if spin_orbit is not None:
            y += (
                w
                * spin_orbit[1]
                * special.voigt_profile(energy - e - spin_orbit[0], resolution, p["gamma"])
            )
    return p["amplitude"] * y + p["background"]


# --------------------------------------------------------------------------------------
# Lines
# --------------------------------------------------------------------------------------


def test_paper_table_and_independent_eigh():
    """V = 0.76, U_ff = 10.5, U_fc = 12.5, Δ = 12.5 eV: E_f − E_g = (−2.8, 2.72, 12.48) eV
    as printed in Mototake et al.'s table, to its printed precision."""
    ref = ce.REFERENCES["mototake2019_table"]
    assert (ref.x, dict(ref.params)) == (12.5, {"v": 0.76, "u_fc": 12.5, "u_ff": 10.5})
    positions, weights = ce.lines(12.5, 0.76, 12.5, 10.5)
    printed = np.array([-2.8, 2.72, 12.48])
    half_last_digit = np.array([0.05, 0.005, 0.005])
    assert np.all(np.abs(positions - printed) <= half_last_digit), positions
    np.testing.assert_array_equal(ref.expected[0], printed)
    expected_positions, expected_weights = eigh_lines(12.5, 0.76, 10.5, 12.5)
    np.testing.assert_allclose(positions, expected_positions, rtol=0, atol=1e-12)
    np.testing.assert_allclose(weights, expected_weights, rtol=0, atol=1e-12)
    # the weights quoted in the module docstring (0.6048, 0.3944, 0.0007)
    np.testing.assert_allclose(weights, [0.6048, 0.3944, 0.0007], atol=5e-5)


def test_paper_scan_rows():
    """The other rows of the paper's Δ scan (arXiv:1812.01205): intensities are printed as
    2w/π (a unit Lorentzian of half width 0.5 eV at its peak). Positions of the Δ = 10.08
    and 7.66 rows agree to 0.02 eV only; Δ = 10.074 brings the 10.08 row's E₂, E₃ and
    intensities to their printed digits (the printed Δ may be rounded)."""
    _, w = ce.lines(12.5, 0.76, 12.5, 10.5)
    np.testing.assert_allclose(2 * w / np.pi, [0.3850, 0.2512, 0.0005], atol=1.5e-4)
    rows = {10.08: (-4.53, 1.94, 8.15), 7.66: (-6.67, 1.25, 4.3746)}
    for delta, printed in rows.items():
        positions, _ = ce.lines(delta, 0.76, 12.5, 10.5)
        np.testing.assert_allclose(positions, printed, atol=0.02)
    positions, w = ce.lines(10.074, 0.76, 12.5, 10.5)
    assert np.all(np.abs(positions[1:] - [1.94, 8.15]) <= 0.005)
    np.testing.assert_allclose(2 * w / np.pi, [0.2824, 0.3509, 0.0033], atol=1.5e-4)


@pytest.mark.parametrize("n_configurations", [2, 3])
def test_lines_against_eigh_for_random_parameters_and_batches(n_configurations):
    rng = np.random.default_rng(11)
    delta, v, u_ff, u_fc = (
        rng.uniform(lo, hi, 7) for lo, hi in [(0, 20), (0, 2), (0, 20), (0, 20)]
    )
    positions, weights = ce.lines(
        delta, v, u_fc, u_ff if n_configurations == 3 else None, n_configurations
    )
    assert positions.shape == weights.shape == (7, n_configurations)
    for k in range(7):
        p, w = eigh_lines(delta[k], v[k], u_ff[k], u_fc[k], n_configurations)
        np.testing.assert_allclose(positions[k], p, rtol=0, atol=1e-10)
        np.testing.assert_allclose(weights[k], w, rtol=0, atol=1e-10)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=0, atol=1e-12)


def test_no_hybridisation_limit():
    """V → 0: the lines sit at the final-state configuration energies 0, Δ − U_fc,
    2Δ + U_ff − 2U_fc, and all the weight is on |4f⁰⟩'s line at 0."""
    delta, u_ff, u_fc = 7.0, 9.0, 10.0  # configuration energies 0, −3, 3
    positions, weights = ce.lines(delta, 0.0, u_fc, u_ff)
    np.testing.assert_allclose(positions, [-3.0, 0.0, 3.0], atol=1e-12)
    np.testing.assert_allclose(weights, [0.0, 1.0, 0.0], atol=1e-12)
    positions, weights = ce.lines(delta, 1e-4, u_fc, u_ff)  # continuous at V → 0
    np.testing.assert_allclose(positions, [-3.0, 0.0, 3.0], atol=1e-6)
    np.testing.assert_allclose(weights, [0.0, 1.0, 0.0], atol=1e-7)


def test_two_configurations_are_the_large_u_ff_limit():
    two = ce.lines(12.5, 0.76, 12.5, None, 2)
    for u_ff, tol in [(1e3, 2e-2), (1e6, 2e-5)]:
        positions, weights = ce.lines(12.5, 0.76, 12.5, u_ff)
        np.testing.assert_allclose(positions[:2], two[0], atol=tol)
        np.testing.assert_allclose(weights[:2], two[1], atol=tol)
        assert weights[2] < tol
    # and at U_ff = 10.5 they differ (the third configuration matters)
    assert np.max(np.abs(ce.lines(12.5, 0.76, 12.5, 10.5)[0][:2] - two[0])) > 0.5


def test_hamiltonians_are_as_written():
    h_i, h_f = ce.hamiltonians(12.5, 0.76, 12.5, 10.5)
    a, b = 0.76 * np.sqrt(14), 0.76 * np.sqrt(26)
    np.testing.assert_allclose(h_i, [[0, a, 0], [a, 12.5, b], [0, b, 35.5]])
    np.testing.assert_allclose(h_f, [[0, a, 0], [a, 0.0, b], [0, b, 10.5]])
    h_i2, h_f2 = ce.hamiltonians(12.5, 0.76, 12.5, None, 2)
    np.testing.assert_allclose(h_i2, h_i[:2, :2])
    np.testing.assert_allclose(h_f2, h_f[:2, :2])


# --------------------------------------------------------------------------------------
# Spectrum
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("spin_orbit", [None, ce.CE_3D_SPIN_ORBIT])
@pytest.mark.parametrize("n_configurations", [2, 3])
def test_spectrum_against_scipy_voigt(n_configurations, spin_orbit):
    energy = np.linspace(-12.0, 40.0, 157)
    p = {"delta": 9.0, "v": 0.8, "u_ff": 10.0, "u_fc": 12.0, "gamma": 0.6}
    p |= {"amplitude": 7.0, "background": 0.3}
    if n_configurations == 2:
        del p["u_ff"]
    y = ce.forward(
        energy, **p, n_configurations=n_configurations, resolution=0.3, spin_orbit=spin_orbit
    )
    expected = spectrum_by_scipy(energy, p, n_configurations, 0.3, spin_orbit)
    np.testing.assert_allclose(y, expected, rtol=0, atol=1e-12 * expected.max())


def test_spectrum_area_is_amplitude_times_one_plus_ratio():
    """∫ y dE = A (1 + r) without background (wide grid: the Lorentzian tails beyond
    ±3000 eV hold 2Γ/(π 3000) ≈ 1e-4 of the area)."""
    wide = np.linspace(-3000.0, 3000.0, 600001)
    y = ce.forward(
        wide,
        delta=9.0,
        v=0.8,
        u_fc=12.0,
        gamma=0.6,
        amplitude=7.0,
        background=0.0,
        u_ff=10.0,
        resolution=0.3,
        spin_orbit=(18.6, 2 / 3),
    )
    assert integrate.trapezoid(y, wide) == pytest.approx(7.0 * (1 + 2 / 3), rel=2e-4)


def test_lorentzian_without_resolution_and_draw_batches():
    energy = np.linspace(-10.0, 15.0, 51)
    p = {"delta": 10.0, "v": 0.7, "u_ff": 9.0, "u_fc": 11.0, "gamma": 0.5}
    p |= {"amplitude": 3.0, "background": -0.1}
    positions, weights = eigh_lines(10.0, 0.7, 9.0, 11.0)
    lorentz = sum(
        w * 0.5 / np.pi / ((energy - e) ** 2 + 0.25)
        for e, w in zip(positions, weights, strict=True)
    )
    y = ce.forward(energy, **p)
    np.testing.assert_allclose(y, 3.0 * lorentz - 0.1, rtol=1e-13)
    batch = ce.forward(energy, **{k: np.full(4, v) for k, v in p.items()})
    assert batch.shape == (4, 51)
    np.testing.assert_allclose(batch, np.broadcast_to(y, (4, 51)), rtol=1e-13)


def test_pytensor_graph_equals_numpy():
    energy = np.linspace(-12.0, 16.0, 41)
    values = {"delta": 8.0, "v": 0.76, "u_fc": 12.5, "gamma": 0.7, "amplitude": 10.0}
    values |= {"background": 0.5, "u_ff": 10.5}
    symbols = {k: pt.dscalar(k) for k in values}
    for n in (2, 3):
        names = [*SHAPE_KEYS, "u_ff"] if n == 3 else list(SHAPE_KEYS)
        options = {"n_configurations": n, "resolution": 0.3, "spin_orbit": ce.CE_3D_SPIN_ORBIT}
        graph = ce.forward(energy, **{k: symbols[k] for k in names}, **options)
        f = pytensor.function([symbols[k] for k in names], graph, mode=PYTHON)
        expected = ce.forward(energy, **{k: values[k] for k in names}, **options)
        np.testing.assert_allclose(f(*(values[k] for k in names)), expected, rtol=1e-12)


# --------------------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def example():
    return ce.example_data(0)


@pytest.fixture(scope="module")
def compiled(example):
    """The three-configuration model with its logp and dlogp (no numba compilation)."""
    data, _ = example
    model = ce.build_model(data, n_configurations=3, resolution=0.3)
    return model, model.compile_logp(mode=PYTHON), model.compile_dlogp(mode=PYTHON)


def test_logp_matches_an_independent_density(example, compiled):
    data, truth = example
    model, _, _ = compiled
    logp = model.compile_logp(jacobian=False, mode=PYTHON)(transformed_point(model, truth))
    energy, y = data["energy"].values, data["intensity"].values
    h, width = np.abs(y).max(), energy[-1] - energy[0]
    expected = (
        stats.norm.logpdf(y, spectrum_by_scipy(energy, truth), 0.05).sum()
        + 3 * stats.uniform.logpdf(10.0, 0, 20)  # delta, u_ff, u_fc
        + stats.uniform.logpdf(0.76, 0, 2)
        + stats.uniform.logpdf(0.7, 0.05, 2.95)
        + stats.uniform.logpdf(10.0, 0, h * width)
        + stats.uniform.logpdf(0.5, -h / 2, h)
    )
    assert logp == pytest.approx(expected, rel=1e-12)


def test_gradient_matches_central_differences(example, compiled):
    _, truth = example
    model, logp, dlogp = compiled
    point = transformed_point(model, {**truth, "delta": 8.3, "v": 0.7, "gamma": 0.8})
    names = [model.rvs_to_values[rv].name for rv in model.free_RVs]
    gradient = dlogp(point)
    numeric = []
    for name in names:
        step = 1e-6
        up, down = dict(point), dict(point)
        up[name] = point[name] + step
        down[name] = point[name] - step
        numeric.append((logp(up) - logp(down)) / (2 * step))
    np.testing.assert_allclose(gradient, numeric, rtol=1e-5, atol=1e-4)
    assert np.max(np.abs(gradient)) > 10  # away from the mode: a test that can fail


def test_estimated_and_known_noise(example):
    data, _ = example
    estimated = ce.build_model(data.drop_vars("sigma"), n_configurations=2, resolution=0.3)
    assert [rv.name for rv in estimated.free_RVs] == [*ce.parameter_names(2), "sigma"]
    sigma = estimated["sigma"]
    value = estimated.rvs_to_values[sigma]
    logp = pytensor.function([value], estimated.logp(vars=[sigma], jacobian=False), mode=PYTHON)
    h = np.abs(data["intensity"].values).max()
    assert logp(np.log(0.02)) == pytest.approx(stats.halfnorm.logpdf(0.02, scale=0.1 * h))
    known = ce.build_model(data, n_configurations=2, sigma=0.07)
    (observed,) = known.observed_RVs
    np.testing.assert_array_equal(observed.owner.inputs[-1].eval(mode=PYTHON), 0.07)


def test_failed_forward_gives_minus_infinity(example):
    """An overflowing Hamiltonian (V = 1e307 eV) makes the spectrum NaN: the log-density is
    −inf, not NaN."""
    data, truth = example
    huge = {"v": Prior("Normal", mu=0.0, sigma=1e308)}
    energy = data["energy"].values
    with np.errstate(over="ignore", invalid="ignore"):
        spectrum = ce.forward(
            energy, delta=8.0, v=1e307, u_fc=12.5, gamma=0.7, u_ff=10.5, resolution=0.3
        )
    assert np.all(np.isnan(spectrum))  # what the guard is for
    model = ce.build_model(data, n_configurations=3, resolution=0.3, priors=huge)
    logp = model.compile_logp(mode=PYTHON)
    assert np.isfinite(logp(transformed_point(model, truth)))
    assert logp(transformed_point(model, {**truth, "v": 1e307})) == -np.inf


def test_mutable_data_share_one_graph(example):
    data, truth = example
    other = ce.simulate(
        data["energy"].values, rng=5, sigma=0.1, resolution=0.3, **{**truth, "delta": 10.0}
    )
    reference = ce.build_model(other, n_configurations=3, resolution=0.3)
    expected = reference.compile_logp(jacobian=False, mode=PYTHON)(
        transformed_point(reference, truth)
    )
    model = ce.build_model(data, n_configurations=3, resolution=0.3, mutable_data=True)
    logp = model.compile_logp(jacobian=False, mode=PYTHON)
    first = logp(transformed_point(model, truth))
    with model:
        pm.set_data(
            {
                "intensity_observed": other["intensity"].values,
                "intensity_sigma": other["sigma"].values,
                **{f"intensity_{k}": v for k, v in ce.prior_scales(other).items()},
            }
        )
    # the same compiled function, new data and new data-scaled prior ranges
    assert logp(transformed_point(model, truth)) == pytest.approx(expected, rel=1e-12)
    assert expected != pytest.approx(first)


def test_integrated_model_with_shared_parameters(example):
    from functools import partial

    from measurement_models.integration import Measurement, NoisePrecision, integrated_model

    data, truth = example
    second = ce.simulate(data["energy"].values, rng=9, sigma=0.08, resolution=0.3, **truth)
    model = integrated_model(
        [
            Measurement(
                "a", data, partial(ce.add_likelihood, resolution=0.3), NoisePrecision.from_data()
            ),
            Measurement(
                "b", second, partial(ce.add_likelihood, resolution=0.3), NoisePrecision.from_data()
            ),
        ],
        priors=partial(ce.add_priors, data, n_configurations=3),
        shared=["delta", "v", "u_ff", "u_fc"],
    )
    names = {rv.name for rv in model.free_RVs}
    assert {"delta", "v", "u_ff", "u_fc", "a_gamma", "b_gamma"} <= names


# --------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_configurations": 4}, "n_configurations must be one of"),
        ({"u_ff": None}, "needs u_ff"),
        ({"n_configurations": 2}, "has no u_ff"),
        ({"gamma": 0.0}, "must be positive"),
        ({"delta": np.nan}, "'delta' must be finite"),
        ({"v": np.inf}, "'v' must be finite"),
        ({"amplitude": -1.0}, "must not be negative"),
        ({"resolution": -0.3}, "resolution must be a positive"),
        ({"spin_orbit": (18.6, -1.0)}, "spin_orbit must be"),
    ],
)
def test_bad_forward_inputs_are_rejected(kwargs, match):
    args = {"delta": 8.0, "v": 0.76, "u_fc": 12.5, "gamma": 0.7, "amplitude": 1.0}
    args |= {"background": 0.0, "u_ff": 10.5, "n_configurations": 3, "resolution": 0.3}
    args |= kwargs
    energy = np.linspace(-5.0, 5.0, 11)
    with pytest.raises(ValueError, match=match):
        ce.forward(energy, **args)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_configurations": 1}, "n_configurations must be one of"),
        ({"n_configurations": 2, "priors": {"u_ff": Prior("Uniform", lower=0, upper=1)}}, "u_ff"),
        ({"priors": {"nope": Prior("Uniform", lower=0, upper=1)}}, "nope"),
        ({"resolution": 0.0}, "resolution"),
        ({"spin_orbit": (18.6,)}, "spin_orbit"),
        ({"sigma": -1.0}, "sigma must be positive"),
    ],
)
def test_bad_model_options_are_rejected(example, kwargs, match):
    data, _ = example
    with pytest.raises(ValueError, match=match):
        ce.build_model(data, **kwargs)


def test_bad_data_are_rejected(example):
    data, truth = example
    with pytest.raises(ValueError, match="'energy' axis"):
        ce.build_model(data.rename({"energy": "x"}))
    with pytest.raises(ValueError, match="non-finite"):
        ce.build_model(data.assign(intensity=data["intensity"].where(data["energy"] < 5)))
    with pytest.raises(ValueError, match="all zero"):
        ce.build_model(data.assign(intensity=0 * data["intensity"]))
    with pytest.raises(ValueError, match="missing"):
        ce.simulate(data["energy"].values, sigma=0.1, delta=1.0)
    with pytest.raises(ValueError, match="sigma must be positive"):
        ce.simulate(data["energy"].values, sigma=0.0, **truth)
    with pm.Model(), pytest.raises(ValueError, match="no noise level"):
        ce.add_likelihood(data.drop_vars("sigma"), truth)


def test_priors_without_data_need_scales_or_priors(example):
    """The amplitude and background priors are scaled by the data: without data (as
    ``integrated_model`` calls a priors factory) they must come from ``scales`` or be given."""
    data, _ = example
    with pm.Model(), pytest.raises(ValueError, match=r"\['amplitude', 'background'\] are scaled"):
        ce.add_priors(n_configurations=2)
    with pm.Model() as model:
        ce.add_priors(n_configurations=2, names=["delta", "v", "u_fc", "gamma"])
    assert [rv.name for rv in model.free_RVs] == ["delta", "v", "u_fc", "gamma"]
    with pm.Model() as with_scales:
        ce.add_priors(n_configurations=2, scales=ce.prior_scales(data))
    with pm.Model() as with_data:
        ce.add_priors(data, n_configurations=2)
    point = with_data.initial_point()
    assert with_scales.compile_logp(mode=PYTHON)(point) == with_data.compile_logp(mode=PYTHON)(
        point
    )
    with pm.Model(), pytest.raises(ValueError, match="fixed value given for parameter"):
        ce.add_priors(data, n_configurations=2, fixed={"u_ff": 10.0})


def test_simulate_records_truth_and_noise(example):
    data, truth = example
    for name, value in truth.items():
        assert data.attrs[f"truth_{name}"] == value
    assert data.attrs["truth_sigma"] == 0.05 and data.attrs["n_configurations"] == 3
    again, _ = ce.example_data(0)
    np.testing.assert_array_equal(again["intensity"].values, data["intensity"].values)
    residual = data["intensity"].values - spectrum_by_scipy(data["energy"].values, truth)
    assert stats.kstest(residual / 0.05, "norm").pvalue > 0.01
    assert stats.kstest(residual / 0.1, "norm").pvalue < 1e-3  # negative control


def test_plot_fit_draws_data_band_and_truth(example):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import xarray as xr

    data, truth = example
    rng = np.random.default_rng(0)
    posterior = xr.Dataset(
        {k: (("chain", "draw"), v + 0.01 * rng.standard_normal((2, 20))) for k, v in truth.items()}
    )
    fig, ax = plt.subplots()
    ce.plot_fit(ax, data, posterior, resolution=0.3)
    labels = [line.get_label() for line in ax.get_lines()]
    assert "truth" in labels and "data" in labels
    assert ax.get_xlabel().endswith("[eV]")
    plt.close(fig)


# --------------------------------------------------------------------------------------
# Free energy against quadrature
# --------------------------------------------------------------------------------------

#: The one-parameter check: Δ free (prior U(0, 20)); A and B free (linear, integrated
#: exactly); V, U_ff, U_fc, Γ fixed at the truth.
FIXED = {"v": 0.76, "u_ff": 10.5, "u_fc": 12.5, "gamma": 0.7}


def _constant(value):
    return lambda name, dims: pt.as_tensor_variable(np.float64(value))


def quadrature_free_energy(data) -> float:
    r"""F = −log ∫ p(D|Δ, A, B) p(Δ) p(A) p(B) by quadrature, from :func:`eigh_lines`.

    y = A s(E; Δ) + B is linear in (A, B): the Gaussian integral over them is exact (the
    uniform prior box is far wider than the likelihood, which is checked); the integral
    over Δ is adaptive quadrature over its U(0, 20) prior.
    """
    energy, y = data["energy"].values, data["intensity"].values
    sigma = float(data["sigma"].values[0])
    h, width = np.abs(y).max(), energy[-1] - energy[0]
    n = y.size

    def design(delta):
        s = spectrum_by_scipy(
            energy, {"delta": delta, **FIXED, "amplitude": 1.0, "background": 0.0}
        )
        return np.column_stack([s, np.ones_like(s)])

    def log_g(delta):
        x = design(delta)
        coef, *_ = np.linalg.lstsq(x, y, rcond=None)
        rss = np.sum((y - x @ coef) ** 2)
        _, logdet = np.linalg.slogdet(x.T @ x)
        return -(n - 2) / 2 * np.log(2 * np.pi * sigma**2) - rss / (2 * sigma**2) - logdet / 2

    grid = np.linspace(0.0, 20.0, 2001)
    start = grid[np.argmax([log_g(d) for d in grid])]
    best = optimize.minimize_scalar(
        lambda d: -log_g(d), bounds=(start - 0.02, start + 0.02), method="bounded"
    )
    peak = -best.fun
    x = design(best.x)
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    sd = sigma * np.sqrt(np.diag(np.linalg.inv(x.T @ x)))
    assert 0 < coef[0] - 10 * sd[0] and coef[0] + 10 * sd[0] < h * width  # A box
    assert -h / 2 < coef[1] - 10 * sd[1] and coef[1] + 10 * sd[1] < h / 2  # B box
    value, error = integrate.quad(
        lambda d: np.exp(log_g(d) - peak),
        0.0,
        20.0,
        points=[best.x],
        limit=1000,
        epsabs=0,
        epsrel=1e-10,
    )
    assert error < 1e-8 * value
    log_z = peak + np.log(value) - np.log(20.0) - np.log(h * width) - np.log(h)
    return -log_z


def test_free_energy_of_one_parameter_version_matches_quadrature():
    """Replica exchange's F of (Δ, A, B) with the rest fixed against quadrature.

    Tolerance 4 MCSE; negative control: an F off by log 2 is rejected.
    """
    from samplers import ReplicaExchangeSettings, sample_free_energy

    energy = np.linspace(-12.0, 16.0, 57)
    truth = {"delta": 8.0, **FIXED, "amplitude": 10.0, "background": 0.5}
    data = ce.simulate(energy, rng=3, sigma=0.3, resolution=0.3, **truth)
    expected = quadrature_free_energy(data)
    priors = {name: _constant(value) for name, value in FIXED.items()}
    model = ce.build_model(data, n_configurations=3, resolution=0.3, priors=priors)
    assert [rv.name for rv in model.free_RVs] == ["delta", "amplitude", "background"]
    settings = ReplicaExchangeSettings(draws=1000, tune=500, chains=2, cores=1, n_replicas=12)
    _, free = sample_free_energy(model, settings, random_seed=5, progressbar=False)
    tolerance = 4 * free.mcse
    assert abs(free.value - expected) < tolerance, (free, expected)
    assert abs(free.value - (expected + np.log(2))) > tolerance, (free, expected)


@pytest.mark.slow
@pytest.mark.parametrize(("delta", "visible"), [(7.66, True), (12.5, False)])
def test_selection_between_two_and_three_configurations(delta, visible):
    """Δ = 7.66 eV (third line at SNR ≈ 40): three configurations chosen. Δ = 12.5 eV
    (w₃ = 7e-4, SNR ≈ 0.3): three configurations not chosen (negative control)."""
    from samplers import ReplicaExchangeSettings, select_model

    study = ce.REFERENCES["selection_study"]
    data = ce.simulate(study.x, rng=100, delta=delta, **study.params)
    settings = ReplicaExchangeSettings(draws=1000, tune=1000, chains=2, cores=1, n_replicas=20)
    result = select_model(
        {n: (lambda n=n: ce.build_model(data, n_configurations=n, resolution=0.3)) for n in (2, 3)},
        settings=settings,
        random_seed=7,
        progressbar=False,
    )
    chosen = str(result.to_dataset().attrs["chosen"])
    if visible:
        assert chosen == "3", result.to_dataset().attrs["decision"]
    else:
        assert chosen != "3", result.to_dataset().attrs["decision"]
