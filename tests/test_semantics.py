"""The semantic model, queried directly: names, types, sites, routes, ORM models, origins."""

from __future__ import annotations

import textwrap
from pathlib import Path

import libcst as cst
import pytest

from fastapi_task_lint.config import Config
from fastapi_task_lint.semantics.blocking import BlockingPolicy, blocking_uses
from fastapi_task_lint.semantics.guards import Value, literal_value, ruled_out, truth
from fastapi_task_lint.semantics.model import ModuleModel, TypeRef
from fastapi_task_lint.semantics.origins import OriginKind, value_origin
from fastapi_task_lint.semantics.project import ProjectIndex, module_name_for
from fastapi_task_lint.semantics.scheduling import Mechanism
from tests.fixture_harness import lint


def model_of(source: str, tmp_path: Path, name: str = "mod.py", **files: str) -> ModuleModel:
    for other, text in files.items():
        path = tmp_path / other
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    project = ProjectIndex(sorted(tmp_path.rglob("*.py")), Config(root=tmp_path))
    model = project.model_for_path(path)
    assert model is not None
    return model


def function(model: ModuleModel, name: str):  # type: ignore[no-untyped-def]
    return next(f for f in model.functions if f.name == name)


def statement_types(model: ModuleModel, name: str) -> list[TypeRef | None]:
    """The class `infer_type` gives each expression statement of function `name`'s body."""
    f = function(model, name)
    values = [line.body[0].value for line in f.node.body.body]  # type: ignore[attr-defined]
    return [model.infer_type(value, f.scope) for value in values]


def test_qualified_names_through_aliases(tmp_path: Path) -> None:
    model = model_of(
        """
        import time as t
        from os import path as p
        from fastapi import BackgroundTasks as BT

        def sleep(x): ...

        def f():
            t.sleep(1)
            p.join("a")
            sleep(2)
            BT()
        """,
        tmp_path,
    )
    resolved = [model.resolve_call(c) for c in function(model, "f").calls]
    assert resolved == [
        "time.sleep",
        "os.path.join",
        "mod.sleep",
        "starlette.background.BackgroundTasks",
    ]


def test_module_names_follow_init_files(tmp_path: Path) -> None:
    (tmp_path / "app" / "api").mkdir(parents=True)
    for init in ("app/__init__.py", "app/api/__init__.py"):
        (tmp_path / init).write_text("")
    (tmp_path / "app" / "api" / "routes.py").write_text("")
    assert module_name_for(tmp_path / "app" / "api" / "routes.py") == ("app.api.routes", False)
    assert module_name_for(tmp_path / "app" / "api" / "__init__.py") == ("app.api", True)


SITES = """
    import dramatiq
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from arq.connections import ArqRedis
    from celery import Celery, shared_task, signature
    from fastapi import BackgroundTasks
    from functools import partial
    from rich.progress import Progress
    from rq import Queue
    from starlette.background import BackgroundTask

    app = Celery()
    scheduler = AsyncIOScheduler()

    @app.task
    def celery_job(x): ...

    @shared_task(bind=True)
    def shared_job(self, x): ...

    @dramatiq.actor
    def actor_job(x): ...

    def plain(x): ...

    async def handler(tasks: BackgroundTasks, progress: Progress, redis: ArqRedis, q: Queue):
        tasks.add_task(plain, 1)
        tasks.add_task(partial(plain, 2), 3)
        BackgroundTask(plain, 4)
        celery_job.delay(5)
        shared_job.apply_async(args=[6], kwargs={"y": 7})
        celery_job.s(8)
        signature(celery_job, args=(9,))
        app.send_task("name", args=[10])
        actor_job.send(11)
        actor_job.send_with_options(args=(12,))
        await redis.enqueue_job("job", 13)
        q.enqueue(plain, 14)
        scheduler.add_job(plain, "interval", args=[15])
        progress.add_task("not a site", total=100)
        plain.delay(16)
"""


