r"""Harashima et al.'s 1-D demonstration, and the reference values of the Λ model.

The demo (Y. Harashima, talk at NAIST on data assimilation in materials science; the
method: Harashima et al., arXiv:2007.14101): a calculation :math:`f_1(x) = 2 - x +
5(x - 0.7)^2 + 20(x - 0.5)^3` (model (i), 10 samples on [0, 1], sd 0.03) and an
experiment :math:`f_2 = f_1 - 1.5` (model (ii), 5 samples on [0, 0.5], sd 0.1), cubic
features, the experiment's row of :math:`\Lambda_{yx}` restricted to the constant
("1st–3rd order terms of model (ii) restricted"). :data:`REFERENCES` holds it as
settings, and values of the Λ model from hand-derived closed forms.
"""

from __future__ import annotations

import math

import numpy as np
import xarray as xr

from ..contract import Reference
from .conjugate import ConjugatePrior
from .table import TARGETS, Basis, make_data, simulate

__all__ = [
    "DEMO_PRIOR",
    "REFERENCES",
    "demo_f1",
    "demo_f2",
    "demo_truth_point",
    "example_data",
    "simulate_demo",
]

_HARASHIMA = (
    "Y. Harashima (NAIST), talk 物質科学におけるデータ同化手法開発と応用 (development and "
    "application of data assimilation in materials science), the 1-D demonstration; the "
    "method: Y. Harashima et al., arXiv:2007.14101 (2020)"
)


def demo_f1(x):
    """Harashima et al.'s calculation truth :math:`f_1(x) = 2 - x + 5(x-0.7)^2 + 20(x-0.5)^3`."""
    x = np.asarray(x, dtype=float)
    return 2 - x + 5 * (x - 0.7) ** 2 + 20 * (x - 0.5) ** 3


def demo_f2(x):
    """Harashima et al.'s experiment truth :math:`f_2 = f_1 - 1.5` (differs by a constant)."""
    return demo_f1(x) - 1.5


_DEMO_W = {"y_comp": [1.95, 7.0, -25.0, 20.0], "y_expt": [0.45, 7.0, -25.0, 20.0]}
_CUBIC = np.array([[1.0, x, x**2, x**3] for x in (0.0, 0.5, 0.7, 1.0)])


def _one_row(y_comp: float, y_expt: float) -> xr.Dataset:
    return make_data([0.0], {"y_comp": [y_comp], "y_expt": [y_expt]})


#: Settings of Harashima et al.'s demo, and values of the Λ model against closed forms
#: derived by hand (each stated in its ``description``).
REFERENCES = {
    "harashima_demo": Reference(
        source=_HARASHIMA,
        params={
            "n": {"y_comp": 10, "y_expt": 5},
            "noise_sd": {"y_comp": 0.03, "y_expt": 0.1},
            "range": {"y_comp": (0.0, 1.0), "y_expt": (0.0, 0.5)},
            "W": _DEMO_W,
            "offset": -1.5,
        },
        structure={"basis": Basis("polynomial", 3), "discrepancy_features": ("1",)},
        description="f1 (calculations, model (i)) and f2 = f1 − 1.5 (experiments, model "
        "(ii)) as coefficients W of 1, x, x², x³ (f1 = 1.95 + 7x − 25x² + 20x³, our "
        "expansion); sample counts, noise sds and descriptor ranges of the two, drawn "
        "independently; the experiment's row of Λ_yx keeps the constant only",
    ),
    "harashima_demo_f1_f2": Reference(
        source=_HARASHIMA + "; f1 and f2 evaluated by hand from the published formulas",
        quantity="forward",
        x=_CUBIC,
        params={"lambda_yy": np.eye(2), "lambda_yx": -np.array([_DEMO_W[t] for t in TARGETS])},
        expected=[[1.95, 0.45], [1.7, 0.2], [1.46, -0.04], [3.95, 2.45]],
        rtol=1e-12,
        atol=1e-12,
        description="the predictor with Λ_yy = I, Λ_yx = −W of the demo's coefficients at "
        "x = 0, 0.5, 0.7, 1: f1(x) and f2(x) = f1(x) − 1.5 from 2 − x + 5(x − 0.7)² + "
        "20(x − 0.5)³ (four points fix a cubic)",
    ),
    "missing_target_marginal": Reference(
        source="analytic: Λ_yy = [[2, −1], [−1, 2]], Λ_yx = (−1, 0)ᵀ, φ = 1 give μ = (2/3, "
        "1/3), Σ = [[2, 1], [1, 2]]/3; rows (1, –), (–, 0), (1, 1) contribute N(1; 2/3, 2/3), "
        "N(0; 1/3, 2/3) (the missing target integrated out) and the bivariate normal, "
        "log p = −log(4π/3) − 1/6 − log 2π + ½ log 3 − 1/3",
        quantity="log_likelihood",
        x=make_data(
            [0.0, 0.0, 0.0],
            {"y_comp": [1.0, np.nan, 1.0], "y_expt": [np.nan, 0.0, 1.0]},
        ),
        params={
            "lambda_yy": np.array([[2.0, -1.0], [-1.0, 2.0]]),
            "lambda_yx": np.array([[-1.0], [0.0]]),
            "basis": Basis("polynomial", 0),
        },
        expected=-math.log(4 * math.pi / 3) - math.log(2 * math.pi) + 0.5 * math.log(3) - 0.5,
        rtol=1e-12,
        description="exact log-likelihood of three rows, two of them missing a target",
    ),
    "conjugate_evidence_one_row": Reference(
        source="analytic: q = 2, φ = 1, ν₀ = 3, σ₀ = 1, κ = 1; in chain coordinates "
        "y_comp | d₁ ~ N(0, 2/d₁), d₁ ~ Γ(1, rate 3/2), and y_expt | y_comp, d₂ ~ "
        "N(0, (2 + y_comp²/3)/d₂), d₂ ~ Γ(3/2, rate 3/2); integrating d: Student-t "
        "densities, p(3, 0) = (90π²)^(−1/2) 2.5^(−3/2)",
        quantity="conjugate_log_evidence",
        x=_one_row(3.0, 0.0),
        params={
            "basis": Basis("polynomial", 0),
            "prior": ConjugatePrior(noise_scale=1.0, dof=3.0, feature_precision=1.0),
        },
        expected=-0.5 * math.log(90) - math.log(math.pi) - 1.5 * math.log(2.5),
        rtol=1e-12,
        description="closed-form evidence of one complete row (y_comp, y_expt) = (3, 0)",
    ),
}

