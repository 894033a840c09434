"""FTL305: a BackgroundTasks/BackgroundTask built in a function and never handed to anything."""

from __future__ import annotations

from fastapi_task_lint.rules.base import Rule, RuleContext, RuleDocs
from fastapi_task_lint.semantics.background import BuiltTasks, built_tasks


class BackgroundTasksNeverRun(Rule):
    code = "FTL305"
    name = "background-tasks-never-run"
    summary = "BackgroundTasks built in the handler and never returned: its tasks never run"
    triggers = (b"BackgroundTask",)
    docs = RuleDocs(
        what=(
            "Flags `BackgroundTasks()` constructed in a function, given tasks with "
            "`add_task(...)`, and then neither returned, passed as `background=` to a response, "
            "stored, passed to another call nor run; and `BackgroundTask(...)` that is built "
            "and dropped the same way."
        ),
        why=(
            "FastAPI runs only the `BackgroundTasks` it injects into the handler (or the "
            "`background` of the response the handler returns). An object the handler builds "
            "itself is just a list: when the handler returns, it is garbage-collected with its "
            "tasks, which never run. Nothing logs it."
        ),
        example=(
            '@router.delete("/users/{user_id}")\n'
            "def delete_account(user_id: int) -> dict[str, str]:\n"
            "    tasks = BackgroundTasks()  # FTL305\n"
            "    tasks.add_task(purge_user_data, user_id)\n"
            '    return {"detail": "account deleted"}'
        ),
        use_instead=(
            '@router.delete("/users/{user_id}")\n'
            "def delete_account(user_id: int, background_tasks: BackgroundTasks) -> dict:\n"
            "    background_tasks.add_task(purge_user_data, user_id)\n"
            '    return {"detail": "account deleted"}'
        ),
        references=("https://fastapi.tiangolo.com/tutorial/background-tasks/",),
    )

    def check(self, ctx: RuleContext) -> None:
        for function in ctx.model.functions:
            for built in built_tasks(ctx.model, function):
                if built.has_work and not built.escapes:
                    ctx.report(built.call, _message(built, function.name))


def _message(built: BuiltTasks, function: str) -> str:
    if built.holder is None:
        what = f"`{built.class_name}(...)` is built in `{function}` and dropped"
    else:
        what = (
            f"`{built.holder}` (a `{built.class_name}` built in `{function}`) is never returned "
            "as a response's `background=` nor passed on"
        )
    return (
        f"{what}: FastAPI only runs the `BackgroundTasks` it injects, so these tasks never "
        "run; declare a `BackgroundTasks` parameter and add to it, or return "
        f"`JSONResponse(..., background={built.holder or 'task'})`"
    )
