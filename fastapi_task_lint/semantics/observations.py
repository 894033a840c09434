"""What a run's results depend on beyond each file's own text (kept by the cache).

A file's findings depend on its own code and on what the run learned from other files:
trees that its rules resolved into, whole-program facts (which read many files), the
prefilters those facts' scans turned files down with, and a few values computed from the
bytes of every file (the names an import renames a looked-up name to, the queue libraries
the run names). The project index
records all of it while rules run; `incremental` uses the record to decide whether an edit
to one file can change any other file's findings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from fastapi_task_lint.semantics.byte_filters import ByteFilter, Spec, one_definition

# A prefilter a scan turned files down with: the byte strings it required (any of), then the
# spec of its finer filter (empty when it had none).
FilterUse = tuple[tuple[str, ...], Spec]


@dataclass(frozen=True)
class RunGlobal:
    """A value computed from every module's bytes: `value(union, *args)` of the union of
    each module's part, `part(module name, bytes, *args)`.

    The run keeps each module's part (`Observations.parts`), so after an edit only the
    edited modules' parts are found again, without reading every file.
    """

    part: Callable[..., Iterable[str]]
    value: Callable[..., str]
    shared_parts: bool = False  # the parts do not depend on the args: found once per kind


_GLOBALS: dict[str, RunGlobal] = {}

# Each module's part of a run global, by absolute path: only modules with a part are listed.
Parts = dict[str, list[str]]


def register_global(kind: str, run_global: RunGlobal) -> None:
    """The run global `kind`: `ProjectIndex.run_global(kind, *args)` computes it."""
    if not one_definition(_GLOBALS.get(kind, run_global), run_global):
        raise ValueError(f"run global {kind!r} is registered twice")
    _GLOBALS[kind] = run_global


def global_key(kind: str, args: tuple[str, ...]) -> str:
    return "\0".join((kind, *args))


def parts_key(key: str) -> str:
    """Where the parts of the global `key` are kept: under its kind alone when shared."""
    kind = key.split("\0", 1)[0]
    found = _GLOBALS.get(kind)
    return kind if found is not None and found.shared_parts else key


def global_part(key: str, module: str, data: bytes) -> list[str] | None:
    """The part of the module `module` with bytes `data` in the global `key`; None for a
    kind this version lacks."""
    kind, *args = key.split("\0")
    found = _GLOBALS.get(kind)
    return None if found is None else sorted(set(found.part(module, data, *args)))


def global_value(key: str, parts: Parts) -> str | None:
    """The value of the global `key` from every module's part; None for an unknown kind."""
    kind, *args = key.split("\0")
    found = _GLOBALS.get(kind)
    if found is None:
        return None
    return found.value(frozenset(item for part in parts.values() for item in part), *args)


Row = tuple[str, ...]


@dataclass(frozen=True)
class LastingUnion:
    """A lasting fact: the union of what `contribute` finds in each module `where` accepts."""

    where: ByteFilter
    contribute: Callable[[Any], Iterable[Row]]  # a `ModuleModel`'s rows


_LASTING: dict[str, LastingUnion] = {}


def register_lasting(name: str, union: LastingUnion) -> None:
    """The lasting fact `name`: `ProjectIndex.lasting` computes it, and after an edit
    `incremental` computes again only the edited modules' share."""
    if not one_definition(_LASTING.get(name, union), union):
        raise ValueError(f"lasting fact {name!r} is registered twice")
    _LASTING[name] = union


def lasting_union(name: str) -> LastingUnion | None:
    return _LASTING.get(name)


# Each module's share of a lasting fact: its rows, and the files read to find them.
Shares = dict[str, tuple[frozenset[Row], frozenset[str]]]


def shares_key(name: str) -> str:
    return f"{name} by module"


def union_of(shares: Shares) -> frozenset[Row]:
    """The lasting fact the modules' `shares` make: every row any module contributes."""
    return frozenset(row for rows, _ in shares.values() for row in rows)


def shares_to_rows(shares: Shares) -> frozenset[Row]:
    """`shares` as rows of strings, to keep in the cache like a fact."""
    found: set[Row] = set()
    for path, (rows, reads) in shares.items():
        found.add(("module", path))
        found.update(("row", path, *row) for row in rows)
        found.update(("read", path, read) for read in reads)
    return frozenset(found)


def shares_from_rows(rows: Iterable[Row]) -> Shares:
    found: dict[str, tuple[set[Row], set[str]]] = {}
    for kind, path, *rest in rows:
        own, reads = found.setdefault(path, (set(), set()))
        if kind == "row":
            own.add(tuple(rest))
        elif kind == "read":
            reads.update(rest)
    return {path: (frozenset(own), frozenset(reads)) for path, (own, reads) in found.items()}


@dataclass
class Observations:
    """One run's reads of other files, by kind (paths as absolute strings)."""

    # Files whose tree or bytes something other than their own check read: another file's
    # rules, or a whole-program fact that keeps tree nodes.
    read: set[str] = field(default_factory=set)
    # The other files each checked file's own rules read (resolving a name, following a
    # call): what they learned can be kept in caches that later files' rules share.
    own_reads: dict[str, set[str]] = field(default_factory=dict)
    # Prefilters whole-program scans (other than lasting facts') ran over every file.
    filters: set[FilterUse] = field(default_factory=set)
    globals: dict[str, str] = field(default_factory=dict)  # `run_global` values
    parts: dict[str, Parts] = field(default_factory=dict)  # theirs by module (`parts_key`)
    computed: set[str] = field(default_factory=set)  # facts (memo keys) computed

    def merge(self, other: Observations) -> None:
        self.read |= other.read
        for path, reads in other.own_reads.items():
            self.own_reads.setdefault(path, set()).update(reads)
        self.filters |= other.filters
        self.globals.update(other.globals)
        self.parts.update(other.parts)  # a later run's parts replace an earlier one's
        self.computed |= other.computed

    def to_json(self) -> dict[str, Any]:
        return {
            "read": sorted(self.read),
            "own_reads": {k: sorted(v) for k, v in sorted(self.own_reads.items())},
            "filters": sorted([list(t), list(s)] for t, s in self.filters),
            "globals": dict(sorted(self.globals.items())),
            "parts": {k: dict(sorted(v.items())) for k, v in sorted(self.parts.items())},
            "computed": sorted(self.computed),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Observations:
        return cls(
            {str(p) for p in data["read"]},
            {str(k): {str(p) for p in v} for k, v in data["own_reads"].items()},
            {(tuple(map(str, t)), tuple(map(str, s))) for t, s in data["filters"]},
            {str(k): str(v) for k, v in data["globals"].items()},
            {
                str(k): {str(p): [str(i) for i in part] for p, part in v.items()}
                for k, v in data["parts"].items()
            },
            {str(k) for k in data["computed"]},
        )
