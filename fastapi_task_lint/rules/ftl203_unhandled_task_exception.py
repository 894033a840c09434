"""FTL203: a BackgroundTasks task can raise and nothing in it catches the exception."""

from __future__ import annotations

import fnmatch
from pathlib import Path

import libcst as cst

from fastapi_task_lint.config import RuleOption
from fastapi_task_lint.rules.base import Rule, RuleContext, RuleDocs, code_label
from fastapi_task_lint.semantics.background import adds_to_unrun_tasks
from fastapi_task_lint.semantics.exceptions import Work, unguarded_work
from fastapi_task_lint.semantics.guards import ruled_out, runs, task_context
from fastapi_task_lint.semantics.project import ProjectIndex
from fastapi_task_lint.semantics.scheduling import Mechanism
from fastapi_task_lint.semantics.task_definitions import (
    ScheduledFunction,
    TaskUse,
    defines_tasks,
    task_scan,
    tasks_in,
)

ERROR_HANDLING_DECORATORS = RuleOption(
    "error-handling-decorators",
    list,
    [],
    "Qualified names (or patterns) of decorators that catch and report a task's exceptions, "
    "e.g. `app.observability.report_errors`; a task decorated with one is not reported.",
)


_IN_PROCESS = (Mechanism.BACKGROUND_TASKS, Mechanism.BACKGROUND_TASK)


class UnhandledTaskException(Rule):
    code = "FTL203"
    name = "unhandled-task-exception"
    summary = "BackgroundTasks task can raise with nothing to catch the exception"
    # The task's `def` may be in a module that never mentions BackgroundTasks: whether it
    # is scheduled is asked of the project's task index.
    triggers = (b"def",)
    facts = (task_scan,)
    options = (ERROR_HANDLING_DECORATORS,)
    docs = RuleDocs(
        what=(
            "Flags a function scheduled with `BackgroundTasks.add_task` or `BackgroundTask` "
            "(anywhere in the run, also as a bound method or through `functools.partial`; "
            "not a `BackgroundTasks` a handler builds and never runs, FTL305's finding) "
            "whose body calls something, raises, or awaits a task or future (`await task` "
            "re-raises its exception) outside a `try` with an `except "
            "Exception`, `except BaseException` or bare `except` that does not raise again. "
            "Calls that cannot fail do not count: logging, `print`, checks such as `len`, "
            "`isinstance`, `issubclass`, `hasattr`, `callable`, `id`, `time.sleep`, the "
            "clocks (`time.time`, `time.monotonic`, `time.perf_counter`, `datetime.now`), "
            "`inspect.is...`, `os.getenv` and `os.environ.get`, building a SQLAlchemy or "
            "SQLModel `Session`/`AsyncSession` (it connects on its first query; also a "
            "session factory's call, `SessionLocal()`) or an "
            "`asyncio` semaphore, lock, event, condition or queue, building "
            "a project "
            "`@dataclass` with no base class and no "
            "`__post_init__` (its arguments still count), "
            "`cancel()`/`done()`/`cancelled()` on a known `asyncio` task, `release()` of an "
            "`asyncio.Semaphore`, `set()`/`clear()` of an `asyncio.Event`, printing with a "
            "`rich` `Console` (and `rich.markup.escape`), `traceback.format_exc`/"
            "`print_exc`/`format_exception`, `get`/`keys`/"
            "`values`/`items`/`setdefault`/`update` of a `dict` and `pop` with a default, "
            "`append` of a `list` or a `deque`, `add` of a `set`, `ContextVar.set` and "
            "`get` with a default (typed by annotation or value; the arguments of all these "
            "still count), `get()` of a `ContextVar` built with a `default=` and `put`/"
            "`put_nowait` of an `asyncio.Queue` built without a size (as the code that "
            "built them shows: a name or an attribute every assignment builds so), a bare "
            "`raise` in an `except asyncio.CancelledError:` (the task "
            "is being cancelled, not failing), and, in an "
            "`async def`, `asyncio.get_running_loop()` (or `get_event_loop`, `current_task`), "
            "`asyncio.create_task`/`ensure_future` (the coroutine's errors go to the task; "
            "its arguments still count), `anyio.CancelScope(...)` and `asyncio.sleep` (it "
            "raises only `CancelledError`). Nor do calls in a branch that the arguments every "
            "`add_task` of the task agrees on rule out (`add_task(serve, show_banner=False)` "
            "skips `if show_banner:`; see FTL201), nor calls to project "
            "functions that "
            "guard all their own work, so a task whose body is one call to such a function "
            "is not reported. A decorator listed in `error-handling-decorators` marks the "
            "task as handled. Celery, ARQ, Dramatiq, RQ and Taskiq tasks are not reported: "
            "their workers record failures and retry. The finding is reported at the task's "
            "`def`, once, whatever the number of places that schedule it."
        ),
        why=(
            "Starlette runs a response's background tasks one after another. An exception "
            "skips every later task of that response, and reaches the server only as an "
            '"Exception in ASGI application" log line after the client already got its 200: '
            "nobody is told the work was lost. On FastAPI 0.118+ the exception is also "
            "re-raised into `yield` dependencies, so code after their `yield` (a commit, a "
            "cleanup) does not run."
        ),
        example=(
            "def sync_newsletter(email: str) -> None:  # FTL203\n"
            '    httpx.put(f"{API}/members/{email}").raise_for_status()\n\n'
            "background_tasks.add_task(sync_newsletter, user.email)"
        ),
        remedy=(
            "Catch, log and report the failure inside the task (or queue it on a worker that "
            "retries):"
        ),
        use_instead=(
            "def sync_newsletter(email: str) -> None:\n"
            "    try:\n"
            '        httpx.put(f"{API}/members/{email}").raise_for_status()\n'
            "    except Exception:\n"
            '        logger.exception("newsletter sync for %s failed", email)'
        ),
        references=(
            "https://www.starlette.io/background/",
            "https://fastapi.tiangolo.com/tutorial/dependencies/dependencies-with-yield/",
        ),
    )

    def wants(self, data: bytes, path: Path, project: ProjectIndex) -> bool:
        return super().wants(data, path, project) and defines_tasks(
            project, path, lambda use: use.in_process
        )

    def check(self, ctx: RuleContext) -> None:
        decorators = tuple(ctx.option(ERROR_HANDLING_DECORATORS))
        for task in tasks_in(ctx.model):
            if task.queue is not None or not _run_in_process(task):
                continue  # a queue task run in-process is FTL105's finding
            if _has_handling_decorator(ctx, task, decorators):
                continue
            work = _reachable(task, unguarded_work(ctx.model, task.function))
            if work and isinstance(task.function.node, cst.FunctionDef):
                ctx.report(task.function.node.name, _message(ctx, task, work[0]))


