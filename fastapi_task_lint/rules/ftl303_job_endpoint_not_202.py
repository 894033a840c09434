"""FTL303: a route that starts a durable job and returns its id, without 202 Accepted."""

from __future__ import annotations

from pathlib import Path

from fastapi_task_lint.rules.base import Rule, RuleContext, RuleDocs
from fastapi_task_lint.semantics.jobs import (
    SUBMISSION_TRIGGERS,
    job_submissions,
    status_code_unless_accepted,
)
from fastapi_task_lint.semantics.project import ProjectIndex
from fastapi_task_lint.semantics.routes import may_define_routes
from fastapi_task_lint.semantics.values import task_label
from fastapi_task_lint.semantics.wrappers import helper_names


class JobEndpointNot202(Rule):
    code = "FTL303"
    name = "job-endpoint-not-202"
    summary = "route starts a job and returns its id, but does not answer 202 Accepted"
    triggers = SUBMISSION_TRIGGERS
    facts = (helper_names,)
    docs = RuleDocs(
        what=(
            "Flags a route that submits a durable job (Celery `.delay`/`.apply_async`/"
            "`send_task`, ARQ `enqueue_job`, RQ `enqueue` and the `.delay` of an `@job(queue)` "
            "function, Dramatiq `.send`, Taskiq `.kiq`) and "
            "returns the job, its id (also through locals like `task_id = task.id`, or from a "
            "project helper that submits the job and returns it) or a "
            'queued-status payload (`"queued"`, `"pending"`, ...), while the status code is '
            "not 202: no `status_code` on the decorator, another code, or a returned "
            "`Response`/`JSONResponse` whose own `status_code` is not 202. Not flagged: a route "
            "that queues a side job and returns the resource it created (a `pending` field of a "
            "201 response is the resource's own), and a `RedirectResponse` to the job's status "
            "page."
        ),
        why=(
            "200 OK and 201 Created say the work is done. The job has only been accepted: it "
            "may still fail. 202 Accepted tells clients, proxies and API tooling to poll for "
            "the outcome, and OpenAPI documents the route correctly."
        ),
        example=(
            '@router.post("/reports")  # FTL303\n'
            "def start_report(payload: ReportIn) -> dict[str, str]:\n"
            "    task = build_report.delay(payload.month)\n"
            '    return {"task_id": task.id}'
        ),
        use_instead=(
            '@router.post("/reports", status_code=status.HTTP_202_ACCEPTED)\n'
            "def start_report(payload: ReportIn, response: Response) -> dict[str, str]:\n"
            "    task = build_report.delay(payload.month)\n"
            '    response.headers["Location"] = f"/tasks/{task.id}"\n'
            '    return {"task_id": task.id, "status": "pending"}'
        ),
        references=(
            "https://www.rfc-editor.org/rfc/rfc9110#name-202-accepted",
            "https://fastapi.tiangolo.com/advanced/additional-status-codes/",
        ),
    )

    def wants(self, data: bytes, path: Path, project: ProjectIndex) -> bool:
        return super().wants(data, path, project) and may_define_routes(data)  # a job route

    def check(self, ctx: RuleContext) -> None:
        for submission in job_submissions(ctx.model):
            status = status_code_unless_accepted(ctx.model, submission)
            if status is None:
                continue
            site = submission.site
            job = task_label(ctx.model, site) or site.describe(ctx.model)
            ctx.report(
                submission.route.decorator,
                f"`{submission.function.name}` starts the {site.mechanism.value} job `{job}` "
                f"and returns it to the client to poll, but answers {status}; use "
                "`status_code=status.HTTP_202_ACCEPTED` and return the job id with a "
                "`Location` to poll",
            )
