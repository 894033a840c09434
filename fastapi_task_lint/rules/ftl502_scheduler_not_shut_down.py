"""FTL502: a scheduler started for the app is never shut down when the app stops."""

from __future__ import annotations

from pathlib import Path

from fastapi_task_lint.rules.base import Rule, RuleContext, RuleDocs, quote
from fastapi_task_lint.semantics.lifespan import (
    STARTUP,
    Context,
    call_contexts,
    lifecycle,
    object_keys,
    release_calls,
)
from fastapi_task_lint.semantics.project import ProjectIndex
from fastapi_task_lint.semantics.schedulers import (
    STOP_METHODS,
    SchedulerCall,
    SchedulerKind,
    may_hold_schedulers,
    may_start_scheduler_in,
    scheduler_subclasses,
    schedulers,
)


class SchedulerNotShutDown(Rule):
    code = "FTL502"
    name = "scheduler-not-shut-down"
    summary = "scheduler started for the app but never shut down"
    triggers = (b"start", b"run_until_stopped")
    facts = (lifecycle, scheduler_subclasses)
    docs = RuleDocs(
        what=(
            "Flags the `.start()` of an APScheduler scheduler started in the lifespan (or a "
            'function it calls) or in an `on_event("startup")` handler when no `.shutdown()` '
            "(4.x: `.stop()`) of the same scheduler runs after the lifespan's `yield` (a "
            "`finally` included), in a shutdown handler, in `atexit.register(...)` or in a "
            "function whose caller is unknown (also through a helper it is handed to, "
            "`stop_jobs(scheduler)`, or on what the helper that starts it returns, "
            "`s = start_jobs()` then `s.shutdown()`, or on the scheduler a helper is "
            "handed and starts, `start_jobs(scheduler)` with `s.start()`; only code of the "
            "same application, "
            "imported from the same directory, counts; so does a receiver it cannot name, "
            "`registry[key].shutdown()`, but for one typed as a project class with its own "
            "`stop`/`shutdown`, `players[did].stop()`); and a start at module level when "
            "nothing shuts that scheduler down at all. Schedulers used as context managers "
            "(`async with AsyncScheduler() as s`) and blocking starts (`BlockingScheduler`, "
            "4.x `run_until_stopped()`) are not flagged. The lifespan is the one given to "
            "`FastAPI(lifespan=...)` or a project subclass of `FastAPI`, also wrapped in "
            "`functools.partial(lifespan, ...)`, through an app factory's parameter "
            "(`app = create_app(lifespan=lifespan)`, one level deep), a `def` nested in the "
            "app factory, the one a factory's call makes (`lifespan=build_lifespan()`), or "
            "one set on the router (`app.router.lifespan_context = lifespan`)."
        ),
        why=(
            "Without a shutdown the scheduler's threads keep firing jobs while the app stops: "
            "jobs are cut off mid-run when the process exits, they touch connection pools "
            "the lifespan already closed, and test runs leak one scheduler per app started."
        ),
        example=(
            "@asynccontextmanager\n"
            "async def lifespan(app: FastAPI):\n"
            "    scheduler.start()  # FTL502\n"
            "    yield"
        ),
        use_instead=(
            "@asynccontextmanager\n"
            "async def lifespan(app: FastAPI):\n"
            "    scheduler.start()\n"
            "    try:\n"
            "        yield\n"
            "    finally:\n"
            "        scheduler.shutdown()"
        ),
        references=(
            "https://apscheduler.readthedocs.io/en/3.x/userguide.html#shutting-down-the-scheduler",
            "https://fastapi.tiangolo.com/advanced/events/",
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
            at_import = Context.IMPORT in contexts
            if not (at_import or contexts & STARTUP):
                continue
            call = start.call
            keys = object_keys(ctx.model, start.receiver, call.scope, call.order)
            if keys is None or release_calls(ctx.model, keys, STOP_METHODS, anywhere=at_import):
                continue
            stop = f"`{ctx.model.code_for(start.receiver)}.{_stop_method(start)}()`"
            if at_import:
                when, fix = "nothing shuts it down", f"start it in the lifespan and call {stop}"
            elif Context.LIFESPAN_STARTUP in contexts:
                when = "nothing shuts it down after the lifespan's `yield`"
                fix = f"call {stop} after `yield` (in a `finally`)"
            else:
                when = "no shutdown handler shuts it down"
                fix = f"call {stop} in a shutdown handler, or move both into the lifespan"
            ctx.report(
                call.node,
                f"{quote(ctx.model.code_for(call.node))} starts the `{start.type.name}` but "
                f"{when}: its jobs keep running while the app stops; {fix}",
            )


def _stop_method(start: SchedulerCall) -> str:
    return "stop" if start.type.kind is SchedulerKind.V4 else "shutdown"