#: Conjugate prior of the demo (ours): noise guesses at the demo's error bars, ν₀ = q + 1,
#: and κ = 10⁻⁶ (prior sd of the cubic coefficients ≈ σ/√κ = 30 and 100, above the true
#: magnitude 25).
DEMO_PRIOR = ConjugatePrior(noise_scale=(0.03, 0.1), dof=3.0, feature_precision=1e-6)


def simulate_demo(rng: np.random.Generator | int | None = None) -> xr.Dataset:
    """Harashima et al.'s demo: 10 calculations on [0, 1] (sd 0.03), 5 experiments on [0, 0.5].

    The experiments have sd 0.1. Descriptors uniform on each range, drawn independently;
    the two never share a row.
    """
    demo = REFERENCES["harashima_demo"]
    settings = demo.params
    rng = np.random.default_rng(rng)
    x = {name: rng.uniform(*settings["range"][name], settings["n"][name]) for name in TARGETS}
    observed = np.zeros((sum(settings["n"].values()), 2), bool)
    observed[: settings["n"]["y_comp"], 0] = True
    observed[settings["n"]["y_comp"] :, 1] = True
    sd = np.array([settings["noise_sd"][name] for name in TARGETS])
    data = simulate(
        np.concatenate([x["y_comp"], x["y_expt"]]),
        rng=rng,
        observed=observed,
        basis=demo.structure["basis"],
        w=np.stack([settings["W"][name] for name in TARGETS]),
        covariance=np.diag(sd**2),
    )
    data.attrs["source"] = "simulated demo of Harashima et al., arXiv:2007.14101"
    return data


def demo_truth_point() -> dict[str, np.ndarray]:
    """A truth of the restricted demo model (β = 1, constant discrepancy −1.5).

    The demo's rows never observe both targets, so only the marginals are fixed:
    Σ₁₁ = 0.03², Σ₂₂ = 0.1²; β = Σ₂₁/Σ₁₁ = 1 then sets Σ₂₁ = Σ₁₁.
    """
    settings = REFERENCES["harashima_demo"].params
    s11, s22 = settings["noise_sd"]["y_comp"] ** 2, settings["noise_sd"]["y_expt"] ** 2
    return {
        "conditional_precision": np.array([1 / s11, 1 / (s22 - s11)]),
        "coupling": np.array([1.0]),
        "coefficient": np.concatenate([settings["W"]["y_comp"], [settings["offset"]]]),
    }


def example_data(rng: np.random.Generator | int | None = 0) -> tuple[xr.Dataset, dict]:
    """The demo's data and a truth point of the restricted model (discrepancy ``["1"]``)."""
    return simulate_demo(rng), demo_truth_point()
