"""The Ce 3d XPS PyMC model: parameter table, data-scaled priors, likelihood, simulation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from .. import core_level, hermitian
from ..data import make_dataset, validate_dataset
from ..parameters import Parameter, ParameterTable, Prior, PriorSpec
from .physics import check_configurations, forward
from .references import REFERENCES

__all__ = [
    "AXIS",
    "PARAMETERS",
    "VARIABLE",
    "add_likelihood",
    "add_priors",
    "build_model",
    "example_data",
    "parameter_names",
    "prior_scales",
    "simulate",
]

#: Name of the measured data variable.
VARIABLE = "intensity"
#: Name of the measurement axis: E_f − E_g in eV (relative convention).
AXIS = "energy"

#: The parameters of both models (``u_ff``: three configurations only), default priors.
PARAMETERS = ParameterTable(
    (
        Parameter(
            "delta",
            "eV",
            Prior("Uniform", lower=0.0, upper=20.0),
            "charge-transfer energy Δ = E(4f¹L) − E(4f⁰) of the initial state",
        ),
        Parameter(
            "v",
            "eV",
            Prior("Uniform", lower=0.0, upper=2.0),
            "4f–ligand hybridisation V (couplings √14 V and √26 V)",
        ),
        Parameter(
            "u_ff",
            "eV",
            Prior("Uniform", lower=0.0, upper=20.0),
            "4f–4f Coulomb repulsion U_ff (three-configuration model only)",
        ),
        Parameter(
            "u_fc",
            "eV",
            Prior("Uniform", lower=0.0, upper=20.0),
            "attraction U_fc between the 3d core hole and a 4f electron",
        ),
        Parameter(
            "gamma",
            "eV",
            Prior("Uniform", lower=0.05, upper=3.0),
            "Lorentzian half width Γ (core-hole lifetime)",
        ),
        Parameter(
            "amplitude",
            "intensity·eV",
            Prior("Uniform", lower=0.0, upper=1.0),
            "area A of the 3d5/2 lines; default prior in units of h·L (h the largest absolute "
            "intensity, L the width of the energy window)",
            role="instrument",
        ),
        Parameter(
            "background",
            "intensity",
            Prior("Uniform", lower=-0.5, upper=0.5),
            "constant background B; default prior in units of h, the largest absolute intensity",
            role="instrument",
        ),
        Parameter(
            "sigma",
            "intensity",
            Prior("HalfNormal", sigma=0.1),
            "noise standard deviation (when not known); in units of h, the largest absolute "
            "intensity",
            role="noise",
        ),
    )
)
#: Parameters whose default priors are scaled by the data (:func:`prior_scales`).
_DATA_SCALED = ("amplitude", "background", "sigma")


def parameter_names(n_configurations: int = 3) -> list[str]:
    """Names of the model's parameters (without ``sigma``), in table order."""
    check_configurations(n_configurations, 0.0 if n_configurations == 3 else None)
    return [n for n in PARAMETERS.names if n != "sigma" and (n != "u_ff" or n_configurations == 3)]


def _energy(data: xr.Dataset) -> np.ndarray:
    validate_dataset(data, variables=[VARIABLE])
    if AXIS not in data.dims:
        raise ValueError(f"Ce 3d XPS data need an {AXIS!r} axis (eV), got {tuple(data.dims)}")
    return data[AXIS].values.astype(np.float64)


def prior_scales(
    data: xr.Dataset, *, mutable: bool = False, name: str = VARIABLE
) -> dict[str, object]:
    """Data scales of the default priors: ``height`` h = max|y| and ``width`` L [eV].

    ``pm.Data`` containers ``<name>_height``, ``<name>_width`` if ``mutable``.
    """
    energy = _energy(data)
    height = np.float64(np.max(np.abs(data[VARIABLE].values)))
    if height <= 0:
        raise ValueError("the measured intensities are all zero: no scale for the amplitude")
    values = {"height": height, "width": np.float64(energy[-1] - energy[0])}
    if not mutable:
        return values
    return {key: pm.Data(f"{name}_{key}", value) for key, value in values.items()}


