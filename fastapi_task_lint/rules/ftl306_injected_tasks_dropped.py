"""FTL306: the response's own `background` replaces the injected BackgroundTasks."""

from __future__ import annotations

import libcst as cst

from fastapi_task_lint.rules.base import Rule, RuleContext, RuleDocs, quote
from fastapi_task_lint.semantics import names
from fastapi_task_lint.semantics.background import InjectedTasks, injected_tasks, is_injected_param
from fastapi_task_lint.semantics.responses import returned_responses
from fastapi_task_lint.source import one_line


class InjectedTasksDropped(Rule):
    code = "FTL306"
    name = "injected-tasks-dropped"
    summary = "response with its own background= drops the injected BackgroundTasks"
    triggers = (b"BackgroundTasks",)
    docs = RuleDocs(
        what=(
            "Flags a route handler that adds to the injected `BackgroundTasks` (its own "
            "parameter, or through a dependency that receives it, also one in the route's "
            "`dependencies=[...]`) and returns a response built "
            "with `background=...` (or given one with `response.background = ...`) that is not "
            "that same object. Also flags a module-level `Response` object returned from such a "
            "handler."
        ),
        why=(
            "FastAPI attaches the injected tasks to the returned response only when the "
            "response has no `background` of its own. If it has one, the injected tasks are "
            "silently dropped: everything added with `background_tasks.add_task(...)`, also by "
            "dependencies, never runs. A response object shared across requests gets the first "
            "request's tasks attached, and they run again after every later request."
        ),
        example=(
            "def unsubscribe(user_id: int, background_tasks: BackgroundTasks) -> JSONResponse:\n"
            "    background_tasks.add_task(record_event, user_id)  # never runs\n"
            "    return JSONResponse({}, background=BackgroundTask(sync, user_id))  # FTL306"
        ),
        use_instead=(
            "def unsubscribe(user_id: int, background_tasks: BackgroundTasks) -> JSONResponse:\n"
            "    background_tasks.add_task(record_event, user_id)\n"
            "    background_tasks.add_task(sync, user_id)\n"
            "    return JSONResponse({})"
        ),
        references=(
            "https://fastapi.tiangolo.com/tutorial/background-tasks/",
            "https://www.starlette.io/background/",
        ),
    )

    def check(self, ctx: RuleContext) -> None:
        model = ctx.model
        for route in model.routes:
            function = route.function
            injected = injected_tasks(
                model, function, _route_dependencies(route.keyword("dependencies"))
            )
            if injected is None:
                continue
            for response in returned_responses(model, function):
                if response.module_level:
                    ctx.report(
                        response.value,
                        f"`{function.name}` returns the module-level response "
                        f"{quote(model.code_for(response.value))} and uses "
                        f"{_injected(injected)}: FastAPI attaches this request's tasks to the "
                        "shared object, so they run again after every later request; build "
                        "the response inside the handler",
                    )
                    continue
                background = response.background
                if background is None or names.is_none(background):
                    continue
                if is_injected_param(model, function, background):
                    continue
                ctx.report(
                    background,
                    f"`{function.name}` returns a `{response.class_name}` with "
                    f"`background={_short(model.code_for(background))}`, so FastAPI drops "
                    f"{_injected(injected)} and its tasks never run; {_fix(injected)}",
                )


def _route_dependencies(value: cst.BaseExpression | None) -> list[cst.BaseExpression]:
    """The `Depends(...)` calls of a route's `dependencies=[...]`."""
    if not isinstance(value, (cst.List, cst.Tuple)):
        return []
    return [element.value for element in value.elements]


def _short(code: str) -> str:
    code = one_line(code)
    return code if len(code) <= 50 else code[:47] + "..."


def _injected(injected: InjectedTasks) -> str:
    if injected.dependency is None:
        return f"the injected `{injected.param}`"
    return f"the injected `{injected.param}` (used by the dependency `{injected.dependency}`)"


def _fix(injected: InjectedTasks) -> str:
    if injected.dependency is None:
        return f"add this task to `{injected.param}` instead, or pass `background={injected.param}`"
    return "add this task to the injected `BackgroundTasks` instead"
