"""Every case study has a test module that runs it in quick mode and checks its numbers."""

from __future__ import annotations

from pathlib import Path

from samplers.case_studies import list_case_studies

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
