"""The project index: every module of the run by dotted name, parsed lazily, once.

Rules that follow a task to its definition in another module ask the index; it parses
that module the first time it is asked for and keeps only its semantic model.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from fastapi_task_lint.semantics.byte_filters import ByteFilter, holds_any_kept, passes
from fastapi_task_lint.semantics.mentions import defines_function, import_renames, renamings
from fastapi_task_lint.semantics.names import KNOWN_LIBRARY_NAMES
from fastapi_task_lint.semantics.observations import (
    LastingUnion,
    Observations,
    Parts,
    Row,
    RunGlobal,
    global_key,
    global_part,
    global_value,
    lasting_union,
    parts_key,
    register_global,
    shares_key,
    shares_to_rows,
    union_of,
)
from fastapi_task_lint.semantics.scope import Binding, BindingKind
from fastapi_task_lint.source import SourceError, decode, load_module, read_bytes

if TYPE_CHECKING:
    from fastapi_task_lint.cache import Fact, ProjectFacts
    from fastapi_task_lint.config import Config
    from fastapi_task_lint.semantics.functions import ClassInfo, FunctionInfo
    from fastapi_task_lint.semantics.model import ModuleModel

_T = TypeVar("_T")
_MAX_HOPS = 12  # re-export chains longer than this are not followed


def module_name_for(
    path: Path, packages: dict[Path, tuple[str, ...]] | None = None, root: Path | None = None
) -> tuple[str, bool]:
    """Dotted module name of `path` from its package root, and whether it is a package.

    `packages` keeps each directory's answer, so a run over many files asks the file system
    about each directory once rather than once per file beneath it. Below the project
    `root`, a folder without `__init__.py` inside a package is a namespace portion of it
    (PEP 420): `open_webui/routers/chats.py` is `open_webui.routers.chats`, not `chats`.
    """
    path = path.absolute()
    is_package = path.name == "__init__.py"
    within = root.absolute() if root is not None else None
    prefix = _package_names(path.parent, {} if packages is None else packages, within)
    return ".".join(prefix if is_package else (*prefix, path.stem)), is_package


def _package_names(
    directory: Path, known: dict[Path, tuple[str, ...]], root: Path | None
) -> tuple[str, ...]:
    """The names of the packages `directory` lies in, outermost first, itself last.

    A folder without `__init__.py` is a namespace portion only below `root` and inside a
    package: a folder of scripts or a source root has no package name, and a package above
    the project (a `benchmarks/__init__.py` over the checked tree) does not name its files.
    Nor does a package above a checked-out distribution: a folder that no import can name
    (`open-webui/`) or that holds the package of its own name (`celery/celery/`) is where
    that distribution's imports start.
    """
    names = known.get(directory)
    if names is None:
        parent = directory.parent
        if (directory / "__init__.py").is_file():
            outer = () if parent == directory else _package_names(parent, known, root)
            names = (*outer, directory.name)
        elif (
            root is not None
            and directory != root
            and root in directory.parents
            and directory.name.isidentifier()
            and not (directory / directory.name / "__init__.py").is_file()
        ):
            outer = _package_names(parent, known, root)
            names = (*outer, directory.name) if outer else ()
        else:
            names = ()
        known[directory] = names
    return names


@dataclass(frozen=True)
class Definition:
    """Where a qualified name is defined: a module-level binding, or a class member."""

    model: ModuleModel
    binding: Binding | None
    function: FunctionInfo | None = None
    klass: ClassInfo | None = None

    @property
    def is_module(self) -> bool:
        return self.binding is None and self.function is None and self.klass is None


@dataclass(frozen=True)
class _Failed:
    """The memo of a fact whose computation raised `error`."""

    error: Exception


class ProjectIndex:
    def __init__(self, paths: Iterable[Path], config: Config) -> None:
        self.config = config
        self._paths_by_module: dict[str, Path] = {}
        self._names_by_path: dict[Path, tuple[str, bool]] = {}
        self._models: dict[Path, ModuleModel | None] = {}
        self._data: dict[Path, bytes | SourceError] = {}  # see `read`
        self._answers: dict[tuple[tuple[bytes, ...], tuple[str, ...]], dict[Path, bool]] = {}
        self._found: dict[Path, dict[bytes, bool]] = {}  # see `holds_any`
        self._errors: dict[Path, SourceError] = {}
        self._memo: dict[str, Any] = {}
        self._by_suffix: dict[str, Path | None] = {}  # `_find_by_suffix` answers
        self._suffixes: dict[tuple[str, ...], list[Path]] | None = None
        self._packages: dict[Path, tuple[str, ...]] = {}  # `module_name_for` answers
        self.facts: ProjectFacts | None = None  # set by cached runs: see `lasting`
        self._unnamed: list[Path] = list(paths)  # named on first need: see `_named`
        # Files whose layout (lines, code text) other files' findings may show: see `saw_layout`.
        self.checking: Path | None = None  # the file whose rules are running
        self.layouts_shown: set[Path] = set()
        # Whole-program facts being computed, innermost last, and whether each is lasting.
        self._computing: list[tuple[str, bool]] = []
        # What this run read beyond each checked file's own text: see `_note_read`.
        self.seen = Observations()
        self._captures: list[set[Path]] = []  # see `_capturing`
        # Edited files that no fact of the run whose results the cache keeps read, and the
        # facts that run computed: see `unread`.
        self.quiet: frozenset[Path] = frozenset()
        self.base_computed: frozenset[str] = frozenset()

    def _named(self) -> dict[str, Path]:
        """The run's files by module name, named in order on first need.

        A run whose every file is a cache hit never asks, and skips a file system walk up
        from every file to its package root.
        """
        if self._unnamed:
            pending, self._unnamed = self._unnamed, []
            for path in pending:
                self.module_name_of(path)
        return self._paths_by_module

    def module_name_of(self, path: Path) -> tuple[str, bool]:
        """The module name `path` is known by in this run, unique, and whether it is a package.

        Two top-level files can share a name (`conftest.py` in several test folders,
        scripts in sibling directories). The first keeps it, so imports resolve as
        before; later ones get an unimportable name (`conftest~2`), so their own
        definitions still resolve to themselves and never to their namesake.
        """
        if self._unnamed:
            self._named()  # the run's own files first: they keep their names
        key = path.absolute()
        known = self._names_by_path.get(key)
        if known is not None:
            return known
        name, is_package = module_name_for(key, self._packages, self.config.root)
        if name:
            unique, count = name, 1
            while unique in self._paths_by_module:
                count += 1
                unique = f"{name}~{count}"
            name = unique
            self._paths_by_module[name] = key
            self._by_suffix.clear()
            self._suffixes = None
        self._names_by_path[key] = (name, is_package)
        return name, is_package

    @property
    def paths(self) -> Iterator[Path]:
        return iter(self._named().values())

    def model_for_path(self, path: Path) -> ModuleModel | None:
        """The model of `path`, parsed on first request; None when it cannot be parsed."""
        key = path.absolute()
        self._note_read(key)
        if key not in self._models:
            self._models[key] = None
            try:
                data = self.read(key)
                self._models[key] = load_module(key, self, decode(data), data)
            except SourceError as error:
                self._errors[key] = error
        return self._models[key]

    def models(
        self, containing: tuple[bytes, ...] = (), where: ByteFilter | None = None
    ) -> list[ModuleModel]:
        """Every parseable module of the run, in path order (whole-program rules).

        With `containing`, only modules whose bytes hold one of those strings are parsed,
        and with `where`, only those whose bytes it accepts: the same prefilter the engine
        applies, so a whole-program fact costs a scan per file, not a parse per file.
        """
        if not (self._computing and self._computing[-1][1]):  # a lasting fact's: see `lasting`
            triggers = tuple(t.decode("latin-1") for t in containing)
            self.seen.filters.add((triggers, where.spec if where else ()))
        paths = [
            path.absolute()
            for path in sorted(self.paths)
            if (not containing and where is None) or self._accepts(path, containing, where)
        ]
        found = (self.model_for_path(path) for path in paths)
        return [model for model in found if model is not None]

    def sources(self) -> dict[str, bytes]:
        """The bytes of every readable module of the run by module name, read once: the
        scans that must see every file (renames, library names, helper calls) share them."""

        def read() -> dict[str, bytes]:
            found: dict[str, bytes] = {}
            for name, path in self._named().items():
                data = self._bytes(path)
                if data is not None:
                    found[name] = data
            return found

        return self.memo("sources", read)

    def renamings(self, names: Iterable[str]) -> Mapping[str, frozenset[str]]:
        """`mentions.renamings` of `names` through the run's import renames, recorded: an
        edit that renames one of them on import changes what the scans look for."""
        return _renamings_from(self.run_global("renamed", *sorted(set(names))))

    def run_global(self, kind: str, *args: str) -> str:
        """A value computed from every module's bytes (`observations.RunGlobal`), once per
        run, and recorded with each module's part: an edit that changes it changes what every
        file saw."""
        key = global_key(kind, args)
        shared = parts_key(key)

        def compute() -> str:
            parts = self.memo(f"parts {shared}", lambda: self._parts(key))
            value = global_value(key, parts)
            if value is None:
                raise KeyError(f"no run global {kind!r}")
            return value

        value = self.memo(f"global {key}", compute)
        self.seen.globals[key] = value
        self.seen.parts[shared] = self._memo[f"parts {shared}"]
        return value

    def _parts(self, key: str) -> Parts:
        named = self._named()
        found: Parts = {}
        for name, data in self.sources().items():
            part = global_part(key, name, data)
            if part:
                found[str(named[name])] = part
        return found

    def keep_global(self, key: str, value: str, parts: Parts) -> None:
        """Take the value of the global `key`, and its parts, as known (an edit kept them)."""
        shared = parts_key(key)
        self._memo[f"parts {shared}"] = parts
        self._memo[f"global {key}"] = value
        self.seen.globals[key] = value
        self.seen.parts[shared] = parts

    def _accepts(
        self,
        path: Path,
        triggers: tuple[bytes, ...],
        where: ByteFilter | None,
        data: bytes | None = None,
    ) -> bool:
        """Whether a scan's prefilter lets `path` through; kept per filter, since several
        scans share one (the task scan's and FTL302's writers' `launch_filter`). `data`,
        when given, is the file's bytes in hand."""
        answers = self._answers.setdefault((triggers, where.spec if where else ()), {})
        accepted = answers.get(path)
        if accepted is None:
            if data is None:
                data = self._bytes(path)  # recorded as the filter's use; accepted, it is parsed
            found = self._found.setdefault(path, {})
            accepted = answers[path] = data is not None and passes(data, triggers, where, found)
        return accepted

    def accepts(self, path: Path, data: bytes, where: ByteFilter) -> bool:
        """Whether the prefilter `where` lets `data`, the bytes of `path`, through: answered
        once per file and run however many scans and rules' prefilters ask."""
        return self._accepts(path.absolute(), (), where, data)

    def holds_any(self, path: Path, data: bytes, strings: tuple[bytes, ...]) -> bool:
        """Whether `data`, the bytes of `path`, holds one of `strings`: each string is searched
        for once per file and run. The rules' prefilters and the scans share many (every
        string of the scheduling-site and submission scans is some rule's trigger)."""
        return holds_any_kept(self._found.setdefault(path, {}), data, strings)

    def memo(self, key: str, compute: Callable[[], _T], lasting: bool = False) -> _T:
        """A whole-program fact, computed once per run however many files ask for it.

        A fact that fails (a bug) fails once: every later ask raises the same error, which
        each asking rule reports (FTL002), instead of scanning the project again per file.
        """
        if key not in self._memo:
            self._computing.append((key, lasting))
            self.seen.computed.add(key)
            try:
                self._memo[key] = compute()
            except Exception as error:
                self._memo[key] = _Failed(error)
                raise
            finally:
                self._computing.pop()
        result = self._memo[key]
        if type(result) is _Failed:
            raise result.error.with_traceback(None)
        known: _T = result
        return known

    def remembered(self, table: str, key: str, compute: Callable[[], _T]) -> _T:
        """`compute()` for `key`, kept for the run in the memo table `table`.

        Each later ask counts the files the first one read as read again: an answer
        computed while one file was checked can depend on that very file, which is not
        recorded then, and is served by name to other files' rules.
        """
        known: dict[str, tuple[_T, frozenset[Path]]] = self.memo(table, dict)
        found = known.get(key)
        if found is None:
            with self._capturing() as reads:
                value = compute()
            found = known[key] = (value, frozenset(reads))
        else:
            for path in found[1]:
                self._note_read(path)
        return found[0]

    def _note_read(self, path: Path) -> None:
        """Record that the tree or bytes of the absolute `path` were read (see `seen`).

        Reads for the checked file's own rules do not count: its findings are checked
        again whenever its text changes. Reads for a lasting fact count for the module whose
        share they found (`share`); every other read counts as one that other files'
        findings depend on.
        """
        if self._captures:
            self._captures[-1].add(path)
        if self._computing:
            if self._computing[-1][1]:
                return
        elif path == self.checking:
            return
        elif self.checking is not None:
            self.seen.own_reads.setdefault(str(self.checking), set()).add(str(path))
        self.seen.read.add(str(path))

    def unread(self, path: Path, fact: str) -> bool:
        """Whether the fact `fact` surely did not read the module at `path`: an edited file
        no fact read in the run whose cached results this run keeps, which computed `fact`.
        That run's answer about the file stands (no task defined there, say)."""
        return fact in self.base_computed and path.absolute() in self.quiet

    def lasting(self, name: str) -> Fact:
        """The lasting fact `name` (`observations.register_lasting`), once per run.

        A union of rows of strings that each module contributes on its own, kept in the cache
        with each module's share and the files read to find it: the next run of the same
        project loads it, and after an edit computes only the shares the edit touched.
        """
        union = lasting_union(name)
        if union is None:
            raise KeyError(f"no lasting fact {name!r}")

        def load_or_compute() -> Fact:
            kept = self.facts.load(name) if self.facts is not None else None
            if kept is not None:
                return kept
            shares = {
                str(m.absolute_path): self.share(union, m) for m in self.models(where=union.where)
            }
            fact = union_of(shares)
            if self.facts is not None:
                self.facts.store(name, fact)
                self.facts.store(shares_key(name), shares_to_rows(shares))
            return fact

        return self.memo(name, load_or_compute, lasting=True)

    def share(
        self, union: LastingUnion, model: ModuleModel
    ) -> tuple[frozenset[Row], frozenset[str]]:
        """What `model` contributes to a lasting fact, and the files read to find it."""
        with self._capturing() as reads:
            rows = frozenset(union.contribute(model))
        return rows, frozenset(str(path) for path in {*reads, model.absolute_path})

    @contextlib.contextmanager
    def _capturing(self) -> Iterator[set[Path]]:
        """The files read within (`_note_read`), also counted as read by an enclosing capture:
        what a remembered answer or a lasting fact's share depends on."""
        reads: set[Path] = set()
        self._captures.append(reads)
        try:
            yield reads
        finally:
            self._captures.pop()
            if self._captures:
                self._captures[-1].update(reads)

    @contextlib.contextmanager
    def checking_file(self, path: Path) -> Iterator[None]:
        """Within: the rules of the file at absolute `path` are running (see `saw_layout`)."""
        outer, self.checking = self.checking, path
        try:
            yield
        finally:
            self.checking = outer

    def saw_layout(self, path: Path) -> None:
        """Note that a line number or code text of `path` was read.

        The cache keeps other files' findings across a change to `path` that leaves its syntax
        tree alone (a comment, a blank line), so it must know which files' layout can show in
        them: "scheduled at routes.py:12". Reads for the checked file's own findings do not
        count; reads while a whole-program fact is computed do, whichever file asked.
        """
        if self.checking is not None and (bool(self._computing) or path != self.checking):
            self.layouts_shown.add(path)

    def source_error(self, path: Path) -> SourceError | None:
        return self._errors.get(path.absolute())

    def register(self, model: ModuleModel) -> None:
        """Adopt a model parsed outside the index (e.g. from an in-memory source)."""
        self._memo.clear()  # whole-program facts may have seen the old model
        self._answers.clear()  # and prefilters its old bytes
        self._found.clear()
        self._by_suffix.clear()
        self._suffixes = None
        self._models[model.path.absolute()] = model
        self._data[model.path.absolute()] = model.source.encode("utf-8", "surrogatepass")
        if model.module_name:
            self._named()[model.module_name] = model.path.absolute()

    def module(self, name: str) -> ModuleModel | None:
        path = self.module_path(name)
        return self.model_for_path(path) if path is not None else None

    def module_path(self, name: str) -> Path | None:
        """The file of the project module `name`, without parsing it."""
        path = self._named().get(name)
        return path if path is not None else self._find_by_suffix(name)

    def defining_module(self, qualname: str) -> tuple[Path, str] | None:
        """The project module a dotted name starts in, and the name bound there.

        `app.state.JOBS`: `app/state.py` and `JOBS`. The file is not parsed: prefilters
        read its bytes to decide whether resolving the name is worth a parse.
        """
        parts = qualname.split(".")
        for split in range(len(parts) - 1, 0, -1):
            path = self.module_path(".".join(parts[:split]))
            if path is not None:
                return path, parts[split]
        return None

    def unparsed_definer(self, qualname: str) -> bytes | None:
        """The bytes of the module that defines the function `qualname`, read before any
        parse of it and recorded as read: `app/jobs.py`'s for `app.jobs.set_status` when
        a line of it starts with `def set_status`. None when that module is parsed already,
        is not the run's, or may only import the name: a scan that can tell from the bytes
        that the function cannot matter to it spares the parse.
        """
        module, _, name = qualname.rpartition(".")
        path = self.module_path(module) if module else None
        if path is None or path.absolute() in self._models:
            return None
        data = self.source_bytes(path)
        if data is None or not defines_function(data, name):
            return None  # an import, a method or a nested `def`: followed by a parse
        return data

    def source_bytes(self, path: Path) -> bytes | None:
        """The bytes of `path` (`read`), recorded as read; None when it cannot be read."""
        self._note_read(path.absolute())
        return self._bytes(path)

    def read(self, path: Path) -> bytes:
        """The bytes of the absolute `path`, read once per index; raises `SourceError`.

        Every whole-program scan tests every file's bytes, and reading a file again (two
        stats and a read) cost as much as the test. A model adopted from another text
        (`register`) stands for the file from then on.
        """
        data = self._data.get(path)
        if data is None:
            try:
                data = read_bytes(path)  # refuses FIFOs and devices: never blocks
            except SourceError as error:
                data = error
            self._data[path] = data
        if isinstance(data, SourceError):
            raise data.with_traceback(None)  # each raise starts afresh, not on the last one's
        return data

    def _bytes(self, path: Path) -> bytes | None:
        try:
            return self.read(path.absolute())
        except SourceError:
            return None

    def _find_by_suffix(self, name: str) -> Path | None:
        """Modules of namespace packages or scripts run from their folder: match by path.

        Asked for every external name too (`fastapi.X`), so each answer is kept: a scan of
        every path per lookup made large runs quadratic.
        """
        if name not in self._by_suffix:
            self._by_suffix[name] = self._scan_suffix(name)
        return self._by_suffix[name]

    def _scan_suffix(self, name: str) -> Path | None:
        matches = self._suffix_index().get(tuple(name.split(".")), [])
        return matches[0] if len(matches) == 1 else None

    def _suffix_index(self) -> dict[tuple[str, ...], list[Path]]:
        """Each path under every trailing run of its components (`a/b/c.py`: `c`, `b.c`)
        that can import it.

        A module of a package is imported by its dotted name, or by that name less the top
        package when code runs from inside the top package's folder (a stray `__init__.py`
        above the app), never by a shorter run: `import math` is not
        `prefect/utilities/math.py`, nor `import openai` `open_webui/routers/openai.py`.

        Built once per set of paths (cleared with `_by_suffix`): one dictionary lookup per
        name, where a scan of every path per distinct external name cost seconds.
        """
        if self._suffixes is None:
            self._suffixes = {}
            for name, path in self._named().items():
                keys = _suffixes(str(path.with_suffix("")))
                if path.name == "__init__.py":
                    keys |= _suffixes(str(path.parent))
                shortest = name.count(".")  # the module name's components, less the top one
                for key in keys:
                    if len(key) >= shortest:
                        self._suffixes.setdefault(key, []).append(path)
        return self._suffixes

    def resolve(self, qualname: str) -> Definition | None:
        """The project definition that `qualname` names, following re-exports.

        Each name is followed at most once per lookup: star imports branch, and packages whose
        modules star-import each other (`pydantic.v1`) made a search for a missing name
        exponential in the chain length. A library object the rules know by name
        (`names.KNOWN_LIBRARY_NAMES`) is never a project definition, also when the library's
        source is among the checked files.

        Each name's answer is kept for the run (`remembered`): a run asks about 40 times per
        distinct name (253k asks, 6.4k names on the benchmark corpus), class ancestors and
        receiver types above all.
        """
        return self.remembered(
            f"{__name__}.resolve", qualname, lambda: self._resolve(qualname, set(), 0)
        )

    def _resolve(self, qualname: str, followed: set[str], hops: int) -> Definition | None:
        if qualname in KNOWN_LIBRARY_NAMES:  # not a project definition, even when vendored
            return None
        if hops > _MAX_HOPS or qualname in followed:
            return None  # a cycle, or a diamond whose first path already found nothing
        followed.add(qualname)
        parts = qualname.split(".")
        for split in range(len(parts), 0, -1):
            model = self.module(".".join(parts[:split]))
            if model is None:
                continue
            return self._resolve_in(model, parts[split:], followed, hops)
        return None

    def _resolve_in(
        self, model: ModuleModel, rest: list[str], followed: set[str], hops: int
    ) -> Definition | None:
        if not rest:
            return Definition(model, None)
        binding = model.module_scope.lookup(rest[0])
        if binding is None:
            for star in model.star_imports:
                if self.module_path(star) is None:
                    continue  # not checked: its parent package must not answer for it
                found = self._resolve(".".join([star, *rest]), followed, hops + 1)
                if found is not None:
                    return found
            return None
        if binding.kind is BindingKind.IMPORT and binding.imported:
            return self._resolve(".".join([binding.imported, *rest[1:]]), followed, hops + 1)
        if len(rest) == 1:
            return Definition(model, binding, binding.function, binding.klass)
        if binding.kind is BindingKind.CLASS and binding.klass is not None and len(rest) == 2:
            method = binding.klass.methods.get(rest[1])
            if method is not None:
                return Definition(model, None, function=method)
        return None

    def resolve_function(self, qualname: str) -> tuple[ModuleModel, FunctionInfo] | None:
        found = self.resolve(qualname)
        if found is None or found.function is None:
            return None
        return found.model, found.function

    def resolve_class(self, qualname: str) -> tuple[ModuleModel, ClassInfo] | None:
        found = self.resolve(qualname)
        if found is None or found.klass is None:
            return None
        return found.model, found.klass


def _renamed(parts: frozenset[str], *names: str) -> str:
    renames: dict[str, set[str]] = {}
    for pair in parts:
        old, new = pair.split(" ")
        renames.setdefault(old, set()).add(new)
    found = renamings(names, renames)
    return "\n".join(f"{new} {' '.join(sorted(old))}" for new, old in sorted(found.items()))


def _renamings_from(value: str) -> Mapping[str, frozenset[str]]:
    found: dict[str, frozenset[str]] = {}
    for line in value.splitlines():
        new, *old = line.split(" ")
        found[new] = frozenset(old)
    return found


register_global(
    "renamed",
    RunGlobal(
        lambda module, data, *names: (f"{old} {new}" for old, new in import_renames(data)),
        _renamed,
        shared_parts=True,
    ),
)


def _suffixes(text: str) -> set[tuple[str, ...]]:
    """Trailing component runs of `text` that follow a separator (as `endswith(sep + x)`)."""
    parts = text.split(os.sep)
    return {tuple(parts[start:]) for start in range(1, len(parts))}
