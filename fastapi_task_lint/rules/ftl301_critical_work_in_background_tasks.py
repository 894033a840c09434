"""FTL301: money-moving work scheduled on in-process BackgroundTasks."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi_task_lint.config import RuleOption
from fastapi_task_lint.rules.base import Rule, RuleContext, RuleDocs, names_list
from fastapi_task_lint.semantics.callgraph import callees
from fastapi_task_lint.semantics.scheduling import SchedulingSite
from fastapi_task_lint.semantics.task_definitions import resolve_task
from fastapi_task_lint.semantics.values import task_label
from fastapi_task_lint.semantics.words import matched_keywords
from fastapi_task_lint.semantics.wrappers import helper_names

DEFAULT_KEYWORDS = (
    "payment",
    "charge",
    "refund",
    "payout",
    "invoice",
    "billing",
    "subscription",
    "fulfil",
    "fulfill",
    "transfer",
    "withdraw",
    "ledger",
    "settle",
)
CRITICAL_KEYWORDS = RuleOption(
    "critical-keywords",
    list,
    list(DEFAULT_KEYWORDS),
    "Words (or snake_case phrases) that mark a task as critical work; replaces the default "
    "list. Matched as whole words of the task's name, qualified name and the project "
    "functions it calls, with inflections (`charge` matches `charged`, `charges`).",
)
EXTEND_CRITICAL_KEYWORDS = RuleOption(
    "extend-critical-keywords",
    list,
    [],
    "Words added to `critical-keywords`.",
)
# A keyword right after one of these words names something else: a newsletter
# subscription, a file transfer.
NOT_MONEY = frozenset(
    {"newsletter", "mailing", "email", "webhook", "event", "notification", "push", "file", "data"}
)


class CriticalWorkInBackgroundTasks(Rule):
    code = "FTL301"
    name = "critical-work-in-background-tasks"
    summary = "payment-like work scheduled on in-process BackgroundTasks"
    triggers = (b"add_task", b"BackgroundTask")
    facts = (helper_names,)
    options = (CRITICAL_KEYWORDS, EXTEND_CRITICAL_KEYWORDS)
    docs = RuleDocs(
        what=(
            "Flags `BackgroundTasks.add_task(...)` and `BackgroundTask(...)` whose task (its "
            "name as written, its qualified name, or a project function it calls directly) "
            "contains a critical-work keyword as a whole word: payment, charge, refund, payout, "
            "invoice, billing, subscription, fulfil(l)ment, transfer, withdraw, ledger, settle "
            "(with inflections: `charged`, `settlement`). Words are split at `_` and case "
            "changes, so `reorder_columns` and `border` match nothing; `newsletter_subscription` "
            "and `file_transfer` are not money. Durable-queue sites are not flagged. Configure "
            "with `critical-keywords` (replace) and `extend-critical-keywords` (add)."
        ),
        why=(
            "BackgroundTasks run inside the web process after the response is sent. A crash, "
            "deploy, restart or scale-down between the response and the task's end loses the "
            "work without a trace, and there is no retry: a customer told 'payment accepted' is "
            "never charged, or a refund is never sent."
        ),
        example=("background_tasks.add_task(charge_payment, order.id)  # FTL301"),
        remedy="Send it to a queue that acknowledges late and retries:",
        use_instead=(
            "@celery_app.task(\n"
            "    bind=True, acks_late=True, autoretry_for=(PaymentError,), retry_backoff=True\n"
            ")\n"
            "def charge_payment_task(self, order_id: int) -> None: ...\n"
            "\n"
            "\n"
            "charge_payment_task.delay(order.id)"
        ),
        references=(
            "https://fastapi.tiangolo.com/tutorial/background-tasks/#caveat",
            "https://docs.celeryq.dev/en/stable/userguide/tasks.html#retrying",
        ),
    )

    def check(self, ctx: RuleContext) -> None:
        keywords = [*ctx.option(CRITICAL_KEYWORDS), *ctx.option(EXTEND_CRITICAL_KEYWORDS)]
        for site in ctx.model.scheduling_sites:
            if not site.mechanism.in_process or site.callable is None:
                continue
            for where, identifier in _task_names(ctx, site):
                found = matched_keywords(identifier, keywords, NOT_MONEY)
                if found:
                    ctx.report(site.callable, _message(ctx, site, where, found))
                    break


def _task_names(ctx: RuleContext, site: SchedulingSite) -> Iterator[tuple[str, str]]:
    """(how it relates to the task, identifier): the task, then the functions it calls."""
    model = ctx.model
    if site.callable is None:
        return
    written = task_label(model, site) or ""
    yield "", written
    target = resolve_task(model, site.callable, site.scope, site.order)
    if target is None:
        return
    if target.function.qualname != written:
        yield f" (`{target.function.qualname}`)", target.function.qualname
    for edge in callees(target.model, target.function):
        called = edge.target.function
        yield f" (it calls `{called.name}`)", called.qualname


def _message(ctx: RuleContext, site: SchedulingSite, where: str, found: list[str]) -> str:
    task = task_label(ctx.model, site) or ctx.model.code_for(site.node)
    return (
        f"`{task}`{where} looks like critical work ({names_list(found)}) but is scheduled with "
        f"`{site.describe(ctx.model)}`: BackgroundTasks run in this process after the "
        "response, so a crash, deploy or restart loses it with no retry; use a durable queue "
        "(Celery, ARQ, Dramatiq) with retries and acks"
    )
