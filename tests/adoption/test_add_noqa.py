"""`check --add-noqa`: every reported line gets its code, merged, never duplicated."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from fastapi_task_lint.cli import main

HEADER = """\
from fastapi import BackgroundTasks


def send(to: str, body: str = "") -> str:
    return to


def handler(background_tasks: BackgroundTasks) -> None:
"""
BODY = '''\
    background_tasks.add_task(send("a"))
    background_tasks.add_task(send("b"))  # keep this note
    background_tasks.add_task(send("c"))  # noqa: E501
    background_tasks.add_task(send("d"))  # noqa: E501, FTL104
    background_tasks.add_task(send("e"))  # noqa
    background_tasks.add_task(send("f", """
    multi-line string"""))
    background_tasks.add_task(send("g")) ; background_tasks.add_task(send("h"))
    background_tasks.add_task(send(
        "i"))
    background_tasks.add_task(send("j")) if True else \\
        None
'''
EXPECTED = '''\
    background_tasks.add_task(send("a"))  # noqa: FTL104
    background_tasks.add_task(send("b"))  # keep this note  # noqa: FTL104
    background_tasks.add_task(send("c"))  # noqa: E501, FTL104
    background_tasks.add_task(send("d"))  # noqa: E501, FTL104
    background_tasks.add_task(send("e"))  # noqa
    background_tasks.add_task(send("f", """
    multi-line string"""))
    background_tasks.add_task(send("g")) ; background_tasks.add_task(send("h"))  # noqa: FTL104
    background_tasks.add_task(send(  # noqa: FTL104
        "i"))
    background_tasks.add_task(send("j")) if True else \\
        None
'''


@pytest.fixture()
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "pyproject.toml").write_text('[tool.fastapi-task-lint]\nselect = ["FTL104"]\n')
    (tmp_path / "app.py").write_text(HEADER + BODY)
    monkeypatch.chdir(tmp_path)
    return tmp_path / "app.py"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["check", *args])


def test_add_noqa_merges_and_skips_lines_inside_strings(app: Path) -> None:
    result = run("app.py", "--add-noqa")
    assert result.exit_code == 0, result.output
    assert app.read_text() == HEADER + EXPECTED
    assert "Added 5 noqa directives in 1 file (2 skipped)." in result.output
    assert "app.py:14: no noqa comment added for FTL104" in result.output
    after = run("app.py")
    assert after.exit_code == 1  # only the skipped lines are left
    assert [line.split(":")[1] for line in after.output.splitlines() if "FTL104" in line] == [
        "14",
        "19",
    ]


def test_add_noqa_twice_changes_nothing(app: Path) -> None:
    run("app.py", "--add-noqa")
    once = app.read_text()
    result = run("app.py", "--add-noqa")
    assert app.read_text() == once
    assert "Added 0 noqa directives in 0 files (2 skipped)." in result.output


def test_add_noqa_keeps_line_endings_and_encoding(app: Path) -> None:
    source = (
        "# -*- coding: latin-1 -*-\n# café\n"
        + HEADER
        + '    background_tasks.add_task(send("a"))\n'
    )
    app.write_bytes(source.replace("\n", "\r\n").encode("latin-1"))
    assert run("app.py", "--add-noqa").exit_code == 0
    data = app.read_bytes()
    assert data.endswith(b'add_task(send("a"))  # noqa: FTL104\r\n')
    assert "café".encode("latin-1") in data and b"\n" not in data.replace(b"\r\n", b"")


def test_add_noqa_with_baseline_only_suppresses_new_findings(app: Path) -> None:
    run("app.py", "--write-baseline", "baseline.json")
    app.write_text(app.read_text() + '    background_tasks.add_task(send("new"))\n')
    assert (
        "Added 1 noqa directive in 1 file."
        in run("app.py", "--baseline", "baseline.json", "--add-noqa").output
    )
    assert app.read_text().endswith('add_task(send("new"))  # noqa: FTL104\n')
    assert 'add_task(send("a"))\n' in app.read_text()
