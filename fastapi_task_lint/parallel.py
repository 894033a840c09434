"""Runs over many files: the cache first, then a process pool for what is left.

What is shared and what is not: the parent discovers the files and reads each once (its
content hash decides cache hits and the prefilter); every worker is started with the
same file list, so its `ProjectIndex` knows every module by name and path, and parses
lazily only what its own files' rules ask for (a task's module, the files a whole-program
scan's byte prefilter lets through). Parsed models are not shared between processes:
building a tree from `ast` costs less than unpickling one, and a worker builds each module's
tree at most once. Rules that need none of the others' facts (`Rule.apart`) are checked in a
process of their own from the start, beside the parent's facts. Output is the same as a
serial run: each file is checked against the whole project in either case, and results are
put back in discovery order.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import stat
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import IO, TYPE_CHECKING

from fastapi_task_lint import incremental
from fastapi_task_lint.cache import (
    Cache,
    Entry,
    ProjectFacts,
    Stamp,
    content_hash,
    shape_hash,
)
from fastapi_task_lint.config import Config
from fastapi_task_lint.diagnostics import RULE_ERROR, Diagnostic
from fastapi_task_lint.semantics.observations import Observations
from fastapi_task_lint.source import SourceError, read_bytes

if TYPE_CHECKING:
    from fastapi_task_lint.engine import FileResult, Linter
    from fastapi_task_lint.semantics.project import ProjectIndex

# Below this many files to check, forking workers (each parsing the modules its files need
# anew) costs more than it saves.
POOL_THRESHOLD = 32
# The size of the chunk checked before the fork, and of every chunk where workers are spawned
# (no fork): a thirty-second of a process's share.
_CHUNKS_PER_WORKER = 32
# After the fork, each claim takes a quarter of a process's share of the files left (an
# eighth of them, with two processes): large claims first (few round trips), small ones at
# the end, so the processes finish together.
_CLAIMS_PER_SHARE = 4
# Claims given to each worker at a time: the one it checks and the next, queued, so it never
# waits for this process's feeding thread, which needs the GIL its checks hold (up to 50 ms).
_IN_FLIGHT = 2
# A file modified more recently than this may still change within the same mtime tick.
_SETTLED_NS = 2_000_000_000

Outcome = tuple[list[Diagnostic], list[Diagnostic], frozenset[str]]
# A file to check, and the rules its cache entry says do not want it (`_File.unwanted`).
WorkItem = tuple[Path, frozenset[str]]


def default_jobs() -> int:
    """The number of cores this process may use."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


@dataclass
class _File:
    path: Path
    absolute: Path  # computed once: the cache and the run record each name files by it
    shown: str
    data: bytes | None = None  # None: not read (unreadable, or unchanged by its stamp)
    content: str = ""  # the content hash; empty when the file cannot be read
    stamp: Stamp | None = None  # size and mtime of the bytes `content` hashes
    shape: str = ""
    unwanted: frozenset[str] = frozenset()  # from the cache: see `Entry.unwanted`


