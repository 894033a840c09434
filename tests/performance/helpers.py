"""Run the engine the ways the optimisations allow and compare what comes out."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest

from fastapi_task_lint.config import Config
from fastapi_task_lint.engine import Linter

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"

Finding = tuple[str, int, int, str, str]


def findings(
    paths: list[Path],
    root: Path,
    *,
    jobs: int = 1,
    cache_dir: Path | None = None,
    select: tuple[str, ...] = ("FTL",),
) -> list[Finding]:
    """Every finding (path, line, column, code, message) of one run of the `select`ed rules."""
    config = Config(select=select, root=root)
    result = Linter(config, jobs=jobs, cache_dir=cache_dir).check_paths(paths)
    return [(d.path, d.line, d.column, d.code, d.message) for d in result.diagnostics]


def copy_project(source: Path, tmp_path: Path) -> Path:
    target = tmp_path / source.name
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


@contextmanager
def recording(
    monkeypatch: pytest.MonkeyPatch, owner: object, name: str, argument: int = 0
) -> Iterator[list[Any]]:
    """Argument `argument` of every call of `owner.name` from now on (1 skips a method's self)."""
    calls: list[Any] = []
    original = getattr(owner, name)

    def record(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[argument])
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, record)
    yield calls


def counting_checks(monkeypatch: pytest.MonkeyPatch) -> AbstractContextManager[list[Path]]:
    """The files a run actually checks (cache misses), in order."""
    return recording(monkeypatch, Linter, "check_file", 1)
