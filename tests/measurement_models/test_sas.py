"""Small-angle scattering: form factors against sasmodels and quadrature, likelihoods
against scipy.stats, the loader and bad inputs. The contract (references, prefix, fixed
parameters, composition) is checked by ``test_registry.py``."""

from __future__ import annotations

import itertools
import math
from decimal import Decimal, localcontext

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.compile.mode import Mode
from sasmodels.core import load_model
from sasmodels.direct_model import call_kernel
from scipy import integrate, special, stats

from measurement_models import sas
from measurement_models.parameters import transformed_point
from measurement_models.sas.form_factors import (
    QUADRATURE,
    SERIES_CUTOFF,
    FormFactor,
    population_intensity,
    sphere_amplitude,
    sphere_volume,
)

PYTHON = Mode(linker="py", optimizer="fast_run")
Q_GRID = np.geomspace(1e-4, 1.0, 80)

# --------------------------------------------------------------------------------------
# Independent references
# --------------------------------------------------------------------------------------

_KERNELS = {}


def sasmodels_intensity(name: str, q: np.ndarray, **pars) -> np.ndarray:
    """sasmodels' own double-precision kernel (scale and background default to 1, 0)."""
    key = (name, q.tobytes())
    if key not in _KERNELS:
        _KERNELS[key] = load_model(name, dtype="double").make_kernel([q])
    return call_kernel(_KERNELS[key], {"scale": 1.0, "background": 0.0, **pars})


def series_amplitude(x: float, derivative: bool = False, digits: int = 40) -> float:
    """3(sin x − x cos x)/x³ = 3 Σ_{k≥1} (−1)^{k+1} 2k x^{2k−2}/(2k+1)! (or its
    derivative), summed in ``digits``-digit decimal arithmetic (for |x| ≤ 2)."""
    with localcontext() as ctx:
        ctx.prec = digits
        x = Decimal(x)
        total = Decimal(0)
        for k in range(1, 60):
            coefficient = Decimal(3 * 2 * k * (-1) ** (k + 1)) / Decimal(math.factorial(2 * k + 1))
            power = 2 * k - 2
            if derivative:
                total += coefficient * power * x ** (power - 1) if power else 0
            else:
                total += coefficient * x**power
        return float(total)


def quad_polydisperse(q: float, radius: float, pd: float, distribution: str) -> float:
    """P(q) [cm⁻¹] for Δρ = 5 from the defining integrals, by scipy.integrate.quad.

    Gaussian: g(r) ∝ exp(−(r − R)²/2σ²) on r > 0 (sasmodels truncates at r ≥ 0);
    Schulz: g ∝ u^(z−1) e^(−zu), u = r/R, z = 1/pd².
    """
    sigma = pd * radius
    if distribution == "gaussian":

        def g(r):
            return np.exp(-0.5 * ((r - radius) / sigma) ** 2)

        lo, hi = max(0.0, radius - 12 * sigma), radius + 12 * sigma
    else:
        z = 1 / pd**2

        def g(r):
            return np.exp((z - 1) * np.log(r / radius) - z * (r / radius - 1))

        lo, hi = 1e-12, radius * (1 + 25 * pd)
    options = {"epsabs": 0.0, "epsrel": 1e-12, "limit": 400}
    volume = integrate.quad(lambda r: g(r) * sphere_volume(r), lo, hi, **options)[0]
    edges = np.unique(np.concatenate([[lo, hi], np.arange(lo, hi, np.pi / q)]))
    square = sum(
        integrate.quad(
            lambda r: g(r) * (sphere_volume(r) * 3 * special.spherical_jn(1, q * r) / (q * r)) ** 2,
            a,
            b,
            **options,
        )[0]
        for a, b in itertools.pairwise(edges)
    )
    return 1e-4 * 25.0 * square / volume


# --------------------------------------------------------------------------------------
# Forward models against sasmodels
# --------------------------------------------------------------------------------------


