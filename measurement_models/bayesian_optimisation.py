r"""The Λ model with missing targets: Gibbs sampling, Chib's evidence, Bayesian optimisation.

Gibbs sampling with data augmentation (exact, cheap). In chain coordinates
(:mod:`measurement_models.data_assimilation`) the conjugate prior and the likelihood of
*complete* rows factorise into q Normal–Gamma regressions, :math:`y_j` on
:math:`(\phi_{F_j}, y_{<j})`. A missing target is therefore imputed only where a later
target of the same row is observed (it is then a covariate), from its Gaussian
conditional given the row's observed targets; a missing target with no later one observed
is integrated out simply by leaving the row out of the later regressions. One sweep:

1. impute :math:`y_\text{mis} \sim p(y_\text{mis} \mid y_\text{obs}, \theta)` row by row;
2. draw every regression's :math:`(d_j, \theta_j)` from its Normal–Gamma posterior given
   the completed rows (:math:`C = C^0 + \sum zz^\top` over the rows it uses).

Chib's estimate of the evidence. For any :math:`\theta^*`,
:math:`\log p(D) = \log p(D\mid\theta^*) + \log p(\theta^*) - \log p(\theta^*\mid D)`, and
:math:`p(\theta^*\mid D) = E_{y_\text{mis}\mid D}\,p(\theta^*\mid D, y_\text{mis})`, an
average of closed-form Normal–Gamma densities over the Gibbs imputations (Chib, JASA 90,
1313 (1995)). The likelihood is the exact marginal
(:func:`measurement_models.data_assimilation.log_likelihood`).

Bayesian optimisation (seed 004's material search, its last slides). Model A
(calculation, cheap, small noise) and model B (experiment, costly, larger noise) share a
shape: :math:`y_B = \beta y_A + R(x)` with :math:`R` in a few features. Each iteration
proposes the next experiment at the maximum of a Thompson draw of B's predictor and
``calculations_per_iteration`` calculations where A's predictive variance
:math:`\propto \phi^\top(\kappa I + \Phi_A^\top\Phi_A)^{-1}\phi` is largest (greedy, the
variance updated after each pick; in the conjugate model it does not depend on the
values measured). "Experiment only" fits B alone (a q = 1 conjugate regression with the
same basis) and proposes experiments the same way. :func:`optimise` counts the
experiments until one lands within ``tolerance`` × (range of B) of B's maximum.

Checked (``tests/measurement_models/test_data_assimilation.py``): Gibbs draws on complete
data against the exact conjugate posterior; Gibbs posterior moments with missing targets
and Chib's evidence against an independent computation (the coefficients integrated
analytically, the noise parameters by Monte Carlo over the prior); Chib's estimate with
complete data against the closed form.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import xarray as xr
from scipy import special

from . import data_assimilation as da

__all__ = [
    "BOProblem",
    "GibbsSampler",
    "bo_problem",
    "chib_log_evidence",
    "optimise",
]


def _gamma_logpdf(x, shape, rate):
    return shape * np.log(rate) + (shape - 1) * np.log(x) - rate * x - special.gammaln(shape)


def _normal_logpdf(x, mean, precision_chol_logdet, quad):
    """log N given the log-determinant of the precision's Cholesky factor and the quadratic form."""
    return -0.5 * x.size * np.log(2 * np.pi) + precision_chol_logdet - 0.5 * quad


def normal_gamma_logpdf(reg: da.Regression, d: float, theta: np.ndarray) -> float:
    """log density of (d, θ) under a Normal–Gamma regression posterior (or prior)."""
    r = theta - reg.mean
    precision = d * reg.omega
    chol = np.linalg.cholesky(precision)
    return float(
        _gamma_logpdf(d, reg.shape, reg.rate)
        + _normal_logpdf(r, None, np.log(np.diag(chol)).sum(), r @ precision @ r)
    )


@dataclass
class GibbsResult:
    """Draws of one or more Gibbs chains.

    Attributes
    ----------
    d, beta, g : ndarray
        Shapes (chain, draw, q), (chain, draw, q, q), (chain, draw, q, p).
    regressions : list
        Per kept draw (flattened over chains), the q Normal–Gamma conditional posteriors
        (for Chib's estimate), if recorded.
    state : dict
        The last state (to continue sampling, e.g. after adding data).
    """

    d: np.ndarray
    beta: np.ndarray
    g: np.ndarray
    regressions: list = field(default_factory=list)
    state: dict = field(default_factory=dict)


