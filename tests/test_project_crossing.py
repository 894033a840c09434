"""A multi-module app where every value crosses a module boundary on its way to a task.

Routes, tasks, helpers, services, models and dependencies sit in separate files; the
helpers that schedule (`run_later`, `schedule_receipt`) and the job builder
(`audit_job`) live in `tasks.py`, so each finding needs the project index.
"""

from __future__ import annotations

from pathlib import Path

from fastapi_task_lint.config import Config
from fastapi_task_lint.engine import Linter
from fastapi_task_lint.semantics.project import ProjectIndex
from tests.fixture_harness import (
    FIXTURES,
    expected_findings,
    lint,
    project_expected,
    project_findings,
)

PROJECT = FIXTURES / "projects" / "crossing"
CODES = ("FTL101", "FTL102", "FTL103", "FTL104", "FTL105")


def _findings() -> list[tuple[str, int, str]]:
    diagnostics = lint([PROJECT], Config(select=CODES, root=FIXTURES))
    return sorted((d.path.rsplit("crossing/", 1)[-1], d.line, d.code) for d in diagnostics)


def test_findings_as_a_whole() -> None:
    expected = sorted(
        (path.relative_to(PROJECT).as_posix(), line, code)
        for path in PROJECT.rglob("*.py")
        for line, code in expected_findings(path)
    )
    assert expected == [
        ("routes/orders.py", 19, "FTL102"),
        ("routes/orders.py", 25, "FTL102"),
        ("routes/orders.py", 31, "FTL102"),
        ("routes/orders.py", 37, "FTL101"),
        ("routes/orders.py", 38, "FTL101"),
        ("routes/orders.py", 44, "FTL105"),
        ("routes/orders.py", 52, "FTL104"),
        ("routes/uploads.py", 14, "FTL103"),
        ("routes/uploads.py", 21, "FTL103"),
    ]
    assert _findings() == expected


def test_helper_sites_name_both_places() -> None:
    diagnostics = lint([PROJECT], Config(select=CODES, root=FIXTURES))
    by_line = {d.line: d.message for d in diagnostics if d.path.endswith("orders.py")}
    assert "scheduled by `later`" in by_line[19]
    assert "`bg.add_task` in `run_later` at " in by_line[19]
    assert "tasks.py:33" in by_line[19]
    assert "`audit_job(...)`" in by_line[25] and "tasks.py:36" in by_line[25]
    assert "`OrderService(db)`" in by_line[31]
    assert "`schedule_receipt`" in by_line[37] and "tasks.py:41" in by_line[37]
    assert "worker.py:" in by_line[44] and "render_invoice.delay(...)" in by_line[44]


def test_vendored_library_is_not_a_project_definition(tmp_path: Path) -> None:
    """A checked copy of FastAPI is still FastAPI: names the rules know are never resolved
    into its source (which would also parse the library's largest modules)."""
    vendored = tmp_path / "fastapi"
    vendored.mkdir()
    (vendored / "__init__.py").write_text(
        "from .background import BackgroundTasks as BackgroundTasks\n"
    )
    (vendored / "background.py").write_text("class BackgroundTasks:\n    pass\n")
    (tmp_path / "app.py").write_text(
        "from fastapi import BackgroundTasks\n\n\n"
        "def send_email(to: str) -> None: ...\n\n\n"
        "def signup(email: str, background_tasks: BackgroundTasks) -> None:\n"
        "    background_tasks.add_task(send_email(email))  # error: FTL104\n"
    )
    config = Config(select=("FTL104",), root=tmp_path)
    project = ProjectIndex(sorted(tmp_path.rglob("*.py")), config)
    assert project.resolve("fastapi.BackgroundTasks") is None
    assert project.resolve("fastapi.background.BackgroundTasks") is None
    assert project.resolve("app.send_email") is not None
    result = Linter(config).check_file(tmp_path / "app.py", project)
    assert [(d.line, d.code) for d in result.diagnostics] == [(8, "FTL104")]


def test_a_helper_is_called_only_by_what_may_name_it() -> None:
    """A helper's own parameters are reported at its calls, and inside it when the run
    holds none: another package's function of the same name, called there, is no call of
    the helper (it neither names the helper's module nor imports the name)."""
    root = FIXTURES / "projects" / "same_names"
    codes = ("FTL103",)
    assert project_findings(root, codes) == project_expected(root, codes)
