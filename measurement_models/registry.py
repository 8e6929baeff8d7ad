"""The catalogue of measurement models and of the analyses (jobs) run on them.

Every model module is registered here once; the generic test in
``tests/measurement_models/test_registry.py`` runs over every entry, and the
``bayesmeas`` command lists and runs what is declared here.

A registered module provides ``PARAMETERS``, ``build_model(data, **kwargs)``,
``simulate(...)``, ``example_data(rng) -> (Dataset, truth)``, ``plot_fit(ax, data,
posterior, **kwargs)`` and the name of its measured data variable, ``VARIABLE``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import ModuleType

import xarray as xr

from . import (
    ce_xps,
    crystal_field,
    linear,
    magnetic_compton,
    mossbauer,
    nio_cluster,
    nmr_t1,
    sas,
    spectral,
    xanes,
)

__all__ = ["JOBS", "MODELS", "MeasurementModel", "ModelSelectionJob", "get_job", "get_model"]


@dataclass(frozen=True)
class MeasurementModel:
    """A registered measurement model.

    Attributes
    ----------
    name : str
        Registry name.
    module : module
        The model module.
    title : str
        One line for listings.
    reference : str
        The paper the model comes from.
    example_kwargs : mapping
        ``build_model`` keywords that fit ``module.example_data()``.
    """

    name: str
    module: ModuleType
    title: str
    reference: str
    example_kwargs: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelSelectionJob:
    """Select among candidate models of one measurement by Bayesian free energy.

    Attributes
    ----------
    name : str
        Name on the command line (``bayesmeas run NAME``).
    model : str
        Registry name of the measurement model.
    summary : str
        One line for listings.
    data : callable
        Returns the built-in measurement.
    candidate_dim : str
        Name of the candidate axis in result tables (e.g. ``"K"``).
    candidates : mapping
        Candidate label to ``build_model`` keywords.
    """

    name: str
    model: str
    summary: str
    data: Callable[[], xr.Dataset]
    candidate_dim: str
    candidates: Mapping[int, Mapping[str, object]]


#: Every registered measurement model, by registry name.
MODELS: dict[str, MeasurementModel] = {
    entry.name: entry
    for entry in (
        MeasurementModel(
            "linear",
            linear,
            "Straight line y = a x (+ b), Gaussian noise; exact posterior and evidence",
            "Okada, seed 001 (Bayesian measurement of y = ax + b)",
            {"n_terms": 2},
        ),
        MeasurementModel(
            "spectral",
            spectral,
            "Sum of K Gaussian (or Lorentzian, pseudo-Voigt) peaks, Gaussian noise",
            "Nagata, Sugita, Okada, Neural Networks 28, 82 (2012)",
            {"n_peaks": 2},
        ),
        MeasurementModel(
            "crystal_field",
            crystal_field,
            "Rare-earth ion in a crystal field (Stevens operators): specific heat, 1/χ, M",
            "M. Okada, lecture 'ベイズ計測の基礎から展開へ': Bayesian integration of "
            "susceptibility and specific heat (Ce³⁺)",
        ),
        MeasurementModel(
            "mossbauer",
            mossbauer,
            "57Fe Mössbauer transmission spectrum from the full hyperfine Hamiltonian "
            "(isomer shift, quadrupole, magnetic; powder or single crystal), Poisson counts",
            "Moriguchi et al., arXiv:2205.09188 (seed 001)",
            {"variant": "sextet", "noise": "gaussian"},
        ),
        MeasurementModel(
            "nmr_t1",
            nmr_t1,
            "NMR spin–lattice relaxation recovery M(t) = M0[1 − f R(t)] + c for I = 1/2…7/2 "
            "(central line, I = 3/2 NQR): single, stretched or two-component T1, Gaussian noise",
            "Ueda et al., JPSJ 92, 054002 (2023) (seed 001)",
            {"variant": "stretched"},
        ),
        MeasurementModel(
            "sas",
            sas,
            "Small-angle scattering of spheres (monodisperse, polydisperse, core–shell, K "
            "populations), Poisson counts or absolute intensity",
            "Hayashi et al., JPSJ 92, 094002 (2023), arXiv:2303.04983 (seed 001)",
            {"noise": "gaussian"},
        ),
        MeasurementModel(
            "ce_xps",
            ce_xps,
            "Ce 3d XPS of a charge-transfer cluster model (4f⁰, 4f¹L, 4f²L²; two or three "
            "configurations), Voigt lines, Gaussian noise",
            "Mototake, Mizumaki, Akai, Okada, JPSJ 88, 034004 (2019)",
            {"n_configurations": 3, "resolution": 0.3},
        ),
        MeasurementModel(
            "nio_cluster",
            nio_cluster,
            "NiO [NiO6] cluster on d⁸, d⁹L, d¹⁰L² (monopole model, e_g block): Ni 2p XPS or "
            "Ni 2p XAS, Gaussian noise; XPS + XAS integration",
            "Yokoyama, Uozumi, Nagata, Okada, Mizumaki, JPSJ 90, 034703 (2021)",
            {"spectrum": "xps"},
        ),
        MeasurementModel(
            "xanes",
            xanes,
            "XANES edge: arctan step + pseudo-Voigt white line + K Gaussians; Gaussian noise "
            "on normalised μ or Poisson raw fluorescence counts",
            "Iwamitsu, Akai et al., Phys. Status Solidi B 257, 2000107 (2020) (seed 003)",
            {"n_gaussians": 2},
        ),
        MeasurementModel(
            "magnetic_compton",
            magnetic_compton,
            "Magnetic Compton profile of Fe: atomic Hartree–Fock 3d + 4s profiles (spin "
            "moments a_3d, a_4s) convolved with a Gaussian resolution, Gaussian noise",
            "seed 000 (SPring-8 BL08W, Fe); HF orbitals of Koga et al., IJQC 71, 491 (1999)",
        ),
    )
}

#: Every model-selection job that ``bayesmeas run NAME`` runs, by name.
JOBS: dict[str, ModelSelectionJob] = {
    job.name: job
    for job in (
        ModelSelectionJob(
            "spectral-deconvolution",
            "spectral",
            "Number of peaks K = 1..5 of the Nagata 2012 spectrum by free energy (main job)",
            spectral.simulate_reference,
            "K",
            {k: {"n_peaks": k} for k in range(1, 6)},
        ),
        ModelSelectionJob(
            "linear-regression",
            "linear",
            "y = a x (K = 1) against y = a x + b (K = 2) on a simulated line",
            lambda: linear.example_data(0)[0],
            "K",
            {1: {"n_terms": 1}, 2: {"n_terms": 2}},
        ),
    )
}


def _lookup(table: Mapping, name: str, kind: str):
    try:
        return table[name]
    except KeyError:
        raise ValueError(f"unknown {kind} {name!r}; available: {', '.join(table)}") from None


def get_model(name: str) -> MeasurementModel:
    """The registered model ``name``; ``ValueError`` naming the choices if unknown."""
    return _lookup(MODELS, name, "measurement model")


def get_job(name: str) -> ModelSelectionJob:
    """The registered job ``name``; ``ValueError`` naming the choices if unknown."""
    return _lookup(JOBS, name, "job")
