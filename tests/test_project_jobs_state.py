"""Whole-program rules on multi-module projects: FTL303/FTL304 (jobs) and FTL302 (state)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fastapi_task_lint.config import Config
from tests.fixture_harness import FIXTURES, expected_findings, lint

PROJECTS = FIXTURES / "projects"


def _findings(paths: list[Path], codes: tuple[str, ...]) -> list[tuple[str, int, str]]:
    config = Config(select=codes, root=FIXTURES)
    diagnostics = lint(paths, config)
    assert not [d for d in diagnostics if d.code in ("FTL001", "FTL002")], diagnostics
    return sorted(
        (Path(d.path).resolve().relative_to(PROJECTS).as_posix(), d.line, d.code)
        for d in diagnostics
    )


def _expected(root: Path, codes: tuple[str, ...]) -> list[tuple[str, int, str]]:
    return sorted(
        (path.resolve().relative_to(PROJECTS).as_posix(), line, code)
        for path in root.rglob("*.py")
        for line, code in expected_findings(path)
        if code in codes
    )


@pytest.mark.parametrize(
    ("project", "codes"),
    [
        ("jobs/with_status", ("FTL303", "FTL304")),
        ("jobs/without_status", ("FTL303", "FTL304")),
        ("state", ("FTL302",)),
        ("renamed", ("FTL201", "FTL203", "FTL302")),
    ],
)
def test_project_alone(project: str, codes: tuple[str, ...]) -> None:
    root = PROJECTS / project
    assert _findings([root], codes) == _expected(root, codes)


def test_status_route_anywhere_in_the_run_satisfies_ftl304() -> None:
    jobs = PROJECTS / "jobs"
    found = _findings([jobs / "with_status", jobs / "without_status"], ("FTL304",))
    assert found == []


def test_ftl304_reports_once_at_the_first_submission_in_path_order() -> None:
    root = PROJECTS / "jobs" / "without_status"
    found = _findings([root], ("FTL304",))
    assert found == [("jobs/without_status/routes/a_exports.py", 8, "FTL304")]


def test_ftl302_follows_writes_and_reads_across_modules() -> None:
    config = Config(select=("FTL302",), root=FIXTURES)
    diagnostics = lint([PROJECTS / "state"], config)
    (jobs,) = [d for d in diagnostics if "`JOBS`" in d.message]
    assert "`start_job`" in jobs.message and "`run_job`" in jobs.message
    assert "read by `job_status`" in jobs.message


def test_names_imported_under_new_names_are_followed() -> None:
    """The package re-exports `run_later` as `later` and `RUNS` as `RUN_STATUS`, and the task
    imports `RUNS` as `progress`: no module that uses them spells their own names."""
    config = Config(select=("FTL302",), root=FIXTURES)
    (finding,) = lint([PROJECTS / "renamed"], config)
    assert "written by `refresh`" in finding.message
    assert "read by `run_status`" in finding.message


def test_ftl302_needs_the_reader_in_the_run() -> None:
    """Without the module that reads the state, the task's writes alone are not flagged."""
    app = PROJECTS / "state" / "app"
    paths = [app / "__init__.py", app / "state.py", app / "tasks.py", app / "routes" / "jobs.py"]
    found = _findings(paths, ("FTL302",))
    assert found == [("state/app/state.py", 4, "FTL302")]


def test_whole_program_facts_follow_an_edited_buffer() -> None:
    """An editor re-checks one buffer against the run: the memoized facts are recomputed."""
    from fastapi_task_lint.discovery import discover
    from fastapi_task_lint.engine import Linter
    from fastapi_task_lint.semantics.project import ProjectIndex

    root = PROJECTS / "state"
    config = Config(select=("FTL302",), root=FIXTURES)
    project = ProjectIndex(discover([root], ()).files, config)
    linter = Linter(config)
    state_py = root / "app" / "state.py"
    before = linter.check_source(state_py.read_text(), state_py, project)
    assert sorted(d.line for d in before.diagnostics) == [3, 4]
    status_py = root / "app" / "routes" / "status.py"
    edited = status_py.read_text().replace("JOBS.get(job_id)", "None")
    linter.check_source(edited, status_py, project)
    after = linter.check_source(state_py.read_text(), state_py, project)
    assert [d.line for d in after.diagnostics] == [4]
