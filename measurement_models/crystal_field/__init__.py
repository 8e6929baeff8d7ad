r"""Crystal field of a rare-earth ion: specific heat, magnetisation and susceptibility.

Model
-----
The Bayesian integration of the magnetic susceptibility and the specific heat of Ce³⁺
in M. Okada's lecture "ベイズ計測の基礎から展開へ" (Bayesian measurement, from
foundations to applications; slides), with the authors' public code for the cubic
case; Stevens operators after K. W. H. Stevens, Proc. Phys. Soc. A 65, 209 (1952) and
M. T. Hutchings, Solid State Phys. 16, 227 (1964) (:mod:`measurement_models.stevens`).

The lowest :math:`J` multiplet of a rare-earth ion (Landé factor :math:`g_J`) in a
crystal field, energies in kelvin (:math:`E/k_B`):

.. math::

    H_\mathrm{CF} = \sum_{p} B_p \sum_{(k,q)} c_{p,kq}\, O_k^q(J), \qquad
    H = H_\mathrm{CF} + g_J \frac{\mu_B}{k_B} B\; \hat n\cdot\mathbf J,

with the Stevens operators :math:`O_k^q` and one parameter :math:`B_p` (kelvin) per
symmetry-allowed term (:data:`SYMMETRIES`), e.g. cubic :math:`H_\mathrm{CF} =
B_4^0(O_4^0 + 5O_4^4) + B_6^0(O_6^0 - 21O_6^4)`, tetragonal :math:`B_2^0O_2^0 +
B_4^0O_4^0 + B_4^4O_4^4 + B_6^0O_6^0 + B_6^4O_6^4`. Terms whose operators vanish for
the ion's :math:`J` (rank :math:`k > 2J`) are left out: for Ce³⁺ (:math:`J = 5/2`,
:math:`g_J = 6/7`) cubic has the one parameter ``B40`` and tetragonal ``B20, B40, B44``,
as in the lecture. For :math:`J = 5/2` on :math:`M = 5/2, \dots, -5/2`, the diagonal of
:math:`O_4^0` is :math:`(60, -180, 120, 120, -180, 60)` and
:math:`\langle M \pm 4|O_4^4|M\rangle = \sqrt{120\cdot 24}/2`, so the cubic field splits
the multiplet into a Γ7 doublet at :math:`-240B_4^0` and a Γ8 quartet at
:math:`+120B_4^0` (K. R. Lea, M. J. M. Leask, W. P. Wolf, J. Phys. Chem. Solids 23,
1381 (1962)). Zeeman term: the moment is :math:`\boldsymbol\mu = -g_J\mu_B\mathbf J`,
so :math:`-\boldsymbol\mu\cdot\mathbf B = +g_J\mu_B B\,\hat n\cdot\mathbf J` and the
magnetisation along the field is :math:`M = -g_J\langle\hat n\cdot\mathbf J\rangle` in
:math:`\mu_B` per ion. (The authors' form, :math:`-g_J\mu_B B J_z` with :math:`M =
+g_J\langle J_z\rangle`, gives the same :math:`M`: time reversal maps one onto the
other and :math:`H_\mathrm{CF}` is time-reversal even.) :math:`\mu_B/k_B` =
:data:`MU_B_OVER_K_B` = 0.671714 K/T.

Observables, with the levels :math:`E_i` of :math:`H_\mathrm{CF}`, :math:`x_i = (E_i -
E_0)/T` and populations :math:`p_i = e^{-x_i}/\sum_j e^{-x_j}` (the shift by the lowest
level :math:`E_0` avoids overflow and cancels):

* specific heat (Schottky), J/mol/K: :math:`C = R\,(\langle x^2\rangle - \langle
  x\rangle^2) = R\sum_i p_i (x_i - \langle x\rangle)^2`, with the authors'
  :math:`R` = :data:`R_GAS` = 8.31441 J/mol/K (CODATA 2018: 8.314462618);
* entropy, J/mol/K: :math:`S = R\,(\ln\sum_i e^{-x_i} + \langle x\rangle)`;
* magnetisation, :math:`\mu_B`/ion:
  :math:`M = \operatorname{Tr}[A\,e^{-H/T}]/\operatorname{Tr}[e^{-H/T}]`,
  :math:`A = -g_J\,\hat n\cdot\mathbf J`, from the full Zeeman Hamiltonian
  (:func:`measurement_models.hermitian.thermal_average`), so that Van Vleck terms are
  included;
* susceptibility, emu/mol: :math:`\chi = 0.5585\,M/B` with :math:`B` in tesla at a small
  field (default :data:`SMALL_FIELD` = 0.01 T): :math:`N_A\mu_B` = 5584.9 emu/mol per
  :math:`\mu_B` per ion and 1 T = 10⁴ Oe, so the factor :data:`EMU_PER_MU_B_PER_TESLA` is
  :math:`N_A\mu_B/10^4` = 0.55849 (the authors write 0.5585 and so do we). The inverse
  susceptibility :math:`1/\chi` (mol/emu) is what the authors fit.

Field direction: ``"x"``, ``"y"``, ``"z"``, a 3-vector, angles ``(theta, phi)``, or
``"powder"``: the mean of the three axes. For the susceptibility at a small field this
mean is the exact powder average (in the linear regime :math:`\chi` is a symmetric
tensor and its orientational average is :math:`\operatorname{Tr}\chi/3`); for the
magnetisation at a large field it is only the three-axis mean.

Curie law at :math:`T \gg` splitting: :math:`\chi \to C_\mathrm{Curie}/T`,
:math:`C_\mathrm{Curie} = N_A g_J^2\mu_B^2 J(J+1)/(3k_B)` = 0.12505 :math:`g_J^2
J(J+1)` emu K/mol, 0.8039 for Ce³⁺ (:math:`\mu_\mathrm{eff}` = 2.535 :math:`\mu_B`; the
often-quoted 0.807 corresponds to a rounded :math:`\mu_\mathrm{eff}` = 2.54).

Data and likelihood: one :class:`xarray.Dataset` per observable on the axis
``temperature`` (K), the data variable named after the observable
(:data:`OBSERVABLES`; :data:`VARIABLE` = ``specific_heat`` is the default); the field
(T) and direction used are recorded in ``attrs`` (``field``, ``field_direction``).
Gaussian noise of precision :math:`b = 1/\sigma^2`, ``pm.Normal`` per point, i.e.
:math:`-nbE(\theta) + \frac n2\log\frac{b}{2\pi}`. Default priors: :math:`B_2^q, B_4^q
\sim U(-1, 1)` K (the lecture's prior for :math:`B_4^0`); :math:`B_6^q \sim U(-0.01,
0.01)` K (our choice: the :math:`O_6^q` matrix elements are 10²–10³ times larger).

Reference settings (``REFERENCES["okada_cubic"]``, ``["okada_tetragonal"]``,
:data:`NOISE_LEVELS`; :func:`simulate_reference`): Ce³⁺, :math:`T` = 0.2, 0.4, …, 70 K
(350 points each), cubic :math:`B_4^0` = 0.1167 K, tetragonal :math:`(B_2^0, B_4^0,
B_4^4)` = (0.381, 0.165, 0.447) K, noise :math:`\sigma_\mathrm{mag}` = 10⁻² (on 1/χ)
and :math:`\sigma_\mathrm{spc}` = 10⁻³ (on C), or 1 and 0.1; the lecture's noise
estimate :math:`\hat b_\mathrm{mag}` = 8.1113 × 10³ against a true 10⁴
(:math:`\hat b_\mathrm{spc}` = 10⁶ = truth).

Layout: :mod:`.physics` (ions, symmetries, Hamiltonian, observables), :mod:`.model`
(parameter table, priors, likelihood, ``build_model``, simulation), :mod:`.references`
(:data:`REFERENCES`), :mod:`.plotting` (:func:`plot_fit`).

Checked: :data:`REFERENCES` (the zoo-wide harness,
``tests/measurement_models/test_registry.py``): the J = 5/2 matrix elements of
:math:`O_4^0` and :math:`O_4^4`, the cubic Γ7/Γ8 levels, the doublet–quartet Schottky
closed form, the entropy limits :math:`R\ln 2` and :math:`R\ln 6`, the Curie constant
from CODATA values. In
``tests/measurement_models/test_crystal_field.py``: the Hamiltonian, levels, C, S, M and
χ against an independent NumPy implementation written in the test (J = 5/2 matrices from
:math:`J_\pm` and the published matrix elements, ``numpy.linalg.eigh``; S as
:math:`-\partial F/\partial T` by finite differences; χ also by the zero-field
Kubo–Van Vleck sum, to 10⁻³ at 0.01 T); the two-level Schottky closed form; the Curie
law; isotropy of χ for cubic Ce³⁺ and Pr³⁺ (to 10⁻⁹ at 10⁻⁴ T; the cubic third-order
response shows at 10⁻⁶ at 0.01 T); the three-axis powder mean against the exact average
over a spherical 2-design (tetragonal); the Landé factors against the textbook table;
the Jacobian of C, S, M, χ in the B parameters (through the eigen-solver Ops) against
fourth-order finite differences and with ``pytensor.gradient.verify_grad``, at exactly
degenerate points (every cubic point; B = 0); the joint log-density of the lecture's
integrated model against the hand-written Gaussian sum, and its gradient against finite
differences; bad input raises ``ValueError``. The case study
``case_studies/crystal_field_integration.py`` checks the sampled posterior, free energy
and noise estimate against quadrature.
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
    simulate_reference,
)
from .physics import (
    EMU_PER_MU_B_PER_TESLA,
    IONS,
    MAGNETIC,
    MU_B_OVER_K_B,
    OBSERVABLES,
    R_GAS,
    SMALL_FIELD,
    SYMMETRIES,
    Ion,
    curie_constant,
    entropy,
    field_directions,
    forward,
    get_ion,
    hamiltonian,
    levels,
    magnetisation,
    parameter_names,
    schottky_entropy,
    schottky_specific_heat,
    specific_heat,
    susceptibility,
)
from .plotting import plot_fit
from .references import NOISE_LEVELS, REFERENCES

__all__ = [
    "AXIS",
    "EMU_PER_MU_B_PER_TESLA",
    "IONS",
    "MAGNETIC",
    "MU_B_OVER_K_B",
    "NOISE_LEVELS",
    "OBSERVABLES",
    "PARAMETERS",
    "REFERENCES",
    "R_GAS",
    "SMALL_FIELD",
    "SYMMETRIES",
    "VARIABLE",
    "Ion",
    "add_likelihood",
    "add_priors",
    "build_model",
    "curie_constant",
    "entropy",
    "example_data",
    "field_directions",
    "forward",
    "get_ion",
    "hamiltonian",
    "levels",
    "magnetisation",
    "parameter_names",
    "plot_fit",
    "schottky_entropy",
    "schottky_specific_heat",
    "simulate",
    "simulate_reference",
    "specific_heat",
    "susceptibility",
]
