r"""Model selection by Bayesian free energy, run end to end: :func:`select_model`.

Every candidate model is sampled with the same sampler settings (replica exchange or
PyMC SMC), its free energy :math:`F(K) = -\log p(D|K)` is estimated with a Monte Carlo
standard error, and the candidates are ranked by their posterior probability

.. math::

    p(K|D) = \frac{e^{-F(K)}\,p(K)}{\sum_{K'} e^{-F(K')}\,p(K')},

that is by :math:`G(K) = F(K) - \log p(K)` (equal to :math:`F` for a uniform prior). The
candidate with the lowest :math:`G` is chosen only if every other candidate is further
away than their combined standard error,

.. math::

    G(K') - G(K^\ast) > t\,\sqrt{\mathrm{MCSE}(K^\ast)^2 + \mathrm{MCSE}(K')^2}
    \quad\text{for all } K' \ne K^\ast,

(:math:`t` = ``tie_tolerance``); otherwise the result says "undecided" and names the
candidates it cannot tell apart. The default :math:`t = 2` makes two equally good
candidates come out undecided about 95 % of the time (the difference of two estimates
is close to normal); :math:`t = 1`, the least that counts "closer than the combined
MCSE" as a tie, would still pick one of two equal models a third of the time.
Sampling longer shrinks the MCSE and decides a close call that is real; two equally
good models stay undecided, which is the honest answer (their posterior probabilities
are then about equal too).

The MCSE only measures the noise of what the ladders explored. For replica exchange the
table also counts each chain's **round trips** (a replica travelling from the prior
level to the posterior level and back, :func:`samplers.ladder_diagnostics`). A ladder
with no round trip never brought a state from the prior up to the posterior, so its F
rests on the region it started in and can be biased far beyond its MCSE (a multimodal
posterior whose modes are not connected at any temperature). When the chosen candidate
or one tied with it has a chain without a round trip, the decision says so.

Beyond round trips, every replica-exchange candidate's F is checked three ways
(:func:`samplers.evidence.reliability.free_energy_reliability`: round trips, the
chains' agreement, and a census of the posterior's modes against the draws) and the
table records ``trusted`` and the verdict per candidate. A flagged candidate is a
**contender** if it could hold the lowest G: always when its chains made no round trip
or disagree (its F may then be wrong by any amount), and when only the census flags it,
if its F lowered by the census's bias estimate comes within the tie tolerance of the
best. With a contender flagged, the selection answers ``"unreliable"`` instead of a
model, with the reasons; the best candidate by F is still named in ``best``. Nested
sampling's runs are checked for agreement the same way; SMC's F is reported as
unchecked (:mod:`samplers.evidence.run_checks`).
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections.abc import Callable, Hashable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pymc as pm
import xarray as xr

from ..environment import environment
from ..evidence.free_energy import FreeEnergy, free_energy
from ..evidence.reliability import free_energy_reliability
from ..replica_exchange.diagnostics import ladder_diagnostics
from ..replica_exchange.run_record import SamplingInterrupted
from ..settings import FREE_ENERGY_SAMPLERS, SAMPLER_SETTINGS, ReplicaExchangeSettings, SMCSettings
from .checkpoint import CandidateCheckpoints
from .files import write_model_selection
from .table import selection_table

__all__ = ["select_model"]

Candidate = pm.Model | Callable[[], pm.Model]


def _settings(method: str, settings, overrides: Mapping[str, object]):
    if method not in FREE_ENERGY_SAMPLERS:
        raise ValueError(
            f"unknown method {method!r}; choose one of {', '.join(FREE_ENERGY_SAMPLERS)}"
        )
    cls = SAMPLER_SETTINGS[method]
    if settings is None:
        settings = cls()
    elif not isinstance(settings, cls):
        raise TypeError(
            f"settings for method {method!r} must be {cls.__name__}, got {type(settings).__name__}"
        )
    unknown = sorted(set(overrides) - {f.name for f in dataclasses.fields(cls)})
    if unknown:
        known = ", ".join(f.name for f in dataclasses.fields(cls))
        raise TypeError(f"unknown {cls.__name__} option(s) {unknown}; known: {known}")
    return dataclasses.replace(settings, **overrides)


def _check_candidates(candidates: Mapping[Hashable, Candidate]) -> list[Hashable]:
    if not isinstance(candidates, Mapping):
        raise TypeError("candidates must be a mapping from names to PyMC models or factories")
    labels = list(candidates)
    if len(labels) < 2:
        raise ValueError(f"model selection needs at least two candidates, got {len(labels)}")
    names = [str(label) for label in labels]
    if len(set(names)) != len(names):
        raise ValueError(f"candidate names must be distinct as strings, got {names}")
    for label, candidate in candidates.items():
        if "/" in str(label) or not str(label).strip():
            raise ValueError(f"candidate name {label!r} must be non-empty and contain no '/'")
        if not (isinstance(candidate, pm.Model) or callable(candidate)):
            raise TypeError(
                f"candidate {label!r} must be a pymc.Model or a function returning one, "
                f"got {type(candidate).__name__}"
            )
    return labels


def _log_prior(prior, labels: Sequence[Hashable]) -> np.ndarray:
    """Normalised log prior probabilities of the candidates, in ``labels`` order."""
    if prior is None:
        return np.full(len(labels), -np.log(len(labels)))
    if isinstance(prior, Mapping):
        missing = [label for label in labels if label not in prior]
        extra = [label for label in prior if label not in labels]
        if missing or extra:
            raise ValueError(
                f"prior must give every candidate a probability: missing {missing}, unknown {extra}"
            )
        weights = np.array([prior[label] for label in labels], dtype=float)
    else:
        weights = np.asarray(prior, dtype=float)
        if weights.shape != (len(labels),):
            raise ValueError(
                f"prior has shape {weights.shape}, expected ({len(labels)},): one weight "
                "per candidate"
            )
    if not np.all(np.isfinite(weights)) or np.any(weights <= 0):
        raise ValueError(f"prior weights must be positive and finite, got {weights}")
    return np.log(weights) - np.log(weights.sum())


#: The census options ``reliability_options`` of :func:`select_model` may set.
_CENSUS_OPTIONS = ("starts", "screen_starts")


def _census_options(options: Mapping[str, int] | None) -> dict[str, int]:
    options = dict(options or {})
    unknown = sorted(set(options) - set(_CENSUS_OPTIONS))
    if unknown:
        raise ValueError(
            f"unknown reliability option(s) {unknown}; choose from {list(_CENSUS_OPTIONS)}"
        )
    return options


def _build(label: Hashable, candidate: Candidate) -> pm.Model:
    model = candidate if isinstance(candidate, pm.Model) else candidate()
    if not isinstance(model, pm.Model):
        raise TypeError(
            f"the factory of candidate {label!r} returned {type(model).__name__}, not a pymc.Model"
        )
    return model


def _versions() -> str:
    env = environment()
    return ", ".join(
        f"{name} {env[name]}" for name in ("pymc", "pytensor", "arviz", "xarray", "numpy")
    )


def select_model(
    candidates: Mapping[Hashable, Candidate],
    method: str = "replica_exchange",
    *,
    settings: ReplicaExchangeSettings | SMCSettings | None = None,
    prior: Mapping[Hashable, float] | Sequence[float] | None = None,
    tie_tolerance: float = 2.0,
    dim: str = "model",
    random_seed: int | None = None,
    progressbar: bool = True,
    path: str | Path | None = None,
    log: Callable[[str], None] | None = None,
    checkpoint: str | Path | None = None,
    checkpoint_every: int | None = None,
    check_reliability: bool = True,
    reliability_options: Mapping[str, int] | None = None,
    **sampler_options: object,
) -> xr.DataTree:
    """Sample every candidate model, estimate its free energy and choose among them.

    Parameters
    ----------
    candidates : mapping
        Candidate name (``"K=3"``, ``"H_c+H_Q"``, or an int) to a ``pymc.Model`` or to a
        function of no arguments that builds one. Factories are called one at a time,
        so only one candidate's compiled functions are alive at once.
    method : {"replica_exchange", "smc", "nested"}
        The sampler: :func:`samplers.sample_replica_exchange` (F by stepping stone, MCSE
        from batch means), ``pm.sample_smc`` (MCSE from the spread across chains) or
        dynesty nested sampling (:class:`~samplers.settings.NestedSettings`; MCSE the
        larger of dynesty's error and the spread across runs).
    settings : ReplicaExchangeSettings, SMCSettings or NestedSettings, optional
        Full sampler settings; defaults to the class defaults of ``method``.
    prior : mapping or sequence, optional
        Prior weights :math:`p(K)` (normalised here); uniform by default.
    tie_tolerance : float
        Candidates whose :math:`G = F - \\log p(K)` is within ``tie_tolerance`` combined
        MCSE of the best are reported as undecided.
    dim : str
        Name of the candidate dimension of the table.
    random_seed : int, optional
        Seeds every run (candidate ``i`` gets the ``i``-th child of
        ``numpy.random.SeedSequence(random_seed)``), so the result is reproducible.
    progressbar : bool
        Show PyMC's progress bars.
    path : str or Path, optional
        Write the whole result (table and every run) to this netCDF file.
    log : callable, optional
        Called with one line per candidate as it is sampled (e.g. ``print``).
    checkpoint : str or Path, optional
        A folder that keeps the selection candidate by candidate
        (:mod:`samplers.selection.checkpoint`): every finished candidate's run, and the
        replica-exchange checkpoint of the one under way. The same call after an
        interruption reuses the finished runs as they are, continues the interrupted
        candidate and returns what an uninterrupted selection returns. A folder of
        another selection (method, settings, seed, candidates) is refused. With
        ``random_seed=None`` the seed drawn at the first start is kept in the folder.
    checkpoint_every : int, optional
        Replica exchange: write the candidate's checkpoint every this many iterations
        (default: once a minute).
    check_reliability : bool
        Check every candidate's F and answer ``"unreliable"`` when a contender is
        flagged (see the module docstring): for replica exchange round trips, chain
        agreement and a mode census (a few seconds to a minute per candidate); for
        nested sampling the runs' agreement and the census; SMC has no check of its own
        (its F is reported as unchecked). ``False`` skips the census and lets the decision ignore
        the checks (keeping only the round-trip caution); the table still reports every
        F's own checks (round trips, chain agreement) in ``trusted`` and ``reliability``.
    reliability_options : mapping, optional
        The census of the check: ``starts`` (prior L-BFGS starts, default 100) and
        ``screen_starts`` (prior draws of the batched screen, default
        :data:`~samplers.evidence.reliability.SCREEN_STARTS`: none). A screen finds
        modes whose basins hold a small share of the prior, which the starts can miss,
        but costs minutes per candidate and can flag an over-fitted candidate whose
        modes the Laplace approximation weighs wrongly (measured in that constant's
        description); see :func:`~samplers.evidence.reliability.free_energy_reliability`.
    **sampler_options
        Overrides of single settings fields, e.g. ``draws=500, chains=2``.

    Returns
    -------
    xarray.DataTree
        The root dataset is the selection table (``result.to_dataset()``), along
        ``dim``: ``free_energy``, ``free_energy_mcse``, ``free_energy_per_chain``
        (with ``chain``), ``delta_free_energy`` (F − F of the chosen or best
        candidate), ``prior_probability``, ``probability`` = p(K|D) and
        ``tied_with_best``, ``trusted`` (1, 0, NaN when unchecked) and ``reliability``
        (the verdict of the full check with ``check_reliability``, otherwise of the run's
        own checks). Root attrs: ``chosen`` (a
        candidate name, ``"undecided"`` or ``"unreliable"``), ``best`` (lowest G even
        when undecided or unreliable), ``tied`` (names), ``unreliable`` (the flagged
        contenders),
        ``decision`` (one sentence), ``sampler``, ``random_seed``, ``versions``,
        ``wall_time_s``. Each candidate's full run (posterior, sample stats, observed
        data, and for replica exchange the ``free_energy`` group) is the child
        ``candidates/<name>``, with attrs ``wall_time_s`` and ``free_energy``. Runs
        inherit the root's coordinates (as DataTree nodes do): read them with the
        default ``to_dataset()``, not ``inherit=False``, which after a netCDF round
        trip drops the ``chain`` coordinate stored once at the root.

    Raises
    ------
    ValueError
        Fewer than two candidates, duplicate or unusable names, an unknown method, a
        bad prior, or a non-positive tie tolerance.
    samplers.SamplingInterrupted
        On Ctrl-C; with a checkpoint, after the candidate's checkpoint is written (the
        message says how to continue).
    samplers.CheckpointMismatch
        If ``checkpoint`` holds another selection.
    TypeError
        A candidate that is neither a model nor a factory of one; settings of the
        wrong class; unknown sampler options.

    Examples
    --------
    >>> from measurement_models import spectral
    >>> data = spectral.simulate_reference()
    >>> result = select_model(  # doctest: +SKIP
    ...     {f"K={k}": lambda k=k: spectral.build_model(data, n_peaks=k) for k in (2, 3, 4)},
    ...     random_seed=1,
    ... )
    >>> result.attrs["chosen"]  # doctest: +SKIP
    'K=3'
    """
    labels = _check_candidates(candidates)
    settings = _settings(method, settings, sampler_options)
    log_prior = _log_prior(prior, labels)
    if not (np.isfinite(tie_tolerance) and tie_tolerance > 0):
        raise ValueError(f"tie_tolerance must be positive and finite, got {tie_tolerance!r}")
    census_options = _census_options(reliability_options)
    kept = None
    if checkpoint is not None:
        kept = CandidateCheckpoints(
            checkpoint, method=method, settings=settings, random_seed=random_seed, labels=labels
        )
        random_seed = kept.random_seed
    seeds = np.random.SeedSequence(random_seed).generate_state(len(labels))
    log = log or (lambda _line: None)

    started = time.perf_counter()
    free_energies: dict[Hashable, FreeEnergy] = {}
    runs: dict[str, xr.DataTree] = {}
    round_trips: dict[str, np.ndarray | None] = {}
    for i, label in enumerate(labels):
        tic = time.perf_counter()
        model = _build(label, candidates[label])
        idata = None if kept is None else kept.load(label, model)
        check = check_reliability and not isinstance(settings, SMCSettings)
        if idata is not None:
            log(f"[{i + 1}/{len(labels)}] {dim} = {label}: kept in {kept.run_path(label)}")
            fe = _kept_free_energy(idata, settings)
        else:
            log(f"[{i + 1}/{len(labels)}] {dim} = {label}: {settings.describe()}")
            idata, fe = _sample_candidate(
                settings, model, int(seeds[i]), progressbar, kept, label, checkpoint_every
            )
            if check:
                idata["reliability"] = xr.DataTree(
                    free_energy_reliability(
                        idata,
                        model,
                        method=fe.method,
                        random_seed=int(seeds[i]),
                        **census_options,
                    )
                )
            idata.attrs.update(
                {"free_energy": str(fe), "wall_time_s": round(time.perf_counter() - tic, 2)}
            )
            if kept is not None:
                kept.keep(label, idata, model)
        free_energies[label] = fe
        runs[str(label)] = idata
        round_trips[str(label)] = trips = (
            _round_trips(idata) if fe.checks is None else fe.checks.round_trips
        )
        log(
            f"      {fe}  [{time.perf_counter() - tic:.1f} s]"
            + ("" if trips is None else f"  round trips per chain {trips.tolist()}")
            + (
                f"\n      {idata['reliability'].attrs['verdict']}"
                if check and "reliability" in idata.children
                else ""
            )
        )

    table = selection_table(
        free_energies, dim=dim, log_prior=log_prior, tie_tolerance=tie_tolerance
    )
    _add_round_trips(table, round_trips, dim)
    table.attrs["unreliable"] = ""
    _add_reliability(table, runs, free_energies, dim, tie_tolerance, decide=check_reliability)
    if not np.all(np.isfinite(table["free_energy_mcse"])):
        warnings.warn(
            "some free energies have no Monte Carlo standard error (one chain?): "
            "the choice was made without checking for ties",
            UserWarning,
            stacklevel=2,
        )
    table.attrs.update(
        {
            "sampler": settings.describe(),
            "random_seed": "None" if random_seed is None else int(random_seed),
            "versions": _versions(),
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "wall_time_s": round(time.perf_counter() - started, 1),
        }
    )
    tree = xr.DataTree(dataset=table)
    for name, run in runs.items():
        tree[f"candidates/{name}"] = run
    if path is not None:
        write_model_selection(tree, path)
    return tree


def _kept_free_energy(idata: xr.DataTree, settings) -> FreeEnergy:
    """A kept run's free energy, as its sampler gave it (replica exchange stores every
    estimator in the run's ``free_energy`` group)."""
    if isinstance(settings, ReplicaExchangeSettings):
        return FreeEnergy.from_dataset(idata["free_energy"].to_dataset(), settings.method)
    return free_energy(idata)


