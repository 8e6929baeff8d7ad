r"""Compile PyTensor functions whose results do not depend on the compile cache.

A Markov chain is chaotic in the last bits of its log-density: two runs with the same
seed repeat each other's draws only while every accept/reject decision and swap sees the
same numbers, and one flipped decision sends them apart. With Numba's fast-math flags
(PyTensor's default ``config.numba__fastmath = True``: reassociation and contraction
allowed) a graph compiled afresh and the same graph loaded from PyTensor's compile cache
differ in the last bits (the sums are reassociated differently when the kernels are
compiled together and when they are loaded one by one), so the same seed gave different
draws, free energies and even verdicts on a new machine and on a warm one
(``docs/scripts/compile_cache_bits.py`` measures it). Compiled without fast math, both
give the same bits; the functions here compile that way. PyTensor keys its cache on the
flag, so a cache filled with fast math is not reused for these functions.

Without fast math, LLVM may not reorder floating-point sums, which could make some
graphs slower; the batched log-densities of a spectral and a XANES model took 1.00 and
1.07 times as long per call, and no longer to compile cold
(``docs/scripts/compile_cache_bits.txt``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytensor
from pymc.pytensorf import compile as compile_pymc

__all__ = ["compile_reproducibly", "without_fast_math"]


def without_fast_math() -> Any:
    """A context in which PyTensor's Numba backend compiles without fast-math flags."""
    return pytensor.config.change_flags(numba__fastmath=False)


def compile_reproducibly(inputs: Sequence, outputs, **kwargs) -> Callable:
    """:func:`pymc.pytensorf.compile` without fast math (module docstring).

    Parameters
    ----------
    inputs, outputs, **kwargs
        As for :func:`pymc.pytensorf.compile`.

    Returns
    -------
    callable
        The compiled function; the same inputs give the same bits whether its kernels
        were compiled now or loaded from the compile cache.
    """
    with without_fast_math():
        return compile_pymc(inputs, outputs, **kwargs)