def test_scheduling_sites_for_every_mechanism(tmp_path: Path) -> None:
    model = model_of(SITES, tmp_path)
    found = [
        (
            s.mechanism,
            s.api,
            model.code_for(s.callable) if s.callable is not None else s.task_name,
            [model.code_for(a.value) for a in s.arguments],
        )
        for s in model.scheduling_sites
    ]
    assert found == [
        (Mechanism.BACKGROUND_TASKS, "add_task", "plain", ["1"]),
        (Mechanism.BACKGROUND_TASKS, "add_task", "plain", ["2", "3"]),
        (Mechanism.BACKGROUND_TASK, "BackgroundTask", "plain", ["4"]),
        (Mechanism.CELERY, "delay", "celery_job", ["5"]),
        (Mechanism.CELERY, "apply_async", "shared_job", ["6", "7"]),
        (Mechanism.CELERY, "s", "celery_job", ["8"]),
        (Mechanism.CELERY, "signature", "celery_job", ["9"]),
        (Mechanism.CELERY, "send_task", "name", ["10"]),
        (Mechanism.DRAMATIQ, "send", "actor_job", ["11"]),
        (Mechanism.DRAMATIQ, "send_with_options", "actor_job", ["12"]),
        (Mechanism.ARQ, "enqueue_job", "job", ["13"]),
        (Mechanism.RQ, "enqueue", "plain", ["14"]),
        (Mechanism.APSCHEDULER, "add_job", "plain", ["15"]),
    ]
    kinds = {s.mechanism.kind for s in model.scheduling_sites}
    assert kinds == {"in-process", "durable", "scheduler"}


def test_receivers_are_resolved_not_guessed(tmp_path: Path) -> None:
    model = model_of(
        """
        from fastapi import FastAPI

        app = FastAPI()

        class TaskQueue:
            def add_task(self, fn): ...

        task_queue = TaskQueue()

        def work(): ...

        @app.post("/jobs")
        def create_task(queue: TaskQueue):
            task_queue.add_task(work)
            queue.add_task(work)
        """,
        tmp_path,
    )
    assert model.scheduling_sites == []
    assert [r.function.name for r in model.routes] == ["create_task"]


def test_background_tasks_through_annotated_alias_and_dependency(tmp_path: Path) -> None:
    model = model_of(
        """
        from typing import Annotated
        from fastapi import BackgroundTasks, Depends

        Tasks = Annotated[BackgroundTasks, "injected"]

        def dep(bg: "BackgroundTasks"):
            bg.add_task(print)

        def handler(t: Tasks, other: Annotated[BackgroundTasks, Depends()]):
            t.add_task(print)
            other.add_task(print)
        """,
        tmp_path,
    )
    assert len(model.scheduling_sites) == 3


def test_routes(tmp_path: Path) -> None:
    model = model_of(
        """
        from fastapi import APIRouter
        from .main import app

        router = APIRouter()

        @router.get("/a/{item_id}", status_code=202)
        async def read(item_id: int): ...

        @app.api_route("/b", methods=["PUT", "POST"])
        def write(): ...

        def added(): ...

        router.add_api_route("/c", added, methods=["DELETE"])

        @other.get("/x")
        def not_a_route(): ...
        """,
        tmp_path,
        name="pkg/routes.py",
        **{"pkg/__init__.py": "", "pkg/main.py": "from fastapi import FastAPI\napp = FastAPI()\n"},
    )
    routes = {(r.function.name, r.methods, r.path) for r in model.routes}
    assert routes == {
        ("read", ("get",), "/a/{item_id}"),
        ("write", ("put", "post"), "/b"),
        ("added", ("delete",), "/c"),
    }
    read = next(r for r in model.routes if r.function.name == "read")
    assert isinstance(read.keyword("status_code"), cst.Integer)


@pytest.mark.parametrize(
    "definition",
    [
        "from sqlalchemy.orm import DeclarativeBase\nclass Base(DeclarativeBase): ...\n"
        "class User(Base): ...",
        "from sqlalchemy.orm import declarative_base\nBase = declarative_base()\n"
        "class User(Base): ...",
        "from sqlalchemy.ext.declarative import declarative_base\nBase = declarative_base()\n"
        "class Mixin(Base): ...\nclass User(Mixin): ...",
        "from sqlalchemy.orm import registry\nmapper_registry = registry()\n"
        "Base = mapper_registry.generate_base()\nclass User(Base): ...",
        "from sqlmodel import SQLModel\nclass User(SQLModel, table=True): ...",
        "from django.db import models\nclass User(models.Model): ...",
        "from tortoise.models import Model\nclass User(Model): ...",
        "from beanie import Document\nclass User(Document): ...",
    ],
)
def test_orm_models(tmp_path: Path, definition: str) -> None:
    model = model_of(definition, tmp_path)
    assert model.orm.is_model_class("mod.User")


