"""`--jobs 1` and `--jobs N` give the same output, with and without the cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from fastapi_task_lint import parallel
from fastapi_task_lint.cache import CACHE_DIR_NAME

from .helpers import EXAMPLES, FIXTURES, copy_project, findings


@pytest.fixture(autouse=True)
def always_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fixture projects are small: use the pool whatever the size."""
    monkeypatch.setattr(parallel, "POOL_THRESHOLD", 1)


def _projects() -> list[Path]:
    return [*sorted(p for p in (FIXTURES / "projects").iterdir() if p.is_dir()), EXAMPLES]


@pytest.mark.parametrize("root", _projects(), ids=lambda p: p.name)
def test_jobs_one_equals_jobs_n(root: Path) -> None:
    serial = findings([root], root)
    assert findings([root], root, jobs=2) == serial
    assert findings([root], root, jobs=3) == serial


def test_all_fixture_files_in_one_run(tmp_path: Path) -> None:
    files = sorted(FIXTURES.glob("FTL*/*.py"))
    serial = findings(files, FIXTURES)
    assert serial
    assert findings(files, FIXTURES, jobs=2) == serial


def test_pool_with_cache(tmp_path: Path) -> None:
    root = copy_project(FIXTURES / "projects" / "blocking", tmp_path)
    serial = findings([root], root)
    cache = root / CACHE_DIR_NAME
    assert findings([root], root, jobs=2, cache_dir=cache) == serial
    assert findings([root], root, jobs=2, cache_dir=cache) == serial
    assert findings([root], root, jobs=1, cache_dir=cache) == serial
