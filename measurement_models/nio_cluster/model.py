"""The NiO PyMC model: parameter table, priors, likelihood of one spectrum, simulation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from .. import core_level
from ..data import make_dataset, validate_dataset
from ..hermitian import reject_non_finite
from ..noise import noise_sd
from ..parameters import Parameter, ParameterTable, Prior, PriorSpec
from .physics import PER_SPECTRUM, PHYSICAL, SPECTRA, check_spectrum, forward
from .references import REFERENCES

__all__ = [
    "AXIS",
    "PARAMETERS",
    "VARIABLE",
    "add_likelihood",
    "add_priors",
    "build_model",
    "example_data",
    "simulate",
    "simulate_pair",
]

#: Name of the measured data variable.
VARIABLE = "intensity"
#: Name of the measurement axis: energy in eV (relative convention).
AXIS = "energy"
_FORWARD = PHYSICAL + PER_SPECTRUM

#: Parameters, units, default priors (ours: uniform boxes) and roles.
PARAMETERS = ParameterTable(
    (
        Parameter(
            "delta",
            "eV",
            Prior("Uniform", lower=1.0, upper=10.0),
            "e_g charge-transfer energy Δ = E(d⁹L) − E(d⁸) (= Δ_avg + 6Dq)",
        ),
        Parameter(
            "v",
            "eV",
            Prior("Uniform", lower=0.5, upper=4.0),
            "e_g hybridisation V of one d spin-orbital with its ligand partner",
        ),
        Parameter("u_dd", "eV", Prior("Uniform", lower=3.0, upper=12.0), "d–d Coulomb energy U_dd"),
        Parameter(
            "u_dc",
            "eV",
            Prior("Uniform", lower=4.0, upper=14.0),
            "core-hole–d Coulomb energy U_dc",
        ),
        Parameter(
            "gamma",
            "eV",
            Prior("Uniform", lower=0.05, upper=2.0),
            "Lorentzian half width Γ (core-hole lifetime)",
        ),
        Parameter(
            "amplitude",
            "intensity",
            Prior("Uniform", lower=0.0, upper=5.0),
            "total intensity scale of one spectrum (dipole factors absorbed)",
            role="instrument",
        ),
        Parameter(
            "background",
            "intensity",
            Prior("Uniform", lower=-0.5, upper=0.5),
            "constant background of one spectrum",
            role="instrument",
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


def add_priors(
    data: xr.Dataset | None = None,
    *,
    priors: Mapping[str, PriorSpec] | None = None,
    fixed: Mapping[str, object] | None = None,
    prefix: str = "",
    names: Sequence[str] | None = None,
) -> dict[str, pt.TensorVariable]:
    """Add the priors of the union of the XPS and XAS parameters to the current model.

    Parameters
    ----------
    data : xarray.Dataset, optional
        Not used: the default priors do not depend on the data.
    priors : mapping, optional
        Prior overrides by parameter name.
    fixed : mapping, optional
        Parameters held at a value (constants, not variables).
    prefix : str
        Prepended to every variable name (see
        :func:`measurement_models.integration.integrated_model`).
    names : sequence of str, optional
        Only these parameters (default: the five physical ones, amplitude and
        background; ``sigma`` only when named).

    Returns
    -------
    dict
        Parameter name (without prefix) to PyMC variable or constant.
    """
    names = list(_FORWARD if names is None else names)
    unknown = [name for name in names if name not in PARAMETERS.names]
    if unknown:
        raise ValueError(f"no parameter(s) {unknown}; parameters: {PARAMETERS.names}")
    return PARAMETERS.add_priors(names, priors, prefix=prefix, fixed=fixed)


def _check_data_spectrum(data: xr.Dataset, spectrum: str) -> None:
    recorded = data.attrs.get("spectrum")
    if recorded is not None and recorded != spectrum:
        raise ValueError(
            f"the data are a {recorded!r} spectrum, the model was asked for {spectrum!r}"
        )


def add_likelihood(
    data: xr.Dataset,
    params: Mapping[str, pt.TensorVariable],
    *,
    sigma=None,
    name: str = VARIABLE,
    spectrum: str = "xps",
    resolution: float | None = None,
    spin_orbit: tuple[float, float] | None = None,
    mutable_data: bool = False,
) -> pt.TensorVariable:
    """Add the Gaussian likelihood of one spectrum to the current model.

    A failed eigensolve (non-finite forward values) gives a log-density of −∞ through
    the potential ``<name>_forward_finite``. Use :func:`functools.partial` to fix
    ``spectrum`` for :class:`measurement_models.integration.Measurement`.

    Parameters
    ----------
    data : xarray.Dataset
        ``intensity`` along ``energy`` (eV); a ``spectrum`` attribute, if present, must
        agree with ``spectrum``.
    params : mapping
        Parameter name to variable; the seven of
        :func:`~measurement_models.nio_cluster.forward` are used.
    sigma : float, array or TensorVariable, optional
        Noise standard deviation; default: the data's ``sigma`` variable.
    name : str
        Name of the observed variable.
    spectrum : {"xps", "xas"}
    resolution, spin_orbit
        As for :func:`~measurement_models.nio_cluster.forward`.
    mutable_data : bool
        The intensities (and the data's ``sigma``) in ``pm.Data`` containers
        ``<name>_observed`` (``<name>_sigma``).
    """
    check_spectrum(spectrum)
    validate_dataset(data, variables=[VARIABLE])
    _check_data_spectrum(data, spectrum)
    observed = data[VARIABLE].values
    if sigma is None:
        if "sigma" not in data.data_vars:
            raise ValueError("no noise level: pass sigma or give the data a 'sigma' variable")
        sigma = data["sigma"].values
        if mutable_data:
            sigma = pm.Data(f"{name}_sigma", sigma)
    if mutable_data:
        observed = pm.Data(f"{name}_observed", observed)
    energy = data[data[VARIABLE].dims[0]].values
    mean = forward(
        energy,
        spectrum=spectrum,
        resolution=resolution,
        spin_orbit=spin_orbit,
        **{key: params[key] for key in _FORWARD},
    )
    mean = reject_non_finite(mean, name=f"{name}_forward_finite")
    return pm.Normal(name, mu=mean, sigma=sigma, observed=observed)


def build_model(
    data: xr.Dataset,
    *,
    spectrum: str = "xps",
    resolution: float | None = None,
    spin_orbit: tuple[float, float] | None = None,
    priors: Mapping[str, PriorSpec] | None = None,
    sigma: float | None = None,
    fixed: Mapping[str, object] | None = None,
    mutable_data: bool = False,
    prefix: str | None = None,
) -> pm.Model:
    """PyMC model of one Ni 2p spectrum (XPS or XAS).

    Parameters
    ----------
    data : xarray.Dataset
        ``intensity`` along ``energy`` (eV); a ``spectrum`` attribute, if present, must
        agree with ``spectrum``.
    spectrum : {"xps", "xas"}
    resolution, spin_orbit
        As for :func:`~measurement_models.nio_cluster.forward`.
    priors : mapping, optional
        Prior overrides by parameter name.
    sigma : float, optional
        Known noise standard deviation; default: the data's ``sigma`` variable, or a
        free ``sigma`` with the table's prior.
    fixed : mapping, optional
        Parameters held at a value.
    mutable_data : bool
        The measurement in ``pm.Data`` containers (see :func:`add_likelihood`).
    prefix : str, optional
        Prepended to every variable name.

    Returns
    -------
    pymc.Model
        Free variables ``delta, v, u_dd, u_dc, gamma, amplitude, background`` (and
        ``sigma``); observed ``intensity``.
    """
    check_spectrum(spectrum)
    validate_dataset(data, variables=[VARIABLE])
    _check_data_spectrum(data, spectrum)
    core_level.check_broadening(resolution, spin_orbit)
    prefix = prefix or ""
    with pm.Model() as model:
        params = add_priors(data, priors=priors, fixed=fixed, prefix=prefix)
        if sigma is not None or "sigma" not in data.data_vars:  # else the likelihood reads it
            sigma = noise_sd(data, sigma, PARAMETERS, priors, prefix=prefix, fixed=fixed)
        add_likelihood(
            data,
            params,
            sigma=sigma,
            name=prefix + VARIABLE,
            spectrum=spectrum,
            resolution=resolution,
            spin_orbit=spin_orbit,
            mutable_data=mutable_data,
        )
    return model


def simulate(
    energy,
    *,
    rng: np.random.Generator | int | None = None,
    sigma: float,
    spectrum: str = "xps",
    resolution: float | None = None,
    spin_orbit: tuple[float, float] | None = None,
    **params: float,
) -> xr.Dataset:
    """One noisy spectrum; the truth in ``attrs`` (``truth_<name>``, ``truth_sigma``).

    ``params``: the seven parameters of :func:`~measurement_models.nio_cluster.forward`,
    one value each.

    Raises
    ------
    ValueError
        As :func:`~measurement_models.nio_cluster.forward`, and for a σ that is not
        positive and finite.
    """
    if not (np.isfinite(sigma) and sigma > 0):
        raise ValueError(f"sigma must be positive and finite, got {sigma!r}")
    rng = np.random.default_rng(rng)
    energy = core_level.check_energy_grid(energy)
    mean = forward(
        energy, spectrum=spectrum, resolution=resolution, spin_orbit=spin_orbit, **params
    )
    if mean.ndim != 1:
        raise ValueError("simulate takes one value per parameter")
    y = mean + sigma * rng.standard_normal(energy.size)
    attrs = {f"truth_{name}": float(params[name]) for name in _FORWARD}
    attrs |= {"truth_sigma": float(sigma), "spectrum": spectrum}
    if resolution is not None:
        attrs["resolution"] = float(resolution)
    if spin_orbit is not None:
        attrs["spin_orbit"] = np.asarray(spin_orbit, dtype=float)
    return make_dataset(
        energy,
        y,
        sigma=np.full(energy.size, float(sigma)),
        axis=AXIS,
        axis_units="eV",
        variable=VARIABLE,
        attrs=attrs,
    )


def simulate_pair(
    energies: Mapping[str, np.ndarray],
    *,
    rng: np.random.Generator | int | None = None,
    snr: float,
    resolution: float | None = None,
    spin_orbit: tuple[float, float] | None = None,
    **params: float,
) -> tuple[xr.Dataset, xr.Dataset]:
    r"""XPS and XAS of one sample at the same signal-to-noise ratio.

    :math:`\sigma_k = \max_\omega [I_k(\omega) - B] / \mathrm{snr}` for each spectrum
    (peak height above the background over the S/N). The same parameters ``params``
    (amplitude and background included) are used for both; XPS noise is drawn first.

    Parameters
    ----------
    energies : mapping
        The energy grid of each spectrum, ``{"xps": ..., "xas": ...}``.
    rng : Generator or int, optional
    snr : float
        Signal-to-noise ratio of both spectra.
    resolution, spin_orbit
        As for :func:`~measurement_models.nio_cluster.forward`.
    **params
        The seven parameters of :func:`~measurement_models.nio_cluster.forward`.

    Returns
    -------
    (xps, xas) : tuple of xarray.Dataset
    """
    if not (np.isfinite(snr) and snr > 0):
        raise ValueError(f"snr must be positive and finite, got {snr!r}")
    rng = np.random.default_rng(rng)
    options = {"resolution": resolution, "spin_orbit": spin_orbit}
    out = []
    for spectrum in SPECTRA:
        energy = core_level.check_energy_grid(energies[spectrum])
        clean = forward(energy, spectrum=spectrum, **options, **params)
        sigma = float(np.max(clean - params["background"])) / snr
        out.append(simulate(energy, rng=rng, sigma=sigma, spectrum=spectrum, **options, **params))
    return out[0], out[1]


def example_data(rng: np.random.Generator | int | None = 0) -> tuple[xr.Dataset, dict]:
    """The illustrative XPS spectrum (201 points, S/N 100) and its truth.

    The settings of ``REFERENCES["illustrative_nio"]``.
    """
    settings = REFERENCES["illustrative_nio"]
    xps, _ = simulate_pair(settings.x, rng=rng, **settings.params)
    return xps, {name: settings.params[name] for name in _FORWARD}
