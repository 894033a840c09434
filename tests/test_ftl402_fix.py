"""FTL402's fix turns the bare `self.retry(...)` statement into `raise self.retry(...)`."""

from __future__ import annotations

from pathlib import Path

from fastapi_task_lint.config import Config
from fastapi_task_lint.diagnostics import Edit
from fastapi_task_lint.engine import Linter
from fastapi_task_lint.source import LINE_BREAK

SOURCE = """\
from celery import shared_task


@shared_task(bind=True)
def fetch(self, url):
    try:
        get(url)
    except OSError as exc:
        # The carrier API is flaky.
        self.retry(exc=exc)
    print("done"); self.retry(countdown=5)  # trailing
"""

EXPECTED = """\
from celery import shared_task


@shared_task(bind=True)
def fetch(self, url):
    try:
        get(url)
    except OSError as exc:
        # The carrier API is flaky.
        raise self.retry(exc=exc)
    print("done"); raise self.retry(countdown=5)  # trailing
"""


def _apply(text: str, edits: list[Edit]) -> str:
    """`edits` applied to `text`, counting lines as Python does (not `str.splitlines`, which
    also breaks at form feeds)."""
    offsets = [0, *(found.end() for found in LINE_BREAK.finditer(text))]

    def offset(line: int, column: int) -> int:
        return offsets[line - 1] + column - 1

    for edit in sorted(edits, reverse=True):
        start, end = offset(edit.line, edit.column), offset(edit.end_line, edit.end_column)
        text = text[:start] + edit.content + text[end:]
    return text


def test_fix_prepends_raise_and_keeps_comments() -> None:
    linter = Linter(Config(select=("FTL402",)))
    result = linter.check_source(SOURCE, Path("tasks.py"))
    fixes = [d.fix for d in result.diagnostics if d.fix is not None]
    assert [d.line for d in result.diagnostics] == [10, 11]
    assert all(fix.applicability == "safe" for fix in fixes)
    edits = [edit for fix in fixes for edit in fix.edits]
    assert _apply(SOURCE, edits) == EXPECTED
