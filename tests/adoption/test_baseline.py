"""Baselines: recorded findings are quiet, new ones fail, entries survive unrelated edits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from fastapi_task_lint.cli import main

APP = """\
from fastapi import BackgroundTasks


def send(to: str) -> str:
    return to


def signup(background_tasks: BackgroundTasks) -> None:
    background_tasks.add_task(send("a@b.c"))


def reset(background_tasks: BackgroundTasks) -> None:
    background_tasks.add_task(send("a@b.c"))
    background_tasks.add_task(send("a@b.c"))
"""
NEW = """

def invite(background_tasks: BackgroundTasks) -> None:
    background_tasks.add_task(send("x@y.z"))
"""


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "views.py").write_text(APP)
    (tmp_path / "pyproject.toml").write_text('[tool.fastapi-task-lint]\nselect = ["FTL104"]\n')
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["check", *args])


def test_write_then_check_is_clean_and_json_is_stable(project: Path) -> None:
    written = run("app", "--write-baseline", "baseline.json")
    assert written.exit_code == 0, written.output
    assert "Wrote 3 findings" in written.output
    text = (project / "baseline.json").read_text()
    document = json.loads(text)
    assert document["version"] == 1
    assert [(f["path"], f["function"], f["occurrence"]) for f in document["findings"]] == sorted(
        [
            ("app/views.py", "views.reset", 0),
            ("app/views.py", "views.reset", 1),
            ("app/views.py", "views.signup", 0),
        ]
    )
    assert text == json.dumps(document, indent=2, sort_keys=True) + "\n"
    run("app", "--write-baseline", "baseline.json")
    assert (project / "baseline.json").read_text() == text  # byte-identical on rerun
    checked = run("app", "--baseline", "baseline.json")
    assert checked.exit_code == 0, checked.output
    assert "3 baselined" in checked.output


def test_lines_added_above_keep_findings_baselined(project: Path) -> None:
    run("app", "--write-baseline", "baseline.json")
    views = project / "app" / "views.py"
    views.write_text('"""Views."""\n\nimport os\n\n\n' + views.read_text())
    assert run("app", "--baseline", "baseline.json").exit_code == 0


def test_only_the_new_finding_fails(project: Path) -> None:
    run("app", "--write-baseline", "baseline.json")
    (project / "app" / "views.py").write_text(APP + NEW)
    checked = run("app", "--baseline", "baseline.json", "--statistics")
    assert checked.exit_code == 1
    lines = [line for line in checked.output.splitlines() if "FTL104" in line]
    assert lines[0].startswith("app/views.py:18:")  # the new one, in `invite`
    assert "    1          3  FTL104  call-result-to-task" in checked.output
    assert "Found 1 finding in 1 file (3 baselined)." in checked.output


def test_a_third_identical_finding_in_a_function_is_new(project: Path) -> None:
    run("app", "--write-baseline", "baseline.json")
    views = project / "app" / "views.py"
    views.write_text(APP + '    background_tasks.add_task(send("a@b.c"))\n')
    assert run("app", "--baseline", "baseline.json").exit_code == 1


def test_fixed_findings_leave_the_file_on_rewrite(project: Path) -> None:
    run("app", "--write-baseline", "baseline.json")
    views = project / "app" / "views.py"
    views.write_text(
        APP.replace('add_task(send("a@b.c"))\n\n\ndef reset', 'add_task(send, "a")\n\n\ndef reset')
    )
    assert run("app", "--baseline", "baseline.json").exit_code == 0
    run("app", "--write-baseline", "baseline.json")
    functions = [
        f["function"] for f in json.loads((project / "baseline.json").read_text())["findings"]
    ]
    assert functions == ["views.reset", "views.reset"]


def test_paths_are_relative_to_the_baseline_file(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "ci").mkdir()
    run("app", "--write-baseline", "ci/baseline.json")
    paths = {
        f["path"] for f in json.loads((project / "ci" / "baseline.json").read_text())["findings"]
    }
    assert paths == {"../app/views.py"}
    monkeypatch.chdir(project / "app")
    assert run(".", "--baseline", "../ci/baseline.json").exit_code == 0


def test_a_moved_finding_in_another_function_is_new(project: Path) -> None:
    run("app", "--write-baseline", "baseline.json")
    views = project / "app" / "views.py"
    views.write_text(APP.replace("def signup(", "def register("))
    assert run("app", "--baseline", "baseline.json").exit_code == 1


def test_bad_baseline_file_is_a_usage_error(project: Path) -> None:
    (project / "baseline.json").write_text("{nope")
    result = run("app", "--baseline", "baseline.json")
    assert result.exit_code == 2
    assert "not a baseline file" in result.output
    assert run("app", "--baseline", "missing.json").exit_code == 2
