r"""The PyMC model of the Λ model: the conjugate prior in chain coordinates, the likelihood in Λ.

Free ``conditional_precision`` (:math:`d`), ``coupling`` (:math:`\beta`) and
``coefficient`` (the free entries of :math:`G`, by default rotated onto the principal
axes of the data's :math:`\Phi^\top\Phi`, which leaves their isotropic prior unchanged)
with exactly the conjugate prior of :mod:`.conjugate`; deterministic ``G``,
``Lambda_yy``, ``Lambda_yx`` and ``W``. The likelihood is written in :math:`\Lambda`
(:math:`\mu = -\Lambda_{yy}^{-1}\Lambda_{yx}\phi`, covariance :math:`\Lambda_{yy}^{-1}`,
the inverse from the factors): every row contributes the marginal of its observed
targets, as successive univariate conditionals, all in one observed variable ``y``. The
graph uses no ``Dot`` or linear-algebra Op (numba compiles them very slowly); it still
takes 20–60 s to compile on a cold cache.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from ..parameters import Parameter, ParameterTable, Prior, PriorSpec, fixed_constant
from .algebra import observed_patterns
from .conjugate import ConjugatePrior, free_mask, resolve_features
from .table import SAMPLE, TARGETS, Basis, design

__all__ = [
    "DERIVED",
    "PARAMETERS",
    "VARIABLE",
    "add_likelihood",
    "add_priors",
    "build_model",
    "coupling_labels",
]

#: Name of the observed variable: every observed target value, one after the other.
VARIABLE = "y"

#: Parameter table of the PyMC model of the Λ model.
PARAMETERS = ParameterTable(
    (
        Parameter(
            "conditional_precision",
            "1/target²",
            Prior("Gamma", alpha=1.0, beta=1.5),
            "d_j, precision of target j given the earlier targets and φ (Λ_yy = TᵀDT); "
            "prior Gamma((ν₀−q+j)/2, rate ν₀σ₀ⱼ²/2), shown for j = 1, q = 2, ν₀ = 3, σ₀ = 1",
            ("target",),
            role="noise",
        ),
        Parameter(
            "coupling",
            "target/target",
            Prior("Normal", mu=0.0, sigma=1.0),
            "β_jk, regression of target j on an earlier target k (y_expt on y_comp); "
            "prior N(0, 1/(d_j ν₀ σ₀ₖ²)), shown for d_j ν₀ σ₀ₖ² = 1",
            ("target_pair",),
        ),
        Parameter(
            "coefficient",
            "target",
            Prior("Normal", mu=0.0, sigma=100.0),
            "free entries of G = TW (structural zeros left out), by default rotated onto "
            "the principal axes of ΦᵀΦ; prior N(0, 1/(d_j κ)), shown for d_j κ = 10⁻⁴",
            ("free_coefficient",),
        ),
    )
)


def coupling_labels(targets: Sequence[str]) -> list[str]:
    """Labels ``"<target j>~<target k>"`` of the couplings β_jk, k < j (dim ``target_pair``)."""
    return [f"{targets[j]}~{targets[k]}" for j in range(len(targets)) for k in range(j)]


def _rotation(gram: np.ndarray | None, columns: np.ndarray) -> np.ndarray:
    """Orthogonal matrix of the principal axes of ``gram[columns, columns]`` (identity if None)."""
    if gram is None:
        return np.eye(columns.size)
    _, vectors = np.linalg.eigh(np.asarray(gram, float)[np.ix_(columns, columns)])
    return vectors[:, ::-1]


def _free_layout(q: int, p: int, discrepancy, gram):
    """Constant maps of the free coefficients: G.ravel() = R v, and the target of each."""
    mask = free_mask(q, p, discrepancy)
    blocks = [np.flatnonzero(mask[j]) for j in range(q)]
    n_free = int(mask.sum())
    scatter = np.zeros((q * p, n_free))
    owner = np.zeros(n_free, int)
    start = 0
    for j, columns in enumerate(blocks):
        stop = start + columns.size
        scatter[j * p + columns, start:stop] = _rotation(gram, columns)
        owner[start:stop] = j
        start = stop
    return mask, scatter, owner


def _matmul(a, b):
    """Matrix product as a broadcast multiply and sum.

    The graphs here are tiny, and numba compiles ``Dot`` very slowly (about 40 s cold),
    so the PyMC model uses no ``Dot`` at all.
    """
    return (a[:, :, None] * b[None, :, :]).sum(axis=1)


def _power_series_inverse(beta, q: int):
    r""":math:`T^{-1} = (I - B)^{-1} = \sum_{k<q} B^k` for strictly lower triangular B."""
    inverse = term = pt.eye(q)
    for _ in range(q - 1):
        term = _matmul(term, beta)
        inverse = inverse + term
    return inverse


#: Quantities :func:`add_priors` returns besides the parameters: ``G`` = TW,
#: ``Lambda_yy``, ``Lambda_yx``, ``W`` (deterministics) and ``Sigma`` = Λ_yy⁻¹ (a graph).
DERIVED = ("G", "Lambda_yy", "Lambda_yx", "W", "Sigma")


def _parameter(
    name: str,
    conjugate: object,
    shape: tuple[int, ...],
    priors: Mapping[str, PriorSpec],
    fixed: Mapping[str, object],
    prefix: str,
):
    """The parameter ``name``: fixed, an overridden prior, or the conjugate prior (a callable)."""
    if name in fixed:
        return fixed_constant(name, fixed[name], shape)
    if name in priors:
        spec = priors[name]
        create = spec.create if isinstance(spec, Prior) else spec
        return create(prefix + name, PARAMETERS[name].dims)
    return conjugate()


def add_priors(
    data: xr.Dataset | None = None,
    *,
    basis: Basis | None = None,
    discrepancy_features: Sequence[int | str] | None = None,
    targets: Sequence[str] = TARGETS,
    conjugate_prior: ConjugatePrior | None = None,
    rotate: bool = True,
    priors: Mapping[str, PriorSpec] | None = None,
    fixed: Mapping[str, object] | None = None,
    prefix: str = "",
    names: Sequence[str] | None = None,
) -> dict[str, pt.TensorVariable]:
    r"""Add the conjugate prior in chain coordinates and the Λ blocks to the current model.

    Parameters
    ----------
    data : xarray.Dataset
        The assimilation data (required: their descriptors name the features, and their
        :math:`\Phi^\top\Phi` sets the axes of the coefficients).
    basis : Basis, optional
        Descriptor features (default cubic polynomial).
    discrepancy_features : sequence of str or int, optional
        Features kept in the last target's row of :math:`\Lambda_{yx}` (the others are
        structural zeros); None: unrestricted.
    targets : sequence of str
        Target variables, the restricted one last.
    conjugate_prior : ConjugatePrior, optional
        Hyperparameters (default :class:`ConjugatePrior` ()).
    rotate : bool
        Sample each target's free coefficients in the principal axes of the data's
        :math:`\Phi^\top\Phi`: :math:`G_{jF} = Q_j v_j`. The prior
        :math:`N(0, (d_j\kappa)^{-1}I)` is isotropic, so the model is unchanged; the
        posterior of v is far less correlated (monomials on [0, 1] are nearly
        collinear), which NUTS and random-walk replica exchange need.
    priors : mapping, optional
        Overrides of the conjugate prior of ``conditional_precision``, ``coupling`` or
        ``coefficient`` (a :class:`~measurement_models.parameters.Prior` or a callable
        ``f(name, dims)``); the model is then no longer conjugate.
    fixed : mapping, optional
        Parameters held at a value (``conditional_precision`` positive).
    prefix : str
        Prepended to every variable name.
    names : sequence of str, optional
        None, or names that include all of ``PARAMETERS.names`` (and possibly those of
        :data:`DERIVED`): the parameters only make sense together.

    Returns
    -------
    dict
        Free ``conditional_precision``, ``coupling``, ``coefficient`` (v); deterministic
        ``G``, ``Lambda_yy``, ``Lambda_yx``, ``W``, and ``Sigma`` = :math:`\Lambda_{yy}^{-1}`
        (a graph; :math:`T^{-1}D^{-1}T^{-\top}`).

    Raises
    ------
    ValueError
        No data, bad data, unknown discrepancy features, a prior or fixed value for an
        unknown parameter, a non-positive fixed precision, ``names`` without all the
        parameters.
    """
    if names is not None and not (
        set(PARAMETERS.names) <= set(names) <= set(PARAMETERS.names) | set(DERIVED)
    ):
        raise ValueError(f"the Λ model's parameters come together: {PARAMETERS.names}")
    if data is None:
        raise ValueError(
            "the Λ model's priors need the data: their descriptors name the features and "
            "their ΦᵀΦ sets the axes of the coefficients"
        )
    priors, fixed = dict(priors or {}), dict(fixed or {})
    for what, given in (("prior", priors), ("fixed value", fixed)):
        unknown = sorted(set(given) - set(PARAMETERS.names))
        if unknown:
            raise ValueError(
                f"{what} given for unknown parameter(s) {unknown}; known: {PARAMETERS.names}"
            )
    if "conditional_precision" in fixed and np.any(
        np.asarray(fixed["conditional_precision"], dtype=float) <= 0
    ):
        raise ValueError(
            f"fixed conditional_precision must be positive, got {fixed['conditional_precision']!r}"
        )
    basis = basis or Basis()
    phi, _, feature_names = design(data, basis, targets)
    gram = phi.T @ phi if rotate else None
    conjugate_prior = conjugate_prior or ConjugatePrior()
    q, p = len(targets), len(feature_names)
    sigma0, nu0 = conjugate_prior.resolve(q)
    shapes, rates = conjugate_prior.gamma(q)
    discrepancy = resolve_features(discrepancy_features, feature_names)
    if discrepancy is not None and q < 2:
        raise ValueError("structural zeros need at least two targets")
    mask, scatter, owner = _free_layout(q, p, discrepancy, gram)
    pair_j, pair_k = np.tril_indices(q, -1)
    pairs = np.zeros((q * q, pair_j.size))
    pairs[pair_j * q + pair_k, np.arange(pair_j.size)] = 1.0
    rows, cols = np.nonzero(mask)
    axis = "axis" if gram is not None else ""
    model = pm.modelcontext(None)
    coords = {
        "target": list(targets),
        "target_": list(targets),
        "feature": list(feature_names),
        "target_pair": coupling_labels(targets),
        "free_coefficient": [
            f"{targets[r]}:{axis}{i}" if axis else f"{targets[r]}:{feature_names[c]}"
            for i, (r, c) in enumerate(zip(rows, cols, strict=True))
        ],
    }
    for dim, values in coords.items():
        if dim not in model.coords:
            model.add_coord(dim, values)
    d = _parameter(
        "conditional_precision",
        lambda: pm.Gamma(f"{prefix}conditional_precision", alpha=shapes, beta=rates, dims="target"),
        (q,),
        priors,
        fixed,
        prefix,
    )
    beta_free = _parameter(
        "coupling",
        lambda: pm.Normal(
            f"{prefix}coupling",
            mu=0.0,
            sigma=1 / pt.sqrt(d[pair_j] * nu0 * sigma0[pair_k] ** 2),
            dims="target_pair",
        ),
        (pair_j.size,),
        priors,
        fixed,
        prefix,
    )
    coefficient = _parameter(
        "coefficient",
        lambda: pm.Normal(
            f"{prefix}coefficient",
            mu=0.0,
            sigma=1 / pt.sqrt(d[owner] * conjugate_prior.feature_precision),
            dims="free_coefficient",
        ),
        (rows.size,),
        priors,
        fixed,
        prefix,
    )
    g = pm.Deterministic(
        f"{prefix}G",
        (scatter * coefficient[None, :]).sum(axis=1).reshape((q, p)),
        dims=("target", "feature"),
    )
    beta = (
        (pairs * beta_free[None, :]).sum(axis=1).reshape((q, q))
        if pair_j.size
        else pt.zeros((q, q))
    )
    t = pt.eye(q) - beta
    tt_d = t.T * d[None, :]
    t_inv = _power_series_inverse(beta, q)
    lambda_yy = pm.Deterministic(f"{prefix}Lambda_yy", _matmul(tt_d, t), dims=("target", "target_"))
    lambda_yx = pm.Deterministic(
        f"{prefix}Lambda_yx", -_matmul(tt_d, g), dims=("target", "feature")
    )
    w = pm.Deterministic(f"{prefix}W", _matmul(t_inv, g), dims=("target", "feature"))
    return {
        "conditional_precision": d,
        "coupling": beta_free,
        "coefficient": coefficient,
        "G": g,
        "Lambda_yy": lambda_yy,
        "Lambda_yx": lambda_yx,
        "W": w,
        "Sigma": _matmul(t_inv / d[None, :], t_inv.T),
    }


def _no_sigma(sigma) -> None:
    if sigma is not None:
        raise ValueError(
            f"the Λ model estimates its noise covariance Λ_yy⁻¹ (conditional_precision, "
            f"coupling): sigma must be None, got {sigma!r}; hold the noise with "
            "fixed={'conditional_precision': ...}"
        )


def add_likelihood(
    data: xr.Dataset,
    params: Mapping[str, pt.TensorVariable],
    *,
    sigma: None = None,
    name: str = VARIABLE,
    basis: Basis | None = None,
    targets: Sequence[str] = TARGETS,
    mutable_data: bool = False,
) -> pt.TensorVariable:
    r"""Add the exact likelihood, written in Λ, as one observed variable ``name``.

    Rows observing the targets :math:`o` follow :math:`N(\mu_o, \Sigma_{oo})` with
    :math:`\mu = -\Sigma\Lambda_{yx}\phi` and :math:`\Sigma = \Lambda_{yy}^{-1}`
    (``params["Sigma"]`` if given, else inverted here); a missing target is thereby
    integrated out. Each row's observed targets are written as successive univariate
    conditionals (unrolled Cholesky factor of :math:`\Sigma_{oo}`), so all observed
    values form one ``pm.Normal`` on the dim ``<name>_observation``, labelled
    ``"<sample>:<target>"`` (grouped by pattern, the row's targets in order).

    Parameters
    ----------
    data : xarray.Dataset
        The assimilation data.
    params : mapping
        ``Lambda_yx`` and ``Sigma`` (or ``Lambda_yy``), as :func:`add_priors` returns.
    sigma : None
        Must be None: the noise covariance is :math:`\Lambda_{yy}^{-1}`, a parameter.
    name : str
        Name of the observed variable.
    basis : Basis, optional
        Descriptor features (default cubic polynomial).
    targets : sequence of str
        Target variables.
    mutable_data : bool
        Put the features (``<name>_features``) and the observed values
        (``<name>_observed``) in ``pm.Data``, so that new values at as many rows with
        the same pattern of missing targets share the compiled model.

    Raises
    ------
    ValueError
        Bad data, or a ``sigma``.
    """
    _no_sigma(sigma)
    basis = basis or Basis()
    phi, y, _ = design(data, basis, targets)
    patterns = sorted(observed_patterns(y).items())
    lambda_yx = params["Lambda_yx"]
    sigma = params["Sigma"] if "Sigma" in params else pt.linalg.inv(params["Lambda_yy"])
    w = -_matmul(sigma, lambda_yx)
    features = pm.Data(f"{name}_features", phi) if mutable_data else None
    observed = np.concatenate([y[rows, j] for obs, rows in patterns for j in obs])
    observed_data = pm.Data(f"{name}_observed", observed) if mutable_data else None
    sample = data[SAMPLE].values
    means, sds, values, labels = [], [], [], []
    start = 0
    for obs, rows in patterns:
        rows_phi = pt.as_tensor_variable(phi[rows]) if features is None else features[rows]
        mean = _matmul(rows_phi, w.T)
        chol: dict[tuple[int, int], pt.TensorVariable] = {}
        white = []
        for a, j in enumerate(obs):
            for b in range(a):
                total = sigma[j, obs[b]] - sum(chol[a, c] * chol[b, c] for c in range(b))
                chol[a, b] = total / chol[b, b]
            chol[a, a] = pt.sqrt(sigma[j, j] - sum(chol[a, c] ** 2 for c in range(a)))
            cond_mean = mean[:, j] + sum(chol[a, b] * white[b] for b in range(a))
            means.append(cond_mean)
            sds.append(pt.ones(rows.size) * chol[a, a])
            values.append(y[rows, j])
            labels += [f"{s}:{targets[j]}" for s in sample[rows]]
            block = (
                y[rows, j] if observed_data is None else observed_data[start : start + rows.size]
            )
            white.append((block - cond_mean) / chol[a, a])
            start += rows.size
    model = pm.modelcontext(None)
    dim = f"{name}_observation"
    if dim not in model.coords:
        model.add_coord(dim, labels)
    return pm.Normal(
        name,
        mu=pt.concatenate(means),
        sigma=pt.concatenate(sds),
        observed=np.concatenate(values) if observed_data is None else observed_data,
        dims=dim,
    )


def build_model(
    data: xr.Dataset,
    *,
    basis: Basis | None = None,
    discrepancy_features: Sequence[int | str] | None = None,
    targets: Sequence[str] = TARGETS,
    conjugate_prior: ConjugatePrior | None = None,
    rotate: bool = True,
    priors: Mapping[str, PriorSpec] | None = None,
    sigma: None = None,
    fixed: Mapping[str, object] | None = None,
    mutable_data: bool = False,
    prefix: str | None = None,
) -> pm.Model:
    r"""PyMC model of the Λ model with the conjugate prior (see the package docstring).

    Parameters
    ----------
    data : xarray.Dataset
        From :func:`~measurement_models.data_assimilation.table.make_data` /
        :func:`~measurement_models.data_assimilation.table.simulate` (NaN marks a missing
        target).
    basis : Basis, optional
        Descriptor features (default cubic polynomial).
    discrepancy_features : sequence of str or int, optional
        Features kept in the last target's row of Λ_yx (``["1"]``: Harashima et al.'s
        demo, the experiment is the calculation times β plus a constant); None:
        unrestricted.
    targets : sequence of str
        Target variables, the restricted one last.
    conjugate_prior : ConjugatePrior, optional
        Hyperparameters (default :class:`ConjugatePrior` ()).
    rotate : bool
        Sample the coefficients in the principal axes of the data's :math:`\Phi^\top\Phi`
        (:func:`add_priors`; same model, better geometry). ``G`` holds them per feature.
    priors : mapping, optional
        Overrides of the conjugate prior (see :func:`add_priors`).
    sigma : None
        Must be None (the noise covariance is a parameter).
    fixed : mapping, optional
        Parameters held at a value instead of sampled.
    mutable_data : bool
        Features and observed values in ``pm.Data`` (see :func:`add_likelihood`).
    prefix : str, optional
        Prepended to every variable name.

    Returns
    -------
    pymc.Model
    """
    _no_sigma(sigma)
    basis = basis or Basis()
    prefix = prefix or ""
    with pm.Model() as model:
        params = add_priors(
            data,
            basis=basis,
            discrepancy_features=discrepancy_features,
            targets=targets,
            conjugate_prior=conjugate_prior,
            rotate=rotate,
            priors=priors,
            fixed=fixed,
            prefix=prefix,
        )
        add_likelihood(
            data,
            params,
            name=prefix + VARIABLE,
            basis=basis,
            targets=targets,
            mutable_data=mutable_data,
        )
    return model
