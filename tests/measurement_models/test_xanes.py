"""XANES edge model against independent SciPy/NumPy evaluations, limits and checks."""

from __future__ import annotations

import math

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
import pytest
import xarray as xr
from pytensor.compile.mode import Mode
from scipy import integrate, stats

from measurement_models import xanes
from measurement_models.parameters import Prior, transformed_point

#: The python linker without graph rewrites: no numba compile for these small checks.
FAST = Mode(linker="py", optimizer=None)
E = np.linspace(7100.0, 7160.0, 241)
TRUTH = xanes.example_data(0)[1]


def sd_of(fwhm):
    return fwhm / (2 * math.sqrt(2 * math.log(2)))


def independent_mu(energy, t):
    """The model written out with scipy.stats (no code shared with the module)."""
    step = t["H"] * (0.5 + np.arctan((energy - t["E0"]) / (t["Gamma"] / 2)) / np.pi)
    c = t["E0"] + t["dE"]
    white = t["A"] * (
        t["eta"] * stats.cauchy.pdf(energy, c, t["omega"] / 2)
        + (1 - t["eta"]) * stats.norm.pdf(energy, c, sd_of(t["omega"]))
    )
    gauss = sum(
        f * stats.norm.pdf(energy, e, sd_of(w))
        for f, e, w in zip(t["F"], t["Ek"], t["W"], strict=True)
    )
    return step + white + gauss + t["c0"] + t["c1"] * (energy - t["E0"])


def test_forward_matches_scipy():
    np.testing.assert_allclose(xanes.forward(E, **TRUTH), independent_mu(E, TRUTH), rtol=1e-12)


def test_components_sum_to_forward_and_broadcast_over_draws():
    draws = {k: np.stack([np.asarray(v), np.asarray(v) * 1.001]) for k, v in TRUTH.items()}
    total = xanes.forward(E, **draws)
    assert total.shape == (2, E.size)
    np.testing.assert_allclose(total[0], independent_mu(E, TRUTH), rtol=1e-12)
    parts = xanes.components(E, **TRUTH)
    assert parts["gaussians"].shape == (2, E.size)
    summed = parts["step"] + parts["background"] + parts["white_line"]
    np.testing.assert_allclose(summed + parts["gaussians"].sum(0), total[0], rtol=1e-12)


@pytest.mark.parametrize(
    "shape",
    [
        lambda e: xanes.gaussian(e, 7110.0, 1.7),
        lambda e: xanes.lorentzian(e, 7110.0, 1.7),
        lambda e: xanes.pseudo_voigt(e, 7110.0, 1.7, 0.3),
    ],
    ids=["gaussian", "lorentzian", "pseudo_voigt"],
)
def test_shapes_have_unit_area_and_fwhm(shape):
    left, _ = integrate.quad(lambda u: shape(7110.0 + u), -np.inf, 0.0)
    right, _ = integrate.quad(lambda u: shape(7110.0 + u), 0.0, np.inf)
    area = left + right
    assert area == pytest.approx(1.0, abs=1e-8)
    peak = shape(7110.0)
    assert shape(7110.0 + 0.85) == pytest.approx(peak / 2, rel=1e-12)


def test_feature_areas_are_F_and_A():
    parts = xanes.components(np.linspace(7000.0, 7300.0, 300001), **TRUTH)
    de = 300.0 / 300000
    np.testing.assert_allclose(parts["gaussians"].sum(-1) * de, TRUTH["F"], rtol=1e-9)
    # the Lorentzian tail beyond the grid holds omega / (pi * distance) of the area
    tail = TRUTH["eta"] * TRUTH["omega"] / np.pi * (1 / 170.0 + 1 / 130.0) / 2
    assert parts["white_line"].sum() * de == pytest.approx(TRUTH["A"] * (1 - tail), rel=1e-4)


def test_limits():
    away = E[np.abs(E - 7130.0) > 0.5]
    np.testing.assert_allclose(
        xanes.step(away, 2.0, 7130.0, 1e-9), 2.0 * (away > 7130.0), atol=1e-9
    )
    assert xanes.step(7130.0, 2.0, 7130.0, 3.0) == 1.0  # half height at E0
    np.testing.assert_allclose(
        xanes.pseudo_voigt(E, 7130.0, 4.0, 0.0), stats.norm.pdf(E, 7130.0, sd_of(4.0))
    )
    np.testing.assert_allclose(
        xanes.pseudo_voigt(E, 7130.0, 4.0, 1.0), stats.cauchy.pdf(E, 7130, 2)
    )


def test_pytensor_graph_equals_numpy():
    symbols = {k: pt.dvector(k) if np.ndim(v) else pt.dscalar(k) for k, v in TRUTH.items()}
    graph = xanes.forward(E, **symbols)
    fn = pytensor.function(list(symbols.values()), graph, mode=FAST)
    np.testing.assert_allclose(fn(*TRUTH.values()), xanes.forward(E, **TRUTH), rtol=1e-12)