def _sasmodels_parameters(reference) -> dict:
    """A reference's parameters as sasmodels names them."""
    params, form = reference.params, reference.params["form"]
    core = "sld_core" if form.name == "core_shell_sphere" else "sld"
    out = {
        core: form.sld,
        "sld_solvent": form.sld_solvent,
        "radius": params["radius"][0],
        "scale": params["scale"][0],
        "background": params["background"],
    }
    if form.sld_shell is not None:
        out["sld_shell"] = form.sld_shell
    if "thickness" in params:
        out["thickness"] = params["thickness"][0]
    if "pd" in params:
        assert form.distribution == "gaussian"  # sasmodels' default radius_pd_type
        out |= {
            "radius_pd": params["pd"][0],
            "radius_pd_n": form.n_points,
            "radius_pd_nsigma": form.n_sigmas,
        }
    return out


@pytest.mark.parametrize(
    "name", [k for k, r in sas.REFERENCES.items() if r.source.startswith("sasmodels")]
)
def test_references_are_the_tests_shipped_with_sasmodels(name):
    """Each value reference is one entry of the ``tests`` list of the installed sasmodels
    model file: the same parameters (sasmodels' defaults filled in), q and expected
    intensities. That the module reproduces them is checked by the zoo-wide harness."""
    import importlib

    from sasmodels.weights import GaussianDispersion

    reference = sas.REFERENCES[name]
    model_name = reference.params["form"].name.replace("polydisperse_", "")
    defaults = dict(load_model(model_name).info.parameters.defaults)
    defaults["radius_pd_nsigma"] = GaussianDispersion.default["nsigmas"]
    wanted = _sasmodels_parameters(reference)
    matches = [
        test
        for test in importlib.import_module(f"sasmodels.models.{model_name}").tests
        if np.array_equal(np.atleast_1d(test[1]), reference.x)
        and np.array_equal(np.atleast_1d(test[2]), reference.expected)
        and all((defaults | test[0]).get(key) == value for key, value in wanted.items())
    ]
    assert len(matches) == 1, (name, wanted)


@pytest.mark.parametrize("radius", [2.0, 20.0, 120.0, 800.0, 5000.0])
@pytest.mark.parametrize(("sld", "sld_solvent"), [(6.0, 1.0), (-0.56, 6.36), (2.0, 2.5)])
def test_sphere_matches_sasmodels(radius, sld, sld_solvent):
    form = FormFactor(sld=sld, sld_solvent=sld_solvent)
    expected = sasmodels_intensity(
        "sphere", Q_GRID, sld=sld, sld_solvent=sld_solvent, radius=radius
    )
    got = population_intensity(Q_GRID, form, radius)
    np.testing.assert_allclose(got, expected, rtol=1e-9)


@pytest.mark.parametrize(("radius", "thickness"), [(60.0, 10.0), (20.0, 80.0), (300.0, 2.0)])
@pytest.mark.parametrize("slds", [(1.0, 2.0, 3.0), (6.0, 1.0, 0.0), (-0.5, 4.0, 6.3)])
def test_core_shell_matches_sasmodels(radius, thickness, slds):
    core, shell, solvent = slds
    form = FormFactor("core_shell_sphere", sld=core, sld_shell=shell, sld_solvent=solvent)
    expected = sasmodels_intensity(
        "core_shell_sphere",
        Q_GRID,
        radius=radius,
        thickness=thickness,
        sld_core=core,
        sld_shell=shell,
        sld_solvent=solvent,
    )
    got = sas.forward(
        Q_GRID, radius=[radius], scale=[1.0], background=0.0, form=form, thickness=[thickness]
    )
    np.testing.assert_allclose(got, expected, rtol=1e-9)


@pytest.mark.parametrize("distribution", ["gaussian", "schulz"])
@pytest.mark.parametrize(("radius", "pd"), [(120.0, 0.2), (50.0, 0.05), (300.0, 0.4)])
@pytest.mark.parametrize("nodes", [(35, 3.0), (80, 8.0), None], ids=["35x3", "80x8", "default"])
def test_polydisperse_matches_sasmodels_on_its_nodes(distribution, radius, pd, nodes):
    n_points, n_sigmas = QUADRATURE[distribution] if nodes is None else nodes
    form = FormFactor(
        "polydisperse_sphere", distribution=distribution, n_points=n_points, n_sigmas=n_sigmas
    )
    expected = sasmodels_intensity(
        "sphere",
        Q_GRID,
        sld=6.0,
        sld_solvent=1.0,
        radius=radius,
        radius_pd=pd,
        radius_pd_n=n_points,
        radius_pd_nsigma=n_sigmas,
        radius_pd_type=distribution,
    )
    got = population_intensity(Q_GRID, form, radius, pd=pd)
    np.testing.assert_allclose(got, expected, rtol=1e-9)


