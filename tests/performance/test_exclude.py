"""The compiled exclude matcher says what one `fnmatch` per pattern and form said (issue 8)."""

from __future__ import annotations

import fnmatch
from pathlib import Path

import pytest

from fastapi_task_lint.config import DEFAULT_EXCLUDE
from fastapi_task_lint.discovery import excluded

_PATTERNS = (
    *DEFAULT_EXCLUDE,
    "generated",
    "migrations/*.py",
    "*_pb2.py",
    "app/legacy/[ab]*.py",
    "tests/fixtures",
    "we?rd",
)
_PATHS = [
    "app/main.py",
    "app/api_pb2.py",
    "app/generated",
    "src/app/generated/x.py",
    "migrations/0001_init.py",
    "app/migrations/0001_init.py",
    "app/legacy/auth.py",
    "app/legacy/core.py",
    "pkg/tests/fixtures",
    "tests/fixtures/FTL101/x.py",
    "node_modules",
    "a/.venv",
    "a/venv2",
    "weird",
    "we/rd",
    "",
]


def _one_by_one(path: Path, patterns: tuple[str, ...]) -> bool:
    text = path.as_posix()
    return any(
        fnmatch.fnmatch(path.name, p) or fnmatch.fnmatch(text, p) or fnmatch.fnmatch(text, f"*/{p}")
        for p in patterns
    )


@pytest.mark.parametrize("path", _PATHS)
def test_same_answer_as_fnmatch_per_pattern(path: str) -> None:
    for patterns in (_PATTERNS, _PATTERNS[:1], ("generated",), ("*/x.py",)):
        assert excluded(Path(path), patterns) == _one_by_one(Path(path), patterns), patterns


def test_no_patterns_exclude_nothing() -> None:
    assert not excluded(Path("app/main.py"), ())
