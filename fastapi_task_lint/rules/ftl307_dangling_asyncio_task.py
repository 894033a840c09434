"""FTL307: an asyncio task that nothing keeps a reference to."""

from __future__ import annotations

import libcst as cst

from fastapi_task_lint.rules.base import Rule, RuleContext, RuleDocs
from fastapi_task_lint.semantics.asyncio_tasks import (
    SPAWN_TRIGGERS,
    Fate,
    SpawnFate,
    TaskSpawn,
    spawn_fate,
)
from fastapi_task_lint.semantics.callgraph import resolve_function_ref
from fastapi_task_lint.semantics.exceptions import unguarded_work


class DanglingAsyncioTask(Rule):
    code = "FTL307"
    name = "dangling-asyncio-task"
    summary = "asyncio task started and not kept: it can be garbage-collected mid-run"
    triggers = SPAWN_TRIGGERS
    docs = RuleDocs(
        what=(
            "Flags `asyncio.create_task(...)`, `asyncio.ensure_future(...)`, "
            "`loop.create_task(...)` and `asyncio.run_coroutine_threadsafe(...)` (a thread "
            "handing the loop a project coroutine with work no broad `except` covers, as "
            "FTL203 tests a task) whose result is discarded (also after "
            "`.add_done_callback(...)`, and when a lambda given as a callback returns it: "
            "`task.add_done_callback(lambda t: asyncio.create_task(cleanup()))`, "
            "`loop.call_soon(lambda: ...)`, whose return value the loop drops), or kept only "
            "in a local variable or a local list, set, dict or deque that "
            "nothing reads for later (only `add_done_callback`, `append`, ...). Not flagged: a "
            "task that is awaited, returned, stored on an object or in a module-level "
            "collection, passed to another call (`asyncio.gather`, `set.add`, a project helper, "
            "the `add` of a local task manager, which may keep it), "
            "created by a `TaskGroup`, `ensure_future(task)` of a task that already exists (it "
            "returns that task), or a `create_task` that is not asyncio's (resolved by "
            "name, so a project `spawn`/`create_task` wrapper is not flagged)."
        ),
        why=(
            "The event loop keeps only a weak reference to a task. When the last strong "
            "reference goes away, the task can be garbage-collected before it finishes, so the "
            "work stops silently; and an exception it raises is only logged as 'Task exception "
            "was never retrieved', if at all. In a request handler this looks like work that "
            "'sometimes does not happen'. `run_coroutine_threadsafe` passes the task's "
            "exception to the `concurrent.futures.Future` it returns, which logs nothing when "
            "dropped: the failure leaves no trace at all."
        ),
        example=(
            '@router.post("/cache/purge")\n'
            "async def purge(paths: list[str]) -> dict[str, str]:\n"
            "    asyncio.create_task(purge_cdn(paths))  # FTL307\n"
            '    return {"detail": "purge requested"}'
        ),
        remedy=(
            "Keep a reference until the task is done (or, when the work must survive a "
            "restart, use a durable queue: Celery, ARQ, Dramatiq):"
        ),
        use_instead=(
            "_running: set[asyncio.Task[None]] = set()\n"
            "\n"
            "\n"
            "def spawn(coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:\n"
            "    task = asyncio.create_task(coro)\n"
            "    _running.add(task)\n"
            "    task.add_done_callback(_running.discard)\n"
            "    return task"
        ),
        references=(
            "https://docs.python.org/3/library/asyncio-task.html#asyncio.create_task",
            "https://textual.textualize.io/blog/2023/02/11/the-heisenbug-lurking-in-your-async-code/",
        ),
    )

    def check(self, ctx: RuleContext) -> None:
        for spawn in ctx.model.task_spawns:
            if spawn.from_thread and not _may_fail(ctx, spawn):
                continue
            fate = spawn_fate(spawn)
            if fate.fate is not Fate.KEPT:
                ctx.report(spawn.node, _message(ctx, spawn, fate))


def _may_fail(ctx: RuleContext, spawn: TaskSpawn) -> bool:
    """Whether the coroutine `run_coroutine_threadsafe` hands over is a project function's
    whose body has work no broad handler covers (FTL203's test). Only its failure is lost:
    the loop keeps the task while it runs or waits, as it does its own tasks, and a
    coroutine that reports its own outcome (a call's future it sets) loses nothing."""
    coroutine = spawn.coroutine
    if not isinstance(coroutine, cst.Call):
        return False
    call = spawn.call
    target = resolve_function_ref(ctx.model, coroutine.func, call.scope, call.order)
    return target is not None and bool(unguarded_work(target.model, target.function))


def _message(ctx: RuleContext, spawn: TaskSpawn, fate: SpawnFate) -> str:
    started = f"`{spawn.api}(...)`"
    if fate.fate is Fate.DISCARDED:
        kept = "its result is discarded"
    else:
        kept = (
            f"it is kept only in the local `{fate.holder}`, which nothing holds on to once "
            "the function returns"
        )
    if spawn.from_thread:
        return (
            f"{started} hands a coroutine to the event loop and {kept}: the task's exception "
            "goes to that result, a `concurrent.futures.Future` that never logs it, so a "
            "failure leaves no trace; keep the future and check `future.exception()` in a "
            "done-callback, or wait for `future.result()`"
        )
    return (
        f"{started} starts a task and {kept}: the event loop keeps only a weak reference, so "
        "the task can be garbage-collected mid-run and its exception is lost; keep it in a "
        "module-level set with `add_done_callback(set.discard)`, await it, or use a durable "
        "queue"
    )
