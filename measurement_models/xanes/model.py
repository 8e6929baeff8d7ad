r"""The PyMC model of a XANES spectrum: parameter table, priors, likelihood, ``build_model``.

See :mod:`measurement_models.xanes` for the model and its priors.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from ..data import validate_dataset
from ..noise import noise_sd
from ..parameters import Parameter, ParameterTable, Prior, PriorSpec, check_choice
from .datasets import COUNTS, VARIABLE, select_window
from .physics import FORWARD_PARAMETERS, forward

__all__ = [
    "GAUSS_DIM",
    "NOISE_KINDS",
    "PARAMETERS",
    "PRE_EDGE_PRIORS",
    "add_likelihood",
    "add_priors",
    "build_model",
    "parameter_names",
]

#: Dimension of the per-feature parameters ``F``, ``Ek``, ``W``.
GAUSS_DIM = "gaussian"
#: Noise models of :func:`build_model`: Gaussian on normalised μ, Poisson on raw counts.
NOISE_KINDS = ("gaussian", "poisson")

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

#: Prior overrides for a pre-edge window of a normalised K-edge spectrum (no white line):
#: features no broader than the core hole plus a Si(111) monochromator allow (FWHM
#: median 1.5 eV, 95 % within 0.56–4.0 eV), and the background near zero that the
#: pre-edge-line subtraction of :func:`~measurement_models.xanes.normalize` leaves (level
#: ±0.05, slope ±0.005/eV). This package's choice for the Fe K pre-edge case studies,
#: not a published prior.
PRE_EDGE_PRIORS = {
    "W": Prior("LogNormal", mu=math.log(1.5), sigma=0.5),
    "c0": Prior("Normal", mu=0.0, sigma=0.05),
    "c1": Prior("Normal", mu=0.0, sigma=0.005),
}

_WINDOW_PARAMETERS = ("E0", "Ek")
_WHITE_LINE = ("A", "dE", "omega", "eta")
_GAUSSIANS = ("F", "Ek", "W")


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


def _check_k(n_gaussians) -> int:
    if isinstance(n_gaussians, bool) or int(n_gaussians) != n_gaussians or n_gaussians < 0:
        raise ValueError(f"n_gaussians must be an integer ≥ 0, got {n_gaussians!r}")
    return int(n_gaussians)


def _bounds(
    data: xr.Dataset | None, energy_window: tuple[float, float] | None
) -> tuple[float, float]:
    """The range of the uniform energy priors: the window, else the data's energies."""
    if energy_window is not None:
        return float(energy_window[0]), float(energy_window[1])
    if data is None:
        raise ValueError("the energy priors need an energy_window or the data to span")
    energy = data[next(iter(data.dims))].values
    return float(energy[0]), float(energy[-1])


def add_priors(
    data: xr.Dataset | None = None,
    *,
    n_gaussians: int = 2,
    energy_window: tuple[float, float] | None = None,
    white_line: bool = True,
    priors: Mapping[str, PriorSpec] | None = None,
    fixed: Mapping[str, object] | None = None,
    prefix: str = "",
    names: Sequence[str] | None = None,
) -> dict[str, pt.TensorVariable]:
    """Add the edge-model priors to the current model (and its ``gaussian`` coordinate).

    Parameters
    ----------
    data : xarray.Dataset, optional
        The spectrum: without ``energy_window``, the uniform priors of ``E0`` and ``Ek``
        span its first to last energy.
    n_gaussians : int
        Number K ≥ 0 of Gaussian features.
    energy_window : (float, float), optional
        Bounds (eV) of the uniform priors of ``E0`` and ``Ek``.
    white_line : bool
        Include the pseudo-Voigt white line.
    priors : mapping, optional
        Overrides by parameter name.
    fixed : mapping, optional
        Parameters held at a value (one value per feature for ``F``, ``Ek``, ``W``).
    prefix : str
        Prepended to every variable name.
    names : sequence of str, optional
        Only these of the model's parameters (default: all of them).

    Returns
    -------
    dict
        Parameter name (without prefix) to PyMC variable.

    Raises
    ------
    ValueError
        A bad K, neither data nor window, or ``priors``, ``fixed`` or ``names`` naming a
        parameter the model does not have.
    """
    n_gaussians = _check_k(n_gaussians)
    every = parameter_names(n_gaussians, white_line)
    priors = dict(priors or {})
    for what, given in (("prior", priors), ("fixed value", fixed or {}), ("name", names or ())):
        unknown = sorted(set(given) - set(every) - ({"sigma"} if what != "name" else set()))
        if unknown:
            raise ValueError(f"{what} given for parameter(s) {unknown} not in this model: {every}")
    wanted = every if names is None else [name for name in every if name in names]
    lo, hi = _bounds(data, energy_window)
    for name in _WINDOW_PARAMETERS:
        priors.setdefault(name, _window_prior(name, lo, hi, n_gaussians))
    model = pm.modelcontext(None)
    if n_gaussians and GAUSS_DIM not in model.coords:
        model.add_coord(GAUSS_DIM, np.arange(n_gaussians))
    chosen = {k: v for k, v in priors.items() if k in every}
    return PARAMETERS.add_priors(wanted, chosen, prefix=prefix, fixed=fixed)


