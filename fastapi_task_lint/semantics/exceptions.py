"""Where a function can raise with nothing in it to catch the exception.

"Work" is a call, a `raise` or an `await` of something that is not a call (`await task`
re-raises the task's exception); it is guarded when it sits in the body of a `try` with a
handler for `Exception`/`BaseException` (or a bare `except`) that does not raise again.
Logging, `print` and a few builtins that do not fail on ordinary values are not work,
and neither is a call to a project function that itself guards all of its work.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeAlias

import libcst as cst

from fastapi_task_lint.semantics import names
from fastapi_task_lint.semantics.blocking import receiver_type
from fastapi_task_lint.semantics.callgraph import Target, resolve_function_ref
from fastapi_task_lint.semantics.calls import built_plain_dataclass
from fastapi_task_lint.semantics.functions import FunctionInfo
from fastapi_task_lint.semantics.scope import BindingKind, Scope
from fastapi_task_lint.semantics.walk import OwnCodeVisitor, walk

if TYPE_CHECKING:
    from fastapi_task_lint.semantics.model import ModuleModel

_BROAD = frozenset({"builtins.Exception", "builtins.BaseException"})
# Exceptions that are no error: a task is stopped, not failing (no `except Exception` would
# catch them either). A bare `raise` in a handler of only these passes the stop on.
_STOPS = frozenset(
    {
        "asyncio.CancelledError",
        "asyncio.exceptions.CancelledError",
        "builtins.GeneratorExit",
        "builtins.KeyboardInterrupt",
        "builtins.SystemExit",
    }
)
_ASYNCIO_QUEUES = (
    "asyncio.Queue",
    "asyncio.queues.Queue",
    "asyncio.LifoQueue",
    "asyncio.PriorityQueue",
)
_QUIET_BUILTINS = frozenset(
    {
        "builtins.print",
        "builtins.len",
        "builtins.str",
        "builtins.repr",
        "builtins.bool",
        "builtins.isinstance",
        "builtins.range",
        "builtins.enumerate",
        "builtins.zip",
        "builtins.dict",
        "builtins.list",
        "builtins.set",
        "builtins.tuple",
        "builtins.frozenset",
        "builtins.sorted",
        # Like `isinstance`, fails only when handed something that is not a class.
        "builtins.issubclass",
        # Can raise: only AttributeError is swallowed, so a property or `__getattr__` that
        # raises something else escapes. Counted quiet anyway: it is the check before a use
        # of the attribute, and that use (a call on it) is work and counted.
        "builtins.hasattr",
        "builtins.id",
        "builtins.callable",
        # Fails only on a negative or non-number argument, as `asyncio.sleep` does.
        "time.sleep",
        # Clocks.
        "time.time",
        "time.monotonic",
        "time.perf_counter",
        "time.time_ns",
        "time.monotonic_ns",
        "time.perf_counter_ns",
        "datetime.datetime.now",  # given a `tzinfo`, fails only on a non-`tzinfo`
        "datetime.datetime.utcnow",
        "datetime.date.today",
        # Type and flag checks: they answer False for anything else.
        "inspect.isasyncgen",
        "inspect.iscoroutine",
        "inspect.iscoroutinefunction",
        "inspect.isawaitable",
        "inspect.isgenerator",
        # Escaping text for `rich`'s markup, and formatting the exception being handled.
        "rich.markup.escape",
        "traceback.format_exc",
        "traceback.print_exc",
        "traceback.format_exception",
        # Environment reads: a missing variable gives None or the default.
        "os.getenv",
        "os.environ.get",
        # Building asyncio's primitives: they fail only on a negative count or size.
        "asyncio.Semaphore",
        "asyncio.BoundedSemaphore",
        "asyncio.Lock",
        "asyncio.Event",
        "asyncio.Condition",
        *_ASYNCIO_QUEUES,
    }
)
# Schedule a coroutine as a task (and fail only without a running loop).
_SPAWNS = frozenset({"asyncio.create_task", "asyncio.ensure_future"})
# Fail only outside a running event loop, so never in the body of an `async def`.
_QUIET_IN_COROUTINES = frozenset(
    {
        "asyncio.get_running_loop",
        "asyncio.get_event_loop",
        "asyncio.current_task",
        "anyio.CancelScope",
        # Raise only CancelledError, which no `except Exception` would catch either.
        "asyncio.sleep",
        "anyio.sleep",
        *_SPAWNS,
    }
)
# Methods of a task or future that only read or set its state; they never raise.
# The same for a semaphore (a plain one: `BoundedSemaphore.release` can raise) and an event.
_TASK_METHODS = frozenset({"cancel", "done", "cancelled"})
_QUIET_TYPED_METHODS = {
    "asyncio.Task": _TASK_METHODS,
    "asyncio.Future": _TASK_METHODS,
    "asyncio.Semaphore": frozenset({"release", "locked"}),
    "asyncio.Event": frozenset({"set", "clear", "is_set"}),
    # Printing to a terminal is logging: a project's error helper often does both.
    "rich.console.Console": frozenset({"print", "log", "rule", "print_exception"}),
}
# Methods of the builtin containers that do not fail on ordinary values (a key that cannot
# be hashed aside), by the receiver's annotated or inferred type: `args.get("k", None)`.
_QUIET_CONTAINER_METHODS = {
    "builtins.dict": frozenset({"get", "keys", "values", "items", "copy", "setdefault", "update"}),
    "builtins.list": frozenset({"append", "copy", "count"}),
    "builtins.set": frozenset({"add", "discard", "copy"}),
    # With `maxlen`, a full deque drops an item at the other end rather than fail.
    "collections.deque": frozenset({"append", "appendleft", "copy", "count"}),
    "contextvars.ContextVar": frozenset({"set"}),
}
# Methods that do not fail when given a default (this many arguments): `d.pop(k, None)`.
_QUIET_WITH_DEFAULT = {
    ("builtins.dict", "pop"): 2,
    ("contextvars.ContextVar", "get"): 1,
}
_DEFAULTED_METHODS = frozenset(method for _, method in _QUIET_WITH_DEFAULT)


def _unbounded(call: cst.Call) -> bool:
    """`asyncio.Queue()` or `asyncio.Queue(maxsize=0)`: no size to fill."""
    return all(
        isinstance(arg.value, cst.Integer) and arg.value.value == "0" for arg in call.args
    ) and not any(arg.star for arg in call.args)


def _defaulted(call: cst.Call) -> bool:
    """`ContextVar("name", default=...)`: `get()` returns the default when unset."""
    return any(arg.keyword is not None and arg.keyword.value == "default" for arg in call.args)


# Methods that do not fail on an object built this way, by the class the call that built
# it names and the method: `put` on an unbounded queue waits for nothing and never fails
# (unless the queue is shut down, which Python 3.13 added).
_QUIET_WHEN_BUILT: dict[tuple[str, str], Callable[[cst.Call], bool]] = {
    **{(queue, "put"): _unbounded for queue in _ASYNCIO_QUEUES},
    **{(queue, "put_nowait"): _unbounded for queue in _ASYNCIO_QUEUES},
    ("contextvars.ContextVar", "get"): _defaulted,
}
_BUILT_QUIET_METHODS = frozenset(method for _, method in _QUIET_WHEN_BUILT)
# Annotations that name those containers through `typing` or `collections` (`Dict[str, Any]`).
_CONTAINER_SPELLINGS = {
    "typing.List": "builtins.list",
    "typing.Deque": "collections.deque",
    "typing.Set": "builtins.set",
    "typing.Dict": "builtins.dict",
    "typing.DefaultDict": "builtins.dict",
    "typing.OrderedDict": "builtins.dict",
    "collections.defaultdict": "builtins.dict",
    "collections.OrderedDict": "builtins.dict",
}
_SYNC_LOG_METHODS = ("debug", "info", "warning", "warn", "error", "exception", "critical", "log")
# structlog's async methods (`await logger.awarning(...)`) log the same way.
_LOG_METHODS = frozenset({*_SYNC_LOG_METHODS, *(f"a{m}" for m in _SYNC_LOG_METHODS), "msg"})
_MAX_DEPTH = 4


Work: TypeAlias = cst.Call | cst.Raise | cst.Await


def unguarded_work(model: ModuleModel, function: FunctionInfo, _depth: int = 0) -> list[Work]:
    """Calls, raises and awaits in `function`'s own body that no broad handler covers, in
    order."""
    collector = _Collector(model, function.scope)
    body = function.node.body
    walk(body, collector)
    found: list[Work] = []
    for node in collector.unguarded:
        if isinstance(node, cst.Call) and _handled_call(model, function.scope, node, _depth):
            continue
        found.append(node)
    return found


def _quiet(model: ModuleModel, scope: Scope, call: cst.Call) -> bool:
    """Logging, `print` and builtins that do not fail on ordinary values."""
    func = call.func
    qualname = model.qualified_name(func, scope)
    if qualname in _QUIET_BUILTINS or (qualname or "").startswith("logging."):
        return True
    if qualname in names.SESSION_TYPES or _builds_session(model, scope, call):
        return True  # building a session opens no connection: its first query does
    if qualname in _QUIET_IN_COROUTINES:
        return _in_coroutine(scope)
    return isinstance(func, cst.Attribute) and (
        func.attr.value in _LOG_METHODS and "log" in model.code_for(func.value).lower()
    )


def _builds_session(model: ModuleModel, scope: Scope, call: cst.Call) -> bool:
    """`SessionLocal()`: a call without arguments of a module global bound to a session
    factory's call (`SessionLocal = sessionmaker(...)`), here or imported. Read from that
    binding, not inferred: the answer is the same whatever else the process has parsed."""
    qualname = None if call.args else model.qualified_name(call.func, scope)
    found = model.project.resolve(qualname) if qualname else None
    binding = found.binding if found is not None else None
    if binding is None or binding.kind is not BindingKind.ASSIGN:
        return False
    value = binding.value
    if not isinstance(value, cst.Call):
        return False
    owner = found.model if found is not None else model
    factory = owner.qualified_name(value.func, owner.scope_of_binding(binding))
    return factory in names.SESSION_FACTORY_TYPES


def _quiet_method(model: ModuleModel, scope: Scope, call: cst.Call) -> bool:
    """A method of a task, an event, a container or a context variable that does not fail
    on ordinary values, by the receiver's type (its arguments still run, and may fail)."""
    func = call.func
    if not isinstance(func, cst.Attribute):
        return False
    if any(func.attr.value in methods for methods in _QUIET_TYPED_METHODS.values()):
        receiver = receiver_type(model, func.value, scope, None) or ""
        if func.attr.value in _QUIET_TYPED_METHODS.get(receiver, ()):
            return True
    method = func.attr.value
    if method in _DEFAULTED_METHODS or any(
        method in methods for methods in _QUIET_CONTAINER_METHODS.values()
    ):
        inferred = model.infer_type(func.value, scope)
        container = "" if inferred is None else inferred.qualname
        if inferred is not None and inferred.container:
            container = inferred.collection  # `list[Trace]`: a list, whatever it holds
        container = _CONTAINER_SPELLINGS.get(container, container)
        if method in _QUIET_CONTAINER_METHODS.get(container, frozenset()):
            return True
        given = _QUIET_WITH_DEFAULT.get((container, method))
        if given == len(call.args) and not any(a.star for a in call.args):
            return True
    if method in _BUILT_QUIET_METHODS:
        return _built_quiet(model, scope, func)
    return False


