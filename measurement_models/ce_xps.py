r"""Ce 3d XPS of a charge-transfer cluster model, two or three configurations (Mototake 2019).

Model (Mototake, Mizumaki, Akai, Okada, JPSJ 88, 034004 (2019))
----------------------------------------------------------------
Y. Mototake, M. Mizumaki, I. Akai, M. Okada, *Bayesian Hamiltonian selection in X-ray
photoelectron spectroscopy*, JPSJ 88, 034004 (2019), arXiv:1812.01205; the model is
reconstructed from the paper's table in REFERENCE.md, "Core-level spectroscopy".

Basis :math:`|4f^0\rangle, |4f^1\underline L\rangle, |4f^2\underline L^2\rangle`; energies
in eV, relative to :math:`|4f^0\rangle` (initial state) and to :math:`|\underline c
4f^0\rangle` (final state, with the 3d core hole :math:`\underline c`):

.. math::

    H_i = \begin{pmatrix} 0 & \sqrt{14}V & 0 \\ \sqrt{14}V & \Delta & \sqrt{26}V \\
          0 & \sqrt{26}V & 2\Delta + U_{ff} \end{pmatrix}, \qquad
    H_f = \begin{pmatrix} 0 & \sqrt{14}V & 0 \\ \sqrt{14}V & \Delta - U_{fc} & \sqrt{26}V \\
          0 & \sqrt{26}V & 2\Delta + U_{ff} - 2U_{fc} \end{pmatrix},

(:func:`hamiltonians`), with the charge-transfer energy :math:`\Delta`, the 4f–ligand
hybridisation :math:`V`, the 4f–4f repulsion :math:`U_{ff}` and the core-hole–4f
attraction :math:`U_{fc}`. The **two-configuration model** is the upper-left 2×2 block
of both (no :math:`U_{ff}`); it is the limit :math:`U_{ff}\to\infty` of the
three-configuration model. In the sudden approximation the photoemission lines are at
:math:`\epsilon_f = E_f - E_g` with weights :math:`w_f = |\langle f|g\rangle|^2`
(:func:`lines`, through :func:`measurement_models.core_level.xps_lines`), and the
measured spectrum is

.. math::

    y(E) = A \sum_f w_f\,\big[V(E - \epsilon_f;\ \sigma_\mathrm{instr}, \Gamma)
           + r\,V(E - \epsilon_f - \zeta;\ \sigma_\mathrm{instr}, \Gamma)\big] + B
           + \varepsilon, \qquad \varepsilon \sim N(0, \sigma^2),

(:func:`forward`) with the unit-area Voigt profile :math:`V` (Lorentzian half width
:math:`\Gamma`, Gaussian instrument standard deviation :math:`\sigma_\mathrm{instr}` =
``resolution``, known; ``None`` for the Lorentzian alone), amplitude :math:`A` (area of
the 3d\ :sub:`5/2` lines), constant background :math:`B`, and the 3d\ :sub:`3/2` copy
only with ``spin_orbit=(ζ, r)`` (:data:`CE_3D_SPIN_ORBIT` = (18.6 eV, 2/3): the Ce 3d
doublet separation of the Thermo Fisher *XPS Simplified* and Harwell XPS reference
pages, and the 3d\ :sub:`3/2`:3d\ :sub:`5/2` ratio (2j+1) = 4:6; default ``None``,
the 3d\ :sub:`5/2` region alone). The energy axis is :math:`E_f - E_g` in the
relative convention above (a binding energy without its absolute offset); real data
would need an energy offset, which is not a parameter here because every study in
this package is simulated on that axis.

Priors (:data:`PARAMETERS`; this package's choice, weakly informative, the same for
the two- and three-configuration candidates so that their free energies compare
models, not priors): :math:`\Delta, U_{ff}, U_{fc} \sim U(0, 20)` eV (the scale of
Ce charge-transfer parameters, about 10 eV, with room on both sides);
:math:`V \sim U(0, 2)` eV (the weights and positions depend on :math:`V^2` only, so
:math:`V \ge 0`); :math:`\Gamma \sim U(0.05, 3)` eV; and, scaled by the data
(:func:`prior_scales`: the height :math:`h = \max_i |y_i|` and the width :math:`L`
of the energy window), :math:`A \sim U(0, hL)`, :math:`B \sim U(-h/2, h/2)` and, when
the noise is estimated, :math:`\sigma \sim \mathrm{HalfNormal}(h/10)`. A prior given in
``priors`` replaces the default and is used as given.

Checked (``tests/measurement_models/test_ce_xps.py``): the three-configuration lines
at the paper's parameters (:data:`MOTOTAKE2019`) against the paper's table
(−2.8, 2.72, 12.48 eV, to its printed precision) and against
:func:`numpy.linalg.eigh` written out in the test; the limits :math:`V \to 0` (lines
at :math:`0, \Delta - U_{fc}, 2\Delta + U_{ff} - 2U_{fc}`, all weight on
:math:`|4f^0\rangle`) and :math:`U_{ff} \to \infty` (the two-configuration model);
weights summing to one; the broadened spectrum against
:func:`scipy.special.voigt_profile`; the PyTensor graph against the NumPy forward
model; the model's log-density against a hand-written Gaussian one; its gradient
against central differences; bad input refused; the sampled free energy of a
one-parameter version against quadrature. The case study
``case_studies/mototake2019_ce3d_xps_selection.py`` selects between the two and
three configurations across :math:`\Delta` (``docs/ce-xps.md``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from . import core_level, hermitian
from .array_backend import array_module
from .data import make_dataset, validate_dataset
from .noise import noise_sd
from .parameters import Parameter, ParameterTable, Prior, PriorSpec

__all__ = [
    "AXIS",
    "CE_3D_SPIN_ORBIT",
    "CONFIGURATIONS",
    "MOTOTAKE2019",
    "PARAMETERS",
    "SELECTION_STUDY",
    "VARIABLE",
    "add_likelihood",
    "add_priors",
    "build_model",
    "example_data",
    "forward",
    "hamiltonians",
    "lines",
    "parameter_names",
    "plot_fit",
    "prior_scales",
    "simulate",
]

#: Name of the measured data variable.
VARIABLE = "intensity"
#: Name of the measurement axis: E_f − E_g in eV (relative convention, see above).
AXIS = "energy"
#: Numbers of configurations a model may have.
CONFIGURATIONS = (2, 3)
#: Ce 3d spin–orbit doublet: (splitting ζ [eV], intensity ratio 3d3/2 : 3d5/2).
CE_3D_SPIN_ORBIT = (18.6, 2.0 / 3.0)

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

#: Mototake et al. 2019, the paper's table: parameters [eV] and the final-state energies
#: E_f − E_g [eV] as printed.
MOTOTAKE2019 = {
    "delta": 12.5,
    "v": 0.76,
    "u_ff": 10.5,
    "u_fc": 12.5,
    "final_state_energies": (-2.8, 2.72, 12.48),
}

#: The simulated selection study of the case study (this package's choice, not the
#: paper's data): the paper's V, U_ff, U_fc with Δ scanned, Γ = 0.7 eV, instrument
#: σ = 0.3 eV, A = 10, B = 0.5 on 141 points from −12 to 16 eV (0.2 eV apart), noise σ = 0.05.
SELECTION_STUDY = {
    "energy": np.linspace(-12.0, 16.0, 141),
    "truth": {
        "v": 0.76,
        "u_ff": 10.5,
        "u_fc": 12.5,
        "gamma": 0.7,
        "amplitude": 10.0,
        "background": 0.5,
    },
    "resolution": 0.3,
    "sigma": 0.05,
    "deltas": (12.5, 11.0, 10.08, 9.0, 8.0, 7.66),
}

_SQRT14, _SQRT26 = np.sqrt(14.0), np.sqrt(26.0)


# --------------------------------------------------------------------------------------
# Forward model
# --------------------------------------------------------------------------------------


def _check_configurations(n_configurations: int, u_ff) -> None:
    if n_configurations not in CONFIGURATIONS:
        raise ValueError(
            f"n_configurations must be one of {CONFIGURATIONS}, got {n_configurations!r}"
        )
    if n_configurations == 3 and u_ff is None:
        raise ValueError("the three-configuration model needs u_ff")
    if n_configurations == 2 and u_ff is not None:
        raise ValueError("the two-configuration model has no u_ff (it is the U_ff → ∞ limit)")


def hamiltonians(delta, v, u_fc, u_ff=None, n_configurations: int = 3):
    r"""Initial- and final-state Hamiltonians :math:`H_i, H_f`, shape (..., m, m).

    Parameters
    ----------
    delta, v, u_fc : array_like or TensorVariable, shape (...)
        :math:`\Delta, V, U_{fc}` [eV]; leading axes (draws) broadcast.
    u_ff : array_like or TensorVariable, shape (...), optional
        :math:`U_{ff}` [eV], for three configurations only.
    n_configurations : {2, 3}

    Returns
    -------
    h_initial, h_final : (..., m, m)
        NumPy for NumPy inputs, PyTensor graphs otherwise.
    """
    _check_configurations(n_configurations, u_ff)
    core_level.check_line_parameters({"delta": delta, "v": v, "u_fc": u_fc, "u_ff": u_ff})
    xp = array_module(delta, v, u_fc, u_ff)
    if xp is pt:
        values = [pt.as_tensor_variable(x) for x in (delta, v, u_fc, 0.0 if u_ff is None else u_ff)]
        delta, v, u_fc, u_ff_ = (pt.cast(x, "float64") for x in values)
        stack = pt.stack
    else:
        delta, v, u_fc, u_ff_ = np.broadcast_arrays(
            *(np.asarray(x, dtype=float) for x in (delta, v, u_fc, 0.0 if u_ff is None else u_ff))
        )
        stack = np.stack
    zero = 0.0 * delta
    initial = [zero, delta]
    final = [zero, delta - u_fc]
    hopping = [_SQRT14 * v]
    if n_configurations == 3:
        initial.append(2 * delta + u_ff_)
        final.append(2 * delta + u_ff_ - 2 * u_fc)
        hopping.append(_SQRT26 * v)
    hop = stack(hopping, axis=-1)
    return (
        core_level.charge_transfer_hamiltonian(stack(initial, axis=-1), hop),
        core_level.charge_transfer_hamiltonian(stack(final, axis=-1), hop),
    )


def lines(delta, v, u_fc, u_ff=None, n_configurations: int = 3):
    r"""Photoemission lines :math:`\epsilon_f = E_f - E_g` (ascending) and weights.

    Arguments as :func:`hamiltonians`. Returns ``(positions, weights)``, each of shape
    (..., m), the weights :math:`|\langle f|g\rangle|^2` summing to one.
    """
    h_initial, h_final = hamiltonians(delta, v, u_fc, u_ff, n_configurations)
    return core_level.xps_lines(h_initial, h_final)


def forward(
    energy,
    delta,
    v,
    u_fc,
    gamma,
    amplitude=1.0,
    background=0.0,
    *,
    u_ff=None,
    n_configurations: int = 3,
    resolution: float | None = None,
    spin_orbit: tuple[float, float] | None = None,
):
    r"""The spectrum :math:`A\sum_f w_f [V(E-\epsilon_f) + r V(E-\epsilon_f-\zeta)] + B`.

    Parameters
    ----------
    energy : array_like, shape (n,)
        Energy grid [eV] (:math:`E_f - E_g` axis), a constant.
    delta, v, u_fc, gamma, amplitude, background : array_like or TensorVariable, shape (...)
        :math:`\Delta, V, U_{fc}, \Gamma` [eV], :math:`A`, :math:`B`.
    u_ff : array_like or TensorVariable, shape (...), optional
        :math:`U_{ff}` [eV] (three configurations only).
    n_configurations : {2, 3}
    resolution : float, optional
        Gaussian instrument standard deviation [eV] (known); None: Lorentzian lines.
    spin_orbit : (float, float), optional
        ``(splitting, ratio)`` of the 3d3/2 copy, e.g. :data:`CE_3D_SPIN_ORBIT`.

    Returns
    -------
    ndarray or TensorVariable, shape (..., n)

    Raises
    ------
    ValueError
        (NumPy inputs) non-finite parameters, Γ ≤ 0, A < 0; (any input) an unknown
        number of configurations, ``u_ff`` missing for three or given for two
        configurations, a bad energy grid, resolution or spin-orbit setting.
    """
    core_level.check_line_parameters(
        {"gamma": gamma, "amplitude": amplitude, "background": background}
    )
    positions, weights = lines(delta, v, u_fc, u_ff, n_configurations)
    xp = array_module(positions, gamma, amplitude, background)
    asarray = pt.as_tensor_variable if xp is pt else np.asarray
    spectrum = core_level.broadened_spectrum(
        energy, positions, weights, gamma, resolution=resolution, spin_orbit=spin_orbit
    )
    return asarray(amplitude)[..., None] * spectrum + asarray(background)[..., None]


# --------------------------------------------------------------------------------------
# Priors and likelihood
# --------------------------------------------------------------------------------------


def parameter_names(n_configurations: int = 3) -> list[str]:
    """Names of the model's parameters (without ``sigma``), in table order."""
    _check_configurations(n_configurations, 0.0 if n_configurations == 3 else None)
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


