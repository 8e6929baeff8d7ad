"""The magnetic Compton model against independent evaluations.

* The tabulated, Hermite-interpolated convolution against a direct
  ``scipy.integrate.quad`` of J(u) G_Γ(p − u), between the Γ nodes too.
* The area of the MCP equals a_3d + a_4s (the spin moment) by quadrature; Γ → 0 gives
  the unconvolved profiles.
* The compiled log-density (PyTensor graph) against ``scipy.stats`` with the NumPy
  forward model, at two points; its gradient against finite differences.
* Loaders, simulation and bad input.
"""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np
import pymc as pm
import pytest
import xarray as xr
from scipy import stats
from scipy.integrate import quad

from measurement_models import compton_profiles as cp
from measurement_models import magnetic_compton as mc
from measurement_models.parameters import transformed_point


def direct_convolution(p: float, orbital: str, gamma: float) -> float:
    profile = cp.fe_orbital(orbital)

    def integrand(u: float) -> float:
        return cp.compton_profile(profile, u) * stats.norm.pdf(p - u, scale=gamma)

    edges = np.linspace(p - 10 * gamma, p + 10 * gamma, 9)
    return sum(quad(integrand, a, b, epsabs=1e-12, limit=200)[0] for a, b in pairwise(edges))


@pytest.mark.parametrize("gamma", [0.02, 0.1234, 0.19, 0.5678, 1.0])
def test_forward_against_direct_quadrature(gamma):
    p = np.array([-7.3, -2.0, -0.45, 0.0, 0.31, 1.0, 4.2])
    expected = np.array(
        [
            2.3 * direct_convolution(x, "3d", gamma) - 0.2 * direct_convolution(x, "4s", gamma)
            for x in p
        ]
    )
    np.testing.assert_allclose(mc.forward(p, a_3d=2.3, a_4s=-0.2, Gamma=gamma), expected, atol=2e-7)


def test_area_is_the_spin_moment():
    p = np.linspace(-30.0, 30.0, 3001)
    for a_3d, a_4s, gamma in ((2.3, -0.2, 0.19), (1.0, 0.7, 0.6)):
        area = np.trapezoid(mc.forward(p, a_3d=a_3d, a_4s=a_4s, Gamma=gamma), p)
        assert area == pytest.approx(a_3d + a_4s, abs=2e-4)


def test_small_resolution_gives_the_profiles():
    p = np.linspace(-5.0, 5.0, 101)
    unconvolved = 2.3 * cp.compton_profile(cp.fe_orbital("3d"), p) - 0.2 * cp.compton_profile(
        cp.fe_orbital("4s"), p
    )
    # second order: J + Γ²/2 J'' with |J''| ≲ 40 a.u.⁻³ for the 4s term
    np.testing.assert_allclose(
        mc.forward(p, a_3d=2.3, a_4s=-0.2, Gamma=0.02), unconvolved, atol=0.2 * 2e-4 * 40
    )


def test_draws_broadcast():
    p = np.linspace(-3.0, 3.0, 7)
    a_3d, a_4s, gamma = np.array([2.0, 2.3]), np.array([-0.1, -0.2]), np.array([0.15, 0.3])
    together = mc.forward(p, a_3d=a_3d, a_4s=a_4s, Gamma=gamma)
    assert together.shape == (2, 7)
    for i in range(2):
        np.testing.assert_allclose(
            together[i], mc.forward(p, a_3d=a_3d[i], a_4s=a_4s[i], Gamma=gamma[i])
        )


@pytest.fixture(scope="module")
def compiled():
    data, _ = mc.example_data(0)
    model = mc.build_model(data)
    return data, model, model.compile_logp(), model.compile_dlogp()


@pytest.mark.parametrize("point", [(2.3, -0.2, 0.19), (1.7, 0.3, 0.7345)])
def test_log_density_against_scipy(compiled, point):
    data, model, logp, _ = compiled
    a_3d, a_4s, gamma = point
    p = data["p"].values
    mean = mc.forward(p, a_3d=a_3d, a_4s=a_4s, Gamma=gamma)
    likelihood = stats.norm.logpdf(data["mcp"].values, mean, data["sigma"].values).sum()
    prior = (
        stats.norm.logpdf(a_3d, 2.0, 1.0)
        + stats.norm.logpdf(a_4s, 0.0, 0.5)
        + stats.uniform.logpdf(gamma, 0.02, 0.98)
        + math.log((gamma - 0.02) * (1.0 - gamma) / 0.98)  # interval transform's Jacobian
    )
    values = transformed_point(model, {"a_3d": a_3d, "a_4s": a_4s, "Gamma": gamma})
    assert logp(values) == pytest.approx(likelihood + prior, rel=1e-10)


def test_gradient_against_finite_differences(compiled):
    _, model, logp, dlogp = compiled
    point = transformed_point(model, {"a_3d": 2.2, "a_4s": -0.15, "Gamma": 0.2345})
    names = [model.rvs_to_values[rv].name for rv in model.free_RVs]
    gradient = dlogp(point)
    numeric = []
    for name in names:
        up, down = dict(point), dict(point)
        up[name] = point[name] + 1e-6
        down[name] = point[name] - 1e-6
        numeric.append((logp(up) - logp(down)) / 2e-6)
    np.testing.assert_allclose(gradient, numeric, rtol=1e-5, atol=1e-4)