def test_populations_add_with_one_background():
    radius, scale, background = np.array([60.0, 150.0]), np.array([0.005, 0.002]), 0.03
    expected = background + sum(
        s * sasmodels_intensity("sphere", Q_GRID, sld=6.0, sld_solvent=1.0, radius=r)
        for r, s in zip(radius, scale, strict=True)
    )
    got = sas.forward(Q_GRID, radius=radius, scale=scale, background=background)
    np.testing.assert_allclose(got, expected, rtol=1e-9)
    # draws broadcast: (draws, K) parameters give (draws, n)
    draws = sas.forward(
        Q_GRID,
        radius=np.stack([radius, radius]),
        scale=np.stack([scale, scale]),
        background=[0.03, 0.0],
    )
    np.testing.assert_allclose(draws[0], expected, rtol=1e-12)
    np.testing.assert_allclose(draws[0] - draws[1], 0.03, rtol=1e-9)


@pytest.mark.parametrize(
    ("distribution", "radius", "pd", "q"),
    [
        ("gaussian", 100.0, 0.1, [1e-3, 0.02, 0.05, 0.15]),
        ("gaussian", 120.0, 0.4, [1e-3, 0.02, 0.1]),
        ("schulz", 100.0, 0.1, [1e-3, 0.02, 0.05, 0.15]),
        ("schulz", 80.0, 0.3, [1e-3, 0.03, 0.2]),
    ],
)
def test_polydisperse_quadrature_converges_to_the_integral(distribution, radius, pd, q):
    """The default nodes, and sasmodels on many nodes, reach scipy's quad of the
    defining integrals to 1e-6 (q σ_R ≤ 12 here; see docs/sas.md for the range)."""
    q = np.asarray(q)
    expected = [quad_polydisperse(qi, radius, pd, distribution) for qi in q]
    form = FormFactor("polydisperse_sphere", distribution=distribution)
    np.testing.assert_allclose(population_intensity(q, form, radius, pd=pd), expected, rtol=1e-6)
    fine = sasmodels_intensity(
        "sphere",
        q,
        sld=6.0,
        sld_solvent=1.0,
        radius=radius,
        radius_pd=pd,
        radius_pd_n=400,
        radius_pd_nsigma=8.0 if distribution == "gaussian" else 16.0,
        radius_pd_type=distribution,
    )
    np.testing.assert_allclose(fine, expected, rtol=1e-6)
    # negative control: sasmodels' GUI default (35 points over ±3σ) is off by more
    coarse = FormFactor("polydisperse_sphere", distribution=distribution, n_points=35, n_sigmas=3)
    assert np.max(np.abs(population_intensity(q, coarse, radius, pd=pd) / expected - 1)) > 1e-4


def test_polydisperse_limit_is_the_sphere():
    for distribution in ("gaussian", "schulz"):
        form = FormFactor("polydisperse_sphere", distribution=distribution)
        mono = population_intensity(Q_GRID, FormFactor(), 100.0)
        np.testing.assert_allclose(population_intensity(Q_GRID, form, 100.0, pd=0.0), mono)
        narrow = population_intensity(Q_GRID[:30], form, 100.0, pd=1e-7)
        np.testing.assert_allclose(narrow, mono[:30], rtol=1e-9)


# --------------------------------------------------------------------------------------
# The sphere amplitude at small and large qR, gradients at qR → 0
# --------------------------------------------------------------------------------------


def test_amplitude_against_high_precision_series_and_bessel():
    small = np.concatenate([np.geomspace(1e-9, 2.0, 60), [SERIES_CUTOFF * (1 - 1e-12)]])
    expected = [series_amplitude(x) for x in small]
    np.testing.assert_allclose(sphere_amplitude(small), expected, rtol=1e-13)
    assert sphere_amplitude(np.array([0.0]))[0] == 1.0
    large = np.geomspace(2.0, 1e4, 200)
    bessel = 3 * special.spherical_jn(1, large) / large
    # relative to the envelope 3/x² (the amplitude has zeros)
    assert np.all(np.abs(sphere_amplitude(large) - bessel) <= 1e-13 * 3 / large**2)
    # continuous across the switch to the series
    edge = SERIES_CUTOFF * np.array([1 - 1e-12, 1 + 1e-12])
    assert abs(np.diff(sphere_amplitude(edge))[0]) < 1e-14


