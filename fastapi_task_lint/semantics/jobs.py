"""Job routes: a route that submits a durable job and hands its id back, and routes that
look a job up by id.

A submission route returns the job (its id, the job object) or a queued-status payload
to the client, who is expected to poll. A status route is a `GET` with a path parameter
that looks the job up: Celery `AsyncResult`, ARQ `Job`, RQ `Job.fetch`, or a database
row of a job/task model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import libcst as cst

from fastapi_task_lint.semantics.callgraph import callees, defined_where
from fastapi_task_lint.semantics.functions import CallInfo, FunctionInfo
from fastapi_task_lint.semantics.responses import RESPONSE_BASE, returned_responses
from fastapi_task_lint.semantics.routes import Route
from fastapi_task_lint.semantics.scheduling import (
    Mechanism,
    SchedulingSite,
    decorator_mechanism,
    site_filter,
)
from fastapi_task_lint.semantics.scope import BindingKind, Scope
from fastapi_task_lint.semantics.uses import assigned_attribute
from fastapi_task_lint.semantics.walk import walk
from fastapi_task_lint.semantics.words import word_parts

if TYPE_CHECKING:
    from fastapi_task_lint.semantics.model import ModuleModel

# Site APIs that submit a job now (signatures built with `.s()` submit nothing).
_SUBMIT_APIS = frozenset(
    {
        "delay",
        "apply_async",
        "delay_on_commit",
        "apply_async_on_commit",
        "send_task",
        "enqueue_job",
        "enqueue",
        "enqueue_call",
        "enqueue_at",
        "enqueue_in",
        "send",
        "send_with_options",
        "kiq",
    }
)
QUEUED_STATUSES = frozenset(
    {"queued", "pending", "accepted", "submitted", "scheduled", "started", "processing"}
)
_LOOKUPS = frozenset(
    {
        "celery.result.AsyncResult",
        "celery.AsyncResult",
        "arq.jobs.Job",
        "arq.Job",
        "rq.job.Job.fetch",
        "rq.job.Job.fetch_many",
        "rq.Job.fetch",
        "rq.Job.fetch_many",
    }
)
# The durable-queue subset of scheduling.SITE_TRIGGERS: a file without one submits no job.
SUBMISSION_TRIGGERS: tuple[bytes, ...] = (
    b"delay",
    b"apply_async",
    b"send_task",
    b"enqueue",
    b".send",
    b"kiq",
)
_JOB_WORDS = frozenset({"job", "jobs", "task", "tasks"})
_MAX_ROUNDS = 4


@dataclass(frozen=True)
class JobSubmission:
    """A route that submits a durable job and returns the job or a queued status."""

    model: ModuleModel
    route: Route
    site: SchedulingSite
    returned: cst.BaseExpression  # the returned expression that carries it

    @property
    def function(self) -> FunctionInfo:
        return self.route.function


def job_submissions(model: ModuleModel) -> list[JobSubmission]:
    found: list[JobSubmission] = []
    for route in model.routes:
        # A queued-looking status alone does not count in a route that answers 201 Created:
        # it returns the resource it created (`{"id": order.id, "status": "pending"}`).
        statuses = not _is_status(
            model, route.keyword("status_code"), route.function.parent_scope, 201
        )
        submission = _direct_submission(model, route, statuses) or _helper_submission(
            model, route, statuses
        )
        if submission is not None:
            found.append(submission)
    return found


def is_submission(site: SchedulingSite) -> bool:
    return site.mechanism.kind == "durable" and site.api in _SUBMIT_APIS


def _direct_submission(model: ModuleModel, route: Route, statuses: bool) -> JobSubmission | None:
    for site in _submissions_in(model, route.function):
        returned = _returned_reference(route.function, site.node, statuses)
        if returned is not None:
            return JobSubmission(model, route, site, returned)
    return None


def _helper_submission(model: ModuleModel, route: Route, statuses: bool) -> JobSubmission | None:
    """`task = start_report(month)` where the project helper returns the job it submitted."""
    # A helper that submits a job has a scheduling call: a module without one is not parsed.
    for edge in callees(model, route.function, defined_where(site_filter(model.project))):
        helper = edge.target
        for site in _submissions_in(helper.model, helper.function):
            if _returned_reference(helper.function, site.node, statuses=False) is None:
                continue
            returned = _returned_reference(route.function, edge.call.node, statuses)
            if returned is not None:
                return JobSubmission(model, route, site, returned)
    return None


def _submissions_in(model: ModuleModel, function: FunctionInfo) -> list[SchedulingSite]:
    """Sites written in `function`; a call of a scheduling helper returns what the helper
    returns, which `_helper_submission` looks at."""
    return [
        s
        for s in model.scheduling_sites
        if s.function is function and s.helper_site is None and is_submission(s)
    ]


def _returned_reference(
    function: FunctionInfo, job_call: cst.Call, statuses: bool
) -> cst.BaseExpression | None:
    """The return value that hands the job made by `job_call` (or a queued status) back."""
    job_names = _names_holding_job(function, job_call)
    for value in function.return_values:
        if value is None:
            continue
        shown = [value]
        if isinstance(value, cst.Name):
            binding = function.scope.lookup(value.value)
            if binding is not None and binding.kind is BindingKind.ASSIGN and binding.value:
                shown.append(binding.value)
        for expr in shown:
            finder = _JobReference(job_call, job_names)
            walk(expr, finder)
            if finder.job or (finder.status and statuses):
                return value
    return None


def _names_holding_job(function: FunctionInfo, job_call: cst.Call) -> set[str]:
    """Locals bound to the submitted job, or to a value computed from it (`task.id`)."""
    held: set[str] = set()
    assigns = [
        b
        for bindings in function.scope.bindings.values()
        for b in bindings
        if b.kind is BindingKind.ASSIGN and b.value is not None
    ]
    for _ in range(_MAX_ROUNDS):
        before = len(held)
        for binding in assigns:
            value = binding.value
            if value is not None and binding.name not in held:
                inner = value.expression if isinstance(value, cst.Await) else value
                if inner is job_call or (held and _mentions_names(value, held)):
                    held.add(binding.name)
        if len(held) == before:
            break
    return held


def _mentions_names(expr: cst.BaseExpression, names: set[str]) -> bool:
    finder = _JobReference(None, names)
    walk(expr, finder)
    return finder.job


class _JobReference(cst.CSTVisitor):
    """Whether an expression reads the job (the call or a local holding it) or a status."""

    def __init__(self, call: cst.Call | None, names: set[str]) -> None:
        self.call = call
        self.names = names
        self.job = False
        self.status = False

    def on_visit(self, node: cst.CSTNode) -> bool:
        if node is self.call or (isinstance(node, cst.Name) and node.value in self.names):
            self.job = True
        elif isinstance(node, cst.SimpleString):
            value = node.evaluated_value
            self.status = self.status or (
                isinstance(value, str) and value.lower() in QUEUED_STATUSES
            )
        elif isinstance(node, cst.Call) and _waits_for_result(node):
            for arg in node.args:  # `result.get(timeout=60)`: the task's result, not the job
                walk(arg.value, self)
            return False
        elif isinstance(node, cst.Attribute):
            walk(node.value, self)  # `task.id`: the attribute name is not a read
            return False
        elif isinstance(node, cst.Arg):
            walk(node.value, self)  # `TaskOut(task_id=...)`: the keyword is not a read
            return False
        return not self.job and not isinstance(node, (cst.Lambda, cst.FunctionDef))


# Methods of a job that wait for it and give its result (Celery's `get`/`wait`, ARQ's and
# Dramatiq's `result`): a route that returns what they give answers with the result.
_RESULT_WAITS = frozenset({"get", "wait", "result"})


def _waits_for_result(call: cst.Call) -> bool:
    return isinstance(call.func, cst.Attribute) and call.func.attr.value in _RESULT_WAITS


def is_status_route(model: ModuleModel, route: Route) -> bool:
    """A `GET` route with a path parameter (or a path not written as a literal) that looks a
    job up, itself or in a project helper it calls (argilla's `_get_job(job_id)`, which
    turns `Job.fetch`'s `NoSuchJobError` into a 404)."""
    if "get" not in route.methods or (route.path is not None and "{" not in route.path):
        return False
    if job_lookup(model, route.function) is not None:
        return True
    helpers = callees(model, route.function, defined_where(_may_look_jobs_up))
    return any(job_lookup(edge.target.model, edge.target.function) for edge in helpers)


def _may_look_jobs_up(data: bytes) -> bool:
    """Whether a module's bytes can hold a `job_lookup`: a queue's lookup, a job model or
    table (named for jobs or tasks)."""
    return _JOB_OR_TASK(data) is not None


_JOB_OR_TASK = re.compile(rb"job|task|asyncresult", re.IGNORECASE).search


def job_lookup(model: ModuleModel, function: FunctionInfo) -> cst.Call | None:
    for call in function.calls:
        func = call.node.func
        qualname = model.qualified_name(func, call.scope, call.order)
        if qualname in _LOOKUPS:
            return call.node
        if isinstance(func, cst.Attribute) and func.attr.value == "fetch_job":
            # `queue.fetch_job(id)`: RQ's other lookup, on the queue
            receiver = model.infer_type(func.value, call.scope, call.order)
            if model.is_instance(receiver, {"rq.Queue"}):
                return call.node
        if isinstance(func, cst.Attribute) and func.attr.value == "AsyncResult":
            # `celery_app.AsyncResult(id)` / `my_task.AsyncResult(id)`
            receiver = model.infer_type(func.value, call.scope, call.order)
            if model.is_instance(receiver, {"celery.Celery"}) or _is_celery_task(
                model, func.value, call
            ):
                return call.node
        for arg in call.node.args:
            if _is_job_model(model, arg.value, call.scope, call.order) or _reads_job_table(
                arg.value
            ):
                return call.node
    return None


# The table a SQL query reads first: `SELECT status FROM distill_jobs WHERE id = :id`.
_SELECTED_TABLE = re.compile(r"\bselect\b.*?\bfrom\s+[\"`\[]?(\w+)", re.IGNORECASE | re.DOTALL)


def _reads_job_table(expr: cst.BaseExpression) -> bool:
    """A SQL string that selects from a table named for jobs (`text("SELECT ... FROM
    jobs ...")`): a raw-SQL job lookup."""
    if not isinstance(expr, cst.SimpleString):
        return False
    value = expr.evaluated_value
    found = _SELECTED_TABLE.search(value) if isinstance(value, str) else None
    return found is not None and bool(set(word_parts(found.group(1))) & _JOB_WORDS)


def _is_celery_task(model: ModuleModel, expr: cst.BaseExpression, call: CallInfo) -> bool:
    qualname = model.qualified_name(expr, call.scope, call.order)
    found = model.project.resolve_function(qualname) if qualname else None
    return found is not None and decorator_mechanism(found[0], found[1]) is Mechanism.CELERY


def _is_job_model(model: ModuleModel, expr: cst.BaseExpression, scope: Scope, order: int) -> bool:
    """`Job` in `db.get(Job, job_id)` or `select(ExportTask)`: an ORM model named for jobs."""
    qualname = model.qualified_name(expr, scope, order)
    if qualname is None:
        return False
    if not set(word_parts(qualname.rsplit(".", 1)[-1])) & _JOB_WORDS:
        return False
    return model.orm.is_model_class(qualname)


def status_code_unless_accepted(model: ModuleModel, submission: JobSubmission) -> str | None:
    """The status the submission answers with, as the user wrote it; None when it is 202.

    A redirect (303 See Other to the job's status page) is the other accepted answer.
    """
    function = submission.function
    scope = function.parent_scope
    for response in returned_responses(model, function):
        if response.value is submission.returned:
            if response.klass in _REDIRECTS:
                return None
            code = response.status_code
            if code is None:
                return f"200 (the `{response.class_name}` default)"
            return None if _is_status(model, code, function.scope) else model.code_for(code)
    assigned = _assigned_status(model, function)
    if assigned is not None:
        return None if _is_status(model, assigned, function.scope) else model.code_for(assigned)
    declared = submission.route.keyword("status_code")
    if declared is None:
        return "200 (the default)"
    return None if _is_status(model, declared, scope) else model.code_for(declared)


_REDIRECTS = frozenset({"starlette.responses.RedirectResponse"})
_STATUS_NAMES = {202: ("HTTP_202_ACCEPTED", "ACCEPTED"), 201: ("HTTP_201_CREATED", "CREATED")}


def _is_status(
    model: ModuleModel, expr: cst.BaseExpression | None, scope: Scope, code: int = 202
) -> bool:
    """`202`, `status.HTTP_202_ACCEPTED` or `HTTPStatus.ACCEPTED` (or the same for 201), or
    a project constant bound once to one (`ACCEPTED = 202`, here or imported)."""
    if expr is None:
        return False
    if isinstance(expr, cst.Integer):
        return expr.evaluated_value == code
    constant, member = _STATUS_NAMES[code]
    qualname = model.qualified_name(expr, scope)
    if qualname is None:
        return False
    if qualname.endswith("." + constant) or qualname == f"http.HTTPStatus.{member}":
        return True
    found = model.project.resolve(qualname)
    binding = found.binding if found is not None else None
    if found is None or binding is None or binding.kind is not BindingKind.ASSIGN:
        return False
    once = found.model.module_scope.bindings.get(binding.name) == [binding]
    return once and isinstance(binding.value, cst.Integer) and binding.value.evaluated_value == code


def _assigned_status(model: ModuleModel, function: FunctionInfo) -> cst.BaseExpression | None:
    """`response.status_code = 202` on the injected `Response` parameter."""
    for param in function.params:
        if model.is_instance(model.param_type(function, param.name), {RESPONSE_BASE}):
            value = assigned_attribute(function, param.name, "status_code")
            if value is not None:
                return value
    return None
