"""Engine behaviour that no single rule shows: rule crashes, ordering, check_source."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from fastapi_task_lint.cli import main
from fastapi_task_lint.config import Config
from fastapi_task_lint.engine import Linter
from fastapi_task_lint.rules.ftl101_orm_object_to_task import OrmObjectToTask

SOURCE = """\
from fastapi import BackgroundTasks


async def notify(to: str) -> None: ...


def handler(background_tasks: BackgroundTasks) -> None:
    background_tasks.add_task(notify("a@example.com"))
"""


@pytest.fixture()
def crashing_ftl101(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(self: OrmObjectToTask, ctx: object) -> None:
        raise ValueError("boom\nsecond line")

    monkeypatch.setattr(OrmObjectToTask, "check", explode)


def test_a_crashing_rule_is_ftl002_and_others_still_run(
    crashing_ftl101: None, tmp_path: Path
) -> None:
    path = tmp_path / "app.py"
    path.write_text(SOURCE)
    result = Linter(Config(select=("FTL1",))).check_paths([path])
    codes = [d.code for d in result.diagnostics]
    assert codes == ["FTL002", "FTL104"]
    crash = result.diagnostics[0]
    assert crash.message.startswith(
        "rule FTL101 (orm-object-to-task) failed on this file: ValueError: boom;"
    )
    assert result.crashed


def test_cli_exits_2_on_a_rule_crash_and_shows_traceback_only_with_debug(
    crashing_ftl101: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "app.py").write_text(SOURCE)
    monkeypatch.chdir(tmp_path)
    quiet = CliRunner().invoke(main, ["check", "app.py"])
    assert quiet.exit_code == 2
    assert "FTL002" in quiet.stdout and "Traceback" not in quiet.output
    debug = CliRunner().invoke(main, ["check", "--debug", "app.py"])
    assert debug.exit_code == 2
    assert "Traceback" in debug.stderr and "ValueError: boom" in debug.stderr


def test_a_failing_prefilter_is_ftl002_and_the_run_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rule's prefilter can ask for whole-program facts; when it raises, that rule's check
    reports the failure on the file, as a failing check does, and every other rule and file
    is still checked (it used to end the run with an internal error)."""

    def explode(self: OrmObjectToTask, data: bytes, path: Path, project: object) -> bool:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(OrmObjectToTask, "wants", explode)
    for name in ("a.py", "b.py"):
        (tmp_path / name).write_text(SOURCE)
    result = Linter(Config(select=("FTL1",))).check_paths([tmp_path])
    found = [(Path(d.path).name, d.code) for d in result.diagnostics]
    assert found == [("a.py", "FTL002"), ("a.py", "FTL104"), ("b.py", "FTL002"), ("b.py", "FTL104")]
    assert "rule FTL101 (orm-object-to-task) failed on this file: RecursionError" in (
        result.diagnostics[0].message
    )


def test_output_is_sorted_and_stable(tmp_path: Path) -> None:
    for name in ("b.py", "a.py", "c/z.py"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(SOURCE + SOURCE.replace("def handler", "def handler2"))
    linter = Linter(Config(select=("FTL",)))
    first = linter.check_paths([tmp_path]).diagnostics
    second = linter.check_paths([tmp_path]).diagnostics
    assert first == second
    keys = [(d.path, d.line, d.column, d.code) for d in first]
    assert keys == sorted(keys)
    assert len({d.path for d in first}) == 3


def test_check_source_uses_in_memory_text(tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    path.write_text("x = 1\n")  # on disk: clean; in the editor buffer: a finding
    result = Linter(Config()).check_source(SOURCE, path)
    assert [(d.code, d.line) for d in result.diagnostics] == [("FTL104", 8)]