def _built_quiet(model: ModuleModel, scope: Scope, func: cst.Attribute) -> bool:
    """Whether every call that built the receiver of `func` makes its method `func` quiet
    (`_QUIET_WHEN_BUILT`)."""
    built = model.building_calls(func.value, scope)
    if not built:
        return False
    for owner, call, call_scope, order in built:
        made = call.func.value if isinstance(call.func, cst.Subscript) else call.func
        qualname = owner.qualified_name(made, call_scope, order)  # also `ContextVar[str](...)`
        quiet = _QUIET_WHEN_BUILT.get((qualname or "", func.attr.value))
        if quiet is None or not quiet(call):
            return False
    return True


def _in_coroutine(scope: Scope) -> bool:
    function = scope.enclosing_function()
    return function is not None and function.is_async


def _spawn(model: ModuleModel, scope: Scope, call: cst.Call) -> bool:
    """`asyncio.create_task(coro(...))` in a coroutine: it only schedules the coroutine."""
    return model.qualified_name(call.func, scope) in _SPAWNS and _in_coroutine(scope)


def _handled_call(model: ModuleModel, scope: Scope, call: cst.Call, depth: int) -> bool:
    """A call to a project function that guards all of its own work."""
    if depth >= _MAX_DEPTH:
        return False
    target: Target | None = resolve_function_ref(model, call.func, scope, None)
    if target is None:
        return False
    # Kept by function and depth: the answer at a depth is the code's alone, whichever task
    # asked first (a pooled run's processes ask in their own order). Keyed by function
    # alone, a function first met deep in a chain, where the bound cut its search short,
    # answered False for every later call. A chain grows deeper each call: no cycle.
    known: dict[tuple[int, int], bool] = model.project.memo(f"{__name__}.guarded", dict)
    key = (id(target.function), depth)
    if key not in known:
        known[key] = not unguarded_work(target.model, target.function, depth + 1)
    return known[key]