def test_gradients_are_finite_and_exact_as_qR_goes_to_zero():
    """d log I/dR of the PyTensor graph against the derivative of the decimal series."""
    radius = pt.dscalar("radius")
    q = pt.dvector("q")
    log_intensity = pt.log(population_intensity(q, FormFactor(), radius))
    grad = pytensor.function([q, radius], pytensor.grad(log_intensity.sum(), radius), mode=PYTHON)
    for x in [1e-12, 1e-6, 0.05, SERIES_CUTOFF * (1 - 1e-9), SERIES_CUTOFF * (1 + 1e-9), 0.5]:
        r = 100.0
        got = grad(np.array([x / r]), r)
        # log I = const + 3 log R + 2 log f(qR)
        expected = 3 / r + 2 * (x / r) * series_amplitude(x, True) / series_amplitude(x)
        assert np.isfinite(got)
        assert got == pytest.approx(expected, rel=1e-10), x


@pytest.mark.parametrize(
    ("form", "shape", "values"),
    [
        (FormFactor("polydisperse_sphere"), "pd", [1e-9, 0.2, 0.39]),
        (FormFactor("polydisperse_sphere", distribution="schulz"), "pd", [0.0, 1e-9, 0.3]),
        (FormFactor("core_shell_sphere", sld_shell=3.0), "thickness", [0.0, 1e-6, 50.0]),
    ],
    ids=["gaussian", "schulz", "core_shell"],
)
def test_shape_parameter_gradients_are_finite(form, shape, values):
    """Finite gradients with respect to R and the shape parameter, also at q → 0, at
    pd where nodes fall below R = 0 (masked) and at the pd → 0 limit."""
    radius, extra = pt.dscalar("radius"), pt.dscalar(shape)
    q = np.array([1e-9, 1e-4, 0.01, 0.3])
    total = pt.log(population_intensity(q, form, radius, **{shape: extra})).sum()
    fn = pytensor.function([radius, extra], pytensor.grad(total, [radius, extra]), mode=PYTHON)
    for value in values:
        grads = fn(80.0, value)
        assert np.all(np.isfinite(grads)), (value, grads)


# --------------------------------------------------------------------------------------
# Likelihoods
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def counts():
    q = sas.REFERENCES["sphere_study"].x
    return sas.simulate(
        q[::4], radius=[100.0], scale=[0.01], background=0.01, measurement_time=30.0, rng=3
    )


@pytest.mark.parametrize(
    ("form", "n_populations", "truth"),
    [
        ("sphere", 1, {"radius": [100.0], "scale": [0.01]}),
        ("sphere", 2, {"radius": [60.0, 110.0], "scale": [0.002, 0.008]}),
        ("polydisperse_sphere", 1, {"radius": [100.0], "scale": [0.01], "pd": [0.1]}),
        (
            FormFactor("core_shell_sphere", sld=6.0, sld_shell=3.0, sld_solvent=1.0),
            1,
            {"radius": [80.0], "scale": [0.01], "thickness": [20.0]},
        ),
    ],
    ids=["sphere", "two_spheres", "polydisperse", "core_shell"],
)
def test_poisson_likelihood_against_scipy(counts, form, n_populations, truth):
    model = sas.build_model(counts, form=form, n_populations=n_populations)
    point = transformed_point(model, truth | {"background": 0.012})
    got = model.compile_fn(model.datalogp, mode=PYTHON)(point)
    shape = {k: v for k, v in truth.items() if k not in ("radius", "scale")}
    mean = 30.0 * sas.forward(
        counts.q.values,
        radius=truth["radius"],
        scale=truth["scale"],
        background=0.012,
        form=form,
        **shape,
    )
    assert got == pytest.approx(stats.poisson(mean).logpmf(counts.counts.values).sum(), rel=1e-12)
    assert np.isfinite(model.compile_logp(mode=PYTHON)(point))