def test_unknown_noise_becomes_sigma_parameter():
    data, _ = mc.example_data(0)
    model = mc.build_model(data.drop_vars("sigma"), mutable_data=True)
    assert [rv.name for rv in model.free_RVs] == ["a_3d", "a_4s", "Gamma", "sigma"]
    assert "mcp_observed" in model.named_vars


def test_simulation_keeps_the_truth_and_the_misfit():
    p = np.linspace(-6.0, 6.0, 61)
    truth = {"a_3d": 2.0, "a_4s": -0.1, "Gamma": 0.3}
    data = mc.simulate(p, rng=0, sigma=1e-9, scale_3d=1.1, include_sigma=False, **truth)
    assert "sigma" not in data and data.attrs["truth_scale_3d"] == 1.1
    # negative control: scaling after the convolution (the wrong order) differs
    scaled = 2.0 * np.array([direct_convolution(x, "3d", 0.3) for x in p[::10] / 1.1]) / 1.1
    # J(q/λ)/λ convolved with G_Γ equals (J ∗ G_{Γ/λ})(p/λ)/λ
    rescaled = np.array(
        [2.0 * direct_convolution(x / 1.1, "3d", 0.3 / 1.1) / 1.1 for x in p[::10]]
    ) - 0.1 * np.array([direct_convolution(x, "4s", 0.3) for x in p[::10]])
    np.testing.assert_allclose(data["mcp"].values[::10], rescaled, atol=1e-6)
    assert not np.allclose(scaled, rescaled, atol=1e-3)


def test_spin_moment_of_a_posterior():
    posterior = xr.Dataset({"a_3d": ("draw", [2.0, 2.2]), "a_4s": ("draw", [-0.1, -0.3])})
    np.testing.assert_allclose(mc.spin_moment(posterior).values, [1.9, 1.9])


def test_load(tmp_path):
    path = tmp_path / "mcp.txt"
    path.write_text("# p  J_mag\n-1.0 0.30\n0.0 0.15\n1.0 0.31\n")
    data = mc.load(path)
    assert list(data["p"].values) == [-1.0, 0.0, 1.0]
    assert data["p"].attrs["units"] == "a.u." and data["mcp"].values[1] == 0.15
    path.write_text("-1.0 0.30\n0.0 abc\n")
    with pytest.raises(ValueError, match=r"mcp.txt:2: not a numeric row"):
        mc.load(path)


def test_bad_input():
    p = np.linspace(-3, 3, 11)
    with pytest.raises(ValueError, match="Gamma must lie in"):
        mc.forward(p, a_3d=2.0, a_4s=0.0, Gamma=1.5)
    with pytest.raises(TypeError, match="'a_4s' and 'Gamma'"):
        mc.simulate(p, sigma=0.01, a_3d=2.0)
    with pytest.raises(ValueError, match="sigma must be positive"):
        mc.simulate(p, sigma=-1.0, **mc.EXAMPLE_TRUTH)
    with pytest.raises(ValueError, match="unknown parameter"):
        mc.build_model(mc.example_data(0)[0], priors={"b": None})
    with pytest.raises(ValueError, match="non-empty and finite"):
        mc.resolution_table(np.array([0.0, np.nan]))


def test_noise_and_fixed_values_are_checked():
    data, _ = mc.example_data(0)
    with pytest.raises(ValueError, match=r"fixed Gamma must lie in \(0.02, 1.0\)"):
        mc.build_model(data, fixed={"Gamma": 1.5})
    with pm.Model():
        params = mc.add_priors()
        with pytest.raises(ValueError, match="no noise level"):
            mc.add_likelihood(data.drop_vars("sigma"), params)
        with pytest.raises(ValueError, match="sigma must be positive"):
            mc.add_likelihood(data, params, sigma=np.zeros(data.sizes["p"]))
        # a per-point sigma array (as integrated_model passes the data's own) is accepted
        mc.add_likelihood(data, params, sigma=data["sigma"].values, name="mcp_per_point")


def test_overridden_resolution_prior_is_kept_inside_the_tables():
    from measurement_models.parameters import Prior

    data, _ = mc.example_data(0)
    model = mc.build_model(data, priors={"Gamma": Prior("LogNormal", mu=math.log(0.2), sigma=1.0)})
    logp = model.compile_logp()
    inside = transformed_point(model, {"a_3d": 2.3, "a_4s": -0.2, "Gamma": 0.19})
    outside = transformed_point(model, {"a_3d": 2.3, "a_4s": -0.2, "Gamma": 1.5})
    assert np.isfinite(logp(inside))
    assert logp(outside) == -np.inf
    # the guard belongs to the prior: it is prefixed with the parameters
    prefixed = mc.build_model(data, priors={"Gamma": Prior("HalfNormal", sigma=1.0)}, prefix="m_")
    assert [p.name for p in prefixed.potentials] == ["m_Gamma_range"]