def _scaled_priors(
    priors: Mapping[str, PriorSpec] | None, scales: Mapping[str, object] | None
) -> dict:
    """The data-scaled default priors of amplitude, background and sigma, unless given."""
    out = dict(priors or {})
    if scales is None:
        return out
    factors = {
        "amplitude": scales["height"] * scales["width"],
        "background": scales["height"],
        "sigma": scales["height"],
    }
    for row, factor in factors.items():
        out.setdefault(row, PARAMETERS[row].prior.scaled(factor))
    return out


def _check_names(
    given: Mapping[str, object] | None, n_configurations: int, what: str = "prior"
) -> None:
    every = [*parameter_names(n_configurations), "sigma"]
    unknown = sorted(set(given or {}) - set(every))
    if unknown:
        raise ValueError(
            f"{what} given for parameter(s) {unknown} that the {n_configurations}-configuration "
            f"model does not have; its parameters: {every}"
        )


def add_priors(
    data: xr.Dataset | None = None,
    *,
    n_configurations: int = 3,
    priors: Mapping[str, PriorSpec] | None = None,
    fixed: Mapping[str, object] | None = None,
    prefix: str = "",
    names: Sequence[str] | None = None,
    scales: Mapping[str, object] | None = None,
) -> dict[str, pt.TensorVariable]:
    """Add the priors of the two- or three-configuration model (not ``sigma``).

    Parameters
    ----------
    data : xarray.Dataset, optional
        The measurement, for the data-scaled priors of the amplitude and background
        (:func:`prior_scales`); needed unless ``scales`` is given or both are in
        ``priors`` or ``fixed``.
    n_configurations : {2, 3}
    priors : mapping, optional
        Prior overrides by parameter name (physical units).
    fixed : mapping, optional
        Parameters held at a value (constants, not variables).
    prefix : str
        Prepended to every variable name (several parameter sets in one model).
    names : sequence of str, optional
        Only these of the model's parameters (default: all of them).
    scales : mapping, optional
        Precomputed :func:`prior_scales`.

    Returns
    -------
    dict
        Parameter name (without prefix) to PyMC variable or constant.
    """
    wanted = parameter_names(n_configurations)
    if names is not None:
        unknown = [n for n in names if n not in wanted]
        if unknown:
            raise ValueError(
                f"no parameter(s) {unknown} in the {n_configurations}-configuration model; "
                f"has {wanted}"
            )
        wanted = [n for n in wanted if n in names]
    _check_names(priors, n_configurations)
    _check_names(fixed, n_configurations, "fixed value")
    if scales is None and data is not None:
        scales = prior_scales(data)
    if scales is None:
        unscaled = [
            n for n in wanted if n in _DATA_SCALED and n not in {**(priors or {}), **(fixed or {})}
        ]
        if unscaled:
            raise ValueError(
                f"the default priors of {unscaled} are scaled by the data: pass data (or "
                "scales), or priors for them"
            )
    return PARAMETERS.add_priors(wanted, _scaled_priors(priors, scales), prefix=prefix, fixed=fixed)


