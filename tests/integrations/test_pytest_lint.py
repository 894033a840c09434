"""`pytest --task-lint`: one item per collected Python file, failing with its findings."""

from __future__ import annotations

from pathlib import Path

import pytest

from fastapi_task_lint.rules import all_rules
from tests.fixture_harness import collector_watched

# Loaded here, before any inner run: pytester's in-process runs restore `sys.modules`
# afterwards, so a module the plugin first imports inside one is imported afresh by the
# next, beside the copies other modules kept (the rules found nothing when this file ran
# alone, and passed after any other test file had loaded them).
all_rules()

BAD = """\
from fastapi import BackgroundTasks

from app.tasks import send_email


def signup(background_tasks: BackgroundTasks, to: str):
    background_tasks.add_task(send_email(to))
"""

TASKS = "def send_email(to: str) -> None: ...\n"

TEST = "def test_ok():\n    assert True\n"


@pytest.fixture(autouse=True)
def _asyncio_loop_scope_set(pytester: pytest.Pytester) -> None:
    """The inner sessions load pytest-asyncio too, which warns when this option is unset."""
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.mkpydir("app")
    pytester.path.joinpath("app", "views.py").write_text(BAD)
    pytester.path.joinpath("app", "tasks.py").write_text(TASKS)
    pytester.makepyfile(test_app=TEST)
    return pytester


def test_without_the_option_nothing_is_linted(project: pytest.Pytester) -> None:
    result = project.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=1)


def test_each_python_file_is_an_item_that_fails_with_its_findings(
    project: pytest.Pytester,
) -> None:
    result = project.runpytest("--task-lint", "-v")
    # app/__init__.py, app/tasks.py, app/views.py, test_app.py; and the test itself
    result.assert_outcomes(passed=4, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*app/views.py::task-lint FAILED*",
            "*app/views.py:7:31: FTL104 [[]*[]] `send_email(to)` is scheduled as the task*",
            "*background_tasks.add_task(send_email(to))",
            "*^^^^^^^^^^^^^^*",
        ]
    )
    result.stdout.fnmatch_lines(["*test_app.py::task-lint PASSED*"])


def _lint_outcomes(result: pytest.RunResult) -> dict[str, str]:
    """`{"app/views.py": "FAILED", ...}` from a `-v` run."""
    found = {}
    for line in result.outlines:
        path, sep, rest = line.partition("::task-lint ")
        if sep:
            found[path] = rest.split()[0]
    return found


def test_clean_files_are_skipped_while_they_and_the_project_are_unchanged(
    project: pytest.Pytester,
) -> None:
    views = project.path / "app" / "views.py"
    views.write_text(BAD.replace("send_email(to))", "send_email, to)"))
    project.runpytest("--task-lint").assert_outcomes(passed=5)
    again = project.runpytest("--task-lint", "-rs")
    again.assert_outcomes(passed=1, skipped=4)
    again.stdout.fnmatch_lines(["*unchanged since it last passed fastapi-task-lint*"])
    # A comment changes no syntax tree: only tasks.py itself is checked again.
    tasks = project.path.joinpath("app", "tasks.py")
    tasks.write_text("# sending\n" + TASKS)
    third = _lint_outcomes(project.runpytest("--task-lint", "-v"))
    assert third == {
        "app/__init__.py": "SKIPPED",
        "app/tasks.py": "PASSED",
        "app/views.py": "SKIPPED",
        "test_app.py": "SKIPPED",
    }
    # Code: any file's findings may follow it (views.py schedules its task): all again.
    tasks.write_text("async " + TASKS)
    fourth = _lint_outcomes(project.runpytest("--task-lint", "-v"))
    assert set(fourth.values()) == {"PASSED"}, fourth
    # A failing file is never cached.
    views.write_text(BAD)
    for run in range(2):
        outcomes = _lint_outcomes(project.runpytest("--task-lint", "-v"))
        assert outcomes["app/views.py"] == "FAILED"
        assert outcomes["app/__init__.py"] == ("PASSED" if run == 0 else "SKIPPED")


def test_a_clean_file_is_rechecked_when_another_file_starts_using_it(
    pytester: pytest.Pytester,
) -> None:
    """tasks.py is clean until a route schedules its blocking async function: its check never
    read views.py (no scheduling site then) or new.py (not there yet), and still sees them."""
    pytester.mkpydir("app")
    tasks = "import time\n\n\nasync def send_report() -> None:\n    time.sleep(1)\n"
    pytester.path.joinpath("app", "tasks.py").write_text(tasks)
    views = pytester.path.joinpath("app", "views.py")
    views.write_text("def index() -> str:\n    return 'ok'\n")
    pytester.runpytest("--task-lint").assert_outcomes(passed=3)
    route = (
        "from fastapi import BackgroundTasks\n\nfrom app.tasks import send_report\n\n\n"
        "def report(background_tasks: BackgroundTasks) -> None:\n"
        "    background_tasks.add_task(send_report)\n"
    )
    for changed in (views, pytester.path / "app" / "new.py"):
        changed.write_text(route)
        outcomes = _lint_outcomes(pytester.runpytest("--task-lint", "-v"))
        assert outcomes["app/tasks.py"] == "FAILED", (changed.name, outcomes)
        changed.write_text("def index() -> str:\n    return 'ok'\n")
        pytester.runpytest("--task-lint")


def test_the_project_config_applies(project: pytest.Pytester) -> None:
    project.makepyprojecttoml('[tool.fastapi-task-lint]\nignore = ["FTL104"]\n')
    project.runpytest("--task-lint").assert_outcomes(passed=5)
    project.makepyprojecttoml('[tool.fastapi-task-lint]\nexclude = ["views.py"]\n')
    project.runpytest("--task-lint").assert_outcomes(passed=4)
    project.makepyprojecttoml('[tool.fastapi-task-lint]\nextend-exclude = ["app"]\n')
    project.runpytest("--task-lint").assert_outcomes(passed=2)


def test_noqa_applies(project: pytest.Pytester) -> None:
    project.path.joinpath("app", "views.py").write_text(
        BAD.replace("send_email(to))", "send_email(to))  # noqa: FTL104")
    )
    project.runpytest("--task-lint").assert_outcomes(passed=5)


def test_a_config_error_is_a_usage_error(project: pytest.Pytester) -> None:
    project.makepyprojecttoml("[tool.fastapi-task-lint]\nselekt = []\n")
    result = project.runpytest("--task-lint")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*fastapi-task-lint: *selekt*unknown key*"])


def test_the_index_is_kept_from_the_cycle_collector(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As in flake8's plugin: the pytest process keeps the index to its end, so the collector
    is paused while a file is checked, and what the check built is frozen afterwards."""
    from fastapi_task_lint.config import Config
    from fastapi_task_lint.pytest_lint import _LintSession

    (tmp_path / "app.py").write_text("x = 1\n")
    session = _LintSession(Config(root=tmp_path), {}, {})
    with collector_watched(monkeypatch, "check_file"):
        assert session.check(tmp_path / "app.py") == []