def _sample_candidate(settings, model, seed, progressbar, kept, label, checkpoint_every):
    """One candidate's run and free energy; with a checkpoint folder, a replica-exchange
    run keeps its own checkpoint there, and Ctrl-C says what is kept."""
    if kept is None:
        return settings.sample(model, seed, progressbar)
    options = {}
    if isinstance(settings, ReplicaExchangeSettings):
        options = {
            "checkpoint": kept.sampler_checkpoint(label),
            "checkpoint_every": checkpoint_every,
        }
    try:
        return settings.sample(model, seed, progressbar, **options)
    except KeyboardInterrupt:
        finished = kept.finished()
        raise SamplingInterrupted(
            f"model selection interrupted while sampling candidate {label!s}; kept in "
            f"{str(kept.folder)!r}: the finished candidates "
            f"({', '.join(finished) if finished else 'none yet'})"
            + (" and the run so far" if options else "")
            + ". Run the same call again (same arguments, same checkpoint) to continue.",
            kept.folder,
        ) from None


def _round_trips(idata: xr.DataTree) -> np.ndarray | None:
    """Round trips per chain of a replica-exchange run (None for other samplers)."""
    stats = idata["sample_stats"] if "sample_stats" in idata.children else None
    if stats is None or "replica_at_level" not in stats.data_vars:
        return None
    return ladder_diagnostics(idata)["round_trips"].values


