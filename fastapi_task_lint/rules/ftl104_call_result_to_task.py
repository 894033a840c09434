"""FTL104: the task given to add_task/BackgroundTask is the result of calling it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from fastapi_task_lint.rules.base import NodeFix, Rule, RuleContext, RuleDocs, quote
from fastapi_task_lint.semantics.calls import CallResult, call_result_of
from fastapi_task_lint.semantics.scheduling import Mechanism, SchedulingSite
from fastapi_task_lint.semantics.wrappers import helper_names

if TYPE_CHECKING:
    from fastapi_task_lint.semantics.model import ModuleModel


class CallResultToTask(Rule):
    code = "FTL104"
    name = "call-result-to-task"
    summary = "task is the result of a call, so the work runs in the request"
    triggers = (b"add_task", b"BackgroundTask")
    facts = (helper_names,)
    fixable = "unsafe"
    docs = RuleDocs(
        what=(
            "Flags `add_task(...)` or `BackgroundTask(...)` whose callable is a call "
            "expression (`add_task(send_email(to))`), a name bound to a call result "
            "(`t = dispatch(); add_task(t)`, also with `:=`), when the called function is an "
            "`async def` or a visible project function that does not return a callable. "
            "Factories that return a function (annotated `-> Callable[...]`, or returning a "
            "lambda, a nested function or a `partial`) and `partial(...)` are not flagged."
        ),
        why=(
            "The call runs immediately, inside the request, before the response is sent: the "
            "slow work you meant to move out of the request still delays it. The task then "
            "receives the call's return value. For an `async def` that is an un-awaited "
            "coroutine, so the work never happens (`RuntimeWarning: coroutine ... was never "
            "awaited`); for a function returning `None`, Starlette raises `TypeError: "
            "'NoneType' object is not callable` after the response, which only shows in logs."
        ),
        example='background_tasks.add_task(send_email(user.email, "Welcome"))  # FTL104',
        use_instead='background_tasks.add_task(send_email, user.email, "Welcome")',
        fix_safety=(
            "Unsafe: the fix rewrites `add_task(f(a, b=1))` to `add_task(f, a, b=1)`, which "
            "moves the work after the response. That is the intent, but it changes when the "
            "work runs and which exceptions reach the request. It is not offered when a "
            "keyword argument is named `func` or `self`: it would reach `add_task` itself."
        ),
        references=("https://fastapi.tiangolo.com/tutorial/background-tasks/",),
    )

    def check(self, ctx: RuleContext) -> None:
        for site in ctx.model.scheduling_sites:
            if site.mechanism not in (Mechanism.BACKGROUND_TASKS, Mechanism.BACKGROUND_TASK):
                continue
            if site.partial is not None or site.callable is None:
                continue
            result = call_result_of(ctx.model, site.callable, site.scope, site.order)
            if result is None or result.may_return_callable:
                continue
            message = _message(ctx, site, site.callable, result)
            ctx.report(site.callable, message, _fix(ctx.model, site, result))


def _message(
    ctx: RuleContext, site: SchedulingSite, task: cst.BaseExpression, result: CallResult
) -> str:
    called = quote(ctx.model.code_for(result.call))
    name = result.function.name
    if result.function.is_async:
        effect = (
            f"`{name}` is `async def`, so the task receives an un-awaited coroutine and the "
            "work never runs"
        )
    else:
        effect = f"`{name}` runs now, inside the request, and the task receives its return value"
    via = "" if result.call is task else f" (bound to {quote(ctx.model.code_for(task))})"
    instead = (
        f" to {site.reference(ctx.model)}"
        if site.via
        else f": `{site.describe(ctx.model)}({name}, ...)`"
    )
    return (
        f"{called}{via} is scheduled as the task: {effect}; pass the function and its "
        f"arguments instead{instead}"
    )


# The parameters of `add_task(self, func, *args, **kwargs)` and `BackgroundTask(self, func,
# ...)` themselves: a task's keyword argument of the same name cannot pass through them.
_OWN_PARAMETERS = frozenset({"self", "func"})


def _fix(model: ModuleModel, site: SchedulingSite, result: CallResult) -> NodeFix | None:
    """`add_task(f(a, b=1))` -> `add_task(f, a, b=1)`; only for the plain one-argument form."""
    if result.call is not site.callable or site.arguments:
        return None
    args = site.node.args
    if len(args) != 1 or args[0].keyword is not None or args[0].star:
        return None
    inner, only = model.original(result.call), model.original(args[0])
    if any(arg.keyword is not None and arg.keyword.value in _OWN_PARAMETERS for arg in inner.args):
        return None  # `add_task(f, func=1)` would hand `func` to `add_task` itself
    new_args = [cst.Arg(inner.func), *inner.args]
    # The last argument takes the place of the call: its trailing comma and the line break
    # before `)` stay as the user wrote them.
    new_args[-1] = new_args[-1].with_changes(
        comma=only.comma, whitespace_after_arg=only.whitespace_after_arg
    )
    replacement = model.original(site.node).with_changes(args=new_args)
    return NodeFix(
        f"Schedule `{result.function.name}` with its arguments",
        "unsafe",
        ((site.node, replacement),),
    )
