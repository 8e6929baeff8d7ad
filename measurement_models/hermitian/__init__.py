r"""Small Hermitian eigenproblems as PyTensor Ops, with gradients that survive degeneracy.

The Hamiltonian measurement models (Mössbauer, crystal field, core-level cluster
models) need the levels of small complex Hermitian matrices, observables built on the
eigenvectors, and gradients of both for NUTS. PyTensor's own ``eigh`` gradient is for
real symmetric input only and divides by level differences, which vanish at the
degeneracies that are the rule here (Kramers doublets, cubic quartets). This module
provides three Ops, each with a NumPy ``perform``, a numba implementation for PyTensor's
default backend, ``infer_shape``, a gufunc signature (so ``Blockwise`` solves a whole
batch of parameter sets in one call, and ``vectorize_graph`` batches replicas), and a
``pullback`` that is itself a numba-compiled Op.

Inputs are real: a Hermitian matrix is passed as two real arrays,

.. math::

    H = \tfrac12(X + X^\mathsf{T}) + \tfrac{i}{2}(Y - Y^\mathsf{T}),

so that no complex number crosses the PyTensor graph (PyTensor's complex gradients are
not reliable); the Ops symmetrise, which makes every input a valid point and the
gradients the symmetric/antisymmetric parts.

Gradients
---------
With :math:`H = V \Lambda V^\dagger`, :math:`\tilde X = V^\dagger X V` and the
cotangent written as :math:`\delta L = \operatorname{Re}\sum_{ab} \bar G_{ab}^* \delta H_{ab}`:

* **Eigenvalues** (Hellmann–Feynman): :math:`\delta\lambda_i = \langle i|\delta H|i\rangle`,
  :math:`\bar G = V \operatorname{diag}(\bar\lambda) V^\dagger`. Within a set of
  degenerate levels :math:`\bar\lambda` is replaced by its mean, which is the exact
  gradient of every symmetric function of the set (and independent of the arbitrary
  basis LAPACK returns in it).
* **Eigenvectors** (:func:`eigh`): :math:`\bar G = V[\operatorname{diag}(\bar\lambda) +
  \operatorname{herm}(F \circ V^\dagger \bar V)]V^\dagger` with
  :math:`F_{ij} = 1/(\lambda_j - \lambda_i)` between different degenerate sets and 0
  within one. This is exact for any function of the eigenvectors that depends on them
  only through the projectors onto the degenerate sets (gauge- and basis-invariant
  quantities); a quantity that depends on the basis chosen inside a degenerate set has
  no derivative there.
* **Thermal averages** (:func:`thermal_average`),
  :math:`\langle A\rangle_\beta = \operatorname{Tr}[A\,g(H)]/\operatorname{Tr}[g(H)]`,
  :math:`g(\lambda) = e^{-\beta\lambda}`: the Daleckii–Krein formula
  :math:`\delta g(H) = V(G \circ \delta\tilde H)V^\dagger` with the divided differences
  :math:`G_{ij} = (g(\lambda_i) - g(\lambda_j))/(\lambda_i - \lambda_j)`, which tend to
  :math:`g'(\lambda_i)` as the levels merge, so that

  .. math::

      \bar G = \frac{1}{Z} V\big(G \circ \tilde A - \langle A\rangle
      \operatorname{diag}(g'(\lambda))\big)V^\dagger

  is exact at and near degeneracies, in every direction (including the Curie term of a
  Kramers doublet that a field splits). :math:`G_{ij} = -\beta e^{-\beta \bar\lambda}
  \sinh(\beta d/2)/(\beta d/2)` with :math:`\bar\lambda, d` the mean and difference of
  the two levels is used where :math:`|\beta d| < 1` (no cancellation).
  Also :math:`\partial\langle A\rangle/\partial A = \rho` and
  :math:`\partial\langle A\rangle/\partial\beta = -(\langle AH\rangle - \langle A\rangle
  \langle H\rangle)`.
* **Transition lines** (:func:`transition_lines`): positions
  :math:`E^{e}_i - E^{g}_j` and intensities :math:`I_{ij} = \sum_q |M^q_{ij}|^2`,
  :math:`M^q = V_e^\dagger T_q V_g`. Within a pair of degenerate sets the intensity is
  shared equally (the only basis-independent choice; the set total
  :math:`\sum_q \operatorname{Tr}[P_e T_q P_g T_q^\dagger]` is a smooth function of the
  spectral projectors). With :math:`W^q = \bar I \circ M^q` the pullback is
  :math:`\tilde{\bar G}_e = -2\operatorname{herm}(F_e \circ \sum_q W^q M^{q\dagger})`,
  :math:`\tilde{\bar G}_g = 2\operatorname{herm}(F_g \circ \sum_q M^{q\dagger} W^q)`,
  :math:`\bar T_q = 2 V_e W^q V_g^\dagger`, plus Hellmann–Feynman for the positions.

Two levels are *degenerate* when they differ by less than
:data:`DEGENERACY_TOLERANCE` times the largest level magnitude (plus a tiny absolute
floor).

Failures
--------
A non-finite input, or a LAPACK failure, gives NaN outputs (and zero gradients).
Inside a model, :func:`reject_non_finite` turns that into a log-density of
:math:`-\infty` (every sampler rejects the point; NUTS counts it as a divergence)
instead of a NaN.

Layout: :mod:`.kernels`, the NumPy kernels (one source for ``perform`` and numba);
:mod:`.ops`, the Ops and their numba registration; :mod:`.functions`, the batched
functions (NumPy or PyTensor in) and the model guard :func:`reject_non_finite`.

Checked (``tests/measurement_models/test_hermitian.py``): outputs against
``scipy.linalg.eigh`` and direct NumPy evaluation of the defining formulas; every
pullback with ``pytensor.gradient.verify_grad`` at random (non-degenerate) points, at
exactly degenerate points along degeneracy-preserving directions (and, for thermal
averages, along splitting directions, against central finite differences of the
smooth function); numba and Python implementations agree; batched calls equal loops.
"""

from .functions import (
    eigh,
    eigvalsh,
    hermitian_parts,
    reject_non_finite,
    thermal_average,
    transition_lines,
)
from .kernels import DEGENERACY_TOLERANCE
from .ops import (
    EighOp,
    EighVJPOp,
    ThermalAverageOp,
    ThermalAverageVJPOp,
    TransitionLinesOp,
    TransitionLinesVJPOp,
)

__all__ = [
    "DEGENERACY_TOLERANCE",
    "EighOp",
    "EighVJPOp",
    "ThermalAverageOp",
    "ThermalAverageVJPOp",
    "TransitionLinesOp",
    "TransitionLinesVJPOp",
    "eigh",
    "eigvalsh",
    "hermitian_parts",
    "reject_non_finite",
    "thermal_average",
    "transition_lines",
]
