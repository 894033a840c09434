"""Parsing ahead on another core while one process computes the whole-program facts.

A pooled run checks its first chunk of files before the workers fork, so the facts it
computes are inherited rather than rebuilt per worker (see `parallel`). That chunk asks
for every fact in turn, and the facts' scans are most of its time: libcst parses the
hundreds of modules their byte prefilters let through, on one core, while the others wait.

A scan knows its whole list of modules before it parses the first one (`ProjectIndex.
models`), so a helper process parses the same list from its far end and sends each tree
back pickled; the scan parses from the front and takes the trees that are ready when it
gets to them. Scans nest (the task scan asks for the helpers' scan midway), so a new list
goes before the rest of the one it interrupts, which the helper takes up again after; and
it skips the modules the run reports it has taken or parsed itself. Between scans (the
run resolving names, say) the helper would idle, so it lists the modules of the scans
declared ahead (`byte_filters.expect_scan`) with their own prefilters and parses those.

Unpickling a tree costs about half of parsing it, and pickling about two fifths,
which the helper spends on a core that would otherwise idle. A tree is used only for the
very text the scan reads itself; anything the helper fails at (a file that does not
parse, a tree too deep to pickle) is parsed by the scan as before.
"""

from __future__ import annotations

import pickle
import queue
import sys
import threading
from multiprocessing.connection import Connection
from multiprocessing.context import ForkContext
from pathlib import Path
from typing import Any

from fastapi_task_lint.semantics.byte_filters import ScanSpec, passes, rebuild
from fastapi_task_lint.source import Parsed, SourceError, decode, parse_with_lines, read_bytes

# Fewer modules than this to parse are not worth a message to the helper.
MIN_PREFETCH = 8
_RECURSION_LIMIT = 20_000  # pickling a deep tree recurses once per level
_JOIN_SECONDS = 5.0
_WANT = "want"
_TAKEN = "taken"
_EXPECT = "expect"
# `_WANT` or `_TAKEN` and the paths, or `_EXPECT` and the scans with the run's paths.
Message = tuple[str, list[Path]] | tuple[str, tuple[list[ScanSpec], list[Path]]]


class Prefetcher:
    """A helper process that parses lists of modules from their far end (`want`)."""

    def __init__(self, context: ForkContext) -> None:
        ours, theirs = context.Pipe()
        self._process = context.Process(target=_serve, args=(theirs, ours), daemon=True)
        self._process.start()
        theirs.close()
        self._connection: Connection = ours
        self._ready: dict[Path, bytes] = {}
        self._parsed_here: set[Path] = set()  # trees still to come for these are dropped
        self._alive = True
        # Messages for the helper, sent in order by their own thread (see `_send_all`).
        self._outbox: queue.SimpleQueue[Message | None] = queue.SimpleQueue()
        self._sender = threading.Thread(target=self._send_all, daemon=True)
        self._sender.start()

    def want(self, paths: list[Path]) -> None:
        """The absolute `paths` the caller is about to parse, in the order it will."""
        if len(paths) >= MIN_PREFETCH and self._alive:
            self._outbox.put((_WANT, paths))

    def expect(self, scans: list[ScanSpec], paths: list[Path]) -> None:
        """Scans the run will likely ask for, over its absolute `paths` in the run's order:
        the helper lists and parses their modules while no `want` list is left."""
        if scans and self._alive:
            self._outbox.put((_EXPECT, (scans, paths)))

    def take(self, path: Path, text: str) -> Parsed | None:
        """The helper's tree of the absolute `path` if it is ready and parsed from `text`;
        None, and the caller parses it."""
        self._receive()
        if self._alive:  # spare the helper a module this process has, or parses itself
            self._outbox.put((_TAKEN, [path]))
        blob = self._ready.pop(path, None)
        if blob is None:
            self._parsed_here.add(path)
            return None
        try:
            sent, tree, lines = pickle.loads(blob)
        except Exception:  # a damaged message: parse it here
            return None
        return (tree, lines) if sent == text else None

    def _send_all(self) -> None:
        """Send the outbox to the helper, and None last.

        A thread of its own, because either side's send waits while the other's end of the
        pipe is full: a long list sent while the helper waits to send a large tree would
        leave each waiting on the other. This process's own thread only ever reads.
        """
        while True:
            message = self._outbox.get()
            try:
                self._connection.send(message)
            except OSError:  # the helper is gone
                self._alive = False
                return
            if message is None:
                return

    def close(self) -> None:
        """Stop the helper, reading what it still sends so it never blocks on the pipe."""
        self._outbox.put(None)
        try:
            while self._alive and self._process.is_alive():
                self._receive()
                self._process.join(0.01)
        finally:
            self._process.join(_JOIN_SECONDS)
            if self._process.is_alive():
                self._process.terminate()
                self._process.join(_JOIN_SECONDS)
            self._sender.join(_JOIN_SECONDS)  # its send fails once the helper is gone
            self._connection.close()
            self._ready.clear()

    def _receive(self) -> None:
        """Keep what the helper has sent; a helper that died is no longer asked."""
        try:
            while self._alive and self._connection.poll():
                path, blob = self._connection.recv()
                if blob is not None and path not in self._parsed_here:
                    self._ready[path] = blob
        except (OSError, EOFError, pickle.UnpicklingError):
            self._alive = False


