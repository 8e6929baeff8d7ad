r"""The NiO cluster physics: Hamiltonians, Ni 2p XPS and XAS lines, and the spectra.

Every function takes the parameters as keywords (floats, arrays with a common leading
batch shape, or PyTensor variables): NumPy in, NumPy out; PyTensor in, a differentiable
graph out (through :mod:`measurement_models.core_level`). The definitions are in the
docstring of :mod:`measurement_models.nio_cluster`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pytensor.tensor as pt

from .. import core_level
from ..array_backend import is_symbolic
from ..parameters import check_choice

__all__ = [
    "ENERGIES",
    "PER_SPECTRUM",
    "PHYSICAL",
    "SPECTRA",
    "TRANSITION_XAS",
    "check_spectrum",
    "forward",
    "hamiltonians",
    "lines",
]

#: The two kinds of spectrum: Ni 2p photoemission and Ni 2p absorption.
SPECTRA = ("xps", "xas")
#: The parameters two spectra of one sample share.
PHYSICAL = ("delta", "v", "u_dd", "u_dc", "gamma")
#: Per-spectrum parameters (not shared in an integrated analysis).
PER_SPECTRUM = ("amplitude", "background")
#: The configuration energies and couplings: what the Hamiltonians depend on.
ENERGIES = ("delta", "v", "u_dd", "u_dc")

#: XAS dipole operator between (c d⁹, c d¹⁰L) and (d⁸, d⁹L, d¹⁰L²), symmetric states.
TRANSITION_XAS = np.array([[np.sqrt(2.0), 0.0, 0.0], [0.0, 1.0, 0.0]])


def check_spectrum(spectrum: str) -> None:
    """``ValueError`` unless ``spectrum`` is one of :data:`SPECTRA`."""
    check_choice(spectrum, SPECTRA, "spectrum kind")


def _check_names(params: Mapping[str, object], names: Sequence[str]) -> None:
    """``ValueError`` unless ``params`` holds exactly the parameters ``names``."""
    missing = [name for name in names if name not in params]
    unknown = sorted(set(params) - set(names))
    problems = [f"missing parameter(s) {missing}"] if missing else []
    problems += [f"unknown parameter(s) {unknown}"] if unknown else []
    if problems:
        raise ValueError(f"{'; '.join(problems)}: the model needs {list(names)}")


def _values(params: Mapping[str, object], names: Sequence[str]) -> list:
    """Exactly the parameters ``names``: PyTensor variables, or checked broadcast floats."""
    _check_names(params, names)
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


def hamiltonians(spectrum: str = "xps", **params) -> tuple:
    r"""Initial- and final-state Hamiltonians of the reduced cluster model.

    Parameters
    ----------
    spectrum : {"xps", "xas"}
    **params
        ``delta``, ``v``, ``u_dd``, ``u_dc`` (eV): floats, arrays (leading batch shape)
        or PyTensor variables.

    Returns
    -------
    h_initial : (..., 3, 3)
        On :math:`d^8, d^9\underline L, d^{10}\underline L^2`.
    h_final : (..., 3, 3) for XPS, (..., 2, 2) for XAS
        With the core hole.
    """
    check_spectrum(spectrum)
    delta, v, u_dd, u_dc = _values(params, ENERGIES)
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


def lines(spectrum: str = "xps", **params) -> tuple:
    r"""Line positions :math:`E_f - E_g` (eV, ascending) and weights :math:`|\langle
    f|T|g\rangle|^2`: three XPS lines (weights sum to 1) or two XAS lines (weights sum
    to :math:`2|g_{d^8}|^2 + |g_{d^9\underline L}|^2`, the e_g hole count).

    Arguments as :func:`hamiltonians`.
    """
    h_initial, h_final = hamiltonians(spectrum, **params)
    if spectrum == "xps":
        return core_level.xps_lines(h_initial, h_final)
    return core_level.xas_lines(h_initial, h_final, TRANSITION_XAS)


def forward(
    energy,
    *,
    spectrum: str = "xps",
    resolution: float | None = None,
    spin_orbit: tuple[float, float] | None = None,
    **params,
):
    r"""The spectrum :math:`A\sum_f w_f\,V(\omega - \epsilon_f; \sigma, \Gamma) + B`.

    Parameters
    ----------
    energy : (n,)
        Energy grid, eV (relative convention, see the package docstring).
    spectrum : {"xps", "xas"}
    resolution : float, optional
        Gaussian instrument standard deviation (eV); None: Lorentzian only (eq. (6)).
    spin_orbit : (float, float), optional
        ``(splitting, ratio)`` of a second core-level component, e.g. ``(17.5, 0.5)``.
    **params
        ``delta, v, u_dd, u_dc, gamma, amplitude, background``: floats, arrays with a
        common leading (batch) shape, or PyTensor variables.

    Returns
    -------
    (..., n)
        NumPy for NumPy input, a PyTensor graph otherwise.

    Raises
    ------
    ValueError
        Unknown spectrum kind, a bad energy grid, missing, unknown or non-finite
        parameters, a non-positive width (NumPy input), a bad resolution or spin–orbit
        pair.
    """
    check_spectrum(spectrum)
    energy = core_level.check_energy_grid(energy)
    core_level.check_broadening(resolution, spin_orbit)
    _check_names(params, PHYSICAL + PER_SPECTRUM)
    shape = ("gamma", *PER_SPECTRUM)
    gamma, amplitude, background = _values({name: params[name] for name in shape}, shape)
    positions, weights = lines(spectrum, **{name: params[name] for name in ENERGIES})
    profile = core_level.broadened_spectrum(
        energy, positions, weights, gamma, resolution=resolution, spin_orbit=spin_orbit
    )
    return amplitude[..., None] * profile + background[..., None]
