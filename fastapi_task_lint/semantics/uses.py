"""Where a function reads one of its local names, and what each read does with the value.

The builder records bindings, not reads. Rules that ask "does anything keep this value
after the function returns?" (an asyncio task, a hand-built `BackgroundTasks`) need the
reads with their surroundings: `t.add_done_callback(...)` keeps nothing, `return t` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst

from fastapi_task_lint.semantics.functions import CallInfo, FunctionInfo
from fastapi_task_lint.semantics.scope import BindingKind
from fastapi_task_lint.semantics.walk import walk


@dataclass(frozen=True)
class NameUse:
    """One read of a local name; `parents` runs from the function body down to the read."""

    name: cst.Name
    parents: tuple[cst.CSTNode, ...]
    nested: bool  # inside a nested def, lambda or class: captured, may outlive the call

    @property
    def parent(self) -> cst.CSTNode | None:
        return self.parents[-1] if self.parents else None

    def method_call(self) -> tuple[str, cst.Call] | None:
        """`name.method(...)`: the method's name and the call."""
        if len(self.parents) < 2:
            return None
        attribute, call = self.parents[-1], self.parents[-2]
        if (
            isinstance(attribute, cst.Attribute)
            and attribute.value is self.name
            and isinstance(call, cst.Call)
            and call.func is attribute
        ):
            return attribute.attr.value, call
        return None

    def argument_of(self) -> cst.Call | None:
        """The call that receives the name as a (possibly starred) argument."""
        if len(self.parents) < 2:
            return None
        arg, call = self.parents[-1], self.parents[-2]
        if isinstance(arg, cst.Arg) and arg.value is self.name and isinstance(call, cst.Call):
            return call
        return None


def is_local(function: FunctionInfo, name: str) -> bool:
    """Whether `name` is a plain local of `function` (not global, nonlocal or a parameter)."""
    scope = function.scope
    if name in scope.global_names or name in scope.nonlocal_names:
        return False
    bindings = scope.bindings.get(name, [])
    return bool(bindings) and all(b.kind is not BindingKind.PARAM for b in bindings)


def built_once(
    function: FunctionInfo, local: cst.BaseExpression | None, call: CallInfo
) -> cst.Call | None:
    """The call whose result the local `local` holds: its one binding in `function`, in
    whose own scope `call` is (`repo = Repo()`, `coro = run(x)`)."""
    if not isinstance(local, cst.Name) or call.scope is not function.scope:
        return None
    bindings = function.scope.bindings.get(local.value, [])
    if len(bindings) != 1 or bindings[0].kind is not BindingKind.ASSIGN:
        return None
    value = bindings[0].value
    return value if isinstance(value, cst.Call) else None


def local_uses(function: FunctionInfo, name: str) -> list[NameUse]:
    """Every read of `name` in the body of `function`, nested functions included."""
    collector = _UseCollector(name)
    body = function.node.body
    walk(body, collector)
    return collector.uses


def parent_chains(
    root: cst.CSTNode, targets: Sequence[cst.CSTNode]
) -> dict[int, tuple[cst.CSTNode, ...]]:
    """For each target node (by id), its ancestors from `root` down to its parent."""
    collector = _ParentCollector({id(t) for t in targets})
    walk(root, collector)
    return collector.found


def assigned_targets(
    value: cst.BaseExpression, parents: Sequence[cst.CSTNode]
) -> list[cst.BaseExpression]:
    """The targets `value` (or `await value`) is assigned to; `parents` end at its parent."""
    parent = parents[-1] if parents else None
    if isinstance(parent, cst.Await) and parent.expression is value:
        value, parent = parent, parents[-2] if len(parents) > 1 else None
    if isinstance(parent, cst.Assign) and parent.value is value:
        return [target.target for target in parent.targets]
    if isinstance(parent, cst.AnnAssign) and parent.value is value:
        return [parent.target]
    return []


def call_parents(tree: cst.Module, calls: Sequence[CallInfo]) -> dict[int, tuple[cst.CSTNode, ...]]:
    """For each call's node (by id), its ancestors from its enclosing def (or the module)
    down: enough to see what keeps its result, with one walk per such def, not per module.
    A lambda is not a root: what receives a lambda decides what becomes of its value."""
    roots: dict[int, tuple[cst.CSTNode, list[cst.CSTNode]]] = {}
    for call in calls:
        function = call.scope.enclosing_function()
        while function is not None and function.is_lambda:
            function = function.parent_scope.enclosing_function()
        root: cst.CSTNode = function.node if function is not None else tree
        roots.setdefault(id(root), (root, []))[1].append(call.node)
    chains: dict[int, tuple[cst.CSTNode, ...]] = {}
    for root, targets in roots.values():
        chains.update(parent_chains(root, targets))
    return chains


class _ParentCollector(cst.CSTVisitor):
    def __init__(self, targets: set[int]) -> None:
        self.targets = targets
        self.stack: list[cst.CSTNode] = []
        self.found: dict[int, tuple[cst.CSTNode, ...]] = {}

    def on_visit(self, node: cst.CSTNode) -> bool:
        if id(node) in self.targets:
            self.found[id(node)] = tuple(self.stack)
        self.stack.append(node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self.stack.pop()


class _UseCollector(cst.CSTVisitor):
    """Reads of one name; names in store position, attributes and keywords are not reads."""

    def __init__(self, name: str) -> None:
        self.target = name
        self.stack: list[cst.CSTNode] = []
        self.uses: list[NameUse] = []
        self.depth = 0  # nested definitions entered

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.Name) and node.value == self.target and self._is_read(node):
            self.uses.append(NameUse(node, tuple(self.stack), self.depth > 0))
        if isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            self.depth += 1
        self.stack.append(node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self.stack.pop()
        if isinstance(original_node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            self.depth -= 1

    def _is_read(self, node: cst.Name) -> bool:
        parent = self.stack[-1] if self.stack else None
        if isinstance(parent, cst.Attribute):
            return parent.value is node
        if isinstance(parent, cst.Arg):
            return parent.value is node
        if isinstance(parent, (cst.AssignTarget, cst.AnnAssign, cst.For, cst.CompFor)):
            return getattr(parent, "target", None) is not node
        if isinstance(parent, (cst.AsName, cst.Param, cst.FunctionDef, cst.ClassDef)):
            return False
        if isinstance(parent, (cst.ImportAlias, cst.Global, cst.Nonlocal, cst.NameItem)):
            return False
        if isinstance(parent, cst.NamedExpr):
            return parent.target is not node
        return True


def assigned_attribute(
    function: FunctionInfo, name: str, attribute: str
) -> cst.BaseExpression | None:
    """The value of the last `name.attribute = value` in `function`."""
    value: cst.BaseExpression | None = None
    for use in local_uses(function, name):
        if len(use.parents) < 3:
            continue
        node, target, assign = use.parents[-1], use.parents[-2], use.parents[-3]
        if (
            isinstance(node, cst.Attribute)
            and node.attr.value == attribute
            and isinstance(target, cst.AssignTarget)
            and isinstance(assign, cst.Assign)
        ):
            value = assign.value
    return value
