"""Nested sampling (dynesty) of PyMC models against independent answers.

The evidence is checked against closed forms: the conjugate straight line
(:func:`measurement_models.linear.exact_log_evidence`) and a Gaussian-mixture target of
:mod:`samplers.comparison.targets` (a sum of Gaussian densities). The tolerance is
3 combined standard errors (the MCSE of :class:`samplers.FreeEnergy`, the larger of
dynesty's errors combined over runs and the spread across runs) plus ``dlogz``: dynesty
stops when the live points could add at most ``dlogz`` to log Z, and then adds their
contribution with the mean-volume estimate; the error of that last step is below
``dlogz`` and not part of dynesty's error estimate, so ``dlogz`` bounds it. The prior
transform is checked coordinate by coordinate against SciPy's ``ppf``.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytest
import scipy.stats as st
import xarray as xr
from scipy.special import expit

from measurement_models import linear
from samplers import NestedSettings, compare_samplers, free_energy, sample_nested, select_model
from samplers.app import cli
from samplers.comparison.targets import GaussianMixtureTarget
from samplers.evidence.nested import NestedDensity, PriorTransform
from samplers.evidence.reliability import free_energy_reliability

DLOGZ = 0.1
SIGMA = 0.3


def _exact_free_energy(data, n_terms=2):
    return -linear.exact_log_evidence(data["x"].values, data["y"].values, SIGMA, n_terms)


@pytest.fixture(scope="module")
def line_run(line_data):
    data, _ = line_data
    model = linear.build_model(data, n_terms=2, sigma=SIGMA)
    idata = sample_nested(model, live_points=150, chains=4, draws=500, random_seed=3, dlogz=DLOGZ)
    return data, model, idata


def test_line_evidence_is_exact(line_run):
    data, _, idata = line_run
    fe = free_energy(idata)
    assert fe.method == "nested"
    assert fe.per_chain.shape == (4,) and fe.per_chain_mcse.shape == (4,)
    within = np.sqrt(np.sum(fe.per_chain_mcse**2)) / 4
    assert fe.mcse == pytest.approx(max(within, fe.spread / 2))
    assert abs(fe.value - _exact_free_energy(data)) < 3 * fe.mcse + DLOGZ


def test_check_rejects_a_wrong_prior(line_run):
    """Negative control: the evidence under priors N(0, 3²) is ≈ 2 nats away; the same
    tolerance must tell them apart."""
    data, _, idata = line_run
    fe = free_energy(idata)
    wrong = -linear.exact_log_evidence(data["x"].values, data["y"].values, SIGMA, 2, prior_sd=3.0)
    assert abs(fe.value - wrong) > 3 * fe.mcse + DLOGZ


def test_posterior_is_the_conjugate_posterior(line_run):
    """Resampled draws against the exact Gaussian posterior of (a, b): means within 5
    standard errors (the draws' effective sample size is the Kish size of the weights)."""
    data, model, idata = line_run
    x, y = data["x"].values, data["y"].values
    design = linear.design_matrix(x, 2)
    precision = np.eye(2) / linear.PRIOR_SD**2 + design.T @ design / SIGMA**2
    covariance = np.linalg.inv(precision)
    mean = covariance @ design.T @ y / SIGMA**2
    names = [rv.name for rv in model.free_RVs]
    order = {"a": 0, "b": 1}
    stats = idata["sample_stats"]
    ess = float(np.minimum(stats["effective_sample_size"], idata["posterior"].sizes["draw"]).sum())
    for name in names:
        draws = idata["posterior"][name].values.ravel()
        sd = np.sqrt(covariance[order[name], order[name]])
        assert abs(draws.mean() - mean[order[name]]) < 5 * sd / np.sqrt(ess), name
        assert draws.std() == pytest.approx(sd, rel=0.15), name


def test_result_layout_and_counts(line_run, tmp_path):
    _, model, idata = line_run
    posterior, stats = idata["posterior"], idata["sample_stats"]
    assert dict(posterior.sizes) == {"chain": 4, "draw": 500}
    assert set(posterior.data_vars) == {rv.name for rv in model.free_RVs}
    assert stats["log_likelihood"].dims == ("chain", "draw")
    for name in ("log_evidence", "log_evidence_error", "n_likelihood_calls", "efficiency"):
        assert stats[name].dims == ("chain",)
    assert np.all(stats["n_likelihood_calls"] > 150) and np.all(stats["efficiency"] <= 1)
    # the stored log-likelihood of each draw is the model's at that draw (a and b have
    # Normal priors: their value variables are the values themselves)
    log_likelihood = model.compile_logp(vars=model.observed_RVs)
    for c, d in [(0, 0), (3, 499)]:
        point = {rv.name: posterior[rv.name].values[c, d] for rv in model.free_RVs}
        assert float(stats["log_likelihood"][c, d]) == pytest.approx(log_likelihood(point))
    path = tmp_path / "nested.nc"
    idata.to_netcdf(path)
    back = free_energy(xr.open_datatree(path))
    assert back.value == pytest.approx(free_energy(idata).value)
    group = idata["free_energy"].to_dataset()
    assert float(group["free_energy"].sel(estimator="nested")) == free_energy(idata).value


def test_runs_are_reproducible_and_independent(line_data):
    data, _ = line_data
    model = linear.build_model(data, n_terms=2, sigma=SIGMA)
    options = {"live_points": 30, "chains": 2, "draws": 20, "dlogz": 1.0}
    first = sample_nested(model, random_seed=5, **options)
    second = sample_nested(model, random_seed=5, **options)
    log_z = first["sample_stats"]["log_evidence"].values
    np.testing.assert_array_equal(log_z, second["sample_stats"]["log_evidence"].values)
    np.testing.assert_array_equal(first["posterior"]["a"].values, second["posterior"]["a"].values)
    assert log_z[0] != log_z[1]


@pytest.fixture(scope="module")
def two_modes_run():
    """Two equal-width modes (likelihood sd 0.5, centres ±(3, 3), 17 sds apart) under a
    N(0, 5²) prior in 2-d, equal posterior mass."""
    target = GaussianMixtureTarget.with_posterior_weights(
        5.0, [[3.0, 3.0], [-3.0, -3.0]], np.full((2, 2), 0.5), [0.5, 0.5]
    )
    model = target.model()
    idata = sample_nested(model, live_points=150, chains=4, draws=500, random_seed=11, dlogz=DLOGZ)
    return target, model, idata


def test_two_separated_modes(two_modes_run):
    """Exact log Z (a sum of Gaussian densities), and every run finds both modes."""
    target, _, idata = two_modes_run
    fe = free_energy(idata)
    assert abs(-fe.value - target.log_evidence) < 3 * fe.mcse + DLOGZ
    fractions = target.mode_fractions(idata, per_chain=True)
    assert np.all(fractions > 0.25), fractions


def test_reliability_census_of_nested_runs():
    """The mode census checks nested sampling too. Two modes of different width
    (likelihood sd 0.5 and 0.3, so the census does not take them for exchangeable copies
    of one mode), equal posterior mass, as in ``two_modes_run``. Runs that visit both
    are trusted (no round-trip check: nested sampling has no ladder); the same runs
    with every draw of the narrow mode replaced by draws of the broad one (runs that
    all missed half the posterior mass, and so agree with each other) are flagged by
    the census."""
    target = GaussianMixtureTarget.with_posterior_weights(
        5.0, [[3.0, 3.0], [-3.0, -3.0]], np.array([[0.5, 0.5], [0.3, 0.3]]), [0.5, 0.5]
    )
    model = target.model()
    idata = sample_nested(model, live_points=150, chains=4, draws=500, random_seed=12, dlogz=DLOGZ)
    checked = free_energy_reliability(idata, model, method="nested", starts=20)
    assert checked.attrs["trusted"] == 1, checked.attrs["verdict"]
    assert checked.attrs["verdict"].startswith("trusted: the runs agree")
    assert np.all(np.isnan(checked["round_trips"].values))
    assert np.unique(checked["mode_class"].values).size == 2

    theta = idata["posterior"]["theta"].values.copy()
    rng = np.random.default_rng(0)
    for chain in range(theta.shape[0]):
        first = np.flatnonzero(target.mode_of(theta[chain]) == 0)
        second = np.flatnonzero(target.mode_of(theta[chain]) == 1)
        theta[chain, second] = theta[chain, rng.choice(first, second.size)]
    missed = idata.copy()
    missed["posterior"] = (
        missed["posterior"].to_dataset().assign(theta=(idata["posterior"]["theta"].dims, theta))
    )
    assert np.all(target.mode_fractions(missed)[1] == 0)
    flagged = free_energy_reliability(missed, model, method="nested", starts=20)
    assert flagged.attrs["trusted"] == 0
    assert flagged["reason"].sel(check="modes").item(), flagged.attrs["verdict"]
    assert flagged["passed"].sel(check="chain_agreement").item()


# -- the prior transform against SciPy -------------------------------------------------
U = np.array([0.001, 0.1, 0.37, 0.5, 0.8, 0.999])
CASES = {
    "normal": (pm.Normal, {"mu": 1.0, "sigma": 2.0}, st.norm(1.0, 2.0).ppf),
    "half_normal": (pm.HalfNormal, {"sigma": 2.0}, st.halfnorm(scale=2.0).ppf),
    "uniform": (pm.Uniform, {"lower": -1.0, "upper": 3.0}, st.uniform(-1.0, 4.0).ppf),
    "gamma": (pm.Gamma, {"alpha": 2.5, "beta": 3.0}, st.gamma(2.5, scale=1 / 3.0).ppf),
    "exponential": (pm.Exponential, {"lam": 2.0}, st.expon(scale=0.5).ppf),
    "beta": (pm.Beta, {"alpha": 2.0, "beta": 3.0}, st.beta(2.0, 3.0).ppf),
    "log_normal": (pm.LogNormal, {"mu": 0.5, "sigma": 0.7}, st.lognorm(0.7, scale=np.exp(0.5)).ppf),
    "half_cauchy": (pm.HalfCauchy, {"beta": 1.5}, st.halfcauchy(scale=1.5).ppf),
    "cauchy": (pm.Cauchy, {"alpha": 1.0, "beta": 0.5}, st.cauchy(1.0, 0.5).ppf),
    "student_t": (pm.StudentT, {"nu": 4.0, "mu": 1.0, "sigma": 2.0}, st.t(4.0, 1.0, 2.0).ppf),
    "laplace": (pm.Laplace, {"mu": 1.0, "b": 2.0}, st.laplace(1.0, 2.0).ppf),
    "inverse_gamma": (
        pm.InverseGamma,
        {"alpha": 3.0, "beta": 2.0},
        st.invgamma(3.0, scale=2.0).ppf,
    ),
    "weibull": (pm.Weibull, {"alpha": 1.5, "beta": 2.0}, st.weibull_min(1.5, scale=2.0).ppf),
    "truncated_normal": (
        pm.TruncatedNormal,
        {"mu": 0.5, "sigma": 1.0, "lower": 0.0, "upper": 2.0},
        st.truncnorm(-0.5, 1.5, loc=0.5, scale=1.0).ppf,
    ),
    "logistic": (pm.Logistic, {"mu": 1.0, "s": 0.5}, st.logistic(1.0, 0.5).ppf),
    "gumbel": (pm.Gumbel, {"mu": 1.0, "beta": 2.0}, st.gumbel_r(1.0, 2.0).ppf),
    "pareto": (pm.Pareto, {"alpha": 3.0, "m": 2.0}, st.pareto(3.0, scale=2.0).ppf),
    "chi_squared": (pm.ChiSquared, {"nu": 3.0}, st.chi2(3.0).ppf),
    "moyal": (pm.Moyal, {"mu": 1.0, "sigma": 2.0}, st.moyal(1.0, 2.0).ppf),
    "half_student_t": (
        pm.HalfStudentT,
        {"nu": 4.0, "sigma": 2.0},
        lambda u: st.t(4.0, scale=2.0).ppf((1 + u) / 2),
    ),
    "logit_normal": (
        pm.LogitNormal,
        {"mu": 0.3, "sigma": 0.8},
        lambda u: expit(st.norm(0.3, 0.8).ppf(u)),
    ),
}


@pytest.fixture(scope="module")
def all_priors():
    """One model with every supported distribution (one coordinate of U per variable and
    value of U), a hierarchical pair, and a likelihood; its prior transform compiled once."""
    with pm.Model(coords={"point": np.arange(U.size)}) as model:
        for name, (dist, kwargs, _) in CASES.items():
            dist(name, **kwargs, dims="point")
        scale = pm.HalfNormal("scale", 2.0)
        pm.Normal("child", mu=1.0, sigma=scale, dims="point")
        pm.Normal("y", 0.0, 1.0, observed=0.0)
    transform = PriorTransform(model)
    return model, transform


def _at(transform, name, values):
    """A unit-cube point with ``values`` at ``name``'s coordinates (0.5 elsewhere)."""
    unit = np.full(transform.dim, 0.5)
    offset = 0
    for other, shape in zip(transform.names, transform.shapes, strict=True):
        size = int(np.prod(shape))
        if other == name:
            unit[offset : offset + size] = values
        offset += size
    return unit


@pytest.mark.parametrize("name", list(CASES))
def test_prior_transform_is_the_scipy_ppf(all_priors, name):
    _, transform = all_priors
    """Relative 1e-6, absolute 1e-7 (values are of order 1): PyMC's truncated-normal
    inverse CDF loses about 5 digits next to its lower bound (a difference of two normal
    CDFs), 2e-8 at u = 0.001 here."""
    values = transform.unravel(transform(_at(transform, name, U)))
    np.testing.assert_allclose(values[name], CASES[name][2](U), rtol=1e-6, atol=1e-7)


def test_hierarchical_parameters_take_the_mapped_values(all_priors):
    """``child ~ Normal(1, scale)``: its coordinates map through the normal ppf with the
    scale that ``scale``'s own coordinate maps to."""
    _, transform = all_priors
    unit = _at(transform, "child", U)
    unit[_at(transform, "scale", 0.0) == 0.0] = 0.9
    values = transform.unravel(transform(unit))
    scale = st.halfnorm(scale=2.0).ppf(0.9)
    assert float(values["scale"]) == pytest.approx(scale)
    np.testing.assert_allclose(values["child"], st.norm(1.0, scale).ppf(U), rtol=1e-6)


def test_density_is_the_model_likelihood_at_the_mapped_values(all_priors):
    model, transform = all_priors
    density = NestedDensity(model, transform)
    unit = np.random.default_rng(0).random(transform.dim)
    assert density(unit) == pytest.approx(st.norm(0, 1).logpdf(0.0))
    assert density.calls == 1


# -- what cannot be mapped -------------------------------------------------------------
def _model_with(prior):
    with pm.Model() as model:
        prior()
        pm.Normal("y", 0.0, 1.0, observed=0.0)
    return model


@pytest.mark.parametrize(
    ("prior", "message"),
    [
        (
            lambda: pm.VonMises("angle", 0.0, 1.0),
            r"'angle' has distribution vonmises.*no inverse CDF",
        ),
        (lambda: pm.SkewNormal("skew", 0.0, 1.0, 2.0), r"'skew' has distribution skewnormal"),
        (lambda: pm.Flat("flat"), r"'flat' has distribution flat"),
        (
            lambda: pm.MvNormal("vector", np.zeros(2), np.eye(2)),
            r"'vector' \(multivariate_normal\) is multivariate",
        ),
        (lambda: pm.Poisson("count", 3.0), r"'count' \(poisson\) is discrete"),
        (
            lambda: pm.Normal(
                "ordered", [0.0, 1.0], 1.0, transform=pm.distributions.transforms.ordered
            ),
            r"'ordered' \(normal\) has the value transform Ordered",
        ),
    ],
)
def test_priors_without_a_transform_are_refused(prior, message):
    with pytest.raises(ValueError, match=message):
        sample_nested(_model_with(prior), live_points=10, chains=1)


def test_a_model_without_likelihood_is_refused():
    with pm.Model() as model:
        pm.Normal("x", 0.0, 1.0)
    with pytest.raises(ValueError, match="no observed variables or Potentials"):
        sample_nested(model)


def test_bad_sizes_are_refused(line_data):
    model = linear.build_model(line_data[0], n_terms=1, sigma=SIGMA)
    with pytest.raises(ValueError, match="live_points must be a positive integer"):
        sample_nested(model, live_points=0)
    with pytest.raises(ValueError, match="dlogz must be positive"):
        sample_nested(model, dlogz=-1.0)


# -- the method of select_model, compare_samplers and the command line ------------------
SMALL = NestedSettings(live_points=60, chains=2, draws=100, dlogz=0.5)


def test_select_model_by_nested_sampling(line_data):
    data, _ = line_data
    candidates = {k: (lambda k=k: linear.build_model(data, n_terms=k, sigma=SIGMA)) for k in (1, 2)}
    result = select_model(candidates, "nested", settings=SMALL, random_seed=2, progressbar=False)
    table = result.to_dataset(inherit=False)
    assert "dynesty" in table.attrs["sampler"]
    for k in (1, 2):  # the census checked every candidate's F (test_reliability_census...)
        assert "census_converged" in result[f"candidates/{k}/reliability"].attrs
        assert table.sel(model=k)["reliability"].item().startswith(("trusted", "unreliable"))
    for k in (1, 2):
        row = table.sel(model=k)
        exact = _exact_free_energy(data, k)
        assert abs(float(row.free_energy) - exact) < 3 * float(row.free_energy_mcse) + 0.5, k
    assert table.attrs["chosen"] == "2"


def test_compare_samplers_counts_nested_likelihood_calls(line_data):
    model = linear.build_model(line_data[0], n_terms=2, sigma=SIGMA)
    dataset, runs = compare_samplers(
        model, samplers=["nested"], chains=2, settings={"nested": SMALL}, random_seed=1,
        return_runs=True,
    )  # fmt: skip
    stats = runs["nested"].result["sample_stats"]
    assert int(dataset["n_log_density_evaluations"].sel(sampler="nested")) == int(
        stats["n_likelihood_calls"].sum()
    )
    assert np.isfinite(float(dataset["free_energy"].sel(sampler="nested")))


def test_counted_calls_are_every_likelihood_call(line_data, monkeypatch):
    """``n_likelihood_calls`` against an independent count of the compiled function's calls."""
    model = linear.build_model(line_data[0], n_terms=1, sigma=SIGMA)
    counted = []
    original = NestedDensity.__init__

    def counting_init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        function = self._function

        def wrapped(*a):
            counted.append(1)
            return function(*a)

        self._function = wrapped

    monkeypatch.setattr(NestedDensity, "__init__", counting_init)
    idata = sample_nested(model, live_points=30, chains=2, draws=10, dlogz=1.0, random_seed=0)
    assert int(idata["sample_stats"]["n_likelihood_calls"].sum()) == len(counted)


def test_command_line_runs_a_job_with_nested_sampling(tmp_path):
    args = ["run", "linear-regression", "--quick", "--sampler", "nested", "--live-points", "60"]
    args += ["--output", str(tmp_path), "--no-progress", "--seed", "1"]
    assert cli.main(args) == 0
    tree = xr.open_datatree(tmp_path / "result.nc", engine="netcdf4")
    assert "dynesty" in tree.attrs["sampler"]
    assert tree.attrs["chosen"] == "2"


def test_command_line_refuses_options_of_other_samplers(capsys):
    assert cli.main(["run", "linear-regression", "--sampler", "nested", "--replicas", "8"]) == 2
    assert "nested sampling runs on one core without a ladder" in capsys.readouterr().err
    assert cli.main(["run", "linear-regression", "--live-points", "8"]) == 2
    assert "--live-points is for --sampler nested" in capsys.readouterr().err
