r"""Where the tempered path starts: a normalised reference distribution other than the prior.

With the prior as the start of the path, level :math:`\beta` targets
:math:`\varphi(x)\,p(D|x)^\beta`. A mode that holds half of the posterior mass but is
much narrower than another holds almost none of the mass of :math:`\varphi\,p(D|x)^\beta`
for :math:`\beta < 1` (by a factor :math:`(s_\text{broad}/s_\text{narrow})^{d(1-\beta)}`):
the path has a first-order phase transition, no replica carries that mode up the
ladder, and the free energy is too high by up to :math:`\log 2` with a small MCSE
(Woodard, Schmidler & Huber, Electron. J. Probab. 14, 780 (2009)).

Starting instead from a normalised density :math:`q` that already holds every mode with
about its posterior weight removes the transition. The path (Surjanovic, Syed,
Bouchard-Côté & Campbell, "Parallel tempering with a variational reference", NeurIPS
2022) is

.. math::

    \pi_\beta(x) \propto q(x)^{1-\beta}\,\bigl[\varphi(x)\,p(D|x)\bigr]^{\beta}
    = q(x)\, e^{\beta\,\tilde\ell(x)}, \qquad
    \tilde\ell(x) = \log\varphi(x) + \ell(x) - \log q(x),

which has the shape of the prior path with :math:`\varphi \to q` and
:math:`\ell \to \tilde\ell`. Since :math:`\int q = 1`,

.. math::

    \log p(D) = \log \int q\, e^{\tilde\ell} = \log Z_q + \sum_l
    \log\frac{Z(\beta_{l+1})}{Z(\beta_l)}, \qquad \log Z_q = 0,

and every estimator of :mod:`samplers.evidence.thermodynamic` applies unchanged to
:math:`\tilde\ell` (which the run records as ``replica_log_likelihood``). The kernel
draws level 0 exactly from :math:`q` (an independence proposal, always accepted inside
the model's support), so the reference level mixes over every component at once.

:class:`GaussianMixtureReference` is the reference: Gaussians in PyMC's unconstrained
space,

.. math::

    q(x) = \sum_{k} w_k\, \mathcal N(x;\, m_k, S_k),

whose components come from :func:`modes_reference` (one per mode of a census, with its
Laplace mean and covariance, as in the annealed leap-point sampler of Tawn, Moores &
Roberts (2021), and weights from the Laplace masses) or :func:`variational_reference`
(one Gaussian fitted to draws at :math:`\beta = 1`, the Gaussian family of Surjanovic
et al.). Both keep a *broad* component fitted to draws of the prior, with weight
:data:`BROAD_WEIGHT`: where the fit misses part of the posterior (a mode the census did
not find, a posterior far from Gaussian) that component keeps the prior path's way of
reaching it (defensive mixture importance sampling, Hesterberg, Technometrics 37, 185
(1995)); Surjanovic et al. stabilise instead with a second, prior-referenced ladder.

Level 0 targets :math:`q` restricted to where the model's density is finite (as the
prior level does on the prior path); for models whose free variables PyMC maps onto
the whole real line, which is every model without hard constraints in Potentials, that
is all of :math:`q`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import xarray as xr
from scipy.special import logsumexp

from .gradient_moves import GRADIENT_UPDATES

__all__ = [
    "BROAD_WEIGHT",
    "REFERENCES",
    "GaussianMixtureReference",
    "ReferencedDensity",
    "check_update",
    "modes_reference",
    "variational_reference",
]

#: The path's starting distributions, by the name ``reference=`` takes.
REFERENCES = ("prior", "variational", "modes")
#: Weight of the broad, prior-like component of every fitted reference.
BROAD_WEIGHT = 0.1
#: Relative jitter added to the diagonal of a covariance that is not positive definite.
JITTER = 1e-9


class GaussianMixtureReference:
    r"""A mixture of Gaussians in PyMC's unconstrained space: :math:`q(x) = \sum_k w_k
    \mathcal N(x; m_k, S_k)`, normalised, with exact draws.

    Parameters
    ----------
    means : array_like, shape (K, d)
    covariances : array_like, shape (K, d, d)
        Symmetric positive definite.
    weights : array_like, shape (K,)
        Positive; normalised here.
    kind : str
        What the reference was built from (``"variational"`` or ``"modes"``), for the
        record.

    Raises
    ------
    ValueError
        Shapes that disagree, non-finite values, weights that are not positive, or a
        covariance that is not positive definite.
    """

    def __init__(self, means, covariances, weights, kind: str = "mixture") -> None:
        means = np.atleast_2d(np.asarray(means, dtype=float))
        covariances = np.asarray(covariances, dtype=float)
        weights = np.atleast_1d(np.asarray(weights, dtype=float))
        k, d = means.shape
        if covariances.shape != (k, d, d) or weights.shape != (k,):
            raise ValueError(
                f"a mixture of {k} components in {d} dimensions needs covariances of shape "
                f"{(k, d, d)} and weights of shape {(k,)}, got {covariances.shape} and "
                f"{weights.shape}"
            )
        for name, array in (("means", means), ("covariances", covariances), ("weights", weights)):
            if not np.all(np.isfinite(array)):
                raise ValueError(f"the reference's {name} are not all finite")
        if np.any(weights <= 0):
            raise ValueError(f"the reference's weights must be positive, got {weights}")
        chol = np.empty_like(covariances)
        for i, matrix in enumerate(covariances):
            try:
                chol[i] = np.linalg.cholesky((matrix + matrix.T) / 2)
            except np.linalg.LinAlgError:
                raise ValueError(
                    f"covariance {i} of the reference is not positive definite"
                ) from None
        self.means, self.covariances, self.kind = means, covariances, str(kind)
        self.weights = weights / weights.sum()
        self.chol = chol
        self._inverse_chol = np.linalg.inv(chol)
        self._log_norm = (
            np.log(self.weights)
            - np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)
            - d / 2 * np.log(2 * np.pi)
        )

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    def log_density(self, x: np.ndarray) -> np.ndarray:
        r""":math:`\log q(x)` of every row of ``x`` (shape ``(n, d)``)."""
        x = np.atleast_2d(np.asarray(x, dtype=float))
        z = np.einsum("kij,nkj->nki", self._inverse_chol, x[:, None, :] - self.means)
        return logsumexp(self._log_norm - 0.5 * np.einsum("nki,nki->nk", z, z), axis=1)

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        """One exact draw (shape ``(d,)``)."""
        k = rng.choice(self.weights.size, p=self.weights)
        return self.means[k] + self.chol[k] @ rng.standard_normal(self.dim)

    def to_dataset(self, labels: Sequence[str] | None = None) -> xr.Dataset:
        """The reference as a Dataset (``component``, ``coordinate``), for a result."""
        labels = list(labels) if labels is not None else list(range(self.dim))
        return xr.Dataset(
            {
                "weight": ("component", self.weights),
                "mean": (("component", "coordinate"), self.means),
                "covariance": (("component", "coordinate", "coordinate_bis"), self.covariances),
            },
            coords={"coordinate": labels, "coordinate_bis": labels},
            attrs={
                "kind": self.kind,
                "space": "PyMC's unconstrained (transformed) values",
                "definition": "q(x) = sum_k weight_k N(x; mean_k, covariance_k)",
            },
        )

    @classmethod
    def from_dataset(cls, dataset: xr.Dataset) -> GaussianMixtureReference:
        return cls(
            dataset["mean"].values,
            dataset["covariance"].values,
            dataset["weight"].values,
            kind=dataset.attrs.get("kind", "mixture"),
        )


def _moments(draws: np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of draws (n, d), made positive definite."""
    draws = np.asarray(draws, dtype=float)
    if draws.ndim != 2 or draws.shape[0] < 2 or not np.all(np.isfinite(draws)):
        raise ValueError(f"{what} must be a finite array of shape (n >= 2, d), got {draws.shape}")
    mean = draws.mean(axis=0)
    covariance = np.atleast_2d(np.cov(draws, rowvar=False))
    scale = np.maximum(np.diag(covariance), 1e-12)
    covariance = covariance + np.diag(JITTER * scale)
    if np.any(np.linalg.eigvalsh(covariance) <= 0):  # fewer draws than dimensions
        covariance = np.diag(scale)
    return mean, covariance


def variational_reference(
    posterior_draws: np.ndarray, prior_draws: np.ndarray, broad_weight: float = BROAD_WEIGHT
) -> GaussianMixtureReference:
    r"""One Gaussian fitted to draws at :math:`\beta = 1`, plus the broad component.

    .. math::

        q = (1 - \epsilon)\,\mathcal N(\hat m, \hat S) + \epsilon\,
        \mathcal N(\hat m_\varphi, \hat S_\varphi),

    the moments of ``posterior_draws`` and of ``prior_draws`` (:math:`\epsilon` =
    ``broad_weight``). The Gaussian moment-matched to the target is the fixed point of
    the forward-KL variational fit of Surjanovic et al. (NeurIPS 2022).

    Parameters
    ----------
    posterior_draws, prior_draws : ndarray, shape (n, d)
        In PyMC's unconstrained raveled space.
    broad_weight : float
        In (0, 1).
    """
    _check_weight(broad_weight)
    mean, covariance = _moments(posterior_draws, "posterior_draws")
    broad_mean, broad_covariance = _moments(prior_draws, "prior_draws")
    return GaussianMixtureReference(
        [mean, broad_mean],
        [covariance, broad_covariance],
        [1 - broad_weight, broad_weight],
        kind="variational",
    )


def modes_reference(
    census: xr.Dataset, prior_draws: np.ndarray, broad_weight: float = BROAD_WEIGHT
) -> GaussianMixtureReference:
    r"""One Gaussian per mode of a census, at its Laplace weight, plus the broad component.

    .. math::

        q = (1 - \epsilon) \sum_m W_m\, \mathcal N(x_m, H_m^{-1}) + \epsilon\,
        \mathcal N(\hat m_\varphi, \hat S_\varphi),

    over the modes of :func:`samplers.evidence.modes.mode_census` that have a Laplace
    mass (:math:`W_m` their Laplace weights, :math:`x_m` and :math:`H_m^{-1}` their
    points and Laplace covariances).

    Raises
    ------
    ValueError
        If the census found no mode with a Laplace mass, or found symmetric copies of a
        mode (relabellings of exchangeable components): the posterior then has copies the
        census did not list, which the reference would leave out; order the labels (an
        ordered transform) or keep the prior reference.
    """
    _check_weight(broad_weight)
    weights = census["laplace_weight"].values
    usable = np.flatnonzero(np.isfinite(weights) & (weights > 0))
    if usable.size == 0:
        raise ValueError("the mode census found no mode with a Laplace mass")
    classes = census["mode_class"].values[usable]
    if np.unique(classes).size < classes.size:
        raise ValueError(
            "the mode census found symmetric copies of a mode (exchangeable labels, e.g. "
            "peaks that can swap), so the posterior has copies it did not list; a mode "
            "reference would leave them out. Order the labels (pm.distributions.transforms."
            "ordered) or use reference='prior'"
        )
    broad_mean, broad_covariance = _moments(prior_draws, "prior_draws")
    means = [*census["point"].values[usable], broad_mean]
    covariances = [*census["laplace_covariance"].values[usable], broad_covariance]
    mode_weights = (1 - broad_weight) * weights[usable] / weights[usable].sum()
    return GaussianMixtureReference(means, covariances, [*mode_weights, broad_weight], kind="modes")


def check_update(update: str) -> None:
    """Refuse a fitted reference with a gradient update (MALA, HMC): those moves do not
    draw level 0 exactly from the reference yet, so a mixture reference would not mix
    over its components.

    Raises
    ------
    ValueError
        If ``update`` is a gradient update.
    """
    if update in GRADIENT_UPDATES:
        raise ValueError(
            f"update={update!r} cannot start the path from a reference yet (its moves do not "
            "draw the reference level exactly); use a random-walk update (componentwise, "
            "block or adaptive) or reference='prior'"
        )


def _check_weight(broad_weight: float) -> None:
    if not 0 < broad_weight < 1:
        raise ValueError(f"broad_weight must be in (0, 1), got {broad_weight!r}")


class ReferencedDensity:
    r"""A batched ``X -> (log_prior, log_likelihood)`` density re-split for a reference:
    ``X -> (log q, log φ + ℓ - log q)`` (:math:`\log q` and :math:`\tilde\ell`).

    Parameters
    ----------
    density : callable
        The model's batched density
        (:class:`~samplers.replica_exchange.tempered_density.TemperedDensity`); its
        ``vectorized``, ``dim`` and ``dtype`` are passed on.
    reference : GaussianMixtureReference
    """

    def __init__(
        self,
        density: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
        reference: GaussianMixtureReference,
    ) -> None:
        if reference.dim != density.dim:
            raise ValueError(
                f"the reference has {reference.dim} coordinates, the model {density.dim}"
            )
        self.density, self.reference = density, reference
        self.vectorized, self.dim, self.dtype = density.vectorized, density.dim, density.dtype

    def __call__(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        log_prior, log_lik = self.density(x)
        log_q = self.reference.log_density(x)
        with np.errstate(invalid="ignore"):
            return log_q, np.asarray(log_prior) + np.asarray(log_lik) - log_q
