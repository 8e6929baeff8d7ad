"""The catalogue of measurement models.

Every model module is registered here once; the zoo-wide harness in
``tests/measurement_models/test_registry.py`` runs over every entry, and the
``bayesmeas`` command lists them (its jobs, in :mod:`samplers.app.jobs`, name models
by their registry name).

A registered module follows the model contract of :mod:`measurement_models.contract`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import ModuleType

from . import (
    ce_xps,
    crystal_field,
    data_assimilation,
    linear,
    magnetic_compton,
    mossbauer,
    nio_cluster,
    nmr_t1,
    sas,
    spectral,
    xanes,
)

__all__ = ["MODELS", "MeasurementModel", "get_model"]


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


#: Every registered measurement model, by registry name.
MODELS: dict[str, MeasurementModel] = {
    entry.name: entry
    for entry in (
        MeasurementModel(
            "linear",
            linear,
            "Straight line y = a x (+ b), Gaussian noise; exact posterior and evidence",
            "M. Okada, lecture 'ベイズ計測の基礎から展開へ' (Univ. Tokyo): Bayesian measurement "
            "of y = ax + b",
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
            "Moriguchi, Tsutsui, Katakami, Nagata, Mizumaki, Okada, JPSJ 91, 104002 (2022), "
            "arXiv:2205.09188",
            {"variant": "sextet", "noise": "gaussian"},
        ),
        MeasurementModel(
            "nmr_t1",
            nmr_t1,
            "NMR spin–lattice relaxation recovery M(t) = M0[1 − f R(t)] + c for I = 1/2…7/2 "
            "(central line, I = 3/2 NQR): single, stretched or two-component T1, Gaussian noise",
            "Ueda et al., J. Phys. Soc. Jpn. 92, 054002 (2023)",
            {"variant": "stretched"},
        ),
        MeasurementModel(
            "sas",
            sas,
            "Small-angle scattering of spheres (monodisperse, polydisperse, core–shell, K "
            "populations), Poisson counts or absolute intensity",
            "Hayashi et al., J. Phys. Soc. Jpn. 92, 094002 (2023), arXiv:2303.04983",
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
            "Iwamitsu, Akai et al., Phys. Status Solidi B 257, 2000107 (2020)",
            {"n_gaussians": 2},
        ),
        MeasurementModel(
            "magnetic_compton",
            magnetic_compton,
            "Magnetic Compton profile of Fe: atomic Hartree–Fock 3d + 4s profiles (spin "
            "moments a_3d, a_4s) convolved with a Gaussian resolution, Gaussian noise",
            "M. Mizumaki (JASRI), article 機械学習手法の導入によるデータ解析高度化, sect. 2-2 "
            "(Fe at SPring-8 BL08W); HF orbitals of Koga et al., IJQC 71, 491 (1999)",
        ),
        MeasurementModel(
            "data_assimilation",
            data_assimilation,
            "Gaussian data assimilation of calculations and experiments (Λ model): a table of "
            "samples, missing targets integrated out, conjugate prior in chain coordinates",
            "Harashima et al., arXiv:2007.14101 (2020)",
            {
                "basis": data_assimilation.Basis("polynomial", 3),
                "discrepancy_features": ("1",),
                "conjugate_prior": data_assimilation.DEMO_PRIOR,
                "rotate": False,
            },
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
