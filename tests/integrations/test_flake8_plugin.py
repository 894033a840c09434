"""The flake8 plugin reports what `fastapi-task-lint check` reports, as flake8 users expect."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fastapi_task_lint.config import Config
from fastapi_task_lint.engine import Linter
from fastapi_task_lint.flake8_plugin import Flake8Plugin
from tests.fixture_harness import collector_watched

ROOT = Path(__file__).resolve().parents[2]
FLAKE8 = [sys.executable, "-m", "flake8", "--select", "FTL"]
CLI = [sys.executable, "-m", "fastapi_task_lint", "check", "-q", "--exit-zero"]
_LINE = re.compile(r"^(?:\./)?(?P<path>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<code>\w+)[ \[]")

MODELS = """\
from mylib import Model
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)


class Legacy(Model):  # an ORM model only when `mylib.Model` is configured as a base
    pass
"""

VIEWS = """\
from fastapi import BackgroundTasks

from app.models import Legacy, User
from app.tasks import send_welcome


def signup(background_tasks: BackgroundTasks, name: str):
    user = User()
    background_tasks.add_task(send_welcome, user)
    background_tasks.add_task(send_welcome, Legacy())
    background_tasks.add_task(send_welcome, user)  # noqa: FTL101
    background_tasks.add_task(send_welcome(name))
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """Models, tasks and views in three modules: FTL101 on views.py needs the other two."""
    app = tmp_path / "app"
    app.mkdir()
    (app / "__init__.py").write_text("")
    (app / "models.py").write_text(MODELS)
    (app / "tasks.py").write_text("def send_welcome(user) -> None: ...\n")
    (app / "views.py").write_text(VIEWS)
    return tmp_path


Finding = tuple[str, int, int, str]


def _run(command: list[str], cwd: Path, stdin: str | None = None) -> list[Finding]:
    done = subprocess.run(
        command, cwd=cwd, input=stdin, capture_output=True, text=True, timeout=300
    )
    assert done.returncode in (0, 1), done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    found = []
    for line in done.stdout.splitlines():
        match = _LINE.match(line)
        assert match, line
        found.append((match["path"], int(match["line"]), int(match["col"]), match["code"]))
    return sorted(found)


@pytest.fixture(scope="module")
def example_apps(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Finding]]:
    """The example shop and the multi-module fixture projects, and what the CLI finds in them
    (computed once: it is slow). Single-file fixtures are left out: their folders repeat
    module names (`background_tasks`), which no real project's import system allows."""
    root = tmp_path_factory.mktemp("apps")
    shutil.copytree(ROOT / "examples" / "shop", root / "shop")
    shutil.copytree(ROOT / "tests" / "fixtures" / "projects", root / "projects")
    return root, _run([*CLI, "--select", "FTL"], root)


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_flake8_reports_what_the_cli_reports_on_the_example_apps(
    example_apps: tuple[Path, list[Finding]], jobs: str
) -> None:
    root, cli = example_apps
    assert {f[0].split("/")[0] for f in cli} == {"shop", "projects"}
    assert _run([*FLAKE8, "-j", jobs, "."], root) == cli


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_flake8_follows_other_modules_and_counts_columns_like_the_cli(
    project: Path, jobs: str
) -> None:
    expected = [
        ("app/views.py", 9, 45, "FTL101"),
        ("app/views.py", 12, 31, "FTL104"),
    ]
    assert _run(CLI, project) == expected
    assert _run([*FLAKE8, "-j", jobs, "."], project) == expected
    # One file named alone: the index of the project root still finds the model class.
    assert _run([*FLAKE8, "-j", jobs, "app/views.py"], project) == expected


def test_flake8_checks_unsaved_text_from_stdin_in_its_project(project: Path) -> None:
    edited = VIEWS.replace("send_welcome(name))", "send_welcome, name)")
    command = [*FLAKE8, "--stdin-display-name", "app/views.py", "-"]
    assert _run(command, project, stdin=edited) == [("app/views.py", 9, 45, "FTL101")]


