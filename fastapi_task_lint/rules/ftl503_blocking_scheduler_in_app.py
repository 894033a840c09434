"""FTL503: a `BlockingScheduler` in an app module or its lifespan blocks the server."""

from __future__ import annotations

from pathlib import Path

from fastapi_task_lint.rules.base import Rule, RuleContext, RuleDocs, quote
from fastapi_task_lint.semantics.lifespan import (
    STARTUP,
    call_contexts,
    creates_app,
    lifecycle,
)
from fastapi_task_lint.semantics.project import ProjectIndex
from fastapi_task_lint.semantics.schedulers import (
    SchedulerKind,
    may_hold_schedulers,
    may_start_scheduler_in,
    scheduler_subclasses,
    schedulers,
)


class BlockingSchedulerInApp(Rule):
    code = "FTL503"
    name = "blocking-scheduler-in-app"
    summary = "`BlockingScheduler` in a FastAPI app never lets the app start"
    triggers = (b"Scheduler", b"start", b"run_until_stopped")
    facts = (lifecycle, scheduler_subclasses)
    docs = RuleDocs(
        what=(
            "Flags the construction of an APScheduler 3.x `BlockingScheduler` (or a subclass) "
            "in a module that creates a FastAPI/Starlette app, and the start of a "
            "`BlockingScheduler` (or 4.x `run_until_stopped()`) in the lifespan or a startup "
            "handler, also through the functions they call."
        ),
        why=(
            "`BlockingScheduler.start()` runs the scheduler in the calling thread and returns "
            "only when it is shut down. Started in the lifespan or a startup handler, the app "
            "never finishes starting and serves no request; started at import, the server "
            "never even gets the app. In an app module it is one refactoring away from that."
        ),
        example="app = FastAPI()\nnightly = BlockingScheduler()  # FTL503\nnightly.start()",
        remedy=(
            "In the app, use an `AsyncIOScheduler` started and shut down by the lifespan "
            "(FTL501, FTL502); or run the `BlockingScheduler` in a process of its own "
            "(`python -m shop.nightly`)."
        ),
        references=(
            "https://apscheduler.readthedocs.io/en/3.x/userguide.html#choosing-the-right-scheduler-job-store-s-executor-s-and-trigger-s",
        ),
    )

    def wants(self, data: bytes, path: Path, project: ProjectIndex) -> bool:
        """A start call, or a scheduler built in a module that builds the app."""
        starts = may_start_scheduler_in(project, path, data)
        built_in_app = b"Scheduler" in data and (b"FastAPI" in data or b"Starlette" in data)
        return (starts or built_in_app) and may_hold_schedulers(data, project)

    def check(self, ctx: RuleContext) -> None:
        found = schedulers(ctx.model)
        in_app = creates_app(ctx.model)
        built_here = False
        for built in found.constructions:
            if built.type.kind is SchedulerKind.BLOCKING and in_app:
                built_here = True
                ctx.report(
                    built.call.node,
                    f"{quote(ctx.model.code_for(built.call.node))} builds a `BlockingScheduler` "
                    "in a module that creates a FastAPI app: its `start()` never returns, so "
                    "started with the app it keeps the app from serving; use an "
                    "`AsyncIOScheduler` started in the lifespan, or run it in its own process",
                )
        for start in found.starts:
            if not start.blocks:
                continue
            if built_here and start.type.kind is SchedulerKind.BLOCKING:
                continue  # reported where it is built
            if call_contexts(ctx.model, start.call) & STARTUP:
                ctx.report(
                    start.call.node,
                    f"{quote(ctx.model.code_for(start.call.node))} runs the scheduler in the "
                    "app's startup and never returns, so the app never starts serving; use "
                    "`start()` of an `AsyncIOScheduler` (4.x: `start_in_background()`)",
                )
