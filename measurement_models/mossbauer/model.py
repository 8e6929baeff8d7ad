r"""The PyMC model of one Mössbauer transmission spectrum: parameters, priors, likelihood.

Sample parameters (one value per site, dim ``site``) come from the Hamiltonian variant;
instrument parameters (absorption area :math:`\varepsilon`, off-resonance counts
:math:`N_\infty`, for raw channels the velocity calibration :math:`v = v_0 +
s\,(c - c_\mathrm{ref})`, for a single crystal the beam direction) belong to one
spectrum. :func:`add_priors` adds both (the instrument parameters only when it is given
the data, since their default priors scale with it); :func:`add_likelihood` adds the
Poisson (or Gaussian) counts; :func:`build_model` does both in a new ``pm.Model``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from ..array_backend import array_module, is_symbolic
from ..data import validate_dataset
from ..hermitian import reject_non_finite
from ..noise import noise_sd
from ..parameters import Parameter, ParameterTable, Prior, PriorSpec, check_choice, fixed_constant
from .hamiltonian import G_GROUND, GEOMETRIES, _as_array
from .spectrum import site_lines, transmission

__all__ = [
    "AXIS",
    "B_MAX",
    "NOISE_KINDS",
    "PARAMETERS",
    "SITE_DIM",
    "VARIABLE",
    "VARIANTS",
    "VARIANT_LABELS",
    "add_likelihood",
    "add_priors",
    "build_model",
    "instrument_parameter_names",
    "reference_level",
    "site_parameter_names",
    "velocity_of",
]

#: Name of the measured data variable: counts per channel.
VARIABLE = "counts"
#: Name of the measurement axis [mm/s]; raw multichannel data come along ``channel``
#: instead, calibrated inside the model (:func:`velocity_of`).
AXIS = "velocity"
#: Dimension of the site parameters.
SITE_DIM = "site"
#: Upper end of the B_hf prior [T]: ground Zeeman splitting g_g μ_N B ≤ 10 mm/s.
B_MAX = 10.0 / G_GROUND

#: Hamiltonian variants, from the singlet to the full hyperfine Hamiltonian.
VARIANTS = ("singlet", "doublet", "sextet", "full")
#: Variant name to the Hamiltonian terms it contains.
VARIANT_LABELS = {
    "singlet": "H_c",
    "doublet": "H_c+H_Q",
    "sextet": "H_c+H_M",
    "full": "H_c+H_Q+H_M",
}
#: Noise models of the counts.
NOISE_KINDS = ("poisson", "gaussian")
_HAMILTONIAN_TERMS = {
    "singlet": (),
    "doublet": ("A", "eta"),
    "sextet": ("B_hf",),
    "full": ("A", "eta", "B_hf", "theta", "phi"),
}
_SITE = (SITE_DIM,)
_N_LINES = 8

#: Parameter table: hyperfine parameters per site, instrument and noise.
PARAMETERS = ParameterTable(
    (
        Parameter(
            "delta",
            "mm/s",
            Prior("Uniform", lower=-1.0, upper=2.5),
            "isomer (centre) shift of each site",
            _SITE,
        ),
        Parameter(
            "gamma",
            "mm/s",
            Prior("Gamma", alpha=1.5, beta=1.5),
            "full width at half maximum of each site's Lorentzian lines",
            _SITE,
        ),
        Parameter(
            "A",
            "mm/s",
            Prior("Uniform", lower=-1.0, upper=1.0),
            "quadrupole coupling A = eQV_zz/4 (pure splitting 2A√(1 + η²/3))",
            _SITE,
        ),
        Parameter(
            "eta", "", Prior("Uniform", lower=0.0, upper=1.0), "EFG asymmetry parameter", _SITE
        ),
        Parameter(
            "B_hf",
            "T",
            Prior("Uniform", lower=0.0, upper=B_MAX),
            "magnetic hyperfine field (prior: U(0, 10) read as g_g μ_N B ≤ 10 mm/s)",
            _SITE,
        ),
        Parameter(
            "theta",
            "rad",
            Prior("Uniform", lower=0.0, upper=math.pi),
            "polar angle of B_hf in the EFG principal frame",
            _SITE,
        ),
        Parameter(
            "phi",
            "rad",
            Prior("Uniform", lower=0.0, upper=2 * math.pi),
            "azimuth of B_hf in the EFG principal frame",
            _SITE,
        ),
        Parameter(
            "fraction",
            "",
            Prior("Dirichlet", a=1.0),
            "area fraction of each site (Dirichlet(1, …, 1); two or more sites only)",
            _SITE,
        ),
        Parameter(
            "epsilon",
            "mm/s",
            Prior("HalfNormal", sigma=1.0),
            "total absorption area (effective thickness, thin-absorber limit)",
            role="instrument",
        ),
        Parameter(
            "baseline",
            "counts",
            Prior("Uniform", lower=0.5, upper=1.5),
            "off-resonance counts per point; default prior in units of N_ref, the median "
            "of the upper half of the counts",
            role="instrument",
        ),
        Parameter(
            "velocity_offset",
            "mm/s",
            Prior("Normal", mu=0.0, sigma=1.0),
            "velocity v₀ at the reference channel (raw channel data only)",
            role="instrument",
        ),
        Parameter(
            "velocity_scale",
            "mm/s per channel",
            Prior("LogNormal", mu=0.0, sigma=0.05),
            "drive velocity per channel s; default prior in units of the nominal s from "
            "the drive's stated range (raw channel data only)",
            role="instrument",
        ),
        Parameter(
            "k_theta",
            "rad",
            Prior("Uniform", lower=0.0, upper=math.pi),
            "polar angle of the γ-ray beam in the EFG frame (single crystal only)",
            role="instrument",
        ),
        Parameter(
            "k_phi",
            "rad",
            Prior("Uniform", lower=0.0, upper=2 * math.pi),
            "azimuth of the γ-ray beam in the EFG frame (single crystal only)",
            role="instrument",
        ),
        Parameter(
            "sigma",
            "counts",
            Prior("HalfNormal", sigma=1000.0),
            "noise standard deviation (Gaussian noise, when not known)",
            role="noise",
        ),
    )
)


# --------------------------------------------------------------------------------------
# Which parameters a model has
# --------------------------------------------------------------------------------------


def site_parameter_names(variant: str, n_sites: int = 1, geometry: str = "powder") -> list[str]:
    """The sample parameters of a Hamiltonian variant, in table order.

    ``delta`` and ``gamma`` always; the Hamiltonian terms of the variant; the field
    direction ``theta, phi`` for the sextet only with a single crystal (in a powder
    without EFG it has no effect); ``fraction`` for two or more sites.
    """
    check_choice(variant, VARIANTS, "Hamiltonian variant")
    check_choice(geometry, GEOMETRIES, "geometry")
    terms = set(_HAMILTONIAN_TERMS[variant])
    if variant == "sextet" and geometry == "single_crystal":
        terms |= {"theta", "phi"}
    if n_sites > 1:
        terms.add("fraction")
    return [name for name in PARAMETERS.names if name in {"delta", "gamma"} | terms]


def instrument_parameter_names(data: xr.Dataset, geometry: str = "powder") -> list[str]:
    """``epsilon``, ``baseline``; the calibration for channel data; the beam direction
    for a single crystal."""
    names = ["epsilon", "baseline"]
    if _axis(data) == "channel":
        names += ["velocity_offset", "velocity_scale"]
    if geometry == "single_crystal":
        names += ["k_theta", "k_phi"]
    return names


def _check_n_sites(n_sites) -> int:
    if isinstance(n_sites, bool) or int(n_sites) != n_sites or n_sites < 1:
        raise ValueError(f"n_sites must be a positive integer, got {n_sites!r}")
    return int(n_sites)


def _split_fixed(fixed: Mapping[str, object] | None, allowed: Sequence[str]) -> dict:
    fixed = dict(fixed or {})
    unknown = sorted(set(fixed) - set(PARAMETERS.names))
    if unknown:
        raise ValueError(f"cannot fix unknown parameter(s) {unknown}; known: {PARAMETERS.names}")
    return {name: value for name, value in fixed.items() if name in allowed}


# --------------------------------------------------------------------------------------
# The velocity axis and the data-derived prior scales
# --------------------------------------------------------------------------------------


def _axis(data: xr.Dataset) -> str:
    (axis,) = data.dims
    if axis not in (AXIS, "channel"):
        raise ValueError(f"Mössbauer data need a 'velocity' (mm/s) or 'channel' axis, got {axis!r}")
    return axis


def reference_level(counts: np.ndarray) -> float:
    """:math:`N_\\mathrm{ref}`: the median of the upper half of the counts (off resonance)."""
    counts = np.sort(np.asarray(counts, dtype=float))
    return float(np.median(counts[counts.size // 2 :]))


def _reference_channel(channels: np.ndarray, reference: float | None = None) -> float:
    """:math:`c_\\mathrm{ref}`: ``reference``, else the middle of the channel range."""
    return float((channels[0] + channels[-1]) / 2 if reference is None else reference)


def velocity_of(data: xr.Dataset, params: Mapping[str, object] | None = None, axis_values=None):
    """The velocity of every point [mm/s]: the axis itself, or the calibrated channels.

    For raw channel data, :math:`v = v_0 + s\\,(c - c_\\mathrm{ref})` with
    ``params["velocity_offset"]``, ``params["velocity_scale"]`` (values, arrays of draws
    with shape (...), or PyTensor variables) and ``data.attrs["reference_channel"]``.
    ``axis_values`` replaces the data's axis values (e.g. by a ``pm.Data`` container).
    """
    axis = _axis(data)
    x = data[axis].values if axis_values is None else axis_values
    if axis == AXIS:
        return x
    params = params or {}
    missing = [n for n in ("velocity_offset", "velocity_scale") if n not in params]
    if missing:
        raise ValueError(f"raw channel data need the calibration parameter(s) {missing}")
    offset, scale = params["velocity_offset"], params["velocity_scale"]
    xp = array_module(offset, scale, x)
    offset, scale = _as_array(offset, xp), _as_array(scale, xp)
    return offset[..., None] + scale[..., None] * (x - float(data.attrs["reference_channel"]))


def _instrument_priors(
    data: xr.Dataset,
    priors: Mapping[str, PriorSpec],
    sampled: Sequence[str],
    name: str,
    mutable: bool,
) -> dict[str, PriorSpec]:
    """Priors of the sampled instrument parameters: the overrides, else the defaults.

    The defaults of ``baseline`` (U(0.5, 1.5) N_ref) and ``velocity_scale`` (log-normal
    around the nominal s) scale with the data: N_ref and s_nom are constants, or
    ``pm.Data`` containers ``<name>_reference_level``, ``<name>_nominal_scale`` when
    ``mutable``, so that models of one structure share one compiled graph.
    """

    def scale(key: str, value: float):
        value = np.float64(value)
        return pm.Data(f"{name}_{key}", value) if mutable else value

    out = {key: spec for key, spec in priors.items() if key in sampled}
    if "baseline" in sampled and "baseline" not in out:
        level = scale("reference_level", reference_level(data[VARIABLE].values))
        bounds = PARAMETERS["baseline"].prior.kwargs

        def baseline(name, dims):
            return pm.Uniform(name, lower=bounds["lower"] * level, upper=bounds["upper"] * level)

        out["baseline"] = baseline
    if "velocity_scale" in sampled and "velocity_scale" not in out:
        if "nominal_velocity_per_channel" not in data.attrs:
            raise ValueError(
                "raw channel data need the drive's nominal velocity per channel "
                "(load(path, axis='channel', nominal_velocity_range=...)), a prior for "
                "velocity_scale, or a fixed velocity_scale"
            )
        nominal = scale("nominal_scale", data.attrs["nominal_velocity_per_channel"])
        relative = PARAMETERS["velocity_scale"].prior.kwargs

        def velocity_scale(name, dims):
            log_nominal = pt.log(nominal) if is_symbolic(nominal) else math.log(nominal)
            return pm.LogNormal(name, mu=log_nominal + relative["mu"], sigma=relative["sigma"])

        out["velocity_scale"] = velocity_scale
    return out


# --------------------------------------------------------------------------------------
# Priors, likelihood, model
# --------------------------------------------------------------------------------------


def add_priors(
    data: xr.Dataset | None = None,
    *,
    variant: str = "sextet",
    n_sites: int = 1,
    geometry: str = "powder",
    priors: Mapping[str, PriorSpec] | None = None,
    fixed: Mapping[str, object] | None = None,
    prefix: str = "",
    names: Sequence[str] | None = None,
    mutable_data: bool = False,
) -> dict[str, pt.TensorVariable]:
    """Add the parameters of ``n_sites`` sites and, given the data, of the instrument.

    Parameters
    ----------
    data : xarray.Dataset, optional
        The spectrum (``counts`` along ``velocity`` or ``channel``). Given, the
        instrument parameters (:func:`instrument_parameter_names`) are added after the
        sample parameters, with default priors scaled by the data (:data:`PARAMETERS`);
        without it, only the sample parameters (those of the sites).
    variant : {"singlet", "doublet", "sextet", "full"}
        Hamiltonian variant (:func:`site_parameter_names`).
    n_sites : int
        Number of sites (length of the ``site`` coordinate, added if missing).
    geometry : {"powder", "single_crystal"}
    priors : mapping, optional
        Prior overrides by parameter name.
    fixed : mapping, optional
        Parameters held at given values (site parameters: scalar or one per site)
        instead of sampled, e.g. ``{"delta": 0.0}`` (α-Fe defines the isomer-shift
        zero) or ``{"B_hf": 33.0}`` (α-Fe as the velocity-scale standard). Names the
        model does not have here are ignored (``sigma`` is the likelihood's).
    prefix : str
        Prepended to every variable name.
    names : sequence of str, optional
        Only these of the parameters (e.g. the shared ones of an integrated model).
    mutable_data : bool
        The data-derived prior scales in ``pm.Data`` containers (as
        :func:`add_likelihood` puts the counts), see :func:`build_model`.

    Returns
    -------
    dict
        Parameter name (without prefix) to variable or constant, sample parameters
        first.

    Raises
    ------
    ValueError
        An unknown variant or geometry, a bad ``n_sites``, a name in ``names`` the
        model does not have (instrument parameters without the data), a fixed
        ``fraction``, a ``site`` coordinate of another length, channel data without a
        nominal velocity scale (unless ``velocity_scale`` has a prior or is fixed).
    """
    n_sites = _check_n_sites(n_sites)
    site = site_parameter_names(variant, n_sites, geometry)
    if data is not None:
        validate_dataset(data, variables=[VARIABLE], counts=True)
    instrument = [] if data is None else instrument_parameter_names(data, geometry)
    wanted = site + instrument
    if names is not None:
        unknown = [name for name in names if name not in wanted]
        if unknown:
            hint = " (instrument parameters need the data)" if data is None else ""
            raise ValueError(f"no parameter(s) {unknown} in variant {variant!r}{hint}: {wanted}")
        wanted = [name for name in wanted if name in names]
    fixed_here = _split_fixed(fixed, wanted)
    if "fraction" in fixed_here:
        raise ValueError("fraction cannot be fixed through `fixed`; give it a prior instead")
    model = pm.modelcontext(None)
    if SITE_DIM not in model.coords:
        model.add_coord(SITE_DIM, np.arange(n_sites))
    elif len(model.coords[SITE_DIM]) != n_sites:
        raise ValueError(f"the model's {SITE_DIM!r} coordinate does not have {n_sites} entries")
    priors = dict(priors or {})
    if "fraction" in wanted and "fraction" not in priors:
        priors["fraction"] = Prior("Dirichlet", a=np.ones(n_sites))

    sampled = [name for name in wanted if name in site and name not in fixed_here]
    params = PARAMETERS.add_priors(
        sampled, {k: v for k, v in priors.items() if k in sampled}, prefix=prefix
    )
    for name, value in fixed_here.items():
        if name in site:
            params[name] = fixed_constant(name, value, (n_sites,))

    wanted_instrument = [name for name in wanted if name in instrument]
    if wanted_instrument:
        sampled = [name for name in wanted_instrument if name not in fixed_here]
        defaults = _instrument_priors(data, priors, sampled, prefix + VARIABLE, mutable_data)
        params.update(PARAMETERS.add_priors(sampled, defaults, prefix=prefix))
        params.update(
            {n: fixed_constant(n, fixed_here[n], ()) for n in wanted_instrument if n in fixed_here}
        )
    return {name: params[name] for name in wanted}


def _likelihood_sd(data: xr.Dataset, sigma) -> np.float64 | np.ndarray | pt.TensorVariable:
    """σ of Gaussian counts: a tensor or per-point array as given, else :func:`noise_sd`."""
    if is_symbolic(sigma):
        return sigma
    if sigma is not None and np.ndim(sigma) > 0:
        sigma = np.asarray(sigma, dtype=np.float64)
        if sigma.shape != data[VARIABLE].shape or not np.all(np.isfinite(sigma) & (sigma > 0)):
            raise ValueError("a per-point sigma must be positive, finite and one per point")
        return sigma
    return noise_sd(data, sigma, PARAMETERS)


def add_likelihood(
    data: xr.Dataset,
    params: Mapping[str, pt.TensorVariable],
    *,
    sigma=None,
    name: str = VARIABLE,
    geometry: str = "powder",
    noise: str = "poisson",
    mutable_data: bool = False,
) -> pt.TensorVariable:
    """Add the likelihood of one spectrum to the current model.

    Parameters
    ----------
    data : xarray.Dataset
        ``counts`` along ``velocity`` (mm/s) or ``channel`` (raw data; see
        :func:`~measurement_models.mossbauer.loaders.load`).
    params : mapping
        Sample and instrument parameters, as :func:`add_priors` given the data returns.
    sigma : float, array or TensorVariable, optional
        Gaussian noise only (ignored for Poisson counts): the noise standard deviation;
        None takes the data's ``sigma`` variable, else adds a parameter ``sigma``.
    name : str
        Name of the observed variable.
    geometry : {"powder", "single_crystal"}
    noise : {"poisson", "gaussian"}
    mutable_data : bool
        Put the counts and the axis values in ``pm.Data`` containers
        (``<name>_observed``, ``<name>_axis``), so that models of equal structure and
        size share one compiled graph: numba caches compiled graphs, but constants
        (data) are part of a graph. Default: constants.

    Returns
    -------
    TensorVariable
        The observed variable. A failed eigen-solve makes the log-density −inf
        (potential ``<name>_solver_failed``).

    Raises
    ------
    ValueError
        Bad data (:func:`~measurement_models.data.validate_dataset`), an unknown noise
        model or geometry, parameters missing from ``params``.
    """
    validate_dataset(data, variables=[VARIABLE], counts=True)
    check_choice(noise, NOISE_KINDS, "noise model")
    check_choice(geometry, GEOMETRIES, "geometry")
    needed = ["delta", "gamma", *instrument_parameter_names(data, geometry)]
    missing = [n for n in needed if n not in params]
    if missing:
        raise ValueError(
            f"params lack {missing}: add the parameters of this spectrum with add_priors(data, ...)"
        )
    dtype = np.int64 if noise == "poisson" else np.float64
    observed = data[VARIABLE].values.astype(dtype)
    axis_values = data[_axis(data)].values.astype(np.float64)
    if mutable_data:
        observed = pm.Data(f"{name}_observed", observed)
        axis_values = pm.Data(f"{name}_axis", axis_values)
    site = {k: params[k] for k in ("B_hf", "A", "eta", "theta", "phi") if k in params}
    positions, intensities = site_lines(
        params["delta"],
        **site,
        geometry=geometry,
        k_theta=params.get("k_theta"),
        k_phi=params.get("k_phi"),
    )
    if site:
        safe = reject_non_finite(
            pt.concatenate([positions, intensities], axis=-1), f"{name}_solver_failed"
        )
        positions, intensities = safe[..., :_N_LINES], safe[..., _N_LINES:]
    mean = transmission(
        velocity_of(data, params, axis_values),
        positions,
        intensities,
        delta=params["delta"],
        gamma=params["gamma"],
        epsilon=params["epsilon"],
        baseline=params["baseline"],
        fraction=params.get("fraction"),
    )
    if noise == "poisson":
        return pm.Poisson(name, mu=mean, observed=observed)
    return pm.Normal(name, mu=mean, sigma=_likelihood_sd(data, sigma), observed=observed)


def build_model(
    data: xr.Dataset,
    *,
    variant: str = "sextet",
    n_sites: int = 1,
    geometry: str = "powder",
    noise: str = "poisson",
    priors: Mapping[str, PriorSpec] | None = None,
    sigma: float | None = None,
    fixed: Mapping[str, object] | None = None,
    mutable_data: bool = False,
    prefix: str | None = None,
) -> pm.Model:
    """PyMC model of one Mössbauer transmission spectrum.

    Parameters
    ----------
    data : xarray.Dataset
        ``counts`` along ``velocity`` [mm/s] (:func:`~measurement_models.mossbauer.
        loaders.load`, :func:`~measurement_models.mossbauer.simulation.simulate`) or
        along ``channel`` (``load(path, axis="channel", ...)``; the velocity
        calibration :math:`v_0, s` becomes part of the model).
    variant : {"singlet", "doublet", "sextet", "full"}
        Hamiltonian: :math:`H_c`, :math:`H_c+H_Q`, :math:`H_c+H_M`, :math:`H_c+H_Q+H_M`.
    n_sites : int
        Number of sites, all with the same variant.
    geometry : {"powder", "single_crystal"}
    noise : {"poisson", "gaussian"}
    priors : mapping, optional
        Prior overrides by parameter name.
    sigma : float, optional
        Known Gaussian noise standard deviation (Gaussian noise only); without it the
        data's ``sigma`` variable, else a parameter ``sigma``.
    fixed : mapping, optional
        Parameters held at given values, e.g. ``{"delta": 0.0}``.
    mutable_data : bool
        Data in ``pm.Data`` containers (see :func:`add_likelihood`): models of the same
        variant and size then share one numba-compiled graph across datasets.
    prefix : str, optional
        Prepended to the name of every variable (several spectra in one model).

    Returns
    -------
    pymc.Model
        Sample parameters with dim ``site``, then the instrument parameters (and
        ``sigma``); observed variable ``counts``.

    Raises
    ------
    ValueError
        Bad data (via :func:`~measurement_models.data.validate_dataset`: NaN, negative or
        non-integer counts, unsorted or repeated velocities, wrong shapes), an unknown
        variant, geometry or noise model, a bad ``n_sites``, unknown prior or fixed
        names, or ``sigma`` with Poisson noise.
    """
    validate_dataset(data, variables=[VARIABLE], counts=True)
    _axis(data)
    check_choice(variant, VARIANTS, "Hamiltonian variant")
    check_choice(geometry, GEOMETRIES, "geometry")
    check_choice(noise, NOISE_KINDS, "noise model")
    n_sites = _check_n_sites(n_sites)
    if noise == "poisson" and sigma is not None:
        raise ValueError("sigma is for Gaussian noise; Poisson counts have no free noise level")
    fixed = dict(fixed or {})
    if sigma is not None and "sigma" in fixed:
        raise ValueError("the noise level is given twice: as sigma and in fixed")
    used = site_parameter_names(variant, n_sites, geometry) + instrument_parameter_names(
        data, geometry
    )
    if noise == "gaussian":
        used.append("sigma")
    for what, given in (("prior", priors or {}), ("fixed value", fixed)):
        unknown = sorted(set(given) - set(used))
        if unknown:
            raise ValueError(
                f"{what} given for parameter(s) {unknown} that the {variant} model with "
                f"{n_sites} site(s) does not have; its parameters: {used}"
            )
    prefix = prefix or ""
    with pm.Model(coords={SITE_DIM: np.arange(n_sites)}) as model:
        params = add_priors(
            data,
            variant=variant,
            n_sites=n_sites,
            geometry=geometry,
            priors=priors,
            fixed=fixed,
            prefix=prefix,
            mutable_data=mutable_data,
        )
        if (
            noise == "gaussian"
            and sigma is None
            and ("sigma" in fixed or "sigma" not in data.data_vars)
        ):
            sigma = PARAMETERS.add_priors(["sigma"], priors, prefix=prefix, fixed=fixed)["sigma"]
        add_likelihood(
            data,
            params,
            sigma=sigma,
            name=prefix + VARIABLE,
            geometry=geometry,
            noise=noise,
            mutable_data=mutable_data,
        )
    return model
