"""Recursive structured diff: the body of every failure message the helpers raise.

A failing idempotency test is only useful if it says *what* changed, so the diff reports paths
(``['orders'][2]['status']``) rather than two reprs to compare by eye, and table snapshots
(:class:`Rows`) row by row, matched by primary key.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = ["Change", "Rows", "diff", "format_diff", "set_max_changes"]

#: How many changes a failure message shows before it truncates; the pytest plugin lifts the
#: limit under ``-vv``.
DEFAULT_MAX_CHANGES = 20
_max_changes: int | None = DEFAULT_MAX_CHANGES

Kind = Literal["added", "removed", "changed"]
_MISSING = object()
_SIGN = {"added": "+", "removed": "-", "changed": "~"}


class Rows:
    """The rows of one table, compared as a multiset so that row order never matters.

    ``key`` names the columns that identify a row (the primary key, less excluded columns);
    the diff uses it to report a row as changed rather than removed and added again.
    """

    __slots__ = ("key", "name", "rows")
    __hash__ = None  # type: ignore[assignment]

    def __init__(
        self, name: str, rows: Iterable[Mapping[str, object]], key: Sequence[str] = ()
    ) -> None:
        self.name = name
        self.key = tuple(key)
        self.rows = _canonical_order([dict(row) for row in rows], self.key)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Rows):
            return NotImplemented
        return self.rows == other.rows

    def __len__(self) -> int:
        return len(self.rows)

    def __repr__(self) -> str:
        return f"<Rows of table {self.name!r}: {len(self.rows)}>"


def _canonical_order(
    rows: list[dict[str, object]], key: tuple[str, ...]
) -> tuple[dict[str, object], ...]:
    try:
        return tuple(
            sorted(rows, key=lambda row: (*(_none_first(row.get(k)) for k in key), repr(row)))
        )
    except TypeError:  # keys of mixed, unorderable types
        return tuple(sorted(rows, key=repr))


def _none_first(value: object) -> tuple[bool, object]:
    return (value is not None, value)


@dataclass(frozen=True)
class Change:
    """One difference: ``path`` locates it, ``group`` (a table name) heads a block of them."""

    kind: Kind
    path: str
    before: object = _MISSING
    after: object = _MISSING
    group: str = ""
    columns: tuple[tuple[str, object, object], ...] = ()

    def render(self) -> str:
        sign = _SIGN[self.kind]
        where = f"{self.path}: " if self.path else ""
        if self.columns:
            cols = ", ".join(f"{name}: {old!r} -> {new!r}" for name, old, new in self.columns)
            return f"{sign} {where}{cols}"
        if self.kind == "added":
            return f"{sign} {where}{self.after!r}"
        if self.kind == "removed":
            return f"{sign} {where}{self.before!r}"
        return f"{sign} {where}{self.before!r} -> {self.after!r}"


def set_max_changes(limit: int | None) -> int | None:
    """Set how many changes a message shows (``None``: all); returns the previous limit."""
    global _max_changes
    previous, _max_changes = _max_changes, limit
    return previous


def diff(before: object, after: object) -> list[Change]:
    """Every difference between two snapshots, as paths from the root."""
    return list(_diff(before, after, ""))


def format_diff(before: object, after: object) -> str:
    """The differences between two snapshots as indented lines, truncated past the limit
    :func:`set_max_changes` sets."""
    changes = diff(before, after)
    if not changes:
        # == said they differ but nothing structural does (e.g. objects without __eq__ parts).
        return f"  before: {before!r}\n  after:  {after!r}"
    shown = changes if _max_changes is None else changes[:_max_changes]
    lines: list[str] = []
    group: str | None = None
    for change in shown:
        if change.group != group:
            group = change.group
            if group:
                lines.append(f"  table {group}: {_summary(changes, group)}")
        lines.append(("    " if group else "  ") + change.render())
    hidden = len(changes) - len(shown)
    if hidden:
        lines.append(f"  ... and {hidden} more difference{'s' * (hidden != 1)} (-vv shows all)")
    return "\n".join(lines)


def _summary(changes: list[Change], group: str) -> str:
    counts = Counter(c.kind for c in changes if c.group == group)
    return ", ".join(
        f"{counts[kind]} row{'s' * (counts[kind] != 1)} {kind}"
        for kind in ("added", "removed", "changed")
        if counts[kind]
    )


def _diff(before: object, after: object, path: str) -> Iterator[Change]:
    if isinstance(before, Rows) and isinstance(after, Rows):
        yield from _diff_rows(before, after)
    elif isinstance(before, Mapping) and isinstance(after, Mapping):
        yield from _diff_mappings(before, after, path)
    elif _is_sequence(before) and _is_sequence(after) and type(before) is type(after):
        assert isinstance(before, Sequence) and isinstance(after, Sequence)
        yield from _diff_sequences(before, after, path)
    elif isinstance(before, (set, frozenset)) and isinstance(after, (set, frozenset)):
        for item in sorted(before - after, key=repr):
            yield Change("removed", path, before=item)
        for item in sorted(after - before, key=repr):
            yield Change("added", path, after=item)
    elif type(before) is not type(after) or before != after:
        yield Change("changed", path, before=before, after=after)


def _is_sequence(value: object) -> bool:
    return isinstance(value, (list, tuple))


def _diff_mappings(
    before: Mapping[object, object], after: Mapping[object, object], path: str
) -> Iterator[Change]:
    for key in before:
        if key not in after:
            yield Change("removed", f"{path}[{key!r}]", before=before[key])
        else:
            yield from _diff(before[key], after[key], f"{path}[{key!r}]")
    for key in after:
        if key not in before:
            yield Change("added", f"{path}[{key!r}]", after=after[key])


def _diff_sequences(
    before: Sequence[object], after: Sequence[object], path: str
) -> Iterator[Change]:
    # Match on reprs so unhashable items (dicts, rows) can be aligned; an appended duplicate
    # then shows as one added item instead of every later index changing.
    matcher = difflib.SequenceMatcher(
        a=[repr(x) for x in before], b=[repr(x) for x in after], autojunk=False
    )
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        if op == "replace" and i2 - i1 == j2 - j1:
            for offset in range(i2 - i1):
                yield from _diff(before[i1 + offset], after[j1 + offset], f"{path}[{j1 + offset}]")
            continue
        for i in range(i1, i2):
            yield Change("removed", f"{path}[{i}]", before=before[i])
        for j in range(j1, j2):
            yield Change("added", f"{path}[{j}]", after=after[j])


def _diff_rows(before: Rows, after: Rows) -> Iterator[Change]:
    name = after.name or before.name
    key = after.key if after.key == before.key else ()
    old = _by_key(before.rows, key)
    new = _by_key(after.rows, key)
    if old is None or new is None:  # key not unique (e.g. part of it excluded): plain multiset
        yield from _diff_multiset(before.rows, after.rows, name)
        return
    for k, row in new.items():
        if k not in old:
            yield Change("added", "", after=row, group=name)
    for k, row in old.items():
        if k not in new:
            yield Change("removed", "", before=row, group=name)
    for k, row in old.items():
        if k in new and row != new[k]:
            other = new[k]
            columns = tuple(
                (col, row.get(col), other.get(col))
                for col in dict.fromkeys([*row, *other])
                if row.get(col, _MISSING) != other.get(col, _MISSING)
            )
            label = ", ".join(f"{c}={v!r}" for c, v in zip(key, k, strict=True))
            yield Change("changed", label, before=row, after=other, group=name, columns=columns)


def _by_key(
    rows: tuple[dict[str, object], ...], key: tuple[str, ...]
) -> dict[tuple[object, ...], dict[str, object]] | None:
    if not key:
        return None
    try:
        indexed = {tuple(row.get(k) for k in key): row for row in rows}
    except TypeError:  # unhashable key values
        return None
    return indexed if len(indexed) == len(rows) else None


def _diff_multiset(
    before: tuple[dict[str, object], ...], after: tuple[dict[str, object], ...], name: str
) -> Iterator[Change]:
    yield from (Change("added", "", after=row, group=name) for row in _unmatched(after, before))
    yield from (Change("removed", "", before=row, group=name) for row in _unmatched(before, after))


def _unmatched(
    rows: tuple[dict[str, object], ...], others: tuple[dict[str, object], ...]
) -> Iterator[dict[str, object]]:
    """The rows of ``rows`` left over once each row of ``others`` has cancelled one equal row."""
    available = Counter(repr(row) for row in others)
    for row in rows:
        if available[repr(row)]:
            available[repr(row)] -= 1
        else:
            yield row
