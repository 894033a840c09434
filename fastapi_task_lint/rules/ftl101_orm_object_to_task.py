"""FTL101: an ORM model instance handed to a task."""

from __future__ import annotations

from pathlib import Path

from fastapi_task_lint.rules.base import Rule, RuleContext, RuleDocs, quote
from fastapi_task_lint.semantics.captures import Reach, reaching_values
from fastapi_task_lint.semantics.origins import OriginKind
from fastapi_task_lint.semantics.project import ProjectIndex
from fastapi_task_lint.semantics.scheduling import SITE_TRIGGERS, SchedulingSite, site_filter
from fastapi_task_lint.semantics.values import task_label
from fastapi_task_lint.semantics.wrappers import helper_names


class OrmObjectToTask(Rule):
    code = "FTL101"
    name = "orm-object-to-task"
    summary = "ORM model instance passed to a background task or queued job"
    triggers = SITE_TRIGGERS
    facts = (helper_names,)
    docs = RuleDocs(
        what=(
            "Flags an ORM model instance (SQLAlchemy, SQLModel `table=True`, Django, Tortoise, "
            "Beanie, Peewee, or a class listed in `orm-base-classes`) passed to any scheduling "
            "site: `BackgroundTasks.add_task`, `BackgroundTask(...)`, Celery `.delay`/"
            "`.apply_async`/signatures (and `DjangoTask`'s `delay_on_commit`/"
            "`apply_async_on_commit`), ARQ, RQ, Dramatiq, Taskiq or APScheduler. The instance "
            "may be passed positionally, by keyword, inside a `functools.partial` (also one a "
            "project helper builds from its parameters), a lambda body, a nested `def` passed "
            "as the task or as one of its arguments, a list/tuple/dict literal, or an object "
            "built from it in the same function (`Report(order)`), and through project "
            "helpers that schedule their "
            "parameters (`run_later(background_tasks, send, order)`). Instances are "
            "recognised from query results "
            "(`db.get(User, id)`, `db.query(User).first()`, `db.scalars(select(User)).one()`, "
            "also with the query or statement built in a local first), "
            "constructors (`User(...)`), loops over query results and project functions "
            "annotated `-> User` or `-> list[User]`/`Sequence[User]`, or `-> Self` on the "
            "model or a base (`await Webhook.get_or_raise(db, id)` from a CRUD mixin)."
        ),
        why=(
            "The instance belongs to the request's session. By the time an in-process task "
            "runs, that session is closed or the object is detached, so touching a lazy "
            "attribute raises `DetachedInstanceError` (or silently reads stale data). A "
            "durable queue must serialize its arguments: Celery's default JSON serializer "
            "raises `kombu.exceptions.EncodeError` for a model object, and pickling one "
            "copies a stale snapshot into the worker."
        ),
        example=(
            '@router.post("/users")\n'
            "def create_user(data: UserIn, background_tasks: BackgroundTasks,\n"
            "                db: Session = Depends(get_db)):\n"
            "    user = User(email=data.email)\n"
            "    db.add(user)\n"
            "    db.commit()\n"
            "    background_tasks.add_task(send_welcome, user)  # FTL101"
        ),
        remedy=(
            "Pass the primary key (or the plain values the task needs) and load the row "
            "inside the task with its own session:"
        ),
        use_instead=(
            "background_tasks.add_task(send_welcome, user.id)\n"
            "\n"
            "\n"
            "def send_welcome(user_id: int) -> None:\n"
            "    with SessionLocal() as db:\n"
            "        user = db.get(User, user_id)\n"
            "        ..."
        ),
        references=(
            "https://fastapi.tiangolo.com/tutorial/background-tasks/",
            "https://docs.sqlalchemy.org/en/20/errors.html#error-bhk3",
        ),
    )

    def wants(self, data: bytes, path: Path, project: ProjectIndex) -> bool:
        return super().wants(data, path, project) and site_filter(project)(data)

    def check(self, ctx: RuleContext) -> None:
        for site in ctx.model.scheduling_sites:
            for reach in reaching_values(ctx.model, site):
                if reach.origin.kind in (OriginKind.ORM_INSTANCE, OriginKind.ORM_COLLECTION):
                    ctx.report(reach.node, _message(ctx, site, reach))


def _message(ctx: RuleContext, site: SchedulingSite, reach: Reach) -> str:
    name = ctx.model.code_for(reach.value)
    model_name = reach.origin.type_name
    task = task_label(ctx.model, site)
    load_in = f" inside {quote(task)}" if task else " inside the task"
    how = "" if reach.path == "as an argument" else f" {reach.path}"
    passed = f"is passed{how} to {site.reference(ctx.model)}"
    if reach.origin.kind is OriginKind.ORM_COLLECTION:
        return (
            f"{quote(name)} (ORM model `{model_name}` instances) {passed}; "
            f"pass their ids and load them{load_in}"
        )
    return (
        f"{quote(name)} (ORM model `{model_name}`) {passed}; "
        f"pass `{_id_of(name)}` and load it{load_in}"
    )


def _id_of(name: str) -> str:
    return f"{name}.id" if name.isidentifier() else "its id"
