"""Qualified names of the library objects the rules care about, in one place.

Libraries re-export the same class under several paths (`fastapi.BackgroundTasks` is
Starlette's subclass, `sqlmodel.Session` is SQLAlchemy's). `canonical` maps every
spelling a user can import to one name, so rules compare a single string.
"""

from __future__ import annotations

import libcst as cst

_ALIASES: dict[str, str] = {
    # FastAPI / Starlette
    "fastapi.BackgroundTasks": "starlette.background.BackgroundTasks",
    "fastapi.background.BackgroundTasks": "starlette.background.BackgroundTasks",
    "fastapi.Request": "starlette.requests.Request",
    "fastapi.requests.Request": "starlette.requests.Request",
    "fastapi.HTTPConnection": "starlette.requests.HTTPConnection",
    "fastapi.requests.HTTPConnection": "starlette.requests.HTTPConnection",
    "fastapi.WebSocket": "starlette.websockets.WebSocket",
    "fastapi.websockets.WebSocket": "starlette.websockets.WebSocket",
    "fastapi.UploadFile": "starlette.datastructures.UploadFile",
    "fastapi.datastructures.UploadFile": "starlette.datastructures.UploadFile",
    "fastapi.Response": "starlette.responses.Response",
    "fastapi.responses.Response": "starlette.responses.Response",
    "fastapi.responses.JSONResponse": "starlette.responses.JSONResponse",
    "fastapi.responses.HTMLResponse": "starlette.responses.HTMLResponse",
    "fastapi.responses.PlainTextResponse": "starlette.responses.PlainTextResponse",
    "fastapi.responses.RedirectResponse": "starlette.responses.RedirectResponse",
    "fastapi.responses.StreamingResponse": "starlette.responses.StreamingResponse",
    "fastapi.responses.FileResponse": "starlette.responses.FileResponse",
    "fastapi.applications.FastAPI": "fastapi.FastAPI",
    "fastapi.routing.APIRouter": "fastapi.APIRouter",
    "fastapi.param_functions.Depends": "fastapi.Depends",
    "fastapi.params.Depends": "fastapi.Depends",
    # SQLAlchemy / SQLModel
    "sqlalchemy.orm.session.Session": "sqlalchemy.orm.Session",
    "sqlmodel.Session": "sqlalchemy.orm.Session",
    "sqlmodel.orm.session.Session": "sqlalchemy.orm.Session",
    "sqlalchemy.ext.asyncio.session.AsyncSession": "sqlalchemy.ext.asyncio.AsyncSession",
    "sqlmodel.ext.asyncio.session.AsyncSession": "sqlalchemy.ext.asyncio.AsyncSession",
    "sqlalchemy.orm.session.sessionmaker": "sqlalchemy.orm.sessionmaker",
    "sqlalchemy.ext.asyncio.session.async_sessionmaker": (
        "sqlalchemy.ext.asyncio.async_sessionmaker"
    ),
    "sqlalchemy.orm.scoping.scoped_session": "sqlalchemy.orm.scoped_session",
    "sqlalchemy.ext.asyncio.scoping.async_scoped_session": (
        "sqlalchemy.ext.asyncio.async_scoped_session"
    ),
    "sqlalchemy.ext.declarative.declarative_base": "sqlalchemy.orm.declarative_base",
    "sqlalchemy.orm.decl_api.declarative_base": "sqlalchemy.orm.declarative_base",
    "sqlalchemy.orm.decl_api.DeclarativeBase": "sqlalchemy.orm.DeclarativeBase",
    "sqlalchemy.orm.decl_api.registry": "sqlalchemy.orm.registry",
    "sqlalchemy.future.select": "sqlalchemy.select",
    "sqlalchemy.sql.select": "sqlalchemy.select",
    "sqlmodel.select": "sqlalchemy.select",
    "sqlmodel.main.SQLModel": "sqlmodel.SQLModel",
    # Task queues
    "celery.app.base.Celery": "celery.Celery",
    "celery.app.task.Task": "celery.Task",
    "celery.app.shared_task": "celery.shared_task",
    "celery.canvas.signature": "celery.signature",
    "rq.queue.Queue": "rq.Queue",
    "arq.connections.create_pool": "arq.create_pool",
    "arq.ArqRedis": "arq.connections.ArqRedis",
    "dramatiq.actor.actor": "dramatiq.actor",
    "functools.partial": "functools.partial",
    "typing_extensions.Annotated": "typing.Annotated",
    "typing_extensions.Optional": "typing.Optional",
}


