r"""Magnetic Compton profile of Fe as atomic 3d + 4s Hartree–Fock profiles.

Source
------
M. Mizumaki (JASRI), *機械学習手法の導入によるデータ解析高度化* (advancing data analysis
with machine learning; article in Japanese), section 2-2: when to stop a magnetic
Compton measurement of Fe (SPring-8 BL08W, room temperature, 136 field-reversal cycles;
the study itself is Y. Yokoyama et al., in preparation there). The article's eq. (9) is
the model below, its eq. (10) the likelihood, and its Figs. 4–5 the stopping results:
the posterior sd of :math:`a_{3d}` stops falling after about 20 cycles, and the sd of the
spin moment is within the required :math:`\pm 0.01\,\mu_B` after about 6 cycles
(:data:`REFERENCES`, ``"mizumaki_fe_stopping"``).

Model
-----
The magnetic Compton profile (MCP) is the difference of the Compton profiles measured
with the photon wave vector parallel and antiparallel to the magnetisation (circularly
polarised X-rays), i.e. the projected momentum density of the unpaired spins,
:math:`J_\mathrm{mag}(p_z) = J_\uparrow(p_z) - J_\downarrow(p_z)`. Its area is the spin
moment per atom, and, as in the experiment, the measured MCP is normalised so that its
area is the spin moment in :math:`\mu_B` (the article's eq. (9)):

.. math::

    f(p; \theta) = \big([a_{3d}\, J_{3d} + a_{4s}\, J_{4s}] * G_\Gamma\big)(p),
    \qquad G_\Gamma(x) = \frac{1}{\sqrt{2\pi}\,\Gamma} e^{-x^2/2\Gamma^2},

with :math:`J_{3d}`, :math:`J_{4s}` the Hartree–Fock Compton profiles of the atomic Fe 3d
and 4s orbitals, each normalised to one electron, :math:`\int J\,dp_z = 1`
(:mod:`measurement_models.compton_profiles`: Koga et al. 1999 Roothaan–Hartree–Fock
orbitals of Fe 3d⁶4s² ⁵D), and :math:`G_\Gamma` the normalised Gaussian resolution of
standard deviation :math:`\Gamma` (the article prints :math:`G` with :math:`\Gamma^2` in
its normalisation; the normalised Gaussian is meant). So :math:`a_{3d}` and
:math:`a_{4s}` are the spin moments (μ_B per atom) carried by 3d-like and 4s-like
electrons, and the spin moment is the area of the MCP,

.. math::

    \mu_s = \int f(p)\,dp = a_{3d} + a_{4s}.

Noise: Gaussian, :math:`y_i = f(p_i;\theta) + \varepsilon_i`,
:math:`\varepsilon_i \sim N(0, 1/b)`; the article's eq. (10),
:math:`p(Y|\theta, b) = (b/2\pi)^{N/2} \exp\{-N b E(\theta)\}`,
:math:`E = \frac{1}{2N}\sum_i (y_i - f(p_i;\theta))^2`, is exactly this likelihood.
The noise level is known (the data's ``sigma`` or ``sigma=``) or, as in the article (b
unknown), a parameter ``sigma`` :math:`= b^{-1/2}`.

Units: :math:`p` in atomic units of momentum (1 a.u. = 1.993e-24 kg m/s), the MCP in
μ_B per a.u. (per atom), :math:`a_{nl}` in μ_B, :math:`\Gamma` in a.u.

Computation
-----------
The profiles are convolved with :math:`G_\Gamma` by the trapezoidal rule on a 0.01 a.u.
grid (exact for a Gaussian kernel sampled at spacing ≤ Γ/2 to far below 1e-12) once per
data axis, at nodes :math:`\Gamma_k` 0.01 a.u. apart over :data:`GAMMA_RANGE`, together
with the exact derivative :math:`\partial_\Gamma (J * G_\Gamma) = \Gamma\,(J * G_\Gamma'')`
(the heat equation). Between nodes the convolved profiles are cubic-Hermite interpolated
in Γ (error below 1e-7 of the profile maximum), so the PyTensor graph is two table
look-ups and a few multiplications per point, and its gradient is exact for the
interpolant. Γ outside :data:`GAMMA_RANGE` has zero prior probability.

Priors (:data:`PARAMETERS`)
---------------------------
The article gives none; ours are weakly informative: :math:`a_{3d} \sim N(2, 1)` μ_B (the
spin moment of bcc Fe is 2.1–2.2 μ_B, mostly 3d), :math:`a_{4s} \sim N(0, 0.5)` μ_B
(a small diffuse polarisation of either sign; the article finds it opposite to 3d),
:math:`\Gamma \sim U(0.02, 1)` a.u. (the resolution of high-energy magnetic Compton
spectrometers, ~0.4–0.5 a.u. FWHM at BL08W, i.e. Γ ≈ 0.2 a.u.), and
:math:`\sigma \sim \mathrm{HalfNormal}(0.05)` μ_B/a.u. when estimated. A prior of Γ
given in ``priors`` is cut to :data:`GAMMA_RANGE` (the tables' range) by a potential.

Checked: the forward model against Biggs, Mendelsohn & Mann's Hartree–Fock Compton
profiles of Fe 3d and 4s as tabulated in xraylib 4.3.0 (:data:`REFERENCES`, checked by
``tests/measurement_models/test_registry.py``); in
``tests/measurement_models/test_magnetic_compton.py``: the FFT tables and Hermite
interpolation in Γ (at nodes and between them) against a direct ``scipy.integrate.quad``
convolution of the profiles with ``scipy.stats.norm``, to 2e-7; the area
:math:`a_{3d} + a_{4s}` by quadrature; the Γ → 0 limit; the solid-like 3d profile of
:func:`simulate` against the scaling identity
:math:`[J(\cdot/\lambda)/\lambda] * G_\Gamma = [J * G_{\Gamma/\lambda}](p/\lambda)/\lambda`;
the compiled log-density (the PyTensor graph) against ``scipy.stats`` with the NumPy
forward model, and its gradient against finite differences; the loader and bad input.
The profiles are checked in ``test_compton_profiles.py`` (normalisation, kinetic energy,
hydrogen-like limit, xraylib's Biggs tables), and the posterior after simulated cycles
against a linearised (Gauss–Newton) prediction written in
``tests/case_studies/test_magnetic_compton_stopping.py``.
"""

from .datasets import EXAMPLE_TRUTH, example_data, load, simulate
from .model import PARAMETERS, add_likelihood, add_priors, build_model
from .physics import (
    AXIS,
    GAMMA_RANGE,
    ORBITALS,
    VARIABLE,
    ResolutionTable,
    components,
    convolved_profile,
    forward,
    resolution_table,
    spin_moment,
)
from .plots import plot_fit
from .references import REFERENCES

__all__ = [
    "AXIS",
    "EXAMPLE_TRUTH",
    "GAMMA_RANGE",
    "ORBITALS",
    "PARAMETERS",
    "REFERENCES",
    "VARIABLE",
    "ResolutionTable",
    "add_likelihood",
    "add_priors",
    "build_model",
    "components",
    "convolved_profile",
    "example_data",
    "forward",
    "load",
    "plot_fit",
    "resolution_table",
    "simulate",
    "spin_moment",
]