def _add_round_trips(table: xr.Dataset, trips: Mapping[str, np.ndarray | None], dim: str) -> None:
    """Add ``round_trips`` (candidate, chain) and caution the decision about ladders
    without a round trip among the chosen candidate and those tied with it."""
    if all(value is None for value in trips.values()):
        return
    counts = np.full((table.sizes[dim], table.sizes["chain"]), np.nan)
    for i, label in enumerate(table[dim].values):
        value = trips[str(label)]
        if value is not None:
            counts[i, : value.size] = value
    table["round_trips"] = ((dim, "chain"), counts)
    table["round_trips"].attrs["long_name"] = "replica round trips prior → posterior → prior"
    contending = table["tied_with_best"].values  # the best candidate is tied with itself
    stuck = [
        str(label)
        for label, row, tied in zip(table[dim].values, counts, contending, strict=True)
        if tied and np.any(row == 0)
    ]
    if stuck:
        table.attrs["decision"] += (
            f"; caution: a ladder of {', '.join(stuck)} made no round trip from the prior "
            "to the posterior, so its F may be biased beyond its MCSE (see round_trips)"
        )


#: Checks whose failure leaves the size of F's error open (any flagged candidate with
#: one of them is a contender).
UNBOUNDED_CHECKS = ("round_trips", "chain_agreement")