def add_likelihood(
    data: xr.Dataset,
    params: Mapping[str, pt.TensorVariable],
    *,
    sigma=None,
    name: str = VARIABLE,
    resolution: float | None = None,
    spin_orbit: tuple[float, float] | None = None,
    mutable_data: bool = False,
) -> pt.TensorVariable:
    """Add the Gaussian likelihood of one Ce 3d spectrum to the current model.

    Parameters
    ----------
    data : xarray.Dataset
        ``intensity`` along ``energy`` [eV] (optional ``sigma``).
    params : mapping
        From :func:`add_priors`: ``delta``, ``v``, ``u_fc``, ``gamma``, ``amplitude``,
        ``background``, and ``u_ff`` for the three-configuration model (its presence
        decides the number of configurations).
    sigma : float, array or TensorVariable, optional
        Noise standard deviation: known (scalar, per point, or a variable as
        :func:`measurement_models.integration.integrated_model` passes); default the
        data's ``sigma``.
    name : str
        Name of the observed variable; the finiteness guard is ``<name>_forward_finite``.
    resolution, spin_orbit
        As for :func:`~.physics.forward`.
    mutable_data : bool
        Intensities and the data's sigma in ``pm.Data`` containers (``<name>_observed``,
        ``<name>_sigma``), so that models of one structure on one energy grid share one
        compiled graph across datasets (pass ``scales`` from
        ``prior_scales(data, mutable=True)`` to :func:`add_priors` for the data-scaled
        priors too).

    Returns
    -------
    TensorVariable
        The observed variable.

    Raises
    ------
    ValueError
        Bad data, a sigma that is not positive and finite, or no noise level at all.
    """
    energy = _energy(data)
    observed = data[VARIABLE].values.astype(np.float64)
    data_sigma = data["sigma"].values.astype(np.float64) if "sigma" in data.data_vars else None
    if mutable_data:
        observed = pm.Data(f"{name}_observed", observed)
        if data_sigma is not None:
            data_sigma = pm.Data(f"{name}_sigma", data_sigma)
    mean = forward(
        energy,
        delta=params["delta"],
        v=params["v"],
        u_fc=params["u_fc"],
        gamma=params["gamma"],
        amplitude=params.get("amplitude", np.float64(1.0)),
        background=params.get("background", np.float64(0.0)),
        u_ff=params.get("u_ff"),
        n_configurations=3 if "u_ff" in params else 2,
        resolution=resolution,
        spin_orbit=spin_orbit,
    )
    mean = hermitian.reject_non_finite(mean, name=f"{name}_forward_finite")
    return pm.Normal(name, mu=mean, sigma=_noise(sigma, data_sigma), observed=observed)


def _noise(sigma, data_sigma):
    """Known σ (scalar, per point, or a variable), else the data's σ."""
    if isinstance(sigma, pt.Variable):
        return sigma
    if sigma is None:
        if data_sigma is None:
            raise ValueError("no noise level: pass sigma or give the data a 'sigma' variable")
        return data_sigma
    values = np.asarray(sigma, dtype=np.float64)
    if not np.all(np.isfinite(values) & (values > 0)):
        raise ValueError(f"sigma must be positive and finite everywhere, got {sigma!r}")
    return values if values.ndim > 0 else np.float64(values)