def _reachable(task: ScheduledFunction, work: list[Work]) -> list[Work]:
    """`work` but for calls in branches the task's arguments rule out (`guards`)."""
    known = task_context(task.model, task.function, task.uses)
    spans = ruled_out(task.model, task.function, known)
    if not spans:
        return work
    dead = {id(call.node) for call in task.function.calls if not runs(call, spans)}
    return [node for node in work if id(node) not in dead]


def _has_handling_decorator(
    ctx: RuleContext, task: ScheduledFunction, patterns: tuple[str, ...]
) -> bool:
    for decorator in task.function.decorators:
        qualname = ctx.model.decorator_name(decorator, task.function.parent_scope)
        if qualname and any(fnmatch.fnmatchcase(qualname, p) for p in patterns):
            return True
    return False


def _run_in_process(task: ScheduledFunction) -> list[TaskUse]:
    """Where `task` is scheduled in-process, but for a `BackgroundTasks` that never runs
    (built in a handler and dropped: FTL305's finding)."""
    return [
        use
        for use in task.uses_of(*_IN_PROCESS)
        if use.model is None or use.node is None or not adds_to_unrun_tasks(use.model, use.node)
    ]


def _message(ctx: RuleContext, task: ScheduledFunction, first: Work) -> str:
    name = task.function.name
    uses = _run_in_process(task)
    use = uses[0]
    line = ctx.model.position(first).start.line
    if all(u.mechanism is Mechanism.BACKGROUND_TASK for u in uses):
        # A response's single `BackgroundTask`: no later task of it to skip.
        runs, skipped = "runs as a response's `BackgroundTask`", "the rest of the task"
    else:
        runs, skipped = "runs in BackgroundTasks", "the response's later tasks"
    return (
        f"`{name}` {runs} (scheduled with {use.label}) and "
        f"{code_label(ctx.model, first)} (line {line}) can raise with nothing to catch "
        f"it: the error skips {skipped} and shows only as a server log line "
        "after the client got its response; wrap the work in `try`/`except Exception` and "
        "log or report the failure"
    )