def _scaled_priors(priors: Mapping[str, PriorSpec] | None, scales: Mapping[str, object]) -> dict:
    """The data-scaled default priors of amplitude, background and sigma, unless given."""
    out = dict(priors or {})
    factors = {
        "amplitude": scales["height"] * scales["width"],
        "background": scales["height"],
        "sigma": scales["height"],
    }

    for row, factor in factors.items():
        out.setdefault(row, PARAMETERS[row].prior.scaled(factor))
    return out


def add_priors(
    data: xr.Dataset,
    n_configurations: int = 3,
    *,
    priors: Mapping[str, PriorSpec] | None = None,
    prefix: str = "",
    names: Sequence[str] | None = None,
    scales: Mapping[str, object] | None = None,
) -> dict[str, pt.TensorVariable]:
    """Add the priors of the two- or three-configuration model to the current model.

    Parameters
    ----------
    data : xarray.Dataset
        The measurement (for the data-scaled priors, :func:`prior_scales`).
    n_configurations : {2, 3}
    priors : mapping, optional
        Prior overrides by parameter name (physical units).
    prefix : str
        Prepended to every variable name (several parameter sets in one model).
    names : sequence of str, optional
        Only these of the model's parameters (default: all of them).
    scales : mapping, optional
        Precomputed :func:`prior_scales`.

    Returns
    -------
    dict
        Parameter name (without prefix) to PyMC variable.
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
    _check_prior_names(priors, n_configurations)
    scales = prior_scales(data) if scales is None else scales
    return PARAMETERS.add_priors(wanted, _scaled_priors(priors, scales), prefix=prefix)


def _check_prior_names(priors: Mapping[str, PriorSpec] | None, n_configurations: int) -> None:
    every = [*parameter_names(n_configurations), "sigma"]
    unknown = sorted(set(priors or {}) - set(every))
    if unknown:
        raise ValueError(
            f"prior given for parameter(s) {unknown} that the {n_configurations}-configuration "
            f"model does not have; its parameters: {every}"
        )


def add_likelihood(
    data: xr.Dataset,
    params: Mapping[str, pt.TensorVariable],
    sigma=None,
    *,
    resolution: float | None = None,
    spin_orbit: tuple[float, float] | None = None,
    priors: Mapping[str, PriorSpec] | None = None,
    scales: Mapping[str, object] | None = None,
    name: str = VARIABLE,
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
        :func:`measurement_models.integration.integrated_model` passes); else the data's
        ``sigma``; else a ``sigma`` parameter (prior HalfNormal(h/10) unless overridden).
    resolution, spin_orbit
        As for :func:`forward`.
    priors : mapping, optional
        Prior overrides (only ``sigma`` is used here).
    scales : mapping, optional
        :func:`prior_scales` (for the ``sigma`` prior).
    name : str
        Name of the observed variable; the finiteness guard is ``<name>_forward_finite``.
    mutable_data : bool
        Intensities and the data's sigma in ``pm.Data`` containers (``<name>_observed``,
        ``<name>_sigma``), so that models of one structure on one energy grid share one
        compiled graph across datasets (pass ``scales`` from
        ``prior_scales(data, mutable=True)`` for the data-scaled priors too).

    Returns
    -------
    TensorVariable
        The observed variable.
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
        params["delta"],
        params["v"],
        params["u_fc"],
        params["gamma"],
        params.get("amplitude", np.float64(1.0)),
        params.get("background", np.float64(0.0)),
        u_ff=params.get("u_ff"),
        n_configurations=3 if "u_ff" in params else 2,
        resolution=resolution,
        spin_orbit=spin_orbit,
    )
    mean = hermitian.reject_non_finite(mean, name=f"{name}_forward_finite")
    noise = _noise(data, sigma, data_sigma, priors, scales)
    return pm.Normal(name, mu=mean, sigma=noise, observed=observed)


def _noise(data, sigma, data_sigma, priors, scales):
    """Known σ (scalar, per point, or a variable), the data's σ, or a σ parameter."""
    if isinstance(sigma, pt.Variable):
        return sigma
    if sigma is not None and np.ndim(sigma) > 0:
        values = np.asarray(sigma, dtype=np.float64)
        if not np.all(np.isfinite(values) & (values > 0)):
            raise ValueError("sigma must be positive and finite everywhere")
        return values
    if sigma is None and data_sigma is not None:
        return data_sigma
    scales = prior_scales(data) if scales is None else scales
    return noise_sd(
        data.drop_vars("sigma", errors="ignore"), sigma, PARAMETERS, _scaled_priors(priors, scales)
    )


