"""sqlalchemy_state snapshots, and a duplicate insert caught with a readable diff."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import orm

from fastapi_task_lint.testing import Rows, assert_idempotent, sqlalchemy_state
from tests.testing.support import expect_lines, runpytest


class Base(orm.DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    name: orm.Mapped[str]
    updated_at: orm.Mapped[int] = orm.mapped_column(default=0)


class Email(Base):
    __tablename__ = "emails"
    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    address: orm.Mapped[str]
    updated_at: orm.Mapped[int] = orm.mapped_column(default=0)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'state.db'}")
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


def insert(engine: sa.Engine, *rows: Base) -> None:
    with orm.Session(engine) as session:
        session.add_all(rows)
        session.commit()


def take(state: Callable[[], Any]) -> Any:
    value = state()
    return asyncio.run(value) if asyncio.iscoroutine(value) else value


def test_every_table_and_row(engine: sa.Engine) -> None:
    insert(engine, User(id=1, name="ada"), Email(id=5, address="a@x"))
    assert take(sqlalchemy_state(engine)) == {
        "emails": Rows("emails", [{"id": 5, "address": "a@x", "updated_at": 0}], ["id"]),
        "users": Rows("users", [{"id": 1, "name": "ada", "updated_at": 0}], ["id"]),
    }


def test_row_order_does_not_matter(tmp_path: Path) -> None:
    snapshots = []
    for name, order in (("a", (1, 2)), ("b", (2, 1))):
        engine = sa.create_engine(f"sqlite:///{tmp_path / name}.db")
        Base.metadata.create_all(engine)
        insert(engine, *(User(id=i, name=str(i)) for i in order))
        snapshots.append(take(sqlalchemy_state(engine)))
    assert snapshots[0] == snapshots[1]


def test_tables_by_name_table_or_model(engine: sa.Engine) -> None:
    insert(engine, User(id=1, name="ada"), Email(id=5, address="a@x"))
    for tables in (["users"], [User.__table__], [User]):
        assert list(take(sqlalchemy_state(engine, tables=tables))) == ["users"]
    with pytest.raises(TypeError, match="is not a table name, Table or ORM model"):
        take(sqlalchemy_state(engine, tables=[42]))


def test_excluded_columns(engine: sa.Engine) -> None:
    insert(engine, User(id=1, name="ada", updated_at=7), Email(id=5, address="a@x"))
    state = take(sqlalchemy_state(engine, exclude_columns=["updated_at", "emails.id"]))
    assert state["users"].rows == ({"id": 1, "name": "ada"},)
    assert state["emails"].rows == ({"address": "a@x"},)
    assert state["emails"].key == ()


def test_session_sees_its_uncommitted_rows(engine: sa.Engine) -> None:
    with orm.Session(engine) as session:
        session.add(User(id=1, name="pending"))
        session.flush()
        assert len(take(sqlalchemy_state(session, tables=["users"]))["users"]) == 1
        assert len(take(sqlalchemy_state(engine, tables=["users"]))["users"]) == 0


def test_connection(engine: sa.Engine) -> None:
    insert(engine, User(id=1, name="ada"))
    with engine.connect() as connection:
        assert len(take(sqlalchemy_state(connection))["users"]) == 1


# The async drivers (aiosqlite, greenlet) are not dev dependencies, so the async branches are
# exercised with stand-ins that have the same surface: run_sync hands over a sync connection.
class FakeAsyncConnection:
    def __init__(self, connection: sa.Connection) -> None:
        self.sync_connection = connection

    async def run_sync(self, fn: Callable[[sa.Connection], Any]) -> Any:
        return fn(self.sync_connection)


class FakeAsyncEngine:
    def __init__(self, engine: sa.Engine) -> None:
        self.sync_engine = engine

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[FakeAsyncConnection]:
        with self.sync_engine.connect() as connection:
            yield FakeAsyncConnection(connection)


class FakeAsyncSession:
    def __init__(self, session: orm.Session) -> None:
        self.sync_session = session

    async def run_sync(self, fn: Callable[[orm.Session], Any]) -> Any:
        return fn(self.sync_session)


def test_async_binds_give_an_async_state(engine: sa.Engine) -> None:
    insert(engine, User(id=1, name="ada"))
    expected = take(sqlalchemy_state(engine))
    with engine.connect() as connection, orm.Session(engine) as session:
        for bind in (
            FakeAsyncEngine(engine),
            FakeAsyncConnection(connection),
            FakeAsyncSession(session),
        ):
            state = sqlalchemy_state(bind)
            assert asyncio.iscoroutinefunction(state)
            assert take(state) == expected


def test_sync_check_awaits_an_async_state(engine: sa.Engine) -> None:
    def add_user() -> None:
        insert(engine, User(name="again"))

    with pytest.raises(AssertionError, match="1 row added"):
        assert_idempotent(add_user, state=sqlalchemy_state(FakeAsyncEngine(engine)))


def test_duplicate_insert_is_caught_with_a_clear_diff(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
import pytest
import sqlalchemy as sa
from sqlalchemy import orm
from fastapi_task_lint.testing import sqlalchemy_state

class Base(orm.DeclarativeBase):
    pass

class Email(Base):
    __tablename__ = "emails"
    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    user_id: orm.Mapped[int]
    kind: orm.Mapped[str]

@pytest.fixture
def engine(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    Base.metadata.create_all(engine)
    return engine

@pytest.fixture
def db_state(engine):
    return sqlalchemy_state(engine)

def record_welcome_email(engine, user_id):
    with orm.Session(engine) as session:
        session.add(Email(user_id=user_id, kind="welcome"))
        session.commit()

def record_welcome_email_once(engine, user_id):
    with orm.Session(engine) as session:
        exists = session.scalar(sa.select(Email).filter_by(user_id=user_id, kind="welcome"))
        if exists is None:
            session.add(Email(user_id=user_id, kind="welcome"))
            session.commit()

def test_once(engine, assert_idempotent):
    assert_idempotent(record_welcome_email_once, engine, 7, state="db_state")

def test_duplicate(engine, assert_idempotent):
    assert_idempotent(record_welcome_email, engine, user_id=7, state="db_state")
""")
    result = runpytest(pytester)
    result.assert_outcomes(passed=1, failed=1)
    expect_lines(
        result,
        "is not idempotent: the state after run 2 differs from the state after run 1:",
        "  table emails: 1 row added",
        "    + {'id': 2, 'user_id': 7, 'kind': 'welcome'}",
    )
