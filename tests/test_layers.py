"""The layers of the package, kept one-way.

::

    samplers.app  ──►  samplers (inference core)
          └────────►  measurement_models

- ``measurement_models`` imports neither ``samplers`` nor ``case_studies``: a model is a
  plain ``pm.Model`` that any PyMC sampler runs;
- the inference core (every module of ``samplers`` outside ``samplers.app``) imports
  neither ``measurement_models`` nor ``samplers.app`` nor ``case_studies``: it knows no
  physics;
- only ``samplers.app`` (command line, jobs, batch, benchmark, case-study runner) stands
  on both.

Every ``import`` statement of every module is read, including those inside functions,
with relative imports resolved, so an import that runs the wrong way fails here even if
no test executes it.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, as absolute dotted names (relative ones resolved)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _violations(paths, forbidden: tuple[str, ...]) -> list[str]:
    bad = []
    for path in paths:
        for module in sorted(imported_modules(path)):
            if any(module == f or module.startswith(f + ".") for f in forbidden):
                bad.append(f"{path.relative_to(ROOT)} imports {module}")
    return bad


def test_measurement_models_stands_on_nothing_of_ours():
    assert _violations(_modules("measurement_models"), ("samplers", "case_studies")) == []


def test_the_inference_core_knows_no_physics():
    core = [p for p in _modules("samplers") if "app" not in p.relative_to(ROOT).parts]
    forbidden = ("measurement_models", "samplers.app", "case_studies")
    assert _violations(core, forbidden) == []


def test_the_application_layer_exists_and_is_the_only_one_on_both():
    app = _modules("samplers/app")
    assert {p.stem for p in app} >= {"cli", "jobs", "batch", "benchmark", "case_studies"}
    assert any("measurement_models" in m for p in app for m in imported_modules(p))


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from measurement_models import spectral\n", "measurement_models.spectral"),
        ("def f():\n    from ..app import cli\n", "samplers.app.cli"),
        ("import measurement_models.sas as sas\n", "measurement_models.sas"),
    ],
)
def test_the_reader_sees_every_kind_of_import(monkeypatch, source, expected):
    """Negative control: an offending import of each form is found, also inside a function."""
    module = ROOT / "samplers" / "evidence" / "_layer_probe.py"
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: source)
    assert expected in imported_modules(module)
    forbidden = ("measurement_models", "samplers.app")
    assert _violations([module], forbidden), f"{source!r} was not caught"


def test_importing_the_core_loads_no_physics():
    code = (
        "import sys, samplers; "
        "bad = [m for m in sys.modules if m.startswith(('measurement_models', 'samplers.app'))]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
