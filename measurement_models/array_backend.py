"""NumPy or PyTensor: one forward-model source for both.

Every forward model in this package evaluates plain NumPy arrays to NumPy arrays (fast,
no compilation: used by tests, simulation and plotting) and PyTensor variables to a
graph (used inside ``pm.Model``). The choice is made from the inputs, here.
"""

from __future__ import annotations

from types import ModuleType

import numpy as np
import pytensor.tensor as pt

__all__ = ["array_module", "is_symbolic"]


def is_symbolic(*values: object) -> bool:
    """True if any of ``values`` is a PyTensor variable (then a graph must be built)."""
    return any(isinstance(value, pt.Variable) for value in values)


def array_module(*values: object) -> ModuleType:
    """``pytensor.tensor`` if any of ``values`` is symbolic, else ``numpy``.

    Examples
    --------
    >>> array_module(1.0, np.ones(3)) is np
    True
    """
    return pt if is_symbolic(*values) else np
