"""asyncio tasks a module starts (`create_task`, `ensure_future`, `loop.create_task`,
`run_coroutine_threadsafe` from another thread) and what keeps them alive.

The event loop holds only weak references to its tasks. A task whose result nothing keeps
can be garbage-collected mid-run, and its exception is never seen. Receivers are resolved:
`tg.create_task(...)` on a `TaskGroup` keeps its tasks, a project function named
`create_task` is not asyncio's.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

import libcst as cst

from fastapi_task_lint.semantics import names
from fastapi_task_lint.semantics.functions import CallInfo, FunctionInfo
from fastapi_task_lint.semantics.scope import BindingKind, Scope
from fastapi_task_lint.semantics.uses import NameUse, call_parents, is_local, local_uses

if TYPE_CHECKING:
    from fastapi_task_lint.semantics.model import ModuleModel

# Hand a coroutine to a loop from another thread; the task's outcome goes to the
# `concurrent.futures.Future` they return, which logs nothing if it is dropped.
THREADSAFE_SUBMITS = frozenset(
    {"asyncio.run_coroutine_threadsafe", "asyncio.tasks.run_coroutine_threadsafe"}
)
TASK_FACTORIES = THREADSAFE_SUBMITS | {
    "asyncio.create_task",
    "asyncio.ensure_future",
    "asyncio.tasks.create_task",
    "asyncio.tasks.ensure_future",
}
_LOOP_SPAWN_METHODS = frozenset({"create_task", "ensure_future"})  # on an event loop
_LOOP_FACTORIES = frozenset(
    {
        "asyncio.get_event_loop",
        "asyncio.get_running_loop",
        "asyncio.new_event_loop",
        "asyncio.events.get_event_loop",
        "asyncio.events.get_running_loop",
        "asyncio.events.new_event_loop",
    }
)
_NEW_LOOPS = frozenset({"asyncio.new_event_loop", "asyncio.events.new_event_loop"})
_LOOP_TYPES = frozenset(
    {
        "asyncio.AbstractEventLoop",
        "asyncio.events.AbstractEventLoop",
        "asyncio.BaseEventLoop",
        "asyncio.base_events.BaseEventLoop",
    }
)
_TASK_TYPES = frozenset(
    {"asyncio.Task", "asyncio.tasks.Task", "asyncio.Future", "asyncio.futures.Future"}
)
# Methods of a task that read it now and keep nothing for later.
_TASK_PEEKS = frozenset({"add_done_callback", "set_name", "get_name", "done", "cancelled"})
# Methods of a local list/set that only put the task in it.
_CONTAINER_FILLS = frozenset({"append", "add", "extend", "insert", "appendleft"})
# Methods that take a callback and drop its return value (futures', tasks' and loops').
_CALLBACK_REGISTRARS = frozenset(
    {
        "add_done_callback",
        "call_soon",
        "call_soon_threadsafe",
        "call_later",
        "call_at",
        "add_signal_handler",
        "add_reader",
        "add_writer",
    }
)
_MAX_DEPTH = 4

# A file without one of these strings starts no asyncio task.
SPAWN_TRIGGERS: tuple[bytes, ...] = (b"create_task", b"ensure_future", b"run_coroutine_threadsafe")


class Fate(Enum):
    DISCARDED = "discarded"  # the result is dropped (also after `.add_done_callback`)
    LOCAL_ONLY = "local-only"  # a local (or a local list) that nothing reads for later
    KEPT = "kept"  # awaited, returned, stored, passed on: something holds it


@dataclass(frozen=True)
class TaskSpawn:
    """A call that starts an asyncio task; `parents` are its ancestors, from its enclosing
    def (or the module) down."""

    call: CallInfo
    api: str  # as written: `asyncio.create_task`, `loop.create_task`, ...
    coroutine: cst.BaseExpression | None
    parents: tuple[cst.CSTNode, ...]
    from_thread: bool = False  # `run_coroutine_threadsafe`: see `THREADSAFE_SUBMITS`

    @property
    def node(self) -> cst.Call:
        return self.call.node

    @property
    def function(self) -> FunctionInfo | None:
        return self.call.scope.enclosing_function()

    def stored_in(self) -> cst.BaseExpression | None:
        """The target the task is assigned to (`t = ...`, `self.t = ...`), if any."""
        parent = self.parents[-1] if self.parents else None
        if isinstance(parent, cst.Assign) and len(parent.targets) == 1:
            return parent.targets[0].target
        if isinstance(parent, cst.AnnAssign):
            return parent.target
        return None


@dataclass(frozen=True)
class SpawnFate:
    fate: Fate
    holder: str | None = None  # the local that holds it, for LOCAL_ONLY


# What every way to start a task spells: a `TASK_FACTORIES` name, as imported or aliased,
# or a loop's method.
_SPAWNING = tuple(
    sorted({name.rsplit(".", 1)[-1].encode() for name in TASK_FACTORIES | _LOOP_SPAWN_METHODS})
)


def find_task_spawns(model: ModuleModel) -> list[TaskSpawn]:
    if not model.spells(_SPAWNING):
        return []  # most modules: resolving every call's name found nothing
    found: list[tuple[CallInfo, str]] = []
    for call in model.calls:
        api = _spawn_api(model, call)
        if api is not None:
            found.append((call, api))
    chains = call_parents(model.tree, [call for call, _ in found])
    spawns: list[TaskSpawn] = []
    for call, api in found:
        args = [a for a in call.node.args if a.keyword is None and not a.star]
        coroutine = args[0].value if args else None
        parents = chains.get(id(call.node), ())
        from_thread = model.resolve_call(call) in THREADSAFE_SUBMITS
        spawns.append(TaskSpawn(call, api, coroutine, parents, from_thread))
    return spawns


def _spawn_api(model: ModuleModel, call: CallInfo) -> str | None:
    api = _started_by(model, call.node, call.scope, call.order, model.resolve_call(call))
    args = [a.value for a in call.node.args if a.keyword is None and not a.star]
    if (
        api is not None
        and api.endswith("ensure_future")
        and args
        and is_task_handle(model, args[0], call.scope, call.order)
    ):
        return None  # `ensure_future(task)` returns that same task: it starts nothing
    return api


def _started_by(
    model: ModuleModel, node: cst.Call, scope: Scope, order: int | None, qualname: str | None
) -> str | None:
    """The API as written when `node`, which calls `qualname`, starts an asyncio task."""
    func = node.func
    if qualname in TASK_FACTORIES:
        return model.code_for(func)
    if (
        isinstance(func, cst.Attribute)
        and func.attr.value in _LOOP_SPAWN_METHODS
        and _is_loop(model, func.value, scope, order, 0)
    ):
        return model.code_for(func)
    return None


def _is_task_factory(
    model: ModuleModel, expr: cst.BaseExpression, scope: Scope, order: int | None
) -> bool:
    """`asyncio.create_task` or `loop.create_task` named, not called."""
    if model.qualified_name(expr, scope, order) in TASK_FACTORIES:
        return True
    return (
        isinstance(expr, cst.Attribute)
        and expr.attr.value in _LOOP_SPAWN_METHODS
        and _is_loop(model, expr.value, scope, order, 0)
    )


def is_task_handle(
    model: ModuleModel, expr: cst.BaseExpression, scope: Scope, order: int | None = None
) -> bool:
    """Whether `expr` is an asyncio task or future: a `create_task(...)` call, a local assigned
    one, or a name typed `asyncio.Task`/`asyncio.Future`."""
    return _is_task_handle(model, expr, scope, order, 0)


def _is_task_handle(
    model: ModuleModel, expr: cst.BaseExpression, scope: Scope, order: int | None, depth: int
) -> bool:
    if depth > _MAX_DEPTH:
        return False
    if isinstance(expr, cst.Call):
        called = model.qualified_name(expr.func, scope, order)
        if _started_by(model, expr, scope, order, called) is not None:
            return True
        # `context.run(loop.create_task, coro)`: a runner handed a task factory returns its task
        runner = [a.value for a in expr.args if a.keyword is None and not a.star][:1]
        return bool(runner) and _is_task_factory(model, runner[0], scope, order)
    if isinstance(expr, cst.Name):
        assigned = model.assigned_value(expr, scope, order)
        if assigned is not None and _is_task_handle(model, *assigned, depth + 1):
            return True
    type_ref = model.infer_type(expr, scope, order)
    return type_ref is not None and not type_ref.container and type_ref.qualname in _TASK_TYPES


def _is_loop(
    model: ModuleModel, expr: cst.BaseExpression, scope: Scope, order: int | None, depth: int
) -> bool:
    if depth > _MAX_DEPTH:
        return False
    if isinstance(expr, cst.Call):
        return model.qualified_name(expr.func, scope, order) in _LOOP_FACTORIES
    if isinstance(expr, cst.IfExp):  # `get_running_loop() if running else None`
        arms = [arm for arm in (expr.body, expr.orelse) if not names.is_none(arm)]
        return bool(arms) and all(_is_loop(model, arm, scope, order, depth + 1) for arm in arms)
    if isinstance(expr, cst.Name):
        assigned = model.assigned_value(expr, scope, order)
        if assigned is not None and _is_loop(model, *assigned, depth + 1):
            return True
    type_ref = model.infer_type(expr, scope, order)
    return type_ref is not None and not type_ref.container and type_ref.qualname in _LOOP_TYPES


def on_new_loop(
    model: ModuleModel, loop: cst.BaseExpression, scope: Scope, order: int | None
) -> bool:
    """Whether `loop` is one the code made itself with `asyncio.new_event_loop()`, which may
    serve no requests (a daemon thread's loop): also through a local, and through an
    attribute every `self.loop = ...` of whose class makes one."""
    built = model.building_calls(loop, scope, order)
    if not built:
        return False
    return all(
        owner.qualified_name(call.func, at, position) in _NEW_LOOPS
        for owner, call, at, position in built
    )


def spawn_fate(spawn: TaskSpawn) -> SpawnFate:
    """Whether anything keeps the task once the function that started it returns."""
    if spawn.call.awaited:
        return SpawnFate(Fate.KEPT)
    return _expression_fate(spawn.node, spawn.parents, spawn.function, task=True)


def _expression_fate(
    expr: cst.CSTNode,
    parents: tuple[cst.CSTNode, ...],
    function: FunctionInfo | None,
    task: bool,
) -> SpawnFate:
    """What happens to the value of `expr` (a task, or a list/set of tasks)."""
    parent = parents[-1] if parents else None
    if isinstance(parent, cst.Expr):
        return SpawnFate(Fate.DISCARDED)
    if isinstance(parent, cst.Lambda):
        # `add_done_callback(lambda t: create_task(...))`: the loop drops what it returns.
        caller = parents[-3] if len(parents) >= 3 and isinstance(parents[-2], cst.Arg) else None
        if (
            isinstance(caller, cst.Call)
            and isinstance(caller.func, cst.Attribute)
            and caller.func.attr.value in _CALLBACK_REGISTRARS
        ):
            return SpawnFate(Fate.DISCARDED)
        return _kept()
    if isinstance(parent, cst.Attribute) and len(parents) >= 2 and parent.value is expr:
        call = parents[-2]
        if task and isinstance(call, cst.Call) and parent.attr.value in _TASK_PEEKS:
            # `create_task(...).add_done_callback(cb)`: the outer call's value is not the task.
            return SpawnFate(Fate.DISCARDED) if _is_statement(parents, 3) else _kept()
        return _kept()
    if isinstance(parent, cst.Arg) and len(parents) >= 2 and function is not None:
        owner = _filled_local(function, parents[-2])
        if task and owner is not None:
            return _local_fate(function, owner, False, 1)
        return _kept()
    target = _assigned_name(parent, expr)
    if target is not None:
        if function is None or not is_local(function, target):
            return _kept()
        return _local_fate(function, target, task, 0)
    if isinstance(parent, (cst.Element, cst.StarredElement)) or _is_comprehension(parent, expr):
        # `[create_task(...) for ...]` or `[t1, t2]`: follow the container.
        container_index = next(
            (
                i
                for i in range(len(parents) - 1, -1, -1)
                if isinstance(parents[i], (cst.List, cst.Set, cst.ListComp, cst.SetComp))
            ),
            None,
        )
        if container_index is None:
            return _kept()
        container = parents[container_index]
        return _expression_fate(container, parents[:container_index], function, task=False)
    return _kept()


def _is_statement(parents: tuple[cst.CSTNode, ...], up: int) -> bool:
    return len(parents) >= up and isinstance(parents[-up], cst.Expr)


def _filled_local(function: FunctionInfo, call: cst.CSTNode) -> str | None:
    """`tasks` in `tasks.append(x)` when `tasks` is a plain local that holds a container
    built in `function` (`_local_container`)."""
    if not isinstance(call, cst.Call) or not isinstance(call.func, cst.Attribute):
        return None
    owner = call.func.value
    if call.func.attr.value not in _CONTAINER_FILLS or not isinstance(owner, cst.Name):
        return None
    return owner.value if _local_container(function, owner.value) else None


# Builds of the containers `_CONTAINER_FILLS` fill: builtins, and `collections`' deque.
_CONTAINER_DISPLAYS = (cst.List, cst.Set, cst.Dict, cst.ListComp, cst.SetComp, cst.DictComp)
_CONTAINER_BUILTINS = frozenset({"list", "set", "dict"})
_DEQUE = "collections.deque"


def _local_container(function: FunctionInfo, name: str) -> bool:
    """Whether the local `name` is only ever assigned a list, set, dict or deque built
    here: an object of another class whose `add` is called (a task group or manager,
    `async with TaskManager() as manager`) may keep what it is given."""
    if not is_local(function, name):
        return False
    for binding in function.scope.bindings[name]:
        value = binding.value
        if isinstance(value, _CONTAINER_DISPLAYS):
            continue
        func = value.func if isinstance(value, cst.Call) else None
        if not isinstance(func, cst.Name | cst.Attribute) or binding.kind is not BindingKind.ASSIGN:
            return False
        if isinstance(func, cst.Attribute):  # `collections.deque()`, under any import name
            module = func.value
            imported = function.scope.lookup(module.value) if isinstance(module, cst.Name) else None
            if imported is None or f"{imported.imported}.{func.attr.value}" != _DEQUE:
                return False
            continue
        found = function.scope.lookup(func.value)
        if found is None and func.value in _CONTAINER_BUILTINS:
            continue  # a builtin: no binding of the name shadows it
        if found is None or found.imported != _DEQUE:
            return False
    return True


def _kept() -> SpawnFate:
    return SpawnFate(Fate.KEPT)


def _is_comprehension(parent: cst.CSTNode | None, expr: cst.CSTNode) -> bool:
    return isinstance(parent, (cst.ListComp, cst.SetComp)) and parent.elt is expr


def _assigned_name(parent: cst.CSTNode | None, expr: cst.CSTNode) -> str | None:
    if isinstance(parent, cst.Assign) and parent.value is expr and len(parent.targets) == 1:
        target = parent.targets[0].target
        return target.value if isinstance(target, cst.Name) else None
    if isinstance(parent, cst.AnnAssign) and parent.value is expr:
        return parent.target.value if isinstance(parent.target, cst.Name) else None
    return None


def _local_fate(function: FunctionInfo, name: str, task: bool, depth: int) -> SpawnFate:
    if depth > _MAX_DEPTH:
        return _kept()
    for use in local_uses(function, name):
        if not _use_keeps_nothing(function, use, task, depth):
            return _kept()
    return SpawnFate(Fate.LOCAL_ONLY, name)


def _use_keeps_nothing(function: FunctionInfo, use: NameUse, task: bool, depth: int) -> bool:
    if use.nested:
        return False
    method = use.method_call()
    if method is not None:
        allowed = _TASK_PEEKS if task else _CONTAINER_FILLS
        return method[0] in allowed and _is_statement(use.parents, 3)
    receiver = use.argument_of()
    owner = _filled_local(function, receiver) if task and receiver is not None else None
    # `tasks.append(t)` into a local list that nothing keeps either.
    return (
        owner is not None and _local_fate(function, owner, False, depth + 1).fate is Fate.LOCAL_ONLY
    )
