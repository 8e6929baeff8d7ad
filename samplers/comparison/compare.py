r"""Sampler comparison: replica exchange, SMC and NUTS on one model, one table.

>>> ds = compare_samplers(model, chains=4, random_seed=1)      # doctest: +SKIP
>>> plot_comparison(ds)                                        # doctest: +SKIP

:func:`compare_samplers` runs each sampler on the same model with the same number of
independent chains and seed, and returns an :class:`xarray.Dataset` along a
``sampler`` dim (see :data:`FIELDS` for every variable and what it means):

- the free energy :math:`F = -\log p(D)`, its MCSE and its spread across chains (where
  the sampler gives one: replica exchange by stepping stone, SMC from its
  normalising-constant estimate; NUTS gives none, NaN);
- convergence: the largest rank-normalised split R-hat and the smallest bulk and tail
  ESS over all scalar parameters (ArviZ ``rhat``/``ess``), ESS per second of wall time;
- cost: wall time of the whole call (compilation and process start-up included),
  PyMC's own sampling time, and the number of log-density and gradient evaluations,
  counted as described below;
- against a :class:`~samplers.comparison.reference_posterior.ReferencePosterior` when one is given:
  the error of every posterior mean in units of the reference sd, the ratio of sds, the
  fraction of reference modes visited (pooled and per chain) and the error of the mode
  weights, and the error of F against the reference evidence.

Counting convention
-------------------
One *log-density evaluation* is one evaluation of the model's log-density (log-prior
with the transforms' Jacobian and log-likelihood) at one parameter vector; one
*gradient evaluation* is one evaluation of its gradient. Batched calls count every row.
Compilation, PyMC's start-value checks and the evaluations done to build the result
(log-likelihood groups, posterior predictive) are not counted.

- **Replica exchange** (gradient-free): every iteration (tuning and recorded) runs
  ``n_sweeps`` sweeps; a componentwise sweep makes one batched call per coordinate of
  the model's unconstrained vector (``dim`` calls), a block sweep one call; each call
  evaluates all ``L`` levels. The ladder's start costs one call per chain. Hence
  ``chains × L × (1 + (tune + draws) × n_sweeps × (dim or 1))``: the number of
  replica-states evaluated, computed from the settings (the kernel has no other
  evaluations; swaps reuse the stored log-likelihoods).
- **SMC** (gradient-free, kernel MH): the initial population (``draws`` particles) is
  evaluated once, then every stage mutates every particle ``n`` times, one evaluation
  each. PyMC does not record ``n`` per stage, so the comparison runs ``pm.sample_smc``
  with :class:`CountingMH`, PyMC's MH kernel plus a ``n_mutation_steps`` sample stat
  (identical otherwise), and counts ``draws × (1 + Σ_stages n_mutation_steps)`` per chain.
- **NUTS**: each draw evaluates the log-density and its gradient (one joint call) once at
  the starting point of the trajectory and once per leapfrog step (``n_steps`` in the
  sample stats, the tree size). PyMC keeps the tuning draws' stats when sampling with
  ``discard_tuned_samples=False`` (:class:`NUTSSettings` does; they land in the
  ``warmup_sample_stats`` group), so the count is ``Σ (n_steps + 1)`` over tuning and
  recorded draws, and equals the gradient count.
- **Nested sampling** (dynesty, gradient-free; only when asked for, ``"nested"``): every
  call of the log-likelihood, counted as it happens (``sample_stats.n_likelihood_calls``,
  initial live points included); each evaluates the prior transform and the
  log-likelihood in one compiled call, so it counts as one log-density evaluation.

Label switching
---------------
For models whose posterior is symmetric under relabelling (e.g. K exchangeable peaks),
pass ``relabel``: a function ``Dataset -> Dataset`` applied to every posterior before
any diagnostic (R-hat, ESS, means, modes), e.g.
:func:`measurement_models.spectral.relabel_by_position`. Without it, chains that settle
in different labellings give large R-hat although each explores an equivalent mode.

Mode coverage criterion
-----------------------
Each draw is assigned to the nearest reference mode, distances measured in units of the
reference posterior sd of each parameter. A mode counts as visited by a set of draws
when at least ``min_mode_fraction`` (default 0.01) of them are assigned to it.
``mode_coverage`` is the fraction of reference modes visited by the pooled draws of all
chains; ``mode_coverage_per_chain`` the same within each chain (a chain stuck in one of
two modes scores 0.5); ``mode_weight_error`` the largest difference between the pooled
fraction of draws at a mode and the reference weight.
"""