@pytest.mark.parametrize(
    "definition",
    [
        "from sqlmodel import SQLModel\nclass User(SQLModel): ...",  # no table=True: a schema
        "from pydantic import BaseModel\nclass User(BaseModel): ...",
        "from dataclasses import dataclass\n@dataclass\nclass User: ...",
        "from sqlalchemy.orm import DeclarativeBase\nclass User(DeclarativeBase): ...",
    ],
)
def test_not_orm_models(tmp_path: Path, definition: str) -> None:
    model = model_of(definition, tmp_path)
    assert not model.orm.is_model_class("mod.User")


def test_orm_model_imported_from_another_module_and_configured_bases(tmp_path: Path) -> None:
    model = model_of(
        "from app.models import User\nfrom app.base import Custom\n",
        tmp_path,
        **{
            "app/__init__.py": "",
            "app/models.py": "from .db import Base\nclass User(Base): ...\n",
            "app/db.py": "from sqlalchemy.orm import declarative_base\nBase = declarative_base()\n",
            "app/base.py": "class Model: ...\nclass Custom(Model): ...\n",
        },
    )
    assert model.orm.is_model_class("app.models.User")
    assert not model.orm.is_model_class("app.base.Custom")
    project = ProjectIndex(model.project.paths, Config(orm_base_classes=("app.base.Model",)))
    configured = project.model_for_path(model.path)
    assert configured is not None and configured.orm.is_model_class("app.base.Custom")


def test_value_origins(tmp_path: Path) -> None:
    model = model_of(
        """
        from typing import Annotated
        from fastapi import Depends, Request, UploadFile
        from sqlalchemy import select
        from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
        from sqlalchemy.ext.asyncio import AsyncSession

        SessionLocal = sessionmaker()

        class Base(DeclarativeBase): ...
        class User(Base): ...

        def get_db():
            db = SessionLocal()
            try:
                yield db
            finally:
                db.close()

        def load(db: Session) -> User: ...
        def load_all(db: Session) -> list[User]: ...

        async def handler(
            request: Request,
            file: UploadFile,
            db: Session = Depends(get_db),
            adb: Annotated[AsyncSession, Depends()] = None,
        ):
            a = db.get(User, 1)
            b = db.query(User).filter_by(id=1).one()
            c = (await adb.execute(select(User))).scalar_one_or_none()
            d = load(db)
            e = load_all(db)
            f = a.id
            g = await request.json()
            own = SessionLocal()
            marker()
        """,
        tmp_path,
    )
    handler = function(model, "handler")
    order = handler.calls[-1].order

    def origin(name: str) -> tuple[OriginKind, str] | None:
        found = value_origin(model, cst.Name(name), handler.scope, order)
        return (found.kind, found.type_name) if found else None

    assert origin("a") == (OriginKind.ORM_INSTANCE, "User")
    assert origin("b") == (OriginKind.ORM_INSTANCE, "User")
    assert origin("d") == (OriginKind.ORM_INSTANCE, "User")
    assert origin("e") == (OriginKind.ORM_COLLECTION, "User")
    assert origin("f") is None
    assert origin("g") is None
    assert origin("db") == (OriginKind.SESSION, "Session")
    assert origin("adb") == (OriginKind.SESSION, "AsyncSession")
    assert origin("own") == (OriginKind.SESSION, "Session")
    assert origin("request") == (OriginKind.REQUEST_OBJECT, "Request")
    assert origin("file") == (OriginKind.REQUEST_OBJECT, "UploadFile")


def test_project_index_follows_reexports_and_star_imports(tmp_path: Path) -> None:
    model = model_of(
        "from app import send_welcome, notify\n",
        tmp_path,
        **{
            "app/__init__.py": "from .tasks import send_welcome\nfrom .more import *\n",
            "app/tasks.py": "def send_welcome(user_id): ...\n",
            "app/more.py": "async def notify(): ...\n",
        },
    )
    found = model.project.resolve_function("app.send_welcome")
    assert found is not None and found[1].qualname == "app.tasks.send_welcome"
    star = model.project.resolve_function("app.notify")
    assert star is not None and star[1].is_async


