"""State snapshots: what the checks compare before and after a task runs.

``state`` is any callable; :func:`snapshot` copies what it returns so a callable that hands back
a live object (``lambda: fake_db``) cannot make two snapshots equal by being the same object.
:func:`sqlalchemy_state` is the ready-made one for databases.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from fastapi_task_lint.testing.diff import Rows
from fastapi_task_lint.testing.drive import Steps, call

__all__ = ["State", "as_state", "snapshot", "sqlalchemy_state"]

State = Callable[[], Any]
TableRef = Any  # a table name, a sqlalchemy Table, or an ORM model class


def as_state(state: State | str) -> State:
    """Check ``state`` is a callable; fixture names are resolved only by the pytest fixtures."""
    if isinstance(state, str):
        raise TypeError(
            f"state={state!r} names a fixture: fixture names work through the plugin's "
            f"fixtures (`assert_idempotent`, `assert_retry_safe`, `captured_tasks`, ...), "
            f"not the imported functions"
        )
    if not callable(state):
        raise TypeError(f"state must be a callable returning a snapshot, not {state!r}")
    return state


def snapshot(state: State) -> Steps[Any]:
    """Take one snapshot of ``state``, awaited if it is async, copied if it can be."""
    value = yield from call(state)
    try:
        return copy.deepcopy(value)
    except Exception:  # uncopyable (locks, connections): compare as returned
        return value


def sqlalchemy_state(
    bind: Any,
    tables: Iterable[TableRef] | None = None,
    exclude_columns: Iterable[str] = (),
) -> Callable[[], dict[str, Rows]] | Callable[[], Awaitable[dict[str, Rows]]]:
    """A state callable returning every row of ``tables`` (default: all), order-independent.

    ``bind`` is an Engine, Connection or Session, or their async counterparts (then the
    callable is async: use it with the ``*_async`` helpers or let the sync ones await it).
    A Session is read through its own connection, so uncommitted changes count.
    ``exclude_columns`` drops columns that legitimately differ between runs, such as
    ``"updated_at"`` (every table) or ``"orders.created_at"`` (one table).
    """
    excluded = frozenset(exclude_columns)
    wanted = None if tables is None else list(tables)
    reflected: dict[str, Any] = {}

    def read(connection: Any) -> dict[str, Rows]:
        from sqlalchemy import MetaData, Table, inspect, select

        result: dict[str, Rows] = {}
        for ref in wanted if wanted is not None else sorted(inspect(connection).get_table_names()):
            table = getattr(ref, "__table__", ref)
            if isinstance(table, str):
                if table not in reflected:
                    reflected[table] = Table(table, MetaData(), autoload_with=connection)
                table = reflected[table]
            if not isinstance(table, Table):
                raise TypeError(f"{ref!r} is not a table name, Table or ORM model")
            drop = {
                c.name
                for c in table.columns
                if c.name in excluded or f"{table.name}.{c.name}" in excluded
            }
            rows = (
                {k: v for k, v in row._mapping.items() if k not in drop}
                for row in connection.execute(select(table))
            )
            key = [c.name for c in table.primary_key.columns if c.name not in drop]
            result[table.name] = Rows(table.name, rows, key)
        return result

    if hasattr(bind, "sync_engine") and not hasattr(bind, "run_sync"):  # AsyncEngine

        async def read_async_engine() -> dict[str, Rows]:
            async with bind.connect() as connection:
                return await connection.run_sync(read)  # type: ignore[no-any-return]

        return read_async_engine
    if hasattr(bind, "sync_session"):  # AsyncSession

        async def read_async_session() -> dict[str, Rows]:
            return await bind.run_sync(  # type: ignore[no-any-return]
                lambda session: read(session.connection())
            )

        return read_async_session
    if hasattr(bind, "sync_connection"):  # AsyncConnection

        async def read_async_connection() -> dict[str, Rows]:
            return await bind.run_sync(read)  # type: ignore[no-any-return]

        return read_async_connection
    if hasattr(bind, "get_bind"):  # Session

        def read_session() -> dict[str, Rows]:
            return read(bind.connection())

        return read_session
    if hasattr(bind, "execute"):  # Connection

        def read_connection() -> dict[str, Rows]:
            return read(bind)

        return read_connection

    def read_engine() -> dict[str, Rows]:
        with bind.connect() as connection:
            return read(connection)

    return read_engine
