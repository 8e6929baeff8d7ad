r"""Small-angle scattering (SAS) of spheres, Poisson counts (Hayashi et al. 2023).

Model
-----
Y. Hayashi, S. Katakami, S. Kuwamoto, K. Nagata, M. Mizumaki, M. Okada, *Bayesian
inference for small-angle scattering data*, J. Phys. Soc. Jpn. 92, 094002 (2023),
arXiv:2303.04983.

The paper's monodisperse sphere, measured for a time :math:`t`:

.. math::

    \lambda(q) = \left[\frac{\phi}{V}\left\{3\,\Delta\rho\, V\,
        \frac{\sin qR - qR\cos qR}{(qR)^3}\right\}^2 + b\right] t,
    \qquad y_i \sim \mathrm{Poisson}(\lambda(q_i)),

with radius :math:`R`, volume :math:`V = 4\pi R^3/3`, volume fraction :math:`\phi`,
contrast :math:`\Delta\rho` and background :math:`b`; the negative log-likelihood is
:math:`\sum_i [\lambda(q_i) - y_i \log\lambda(q_i) + \log y_i!]`. The paper estimates
:math:`R` and :math:`b` by the exchange Monte Carlo method, studies the posterior
against :math:`t` and against the loss of low-q data (raising :math:`q_\min`), and
chooses the scattering model by the Bayesian free energy; its follow-ups choose
multicomponent spheres (J. Appl. Cryst. 2024, arXiv:2401.10466) and core–shell
spheres (arXiv:2405.07302) the same way. Here, more generally, the absolute intensity
of :math:`K` populations of particles is

.. math::

    I(q) = \sum_{k=1}^{K} \phi_k\, P_k(q) + b, \qquad
    y_i \sim \mathrm{Poisson}\big(t\, I(q_i)\big),

where :math:`P_k` is the scattering per unit volume fraction of population :math:`k`
(:func:`~measurement_models.sas.form_factors.population_intensity`, identical to
sasmodels' ``scale = 1`` intensity): a homogeneous sphere (``"sphere"``), spheres with a
Gaussian or Schulz distribution of radii, volume-weighted as in sasmodels
(``"polydisperse_sphere"``, relative width :math:`p = \sigma_R/R`), or a core–shell
sphere (``"core_shell_sphere"``, core radius :math:`R`, shell thickness :math:`T`). The
paper's model is ``"sphere"`` with :math:`K = 1` and :math:`\phi` known
(``fixed={"scale": φ}``). Data already reduced to absolute intensity with
uncertainties :math:`\sigma_i` have the Gaussian likelihood
:math:`I_i \sim N(I(q_i), \sigma_i^2)` (``noise="gaussian"``).

Units (those of sasmodels)
--------------------------
:math:`q` in Å⁻¹ (loaders convert nm⁻¹: 1 nm⁻¹ = 0.1 Å⁻¹), radii and thicknesses in
Å, SLDs in :math:`10^{-6}` Å⁻², intensities and the background in cm⁻¹. The factor
:math:`10^{-4}` turns :math:`\Delta\rho^2 V` in these units into cm⁻¹
(:data:`~measurement_models.sas.form_factors.INTENSITY_FACTOR`). :math:`t` is the
exposure that turns absolute intensity into expected counts, in counts per cm⁻¹
(measurement time × the instrument's count rate per unit intensity: flux, solid angle
of a bin, sample thickness and transmission); the paper calls it the measurement time,
and the posterior width scales with it like :math:`t^{-1/2}`. The SLDs are settings
(:class:`~measurement_models.sas.form_factors.FormFactor`), not parameters: only
:math:`\phi\,\Delta\rho^2` is identifiable from the intensity.

Priors
------
:data:`PARAMETERS`; this package's choice: the paper's prior ranges were not available
to us.

:math:`R \sim U(10, 1000)` Å (particles of 2–200 nm diameter, the sizes a SAS window
:math:`q \approx 10^{-3}\text{–}0.5` Å⁻¹ resolves); :math:`\phi \sim U(0, 1)` (a volume
fraction; give another prior for data in arbitrary units); :math:`p \sim U(0, 0.4)`
(colloidal samples; the default quadrature integrates the size distribution to 1e-6
over this range, see :mod:`~measurement_models.sas.form_factors`); :math:`T \sim
U(0, 200)` Å; :math:`b \sim` HalfNormal(1 cm⁻¹) (incoherent and instrumental
backgrounds are 1e-3–1 cm⁻¹). The populations share one prior, so the posterior of
:math:`K \ge 2` populations is symmetric under relabelling (:func:`relabel_populations`
sorts them by radius for display); the free energy is that of this exchangeable prior.

Modules
-------
:mod:`~measurement_models.sas.form_factors` (:math:`P(q)` of every form factor),
:mod:`~measurement_models.sas.intensity` (:func:`forward`, the Fisher information),
:mod:`~measurement_models.sas.model` (parameter table, priors, likelihood,
:func:`build_model`), :mod:`~measurement_models.sas.data` (datasets, :func:`simulate`,
the text loader :func:`load`), :mod:`~measurement_models.sas.plotting`,
:mod:`~measurement_models.sas.references` (:data:`REFERENCES`).

Checked (``tests/measurement_models/test_sas.py``; :data:`REFERENCES` by
``tests/measurement_models/test_registry.py``): the published test values of sasmodels
1.1.0 (``sasmodels.models.sphere``: monodisperse and Gaussian-polydisperse;
``sasmodels.models.core_shell_sphere``) to 1e-8 (values printed to 9 digits) and 1e-6
(6 digits); every form factor against sasmodels 1.1.0's own kernels (``sphere``,
``core_shell_sphere``, ``sphere`` with ``radius_pd`` of type gaussian and schulz, on
sasmodels' own nodes) to 1e-9 relative on grids of q and parameters; the
size-distribution quadrature against ``scipy.integrate.quad`` of the defining integrals
(1e-6); the sphere amplitude at small qR against its Taylor series summed in 40-digit
decimal arithmetic and at large qR against ``scipy.special.spherical_jn``; finite
PyTensor gradients at :math:`qR \to 0` against the analytic Guinier-limit derivative;
the Poisson and Gaussian likelihoods against ``scipy.stats``; the Fisher information of
the counts (posterior widths) proportional to :math:`t`; the loader on headers, column
names, nm⁻¹ and bad files; and the zoo-wide contract (prefix, fixed parameters,
mutable data, composition in one integrated model). The case study
``case_studies/hayashi2023_small_angle_scattering.py`` checks replica exchange on the
paper's model (φ known) against the exact grid posterior and free energy (unimodal and
multimodal cases) and the Fisher-information (Laplace) widths with their
:math:`t^{-1/2}` scaling, and selection among sphere, polydisperse sphere and two
populations on data simulated from each.
"""

from .data import (
    AXIS,
    COUNTS,
    NOISE_KINDS,
    Q_UNITS,
    VARIABLE,
    counts_dataset,
    example_data,
    load,
    simulate,
)
from .form_factors import DISTRIBUTIONS, FORM_FACTORS, FormFactor
from .intensity import fisher_information, forward, parameter_names
from .model import PARAMETERS, POPULATION_DIM, add_likelihood, add_priors, build_model
from .plotting import plot_fit, posterior_intensity, relabel_populations
from .references import REFERENCES

__all__ = [
    "AXIS",
    "COUNTS",
    "DISTRIBUTIONS",
    "FORM_FACTORS",
    "NOISE_KINDS",
    "PARAMETERS",
    "POPULATION_DIM",
    "Q_UNITS",
    "REFERENCES",
    "VARIABLE",
    "FormFactor",
    "add_likelihood",
    "add_priors",
    "build_model",
    "counts_dataset",
    "example_data",
    "fisher_information",
    "forward",
    "load",
    "parameter_names",
    "plot_fit",
    "posterior_intensity",
    "relabel_populations",
    "simulate",
]