class GibbsSampler:
    """Gibbs sampling with data augmentation for the Λ model with missing targets.

    Parameters
    ----------
    data : xarray.Dataset
        As for :func:`measurement_models.data_assimilation.build_model`.
    basis : Basis
    prior : ConjugatePrior
    discrepancy_features : sequence of str or int, optional
        Features kept in the last target's row of Λ_yx; None: unrestricted.
    targets : sequence of str
    """

    def __init__(
        self,
        data: xr.Dataset,
        basis: da.Basis,
        prior: da.ConjugatePrior,
        discrepancy_features: Sequence[int | str] | None = None,
        targets: Sequence[str] = da.TARGETS,
    ) -> None:
        self.data = data
        self.basis = basis
        self.targets = list(targets)
        self.phi, self.y, self.feature_names = da._table(data, basis, targets)
        self.n, self.p = self.phi.shape
        self.q = len(self.targets)
        discrepancy = da.resolve_features(discrepancy_features, self.feature_names)
        self.template = da.ConjugatePosterior.start(prior, self.p, self.q, discrepancy)
        self.prior_statistic = self.template.statistic
        self.shapes, _ = prior.gamma(self.q)
        observed = ~np.isnan(self.y)
        last = np.array([np.flatnonzero(row).max() for row in observed])
        self.rows = [np.flatnonzero(last >= j) for j in range(self.q)]
        self.columns = [self.template.regression_columns(j) for j in range(self.q)]
        self.groups = []  # (rows, observed indices, imputed indices)
        for obs, rows in da._patterns(self.y).items():
            impute = [k for k in range(max(obs)) if k not in obs]
            if impute:
                self.groups.append((rows, list(obs), impute))

    # ------------------------------------------------------------------ one sweep
    def initial_state(self) -> dict:
        """Missing targets filled by per-target ridge fits; parameters drawn from step 2."""
        filled = self.y.copy()
        kappa = self.template.prior.feature_precision
        for j in range(self.q):
            seen = ~np.isnan(self.y[:, j])
            a = self.phi[seen]
            coef = np.linalg.solve(a.T @ a + kappa * np.eye(self.p), a.T @ self.y[seen, j])
            filled[~seen, j] = self.phi[~seen] @ coef
        return {"y": filled}

    def impute(self, state: dict, rng: np.random.Generator) -> np.ndarray:
        """Step 1: missing targets that precede an observed one, from their conditional."""
        filled = state["y"].copy()
        if not self.groups:
            return filled
        t = np.eye(self.q) - np.tril(state["beta"], -1)
        w = np.linalg.solve(t, state["g"])
        t_inv = np.linalg.inv(t)
        cov = (t_inv / state["d"][None, :]) @ t_inv.T
        mean = self.phi @ w.T
        for rows, obs, mis in self.groups:
            gain = np.linalg.solve(cov[np.ix_(obs, obs)], cov[np.ix_(obs, mis)]).T
            cond_cov = cov[np.ix_(mis, mis)] - gain @ cov[np.ix_(obs, mis)]
            cond_mean = (
                mean[np.ix_(rows, mis)]
                + (self.y[np.ix_(rows, obs)] - mean[np.ix_(rows, obs)]) @ gain.T
            )
            noise = rng.standard_normal((rows.size, len(mis))) @ np.linalg.cholesky(cond_cov).T
            filled[np.ix_(rows, mis)] = cond_mean + noise
        return filled

    def conditional_regressions(self, filled: np.ndarray) -> list[da.Regression]:
        """Step 2's Normal–Gamma posteriors given the completed rows."""
        regs = []
        for j in range(self.q):
            z = np.hstack([self.phi, filled])[self.rows[j]]
            statistic = self.prior_statistic + z.T @ z
            shape = self.shapes[j] + self.rows[j].size / 2
            regs.append(da.normal_gamma(statistic, self.p + j, self.columns[j], shape))
        return regs

    def sweep(self, state: dict, rng: np.random.Generator) -> tuple[dict, list[da.Regression]]:
        """One Gibbs sweep (impute, then draw the parameters); returns the new state."""
        filled = self.impute(state, rng) if "d" in state else state["y"]
        regs = self.conditional_regressions(filled)
        d, beta, g = da.draw_chain(regs, self.p, self.q, self.template.discrepancy, rng, 1)
        return {"y": filled, "d": d[0], "beta": beta[0], "g": g[0]}, regs

    # ----------------------------------------------------------------------- runs
    def run(
        self,
        draws: int = 1000,
        tune: int = 200,
        chains: int = 1,
        rng: np.random.Generator | int | None = None,
        state: dict | None = None,
        record_regressions: bool = False,
    ) -> GibbsResult:
        """Run ``chains`` chains of ``tune`` + ``draws`` sweeps (``state`` continues one)."""
        rng = np.random.default_rng(rng)
        d = np.empty((chains, draws, self.q))
        beta = np.empty((chains, draws, self.q, self.q))
        g = np.empty((chains, draws, self.q, self.p))
        recorded = []
        for c in range(chains):
            current = dict(state) if state is not None else self.initial_state()
            if "y" not in current or current["y"].shape != self.y.shape:
                current = {
                    **self.initial_state(),
                    **{k: current[k] for k in ("d", "beta", "g") if k in current},
                }
            for i in range(tune + draws):
                current, regs = self.sweep(current, rng)
                if i >= tune:
                    d[c, i - tune], beta[c, i - tune], g[c, i - tune] = (
                        current["d"],
                        current["beta"],
                        current["g"],
                    )
                    if record_regressions:
                        recorded.append(regs)
        return GibbsResult(d, beta, g, recorded, current)

    def to_dataset(self, result: GibbsResult) -> xr.Dataset:
        """Draws as a posterior Dataset with the PyMC model's names and dims."""
        lyy, lyx = da.lambda_from_chain(result.d, result.beta, result.g)
        w = -np.linalg.solve(lyy, lyx)
        mask = da._free_mask(self.q, self.p, self.template.discrepancy)
        rows, cols = np.nonzero(mask)
        pair_j, pair_k = np.tril_indices(self.q, -1)
        dims = ("chain", "draw")
        return xr.Dataset(
            {
                "conditional_precision": ((*dims, "target"), result.d),
                "coupling": ((*dims, "target_pair"), result.beta[..., pair_j, pair_k]),
                "coefficient": ((*dims, "free_coefficient"), result.g[..., rows, cols]),
                "Lambda_yy": ((*dims, "target", "target_"), lyy),
                "Lambda_yx": ((*dims, "target", "feature"), lyx),
                "W": ((*dims, "target", "feature"), w),
            },
            coords={
                "chain": np.arange(result.d.shape[0]),
                "draw": np.arange(result.d.shape[1]),
                "target": self.targets,
                "target_": self.targets,
                "feature": self.feature_names,
                "target_pair": da._coupling_labels(self.targets),
                "free_coefficient": [
                    f"{self.targets[r]}:{self.feature_names[c]}"
                    for r, c in zip(rows, cols, strict=True)
                ],
            },
        )

    # ----------------------------------------------------------------------- Chib
    def _theta(self, j: int, beta: np.ndarray, g: np.ndarray) -> np.ndarray:
        mask = da._free_mask(self.q, self.p, self.template.discrepancy)
        return np.concatenate([g[j, mask[j]], beta[j, :j]])

    def log_prior(self, d, beta, g) -> float:
        """log p(θ) in chain coordinates (the conjugate prior)."""
        regs = self.template.regressions()
        return sum(
            normal_gamma_logpdf(regs[j], d[j], self._theta(j, beta, g)) for j in range(self.q)
        )