def build_model(
    data: xr.Dataset,
    n_configurations: int = 3,
    *,
    resolution: float | None = None,
    spin_orbit: tuple[float, float] | None = None,
    sigma: float | None = None,
    priors: Mapping[str, PriorSpec] | None = None,
    mutable_data: bool = False,
) -> pm.Model:
    """PyMC model of a Ce 3d XPS spectrum with two or three configurations.

    Parameters
    ----------
    data : xarray.Dataset
        ``intensity`` along ``energy`` [eV], optional ``sigma`` (see :func:`simulate`).
    n_configurations : {2, 3}
        :math:`4f^0, 4f^1\\underline L` (2) or also :math:`4f^2\\underline L^2` (3).
    resolution : float, optional
        Gaussian instrument standard deviation [eV], known (None: Lorentzian lines).
    spin_orbit : (float, float), optional
        The 3d3/2 copy, e.g. :data:`CE_3D_SPIN_ORBIT` (None: the 3d5/2 region alone).
    sigma : float, optional
        Known noise standard deviation; default the data's ``sigma``, else a parameter.
    priors : mapping, optional
        Prior overrides by parameter name (physical units).
    mutable_data : bool
        Intensities, the data's sigma and the prior scales in ``pm.Data`` containers
        (``intensity_observed``, ``intensity_sigma``, ``intensity_height``,
        ``intensity_width``): models of one structure on one energy grid then share one
        compiled graph across datasets (``pm.set_data``; numba caches compiled graphs).

    Returns
    -------
    pymc.Model
        Free variables as :func:`parameter_names`; observed ``intensity``.

    Raises
    ------
    ValueError
        Bad data (via :func:`~measurement_models.data.validate_dataset`; here an axis
        not named ``energy``), a number of configurations other than 2 or 3, priors for
        parameters the model lacks, a bad resolution or spin-orbit setting.
    """
    prior_scales(data)
    parameter_names(n_configurations)
    _check_prior_names(priors, n_configurations)
    core_level.check_broadening(resolution, spin_orbit)
    with pm.Model() as model:
        scales = prior_scales(data, mutable=mutable_data)
        params = add_priors(data, n_configurations, priors=priors, scales=scales)
        add_likelihood(
            data,
            params,
            sigma,
            resolution=resolution,
            spin_orbit=spin_orbit,
            priors=priors,
            scales=scales,
            mutable_data=mutable_data,
        )
    return model


