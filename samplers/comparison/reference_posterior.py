r"""Reference answers for sampler comparisons: posterior means, sds, modes and evidence.

A :class:`ReferencePosterior` is what a sampler's output is scored against (as
posteriordb stores reference posteriors next to its models):

- ``means`` and ``sds`` of every scalar parameter (labels such as ``"a"`` or
  ``"mu[2]"``, see :func:`parameter_draws`);
- optionally ``modes`` (points, shape ``(modes, parameters)``) and their posterior
  ``mode_weights``, for multimodal targets;
- optionally ``log_evidence`` :math:`\log p(D)` (the free energy is its negative) and
  its Monte Carlo standard error (0 for an exact value);
- ``provenance``: how the answer was obtained. ``kind`` is ``"analytic"`` (closed form;
  built by the caller, e.g. from :func:`measurement_models.linear.exact_posterior`,
  since this package knows no physics) or ``"long run"`` (:meth:`ReferencePosterior.from_draws`:
  the sampler and its settings, the seed, and the long run's own R-hat and ESS, so
  that a reader can judge the reference).

It round-trips through an :class:`xarray.Dataset` and netCDF
(:meth:`~ReferencePosterior.to_netcdf`, :meth:`~ReferencePosterior.from_netcdf`).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import arviz as az
import numpy as np
import xarray as xr

from ..evidence.free_energy import FreeEnergy

__all__ = ["PARAMETER_DIM", "ReferencePosterior", "parameter_draws"]

#: Dimension of the parameters in a reference posterior.
PARAMETER_DIM = "parameter"
MODE_DIM = "mode"
KINDS = ("analytic", "long run")

AttrValue = str | int | float


def _label(name: str, index: tuple) -> str:
    return name if not index else f"{name}[{','.join(str(i) for i in index)}]"


def _grid(coords: Sequence[np.ndarray]) -> list[tuple]:
    """Every combination of the coordinate values, first coordinate slowest (C order)."""
    if not coords:
        return [()]
    mesh = np.meshgrid(*coords, indexing="ij")
    return list(zip(*(m.ravel().tolist() for m in mesh), strict=True))


def parameter_draws(
    posterior: xr.Dataset | xr.DataTree, var_names: Sequence[str] | None = None
) -> xr.DataArray:
    """Every scalar component of the chosen variables as one ``(chain, draw, parameter)`` array.

    A scalar variable ``a`` gives the label ``"a"``; a vector ``mu`` with coordinate
    values 0, 1, 2 gives ``"mu[0]"``, ``"mu[1]"``, ``"mu[2]"`` (coordinate values, not
    positions; several dims are joined by commas).

    Parameters
    ----------
    posterior : xarray.Dataset or xarray.DataTree
        A posterior Dataset, or a result whose ``posterior`` group is used.
    var_names : sequence of str, optional
        Variables to include, in this order (default: every data variable).

    Raises
    ------
    ValueError
        If a variable is missing or the posterior has no ``chain``/``draw`` dims.
    """
    if isinstance(posterior, xr.DataTree):
        posterior = posterior["posterior"].to_dataset()
    names = list(posterior.data_vars) if var_names is None else list(var_names)
    missing = [name for name in names if name not in posterior.data_vars]
    if missing:
        raise ValueError(
            f"variables {missing} are not in the posterior (it has {list(posterior.data_vars)})"
        )
    if not names:
        raise ValueError("no variables to compare")
    columns, labels = [], []
    for name in names:
        var = posterior[name]
        if var.dims[:2] != ("chain", "draw"):
            raise ValueError(f"{name!r} must have dims (chain, draw, ...), got {var.dims}")
        extra = var.dims[2:]
        values = var.values.reshape(var.shape[0], var.shape[1], -1)
        coords = [var[d].values if d in var.coords else np.arange(var.sizes[d]) for d in extra]
        labels += [_label(name, index) for index in _grid(coords)]
        columns.append(values)
    return xr.DataArray(
        np.concatenate(columns, axis=-1).astype(float),
        dims=("chain", "draw", PARAMETER_DIM),
        coords={
            "chain": posterior["chain"].values,
            "draw": posterior["draw"].values,
            PARAMETER_DIM: labels,
        },
    )


def _optional_float(value) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True)
class ReferencePosterior:
    """A reference answer: means, sds, optional modes and evidence, with provenance.

    Parameters
    ----------
    parameters : sequence of str
        Labels of the scalar parameters (as :func:`parameter_draws` makes them).
    means, sds : array_like, shape (parameters,)
        Posterior mean and standard deviation of each (sds > 0).
    modes : array_like, shape (modes, parameters), optional
        Points at the posterior modes.
    mode_weights : array_like, shape (modes,), optional
        Posterior probability of each mode (non-negative, summing to 1).
    log_evidence : float, optional
        :math:`\\log p(D)`; the free energy is ``-log_evidence``.
    log_evidence_mcse : float
        Its Monte Carlo standard error (0 for an exact value).
    provenance : mapping
        How it was obtained: ``kind`` (``"analytic"`` or ``"long run"``) and free-form
        strings or numbers (``description``, ``settings``, ``seed``, diagnostics, ...).

    Raises
    ------
    ValueError
        On shapes that do not match the parameters, non-positive sds, bad mode weights,
        or an unknown ``kind``.
    """

    parameters: tuple[str, ...]
    means: np.ndarray
    sds: np.ndarray
    modes: np.ndarray | None = None
    mode_weights: np.ndarray | None = None
    log_evidence: float | None = None
    log_evidence_mcse: float = 0.0
    provenance: Mapping[str, AttrValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        parameters = tuple(str(p) for p in np.atleast_1d(np.asarray(self.parameters, dtype=str)))
        n = len(parameters)
        if n == 0:
            raise ValueError("a reference posterior needs at least one parameter")
        if len(set(parameters)) != n:
            raise ValueError(f"parameter labels must be unique, got {parameters}")
        set_ = object.__setattr__
        set_(self, "parameters", parameters)
        for name in ("means", "sds"):
            value = np.asarray(getattr(self, name), dtype=float)
            if value.shape != (n,):
                raise ValueError(
                    f"{name} must have one value per parameter, shape ({n},), got {value.shape}"
                )
            if not np.all(np.isfinite(value)):
                raise ValueError(f"{name} must be finite, got {value}")
            set_(self, name, value)
        if np.any(self.sds <= 0):
            raise ValueError(f"sds must be positive, got {self.sds}")
        if self.modes is not None:
            modes = np.asarray(self.modes, dtype=float)
            if modes.ndim == 1 and n == 1:
                modes = modes[:, None]
            if modes.ndim != 2 or modes.shape[1] != n or modes.shape[0] == 0:
                raise ValueError(
                    f"modes must have shape (modes, {n}) (one point per mode, one column per "
                    f"parameter {list(parameters)}), got {modes.shape}"
                )
            if not np.all(np.isfinite(modes)):
                raise ValueError("modes must be finite")
            set_(self, "modes", modes)
        if self.mode_weights is not None:
            if self.modes is None:
                raise ValueError("mode_weights given without modes")
            weights = np.asarray(self.mode_weights, dtype=float)
            if weights.shape != (self.modes.shape[0],):
                raise ValueError(
                    f"mode_weights must have one value per mode, shape ({self.modes.shape[0]},), "
                    f"got {weights.shape}"
                )
            if np.any(weights < 0) or not np.isclose(weights.sum(), 1.0, atol=1e-6):
                raise ValueError(f"mode_weights must be ≥ 0 and sum to 1, got {weights}")
            set_(self, "mode_weights", weights)
        set_(self, "log_evidence", _optional_float(self.log_evidence))
        mcse = float(self.log_evidence_mcse)
        if not mcse >= 0:
            raise ValueError(f"log_evidence_mcse must be ≥ 0, got {mcse}")
        set_(self, "log_evidence_mcse", mcse)
        provenance = dict(self.provenance)
        provenance.setdefault("kind", "analytic")
        if provenance["kind"] not in KINDS:
            raise ValueError(f"provenance kind must be one of {KINDS}, got {provenance['kind']!r}")
        set_(self, "provenance", provenance)

    # -- constructors ------------------------------------------------------------------
    @classmethod
    def analytic(
        cls,
        parameters: Sequence[str],
        means: Sequence[float] | np.ndarray,
        sds: Sequence[float] | np.ndarray,
        *,
        modes: np.ndarray | None = None,
        mode_weights: Sequence[float] | None = None,
        log_evidence: float | None = None,
        description: str = "",
    ) -> ReferencePosterior:
        """An exact reference (closed-form moments and evidence), ``kind = "analytic"``."""
        return cls(
            tuple(parameters),
            np.asarray(means, dtype=float),
            np.asarray(sds, dtype=float),
            modes=modes,
            mode_weights=mode_weights,
            log_evidence=log_evidence,
            provenance={"kind": "analytic", "description": description},
        )

    @classmethod
    def from_draws(
        cls,
        posterior: xr.Dataset | xr.DataTree,
        *,
        var_names: Sequence[str] | None = None,
        relabel: Callable[[xr.Dataset], xr.Dataset] | None = None,
        free_energy: FreeEnergy | None = None,
        modes: np.ndarray | None = None,
        mode_weights: Sequence[float] | None = None,
        settings: str = "",
        seed: int | None = None,
        description: str = "",
    ) -> ReferencePosterior:
        """A reference from a long run: means and sds of its draws, with its diagnostics.

        Parameters
        ----------
        posterior : xarray.Dataset or xarray.DataTree
            The long run's posterior (or the result holding it).
        var_names : sequence of str, optional
            Variables to keep (default all).
        relabel : callable, optional
            Applied to the posterior Dataset first (e.g. to undo label switching).
        free_energy : FreeEnergy, optional
            The long run's free energy; stored as ``log_evidence = -F`` with its MCSE.
        modes, mode_weights : optional
            Known modes (and weights), if any.
        settings : str
            The sampler and its settings (e.g. ``ReplicaExchangeSettings.describe()``).
        seed : int, optional
            The run's seed.
        description : str
            Anything else a reader needs.

        The provenance records ``kind = "long run"``, ``settings``, ``seed``, the number
        of chains and draws, and the run's worst R-hat and smallest bulk and tail ESS.
        """
        if isinstance(posterior, xr.DataTree):
            posterior = posterior["posterior"].to_dataset()
        if relabel is not None:
            posterior = relabel(posterior)
        draws = parameter_draws(posterior, var_names)
        provenance: dict[str, AttrValue] = {
            "kind": "long run",
            "description": description,
            "settings": settings,
            "seed": "none" if seed is None else int(seed),
            "chains": int(draws.sizes["chain"]),
            "draws_per_chain": int(draws.sizes["draw"]),
            "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        }
        if draws.sizes["chain"] >= 2:
            provenance["r_hat_max"] = float(az.rhat(draws).max())
        provenance["ess_bulk_min"] = float(az.ess(draws, method="bulk").min())
        provenance["ess_tail_min"] = float(az.ess(draws, method="tail").min())
        if free_energy is not None:
            provenance["free_energy_method"] = free_energy.method
        stacked = draws.stack(sample=("chain", "draw"))
        return cls(
            tuple(draws[PARAMETER_DIM].values),
            stacked.mean("sample").values,
            stacked.std("sample", ddof=1).values,
            modes=modes,
            mode_weights=mode_weights,
            log_evidence=None if free_energy is None else -free_energy.value,
            log_evidence_mcse=0.0 if free_energy is None else free_energy.mcse,
            provenance=provenance,
        )

    # -- views ------------------------------------------------------------------------
    @property
    def free_energy(self) -> float | None:
        """``-log_evidence`` (None when the evidence is unknown)."""
        return None if self.log_evidence is None else -self.log_evidence

    def __str__(self) -> str:
        kind = self.provenance.get("kind")
        evidence = (
            ""
            if self.log_evidence is None
            else f", log p(D) = {self.log_evidence:.3f} ± {self.log_evidence_mcse:.3f}"
        )
        modes = "" if self.modes is None else f", {self.modes.shape[0]} modes"
        return f"ReferencePosterior ({kind}: {len(self.parameters)} parameters{modes}{evidence})"

    # -- storage ----------------------------------------------------------------------
    def to_dataset(self) -> xr.Dataset:
        """As a Dataset: ``mean``, ``sd`` (parameter), ``modes`` (mode, parameter),
        ``mode_weight`` (mode); evidence and provenance in ``attrs``."""
        data: dict[str, tuple] = {
            "mean": (PARAMETER_DIM, self.means),
            "sd": (PARAMETER_DIM, self.sds),
        }
        if self.modes is not None:
            data["modes"] = ((MODE_DIM, PARAMETER_DIM), self.modes)
        if self.mode_weights is not None:
            data["mode_weight"] = (MODE_DIM, self.mode_weights)
        attrs: dict[str, AttrValue] = {
            f"provenance_{key}": value for key, value in self.provenance.items()
        }
        if self.log_evidence is not None:
            attrs["log_evidence"] = self.log_evidence
            attrs["log_evidence_mcse"] = self.log_evidence_mcse
        return xr.Dataset(
            data, coords={PARAMETER_DIM: list(self.parameters)}, attrs={"title": str(self), **attrs}
        )

    @classmethod
    def from_dataset(cls, dataset: xr.Dataset) -> ReferencePosterior:
        """Inverse of :meth:`to_dataset`."""
        for name in ("mean", "sd"):
            if name not in dataset.data_vars:
                raise ValueError(f"not a reference posterior: no {name!r} variable")
        attrs = dataset.attrs
        provenance = {
            key.removeprefix("provenance_"): (value.item() if hasattr(value, "item") else value)
            for key, value in attrs.items()
            if key.startswith("provenance_")
        }
        return cls(
            tuple(str(p) for p in dataset[PARAMETER_DIM].values),
            dataset["mean"].values,
            dataset["sd"].values,
            modes=dataset["modes"].values if "modes" in dataset.data_vars else None,
            mode_weights=dataset["mode_weight"].values if "mode_weight" in dataset else None,
            log_evidence=attrs.get("log_evidence"),
            log_evidence_mcse=attrs.get("log_evidence_mcse", 0.0),
            provenance=provenance,
        )

    def to_netcdf(self, path: str | Path) -> None:
        """Write :meth:`to_dataset` to ``path``."""
        self.to_dataset().to_netcdf(path)

    @classmethod
    def from_netcdf(cls, path: str | Path) -> ReferencePosterior:
        """Read a file written by :meth:`to_netcdf`."""
        with xr.open_dataset(path) as dataset:
            return cls.from_dataset(dataset.load())
