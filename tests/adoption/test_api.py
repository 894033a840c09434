"""The Python API is the engine the CLI runs: same findings, same config handling."""

from __future__ import annotations

from pathlib import Path

import pytest

import fastapi_task_lint
from fastapi_task_lint import check_paths, check_source
from fastapi_task_lint.api import Workspace
from fastapi_task_lint.config import Config

BAD = """\
from fastapi import BackgroundTasks


def send(to: str) -> str:
    return to


def handler(background_tasks: BackgroundTasks) -> None:
    background_tasks.add_task(send("a@b.c"))
"""


def test_check_source_returns_sorted_diagnostics() -> None:
    found = check_source(BAD, "app.py", Config(select=("FTL",)))
    assert [(d.code, d.line, d.path) for d in found] == [("FTL104", 9, "app.py")]


def test_check_source_applies_noqa() -> None:
    source = BAD.replace('("a@b.c"))', '("a@b.c"))  # noqa: FTL104')
    assert check_source(source, "app.py", Config(select=("FTL",))) == []


def test_check_paths_matches_check_source(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(BAD)
    config = Config(select=("FTL",), root=tmp_path)
    result = check_paths([tmp_path], config)
    assert [(d.code, d.line) for d in result.diagnostics] == [("FTL104", 9)]
    assert len(result.files) == 1 and not result.missing and not result.crashed
    from_source = check_source(BAD, tmp_path / "app.py", config)
    assert [d.to_dict() for d in from_source] == [d.to_dict() for d in result.diagnostics]


def test_project_root_lets_cross_module_rules_see_other_files(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "mail.py").write_text("def send(to: str) -> str:\n    return to\n")
    source = (
        "from fastapi import BackgroundTasks\n"
        "from pkg.mail import send\n\n\n"
        "def handler(background_tasks: BackgroundTasks) -> None:\n"
        '    background_tasks.add_task(send("a@b.c"))\n'
    )
    config = Config(select=("FTL",), root=tmp_path)
    found = check_source(source, tmp_path / "pkg" / "views.py", config, project_root=tmp_path)
    assert [(d.code, d.line) for d in found] == [("FTL104", 6)]


def test_config_none_loads_the_project_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.fastapi-task-lint]\nignore = ["FTL104"]\n')
    monkeypatch.chdir(tmp_path)
    assert check_source(BAD, "app.py") == []


def test_api_is_reexported_lazily() -> None:
    assert fastapi_task_lint.check_source is check_source
    assert "check_paths" in fastapi_task_lint.__all__


def test_workspace_reuses_the_project_and_sees_the_latest_text(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "mail.py").write_text("def send(to: str) -> str:\n    return to\n")
    workspace = Workspace(tmp_path, Config(select=("FTL104",), root=tmp_path))
    views = tmp_path / "pkg" / "views.py"
    source = BAD.replace(
        "def send(to: str) -> str:\n    return to\n", "from pkg.mail import send\n"
    )
    assert [d.line for d in workspace.check_source(source, views)] == [8]
    fixed = source.replace('send("a@b.c")', 'send, "a@b.c"')
    assert workspace.check_source(fixed, views) == []
    workspace.refresh()
    assert [d.code for d in workspace.check_source(source, views)] == ["FTL104"]
