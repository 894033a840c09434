"""The Python API: the one entry point the CLI, the flake8 plugin, the pytest plugin and the
editor server share, so every face of the tool runs the same engine with the same config.

    >>> from fastapi_task_lint import check_source
    >>> [d.code for d in check_source("x = 1\\n")]
    []
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from fastapi_task_lint.config import Config, load_config
from fastapi_task_lint.diagnostics import Diagnostic, sort_diagnostics
from fastapi_task_lint.engine import FileResult, Linter, RunResult
from fastapi_task_lint.rules import all_options, all_rules
from fastapi_task_lint.semantics.project import ProjectIndex

__all__ = [
    "Config",
    "Diagnostic",
    "FileResult",
    "RunResult",
    "Workspace",
    "check_paths",
    "check_source",
    "lint_source",
    "load_project_config",
]

StrPath = str | os.PathLike[str]


def load_project_config(start: StrPath | None = None, explicit: StrPath | None = None) -> Config:
    """The configuration a run from `start` (default: the current directory) would use: the
    nearest pyproject.toml / setup.cfg with our section, or `explicit` when given.

    Raises `fastapi_task_lint.config.ConfigError` with a message for the user.
    """
    return load_config(
        Path(explicit) if explicit is not None else None,
        Path(start) if start is not None else Path.cwd(),
        all_options(),
        all_rules(),
    )


def check_source(
    source: str,
    path: StrPath = "x.py",
    config: Config | None = None,
    *,
    project_root: StrPath | None = None,
) -> list[Diagnostic]:
    """Check `source` as if it were the file `path` and return its findings, sorted, after
    per-file-ignores and `# noqa` (both apply as they would on disk).

    `config` defaults to `load_project_config(project_root)` (the current directory when no
    root is given). Cross-module rules see other files only when `project_root` is given: the
    Python files under it are indexed (parsed lazily, only those a rule asks about), with
    `source` standing in for `path`. To check many sources against one project, keep a
    `Workspace`: it parses the other files once.
    """
    return Workspace(project_root, config).check_source(source, path)


def lint_source(
    source: str,
    path: StrPath = "x.py",
    config: Config | None = None,
    *,
    project_root: StrPath | None = None,
) -> FileResult:
    """`check_source`, with the whole per-file result: findings (unsorted), the suppressed
    ones, the libcst fixes and the semantic model (None when the source did not parse)."""
    return Workspace(project_root, config).lint_source(source, path)


class Workspace:
    """Repeated checks of in-memory sources against one project on disk (an editor, a plugin):
    the files under `root` are discovered once and parsed at most once, and each checked
    source replaces its file in the index, so later checks see the latest text."""

    def __init__(self, root: StrPath | None = None, config: Config | None = None) -> None:
        self.config = config if config is not None else load_project_config(root)
        self.root = Path(root) if root is not None else None
        self._linter = Linter(self.config)
        self._project: ProjectIndex | None = None

    def check_source(self, source: str, path: StrPath) -> list[Diagnostic]:
        return sort_diagnostics(self.lint_source(source, path).diagnostics)

    def lint_source(self, source: str, path: StrPath) -> FileResult:
        if self._project is None:
            self._project = (
                self._linter.index([self.root])[1]
                if self.root is not None
                else ProjectIndex([], self.config)
            )
        return self._linter.check_source(source, Path(path), self._project)

    def refresh(self) -> None:
        """Forget every parsed file (they changed on disk): the next check reads them again."""
        self._project = None


def check_paths(
    paths: Iterable[StrPath],
    config: Config | None = None,
    *,
    debug: bool = False,
    jobs: int = 1,
    cache_dir: StrPath | None = None,
) -> RunResult:
    """Check files and directories (walked, minus excludes and git-ignored files).

    `config` defaults to `load_project_config()`. The result has `.diagnostics` (all findings,
    sorted by path, line, column, code), `.files` (one `FileResult` per file checked, with its
    semantic model), `.missing` (paths that do not exist) and `.crashed` (a rule failed).
    `debug` prints tracebacks of rule failures to stderr. With `jobs` > 1 (a process pool
    for many files) or a `cache_dir` (results reused for unchanged files), `.files` carry no
    semantic model.
    """
    config = config if config is not None else load_project_config()
    cache = Path(cache_dir) if cache_dir is not None else None
    linter = Linter(config, debug=debug, jobs=jobs, cache_dir=cache)
    return linter.check_paths([Path(p) for p in paths])
