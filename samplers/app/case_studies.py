"""Case studies: find them, run one as a notebook, redraw its figures from its results.

A case study is a jupytext percent-format script in ``case_studies/`` of the source
checkout (one per published result). Its contract (``docs/contributing-docs.md``):

* the first code cell is the set-up: imports, ``QUICK`` (``BAYESMEAS_QUICK=1``) and
  ``OUTPUT`` (``BAYESMEAS_OUTPUT``, the folder it writes to), nothing slow;
* every number that a figure or the closing table shows is saved in ``OUTPUT``
  (netCDF for arrays and posteriors, CSV for tables);
* every cell that draws a figure is tagged ``figures`` (``# %% tags=["figures"]``) and
  reads only the set-up cell's names and the files in ``OUTPUT``, so the figures can be
  redrawn without resampling (:func:`redraw_figures`).

:func:`run_case_study` executes the script in a fresh Jupyter kernel (nbclient), in the
quick or the full size, and writes the executed notebook, with its printed tables and
figures, beside the results: ``OUTPUT/<name>.ipynb``. The documentation site renders
those notebooks, and the test suite checks their key numbers.
"""

from __future__ import annotations

import hashlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "CASE_STUDIES_DIR",
    "REAL_DATA_ENV",
    "CaseStudy",
    "MissingDataError",
    "NotRunnable",
    "get_case_study",
    "list_case_studies",
    "real_data_dir",
    "redraw_figures",
    "require_real_data",
    "run_case_study",
]

#: Environment variable naming the folder of measured third-party data.
REAL_DATA_ENV = "BAYESMEAS_REAL_DATA"

#: Case studies live in the source checkout, beside the packages.
CASE_STUDIES_DIR = Path(__file__).resolve().parents[2] / "case_studies"

#: The tag of the cells that draw figures from the saved results.
FIGURES_TAG = "figures"


class MissingDataError(FileNotFoundError):
    """A case study needs measured data that are not on this machine.

    A case study that reads third-party data raises it, naming the files and their
    public source, when they are absent. :func:`run_case_study` then reports the case
    study as not runnable here (``NotRunnable``) rather than as failed, and the site
    renders the notebook up to that point, with the message.
    """


def real_data_dir() -> Path:
    """The folder of measured third-party data that case studies read.

    ``$BAYESMEAS_REAL_DATA`` when set; else ``../shared/data/real`` relative to the
    working directory (case studies run from the checkout's root); else the
    ``shared/data/real`` folder beside the checkout. The data are never copied into the
    repository.
    """
    configured = os.environ.get(REAL_DATA_ENV)
    if configured:
        return Path(configured)
    beside = Path("../shared/data/real")
    if beside.exists():
        return beside
    return Path(__file__).resolve().parents[3] / "shared" / "data" / "real"


def require_real_data(names: list[str] | tuple[str, ...], source: str) -> Path:
    """:func:`real_data_dir`, after checking that it holds every file in ``names``.

    Raises
    ------
    MissingDataError
        Naming the missing files, the folder searched and their public ``source``.
    """
    folder = real_data_dir()
    missing = [name for name in names if not (folder / name).exists()]
    if missing:
        raise MissingDataError(
            f"{missing} not in {folder}: fetch them from {source} "
            f"(or set {REAL_DATA_ENV} to the folder that holds them)"
        )
    return folder


class NotRunnable(RuntimeError):
    """Raised by :func:`run_case_study` when the case study raised :class:`MissingDataError`."""


@dataclass(frozen=True)
class CaseStudy:
    """One case study: its ``name`` (the file stem), ``path`` and ``title``."""

    name: str
    path: Path
    title: str

    def source_hash(self) -> str:
        """SHA-256 of the script, recorded in executed notebooks to tell stale ones."""
        return hashlib.sha256(self.path.read_bytes()).hexdigest()

    def notebook(self):
        """The script as an ``nbformat`` notebook (jupytext percent format)."""
        import jupytext

        notebook = jupytext.read(self.path, fmt="py:percent")
        notebook.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        notebook.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
        return notebook


def _title(path: Path) -> str:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# # "):
            return line[4:].strip()
    return ""


def list_case_studies(directory: str | Path | None = None) -> list[CaseStudy]:
    """Every case study in ``directory`` (default :data:`CASE_STUDIES_DIR`), by name."""
    directory = Path(directory) if directory is not None else CASE_STUDIES_DIR
    return [CaseStudy(p.stem, p, _title(p)) for p in sorted(directory.glob("*.py"))]


def get_case_study(name: str, directory: str | Path | None = None) -> CaseStudy:
    """The case study called ``name``, or the only one whose name contains it.

    Raises
    ------
    ValueError
        No case study matches, or several do (the message lists them).
    """
    studies = list_case_studies(directory)
    if not studies:
        raise ValueError(
            f"no case studies in {directory or CASE_STUDIES_DIR} (they live in the source "
            "checkout, not in an installed package)"
        )
    exact = [s for s in studies if s.name == name]
    matches = exact or [s for s in studies if name.lower() in s.name.lower()]
    if len(matches) == 1:
        return matches[0]
    names = ", ".join(s.name for s in (matches or studies))
    if matches:
        raise ValueError(f"case study {name!r} is ambiguous: it matches {names}")
    raise ValueError(f"unknown case study {name!r}; known: {names}")


def _kernel_env(output: Path, full: bool) -> dict[str, str]:
    env = dict(os.environ)
    env["BAYESMEAS_QUICK"] = "0" if full else "1"
    env["BAYESMEAS_OUTPUT"] = str(output)
    # a non-interactive backend was chosen for this process (tests); the kernel draws
    # inline, so that the executed notebook shows its figures
    env.pop("MPLBACKEND", None)
    return env


