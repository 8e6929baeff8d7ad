r"""⁵⁷Fe Mössbauer spectra from the full hyperfine Hamiltonian.

The model, the Hamiltonian variants and their selection by the Bayesian free energy
follow R. Moriguchi, S. Tsutsui, S. Katakami, K. Nagata, M. Mizumaki, M. Okada,
"Bayesian inference on Hamiltonian selections for Mössbauer spectroscopy", J. Phys. Soc.
Jpn. 91, 104002 (2022), arXiv:2205.09188.

Model
-----
Each site :math:`s` of the absorber has a ground (:math:`I = 1/2`) and an excited
(:math:`I = 3/2`) nuclear level, with the hyperfine field :math:`B` along
:math:`\mathbf n = (\sin\theta\cos\phi, \sin\theta\sin\phi, \cos\theta)` in the principal
frame of the electric field gradient (EFG):

.. math::

    H_g = -g_g\mu_N B\,(\mathbf n\cdot\mathbf I), \qquad
    H_e = -g_e\mu_N B\,(\mathbf n\cdot\mathbf I)
          + \frac{A}{3}\left[3I_z^2 - I(I+1) + \eta\,(I_x^2 - I_y^2)\right],
    \qquad A = \frac{eQV_{zz}}{4},

all in mm/s. With the γ energy :math:`E_\gamma` = 14.4125 keV (hc/λ, λ = 86.025474 pm:
Yu. V. Shvyd'ko et al., Phys. Rev. Lett. 85, 495 (2000)) a Doppler velocity of 1 mm/s
is :math:`E_\gamma v/c` = 4.8075e−8 eV. A pure quadrupole interaction splits the lines
by :math:`\Delta E_Q = 2A\sqrt{1 + \eta^2/3}`. The lines are :math:`v_{ij} = \delta +
E^e_i - E^g_j` (isomer shift :math:`\delta`), with magnetic-dipole intensities

.. math::

    I_{ij} \propto \sum_{\boldsymbol\epsilon}
        |\langle e_i|\boldsymbol\epsilon\cdot\mathbf T|g_j\rangle|^2,
    \qquad \langle \tfrac32 m_e|T_q|\tfrac12 m_g\rangle
    = \langle \tfrac12 m_g\, 1\, q\,|\,\tfrac32 m_e\rangle,

summed over the three Cartesian :math:`\boldsymbol\epsilon` for a powder (equivalently over
:math:`q`: the orientation average), or over the two polarisations
:math:`\boldsymbol\epsilon \perp \mathbf k` of an unpolarised beam along
:math:`\mathbf k(\theta_k, \phi_k)` (given in the EFG frame) for a single crystal
(``geometry="single_crystal"``); each site's intensities are normalised to sum to 1. The
Clebsch–Gordan coefficients are those of the stretched coupling,
:math:`\langle j_1 m_1 j_2 m_2|j_1{+}j_2\, M\rangle^2 = \binom{2j_1}{j_1+m_1}
\binom{2j_2}{j_2+m_2} / \binom{2j_1+2j_2}{j_1+j_2+M}`. The eigenproblems and the
intensities are solved by :func:`measurement_models.hermitian.transition_lines` (one batch
entry per site; gradients exact at degeneracies). The transmission spectrum at velocity
:math:`v` is

.. math::

    N(v) = N_\infty\Big[1 - \varepsilon \sum_s f_s \sum_{ij} I^{(s)}_{ij}\,
    L(v - v^{(s)}_{ij}; \Gamma_s)\Big], \qquad
    L(u; \Gamma) = \frac{\Gamma/2\pi}{u^2 + \Gamma^2/4},

with area fractions :math:`f_s` (:math:`\sum_s f_s = 1`), full widths at half maximum
:math:`\Gamma_s`, total absorption area :math:`\varepsilon` (mm/s; thin-absorber limit)
and off-resonance counts :math:`N_\infty`; the data are Poisson counts (or Gaussian,
``noise="gaussian"``). Raw multichannel data are calibrated inside the model,
:math:`v = v_0 + s\,(c - c_\mathrm{ref})` (channel :math:`c`), with :math:`v_0, s` as
parameters.

Hamiltonian variants (for selection by free energy)
---------------------------------------------------
``"singlet"`` :math:`H_c` (δ only), ``"doublet"`` :math:`H_c + H_Q` (+ A, η),
``"sextet"`` :math:`H_c + H_M` (+ B; the field direction matters only for a single
crystal), ``"full"`` :math:`H_c + H_Q + H_M` (+ A, η, B, θ, φ). Moriguchi et al. (2022)
select among :math:`H_c`, :math:`H_c + H_Q` and :math:`H_c + H_Q + H_M`; the sextet
without a quadrupole term is added here.

Constants
---------
The nuclear moments :math:`\mu_g = +0.09044\,\mu_N` (:math:`I = 1/2`, :math:`g_g =
+0.1809`) and :math:`\mu_e = -0.1549\,\mu_N` (:math:`I = 3/2`, :math:`g_e = -0.1033`)
(N. J. Stone, At. Data Nucl. Data Tables 90, 75 (2005)) give :math:`g_g\mu_N` = 0.1186
and :math:`|g_e|\mu_N` = 0.0677 mm/s per tesla (μ_N from CODATA 2018). The model uses
instead :data:`~measurement_models.mossbauer.hamiltonian.G_GROUND`
:math:`= g_g\mu_N` = 0.118667 and
:data:`~measurement_models.mossbauer.hamiltonian.G_EXCITED`
:math:`= g_e\mu_N` = −0.067758 mm/s/T, those implied by the α-Fe calibration standard
(lines at ±5.312, ±3.076, ±0.840 mm/s for B = 33.0 T at room temperature; J. Bland,
PhD thesis, University of Liverpool (2002)): :math:`g_g\mu_N B = v_2 + v_3`,
:math:`|g_e|\mu_N B = v_2 - v_3` for the inner line pairs. They agree with the nuclear
moments to 0.06 %. The moments' rounded 0.1186 and 0.0677 would put the middle lines at
±3.074 mm/s, off the standard at its printed precision, and hyperfine fields are quoted
on the standard's scale (α-Fe = 33.0 T).

Priors (:data:`~measurement_models.mossbauer.model.PARAMETERS`)
---------------------------------------------------------------
As presented for Moriguchi et al. (2022) in M. Okada's lecture "ベイズ計測の基礎から展開へ"
(Bayesian measurement, from foundations to applications; slides):
:math:`A \sim U(-1, 1)` mm/s, :math:`\eta \sim U(0, 1)`, :math:`\theta \sim U(0, \pi)`,
:math:`\phi \sim U(0, 2\pi)`, :math:`\delta \sim U(-1, 2.5)` mm/s ("E_center"),
:math:`\Gamma \sim \mathrm{Gamma}(1.5, 1.5)` mm/s, area fractions :math:`\sim`
Dirichlet(1, …, 1) (the slides' :math:`r \sim U(0, 1)` for two sites). The slides'
:math:`B_{hf} \sim U(0, 10)` has no unit; read in tesla it would exclude their own
synthetic case (magnetite, 46–49 T) and α-Fe (33 T). We read it, like :math:`A` and
:math:`\delta`, in the Hamiltonian's energy unit mm/s, as the ground-state Zeeman
splitting :math:`g_g\mu_N B \le 10` mm/s, so that :math:`B \sim U(0, 10/g_g\mu_N)`
= U(0, 84.27 T), which covers every ⁵⁷Fe hyperfine field (≲ 60 T); the parameter itself
is in tesla. Note that :math:`|A| \le 1` allows quadrupole splittings up to 2 mm/s at
η = 0 and 2.31 mm/s at η = 1. Instrument parameters: :math:`\varepsilon \sim`
HalfNormal(1) mm/s; :math:`N_\infty \sim U(0.5, 1.5)\,N_\mathrm{ref}` with
:math:`N_\mathrm{ref}` the median of the upper half of the counts;
:math:`v_0 \sim N(0, 1)` mm/s; :math:`s \sim \mathrm{LogNormal}(\log s_\mathrm{nom},
0.05)` from the drive's nominal velocity range given to
:func:`~measurement_models.mossbauer.loaders.load`.
Every velocity of a raw spectrum (line positions, widths, offset) scales with :math:`s`,
so the channels determine only :math:`B/s` (and :math:`\Gamma/s`, :math:`v_0/s`): the
scale of :math:`B` comes from that prior, or from fixing :math:`B` (α-Fe as the
calibration standard; ``fixed`` in :func:`~measurement_models.mossbauer.model.build_model`).

References and data
-------------------
:data:`~measurement_models.mossbauer.references.REFERENCES`: the α-Fe standard
(values), the sextet from the nuclear moments (values), the pure quadrupole doublet
(analytic values), and the synthetic room-temperature magnetite (settings: A site 49 T,
δ = 0.27 mm/s; B site 46 T, δ = 0.67 mm/s; area ratio B:A = 1.9). The measured spectra
of the case study (an α-Fe foil in raw channels, oxyhaemoglobin velocity-calibrated) are
teaching-laboratory data of the public repository bartek-krk/MS_data (``moss.csv``,
``oxy.csv``), read with :func:`~measurement_models.mossbauer.loaders.load`.

Modules
-------
:mod:`~measurement_models.mossbauer.hamiltonian` (Hamiltonians, M1 lines),
:mod:`~measurement_models.mossbauer.spectrum` (the Lorentzian spectrum, ``forward``),
:mod:`~measurement_models.mossbauer.model` (parameter table, priors, likelihood, model),
:mod:`~measurement_models.mossbauer.simulation`,
:mod:`~measurement_models.mossbauer.loaders`,
:mod:`~measurement_models.mossbauer.plots`,
:mod:`~measurement_models.mossbauer.references`.

Checked: :data:`~measurement_models.mossbauer.references.REFERENCES` by the zoo-wide harness
(``tests/measurement_models/test_registry.py``: α-Fe lines ±5.312/±3.076/±0.840 mm/s
at 33 T and the powder ratios 3:2:1:1:2:3; the sextet from the nuclear moments to
0.1 %; the pure quadrupole doublet :math:`\pm A\sqrt{1+\eta^2/3}`), with the contract,
prefix, fixed, mutable data and composition with the other models. In
``tests/measurement_models/test_mossbauer.py``: the single-crystal ratios 3:0:1:1:0:3
(beam along B) and 3:4:1:1:4:3 (beam ⊥ B); the moment ratio of Preston, Hanna,
Heberle, Phys. Rev. 128, 2207 (1962); the first-order quadrupole shift in a large field
(P. Gütlich, E. Bill, A. X. Trautwein, *Mössbauer Spectroscopy and Transition Metal
Chemistry*, Springer 2011, ch. 4) with its O(A²) error; the pure quadrupole splitting at
random A, η and the single-crystal doublet ratio :math:`3(1+\cos^2\vartheta)/(5-3\cos^2
\vartheta)`; every line against an independent NumPy implementation
(``numpy.linalg.eigh``, Racah's Clebsch–Gordan formula); gradients with
``verify_grad``, also at the degenerate pure-quadrupole point, and the compiled (numba)
model gradient against finite differences; the Poisson likelihood against
``scipy.stats.poisson``, also through the channel calibration; on the real α-Fe
spectrum (bartek-krk/MS_data), the calibration-free line-spacing ratio
:math:`(v_6 - v_1)/(v_5 - v_2) = (3|g_e| + g_g)/(|g_e| + g_g)` of six free Lorentzians;
in slow tests, selection by free energy picks the sextet for α-Fe and the doublet for
oxyhaemoglobin, and the magnetite posterior contains the truth. The case study
``case_studies/mossbauer_hamiltonian_selection.py`` checks the sampled free energy
against the Laplace approximation.
"""

