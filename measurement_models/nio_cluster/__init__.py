r"""NiO as an [NiO₆] cluster: Ni 2p XPS and Ni 2p XAS from one charge-transfer model.

Model
-----
Y. Yokoyama, T. Uozumi, K. Nagata, M. Okada, M. Mizumaki, J. Phys. Soc. Jpn. 90, 034703
(2021), as summarised in M. Mizumaki (JASRI), article "機械学習手法の導入によるデータ解析高度化"
(advancing data analysis with machine learning); "eq. (5)" and "eq. (6)" below are that
article's. We had the article (its eqs. (5), (6) and table 1), not the paper.

The article writes the cluster Hamiltonian of [NiO₆]¹⁰⁻ with monopole interactions only,

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

Spectra (eq. (6), with an amplitude and a constant background per spectrum):

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
   and ligand states) and are out of scope here. The paper lists 10Dq among its
   parameters, so its model had more than eq. (5) shows.
2. **One core level**: the 2p spin–orbit splitting enters only as an optional fixed
   copy (``spin_orbit``), not from the 2p–3d interaction.
3. **Dipole angular factors** are absorbed into the amplitude.
4. **Sudden approximation** for XPS; no intrinsic/extrinsic losses, **no Shirley
   background** (a constant only).
5. **The e_g ligand band is one level** (no band width).

Reference settings (``REFERENCES["illustrative_nio"]``): :math:`\Delta` = 5.0, V = 2.2,
:math:`U_{dd}` = 7.0, :math:`U_{dc}` = 8.5, Γ = 0.5 eV — illustrative values, chosen in
the range usually quoted from the cluster analyses of NiO (e.g. van der Laan, Zaanen,
Sawatzky, Karnatak, Esteva, PRB 33, 4253 (1986); Fujimori and Minami, PRB 30, 957
(1984); we did not have these papers to check exact numbers); they are not a fit to
data. They put the XPS main line
(mostly :math:`\underline c\,d^9\underline L`) at −4.89 eV with satellites 6.5 and 9.5
eV above it (weights 0.58, 0.33, 0.10), and the XAS main line at 0.53 eV with a
charge-transfer satellite 5.6 eV above it (1 % of the weight). XPS on −10 … 10 eV
(201 points), XAS on −4 … 12 eV (161 points), the same signal-to-noise ratio
(100: σ = peak height above background / 100) in both (:func:`simulate_pair`).

The paper's free energies (table 1 of the article), for its own simulated spectra:
XPS −2517.6, XAS −3644.9, the two separately −6162.5, integrated −6180.5 nats, so
integration is preferred by 18.0 nats. Their absolute values depend on the numbers of
points, the noise levels and the intensity units, which the article does not give
(``docs/nio-xps-xas.md`` compares them with ours).

Default priors (ours; the paper does not give its priors): uniform, Δ ∈ (1, 10),
V ∈ (0.5, 4), :math:`U_{dd}` ∈ (3, 12), :math:`U_{dc}` ∈ (4, 14), Γ ∈ (0.05, 2) eV,
amplitude ∈ (0, 5), background ∈ (−0.5, 0.5); σ ~ HalfNormal(1) when the noise is not
known.

Layout: :mod:`.physics` (Hamiltonians, lines, spectra), :mod:`.model` (parameter
table, priors, likelihood, ``build_model``, simulation), :mod:`.references`
(:data:`REFERENCES`), :mod:`.plotting` (:func:`plot_fit`).

Checked: :data:`REFERENCES` (the zoo-wide harness,
``tests/measurement_models/test_registry.py``): the lines and the spectrum without
hybridisation against their closed forms. In
``tests/measurement_models/test_nio_cluster.py``: the reduced 3×3/2×2
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

from .model import (
    AXIS,
    PARAMETERS,
    VARIABLE,
    add_likelihood,
    add_priors,
    build_model,
    example_data,
    simulate,
    simulate_pair,
)
from .physics import (
    ENERGIES,
    PER_SPECTRUM,
    PHYSICAL,
    SPECTRA,
    TRANSITION_XAS,
    forward,
    hamiltonians,
    lines,
)
from .plotting import plot_fit
from .references import REFERENCES

__all__ = [
    "AXIS",
    "ENERGIES",
    "PARAMETERS",
    "PER_SPECTRUM",
    "PHYSICAL",
    "REFERENCES",
    "SPECTRA",
    "TRANSITION_XAS",
    "VARIABLE",
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
]
