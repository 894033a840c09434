"""FTL505: an endless loop started as a task at startup is never cancelled at shutdown."""

from __future__ import annotations

import libcst as cst

from fastapi_task_lint.rules.base import Rule, RuleContext, RuleDocs, code_label
from fastapi_task_lint.semantics.asyncio_tasks import (
    SPAWN_TRIGGERS,
    Fate,
    TaskSpawn,
    spawn_fate,
)
from fastapi_task_lint.semantics.callgraph import resolve_function_ref
from fastapi_task_lint.semantics.functions import FunctionInfo
from fastapi_task_lint.semantics.lifespan import (
    STARTUP,
    call_contexts,
    function_contexts,
    lifecycle,
    object_keys,
    periodic_loop,
    release_calls,
    repeat_decorator,
    repeat_wrapped,
)
from fastapi_task_lint.semantics.uses import is_local, local_uses

_CANCEL = frozenset({"cancel"})


class LoopTaskNeverCancelled(Rule):
    code = "FTL505"
    name = "loop-task-never-cancelled"
    summary = "periodic loop task started at startup is never cancelled"
    triggers = (*SPAWN_TRIGGERS, b"repeat_every")
    facts = (lifecycle,)
    docs = RuleDocs(
        what=(
            "Flags `asyncio.create_task(...)`/`ensure_future(...)` in the lifespan (before "
            '`yield`) or an `on_event("startup")` handler, also through the functions they '
            "call, when the task runs an `async def` (a function, or a method of an instance: "
            "`monitor.update_stats()`, `self.refresh()`) with a `while True:` loop that sleeps "
            "each round and has no `break`/`return`, and nothing calls `.cancel()` on the "
            "task after `yield` or in a shutdown handler (also through a helper handed the "
            "task or the object it is kept on, or on the task a helper that starts it "
            "returns or keeps on the object it is handed, `start(client)` with "
            "`c.monitor_task = create_task(...)`). Also flags `@repeat_every(...)` "
            "(fastapi-utils, fastapi-utilities) on a function the startup runs, or the "
            "call that runs one it wraps as a call (`f = repeat_every(seconds=60)(f)`): it "
            "starts such a loop and discards the task. Tasks handed to other code (a set, a "
            "function, a `TaskGroup`) are not flagged, nor is a task that the function "
            "keeping it in a local cancels itself (in its `finally` or `except "
            "CancelledError:`; not the lifespan): it lives as long as that function. A "
            "local that is only tested (`assert task is not None`) hands it to nobody. The "
            "lifespan is found as FTL502 finds it: also given to a project subclass of "
            "`FastAPI`, wrapped in `functools.partial`, through an app factory's parameter "
            "(`app = create_app(lifespan=lifespan)`), nested in the factory, made by a "
            "factory's call, or set as `app.router.lifespan_context`."
        ),
        why=(
            "The loop never ends by itself. At shutdown the server waits for the lifespan, "
            "then the event loop is closed with the task still pending: shutdown hangs until "
            "the server's timeout, or the task is destroyed mid-iteration (half-written "
            "state, `Task was destroyed but it is pending!`). In tests each app start leaks "
            "another loop."
        ),
        example=(
            "@asynccontextmanager\n"
            "async def lifespan(app: FastAPI):\n"
            "    asyncio.create_task(refresh_forever())  # FTL505\n"
            "    yield"
        ),
        use_instead=(
            "@asynccontextmanager\n"
            "async def lifespan(app: FastAPI):\n"
            "    refresher = asyncio.create_task(refresh_forever())\n"
            "    yield\n"
            "    refresher.cancel()\n"
            "    with contextlib.suppress(asyncio.CancelledError):\n"
            "        await refresher"
        ),
        references=(
            "https://fastapi.tiangolo.com/advanced/events/",
            "https://docs.python.org/3/library/asyncio-task.html#asyncio.Task.cancel",
        ),
    )

    def check(self, ctx: RuleContext) -> None:
        for spawn in ctx.model.task_spawns:
            if not call_contexts(ctx.model, spawn.call) & STARTUP:
                continue
            loop_function = _loop_function(ctx, spawn)
            if loop_function is None or not _never_cancelled(ctx, spawn):
                continue
            ctx.report(
                spawn.node,
                f"{code_label(ctx.model, spawn.node)} starts the endless loop of "
                f"`{loop_function.name}` at startup and nothing cancels it at shutdown: "
                "shutdown waits on it or kills it mid-iteration; keep the task and "
                "`cancel()` it after `yield`",
            )
        for function in ctx.model.functions:
            decorator = repeat_decorator(ctx.model, function)
            if decorator is not None and function_contexts(ctx.model, function) & STARTUP:
                ctx.report(decorator, _repeat_message(ctx, function.name, decorator))
        if ctx.model.spells((b"repeat_every",)):
            for call in ctx.model.calls:
                wrapper = repeat_wrapped(ctx.model, call)
                if wrapper is not None and call_contexts(ctx.model, call) & STARTUP:
                    name = ctx.model.code_for(call.node.func)
                    ctx.report(call.node, _repeat_message(ctx, name, wrapper))


def _repeat_message(ctx: RuleContext, name: str, repeat: cst.BaseExpression) -> str:
    return (
        f"`{name}` runs at startup under {code_label(ctx.model, repeat)}, "
        "which starts an endless task and drops it, so shutdown cannot cancel it; "
        "start the loop with `asyncio.create_task` in the lifespan and `cancel()` "
        "it after `yield`"
    )


def _loop_function(ctx: RuleContext, spawn: TaskSpawn) -> FunctionInfo | None:
    """The `async def` the task runs, when its body is a periodic endless loop."""
    coroutine = spawn.coroutine
    if not isinstance(coroutine, cst.Call):
        return None
    call = spawn.call
    # A function, or a method of an instance (`monitor.update_stats()`, `self.refresh()`).
    found = resolve_function_ref(ctx.model, coroutine.func, call.scope, call.order)
    if found is None or periodic_loop(found.model, found.function) is None:
        return None
    return found.function


def _never_cancelled(ctx: RuleContext, spawn: TaskSpawn) -> bool:
    target = spawn.stored_in()
    if target is None:
        return spawn_fate(spawn).fate is not Fate.KEPT
    if _cancelled_by_starter(spawn, target):
        return False
    keys = object_keys(ctx.model, target, spawn.call.scope, spawn.call.order)
    return keys is not None and not release_calls(ctx.model, keys, _CANCEL)


def _cancelled_by_starter(spawn: TaskSpawn, target: cst.BaseExpression) -> bool:
    """Whether the function that keeps the task in a local cancels it itself (in its
    `finally`, or when it is cancelled): the task then lives as long as that function runs,
    and it is that function's loop that shutdown must stop. Not the lifespan (a generator),
    whose cancels count after its `yield` only (`release_calls`)."""
    function = spawn.call.scope.enclosing_function()
    if (
        function is None
        or function.yield_values
        or not isinstance(target, cst.Name)
        or not is_local(function, target.value)
    ):
        return False
    return any(
        (method := use.method_call()) is not None and method[0] in _CANCEL
        for use in local_uses(function, target.value)
    )
