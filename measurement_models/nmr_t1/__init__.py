r"""NMR spin–lattice relaxation: T1 recovery curves and their models (Ueda et al. 2023).

Model
-----
R. Ueda, S. Katakami, S. Yoshida, T. Koyama, Y. Nakai, T. Mito, M. Mizumaki, M. Okada,
*Bayesian approach to T1 analysis in NMR spectroscopy with applications to solid state
physics*, J. Phys. Soc. Jpn. 92, 054002 (2023): models for sample disorder and for
several coexisting relaxation components, chosen by the Bayesian free energy.

After the observed transition has been saturated at :math:`t = 0`, the nuclear
magnetisation recovers as :math:`M(t) = M_0[1 - R(t)]`. For magnetic dipolar
relaxation among the :math:`2I+1` Zeeman levels (transition rates
:math:`W_{m\to m\pm1} \propto I(I+1) - m(m\pm1)`, :math:`1/T_1 = 2W`) the recovery of
one line is a fixed sum of exponentials,

.. math::

    R(t) = 1 - \frac{M(t)}{M_0} = \sum_i a_i\, e^{-\lambda_i t/T_1}, \qquad
    \sum_i a_i = 1,

with (:data:`~measurement_models.nmr_t1.recovery.RECOVERY_TERMS`)

=============================  ======================================================
:math:`I = 1/2`                :math:`e^{-t/T_1}`
:math:`I = 3/2`, central line  :math:`\tfrac1{10}e^{-t/T_1} + \tfrac9{10}e^{-6t/T_1}`
:math:`I = 3/2`, NQR           :math:`e^{-3t/T_1}` (:math:`\pm\tfrac12\leftrightarrow
                               \pm\tfrac32` in zero field)
:math:`I = 5/2`, central line  :math:`\tfrac1{35}e^{-t/T_1} + \tfrac8{45}e^{-6t/T_1} +
                               \tfrac{50}{63}e^{-15t/T_1}`
:math:`I = 7/2`, central line  :math:`\tfrac1{84}e^{-t/T_1} + \tfrac3{44}e^{-6t/T_1} +
                               \tfrac{75}{364}e^{-15t/T_1} +
                               \tfrac{1225}{1716}e^{-28t/T_1}`
=============================  ======================================================

(the exponents are :math:`\ell(\ell+1)/2` with odd :math:`\ell` for the central line).
Sources: I = 3/2 central line, E. R. Andrew and D. P. Tunstall, Proc. Phys. Soc. 78, 1
(1961); I = 5/2 and 7/2 central lines, A. Narath, Phys. Rev. 162, 320 (1967); I = 1/2
by the definition of :math:`T_1`; the I = 3/2 NQR line analytically (with populations
symmetric in :math:`\pm m`, :math:`n_{3/2} - n_{1/2}` decays at
:math:`2W_{3/2\leftrightarrow1/2} = 6W = 3/T_1`). Disorder and coexisting relaxation
channels (the two kinds of model of Ueda et al.) enter as

* a **stretched exponent** :math:`0 < \beta \le 1` (distribution of :math:`T_1`), each
  exponential becoming :math:`e^{-(\lambda_i t/T_1)^\beta}`;
* several **components** with weights :math:`w_k` (:math:`\sum_k w_k = 1`):
  :math:`R(t) = \sum_k w_k R(t; T_{1,k})`.

The measured signal is

.. math::

    M(t) = M_0\,[1 - f\,R(t)] + c, \qquad y_j = M(t_j) + \varepsilon_j,\quad
    \varepsilon_j \sim N(0, \sigma^2),

with the saturation (``method="saturation"``: :math:`f = 1`, offset :math:`c` fitted)
or inversion recovery (``method="inversion"``: the inversion factor :math:`f \in
(1, 2]` fitted, :math:`f = 2` a perfect π pulse, :math:`c = 0`). With a fitted
:math:`f`, an offset is not identifiable: :math:`M(t) = (M_0 + c) - M_0 f R(t)`
determines only :math:`M_0 + c` and :math:`M_0 f`, so the inversion model has no
offset (a constant background is absorbed into :math:`M_0` and :math:`f`). The times
:math:`t_j > 0` [s] are usually on a logarithmic grid, as measured. The noise level is
known (``sigma``), read from the data's ``sigma`` variable, or a parameter.

Variants (:data:`VARIANTS`, chosen by free energy as in the paper): ``"single"``
(:math:`T_1`), ``"stretched"`` (:math:`T_1, \beta`), ``"two_component"``
(:math:`T_{1,1}, T_{1,2}, w`).

Priors (:data:`PARAMETERS`; the data-dependent ones are this package's choice)
------------------------------------------------------------------------------
* :math:`T_{1,k}` log-uniform on :math:`[\lambda_{\min} t_{\min},\ \lambda_{\max}
  t_{\max}]`, :math:`t_{\min}, t_{\max}` the first and last measured times and
  :math:`\lambda` the exponents of the line's recovery: every :math:`T_1` for which some
  term's time constant :math:`T_1/\lambda_i` lies in the measured range. The
  components of the two-component model are exchangeable (same prior), so the posterior
  is symmetric under relabelling; :func:`relabel_components` sorts draws by
  :math:`T_1` for display, and the free energy is that of the exchangeable prior.
* :math:`\beta \sim U(0, 1)`; :math:`w \sim \mathrm{Dirichlet}(1, \dots, 1)`;
  :math:`f \sim U(1, 2)`.
* :math:`M_0 \sim U(0, 2 M_\mathrm{ref})`, :math:`c \sim U(-M_\mathrm{ref}/2,
  M_\mathrm{ref}/2)`, :math:`\sigma \sim \mathrm{HalfNormal}(M_\mathrm{ref}/10)` (when
  estimated), with :math:`M_\mathrm{ref} = \max_j |y_j|`.

The table lists the data-scaled priors in units of those scales (``T1``: the position
of :math:`\log T_1` in the log range). A prior given in ``priors`` replaces the default
and is used as given, in physical units. :func:`add_priors` without data needs a prior
or a fixed value for each data-scaled parameter (or ``scales=``).

Modules
-------
:mod:`~measurement_models.nmr_t1.recovery` (the recovery laws and :func:`forward`),
:mod:`~measurement_models.nmr_t1.log_uniform` (the T1 prior),
:mod:`~measurement_models.nmr_t1.model` (parameter table, priors, likelihood,
:func:`build_model`), :mod:`~measurement_models.nmr_t1.data` (datasets,
:func:`simulate`, the text loader :func:`load`), :mod:`~measurement_models.nmr_t1.plotting`,
:mod:`~measurement_models.nmr_t1.references` (:data:`REFERENCES`).

Checked (``tests/measurement_models/test_nmr_t1.py``; :data:`REFERENCES` by
``tests/measurement_models/test_registry.py``): every row of
:data:`~measurement_models.nmr_t1.recovery.RECOVERY_TERMS` against the published
coefficients above and against the eigen-decomposition of the master equation of
magnetic dipolar relaxation among the :math:`2I+1` levels, written independently in the
test with NumPy/SciPy (central line saturated from a Boltzmann population; NQR: both
:math:`\pm\frac12\leftrightarrow\pm\frac32` lines saturated in zero field), also the
inversion factor 2 of a perfect inversion; :math:`R(0) = 1`, :math:`R(\infty) = 0`,
:math:`M \to M_0 + c`, :math:`\beta = 1` equals the plain model, two components with
equal :math:`T_1` equal one, the PyTensor graph equals the NumPy forward model; the
log-density against ``scipy.stats`` (normal, Dirichlet, uniform) and the log-uniform
prior (normalised, by quadrature; prior draws uniform in :math:`\log T_1` by a
Kolmogorov–Smirnov test); one compiled graph reused across datasets with
``pm.set_data``; a shared :math:`T_1` in
:func:`measurement_models.integration.integrated_model`; the zoo-wide contract (prefix,
fixed parameters, mutable data, composition in one integrated model); the free energy
of the single-:math:`T_1` model (:math:`T_1, M_0, c`) sampled by replica exchange against
quadrature over the prior (within 4 MCSE, with a negative control at :math:`\log 2`).
The case study ``case_studies/ueda2023_nmr_t1_selection.py`` repeats that check at three
noise levels and measures how often the free energy picks the true variant
(``docs/nmr-t1.md``).
"""

from .data import AXIS, VARIABLE, example_data, load, simulate
from .model import (
    COMPONENT_DIM,
    PARAMETERS,
    RECOVERY_METHODS,
    VARIANTS,
    add_likelihood,
    add_priors,
    build_model,
    parameter_names,
    prior_scales,
)
from .plotting import plot_fit, posterior_curves, relabel_components
from .recovery import (
    RECOVERY_TERMS,
    SPINS,
    TRANSITIONS,
    forward,
    recovery,
    recovery_terms,
    time_grid,
)
from .references import REFERENCES

__all__ = [
    "AXIS",
    "COMPONENT_DIM",
    "PARAMETERS",
    "RECOVERY_METHODS",
    "RECOVERY_TERMS",
    "REFERENCES",
    "SPINS",
    "TRANSITIONS",
    "VARIABLE",
    "VARIANTS",
    "add_likelihood",
    "add_priors",
    "build_model",
    "example_data",
    "forward",
    "load",
    "parameter_names",
    "plot_fit",
    "posterior_curves",
    "prior_scales",
    "recovery",
    "recovery_terms",
    "relabel_components",
    "simulate",
    "time_grid",
]
