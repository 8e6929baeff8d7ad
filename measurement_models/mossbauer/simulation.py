"""Simulated Mössbauer spectra from known parameters (the truth kept in ``attrs``)."""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..data import make_dataset
from ..parameters import check_choice
from .model import AXIS, NOISE_KINDS, VARIABLE, _reference_channel
from .references import REFERENCES
from .spectrum import forward

__all__ = ["example_data", "simulate", "simulate_channels", "simulate_magnetite"]

# site parameters a simulation records as ``truth_<name>``
_TRUTH_NAMES = ("delta", "gamma", "B_hf", "A", "eta", "theta", "phi", "fraction")


def simulate(
    velocity: np.ndarray,
    *,
    rng: np.random.Generator | int | None = None,
    noise: str = "poisson",
    sigma: float | None = None,
    delta,
    gamma,
    epsilon: float,
    baseline: float,
    B_hf=None,
    A=None,
    eta=None,
    theta=None,
    phi=None,
    fraction=None,
    geometry: str = "powder",
    k_theta: float | None = None,
    k_phi: float | None = None,
) -> xr.Dataset:
    """Simulate a transmission spectrum (seeded :class:`numpy.random.Generator`).

    Parameters are those of :func:`~measurement_models.mossbauer.spectrum.forward`;
    site parameters have one value per site. ``noise="poisson"`` draws Poisson counts;
    ``"gaussian"`` adds normal noise of standard deviation ``sigma`` (default
    :math:`\\sqrt{N}`), rounds to whole counts and stores ``sigma`` per point. The truth
    is kept in ``attrs`` (``truth_<name>``).

    Raises
    ------
    ValueError
        An unknown noise model, or parameters that make the expected counts negative.
    """
    check_choice(noise, NOISE_KINDS, "noise model")
    rng = np.random.default_rng(rng)
    velocity = np.asarray(velocity, dtype=float)
    site = {
        "delta": delta,
        "gamma": gamma,
        "B_hf": B_hf,
        "A": A,
        "eta": eta,
        "theta": theta,
        "phi": phi,
        "fraction": fraction,
    }
    site = {k: np.atleast_1d(np.asarray(v, float)) for k, v in site.items() if v is not None}
    mean = forward(
        velocity,
        **site,
        epsilon=epsilon,
        baseline=baseline,
        geometry=geometry,
        k_theta=k_theta,
        k_phi=k_phi,
    )
    if np.any(mean < 0):
        raise ValueError("the expected counts are negative: epsilon too large for these lines")
    truth = {f"truth_{k}": v for k, v in site.items()}
    truth |= {"truth_epsilon": float(epsilon), "truth_baseline": float(baseline)}
    for name, value in (("k_theta", k_theta), ("k_phi", k_phi)):
        if value is not None:
            truth[f"truth_{name}"] = float(value)
    attrs = {**truth, "geometry": geometry, "noise": noise}
    if noise == "poisson":
        counts = rng.poisson(mean)
        sd = None
    else:
        sd = np.sqrt(mean) if sigma is None else np.full(mean.shape, float(sigma))
        counts = np.clip(np.round(mean + sd * rng.standard_normal(mean.shape)), 0, None)
        attrs["truth_sigma"] = float(np.mean(sd)) if sigma is None else float(sigma)
    return make_dataset(
        velocity,
        counts.astype(np.int64),
        sigma=sd,
        axis=AXIS,
        axis_units="mm/s",
        variable=VARIABLE,
        units="counts",
        attrs=attrs,
    )


def simulate_channels(
    channels: np.ndarray,
    *,
    velocity_offset: float,
    velocity_scale: float,
    reference_channel: float | None = None,
    nominal_velocity_per_channel: float | None = None,
    **kwargs,
) -> xr.Dataset:
    """Like :func:`simulate`, but on raw channels with the linear calibration
    :math:`v = v_0 + s\\,(c - c_\\mathrm{ref})` (truth in ``attrs``)."""
    channels = np.asarray(channels, dtype=float)
    reference = _reference_channel(channels, reference_channel)
    velocity = velocity_offset + velocity_scale * (channels - reference)
    sim = simulate(velocity, **kwargs)
    attrs = {
        **sim.attrs,
        "truth_velocity_offset": float(velocity_offset),
        "truth_velocity_scale": float(velocity_scale),
        "reference_channel": reference,
    }
    if nominal_velocity_per_channel is not None:
        attrs["nominal_velocity_per_channel"] = float(nominal_velocity_per_channel)
    return make_dataset(
        channels,
        sim[VARIABLE].values,
        sigma=sim["sigma"].values if "sigma" in sim else None,
        axis="channel",
        axis_units="channel",
        variable=VARIABLE,
        units="counts",
        attrs=attrs,
    )


def simulate_magnetite(
    baseline: float = 1e5,
    rng: np.random.Generator | int | None = 0,
    velocity: np.ndarray | None = None,
) -> xr.Dataset:
    """Synthetic room-temperature magnetite (``REFERENCES["magnetite_300k"]``), Poisson
    counts with ``baseline`` counts off resonance, on that reference's velocity grid
    unless ``velocity`` is given."""
    reference = REFERENCES["magnetite_300k"]
    settings = reference.params
    return simulate(
        reference.x if velocity is None else velocity,
        delta=settings["delta"],
        gamma=settings["gamma"],
        B_hf=settings["B_hf"],
        fraction=settings["fraction"],
        epsilon=settings["epsilon"],
        baseline=baseline,
        rng=rng,
    )


def example_data(rng: np.random.Generator | int | None = 0) -> tuple[xr.Dataset, dict]:
    """An α-Fe-like sextet (B = 33 T, δ = 0) with Gaussian noise σ = √N, and its truth."""
    truth = {
        "delta": np.array([0.0]),
        "gamma": np.array([0.3]),
        "B_hf": np.array([33.0]),
        "epsilon": 0.4,
        "baseline": 1e4,
    }
    data = simulate(np.linspace(-8.0, 8.0, 128), **truth, noise="gaussian", rng=rng)
    return data, truth
