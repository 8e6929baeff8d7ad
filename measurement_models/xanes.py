r"""XANES as arctan edge step + pseudo-Voigt white line + K Gaussians (Iwamitsu, Akai).

Model
-----
Bayesian XANES spectroscopy (K. Iwamitsu et al., *Phys. Status Solidi B* 257, 2000107
(2020); seed 003; REFERENCE.md "Magnetic Compton scattering and XANES"):

.. math::

    \mu(E) = H\left[\tfrac12 + \tfrac1\pi\arctan\frac{E - E_0}{\Gamma/2}\right]
    + A\,\mathrm{pV}(E;\,E_0 + \Delta E,\,\omega,\,\eta)
    + \sum_{k=1}^{K} F_k\,G(E;\,E_k,\,W_k) + c_0 + c_1\,(E - E_0),

with the area-normalised shapes of full width at half maximum (FWHM) :math:`w`

.. math::

    G(E; c, w) = \sqrt{\frac{4\ln 2}{\pi}}\,\frac1w\,
        \exp\!\left[-4\ln 2\,\frac{(E-c)^2}{w^2}\right],\qquad
    L(E; c, w) = \frac{w/2\pi}{(E-c)^2 + w^2/4},\qquad
    \mathrm{pV} = \eta L + (1-\eta) G,

so :math:`F_k` and :math:`A` are areas (normalised μ × eV) and the step rises by
:math:`H` above the background, with its midpoint at :math:`E_0` and
width :math:`\Gamma` (:math:`\Gamma \to 0` gives the Heaviside step :math:`H\,\theta(E-E_0)`).
The white line is optional (``white_line=False``: the pre-edge region alone). The data
are the normalised :math:`\mu` with Gaussian noise (σ known, from the data's ``sigma``,
or a parameter), or raw fluorescence counts with

.. math::

    N_i \sim \mathrm{Poisson}\big(t_i\,[o_i + \mu(E_i)]\big),

the exposure :math:`t_i` and offset :math:`o_i` coming from :func:`normalize` (the
dead-time corrected :math:`I_0/d` times the edge step, and the pre-edge line removed by
the normalisation), so that the same normalised-μ priors serve both.

Priors (:data:`PARAMETERS`)
---------------------------
The paper's priors are not given in the seed; ours are weakly informative for μ
normalised to a unit edge step. Energies :math:`E_0` and :math:`E_k` are uniform over the
fitted energy window :math:`[E_\mathrm{min}, E_\mathrm{max}]` (the table's
``Uniform(0, 1)`` is in units of the window); the centres are ordered,
:math:`E_1 < \dots < E_K`, which removes label switching; because the exchangeable prior
is restricted to one of its :math:`K!` equal-mass orderings, the potential
``Ek_order`` adds :math:`\log K!` so that the free energy is that of the exchangeable
prior (``tests/measurement_models/test_xanes.py`` checks on K = 2 that the ordered
density is twice the exchangeable one, 2/L² on a triangle of area L²/2).
Widths (FWHM, eV) are log-normal around 2 eV (Gaussian features,
the resolution of a Si(111) Fe K-edge scan and the 1.25 eV core hole), 3 eV (step) and
5 eV (white line). :data:`PRE_EDGE_PRIORS` narrows them for a pre-edge window.

Checked (``tests/measurement_models/test_xanes.py``): every component against an
independent SciPy evaluation (``scipy.stats.norm``, ``scipy.stats.cauchy``,
``numpy.arctan``), the areas by quadrature (``scipy.integrate.quad``), the limits
:math:`\Gamma\to 0` (Heaviside step) and :math:`\eta = 0, 1`, the PyTensor graph against
the NumPy forward, the compiled gradient against finite differences, the Poisson
likelihood against ``scipy.stats.poisson``, the log K! normalisation of the ordered
prior, and bad input.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from .array_backend import array_module
from .data import make_dataset, validate_dataset
from .noise import noise_sd
from .parameters import Parameter, ParameterTable, Prior, PriorSpec, check_choice

__all__ = [
    "NOISE_KINDS",
    "PARAMETERS",
    "PRE_EDGE_PRIORS",
    "VARIABLE",
    "add_likelihood",
    "add_priors",
    "build_model",
    "centroid",
    "components",
    "example_data",
    "forward",
    "gaussian",
    "lorentzian",
    "normalize",
    "parameter_names",
    "plot_fit",
    "pseudo_voigt",
    "select_window",
    "simulate",
    "step",
]

VARIABLE = "intensity"
COUNTS = "counts"
AXIS = "energy"
GAUSS_DIM = "gaussian"
#: Noise models of :func:`build_model`: Gaussian on normalised μ, Poisson on raw counts.
NOISE_KINDS = ("gaussian", "poisson")
_LN2 = math.log(2.0)

#: Parameters of the edge model (μ normalised to a unit edge step; energies in eV).
PARAMETERS = ParameterTable(
    (
        Parameter("H", "μ", Prior("HalfNormal", sigma=2.0), "edge step height"),
        Parameter(
            "E0",
            "eV",
            Prior("Uniform", lower=0.0, upper=1.0),
            "edge energy (arctan midpoint); uniform over the energy window",
        ),
        Parameter(
            "Gamma",
            "eV",
            Prior("LogNormal", mu=math.log(3.0), sigma=0.75),
            "edge step width (FWHM of the arctan's derivative)",
        ),
        Parameter("A", "μ·eV", Prior("HalfNormal", sigma=10.0), "white-line area"),
        Parameter("dE", "eV", Prior("Normal", mu=5.0, sigma=5.0), "white-line position above E0"),
        Parameter(
            "omega", "eV", Prior("LogNormal", mu=math.log(5.0), sigma=0.75), "white-line FWHM"
        ),
        Parameter(
            "eta", "", Prior("Uniform", lower=0.0, upper=1.0), "white-line Lorentzian fraction"
        ),
        Parameter(
            "F", "μ·eV", Prior("HalfNormal", sigma=1.0), "Gaussian feature area", (GAUSS_DIM,)
        ),
        Parameter(
            "Ek",
            "eV",
            Prior("Uniform", lower=0.0, upper=1.0),
            "Gaussian feature centre; ordered, uniform over the energy window",
            (GAUSS_DIM,),
        ),
        Parameter(
            "W",
            "eV",
            Prior("LogNormal", mu=math.log(2.0), sigma=0.75),
            "Gaussian feature FWHM",
            (GAUSS_DIM,),
        ),
        Parameter("c0", "μ", Prior("Normal", mu=0.0, sigma=1.0), "background level at E0"),
        Parameter(
            "c1", "μ/eV", Prior("Normal", mu=0.0, sigma=0.05), "background slope", role="instrument"
        ),
        Parameter(
            "sigma",
            "μ",
            Prior("HalfNormal", sigma=0.1),
            "noise standard deviation (when not known)",
            role="noise",
        ),
    )
)

_WINDOW_PARAMETERS = ("E0", "Ek")
_WHITE_LINE = ("A", "dE", "omega", "eta")
_GAUSSIANS = ("F", "Ek", "W")


# --------------------------------------------------------------------------------------
# Forward model (NumPy or PyTensor)
# --------------------------------------------------------------------------------------


def _prepare(energy, *values):
    xp = array_module(energy, *values)
    asarray = pt.as_tensor_variable if xp is pt else np.asarray
    return xp, asarray(energy), [None if v is None else asarray(v) for v in values]


def gaussian(energy, center, fwhm):
    r"""Area-normalised Gaussian :math:`G(E; c, w)` of FWHM ``fwhm`` (broadcasting)."""
    xp = array_module(energy, center, fwhm)
    u = (energy - center) / fwhm
    return math.sqrt(4 * _LN2 / math.pi) / fwhm * xp.exp(-4 * _LN2 * u**2)


def lorentzian(energy, center, fwhm):
    r"""Area-normalised Lorentzian :math:`L(E; c, w) = (w/2\pi) / ((E-c)^2 + w^2/4)`."""
    return fwhm / (2 * math.pi) / ((energy - center) ** 2 + fwhm**2 / 4)


def pseudo_voigt(energy, center, fwhm, eta):
    r"""Area-normalised pseudo-Voigt :math:`\eta L + (1 - \eta) G`, common FWHM."""
    return eta * lorentzian(energy, center, fwhm) + (1 - eta) * gaussian(energy, center, fwhm)


def step(energy, H, E0, Gamma):
    r"""Arctan edge step :math:`H[\tfrac12 + \tfrac1\pi \arctan((E-E_0)/(\Gamma/2))]`."""
    xp = array_module(energy, H, E0, Gamma)
    return H * (0.5 + xp.arctan((energy - E0) / (Gamma / 2)) / math.pi)


def components(
    energy, H, E0, Gamma, F=None, Ek=None, W=None, A=None, dE=None, omega=None, eta=None,
    c0=0.0, c1=0.0,
) -> dict:  # fmt: skip
    """Each term of :func:`forward` separately.

    Parameters
    ----------
    energy : array_like, shape (n,)
        Energies (eV).
    H, E0, Gamma, A, dE, omega, eta, c0, c1 : array_like, shape (...)
        Scalars or one value per draw (leading axes broadcast).
    F, Ek, W : array_like, shape (..., K), optional
        Areas, centres and FWHMs of the Gaussian features (none: K = 0).

    Returns
    -------
    dict
        ``step``, ``background`` (shape (..., n)), ``gaussians`` (shape (..., K, n), or
        absent for K = 0) and ``white_line`` (shape (..., n), if ``A`` is given).
        NumPy for NumPy inputs, PyTensor graphs otherwise.
    """
    scalars = (H, E0, Gamma, A, dE, omega, eta, c0, c1)
    _, energy, values = _prepare(energy, *scalars, F, Ek, W)
    H, E0, Gamma, A, dE, omega, eta, c0, c1, F, Ek, W = (
        None if v is None else v[..., None] for v in values
    )
    out = {"step": step(energy, H, E0, Gamma), "background": c0 + c1 * (energy - E0)}
    out["background"] = out["background"] + 0 * energy
    if A is not None:
        if dE is None or omega is None or eta is None:
            raise ValueError("the white line needs A, dE, omega and eta")
        out["white_line"] = A * pseudo_voigt(energy, E0 + dE, omega, eta)
    if F is not None:
        if Ek is None or W is None:
            raise ValueError("the Gaussian features need F, Ek and W")
        out["gaussians"] = F * gaussian(energy, Ek, W)
    return out


def forward(
    energy, H, E0, Gamma, F=None, Ek=None, W=None, A=None, dE=None, omega=None, eta=None,
    c0=0.0, c1=0.0,
):  # fmt: skip
    r"""The edge model :math:`\mu(E)` (module docstring), shape ``(..., n)``.

    Arguments as in :func:`components`; NumPy in, NumPy out; PyTensor in, graph out.
    """
    parts = components(energy, H, E0, Gamma, F, Ek, W, A, dE, omega, eta, c0, c1)
    total = parts["step"] + parts["background"]
    if "white_line" in parts:
        total = total + parts["white_line"]
    if "gaussians" in parts:
        total = total + parts["gaussians"].sum(axis=-2)
    return total


def centroid(F, Ek, mask=None):
    r"""Area-weighted centroid :math:`\sum_k F_k E_k / \sum_k F_k` (per draw).

    ``mask`` (shape (..., K), bool) selects the features counted (e.g. pre-edge ones);
    NaN where it selects none.
    """
    F, Ek = np.asarray(F, dtype=float), np.asarray(Ek, dtype=float)
    weight = F if mask is None else np.where(mask, F, 0.0)
    total = weight.sum(axis=-1)
    safe = np.where(total > 0, total, 1.0)
    return np.where(total > 0, (weight * Ek).sum(axis=-1) / safe, np.nan)


# --------------------------------------------------------------------------------------
# Data helpers
# --------------------------------------------------------------------------------------


def select_window(data: xr.Dataset, energy_window: tuple[float, float] | None) -> xr.Dataset:
    """The points with ``energy_window[0] <= E <= energy_window[1]`` (all when None).

    Raises
    ------
    ValueError
        A window that is not two increasing numbers or holds fewer than 5 points.
    """
    if energy_window is None:
        return data
    lo, hi = (float(v) for v in energy_window)
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"energy_window must be (low, high) with low < high, got {energy_window}")
    dim = next(iter(data.dims))
    window = data.sel({dim: slice(lo, hi)})
    if window.sizes[dim] < 5:
        raise ValueError(
            f"energy_window {energy_window} holds {window.sizes[dim]} points; need at least 5"
        )
    return window


def normalize(
    ds: xr.Dataset,
    e0: float,
    pre: tuple[float, float] = (-150.0, -30.0),
    post: tuple[float, float] = (50.0, 300.0),
) -> xr.Dataset:
    r"""Edge-step normalisation :math:`(\mu - p(E)) / s` (Athena's ``norm``).

    :math:`p` is the straight line fitted to μ over ``e0 + pre``, :math:`q` the
    quadratic fitted over ``e0 + post``, and :math:`s = q(E_0) - p(E_0)` the edge step.

    Parameters
    ----------
    ds : xarray.Dataset
        From :func:`measurement_models.xafs_io.load_xafs` (``mu`` on ``energy``).
    e0 : float
        Edge energy (eV) for the normalisation ranges.
    pre, post : (float, float)
        Ranges relative to ``e0`` (eV).

    Returns
    -------
    xarray.Dataset
        ``intensity`` (normalised μ) on ``energy``; if ``ds`` has raw ``counts``, also
        ``counts``, ``exposure`` :math:`= s\,I_0/d` and ``offset`` :math:`= p/s`, so that
        the expected counts are ``exposure * (offset + intensity)``. ``attrs``: the
        source's plus ``e0``, ``edge_step``, ``pre_line`` (slope, intercept).

    Raises
    ------
    ValueError
        No ``mu``, fewer than 3 points in a range, or a non-positive edge step.
    """
    validate_dataset(ds, variables=["mu"], axis=AXIS)
    energy, mu = ds[AXIS].values, ds["mu"].values
    fits = []
    for name, (lo, hi), degree in (("pre", pre, 1), ("post", post, 2)):
        inside = (energy >= e0 + lo) & (energy <= e0 + hi)
        if inside.sum() < 3:
            raise ValueError(f"the {name}-edge range e0 + {(lo, hi)} holds {inside.sum()} points")
        fits.append(np.polyfit(energy[inside], mu[inside], degree))
    pre_fit, post_fit = fits
    edge_step = np.polyval(post_fit, e0) - np.polyval(pre_fit, e0)
    if not edge_step > 0:
        raise ValueError(f"edge step at e0 = {e0} is not positive ({edge_step:g})")
    line = np.polyval(pre_fit, energy)
    attrs = {**ds.attrs, "e0": float(e0), "edge_step": float(edge_step)}
    attrs["pre_line"] = np.asarray(pre_fit, dtype=float)
    out = make_dataset(
        energy, (mu - line) / edge_step, axis=AXIS, axis_units="eV", variable=VARIABLE, attrs=attrs
    )
    if "counts" in ds and "I0" in ds and "dead_time" in ds:
        out["counts"] = (AXIS, ds["counts"].values)
        out["exposure"] = (AXIS, edge_step * ds["I0"].values / ds["dead_time"].values)
        out["offset"] = (AXIS, line / edge_step)
    return out


# --------------------------------------------------------------------------------------
# PyMC model
# --------------------------------------------------------------------------------------


def parameter_names(n_gaussians: int, white_line: bool = True) -> list[str]:
    """The model's parameters (without ``sigma``) for K Gaussians, with or without white line."""
    names = ["H", "E0", "Gamma"]
    if white_line:
        names += list(_WHITE_LINE)
    if n_gaussians > 0:
        names += list(_GAUSSIANS)
    return [*names, "c0", "c1"]


def _window_prior(name: str, lo: float, hi: float, n_gaussians: int) -> PriorSpec:
    """Uniform over [lo, hi]; ordered (with log K! restoring the mass) for ``Ek``."""

    def create(var_name: str, dims: tuple[str, ...] = ()) -> pt.TensorVariable:
        bounds = {"lower": np.float64(lo), "upper": np.float64(hi)}
        if name != "Ek":
            return pm.Uniform(var_name, **bounds, dims=dims or None)
        start = np.linspace(lo, hi, n_gaussians + 2)[1:-1]
        variable = pm.Uniform(
            var_name,
            **bounds,
            dims=dims or None,
            transform=pm.distributions.transforms.ordered,
            initval=start,
        )
        if n_gaussians > 1:
            pm.Potential(f"{var_name}_order", pt.constant(math.lgamma(n_gaussians + 1)))
        return variable

    return create


def add_priors(
    n_gaussians: int,
    energy_window: tuple[float, float],
    priors: Mapping[str, PriorSpec] | None = None,
    white_line: bool = True,
    prefix: str = "",
) -> dict[str, pt.TensorVariable]:
    """Add the edge-model priors to the current model (and its ``gaussian`` coordinate).

    Parameters
    ----------
    n_gaussians : int
        Number K ≥ 0 of Gaussian features.
    energy_window : (float, float)
        Bounds (eV) of the uniform priors of ``E0`` and ``Ek``.
    priors : mapping, optional
        Overrides by parameter name.
    white_line : bool
        Include the pseudo-Voigt white line.
    prefix : str
        Prepended to every variable name.

    Returns
    -------
    dict
        Parameter name (without prefix) to PyMC variable.
    """
    n_gaussians = _check_k(n_gaussians)
    wanted = parameter_names(n_gaussians, white_line)
    priors = dict(priors or {})
    unknown = sorted(set(priors) - set(wanted) - {"sigma"})
    if unknown:
        raise ValueError(f"prior given for parameter(s) {unknown} not in this model: {wanted}")
    lo, hi = energy_window
    for name in _WINDOW_PARAMETERS:
        priors.setdefault(name, _window_prior(name, lo, hi, n_gaussians))
    model = pm.modelcontext(None)
    if n_gaussians and GAUSS_DIM not in model.coords:
        model.add_coord(GAUSS_DIM, np.arange(n_gaussians))
    return PARAMETERS.add_priors(wanted, {k: v for k, v in priors.items() if k in wanted}, prefix)


def _check_k(n_gaussians) -> int:
    if isinstance(n_gaussians, bool) or int(n_gaussians) != n_gaussians or n_gaussians < 0:
        raise ValueError(f"n_gaussians must be an integer ≥ 0, got {n_gaussians!r}")
    return int(n_gaussians)


def add_likelihood(
    data: xr.Dataset,
    params: Mapping[str, pt.TensorVariable],
    *,
    noise: str = "gaussian",
    sigma: float | None = None,
    priors: Mapping[str, PriorSpec] | None = None,
    name: str | None = None,
    mutable_data: bool = False,
) -> pt.TensorVariable:
    """Add the likelihood of one spectrum (already cut to its window) to the current model.

    ``noise="gaussian"``: ``intensity`` ~ Normal(μ(E), σ) with σ given, the data's
    ``sigma`` or a parameter. ``noise="poisson"``: ``counts`` ~
    Poisson(``exposure`` · (``offset`` + μ(E))), see :func:`normalize`.
    ``mutable_data=True`` puts the energies and the data in ``pm.Data`` containers
    (``<name>_energy``, ``<name>_observed``, ...), so that models of the same K and size
    share one numba-compiled graph across spectra.
    """
    check_choice(noise, NOISE_KINDS, "noise model")
    if noise == "poisson":
        validate_dataset(data, variables=["exposure", "offset"], counts=[COUNTS])
        if np.any(data["exposure"].values <= 0):
            raise ValueError("exposure must be positive everywhere")
    else:
        validate_dataset(data, variables=[VARIABLE])
    name = name or (COUNTS if noise == "poisson" else VARIABLE)
    values = {"energy": data[next(iter(data.dims))].values}
    values["observed"] = data[COUNTS if noise == "poisson" else VARIABLE].values
    if noise == "poisson":
        values |= {"exposure": data["exposure"].values, "offset": data["offset"].values}
    if mutable_data:
        values = {key: pm.Data(f"{name}_{key}", value) for key, value in values.items()}
    names = ("H", "E0", "Gamma", "F", "Ek", "W", "A", "dE", "omega", "eta", "c0", "c1")
    mean = forward(values["energy"], *(params.get(n) for n in names))
    if noise == "poisson":
        rate = values["exposure"] * (values["offset"] + mean)
        return pm.Poisson(name, mu=rate, observed=values["observed"])
    sd = noise_sd(data, sigma, PARAMETERS, priors)
    return pm.Normal(name, mu=mean, sigma=sd, observed=values["observed"])


def build_model(
    data: xr.Dataset,
    n_gaussians: int = 2,
    energy_window: tuple[float, float] | None = None,
    white_line: bool = True,
    noise: str = "gaussian",
    sigma: float | None = None,
    priors: Mapping[str, PriorSpec] | None = None,
    mutable_data: bool = False,
) -> pm.Model:
    """PyMC model of a XANES spectrum: step + white line + ``n_gaussians`` Gaussians.

    Parameters
    ----------
    data : xarray.Dataset
        ``intensity`` (normalised μ; :func:`normalize`, :func:`simulate`) on ``energy``
        [eV]; for Poisson noise also ``counts``, ``exposure``, ``offset``.
    n_gaussians : int
        Number K ≥ 0 of Gaussian features.
    energy_window : (float, float), optional
        Fit only these energies (eV); also the range of the uniform energy priors.
        Default: the whole data range (then the priors span its first to last energy).
    white_line : bool
        Include the pseudo-Voigt white line (off for a pre-edge window).
    noise : {"gaussian", "poisson"}
    sigma : float, optional
        Known Gaussian noise sd (else the data's ``sigma``, else a parameter).
    priors : mapping, optional
        Prior overrides by parameter name.
    mutable_data : bool
        Data in ``pm.Data`` containers (see :func:`add_likelihood`): spectra with the
        same window, K and number of points then share one compiled graph.

    Returns
    -------
    pymc.Model
        Free variables as in :data:`PARAMETERS` (``F``, ``Ek``, ``W`` with dim
        ``gaussian``); observed ``intensity`` (or ``counts``).

    Raises
    ------
    ValueError
        Bad data (via :func:`~measurement_models.data.validate_dataset`), a bad K,
        window or noise model, ``sigma`` with Poisson noise, unknown prior names.
    """
    check_choice(noise, NOISE_KINDS, "noise model")
    required = [COUNTS, "exposure", "offset"] if noise == "poisson" else [VARIABLE]
    validate_dataset(data, variables=required, counts=[COUNTS] if noise == "poisson" else False)
    if noise == "poisson" and sigma is not None:
        raise ValueError("sigma is for Gaussian noise; Poisson counts have no free noise level")
    n_gaussians = _check_k(n_gaussians)
    window = select_window(data, energy_window)
    energy = window[next(iter(window.dims))].values
    bounds = (
        (float(energy_window[0]), float(energy_window[1]))
        if energy_window is not None
        else (float(energy[0]), float(energy[-1]))
    )
    coords = {GAUSS_DIM: np.arange(n_gaussians)} if n_gaussians else {}
    with pm.Model(coords=coords) as model:
        params = add_priors(n_gaussians, bounds, priors, white_line)
        add_likelihood(
            window, params, noise=noise, sigma=sigma, priors=priors, mutable_data=mutable_data
        )
    return model


# --------------------------------------------------------------------------------------
# Simulation, example, plotting
# --------------------------------------------------------------------------------------


def simulate(
    energy: np.ndarray,
    truth: Mapping[str, object],
    sigma: float,
    rng: np.random.Generator | int | None = None,
) -> xr.Dataset:
    """A normalised XANES spectrum μ(E) + N(0, σ²) from ``truth`` (names of :data:`PARAMETERS`).

    The truth is kept in ``attrs`` as ``truth_<name>`` (and ``truth_sigma``).
    """
    rng = np.random.default_rng(rng)
    energy = np.asarray(energy, dtype=float)
    unknown = sorted(set(truth) - set(PARAMETERS.names))
    if unknown:
        raise ValueError(f"unknown parameter(s) {unknown} in truth")
    if not np.isfinite(sigma) or sigma <= 0:
        raise ValueError(f"sigma must be positive and finite, got {sigma!r}")
    mean = forward(energy, **{k: np.asarray(v, dtype=float) for k, v in truth.items()})
    attrs = {f"truth_{k}": np.asarray(v, dtype=float) for k, v in truth.items()}
    return make_dataset(
        energy,
        mean + sigma * rng.standard_normal(energy.shape),
        sigma=np.full(energy.shape, float(sigma)),
        axis=AXIS,
        axis_units="eV",
        variable=VARIABLE,
        attrs={**attrs, "truth_sigma": float(sigma)},
    )


#: Prior overrides for a pre-edge window of a normalised K-edge spectrum (no white line):
#: features no broader than the core hole plus a Si(111) monochromator allow (FWHM
#: median 1.5 eV, 95 % within 0.56–4.0 eV), and the background near zero that the
#: pre-edge-line subtraction of :func:`normalize` leaves (level ±0.05, slope ±0.005/eV).
PRE_EDGE_PRIORS = {
    "W": Prior("LogNormal", mu=math.log(1.5), sigma=0.5),
    "c0": Prior("Normal", mu=0.0, sigma=0.05),
    "c1": Prior("Normal", mu=0.0, sigma=0.005),
}

#: Truth of :func:`example_data`: an Fe K-edge-like spectrum with two pre-edge features.
EXAMPLE_TRUTH = {
    "H": 1.0,
    "E0": 7122.0,
    "Gamma": 3.0,
    "A": 4.0,
    "dE": 8.0,
    "omega": 6.0,
    "eta": 0.5,
    "F": np.array([0.08, 0.05]),
    "Ek": np.array([7112.5, 7114.0]),
    "W": np.array([1.5, 1.8]),
    "c0": 0.0,
    "c1": 0.002,
}


def example_data(rng: np.random.Generator | int | None = 0) -> tuple[xr.Dataset, dict]:
    """A small simulated Fe K-edge spectrum (7100–7160 eV, 61 points, σ = 0.01)."""
    data = simulate(np.linspace(7100.0, 7160.0, 61), EXAMPLE_TRUTH, sigma=0.01, rng=rng)
    return data, dict(EXAMPLE_TRUTH)


def plot_fit(ax, data: xr.Dataset, posterior: xr.Dataset, **_) -> None:
    """Data, posterior band of μ(E), components at the posterior mean, truth if known."""
    from .plotting import plot_band, plot_data, posterior_draws

    (dim,) = data[VARIABLE].dims
    energy = data[dim].values
    draws = posterior_draws(posterior)
    names = ("H", "E0", "Gamma", "F", "Ek", "W", "A", "dE", "omega", "eta", "c0", "c1")
    values = {n: draws[n].values for n in names if n in draws}
    plot_data(ax, data, VARIABLE)
    plot_band(ax, energy, forward(energy, **values))
    mean = {n: draws[n].mean("sample").values for n in values}
    parts = components(energy, **mean)
    base = parts["background"]
    ax.plot(energy, parts["step"] + base, color="C2", lw=1, label="step + background")
    if "white_line" in parts:
        ax.plot(energy, parts["white_line"] + base, color="C4", lw=1, label="white line")
    for k, peak in enumerate(parts.get("gaussians", [])):
        ax.plot(energy, peak + base, color="C0", lw=1, label="Gaussians" if k == 0 else None)
    truth = {n: data.attrs[f"truth_{n}"] for n in names if f"truth_{n}" in data.attrs}
    if truth:
        ax.plot(energy, forward(energy, **truth), "k--", lw=1, label="truth")
    ax.set_ylabel("normalised μ")
    ax.legend(fontsize="small")
