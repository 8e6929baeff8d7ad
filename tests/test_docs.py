"""The documentation's API check (docs/_ext/apicheck.py), without building the site.

``make docs`` fails when a public name has no docstring; these tests run the same check
in ``make test`` (no Sphinx needed) and show, on a scratch package, that it reports
each kind of missing documentation and nothing else.
"""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.fixture(scope="module")
def apicheck():
    spec = importlib.util.spec_from_file_location("apicheck", DOCS / "_ext" / "apicheck.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_public_name_of_the_package_is_documented(apicheck):
    modules = apicheck.public_modules()
    assert {"measurement_models.spectral", "samplers.selection", "samplers"} <= set(modules)
    assert not any("._" in name for name in modules)
    assert apicheck.undocumented(modules) == []


SCRATCH = '''
"""A scratch module."""

from dataclasses import dataclass

__all__ = ["CONST", "DOCUMENTED", "LATER", "Plain", "Record", "f", "g", "ghost"]

CONST = 3

#: A documented constant.
DOCUMENTED = 4

LATER = (1, 2)
"""Documented by the string below it."""


def f():
    """Has a docstring."""


def g():
    pass


class Plain:
    pass


@dataclass
class Record:
    x: int = 0
'''


def test_scratch_package_reports_exactly_the_undocumented_names(apicheck, tmp_path, monkeypatch):
    package = tmp_path / "apicheck_scratch"
    package.mkdir()
    (package / "__init__.py").write_text("__all__ = []\n")  # no module docstring
    (package / "mod.py").write_text(textwrap.dedent(SCRATCH))
    (package / "_private.py").write_text("x = 1\n")  # private: not checked
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        modules = apicheck.public_modules(["apicheck_scratch"])
        assert modules == ["apicheck_scratch", "apicheck_scratch.mod"]
        assert sorted(apicheck.undocumented(modules)) == [
            "apicheck_scratch.mod.CONST: public name (in __all__) has no docstring",
            "apicheck_scratch.mod.Plain: public name (in __all__) has no docstring",
            "apicheck_scratch.mod.Record: public name (in __all__) has no docstring",
            "apicheck_scratch.mod.g: public name (in __all__) has no docstring",
            "apicheck_scratch.mod.ghost: listed in __all__ but not defined",
            "apicheck_scratch: public module has no module docstring",
        ]
    finally:
        for name in [n for n in sys.modules if n.startswith("apicheck_scratch")]:
            del sys.modules[name]


def test_attribute_docs_reads_both_forms_sphinx_reads(apicheck):
    source = textwrap.dedent(
        '''
        #: first line
        #: second line
        A = 1
        B: int = 2
        """B's doc."""
        # an ordinary comment
        C = 3
        D = E = 4
        """Two names, one doc."""
        '''
    )
    assert apicheck.attribute_docs(source) == {
        "A": "first line\nsecond line",
        "B": "B's doc.",
        "D": "Two names, one doc.",
        "E": "Two names, one doc.",
    }


def test_multiline_section_titles_are_found_and_proper_ones_are_not(apicheck):
    doc = """Summary line.

    Model (a reference that
    runs over two lines)
    --------------------
    Text.

    Priors
    ------
    More text.
    """
    assert apicheck.multiline_titles(doc) == ["runs over two lines)"]
    assert apicheck.multiline_titles("Summary.\n\nParameters\n----------\nx : int\n") == []
