r"""Multimodal targets whose evidence and mode weights are known exactly.

Test targets for the evidence estimators and samplers, built so that the answers a run
must reproduce (:math:`\log Z` and the posterior mass of every mode) come from a closed
form, not from a sampler:

- :class:`GaussianMixtureTarget`: a Gaussian prior on :math:`\theta \in \mathbb{R}^d`
  and a likelihood that is a weighted mixture of Gaussian densities in :math:`\theta`
  with diagonal covariances. Every product of prior and component is Gaussian, so the
  evidence and the mode weights are sums of Gaussian densities.
- :func:`unequal_width`: two separated modes of equal (or chosen) posterior mass, one
  narrower than the other in some or all coordinates: the target on which tempering
  goes through a first-order phase transition in :math:`\beta` (Woodard, Schmidler &
  Huber, Electron. J. Probab. 14, 780 (2009)).
- :func:`three_modes`: three separated modes of different widths and weights.
- :class:`GaussianShellTarget` and :func:`gaussian_shell`: the two Gaussian shells of
  the nested-sampling benchmarks (Feroz, Hobson & Bridges, Mon. Not. R. Astron. Soc.
  398, 1601 (2009)), with the evidence from a one-dimensional radial integral in closed
  form.
- :class:`EggBoxTarget` and :func:`egg_box`: the egg-box likelihood of the same paper,
  18 sharp peaks of three masses in two dimensions, with the evidence by the periodic
  trapezoid rule.

Each target builds a ``pm.Model`` with one vector variable ``theta`` (dims
``"coordinate"``) and the likelihood as a ``pm.Potential``: PyMC counts Potentials as
likelihood (``model.datalogp``), so replica exchange and ``pm.sample_smc`` temper
exactly this term, and :func:`samplers.free_energy` estimates :math:`-\log Z` of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import lgamma

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr
from scipy.special import logsumexp

__all__ = [
    "EGG_BOX_GRID",
    "EggBoxTarget",
    "GaussianMixtureTarget",
    "GaussianShellTarget",
    "egg_box",
    "gaussian_shell",
    "three_modes",
    "unequal_width",
]

LOG_2PI = float(np.log(2 * np.pi))
#: The posterior variable of every target.
VARIABLE = "theta"
#: Its dim.
COORDINATE_DIM = "coordinate"


def _positive_finite(name: str, value) -> np.ndarray:
    array = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(array)) or np.any(array <= 0):
        raise ValueError(f"{name} must be positive and finite, got {value!r}")
    return array


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.array(array, dtype=float)
    array.flags.writeable = False
    return array


def _draw_values(draws: np.ndarray, dim: int) -> np.ndarray:
    values = np.asarray(draws, dtype=float)
    if values.ndim < 1 or values.shape[-1] != dim:
        raise ValueError(
            f"draws must have the {dim} coordinates of theta along their last axis, "
            f"got shape {values.shape}"
        )
    return values


def _mode_fractions(idata: xr.DataTree, mode_of, n_modes: int, per_chain: bool) -> np.ndarray:
    try:
        theta = idata["posterior"][VARIABLE]
    except KeyError:
        raise ValueError(
            f"the result has no posterior variable {VARIABLE!r} (not a run of this target)"
        ) from None
    theta = theta.transpose("chain", "draw", ...)
    labels = mode_of(theta.values)  # (chain, draw)
    counts = (labels[..., None] == np.arange(n_modes)).mean(axis=1)  # (chain, modes)
    return counts if per_chain else counts.mean(axis=0)


@dataclass(frozen=True, eq=False)
class GaussianMixtureTarget:
    r"""Gaussian prior and Gaussian-mixture likelihood: exact evidence and mode weights.

    .. math::

        p(\theta) = \mathcal{N}(\theta;\, 0,\, s_0^2 I_d), \qquad
        L(\theta) = \sum_{k=1}^{K} w_k\, \mathcal{N}(\theta;\, \mu_k,\, \Sigma_k), \qquad
        \Sigma_k = \operatorname{diag}(\sigma_{k1}^2, \dots, \sigma_{kd}^2).

    The product of two Gaussian densities in :math:`\theta` integrates to a Gaussian
    density of the difference of their means, so

    .. math::

        Z = \int p(\theta) L(\theta)\, d\theta
          = \sum_k w_k\, \mathcal{N}(\mu_k;\, 0,\, s_0^2 I_d + \Sigma_k),

    and the posterior is a Gaussian mixture,

    .. math::

        p(\theta \mid D) = \sum_k \pi_k\, \mathcal{N}(\theta;\, m_k, V_k), \quad
        \pi_k = \frac{w_k\, \mathcal{N}(\mu_k;\, 0,\, s_0^2 I_d + \Sigma_k)}{Z}, \quad
        V_k = (s_0^{-2} I_d + \Sigma_k^{-1})^{-1}, \quad m_k = V_k \Sigma_k^{-1} \mu_k.

    A point belongs to the mode with the largest posterior responsibility
    :math:`r_k(\theta) = w_k \mathcal{N}(\theta; \mu_k, \Sigma_k) / L(\theta)` (the prior
    factor is common to all components).

    Parameters
    ----------
    prior_sd : float
        :math:`s_0`.
    means : array_like, shape (K, d)
        :math:`\mu_k`, one row per component.
    sds : array_like, shape (K, d)
        :math:`\sigma_{ki}`, per component and coordinate.
    weights : array_like, shape (K,)
        :math:`w_k` (positive; used as given, so :math:`Z` scales with them).
    names : tuple of str, optional
        A name per mode (default ``"mode 0"``, ``"mode 1"``, ...).

    Raises
    ------
    ValueError
        Shapes that disagree, no component or coordinate, or an sd or weight that is
        not positive and finite.
    """

    prior_sd: float
    means: np.ndarray
    sds: np.ndarray
    weights: np.ndarray
    names: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "prior_sd", float(_positive_finite("prior_sd", self.prior_sd)))
        means = np.asarray(self.means, dtype=float)
        if means.ndim != 2 or means.shape[0] < 1 or means.shape[1] < 1:
            raise ValueError(
                "means must have shape (components, dimension) with at least one component "
                f"and one coordinate, got {means.shape}"
            )
        if not np.all(np.isfinite(means)):
            raise ValueError("means must be finite")
        sds = _positive_finite("sds", self.sds)
        if sds.shape != means.shape:
            raise ValueError(
                f"sds must have the shape of means {means.shape} (one sd per component and "
                f"coordinate), got {sds.shape}"
            )
        weights = _positive_finite("weights", self.weights)
        if weights.shape != (means.shape[0],):
            raise ValueError(
                f"weights must have one value per component, shape ({means.shape[0]},), "
                f"got {weights.shape}"
            )
        names = self.names
        if names is None:
            names = tuple(f"mode {k}" for k in range(means.shape[0]))
        if len(names) != means.shape[0]:
            raise ValueError(f"names must name each of the {means.shape[0]} modes, got {names}")
        set_(self, "means", _frozen(means))
        set_(self, "sds", _frozen(sds))
        set_(self, "weights", _frozen(weights))
        set_(self, "names", tuple(str(n) for n in names))

    @classmethod
    def with_posterior_weights(
        cls,
        prior_sd: float,
        means: np.ndarray,
        sds: np.ndarray,
        posterior_weights: np.ndarray,
        names: tuple[str, ...] | None = None,
    ) -> GaussianMixtureTarget:
        r"""The target whose modes hold the given posterior masses :math:`\pi_k`.

        The likelihood weights follow from the definition of :math:`\pi_k`,
        :math:`w_k \propto \pi_k / \mathcal{N}(\mu_k; 0, s_0^2 I_d + \Sigma_k)`,
        normalised to :math:`\sum_k w_k = 1` (a normalised mixture likelihood).

        Raises
        ------
        ValueError
            Posterior weights that are not positive or do not sum to 1, and every error
            of the class.
        """
        pi = _positive_finite("posterior_weights", posterior_weights)
        if not np.isclose(pi.sum(), 1.0, rtol=0, atol=1e-12):
            raise ValueError(f"posterior_weights must sum to 1, got {pi.sum()}")
        unit = cls(prior_sd, means, sds, np.ones(np.shape(pi)), names)
        log_w = np.log(pi) - unit._log_component_evidence()
        return cls(prior_sd, means, sds, np.exp(log_w - logsumexp(log_w)), names)

    @property
    def dimension(self) -> int:
        """d, the number of coordinates of θ."""
        return self.means.shape[1]

    @property
    def n_modes(self) -> int:
        """K, the number of components (modes)."""
        return self.means.shape[0]

    def _log_component_evidence(self) -> np.ndarray:
        """log N(μ_k; 0, s0² I + Σ_k), shape (K,)."""
        variance = self.prior_sd**2 + self.sds**2
        return -0.5 * np.sum(LOG_2PI + np.log(variance) + self.means**2 / variance, axis=1)

    @property
    def log_evidence(self) -> float:
        r""":math:`\log Z`, exact."""
        return float(logsumexp(np.log(self.weights) + self._log_component_evidence()))

    @property
    def mode_weights(self) -> np.ndarray:
        r"""Posterior mass of each mode, :math:`\pi_k`, exact; shape (K,)."""
        log_mass = np.log(self.weights) + self._log_component_evidence()
        return np.exp(log_mass - logsumexp(log_mass))

    @property
    def posterior_sds(self) -> np.ndarray:
        r""":math:`\sqrt{V_k}` per mode and coordinate; shape (K, d)."""
        return np.sqrt(1.0 / (1.0 / self.prior_sd**2 + 1.0 / self.sds**2))

    @property
    def posterior_means(self) -> np.ndarray:
        r""":math:`m_k` per mode and coordinate; shape (K, d)."""
        return self.posterior_sds**2 * self.means / self.sds**2

    def log_likelihood(self, theta: np.ndarray) -> np.ndarray:
        r""":math:`\log L(\theta)` of points with the d coordinates along the last axis."""
        return logsumexp(self._log_weighted_components(theta), axis=-1)

    def _log_weighted_components(self, theta: np.ndarray) -> np.ndarray:
        """log w_k + log N(θ; μ_k, Σ_k), shape (..., K)."""
        theta = _draw_values(theta, self.dimension)
        z = (theta[..., None, :] - self.means) / self.sds
        log_normal = -0.5 * np.sum(LOG_2PI + 2 * np.log(self.sds) + z**2, axis=-1)
        return np.log(self.weights) + log_normal

    def mode_of(self, draws: np.ndarray) -> np.ndarray:
        """Index of the mode of each draw (largest posterior responsibility).

        Parameters
        ----------
        draws : array_like, shape (..., d)
            Points, the d coordinates of θ along the last axis (e.g. ``(n, d)``).

        Returns
        -------
        ndarray of int, shape (...)

        Raises
        ------
        ValueError
            If the last axis is not of length d.
        """
        return np.argmax(self._log_weighted_components(draws), axis=-1)

    def mode_fractions(self, idata: xr.DataTree, per_chain: bool = False) -> np.ndarray:
        """Fraction of a run's posterior (β = 1) draws in each mode.

        Parameters
        ----------
        idata : xarray.DataTree
            A result with the posterior variable ``theta`` (replica exchange, SMC, NUTS).
        per_chain : bool
            One row per chain instead of the pooled fractions.

        Returns
        -------
        ndarray, shape (K,) or (chains, K)

        Raises
        ------
        ValueError
            If the result has no posterior ``theta`` or its last dim is not of length d.
        """
        return _mode_fractions(idata, self.mode_of, self.n_modes, per_chain)

    def model(self) -> pm.Model:
        """A ``pm.Model``: ``theta`` with its ``pm.Normal`` prior, the likelihood a Potential.

        The Potential is named ``mixture_likelihood``; PyMC counts it as likelihood, so
        tempering multiplies it (and only it) by β.
        """
        log_norm = np.log(self.weights) - 0.5 * np.sum(LOG_2PI + 2 * np.log(self.sds), axis=1)
        with pm.Model(coords={COORDINATE_DIM: np.arange(self.dimension)}) as model:
            # float64 on purpose: PyTensor stores a Python float that float32 holds exactly
            # (5.0) as a float32 constant, and log(sd) would then be float32 (3e-8 off).
            theta = pm.Normal(VARIABLE, 0.0, np.float64(self.prior_sd), dims=COORDINATE_DIM)
            z = (theta[None, :] - self.means) / self.sds
            pm.Potential("mixture_likelihood", pt.logsumexp(log_norm - 0.5 * pt.sum(z**2, axis=1)))
        return model


def _narrow_sds(dim: int, ratios, narrow_coordinates: int | None, broad_sd: float):
    """sds (K, d): broad_sd / ratio_k in the first narrow_coordinates coordinates."""
    if int(dim) != dim or dim < 1:
        raise ValueError(f"dim must be a positive integer, got {dim!r}")
    narrow = dim if narrow_coordinates is None else narrow_coordinates
    if int(narrow) != narrow or not 1 <= narrow <= dim:
        raise ValueError(
            f"narrow_coordinates must be an integer from 1 to dim = {dim}, "
            f"got {narrow_coordinates!r}"
        )
    ratios = _positive_finite("ratio", ratios)
    _positive_finite("broad_sd", broad_sd)
    sds = np.full((ratios.size, int(dim)), float(broad_sd))
    sds[:, : int(narrow)] /= ratios[:, None]
    return sds


def unequal_width(
    dim: int = 10,
    ratio: float = 10.0,
    narrow_coordinates: int | None = None,
    weights: str | float = "equal",
    separation: float = 6.0,
    prior_sd: float = 5.0,
    broad_sd: float = 1.0,
) -> GaussianMixtureTarget:
    r"""Two separated modes, one ``ratio`` times narrower in some coordinates.

    Mode 0 (``"broad"``) has likelihood centre :math:`+\tfrac{a}{2}\mathbf{1}` and sd
    ``broad_sd`` in every coordinate; mode 1 (``"narrow"``) has centre
    :math:`-\tfrac{a}{2}\mathbf{1}` and sd ``broad_sd / ratio`` in the first
    ``narrow_coordinates`` coordinates, ``broad_sd`` in the others (:math:`a` =
    ``separation``, prior :math:`\mathcal{N}(0, s_0^2 I_d)`). The likelihood weights are
    chosen so that the modes hold the requested posterior masses
    (:meth:`GaussianMixtureTarget.with_posterior_weights`).

    What it tests: tempering from the prior. At inverse temperature β the narrow mode's
    share of the tempered mass falls by about :math:`\text{ratio}^{-n(1-\beta)}` (n the
    narrowed coordinates), so below β = 1 the broad mode holds nearly all the mass and
    the tempered path has a first-order phase transition; parallel and simulated
    tempering mix torpidly on such mixtures (Woodard, Schmidler & Huber, Electron. J.
    Probab. 14, 780 (2009); weight-preserving tempering, Tawn, Roberts & Rosenthal,
    Stat. Comput. 30, 27 (2020), was built for them). With all 10 of 10 coordinates
    narrowed (the default) the narrow mode is also a needle: the region where it has the
    larger responsibility holds a negligible share of the prior. Narrowing
    fewer coordinates keeps the transition and makes the mode reachable by chance: with
    4 of 10 narrowed, about one replica-exchange chain in seven (default settings)
    reaches it, with 6 of 10 none in twenty did. The defaults give
    :math:`\log Z = -27.15`.

    Parameters
    ----------
    dim : int
        d.
    ratio : float
        Width ratio of the broad to the narrow mode in the narrowed coordinates.
    narrow_coordinates : int, optional
        How many coordinates (the first ones) are narrowed; default all.
    weights : "equal" or float
        ``"equal"`` (posterior mass 1/2 each) or the posterior mass of the narrow mode,
        in (0, 1).
    separation : float
        Distance between the two likelihood centres in each coordinate.
    prior_sd, broad_sd : float
        :math:`s_0` and the sd of the broad mode.

    Raises
    ------
    ValueError
        dim < 1, narrow_coordinates outside 1..dim, ratio, sds or separation not positive,
        or weights neither ``"equal"`` nor in (0, 1).
    """
    if isinstance(weights, str):
        if weights != "equal":
            raise ValueError(
                f"weights must be 'equal' or the narrow mode's posterior mass, got {weights!r}"
            )
        narrow_mass = 0.5
    else:
        narrow_mass = float(weights)
        if not 0 < narrow_mass < 1:
            raise ValueError(f"the narrow mode's posterior mass must be in (0, 1), got {weights}")
    sds = _narrow_sds(dim, [1.0, ratio], narrow_coordinates, broad_sd)
    half = float(_positive_finite("separation", separation)) / 2
    means = np.stack([np.full(int(dim), half), np.full(int(dim), -half)])
    return GaussianMixtureTarget.with_posterior_weights(
        prior_sd, means, sds, np.array([1 - narrow_mass, narrow_mass]), ("broad", "narrow")
    )


def three_modes(
    dim: int = 10,
    ratios: tuple[float, float, float] = (1.0, 3.0, 10.0),
    weights: tuple[float, float, float] = (0.5, 0.3, 0.2),
    narrow_coordinates: int | None = 4,
    separation: float = 6.0,
    prior_sd: float = 5.0,
    broad_sd: float = 1.0,
) -> GaussianMixtureTarget:
    r"""Three separated modes of different widths and posterior masses.

    Mode k has likelihood centre :math:`(k - 1)\, a\, \mathbf{1}` (:math:`a` =
    ``separation``: the modes lie at :math:`-a`, 0 and :math:`+a` in every coordinate)
    and sd ``broad_sd / ratios[k]`` in the first ``narrow_coordinates`` coordinates,
    ``broad_sd`` in the others; its posterior mass is ``weights[k]``. By default the
    modes are 1, 3 and 10 times narrower than the broad width in 4 of 10 coordinates and
    hold 0.5, 0.3 and 0.2 of the posterior: the narrowest mode holds the least mass.

    What it tests: the same phase transition as :func:`unequal_width`, now with an
    intermediate mode on the path and unequal masses, so a sampler must get three weights
    right, not one split. With 4 of 10 coordinates narrowed the narrow modes are
    reachable as in :func:`unequal_width`: a sampler should get them right, or flag its
    result.

    Raises
    ------
    ValueError
        As :func:`unequal_width`; ``ratios`` and ``weights`` need three positive values,
        the weights summing to 1.
    """
    ratios, weights = np.asarray(ratios, dtype=float), np.asarray(weights, dtype=float)
    if ratios.shape != (3,) or weights.shape != (3,):
        raise ValueError(
            f"ratios and weights need one value per mode (3), got {ratios.shape} and "
            f"{weights.shape}"
        )
    sds = _narrow_sds(dim, ratios, narrow_coordinates, broad_sd)
    step = float(_positive_finite("separation", separation))
    means = step * (np.arange(3)[:, None] - 1.0) * np.ones(int(dim))
    names = tuple("broad" if r == 1 else f"width 1/{r:g}" for r in ratios)
    return GaussianMixtureTarget.with_posterior_weights(prior_sd, means, sds, weights, names)


@dataclass(frozen=True, eq=False)
class GaussianShellTarget:
    r"""Two Gaussian shells under a uniform prior (Feroz, Hobson & Bridges 2009).

    .. math::

        p(\theta) = \prod_{i=1}^{d} \frac{\mathbb{1}[-b \le \theta_i \le b]}{2b}, \qquad
        L(\theta) = \sum_{j=1}^{2} \frac{1}{\sqrt{2\pi w^2}}
        \exp\!\left(-\frac{(\lVert\theta - c_j\rVert - r)^2}{2 w^2}\right),

    with centres :math:`c_{1,2} = (\mp c, 0, \dots, 0)`. When both shells lie inside the
    box and apart (checked: :math:`c + r + 5w \le b` and :math:`r + 5w \le c`), each
    shell integrates in polar coordinates to a moment of a normal density,

    .. math::

        Z = \frac{2}{(2b)^d}\, S_{d-1} \int_0^\infty \rho^{d-1}\,
        \mathcal{N}(\rho;\, r,\, w^2)\, d\rho, \qquad
        S_{d-1} = \frac{2\pi^{d/2}}{\Gamma(d/2)},

    and the integral is the raw moment :math:`E[\rho^{d-1}]`,
    :math:`\sum_{j\ \text{even}} \binom{d-1}{j} r^{d-1-j} w^j (j-1)!!`, of
    :math:`\mathcal{N}(r, w^2)`. The shells' mass below :math:`\rho = 0` and outside the
    box, which this leaves out, is negligible: the box's faces lie at least 5w beyond the
    shells, so in d = 2 it is below the mass beyond :math:`\rho = r + 5w`,
    :math:`4 \times 10^{-7}` of the total; in higher d the directions of a shell's mass
    concentrate near its equator, away from the face it could cross (the published values
    below are reproduced to their two decimals up to d = 30). Each shell holds posterior
    mass 1/2.

    Feroz, Hobson & Bridges, Mon. Not. R. Astron. Soc. 398, 1601 (2009), Table 1: with
    the defaults (b = 6, c = 3.5, r = 2, w = 0.1) :math:`\log Z` = −1.75, −5.67,
    −14.59, −36.09, −60.13 for d = 2, 5, 10, 20, 30. What it tests: thin curved
    degenerate modes, whose volume shrinks fast with d.

    Parameters
    ----------
    dimension : int
        d ≥ 2.
    centre, radius, width, half_width : float
        c, r, w and b.

    Raises
    ------
    ValueError
        d < 2, a length that is not positive, or shells that overlap or leave the box.
    """

    dimension: int
    centre: float = 3.5
    radius: float = 2.0
    width: float = 0.1
    half_width: float = 6.0

    def __post_init__(self) -> None:
        if int(self.dimension) != self.dimension or self.dimension < 2:
            raise ValueError(f"dimension must be an integer of at least 2, got {self.dimension!r}")
        for name in ("centre", "radius", "width", "half_width"):
            _positive_finite(name, getattr(self, name))
        c, r, w, b = self.centre, self.radius, self.width, self.half_width
        if c + r + 5 * w > b or r + 5 * w > c:
            raise ValueError(
                "the shells must lie inside the prior box and apart (c + r + 5 w <= b and "
                f"r + 5 w <= c), got c = {c}, r = {r}, w = {w}, b = {b}"
            )
        object.__setattr__(self, "dimension", int(self.dimension))

    #: The modes, in the order of :meth:`mode_of` (centre at -c, then +c).
    names = ("left shell", "right shell")
    #: Two shells.
    n_modes = 2

    @property
    def centres(self) -> np.ndarray:
        """The two shell centres, shape (2, d)."""
        centres = np.zeros((2, self.dimension))
        centres[:, 0] = [-self.centre, self.centre]
        return centres

    @property
    def log_evidence(self) -> float:
        r""":math:`\log Z`, exact (the closed form above)."""
        n, r, w = self.dimension - 1, self.radius, self.width
        moment = sum(
            np.exp(lgamma(n + 1) - lgamma(j + 1) - lgamma(n - j + 1))
            * r ** (n - j)
            * w**j
            * np.prod(np.arange(j - 1, 0, -2, dtype=float))
            for j in range(0, n + 1, 2)
        )
        log_sphere = np.log(2) + 0.5 * self.dimension * np.log(np.pi) - lgamma(self.dimension / 2)
        d, b = self.dimension, self.half_width
        return float(np.log(2) - d * np.log(2 * b) + log_sphere + np.log(moment))

    @property
    def mode_weights(self) -> np.ndarray:
        """Posterior mass of each shell: 1/2 each (the target is symmetric)."""
        return np.array([0.5, 0.5])

    def log_likelihood(self, theta: np.ndarray) -> np.ndarray:
        r""":math:`\log L(\theta)` of points with the d coordinates along the last axis."""
        return logsumexp(self._log_shells(theta), axis=-1)

    def _log_shells(self, theta: np.ndarray) -> np.ndarray:
        theta = _draw_values(theta, self.dimension)
        distance = np.linalg.norm(theta[..., None, :] - self.centres, axis=-1)
        w = self.width
        return -0.5 * (LOG_2PI + 2 * np.log(w)) - (distance - self.radius) ** 2 / (2 * w**2)

    def mode_of(self, draws: np.ndarray) -> np.ndarray:
        """Index of the shell of each draw (0 left, 1 right), as
        :meth:`GaussianMixtureTarget.mode_of`."""
        return np.argmax(self._log_shells(draws), axis=-1)

    def mode_fractions(self, idata: xr.DataTree, per_chain: bool = False) -> np.ndarray:
        """Fraction of a run's posterior draws in each shell, as
        :meth:`GaussianMixtureTarget.mode_fractions`."""
        return _mode_fractions(idata, self.mode_of, self.n_modes, per_chain)

    def model(self) -> pm.Model:
        """A ``pm.Model``: ``theta`` with its ``pm.Uniform`` prior, the likelihood the
        Potential ``shell_likelihood``."""
        w = self.width
        with pm.Model(coords={COORDINATE_DIM: np.arange(self.dimension)}) as model:
            b = np.float64(self.half_width)  # float64, as in GaussianMixtureTarget.model
            theta = pm.Uniform(VARIABLE, -b, b, dims=COORDINATE_DIM)
            distance = pt.sqrt(pt.sum((theta[None, :] - self.centres) ** 2, axis=1))
            log_shells = -0.5 * (LOG_2PI + 2 * np.log(w)) - (distance - self.radius) ** 2 / (
                2 * w**2
            )
            pm.Potential("shell_likelihood", pt.logsumexp(log_shells))
        return model


def gaussian_shell(dimension: int = 2, **options: float) -> GaussianShellTarget:
    """The Gaussian-shell benchmark of Feroz, Hobson & Bridges (2009) in ``dimension`` d.

    ``options`` (``centre``, ``radius``, ``width``, ``half_width``) change the published
    geometry; see :class:`GaussianShellTarget`.
    """
    return GaussianShellTarget(dimension, **options)


@dataclass(frozen=True, eq=False)
class EggBoxTarget:
    r"""The egg-box likelihood under a uniform prior (Feroz, Hobson & Bridges 2009).

    .. math::

        p(\theta) = \frac{\mathbb{1}[\theta \in [0, 10\pi]^2]}{(10\pi)^2}, \qquad
        \log L(\theta) = \left(2 + \cos\frac{\theta_1}{2}\cos\frac{\theta_2}{2}\right)^5.

    :math:`\log L` runs from 1 in the valleys to :math:`3^5 = 243` at the peaks, the points
    :math:`2\pi(k, l)` with :math:`k + l` even (:math:`k, l = 0, \dots, 5`); each peak has an
    sd of about :math:`\sqrt{4/405} \approx 0.1` per coordinate, 1 % of the spacing. On the
    prior's square there are 18 of them: 8 inside, 8 halved by an edge of the square and 2
    quartered in the corners :math:`(0, 0)` and :math:`(10\pi, 10\pi)`.

    **Evidence.** With :math:`u = \theta/2`, :math:`g(u) = \exp[(2 + \cos u_1 \cos u_2)^5]`
    is :math:`2\pi`-periodic in each coordinate, and shifting :math:`u_i` by :math:`\pi`
    flips the sign of :math:`\cos u_i`, which the reflection :math:`u_j \to \pi - u_j` of
    the other coordinate undoes; so every :math:`\pi \times \pi` square of
    :math:`[0, 5\pi]^2` has the same integral and

    .. math::

        Z = \frac{1}{(2\pi)^2} \int_0^{2\pi}\!\!\int_0^{2\pi} g(u)\, du_1\, du_2,

    the mean of :math:`g` over one period. The trapezoid rule on an :math:`n \times n`
    periodic grid converges geometrically for a smooth periodic integrand; at
    :data:`EGG_BOX_GRID` points per coordinate its :math:`\log Z` = 235.856 agrees with the
    rule at half the points to 1e-12 (checked when computed) and with SciPy's adaptive
    quadrature over the square (tests). Feroz, Hobson & Bridges, Mon. Not. R. Astron. Soc.
    398, 1601 (2009), Table 3, give 235.88 as the analytical value, 0.024 nats above.

    **Modes.** A point belongs to the nearest peak. The integrand is symmetric about every
    line :math:`\theta_i = 2\pi k` through a peak, so the nearest-peak cells of the inside
    peaks hold equal mass, an edge peak half of it and a corner peak a quarter: posterior
    masses 2/25, 1/25 and 1/50 (the 18 cells hold 8 + 8/2 + 2/4 = 12.5 units).

    What it tests: many sharp, well separated modes that a sampler must all find and weigh.
    """

    #: Side of the prior square, :math:`10\pi`.
    side = 10 * np.pi
    #: Two coordinates.
    dimension = 2

    @property
    def peaks(self) -> np.ndarray:
        """The 18 peaks :math:`2\\pi(k, l)`, :math:`k + l` even, ordered by k then l; shape
        (18, 2)."""
        first, second = np.meshgrid(np.arange(6), np.arange(6), indexing="ij")
        even = (first + second) % 2 == 0
        return 2 * np.pi * np.stack([first[even], second[even]], axis=-1).astype(float)

    @property
    def n_modes(self) -> int:
        """18 peaks."""
        return len(self.peaks)

    @property
    def names(self) -> tuple[str, ...]:
        """A name per peak, ``"peak (k, l)"`` at :math:`2\\pi(k, l)`."""
        return tuple(f"peak ({a:.0f}, {b:.0f})" for a, b in self.peaks / (2 * np.pi))

    @property
    def log_evidence(self) -> float:
        r""":math:`\log Z` by the periodic trapezoid rule (see above)."""
        return _egg_box_log_evidence(EGG_BOX_GRID)

    @property
    def mode_weights(self) -> np.ndarray:
        """Posterior mass of each peak: 2/25 inside, 1/25 on an edge, 1/50 in a corner."""
        on_edges = np.sum((self.peaks == 0) | np.isclose(self.peaks, self.side), axis=1)
        return (2 / 25) / 2.0**on_edges

    def log_likelihood(self, theta: np.ndarray) -> np.ndarray:
        r""":math:`\log L(\theta)` of points with the 2 coordinates along the last axis."""
        theta = _draw_values(theta, self.dimension)
        return (2 + np.cos(theta[..., 0] / 2) * np.cos(theta[..., 1] / 2)) ** 5

    def mode_of(self, draws: np.ndarray) -> np.ndarray:
        """Index of the nearest peak of each draw (in the order of :attr:`EggBoxTarget.peaks`)."""
        draws = _draw_values(draws, self.dimension)
        distance = np.sum((draws[..., None, :] - self.peaks) ** 2, axis=-1)
        return np.argmin(distance, axis=-1)

    def mode_fractions(self, idata: xr.DataTree, per_chain: bool = False) -> np.ndarray:
        """Fraction of a run's posterior draws at each peak, as
        :meth:`GaussianMixtureTarget.mode_fractions`."""
        return _mode_fractions(idata, self.mode_of, self.n_modes, per_chain)

    def model(self) -> pm.Model:
        """A ``pm.Model``: ``theta`` with its ``pm.Uniform`` prior on :math:`[0, 10\\pi]`,
        the log-likelihood the Potential ``egg_box_likelihood``."""
        with pm.Model(coords={COORDINATE_DIM: np.arange(self.dimension)}) as model:
            theta = pm.Uniform(VARIABLE, 0.0, np.float64(self.side), dims=COORDINATE_DIM)
            pm.Potential(
                "egg_box_likelihood", (2 + pt.cos(theta[0] / 2) * pt.cos(theta[1] / 2)) ** 5
            )
        return model


#: Points per coordinate of the periodic trapezoid rule for the egg-box evidence.
EGG_BOX_GRID = 800


def _egg_box_log_evidence(n: int) -> float:
    """log of the mean of exp[(2 + cos u cos v)^5] on an n x n periodic grid, checked against
    the rule at n/2 points."""

    def rule(points: int) -> float:
        cosine = np.cos(2 * np.pi * np.arange(points) / points)
        log_g = (2 + cosine[:, None] * cosine[None, :]) ** 5
        return float(logsumexp(log_g) - 2 * np.log(points))

    value, coarse = rule(n), rule(n // 2)
    if abs(value - coarse) > 1e-9:
        raise RuntimeError(f"the trapezoid rule has not converged: {coarse} at n/2, {value} at n")
    return value


def egg_box() -> EggBoxTarget:
    """The egg-box benchmark of Feroz, Hobson & Bridges (2009); see :class:`EggBoxTarget`."""
    return EggBoxTarget()