def is_broad_handler(model: ModuleModel, scope: Scope, handler: cst.ExceptHandler) -> bool:
    """`except:`, `except Exception`, `except BaseException` or a tuple holding one."""
    caught = model.caught(handler, scope)
    return caught is None or any(name in _BROAD for name in caught)


class _Collector(OwnCodeVisitor):
    def __init__(self, model: ModuleModel, scope: Scope) -> None:
        self.model = model
        self.scope = scope
        self.guarded = 0
        self.unguarded: list[Work] = []
        self._passes_stop = False  # in a handler of only `_STOPS`: a bare `raise` is no error

    def visit_Try(self, node: cst.Try) -> bool:
        guards = any(
            is_broad_handler(self.model, self.scope, h) and not _raises(h) for h in node.handlers
        )
        self.guarded += guards
        walk(node.body, self)
        self.guarded -= guards
        for handler in node.handlers:
            passes_stop = self._passes_stop
            self._passes_stop = self._catches_only_stops(handler)
            walk(handler, self)
            self._passes_stop = passes_stop
        for part in (node.orelse, node.finalbody):
            if part is not None:
                walk(part, self)
        return False

    def _catches_only_stops(self, handler: cst.ExceptHandler) -> bool:
        """`except asyncio.CancelledError:` (or a tuple of such stops, `_STOPS`)."""
        caught = self.model.caught(handler, self.scope)
        return caught is not None and all(name in _STOPS for name in caught)

    def visit_Call(self, node: cst.Call) -> bool:
        if _spawn(self.model, self.scope, node):
            # Calling the coroutine function only creates the coroutine: its errors go to
            # the task. What its arguments compute runs here, and counts.
            for arg in node.args:
                coroutine = arg.value
                parts = (coroutine.func, *coroutine.args) if isinstance(coroutine, cst.Call) else ()
                for part in parts or (arg,):
                    walk(part, self)
            return False
        if _quiet(self.model, self.scope, node):
            return False  # `logger.info("%s", user.name.upper())` is still only logging
        if not (
            self.guarded
            or _quiet_method(self.model, self.scope, node)
            or built_plain_dataclass(self.model, node, self.scope) is not None
        ):
            self.unguarded.append(node)
        return True  # its arguments run here, and count

    def visit_Raise(self, node: cst.Raise) -> None:
        if not self.guarded and not (self._passes_stop and node.exc is None):
            self.unguarded.append(node)

    def visit_Await(self, node: cst.Await) -> None:
        if not self.guarded and not isinstance(node.expression, cst.Call):
            self.unguarded.append(node)


def _raises(handler: cst.ExceptHandler) -> bool:
    """Whether the handler raises again (a bare `raise` or a new exception)."""
    finder = _RaiseFinder()
    walk(handler.body, finder)
    return finder.found


class _RaiseFinder(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found = False

    def visit_Raise(self, node: cst.Raise) -> None:
        self.found = True

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False
