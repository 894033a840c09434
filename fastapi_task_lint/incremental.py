"""Which cached results survive an edit to a file's code (the cache's run record).

Every cached entry carries the id of the project state it was checked in. A change that
leaves every syntax tree alone keeps that state (see `cache`); a change to a file's code
keeps it too when nothing but that file's own check ever looked at the file (a *quiet*
edit), so the other files' findings still stand and only the edited file is checked again.
The run record says what the checks looked at (`observations.Observations`). An edited
file is quiet when all of these hold:

- no other file's rules, and no whole-program fact that keeps tree nodes, read it;
- every prefilter such a fact's scan ran over the files still turns its new bytes down;
- the values computed from every file's bytes (import renames, ...) are unchanged: the
  record keeps each module's part of them, so only the edited modules' parts are found again;
- each lasting fact that read it, or whose scan would now accept it, computes to the value
  the cache holds (only the shares of the modules the edit touched are found again);
- no other module its own check read (or a lasting fact read with it) names it: that
  check may have left what it learned there in caches later files' checks share (a call
  chain back into the file, kept for a function of the other module).

Otherwise, and whenever files were added or removed, every file is checked again under a
new state id. The record grows with each quiet run (the edited files' checks read more).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi_task_lint.cache import Cache, Fact, ProjectFacts
from fastapi_task_lint.semantics.byte_filters import passes, rebuild
from fastapi_task_lint.semantics.mentions import naming
from fastapi_task_lint.semantics.observations import (
    FilterUse,
    LastingUnion,
    Observations,
    Parts,
    Shares,
    global_part,
    global_value,
    lasting_union,
    parts_key,
    shares_from_rows,
    shares_key,
    shares_to_rows,
    union_of,
)
from fastapi_task_lint.semantics.project import ProjectIndex, module_name_for
from fastapi_task_lint.source import SourceError, read_bytes

_FORMAT = 2


@dataclass
class RunRecord:
    """The project state cached entries were checked in, and what their checks read."""

    project: str  # the id entries and lasting facts of this state carry
    files: dict[str, tuple[str, str]]  # absolute path: content hash and shape hash
    seen: Observations


@dataclass(frozen=True)
class Edited:
    """A file whose bytes differ from the record's (its syntax tree too, when edited)."""

    path: Path  # absolute
    data: bytes


def new_state_id() -> str:
    return os.urandom(12).hex()


