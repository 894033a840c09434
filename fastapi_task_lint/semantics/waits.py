"""Waiting in a function body: long sleeps, retry loops, polling loops, retry decorators.

Sleeps are resolved by qualified name (`time.sleep`, `asyncio.sleep`, `anyio.sleep`,
`trio.sleep`); their duration is evaluated when it is a literal, a module constant
(also imported from another module of the run) or arithmetic on those.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

import libcst as cst

from fastapi_task_lint.semantics.callgraph import ChainMemo, Edge, Target, callees, find_chain
from fastapi_task_lint.semantics.functions import CallInfo, FunctionInfo
from fastapi_task_lint.semantics.guards import Context
from fastapi_task_lint.semantics.scope import BindingKind, Scope
from fastapi_task_lint.semantics.walk import walk

if TYPE_CHECKING:
    from fastapi_task_lint.semantics.model import ModuleModel

LONG_SLEEP_SECONDS = 30
SLEEPS = frozenset({"time.sleep", "asyncio.sleep", "anyio.sleep", "trio.sleep", "gevent.sleep"})
RETRY_DECORATORS = frozenset(
    {
        "tenacity.retry",
        "backoff.on_exception",
        "backoff.on_predicate",
        "stamina.retry",
        "retrying.retry",
        "retry.retry",
    }
)
_ATTEMPT_COUNTERS = frozenset({"builtins.range", "itertools.count", "itertools.repeat"})
_MAX_DEPTH = 6


class WaitKind(Enum):
    LONG_SLEEP = "long sleep"
    RETRY_LOOP = "retry loop"
    POLLING = "polling loop"
    RETRY_DECORATOR = "retry decorator"


@dataclass(frozen=True)
class Wait:
    """A sleep call (or a retry decorator) and why it matters; `seconds` when known."""

    node: cst.CSTNode
    kinds: tuple[WaitKind, ...]
    seconds: float | None = None


def waits_in(model: ModuleModel, function: FunctionInfo) -> list[Wait]:
    found: list[Wait] = []
    for decorator in function.decorators:
        if model.decorator_name(decorator, function.parent_scope) in RETRY_DECORATORS:
            found.append(Wait(decorator, (WaitKind.RETRY_DECORATOR,)))
    walker = _LoopWalker(model, function.scope)
    walk(function.node.body, walker)
    for call, loops, in_handler in walker.sleeps:
        kinds: list[WaitKind] = []
        seconds = _sleep_seconds(model, call, function.scope)
        if seconds is not None and seconds >= LONG_SLEEP_SECONDS:
            kinds.append(WaitKind.LONG_SLEEP)
        # A loop over attempts (or a sleep in the handler) retries; `for item in items:`
        # with a per-item `except` and a pause between items does not.
        if any(catches and (in_handler or attempts) for _, catches, attempts in loops):
            kinds.append(WaitKind.RETRY_LOOP)
        elif any(isinstance(loop, cst.While) for loop, _, _ in loops):
            kinds.append(WaitKind.POLLING)
        if kinds:
            found.append(Wait(call, tuple(kinds), seconds))
    return found


def _sleep_seconds(model: ModuleModel, call: cst.Call, scope: Scope) -> float | None:
    for arg in call.args:
        if arg.keyword is None or arg.keyword.value in ("seconds", "delay", "secs"):
            return constant_number(model, arg.value, scope)
    return None


def constant_number(
    model: ModuleModel, expr: cst.BaseExpression, scope: Scope, _depth: int = 0
) -> float | None:
    """The value of a numeric constant expression, when the code shows it."""
    if _depth > _MAX_DEPTH:
        return None
    if isinstance(expr, (cst.Integer, cst.Float)):
        return float(expr.evaluated_value)
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus):
        inner = constant_number(model, expr.expression, scope, _depth + 1)
        return -inner if inner is not None else None
    if isinstance(expr, cst.BinaryOperation):
        left = constant_number(model, expr.left, scope, _depth + 1)
        right = constant_number(model, expr.right, scope, _depth + 1)
        if left is None or right is None:
            return None
        if isinstance(expr.operator, cst.Add):
            return left + right
        if isinstance(expr.operator, cst.Subtract):
            return left - right
        if isinstance(expr.operator, cst.Multiply):
            return left * right
        if isinstance(expr.operator, cst.Divide) and right:
            return left / right
        return None
    if isinstance(expr, (cst.Name, cst.Attribute)):
        return _named_constant(model, expr, scope, _depth)
    return None


def _named_constant(
    model: ModuleModel, expr: cst.Name | cst.Attribute, scope: Scope, depth: int
) -> float | None:
    if isinstance(expr, cst.Name):
        binding = scope.lookup(expr.value)
        if binding is not None and binding.kind is BindingKind.ASSIGN and binding.value:
            owner = model.scope_of_binding(binding)
            if len(scope.bindings.get(expr.value, [])) <= 1 or owner is model.module_scope:
                return constant_number(model, binding.value, owner, depth + 1)
            return None
    qualname = model.qualified_name(expr, scope)
    found = model.project.resolve(qualname) if qualname else None
    if found is None or found.binding is None or found.binding.kind is not BindingKind.ASSIGN:
        return None
    if found.binding.value is None:
        return None
    owner = found.model.scope_of_binding(found.binding)
    return constant_number(found.model, found.binding.value, owner, depth + 1)


_Loop = tuple[cst.For | cst.While, bool, bool]  # the loop, it catches, it counts attempts


class _LoopWalker(cst.CSTVisitor):
    """Sleep calls with the loops around them and whether they sit in an `except` handler."""

    def __init__(self, model: ModuleModel, scope: Scope) -> None:
        self.model = model
        self.scope = scope
        self.loops: list[_Loop] = []
        self.handlers = 0
        self.sleeps: list[tuple[cst.Call, tuple[_Loop, ...], bool]] = []

    def _loop(self, node: cst.For | cst.While, attempts: bool) -> bool:
        self.loops.append((node, _catches(node.body), attempts))
        walk(node.body, self)
        self.loops.pop()
        if node.orelse is not None:
            walk(node.orelse, self)
        return False

    def visit_For(self, node: cst.For) -> bool:
        walk(node.iter, self)
        counter = node.iter.func if isinstance(node.iter, cst.Call) else None
        attempts = counter is not None and (
            self.model.qualified_name(counter, self.scope) in _ATTEMPT_COUNTERS
        )
        return self._loop(node, attempts)

    def visit_While(self, node: cst.While) -> bool:
        walk(node.test, self)
        return self._loop(node, True)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        self.handlers += 1

    def leave_ExceptHandler(self, original_node: cst.ExceptHandler) -> None:
        self.handlers -= 1

    def visit_Call(self, node: cst.Call) -> None:
        if self.model.qualified_name(node.func, self.scope) in SLEEPS:
            self.sleeps.append((node, tuple(self.loops), self.handlers > 0))

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False


def _catches(body: cst.BaseSuite) -> bool:
    finder = _TryFinder()
    walk(body, finder)
    return finder.found


class _TryFinder(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found = False

    def visit_Try(self, node: cst.Try) -> None:
        if node.handlers:
            self.found = True

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False


# Waits that make any caller long-running: a helper's retry loop (a client wrapper that
# retries a few times) or retry decorator is its own business, its polling loop and long
# sleep are the caller's too.
_HELPER_KINDS = frozenset({WaitKind.LONG_SLEEP, WaitKind.POLLING})
_SLEEP_BYTES = (b"sleep",)


@dataclass(frozen=True)
class HelperWait:
    """A call in a task that reaches a polling loop or long sleep in a project helper."""

    call: CallInfo
    names: tuple[str, ...]  # the helpers, from the one called to the one that waits
    wait: Wait


def helper_waits(model: ModuleModel, function: FunctionInfo) -> list[HelperWait]:
    """The calls in `function` whose project callees (two calls deep at most: a helper,
    or a helper's helper) poll or sleep long (`_HELPER_KINDS`), each with the shortest
    chain to the wait. Deeper, a short sleep in a loop is more often a pause (scrolling a
    page for screenshots) than a wait on something outside."""
    memo: ChainMemo[Wait] = model.project.memo(f"{__name__}.chains", dict)
    known: dict[int, dict[int, Wait]] = model.project.memo(f"{__name__}.helper waits", dict)

    def leaf(owner: ModuleModel, call: CallInfo, told: Context) -> Wait | None:
        waiting = call.scope.enclosing_function()
        if waiting is None or not owner.spells(_SLEEP_BYTES):
            return None
        found = known.get(id(waiting))
        if found is None:
            found = known[id(waiting)] = {
                id(wait.node): wait
                for wait in waits_in(owner, waiting)
                if _HELPER_KINDS.intersection(wait.kinds)
            }
        return found.get(id(call.node))

    found: list[HelperWait] = []
    for edge in callees(model, function):
        if not _runs_here(model, edge.target, edge.call):
            continue
        chain = find_chain(
            edge.target, leaf, _runs_here, _callees, _nothing_told, memo, max_depth=1
        )
        if chain is not None:
            found.append(
                HelperWait(edge.call, (edge.target.function.name, *chain.names()), chain.leaf)
            )
    return found


def _runs_here(caller: ModuleModel, target: Target, call: CallInfo) -> bool:
    """A sync callee runs in its caller; an async one only where it is awaited."""
    return call.awaited or not target.function.is_async


def _callees(model: ModuleModel, function: FunctionInfo, told: Context) -> list[Edge]:
    return callees(model, function)


def _nothing_told(
    call: CallInfo, target: Target, caller: FunctionInfo, told: Context, model: ModuleModel
) -> Context:
    return ()