def test_gaussian_likelihood_against_scipy():
    data, truth = sas.example_data(1)
    model = sas.build_model(data, noise="gaussian")
    point = transformed_point(model, truth)
    got = model.compile_fn(model.datalogp, mode=PYTHON)(point)
    mean = sas.forward(data.q.values, **truth)
    expected = stats.norm(mean, data.sigma.values).logpdf(data.intensity.values).sum()
    assert got == pytest.approx(expected, rel=1e-12)
    # the example's σ is the counting error of t = 100: the normalised residuals are N(0, 1)
    z = (data.intensity.values - mean) / data.sigma.values
    assert abs(z.mean()) < 4 / np.sqrt(z.size) and abs(z.std() - 1) < 4 / np.sqrt(2 * z.size)


def test_priors_are_the_table():
    data, _ = sas.example_data(0)
    model = sas.build_model(data, form="polydisperse_sphere", noise="gaussian")
    values = {"radius": 100.0, "scale": 0.2, "pd": 0.1, "background": 0.05}
    got = [
        float(pm.logp(model[k], np.array([v] if k != "background" else v)).sum().eval())
        for k, v in values.items()
    ]
    expected = [
        stats.uniform(10, 990).logpdf(100.0),
        stats.uniform(0, 1).logpdf(0.2),
        stats.uniform(0, 0.4).logpdf(0.1),
        stats.halfnorm(scale=1.0).logpdf(0.05),
    ]
    np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_fisher_information_matches_the_analytic_jacobian_and_scales_with_t():
    """t Jᵀ diag(1/I) J with the analytic derivatives of the sphere: widths ∝ t^(−1/2)."""
    q, radius, scale, background = sas.REFERENCES["sphere_study"].x, 100.0, 0.01, 0.01
    params = {"radius": [radius], "scale": [scale], "background": background}
    x = q * radius
    f = sphere_amplitude(x)
    derivative = 3 * (np.sin(x) / x**2 - 3 * (np.sin(x) - x * np.cos(x)) / x**4)  # f'(x)
    small = x < 2
    derivative[small] = [series_amplitude(v, True) for v in x[small]]
    prefactor = 1e-4 * 25 * scale * 4 * np.pi / 3
    d_radius = prefactor * (3 * radius**2 * f**2 + radius**3 * 2 * f * derivative * q)
    intensity = prefactor * radius**3 * f**2 + background
    jacobian = np.stack([d_radius, np.ones_like(q)], axis=1)
    for t in (0.1, 10.0):
        expected = t * jacobian.T @ (jacobian / intensity[:, None])
        got = sas.fisher_information(q, t, params, names=["radius", "background"])
        np.testing.assert_allclose(got, expected, rtol=1e-6)
    ratio = sas.fisher_information(q, 400.0, params) / sas.fisher_information(q, 4.0, params)
    np.testing.assert_allclose(ratio, 100.0, rtol=1e-12)


def test_measurements_share_parameters_in_one_model(counts):
    """add_priors once, add_likelihood per measurement: one background per dataset."""
    longer = counts.assign(counts=counts.counts * 2).assign_attrs(measurement_time=60.0)
    with pm.Model(coords={sas.POPULATION_DIM: [0]}) as model:
        params = sas.add_priors(n_populations=1, fixed={"scale": 0.01})
        sas.add_likelihood(counts, params, name="short")
        sas.add_likelihood(longer, params, name="long")
    assert {rv.name for rv in model.free_RVs} == {"radius", "short_background", "long_background"}
    assert {rv.name for rv in model.observed_RVs} == {"short", "long"}


