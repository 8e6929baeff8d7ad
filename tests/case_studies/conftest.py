"""Running a case study in quick mode for its test, then redrawing its figures.

Each case study has a test module here that calls :func:`run_quick` and checks the key
numbers it saved against independent values (the paper, an analytic result, another
package), as numpyro's ``test_examples.py`` does.

The results go to ``$BAYESMEAS_CASE_STUDY_OUTPUT/<name>`` when that is set (``make
test`` sets it to ``docs/_build/case-study-runs``, where the documentation build finds
the executed notebooks), otherwise to a temporary folder.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import nbformat
import pytest

from samplers.app.case_studies import NotRunnable, get_case_study, redraw_figures, run_case_study

#: Seconds one quick case-study cell may take before the test fails.
CELL_TIMEOUT = 900


def run_quick(name: str, tmp_path_factory) -> Path:
    """Run case study ``name`` quick; check its figures come from its saved results.

    Returns the output folder (results, figures, the executed notebook).
    """
    study = get_case_study(name)
    base = os.environ.get("BAYESMEAS_CASE_STUDY_OUTPUT")
    output = Path(base) / study.name if base else tmp_path_factory.mktemp(study.name)
    if output.exists():
        shutil.rmtree(output)
    try:
        notebook = run_case_study(study.name, output, timeout=CELL_TIMEOUT)
    except NotRunnable as reason:  # third-party measured data absent on this machine
        pytest.skip(str(reason))
    assert nbformat.read(notebook, as_version=4).metadata["bayesmeas"]["size"] == "quick"
    figures = sorted(output.glob("*.png"))
    assert figures, f"{study.name} wrote no figures"
    for path in figures:
        path.unlink()
    # in a fresh namespace of this process: no variable of the run survives, and the
    # packages are already imported (a second kernel would cost 5–10 s per case study)
    assert redraw_figures(study.name, output, kernel=False) == figures
    return output
