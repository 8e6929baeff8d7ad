r"""The transmission spectrum: Lorentzian lines of every site, absorption and counts.

.. math::

    N(v) = N_\infty\Big[1 - \varepsilon \sum_s f_s \sum_{l} I^{(s)}_{l}\,
    L(v - \delta_s - p^{(s)}_{l}; \Gamma_s)\Big], \qquad
    L(u; \Gamma) = \frac{\Gamma/2\pi}{u^2 + \Gamma^2/4},

with the lines :math:`p^{(s)}_l, I^{(s)}_l` of site :math:`s` from
:func:`~measurement_models.mossbauer.hamiltonian.hyperfine_lines`, area fractions
:math:`f_s`, full widths at half maximum :math:`\Gamma_s`, total absorption area
:math:`\varepsilon` (mm/s; thin-absorber limit) and off-resonance counts
:math:`N_\infty`. NumPy in, NumPy out; PyTensor in, a graph out.
"""

from __future__ import annotations

import numpy as np

from ..array_backend import array_module, is_symbolic
from .hamiltonian import GEOMETRIES, _as_array, hyperfine_lines

__all__ = ["absorption", "forward", "site_lines", "transmission"]


def absorption(velocity, positions, intensities, delta, gamma, fraction=None):
    r"""Absorption :math:`a(v) = \sum_s f_s \sum_l I_{sl} L(v - \delta_s - p_{sl}; \Gamma_s)`.

    Parameters
    ----------
    velocity : (..., n) or (n,)
        Velocities [mm/s] (leading dims: draws, broadcasting with the parameters).
    positions, intensities : (..., S, L)
        Lines of each site (δ = 0), as from
        :func:`~measurement_models.mossbauer.hamiltonian.hyperfine_lines`.
    delta, gamma : (..., S)
        Isomer shift and FWHM of each site [mm/s].
    fraction : (..., S), optional
        Area fractions (default: one site, fraction 1).

    Returns
    -------
    (..., n)
        With the area-normalised Lorentzian :math:`L(u;\Gamma) = (\Gamma/2\pi)/(u^2 +
        \Gamma^2/4)`, so that :math:`\int a\,dv = \sum_s f_s`.
    """
    xp = array_module(velocity, positions, intensities, delta, gamma, fraction)
    velocity, positions, intensities, delta, gamma = (
        _as_array(v, xp) for v in (velocity, positions, intensities, delta, gamma)
    )
    u = velocity[..., None, None, :] - (positions + delta[..., None])[..., None]
    half = (gamma / 2)[..., None, None]
    lorentz = half / np.pi / (u**2 + half**2)
    per_site = (intensities[..., None] * lorentz).sum(axis=-2)  # (..., S, n)
    if fraction is None:
        return per_site.sum(axis=-2)
    fraction = _as_array(fraction, xp)
    return (fraction[..., None] * per_site).sum(axis=-2)


def site_lines(
    delta,
    *,
    B_hf=None,
    A=None,
    eta=None,
    theta=None,
    phi=None,
    geometry: str = "powder",
    k_theta=None,
    k_phi=None,
):
    """Lines of every site (δ = 0): positions and intensities, shape (..., S, L).

    With neither ``B_hf`` nor ``A`` the sites are singlets (L = 1, no eigenproblem);
    otherwise :func:`~measurement_models.mossbauer.hamiltonian.hyperfine_lines` (L = 8)
    with omitted terms set to zero. ``delta`` (..., S) only sets the shape of the
    singlet case.
    """
    if geometry not in GEOMETRIES:
        raise ValueError(f"unknown geometry {geometry!r}; choose one of {GEOMETRIES}")
    xp = array_module(delta, B_hf, A, eta, theta, phi, k_theta, k_phi)
    if B_hf is None and A is None:
        delta = _as_array(delta, xp)
        return xp.zeros_like(delta)[..., None], xp.ones_like(delta)[..., None]
    if geometry == "single_crystal" and not (k_theta is None or k_phi is None):
        # one beam direction for all sites: add the site axis
        k_theta, k_phi = (_as_array(v, xp)[..., None] for v in (k_theta, k_phi))
    return hyperfine_lines(
        *(0.0 if v is None else v for v in (B_hf, A, eta, theta, phi)),
        geometry=geometry,
        k_theta=k_theta,
        k_phi=k_phi,
    )