def test_shared_radius_with_known_and_estimated_noise():
    """Two reduced measurements share R in an integrated model: one with its per-point σ
    (an array), one with an estimated precision b (σ = b^(-1/2), a tensor). The joint
    log-density against scipy.stats."""
    from functools import partial

    from measurement_models.integration import Measurement, NoisePrecision, integrated_model

    first, _ = sas.example_data(0)
    second, _ = sas.example_data(1)
    likelihood = partial(sas.add_likelihood, noise="gaussian")
    model = integrated_model(
        [
            Measurement("a", first, likelihood, NoisePrecision.from_data()),
            Measurement("b", second, likelihood, NoisePrecision.parameter()),
        ],
        priors=partial(sas.add_priors, first),
        shared=["radius"],
    )
    names = {rv.name for rv in model.free_RVs}
    assert names == {
        "radius",
        "a_scale",
        "b_scale",
        "a_background",
        "b_background",
        "b_noise_precision",
    }
    point = {
        "radius": [101.0],
        "a_scale": [0.011],
        "b_scale": [0.009],
        "a_background": 0.012,
        "b_background": 0.008,
        "b_noise_precision": 4.0,
    }
    logp = model.compile_logp(jacobian=False, mode=PYTHON)(transformed_point(model, point))
    expected = 0.0
    for data, key, sd in ((first, "a", first.sigma.values), (second, "b", 0.5)):
        mean = sas.forward(
            data.q.values,
            radius=point["radius"],
            scale=point[f"{key}_scale"],
            background=point[f"{key}_background"],
        )
        expected += stats.norm(mean, sd).logpdf(data.intensity.values).sum()
        expected += stats.uniform(0, 1).logpdf(point[f"{key}_scale"][0])
        expected += stats.halfnorm(scale=1.0).logpdf(point[f"{key}_background"])
    expected += stats.uniform(10, 990).logpdf(101.0)
    expected += stats.lognorm(s=5.0).logpdf(4.0)
    assert logp == pytest.approx(expected, rel=1e-12)
    with pm.Model(), pytest.raises(ValueError, match="sigma must be positive"):
        params = {"radius": np.array([100.0]), "scale": np.array([0.01])}
        sas.add_likelihood(first, params, sigma=-first.sigma.values, noise="gaussian")


# --------------------------------------------------------------------------------------
# Data: counts datasets, the loader, bad inputs
# --------------------------------------------------------------------------------------


def test_counts_dataset_and_its_checks():
    data = sas.counts_dataset([0.1, 0.2, 0.5], [5, 0, 2], 3.0, q_unit="1/nm")
    np.testing.assert_allclose(data.q.values, [0.01, 0.02, 0.05])
    assert data.attrs["measurement_time"] == 3.0 and data.q.attrs["units"] == "1/Å"
    for args, match in [
        (([0.1, 0.2], [1, -1], 1.0), "must not be negative"),
        (([0.1, 0.2], [1, 1.5], 1.0), "whole numbers"),
        (([0.1, 0.2], [1, np.nan], 1.0), "non-finite"),
        (([0.0, 0.2], [1, 1], 1.0), "q must be positive"),
        (([-0.1, 0.2], [1, 1], 1.0), "q must be positive"),
        (([0.2, 0.1], [1, 1], 1.0), "not sorted"),
        (([0.1, 0.2], [1, 1], 0.0), "measurement time"),
        (([0.1, 0.2], [1, 1], -2.0), "measurement time"),
        (([0.1, 0.2], [1, 1], np.nan), "measurement time"),
        (([0.1, 0.2], [1, 1, 1], 1.0), "mismatched lengths"),
    ]:
        with pytest.raises(ValueError, match=match):
            sas.counts_dataset(*args)
    with pytest.raises(ValueError, match="unknown q unit"):
        sas.counts_dataset([0.1], [1], 1.0, q_unit="1/m")


TEXT_FILE = """\
Sample: silica spheres in water, 25 C
Instrument: SAXS, 10 s exposure
200
<X>   <Y>   <dY>
# q [1/nm] I [1/cm] dI
0.10, 12.5, 0.30
0.20  10.0  0.25   # comment after a row
0.30\t7.5D+00\t2.0d-1

"""