from __future__ import annotations

import dataclasses
import datetime
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import arviz as az
import numpy as np
import pymc as pm
import xarray as xr

from ..environment import environment
from ..evidence.free_energy import FreeEnergy
from ..settings import (
    SAMPLER_SETTINGS,
    NestedSettings,
    NUTSSettings,
    ReplicaExchangeSettings,
    SMCSettings,
)
from .evaluation_counts import (
    CountingMH,
    nuts_evaluations,
    replica_exchange_evaluations,
    smc_evaluations,
)
from .reference_posterior import (
    PARAMETER_DIM,
    ReferencePosterior,
    _grid,
    _label,
    parameter_draws,
)

__all__ = [
    "DEFAULT_SAMPLERS",
    "FIELDS",
    "REFERENCE_FIELDS",
    "SamplerRun",
    "compare_samplers",
    "run_sampler",
    "summarize_runs",
    "write_comparison",
]

SAMPLER_DIM = "sampler"
#: The samplers :func:`compare_samplers` runs by default ("nested" is run when named).
DEFAULT_SAMPLERS = ("replica_exchange", "smc", "nuts")
MIN_MODE_FRACTION = 0.01

#: Data variables of :func:`compare_samplers`' Dataset and what they hold.
FIELDS = {
    "free_energy": "F = -log p(D), mean over chains (nats); NaN for NUTS",
    "free_energy_mcse": "Monte Carlo standard error of F as the sampler reports it (nats)",
    "free_energy_spread": "max - min of the per-chain F (nats)",
    "free_energy_per_chain": "F of each independent chain (sampler, chain)",
    "r_hat_max": "largest rank-normalised split R-hat over all scalar parameters",
    "ess_bulk_min": "smallest bulk ESS over all scalar parameters",
    "ess_tail_min": "smallest tail ESS over all scalar parameters",
    "ess_bulk_per_second": "ess_bulk_min / wall_time (1/s)",
    "wall_time": "wall time of the whole sampling call, compilation included (s)",
    "sampling_time": "PyMC's own sampling time, without compilation (s)",
    "n_log_density_evaluations": "log-density evaluations (see the counting convention)",
    "n_gradient_evaluations": "gradient evaluations (NUTS only; 0 for the others)",
    "evaluations_per_effective_draw": "n_log_density_evaluations / ess_bulk_min",
    "n_draws": "posterior draws over all chains",
    "r_hat": "R-hat of each scalar parameter (sampler, parameter)",
    "ess_bulk": "bulk ESS of each scalar parameter (sampler, parameter)",
    "ess_tail": "tail ESS of each scalar parameter (sampler, parameter)",
    "posterior_mean": "posterior mean of each scalar parameter (sampler, parameter)",
    "posterior_sd": "posterior sd of each scalar parameter (sampler, parameter)",
}
#: Further variables present when a reference is given.
REFERENCE_FIELDS = {
    "mean_error_in_sd": "max over parameters of |mean - reference mean| / reference sd",
    "mean_error_in_sd_per_parameter": "|mean - reference mean| / reference sd (sampler, parameter)",
    "sd_ratio_max_error": "max over parameters of |sd / reference sd - 1|",
    "reference_mean": "reference posterior mean (parameter)",
    "reference_sd": "reference posterior sd (parameter)",
    "mode_coverage": "fraction of reference modes visited by the pooled draws (modes given)",
    "mode_coverage_per_chain": "fraction of reference modes visited by each chain",
    "mode_fraction": "fraction of pooled draws nearest to each mode (sampler, mode)",
    "mode_weight_error": "max over modes of |mode_fraction - reference weight|",
    "free_energy_error": "F - reference F (nats; reference evidence given)",
    "free_energy_z": "free_energy_error / sqrt(MCSE² + reference MCSE²)",
}


