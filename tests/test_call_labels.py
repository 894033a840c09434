"""How messages show a long call: cut at its arguments, never mid-name, `()` when it has none."""

from __future__ import annotations

import textwrap
from pathlib import Path

from fastapi_task_lint.config import Config
from tests.fixture_harness import lint


def _messages(tmp_path: Path, source: str, code: str) -> list[str]:
    path = tmp_path / "app.py"
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return [d.message for d in lint([path], Config(select=(code,), root=tmp_path))]


def test_a_long_call_without_arguments_is_shown_with_empty_parentheses(tmp_path: Path) -> None:
    source = """
    import asyncio

    from fastapi import BackgroundTasks, FastAPI

    app = FastAPI()


    async def task(connection) -> None:
        connection.database_session_factory_instance.commit_everything_now()


    @app.post("/")
    async def route(background_tasks: BackgroundTasks) -> None:
        background_tasks.add_task(task, None)
    """
    (message,) = _messages(tmp_path, source, "FTL203")
    assert "`connection.database_session_factory_instance.commit_everything_now()`" in message


def test_ftl505_cuts_a_long_spawn_at_its_arguments(tmp_path: Path) -> None:
    source = """
    import asyncio
    from contextlib import asynccontextmanager

    from fastapi import FastAPI


    async def refresh_version_cache_every_day_forever() -> None:
        while True:
            await asyncio.sleep(86400)


    @asynccontextmanager
    async def lifespan(app: FastAPI):
        asyncio.create_task(refresh_version_cache_every_day_forever())
        yield


    app = FastAPI(lifespan=lifespan)
    """
    (message,) = _messages(tmp_path, source, "FTL505")
    assert message.startswith("`asyncio.create_task(...)` starts the endless loop of ")


def test_a_long_method_chain_is_cut_at_each_calls_arguments(tmp_path: Path) -> None:
    source = """
    from fastapi import Depends, FastAPI
    from sqlalchemy.orm import Session

    app = FastAPI()


    def get_db():
        yield Session()


    @app.get("/")
    async def route(db: Session = Depends(get_db)) -> object:
        return db.query(dict).filter(dict.keys == 1, dict.values == 2).first()
    """
    (message,) = _messages(tmp_path, source, "FTL202")
    assert message.startswith("`db.query(...).filter(...).first()` blocks the event loop")


def test_a_call_written_over_several_lines_is_shown_as_one(tmp_path: Path) -> None:
    source = """
    from fastapi import BackgroundTasks, FastAPI

    app = FastAPI()


    async def write_report(request_id: str, user: str = "") -> None: ...


    @app.post("/report")
    async def report(background_tasks: BackgroundTasks) -> None:
        background_tasks.add_task(write_report(
            "r1",
            user="u",
        ))
    """
    (message,) = _messages(tmp_path, source, "FTL104")
    assert message.startswith('`write_report("r1", user="u")` is scheduled as the task')


def test_a_chain_names_the_library_of_a_class_another_library_also_names(tmp_path: Path) -> None:
    """`requests.Session.get` and SQLAlchemy's `Session.get` would both print `Session.get`:
    the one whose name another catalogue class shares, from another library, names it."""
    source = """
    import sqlite3

    import requests
    from fastapi import Depends, FastAPI
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    app = FastAPI()
    http = requests.Session()
    engine = create_engine("sqlite://")
    legacy_db = sqlite3.connect("app.db")


    def fetch_users() -> list:
        return http.get("https://example.com/users").json()


    def user_count() -> int:
        with Session(engine) as db:
            return db.execute("select count(*) from users").scalar()


    def legacy_count() -> int:
        return legacy_db.execute("select count(*) from users").fetchone()[0]


    @app.get("/users")
    async def users() -> list:
        return fetch_users()


    @app.get("/count")
    async def count() -> int:
        return user_count()


    @app.get("/legacy")
    async def legacy() -> int:
        return legacy_count()
    """
    messages = _messages(tmp_path, source, "FTL202")
    assert len(messages) == 3
    chains = {m.split("(`", 1)[1].split("`)", 1)[0] for m in messages}
    assert chains == {
        "users -> fetch_users -> requests.Session.get",
        "count -> user_count -> Session.execute",
        "legacy -> legacy_count -> sqlite3.Connection.execute",
    }
