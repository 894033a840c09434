"""FTL304: routes start jobs and return their ids, but no route reports a job's status."""

from __future__ import annotations

from pathlib import Path

from fastapi_task_lint.rules.base import Rule, RuleContext, RuleDocs
from fastapi_task_lint.semantics.jobs import (
    SUBMISSION_TRIGGERS,
    JobSubmission,
    is_status_route,
    job_submissions,
)
from fastapi_task_lint.semantics.project import ProjectIndex
from fastapi_task_lint.semantics.routes import GET_ROUTES, ROUTES, may_define_routes


def _unpolled(project: ProjectIndex) -> list[JobSubmission]:
    """Every job-submission route of the run, in path order, found once per run; none when a
    status route exists."""
    return project.memo("FTL304.unpolled", lambda: _find_unpolled(project))


class JobStatusEndpointMissing(Rule):
    code = "FTL304"
    name = "job-status-endpoint-missing"
    summary = "job ids are returned to clients, but no route reports a job's status"
    triggers = SUBMISSION_TRIGGERS
    facts = (_unpolled,)
    docs = RuleDocs(
        what=(
            "Whole-program: when the linted files contain routes that submit a durable job and "
            "return its id (as in FTL303) but no `GET` route with a path parameter that looks "
            "a job up (Celery `AsyncResult(id)` or `app.AsyncResult(id)`, ARQ `Job(id, redis)`, "
            "RQ `Job.fetch(id)`, a database lookup of an ORM model named like `Job`/`Task`, "
            "or a raw SQL `SELECT ... FROM` a table named so, `distill_jobs`; in the route "
            "itself or in a project function it calls), "
            "reports once, at the first submission route (in path order)."
        ),
        why=(
            "A client that receives a job id has no way to learn whether the job finished, "
            "failed or was lost: it can only guess or resubmit, which repeats the work."
        ),
        example=(
            '@app.post("/reports", status_code=202)  # FTL304: nothing to poll\n'
            "def start_report(payload: ReportIn) -> dict[str, str]:\n"
            '    return {"task_id": build_report.delay(payload.month).id}'
        ),
        use_instead=(
            '@app.get("/tasks/{task_id}")\n'
            "def task_status(task_id: str) -> dict[str, str]:\n"
            "    result = AsyncResult(task_id, app=celery_app)\n"
            '    return {"task_id": task_id, "status": result.state}  # PENDING, SUCCESS, ...'
        ),
        references=("https://docs.celeryq.dev/en/stable/reference/celery.result.html",),
    )

    def wants(self, data: bytes, path: Path, project: ProjectIndex) -> bool:
        return super().wants(data, path, project) and may_define_routes(data)  # a job route

    def check(self, ctx: RuleContext) -> None:
        found = _unpolled(ctx.model.project)
        if not found or found[0].model is not ctx.model:
            return
        submission = found[0]
        others = "" if len(found) == 1 else f" ({len(found) - 1} more in this run)"
        ctx.report(
            submission.route.decorator,
            f"`{submission.function.name}` returns {submission.site.mechanism.with_article} job "
            f"to poll{others}, but no route reports a job's status; add e.g. "
            "`GET /tasks/{task_id}` that looks the job up and returns "
            "pending/running/completed/failed",
        )


def _find_unpolled(project: ProjectIndex) -> list[JobSubmission]:
    submissions = [
        submission
        for model in project.models(SUBMISSION_TRIGGERS, ROUTES)
        for submission in job_submissions(model)
    ]
    if not submissions:
        return []  # spares the scan for status routes, the costlier half
    for model in project.models(where=GET_ROUTES):
        if any(is_status_route(model, route) for route in model.routes):
            return []
    return submissions