def transmission(
    velocity, positions, intensities, *, delta, gamma, epsilon, baseline, fraction=None
):
    r""":math:`N_\infty[1 - \varepsilon\,a(v)]` from the lines (see :func:`absorption`)."""
    xp = array_module(velocity, positions, intensities, delta, epsilon, baseline)
    a = absorption(velocity, positions, intensities, delta, gamma, fraction)
    epsilon, baseline = _as_array(epsilon, xp), _as_array(baseline, xp)
    return baseline[..., None] * (1 - epsilon[..., None] * a)


def forward(
    velocity,
    *,
    delta,
    gamma,
    epsilon,
    baseline,
    B_hf=None,
    A=None,
    eta=None,
    theta=None,
    phi=None,
    fraction=None,
    geometry: str = "powder",
    k_theta=None,
    k_phi=None,
):
    r"""Expected counts :math:`N_\infty[1 - \varepsilon\,a(v)]` of a transmission spectrum.

    Parameters
    ----------
    velocity : (n,) or (..., n)
        Velocities [mm/s].
    delta, gamma : (..., S)
        Isomer shift and FWHM of each of the S sites [mm/s].
    epsilon, baseline : float or (...)
        Absorption area [mm/s] and off-resonance counts.
    B_hf, A, eta, theta, phi : (..., S), optional
        Hamiltonian parameters
        (:func:`~measurement_models.mossbauer.hamiltonian.hamiltonians`); omitted terms
        are zero. With neither ``B_hf`` nor ``A`` the sites are singlets (no eigenproblem
        is solved).
    fraction : (..., S), optional
        Area fractions (needed for S > 1).
    geometry : {"powder", "single_crystal"}
    k_theta, k_phi : float or (...)
        Beam direction in the EFG frame (single crystal).

    Returns
    -------
    (..., n)
        NumPy for NumPy inputs, PyTensor otherwise.

    Raises
    ------
    ValueError
        For NumPy inputs whose site axes differ, several sites without ``fraction``,
        or an unknown geometry.
    """
    site = {"B_hf": B_hf, "A": A, "eta": eta, "theta": theta, "phi": phi}
    if not is_symbolic(velocity, delta, gamma, epsilon, baseline, fraction, *site.values()):
        _check_site_shapes(delta=delta, gamma=gamma, fraction=fraction, **site)
    positions, intensities = site_lines(
        delta, **site, geometry=geometry, k_theta=k_theta, k_phi=k_phi
    )
    return transmission(
        velocity,
        positions,
        intensities,
        delta=delta,
        gamma=gamma,
        epsilon=epsilon,
        baseline=baseline,
        fraction=fraction,
    )


def _check_site_shapes(**arrays) -> None:
    shapes = {name: np.shape(value) for name, value in arrays.items() if value is not None}
    scalar = [name for name, shape in shapes.items() if not shape]
    if scalar:
        raise ValueError(
            f"site parameters need a site axis (the last one), got scalar(s) {scalar}; "
            "use e.g. delta=[0.3] for one site"
        )
    if len({shape[-1] for shape in shapes.values()}) > 1:
        detail = ", ".join(f"{name}: {shape}" for name, shape in shapes.items())
        raise ValueError(f"site parameters disagree on the number of sites ({detail})")
    n_sites = shapes["delta"][-1]
    if n_sites > 1 and arrays.get("fraction") is None:
        raise ValueError(f"{n_sites} sites need their area fractions (fraction)")