def test_flake8_selection_and_noqa_options(project: Path) -> None:
    flake8 = [sys.executable, "-m", "flake8"]
    assert [f[3] for f in _run([*flake8, "--select", "FTL104", "."], project)] == ["FTL104"]
    assert [
        f[3] for f in _run([*flake8, "--select", "FTL", "--extend-ignore", "FTL104", "."], project)
    ] == ["FTL101"]
    assert [
        f[3] for f in _run([*flake8, "--select", "FTL", "--ignore", "FTL1", "."], project)
    ] == []
    assert _run(
        [*flake8, "--select", "FTL", "--per-file-ignores", "app/views.py:FTL101", "."], project
    ) == [("app/views.py", 12, 31, "FTL104")]
    # flake8 suppresses the line with the FTL101 noqa comment, once; --disable-noqa brings it back.
    unfiltered = _run([*flake8, "--select", "FTL", "--disable-noqa", "."], project)
    assert ("app/views.py", 11, 45, "FTL101") in unfiltered
    assert len(unfiltered) == 3


def test_flake8_options_and_project_config(project: Path) -> None:
    lines = [("app/views.py", 10, 45, "FTL101")]
    base = _run([*FLAKE8, "."], project)
    assert not [f for f in base if f[1] == 10]
    # From [tool.fastapi-task-lint], as the CLI reads it.
    (project / "pyproject.toml").write_text(
        '[tool.fastapi-task-lint]\norm-base-classes = ["mylib.Model"]\n'
    )
    assert [f for f in _run([*FLAKE8, "."], project) if f[1] == 10] == lines
    assert [f for f in _run(CLI, project) if f[1] == 10] == lines
    # A flake8 option overrides the same key of [tool.fastapi-task-lint].
    (project / ".flake8").write_text("[flake8]\nftl-orm-base-classes = other.Model\n")
    assert not [f for f in _run([*FLAKE8, "."], project) if f[1] == 10]
    (project / ".flake8").write_text("[flake8]\nftl-orm-base-classes = mylib.Model, x.Y\n")
    (project / "pyproject.toml").unlink()
    assert [f for f in _run([*FLAKE8, "."], project) if f[1] == 10] == lines
    assert [f for f in _run([*FLAKE8, "--ftl-orm-base-classes=", "."], project) if f[1] == 10] == []


def test_parse_errors_are_left_to_flake8(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text("def f(:\n    add_task\n")
    done = subprocess.run(
        [sys.executable, "-m", "flake8", "--select", "E9,FTL", "bad.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.stdout.split(": ")[1].startswith("E999"), done.stdout
    assert "FTL" not in done.stdout


def test_a_plugin_error_is_a_finding_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(Flake8Plugin, "config", Config(root=tmp_path))
    monkeypatch.setattr(Flake8Plugin, "_engines", {})
    monkeypatch.setattr(Linter, "check_source", explode)
    found = list(Flake8Plugin(None, "x.py", ["add_task(f())\n"]).run())  # type: ignore[arg-type]
    assert [(line, col, text) for line, col, text, _ in found] == [
        (1, 0, "FTL002 fastapi-task-lint failed on this file: RuntimeError: boom")
    ]


def test_the_plugin_keeps_its_index_out_of_the_cycle_collectors_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The index lives as long as flake8's process; collections flake8 triggers between
    files must not walk it again (on a root of 6,000 files they took three quarters of the
    run). The collector is paused while the plugin checks, then on again, and what the
    plugin built is frozen out of later collections."""
    monkeypatch.setattr(Flake8Plugin, "config", Config(root=tmp_path))
    monkeypatch.setattr(Flake8Plugin, "_engines", {})
    with collector_watched(monkeypatch, "check_source"):
        found = list(Flake8Plugin(None, "x.py", ["x = 1\n"]).run())  # type: ignore[arg-type]
    assert found == []


def test_flake8_rule_options_lay_over_the_project_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from argparse import Namespace

    from fastapi_task_lint.flake8_plugin import flake8_config

    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text(
        "[tool.fastapi-task-lint]\n"
        'critical-keywords = ["payment"]\n'
        'extend-critical-keywords = ["ledger"]\n'
        'session-factories = ["app.db.open_session"]\n'
    )
    options = Namespace(
        select=None, extend_select=["FTL301"], ftl_critical_keywords="charge,\n refund"
    )
    config = flake8_config(options)
    assert config.options["critical-keywords"] == ["charge", "refund"]
    assert config.options["extend-critical-keywords"] == ["ledger"]
    assert config.session_factories == ("app.db.open_session",)
    assert config.extend_select == ("FTL301",)