def test_loader_reads_headers_units_and_columns(tmp_path):
    path = tmp_path / "silica.dat"
    path.write_text(TEXT_FILE)
    data = sas.load(path, q_unit="1/nm")
    np.testing.assert_allclose(data.q.values, [0.01, 0.02, 0.03])
    np.testing.assert_allclose(data.intensity.values, [12.5, 10.0, 7.5])
    np.testing.assert_allclose(data.sigma.values, [0.3, 0.25, 0.2])
    assert "silica" in data.attrs["header"] and "<X>" in data.attrs["header"]
    assert "200" in data.attrs["header"]
    assert data.q.attrs["units"] == "1/Å"
    four = tmp_path / "four.txt"
    four.write_text("q I dI dq\n0.01 5 0.1 0.001\n0.02 4 0.1 0.001\n")
    data = sas.load(four)
    np.testing.assert_allclose(data.dq.values, 0.001)
    two = tmp_path / "two.txt"
    two.write_text("0.01 5\n0.02 4\n")
    assert "sigma" not in sas.load(two)
    model = sas.build_model(sas.load(four), noise="gaussian")
    assert "sigma" not in {rv.name for rv in model.free_RVs}


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("title\n0.01 5 0.1\nend of data\n", "non-numeric line after the data"),
        ("0.01 5 0.1\n0.02 4\n", "columns, but the first data row has 3"),
        ("0.01 5 0.1 0.1 0.1\n0.02 4 0.1 0.1 0.1\n", "expected 2 to 4 columns"),
        ("just a title\n# and a comment\n", "no data rows"),
        ("0.01 5 0.1\n0.02 nan 0.1\n", "non-finite"),
        ("0.0 5 0.1\n0.02 4 0.1\n", "q must be positive"),
        ("0.02 5 0.1\n0.01 4 0.1\n", "not sorted"),
        ("0.01 5 0.1\n0.01 4 0.1\n", "duplicated"),
        ("0.01 5 0.0\n0.02 4 0.1\n", "sigma must be positive"),
    ],
    ids=["trailer", "ragged", "five", "empty", "nan", "q0", "unsorted", "duplicated", "dI0"],
)
def test_loader_rejects_bad_files(tmp_path, text, match):
    path = tmp_path / "bad.dat"
    path.write_text(text)
    with pytest.raises(ValueError, match=match):
        sas.load(path)


def test_bad_model_inputs_are_rejected(counts):
    q = counts.q.values
    y = counts.counts.values
    bad = {
        "must not be negative": counts.assign(counts=("q", np.where(y > 0, -y, y))),
        "non-finite": counts.assign(counts=("q", np.where(y > 0, np.nan, y))),
        "not sorted": counts.isel(q=slice(None, None, -1)),
        "q must be positive": counts.assign_coords(q=q - q[3]),
        "measurement time t must be positive": counts.assign_attrs(measurement_time=0.0),
        "need the measurement time": counts.drop_attrs(),
        "missing data variable": counts.rename(counts="intensity"),
        "axis must be named 'q'": counts.rename(q="x"),
    }
    for match, data in bad.items():
        with pytest.raises(ValueError, match=match):
            sas.build_model(data)
    for kwargs, match in [
        ({"form": "cylinder"}, "unknown form factor 'cylinder'"),
        ({"form": FormFactor}, "a form factor is a name"),
        ({"n_populations": 0}, "n_populations must be a positive integer"),
        ({"n_populations": 1.5}, "n_populations must be a positive integer"),
        ({"n_populations": "two"}, "n_populations must be a positive integer"),
        ({"n_populations": 2, "fixed": {"scale": [0.1, 0.2, 0.3]}}, "wrong number of populations"),
        ({"noise": "student"}, "unknown noise model"),
        ({"sigma": 0.1}, "sigma is for Gaussian noise"),
        ({"priors": {"pd": pm.Uniform}}, r"parameter\(s\) \['pd'\]"),
        ({"fixed": {"thickness": 3.0}}, r"parameter\(s\) \['thickness'\]"),
        ({"fixed": {"radius": np.nan}}, "must be finite"),
    ]:
        with pytest.raises(ValueError, match=match):
            sas.build_model(counts, **kwargs)
    for kwargs, match in [
        ({"name": "polydisperse_sphere", "distribution": "lognormal"}, "unknown size distribution"),
        ({"name": "core_shell_sphere"}, "needs sld_shell"),
        ({"name": "sphere", "sld_shell": 1.0}, "core_shell_sphere only"),
        ({"name": "polydisperse_sphere", "n_points": 1}, "n_points"),
        ({"name": "sphere", "sld": np.inf}, "must be finite"),
    ]:
        with pytest.raises(ValueError, match=match):
            FormFactor(**kwargs)
    with pytest.raises(ValueError, match="wrong number of populations"):
        sas.simulate(q, radius=[50.0, 100.0], scale=[0.01], background=0.0)
    with pytest.raises(ValueError, match="takes shape parameter"):
        sas.forward(q, radius=[100.0], scale=[0.01], form="polydisperse_sphere")
    with pytest.raises(ValueError, match="measurement_time is for Poisson"):
        sas.build_model(sas.example_data(0)[0], noise="gaussian", measurement_time=1.0)


