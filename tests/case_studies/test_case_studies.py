"""Every case study has a test module that runs it in quick mode and checks its numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from samplers.app.case_studies import (
    REAL_DATA_ENV,
    MissingDataError,
    list_case_studies,
    real_data_dir,
    require_real_data,
)

HERE = Path(__file__).parent


def test_there_are_case_studies():
    assert list_case_studies()


def test_every_case_study_has_a_key_number_test():
    missing = [
        s.name for s in list_case_studies() if "run_quick(" not in _text(HERE / f"test_{s.name}.py")
    ]
    assert not missing, f"case studies without tests/case_studies/test_<name>.py: {missing}"


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.exists() else ""


def test_real_data_folder_from_the_environment(tmp_path, monkeypatch):
    """BAYESMEAS_REAL_DATA points the case studies at the measured data; a missing file
    raises MissingDataError naming it, the folder and the public source."""
    monkeypatch.setenv(REAL_DATA_ENV, str(tmp_path))
    assert real_data_dir() == tmp_path
    (tmp_path / "present.csv").write_text("1,2\n")
    assert require_real_data(["present.csv"], "nowhere") == tmp_path
    with pytest.raises(MissingDataError, match=r"\['absent.xmu'\] not in .*: fetch them from src"):
        require_real_data(["present.csv", "absent.xmu"], "src")
