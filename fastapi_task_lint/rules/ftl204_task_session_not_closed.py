"""FTL204: a task opens a DB session that some path leaves open, or shares a module-level one."""

from __future__ import annotations

from pathlib import Path

from fastapi_task_lint.rules.base import Rule, RuleContext, RuleDocs, quote
from fastapi_task_lint.semantics.project import ProjectIndex
from fastapi_task_lint.semantics.session_lifetimes import shared_sessions, unclosed_sessions
from fastapi_task_lint.semantics.task_definitions import (
    ScheduledFunction,
    defines_tasks,
    may_register_tasks,
    task_scan,
    tasks_in,
)


class TaskSessionNotClosed(Rule):
    code = "FTL204"
    name = "task-session-not-closed"
    summary = "task opens a DB session without closing it on every path"
    # The task's `def` may be in a module that never mentions how it is scheduled.
    triggers = (b"def",)
    facts = (task_scan,)
    docs = RuleDocs(
        what=(
            "Flags a task (BackgroundTasks, BackgroundTask, Celery, ARQ, RQ, Dramatiq, "
            "Taskiq, APScheduler, `asyncio.create_task` or `asyncio.run_coroutine_threadsafe`) "
            "that opens its own session "
            "(`SessionLocal()`, `Session(engine)`, `async_session()`, `sessionmaker(...)()`, "
            "or a function listed in `session-factories`) as a plain assignment, when "
            "nothing closes it on every path: no `with`/`async with`, no `finally` that calls "
            "`close()`. Also flags a session created at module level (here or imported) and "
            "used inside a task. Not flagged: `with SessionLocal() as db:`, "
            "`async with async_session() as s:`, `try: ... finally: db.close()`, and "
            "generator dependencies (they are not tasks). Engines and `scoped_session` "
            "registries at module level are meant to be shared and are not flagged."
        ),
        why=(
            "A session holds a pooled connection from its first query until it is closed. "
            "When an early `return` or an exception skips `db.close()`, the connection stays "
            "checked out until garbage collection gets to it; under load the pool runs dry "
            "and every request waits for `QueuePool limit ... overflow ... reached`. A "
            "module-level session is shared by every task and request, across threads, and "
            "SQLAlchemy sessions are not thread-safe: one task's rollback discards another's "
            "work."
        ),
        example=(
            "def award_points(user_id: int) -> None:\n"
            "    db = SessionLocal()  # FTL204\n"
            "    user = db.get(User, user_id)\n"
            "    if user is None:\n"
            "        return  # the session is never closed\n"
            "    user.points += 10\n"
            "    db.commit()\n"
            "    db.close()"
        ),
        use_instead=(
            "def award_points(user_id: int) -> None:\n"
            "    with SessionLocal() as db:\n"
            "        user = db.get(User, user_id)\n"
            "        if user is None:\n"
            "            return\n"
            "        user.points += 10\n"
            "        db.commit()"
        ),
        references=(
            "https://docs.sqlalchemy.org/en/20/orm/session_basics.html#opening-and-closing-a-session",
            "https://docs.sqlalchemy.org/en/20/orm/session_basics.html#is-the-session-thread-safe-is-asyncsession-safe-to-share-in-concurrent-tasks",
        ),
    )

    def wants(self, data: bytes, path: Path, project: ProjectIndex) -> bool:
        return super().wants(data, path, project) and (
            may_register_tasks(project, path, data) or defines_tasks(project, path)
        )

    def check(self, ctx: RuleContext) -> None:
        for task in tasks_in(ctx.model):
            for opened in unclosed_sessions(ctx.model, task.function):
                ctx.report(
                    opened.call,
                    f"{_task(task)} opens {quote(ctx.model.code_for(opened.call))} "
                    f"(`{opened.type_name}`) as `{opened.name}` and no `with` or `finally` "
                    "closes it: an early `return` or an exception leaves its connection checked "
                    f"out and the pool runs dry under load; use "
                    f"`{'async with' if opened.is_async else 'with'} "
                    f"{ctx.model.code_for(opened.call)} as {opened.name}:`",
                )
            for shared in shared_sessions(ctx.model, task.function):
                ctx.report(
                    shared.node,
                    f"{_task(task)} uses `{shared.node.value}`, a `{shared.type_name}` created "
                    f"at module level ({shared.defined_in}): every task and request shares it "
                    "across threads; open a session inside the task with `with "
                    "SessionLocal() as db:`",
                )


def _task(task: ScheduledFunction) -> str:
    return f"The task `{task.function.name}` (scheduled with {task.uses[0].label})"
