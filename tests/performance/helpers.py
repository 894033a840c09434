"""Run the engine the ways the optimisations allow and compare what comes out."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from fastapi_task_lint.config import Config
from fastapi_task_lint.engine import Linter

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"

Finding = tuple[str, int, int, str, str]


def findings(
    paths: list[Path], root: Path, *, jobs: int = 1, cache_dir: Path | None = None
) -> list[Finding]:
    """Every finding (path, line, column, code, message) of one run."""
    config = Config(select=("FTL",), root=root)
    result = Linter(config, jobs=jobs, cache_dir=cache_dir).check_paths(paths)
    return [(d.path, d.line, d.column, d.code, d.message) for d in result.diagnostics]


def copy_project(source: Path, tmp_path: Path) -> Path:
    target = tmp_path / source.name
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


@contextmanager
def counting_checks(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Path]]:
    """The files a run actually checks (cache misses), in order."""
    checked: list[Path] = []
    original = Linter.check_file

    def check_file(self: Linter, path: Path, *args: object) -> object:
        checked.append(path)
        return original(self, path, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(Linter, "check_file", check_file)
    yield checked
