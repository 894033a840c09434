"""The per-file result cache in `.fastapi_task_lint_cache/` (like `.ruff_cache`).

A file's cached findings are reused while all of these are unchanged: its bytes, the tool
(version and code), the effective config, the working directory (shown paths depend on it),
and the project state it was checked in (`incremental`): cross-module rules (task
definitions, whole-program state, schedulers) read other modules, so a change to the code of
`tasks.py` re-checks the routes that schedule its functions, unless nothing but `tasks.py`'s
own check read it. A change only to its comments, blank lines or layout (the same syntax
tree, `shape`) re-checks `tasks.py` alone, unless other files' findings show its line numbers
or code text (then every file: see `parallel._layouts_kept`). Such a re-check also skips the
rules whose prefilter turned the file down last time (`unwanted`): the syntax tree and the
project they looked at are the same, and some of them ask whole-program questions (is a task
defined here?) that cost a scan.

A file whose size and mtime are those recorded in its entry is not read again: its bytes
are taken to be the ones hashed then (as mypy and ruff do). The stamp is recorded only for
a file last modified over two seconds before it was read, so an edit that lands in the same
mtime tick as the read is never mistaken for no change.

Every failure is a miss: a truncated, corrupt or foreign entry is ignored and rewritten, a
directory that cannot be written is skipped. Entries are written atomically (a temporary
file in the cache directory, then `os.replace`), so two runs at once see a whole entry or
none. Entry file names are digests of the checked path: nothing read from the cache ever
decides where to write.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import json
import os
import tempfile
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from fastapi_task_lint import __version__
from fastapi_task_lint.config import Config
from fastapi_task_lint.diagnostics import Diagnostic, Edit, Fix
from fastapi_task_lint.source import MAX_PARSE_CHARS

CACHE_DIR_NAME = ".fastapi_task_lint_cache"
_FORMAT = 3
_TAG = "Signature: 8a477f597d28d172789f06886806bc55\n# fastapi-task-lint cache: safe to delete\n"


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=20).hexdigest()


def shape_hash(data: bytes) -> str:
    """The file's syntax tree without positions: what other files' findings can depend on.

    A file CPython cannot parse, or too large to be parsed at all, counts by its bytes.
    """
    if len(data) > MAX_PARSE_CHARS:
        return "bytes:" + content_hash(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escapes etc. are not ours to report
            tree = ast.parse(data)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return "bytes:" + content_hash(data)
    return content_hash(ast.dump(tree).encode("utf-8", "surrogatepass"))


@cache
def _code_fingerprint() -> str:
    """The tool's own code: a changed rule invalidates results even at the same version."""
    package = Path(__file__).resolve().parent
    stats = sorted(
        (p.relative_to(package).as_posix(), p.stat().st_size, p.stat().st_mtime_ns)
        for p in package.rglob("*.py")
    )
    return content_hash(repr((__version__, stats)).encode())


def run_key(config: Config) -> str:
    """Tool, config and working directory: what every entry of a run shares."""
    return content_hash(repr((_code_fingerprint(), config, os.getcwd())).encode())


def project_fingerprint(shapes: Iterable[tuple[Path, str]]) -> str:
    """The project as cross-module rules see it: its files and each one's syntax tree."""
    text = "\n".join(f"{path.absolute()}\0{shape}" for path, shape in sorted(shapes))
    return content_hash(text.encode("utf-8", "surrogateescape"))


Stamp = tuple[int, int]  # size and mtime_ns: with them unchanged, the content is taken as read


@dataclass
class Entry:
    """One file's cached result and what it was computed from."""

    key: str
    content: str
    shape: str
    project: str
    diagnostics: list[Diagnostic]
    suppressed: list[Diagnostic]
    unwanted: frozenset[str]
    stamp: Stamp | None = None  # the file's size and mtime when `content` was hashed

    def to_json(self, path: Path) -> dict[str, Any]:
        return {
            "format": _FORMAT,
            "path": str(path.absolute()),
            "key": self.key,
            "content": self.content,
            "shape": self.shape,
            "project": self.project,
            "diagnostics": [_diagnostic_json(d) for d in self.diagnostics],
            "suppressed": [_diagnostic_json(d) for d in self.suppressed],
            "unwanted": sorted(self.unwanted),
            "stamp": None if self.stamp is None else list(self.stamp),
        }