def build_model(
    data: xr.Dataset,
    *,
    n_configurations: int = 3,
    resolution: float | None = None,
    spin_orbit: tuple[float, float] | None = None,
    priors: Mapping[str, PriorSpec] | None = None,
    sigma: float | None = None,
    fixed: Mapping[str, object] | None = None,
    mutable_data: bool = False,
    prefix: str | None = None,
) -> pm.Model:
    r"""PyMC model of a Ce 3d XPS spectrum with two or three configurations.

    Parameters
    ----------
    data : xarray.Dataset
        ``intensity`` along ``energy`` [eV], optional ``sigma`` (see :func:`simulate`).
    n_configurations : {2, 3}
        :math:`4f^0, 4f^1\underline L` (2) or also :math:`4f^2\underline L^2` (3).
    resolution : float, optional
        Gaussian instrument standard deviation [eV], known (None: Lorentzian lines).
    spin_orbit : (float, float), optional
        The 3d3/2 copy, e.g. :data:`~.physics.CE_3D_SPIN_ORBIT` (None: the 3d5/2 region
        alone).
    priors : mapping, optional
        Prior overrides by parameter name (physical units).
    sigma : float, optional
        Known noise standard deviation; default the data's ``sigma``, else a parameter.
    fixed : mapping, optional
        Parameters held at a value.
    mutable_data : bool
        Intensities, the data's sigma and the prior scales in ``pm.Data`` containers
        (``intensity_observed``, ``intensity_sigma``, ``intensity_height``,
        ``intensity_width``, each with the ``prefix``): models of one structure on one
        energy grid then share one compiled graph across datasets (``pm.set_data``;
        numba caches compiled graphs).
    prefix : str, optional
        Prepended to every variable name.

    Returns
    -------
    pymc.Model
        Free variables as :func:`parameter_names`; observed ``intensity``.

    Raises
    ------
    ValueError
        Bad data (via :func:`~measurement_models.data.validate_dataset`; here an axis
        not named ``energy``), a number of configurations other than 2 or 3, priors or
        fixed values for parameters the model lacks, a bad resolution or spin-orbit
        setting.
    """
    prior_scales(data)
    parameter_names(n_configurations)
    _check_names(priors, n_configurations)
    _check_names(fixed, n_configurations, "fixed value")
    core_level.check_broadening(resolution, spin_orbit)
    prefix = prefix or ""
    name = prefix + VARIABLE
    with pm.Model() as model:
        scales = prior_scales(data, mutable=mutable_data, name=name)
        params = add_priors(
            data,
            n_configurations=n_configurations,
            priors=priors,
            fixed=fixed,
            prefix=prefix,
            scales=scales,
        )
        if sigma is None and "sigma" not in data.data_vars:
            sigma = PARAMETERS.add_priors(
                ["sigma"], _scaled_priors(priors, scales), prefix=prefix, fixed=fixed
            )["sigma"]
        add_likelihood(
            data,
            params,
            sigma=sigma,
            name=name,
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
    resolution: float | None = None,
    spin_orbit: tuple[float, float] | None = None,
    **params: float,
) -> xr.Dataset:
    """Simulate a spectrum with Gaussian noise (seeded :class:`numpy.random.Generator`).

    Parameters
    ----------
    energy : array_like, shape (n,)
        Energy grid [eV], increasing.
    rng : Generator or int, optional
    sigma : float
        Noise standard deviation (stored per point as the data variable ``sigma``).
    resolution, spin_orbit
        As for :func:`~.physics.forward`.
    **params
        ``delta``, ``v``, ``u_fc``, ``gamma``, ``amplitude``, ``background`` and, for
        three configurations, ``u_ff`` (its presence decides the number).

    Returns
    -------
    xarray.Dataset
        ``intensity`` and ``sigma`` along ``energy``; attrs ``truth_<name>``,
        ``truth_sigma``, ``n_configurations`` (and ``resolution``, ``spin_orbit``).
    """
    if not (np.isfinite(sigma) and sigma > 0):
        raise ValueError(f"sigma must be positive and finite, got {sigma!r}")
    n_configurations = 3 if "u_ff" in params else 2
    wanted = parameter_names(n_configurations)
    missing = [n for n in wanted if n not in params]
    extra = [n for n in params if n not in wanted]
    if missing or extra:
        raise ValueError(f"simulate needs exactly {wanted}: missing {missing}, unknown {extra}")
    core_level.check_broadening(resolution, spin_orbit)
    rng = np.random.default_rng(rng)
    energy = np.asarray(energy, dtype=float)
    values = {n: float(params[n]) for n in wanted}
    mean = forward(
        energy,
        **values,
        n_configurations=n_configurations,
        resolution=resolution,
        spin_orbit=spin_orbit,
    )
    attrs: dict[str, object] = {f"truth_{n}": v for n, v in values.items()}
    attrs.update({"truth_sigma": float(sigma), "n_configurations": n_configurations})
    if resolution is not None:
        attrs["resolution"] = float(resolution)
    if spin_orbit is not None:
        attrs["spin_orbit"] = np.asarray(spin_orbit, dtype=float)
    return make_dataset(
        energy,
        mean + sigma * rng.standard_normal(energy.shape),
        sigma=np.full(energy.shape, float(sigma)),
        axis=AXIS,
        axis_units="eV",
        variable=VARIABLE,
        units="a.u.",
        attrs=attrs,
    )


def example_data(rng: np.random.Generator | int | None = 0) -> tuple[xr.Dataset, dict]:
    """A three-configuration spectrum at Δ = 8 eV (third line visible) and its truth.

    The settings of ``REFERENCES["selection_study"]`` (Γ = 0.7 eV, resolution 0.3 eV,
    noise σ = 0.05) on a coarser grid of 81 points; build it with ``resolution=0.3``.
    """
    study = dict(REFERENCES["selection_study"].params)
    sigma, resolution = study.pop("sigma"), study.pop("resolution")
    truth = {"delta": 8.0, **study}
    energy = np.linspace(-12.0, 16.0, 81)
    return simulate(energy, rng=rng, sigma=sigma, resolution=resolution, **truth), truth
