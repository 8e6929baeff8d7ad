"""Simulated and measured magnetic Compton profiles as measurement Datasets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from ..data import load_text as _load_text
from ..data import make_dataset
from .physics import AXIS, VARIABLE, convolved_profile

__all__ = ["EXAMPLE_TRUTH", "example_data", "load", "simulate"]


def simulate(
    p: np.ndarray,
    *,
    rng: np.random.Generator | int | None = None,
    sigma: float,
    scale_3d: float = 1.0,
    include_sigma: bool = True,
    a_3d: float,
    a_4s: float,
    Gamma: float,
) -> xr.Dataset:
    r"""A simulated MCP :math:`f(p) + N(0, \sigma^2)` (truth in ``attrs["truth_<name>"]``).

    Parameters
    ----------
    p : array_like, shape (n,)
        Momenta (a.u.), sorted.
    rng : Generator or int, optional
        Random generator or its seed.
    sigma : float
        Noise sd (μ_B/a.u.).
    scale_3d : float
        Momentum scale λ of the *simulated* 3d profile, :math:`J_{3d}(q/\lambda)/\lambda`:
        λ > 1 mimics the broader 3d momentum density of the metal (its 3d orbitals are
        compressed in r relative to the free atom's), a misfit that the atomic model
        cannot absorb. The area, :math:`a_{3d} + a_{4s}`, is unchanged.
        ``attrs["truth_scale_3d"]`` records it.
    include_sigma : bool
        Store the known ``sigma`` with the data (False: the noise is to be estimated).
    a_3d, a_4s : float
        True spin moments (μ_B).
    Gamma : float
        True resolution sd (a.u.).
    """
    rng = np.random.default_rng(rng)
    p = np.asarray(p, dtype=float)
    if not np.isfinite(sigma) or sigma <= 0:
        raise ValueError(f"sigma must be positive and finite, got {sigma!r}")
    if not np.isfinite(scale_3d) or scale_3d <= 0:
        raise ValueError(f"scale_3d must be positive, got {scale_3d!r}")
    truth = {"a_3d": a_3d, "a_4s": a_4s, "Gamma": Gamma}
    gamma = float(Gamma)
    mean = float(a_3d) * convolved_profile(p, "3d", gamma, scale_3d) + float(
        a_4s
    ) * convolved_profile(p, "4s", gamma)
    attrs = {f"truth_{k}": float(v) for k, v in truth.items()}
    attrs |= {"truth_sigma": float(sigma), "truth_scale_3d": float(scale_3d)}
    return make_dataset(
        p,
        mean + sigma * rng.standard_normal(p.shape),
        sigma=np.full(p.shape, float(sigma)) if include_sigma else None,
        axis=AXIS,
        axis_units="a.u.",
        variable=VARIABLE,
        units="μ_B/a.u.",
        attrs=attrs,
    )


#: Truth of :func:`example_data`: bcc-Fe-like spin moments (3d up, diffuse 4s opposite),
#: μ_s = 2.1 μ_B, and a 0.45 a.u. FWHM resolution.
EXAMPLE_TRUTH = {"a_3d": 2.3, "a_4s": -0.2, "Gamma": 0.19}


def example_data(rng: np.random.Generator | int | None = 0) -> tuple[xr.Dataset, dict]:
    """A simulated Fe MCP on p = −8…8 a.u. (81 points), σ = 0.01 μ_B/a.u., atomic model."""
    data = simulate(np.linspace(-8.0, 8.0, 81), rng=rng, sigma=0.01, **EXAMPLE_TRUTH)
    return data, dict(EXAMPLE_TRUTH)


def load(path: str | Path) -> xr.Dataset:
    """Read a two- or three-column text file ``p [a.u.]  J_mag [μ_B/a.u.]  [sigma]``.

    See :func:`measurement_models.data.load_text` for the format and its errors.
    """
    return _load_text(path, axis=AXIS, axis_units="a.u.", variable=VARIABLE, units="μ_B/a.u.")