def test_non_finite_intensity_gives_minus_infinity(counts):
    """A radius prior reaching R ≤ 0 (0/0 in a polydisperse average at R = 0) gives −inf,
    not NaN; R > 0 stays finite."""
    model = sas.build_model(counts, form="polydisperse_sphere", priors={"radius": _normal_radius})
    logp = model.compile_logp(mode=PYTHON)
    point = {
        "scale_interval__": np.array([0.0]),
        "pd_interval__": np.array([0.0]),
        "background_log__": np.array(-3.0),
    }
    for radius in (0.0, -20.0):
        assert logp(point | {"radius": np.array([radius])}) == -np.inf
    assert np.isfinite(logp(point | {"radius": np.array([20.0])}))


def _normal_radius(name, dims):
    return pm.Normal(name, 100.0, 50.0, dims=dims)


def test_relabel_populations_sorts_by_radius():
    import xarray as xr

    posterior = xr.Dataset(
        {
            "radius": (("chain", "draw", "population"), [[[150.0, 60.0], [50.0, 160.0]]]),
            "scale": (("chain", "draw", "population"), [[[0.1, 0.2], [0.3, 0.4]]]),
        }
    )
    sorted_ = sas.relabel_populations(posterior)
    np.testing.assert_array_equal(sorted_.radius.values, [[[60.0, 150.0], [50.0, 160.0]]])
    np.testing.assert_array_equal(sorted_.scale.values, [[[0.2, 0.1], [0.3, 0.4]]])


# --------------------------------------------------------------------------------------
# Slow: selection end to end
# --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_selection_finds_the_polydisperse_truth():
    from samplers import ReplicaExchangeSettings, default_ladder, first_level_for_gap, select_model

    data = sas.simulate(
        sas.REFERENCES["sphere_study"].x,
        form="polydisperse_sphere",
        radius=[100.0],
        scale=[0.01],
        pd=[0.15],
        background=0.01,
        measurement_time=100.0,
        rng=11,
    )
    settings = ReplicaExchangeSettings(
        draws=800,
        tune=800,
        chains=2,
        cores=1,
        n_replicas=24,
        extra={"betas": default_ladder(24, first_level_for_gap(float(data.counts.sum())))},
    )
    result = select_model(
        {
            "sphere": lambda: sas.build_model(data),
            "polydisperse": lambda: sas.build_model(data, form="polydisperse_sphere"),
            "two spheres": lambda: sas.build_model(data, n_populations=2),
        },
        settings=settings,
        random_seed=5,
        progressbar=False,
    )
    assert result.attrs["chosen"] == "polydisperse", result.attrs["decision"]
    posterior = result["candidates/polydisperse/posterior"].to_dataset()
    assert abs(float(posterior.pd.mean()) - 0.15) < 4 * float(posterior.pd.std())


def test_plot_fit_draws_the_truth_after_a_netcdf_round_trip(tmp_path):
    """netCDF reads a one-population truth array back as a scalar; plot_fit must draw the
    same truth line from the reopened file as from the simulated dataset."""
    import matplotlib.pyplot as plt
    import xarray as xr

    q = np.geomspace(0.002, 0.3, 40)
    data = sas.simulate(q, radius=[100.0], scale=[0.01], background=0.01, rng=0)
    data.to_netcdf(tmp_path / "sphere.nc")
    reopened = xr.open_dataset(tmp_path / "sphere.nc")
    assert np.ndim(reopened.attrs["truth_radius"]) == 0  # the round trip this test is about
    posterior = xr.Dataset(
        {
            "radius": (("chain", "draw", "population"), np.full((1, 4, 1), 100.0)),
            "scale": (("chain", "draw", "population"), np.full((1, 4, 1), 0.01)),
            "background": (("chain", "draw"), np.full((1, 4), 0.01)),
        },
        coords={"population": [0]},
    )
    lines = []
    for dataset in (data, reopened):
        fig, ax = plt.subplots()
        sas.plot_fit(ax, dataset, posterior)
        (truth,) = [line for line in ax.get_lines() if line.get_label() == "truth"]
        lines.append(truth.get_ydata())
        plt.close(fig)
    np.testing.assert_allclose(lines[1], lines[0], rtol=1e-12)
    assert np.all(np.isfinite(lines[0])) and np.all(lines[0] > 0)
