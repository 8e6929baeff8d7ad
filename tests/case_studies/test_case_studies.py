"""Every case study runs, with small sampler settings, so that none of them rots."""

from __future__ import annotations

import runpy
from pathlib import Path

import matplotlib
import pytest

CASE_STUDIES = sorted((Path(__file__).parents[2] / "case_studies").glob("*.py"))


def test_there_are_case_studies():
    assert CASE_STUDIES


@pytest.mark.parametrize("path", CASE_STUDIES, ids=lambda p: p.stem)
def test_case_study_runs_quick(path, monkeypatch):
    matplotlib.use("Agg")
    monkeypatch.setenv("BAYESMEAS_QUICK", "1")
    namespace = runpy.run_path(str(path), run_name="__main__")
    assert namespace["QUICK"] is True