def count_module_lookups(project: ProjectIndex, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every module name `project` is asked for from now on; a runaway search fails fast."""
    lookups: list[str] = []
    module = project.module

    def counted(name: str) -> ModuleModel | None:
        lookups.append(name)
        assert len(lookups) < 10_000, "runaway search"
        return module(name)

    monkeypatch.setattr(project, "module", counted)
    return lookups


def test_missing_name_behind_mutual_star_imports_is_searched_once_per_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pydantic.v1-style packages: every module star-imports every other one."""
    names = [f"m{i}" for i in range(12)]
    star_all = "".join(f"from pkg.{n} import *\n" for n in names)
    model = model_of(
        "from pkg import missing\n",
        tmp_path,
        **{"pkg/__init__.py": star_all, **{f"pkg/{n}.py": star_all for n in names}},
    )
    lookups = count_module_lookups(model.project, monkeypatch)
    assert model.project.resolve("pkg.missing") is None
    assert model.project.resolve_function("pkg.m3.missing") is None
    assert len(lookups) < 1000, "the search revisits names"


@pytest.mark.parametrize(
    ("init", "most_lookups"),
    [
        ("from .errors import *\n", 3),  # pydantic: the star module is not among the checked files
        ("from .errors import errors\n", 150),  # each hop looks up a longer name, up to a limit
    ],
)
def test_names_of_unchecked_modules_do_not_grow_without_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, init: str, most_lookups: int
) -> None:
    model = model_of("from pkg.errors import BaseModel\n", tmp_path, **{"pkg/__init__.py": init})
    lookups = count_module_lookups(model.project, monkeypatch)
    assert model.project.resolve("pkg.errors.BaseModel") is None
    assert len(lookups) <= most_lookups


def test_a_package_module_is_not_found_by_its_last_name_alone(tmp_path: Path) -> None:
    files = {
        "lib/__init__.py": "",
        "lib/utils/__init__.py": "",
        "lib/utils/math.py": "def floor(x):\n    return x\n",
        "scripts/tasks.py": "def send():\n    pass\n",
    }
    project = model_of("import math\n", tmp_path, **files).project
    # `import math` is the standard library's, not `lib/utils/math.py`.
    assert project.resolve("math.floor") is None
    found = project.resolve("lib.utils.math.floor")
    assert found is not None and found.function is not None
    # Code run from inside `lib/` imports it as `utils.math`.
    found = project.resolve("utils.math.floor")
    assert found is not None and found.function is not None
    # A script's folder is no package: `scripts.tasks` (a namespace package) still resolves.
    found = project.resolve("scripts.tasks.send")
    assert found is not None and found.function is not None


def test_a_folder_without_init_inside_a_package_is_a_namespace_portion(tmp_path: Path) -> None:
    root = tmp_path / "project"
    files = {
        "app/__init__.py": "",
        "app/routers/chats.py": "",  # no `__init__.py` in routers/ (PEP 420)
        "app/_vendor/lib/__init__.py": "",
        "app/_vendor/lib/core.py": "",
        "scripts/seed.py": "",  # a folder of scripts, in no package
        # Distributions checked out inside the package: their imports start below them.
        "app/dists/open-webui/open_webui/__init__.py": "",
        "app/dists/open-webui/open_webui/routers/chats.py": "",
        "app/dists/celery/celery/__init__.py": "",
        "app/dists/celery/celery/app/task.py": "",
    }
    for name in files:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("")
    (tmp_path / "__init__.py").write_text("")  # a package above the project names nothing

    def name(path: str) -> str:
        return module_name_for(root / path, root=root)[0]

    assert name("app/routers/chats.py") == "app.routers.chats"
    assert name("app/_vendor/lib/core.py") == "app._vendor.lib.core"
    assert name("scripts/seed.py") == "seed"
    assert name("app/dists/open-webui/open_webui/routers/chats.py") == "open_webui.routers.chats"
    assert name("app/dists/celery/celery/app/task.py") == "celery.app.task"
    # Without the project's root, only folders with `__init__.py` are packages, as before.
    assert module_name_for(root / "app/routers/chats.py")[0] == "chats"
    # `import chats` (a library's name, say) is not the router: it is found by its own name.
    project = ProjectIndex(sorted(root.rglob("*.py")), Config(root=root))
    assert project.module_path("chats") is None
    assert project.module_path("app.routers.chats") == (root / "app/routers/chats.py").absolute()


