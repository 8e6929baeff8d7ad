r"""Exponential decay: the smallest measurement module that follows the model contract.

This module lives in the tests. It is the worked example of ``docs/writing-a-model.md``,
and the zoo-wide harness (``tests/measurement_models/test_registry.py``) checks it like
every registered model.

Model
-----
A signal that decays with K lifetimes on a constant offset (a fluorescence decay,
radioactive counting above background, the ring-down of a resonator):

.. math::

    f(t; \theta) = \sum_{k=1}^{K} A_k\, e^{-t/\tau_k} + c, \qquad
    y_i = f(t_i; \theta) + \varepsilon_i,\quad \varepsilon_i \sim N(0, \sigma^2).

Priors: :math:`A_k \sim \mathrm{HalfNormal}(10)`, :math:`\tau_k \sim
\mathrm{LogNormal}(0, 2)` (lifetimes over decades), :math:`c \sim N(0, 1)`,
:math:`\sigma \sim \mathrm{HalfNormal}(1)` when it is not known.

Checked: :func:`forward` against the analytic half-life, :math:`f(\tau \ln 2) = A/2 + c`
(:data:`REFERENCES`), and everything the zoo-wide harness checks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from measurement_models.contract import Reference
from measurement_models.data import make_dataset, validate_dataset
from measurement_models.parameters import Parameter, ParameterTable, Prior, PriorSpec

VARIABLE = "signal"
AXIS = "time"
COMPONENT_DIM = "component"

PARAMETERS = ParameterTable(
    (
        Parameter(
            "amplitude",
            "signal",
            Prior("HalfNormal", sigma=10.0),
            "amplitude of each component at t = 0",
            (COMPONENT_DIM,),
        ),
        Parameter(
            "lifetime",
            "s",
            Prior("LogNormal", mu=0.0, sigma=2.0),
            "lifetime τ of each component",
            (COMPONENT_DIM,),
        ),
        Parameter("offset", "signal", Prior("Normal", mu=0.0, sigma=1.0), "constant offset"),
        Parameter(
            "sigma",
            "signal",
            Prior("HalfNormal", sigma=1.0),
            "noise standard deviation (when not known)",
            role="noise",
        ),
    )
)

REFERENCES = {
    "half_life": Reference(
        source="analytic: A e^(-t/τ) + c is A + c at t = 0 and A/2 + c at the half-life t = τ ln 2",
        params={"amplitude": [2.0], "lifetime": [3.0], "offset": 0.5},
        structure={"n_components": 1},
        x=[0.0, 3.0 * np.log(2.0)],
        expected=[2.5, 1.5],
        rtol=1e-12,
        description="one component: value at t = 0 and at the half-life",
    ),
}


def forward(x, *, amplitude, lifetime, offset=0.0):
    """:math:`\\sum_k A_k e^{-t/\\tau_k} + c` on the times ``x``; NumPy or PyTensor."""
    if any(isinstance(v, pt.Variable) for v in (x, amplitude, lifetime, offset)):
        x, amplitude, lifetime = (pt.as_tensor_variable(v) for v in (x, amplitude, lifetime))
        return (amplitude[:, None] * pt.exp(-x[None, :] / lifetime[:, None])).sum(0) + offset
    x = np.asarray(x, dtype=float)
    amplitude, lifetime = np.asarray(amplitude, float), np.asarray(lifetime, float)
    return (amplitude[:, None] * np.exp(-x[None, :] / lifetime[:, None])).sum(0) + offset


def add_priors(
    data: xr.Dataset | None = None,
    *,
    n_components: int = 1,
    priors: Mapping[str, PriorSpec] | None = None,
    fixed: Mapping[str, object] | None = None,
    prefix: str = "",
    names: Sequence[str] | None = None,
) -> dict[str, pt.TensorVariable]:
    """Add the priors of the decay parameters (not ``sigma``) to the current model."""
    model = pm.modelcontext(None)
    if COMPONENT_DIM not in model.coords:
        model.add_coord(COMPONENT_DIM, np.arange(n_components))
    wanted = ["amplitude", "lifetime", "offset"] if names is None else list(names)
    return PARAMETERS.add_priors(wanted, priors, prefix=prefix, fixed=fixed)


def add_likelihood(
    data: xr.Dataset,
    params: Mapping[str, pt.TensorVariable],
    *,
    sigma=None,
    name: str = VARIABLE,
    mutable_data: bool = False,
) -> pt.TensorVariable:
    """Add the Gaussian likelihood of one decay curve (σ: given, else the data's)."""
    validate_dataset(data, variables=[VARIABLE])
    t, y = data[AXIS].values, data[VARIABLE].values
    if sigma is None:
        if "sigma" not in data.data_vars:
            raise ValueError("no noise level: pass sigma or give the data a 'sigma' variable")
        sigma = data["sigma"].values
    if mutable_data:
        t, y = pm.Data(f"{name}_{AXIS}", t), pm.Data(f"{name}_observed", y)
    mean = forward(t, **{k: params[k] for k in ("amplitude", "lifetime", "offset")})
    return pm.Normal(name, mu=mean, sigma=sigma, observed=y)


def build_model(
    data: xr.Dataset,
    *,
    n_components: int = 1,
    priors: Mapping[str, PriorSpec] | None = None,
    sigma: float | None = None,
    fixed: Mapping[str, object] | None = None,
    mutable_data: bool = False,
    prefix: str | None = None,
) -> pm.Model:
    """PyMC model of a decay curve with ``n_components`` lifetimes."""
    validate_dataset(data, variables=[VARIABLE])
    if int(n_components) != n_components or n_components < 1:
        raise ValueError(f"n_components must be a positive integer, got {n_components!r}")
    prefix = prefix or ""
    with pm.Model(coords={COMPONENT_DIM: np.arange(n_components)}) as model:
        params = add_priors(
            data, n_components=n_components, priors=priors, fixed=fixed, prefix=prefix
        )
        if sigma is None and "sigma" not in data.data_vars:
            sigma = PARAMETERS.add_priors(["sigma"], priors, prefix=prefix, fixed=fixed)["sigma"]
        add_likelihood(data, params, sigma=sigma, name=prefix + VARIABLE, mutable_data=mutable_data)
    return model


def simulate(
    x,
    *,
    rng: np.random.Generator | int | None = None,
    sigma: float = 0.05,
    amplitude,
    lifetime,
    offset: float = 0.0,
) -> xr.Dataset:
    """A decay curve with Gaussian noise ``sigma``; the truth in ``attrs``."""
    rng = np.random.default_rng(rng)
    truth = {"amplitude": np.atleast_1d(amplitude), "lifetime": np.atleast_1d(lifetime)}
    y = forward(x, **truth, offset=offset)
    y = y + sigma * rng.standard_normal(y.shape)
    attrs = {f"truth_{k}": v for k, v in (truth | {"offset": offset, "sigma": sigma}).items()}
    return make_dataset(
        x,
        y,
        sigma=np.full(y.shape, sigma),
        axis=AXIS,
        axis_units="s",
        variable=VARIABLE,
        attrs=attrs,
    )


def example_data(rng: np.random.Generator | int | None = 0) -> tuple[xr.Dataset, dict]:
    """One component, 40 times from 0 to 10 s."""
    truth = {"amplitude": np.array([2.0]), "lifetime": np.array([3.0]), "offset": 0.5}
    data = simulate(np.linspace(0.0, 10.0, 40), rng=rng, sigma=0.05, **truth)
    return data, truth


def plot_fit(ax, data: xr.Dataset, posterior: xr.Dataset, **options) -> None:
    """The data and 50 posterior curves."""
    t = data[AXIS].values
    draws = posterior.stack(sample=("chain", "draw"))
    for i in np.linspace(0, draws.sizes["sample"] - 1, 50).astype(int):
        one = draws.isel(sample=i)
        curve = forward(t, **{k: one[k].values for k in ("amplitude", "lifetime", "offset")})
        ax.plot(t, curve, color="C1", alpha=0.1)
    ax.plot(t, data[VARIABLE].values, ".", color="k")
    ax.set(xlabel=f"{AXIS} [s]", ylabel=VARIABLE)