def check_many(
    linter: Linter, files: Sequence[Path], project: ProjectIndex, cache: Cache | None, jobs: int
) -> list[FileResult]:
    """Results for `files` in order: cached where valid, the rest checked (in a pool if many)."""
    from fastapi_task_lint.engine import FileResult, display_path

    entries = [_File(path, path.absolute(), display_path(path)) for path in files]
    results: list[FileResult | None] = [None] * len(entries)
    state = ""  # the project state the cached entries were checked in (`incremental`)
    if cache is not None:
        cached = [cache.load(f.absolute, f.shown) for f in entries]
        _read_changed(entries, cached)
        fresh = [
            i
            for i, (f, e) in enumerate(zip(entries, cached, strict=True))
            if f.data is not None and (e is None or e.content != f.content)
        ]
        shapes = _shapes([entries[i].data or b"" for i in fresh], jobs)
        for i, shape in zip(fresh, shapes, strict=True):
            entries[i].shape = shape
        for f, e in zip(entries, cached, strict=True):
            if e is not None and e.content == f.content:
                f.shape = e.shape
        record = incremental.load(cache)
        files_now = ((f.absolute, f.content, f.shape, f.data) for f in entries)
        base = incremental.surviving_state(record, files_now, project, cache)
        state = base if base is not None else incremental.new_state_id()
        project.facts = ProjectFacts(cache, state)
        contents = {str(f.absolute): f.content for f in entries}
        shown = _layouts_kept(project.facts, contents)
        for i, (f, e) in enumerate(zip(entries, cached, strict=True)):
            if e is None or e.project != state or shown is None:
                continue
            if e.content == f.content:
                results[i] = FileResult(f.shown, e.diagnostics, e.suppressed)
            elif e.shape == f.shape:  # comments or layout changed: positions must be redone
                f.unwanted = e.unwanted
    todo = [i for i, r in enumerate(results) if r is None]
    if jobs > 1 and len(todo) >= POOL_THRESHOLD:
        work = [(entries[i].path, entries[i].unwanted) for i in todo]
        outcomes = _pool(linter, work, project, jobs)
        for i, (diagnostics, suppressed, unwanted) in zip(todo, outcomes, strict=True):
            results[i] = FileResult(entries[i].shown, diagnostics, suppressed, unwanted=unwanted)
    else:
        for i in todo:
            checked = linter.check_file(entries[i].path, project, entries[i].unwanted)
            checked.model = None  # the index keeps what other files need; the tree can go
            checked.node_fixes = {}
            results[i] = checked
    if cache is not None and project.facts is not None:
        if todo:
            shown = (shown or set()) | project.layouts_shown
            project.facts.store(
                _LAYOUTS, frozenset((str(p), contents.get(str(p), "")) for p in shown)
            )
        for i in todo:
            f, result = entries[i], results[i]
            if (
                not f.content
                or result is None
                or any(d.code == RULE_ERROR for d in result.diagnostics)
            ):
                continue  # a crashed rule checked nothing: never serve that from the cache
            entry = Entry(
                cache.key,
                f.content,
                f.shape,
                state,
                result.diagnostics,
                result.suppressed,
                result.unwanted,
                f.stamp,
            )
            cache.store(f.absolute, entry)
        if todo or base is None:
            seen = project.seen
            if base is not None and record is not None:
                seen = record.seen
                seen.merge(project.seen)  # the entries kept were checked with what it read
            files_seen = {str(f.absolute): (f.content, f.shape) for f in entries}
            incremental.store(cache, incremental.RunRecord(state, files_seen, seen))
    return [r for r in results if r is not None]


# The files whose line numbers or code text other files' cached findings show, with the
# content hash each had: see `ProjectIndex.saw_layout`.
_LAYOUTS = "layouts shown"


def _layouts_kept(facts: ProjectFacts, contents: dict[str, str]) -> set[Path] | None:
    """The files whose layout cached findings show; None when one of them changed since.

    A change that leaves every syntax tree alone, like a quiet edit, keeps the project's
    state (`incremental`), so the entries of other files stay valid, unless their findings
    show a line or code text of the changed file ("scheduled at routes.py:12"): then no
    entry is trusted. Also None
    when the run that wrote the entries did not record their layouts (it was stopped).
    """
    rows = facts.load(_LAYOUTS)
    if rows is None:
        return None
    if any(contents.get(path) != content for path, content in rows):
        return None
    return {Path(path) for path, _ in rows}


def _read_changed(entries: list[_File], cached: list[Entry | None]) -> None:
    """Read and hash each file, unless its size and mtime are those of its cache entry.

    The stat spares a warm run reading and hashing every file. A stamp is only recorded
    for a file last modified over `_SETTLED_NS` ago, so a file changed again within the
    file system's timestamp granularity (a few ms) is never taken for unchanged.
    """
    settled = time.time_ns() - _SETTLED_NS
    for i, (f, e) in enumerate(zip(entries, cached, strict=True)):
        stamp = _stamp(f.absolute)
        if e is not None and stamp is not None and e.stamp == stamp:
            f.content, f.stamp = e.content, stamp
            continue
        try:
            f.data = read_bytes(f.path)
        except SourceError:
            cached[i] = None  # the engine reports why it cannot be read
            continue
        f.content = content_hash(f.data)
        f.stamp = stamp if stamp is not None and stamp[1] < settled else None


