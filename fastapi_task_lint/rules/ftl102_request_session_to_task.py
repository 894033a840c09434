"""FTL102: the request's DB session handed to a task."""

from __future__ import annotations

from pathlib import Path

from fastapi_task_lint.rules.base import Rule, RuleContext, RuleDocs, quote
from fastapi_task_lint.semantics.captures import Reach, reaching_values
from fastapi_task_lint.semantics.model import ModuleModel
from fastapi_task_lint.semantics.origins import OriginKind
from fastapi_task_lint.semantics.project import ProjectIndex
from fastapi_task_lint.semantics.scheduling import SITE_TRIGGERS, SchedulingSite, site_filter
from fastapi_task_lint.semantics.scope import BindingKind, ScopeKind
from fastapi_task_lint.semantics.values import task_label
from fastapi_task_lint.semantics.wrappers import helper_names


class RequestSessionToTask(Rule):
    code = "FTL102"
    name = "request-session-to-task"
    summary = "the request's DB session is handed to a background task or queued job"
    triggers = SITE_TRIGGERS
    facts = (helper_names,)
    docs = RuleDocs(
        what=(
            "Flags a SQLAlchemy/SQLModel `Session` or `AsyncSession` that belongs to the "
            "request and reaches a task: a handler or dependency parameter annotated with a "
            "session type (also through `Annotated` and aliases), a parameter whose "
            "`Depends(...)` yields or returns a session, or a session the handler opened "
            "itself (`SessionLocal()`, a `session-factories` entry). It is found when passed "
            "positionally or by keyword, captured by a lambda or nested `def` passed as the "
            "task or as one of its arguments (a progress callback), bound in a "
            "`functools.partial` (also one a project helper builds from its "
            "parameters), or carried inside an object built from it in the same function "
            "(`OrderService(db)` passed on, or its bound method scheduled), or a parameter "
            "of a project class that keeps a session in an attribute (`dao: Dao = "
            "Depends(get_dao)`, whose dependency returns `Dao(db)`). Calls of project "
            "helpers that schedule their parameters count as scheduling sites."
        ),
        why=(
            "The session's lifetime is the request's. FastAPI 0.106-0.117 closed `yield` "
            "dependencies before background tasks ran, so the task works on a closed session "
            "(errors, or writes that silently go nowhere). FastAPI 0.118+ keeps the "
            "dependency open until the tasks finish: the pooled connection is held for the "
            "task's whole run, and when the task raises, the exception is re-raised into the "
            "dependency, so a `db.commit()` after `yield` is skipped. With "
            '`Depends(get_db, scope="function")` (0.121+) the session is closed before the '
            "task again. A durable queue cannot serialize a session at all. FastAPI's "
            "documentation has the task open its own session."
        ),
        example=(
            '@router.patch("/orders/{order_id}")\n'
            "def update_status(order_id: int, background_tasks: BackgroundTasks,\n"
            "                  db: Session = Depends(get_db)):\n"
            "    ...\n"
            "    background_tasks.add_task(record_audit_event, db, order_id)  # FTL102"
        ),
        remedy="Pass ids and plain values; open a new session inside the task:",
        use_instead=(
            "background_tasks.add_task(record_audit_event, order_id)\n"
            "\n"
            "\n"
            "def record_audit_event(order_id: int) -> None:\n"
            "    with SessionLocal() as db:\n"
            "        ..."
        ),
        references=(
            "https://fastapi.tiangolo.com/tutorial/background-tasks/",
            "https://fastapi.tiangolo.com/tutorial/dependencies/dependencies-with-yield/",
            "https://github.com/fastapi/fastapi/releases/tag/0.106.0",
            "https://github.com/fastapi/fastapi/releases/tag/0.118.0",
        ),
    )

    def wants(self, data: bytes, path: Path, project: ProjectIndex) -> bool:
        return super().wants(data, path, project) and site_filter(project)(data)

    def check(self, ctx: RuleContext) -> None:
        for site in ctx.model.scheduling_sites:
            for reach in reaching_values(ctx.model, site):
                if reach.origin.kind is not OriginKind.SESSION:
                    continue
                source = _request_source(ctx.model, reach)
                if source is not None:
                    ctx.report(reach.node, _message(ctx, site, reach, source))


def _request_source(model: ModuleModel, reach: Reach) -> str | None:
    """Where a request-bound session came from, or None when it is not request-bound.

    A parameter or a local of a function is request-bound; a module-level session is
    another problem, and an expression such as `SessionLocal()` passed straight to the
    task is a session the task owns.
    """
    binding = reach.binding()
    if binding is None:
        return None
    scope = model.scope_of_binding(binding)
    function = scope.function
    if scope.kind is not ScopeKind.FUNCTION or function is None:
        return None
    if binding.kind is BindingKind.PARAM and binding.param is not None:
        default = binding.param.default
        provided = f" = {model.code_for(default)}" if default is not None else ""
        annotation = binding.param.annotation
        declared = f": {model.code_for(annotation)}" if annotation is not None else ""
        return f"the parameter `{binding.name}{declared}{provided}` of `{function.name}`"
    if binding.kind in (BindingKind.ASSIGN, BindingKind.WITH) and binding.value is not None:
        line = model.position(binding.node).start.line
        return f"opened in `{function.name}` by `{model.code_for(binding.value)}` (line {line})"
    return None


def _message(ctx: RuleContext, site: SchedulingSite, reach: Reach, source: str) -> str:
    model = ctx.model
    name = model.code_for(reach.value)
    task = task_label(model, site)
    into = f" `{task}`" if task else " the task"
    return (
        f"DB session {quote(name)} ({reach.origin.type_name}, {source}) reaches{into} "
        f"{reach.path}, scheduled by {site.reference(model)}; the task runs after the response, "
        f"when the request's session is closed or still holds its connection. Pass ids "
        f"and open a new session inside{into}"
    )
