r"""Spectral deconvolution: a spectrum as a sum of K peaks (Nagata, Sugita, Okada 2012).

Model
-----
K. Nagata, S. Sugita, M. Okada, *Bayesian spectral deconvolution with the exchange Monte
Carlo method*, Neural Networks 28, 82 (2012):

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
posterior is therefore symmetric under relabelling of the peaks. Samplers may mix
labels; :func:`relabel_by_position` sorts every draw by position for display.

Reference data: ``x = linspace(0, 3, 301)``, truth K = 3,
``np.random.seed(0); y = f(x) + np.random.randn(301) * 0.1`` (:func:`simulate_reference`).

Checked: the forward model against a plain NumPy evaluation and the half-maximum
property of every shape; the reference data against the recipe written out
independently in the test and NumPy's legacy seed-0 normal draws
(``tests/measurement_models/test_spectral.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from .array_backend import array_module
from .data import make_dataset, validate_dataset
from .noise import noise_sd
from .parameters import Parameter, ParameterTable, Prior, PriorSpec
from .plotting import sort_labels

__all__ = [
    "NAGATA2012",
    "NAGATA2012_K10",
    "PARAMETERS",
    "SHAPES",
    "add_likelihood",
    "add_priors",
    "build_model",
    "forward",
    "peaks",
    "relabel_by_position",
    "simulate",
    "simulate_reference",
]

VARIABLE = "intensity"
AXIS = "x"
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

#: Nagata et al. 2012 benchmark: x grid, known noise, true K = 3 peaks.
NAGATA2012 = {
    "x": np.linspace(0.0, 3.0, 301),
    "sigma": 0.1,
    "a": np.array([0.587, 1.522, 1.183]),
    "mu": np.array([1.210, 1.455, 1.703]),
    "b": np.array([95.689, 146.837, 164.469]),
}

#: The harder K = 10 benchmark of the same public code.
NAGATA2012_K10 = {
    "x": np.linspace(0.0, 3.0, 301),
    "sigma": 0.1,
    "a": np.array([0.587, 1.522, 1.183, 0.864, 0.574, 0.388, 0.53, 0.3, 0.6, 0.7]),
    "mu": np.array([0.75, 0.84, 0.95, 1.71, 1.82, 1.95, 1.12, 1.30, 1.45, 2.1]),
    "b": np.array(
        [500.689, 1046.837, 764.469, 550.689, 562.837, 634.469, 600.689, 664.469, 700.689, 746.837]
    ),
}


def _check_shape(shape: str) -> None:
    if shape not in SHAPES:
        raise ValueError(f"unknown peak shape {shape!r}; choose one of {SHAPES}")


def peaks(x, a, mu, b, shape: str = "gaussian", eta=None):
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


def forward(x, a, mu, b, shape: str = "gaussian", eta=None):
    r""":math:`f(x) = \sum_k a_k \phi(x - \mu_k; b_k)`, shape ``(..., n)``; see :func:`peaks`."""
    return peaks(x, a, mu, b, shape, eta).sum(axis=-2)


def _shape_parameters(shape: str) -> list[str]:
    _check_shape(shape)
    return ["a", "mu", "b", "eta"] if shape == "pseudo_voigt" else ["a", "mu", "b"]


def add_priors(
    n_peaks: int,
    priors: Mapping[str, PriorSpec] | None = None,
    shape: str = "gaussian",
    prefix: str = "",
    names: Sequence[str] | None = None,
) -> dict[str, pt.TensorVariable]:
    """Add the peak priors to the current model, adding its ``peak`` coordinate if missing.

    Parameters
    ----------
    n_peaks : int
        Number of peaks K (length of the ``peak`` coordinate).
    priors : mapping, optional
        Prior overrides by parameter name.
    shape : {"gaussian", "lorentzian", "pseudo_voigt"}
        Peak shape (``eta`` is added for ``pseudo_voigt`` only).
    prefix : str
        Prepended to every variable name (several parameter sets in one model, as in
        :func:`measurement_models.integration.integrated_model`); all share ``peak``.
    names : sequence of str, optional
        Only these of the shape's parameters (default: all of them).

    Returns
    -------
    dict
        Parameter name (without prefix) to PyMC variable.
    """
    wanted = _shape_parameters(shape)
    if names is not None:
        unknown = [name for name in names if name not in wanted]
        if unknown:
            raise ValueError(f"no parameter(s) {unknown} for {shape} peaks; parameters: {wanted}")
        wanted = [name for name in wanted if name in names]
    model = pm.modelcontext(None)
    if PEAK_DIM not in model.coords:
        model.add_coord(PEAK_DIM, np.arange(n_peaks))
    elif len(model.coords[PEAK_DIM]) != n_peaks:
        raise ValueError(f"the model's {PEAK_DIM!r} coordinate does not have {n_peaks} entries")
    return PARAMETERS.add_priors(wanted, priors, prefix=prefix)


def add_likelihood(
    data: xr.Dataset,
    params: Mapping[str, pt.TensorVariable],
    sigma,
    shape: str = "gaussian",
    name: str = VARIABLE,
    mutable_data: bool = False,
) -> pt.TensorVariable:
    """Add the Gaussian likelihood of one spectrum to the current model.

    ``mutable_data=True`` puts the axis, the observed values and a per-point ``sigma``
    array in ``pm.Data`` containers (``<name>_x``, ``<name>_observed``, ``<name>_sigma``),
    so that spectra with the same K and number of points share one compiled graph
    (``pm.set_data``).
    """
    validate_dataset(data, variables=[VARIABLE])
    x = data[data[VARIABLE].dims[0]].values
    observed = data[VARIABLE].values
    if mutable_data:
        x = pm.Data(f"{name}_x", x)
        observed = pm.Data(f"{name}_observed", observed)
        if isinstance(sigma, np.ndarray) and sigma.ndim == 1:
            sigma = pm.Data(f"{name}_sigma", sigma)
    mean = forward(x, params["a"], params["mu"], params["b"], shape, params.get("eta"))
    return pm.Normal(name, mu=mean, sigma=sigma, observed=observed)


def build_model(
    data: xr.Dataset,
    n_peaks: int = 3,
    sigma: float | None = None,
    shape: str = "gaussian",
    priors: Mapping[str, PriorSpec] | None = None,
    mutable_data: bool = False,
) -> pm.Model:
    """PyMC model of a spectrum as a sum of ``n_peaks`` peaks.

    Parameters
    ----------
    data : xarray.Dataset
        With data variable ``intensity`` along one axis (see :func:`simulate`).
    n_peaks : int
        Number of peaks K ≥ 1.
    sigma : float, optional
        Known noise standard deviation. If omitted: the data's ``sigma`` variable when
        present (as in :func:`simulate_reference`, σ = 0.1), otherwise ``sigma`` becomes
        a parameter with the table's prior.
    shape : {"gaussian", "lorentzian", "pseudo_voigt"}
        Peak shape.
    priors : mapping, optional
        Prior overrides by parameter name.
    mutable_data : bool
        Data in ``pm.Data`` containers (see :func:`add_likelihood`): spectra with the
        same K and number of points then share one compiled graph.

    Returns
    -------
    pymc.Model
        Free variables ``a``, ``mu``, ``b`` (and ``eta``, ``sigma``) with dim ``peak``;
        observed variable ``intensity``.
    """
    validate_dataset(data, variables=[VARIABLE])
    if int(n_peaks) != n_peaks or n_peaks < 1:
        raise ValueError(f"n_peaks must be a positive integer, got {n_peaks!r}")
    _check_shape(shape)
    with pm.Model(coords={PEAK_DIM: np.arange(int(n_peaks))}) as model:
        params = add_priors(int(n_peaks), priors, shape)
        sd = noise_sd(data, sigma, PARAMETERS, priors)
        add_likelihood(data, params, sd, shape, mutable_data=mutable_data)
    return model


def simulate(
    x: np.ndarray,
    a,
    mu,
    b,
    sigma: float,
    rng: np.random.Generator | int | None = None,
    shape: str = "gaussian",
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
    y = forward(x, a, mu, b, shape, eta) + sigma * rng.standard_normal(x.shape)
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

    ``np.random.seed(0); y = f(x) + np.random.randn(301) * 0.1``: the legacy NumPy
    generator, used only for this reproduction (a private ``RandomState`` instance, so
    NumPy's global state is left alone).
    """
    ref = NAGATA2012
    noise = np.random.RandomState(0).randn(ref["x"].size)
    y = forward(ref["x"], ref["a"], ref["mu"], ref["b"]) + noise * ref["sigma"]
    return make_dataset(
        ref["x"],
        y,
        sigma=np.full(ref["x"].size, ref["sigma"]),
        axis=AXIS,
        variable=VARIABLE,
        attrs={
            "truth_a": ref["a"],
            "truth_mu": ref["mu"],
            "truth_b": ref["b"],
            "truth_sigma": ref["sigma"],
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


def plot_fit(ax, data: xr.Dataset, posterior: xr.Dataset, shape: str = "gaussian", **_) -> None:
    """Data, posterior band of f(x), each peak at its posterior mean, and the truth if known."""
    from .plotting import plot_band, plot_data, posterior_draws

    x = data[AXIS].values
    draws = posterior_draws(relabel_by_position(posterior))
    eta = draws["eta"].values if "eta" in draws else None
    curves = forward(x, draws["a"].values, draws["mu"].values, draws["b"].values, shape, eta)
    plot_data(ax, data, VARIABLE)
    plot_band(ax, x, curves)
    mean = draws.mean("sample")
    eta_mean = mean["eta"].values if "eta" in mean else None
    for k, peak in enumerate(
        peaks(x, mean["a"].values, mean["mu"].values, mean["b"].values, shape, eta_mean)
    ):
        ax.plot(x, peak, color="C0", lw=1, label="peaks (posterior mean)" if k == 0 else None)
    if "truth_a" in data.attrs:
        a, mu, b = (np.asarray(data.attrs[f"truth_{p}"]) for p in ("a", "mu", "b"))
        truth_shape = data.attrs.get("shape", "gaussian")
        ax.plot(
            x,
            forward(x, a, mu, b, truth_shape, data.attrs.get("truth_eta")),
            "k--",
            lw=1,
            label="truth",
        )
    ax.legend(fontsize="small")
