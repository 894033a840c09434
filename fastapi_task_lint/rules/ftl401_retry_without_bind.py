"""FTL401: a Celery task uses `self.retry`/`self.request` but is not bound to its task instance."""

from __future__ import annotations

from pathlib import Path

from fastapi_task_lint.rules.base import Rule, RuleContext, RuleDocs, quote
from fastapi_task_lint.semantics.celery_tasks import (
    CeleryTask,
    TaskSelfUse,
    celery_tasks,
    task_self_uses,
)
from fastapi_task_lint.semantics.project import ProjectIndex


class RetryWithoutBind(Rule):
    code = "FTL401"
    name = "retry-without-bind"
    summary = "Celery task uses `self.retry`/`self.request` without `bind=True`"
    triggers = (b"self.retry", b"self.request")
    docs = RuleDocs(
        what=(
            "Flags a Celery task (`@app.task`, `@shared_task`, `@celery.task`) whose body uses "
            "`self.retry(...)` or `self.request` while the decorator has no `bind=True`, and a "
            "bound task whose first parameter is not `self` while the body uses `self`. The "
            "decorator is reported. `Task` subclasses (`def run(self, ...)`) are bound already."
        ),
        why=(
            "Only a bound task receives its task instance as first argument. Without "
            "`bind=True`, `self` is the caller's first argument (an id, a string), so "
            "`self.retry(exc=exc)` raises `AttributeError` exactly when the task needed to "
            "retry, and the retry never happens. A `self` that is not the first parameter is "
            "not the task instance either (a `NameError` or the wrong object)."
        ),
        example=(
            "@celery_app.task(max_retries=3)\n"
            "def sync_inventory(self, sku):\n"
            "    try:\n"
            "        fetch(sku)\n"
            "    except HTTPError as exc:\n"
            "        raise self.retry(exc=exc)"
        ),
        use_instead=(
            "@celery_app.task(bind=True, max_retries=3)\n"
            "def sync_inventory(self, sku):\n"
            "    try:\n"
            "        fetch(sku)\n"
            "    except HTTPError as exc:\n"
            "        raise self.retry(exc=exc)"
        ),
        references=(
            "https://docs.celeryq.dev/en/stable/userguide/tasks.html#bound-tasks",
            "https://docs.celeryq.dev/en/stable/userguide/tasks.html#retrying",
        ),
    )

    def wants(self, data: bytes, path: Path, project: ProjectIndex) -> bool:
        """Also the word `task`: a decorator that registers a Celery task resolves through an
        import or attribute that spells it (`shared_task`, `@app.task`), aliases included.
        `self.request` alone is in every HTTP client class."""
        return b"task" in data and super().wants(data, path, project)

    def check(self, ctx: RuleContext) -> None:
        for task in celery_tasks(ctx.model):
            if task.decorator is None:
                continue
            wrong = [use for use in task_self_uses(ctx.model, task) if _misused(task, use)]
            if wrong:
                ctx.report(task.decorator, _message(ctx, task, wrong[0]))


def _misused(task: CeleryTask, use: TaskSelfUse) -> bool:
    if use.name.value != "self":
        return False
    return not task.bound or use.param is None or use.param is not task.first_param


def _message(ctx: RuleContext, task: CeleryTask, use: TaskSelfUse) -> str:
    name = task.function.name
    used = f"`self.{use.method}`"
    if task.bound:
        first = task.first_param
        receiver = f"`{first.name}`" if first is not None else "missing"
        return (
            f"`{name}` is bound (`bind=True`) but uses {used} while its first parameter, which "
            f"receives the task instance, is {receiver}; make `self` the first parameter"
        )
    if use.param is None:
        receives = "`self` is not defined there (`NameError`)"
    else:
        receives = "`self` receives the caller's first argument, not the task"
    decorator = quote(ctx.model.code_for(task.decorator)) if task.decorator else "the decorator"
    return (
        f"`{name}` uses {used} but {decorator} has no `bind=True`: {receives}, so the "
        "retry fails exactly when it is needed; add `bind=True`"
    )
