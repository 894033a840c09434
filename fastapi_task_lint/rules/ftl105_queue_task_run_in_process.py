"""FTL105: a Celery/Dramatiq/Taskiq task object scheduled with BackgroundTasks."""

from __future__ import annotations

import libcst as cst

from fastapi_task_lint.rules.base import NodeFix, Rule, RuleContext, RuleDocs, quote
from fastapi_task_lint.semantics.model import ModuleModel
from fastapi_task_lint.semantics.scheduling import (
    Mechanism,
    SchedulingSite,
    decorator_mechanism,
    task_object,
)
from fastapi_task_lint.semantics.wrappers import helper_names, shown_path

# How each durable queue is asked to run a task: the call that sends it to the broker.
_ENQUEUE = {
    Mechanism.CELERY: "delay",
    Mechanism.DRAMATIQ: "send",
    Mechanism.TASKIQ: "kiq",
    Mechanism.RQ: "delay",  # a function RQ's `@job(queue)` decorates
}


class QueueTaskRunInProcess(Rule):
    code = "FTL105"
    name = "queue-task-run-in-process"
    summary = "a Celery, Dramatiq, Taskiq or RQ task is run in the web process by BackgroundTasks"
    triggers = (b"add_task", b"BackgroundTask")
    facts = (helper_names,)
    fixable = "unsafe"
    docs = RuleDocs(
        what=(
            "Flags a durable-queue task object (a function decorated with Celery's "
            "`@app.task` or `@shared_task`, Dramatiq's `@actor`/`@broker.actor`, "
            "Taskiq's `@broker.task`, or RQ's `@job(queue)`) given to "
            "`BackgroundTasks.add_task` or "
            "`BackgroundTask(...)`, directly, through an aliased import, inside a "
            "`functools.partial`, or through a project helper that schedules its parameter."
        ),
        why=(
            "Starlette calls the task object like a plain function, after the response, in "
            "the web process. No message reaches the broker: no worker runs it, its retry, "
            "rate-limit and time-limit settings do nothing, and a restart or crash of the "
            "web process loses it. The decorator says the work was meant for the queue."
        ),
        example=(
            "@celery_app.task\n"
            "def render_receipt_pdf(order_id: int) -> None: ...\n\n"
            "background_tasks.add_task(render_receipt_pdf, order.id)  # FTL105"
        ),
        remedy=(
            "Send it to its queue: `render_receipt_pdf.delay(order.id)` (Celery), "
            "`actor.send(...)` (Dramatiq), `await task.kiq(...)` (Taskiq), `job.delay(...)` "
            "(RQ). If running in the "
            "web process was meant, schedule a plain function instead."
        ),
        fix_safety=(
            "Unsafe: the fix rewrites `add_task(task, a, b=1)` to `task.delay(a, b=1)` "
            "(Dramatiq: `.send`; Taskiq: `await task.kiq(...)`, offered only inside an "
            "`async def`). The work then runs on a worker, which must be running, with "
            "arguments the broker can serialize, and no longer after the response. It is "
            "offered only for a direct `add_task` call that names the task and passes no "
            "`partial`; `BackgroundTask(...)` objects and helper calls are left to you."
        ),
        references=(
            "https://docs.celeryq.dev/en/stable/userguide/calling.html",
            "https://dramatiq.io/guide.html",
            "https://taskiq-python.github.io/guide/getting-started.html",
            "https://fastapi.tiangolo.com/tutorial/background-tasks/#caveat",
        ),
    )

    def check(self, ctx: RuleContext) -> None:
        model = ctx.model
        for site in model.scheduling_sites:
            if not site.mechanism.in_process or site.callable is None:
                continue
            found = task_object(model, site.callable, site.callable_scope, site.callable_order)
            if found is None:
                continue
            queue = decorator_mechanism(*found)
            if queue is None:
                continue
            owner, function = found
            line = owner.position(function.node).start.line
            defined = f"{shown_path(owner.path)}:{line}"
            ctx.report(
                site.callable,
                _message(model, site, queue, defined),
                _fix(model, site, queue),
            )


def _message(model: ModuleModel, site: SchedulingSite, queue: Mechanism, defined: str) -> str:
    name = model.code_for(site.callable) if site.callable is not None else "the task"
    enqueue = _ENQUEUE[queue]
    awaited = "await " if queue is Mechanism.TASKIQ else ""
    return (
        f"{quote(name)} is {queue.with_article} task ({defined}), but {site.reference(model)} "
        f"runs it in the web process: no broker, no worker, no retries, and it is lost if "
        f"the process stops. Queue it with `{awaited}{name}.{enqueue}(...)`, or schedule a "
        f"plain function if in-process was meant"
    )


def _fix(model: ModuleModel, site: SchedulingSite, queue: Mechanism) -> NodeFix | None:
    """`add_task(task, a, b=1)` -> `task.delay(a, b=1)`, only where that is the whole change."""
    if site.mechanism is not Mechanism.BACKGROUND_TASKS or site.helper_site or site.partial:
        return None
    args = site.node.args
    if (
        not args
        or args[0].keyword is not None
        or args[0].star
        or args[0].value is not site.callable
    ):
        return None
    function = site.function
    if queue is Mechanism.TASKIQ and (function is None or not function.is_async):
        return None
    original = model.original(site.node)
    first, rest = original.args[0], list(original.args[1:])
    last = rest[-1].comma if rest else None
    if isinstance(last, cst.Comma) and not isinstance(
        last.whitespace_after, cst.ParenthesizedWhitespace
    ):
        rest[-1] = rest[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)  # `f(a, b,)` -> `(b)`
    # Arguments over several lines keep their lines, comments and trailing comma: the
    # line break after the task moves to after `(`.
    opening = original.whitespace_before_args
    if (
        rest
        and isinstance(first.comma, cst.Comma)
        and isinstance(first.comma.whitespace_after, cst.ParenthesizedWhitespace)
    ):
        opening = first.comma.whitespace_after
    enqueue = _ENQUEUE[queue]
    call = original.with_changes(
        func=cst.Attribute(model.original(site.callable), cst.Name(enqueue)),
        args=rest,
        whitespace_before_args=opening,
    )
    replacement: cst.BaseExpression = (
        cst.Await(call) if queue is Mechanism.TASKIQ and not site.call.awaited else call
    )
    name = model.code_for(site.callable)
    return NodeFix(
        f"Queue `{name}` with `.{enqueue}(...)`",
        "unsafe",
        ((site.node, replacement),),
    )