def canonical(qualname: str) -> str:
    """The one spelling of `qualname` that rules compare against."""
    alias = _ALIASES.get(qualname)
    if alias is not None:
        return alias
    for prefix, target in _MODULE_ALIASES:
        if qualname.startswith(prefix):
            return target + qualname[len(prefix) :]
    return qualname


_MODULE_ALIASES: tuple[tuple[str, str], ...] = (("typing_extensions.", "typing."),)

BACKGROUND_TASKS = "starlette.background.BackgroundTasks"
# The application classes: what `FastAPI(...)` and `Starlette(...)` build.
APP_CLASSES = frozenset({"fastapi.FastAPI", "starlette.applications.Starlette"})
BACKGROUND_TASK = "starlette.background.BackgroundTask"
PARTIAL = "functools.partial"
# Awaiting one of these awaits the coroutines handed to it, on the same loop.
AWAITING_COROUTINES = frozenset({"asyncio.gather", "asyncio.wait_for", "asyncio.shield"})
DEPENDS = "fastapi.Depends"
ANNOTATED = "typing.Annotated"

OPTIONAL_WRAPPERS = frozenset({"typing.Optional", "typing.Union"})
# Qualifiers of a declaration, not classes: `Final[T]` and `ClassVar[T]` are a `T`.
TYPE_QUALIFIERS = frozenset({"typing.Final", "typing.ClassVar"})
# Subscripted types whose first argument is what a dependency or coroutine produces.
PRODUCER_WRAPPERS = frozenset(
    {
        "typing.Generator",
        "typing.Iterator",
        "typing.Iterable",
        "typing.AsyncGenerator",
        "typing.AsyncIterator",
        "typing.AsyncIterable",
        "typing.Awaitable",
        "collections.abc.Generator",
        "collections.abc.Iterator",
        "collections.abc.Iterable",
        "collections.abc.AsyncGenerator",
        "collections.abc.AsyncIterator",
        "collections.abc.AsyncIterable",
        "collections.abc.Awaitable",
        "contextlib.AbstractContextManager",
        "contextlib.AbstractAsyncContextManager",
    }
)
CONTAINER_TYPES = frozenset(
    {
        "builtins.list",
        "builtins.tuple",
        "builtins.set",
        "builtins.frozenset",
        "typing.List",
        "typing.Tuple",
        "typing.Set",
        "typing.FrozenSet",
        "typing.Sequence",
        "typing.Iterable",
        "typing.MutableSequence",
        "collections.abc.Sequence",
        "collections.abc.Iterable",
        "collections.abc.MutableSequence",
    }
)
ANY = "typing.Any"
# Tuples are containers whose elements may each have their own class.
TUPLE_TYPES = frozenset({"builtins.tuple", "typing.Tuple"})
# Mappings: what a subscript of one gives is their last type argument.
MAPPING_TYPES = frozenset(
    {
        "builtins.dict",
        "typing.Dict",
        "typing.Mapping",
        "typing.MutableMapping",
        "typing.DefaultDict",
        "typing.OrderedDict",
        "collections.abc.Mapping",
        "collections.abc.MutableMapping",
        "collections.defaultdict",
        "collections.OrderedDict",
    }
)
CALLABLE_TYPES = frozenset({"typing.Callable", "collections.abc.Callable"})

