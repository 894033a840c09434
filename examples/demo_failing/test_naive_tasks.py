"""Deliberately failing: the shop's naive tasks, run twice. See README.md here.

Each test shows one failure message of the plugin: a duplicated row, a duplicated email.
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
from shop.models import Base, User
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session

from fastapi_task_lint.testing import sqlalchemy_state

# The same fixtures as tests/test_task_idempotency.py, so that this demo reads on its own.


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    engine = create_engine(f"sqlite:///{tmp_path / 'shop.db'}")
    Base.metadata.create_all(engine)
    monkeypatch.setitem(SessionLocal.kw, "bind", engine)
    with Session(engine) as session:
        session.add(User(id=1, email="ada@example.com", name="Ada"))
        session.commit()
    return engine


@pytest.fixture
def outbox(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    sent: list[tuple[str, str]] = []
    monkeypatch.setattr(emails, "send_email", lambda to, subject, body: sent.append((to, subject)))
    return sent


@pytest.fixture
def shop_state(db: Engine, outbox: list[tuple[str, str]]) -> Callable[[], dict[str, Any]]:
    tables = sqlalchemy_state(db, exclude_columns=["created_at"])
    return lambda: {"tables": tables(), "outbox": list(outbox)}


def test_record_security_event_inserts_a_second_row(
    assert_idempotent: Callable[..., None],
) -> None:
    # Append-only insert: a redelivered task records the event twice.
    assert_idempotent(
        tasks.record_security_event, 1, "password_changed", "203.0.113.7", state="shop_state"
    )


def test_verification_email_is_sent_twice(assert_idempotent: Callable[..., None]) -> None:
    # Nothing records that the email went out, so a retry sends it again.
    assert_idempotent(tasks.send_verification_email, 1, state="shop_state")


@pytest.mark.idempotent_tasks(state="shop_state")
def test_resend_verification_route(db: Engine) -> None:
    response = TestClient(app).post("/users/1/verification")
    assert response.status_code == 202
