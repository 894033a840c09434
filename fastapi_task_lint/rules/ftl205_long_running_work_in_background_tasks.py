"""FTL205: BackgroundTasks work that waits, retries or polls: it needs a durable queue."""

from __future__ import annotations

from pathlib import Path

import libcst as cst

from fastapi_task_lint.rules.base import Rule, RuleContext, RuleDocs
from fastapi_task_lint.semantics.builder import dotted_name
from fastapi_task_lint.semantics.project import ProjectIndex
from fastapi_task_lint.semantics.scheduling import Mechanism
from fastapi_task_lint.semantics.task_definitions import (
    ScheduledFunction,
    defines_tasks,
    task_scan,
    tasks_in,
)
from fastapi_task_lint.semantics.waits import (
    LONG_SLEEP_SECONDS,
    HelperWait,
    Wait,
    WaitKind,
    helper_waits,
    waits_in,
)

_IN_PROCESS = (Mechanism.BACKGROUND_TASKS, Mechanism.BACKGROUND_TASK)
_WHY: dict[WaitKind, str] = {
    WaitKind.LONG_SLEEP: "sleeps {seconds} s",
    WaitKind.RETRY_LOOP: "retries in a loop that catches an exception and sleeps",
    WaitKind.POLLING: "polls in a `while` loop that sleeps until something is done",
    WaitKind.RETRY_DECORATOR: "retries through its `{decorator}` decorator",
}


class LongRunningWorkInBackgroundTasks(Rule):
    code = "FTL205"
    name = "long-running-work-in-background-tasks"
    summary = "BackgroundTasks task sleeps, retries or polls: it needs a durable queue"
    triggers = (b"def",)  # the wait may lie in a helper of another module
    facts = (task_scan,)
    docs = RuleDocs(
        what=(
            "Flags work scheduled with `BackgroundTasks.add_task` or `BackgroundTask` whose "
            "body shows that it needs a durable queue: a `time.sleep`/`asyncio.sleep`/"
            f"`anyio.sleep` of {LONG_SLEEP_SECONDS} s or more (a literal, a constant, or "
            "arithmetic on them, also imported from another module); a retry loop (a `for`/"
            "`while` whose body catches an exception and sleeps); a polling loop (a `while` "
            "that sleeps until something is done); or a retry decorator on the task "
            "(`tenacity.retry`, `backoff.on_exception`/`on_predicate`, `stamina.retry`). "
            "The sleep call (or the decorator) is reported, in the file that defines the "
            "task. A call in the task to a project helper (or to a helper's helper, also in "
            "another module) that polls or sleeps that long is reported at the call, with "
            "the chain (`collect -> wait_for_job -> time.sleep`); a helper's retry loop or "
            "decorator is not (a client wrapper's few retries are its own business)."
        ),
        why=(
            "BackgroundTasks runs in the web process after the response: it has no retry, "
            "no persistence and no visibility. A deploy or restart kills the worker and "
            "uvicorn's graceful-shutdown timeout cancels the task midway; the retries and "
            "the wait are lost with it, and nothing records that the work never finished. "
            "A sync task also holds one of the threadpool's 40 threads while it sleeps."
        ),
        example=(
            "def push_to_warehouse(order_id: int) -> None:\n"
            "    for attempt in range(5):\n"
            "        try:\n"
            "            return post_shipment(order_id)\n"
            "        except httpx.HTTPError:\n"
            "            time.sleep(30 * attempt)  # FTL205"
        ),
        remedy="Queue it on a worker with retries (Celery, ARQ, Dramatiq):",
        use_instead=(
            "@celery_app.task(autoretry_for=(httpx.HTTPError,), retry_backoff=30, max_retries=5)\n"
            "def push_to_warehouse(order_id: int) -> None:\n"
            "    post_shipment(order_id)"
        ),
        references=(
            "https://fastapi.tiangolo.com/tutorial/background-tasks/#caveat",
            "https://docs.celeryq.dev/en/stable/userguide/tasks.html#automatic-retry-for-known-exceptions",
        ),
    )

    def wants(self, data: bytes, path: Path, project: ProjectIndex) -> bool:
        return super().wants(data, path, project) and defines_tasks(
            project, path, lambda use: use.in_process
        )

    def check(self, ctx: RuleContext) -> None:
        for task in tasks_in(ctx.model):
            if not task.uses_of(*_IN_PROCESS):
                continue
            for wait in waits_in(ctx.model, task.function):
                ctx.report(wait.node, _message(ctx, task, wait))
            for reached in helper_waits(ctx.model, task.function):
                ctx.report(reached.call.node, _helper_message(ctx, task, reached))


def _message(ctx: RuleContext, task: ScheduledFunction, wait: Wait) -> str:
    return _scheduled(task, _reasons(ctx, wait))


def _helper_message(ctx: RuleContext, task: ScheduledFunction, reached: HelperWait) -> str:
    sleep = reached.wait.node
    leaf = (dotted_name(sleep.func),) if isinstance(sleep, cst.Call) else ()
    chain = " -> ".join((task.function.name, *reached.names, *leaf))
    doing = (
        f"calls `{reached.names[0]}`, which {_reasons(ctx, reached.wait)} (`{chain}`)"
        if len(reached.names) == 1
        else f"reaches a helper that {_reasons(ctx, reached.wait)} (`{chain}`)"
    )
    return _scheduled(task, doing)


def _reasons(ctx: RuleContext, wait: Wait) -> str:
    """Why `wait` matters. Only a decorator, which is in the checked file, is quoted: a
    helper's sleep may lie in another module."""
    return " and ".join(
        _WHY[kind].format(
            seconds=_seconds(wait.seconds),
            decorator=_code(ctx, wait.node) if kind is WaitKind.RETRY_DECORATOR else "",
        )
        for kind in wait.kinds
    )


def _scheduled(task: ScheduledFunction, doing: str) -> str:
    use = task.uses_of(*_IN_PROCESS)[0]
    return (
        f"`{task.function.name}` runs in BackgroundTasks (scheduled with {use.label}) and "
        f"{doing}: BackgroundTasks has no retry or persistence and a deploy "
        "cancels it midway; queue it on Celery, ARQ or Dramatiq with retries"
    )


def _seconds(value: float | None) -> str:
    if value is None:
        return "a long time"
    return str(int(value)) if value == int(value) else str(value)


def _code(ctx: RuleContext, node: cst.CSTNode) -> str:
    target = node.func if isinstance(node, cst.Call) else node
    return f"@{ctx.model.code_for(target)}"