class Cache:
    """Entries under `directory`, one file per checked path."""

    def __init__(self, directory: Path, key: str) -> None:
        self.directory = directory.absolute()
        self._directory_name = str(self.directory)
        self.key = key
        self._writable: bool | None = None

    def _file(self, path: Path) -> Path:
        return Path(self._file_name(str(path.absolute())))

    def _file_name(self, absolute: str) -> str:
        """The entry file of the checked file `absolute`, as a string: a warm run asks for
        every file, and pathlib's joins cost a third of reading the entry."""
        digest = hashlib.sha256(os.fsencode(absolute)).hexdigest()
        return os.path.join(self._directory_name, digest[:2], f"{digest}.json")

    def load(self, path: Path, shown: str) -> Entry | None:
        """The entry for `path` written by this tool, config and cwd; None on any doubt."""
        absolute = str(path.absolute())
        try:
            with open(self._file_name(absolute), "rb") as stream:
                document = json.loads(stream.read())
            if (
                document["format"] != _FORMAT
                or document["key"] != self.key
                or document["path"] != absolute
            ):
                return None
            return Entry(
                self.key,
                str(document["content"]),
                str(document["shape"]),
                str(document["project"]),
                [_diagnostic(d, shown) for d in document["diagnostics"]],
                [_diagnostic(d, shown) for d in document["suppressed"]],
                frozenset(str(code) for code in document["unwanted"]),
                _stamp(document["stamp"]),
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    def store(self, path: Path, entry: Entry) -> None:
        """Write atomically; a cache that cannot be written is skipped, never an error."""
        self.write(self._file(path), json.dumps(entry.to_json(path), separators=(",", ":")))

    def write(self, target: Path, text: str) -> None:
        """Write `text` to `target` atomically; on failure stop writing, never an error."""
        if self._writable is False:
            return
        try:
            self._prepare(target.parent)
            handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as stream:
                    stream.write(text.encode())
                os.replace(temporary, target)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise
        except OSError:
            self._writable = False

    def _prepare(self, parent: Path) -> None:
        if self._writable is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            tag = self.directory / "CACHEDIR.TAG"
            if not tag.exists():
                tag.write_text(_TAG, encoding="utf-8")
                (self.directory / ".gitignore").write_text("*\n", encoding="utf-8")
            self._writable = True
        parent.mkdir(exist_ok=True)


Fact = frozenset[tuple[str, ...]]


class ProjectFacts:
    """Whole-program facts made of strings, kept for the next run in the same project state.

    A fact (which functions some `Depends(...)` names, say) is a function of the project's
    files and their syntax trees, so it is reused while the state its entries carry survives
    (`incremental`): a re-check after a comment or a quiet edit then costs that file, not a
    scan of every module the fact reads. One file per fact, overwritten when the state changes.
    """

    def __init__(self, cache: Cache, project: str) -> None:
        self.cache = cache
        self.project = project

    def _file(self, name: str) -> Path:
        digest = hashlib.sha256(name.encode()).hexdigest()
        return self.cache.directory / "facts" / f"{digest}.json"

    def load(self, name: str) -> Fact | None:
        """The fact `name` computed for this tool, config and project; None on any doubt."""
        try:
            document = json.loads(self._file(name).read_bytes())
            if (
                document["format"] != _FORMAT
                or document["key"] != self.cache.key
                or document["project"] != self.project
                or document["name"] != name
            ):
                return None
            return frozenset(tuple(str(part) for part in row) for row in document["rows"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def store(self, name: str, fact: Fact) -> None:
        document = {
            "format": _FORMAT,
            "key": self.cache.key,
            "project": self.project,
            "name": name,
            "rows": sorted(fact),
        }
        self.cache.write(self._file(name), json.dumps(document, separators=(",", ":")))


def _stamp(data: Any) -> Stamp | None:
    if data is None:
        return None
    size, mtime = data
    return (int(size), int(mtime))


def _diagnostic_json(diagnostic: Diagnostic) -> dict[str, Any]:
    data = diagnostic.to_dict()
    del data["path"]  # shown paths are the reader's, relative to its cwd
    return data


def _diagnostic(data: dict[str, Any], shown: str) -> Diagnostic:
    fix = data["fix"]
    return Diagnostic(
        str(data["code"]),
        str(data["name"]),
        str(data["message"]),
        shown,
        int(data["line"]),
        int(data["column"]),
        int(data["end_line"]),
        int(data["end_column"]),
        None
        if fix is None
        else Fix(
            str(fix["message"]),
            "unsafe" if fix["applicability"] == "unsafe" else "safe",
            tuple(
                Edit(
                    int(e["line"]),
                    int(e["column"]),
                    int(e["end_line"]),
                    int(e["end_column"]),
                    str(e["content"]),
                )
                for e in fix["edits"]
            ),
        ),
    )