def chib_log_evidence(
    sampler: GibbsSampler, result: GibbsResult, n_batches: int = 20
) -> tuple[float, float]:
    """Chib's estimate of log p(D) and its Monte Carlo standard error (batch means).

    ``result`` must come from ``sampler.run(..., record_regressions=True)``; θ* is the
    posterior mean of (d, β, G).
    """
    if not result.regressions:
        raise ValueError("run the sampler with record_regressions=True for Chib's estimate")
    d = result.d.reshape(-1, sampler.q).mean(0)
    beta = result.beta.reshape(-1, sampler.q, sampler.q).mean(0)
    g = result.g.reshape(-1, sampler.q, sampler.p).mean(0)
    thetas = [sampler._theta(j, beta, g) for j in range(sampler.q)]
    log_post = np.array(
        [
            sum(normal_gamma_logpdf(regs[j], d[j], thetas[j]) for j in range(sampler.q))
            for regs in result.regressions
        ]
    )
    lyy, lyx = da.lambda_from_chain(d, beta, g)
    log_lik = da.log_likelihood(sampler.data, lyy, lyx, sampler.basis, sampler.targets)
    base = log_lik + sampler.log_prior(d, beta, g)
    value = base - (special.logsumexp(log_post) - np.log(log_post.size))
    weights = np.exp(log_post - log_post.max())
    batches = np.array([b.mean() for b in np.array_split(weights, n_batches)])
    mcse = batches.std(ddof=1) / np.sqrt(n_batches) / weights.mean()
    return float(value), float(mcse)


