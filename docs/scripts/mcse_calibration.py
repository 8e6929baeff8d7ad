"""Are the free-energy error bars honest? z-scores of replica-exchange log Z on ridges.

Evidence for issue 22 (the MCSE of F). A linear-Gaussian model whose posterior is a
ridge, as when two neighbouring peaks trade area: y = A x + ε, ε ~ N(0, σ² I), prior
x ~ N(0, s0² I), with the columns of A pairs of nearly equal Gaussians. Its evidence is
exact, log p(y) = log N(y; 0, σ² I + s0² A Aᵀ), and componentwise random-walk moves mix
slowly along the ridge, as on the XANES pre-edge. Many independent replica-exchange runs
(the package's NumPy core, :class:`samplers.replica_exchange.kernel.ParallelTempering`,
stepping-stone log Z) give z = (log Ẑ − log Z) / MCSE, once with the MCSE the package
uses (:func:`samplers.evidence.thermodynamic.log_evidence`: the delta-method projection's
effective sample size, Geyer's initial monotone sequence on split halves) and once with
the estimator it replaced (batch means of ⌊√n⌋ draws). Honest error bars give z-scores
of sd ≈ 1 and 95 % coverage of log Z ± 1.96 MCSE.

    python docs/scripts/mcse_calibration.py            # ~10 min on one core
    python docs/scripts/mcse_calibration.py --quick    # smoke run

Output: ``docs/scripts/mcse_calibration.txt``.
"""

from __future__ import annotations

import argparse
import subprocess
import time
from pathlib import Path

import numpy as np
from scipy import stats

from samplers.evidence.thermodynamic import log_evidence
from samplers.replica_exchange.kernel import ParallelTempering

HERE = Path(__file__).resolve().parent
#: Energies of the design, and the pairs of peak centres (each pair a ridge).
GRID = np.linspace(-5.0, 5.0, 60)
CENTRES = {"separated": [-2.0, 2.0], "ridge": [-2.0, -1.7, 1.7, 2.0]}
WIDTH, NOISE_SD, PRIOR_SD = 1.0, 0.05, 2.0
#: Runs per target, and their size.
RUNS, TUNE, DRAWS, REPLICAS = 100, 1000, 2000, 16
QUICK = {"runs": 6, "tune": 200, "draws": 400}


class LinearGaussian:
    """y = A x + ε with Gaussian columns of A centred at ``centres``; exact evidence."""

    def __init__(self, centres, seed: int = 0):
        self.design = np.exp(-0.5 * ((GRID[:, None] - np.asarray(centres)) / WIDTH) ** 2)
        truth = np.ones(len(centres))
        rng = np.random.default_rng(seed)
        self.y = self.design @ truth + rng.normal(0.0, NOISE_SD, GRID.size)
        self.constant = -0.5 * GRID.size * np.log(2 * np.pi * NOISE_SD**2)

    def log_density(self, x):
        log_prior = stats.norm.logpdf(x, 0.0, PRIOR_SD).sum(axis=1)
        residual = self.y[None] - x @ self.design.T
        return log_prior, self.constant - 0.5 * (residual**2).sum(axis=1) / NOISE_SD**2

    def log_evidence(self) -> float:
        covariance = NOISE_SD**2 * np.eye(GRID.size) + PRIOR_SD**2 * self.design @ self.design.T
        return float(stats.multivariate_normal(np.zeros(GRID.size), covariance).logpdf(self.y))


def batch_means_stepping_stone_se(log_lik: np.ndarray, betas: np.ndarray) -> float:
    """The replaced MCSE: batch means (b = ⌊√n⌋) of the same delta-method projection."""
    exponent = np.diff(betas) * log_lik[:, :-1]
    weights = np.exp(exponent - exponent.max(axis=0))
    projected = weights @ (1.0 / weights.mean(axis=0))
    n = projected.size
    b = int(np.sqrt(n))
    a = n // b
    means = projected[: a * b].reshape(a, b).mean(axis=1)
    return float(np.sqrt(b * means.var(ddof=1) / n))


def one_run(target: LinearGaussian, seed: int, tune: int, draws: int):
    kernel = ParallelTempering(target.log_density, n_replicas=REPLICAS)
    state = kernel.init(np.zeros(target.design.shape[1]), np.random.default_rng(seed))
    for _ in range(tune):
        state, _ = kernel.step(state, tune=True)
    log_lik = []
    for _ in range(draws):
        state, info = kernel.step(state, tune=False)
        log_lik.append(info.log_lik)
    log_lik = np.asarray(log_lik)
    value, ess_se = log_evidence(log_lik, state.betas)
    return value, ess_se, batch_means_stepping_stone_se(log_lik, state.betas)


def summary(name: str, errors: np.ndarray, estimates: np.ndarray, exact: float) -> str:
    z = (estimates - exact) / errors
    cover = np.mean(np.abs(z) < 1.96)
    runs = z.size
    return (
        f"| {name} | {np.mean(errors):.3f} | {np.std(estimates, ddof=1):.3f} | "
        f"{np.std(z, ddof=1):.2f} | {cover:.2f} ± {np.sqrt(cover * (1 - cover) / runs):.2f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run, not written")
    args = parser.parse_args()
    size = QUICK if args.quick else {"runs": RUNS, "tune": TUNE, "draws": DRAWS}
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE
    ).stdout.strip()
    lines = [
        f"# python docs/scripts/mcse_calibration.py at commit {commit}: {size['runs']} runs "
        f"per target, {REPLICAS} replicas, {size['tune']} tune + {size['draws']} draws, "
        "componentwise moves, stepping-stone log Z; seeds 0..runs-1",
    ]
    for label, centres in CENTRES.items():
        target = LinearGaussian(centres)
        exact = target.log_evidence()
        start = time.perf_counter()
        rows = np.array(
            [one_run(target, seed, size["tune"], size["draws"]) for seed in range(size["runs"])]
        )
        estimates, ess_se, batch_se = rows.T
        lines += [
            "",
            f"{label}: peak centres {centres}, width {WIDTH}, noise sd {NOISE_SD}, prior sd "
            f"{PRIOR_SD}; exact log Z = {exact:.3f}; mean estimate {estimates.mean():.3f}; "
            f"{time.perf_counter() - start:.0f} s",
            "| MCSE | mean MCSE | sd of log Ẑ over runs | sd of z | coverage of ±1.96 MCSE |",
            "|---|---|---|---|---|",
            summary("ESS of the projection (the package)", ess_se, estimates, exact),
            summary("batch means, b = ⌊√n⌋ (replaced)", batch_se, estimates, exact),
        ]
        print("\n".join(lines[-5:]), flush=True)
    if not args.quick:
        (HERE / "mcse_calibration.txt").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
