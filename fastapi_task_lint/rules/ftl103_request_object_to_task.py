"""FTL103: a request-scoped object (Request, UploadFile, ...) handed to a task."""

from __future__ import annotations

from pathlib import Path

from fastapi_task_lint.rules.base import Rule, RuleContext, RuleDocs, quote
from fastapi_task_lint.semantics.captures import Reach, reaching_values
from fastapi_task_lint.semantics.origins import OriginKind
from fastapi_task_lint.semantics.project import ProjectIndex
from fastapi_task_lint.semantics.scheduling import SITE_TRIGGERS, SchedulingSite, site_filter
from fastapi_task_lint.semantics.values import task_label
from fastapi_task_lint.semantics.wrappers import helper_names

_WHAT_TO_PASS = {
    "Request": "the body bytes, form fields, headers or `request.client.host`",
    "HTTPConnection": "the headers, path parameters or `client.host`",
    "WebSocket": "the values the task needs, and report back through a broker or the DB",
    "UploadFile": "the bytes (`await file.read()`) or the path of a copy saved first",
    "Response": "the values the task needs",
    "BackgroundTasks": "nothing: add every task in the handler",
}


class RequestObjectToTask(Rule):
    code = "FTL103"
    name = "request-object-to-task"
    summary = "Request, UploadFile, WebSocket or another request-scoped object handed to a task"
    triggers = SITE_TRIGGERS
    facts = (helper_names,)
    docs = RuleDocs(
        what=(
            "Flags a `Request`, `Response`, `WebSocket`, `HTTPConnection`, `UploadFile` or "
            "`BackgroundTasks` object (FastAPI's or Starlette's, resolved through imports, "
            "aliases and `Annotated`) that reaches a task: passed as an argument, captured "
            "by a lambda or nested `def` passed as the task or as one of its arguments, "
            "bound in a `functools.partial` "
            "(also one a project helper builds), or carried inside an object built from it. "
            "Values read from the object (`request.client.host`, `await file.read()`, "
            "`request.headers.get(...)`) and a name rebound to such a value before the call "
            "are not flagged."
        ),
        why=(
            "These objects live as long as the request. After the response the request body "
            "stream has been consumed: reading it raises `ClientDisconnect` under a real "
            "server (TestClient hides this). FastAPI 0.106-0.117 closed `UploadFile`s before "
            "background tasks ran (`ValueError: I/O operation on closed file`). A durable "
            "queue cannot serialize them, and holding them keeps the request's memory alive "
            "for the task's whole run."
        ),
        example=(
            '@router.put("/users/{user_id}/avatar")\n'
            "async def upload_avatar(user_id: int, file: UploadFile,\n"
            "                        background_tasks: BackgroundTasks):\n"
            "    background_tasks.add_task(store_avatar, user_id, file)  # FTL103"
        ),
        remedy="Read what the task needs in the handler and pass those values:",
        use_instead=(
            "data = await file.read()\nbackground_tasks.add_task(store_avatar, user_id, data)"
        ),
        references=(
            "https://fastapi.tiangolo.com/tutorial/background-tasks/",
            "https://github.com/fastapi/fastapi/releases/tag/0.106.0",
            "https://www.starlette.io/requests/#body",
        ),
    )

    def wants(self, data: bytes, path: Path, project: ProjectIndex) -> bool:
        return super().wants(data, path, project) and site_filter(project)(data)

    def check(self, ctx: RuleContext) -> None:
        for site in ctx.model.scheduling_sites:
            for reach in reaching_values(ctx.model, site):
                if reach.origin.kind is OriginKind.REQUEST_OBJECT:
                    ctx.report(reach.node, _message(ctx, site, reach))


def _message(ctx: RuleContext, site: SchedulingSite, reach: Reach) -> str:
    model = ctx.model
    kind = reach.origin.type_name
    task = task_label(model, site)
    into = f"`{task}`" if task else "the task"
    instead = _WHAT_TO_PASS.get(
        kind.removeprefix("list[").removesuffix("]"), "the values the task needs"
    )
    return (
        f"{quote(model.code_for(reach.value))} (`{kind}`) reaches {into} {reach.path}, "
        f"scheduled by {site.reference(model)}; it belongs to the request, which is over "
        f"when the task runs. Pass {instead}"
    )