def test_a_failing_fact_is_computed_once_and_fails_every_ask(tmp_path: Path) -> None:
    """A fact that raises (a bug) is not computed again for each file that asks for it."""
    project = ProjectIndex([], Config(root=tmp_path))
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        raise RecursionError("maximum recursion depth exceeded")

    for _ in range(3):
        with pytest.raises(RecursionError, match="maximum recursion depth exceeded"):
            project.memo("task scan", compute)
    assert calls == [1]
    assert project.memo("another fact", lambda: 42) == 42


@pytest.mark.parametrize(
    ("test", "values", "expected"),
    [
        ("flag", {"flag": Value.FALSY}, False),
        ("flag", {"flag": Value.TRUTHY}, True),
        ("flag", {"flag": Value.SOME}, None),
        ("not flag", {"flag": Value.NONE}, True),
        ("user is None", {"user": Value.SOME}, False),
        ("user is not None", {"user": Value.NONE}, False),
        ("user != None", {"user": Value.FALSY}, True),
        ("flag and other", {"flag": Value.FALSY}, False),
        ("flag and other", {"flag": Value.TRUTHY}, None),
        ("flag or other", {"flag": Value.TRUTHY}, True),
        ("flag or other", {"flag": Value.FALSY}, None),
        ("flag or other", {"flag": Value.FALSY, "other": Value.NONE}, False),
        ("flag == 0", {"flag": Value.FALSY}, None),
        ("flag", {}, None),
        ("name", {"name": ""}, False),
        ("name.startswith('oidc/')", {"name": "oidc/x"}, True),
        ("name.startswith(('file/', 'oidc/'))", {"name": "KEY"}, False),
        ("name.endswith('.json')", {"name": "a.json"}, True),
        ("name.startswith(prefix)", {"name": "KEY"}, None),
        ("name.startswith('oidc/')", {"name": Value.SOME}, None),
        ("name == 'env'", {"name": "env"}, True),
        ("name != 'env'", {"name": "env"}, False),
        ("name in ('a', 'b')", {"name": "c"}, False),
        ("name not in ['a', 'b']", {"name": "a"}, False),
        ("name in 'abc'", {"name": "b"}, None),  # a substring test
        ("name is None", {"name": "x"}, False),
        ("self.kind == 'file'", {"self.kind": "disk"}, False),
    ],
)
def test_guard_tests_are_decided_only_by_what_is_known(
    test: str, values: dict[str, Value | str], expected: bool | None
) -> None:
    assert truth(cst.parse_expression(test), values) is expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("None", Value.NONE),
        ("False", Value.FALSY),
        ("0", Value.FALSY),
        ("-0.0", Value.FALSY),
        ("''", ""),  # a string literal is its text, which `truth` can test
        ("'oidc/x'", "oidc/x"),
        ("b'x'", Value.TRUTHY),
        ("0x10", Value.TRUTHY),
        ("[]", Value.FALSY),
        ("(1,)", Value.TRUTHY),
        ("f'{x}'", Value.SOME),
        ("'a' 'b'", Value.SOME),
        ("name", None),
        ("make()", None),
    ],
)
def test_literal_values(code: str, expected: Value | str | None) -> None:
    assert literal_value(cst.parse_expression(code)) == expected


