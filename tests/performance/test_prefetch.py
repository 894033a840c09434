"""Trees parsed ahead by the helper process stand in for the scan's own parses, or nothing."""

from __future__ import annotations

import multiprocessing
import threading
import time
from contextlib import closing
from pathlib import Path

import pytest

from fastapi_task_lint import parallel, prefetch
from fastapi_task_lint.prefetch import Prefetcher
from fastapi_task_lint.semantics.mentions import naming
from fastapi_task_lint.source import parse_with_lines

from .helpers import FIXTURES, copy_project, findings, recording

pytestmark = pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="the helper is forked"
)


def _sources(tmp_path: Path, count: int) -> list[Path]:
    paths = []
    for number in range(count):
        path = tmp_path / f"m{number}.py"
        path.write_text(f"def f{number}(x):\n    return [x, {number}]  # {number}\n")
        paths.append(path.absolute())
    return paths


def _taken(helper: Prefetcher, paths: list[Path], deadline: float = 10.0) -> set[Path]:
    """The paths whose tree the helper delivers, waiting for it to get through the list."""
    waited = time.monotonic() + deadline
    pending = list(paths)
    taken: set[Path] = set()
    while pending and time.monotonic() < waited:
        time.sleep(0.05)
        helper._receive()
        for path in [p for p in pending if p in helper._ready]:
            parsed = helper.take(path, path.read_text())
            assert parsed is not None
            tree, lines = parsed
            assert tree.deep_equals(parse_with_lines(path.read_text())[0])
            assert lines == parse_with_lines(path.read_text())[1]
            taken.add(path)
            pending.remove(path)
    return taken


def test_the_helper_parses_the_list_it_is_given(tmp_path: Path) -> None:
    paths = _sources(tmp_path, 10)
    with closing(Prefetcher(multiprocessing.get_context("fork"))) as helper:
        helper.want(paths)
        assert _taken(helper, paths) == set(paths)


def test_a_list_interrupted_by_another_is_taken_up_again(tmp_path: Path) -> None:
    """Scans nest: the outer scan's list is still wanted once the inner one is done."""
    paths = _sources(tmp_path, 20)
    outer, inner = paths[:10], paths[10:]
    with closing(Prefetcher(multiprocessing.get_context("fork"))) as helper:
        helper.want(outer)
        helper.want(inner)
        assert _taken(helper, paths) == set(paths)


