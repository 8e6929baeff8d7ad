r"""Gaussian data assimilation of calculations and experiments: the Λ model (Harashima et al.).

Source
------
Y. Harashima et al., arXiv:2007.14101 (2020), and Y. Harashima (NAIST), talk
物質科学におけるデータ同化手法開発と応用 (development and application of data
assimilation in materials science): the Λ model, missing targets integrated out, the
trace form of the likelihood, the 1-D demonstration (:data:`REFERENCES`) and the
Bayesian optimisation of a material search (:mod:`.optimisation`).

Model
-----
Descriptor features :math:`\phi(x) \in \mathbb{R}^p` (the first one the constant 1) and
targets :math:`y = (y_\mathrm{comp}, y_\mathrm{expt}) \in \mathbb{R}^q` are jointly
Gaussian, :math:`z = (\phi, y) \sim N(0, \Lambda^{-1})`. Given the descriptor,

.. math::

    p(y \mid x; \Lambda) = N\big(y;\ \mu(x),\ \Lambda_{yy}^{-1}\big), \qquad
    \mu(x) = -\Lambda_{yy}^{-1}\Lambda_{yx}\,\phi(x) = W\phi(x),

a multivariate linear regression :math:`y = W\phi + \varepsilon`,
:math:`W = -\Lambda_{yy}^{-1}\Lambda_{yx}`, :math:`\mathrm{Cov}\,\varepsilon =
\Lambda_{yy}^{-1}` (:math:`\Lambda_{xx}` does not enter). A target missing in a row is
integrated out exactly: the observed ones follow the marginal with precision
:math:`\bar\Lambda_{11} = \Lambda_{11} - \Lambda_{12}\Lambda_{22}^{-1}\Lambda_{21}`
(:func:`marginal_precision`), so calculations and experiments may be made at different
descriptor values. Over N rows the log-likelihood is, with :math:`C^N = \sum_n z_n z_n^\top`,

.. math::

    \ell(\Lambda) = \frac{N}{2}\log\frac{|\Lambda_{yy}|}{(2\pi)^q}
        - \frac12\mathrm{Tr}\big(C^N\Lambda^0\big), \qquad
    \Lambda^0 = \begin{pmatrix}\Lambda_{xy}\Lambda_{yy}^{-1}\Lambda_{yx} & \Lambda_{xy}\\
        \Lambda_{yx} & \Lambda_{yy}\end{pmatrix}

(:func:`lambda0`; complete rows).

Chain (modified Cholesky) coordinates. Writing :math:`\Lambda_{yy} = T^\top D T` with
:math:`T` unit lower triangular (:math:`T_{jk} = -\beta_{jk}`, :math:`k<j`) and
:math:`D = \mathrm{diag}(d_j)` turns the model into one regression per target,

.. math::

    y_j = \sum_{k<j}\beta_{jk}\,y_k + G_j\,\phi(x) + e_j,\qquad e_j \sim N(0, 1/d_j),

with :math:`G = TW` and :math:`\Lambda_{yx} = -T^\top D G`. The last row of
:math:`\Lambda_{yx}` is :math:`-d_q G_q`, so *structural zeros* in the experiment's row
of :math:`\Lambda_{yx}` (Harashima's demo "restricts the 1st–3rd order terms of model
(ii)") are zeros of :math:`G_q`: :math:`y_\mathrm{expt}` depends on :math:`x` only
through :math:`y_\mathrm{comp}` and the kept *discrepancy features*,
:math:`W_\mathrm{expt} = \beta\,W_\mathrm{comp} + G_\mathrm{expt}`, with
:math:`\beta = \Sigma_{21}/\Sigma_{11}` (:math:`\Sigma = \Lambda_{yy}^{-1}`). That is
what lets a few experiments borrow the shape learnt from many calculations. Without
zeros, and with no row observing both targets, the likelihood is
:math:`\ell_1(W_1, \Sigma_{11}) + \ell_2(W_2, \Sigma_{22})` with :math:`W_2` free: the
model decouples and assimilation gains nothing. Note also :math:`\Sigma_{22} \ge
\beta^2\Sigma_{11}`: the transferred shape carries the calculation's noise, so the
restricted model cannot represent an experiment much less noisy than
:math:`|\beta|` times the calculation.

Prior (conjugate; this package's choice). :math:`\Lambda_{yy} \sim
\mathrm{Wishart}(\nu_0, S_0)`, :math:`S_0 = \mathrm{diag}(1/(\nu_0\sigma_{0j}^2))`
(:math:`\sigma_{0j}`: a guess of target j's noise sd; :math:`E\Lambda_{yy} =
\mathrm{diag}(1/\sigma_{0j}^2)`), and :math:`W \mid \Lambda_{yy} \sim
\mathrm{MN}(0, \Lambda_{yy}^{-1}, (\kappa I_p)^{-1})`. Its density in :math:`(W,
\Lambda_{yy})` is Harashima et al.'s form :math:`\propto |\Lambda_{yy}|^{(\nu_0+p-q-1)/2}
\exp(-\frac12\mathrm{Tr}(C^0\Lambda^0))` with the pseudo-statistic :math:`C^0 =
\mathrm{diag}(\kappa I_p, \nu_0\sigma_0^2)`, so the posterior after complete rows is the
same form with :math:`C = C^0 + C^N` and :math:`\nu = \nu_0 + N`: adding rows one at a
time adds :math:`z z^\top` (:meth:`ConjugatePosterior.update`; past data not needed).
In chain coordinates (Bartlett decomposition) the prior factorises,

.. math::

    d_j \sim \Gamma\Big(\frac{\nu_0-q+j}{2},\ \mathrm{rate}\ \frac{\nu_0\sigma_{0j}^2}{2}\Big),
    \quad \beta_{jk} \mid d_j \sim N\Big(0, \frac{1}{d_j\nu_0\sigma_{0k}^2}\Big),
    \quad G_j \mid d_j \sim N\Big(0, \frac{1}{d_j\kappa}I\Big),

(j = 1…q) and so does the posterior: q independent Normal–Gamma regressions whose
statistics are Schur complements of :math:`C`. Structural zeros condition
:math:`G_q` on zero entries (the kept entries keep their prior). The log evidence of
complete data is closed form (:meth:`ConjugatePosterior.log_evidence`); with missing
targets the conjugate update holds for complete rows only, and :class:`GibbsKernel`
(:mod:`.gibbs`) samples the exact posterior by Gibbs sampling with data augmentation,
run by :func:`samplers.evidence.chib.gibbs_sample`, which also gives Chib's estimate of the
evidence (Chib, J. Am. Stat. Assoc. 90, 1313 (1995)).

PyMC (:func:`build_model`): free ``conditional_precision`` (:math:`d`), ``coupling``
(:math:`\beta`) and ``coefficient`` (the free entries of :math:`G`, by default rotated
onto the principal axes of the data's :math:`\Phi^\top\Phi`, which leaves their isotropic
prior unchanged) with exactly the prior above; deterministic ``G``, ``Lambda_yy``,
``Lambda_yx`` and ``W``. The likelihood is written in :math:`\Lambda`
(:math:`\mu = -\Lambda_{yy}^{-1}\Lambda_{yx}\phi`, covariance :math:`\Lambda_{yy}^{-1}`,
the inverse from the factors): every row contributes the marginal of its observed
targets, as successive univariate conditionals, all in one observed variable ``y``. The
graph uses no ``Dot`` or linear-algebra Op (numba compiles them very slowly); it still
takes 20–60 s to compile on a cold cache, so the tests check its log-density with
``mode="FAST_COMPILE"`` and sample it only in the slow test and the full case study.
There is no noise sd ``sigma``: the noise covariance :math:`\Lambda_{yy}^{-1}` is a
parameter.

Bases (:class:`Basis`): ``polynomial`` (all monomials of total degree ≤ D, cross terms in
several dimensions) and ``sine`` (:math:`\phi_n(x) = \sin(2\pi n x)` per dimension,
products across dimensions); :math:`\sin(0) = 0`, so :math:`\phi_0 \equiv 1` (the talk's
"2φ₀" is a constant term). Units: descriptors and targets in the data's own units.

Data (:mod:`.table`): a table along ``sample``, the descriptors ``x`` (sample,
descriptor) and one variable per target, NaN marking a target not measured
(:data:`TABLE`, which tells generic code that these are not a one-axis spectrum).

Modules: :mod:`.table` (data, bases, simulation), :mod:`.algebra` (Gaussian identities,
exact likelihood), :mod:`.conjugate` (conjugate prior, posterior, evidence),
:mod:`.model` (the PyMC model), :mod:`.gibbs` (Gibbs conditionals),
:mod:`.optimisation` (Bayesian optimisation), :mod:`.demo` (Harashima's demo,
:data:`REFERENCES`), :mod:`.plotting`.

Checked: the demo's coefficients against Harashima's f₁, f₂, the exact likelihood with
missing targets and the conjugate evidence of one complete row against closed forms
derived by hand (:data:`REFERENCES`, by ``tests/measurement_models/test_registry.py``);
in ``tests/measurement_models/test_data_assimilation.py``: the predictor against
the conditional mean of the joint Gaussian from :math:`\Lambda^{-1}`, the marginal
precision against the inverse covariance block, the missing-target likelihood against
numerical integration over the missing target, the trace form against the sum of
Gaussian log-densities; the chain prior against ``scipy.stats.wishart`` ×
``matrix_normal`` with the Jacobian :math:`\prod_j d_j^{\,j-1}`; the posterior and
closed-form evidence by Chib's identity with SciPy densities (unrestricted, and with
structural zeros), by one-dimensional quadrature, and against the Student-t predictive
(evidence increments); sequential against batch updates; exact draws against the
matrix-t moments; the PyMC log-density (rotated or not, rows with one or both targets)
against those SciPy densities plus :func:`log_likelihood`; Gibbs draws on complete data
against the exact posterior, Gibbs moments and Chib's evidence with missing targets
against an independent integration; NUTS moments and the
replica-exchange F against the closed form on complete data (slow test, and the full
case study ``case_studies/harashima_data_assimilation.py``).
"""