def test_branches_record_the_arms_a_parameter_test_decides(tmp_path: Path) -> None:
    model = model_of(
        """
        def f(flag, items):
            if flag:
                first()
            elif other():
                second()
            else:
                third()
            value = fourth() if items is None else fifth()
            for flag in items:
                if flag:
                    sixth()
            [seventh() for items in ()  if items]
        """,
        tmp_path,
    )
    info = function(model, "f")
    calls = {c.node.func.value: c for c in info.calls}  # type: ignore[union-attr]
    # `if flag` and `x if items is None else y` read parameters; `elif other()` does not,
    # and a test in a comprehension reads the comprehension's own name.
    assert [cst.Module([]).code_for_node(b.test) for b in info.branches] == [
        "flag",
        "items is None",
        "flag",
        "items",  # the loop's, recorded once its body is walked
    ]
    first, ternary, looped, loop = info.branches
    assert not first.in_loop and looped.in_loop and not loop.in_loop
    assert loop.one_armed and not looped.one_armed

    def arm(span: tuple[int, int]) -> list[str]:
        return [name for name, c in calls.items() if span[0] < c.order <= span[1]]

    assert arm(first.taken) == ["first"]
    assert arm(first.skipped) == ["other", "second", "third"]
    assert arm(ternary.taken) == ["fourth"]
    assert arm(ternary.skipped) == ["fifth"]
    assert arm(loop.taken) == ["sixth"]
    assert ruled_out(model, info, (("flag", Value.FALSY),)) == (first.taken,)
    # The loop rebinds `flag`: its test inside the loop is not the parameter's.
    assert ruled_out(model, info, (("flag", Value.TRUTHY), ("items", Value.SOME))) == (
        first.skipped,
        ternary.taken,
    )
    # An empty `items` skips the loop's body; a loop over a non-empty one rules out nothing.
    assert ruled_out(model, info, (("items", Value.FALSY),)) == (ternary.taken, loop.taken)
    assert ruled_out(model, info, (("items", Value.TRUTHY),)) == (ternary.taken,)


def test_a_legacy_query_blocks_where_it_runs_not_where_it_is_built(tmp_path: Path) -> None:
    """`Session.query()` builds a Query; its SQL runs at `.first()`, `.count()`, ..."""
    model = model_of(
        """
        from sqlalchemy.orm import Session

        def load(db: Session, user_id: int):
            query = db.query(User).filter(User.id == user_id)
            text = str(db.query(User).order_by(User.id))
            return query.options().first(), db.query(User).count(), text
        """,
        tmp_path,
    )
    uses = blocking_uses(model, function(model, "load"), BlockingPolicy())
    assert [(model.code_for(u.call.node), u.blocking.name) for u in uses] == [
        ("query.options().first()", "Query.first"),
        ("db.query(User).count()", "Query.count"),
    ]


def test_a_union_names_a_class_only_when_its_members_agree(tmp_path: Path) -> None:
    model = model_of(
        """
        from typing import Optional, Union

        import httpx
        from sqlalchemy.orm import Session

        def f(
            a: Optional[Session],
            b: Session | None,
            c: Union[Session, httpx.AsyncClient],
            d: Session | httpx.AsyncClient | None,
            e: Union[None, Session],
        ): ...
        """,
        tmp_path,
    )
    f = function(model, "f")
    types = {p.name: model.annotation_type(p.annotation, f.parent_scope) for p in f.params}
    session = TypeRef("sqlalchemy.orm.Session")
    assert types == {"a": session, "b": session, "c": None, "d": None, "e": session}


def test_an_attribute_is_typed_by_what_its_class_assigns(tmp_path: Path) -> None:
    model = model_of(
        """
        import httpx
        from sqlalchemy.orm import Session

        class Service:
            declared: httpx.Client
            shared = httpx.Client()

            def __init__(self, db: Session) -> None:
                self.db = db
                self.client = httpx.Client()
                self.changes = httpx.Client()
                self.count = 0
                self.later_client = None
                self.optional: httpx.Client | None = None

            def later(self) -> None:
                self.changes = httpx.AsyncClient()
                self.count += 1
                self.later_client = httpx.Client()

        service = Service(None)

        def f(s: Service):
            s.shared
            s.db
            s.client
            s.declared
            s.changes
            s.count
            service.db
            s.later_client
            s.optional
        """,
        tmp_path,
    )
    types = statement_types(model, "f")
    assert types == [
        TypeRef("httpx.Client"),  # the class-level value
        TypeRef("sqlalchemy.orm.Session"),
        TypeRef("httpx.Client"),
        TypeRef("httpx.Client"),
        None,  # assigned two classes
        None,  # `+=` says nothing of the class
        TypeRef("sqlalchemy.orm.Session"),
        TypeRef("httpx.Client"),  # `= None` first says nothing of the class either
        TypeRef("httpx.Client"),  # but an annotation with it does
    ]