# -- running ----------------------------------------------------------------------------
@dataclass(frozen=True)
class SamplerRun:
    """One sampler's run: its result and what it cost.

    Attributes
    ----------
    sampler : str
        ``"replica_exchange"``, ``"smc"``, ``"nuts"`` or ``"nested"``.
    settings : object
        The settings used (``ReplicaExchangeSettings``, ``SMCSettings``,
        :class:`NUTSSettings` or ``NestedSettings``).
    result : xarray.DataTree
        PyMC's result.
    free_energy : FreeEnergy or None
        None for NUTS.
    wall_time : float
        Seconds for the whole call (compilation included).
    sampling_time : float
        PyMC's own sampling time (NaN if not recorded).
    n_log_density_evaluations, n_gradient_evaluations : int
        See the module's counting convention.
    random_seed : int or None
    """

    sampler: str
    settings: object
    result: xr.DataTree
    free_energy: FreeEnergy | None
    wall_time: float
    sampling_time: float
    n_log_density_evaluations: int
    n_gradient_evaluations: int
    random_seed: int | None = None


def _model_dim(model: pm.Model) -> int:
    return int(sum(np.size(value) for value in model.initial_point().values()))


def _sampling_time(sampler: str, idata: xr.DataTree) -> float:
    if sampler == "smc":
        value = idata["sample_stats"].attrs.get("_t_sampling")
    else:
        value = idata["posterior"].attrs.get("sampling_time")
    return float(value) if value is not None else np.nan


def run_sampler(
    model: pm.Model,
    sampler: str,
    settings: ReplicaExchangeSettings | SMCSettings | NUTSSettings | NestedSettings | None = None,
    random_seed: int | None = None,
    progressbar: bool = False,
) -> SamplerRun:
    """Run one sampler on ``model``, timing it and counting its evaluations.

    Parameters
    ----------
    model : pymc.Model
    sampler : {"replica_exchange", "smc", "nuts", "nested"}
    settings : optional
        The sampler's settings (its class's defaults when omitted).
    random_seed : int, optional
    progressbar : bool

    Returns
    -------
    SamplerRun
    """
    _check_sampler_names([sampler])
    settings = SAMPLER_SETTINGS[sampler]() if settings is None else settings
    _check_settings_type(sampler, settings)
    if sampler == "smc":  # PyMC's MH kernel, plus a stat counting its steps
        settings = dataclasses.replace(settings, kernel=CountingMH)
    start = time.perf_counter()
    idata, fe = settings.sample(model, random_seed, progressbar)
    wall = time.perf_counter() - start
    if sampler == "replica_exchange":
        n_logp, n_grad = replica_exchange_evaluations(settings, _model_dim(model)), 0
    elif sampler == "smc":
        n_logp, n_grad = smc_evaluations(idata), 0
    elif sampler == "nested":
        n_logp, n_grad = int(idata["sample_stats"]["n_likelihood_calls"].sum()), 0
    else:
        n_logp = n_grad = nuts_evaluations(idata)
    return SamplerRun(
        sampler=sampler,
        settings=settings,
        result=idata,
        free_energy=fe,
        wall_time=wall,
        sampling_time=_sampling_time(sampler, idata),
        n_log_density_evaluations=n_logp,
        n_gradient_evaluations=n_grad,
        random_seed=random_seed,
    )


