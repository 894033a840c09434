"""FTL003: which noqa codes count as unused, and its fix applied to the text."""

from __future__ import annotations

from pathlib import Path

import libcst as cst

from fastapi_task_lint import check_source
from fastapi_task_lint.config import Config
from fastapi_task_lint.diagnostics import Diagnostic, Edit
from fastapi_task_lint.engine import Linter

HEADER = """\
from fastapi import BackgroundTasks


def send(to: str) -> str:
    return to


def handler(tasks: BackgroundTasks) -> None:
"""


def apply(text: str, edits: tuple[Edit, ...]) -> str:
    """Apply 1-based, end-exclusive edits, last first."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    for edit in sorted(edits, reverse=True):
        start = starts[edit.line - 1] + edit.column - 1
        end = starts[edit.end_line - 1] + edit.end_column - 1
        text = text[:start] + edit.content + text[end:]
    return text


def run(
    body: str, select: tuple[str, ...] = ("FTL003", "FTL104"), **config: object
) -> list[Diagnostic]:
    return check_source(HEADER + body, "app.py", Config(select=select, **config))  # type: ignore[arg-type]


def fixed(body: str) -> str:
    found = [d for d in run(body) if d.code == "FTL003"]
    assert len(found) == 1, found
    assert found[0].fix is not None and found[0].fix.applicability == "safe"
    result = apply(HEADER + body, found[0].fix.edits)
    cst.parse_module(result)
    return result[len(HEADER) :]


def test_fix_removes_the_whole_comment_when_nothing_is_left() -> None:
    assert (
        fixed('    tasks.add_task(send, "a")  # noqa: FTL104\n')
        == '    tasks.add_task(send, "a")\n'
    )


def test_fix_keeps_other_tools_codes_and_other_comment_text() -> None:
    body = '    tasks.add_task(send, "a")  # type: ignore  # noqa: FTL104,E501  # why\n'
    assert fixed(body) == '    tasks.add_task(send, "a")  # type: ignore  # noqa: E501  # why\n'
    body = '    tasks.add_task(send, "a")  # noqa: FTL104 kept for the audit\n'
    assert fixed(body) == '    tasks.add_task(send, "a")  # kept for the audit\n'


def test_fix_keeps_used_codes() -> None:
    body = '    tasks.add_task(send("a"))  # noqa: FTL104, FTL777\n'
    assert fixed(body) == '    tasks.add_task(send("a"))  # noqa: FTL104\n'


def test_not_selected_means_not_reported() -> None:
    assert run('    tasks.add_task(send, "a")  # noqa: FTL104\n', select=("FTL104",)) == []


def test_a_rule_ignored_for_the_file_cannot_call_its_noqa_unused() -> None:
    body = '    tasks.add_task(send, "a")  # noqa: FTL104\n'
    assert run(body, per_file_ignores=(("app.py", ("FTL104",)),)) == []


def test_file_without_rule_triggers_is_still_checked_for_unused_noqa() -> None:
    found = check_source("x = 1  # noqa: FTL104\n", "app.py", Config(select=("FTL",)))
    assert [(d.code, d.line) for d in found] == [("FTL003", 1)]


def test_a_file_is_parsed_for_unused_noqa_alone_only_when_a_noqa_lists_our_codes(
    tmp_path: Path,
) -> None:
    """Without a rule's trigger, a `# noqa` listing an FTL code (in any case) is still
    checked; one listing only other tools' codes cannot be unused, and costs no parse."""
    (tmp_path / "ours.py").write_text("x = 1  # NoQA: ftl104\n")
    (tmp_path / "theirs.py").write_text("y = 2  # noqa: E501\n")
    run = Linter(Config(select=("FTL",), root=tmp_path)).check_paths([tmp_path])
    assert [(d.code, Path(d.path).name) for d in run.diagnostics] == [("FTL003", "ours.py")]
    parsed = {Path(r.path).name: r.model is not None for r in run.files}
    assert parsed == {"ours.py": True, "theirs.py": False}
