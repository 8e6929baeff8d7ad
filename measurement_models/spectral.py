r"""Spectral deconvolution: a spectrum as a sum of K peaks (Nagata, Sugita, Okada 2012).

Model
-----
K. Nagata, S. Sugita, M. Okada, *Bayesian spectral deconvolution with the exchange Monte
Carlo method*, Neural Networks 28, 82 (2012), doi:10.1016/j.neunet.2011.12.001:

.. math::

    f(x;\theta) = \sum_{k=1}^{K} a_k\, \phi(x - \mu_k; b_k), \qquad
    y_i = f(x_i;\theta) + \varepsilon_i,\quad \varepsilon_i \sim N(0, \sigma^2),

with the Gaussian peak :math:`\phi_G(u; b) = \exp(-b u^2/2)` of the paper (``b`` is
the inverse variance of the peak). Optional shapes with the same height ``a`` and the
same half width at half maximum :math:`h = \sqrt{2\ln 2 / b}`:
Lorentzian :math:`\phi_L(u; b) = 1/(1 + u^2/h^2)` and pseudo-Voigt
:math:`\phi_{pV} = \eta\,\phi_L + (1-\eta)\,\phi_G`.

Priors (the authors' public C++ code for this model): :math:`a_k \sim
\mathrm{Gamma}(5, \text{rate } 5)`, :math:`\mu_k \sim N(1.5, 0.2)` (variance 0.2),
:math:`b_k \sim \mathrm{Gamma}(5, \text{rate } 0.04)`; noise :math:`\sigma = 0.1` known.
The prior is exchangeable over peaks, and the free energy is that of this prior; the
posterior is therefore symmetric under relabelling of the peaks (an ordering transform
on :math:`\mu` would keep only 1/K! of the prior mass). Samplers may mix labels;
:func:`relabel_by_position` sorts every draw by position for display.

Reference data (:data:`REFERENCES`, ``"nagata2012"``): ``x = linspace(0, 3, 301)``,
σ = 0.1, truth K = 3 with :math:`(a, \mu, b)` = (0.587, 1.210, 95.689), (1.522, 1.455,
146.837), (1.183, 1.703, 164.469); ``np.random.seed(0); y = f(x) + np.random.randn(301)
* 0.1`` reproduces the data file of the authors' code bit for bit
(:func:`simulate_reference`). The same code's harder benchmark has K = 10
(``"nagata2012_k10"``).

Checked: every peak shape against its analytic half maximum (:data:`REFERENCES`); the
forward model against a plain NumPy loop, the Lorentzian against ``scipy.stats.cauchy``,
the priors against ``scipy.stats`` densities, the likelihood against
``scipy.stats.norm``; the reference data against the recipe written out independently
in the test and NumPy's legacy seed-0 normal draws
(``tests/measurement_models/test_spectral.py``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from .array_backend import array_module
from .contract import Reference
from .data import make_dataset, validate_dataset
from .noise import noise_sd
from .parameters import Parameter, ParameterTable, Prior, PriorSpec
from .plotting import sort_labels

__all__ = [
    "AXIS",
    "PARAMETERS",
    "PEAK_DIM",
    "REFERENCES",
    "SHAPES",
    "VARIABLE",
    "add_likelihood",
    "add_priors",
    "build_model",
    "example_data",
    "forward",
    "peaks",
    "plot_fit",
    "relabel_by_position",
    "simulate",
    "simulate_reference",
]

#: Name of the measured data variable.
VARIABLE = "intensity"
#: Name of the measurement axis.
AXIS = "x"
#: Dimension of the per-peak parameters.
PEAK_DIM = "peak"
#: Peak shapes: Gaussian, Lorentzian, pseudo-Voigt.
SHAPES = ("gaussian", "lorentzian", "pseudo_voigt")

#: Parameter table: height, position, sharpness (and Lorentzian fraction) per peak, and noise.
PARAMETERS = ParameterTable(
    (
        Parameter(
            "a", "intensity", Prior("Gamma", alpha=5.0, beta=5.0), "peak height", (PEAK_DIM,)
        ),
        Parameter(
            "mu",
            "x",
            Prior("Normal", mu=1.5, sigma=float(np.sqrt(0.2))),
            "peak position",
            (PEAK_DIM,),
        ),
        Parameter(
            "b",
            "1/x²",
            Prior("Gamma", alpha=5.0, beta=0.04),
            "peak sharpness: inverse variance of the Gaussian peak",
            (PEAK_DIM,),
        ),
        Parameter(
            "eta",
            "",
            Prior("Uniform", lower=0.0, upper=1.0),
            "Lorentzian fraction (pseudo-Voigt shape only)",
            (PEAK_DIM,),
        ),
        Parameter(
            "sigma",
            "intensity",
            Prior("HalfNormal", sigma=1.0),
            "noise standard deviation (when not known)",
            role="noise",
        ),
    )
)

_NAGATA2012 = (
    "K. Nagata, S. Sugita, M. Okada, Neural Networks 28, 82 (2012), "
    "doi:10.1016/j.neunet.2011.12.001; the benchmark of the authors' public C++ "
    "exchange Monte Carlo code for this model"
)


# The K = 10 benchmark's peak sharpnesses b (inverse variances).
_K10_SHARPNESS = np.array(
    [500.689, 1046.837, 764.469, 550.689, 562.837, 634.469, 600.689, 664.469, 700.689, 746.837]
)


def _half_maximum(shape: str) -> Reference:
    """Height a at μ and a/2 at μ ± h, h = √(2 ln 2 / b), for one peak of ``shape``."""
    a, mu, b = 1.3, 1.1, 150.0
    h = math.sqrt(2 * math.log(2) / b)
    params = {"a": [a], "mu": [mu], "b": [b], "shape": shape}
    if shape == "pseudo_voigt":
        params["eta"] = [0.3]
    return Reference(
        source=(
            "analytic: every shape has height a at μ and a/2 at μ ± h, h = √(2 ln 2 / b): "
            "exp(−b h²/2) = exp(−ln 2) = 1/2 for the Gaussian, 1/(1 + h²/h²) = 1/2 for the "
            "Lorentzian, hence also for their mixture, the pseudo-Voigt"
        ),
        params=params,
        structure={"n_peaks": 1, "shape": shape},
        x=[mu - h, mu, mu + h],
        expected=[a / 2, a, a / 2],
        rtol=1e-12,
        description=f"half maximum of one {shape} peak",
    )


#: The settings of Nagata et al. 2012 (keyword arguments of :func:`simulate`: the x grid,
#: the known noise and the true peaks) and values the forward model reproduces.
REFERENCES = {
    "nagata2012": Reference(
        source=_NAGATA2012,
        quantity="simulate",
        structure={"n_peaks": 3},
        x=np.linspace(0.0, 3.0, 301),
        params={
            "sigma": 0.1,
            "a": np.array([0.587, 1.522, 1.183]),
            "mu": np.array([1.210, 1.455, 1.703]),
            "b": np.array([95.689, 146.837, 164.469]),
        },
        description="the benchmark spectrum: three Gaussian peaks, σ = 0.1 known",
    ),
    "nagata2012_k10": Reference(
        source=_NAGATA2012 + " (its harder benchmark)",
        quantity="simulate",
        structure={"n_peaks": 10},
        x=np.linspace(0.0, 3.0, 301),
        params={
            "sigma": 0.1,
            "a": np.array([0.587, 1.522, 1.183, 0.864, 0.574, 0.388, 0.53, 0.3, 0.6, 0.7]),
            "mu": np.array([0.75, 0.84, 0.95, 1.71, 1.82, 1.95, 1.12, 1.30, 1.45, 2.1]),
            "b": _K10_SHARPNESS,
        },
        description="ten Gaussian peaks, σ = 0.1 known",
    ),
    **{f"half_maximum_{shape}": _half_maximum(shape) for shape in SHAPES},
}


def _check_shape(shape: str) -> None:
    if shape not in SHAPES:
        raise ValueError(f"unknown peak shape {shape!r}; choose one of {SHAPES}")


def peaks(x, *, a, mu, b, shape: str = "gaussian", eta=None):
    r"""Each peak separately: shape ``(..., K, n)``.

    Parameters
    ----------
    x : array_like, shape (n,)
    a, mu, b : array_like, shape (..., K)
        Heights, positions and inverse variances; leading axes (draws) broadcast.
    shape : {"gaussian", "lorentzian", "pseudo_voigt"}
    eta : array_like, shape (..., K)
        Lorentzian fraction, for ``pseudo_voigt`` only.

    Returns
    -------
    ndarray or TensorVariable
        :math:`a_k \phi(x - \mu_k; b_k)`: NumPy for NumPy inputs, PyTensor otherwise.
    """
    _check_shape(shape)
    xp = array_module(x, a, mu, b, eta)
    asarray = pt.as_tensor_variable if xp is pt else np.asarray
    a, mu, b = (asarray(v)[..., None] for v in (a, mu, b))
    u2 = (asarray(x) - mu) ** 2
    gaussian = xp.exp(-b * u2 / 2)
    if shape == "gaussian":
        return a * gaussian
    lorentzian = 1 / (1 + b * u2 / (2 * np.log(2)))  # 1 / (1 + u²/h²), h² = 2 ln2 / b
    if shape == "lorentzian":
        return a * lorentzian
    if eta is None:
        raise ValueError("the pseudo-Voigt shape needs eta (Lorentzian fraction per peak)")
    eta = asarray(eta)[..., None]
    return a * (eta * lorentzian + (1 - eta) * gaussian)


def forward(x, *, a, mu, b, shape: str = "gaussian", eta=None):
    r""":math:`f(x) = \sum_k a_k \phi(x - \mu_k; b_k)`, shape ``(..., n)``; see :func:`peaks`."""
    return peaks(x, a=a, mu=mu, b=b, shape=shape, eta=eta).sum(axis=-2)


def _shape_parameters(shape: str) -> list[str]:
    _check_shape(shape)
    return ["a", "mu", "b", "eta"] if shape == "pseudo_voigt" else ["a", "mu", "b"]


def _check_n_peaks(n_peaks) -> int:
    if isinstance(n_peaks, bool) or int(n_peaks) != n_peaks or n_peaks < 1:
        raise ValueError(f"n_peaks must be a positive integer, got {n_peaks!r}")
    return int(n_peaks)


def add_priors(
    data: xr.Dataset | None = None,
    *,
    n_peaks: int = 3,
    shape: str = "gaussian",
    priors: Mapping[str, PriorSpec] | None = None,
    fixed: Mapping[str, object] | None = None,
    prefix: str = "",
    names: Sequence[str] | None = None,
) -> dict[str, pt.TensorVariable]:
    """Add the peak priors to the current model, adding its ``peak`` coordinate if missing.

    Parameters
    ----------
    data : xarray.Dataset, optional
        Not needed: the default priors are the paper's, on its x scale.
    n_peaks : int
        Number of peaks K (length of the ``peak`` coordinate).
    shape : {"gaussian", "lorentzian", "pseudo_voigt"}
        Peak shape (``eta`` is added for ``pseudo_voigt`` only).
    priors : mapping, optional
        Prior overrides by parameter name.
    fixed : mapping, optional
        Parameters held at a value (a number, or one per peak).
    prefix : str
        Prepended to every variable name (several parameter sets in one model, as in
        :func:`measurement_models.integration.integrated_model`); all share ``peak``.
    names : sequence of str, optional
        Only these of the shape's parameters (default: all of them).

    Returns
    -------
    dict
        Parameter name (without prefix) to PyMC variable.

    Raises
    ------
    ValueError
        A bad ``n_peaks`` or shape, ``names`` or ``fixed`` naming a parameter the shape
        does not have, or a ``peak`` coordinate of another length in the model.
    """
    n_peaks = _check_n_peaks(n_peaks)
    every = _shape_parameters(shape)
    wanted = every
    if names is not None:
        unknown = [name for name in names if name not in every]
        if unknown:
            raise ValueError(f"no parameter(s) {unknown} for {shape} peaks; parameters: {every}")
        wanted = [name for name in every if name in names]
    unknown = sorted(set(fixed or {}) - {*every, "sigma"})
    if unknown:
        raise ValueError(f"fixed value(s) for {unknown}, not parameters of {shape} peaks {every}")
    model = pm.modelcontext(None)
    if PEAK_DIM not in model.coords:
        model.add_coord(PEAK_DIM, np.arange(n_peaks))
    elif len(model.coords[PEAK_DIM]) != n_peaks:
        raise ValueError(f"the model's {PEAK_DIM!r} coordinate does not have {n_peaks} entries")
    return PARAMETERS.add_priors(wanted, priors, prefix=prefix, fixed=fixed)


def add_likelihood(
    data: xr.Dataset,
    params: Mapping[str, pt.TensorVariable],
    *,
    sigma: float | np.ndarray | pt.TensorVariable | None = None,
    name: str = VARIABLE,
    shape: str = "gaussian",
    mutable_data: bool = False,
) -> pt.TensorVariable:
    """Add the Gaussian likelihood of one spectrum to the current model.

    Parameters
    ----------
    data : xarray.Dataset
        With data variable ``intensity`` along one axis.
    params : mapping
        ``a``, ``mu``, ``b`` (and ``eta`` for the pseudo-Voigt shape).
    sigma : float, ndarray or TensorVariable, optional
        The noise standard deviation; default: the data's ``sigma`` variable.
    name : str
        Name of the observed variable.
    shape : {"gaussian", "lorentzian", "pseudo_voigt"}
    mutable_data : bool
        Put the axis, the observed values and a per-point ``sigma`` array in ``pm.Data``
        containers (``<name>_x``, ``<name>_observed``, ``<name>_sigma``), so that spectra
        with the same K and number of points share one compiled graph (``pm.set_data``).

    Raises
    ------
    ValueError
        Bad data, or no noise level (neither ``sigma`` nor a ``sigma`` variable).
    """
    validate_dataset(data, variables=[VARIABLE])
    x = data[data[VARIABLE].dims[0]].values
    observed = data[VARIABLE].values
    sd = noise_sd(data, sigma)
    if mutable_data:
        x = pm.Data(f"{name}_x", x)
        observed = pm.Data(f"{name}_observed", observed)
        if isinstance(sd, np.ndarray) and sd.ndim == 1:
            sd = pm.Data(f"{name}_sigma", sd)
    mean = forward(
        x, a=params["a"], mu=params["mu"], b=params["b"], shape=shape, eta=params.get("eta")
    )
    return pm.Normal(name, mu=mean, sigma=sd, observed=observed)


def build_model(
    data: xr.Dataset,
    *,
    n_peaks: int = 3,
    shape: str = "gaussian",
    priors: Mapping[str, PriorSpec] | None = None,
    sigma: float | None = None,
    fixed: Mapping[str, object] | None = None,
    mutable_data: bool = False,
    prefix: str | None = None,
) -> pm.Model:
    """PyMC model of a spectrum as a sum of ``n_peaks`` peaks.

    Parameters
    ----------
    data : xarray.Dataset
        With data variable ``intensity`` along one axis (see :func:`simulate`).
    n_peaks : int
        Number of peaks K ≥ 1.
    shape : {"gaussian", "lorentzian", "pseudo_voigt"}
        Peak shape.
    priors : mapping, optional
        Prior overrides by parameter name.
    sigma : float, optional
        Known noise standard deviation. If omitted: the data's ``sigma`` variable when
        present (as in :func:`simulate_reference`, σ = 0.1), otherwise ``sigma`` becomes
        a parameter with the table's prior.
    fixed : mapping, optional
        Parameters held at a value; ``{"sigma": s}`` is a known noise level.
    mutable_data : bool
        Data in ``pm.Data`` containers (see :func:`add_likelihood`): spectra with the
        same K and number of points then share one compiled graph.
    prefix : str, optional
        Prepended to the name of every variable (the ``peak`` dim keeps its name).

    Returns
    -------
    pymc.Model
        Free variables ``a``, ``mu``, ``b`` (and ``eta``, ``sigma``) with dim ``peak``;
        observed variable ``intensity``.
    """
    validate_dataset(data, variables=[VARIABLE])
    n_peaks = _check_n_peaks(n_peaks)
    _check_shape(shape)
    prefix = prefix or ""
    with pm.Model(coords={PEAK_DIM: np.arange(n_peaks)}) as model:
        params = add_priors(
            data, n_peaks=n_peaks, shape=shape, priors=priors, fixed=fixed, prefix=prefix
        )
        sd = noise_sd(data, sigma, PARAMETERS, priors, prefix=prefix, fixed=fixed)
        add_likelihood(
            data,
            params,
            sigma=sd,
            name=prefix + VARIABLE,
            shape=shape,
            mutable_data=mutable_data,
        )
    return model


def simulate(
    x: np.ndarray,
    *,
    rng: np.random.Generator | int | None = None,
    sigma: float,
    shape: str = "gaussian",
    a,
    mu,
    b,
    eta=None,
) -> xr.Dataset:
    """Simulate a spectrum from any truth with a seeded :class:`numpy.random.Generator`.

    The truth is kept in ``attrs`` (``truth_a``, ``truth_mu``, ``truth_b``, ...).
    """
    rng = np.random.default_rng(rng)
    x = np.asarray(x, dtype=float)
    a, mu, b = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (a, mu, b))
    if not a.shape == mu.shape == b.shape:
        raise ValueError(f"a, mu, b must have one value per peak, got {a.shape, mu.shape, b.shape}")
    curve = forward(x, a=a, mu=mu, b=b, shape=shape, eta=eta)
    y = curve + sigma * rng.standard_normal(x.shape)
    truth = {"truth_a": a, "truth_mu": mu, "truth_b": b, "truth_sigma": float(sigma)}
    if eta is not None:
        truth["truth_eta"] = np.asarray(eta, dtype=float)
    return make_dataset(
        x,
        y,
        sigma=np.full(x.shape, float(sigma)),
        axis=AXIS,
        variable=VARIABLE,
        attrs={**truth, "shape": shape},
    )


def simulate_reference() -> xr.Dataset:
    """The Nagata 2012 data, bit for bit as the authors' public code makes them.

    ``np.random.seed(0); y = f(x) + np.random.randn(301) * 0.1`` with the settings of
    ``REFERENCES["nagata2012"]``: the legacy NumPy generator, used only for this
    reproduction (a private ``RandomState`` instance, so NumPy's global state is left
    alone).
    """
    reference = REFERENCES["nagata2012"]
    x, settings = reference.x, reference.params
    truth = {key: settings[key] for key in ("a", "mu", "b")}
    noise = np.random.RandomState(0).randn(x.size)
    y = forward(x, **truth) + noise * settings["sigma"]
    return make_dataset(
        x,
        y,
        sigma=np.full(x.size, settings["sigma"]),
        axis=AXIS,
        variable=VARIABLE,
        attrs={
            **{f"truth_{key}": value for key, value in truth.items()},
            "truth_sigma": settings["sigma"],
            "shape": "gaussian",
            "source": "Nagata, Sugita, Okada, Neural Networks 28, 82 (2012): simulated, "
            "np.random.seed(0)",
        },
    )


def example_data(rng: np.random.Generator | int | None = 0) -> tuple[xr.Dataset, dict]:
    """A small two-peak spectrum and its truth point (for quick tests)."""
    truth = {"a": np.array([1.0, 0.7]), "mu": np.array([1.2, 1.8]), "b": np.array([80.0, 120.0])}
    return simulate(np.linspace(0.0, 3.0, 61), **truth, sigma=0.1, rng=rng), truth


def relabel_by_position(posterior: xr.Dataset) -> xr.Dataset:
    """Sort the peaks of every draw by position ``mu`` (undoes label switching).

    Every variable with the ``peak`` dim is reordered with the same permutation.
    """
    return sort_labels(posterior, PEAK_DIM, "mu")


def plot_fit(
    ax, data: xr.Dataset, posterior: xr.Dataset, *, shape: str = "gaussian", **options
) -> None:
    """Data, posterior band of f(x), each peak at its posterior mean, and the truth if known.

    ``shape`` is the fitted peak shape; other ``options`` (such as ``build_model``'s
    ``n_peaks``) are ignored.
    """
    from .plotting import plot_band, plot_data, posterior_draws

    x = data[AXIS].values
    draws = posterior_draws(relabel_by_position(posterior))
    eta = draws["eta"].values if "eta" in draws else None
    curves = forward(
        x, a=draws["a"].values, mu=draws["mu"].values, b=draws["b"].values, shape=shape, eta=eta
    )
    plot_data(ax, data, VARIABLE)
    plot_band(ax, x, curves)
    mean = draws.mean("sample")
    eta_mean = mean["eta"].values if "eta" in mean else None
    each = peaks(
        x,
        a=mean["a"].values,
        mu=mean["mu"].values,
        b=mean["b"].values,
        shape=shape,
        eta=eta_mean,
    )
    for k, peak in enumerate(each):
        ax.plot(x, peak, color="C0", lw=1, label="peaks (posterior mean)" if k == 0 else None)
    if "truth_a" in data.attrs:
        truth = {p: np.asarray(data.attrs[f"truth_{p}"]) for p in ("a", "mu", "b")}
        truth_shape = data.attrs.get("shape", "gaussian")
        curve = forward(x, **truth, shape=truth_shape, eta=data.attrs.get("truth_eta"))
        ax.plot(x, curve, "k--", lw=1, label="truth")
    ax.legend(fontsize="small")