def _check_sampler_names(samplers: Sequence[str]) -> None:
    if isinstance(samplers, str):
        raise ValueError(f"samplers must be a sequence of names, got the string {samplers!r}")
    unknown = [name for name in samplers if name not in SAMPLER_SETTINGS]
    if unknown:
        raise ValueError(f"unknown sampler(s) {unknown}; known samplers: {list(SAMPLER_SETTINGS)}")
    if len(set(samplers)) != len(samplers):
        raise ValueError(f"each sampler may appear once, got {list(samplers)}")
    if not samplers:
        raise ValueError(f"no samplers given; known samplers: {list(SAMPLER_SETTINGS)}")


def _check_settings_type(sampler: str, settings: object) -> None:
    expected = SAMPLER_SETTINGS[sampler]
    if not isinstance(settings, expected):
        raise ValueError(
            f"settings for {sampler!r} must be a {expected.__name__}, got {type(settings).__name__}"
        )


# -- diagnostics ------------------------------------------------------------------------
def _mode_assignment(draws: np.ndarray, reference: ReferencePosterior) -> np.ndarray:
    """Index of the nearest reference mode of every draw (distances in reference sds)."""
    z = (draws[..., None, :] - reference.modes) / reference.sds
    return np.argmin(np.sum(z * z, axis=-1), axis=-1)


def _diagnostics(
    run: SamplerRun,
    var_names: Sequence[str] | None,
    relabel: Callable[[xr.Dataset], xr.Dataset] | None,
) -> xr.DataArray:
    posterior = run.result["posterior"].to_dataset()
    if relabel is not None:
        posterior = relabel(posterior)
    return parameter_draws(posterior, var_names)


