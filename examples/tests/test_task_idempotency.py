"""The shop's own background tasks, checked with fastapi-task-lint's pytest plugin.

Run from `examples/`: `python -m pytest tests/test_task_idempotency.py`. The naive tasks of
the same app fail these checks on purpose in `demo_failing/`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from shop import emails, tasks
from shop.db import SessionLocal
from shop.main import app
from shop.models import AuditEvent, Base, User
from sqlalchemy import Engine, create_engine, delete
from sqlalchemy.orm import Session

from fastapi_task_lint.testing import sqlalchemy_state


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """A throwaway SQLite database behind the app's own `SessionLocal`."""
    engine = create_engine(f"sqlite:///{tmp_path / 'shop.db'}")
    Base.metadata.create_all(engine)
    monkeypatch.setitem(SessionLocal.kw, "bind", engine)
    return engine


@pytest.fixture
def outbox(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """The emails the tasks send, recorded instead of sent."""
    sent: list[tuple[str, str]] = []
    monkeypatch.setattr(emails, "send_email", lambda to, subject, body: sent.append((to, subject)))
    return sent


@pytest.fixture
def shop_state(db: Engine, outbox: list[tuple[str, str]]) -> Callable[[], dict[str, Any]]:
    """Every row and every email sent: what running a task twice could change."""
    tables = sqlalchemy_state(db, exclude_columns=["created_at"])
    return lambda: {"tables": tables(), "outbox": list(outbox)}


def seed(engine: Engine) -> None:
    """One user with some history; also the `reset=` of the retry check."""
    with Session(engine) as session:
        session.execute(delete(AuditEvent))
        session.execute(delete(User))
        session.add(User(id=1, email="ada@example.com", name="Ada"))
        session.add(AuditEvent(subject="user", subject_id=1, action="login"))
        session.commit()


def test_import_users_skips_existing_users(assert_idempotent: Callable[..., None]) -> None:
    rows = [("ada@example.com", "Ada"), ("grace@example.com", "Grace")]
    assert_idempotent(tasks.import_users, "import-1", rows, state="shop_state")


def test_purge_user_data_is_idempotent(db: Engine, assert_idempotent: Callable[..., None]) -> None:
    seed(db)
    assert_idempotent(tasks.purge_user_data, 1, state="shop_state", runs=3)


def test_purge_user_data_survives_a_crash_before_commit(
    db: Engine, assert_retry_safe: Callable[..., None]
) -> None:
    # purge_user_data catches Exception; the injected crash is a BaseException and gets through.
    seed(db)
    assert_retry_safe(
        tasks.purge_user_data,
        1,
        state="shop_state",
        crash_at="sqlalchemy.orm.Session.commit",
        reset=lambda: seed(db),
    )


@pytest.mark.idempotent_tasks(state="shop_state")
def test_user_import_route(db: Engine) -> None:
    # Without `with`, TestClient does not run the lifespan (scheduler, cache refresher).
    client = TestClient(app)
    response = client.post("/users/imports", json=[{"email": "c@example.com", "name": "C"}])
    assert response.status_code == 202