from __future__ import annotations

from .hamiltonian import (
    G_EXCITED,
    G_GROUND,
    GEOMETRIES,
    hamiltonians,
    hyperfine_lines,
    observable_lines,
    quadrupole_splitting,
    spin_operators,
    transition_operators,
)
from .loaders import load
from .model import (
    AXIS,
    B_MAX,
    PARAMETERS,
    VARIABLE,
    VARIANT_LABELS,
    VARIANTS,
    add_likelihood,
    add_priors,
    build_model,
    instrument_parameter_names,
    reference_level,
    site_parameter_names,
    velocity_of,
)
from .plots import plot_fit, posterior_spectra, relabel_sites
from .references import REFERENCES
from .simulation import example_data, simulate, simulate_channels, simulate_magnetite
from .spectrum import absorption, forward, site_lines, transmission

__all__ = [
    "AXIS",
    "B_MAX",
    "GEOMETRIES",
    "G_EXCITED",
    "G_GROUND",
    "PARAMETERS",
    "REFERENCES",
    "VARIABLE",
    "VARIANTS",
    "VARIANT_LABELS",
    "absorption",
    "add_likelihood",
    "add_priors",
    "build_model",
    "example_data",
    "forward",
    "hamiltonians",
    "hyperfine_lines",
    "instrument_parameter_names",
    "load",
    "observable_lines",
    "plot_fit",
    "posterior_spectra",
    "quadrupole_splitting",
    "reference_level",
    "relabel_sites",
    "simulate",
    "simulate_channels",
    "simulate_magnetite",
    "site_lines",
    "site_parameter_names",
    "spin_operators",
    "transition_operators",
    "transmission",
    "velocity_of",
]