def summarize_runs(
    runs: Sequence[SamplerRun],
    reference: ReferencePosterior | None = None,
    var_names: Sequence[str] | None = None,
    relabel: Callable[[xr.Dataset], xr.Dataset] | None = None,
    min_mode_fraction: float = MIN_MODE_FRACTION,
) -> xr.Dataset:
    """The comparison Dataset of finished runs (see :func:`compare_samplers`).

    Useful to score the same runs against another reference, or with and without
    relabelling, without sampling again.

    Raises
    ------
    ValueError
        Fewer than 2 chains, runs with different numbers of chains or parameters, or a
        reference whose parameters are not in the posterior.
    """
    if not runs:
        raise ValueError("no runs to summarise")
    if not 0 < min_mode_fraction < 1:
        raise ValueError(f"min_mode_fraction must lie in (0, 1), got {min_mode_fraction}")
    names = [run.sampler for run in runs]
    if len(set(names)) != len(names):
        raise ValueError(f"each sampler may appear once, got {names}")
    draws = {run.sampler: _diagnostics(run, var_names, relabel) for run in runs}
    chains = {d.sizes["chain"] for d in draws.values()}
    if len(chains) != 1:
        raise ValueError(f"all runs must have the same number of chains, got {chains}")
    n_chains = chains.pop()
    if n_chains < 2:
        raise ValueError(f"R-hat needs at least 2 chains, got {n_chains}")
    parameters = list(draws[names[0]][PARAMETER_DIM].values)
    for name, d in draws.items():
        if list(d[PARAMETER_DIM].values) != parameters:
            raise ValueError(
                f"run {name!r} has parameters {list(d[PARAMETER_DIM].values)}, "
                f"expected {parameters}"
            )
    if reference is not None:
        missing = [p for p in reference.parameters if p not in parameters]
        if missing:
            raise ValueError(
                f"reference parameters {missing} are not in the posterior; its scalar "
                f"parameters are {parameters} (choose them with var_names)"
            )

    n_s, n_p = len(runs), len(parameters)
    scalar = {key: np.full(n_s, np.nan) for key in FIELDS if key not in _NON_SCALAR}
    per_chain = np.full((n_s, n_chains), np.nan)
    per_param = {key: np.full((n_s, n_p), np.nan) for key in _PER_PARAMETER}
    for i, run in enumerate(runs):
        d = draws[run.sampler]
        r_hat = az.rhat(d).values
        ess_bulk = az.ess(d, method="bulk").values
        ess_tail = az.ess(d, method="tail").values
        stacked = d.values.reshape(-1, n_p)
        per_param["r_hat"][i] = r_hat
        per_param["ess_bulk"][i] = ess_bulk
        per_param["ess_tail"][i] = ess_tail
        per_param["posterior_mean"][i] = stacked.mean(axis=0)
        per_param["posterior_sd"][i] = stacked.std(axis=0, ddof=1)
        fe = run.free_energy
        if fe is not None:
            scalar["free_energy"][i] = fe.value
            scalar["free_energy_mcse"][i] = fe.mcse
            scalar["free_energy_spread"][i] = float(np.ptp(fe.per_chain))
            per_chain[i, : fe.per_chain.size] = fe.per_chain
        scalar["r_hat_max"][i] = np.max(r_hat)
        scalar["ess_bulk_min"][i] = np.min(ess_bulk)
        scalar["ess_tail_min"][i] = np.min(ess_tail)
        scalar["wall_time"][i] = run.wall_time
        scalar["sampling_time"][i] = run.sampling_time
        scalar["ess_bulk_per_second"][i] = np.min(ess_bulk) / run.wall_time
        scalar["n_log_density_evaluations"][i] = run.n_log_density_evaluations
        scalar["n_gradient_evaluations"][i] = run.n_gradient_evaluations
        scalar["evaluations_per_effective_draw"][i] = run.n_log_density_evaluations / np.min(
            ess_bulk
        )
        scalar["n_draws"][i] = d.sizes["chain"] * d.sizes["draw"]

    data_vars: dict[str, tuple] = {
        key: (
            SAMPLER_DIM,
            values.astype(np.int64) if key in _COUNTS else values,
            {"description": FIELDS[key]},
        )
        for key, values in scalar.items()
    }
    data_vars["free_energy_per_chain"] = (
        (SAMPLER_DIM, "chain"),
        per_chain,
        {"description": FIELDS["free_energy_per_chain"], "units": "nats"},
    )
    for key, values in per_param.items():
        data_vars[key] = ((SAMPLER_DIM, PARAMETER_DIM), values, {"description": FIELDS[key]})
    coords: dict[str, object] = {
        SAMPLER_DIM: names,
        "chain": np.arange(n_chains),
        PARAMETER_DIM: parameters,
    }
    if reference is not None:
        data_vars.update(
            _reference_fields(runs, draws, parameters, reference, min_mode_fraction, scalar)
        )
        if reference.modes is not None:
            coords["mode"] = np.arange(reference.modes.shape[0])
    dataset = xr.Dataset(data_vars, coords=coords)
    for key in ("free_energy", "free_energy_mcse", "free_energy_spread", "free_energy_per_chain"):
        dataset[key].attrs["units"] = "nats"
    for key in ("wall_time", "sampling_time"):
        dataset[key].attrs["units"] = "s"
    dataset.attrs.update(
        {
            "title": "sampler comparison",
            "samplers": ", ".join(names),
            "chains": int(n_chains),
            "parameters": ", ".join(parameters),
            "relabel": "none" if relabel is None else _qualname(relabel),
            "min_mode_fraction": float(min_mode_fraction),
            "counting_convention": (
                "one evaluation = log-density (or gradient) at one parameter vector; "
                "replica exchange: chains x levels x (1 + (tune + draws) x n_sweeps x dim); "
                "SMC: particles x (1 + sum of mutation steps) per chain; "
                "nested: dynesty's likelihood calls; "
                "NUTS: sum over tuning and recorded draws of (n_steps + 1)"
            ),
        }
    )
    for run in runs:
        dataset.attrs[f"settings_{run.sampler}"] = run.settings.describe()
    if reference is not None:
        dataset.attrs["reference"] = str(reference)
        for key, value in reference.provenance.items():
            dataset.attrs[f"reference_{key}"] = value
    return dataset