def _add_reliability(
    table: xr.Dataset,
    runs: Mapping[str, xr.DataTree],
    free_energies: Mapping[Hashable, FreeEnergy],
    dim: str,
    tie_tolerance: float,
    decide: bool,
) -> None:
    """Add ``trusted`` and ``reliability`` per candidate (the full check where it ran,
    otherwise the run's own checks of its F); with ``decide``, answer ``"unreliable"``
    when a flagged candidate is a contender (module docstring)."""
    labels = [str(label) for label in table[dim].values]
    energies = {str(label): fe for label, fe in free_energies.items()}
    checks = {}
    for label in labels:
        if "reliability" in runs[label].children:
            full = runs[label]["reliability"].to_dataset()
            failed = set(full["check"].values[~full["passed"].values])
            checks[label] = (
                bool(full.attrs["trusted"]),
                full.attrs["verdict"],
                failed,
                float(full["census_bias"]),
            )
        elif energies[label].checks is not None:
            own = energies[label].checks
            checks[label] = (own.trusted, own.verdict, set(own.failed), 0.0)
    if not checks:
        return
    table["trusted"] = (
        dim,
        [np.nan if checks.get(k, (None,))[0] is None else float(checks[k][0]) for k in labels],
        {"long_name": "F passed every reliability check (1), failed one (0), unchecked (NaN)"},
    )
    table["reliability"] = (dim, [checks[k][1] if k in checks else "" for k in labels])
    if not decide:
        return
    best = labels.index(table.attrs["best"])
    score = table["free_energy"].values - np.log(table["prior_probability"].values)
    mcse = table["free_energy_mcse"].values
    contenders = []
    for i, label in enumerate(labels):
        trusted, _, failed, bias = checks.get(label, (None, "", set(), 0.0))
        if trusted is None or trusted:
            continue
        lowered = score[i] - bias
        combined = np.sqrt(mcse[i] ** 2 + mcse[best] ** 2)
        if (
            failed & set(UNBOUNDED_CHECKS)
            or i == best
            or lowered - score[best] <= (tie_tolerance * combined)
        ):
            contenders.append(label)
    table.attrs["unreliable"] = ", ".join(contenders)
    if contenders:
        table.attrs["chosen"] = "unreliable"
        reasons = "; ".join(
            f"{dim} = {label}: {checks[label][1].removeprefix('unreliable: ')}"
            for label in contenders
        )
        table.attrs["decision"] = (
            f"unreliable: the free energies of {', '.join(contenders)} cannot be trusted, and "
            f"each could hold the lowest F ({reasons}). Lowest F as estimated: "
            f"{table.attrs['best']}. Sample longer, or with reference='modes', and check again"
        )
