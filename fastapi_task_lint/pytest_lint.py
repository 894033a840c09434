"""`pytest --task-lint`: the linter as tests, one item per Python file pytest collects.

Every `.py` file pytest visits (test modules, conftest.py and any other module in the
directories it walks, minus the config's excludes) gets an item that fails with the file's
findings, using the config `fastapi-task-lint check` would use from the same directory.
A file that passed is skipped on the next run while it, the tool's version, the config and
the project are unchanged (kept in pytest's cache). The project counts as the CLI's cache
counts it (`cache.project_fingerprint`): its list of files and each one's syntax tree, since a
clean `tasks.py` gets findings when any route, even a new one, starts scheduling its functions.

Loaded in every pytest session where the package is installed, so the engine is imported
only when `--task-lint` is given.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from fastapi_task_lint.config import Config
    from fastapi_task_lint.diagnostics import Diagnostic
    from fastapi_task_lint.engine import Linter
    from fastapi_task_lint.semantics.project import ProjectIndex

CACHE_KEY = "fastapi-task-lint/clean"
SHAPES_KEY = "fastapi-task-lint/shapes"  # content hash -> syntax tree hash, for the fingerprint
MARKER = "task_lint"
_session_key = pytest.StashKey["_LintSession"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("fastapi-task-lint").addoption(
        "--task-lint",
        action="store_true",
        default=False,
        help="check each collected Python file with fastapi-task-lint; findings fail its item",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}: a fastapi-task-lint check of one file")
    if not config.getoption("task_lint"):
        return
    from fastapi_task_lint.api import load_project_config
    from fastapi_task_lint.config import ConfigError

    try:
        lint_config = load_project_config(config.invocation_params.dir)
    except ConfigError as error:
        raise pytest.UsageError(f"fastapi-task-lint: {error}") from None
    cache = getattr(config, "cache", None)  # None under `-p no:cacheprovider`
    clean = cache.get(CACHE_KEY, {}) if cache is not None else {}
    shapes = cache.get(SHAPES_KEY, {}) if cache is not None else {}
    config.stash[_session_key] = _LintSession(
        lint_config,
        clean if isinstance(clean, dict) else {},
        shapes if isinstance(shapes, dict) else {},
    )


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> TaskLintFile | None:
    session = parent.config.stash.get(_session_key, None)
    if session is None or file_path.suffix != ".py" or session.excluded(file_path):
        return None
    return TaskLintFile.from_parent(parent, path=file_path)


def pytest_sessionfinish(session: pytest.Session) -> None:
    lint = session.config.stash.get(_session_key, None)
    cache = getattr(session.config, "cache", None)
    if lint is not None and cache is not None:
        cache.set(CACHE_KEY, lint.clean)
        cache.set(SHAPES_KEY, lint.shapes)


class TaskLintFile(pytest.File):
    def collect(self) -> Iterator[TaskLintItem]:
        yield TaskLintItem.from_parent(self, name="task-lint")


class TaskLintFindings(Exception):
    """The findings of one file, printed as `fastapi-task-lint check --show-source` does."""


class TaskLintItem(pytest.Item):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.add_marker(MARKER)
        # Plugins written for test functions read `item.funcargs` (pytest-lsp 1.0's
        # pytest_runtest_call wrapper fails to yield without it); this item has none.
        self.funcargs: dict[str, Any] = {}

    def runtest(self) -> None:
        session = self.config.stash[_session_key]
        if session.unchanged(self.path):
            pytest.skip("unchanged since it last passed fastapi-task-lint")
        findings = session.check(self.path)
        if findings:
            raise TaskLintFindings(session.render(findings))

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str | Any:
        if isinstance(excinfo.value, TaskLintFindings):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"fastapi-task-lint {self.path.name}"


@dataclass
class _LintSession:
    """The config, one linter and one lazily built project index for the whole pytest run."""

    config: Config
    # path -> {"key": tool, config and file hash, "project": the project's fingerprint}
    clean: dict[str, Any]
    shapes: dict[str, str]  # content hash -> `cache.shape_hash`: kept, so only edits are parsed
    _linter: Linter | None = None
    _project: ProjectIndex | None = None
    _fingerprint: str = ""
    _config_hash: str = field(init=False)

    def __post_init__(self) -> None:
        from fastapi_task_lint import __version__

        self._config_hash = _digest(f"{__version__}\0{self.config!r}".encode())

    def excluded(self, path: Path) -> bool:
        from fastapi_task_lint.discovery import excluded

        try:
            shown = path.relative_to(self.config.root)
        except ValueError:
            shown = path
        patterns = (*self.config.exclude, *self.config.extend_exclude)
        # As `check` walks: a file is skipped when it or a directory above it is excluded.
        return any(excluded(p, patterns) for p in (shown, *list(shown.parents)[:-1]))

    def unchanged(self, path: Path) -> bool:
        entry = self.clean.get(str(path))
        return (
            isinstance(entry, dict)
            and entry.get("key") == self._key(path)
            and entry.get("project") == self._start()
        )

    def check(self, path: Path) -> list[Diagnostic]:
        project = self._start()
        assert self._linter is not None and self._project is not None
        from fastapi_task_lint.engine import kept_from_the_collector

        with kept_from_the_collector():
            result = self._linter.check_file(path, self._project)
        self.clean.pop(str(path), None)
        if not result.diagnostics:
            self.clean[str(path)] = {"key": self._key(path), "project": project}
        return result.diagnostics

    def _start(self) -> str:
        """Build the linter and the project index once; the project's fingerprint."""
        if self._linter is None:
            from fastapi_task_lint.cache import content_hash, project_fingerprint, shape_hash
            from fastapi_task_lint.engine import Linter
            from fastapi_task_lint.semantics.project import ProjectIndex
            from fastapi_task_lint.source import SourceError, read_bytes

            self._linter = Linter(self.config)
            files = self._linter.index([self.config.root])[0].files
            self._project = ProjectIndex(files, self.config)
            shapes: dict[str, str] = {}
            project: list[tuple[Path, str]] = []
            for file in files:
                try:
                    data = read_bytes(file)
                except SourceError:
                    project.append((file.absolute(), ""))
                    continue
                content = content_hash(data)
                shape = self.shapes.get(content) or shape_hash(data)
                shapes[content] = shape
                project.append((file.absolute(), shape))
            self.shapes = shapes
            self._fingerprint = project_fingerprint(project)
        return self._fingerprint

    def render(self, findings: list[Diagnostic]) -> str:
        from fastapi_task_lint import __version__
        from fastapi_task_lint.reporters import REPORTERS, Report
        from fastapi_task_lint.source import read_lines

        report = Report(findings, {}, __version__, show_source=True, read_lines=read_lines)
        return REPORTERS["text"](report).rstrip("\n")

    def _key(self, path: Path) -> str | None:
        content = _file_hash(path)
        return None if content is None else f"{self._config_hash}:{content}"


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_hash(path: Path) -> str | None:
    try:
        return _digest(path.read_bytes())
    except OSError:
        return None