_PER_PARAMETER = ("r_hat", "ess_bulk", "ess_tail", "posterior_mean", "posterior_sd")
_NON_SCALAR = ("free_energy_per_chain", *_PER_PARAMETER)
_COUNTS = ("n_log_density_evaluations", "n_gradient_evaluations", "n_draws")


def _qualname(function: Callable) -> str:
    module = getattr(function, "__module__", None)
    name = getattr(function, "__qualname__", repr(function))
    return f"{module}.{name}" if module else name


def _reference_fields(runs, draws, parameters, reference, min_mode_fraction, scalar):
    n_s, n_p = len(runs), len(parameters)
    index = [parameters.index(p) for p in reference.parameters]
    ref_mean = np.full(n_p, np.nan)
    ref_sd = np.full(n_p, np.nan)
    ref_mean[index], ref_sd[index] = reference.means, reference.sds
    error = np.full((n_s, n_p), np.nan)
    out: dict[str, tuple] = {}
    mean_error = np.full(n_s, np.nan)
    sd_error = np.full(n_s, np.nan)
    for i, run in enumerate(runs):
        values = draws[run.sampler].values[..., index].reshape(-1, len(index))
        error[i, index] = np.abs(values.mean(axis=0) - reference.means) / reference.sds
        mean_error[i] = np.max(error[i, index])
        sd_error[i] = np.max(np.abs(values.std(axis=0, ddof=1) / reference.sds - 1.0))
    out["mean_error_in_sd"] = (SAMPLER_DIM, mean_error)
    out["mean_error_in_sd_per_parameter"] = ((SAMPLER_DIM, PARAMETER_DIM), error)
    out["sd_ratio_max_error"] = (SAMPLER_DIM, sd_error)
    out["reference_mean"] = (PARAMETER_DIM, ref_mean)
    out["reference_sd"] = (PARAMETER_DIM, ref_sd)
    if reference.modes is not None:
        n_m = reference.modes.shape[0]
        n_c = next(iter(draws.values())).sizes["chain"]
        coverage = np.full(n_s, np.nan)
        coverage_chain = np.full((n_s, n_c), np.nan)
        fractions = np.full((n_s, n_m), np.nan)
        weight_error = np.full(n_s, np.nan)
        for i, run in enumerate(runs):
            assigned = _mode_assignment(draws[run.sampler].values[..., index], reference)
            counts = np.stack([(assigned == m).mean(axis=1) for m in range(n_m)], axis=-1)
            pooled = counts.mean(axis=0)
            fractions[i] = pooled
            coverage[i] = np.mean(pooled >= min_mode_fraction)
            coverage_chain[i] = np.mean(counts >= min_mode_fraction, axis=1)
            if reference.mode_weights is not None:
                weight_error[i] = np.max(np.abs(pooled - reference.mode_weights))
        out["mode_coverage"] = (SAMPLER_DIM, coverage)
        out["mode_coverage_per_chain"] = ((SAMPLER_DIM, "chain"), coverage_chain)
        out["mode_fraction"] = ((SAMPLER_DIM, "mode"), fractions)
        if reference.mode_weights is not None:
            out["mode_weight_error"] = (SAMPLER_DIM, weight_error)
            out["reference_mode_weight"] = ("mode", reference.mode_weights)
    if reference.log_evidence is not None:
        f_error = scalar["free_energy"] + reference.log_evidence
        z = f_error / np.sqrt(scalar["free_energy_mcse"] ** 2 + reference.log_evidence_mcse**2)
        out["free_energy_error"] = (SAMPLER_DIM, f_error, {"units": "nats"})
        out["free_energy_z"] = (SAMPLER_DIM, z)
    for key, value in list(out.items()):
        description = REFERENCE_FIELDS.get(key, "reference mode weight")
        attrs = value[2] if len(value) == 3 else {}
        out[key] = (value[0], value[1], {"description": description, **attrs})
    return out