@pytest.fixture(scope="module")
def example():
    data, truth = xanes.example_data(0)
    return data, truth, xanes.build_model(data, n_gaussians=2)


def test_simulated_noise_has_the_stated_sigma(example):
    data, truth, _ = example
    residual = data["intensity"].values - xanes.forward(data["energy"].values, **truth)
    n = residual.size
    # sample sd of n normal draws: relative standard error 1/sqrt(2n)
    assert residual.std() == pytest.approx(0.01, rel=4 / math.sqrt(2 * n))


def test_logp_finite_at_truth_and_gradient_matches_finite_differences(example):
    _, truth, model = example
    point = transformed_point(model, truth | {"sigma": 0.01})
    logp = model.compile_logp(mode=FAST)
    dlogp = model.compile_dlogp(mode=FAST)
    assert np.isfinite(logp(point))
    names = [v.name for v in model.value_vars]
    grad = dlogp(point)
    flat = np.concatenate([np.atleast_1d(point[n]) for n in names])
    sizes = [np.size(point[n]) for n in names]

    def unflat(x):
        parts = np.split(x, np.cumsum(sizes)[:-1])
        return {n: p.reshape(np.shape(point[n])) for n, p in zip(names, parts, strict=True)}

    h = 1e-6
    numeric = np.array(
        [
            (logp(unflat(flat + h * e)) - logp(unflat(flat - h * e))) / (2 * h)
            for e in np.eye(flat.size)
        ]
    )
    np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-3)


def test_model_structure_follows_the_parameter_table(example):
    data, _, model = example
    for rv in model.free_RVs:
        declared = xanes.PARAMETERS[rv.name].dims
        assert tuple(model.named_vars_to_dims.get(rv.name, ())) == declared
    assert [rv.name for rv in model.observed_RVs] == [xanes.VARIABLE]
    free = {rv.name for rv in xanes.build_model(data.drop_vars("sigma"), n_gaussians=1).free_RVs}
    assert free == {"H", "E0", "Gamma", "A", "dE", "omega", "eta", "F", "Ek", "W", "c0", "c1"} | {
        "sigma"
    }
    pre = xanes.build_model(data, n_gaussians=0, energy_window=(7100, 7118), white_line=False)
    assert {rv.name for rv in pre.free_RVs} == {"H", "E0", "Gamma", "c0", "c1"}
    assert pre.rvs_to_values[pre.observed_RVs[0]].data.shape == (19,)  # 7100..7118 eV


def test_mutable_data_gives_the_same_log_density(example):
    data, truth, _ = example
    point_values = truth | {"sigma": 0.01}
    logps = []
    for mutable in (False, True):
        model = xanes.build_model(
            data, n_gaussians=2, energy_window=(7100.0, 7150.0), mutable_data=mutable
        )
        logps.append(model.compile_logp(mode=FAST)(transformed_point(model, point_values)))
    assert "intensity_energy" in model.named_vars
    assert logps[0] == pytest.approx(logps[1], rel=1e-12)


def test_two_spectra_share_the_edge_in_one_integrated_model(example):
    """add_priors(names=...) supplies shared priors: one edge (E0, Γ) for two spectra, each
    with its own heights and features; the joint log-likelihood is the sum of the two
    Gaussian ones (scipy)."""
    from functools import partial

    from measurement_models.integration import Measurement, integrated_model

    data, truth, _ = example
    truths = {"first": truth, "second": truth | {"H": 0.8}}
    other = xanes.simulate(data["energy"].values, sigma=0.02, rng=1, **truths["second"])
    spectra = [
        Measurement("first", data, xanes.add_likelihood),
        Measurement("second", other, xanes.add_likelihood),
    ]
    priors = partial(xanes.add_priors, data, n_gaussians=2)
    model = integrated_model(spectra, priors, shared=["E0", "Gamma"])
    own = [n for n in xanes.parameter_names(2) if n not in ("E0", "Gamma")]
    names = [rv.name for rv in model.free_RVs]
    assert names == ["E0", "Gamma"] + [f"{m}_{n}" for m in truths for n in own]
    assert {"first_Ek_order", "second_Ek_order"} <= set(model.named_vars)
    values = {"E0": truth["E0"], "Gamma": truth["Gamma"]}
    values |= {f"{m}_{n}": t[n] for m, t in truths.items() for n in own}
    point = model.initial_point() | transformed_point(model, values)
    loglike = model.compile_fn(model.logp(vars=model.observed_RVs), mode=FAST)(point)
    expected = sum(
        stats.norm(xanes.forward(ds["energy"].values, **t), sd).logpdf(ds["intensity"]).sum()
        for ds, t, sd in ((data, truths["first"], 0.01), (other, truths["second"], 0.02))
    )
    assert loglike == pytest.approx(expected, rel=1e-12)


