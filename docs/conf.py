"""Sphinx configuration of the bayesmeas documentation site (``make docs``).

Why Sphinx (with myst-nb) rather than MkDocs (with mkdocs-jupyter): every docstring
in the package is numpydoc with reStructuredText math (``:math:``, ``.. math::``) and
cross-references (``:func:``, ``:data:``); Sphinx autodoc with numpydoc renders them as
written, MkDocs' mkdocstrings does not. myst-parser reads the existing Markdown pages
unchanged, and myst-nb renders the case studies (jupytext percent-format scripts,
executed as notebooks by :mod:`samplers.app.case_studies`) with their outputs. Nitpicky mode
(``-n``) plus ``-W`` turns every broken internal link or cross-reference into an error.

Generated at build time by ``docs/_ext/bayesmeas_docs.py`` (never committed): the API
reference (``docs/api/``), one page per measurement model (``docs/models/``) and the
executed case studies (``docs/case-studies/``). The same extension fails the build when a
public name has no docstring or is missing from the API reference.
"""

from __future__ import annotations

import sys
from importlib.metadata import version as _version
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS.parent))  # the package, when not installed
sys.path.insert(0, str(DOCS / "_ext"))

project = "bayesmeas"
author = "the bayesmeas authors"
copyright = "2026, the bayesmeas authors"
release = _version("bayesmeas")
version = release

extensions = [
    "myst_nb",  # Markdown pages (myst-parser) and notebooks, here jupytext .py files
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "numpydoc",
    "bayesmeas_docs",  # generated API/model/case-study pages and the API checks
]

root_doc = "index"
# scripts/: measurement scripts and their outputs (docs/scripts/*.py, *.txt), not pages
exclude_patterns = [
    "_build",
    "_ext",
    "conf.py",
    "scripts",
    "**/__pycache__",
    "**/.ipynb_checkpoints",
]

# --- MyST and notebooks -------------------------------------------------------------
myst_heading_anchors = 3  # `[text](page.md#a-heading)` links resolve (and fail if wrong)
myst_enable_extensions = ["dollarmath"]
# Case studies arrive as notebooks already executed (quick size) by the test suite or by
# the extension (bayesmeas_docs.executed_notebook); myst-nb renders their outputs and
# never runs them itself. Their Markdown cells quote the numbers of the full runs.
nb_execution_mode = "off"

# --- API documentation --------------------------------------------------------------
autodoc_typehints = "none"  # the numpydoc Parameters/Returns sections give the types
autodoc_member_order = "bysource"
autodoc_default_options = {}
numpydoc_show_class_members = False  # methods are documented by autodoc's :members:
numpydoc_xref_param_type = False
numpydoc_attributes_as_param_list = True

# Broken cross-references fail the build, except those to other libraries: there is
# no network in CI to fetch their inventories (intersphinx), so they stay plain text.
nitpicky = True
_EXTERNAL = (
    r"(np|numpy|npt|pm|pymc|pt|pytensor|xr|xarray|az|arviz|scipy|matplotlib|mpl|plt|"
    r"pd|pandas|numba|sasmodels|"
    r"collections|typing|pathlib|os|dataclasses|functools|time|inspect|math)"
)
nitpick_ignore_regex = [(r"py:.*", _EXTERNAL + r"(\..*)?")]

# --- HTML ---------------------------------------------------------------------------
html_theme = "furo"
html_title = f"bayesmeas {release}"
html_static_path: list[str] = []
