r"""NiO as an [NiO₆] cluster: Ni 2p XPS and Ni 2p XAS from one charge-transfer model.

Model
-----
Yokoyama, Uozumi, Nagata, Okada, Mizumaki, JPSJ 90, 034703 (2021); seed 000, eqs. (5)
and (6).

Seed 000 writes the cluster Hamiltonian with monopole interactions only,

.. math::

    H = \sum_k \epsilon_k a_k^\dagger a_k + \sum_\nu \epsilon_d a_{d\nu}^\dagger a_{d\nu}
        + \epsilon_c a_c^\dagger a_c
        + V \sum_\nu (a_{d\nu}^\dagger a_{L\nu} + \text{h.c.})
        - U_{dc} \sum_\nu n_{d\nu}(1 - n_c) + U_{dd} \sum_{\nu > \nu'} n_{d\nu} n_{d\nu'},

(each d spin-orbital :math:`\nu` hybridises with its ligand partner :math:`L\nu`; 10Dq
splits the d levels into e_g at :math:`+6Dq` and t_2g at :math:`-4Dq`). In octahedral
Ni²⁺ (d⁸) the t_2g shell is full; with monopole interactions only, the spin-orbitals
that carry the two holes are conserved, so the ground manifold (six-fold degenerate
without Hund's exchange) lies in the e_g–e_g hole block and every one of its states
gives the spectra of the symmetric three-configuration chain on
:math:`|d^8\rangle, |d^9\underline L\rangle, |d^{10}\underline L^2\rangle`:

.. math::

    H_i = \begin{pmatrix} 0 & \sqrt2 V & 0 \\ \sqrt2 V & \Delta & \sqrt2 V \\
          0 & \sqrt2 V & 2\Delta + U_{dd} \end{pmatrix}.

* **2p XPS** (core electron removed, sudden approximation, :math:`T = 1`): the final
  states :math:`|\underline c\,d^8\rangle, |\underline c\,d^9\underline L\rangle,
  |\underline c\,d^{10}\underline L^2\rangle` have the diagonal
  :math:`(0, \Delta - U_{dc}, 2\Delta + U_{dd} - 2U_{dc})` and the same couplings.
* **2p XAS** (core electron into a d hole): final states
  :math:`|\underline c\,d^9\rangle, |\underline c\,d^{10}\underline L\rangle` with
  :math:`H = \begin{pmatrix} 0 & V \\ V & \Delta + U_{dd} - U_{dc} \end{pmatrix}` and the
  dipole operator :math:`T = \begin{pmatrix} \sqrt2 & 0 & 0 \\ 0 & 1 & 0\end{pmatrix}`
  (rows final, columns initial configurations).

Spectra (eq. (6) of seed 000, with an amplitude and a constant background per spectrum):

.. math::

    I(\omega) = A \sum_f |\langle f|T|g\rangle|^2\,
        \frac{\Gamma/\pi}{(\omega - E_f + E_g)^2 + \Gamma^2} + B,

a Voigt profile instead of the Lorentzian when a Gaussian ``resolution`` is given,
and optionally a second core-level component (``spin_orbit = (splitting, 1/2)``:
2p₁/₂ at ``splitting`` eV above 2p₃/₂ with half its weight) — both through
:func:`measurement_models.core_level.broadened_spectrum`.

Energies, eV, in the relative convention of :mod:`measurement_models.core_level`: the
XPS axis is the binding energy measured from the configuration energy of
:math:`\underline c\,d^8` relative to :math:`d^8`; the XAS axis is the photon energy
measured from the energy of :math:`\underline c\,d^9` relative to :math:`d^8`. Real
spectra would need an energy offset per spectrum (core-level energy, work function,
monochromator calibration); in the simulated studies here it is not a parameter.

Parameters and what they mean
-----------------------------
``delta`` is the **e_g** charge-transfer energy :math:`\Delta = E(d^9\underline L) -
E(d^8)` of the lowest configurations. With :math:`\Delta_\text{avg}` defined on the
configuration average (d levels not split), :math:`\Delta = \Delta_\text{avg} + 6Dq`
(the transferred electron lands in e_g, at :math:`+6Dq`). ``v`` is the e_g hybridisation
of one d spin-orbital with its ligand partner (:math:`\sqrt2 V` couples the
configurations because either of the two holes may hop). ``u_dd`` and ``u_dc`` are the
d–d and core-hole–d Coulomb energies, ``gamma`` the Lorentzian half width (core-hole
lifetime). These five are what two spectra of one sample share; ``amplitude`` and
``background`` belong to each spectrum.

Simplifications relative to full multiplet theory, and why
----------------------------------------------------------
1. **10Dq is not a parameter**: with monopole interactions the spectra depend on 10Dq
   and on the t_2g hybridisation only through the e_g charge-transfer energy (verified
   in the test against the full second-quantised eq. (5) with e_g and t_2g modes), so
   10Dq is not identifiable in this model, and ``delta`` is :math:`\Delta_\text{avg} +
   6Dq`. What makes 10Dq visible in real Ni L-edge spectra are the multiplet terms —
   Hund's exchange, the 2p–3d Slater integrals :math:`F^2_{pd}, G^1, G^3`, the 3d and
   2p spin–orbit couplings — which need a multiplet basis (45 d⁸ states times the core
   and ligand states) and are out of scope here. The paper (seed 000) lists 10Dq among
   its parameters, so its model had more than eq. (5) shows.
2. **One core level**: the 2p spin–orbit splitting enters only as an optional fixed
   copy (``spin_orbit``), not from the 2p–3d interaction.
3. **Dipole angular factors** are absorbed into the amplitude.
4. **Sudden approximation** for XPS; no intrinsic/extrinsic losses, **no Shirley
   background** (a constant only).
5. **The e_g ligand band is one level** (no band width).

Reference settings (:data:`REFERENCE`): :math:`\Delta` = 5.0, V = 2.2,
:math:`U_{dd}` = 7.0, :math:`U_{dc}` = 8.5, Γ = 0.5 eV — illustrative values, chosen in
the range usually quoted from the cluster analyses of NiO (e.g. van der Laan, Zaanen,
Sawatzky, Karnatak, Esteva, PRB 33, 4253 (1986); Fujimori and Minami, PRB 30, 957
(1984); we did not have these papers to check exact numbers); they are not a fit to
data. They put the XPS main line
(mostly :math:`\underline c\,d^9\underline L`) at −4.89 eV with satellites 6.5 and 9.5
eV above it (weights 0.58, 0.33, 0.10), and the XAS main line at 0.53 eV with a
charge-transfer satellite 5.6 eV above it (1 % of the weight). XPS on −10 … 10 eV
(201 points), XAS on −4 … 12 eV (161 points), the same signal-to-noise ratio
(:data:`REFERENCE_SNR` = 100: σ = peak height above background / 100) in both
(:func:`simulate_pair`).

Default priors (ours; the paper does not give its priors): uniform, Δ ∈ (1, 10),
V ∈ (0.5, 4), :math:`U_{dd}` ∈ (3, 12), :math:`U_{dc}` ∈ (4, 14), Γ ∈ (0.05, 2) eV,
amplitude ∈ (0, 5), background ∈ (−0.5, 0.5); σ ~ HalfNormal(1) when the noise is not
known.

Checked (``tests/measurement_models/test_nio_cluster.py``): the reduced 3×3/2×2
model against eq. (5) built literally in second quantisation (Slater determinants of
21 spin-orbitals: 10 d, 10 ligand partners, one core level; e_g and t_2g levels split
by 10Dq; t_2g hybridisation ±V/2) — line positions and summed weights of XPS and XAS,
averaged over the degenerate ground manifold; that 10Dq and V_t2g enter only through
:math:`\Delta = \Delta_\text{avg} + 6Dq`; the matrices written out by hand with
:func:`numpy.linalg.eigh`; the Lorentzian area; the PyTensor graph against NumPy; the
model's gradient against central finite differences; the integrated model's
log-density against hand-written :func:`scipy.stats.norm.logpdf` sums (both
normalisations present); the free energy of a two-parameter version (Γ and amplitude
free) by replica exchange against two-dimensional quadrature; bad input refused. The
case study
``case_studies/yokoyama2021_nio_xps_xas_integration.py`` checks the sampled free
energies against Laplace approximations.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from . import core_level
from .array_backend import is_symbolic
from .data import make_dataset, validate_dataset
from .hermitian import reject_non_finite
from .noise import noise_sd
from .parameters import Parameter, ParameterTable, Prior, PriorSpec, check_choice

__all__ = [
    "ENERGY",
    "PARAMETERS",
    "PER_SPECTRUM",
    "PHYSICAL",
    "REFERENCE",
    "REFERENCE_SNR",
    "SPECTRA",
    "TRANSITION_XAS",
    "add_likelihood",
    "add_priors",
    "build_model",
    "example_data",
    "forward",
    "hamiltonians",
    "lines",
    "plot_fit",
    "simulate",
    "simulate_pair",
    "xas_spectrum",
    "xps_spectrum",
]

VARIABLE = "intensity"
AXIS = "energy"
#: The two kinds of spectrum: Ni 2p photoemission and Ni 2p absorption.
SPECTRA = ("xps", "xas")
#: The parameters two spectra of one sample share.
PHYSICAL = ("delta", "v", "u_dd", "u_dc", "gamma")
#: Per-spectrum parameters (not shared in an integrated analysis).
PER_SPECTRUM = ("amplitude", "background")
_FORWARD = PHYSICAL + PER_SPECTRUM

#: XAS dipole operator between (c d⁹, c d¹⁰L) and (d⁸, d⁹L, d¹⁰L²), symmetric states.
TRANSITION_XAS = np.array([[np.sqrt(2.0), 0.0, 0.0], [0.0, 1.0, 0.0]])

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

#: Illustrative NiO values (eV) and the per-spectrum amplitude and background.
REFERENCE: dict[str, float] = {
    "delta": 5.0,
    "v": 2.2,
    "u_dd": 7.0,
    "u_dc": 8.5,
    "gamma": 0.5,
    "amplitude": 1.0,
    "background": 0.02,
}
#: Signal-to-noise ratio of the reference simulation, the same for XPS and XAS.
REFERENCE_SNR = 100.0
#: Energy grids (eV, relative convention) of the reference simulation.
ENERGY: dict[str, np.ndarray] = {
    "xps": np.linspace(-10.0, 10.0, 201),
    "xas": np.linspace(-4.0, 12.0, 161),
}


def _check_spectrum(spectrum: str) -> None:
    check_choice(spectrum, SPECTRA, "spectrum kind")


def _values(params: Mapping[str, object], names: Sequence[str]) -> list:
    """The parameters ``names`` from ``params``: PyTensor variables, or checked floats."""
    if not isinstance(params, Mapping):
        raise ValueError(f"params must be a mapping of parameter values, got {type(params)}")
    missing = [name for name in names if name not in params]
    if missing:
        raise ValueError(f"missing parameter(s) {missing}; the model needs {list(names)}")
    values = [params[name] for name in names]
    if is_symbolic(*values):
        return [pt.as_tensor_variable(v) for v in values]
    core_level.check_line_parameters(dict(zip(names, values, strict=True)))
    arrays = [np.asarray(v, dtype=float) for v in values]
    return list(np.broadcast_arrays(*arrays))


def _stack(values: Sequence) -> object:
    """Stack along a new last axis (NumPy or PyTensor)."""
    if is_symbolic(*values):
        return pt.stack(pt.broadcast_arrays(*values), axis=-1)
    return np.stack(np.broadcast_arrays(*values), axis=-1)


def hamiltonians(params: Mapping[str, object], spectrum: str = "xps") -> tuple:
    r"""Initial- and final-state Hamiltonians of the reduced cluster model.

    Parameters
    ----------
    params : mapping
        ``delta``, ``v``, ``u_dd``, ``u_dc`` (eV): floats, arrays (leading batch shape)
        or PyTensor variables.
    spectrum : {"xps", "xas"}

    Returns
    -------
    h_initial : (..., 3, 3)
        On :math:`d^8, d^9\underline L, d^{10}\underline L^2`.
    h_final : (..., 3, 3) for XPS, (..., 2, 2) for XAS
        With the core hole.
    """
    _check_spectrum(spectrum)
    delta, v, u_dd, u_dc = _values(params, ("delta", "v", "u_dd", "u_dc"))
    zero = 0 * delta
    hop = np.sqrt(2.0) * v
    h_initial = core_level.charge_transfer_hamiltonian(
        _stack([zero, delta, 2 * delta + u_dd]), _stack([hop, hop])
    )
    if spectrum == "xps":
        diagonal = _stack([zero, delta - u_dc, 2 * delta + u_dd - 2 * u_dc])
        h_final = core_level.charge_transfer_hamiltonian(diagonal, _stack([hop, hop]))
    else:
        h_final = core_level.charge_transfer_hamiltonian(
            _stack([zero, delta + u_dd - u_dc]), _stack([v + zero])
        )
    return h_initial, h_final


def lines(params: Mapping[str, object], spectrum: str = "xps") -> tuple:
    r"""Line positions :math:`E_f - E_g` (eV, ascending) and weights :math:`|\langle
    f|T|g\rangle|^2`: three XPS lines (weights sum to 1) or two XAS lines (weights sum
    to :math:`2|g_{d^8}|^2 + |g_{d^9\underline L}|^2`, the e_g hole count)."""
    h_initial, h_final = hamiltonians(params, spectrum)
    if spectrum == "xps":
        return core_level.xps_lines(h_initial, h_final)
    return core_level.xas_lines(h_initial, h_final, TRANSITION_XAS)


def forward(
    energy,
    params: Mapping[str, object],
    spectrum: str = "xps",
    resolution: float | None = None,
    spin_orbit: tuple[float, float] | None = None,
):
    r"""The spectrum :math:`A\sum_f w_f\,V(\omega - \epsilon_f; \sigma, \Gamma) + B`.

    Parameters
    ----------
    energy : (n,)
        Energy grid, eV (relative convention, see the module docstring).
    params : mapping
        ``delta, v, u_dd, u_dc, gamma, amplitude, background``: floats, arrays with a
        common leading (batch) shape, or PyTensor variables.
    spectrum : {"xps", "xas"}
    resolution : float, optional
        Gaussian instrument standard deviation (eV); None: Lorentzian only (eq. (6)).
    spin_orbit : (float, float), optional
        ``(splitting, ratio)`` of a second core-level component, e.g. ``(17.5, 0.5)``.

    Returns
    -------
    (..., n)
        NumPy for NumPy input, a PyTensor graph otherwise.

    Raises
    ------
    ValueError
        Unknown spectrum kind, a bad energy grid, missing or non-finite parameters,
        a non-positive width (NumPy input), a bad resolution or spin–orbit pair.
    """
    _check_spectrum(spectrum)
    energy = core_level.check_energy_grid(energy)
    core_level.check_broadening(resolution, spin_orbit)
    gamma, amplitude, background = _values(params, ("gamma", "amplitude", "background"))
    positions, weights = lines(params, spectrum)
    profile = core_level.broadened_spectrum(
        energy, positions, weights, gamma, resolution=resolution, spin_orbit=spin_orbit
    )
    return amplitude[..., None] * profile + background[..., None]


def xps_spectrum(energy, params, resolution=None, spin_orbit=None):
    """Ni 2p XPS: :func:`forward` with ``spectrum="xps"``."""
    return forward(energy, params, "xps", resolution, spin_orbit)


def xas_spectrum(energy, params, resolution=None, spin_orbit=None):
    """Ni 2p XAS: :func:`forward` with ``spectrum="xas"``."""
    return forward(energy, params, "xas", resolution, spin_orbit)


def add_priors(
    prefix: str = "",
    names: Sequence[str] | None = None,
    priors: Mapping[str, PriorSpec] | None = None,
) -> dict[str, pt.TensorVariable]:
    """Add the priors of the union of the XPS and XAS parameters to the current model.

    Parameters
    ----------
    prefix : str
        Prepended to every variable name (see
        :func:`measurement_models.integration.integrated_model`).
    names : sequence of str, optional
        Only these parameters (default: the five physical ones, amplitude and
        background; ``sigma`` only when named).
    priors : mapping, optional
        Prior overrides by parameter name.

    Returns
    -------
    dict
        Parameter name (without prefix) to PyMC variable.
    """
    names = list(_FORWARD if names is None else names)
    unknown = [name for name in names if name not in PARAMETERS.names]
    if unknown:
        raise ValueError(f"no parameter(s) {unknown}; parameters: {PARAMETERS.names}")
    return PARAMETERS.add_priors(names, priors, prefix=prefix)


def _check_data_spectrum(data: xr.Dataset, spectrum: str) -> None:
    recorded = data.attrs.get("spectrum")
    if recorded is not None and recorded != spectrum:
        raise ValueError(
            f"the data are a {recorded!r} spectrum, the model was asked for {spectrum!r}"
        )


def add_likelihood(
    data: xr.Dataset,
    params: Mapping[str, pt.TensorVariable],
    sigma,
    spectrum: str = "xps",
    name: str = VARIABLE,
    resolution: float | None = None,
    spin_orbit: tuple[float, float] | None = None,
) -> pt.TensorVariable:
    """Add the Gaussian likelihood of one spectrum to the current model.

    A failed eigensolve (non-finite forward values) gives a log-density of −∞ through
    the potential ``<name>_forward_finite``. Use :func:`functools.partial` to fix
    ``spectrum`` for :class:`measurement_models.integration.Measurement`.
    """
    _check_spectrum(spectrum)
    validate_dataset(data, variables=[VARIABLE])
    _check_data_spectrum(data, spectrum)
    energy = data[data[VARIABLE].dims[0]].values
    mean = forward(energy, params, spectrum, resolution, spin_orbit)
    mean = reject_non_finite(mean, name=f"{name}_forward_finite")
    return pm.Normal(name, mu=mean, sigma=sigma, observed=data[VARIABLE].values)


def build_model(
    data: xr.Dataset,
    spectrum: str = "xps",
    sigma: float | None = None,
    priors: Mapping[str, PriorSpec] | None = None,
    resolution: float | None = None,
    spin_orbit: tuple[float, float] | None = None,
) -> pm.Model:
    """PyMC model of one Ni 2p spectrum (XPS or XAS).

    Parameters
    ----------
    data : xarray.Dataset
        ``intensity`` along ``energy`` (eV); a ``spectrum`` attribute, if present, must
        agree with ``spectrum``.
    spectrum : {"xps", "xas"}
    sigma : float, optional
        Known noise standard deviation; default: the data's ``sigma`` variable, or a
        free ``sigma`` with the table's prior.
    priors : mapping, optional
        Prior overrides by parameter name.
    resolution, spin_orbit
        As for :func:`forward`.

    Returns
    -------
    pymc.Model
        Free variables ``delta, v, u_dd, u_dc, gamma, amplitude, background`` (and
        ``sigma``); observed ``intensity``.
    """
    _check_spectrum(spectrum)
    validate_dataset(data, variables=[VARIABLE])
    _check_data_spectrum(data, spectrum)
    core_level.check_broadening(resolution, spin_orbit)
    with pm.Model() as model:
        params = add_priors(priors=priors)
        noise = noise_sd(data, sigma, PARAMETERS, priors)
        add_likelihood(data, params, noise, spectrum, VARIABLE, resolution, spin_orbit)
    return model


def simulate(
    energy,
    params: Mapping[str, float],
    sigma: float,
    spectrum: str = "xps",
    rng: np.random.Generator | int | None = None,
    resolution: float | None = None,
    spin_orbit: tuple[float, float] | None = None,
) -> xr.Dataset:
    """One noisy spectrum; the truth in ``attrs`` (``truth_<name>``, ``truth_sigma``).

    Raises
    ------
    ValueError
        As :func:`forward`, and for a σ that is not positive and finite.
    """
    if not (np.isfinite(sigma) and sigma > 0):
        raise ValueError(f"sigma must be positive and finite, got {sigma!r}")
    rng = np.random.default_rng(rng)
    energy = core_level.check_energy_grid(energy)
    mean = forward(energy, params, spectrum, resolution, spin_orbit)
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
    truth: Mapping[str, float] | None = None,
    snr: float = REFERENCE_SNR,
    rng: np.random.Generator | int | None = None,
    energies: Mapping[str, np.ndarray] | None = None,
    resolution: float | None = None,
    spin_orbit: tuple[float, float] | None = None,
) -> tuple[xr.Dataset, xr.Dataset]:
    r"""XPS and XAS of one sample at the same signal-to-noise ratio.

    :math:`\sigma_k = \max_\omega [I_k(\omega) - B] / \mathrm{snr}` for each spectrum
    (peak height above the background over the S/N). The same amplitude and background
    (``truth``) are used for both; XPS noise is drawn first.

    Returns
    -------
    (xps, xas) : tuple of xarray.Dataset
    """
    truth = dict(REFERENCE if truth is None else truth)
    energies = dict(ENERGY if energies is None else energies)
    if not (np.isfinite(snr) and snr > 0):
        raise ValueError(f"snr must be positive and finite, got {snr!r}")
    rng = np.random.default_rng(rng)
    out = []
    for spectrum in SPECTRA:
        energy = core_level.check_energy_grid(energies[spectrum])
        clean = forward(energy, truth, spectrum, resolution, spin_orbit)
        sigma = float(np.max(clean - truth["background"])) / snr
        out.append(simulate(energy, truth, sigma, spectrum, rng, resolution, spin_orbit))
    return out[0], out[1]


def example_data(rng: np.random.Generator | int | None = 0) -> tuple[xr.Dataset, dict]:
    """The reference XPS spectrum (201 points, S/N 100) and its truth."""
    xps, _ = simulate_pair(REFERENCE, REFERENCE_SNR, rng)
    return xps, dict(REFERENCE)


def _draw_values(posterior: xr.Dataset, prefix: str) -> dict[str, np.ndarray]:
    values = {}
    for name in _FORWARD:
        key = prefix + name if prefix + name in posterior else name
        if key not in posterior:
            raise ValueError(f"the posterior has no {prefix + name!r} or {name!r}")
        values[name] = posterior[key].values
    return values


def plot_fit(
    ax,
    data: xr.Dataset,
    posterior: xr.Dataset,
    spectrum: str | None = None,
    prefix: str = "",
    resolution: float | None = None,
    spin_orbit: tuple[float, float] | None = None,
    **_,
) -> None:
    """Data, posterior band of the spectrum, and the truth if known.

    ``prefix`` names a measurement's own parameters in an integrated model (e.g.
    ``"xps_"`` for ``xps_amplitude``); shared parameters are found without it.
    """
    from .plotting import plot_band, plot_data, posterior_draws

    spectrum = spectrum or data.attrs.get("spectrum", "xps")
    energy = data[AXIS].values
    draws = posterior_draws(posterior)
    curves = forward(energy, _draw_values(draws, prefix), spectrum, resolution, spin_orbit)
    plot_data(ax, data, VARIABLE)
    plot_band(ax, energy, curves)
    if all(f"truth_{name}" in data.attrs for name in _FORWARD):
        truth = {name: data.attrs[f"truth_{name}"] for name in _FORWARD}
        ax.plot(
            energy,
            forward(energy, truth, spectrum, resolution, spin_orbit),
            "k--",
            lw=1,
            label="truth",
        )
    label = "binding energy" if spectrum == "xps" else "photon energy"
    ax.set_xlabel(f"{label} (relative) [eV]")
    ax.set_title(f"Ni 2p {spectrum.upper()}", fontsize="medium")
    ax.legend(fontsize="small")
