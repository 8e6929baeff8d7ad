r"""XANES as arctan edge step + pseudo-Voigt white line + K Gaussians (Iwamitsu, Akai).

Model
-----
Bayesian XANES spectroscopy: K. Iwamitsu, T. Yokota, K. Murata, M. Kamezaki,
M. Mizumaki, T. Uruga, I. Akai, *Phys. Status Solidi B* 257, 2000107 (2020),
doi:10.1002/pssb.202000107. The functional form is that of the paper as summarised in
I. Akai's article *データ駆動科学と放射光計測の融合研究* (fusion of data-driven science
and synchrotron measurement; Kumamoto University): a spectrum is an arctan edge step, a
pseudo-Voigt white line and K Gaussian pre-edge and edge features, with K chosen by the
Bayesian free energy F = −log p(D|K) (K = 13 in the paper's example):

.. math::

    \mu(E) = H\left[\tfrac12 + \tfrac1\pi\arctan\frac{E - E_0}{\Gamma/2}\right]
    + A\,\mathrm{pV}(E;\,E_0 + \Delta E,\,\omega,\,\eta)
    + \sum_{k=1}^{K} F_k\,G(E;\,E_k,\,W_k) + c_0 + c_1\,(E - E_0),

with the area-normalised shapes of full width at half maximum (FWHM) :math:`w`

.. math::

    G(E; c, w) = \sqrt{\frac{4\ln 2}{\pi}}\,\frac1w\,
        \exp\!\left[-4\ln 2\,\frac{(E-c)^2}{w^2}\right],\qquad
    L(E; c, w) = \frac{w/2\pi}{(E-c)^2 + w^2/4},\qquad
    \mathrm{pV} = \eta L + (1-\eta) G,

so :math:`F_k` and :math:`A` are areas (normalised μ × eV) and the step rises by
:math:`H` above the background, with its midpoint at :math:`E_0` and
width :math:`\Gamma` (:math:`\Gamma \to 0` gives the Heaviside step :math:`H\,\theta(E-E_0)`).
The linear background and the area normalisation are this package's choices. The white
line is optional (``white_line=False``: the pre-edge region alone). The data are the
normalised :math:`\mu` with Gaussian noise (σ known, from the data's ``sigma``, or a
parameter), or raw fluorescence counts with

.. math::

    N_i \sim \mathrm{Poisson}\big(t_i\,[o_i + \mu(E_i)]\big),

the exposure :math:`t_i` and offset :math:`o_i` coming from :func:`normalize` (the
dead-time corrected :math:`I_0/d` times the edge step, and the pre-edge line removed by
the normalisation), so that the same normalised-μ priors serve both. :func:`load` reads
an XAFS file (:func:`measurement_models.xafs_io.load_xafs`) and normalises it.

Priors (:data:`PARAMETERS`)
---------------------------
The paper's priors were not available to us; ours are weakly informative for μ
normalised to a unit edge step. Energies :math:`E_0` and :math:`E_k` are uniform over the
fitted energy window :math:`[E_\mathrm{min}, E_\mathrm{max}]` (the table's
``Uniform(0, 1)`` is in units of the window); the centres are ordered,
:math:`E_1 < \dots < E_K`, which removes label switching; because the exchangeable prior
is restricted to one of its :math:`K!` equal-mass orderings, the potential
``Ek_order`` adds :math:`\log K!` so that the free energy is that of the exchangeable
prior (``tests/measurement_models/test_xanes.py`` checks on K = 2 that the ordered
density is twice the exchangeable one, 2/L² on a triangle of area L²/2).
Widths (FWHM, eV) are log-normal around 2 eV (Gaussian features,
the resolution of a Si(111) Fe K-edge scan and the 1.25 eV core hole), 3 eV (step) and
5 eV (white line). :data:`PRE_EDGE_PRIORS` narrows them for a pre-edge window.

The package: :mod:`~measurement_models.xanes.physics` (the forward model),
:mod:`~measurement_models.xanes.model` (table, priors, likelihood, ``build_model``),
:mod:`~measurement_models.xanes.datasets` (load, normalise, window, simulate),
:mod:`~measurement_models.xanes.plotting` and
:mod:`~measurement_models.xanes.references`; everything is imported here.

Checked: the arctan step at and around its midpoint and the half maxima of a Gaussian
feature and of the white line, worked out by hand (:data:`REFERENCES`); in
``tests/measurement_models/test_xanes.py`` every component against an independent SciPy
evaluation (``scipy.stats.norm``, ``scipy.stats.cauchy``, ``numpy.arctan``), the areas
by quadrature (``scipy.integrate.quad``), the limits :math:`\Gamma\to 0` (Heaviside
step) and :math:`\eta = 0, 1`, the PyTensor graph against the NumPy forward, the
compiled gradient against finite differences, the Poisson likelihood against
``scipy.stats.poisson``, the log K! normalisation of the ordered prior, the
normalisation against the raw counts of a real scan, two spectra sharing the edge in one
integrated model against ``scipy.stats.norm``, and bad input.
"""

from .datasets import AXIS, COUNTS, VARIABLE, example_data, load, normalize, select_window, simulate
from .model import (
    GAUSS_DIM,
    NOISE_KINDS,
    PARAMETERS,
    PRE_EDGE_PRIORS,
    add_likelihood,
    add_priors,
    build_model,
    parameter_names,
)
from .physics import (
    FORWARD_PARAMETERS,
    centroid,
    components,
    forward,
    gaussian,
    lorentzian,
    pseudo_voigt,
    step,
)
from .plotting import plot_fit
from .references import REFERENCES

__all__ = [
    "AXIS",
    "COUNTS",
    "FORWARD_PARAMETERS",
    "GAUSS_DIM",
    "NOISE_KINDS",
    "PARAMETERS",
    "PRE_EDGE_PRIORS",
    "REFERENCES",
    "VARIABLE",
    "add_likelihood",
    "add_priors",
    "build_model",
    "centroid",
    "components",
    "example_data",
    "forward",
    "gaussian",
    "load",
    "lorentzian",
    "normalize",
    "parameter_names",
    "plot_fit",
    "pseudo_voigt",
    "select_window",
    "simulate",
    "step",
]