def _execute(notebook, study: CaseStudy, output: Path, full: bool, timeout: int | None):
    from nbclient import NotebookClient

    client = NotebookClient(
        notebook,
        kernel_name="python3",
        # the kernel's own log only (it warns that local TCP is unencrypted); the case
        # study's warnings and errors still reach the notebook
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
        timeout=timeout,
        resources={"metadata": {"path": str(study.path.parents[1])}},
    )
    client.execute(env=_kernel_env(output, full))


def run_case_study(
    name: str,
    output: str | Path | None = None,
    *,
    full: bool = False,
    timeout: int | None = None,
) -> Path:
    """Run a case study in a fresh kernel; write its results and its executed notebook.

    Parameters
    ----------
    name : str
        A case-study name, or a part of one that is unique (:func:`get_case_study`).
    output : path, optional
        The folder for its figures, tables, netCDF results and the executed notebook
        ``<name>.ipynb`` (default ``results/<name>``).
    full : bool
        The paper-size run (minutes to hours) instead of the quick one.
    timeout : int, optional
        Seconds allowed per cell (default: no limit).

    Returns
    -------
    pathlib.Path
        The executed notebook. When a cell fails, the notebook up to the failure is
        still written, and the error is raised as a ``RuntimeError`` naming it; when the
        case study raised :class:`MissingDataError`, as :class:`NotRunnable`.
    """
    import nbformat
    from nbclient.exceptions import CellExecutionError

    study = get_case_study(name)
    output = Path(output if output is not None else Path("results") / study.name).resolve()
    output.mkdir(parents=True, exist_ok=True)
    notebook = study.notebook()
    notebook.metadata["bayesmeas"] = {
        "case_study": study.name,
        "size": "full" if full else "quick",
        "source_sha256": study.source_hash(),
        "python": sys.version.split()[0],
    }
    path = output / f"{study.name}.ipynb"
    try:
        _execute(notebook, study, output, full, timeout)
    except CellExecutionError as error:
        if error.ename == MissingDataError.__name__:
            notebook.metadata["bayesmeas"]["missing_data"] = error.evalue
            nbformat.write(notebook, path)
            raise NotRunnable(f"case study {study.name}: {error.evalue}") from None
        notebook.metadata["bayesmeas"]["failed"] = True
        nbformat.write(notebook, path)
        raise RuntimeError(f"case study {study.name} failed (notebook: {path}):\n{error}") from None
    nbformat.write(notebook, path)
    return path


def _execute_here(notebook, study: CaseStudy, output: Path, full: bool) -> None:
    """Run the code cells of ``notebook`` in a fresh namespace of this process."""
    import matplotlib
    import matplotlib.pyplot as plt

    saved = {k: os.environ.get(k) for k in ("BAYESMEAS_QUICK", "BAYESMEAS_OUTPUT")}
    backend = matplotlib.get_backend()
    os.environ.update({"BAYESMEAS_QUICK": "0" if full else "1", "BAYESMEAS_OUTPUT": str(output)})
    plt.switch_backend("Agg")
    namespace = {"__name__": "__main__", "__file__": str(study.path)}
    try:
        for cell in notebook.cells:
            exec(compile(cell.source, f"{study.path.name} (figures)", "exec"), namespace)
    finally:
        plt.close("all")
        plt.switch_backend(backend)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _size_of_run(notebook_path: Path) -> str:
    """``quick`` or ``full``: the size of the run that wrote ``notebook_path``."""
    import nbformat

    if not notebook_path.exists():
        return "quick"
    return (
        nbformat.read(notebook_path, as_version=4)
        .metadata.get("bayesmeas", {})
        .get("size", "quick")
    )


def redraw_figures(name: str, output: str | Path, *, kernel: bool = True) -> list[Path]:
    """Redraw a case study's figures from the results saved in ``output``, without sampling.

    Runs the set-up cell and the cells tagged ``figures``, in the size (quick or full)
    of the run that wrote ``output``: in a fresh kernel, or with ``kernel=False`` in a
    fresh namespace of this process (faster when the packages are already imported;
    figures are drawn with matplotlib's Agg backend and closed).

    Returns
    -------
    list of pathlib.Path
        The PNG files in ``output`` written by this call.

    Raises
    ------
    ValueError
        The case study has no cell tagged ``figures``, or ``output`` does not exist.
    """
    from nbclient.exceptions import CellExecutionError

    study = get_case_study(name)
    output = Path(output).resolve()
    if not output.is_dir():
        raise ValueError(f"no results folder {output}: run the case study first")
    notebook = study.notebook()
    code = [c for c in notebook.cells if c.cell_type == "code"]
    figures = [c for c in code[1:] if FIGURES_TAG in c.metadata.get("tags", [])]
    if not figures:
        raise ValueError(f"case study {study.name} has no cell tagged {FIGURES_TAG!r}")
    notebook.cells = [code[0], *figures]
    full = _size_of_run(output / f"{study.name}.ipynb") == "full"
    before = {p: p.stat().st_mtime_ns for p in output.glob("*.png")}
    try:
        if kernel:
            _execute(notebook, study, output, full=full, timeout=None)
        else:
            _execute_here(notebook, study, output, full)
    except CellExecutionError as error:
        raise RuntimeError(f"redrawing the figures of {study.name} failed:\n{error}") from None
    return sorted(
        p for p in output.glob("*.png") if p not in before or p.stat().st_mtime_ns > before[p]
    )