# --------------------------------------------------------------- Bayesian optimisation
@dataclass(frozen=True)
class BOProblem:
    r"""A simulated search: :math:`y_A = c^\top\phi`, :math:`y_B = \beta y_A + r^\top\phi_R`.

    Attributes
    ----------
    basis : Basis
        Sine basis in two descriptors.
    coefficients : ndarray, shape (p,)
        Model A's coefficients.
    coupling : float
        β.
    discrepancy : dict
        Feature name to coefficient of R(x) (the features B keeps in Λ_yx).
    noise_sd : tuple of float
        (A, B) noise standard deviations.
    grid : ndarray, shape (m, 2)
        Candidate descriptors.
    """

    basis: da.Basis
    coefficients: np.ndarray
    coupling: float
    discrepancy: dict
    noise_sd: tuple[float, float]
    grid: np.ndarray

    def features(self, x) -> np.ndarray:
        return self.basis.features(x)

    def truth(self, x) -> tuple[np.ndarray, np.ndarray]:
        """(y_A, y_B) without noise at descriptors x (n, 2)."""
        phi = self.features(x)
        names = self.basis.names(["x1", "x2"])
        r = np.zeros(len(names))
        for name, value in self.discrepancy.items():
            r[names.index(name)] = value
        a = phi @ self.coefficients
        return a, self.coupling * a + phi @ r


def bo_problem(
    rng: np.random.Generator | int | None,
    size: int = 7,
    grid_points: int = 31,
    noise_sd: tuple[float, float] = (0.03, 0.1),
) -> BOProblem:
    """Seed 004's setting in 2-D: sine basis, ``size`` functions per dimension (49 for 7).

    A has the constant 2 and the other coefficients N(0, 0.3²) (the scale of the seed's
    1-D example); B = A − 2 − 0.6 sin(2πx₁), the seed's "y₂ = y₁ − 2φ₀ − 0.6φ₁" with φ₁ in
    x₁.
    """
    rng = np.random.default_rng(rng)
    basis = da.Basis("sine", size)
    p = len(basis.indices(2))
    coefficients = np.concatenate([[2.0], rng.normal(0.0, 0.3, p - 1)])
    axis = np.linspace(0.0, 1.0, grid_points)
    grid = np.stack(np.meshgrid(axis, axis, indexing="ij"), -1).reshape(-1, 2)
    return BOProblem(basis, coefficients, 1.0, {"1": -2.0, "sin(2πx1)": -0.6}, noise_sd, grid)


def _greedy_variance_picks(phi_grid, phi_seen, kappa, m) -> list[int]:
    """Indices of m grid points of largest φᵀ(κI + ΦᵀΦ)⁻¹φ, the matrix updated after each."""
    precision = kappa * np.eye(phi_grid.shape[1]) + phi_seen.T @ phi_seen
    picks = []
    for _ in range(m):
        variance = np.einsum("np,np->n", phi_grid, np.linalg.solve(precision, phi_grid.T).T)
        variance[picks] = -np.inf
        best = int(np.argmax(variance))
        picks.append(best)
        precision = precision + np.outer(phi_grid[best], phi_grid[best])
    return picks


