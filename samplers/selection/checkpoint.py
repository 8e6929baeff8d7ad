"""A model selection kept candidate by candidate in a folder, so that a rerun continues it.

:func:`samplers.select_model` with ``checkpoint=<folder>`` keeps there::

    selection.json              what the selection is: method, sampler settings, seed,
                                candidate names (a rerun with others is refused)
    candidate-<name>.nc         the run of every finished candidate, as it stands in the
                                selection's tree (with its free energy and wall time)
    candidate-<name>.checkpoint.nc
                                the replica-exchange checkpoint of the candidate under way
                                (:mod:`samplers.replica_exchange.checkpoint`)

A rerun reuses the finished runs as they are (after checking that the candidate's model
has the same variables and data), continues the interrupted candidate from its
checkpoint and samples the others, so its result equals that of an uninterrupted
selection. Files are written to a temporary name and moved into place, so an
interruption never leaves half a file.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from collections.abc import Hashable, Sequence
from pathlib import Path

import numpy as np
import pymc as pm
import xarray as xr

from ..replica_exchange.checkpoint import CheckpointMismatch, model_identity
from .files import write_model_selection

__all__ = ["CandidateCheckpoints"]

DESCRIPTION_FILE = "selection.json"


def _settings_json(settings) -> dict:
    """The sampler settings that decide the draws (not ``cores``, which does not)."""
    fields = {f.name: getattr(settings, f.name) for f in dataclasses.fields(settings)}
    fields.pop("cores", None)
    return json.loads(json.dumps(fields, default=repr, sort_keys=True))


def _write_atomically(path: Path, write) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


class CandidateCheckpoints:
    """The checkpoint folder of one model selection.

    Parameters
    ----------
    folder : path-like
        Created if missing.
    method : str
        The sampler (``"replica_exchange"`` or ``"smc"``).
    settings : ReplicaExchangeSettings or SMCSettings
    random_seed : int or None
        The selection's seed; with None, the seed drawn at the first start is kept in the
        folder and used again by a rerun (``random_seed``).
    labels : sequence
        The candidate names.

    Raises
    ------
    CheckpointMismatch
        If the folder holds another selection (method, settings, seed or candidates).
    """

    def __init__(self, folder, *, method, settings, random_seed, labels: Sequence[Hashable]):
        self.folder = Path(folder)
        if self.folder.exists() and not self.folder.is_dir():
            raise ValueError(f"the selection checkpoint {str(self.folder)!r} is not a folder")
        self.folder.mkdir(parents=True, exist_ok=True)
        description_path = self.folder / DESCRIPTION_FILE
        saved = json.loads(description_path.read_text()) if description_path.exists() else None
        if random_seed is None:
            random_seed = (
                saved["random_seed"] if saved is not None else int(np.random.SeedSequence().entropy)
            )
        self.random_seed = int(random_seed)
        description = {
            "method": method,
            "settings": _settings_json(settings),
            "random_seed": self.random_seed,
            "candidates": [str(label) for label in labels],
        }
        if saved is None:
            _write_atomically(
                description_path,
                lambda name: Path(name).write_text(json.dumps(description, indent=1)),
            )
        elif saved != description:
            differ = [key for key in description if saved.get(key) != description[key]]
            raise CheckpointMismatch(
                f"the model-selection checkpoint {str(self.folder)!r} belongs to another "
                f"selection (its {', '.join(differ)} differ), so it is not continued. Use the "
                "same arguments, or another checkpoint folder (or delete this one) to start "
                "again."
            )

    def run_path(self, label: Hashable) -> Path:
        """Where the finished run of candidate ``label`` is kept."""
        return self.folder / f"candidate-{label}.nc"

    def sampler_checkpoint(self, label: Hashable) -> Path:
        """The replica-exchange checkpoint of candidate ``label`` while it runs."""
        return self.folder / f"candidate-{label}.checkpoint.nc"

    def finished(self) -> list[str]:
        """Names of the candidates whose runs are kept."""
        return sorted(path.name[len("candidate-") : -len(".nc")] for path in self._runs())

    def _runs(self):
        return (
            p for p in self.folder.glob("candidate-*.nc") if not p.name.endswith(".checkpoint.nc")
        )

    def load(self, label: Hashable, model: pm.Model) -> xr.DataTree | None:
        """The kept run of candidate ``label`` (None if it has not finished).

        Raises
        ------
        CheckpointMismatch
            If the kept run was made from a model with other variables or data.
        """
        path = self.run_path(label)
        if not path.exists():
            return None
        with xr.open_datatree(path, engine="netcdf4") as stored:
            run = stored.load()
        kept = json.loads(run.attrs.pop("checkpoint_model"))
        if kept != model_identity(model):
            raise CheckpointMismatch(
                f"the kept run {str(path)!r} of candidate {label!r} was made from a model with "
                "other variables or data; delete the checkpoint folder "
                f"{str(self.folder)!r} to start again"
            )
        return run

    def keep(self, label: Hashable, run: xr.DataTree, model: pm.Model) -> None:
        """Keep the finished run of candidate ``label``; its sampler checkpoint goes."""

        stored = run.copy()
        stored.attrs = {**run.attrs, "checkpoint_model": json.dumps(model_identity(model))}
        _write_atomically(self.run_path(label), lambda name: write_model_selection(stored, name))
        self.sampler_checkpoint(label).unlink(missing_ok=True)