def test_ordered_centres_keep_the_exchangeable_prior_mass():
    """Ordered E_1 < E_2 carries density 2/L² (mass 1 on the triangle), like the
    exchangeable Uniform prior (1/L² on the square, mass 1): F is unchanged."""
    with pm.Model(coords={"gaussian": [0, 1]}) as ordered:
        xanes.add_priors(n_gaussians=2, energy_window=(7100.0, 7120.0), white_line=False)
    with pm.Model(coords={"gaussian": [0, 1]}) as plain:
        xanes.add_priors(
            n_gaussians=2,
            energy_window=(7100.0, 7120.0),
            priors={"Ek": Prior("Uniform", lower=7100.0, upper=7120.0)},
            white_line=False,
        )
    assert "Ek_order" in ordered.named_vars
    value = np.array([7105.0, 7111.0])
    rest = {"H": 1.0, "E0": 7110.0, "Gamma": 2.0, "c0": 0.1, "c1": 0.0}

    def density(model):
        """Log density of the untransformed variables (no Jacobian) at ``rest``, ``value``."""
        point = model.initial_point() | transformed_point(model, rest | {"Ek": value})
        return model.compile_logp(jacobian=False, mode=FAST)(point)

    # densities of the untransformed variables: the ordered one is 2x the plain one
    assert density(ordered) - density(plain) == pytest.approx(math.log(2.0), abs=1e-12)
    # the plain prior is 1/L² on the square: mass 1; the ordered one 2/L² on the
    # triangle E_1 < E_2 of area L²/2: mass 1 too
    with pm.Model(coords={"gaussian": [0, 1]}) as centres_only:
        pm.Uniform("Ek", 7100.0, 7120.0, dims="gaussian")
    only = centres_only.compile_logp(jacobian=False, mode=FAST)
    assert only(transformed_point(centres_only, {"Ek": value})) == pytest.approx(-2 * math.log(20))


def test_poisson_likelihood_matches_scipy():
    rng = np.random.default_rng(3)
    energy = np.linspace(7105.0, 7125.0, 41)
    truth = {"H": 1.0, "E0": 7122.0, "Gamma": 3.0, "F": [0.1], "Ek": [7113.0], "W": [1.5]}
    truth |= {"c0": 0.0, "c1": 0.0}
    exposure = np.full(energy.size, 2.0e4)
    offset = 0.3 + 1e-3 * (energy - 7100)
    rate = exposure * (offset + xanes.forward(energy, **truth))
    counts = rng.poisson(rate)
    data = xr.Dataset(
        {
            "intensity": ("energy", counts / exposure - offset),
            "counts": ("energy", counts),
            "exposure": ("energy", exposure),
            "offset": ("energy", offset),
        },
        coords={"energy": energy},
    )
    model = xanes.build_model(data, n_gaussians=1, white_line=False, noise="poisson")
    assert [rv.name for rv in model.observed_RVs] == ["counts"]
    fn = model.compile_fn(model.logp(vars=model.observed_RVs), mode=FAST)
    point = transformed_point(model, truth)
    np.testing.assert_allclose(fn(point), stats.poisson.logpmf(counts, rate).sum(), rtol=1e-10)


def test_normalize_recovers_edge_step_and_poisson_bookkeeping():
    energy = np.linspace(6900.0, 7500.0, 601)
    e0, step = 7120.0, 1.5
    pre = 0.2 + 1e-4 * (energy - 7000.0)
    mu = pre + step * (energy > e0) * (1 - 1e-7 * (energy - e0) ** 2)
    i0 = np.full(energy.size, 1.0e6)
    dead = np.full(energy.size, 1.02)
    raw = xr.Dataset(
        {
            "mu": ("energy", mu),
            "I0": ("energy", i0),
            "counts": ("energy", np.ones(energy.size, dtype=int)),
            "dead_time": ("energy", dead),
        },
        coords={"energy": energy},
    )
    norm = xanes.normalize(raw, e0)
    assert norm.attrs["edge_step"] == pytest.approx(step, rel=1e-9)
    below = energy < e0
    np.testing.assert_allclose(norm["intensity"].values[below], 0.0, atol=1e-9)
    expected = norm["exposure"] * (norm["offset"] + norm["intensity"])
    np.testing.assert_allclose(expected, mu * i0 / dead, rtol=1e-12)


