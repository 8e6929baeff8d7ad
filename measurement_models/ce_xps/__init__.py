r"""Ce 3d XPS of a charge-transfer cluster model, two or three configurations (Mototake 2019).

Model
-----
Y. Mototake, M. Mizumaki, I. Akai, M. Okada, *Bayesian Hamiltonian selection in X-ray
photoelectron spectroscopy*, J. Phys. Soc. Jpn. 88, 034004 (2019), arXiv:1812.01205.
We did not have the paper itself: the model is reconstructed from its table of the Δ
scan (final-state energies and intensities, from a public rendering of the preprint).

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

The paper's table, reproduced (:data:`REFERENCES`): at :math:`V` = 0.76,
:math:`U_{ff}` = 10.5, :math:`U_{fc}` = 12.5, :math:`\Delta` = 12.5 eV the final states
lie at :math:`E_f - E_g` = (−2.797, 2.724, 12.481) eV (the table: −2.8, 2.72, 12.48)
with weights (0.6048, 0.3944, 0.0007) (the table prints the intensities
:math:`2w/\pi` = 0.3850, 0.2512, 0.0005).

Layout: :mod:`.physics` (Hamiltonians, lines, spectrum), :mod:`.model` (parameter
table, priors, likelihood, ``build_model``, simulation), :mod:`.references`
(:data:`REFERENCES`), :mod:`.plotting` (:func:`plot_fit`).

Checked: :data:`REFERENCES` (the zoo-wide harness,
``tests/measurement_models/test_registry.py``): the lines at the paper's parameters
against its table. In ``tests/measurement_models/test_ce_xps.py``: the same to the
printed precision of every entry, the table's other rows, and :func:`numpy.linalg.eigh`
written out in the test; the limits :math:`V \to 0` (lines at :math:`0, \Delta - U_{fc},
2\Delta + U_{ff} - 2U_{fc}`, all weight on :math:`|4f^0\rangle`) and :math:`U_{ff} \to
\infty` (the two-configuration model); weights summing to one; the broadened spectrum
against :func:`scipy.special.voigt_profile`; the PyTensor graph against the NumPy
forward model; the model's log-density against a hand-written Gaussian one; its
gradient against central differences; bad input refused; the sampled free energy of a
one-parameter version against quadrature. The case study
``case_studies/mototake2019_ce3d_xps_selection.py`` selects between the two and three
configurations across :math:`\Delta` (``docs/ce-xps.md``).
"""

from .model import (
    AXIS,
    PARAMETERS,
    VARIABLE,
    add_likelihood,
    add_priors,
    build_model,
    example_data,
    parameter_names,
    prior_scales,
    simulate,
)
from .physics import CE_3D_SPIN_ORBIT, CONFIGURATIONS, forward, hamiltonians, lines
from .plotting import plot_fit
from .references import REFERENCES

__all__ = [
    "AXIS",
    "CE_3D_SPIN_ORBIT",
    "CONFIGURATIONS",
    "PARAMETERS",
    "REFERENCES",
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
