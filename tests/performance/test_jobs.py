"""`--jobs 1` and `--jobs N` give the same output, with and without the cache."""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path
from typing import Any

import pytest

from fastapi_task_lint import parallel
from fastapi_task_lint.cache import CACHE_DIR_NAME
from fastapi_task_lint.semantics.observations import Observations

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


def _chunk_checked_by_pid(work: list[tuple[Path, frozenset[str]]]) -> parallel.ChunkOutcome:
    """A stand-in for `_check_chunk`: each file's outcome names the chunk and the process."""
    if os.getpid() != _PARENT:
        time.sleep(0.2)  # a worker is slow: the parent must take chunks meanwhile
    outcomes = [([], [], frozenset({path.name, f"pid:{os.getpid()}"})) for path, _ in work]
    return outcomes, set(), Observations()


def _chunk_failing_in_a_worker(work: list[tuple[Path, frozenset[str]]]) -> parallel.ChunkOutcome:
    if os.getpid() != _PARENT:
        raise RuntimeError("a worker failed")
    return _chunk_checked_by_pid(work)


_PARENT = os.getpid()
_CHUNKS = [[(Path(f"chunk{i}"), frozenset[str]())] for i in range(6)]


def test_the_parent_checks_chunks_beside_its_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "_check_chunk", _chunk_checked_by_pid)
    outcomes = parallel._share(_CHUNKS, 1, multiprocessing.get_context("fork"))
    names = [sorted(unwanted) for chunk, _, _ in outcomes for _, _, unwanted in chunk]
    assert [name for name, _ in names] == [f"chunk{i}" for i in range(6)]  # in order
    pids = {pid for _, pid in names}
    assert f"pid:{_PARENT}" in pids
    assert len(pids) == 2  # and the one worker took some


def test_a_failing_worker_fails_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "_check_chunk", _chunk_failing_in_a_worker)
    with pytest.raises(RuntimeError, match="a worker failed"):
        parallel._share(_CHUNKS, 1, multiprocessing.get_context("fork"))


def _chunk_failing_here(work: list[tuple[Path, frozenset[str]]]) -> parallel.ChunkOutcome:
    if os.getpid() == _PARENT:
        raise KeyboardInterrupt
    time.sleep(0.2)
    return [([], [], frozenset({path.name})) for path, _ in work], set(), Observations()


def test_the_workers_take_no_more_chunks_once_the_parent_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(parallel, "_check_chunk", _chunk_failing_here)
    made: list[parallel._Feeding] = []
    feeding = parallel._Feeding

    def recorded(*args: Any) -> parallel._Feeding:
        made.append(feeding(*args))
        return made[-1]

    monkeypatch.setattr(parallel, "_Feeding", recorded)
    with pytest.raises(KeyboardInterrupt):
        parallel._share(_CHUNKS, 1, multiprocessing.get_context("fork"))
    assert sum(outcome is not None for outcome in made[0].outcomes) < len(_CHUNKS) - 1