# -- the harness ------------------------------------------------------------------------
def _settings_for(
    samplers: Sequence[str], chains: int, settings: Mapping[str, object] | None
) -> dict[str, object]:
    settings = dict(settings or {})
    extra = [key for key in settings if key not in samplers]
    if extra:
        raise ValueError(
            f"settings given for {extra}, which are not among the samplers compared "
            f"{list(samplers)} (known samplers: {list(SAMPLER_SETTINGS)})"
        )
    chosen = {}
    for name in samplers:
        value = settings.get(name, SAMPLER_SETTINGS[name]())
        _check_settings_type(name, value)
        chosen[name] = dataclasses.replace(value, chains=chains)
    return chosen


def _netcdf_safe(tree: xr.DataTree) -> xr.DataTree:
    """A copy whose attrs netCDF can store (lists joined, None and bools dropped).

    The runs' data are numeric already: SMC stats are tidied by ``SMCSettings.sample``.
    """
    nodes = {}
    for node in tree.subtree:
        dataset = node.to_dataset(inherit=False)
        dataset.attrs = {
            key: (value if not isinstance(value, list | tuple) else ", ".join(map(str, value)))
            for key, value in dataset.attrs.items()
            if value is not None and not isinstance(value, bool)
        }
        nodes[node.relative_to(tree) if node is not tree else "/"] = dataset
    return xr.DataTree.from_dict({("/" if k in (".", "/") else k): v for k, v in nodes.items()})