def add_likelihood(
    data: xr.Dataset,
    params: Mapping[str, pt.TensorVariable],
    *,
    sigma: float | np.ndarray | pt.TensorVariable | None = None,
    name: str = VARIABLE,
    noise: str = "gaussian",
    energy_window: tuple[float, float] | None = None,
    mutable_data: bool = False,
) -> pt.TensorVariable:
    """Add the likelihood of one spectrum to the current model.

    ``noise="gaussian"``: ``intensity`` ~ Normal(μ(E), σ) with σ given or the data's
    ``sigma``. ``noise="poisson"``: ``counts`` ~ Poisson(``exposure`` · (``offset`` +
    μ(E))), see :func:`~measurement_models.xanes.normalize`.

    Parameters
    ----------
    data : xarray.Dataset
        The spectrum (:func:`~measurement_models.xanes.load`,
        :func:`~measurement_models.xanes.simulate`).
    params : mapping
        The model's parameters (:func:`add_priors`).
    sigma : float, ndarray or TensorVariable, optional
        Gaussian noise standard deviation; default: the data's ``sigma`` variable.
    name : str
        Name of the observed variable (:func:`build_model` names Poisson counts
        ``counts``).
    noise : {"gaussian", "poisson"}
    energy_window : (float, float), optional
        Fit only these energies (eV).
    mutable_data : bool
        Put the energies and the data in ``pm.Data`` containers (``<name>_energy``,
        ``<name>_observed``, ...), so that models of the same K and size share one
        numba-compiled graph across spectra.

    Raises
    ------
    ValueError
        Bad data, a bad window, ``sigma`` with Poisson noise, non-positive exposure, or
        no Gaussian noise level (neither ``sigma`` nor a ``sigma`` variable).
    """
    check_choice(noise, NOISE_KINDS, "noise model")
    if noise == "poisson":
        if sigma is not None:
            raise ValueError("sigma is for Gaussian noise; Poisson counts have no free noise level")
        validate_dataset(data, variables=["exposure", "offset"], counts=[COUNTS])
    else:
        validate_dataset(data, variables=[VARIABLE])
    data = select_window(data, energy_window)
    if noise == "poisson" and np.any(data["exposure"].values <= 0):
        raise ValueError("exposure must be positive everywhere")
    values = {"energy": data[next(iter(data.dims))].values}
    values["observed"] = data[COUNTS if noise == "poisson" else VARIABLE].values
    if noise == "poisson":
        values |= {"exposure": data["exposure"].values, "offset": data["offset"].values}
    if mutable_data:
        values = {key: pm.Data(f"{name}_{key}", value) for key, value in values.items()}
    mean = forward(values["energy"], **{n: params[n] for n in FORWARD_PARAMETERS if n in params})
    if noise == "poisson":
        rate = values["exposure"] * (values["offset"] + mean)
        return pm.Poisson(name, mu=rate, observed=values["observed"])
    return pm.Normal(name, mu=mean, sigma=noise_sd(data, sigma), observed=values["observed"])


def build_model(
    data: xr.Dataset,
    *,
    n_gaussians: int = 2,
    energy_window: tuple[float, float] | None = None,
    white_line: bool = True,
    noise: str = "gaussian",
    priors: Mapping[str, PriorSpec] | None = None,
    sigma: float | None = None,
    fixed: Mapping[str, object] | None = None,
    mutable_data: bool = False,
    prefix: str | None = None,
) -> pm.Model:
    """PyMC model of a XANES spectrum: step + white line + ``n_gaussians`` Gaussians.

    Parameters
    ----------
    data : xarray.Dataset
        ``intensity`` (normalised μ; :func:`~measurement_models.xanes.load`,
        :func:`~measurement_models.xanes.simulate`) on ``energy`` [eV]; for Poisson noise
        also ``counts``, ``exposure``, ``offset``.
    n_gaussians : int
        Number K ≥ 0 of Gaussian features.
    energy_window : (float, float), optional
        Fit only these energies (eV); also the range of the uniform energy priors.
        Default: the whole data range (then the priors span its first to last energy).
    white_line : bool
        Include the pseudo-Voigt white line (off for a pre-edge window).
    noise : {"gaussian", "poisson"}
    priors : mapping, optional
        Prior overrides by parameter name.
    sigma : float, optional
        Known Gaussian noise sd (else the data's ``sigma``, else a parameter).
    fixed : mapping, optional
        Parameters held at a value; ``{"sigma": s}`` is a known noise level.
    mutable_data : bool
        Data in ``pm.Data`` containers (see :func:`add_likelihood`): spectra with the
        same window, K and number of points then share one compiled graph.
    prefix : str, optional
        Prepended to the name of every variable (the ``gaussian`` dim keeps its name).

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
    poisson = noise == "poisson"
    required = [COUNTS, "exposure", "offset"] if poisson else [VARIABLE]
    validate_dataset(data, variables=required, counts=[COUNTS] if poisson else False)
    if poisson and (sigma is not None or "sigma" in (fixed or {})):
        raise ValueError("sigma is for Gaussian noise; Poisson counts have no free noise level")
    n_gaussians = _check_k(n_gaussians)
    window = select_window(data, energy_window)
    prefix = prefix or ""
    coords = {GAUSS_DIM: np.arange(n_gaussians)} if n_gaussians else {}
    with pm.Model(coords=coords) as model:
        params = add_priors(
            window,
            n_gaussians=n_gaussians,
            energy_window=energy_window,
            white_line=white_line,
            priors=priors,
            fixed=fixed,
            prefix=prefix,
        )
        sd = (
            None
            if poisson
            else noise_sd(window, sigma, PARAMETERS, priors, prefix=prefix, fixed=fixed)
        )
        add_likelihood(
            window,
            params,
            sigma=sd,
            name=prefix + (COUNTS if poisson else VARIABLE),
            noise=noise,
            mutable_data=mutable_data,
        )
    return model
