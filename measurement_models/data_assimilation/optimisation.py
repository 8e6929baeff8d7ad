r"""Bayesian optimisation with the Λ model: Harashima's material search with calculations.

Y. Harashima (NAIST), talk on data assimilation in materials science, its last slides
(the method: Harashima et al., arXiv:2007.14101 (2020)). Model A (calculation, cheap,
small noise) and model B (experiment, costly, larger noise) share a shape:
:math:`y_B = \beta y_A + R(x)` with :math:`R` in a few features. Each iteration proposes
the next experiment at the maximum of a Thompson draw of B's predictor (Gibbs sampling
with data augmentation, :class:`~measurement_models.data_assimilation.GibbsKernel`,
continuing the previous chain) and ``calculations_per_iteration`` calculations where A's
predictive variance :math:`\propto \phi^\top(\kappa I + \Phi_A^\top\Phi_A)^{-1}\phi` is
largest (greedy, the variance updated after each pick; in the conjugate model it does not
depend on the values measured). "Experiment only" fits B alone (a q = 1 conjugate
regression with the same basis) and proposes experiments the same way. :func:`optimise`
counts the experiments until one lands within ``tolerance`` × (range of B) of B's
maximum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .algebra import forward, lambda_from_chain
from .conjugate import ConjugatePosterior, ConjugatePrior
from .gibbs import STATE_DRAWS, GibbsKernel
from .table import Basis, stack_measurements

__all__ = ["BOProblem", "bo_problem", "optimise"]


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

    basis: Basis
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
    """Harashima's search in 2-D: sine basis, ``size`` functions per dimension (49 for 7).

    A has the constant 2 and the other coefficients N(0, 0.3²) (the scale of the 1-D
    demo); B = A − 2 − 0.6 sin(2πx₁), the talk's "y₂ = y₁ − 2φ₀ − 0.6φ₁" with φ₁ in x₁.
    """
    rng = np.random.default_rng(rng)
    basis = Basis("sine", size)
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
    prior: ConjugatePrior | None = None,
) -> dict:
    """Run one Bayesian-optimisation loop for B's maximum.

    Parameters
    ----------
    problem : BOProblem
    method : {"assimilation", "experiment_only"}
    rng : Generator or int
    n_initial : int
        Random initial experiments (and calculations), the talk's 5 each.
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
            pr = prior or ConjugatePrior(noise_scale=sd_b, dof=2.0, feature_precision=sd_b**2)
            post = ConjugatePosterior.start(pr, phi_grid.shape[1], 1).update(
                problem.features(x_exp), y_exp[:, None]
            )
            _, _, g = post.sample(rng, 1)
            draw_b = phi_grid @ g[0, 0]
        else:
            pr = prior or ConjugatePrior(
                noise_scale=problem.noise_sd, dof=3.0, feature_precision=sd_a**2
            )
            data = stack_measurements(
                {"y_comp": (x_calc, y_calc), "y_expt": (x_exp, y_exp)}, descriptors=["x1", "x2"]
            )
            kernel = GibbsKernel(data, problem.basis, pr, list(problem.discrepancy))
            current = kernel.init(state)
            for _ in range(sweeps):  # the previous chain continued on the grown data
                current, _ = kernel.step(current, rng)
            state = {k: current[k] for k in STATE_DRAWS}
            lyy, lyx = lambda_from_chain(current["d"], current["beta"], current["g"])
            draw_b = forward(phi_grid, lambda_yy=lyy, lambda_yx=lyx)[:, 1]
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
