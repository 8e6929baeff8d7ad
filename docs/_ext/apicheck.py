"""Which public names of the package have no documentation (no Sphinx needed).

A *public module* is every module of the packages in :data:`PACKAGES` whose dotted name
has no component starting with ``_``; its public names are its ``__all__``. A public
name is documented when

* a module has a module docstring;
* a class or function has its own docstring (not one inherited from a base class, and
  not the signature that :mod:`dataclasses` writes into ``__doc__`` when there is none);
* any other object (a constant, a table, a type alias) has an attribute docstring in the
  source, in one of the two forms that Sphinx autodoc reads: ``#:`` comment lines right
  above the assignment, or a string literal right below it. A name re-exported from
  another public module counts as documented if it is documented there.

It also finds section titles that run over several lines in a docstring (a title in
reStructuredText is one line): docutils renders them silently as a paragraph followed
by a row of dashes, and the section is lost.

Used by the Sphinx extension :mod:`bayesmeas_docs` (every problem becomes a build
warning, an error under ``-W``) and by ``tests/test_docs.py`` (so that ``make test``
catches an undocumented public name without building the site).
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import pkgutil
import re
from collections.abc import Iterable
from types import ModuleType

__all__ = [
    "PACKAGES",
    "attribute_docs",
    "has_docstring",
    "multiline_titles",
    "public_modules",
    "undocumented",
]

#: The packages whose public API the site documents.
PACKAGES = ("measurement_models", "samplers")


def public_modules(packages: Iterable[str] = PACKAGES) -> list[str]:
    """Dotted names of the packages and of their public submodules, sorted."""
    names = []
    for package_name in packages:
        package = importlib.import_module(package_name)
        names.append(package_name)
        for info in pkgutil.walk_packages(package.__path__, prefix=package_name + "."):
            if not any(part.startswith("_") for part in info.name.split(".")):
                names.append(info.name)
    return sorted(names)


def _following_string(body: list[ast.stmt], index: int) -> str | None:
    if index + 1 >= len(body):
        return None
    node = body[index + 1]
    if (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    ):
        return node.value.value
    return None


def _comment_above(lines: list[str], lineno: int) -> str | None:
    comment = []
    row = lineno - 2  # the line above the statement, 0-based
    while row >= 0 and lines[row].lstrip().startswith("#:"):
        comment.insert(0, lines[row].lstrip()[2:].strip())
        row -= 1
    return "\n".join(comment) if comment else None


def attribute_docs(source: str) -> dict[str, str]:
    """Module-level attribute docstrings in ``source``: name to its text.

    Both forms read by Sphinx autodoc count: ``#:`` comment lines directly above an
    assignment, and a string literal statement directly below it.
    """
    tree = ast.parse(source)
    lines = source.splitlines()
    docs = {}
    for index, node in enumerate(tree.body):
        if isinstance(node, ast.Assign):
            targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            targets = [node.target.id]
        else:
            continue
        doc = _following_string(tree.body, index) or _comment_above(lines, node.lineno)
        if doc and doc.strip():
            docs.update(dict.fromkeys(targets, doc))
    return docs


def _own_docstring(obj: object) -> str:
    doc = obj.__dict__.get("__doc__") if inspect.isclass(obj) else getattr(obj, "__doc__", None)
    if not isinstance(doc, str):
        return ""
    if dataclasses.is_dataclass(obj) and doc.startswith(f"{obj.__name__}("):
        return ""  # the signature dataclasses writes when the class has no docstring
    return doc.strip()


_UNDERLINE = re.compile(r"^\s*([-=~^*+#])\1{2,}\s*$")


def multiline_titles(doc: str) -> list[str]:
    """Last lines of section titles in ``doc`` that continue a line above them.

    A title is the line right above an underline (``----``, ``====``, ...); it is
    reported when the line above the title is not blank, i.e. the title is the end of a
    paragraph rather than a line of its own.
    """
    lines = inspect.cleandoc(doc).splitlines()
    return [
        lines[i - 1].strip()
        for i in range(2, len(lines))
        if _UNDERLINE.match(lines[i]) and lines[i - 1].strip() and lines[i - 2].strip()
    ]


def has_docstring(obj: object, name: str, holders: Iterable[ModuleType]) -> bool:
    """Whether public name ``name`` (object ``obj``) is documented.

    ``holders`` are the modules where an attribute docstring of a plain object may be:
    the module that lists it in ``__all__`` first, then any module it is re-exported from.
    """
    if inspect.ismodule(obj) or inspect.isclass(obj) or inspect.isroutine(obj):
        return bool(_own_docstring(obj))
    for module in holders:
        if getattr(module, name, None) is obj and name in _module_attribute_docs(module):
            return True
    return False


_ATTRIBUTE_DOCS: dict[str, dict[str, str]] = {}


def _module_attribute_docs(module: ModuleType) -> dict[str, str]:
    if module.__name__ not in _ATTRIBUTE_DOCS:
        try:
            source = inspect.getsource(module)
        except (OSError, TypeError):
            source = ""
        _ATTRIBUTE_DOCS[module.__name__] = attribute_docs(source)
    return _ATTRIBUTE_DOCS[module.__name__]


def undocumented(modules: Iterable[str]) -> list[str]:
    """One message per problem in the public modules ``modules`` (empty when all is well).

    Problems: a module that cannot be imported, has no docstring or no ``__all__``; a
    name in ``__all__`` that the module does not define; a public name without a
    docstring (see the module docstring for what counts).
    """
    modules = list(modules)
    loaded, problems = {}, []
    for modname in modules:
        try:
            loaded[modname] = importlib.import_module(modname)
        except Exception as error:  # report every broken module, not only the first
            problems.append(f"{modname}: cannot be imported ({type(error).__name__}: {error})")
    for modname in loaded:
        _ATTRIBUTE_DOCS.pop(modname, None)  # the source may have changed since last time
    for modname, module in loaded.items():
        problems.extend(_module_problems(modname, module, list(loaded.values())))
    return problems


def _module_problems(modname: str, module: ModuleType, everything: list[ModuleType]) -> list[str]:
    problems = []
    if not (module.__doc__ or "").strip():
        problems.append(f"{modname}: public module has no module docstring")
    names = getattr(module, "__all__", None)
    if names is None:
        return [*problems, f"{modname}: public module has no __all__"]
    holders = [module, *(m for m in everything if m is not module)]
    for title in multiline_titles(module.__doc__ or ""):
        problems.append(f"{modname}: docstring section title over several lines: {title!r}")
    for name in names:
        obj = getattr(module, name, None)
        if not hasattr(module, name):
            problems.append(f"{modname}.{name}: listed in __all__ but not defined")
        elif not has_docstring(obj, name, holders):
            problems.append(f"{modname}.{name}: public name (in __all__) has no docstring")
        elif (inspect.isclass(obj) or inspect.isroutine(obj)) and obj.__module__ == modname:
            for title in multiline_titles(obj.__doc__ or ""):
                problems.append(
                    f"{modname}.{name}: docstring section title over several lines: {title!r}"
                )
    return problems