from ..contract import Table
from .algebra import (
    chain_from_lambda,
    condition,
    forward,
    lambda0,
    lambda_from_chain,
    log_likelihood,
    marginal_precision,
    predictive_covariance,
)
from .conjugate import (
    ConjugatePosterior,
    ConjugatePrior,
    Regression,
    conjugate_log_evidence,
    draw_chain,
    normal_gamma,
    normal_gamma_log_evidence,
    normal_gamma_logpdf,
    resolve_features,
)
from .demo import (
    DEMO_PRIOR,
    REFERENCES,
    demo_f1,
    demo_f2,
    demo_truth_point,
    example_data,
    simulate_demo,
)
from .gibbs import STATE_DRAWS, GibbsKernel
from .model import DERIVED, PARAMETERS, VARIABLE, add_likelihood, add_priors, build_model
from .optimisation import BOProblem, bo_problem, optimise
from .plotting import plot_fit
from .table import (
    BASES,
    DESCRIPTOR,
    SAMPLE,
    TARGETS,
    Basis,
    load,
    make_data,
    simulate,
    stack_measurements,
    validate_data,
)

#: Name of the row dimension: the data are a table of samples, not a measurement axis.
AXIS = SAMPLE

#: The data are a table (rows of samples, missing targets NaN), read so by generic code.
TABLE = Table(rows=SAMPLE, measured=TARGETS, required="x", validate=validate_data)

__all__ = [
    "AXIS",
    "BASES",
    "DEMO_PRIOR",
    "DERIVED",
    "DESCRIPTOR",
    "PARAMETERS",
    "REFERENCES",
    "SAMPLE",
    "STATE_DRAWS",
    "TABLE",
    "TARGETS",
    "VARIABLE",
    "BOProblem",
    "Basis",
    "ConjugatePosterior",
    "ConjugatePrior",
    "GibbsKernel",
    "Regression",
    "add_likelihood",
    "add_priors",
    "bo_problem",
    "build_model",
    "chain_from_lambda",
    "condition",
    "conjugate_log_evidence",
    "demo_f1",
    "demo_f2",
    "demo_truth_point",
    "draw_chain",
    "example_data",
    "forward",
    "lambda0",
    "lambda_from_chain",
    "load",
    "log_likelihood",
    "make_data",
    "marginal_precision",
    "normal_gamma",
    "normal_gamma_log_evidence",
    "normal_gamma_logpdf",
    "optimise",
    "plot_fit",
    "predictive_covariance",
    "resolve_features",
    "simulate",
    "simulate_demo",
    "stack_measurements",
    "validate_data",
]
