"""FTL402: `self.retry(...)` written as a statement instead of `raise self.retry(...)`."""

from __future__ import annotations

import libcst as cst

from fastapi_task_lint.rules.base import NodeFix, Rule, RuleContext, RuleDocs, quote
from fastapi_task_lint.semantics.celery_tasks import celery_tasks, task_self_uses
from fastapi_task_lint.semantics.walk import walk


class RetryNotRaised(Rule):
    code = "FTL402"
    name = "retry-not-raised"
    summary = "`self.retry(...)` is not raised"
    triggers = (b".retry(",)
    fixable = "safe"
    docs = RuleDocs(
        what=(
            "Flags `self.retry(...)` used as a bare statement inside a Celery task (a decorated "
            "task or the `run` method of a `Task` subclass), including a bound task whose "
            "first parameter has another name (`task.retry(...)`). Not flagged: "
            "`self.retry(..., throw=False)`, which schedules the retry and returns, so the "
            "code after it runs by design."
        ),
        why=(
            "`Task.retry` raises `Retry` to stop the task, and Celery's documented idiom is "
            "`raise self.retry(exc=exc)`. Written without `raise`, the code after it reads as "
            "reachable: readers and type checkers assume the task continues (here with an "
            "unbound `response`). `retry` raises in a worker and in eager mode alike; only "
            "`throw=False` makes it return."
        ),
        example=(
            "try:\n"
            "    response = httpx.get(url)\n"
            "except httpx.HTTPError as exc:\n"
            "    self.retry(exc=exc)\n"
            'if response.json()["state"] == "delivered": ...'
        ),
        use_instead=(
            "try:\n"
            "    response = httpx.get(url)\n"
            "except httpx.HTTPError as exc:\n"
            "    raise self.retry(exc=exc)"
        ),
        fix_safety=(
            "Safe: `retry` without `throw=False` raises in every mode (a worker, eager mode, "
            "a direct call); `raise` only makes that explicit."
        ),
        references=("https://docs.celeryq.dev/en/stable/userguide/tasks.html#retrying",),
    )

    def check(self, ctx: RuleContext) -> None:
        for task in celery_tasks(ctx.model):
            retries = {
                id(use.attribute)
                for use in task_self_uses(ctx.model, task)
                if use.method == "retry"
            }
            if not retries:
                continue
            for statement in _bare_calls(task.function.node):
                call = statement.value
                assert isinstance(call, cst.Call)
                if id(call.func) not in retries or _returns(call):
                    continue
                code = quote(ctx.model.code_for(call))
                raised = quote(f"raise {ctx.model.code_for(call)}")
                message = (
                    f"{code} is not raised: `retry` stops `{task.function.name}` by raising "
                    f"`Retry`; write {raised} so the code after it does not read as reachable"
                )
                fix = NodeFix(
                    f"Prepend `raise` to {code}",
                    "safe",
                    ((statement, _raised(ctx.model.original(statement))),),
                )
                ctx.report(call, message, fix)


def _returns(call: cst.Call) -> bool:
    """Whether the `retry` call is told not to raise (`throw=False`): it returns then."""
    return any(
        arg.keyword is not None
        and arg.keyword.value == "throw"
        and isinstance(arg.value, cst.Name)
        and arg.value.value == "False"
        for arg in call.args
    )


def _raised(statement: cst.Expr) -> cst.Raise:
    """`statement` (libcst's own node, its semicolon kept) with `raise` before its call."""
    return cst.Raise(exc=statement.value, semicolon=statement.semicolon)


def _bare_calls(node: cst.CSTNode) -> list[cst.Expr]:
    """Expression statements that are a single call."""
    collector = _BareCalls()
    walk(node, collector)
    return collector.found


class _BareCalls(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found: list[cst.Expr] = []

    def visit_Expr(self, node: cst.Expr) -> None:
        if isinstance(node.value, cst.Call):
            self.found.append(node)