# --------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------


def simulate(
    energy: np.ndarray,
    truth: Mapping[str, float],
    sigma: float,
    rng: np.random.Generator | int | None = None,
    *,
    resolution: float | None = None,
    spin_orbit: tuple[float, float] | None = None,
) -> xr.Dataset:
    """Simulate a spectrum with Gaussian noise (seeded :class:`numpy.random.Generator`).

    Parameters
    ----------
    energy : array_like, shape (n,)
        Energy grid [eV], increasing.
    truth : mapping
        ``delta``, ``v``, ``u_fc``, ``gamma``, ``amplitude``, ``background`` and, for
        three configurations, ``u_ff``.
    sigma : float
        Noise standard deviation (stored per point as the data variable ``sigma``).
    rng : Generator or int, optional
    resolution, spin_orbit
        As for :func:`forward`.

    Returns
    -------
    xarray.Dataset
        ``intensity`` and ``sigma`` along ``energy``; attrs ``truth_<name>``,
        ``truth_sigma``, ``n_configurations`` (and ``resolution``, ``spin_orbit``).
    """
    if not (np.isfinite(sigma) and sigma > 0):
        raise ValueError(f"sigma must be positive and finite, got {sigma!r}")
    n_configurations = 3 if "u_ff" in truth else 2
    wanted = parameter_names(n_configurations)
    missing = [n for n in wanted if n not in truth]
    extra = [n for n in truth if n not in wanted]
    if missing or extra:
        raise ValueError(f"truth must give exactly {wanted}: missing {missing}, unknown {extra}")
    core_level.check_broadening(resolution, spin_orbit)
    rng = np.random.default_rng(rng)
    energy = np.asarray(energy, dtype=float)
    values = {n: float(truth[n]) for n in wanted}
    mean = forward(
        energy,
        values["delta"],
        values["v"],
        values["u_fc"],
        values["gamma"],
        values["amplitude"],
        values["background"],
        u_ff=values.get("u_ff"),
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

    The case study's settings (:data:`SELECTION_STUDY`) on a coarser grid of 81 points;
    build it with ``resolution=0.3``.
    """
    study = SELECTION_STUDY
    truth = {"delta": 8.0, **study["truth"]}
    energy = np.linspace(-12.0, 16.0, 81)
    data = simulate(energy, truth, study["sigma"], rng, resolution=study["resolution"])
    return data, truth


# --------------------------------------------------------------------------------------
# Plots
# --------------------------------------------------------------------------------------


def plot_fit(
    ax,
    data: xr.Dataset,
    posterior: xr.Dataset,
    *,
    resolution: float | None = None,
    spin_orbit: tuple[float, float] | None = None,
    label: str = "posterior",
    color: str = "C1",
    show_data: bool = True,
    **_,
) -> None:
    """Data, posterior band of the spectrum, and the truth if known.

    The number of configurations is read from the posterior (``u_ff`` present: three).
    ``show_data=False`` draws the band alone (to overlay several models on one axes).
    """
    from .plotting import plot_band, plot_data, posterior_draws

    energy = data[AXIS].values
    draws = posterior_draws(posterior)
    n_configurations = 3 if "u_ff" in draws else 2

    def values(name):
        return draws[name].values if name in draws else None

    curves = forward(
        energy,
        values("delta"),
        values("v"),
        values("u_fc"),
        values("gamma"),
        values("amplitude"),
        values("background"),
        u_ff=values("u_ff"),
        n_configurations=n_configurations,
        resolution=resolution,
        spin_orbit=spin_orbit,
    )
    plot_band(ax, energy, curves, color=color, label=label)
    ax.set_xlabel("E_f − E_g [eV]")
    if not show_data:
        return
    plot_data(ax, data, VARIABLE)
    ax.set_xlabel("E_f − E_g [eV]")
    if "truth_delta" in data.attrs:
        truth_n = int(data.attrs.get("n_configurations", 3))
        names = parameter_names(truth_n)
        t = {n: data.attrs[f"truth_{n}"] for n in names}
        ax.plot(
            energy,
            forward(
                energy,
                t["delta"],
                t["v"],
                t["u_fc"],
                t["gamma"],
                t["amplitude"],
                t["background"],
                u_ff=t.get("u_ff"),
                n_configurations=truth_n,
                resolution=data.attrs.get("resolution", resolution),
                spin_orbit=spin_orbit,
            ),
            "k--",
            lw=1,
            label="truth",
        )
    ax.legend(fontsize="small")