SESSION_TYPES = frozenset({"sqlalchemy.orm.Session", "sqlalchemy.ext.asyncio.AsyncSession"})
# Calling an instance of one of these produces a session of the given type.
SESSION_FACTORY_TYPES: dict[str, str] = {
    "sqlalchemy.orm.sessionmaker": "sqlalchemy.orm.Session",
    "sqlalchemy.orm.scoped_session": "sqlalchemy.orm.Session",
    "sqlalchemy.ext.asyncio.async_sessionmaker": "sqlalchemy.ext.asyncio.AsyncSession",
    "sqlalchemy.ext.asyncio.async_scoped_session": "sqlalchemy.ext.asyncio.AsyncSession",
}

REQUEST_OBJECT_TYPES: dict[str, str] = {
    "starlette.requests.Request": "Request",
    "starlette.requests.HTTPConnection": "HTTPConnection",
    "starlette.websockets.WebSocket": "WebSocket",
    "starlette.datastructures.UploadFile": "UploadFile",
    "starlette.responses.Response": "Response",
    BACKGROUND_TASKS: "BackgroundTasks",
}

# External functions whose result type is known (the value of `await f(...)` or `f(...)`).
FACTORY_RESULTS: dict[str, str] = {
    "arq.create_pool": "arq.connections.ArqRedis",
    **{
        f"asyncio.{name}": "asyncio.AbstractEventLoop"
        for name in ("get_event_loop", "get_running_loop", "new_event_loop")
    },
}

# A direct subclass of these is the declarative base itself; its subclasses are models.
DECLARATIVE_ROOTS = frozenset(
    {"sqlalchemy.orm.DeclarativeBase", "sqlalchemy.orm.DeclarativeBaseNoMeta"}
)
ORM_BASE_CLASSES = frozenset(
    {
        "django.db.models.Model",
        "django.db.models.base.Model",
        # Django's user models are models too: `class User(AbstractUser)`.
        "django.contrib.auth.models.AbstractUser",
        "django.contrib.auth.models.AbstractBaseUser",
        "django.contrib.auth.base_user.AbstractBaseUser",
        "tortoise.models.Model",
        "tortoise.Model",
        "beanie.Document",
        "beanie.odm.documents.Document",
        "peewee.Model",
        "ormar.Model",
        "piccolo.table.Table",
    }
)
# `Base = declarative_base(cls=Mixin)`: the models deriving from `Base` get `Mixin`'s methods.
DECLARATIVE_BASE = "sqlalchemy.orm.declarative_base"
DECLARATIVE_BASE_FACTORIES = frozenset({DECLARATIVE_BASE, "sqlalchemy.orm.as_declarative"})
SQLMODEL = "sqlmodel.SQLModel"

# The library objects above mean the same whether or not the library's own source is among
# the checked files (a vendored FastAPI, a monorepo with SQLAlchemy in it): resolution never
# reads their source, which would also cost a parse of the library's largest modules.
KNOWN_LIBRARY_NAMES = frozenset(
    {
        *_ALIASES,
        *_ALIASES.values(),
        BACKGROUND_TASK,
        *SESSION_TYPES,
        *SESSION_FACTORY_TYPES,
        *REQUEST_OBJECT_TYPES,
        *FACTORY_RESULTS,
        *DECLARATIVE_ROOTS,
        *DECLARATIVE_BASE_FACTORIES,
        SQLMODEL,
    }
)


# `typing.cast(T, value)`: the value, typed as `T`.
CASTS = frozenset({"typing.cast", "typing_extensions.cast"})


def is_none(node: cst.BaseExpression | None) -> bool:
    """Whether `node` is the constant `None`."""
    return isinstance(node, cst.Name) and node.value == "None"


def written_name(node: cst.BaseExpression) -> str | None:
    """The name `node` spells last: `f` of `f`, `m` of `obj.m`; None for anything else."""
    if isinstance(node, cst.Name):
        return node.value
    return node.attr.value if isinstance(node, cst.Attribute) else None
