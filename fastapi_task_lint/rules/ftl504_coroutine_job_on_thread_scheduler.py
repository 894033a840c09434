"""FTL504: an `async def` job on a 3.x thread-based scheduler is called but never awaited."""

from __future__ import annotations

from pathlib import Path

from fastapi_task_lint.rules.base import Rule, RuleContext, RuleDocs, quote
from fastapi_task_lint.semantics.project import ProjectIndex
from fastapi_task_lint.semantics.schedulers import (
    SchedulerKind,
    may_hold_schedulers,
    scheduler_subclasses,
    schedulers,
)

_THREAD_KINDS = frozenset({SchedulerKind.THREAD, SchedulerKind.BLOCKING})


class CoroutineJobOnThreadScheduler(Rule):
    code = "FTL504"
    name = "coroutine-job-on-thread-scheduler"
    summary = "`async def` job on a thread-based scheduler never runs"
    triggers = (b"add_job", b"add_schedule", b"scheduled_job")
    facts = (scheduler_subclasses,)
    docs = RuleDocs(
        what=(
            "Flags an `async def` function (also inside `functools.partial`) registered with "
            "`add_job(...)` or `@scheduler.scheduled_job(...)` on an APScheduler 3.x "
            "`BackgroundScheduler`, `BlockingScheduler`, `GeventScheduler`, "
            "`TwistedScheduler` or `QtScheduler`, resolved by import. Jobs given an explicit "
            "`executor=` are not flagged."
        ),
        why=(
            "These schedulers run jobs in thread (or greenlet) executors that call the "
            "function and never await the result. Calling an `async def` only creates a "
            'coroutine: APScheduler logs "executed successfully", Python warns '
            '"coroutine ... was never awaited", and the job\'s body never runs.'
        ),
        example=(
            "scheduler = BackgroundScheduler()\n"
            'scheduler.add_job(refresh_exchange_rates, "interval", hours=1)  # async def'
        ),
        use_instead=(
            "scheduler = AsyncIOScheduler()  # started in the lifespan\n"
            'scheduler.add_job(refresh_exchange_rates, "interval", hours=1)'
        ),
        references=(
            "https://apscheduler.readthedocs.io/en/3.x/modules/executors/asyncio.html",
            "https://apscheduler.readthedocs.io/en/3.x/userguide.html#choosing-the-right-scheduler-job-store-s-executor-s-and-trigger-s",
        ),
    )

    def wants(self, data: bytes, path: Path, project: ProjectIndex) -> bool:
        return super().wants(data, path, project) and may_hold_schedulers(data, project)

    def check(self, ctx: RuleContext) -> None:
        for job in schedulers(ctx.model).jobs:
            if job.type.kind not in _THREAD_KINDS or job.executor is not None:
                continue
            if job.function is None or not job.function.is_async:
                continue
            name = job.function.name
            ctx.report(
                job.node if job.decorator else job.target,
                f"`{name}` is `async def` but {quote(ctx.model.code_for(job.node))} gives it to "
                f"a `{job.type.name}`, whose thread executor calls it and never awaits the "
                f"coroutine: the job logs success and `{name}` never runs; use an "
                "`AsyncIOScheduler`, or a sync function",
            )
