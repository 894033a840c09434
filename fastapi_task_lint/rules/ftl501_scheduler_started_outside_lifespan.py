"""FTL501: a scheduler is started at import time, in a startup event, or away from the lifespan."""

from __future__ import annotations

from pathlib import Path

from fastapi_task_lint.rules.base import Rule, RuleContext, RuleDocs, quote
from fastapi_task_lint.semantics.lifespan import (
    Context,
    call_contexts,
    hook_for,
    imports_fastapi,
    lifecycle,
    shows_lifecycle,
)
from fastapi_task_lint.semantics.project import ProjectIndex
from fastapi_task_lint.semantics.schedulers import (
    SchedulerCall,
    may_hold_schedulers,
    may_start_scheduler_in,
    scheduler_subclasses,
    schedulers,
)

_LIFESPAN = frozenset({Context.LIFESPAN_STARTUP, Context.LIFESPAN_SHUTDOWN})


class SchedulerStartedOutsideLifespan(Rule):
    code = "FTL501"
    name = "scheduler-started-outside-lifespan"
    summary = "APScheduler scheduler started outside the app's lifespan"
    triggers = (b"start", b"run_until_stopped")
    facts = (lifecycle, scheduler_subclasses)
    docs = RuleDocs(
        what=(
            "Flags `.start()` (4.x: `.start_in_background()`) of an "
            "APScheduler scheduler, resolved by import, when it runs at module level, in an "
            '`@app.on_event("startup")` handler (or a function it calls), or in a function of '
            "a FastAPI module that the app's lifespan does not call (followed three calls "
            "deep, across modules; only when the run shows that app's lifespan or startup "
            "handlers, registered in a module imported from the same directory, or when the "
            "function is a route handler). Starts under "
            '`if __name__ == "__main__":`, inside '
            "`with`/`async with` the scheduler, and blocking starts (`BlockingScheduler`, "
            "4.x `run_until_stopped()`: FTL503, or a process of their own) are not flagged."
        ),
        why=(
            "A module-level start runs on every import: in each worker process, in tests, in "
            "CLI scripts and migrations, so jobs run several times at once. "
            "`AsyncIOScheduler.start()` at import raises `RuntimeError: no running event "
            "loop`. `on_event` is deprecated in favour of the lifespan, and a start away from "
            "the lifespan has no matching shutdown."
        ),
        example=(
            "scheduler = BackgroundScheduler()\n"
            'scheduler.add_job(purge_audit_events, "cron", hour=4)\n'
            "scheduler.start()  # FTL501"
        ),
        use_instead=(
            "@asynccontextmanager\n"
            "async def lifespan(app: FastAPI):\n"
            "    scheduler.start()\n"
            "    yield\n"
            "    scheduler.shutdown()\n"
            "\n"
            "\n"
            "app = FastAPI(lifespan=lifespan)"
        ),
        references=(
            "https://fastapi.tiangolo.com/advanced/events/",
            "https://apscheduler.readthedocs.io/en/3.x/userguide.html#starting-the-scheduler",
        ),
    )

    def wants(self, data: bytes, path: Path, project: ProjectIndex) -> bool:
        return (
            super().wants(data, path, project)
            and may_start_scheduler_in(project, path, data)
            and may_hold_schedulers(data, project)
        )

    def check(self, ctx: RuleContext) -> None:
        for start in schedulers(ctx.model).starts:
            if start.blocks or start.managed:
                continue
            contexts = call_contexts(ctx.model, start.call)
            if contexts & _LIFESPAN or Context.MAIN in contexts:
                continue
            where = _where(ctx, start, contexts)
            if where is not None:
                started = quote(ctx.model.code_for(start.call.node))
                ctx.report(
                    start.call.node,
                    f"{started} starts the `{start.type.name}` {where}; start it in the app's "
                    "lifespan (before `yield`) and shut it down after `yield`",
                )


def _where(ctx: RuleContext, start: SchedulerCall, contexts: frozenset[Context]) -> str | None:
    if Context.IMPORT in contexts:
        return "at import time, in every process and test that imports this module"
    function = start.call.scope.enclosing_function()
    if function is None:
        return None
    if Context.STARTUP_EVENT in contexts:
        hook = hook_for(ctx.model, function)
        handler = hook.describe() if hook else "startup handler"
        if hook is None or hook.function is function:
            return f"in the deprecated {handler}"
        return f"in `{function.name}`, called from the deprecated {handler}"
    if contexts or not imports_fastapi(ctx.model):
        return None
    if any(route.function is function for route in ctx.model.routes):
        return f"in the route handler `{function.name}`, once per request"
    if shows_lifecycle(ctx.model):
        return f"in `{function.name}`, which the app's lifespan does not call"
    return None  # the run does not show this app's lifecycle: the caller may be in it