def optimise(
    problem: BOProblem,
    method: str,
    rng: np.random.Generator | int | None,
    n_initial: int = 5,
    max_experiments: int = 60,
    calculations_per_iteration: int = 3,
    sweeps: int = 40,
    tolerance: float = 0.02,
    prior: da.ConjugatePrior | None = None,
) -> dict:
    """Run one Bayesian-optimisation loop for B's maximum.

    Parameters
    ----------
    problem : BOProblem
    method : {"assimilation", "experiment_only"}
    rng : Generator or int
    n_initial : int
        Random initial experiments (and calculations), the seed's 5 each.
    max_experiments : int
        Budget, the initial ones included.
    calculations_per_iteration : int
        New calculations per iteration (assimilation only).
    sweeps : int
        Gibbs sweeps per iteration, continuing the previous chain (assimilation).
    tolerance : float
        Found when an experiment's true y_B ≥ max − tolerance × (max − min) on the grid.
    prior : ConjugatePrior, optional
        Default: noise guesses at the true sds, ν₀ = q + 1, coefficient prior sd ≈ 1
        for A's coefficients (κ = σ_A²) and for B alone (κ = σ_B²).

    Returns
    -------
    dict
        ``found_at`` (experiments used when found, or None), ``best`` (best true y_B
        per experiment count), ``experiments`` and ``calculations`` (descriptors).
    """
    if method not in ("assimilation", "experiment_only"):
        raise ValueError(f"unknown method {method!r}; choose 'assimilation' or 'experiment_only'")
    rng = np.random.default_rng(rng)
    _, truth_b = problem.truth(problem.grid)
    top, bottom = truth_b.max(), truth_b.min()
    threshold = top - tolerance * (top - bottom)
    phi_grid = problem.features(problem.grid)
    sd_a, sd_b = problem.noise_sd
    x_exp = rng.uniform(0, 1, (n_initial, 2))
    x_calc = rng.uniform(0, 1, (n_initial, 2))

    def measure(x, which):
        a, b = problem.truth(x)
        value = a if which == 0 else b
        return value + problem.noise_sd[which] * rng.standard_normal(len(x))

    y_exp, y_calc = measure(x_exp, 1), measure(x_calc, 0)
    best = [float(np.max(problem.truth(x_exp)[1]))]
    found_at = n_initial if best[-1] >= threshold else None
    state = None
    while found_at is None and len(x_exp) < max_experiments:
        if method == "experiment_only":
            pr = prior or da.ConjugatePrior(noise_scale=sd_b, dof=2.0, feature_precision=sd_b**2)
            post = da.ConjugatePosterior.start(pr, phi_grid.shape[1], 1).update(
                problem.features(x_exp), y_exp[:, None]
            )
            _, _, g = post.sample(rng, 1)
            draw_b = phi_grid @ g[0, 0]
        else:
            pr = prior or da.ConjugatePrior(
                noise_scale=problem.noise_sd, dof=3.0, feature_precision=sd_a**2
            )
            data = da.stack_measurements(
                {"y_comp": (x_calc, y_calc), "y_expt": (x_exp, y_exp)}, descriptors=["x1", "x2"]
            )
            sampler = GibbsSampler(data, problem.basis, pr, list(problem.discrepancy))
            result = sampler.run(draws=1, tune=sweeps - 1, rng=rng, state=state)
            state = {k: result.state[k] for k in ("d", "beta", "g")}
            lyy, lyx = da.lambda_from_chain(result.d[0, -1], result.beta[0, -1], result.g[0, -1])
            draw_b = da.forward(phi_grid, lyy, lyx)[:, 1]
            picks = _greedy_variance_picks(
                phi_grid, problem.features(x_calc), pr.feature_precision, calculations_per_iteration
            )
            x_calc = np.vstack([x_calc, problem.grid[picks]])
            y_calc = np.concatenate([y_calc, measure(problem.grid[picks], 0)])
        nxt = problem.grid[[int(np.argmax(draw_b))]]
        x_exp = np.vstack([x_exp, nxt])
        y_exp = np.concatenate([y_exp, measure(nxt, 1)])
        best.append(max(best[-1], float(problem.truth(nxt)[1][0])))
        if best[-1] >= threshold:
            found_at = len(x_exp)
    return {
        "found_at": found_at,
        "best": np.array(best),
        "experiments": x_exp,
        "calculations": x_calc,
    }