def _serve(connection: Connection, runs_end: Connection) -> None:
    """The helper: parse the wanted lists from their ends, one tree per message, until None.

    A run that is gone (killed, or interrupted with the terminal's Ctrl-C, which reaches
    the helper too) ends the helper quietly: the run reports what happened, not the helper.
    The run's end of the pipe, inherited by the fork, is closed first, or the helper would
    never see that end close.
    """
    runs_end.close()
    sys.setrecursionlimit(max(sys.getrecursionlimit(), _RECURSION_LIMIT))
    wanted = _Wanted()
    try:
        while True:
            # Every message first: notes pile up in the pipe while a tree is parsed and sent.
            while connection.poll() or not wanted.pending():
                message = connection.recv()
                if message is None:
                    return
                wanted.note(*message)
            path = wanted.pop()
            connection.send((path, _pickled(path)))
    except (OSError, EOFError, KeyboardInterrupt):
        return


class _Wanted:
    """The helper's work: the lists the run is about to parse, the newest on top, less the
    modules already sent, or taken by the run; then the lists of the scans it expects."""

    def __init__(self) -> None:
        self._lists: list[list[Path]] = []
        self._done: set[Path] = set()
        self._expected: list[tuple[ScanSpec, list[Path]]] = []  # next first

    def note(self, kind: str, payload: Any) -> None:
        if kind == _WANT:
            self._lists.append(list(payload))
        elif kind == _EXPECT:
            scans, paths = payload
            self._expected.extend((scan, paths) for scan in scans)
        else:
            self._done.update(payload)

    def pending(self) -> bool:
        """Whether a module is left to parse; drops the finished lists and modules, and
        lists the next expected scan when no wanted list is left."""
        while True:
            while self._lists:
                top = self._lists[-1]
                while top and top[-1] in self._done:
                    top.pop()
                if top:
                    return True
                self._lists.pop()
            if not self._expected:
                return False
            scan, paths = self._expected.pop(0)
            self._lists.append(_listed(scan, paths))

    def pop(self) -> Path:
        """The next module to parse (ask `pending` first): from the far end of the newest
        list."""
        path = self._lists[-1].pop()
        self._done.add(path)
        return path


def _listed(scan: ScanSpec, paths: list[Path]) -> list[Path]:
    """The modules of `paths` that the scan's prefilter lets through, in order."""
    triggers, spec = scan
    where = rebuild(spec) if spec else None
    if spec and where is None:
        return []  # a filter this version does not know: nothing to guess
    found = []
    for path in paths:
        try:
            data = read_bytes(path)
        except SourceError:
            continue
        if passes(data, triggers, where):
            found.append(path)
    return found


def _pickled(path: Path) -> bytes | None:
    try:
        text = decode(read_bytes(path))
        tree, lines = parse_with_lines(text)
        return pickle.dumps((text, tree, lines), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # the scan parses it and reports what is wrong with it
        return None
