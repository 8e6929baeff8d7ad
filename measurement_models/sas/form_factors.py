r"""Small-angle scattering form factors of spheres, in NumPy and PyTensor.

The scattering of one particle population per unit volume fraction, :math:`P(q)`, for
:mod:`measurement_models.sas`: each function takes NumPy arrays and returns NumPy (no
compilation), or takes PyTensor variables and returns a graph. Every form factor equals
sasmodels' kernel of the same model (sasmodels 1.1.0, ``sasmodels.models.sphere`` and
``core_shell_sphere``; the sphere with ``radius_pd`` for the polydisperse sphere).

Units (those of sasmodels)
--------------------------
:math:`q` in Å⁻¹, radii and thicknesses in Å, scattering length densities (SLD)
:math:`\rho` in :math:`10^{-6}` Å⁻², volumes in Å³, intensities in cm⁻¹. With these
units the scattering of one particle per unit volume of sample,
:math:`F^2/V`, is in :math:`(10^{-6}\,\text{Å}^{-2}\cdot\text{Å}^3)^2/\text{Å}^3
= 10^{-12}\,\text{Å}^{-1} = 10^{-4}\,\text{cm}^{-1}`, hence the factor
:data:`INTENSITY_FACTOR` = 1e-4.

Amplitudes
----------
The sphere amplitude is :math:`f(x) = 3 j_1(x)/x = 3(\sin x - x\cos x)/x^3`, with
:math:`f(0) = 1`. The difference :math:`\sin x - x\cos x \approx x^3/3` cancels for
small :math:`x`, so below :data:`SERIES_CUTOFF` (0.1, as in sasmodels' double
precision kernel, ``sasmodels/models/lib/sas_3j1x_x.c``) the Taylor series
:math:`f(x) = 1 - x^2/10 + x^4/280 - x^6/15120 + O(x^8)` is used (truncation error
below 1e-14 there). The other branch is evaluated at a safe argument where the series
is used, so that the PyTensor gradient is finite at :math:`qR \to 0`.

For a homogeneous sphere of radius :math:`R` and a core–shell sphere (core radius
:math:`R`, shell thickness :math:`T`):

.. math::

    F_\text{sphere}(q) = \Delta\rho\, V(R)\, f(qR), \qquad
    F_\text{cs}(q) = (\rho_c - \rho_s) V(R) f(qR)
                     + (\rho_s - \rho_\text{solv}) V(R+T) f(q(R+T)),

:math:`V(r) = 4\pi r^3/3`, and the scattering per particle volume is
:math:`P(q) = 10^{-4}\,F(q)^2/V_p` with :math:`V_p` the particle's outer volume.

Polydispersity
--------------
For a distribution :math:`g(R')` of radii around :math:`R` with relative width
:math:`p` (standard deviation :math:`pR`), volume-weighted as in sasmodels,

.. math::

    P(q) = 10^{-4}\, \frac{\int g(R')\, F^2(q; R')\, dR'}{\int g(R')\, V(R')\, dR'}
    \approx 10^{-4}\, \frac{\sum_j w_j F^2(q; R_j)}{\sum_j w_j V(R_j)},

on the fixed nodes of sasmodels (``sasmodels/weights.py``):
:math:`R_j = R(1 + p\,s_j)`, :math:`s_j` = ``linspace(-n_sigmas, n_sigmas,
n_points)``, :math:`w_j = g(R_j)`, nodes with :math:`R_j \le 0` dropped (weight 0).
Gaussian: :math:`w_j = e^{-s_j^2/2}`. Schulz (:math:`z = 1/p^2`,
:math:`u = R'/R`): :math:`g \propto u^{z-1} e^{-zu}`, evaluated as
:math:`\log w_j = z[\log(1 + p s_j) - p s_j] - \log(1 + p s_j)` (a constant factor
cancels in the ratio). sasmodels' defaults are 35 points over ±3σ (Gaussian) in its
GUI; this package's defaults, :data:`QUADRATURE`, are finer and wider, chosen by the
convergence study in ``docs/sas.md`` against ``scipy.integrate.quad`` of the integrals
above.

Checked: see :mod:`measurement_models.sas`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytensor.tensor as pt

__all__ = [
    "DISTRIBUTIONS",
    "FORM_FACTORS",
    "INTENSITY_FACTOR",
    "QUADRATURE",
    "SERIES_CUTOFF",
    "FormFactor",
    "core_shell_amplitude",
    "population_intensity",
    "quadrature_nodes",
    "sphere_amplitude",
    "sphere_volume",
]

#: (1e-6 Å⁻²)² Å³ → cm⁻¹: converts F²/V to absolute intensity.
INTENSITY_FACTOR = 1e-4
#: Below this x the sphere amplitude uses its Taylor series (sasmodels, double precision).
SERIES_CUTOFF = 0.1
#: Particle form factors this module computes.
FORM_FACTORS = ("sphere", "polydisperse_sphere", "core_shell_sphere")
#: Size distributions of the polydisperse sphere.
DISTRIBUTIONS = ("gaussian", "schulz")
#: Default quadrature (n_points, n_sigmas) of each size distribution.
QUADRATURE = {"gaussian": (100, 6.0), "schulz": (128, 12.0)}
#: The smallest relative width used in the Schulz weights (z = 1/p² stays finite).
_MIN_PD = 1e-8


def _is_symbolic(*values) -> bool:
    return any(isinstance(v, pt.Variable) for v in values)


def _xp(*values):
    """``(module, asarray)``: PyTensor if any value is symbolic, else NumPy."""
    if _is_symbolic(*values):
        return pt, pt.as_tensor_variable
    return np, lambda v: np.asarray(v, dtype=float)


@dataclass(frozen=True)
class FormFactor:
    """Which particles scatter, and the settings that are not parameters.

    Attributes
    ----------
    name : {"sphere", "polydisperse_sphere", "core_shell_sphere"}
        Homogeneous monodisperse sphere (the model of Hayashi et al. 2023), spheres with
        a distribution of radii, or a core–shell sphere.
    sld : float
        SLD of the sphere, or of the core for a core–shell sphere [1e-6 Å⁻²].
    sld_solvent : float
        SLD of the solvent [1e-6 Å⁻²].
    sld_shell : float, optional
        SLD of the shell [1e-6 Å⁻²]; core–shell spheres only (required there).
    distribution : {"gaussian", "schulz"}
        Size distribution (polydisperse spheres only).
    n_points, n_sigmas : int, float, optional
        Quadrature of the size distribution (default :data:`QUADRATURE`).
    """

    name: str = "sphere"
    sld: float = 6.0
    sld_solvent: float = 1.0
    sld_shell: float | None = None
    distribution: str = "gaussian"
    n_points: int | None = None
    n_sigmas: float | None = None

    def __post_init__(self) -> None:
        if self.name not in FORM_FACTORS:
            raise ValueError(f"unknown form factor {self.name!r}; choose one of {FORM_FACTORS}")
        if self.distribution not in DISTRIBUTIONS:
            raise ValueError(
                f"unknown size distribution {self.distribution!r}; choose one of {DISTRIBUTIONS}"
            )
        slds = {"sld": self.sld, "sld_solvent": self.sld_solvent}
        if self.name == "core_shell_sphere":
            if self.sld_shell is None:
                raise ValueError("a core_shell_sphere needs sld_shell (SLD of the shell)")
            slds["sld_shell"] = self.sld_shell
        elif self.sld_shell is not None:
            raise ValueError(f"sld_shell is for core_shell_sphere only, not {self.name}")
        for key, value in slds.items():
            if not math.isfinite(value):
                raise ValueError(f"{key} must be finite, got {value!r}")
        n_points, n_sigmas = self.quadrature
        if int(n_points) != n_points or n_points < 2:
            raise ValueError(f"n_points must be an integer ≥ 2, got {n_points!r}")
        if not (math.isfinite(n_sigmas) and n_sigmas > 0):
            raise ValueError(f"n_sigmas must be positive, got {n_sigmas!r}")

    @classmethod
    def of(cls, spec: str | FormFactor) -> FormFactor:
        """A :class:`FormFactor` from itself or from a name (with default settings)."""
        if isinstance(spec, cls):
            return spec
        if not isinstance(spec, str):
            raise ValueError(f"a form factor is a name or a FormFactor, got {spec!r}")
        return cls(spec)

    @property
    def quadrature(self) -> tuple[int, float]:
        """``(n_points, n_sigmas)`` of the size-distribution quadrature."""
        default_n, default_sigmas = QUADRATURE[self.distribution]
        return (
            default_n if self.n_points is None else self.n_points,
            default_sigmas if self.n_sigmas is None else self.n_sigmas,
        )

    @property
    def shape_parameters(self) -> tuple[str, ...]:
        """Per-population parameters besides ``radius`` and ``scale``."""
        return {"sphere": (), "polydisperse_sphere": ("pd",), "core_shell_sphere": ("thickness",)}[
            self.name
        ]


def sphere_volume(radius):
    r""":math:`V(r) = 4\pi r^3/3` [Å³]."""
    return (4.0 * np.pi / 3.0) * radius**3


def sphere_amplitude(x):
    r""":math:`f(x) = 3(\sin x - x\cos x)/x^3`, with the Taylor series below 0.1.

    Works elementwise on NumPy arrays (returns NumPy) and PyTensor variables (returns a
    graph with a finite gradient at :math:`x \to 0`).
    """
    xp, asarray = _xp(x)
    x = asarray(x)
    x2 = x * x
    series = 1.0 + x2 * (-3.0 / 30.0 + x2 * (3.0 / 840.0 + x2 * (-3.0 / 45360.0)))
    small = xp.abs(x) < SERIES_CUTOFF
    safe = xp.where(small, 1.0, x)
    direct = 3.0 * (xp.sin(safe) / safe - xp.cos(safe)) / (safe * safe)
    return xp.where(small, series, direct)


def core_shell_amplitude(q, radius, thickness, sld_core, sld_shell, sld_solvent):
    r""":math:`F_\text{cs}(q)` [1e-6 Å]: core of radius ``radius``, shell ``thickness``.

    ``q`` broadcasts against ``radius`` and ``thickness`` (append axes as needed).
    """
    outer = radius + thickness
    return (sld_core - sld_shell) * sphere_volume(radius) * sphere_amplitude(q * radius) + (
        sld_shell - sld_solvent
    ) * sphere_volume(outer) * sphere_amplitude(q * outer)


def quadrature_nodes(radius, pd, distribution: str, n_points: int, n_sigmas: float):
    r"""Nodes :math:`R_j` and weights :math:`w_j` of the size distribution.

    Parameters
    ----------
    radius, pd : array_like or TensorVariable, shape (...)
        Mean radius [Å] and relative width :math:`p = \sigma_R/R`.
    distribution : {"gaussian", "schulz"}
    n_points, n_sigmas : int, float
        Nodes over :math:`R(1 \pm p\,n_\sigma)`.

    Returns
    -------
    nodes, weights : shape (..., n_points)
        Nodes with :math:`R_j \le 0` have weight 0 and are moved to :math:`R` (so that
        every term stays finite; they do not contribute).
    """
    if distribution not in DISTRIBUTIONS:
        raise ValueError(
            f"unknown size distribution {distribution!r}; choose one of {DISTRIBUTIONS}"
        )
    xp, asarray = _xp(radius, pd)
    radius, pd = asarray(radius)[..., None], asarray(pd)[..., None]
    s = np.linspace(-n_sigmas, n_sigmas, int(n_points))
    a = pd * s
    inside = a > -1.0
    a_safe = xp.where(inside, a, 0.0)
    if distribution == "gaussian":
        log_w = -0.5 * s * s
    else:
        z = 1.0 / xp.maximum(pd, _MIN_PD) ** 2
        log1p = xp.log1p(a_safe)
        log_w = z * (log1p - a_safe) - log1p
    weights = xp.where(inside, xp.exp(log_w), 0.0)
    nodes = radius * (1.0 + a_safe)
    return nodes, weights


def population_intensity(q, form: FormFactor, radius, pd=None, thickness=None):
    r"""Scattering of one particle population per unit volume fraction, :math:`P(q)`.

    Parameters
    ----------
    q : array_like, shape (n,)
        Scattering vector [Å⁻¹].
    form : FormFactor
    radius : array_like or TensorVariable, shape (...)
        Radius [Å] (core radius for core–shell spheres); leading axes broadcast.
    pd, thickness : shape (...)
        Relative size spread (polydisperse spheres) or shell thickness [Å] (core–shell).

    Returns
    -------
    ndarray or TensorVariable, shape (..., n)
        :math:`P(q)` [cm⁻¹]; ``scale`` × P is the intensity of a population of volume
        fraction ``scale``.
    """
    xp, asarray = _xp(q, radius, pd, thickness)
    q = asarray(q)
    radius = asarray(radius)
    if form.name == "sphere":
        amplitude = sphere_amplitude(q * radius[..., None])
        contrast = form.sld - form.sld_solvent
        return INTENSITY_FACTOR * contrast**2 * sphere_volume(radius)[..., None] * amplitude**2
    if form.name == "core_shell_sphere":
        if thickness is None:
            raise ValueError("a core_shell_sphere needs the shell thickness")
        thickness = asarray(thickness)[..., None]
        amplitude = core_shell_amplitude(
            q, radius[..., None], thickness, form.sld, form.sld_shell, form.sld_solvent
        )
        return INTENSITY_FACTOR * amplitude**2 / sphere_volume(radius[..., None] + thickness)
    if pd is None:
        raise ValueError("a polydisperse_sphere needs pd (relative width of the radii)")
    nodes, weights = quadrature_nodes(radius, pd, form.distribution, *form.quadrature)
    volumes = sphere_volume(nodes)
    amplitude = sphere_amplitude(q * nodes[..., None])  # (..., J, n)
    contrast = form.sld - form.sld_solvent
    numerator = xp.sum((weights * volumes**2)[..., None] * amplitude**2, axis=-2)
    denominator = xp.sum(weights * volumes, axis=-1)[..., None]
    return INTENSITY_FACTOR * contrast**2 * numerator / denominator
