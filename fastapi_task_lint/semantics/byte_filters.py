"""Byte prefilters that a later run can rebuild from a written-down spec.

A whole-program scan parses only the modules its prefilter accepts, so its answer also
depends on the files the prefilter turned down. The cache keeps each prefilter's spec (a
registered kind and string arguments) with the run that used it; after an edit, the next
run rebuilds the same prefilters and asks them about the edited file's new bytes. Turned
down again, the file still cannot matter to that scan (see `incremental`).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

Spec = tuple[str, ...]  # a kind, then its arguments

_KINDS: dict[str, Callable[..., Callable[[bytes], bool]]] = {}


class ByteFilter:
    """A prefilter (`accepts(bytes) -> bool`) with the spec that rebuilds it."""

    __slots__ = ("_accepts", "spec")

    def __init__(self, spec: Spec, accepts: Callable[[bytes], bool]) -> None:
        self.spec = spec
        self._accepts = accepts

    def __call__(self, data: bytes) -> bool:
        return self._accepts(data)

    def __repr__(self) -> str:
        return f"ByteFilter{self.spec!r}"


def register(kind: str, factory: Callable[..., Callable[[bytes], bool]]) -> None:
    """Make `byte_filter(kind, args)` build `factory(*args)`; each kind is registered once."""
    if not one_definition(_KINDS.get(kind, factory), factory):
        raise ValueError(f"byte filter kind {kind!r} is registered twice")
    _KINDS[kind] = factory


def one_definition(old: object, new: object) -> bool:
    """Whether two registrations under one name are the same definition: equal, or made by
    the same code of a module imported again (`importlib.reload`; pytest's in-process runs
    restore `sys.modules`, so a module first imported in one is imported afresh by the next).
    """
    return old == new or _origin(old) == _origin(new)


def _origin(value: Any) -> object:
    """Where `value` was defined: a function's module and name, recursively through
    partials, this module's filters and dataclasses; else the value itself."""
    if isinstance(value, functools.partial):
        return (_origin(value.func), tuple(_origin(arg) for arg in value.args))
    if isinstance(value, ByteFilter):
        return (value.spec, _origin(value._accepts))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return tuple(_origin(getattr(value, f.name)) for f in dataclasses.fields(value))
    if callable(value) and hasattr(value, "__qualname__"):
        return (value.__module__, value.__qualname__)
    return value


def byte_filter(kind: str, args: tuple[str, ...] = ()) -> ByteFilter:
    return ByteFilter((kind, *args), _KINDS[kind](*args))


def static_filter(kind: str, accepts: Callable[[bytes], bool]) -> ByteFilter:
    """A prefilter without arguments: a module-level function."""
    register(kind, functools.partial(_constant, accepts))
    return byte_filter(kind)


def _constant(accepts: Callable[[bytes], bool]) -> Callable[[bytes], bool]:
    return accepts


def rebuild(spec: Spec) -> ByteFilter | None:
    """The prefilter `spec` describes; None for a kind this version does not know."""
    factory = _KINDS.get(spec[0]) if spec else None
    return None if factory is None else ByteFilter(spec, factory(*spec[1:]))


def passes(
    data: bytes,
    triggers: tuple[bytes, ...],
    where: Callable[[bytes], bool] | None,
    found: dict[bytes, bool] | None = None,
) -> bool:
    """Whether a scan with these `triggers` and byte filter `where` lists a module of `data`;
    `found`, when given, keeps the triggers' answers for `data` (`holds_any_kept`)."""
    if triggers and not holds_any_kept({} if found is None else found, data, triggers):
        return False
    return where is None or where(data)


def holds_any_kept(found: dict[bytes, bool], data: bytes, strings: tuple[bytes, ...]) -> bool:
    """Whether `data` holds one of `strings`; `found` keeps each string's answer for `data`.

    Rules and scans share strings (`add_task` is five rules' trigger), and a file no rule
    wants is searched for every one of them to its end: kept answers (per file and run, in
    `ProjectIndex.holds_any`) search each string once.
    """
    for string in strings:
        hit = found.get(string)
        if hit is None:
            hit = found[string] = string in data
        if hit:
            return True
    return False