def _stamp(path: Path) -> Stamp | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return (status.st_size, status.st_mtime_ns) if stat.S_ISREG(status.st_mode) else None


def _shapes(items: list[bytes], jobs: int) -> list[str]:
    """`shape_hash` of each of `items`, in a pool when there are many (a first run)."""
    if jobs > 1 and len(items) >= POOL_THRESHOLD:
        with ProcessPoolExecutor(jobs, _context()) as pool:
            chunk = max(1, len(items) // (jobs * _CHUNKS_PER_WORKER))
            return list(pool.map(shape_hash, items, chunksize=chunk))
    return [shape_hash(item) for item in items]


# -- the pool ------------------------------------------------------------------------------
_worker: tuple[Linter, ProjectIndex] | None = None
# In a split run (`Linter.split`), the linter of every rule: the files it `checks_whole`
# are checked with it, not with `_worker`'s, and skipped by the process of the rules apart.
_whole: Linter | None = None


def _context() -> BaseContext:
    # fork: workers start with the rules already imported; elsewhere spawn re-imports them.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    return multiprocessing.get_context(method)


def _pool(linter: Linter, work: list[WorkItem], project: ProjectIndex, jobs: int) -> list[Outcome]:
    known = list(project.paths)  # in the parent's order: scans see files in the same order
    # Contiguous chunks (and claims, see `_share`) keep a package's files in one process: the
    # modules they share are parsed there once.
    size = max(1, -(-len(work) // (jobs * _CHUNKS_PER_WORKER)))
    context = _context()
    global _worker, _whole
    apart: _Apart | None = None
    if context.get_start_method() == "fork":
        # The rules checked apart (`Rule.apart`) start at once, in a process of their own.
        split = linter.split()
        apart = _Apart.start(split[0], linter, work, project) if split else None
        checking = split[1] if split and apart else linter
        # The first chunk is checked here, before forking: the whole-program facts it
        # computes (task definitions, module state, schedulers), those the other files'
        # rules ask for, and the models they parsed, are inherited by every worker instead
        # of rebuilt in each.
        _worker, _whole = (checking, project), (linter if apart else None)
        try:
            first, _, _ = _check_chunk(work[:size])  # what it read is in `project` already
            _compute_facts(checking, work[size:], project)
            rest = _share(work[size:], jobs - 1, context)
        except BaseException:
            if apart is not None:
                apart.stop()
            raise
        finally:
            _worker, _whole = None, None
    else:
        chunks = [work[start : start + size] for start in range(0, len(work), size)]
        worker = (linter.config, linter.debug, known)
        with ProcessPoolExecutor(jobs, context, initializer=_start_worker, initargs=worker) as pool:
            first, rest = [], list(pool.map(_check_chunk_in_worker, chunks))
    outcomes = first + [outcome for chunk, _, _ in rest for outcome in chunk]
    if apart is not None:
        separate, shown, seen = apart.outcomes()
        outcomes = [_merged(o, s) for o, s in zip(outcomes, separate, strict=True)]
        rest.append(([], shown, seen))
    for _, shown, seen in rest:
        project.layouts_shown |= shown
        if seen is not project.seen:
            project.seen.merge(seen)
    return outcomes


def _merged(checked: Outcome, apart: Outcome | None) -> Outcome:
    """A file's outcome from the rules checked apart and from the others, as one process
    checking all of them gives it (a parse or read error, reported by both, once)."""
    if apart is None:
        return checked  # checked whole
    diagnostics, suppressed, unwanted = checked
    return (
        [*diagnostics, *(d for d in apart[0] if d not in diagnostics)],
        [*suppressed, *(d for d in apart[1] if d not in suppressed)],
        unwanted | apart[2],
    )


# Each file's outcome from the rules apart (None: checked whole), and what their checks read.
ApartOutcome = tuple[list[Outcome | None], set[Path], Observations]


class _Apart:
    """The rules checked apart (`Rule.apart`), over every file of a run, in a process forked
    before anything is parsed: it computes their own facts and checks them while this one
    computes the other rules' facts, the serial part of a pooled run.

    It writes its outcome to a file this process reads at the end, so it ends (and frees
    its trees) as soon as it is done, and this process runs no thread to receive it (the
    pool's workers are forked later, and a fork copies no thread).
    """

    def __init__(self, written: IO[bytes], process: BaseProcess) -> None:
        self._written = written
        self._process = process

    @classmethod
    def start(
        cls, linter: Linter, whole: Linter, work: list[WorkItem], project: ProjectIndex
    ) -> _Apart | None:
        """The process checking `linter`'s rules, started; None when it cannot start (no
        temporary file can be made, or no process forked): the pool checks every rule."""
        try:
            written = tempfile.TemporaryFile()  # noqa: SIM115  # closed by `outcomes`/`stop`
        except OSError:
            return None
        args = (linter, whole, work, project, written)
        # Forked: the arguments are inherited, not pickled.
        process = multiprocessing.get_context("fork").Process(
            target=_check_apart, args=args, daemon=True
        )
        try:
            process.start()
        except OSError:
            written.close()
            return None
        return cls(written, process)

    def outcomes(self) -> ApartOutcome:
        self._process.join()
        with self._written as written:
            written.seek(0)
            try:
                found: ApartOutcome | BaseException = pickle.load(written)
            except (EOFError, pickle.UnpicklingError):
                found = RuntimeError(
                    "the process checking the rules apart ended without an outcome "
                    f"(exit code {self._process.exitcode})"
                )
        if isinstance(found, BaseException):
            raise found
        return found

    def stop(self) -> None:
        self._process.terminate()
        self._process.join()
        self._written.close()


def _check_apart(
    linter: Linter, whole: Linter, work: list[WorkItem], project: ProjectIndex, written: IO[bytes]
) -> None:
    """`_Apart`'s process: `linter`'s outcome of each file `whole` does not check whole."""
    project.layouts_shown, project.seen = set(), Observations()  # send only its own reads
    try:
        outcomes: list[Outcome | None] = []
        for path, unwanted in work:
            if whole.checks_whole(path, project):
                outcomes.append(None)
                continue
            outcomes.append(_outcome(linter.check_file(path, project, unwanted)))
        found: ApartOutcome | BaseException = (outcomes, project.layouts_shown, project.seen)
    except BaseException as error:  # raised again in the parent, like a worker's
        found = error
    try:
        data = pickle.dumps(found)
    except Exception as error:  # an error that does not pickle
        data = pickle.dumps(RuntimeError(f"checking the rules apart failed: {found!r}: {error}"))
    written.write(data)
    written.flush()


def _compute_facts(linter: Linter, work: list[WorkItem], project: ProjectIndex) -> None:
    """Compute the facts (`Rule.facts`) of each rule that one of `work`'s files triggers.

    A fact first asked for after the fork is computed in each process that asks for it: on
    the benchmark corpus, the app's lifecycle (FTL5xx) cost both processes 0.5 s of CPU and
    the memory of its models. It is computed as for the first file that triggers the rule,
    so what it reads and shows is recorded as it would be there (`ProjectIndex.saw_layout`).
    """
    for rule in linter.rules:
        if not rule.facts:
            continue
        for path, unwanted in work:
            absolute = path.absolute()
            try:
                data = project.read(absolute)
            except SourceError:
                continue
            if rule.code not in unwanted and project.holds_any(absolute, data, rule.triggers):
                with project.checking_file(absolute), contextlib.suppress(Exception):
                    # a failing fact fails again in the rule's own check, which reports it
                    for fact in rule.facts:
                        fact(project)
                break


# A chunk's outcomes, and what the checking process's rules have read so far (layouts and
# other files: see `ProjectIndex.saw_layout` and `ProjectIndex.seen`).
ChunkOutcome = tuple[list[Outcome], set[Path], Observations]


def _share(work: list[WorkItem], workers: int, context: BaseContext) -> list[ChunkOutcome]:
    """Check `work` in `workers` forked processes and in this one, each claiming the next
    stretch of files (`_Feeding.claim`); the outcomes come back in the order of `work`.

    This process already holds every fact and model the first chunk built: checking here
    too, rather than idling beside `jobs` workers, spares a worker's memory (its private
    copy of what it parses and touches) at the same use of the cores. It claims from the
    front, next to the first chunk, and the workers from the back: neighbouring files share
    a package's modules, which each process parses for itself after the fork. The workers
    are forked by the first `submit`, from this thread, before the feeding thread starts.
    """
    with ProcessPoolExecutor(workers, context) as pool:
        feeding = _Feeding(work, workers + 1, pool)
        for _ in range(workers * _IN_FLIGHT):
            feeding.submit()
        feeder = threading.Thread(target=feeding.feed, daemon=True)
        feeder.start()
        try:
            while (claimed := feeding.claim(front=True)) is not None:
                start, items = claimed
                feeding.outcomes[start] = _check_chunk(items)
        except BaseException as error:  # Ctrl-C, or a bug: the workers take no more claims
            feeding.fail(error)
            raise
        finally:
            feeder.join()
    if feeding.error is not None:
        raise feeding.error
    return [feeding.outcomes[start] for start in sorted(feeding.outcomes)]


class _Feeding:
    """The files of `_share`: who checks which, and what came back (by first file)."""

    def __init__(self, work: list[WorkItem], processes: int, pool: ProcessPoolExecutor) -> None:
        self.work = work
        self.processes = processes
        self.pool = pool
        self.outcomes: dict[int, ChunkOutcome] = {}
        self.error: BaseException | None = None
        self._running: dict[Future[ChunkOutcome], int] = {}
        self._front, self._back = 0, len(work)  # the files no one has claimed
        self._lock = threading.Lock()

    def claim(self, front: bool = False) -> tuple[int, list[WorkItem]] | None:
        """The first (or last) files no one has claimed, and where they start: a share of
        what is left, so claims shrink as the run nears its end; None when all are claimed,
        or a worker failed."""
        with self._lock:
            left = self._back - self._front
            if self.error is not None or left == 0:
                return None
            size = max(1, left // (self.processes * _CLAIMS_PER_SHARE))
            if front:
                start = self._front
                self._front += size
            else:
                self._back -= size
                start = self._back
            return start, self.work[start : start + size]

    def submit(self) -> None:
        claimed = self.claim()
        if claimed is not None:
            start, items = claimed
            self._running[self.pool.submit(_check_chunk_in_worker, items)] = start

    def feed(self) -> None:
        """Give each worker its next claim as soon as it finishes one (in its own thread)."""
        while self._running:
            done, _ = wait(list(self._running), return_when=FIRST_COMPLETED)
            for future in done:
                start = self._running.pop(future)
                try:
                    self.outcomes[start] = future.result()
                except BaseException as error:  # re-raised by `_share`, like `pool.map`
                    self.fail(error)
                self.submit()

    def fail(self, error: BaseException) -> None:
        """No claim is made after this; `_share` raises the first error."""
        with self._lock:
            self.error = self.error or error


def _start_worker(config: Config, debug: bool, known: list[Path]) -> None:
    from fastapi_task_lint.engine import Linter
    from fastapi_task_lint.semantics.project import ProjectIndex

    global _worker
    _worker = (Linter(config, debug=debug), ProjectIndex(known, config))


def _check_chunk_in_worker(work: list[WorkItem]) -> ChunkOutcome:
    """`_check_chunk` in a worker, which hands over what it has read since its last chunk.

    The parent merges every chunk's reads, so each need be sent once. Sending all of them
    every time made a result of 250 kB, more than a pipe holds: the worker then waited for
    the parent's thread that reads results, which waits for the GIL the parent's own checks
    hold.
    """
    assert _worker is not None
    outcome = _check_chunk(work)
    project = _worker[1]
    project.layouts_shown, project.seen = set(), Observations()
    return outcome


def _check_chunk(work: list[WorkItem]) -> ChunkOutcome:
    """The outcome of each file, and what this process's checks have read so far."""
    assert _worker is not None
    linter, project = _worker
    outcomes: list[Outcome] = []
    for path, unwanted in work:
        checker = _whole if _whole is not None and _whole.checks_whole(path, project) else linter
        outcomes.append(_outcome(checker.check_file(path, project, unwanted)))
    return outcomes, project.layouts_shown, project.seen


def _outcome(result: FileResult) -> Outcome:
    """What a process hands back of a file's result (no model, no fixes)."""
    return result.diagnostics, result.suppressed, result.unwanted