def compare_samplers(
    model: pm.Model,
    samplers: Sequence[str] = DEFAULT_SAMPLERS,
    chains: int = 4,
    random_seed: int | None = None,
    reference: ReferencePosterior | None = None,
    settings: Mapping[str, object] | None = None,
    var_names: Sequence[str] | None = None,
    relabel: Callable[[xr.Dataset], xr.Dataset] | None = None,
    progressbar: bool = False,
    path: str | Path | None = None,
    save_runs: bool = False,
    min_mode_fraction: float = MIN_MODE_FRACTION,
    return_runs: bool = False,
) -> xr.Dataset | tuple[xr.Dataset, dict[str, SamplerRun]]:
    """Run replica exchange, SMC and NUTS on ``model`` and tabulate how each did.

    Parameters
    ----------
    model : pymc.Model
        Any model with continuous free variables (replica exchange and SMC also need
        observed variables or Potentials to temper).
    samplers : sequence of {"replica_exchange", "smc", "nuts", "nested"}
        Which samplers, in this order (default :data:`DEFAULT_SAMPLERS`; nested
        sampling, :class:`~samplers.settings.NestedSettings`, when named).
    chains : int
        Independent chains of every sampler (≥ 2; overrides the settings' own ``chains``
        so that the samplers are compared on equal terms).
    random_seed : int, optional
        Seed given to every sampler; drawn (and recorded in ``attrs["random_seed"]``)
        when omitted.
    reference : ReferencePosterior, optional
        The answer to score against: mean errors and sd ratios, mode coverage (when it
        has modes), F error (when it has a log evidence).
    settings : mapping, optional
        Per-sampler settings, e.g. ``{"replica_exchange": ReplicaExchangeSettings(...),
        "smc": SMCSettings(...), "nuts": NUTSSettings(...), "nested":
        NestedSettings(...)}``; the classes' defaults
        otherwise.
    var_names : sequence of str, optional
        Variables for the diagnostics (default: the model's free variables).
    relabel : callable, optional
        ``Dataset -> Dataset`` applied to every posterior before the diagnostics (to undo
        label switching, e.g. ``spectral.relabel_by_position``).
    progressbar : bool
    path : str or Path, optional
        Write the Dataset to this netCDF file (``xarray.open_dataset`` reads it back).
        With ``save_runs=True`` every sampler's full result is stored in the same file
        as the group ``runs/<sampler>`` (``xarray.open_datatree`` reads them; PyMC's
        ragged SMC stats become NaN-padded float arrays).
    min_mode_fraction : float
        Share of draws nearest to a reference mode for it to count as visited.
    return_runs : bool
        Also return the :class:`SamplerRun` of every sampler (for
        :func:`summarize_runs` against other references, or plots of the draws).

    Returns
    -------
    xarray.Dataset or (xarray.Dataset, dict)
        Along ``sampler``: the variables of :data:`FIELDS` (and of
        :data:`REFERENCE_FIELDS` with a reference); ``attrs`` hold each sampler's
        settings, the seed, the model's variables, the date and the versions.

    Raises
    ------
    ValueError
        Unknown or repeated sampler names, ``chains < 2``, settings of the wrong type or
        for samplers not compared, or a reference whose parameters are not in the model.
    """
    samplers = list(samplers) if not isinstance(samplers, str) else samplers
    _check_sampler_names(samplers)
    if int(chains) != chains or chains < 2:
        raise ValueError(f"chains must be an integer ≥ 2 (R-hat compares chains), got {chains!r}")
    chosen = _settings_for(samplers, int(chains), settings)
    free_names = [rv.name for rv in model.free_RVs]
    var_names = free_names if var_names is None else list(var_names)
    unknown = [name for name in var_names if name not in model.named_vars]
    if unknown:
        raise ValueError(f"var_names {unknown} are not variables of the model {free_names}")
    if reference is not None:
        _check_reference_against_model(model, reference, var_names)
    if random_seed is None:
        random_seed = int(np.random.SeedSequence().entropy % (2**31))

    runs: dict[str, SamplerRun] = {}
    for name in samplers:
        runs[name] = run_sampler(model, name, chosen[name], random_seed, progressbar)
    dataset = summarize_runs(list(runs.values()), reference, var_names, relabel, min_mode_fraction)
    dataset.attrs.update(
        {
            "random_seed": int(random_seed),
            "model_free_variables": ", ".join(free_names),
            "var_names": ", ".join(var_names),
            "model_dim": _model_dim(model),
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            **environment(),
        }
    )
    if path is not None:
        write_comparison(dataset, path, runs if save_runs else None)
    return (dataset, runs) if return_runs else dataset


def _check_reference_against_model(
    model: pm.Model, reference: ReferencePosterior, var_names: Sequence[str]
) -> None:
    """Fail before sampling if the reference names parameters the posterior will not have."""
    labels = []
    for name in var_names:
        shape = tuple(int(n) for n in model.named_vars[name].shape.eval())
        dims = model.named_vars_to_dims.get(name, (None,) * len(shape))
        coords = [
            np.asarray(model.coords[d]) if d is not None and d in model.coords else np.arange(n)
            for d, n in zip(dims, shape, strict=True)
        ]
        labels += [_label(name, index) for index in _grid(coords)]
    missing = [p for p in reference.parameters if p not in labels]
    if missing:
        raise ValueError(
            f"reference parameters {missing} are not parameters of the model; its scalar "
            f"parameters are {labels} (choose them with var_names)"
        )


def write_comparison(
    dataset: xr.Dataset, path: str | Path, runs: Mapping[str, SamplerRun] | None = None
) -> Path:
    """Write the comparison (and optionally every run's result as ``runs/<sampler>``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not runs:
        dataset.to_netcdf(path)
        return path
    tree = xr.DataTree(dataset)
    tree["runs"] = xr.DataTree()
    for name, run in runs.items():
        tree["runs"][name] = _netcdf_safe(run.result)
    tree.to_netcdf(path)
    return path