def test_the_run_never_waits_on_a_helper_that_waits_to_send(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both ends of the pipe fill up: the helper waits to send a large tree nobody reads yet,
    and the run hands over a list larger than the pipe. Neither may wait on the other."""
    big = tmp_path / "big.py"
    big.write_text("".join(f"def f{n}(x):\n    return [x, {n}]\n" for n in range(4000)))
    small = _sources(tmp_path, prefetch.MIN_PREFETCH)
    huge = [tmp_path / f"absent{n}.py" for n in range(20_000)]
    with closing(Prefetcher(multiprocessing.get_context("fork"))) as helper:
        helper.want([*small, big.absolute()])  # the helper starts with `big`, from the far end
        time.sleep(2)  # parsed by now, and its tree waits for a reader
        handed = threading.Event()
        with monkeypatch.context() as patch:
            patch.setattr(helper, "_receive", lambda: None)  # this process reads nothing
            threading.Thread(target=lambda: (helper.want(huge), handed.set()), daemon=True).start()
            assert handed.wait(10), "want() waited for the helper"
        assert _taken(helper, [big.absolute(), *small], deadline=60) == {big.absolute(), *small}


def test_the_helper_works_newest_list_first_and_skips_what_the_run_took() -> None:
    a, b, c, d, e, f = (Path(f"/p/{name}.py") for name in "abcdef")
    wanted = prefetch._Wanted()
    wanted.note(prefetch._WANT, [a, b, c])
    wanted.note(prefetch._WANT, [d, e, f])
    wanted.note(prefetch._TAKEN, [f, b])  # the run parsed f itself, and took b
    order = []
    while wanted.pending():
        order.append(wanted.pop())
    assert order == [e, d, c, a]
    wanted.note(prefetch._WANT, [a, c, d])  # all sent already
    assert not wanted.pending()


def test_expected_scans_are_listed_and_parsed_only_when_no_list_is_wanted(
    tmp_path: Path,
) -> None:
    """Between scans the helper lists an expected scan's modules with its own prefilter, and
    a list the run wants goes first."""
    named = _sources(tmp_path, 3)
    for path in named:
        path.write_text("from fastapi import Depends\n\n\ndef get_db(db=Depends(f)): ...\n")
    (tmp_path / "others").mkdir()
    others = _sources(tmp_path / "others", 2)
    wanted = prefetch._Wanted()
    run = sorted([*named, *others])
    wanted.note(prefetch._EXPECT, ([((), naming(["Depends"]).spec), ((b"absent",), ())], run))
    wanted.note(prefetch._WANT, others)
    order = []
    while wanted.pending():
        order.append(wanted.pop())
    assert order == [*reversed(others), *reversed(sorted(named))]


def test_an_expected_scan_of_a_filter_this_version_does_not_know_lists_nothing(
    tmp_path: Path,
) -> None:
    paths = _sources(tmp_path, 2)
    wanted = prefetch._Wanted()
    wanted.note(prefetch._EXPECT, ([((), ("no such kind",))], paths))
    assert not wanted.pending()


def test_the_helper_parses_an_expected_scan_with_no_list_wanted(tmp_path: Path) -> None:
    paths = _sources(tmp_path, 4)
    listed = paths[1:3]
    for path in listed:
        path.write_text("app = FastAPI(lifespan=lifespan)\n")
    with closing(Prefetcher(multiprocessing.get_context("fork"))) as helper:
        helper.expect([((b"lifespan",), ())], paths)
        assert _taken(helper, listed) == set(listed)
        assert not helper._ready, "only the scan's modules are parsed"


def test_a_tree_of_other_text_is_not_used(tmp_path: Path) -> None:
    """The file changed between the helper's read and the scan's: the scan parses it."""
    paths = _sources(tmp_path, 10)
    with closing(Prefetcher(multiprocessing.get_context("fork"))) as helper:
        helper.want(paths)
        waited = time.monotonic() + 10
        while paths[-1] not in helper._ready and time.monotonic() < waited:
            time.sleep(0.05)
            helper._receive()
        assert paths[-1] in helper._ready, "the helper starts from the end of the list"
        assert helper.take(paths[-1], "def changed(): ...\n") is None


def test_short_lists_and_unparseable_files_are_left_to_the_scan(tmp_path: Path) -> None:
    paths = _sources(tmp_path, 10)
    paths[-1].write_text("def broken(:\n")
    with closing(Prefetcher(multiprocessing.get_context("fork"))) as helper:
        helper.want(paths[: prefetch.MIN_PREFETCH - 1])
        helper.want(paths)
        assert _taken(helper, paths[:-1]) == set(paths[:-1])
        assert helper.take(paths[-1], paths[-1].read_text()) is None


def test_a_dead_helper_is_no_longer_asked(tmp_path: Path) -> None:
    paths = _sources(tmp_path, 10)
    helper = Prefetcher(multiprocessing.get_context("fork"))
    helper._process.kill()
    helper._process.join()
    helper.want(paths)
    assert helper.take(paths[0], paths[0].read_text()) is None
    helper.close()  # returns at once: nothing left to wait for


@pytest.mark.parametrize("name", ["blocking", "state", "jobs"])
def test_a_pooled_run_with_prefetched_trees_equals_a_serial_run(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = copy_project(FIXTURES / "projects" / name, tmp_path)
    serial = findings([root], root)
    monkeypatch.setattr(parallel, "POOL_THRESHOLD", 1)
    monkeypatch.setattr(prefetch, "MIN_PREFETCH", 1)
    monkeypatch.setattr(parallel, "_CHUNKS_PER_WORKER", 1)  # a first chunk of half the files
    with recording(monkeypatch, Prefetcher, "take", 1) as asked:
        assert findings([root], root, jobs=2) == serial
    assert asked, "the first chunk's scans asked the helper"


def test_the_helper_ends_quietly_when_the_run_is_gone(tmp_path: Path) -> None:
    """The run's end of the pipe closes (the run was killed): no traceback, exit code 0."""
    helper = Prefetcher(multiprocessing.get_context("fork"))
    helper.want(_sources(tmp_path, 10))
    helper._connection.close()
    helper._process.join(10)
    assert helper._process.exitcode == 0