def test_a_declarative_base_derives_from_its_cls_mixin(tmp_path: Path) -> None:
    model = model_of(
        """
        from sqlalchemy.ext.declarative import declarative_base as make_base

        from db.mixins import CrudMixin

        def declarative_base(cls: type) -> type:
            return type("Base", (), {})

        Base = make_base(cls=CrudMixin)
        PlainBase = make_base()
        LocalBase = declarative_base(cls=CrudMixin)

        class User(Base): ...
        class Plain(PlainBase): ...
        class Local(LocalBase): ...
        """,
        tmp_path,
        **{"db/__init__.py": "", "db/mixins.py": "class CrudMixin: ...\n"},
    )
    assert model.base_classes("mod.Base") == ["db.mixins.CrudMixin"]
    assert model.base_classes("mod.User") == ["mod.Base"]
    assert "db.mixins.CrudMixin" in model.ancestors("mod.User")
    assert model.base_classes("mod.PlainBase") == []
    assert "db.mixins.CrudMixin" not in model.ancestors("mod.Local")


def test_an_attribute_a_subclass_assigns_is_typed_by_the_subclass(tmp_path: Path) -> None:
    model = model_of(
        """
        import httpx
        import requests

        class Base:
            def __init__(self) -> None:
                self.client = requests.Session()

        class Zeta(Base):
            def __init__(self) -> None:
                self.client = httpx.AsyncClient()

        def f(a: Zeta, b: Base):
            a.client
            b.client
        """,
        tmp_path,
    )
    types = statement_types(model, "f")
    assert types == [TypeRef("httpx.AsyncClient"), TypeRef("requests.Session")]


def test_an_element_of_an_annotated_container_is_typed(tmp_path: Path) -> None:
    model = model_of(
        """
        from typing import Mapping

        import httpx

        class Registry:
            def __init__(self) -> None:
                self.clients: dict[str, httpx.Client] = {}

        clients: list[httpx.Client] = []

        def f(by_name: Mapping[str, httpx.Client], pair: tuple[str, httpx.Client], r: Registry):
            by_name["a"]
            clients[0]
            r.clients["a"]
            pair[1]
            clients[1:]
        """,
        tmp_path,
    )
    types = statement_types(model, "f")
    client = TypeRef("httpx.Client")
    assert types == [client, client, client, None, None]


def test_attributes_and_methods_are_looked_up_in_python_order(tmp_path: Path) -> None:
    """The class's own, then each base and its bases, left to right: not by name."""
    model = model_of(
        """
        import httpx
        import requests

        class Apex:
            def __init__(self) -> None:
                self.client = requests.Session()

            def make(self) -> requests.Session: ...

        class Near(Apex):
            def __init__(self) -> None:
                self.client = httpx.AsyncClient()

            def make(self) -> httpx.AsyncClient: ...

        class Mixin:
            def make(self) -> httpx.Client: ...

        class Service(Near, Mixin):
            pass

        def f(s: Service):
            s.client
            s.make()
        """,
        tmp_path,
    )
    types = statement_types(model, "f")
    assert types == [TypeRef("httpx.AsyncClient"), TypeRef("httpx.AsyncClient")]


def test_long_isinstance_chains_and_attribute_chains_are_checked(tmp_path: Path) -> None:
    """Hundreds of `elif isinstance(...)` are recorded in a loop, not one stack frame deeper
    each; an attribute typed through hundreds of others gives up instead of recursing."""
    branches = "\n".join(
        f"    elif isinstance(value, C{n}):\n        return {n}" for n in range(1, 500)
    )
    classes = "\n".join(f"class C{n}: ..." for n in range(500))
    chain = "\n".join(f"        self.b{n} = self.b{n + 1}" for n in range(300))
    source = f"""
import requests
from fastapi import FastAPI

app = FastAPI()

{classes}

def kind(value):
    if isinstance(value, C0):
        return 0
{branches}
    if isinstance(value, requests.Session):
        return value.get("http://x")

class Deep:
    def __init__(self) -> None:
{chain}
        self.b300 = requests.Session()

@app.get("/")
async def route():
    kind(None)
    return Deep().b0.get("http://x")
"""
    (tmp_path / "deep.py").write_text(source)
    findings = lint([tmp_path], Config(select=("FTL001", "FTL002", "FTL202"), root=tmp_path))
    assert [(d.code, d.message.split(" blocks")[0]) for d in findings] == [
        ("FTL202", "`kind(None)`")  # the narrowing after 500 tests still holds
    ]
