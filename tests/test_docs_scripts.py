"""Every script under docs/scripts still imports against the package as it is now.

The scripts produce the numbers quoted in the docs and are rerun by hand, so nothing
else would notice a script that a rename in the package has broken (two did, after
``AGREEMENT_P`` and ``HMC_STEPS`` moved). Importing runs no measurement: every script
keeps its work behind ``if __name__ == "__main__"``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPTS = sorted((Path(__file__).resolve().parents[1] / "docs" / "scripts").glob("*.py"))


def test_the_scripts_are_found():
    assert len(SCRIPTS) > 5


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.stem)
def test_script_imports(script, monkeypatch):
    monkeypatch.syspath_prepend(str(script.parent))  # scripts import their neighbours
    name = f"docs_script_{script.stem}"
    spec = importlib.util.spec_from_file_location(name, script)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    assert callable(getattr(module, "main", None)), f"{script.name} has no main()"
