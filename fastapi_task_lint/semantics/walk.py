"""Walking libcst trees for reading: `walk` instead of `node.visit`, and `OwnCodeVisitor`.

`node.visit(visitor)` rebuilds every node it passes (libcst's visit replaces children even
for a read-only visitor), which costs about as much as parsing the file. `walk` calls the
same `visit_X`/`leave_X` (or `on_visit`/`on_leave`) methods in the same order without
building anything, and skips whitespace, comments and punctuation, which no reader here
looks at (the `# noqa` reader uses libcst's own visit).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

import libcst as cst

from fastapi_task_lint.built_tree import LAYOUT_FIELDS

_Hook = Callable[[Any, cst.CSTNode], Any] | None
_Entry = tuple[_Hook, _Hook, tuple[str, ...]]
_Table = dict[type, "_Entry | str"]  # see `_kind`

# A child field visited by libcst's `_visit_and_replace_children`: `visit_x(self, "name", ...`.
_VISITED_FIELD = re.compile(r'visit_\w+\(\s*self,\s*"(\w+)"')
# Layout fields, and the dots of a relative import (readers count them; none visits them).
_TRIVIA_FIELDS = LAYOUT_FIELDS | {"relative"}
_fields_by_type: dict[type[cst.CSTNode], tuple[str, ...]] = {}
_tables: dict[type[cst.CSTVisitor], _Table] = {}


def walk(node: cst.CSTNode, visitor: cst.CSTVisitor) -> None:
    """What `node.visit(visitor)` does for a read-only visitor, without rebuilding the tree."""
    table = _tables.get(type(visitor))
    if table is None:
        table = _tables[type(visitor)] = {}
    entry = table.get(type(node)) or _kind(table, visitor, type(node))
    if type(entry) is tuple:
        _visit(node, visitor, table, entry)


def _visit(node: cst.CSTNode, visitor: cst.CSTVisitor, table: _Table, entry: _Entry) -> None:
    visit, leave, fields = entry
    if visit is None or visit(visitor, node) is not False:
        for name in fields:
            child = getattr(node, name)
            kind = table.get(type(child)) or _kind(table, visitor, type(child))
            if kind is _SKIP:
                continue
            if kind is _SEQUENCE:
                for item in child:
                    kind = table.get(type(item)) or _kind(table, visitor, type(item))
                    if type(kind) is tuple:
                        _visit(item, visitor, table, kind)
            else:
                _visit(child, visitor, table, kind)  # type: ignore[arg-type]
    if leave is not None:
        leave(visitor, node)


# What a child is to a visitor, by its type, kept in the visitor's table beside the nodes'
# entries: a node to enter, a sequence of children, or something to skip (a string, `None`,
# a sentinel, or a leaf node the visitor has no hook for). A child's type answers in one
# lookup, and a leaf costs no call: two in three nodes of a tree are leaves.
_SEQUENCE, _SKIP = "sequence", "skip"


def _kind(table: _Table, visitor: cst.CSTVisitor, kind: type) -> _Entry | str:
    """What a child of type `kind` is to `visitor`, recorded in its table."""
    answer: _Entry | str
    if issubclass(kind, cst.CSTNode):
        answer = _entry(type(visitor), kind)
        if answer == (None, None, ()):
            answer = _SKIP
    elif issubclass(kind, (tuple, list)):
        answer = _SEQUENCE
    else:
        answer = _SKIP
    table[kind] = answer
    return answer


def _entry(visitor_type: type[cst.CSTVisitor], node_type: type[cst.CSTNode]) -> _Entry:
    """The hooks `visitor_type` runs on a `node_type` node, and the fields to descend into."""
    visit = _own_hook(visitor_type, f"visit_{node_type.__name__}")
    leave = _own_hook(visitor_type, f"leave_{node_type.__name__}")
    if visitor_type.on_visit is not cst.CSTVisitor.on_visit:
        visit = visitor_type.on_visit
    if visitor_type.on_leave is not cst.CSTVisitor.on_leave:
        leave = visitor_type.on_leave
    return visit, leave, child_fields(node_type)


def _own_hook(visitor_type: type[cst.CSTVisitor], name: str) -> _Hook:
    """The visitor's own method `name`; libcst's base class defines every one as a no-op."""
    hook: _Hook = getattr(visitor_type, name, None)
    return None if hook is getattr(cst.CSTVisitor, name, None) else hook


def child_fields(node_type: type[cst.CSTNode]) -> tuple[str, ...]:
    """The non-trivia child fields of `node_type`, in the order libcst visits them."""
    fields = _fields_by_type.get(node_type)
    if fields is None:
        source = inspect.getsource(node_type._visit_and_replace_children)
        visited = dict.fromkeys(_VISITED_FIELD.findall(source))
        fields = tuple(
            f for f in visited if f not in _TRIVIA_FIELDS and not f.startswith("whitespace")
        )
        _fields_by_type[node_type] = fields
    return fields


class OwnCodeVisitor(cst.CSTVisitor):
    """A visitor that stays in the body it is given and does not enter nested scopes."""

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False