def load(cache: Cache) -> RunRecord | None:
    """The record of the last run with this tool, config and working directory, if any."""
    try:
        document = json.loads(_file(cache).read_bytes())
        if document["format"] != _FORMAT or document["key"] != cache.key:
            return None
        return RunRecord(
            str(document["project"]),
            {str(p): (str(c), str(s)) for p, (c, s) in document["files"].items()},
            Observations.from_json(document["seen"]),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def store(cache: Cache, record: RunRecord) -> None:
    document: dict[str, Any] = {
        "format": _FORMAT,
        "key": cache.key,
        "project": record.project,
        "files": {p: list(v) for p, v in sorted(record.files.items())},
        "seen": record.seen.to_json(),
    }
    cache.write(_file(cache), json.dumps(document, separators=(",", ":")))


def _file(cache: Cache) -> Path:
    return cache.directory / "run.json"


def surviving_state(
    record: RunRecord | None,
    files: Iterable[tuple[Path, str, str, bytes | None]],
    project: ProjectIndex,
    cache: Cache,
) -> str | None:
    """The record's state id if every edit since is quiet, else None.

    `files` are the run's files: absolute path, content hash, shape hash and, when read,
    bytes. Sets `project.quiet` and `project.base_computed` when the state survives.
    """
    if record is None:
        return None
    current = list(files)
    if {str(path) for path, _, _, _ in current} != set(record.files):
        return None
    edited: list[Edited] = []
    changed: list[Edited] = []  # the edited files, and those with new comments or layout
    for path, content, shape, data in current:
        old_content, old_shape = record.files[str(path)]
        if content == old_content:
            continue
        if data is None:
            return None
        changed.append(Edited(path, data))
        if shape == old_shape:
            continue  # only comments and layout (see `cache`)
        if str(path) in record.seen.read:
            return None
        edited.append(Edited(path, data))
    kept_globals = _globals_kept(changed, record.seen, project.config.root) if changed else {}
    if kept_globals is None or (edited and not _quiet(edited, record, project, cache)):
        return None
    for key, (value, parts) in kept_globals.items():
        project.keep_global(key, value, parts)
    project.quiet = frozenset(e.path for e in edited)
    project.base_computed = frozenset(record.seen.computed)
    return record.project


def _quiet(edited: list[Edited], record: RunRecord, project: ProjectIndex, cache: Cache) -> bool:
    seen = record.seen
    if any(_accepts(use, e.data) for use in seen.filters for e in edited):
        return False
    kept = ProjectFacts(cache, record.project)
    unions = {name: union for name in seen.computed if (union := lasting_union(name)) is not None}
    shares: dict[str, Shares] = {}
    for name in unions:
        rows = kept.load(shares_key(name))
        if rows is None:
            return False
        shares[name] = shares_from_rows(rows)
    for e in edited:
        beside = set(seen.own_reads.get(str(e.path), ()))
        for found in shares.values():
            beside.update(p for _, reads in found.values() if str(e.path) in reads for p in reads)
        if _refers_to(e.path, beside - {str(e.path)}):
            return False
    return all(
        _lasting_stands(name, union, shares[name], edited, project, kept)
        for name, union in sorted(unions.items())
    )


def _globals_kept(
    changed: list[Edited], seen: Observations, root: Path
) -> dict[str, tuple[str, Parts]] | None:
    """Each run global with its parts after the changes, if none changes value; else None.

    Only the changed modules' parts are found again (their bytes are new, comments too):
    the others' are in the record.
    """
    updated: dict[str, Parts] = {}
    kept: dict[str, tuple[str, Parts]] = {}
    for key, value in seen.globals.items():
        shared = parts_key(key)
        parts = updated.get(shared)
        if parts is None:
            recorded = seen.parts.get(shared)
            if recorded is None:
                return None
            parts = updated[shared] = dict(recorded)
            for e in changed:
                part = global_part(key, module_name_for(e.path, root=root)[0], e.data)
                if part is None:
                    return None
                parts.pop(str(e.path), None)
                if part:
                    parts[str(e.path)] = part
        if global_value(key, parts) != value:
            return None
        kept[key] = (value, parts)
    return kept


def _refers_to(path: Path, others: Iterable[str]) -> bool:
    """Whether one of `others` spells the name `path` is imported by.

    A check that read the edited module and others can leave what it learned in caches
    keyed by the others' functions (a call chain through them), which later files' rules
    share. Only a module that names the edited one can lead back into it.
    """
    name = path.parent.name if path.name == "__init__.py" else path.stem
    spells = naming((name,))
    for other in others:
        try:
            data = read_bytes(Path(other))
        except SourceError:
            return True
        if spells(data):
            return True
    return False


def _lasting_stands(
    name: str,
    union: LastingUnion,
    shares: Shares,
    edited: list[Edited],
    project: ProjectIndex,
    kept: ProjectFacts,
) -> bool:
    """Whether the lasting fact `name` keeps its cached value after the edits.

    Only the shares of the edited modules, and of the modules whose share read one, are
    found again; the edited modules count only if the fact's prefilter still accepts them.
    """
    value = kept.load(name)
    if value is None:
        return False
    edits = {str(e.path): e for e in edited}
    touched = set(edits) | {p for p, (_, reads) in shares.items() if reads & edits.keys()}

    def compute() -> Fact:
        for path in sorted(touched):
            shares.pop(path, None)
            if path in edits and not union.where(edits[path].data):
                continue
            model = project.model_for_path(Path(path))
            if model is not None:
                shares[path] = project.share(union, model)
        return union_of(shares)

    if project.memo(name, compute, lasting=True) != value:
        return False
    kept.store(shares_key(name), shares_to_rows(shares))
    return True


def _accepts(use: FilterUse, data: bytes) -> bool:
    """Whether the prefilter `use` lets `data` through; True when it cannot be rebuilt."""
    triggers, spec = use
    where = rebuild(spec) if spec else None
    return passes(data, tuple(t.encode("latin-1") for t in triggers), where)