def test_loaded_fluorescence_scan_reproduces_its_raw_counts():
    """On the real 13-ID-E scan: exposure * (offset + normalised mu) = raw counts."""
    from pathlib import Path

    path = Path(__file__).parents[3] / "shared/data/real/fexanes_a.001"
    if not path.exists():
        pytest.skip(f"{path} absent: fetch it from xraypy/xraylarch examples/xafsdata/fexafs/")
    table = np.loadtxt(path, comments="#")
    norm = xanes.load(path, e0=7112.0, pre=(-80.0, -15.0), post=(40.0, 240.0))
    expected = norm["exposure"] * (norm["offset"] + norm["intensity"])
    np.testing.assert_allclose(expected, table[:, 22:29].sum(axis=1), rtol=1e-9)
    assert 0.5 < norm.attrs["edge_step"] / np.median(table[-50:, 7] / table[-50:, 2]) < 1.5
    assert norm.attrs["Scan.start_time"]  # the file's header is kept


def test_load_names_the_file_in_its_errors(tmp_path):
    """A spectrum that falls at the edge has no edge step: the error names the file."""
    path = tmp_path / "falling.xdi"
    rows = "\n".join(f"{e:.1f} {2.0 - (e > 7120):.1f}" for e in np.arange(6900.0, 7500.0, 10.0))
    path.write_text(f"# XDI/1.0\n# Column.1: energy eV\n# Column.2: mu\n{rows}\n")
    with pytest.raises(ValueError, match=rf"{path}: edge step at e0 = 7120.0 is not positive"):
        xanes.load(path, e0=7120.0)


def test_centroid():
    F = np.array([[1.0, 3.0, 5.0]])
    Ek = np.array([[7112.0, 7114.0, 7125.0]])
    assert xanes.centroid(F, Ek, Ek < 7120)[0] == pytest.approx((7112 + 3 * 7114) / 4)
    assert np.isnan(xanes.centroid(F, Ek, Ek < 7000)[0])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_gaussians": -1}, "n_gaussians must be an integer"),
        ({"n_gaussians": 1.5}, "n_gaussians must be an integer"),
        ({"energy_window": (7130, 7120)}, "low < high"),
        ({"energy_window": (7100, 7101)}, "need at least 5"),
        ({"noise": "cauchy"}, "unknown noise model"),
        ({"noise": "poisson"}, "missing data variable"),
        ({"priors": {"nope": Prior("Normal", mu=0, sigma=1)}}, "not in this model"),
        ({"white_line": False, "priors": {"A": Prior("HalfNormal", sigma=1)}}, "not in this"),
    ],
)
def test_bad_arguments_raise(example, kwargs, match):
    data, _, _ = example
    with pytest.raises(ValueError, match=match):
        xanes.build_model(data, **({"n_gaussians": 1} | kwargs))


@pytest.mark.parametrize(
    ("corrupt", "match"),
    [
        (lambda ds: ds.assign(intensity=ds.intensity.where(np.arange(ds.intensity.size) != 3)),
         "non-finite"),
        (lambda ds: ds.isel(energy=slice(None, None, -1)), "not sorted"),
        (lambda ds: ds.isel(energy=[0, 0, 1, 2]), "duplicated"),
        (lambda ds: ds.isel(energy=slice(0, 0)), "empty"),
        (lambda ds: ds.drop_vars("intensity"), "missing data variable"),
    ],
)  # fmt: skip
def test_bad_data_raise(example, corrupt, match):
    data, _, _ = example
    with pytest.raises(ValueError, match=match):
        xanes.build_model(corrupt(data), n_gaussians=1)


def test_incomplete_parameters_raise():
    edge = {"H": 1.0, "E0": 7120.0, "Gamma": 2.0}
    with pytest.raises(ValueError, match="white line needs"):
        xanes.forward(E, **edge, A=1.0)
    with pytest.raises(ValueError, match="Gaussian features need"):
        xanes.forward(E, **edge, F=[1.0])
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['X'\]"):
        xanes.simulate(E, sigma=0.01, **edge, X=1.0)
    with pytest.raises(ValueError, match="need an energy_window or the data"):
        with pm.Model():
            xanes.add_priors(n_gaussians=1)


def test_plot_fit_draws_data_band_components_and_truth(example):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data, truth, _ = example
    rng = np.random.default_rng(0)
    posterior = xr.Dataset(
        {
            k: (("chain", "draw", *(("gaussian",) if np.ndim(v) else ())),
                np.asarray(v) * (1 + 1e-4 * rng.standard_normal((1, 20, *np.shape(v)))))
            for k, v in truth.items()
        }
    )  # fmt: skip
    fig, ax = plt.subplots()
    xanes.plot_fit(ax, data, posterior)
    labels = [line.get_label() for line in ax.get_lines()]
    for wanted in ("data", "posterior median", "step + background", "white line", "Gaussians"):
        assert wanted in labels
    assert "truth" in labels
    assert ax.get_xlabel() == "energy [eV]"
    plt.close(fig)
