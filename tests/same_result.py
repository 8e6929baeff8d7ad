"""Whether two result files hold the same numbers, bit for bit.

Used to check that a change of code leaves results unchanged: run the same command
(``bayesmeas run spectral-deconvolution``, the benchmark, a case study) at two commits
and compare what they wrote::

    python tests/same_result.py OLD/result.nc NEW/result.nc

Every data variable of every group is compared exactly (NaN equal to NaN); attributes
are not (they hold wall times and creation dates). Prints one line per difference and a
summary, and exits with 1 when anything differs or a group or variable is missing.
"""

from __future__ import annotations

import sys

import numpy as np
import xarray as xr

__all__ = ["differences"]


def _same(first: np.ndarray, second: np.ndarray) -> bool:
    if first.shape != second.shape or first.dtype.kind != second.dtype.kind:
        return False
    if first.dtype.kind in "fc":
        return bool(np.array_equal(first, second, equal_nan=True))
    return bool(np.array_equal(first, second))


def differences(first: xr.DataTree, second: xr.DataTree) -> tuple[int, list[str]]:
    """Number of variables compared, and one line per group or variable that differs."""
    groups = {node.path: node for node in first.subtree}
    others = {node.path: node for node in second.subtree}
    found = [f"group {path} only in the second" for path in others if path not in groups]
    compared = 0
    for path, node in groups.items():
        if path not in others:
            found.append(f"group {path} only in the first")
            continue
        mine = node.to_dataset(inherit=False)
        theirs = others[path].to_dataset(inherit=False)
        found += [f"{path}: {name} only in the second" for name in theirs if name not in mine]
        for name, variable in mine.data_vars.items():
            compared += 1
            if name not in theirs.data_vars:
                found.append(f"{path}: {name} only in the first")
            elif not _same(variable.values, theirs[name].values):
                found.append(f"{path}: {name} differs")
    return compared, found


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with xr.open_datatree(argv[0]) as first, xr.open_datatree(argv[1]) as second:
        compared, found = differences(first.load(), second.load())
    for line in found:
        print(line)
    print(f"{compared} variables compared, {len(found)} differences")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
