"""The machine and library versions a result was produced with, for result attrs."""

from __future__ import annotations

import os
import platform

import arviz
import numba
import numpy as np
import pymc as pm
import pytensor
import xarray as xr

__all__ = ["environment"]


def _cpu_model() -> str:
    """The CPU's model name from ``/proc/cpuinfo`` (Linux), else what platform knows."""
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def environment() -> dict[str, str | int]:
    """CPU model, usable and total CPU counts, Python and library versions, PyTensor mode.

    Every value is a string or an int, so the dict can go into netCDF attrs as it is.
    """
    return {
        "cpu_model": _cpu_model(),
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_count": os.cpu_count() or 0,
        "python": platform.python_version(),
        "pymc": pm.__version__,
        "pytensor": pytensor.__version__,
        "pytensor_linker": str(pytensor.config.linker),
        "pytensor_mode": str(pytensor.config.mode),
        "arviz": arviz.__version__,
        "numpy": np.__version__,
        "numba": numba.__version__,
        "xarray": xr.__version__,
    }
