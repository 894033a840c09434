"""Sessions a function opens and whether every path closes them; sessions shared from module level.

A session is recognised by type (`SessionLocal()` from a `sessionmaker`, `Session(engine)`,
`async_session()`, `sessionmaker(...)()`, configured `session-factories`), never by name.
It is closed on every path when it is opened as a `with`/`async with` item, used later as
one (`with db:`, `with closing(db):`, `with db.begin():`, which returns the connection on
every path), closed in a `finally`, or handed back to the caller (`return db`, `yield db`:
the caller owns it then).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from fastapi_task_lint.semantics import names
from fastapi_task_lint.semantics.functions import FunctionInfo
from fastapi_task_lint.semantics.scope import BindingKind, Scope
from fastapi_task_lint.semantics.walk import OwnCodeVisitor, walk

if TYPE_CHECKING:
    from fastapi_task_lint.semantics.model import ModuleModel

_CLOSING = frozenset({"contextlib.closing", "contextlib.aclosing"})
_CLOSE_METHODS = frozenset({"close", "aclose"})


@dataclass(frozen=True)
class OpenedSession:
    """`name = <call>` opened a session that some path leaves open."""

    call: cst.Call
    name: str
    type_name: str
    is_async: bool  # an `AsyncSession`: closed by `async with`


@dataclass(frozen=True)
class SharedSession:
    """A module-level session used at `node` inside a function."""

    node: cst.Name
    type_name: str
    defined_in: str


_ASYNC_SESSION = "sqlalchemy.ext.asyncio.AsyncSession"


def unclosed_sessions(model: ModuleModel, function: FunctionInfo) -> list[OpenedSession]:
    walker = _Walker(model, function.scope)
    walk(function.node.body, walker)
    orders = {id(call.node): call.order for call in function.calls}
    opened: list[OpenedSession] = []
    for name, call in walker.assigned:
        if name in walker.closed or name in walker.handed_back:
            continue
        type_ref = model.infer_type(call, function.scope, orders.get(id(call)))
        if type_ref is None or type_ref.container:
            continue
        ancestors = model.ancestors(type_ref.qualname)
        if ancestors & names.SESSION_TYPES:
            short = type_ref.qualname.rsplit(".", 1)[-1]
            opened.append(OpenedSession(call, name, short, _ASYNC_SESSION in ancestors))
    return opened


def shared_sessions(model: ModuleModel, function: FunctionInfo) -> list[SharedSession]:
    """Uses of sessions created at module level (here or in another module of the run)."""
    walker = _Walker(model, function.scope)
    walk(function.node.body, walker)
    found: list[SharedSession] = []
    seen: set[str] = set()
    for node in walker.names:
        if node.value in seen:
            continue
        binding = function.scope.lookup(node.value)
        if binding is None or model.scope_of_binding(binding) is not model.module_scope:
            continue
        if binding.kind not in (BindingKind.ASSIGN, BindingKind.IMPORT):
            continue
        type_ref = model.binding_type(binding)
        if type_ref is None or type_ref.container:
            continue
        if model.ancestors(type_ref.qualname) & names.SESSION_TYPES:
            seen.add(node.value)
            where = binding.imported if binding.imported else model.module_name or "this module"
            found.append(SharedSession(node, type_ref.qualname.rsplit(".", 1)[-1], where))
    return found


class _Walker(OwnCodeVisitor):
    """One pass over a function body (nested defs and lambdas excluded)."""

    def __init__(self, model: ModuleModel, scope: Scope) -> None:
        self.model = model
        self.scope = scope
        self.assigned: list[tuple[str, cst.Call]] = []
        self.closed: set[str] = set()
        self.handed_back: set[str] = set()
        self.names: list[cst.Name] = []
        self.in_finally = 0

    def visit_Assign(self, node: cst.Assign) -> None:
        value = node.value.expression if isinstance(node.value, cst.Await) else node.value
        if len(node.targets) == 1 and isinstance(value, cst.Call):
            target = node.targets[0].target
            if isinstance(target, cst.Name):
                self.assigned.append((target.value, value))

    def visit_Try(self, node: cst.Try) -> bool:
        walk(node.body, self)
        for part in (*node.handlers, node.orelse):
            if part is not None:
                walk(part, self)
        if node.finalbody is not None:
            self.in_finally += 1
            walk(node.finalbody, self)
            self.in_finally -= 1
        return False

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if (
            self.in_finally
            and isinstance(func, cst.Attribute)
            and func.attr.value in _CLOSE_METHODS
            and isinstance(func.value, cst.Name)
        ):
            self.closed.add(func.value.value)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        item = node.item
        if (
            isinstance(item, cst.Call)
            and item.args
            and isinstance(item.args[0].value, cst.Name)
            and self.model.qualified_name(item.func, self.scope) in _CLOSING
        ):
            self.closed.add(item.args[0].value.value)
        if isinstance(item, cst.Name):
            self.closed.add(item.value)
        # `with db.begin():` commits or rolls back and hands the connection back on every path
        if (
            isinstance(item, cst.Call)
            and isinstance(item.func, cst.Attribute)
            and item.func.attr.value == "begin"
            and isinstance(item.func.value, cst.Name)
        ):
            self.closed.add(item.func.value.value)

    def visit_Return(self, node: cst.Return) -> None:
        if isinstance(node.value, cst.Name):
            self.handed_back.add(node.value.value)

    def visit_Yield(self, node: cst.Yield) -> None:
        if isinstance(node.value, cst.Name):
            self.handed_back.add(node.value.value)

    def visit_Name(self, node: cst.Name) -> None:
        self.names.append(node)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        walk(node.value, self)
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        walk(node.value, self)
        return False
