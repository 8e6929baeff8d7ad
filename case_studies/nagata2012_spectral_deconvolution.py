# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # How many peaks? Bayesian spectral deconvolution (Nagata, Sugita, Okada 2012)
#
# The benchmark spectrum of Nagata et al. (Neural Networks 28, 82, 2012): three Gaussian
# peaks on x = 0..3, noise σ = 0.1, reproduced bit for bit from the authors' public
# recipe. We compute the Bayesian free energy F(K) = −log p(D|K) for K = 1..5 peaks with
# replica exchange (the exchange Monte Carlo of the paper, as a PyMC step method), turn
# it into p(K|D), and look at the peaks of the chosen model.
#
# This is the same analysis as `bayesmeas run spectral-deconvolution`, written out with
# the public API. `BAYESMEAS_QUICK=1` uses small sampler settings (the test suite does this).
#
# What to expect: K = 1, 2 are ruled out by hundreds of nats; K = 3 (the truth) and
# K = 4 (one peak split in two) lie within about a nat of each other, so p(K|D) is
# shared between them. The last section checks F(K = 3) against an independent Laplace
# approximation.

# %%
import math
import os

import matplotlib.pyplot as plt
import numpy as np
from pymc.blocking import DictToArrayBijection
from scipy import optimize

from measurement_models import spectral
from samplers import ReplicaExchangeSettings, ladder_diagnostics, plot_model_selection, select_model

QUICK = os.environ.get("BAYESMEAS_QUICK") == "1"
data = spectral.simulate_reference()
print(spectral.PARAMETERS.to_markdown())

# %%
settings = (
    ReplicaExchangeSettings(draws=300, tune=300, chains=2, n_replicas=16)
    if QUICK
    else ReplicaExchangeSettings(draws=4000, tune=2000, chains=4, n_replicas=32)
)
candidates = (1, 2, 3) if QUICK else (1, 2, 3, 4, 5)
output = os.environ.get("BAYESMEAS_OUTPUT", "results/nagata2012")
selection = select_model(
    {k: (lambda k=k: spectral.build_model(data, n_peaks=k)) for k in candidates},
    "replica_exchange",
    settings=settings,
    dim="K",
    random_seed=2012,
    progressbar=False,
    path=f"{output}/model_selection.nc",
    log=print,
)
table = selection.to_dataset(inherit=False)
for k in candidates:
    health = ladder_diagnostics(selection[f"candidates/{k}"])
    print(
        f"K = {k}: barrier Λ = {float(health['global_barrier'].mean()):.1f}, "
        f"round trips {health['round_trips'].values}"
    )
print(table[["free_energy", "free_energy_mcse", "delta_free_energy", "probability"]].to_dataframe())
print(table.attrs["decision"])

fig, ax = plt.subplots(figsize=(5.5, 3.8))
plot_model_selection(selection, ax=ax)
if not QUICK:
    plt.show()
plt.close(fig)

# %% [markdown]
# ## Peaks of the selected model
#
# When the selection is undecided (K = 3 and K = 4 can be within their MCSE of each
# other) we show the candidate with the lowest F. The prior is exchangeable over peaks,
# so the sampler may swap labels between draws; `relabel_by_position` sorts each draw by
# position before summarising.

# %%
best = int(table.attrs["best"])
posterior = spectral.relabel_by_position(selection[f"candidates/{best}/posterior"].to_dataset())
print(posterior[["a", "mu", "b"]].mean(("chain", "draw")).to_dataframe())
print("truth: a =", data.attrs["truth_a"], " mu =", data.attrs["truth_mu"])

fig, ax = plt.subplots(figsize=(7, 4))
spectral.plot_fit(ax, data, posterior)
ax.set_title(f"Nagata 2012 spectrum, K = {best}")
if not QUICK:
    plt.show()
plt.close(fig)

# %% [markdown]
# ## An independent check of F(K = 3): the Laplace approximation
#
# For K = 3 the posterior is close to Gaussian around each of its K! = 6 equivalent
# modes (one per labelling of the peaks), so
# F ≈ −log p(D, θ*) − (d/2) log 2π + ½ log det H − log K!, with θ* the mode in PyMC's
# unconstrained space, H the Hessian of −log p(D, θ) there (by central differences of
# the gradient) and d = 9. It shares nothing with the sampler but the model's log-density.

# %%
model = spectral.build_model(data, n_peaks=3)
logp, dlogp = model.compile_logp(), model.compile_dlogp()
truth = {
    "a_log__": np.log(data.attrs["truth_a"]),
    "mu": data.attrs["truth_mu"],
    "b_log__": np.log(data.attrs["truth_b"]),
}
layout = DictToArrayBijection.map({v.name: truth[v.name] for v in model.value_vars})


def as_point(vector):
    return DictToArrayBijection.rmap(layout._replace(data=vector))


mode = optimize.minimize(
    lambda v: -logp(as_point(v)),
    layout.data,
    jac=lambda v: -dlogp(as_point(v)),
    method="BFGS",
    options={"gtol": 1e-9},
)
step = 1e-5
hessian = np.array(
    [
        (dlogp(as_point(mode.x - step * e)) - dlogp(as_point(mode.x + step * e))) / (2 * step)
        for e in np.eye(mode.x.size)
    ]
)
hessian = (hessian + hessian.T) / 2
laplace_f = (
    mode.fun
    - mode.x.size / 2 * np.log(2 * np.pi)
    + np.linalg.slogdet(hessian)[1] / 2
    - math.log(math.factorial(3))
)
print(
    f"Laplace F(K=3) = {laplace_f:.2f};  replica exchange F(K=3) = "
    f"{float(table.free_energy.sel(K=3)):.2f} ± {float(table.free_energy_mcse.sel(K=3)):.2f}"
)
