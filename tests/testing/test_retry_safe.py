"""assert_retry_safe: crash injection and retry against a real SQLite database."""

from __future__ import annotations

import pytest

from tests.testing.support import expect_lines, runpytest

SHOP = '''
"""A tiny shop: confirming an order sends an email, then marks the order confirmed."""
import sqlalchemy as sa

metadata = sa.MetaData()
orders = sa.Table("orders", metadata,
                  sa.Column("id", sa.Integer, primary_key=True), sa.Column("status", sa.String))
emails = sa.Table("emails", metadata, sa.Column("id", sa.Integer, primary_key=True),
                  sa.Column("order_id", sa.Integer), sa.Column("kind", sa.String))
engine = None  # set by the db fixture


def send_email(order_id, kind):
    """Commits on its own, like SMTP: a sent email cannot be rolled back."""
    with engine.begin() as conn:
        conn.execute(emails.insert().values(order_id=order_id, kind=kind))


def email_sent(order_id, kind):
    with engine.connect() as conn:
        query = sa.select(emails).where(emails.c.order_id == order_id, emails.c.kind == kind)
        return conn.execute(query).first() is not None


def mark_confirmed(order_id):
    with engine.begin() as conn:
        conn.execute(orders.update().where(orders.c.id == order_id).values(status="confirmed"))
'''

TASKS = '''
"""Tasks import the helpers by name, so crash points must be patched where they are used too."""
from shop import email_sent, mark_confirmed, send_email


def confirm_naive(order_id):
    send_email(order_id, "confirmation")
    mark_confirmed(order_id)


def confirm_safe(order_id):
    if not email_sent(order_id, "confirmation"):
        send_email(order_id, "confirmation")
    mark_confirmed(order_id)


def confirm_catching_exception(order_id):
    try:
        confirm_safe(order_id)
    except Exception:  # a broad handler must not hide a crash
        pass


def confirm_catching_everything(order_id):
    try:
        confirm_safe(order_id)
    except BaseException:
        pass
'''

CONFTEST = """
import pytest
import sqlalchemy as sa

import shop
from fastapi_task_lint.testing import sqlalchemy_state


@pytest.fixture
def db(tmp_path):
    shop.engine = sa.create_engine(f"sqlite:///{tmp_path / 'shop.db'}")
    shop.metadata.create_all(shop.engine)
    reset()
    yield shop.engine
    shop.engine.dispose()


def reset():
    with shop.engine.begin() as conn:
        conn.execute(shop.emails.delete())
        conn.execute(shop.orders.delete())
        conn.execute(shop.orders.insert().values(id=1, status="new"))


@pytest.fixture
def db_state(db):
    return sqlalchemy_state(db)
"""


@pytest.fixture
def shop(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(shop=SHOP, tasks=TASKS, conftest=CONFTEST)
    return pytester


def test_naive_task_is_caught_with_a_table_diff(shop: pytest.Pytester) -> None:
    shop.makepyfile("""
from conftest import reset
from fastapi_task_lint.testing import assert_retry_safe
import tasks

def test_naive(db, db_state):
    assert_retry_safe(tasks.confirm_naive, 1, state=db_state, crash_at="shop.mark_confirmed",
                      reset=reset)
""")
    result = runpytest(shop)
    result.assert_outcomes(failed=1)
    expect_lines(
        result,
        "NotRetrySafeError: tasks.confirm_naive(1) is not retry-safe: after a crash before "
        "call 1 of shop.mark_confirmed and a retry, the state differs from the state after one "
        "clean run:",
        "table emails: 1 row added",
        "+ {'id': 2, 'order_id': 1, 'kind': 'confirmation'}",
    )


def test_safe_task_passes_at_each_crash_point(shop: pytest.Pytester) -> None:
    shop.makepyfile("""
from conftest import reset
import shop, tasks

def test_safe(db, assert_retry_safe):
    assert_retry_safe(tasks.confirm_safe, 1, state="db_state", reset=reset, crash_at="each",
                      crash_points=["shop.send_email", shop.mark_confirmed, ("shop.email_sent", 1)])

def test_naive_fails_at_the_first_point(db, assert_retry_safe):
    assert_retry_safe(tasks.confirm_naive, 1, state="db_state", reset=reset, crash_at="each",
                      crash_points=["shop.send_email", "shop.mark_confirmed"])
""")
    result = runpytest(shop)
    result.assert_outcomes(passed=1, failed=1)
    expect_lines(
        result,
        "tasks.confirm_naive(1) is not idempotent: after a crash before call 1 of "
        "shop.send_email and a retry, one more run changed the state:",
        "table emails: 1 row added",
    )


def test_except_exception_cannot_swallow_the_crash(shop: pytest.Pytester) -> None:
    shop.makepyfile("""
from conftest import reset
from fastapi_task_lint.testing import assert_retry_safe
import tasks

def test_broad_except(db, db_state):
    assert_retry_safe(tasks.confirm_catching_exception, 1, state=db_state,
                      crash_at="shop.mark_confirmed", reset=reset)

def test_base_exception_handler_is_reported(db, db_state):
    assert_retry_safe(tasks.confirm_catching_everything, 1, state=db_state,
                      crash_at="shop.mark_confirmed", reset=reset)
""")
    result = runpytest(shop)
    result.assert_outcomes(passed=1, failed=1)
    expect_lines(
        result,
        "tasks.confirm_catching_everything(1) caught the injected crash before call 1 of "
        "shop.mark_confirmed and carried on; a real crash cannot be caught",
    )


def test_nth_call_and_unreached_crash_point(shop: pytest.Pytester) -> None:
    shop.makepyfile("""
from conftest import reset
from fastapi_task_lint.testing import assert_retry_safe
import shop

def two_emails(order_id):
    for kind in ("receipt", "invoice"):
        if not shop.email_sent(order_id, kind):
            shop.send_email(order_id, kind)

def test_second_call(db, db_state):
    assert_retry_safe(two_emails, 1, state=db_state, crash_at="shop.send_email", nth=2,
                      reset=reset)

def test_never_reached(db, db_state):
    assert_retry_safe(two_emails, 1, state=db_state, crash_at="shop.send_email", nth=3,
                      reset=reset)
""")
    result = runpytest(shop)
    result.assert_outcomes(passed=1, failed=1)
    expect_lines(
        result,
        "test_nth_call_and_unreached_crash_point.two_emails(1) never reached the crash point "
        "call 3 of shop.send_email: it was called 2 times",
    )


def test_reset_that_does_not_restore_is_reported(shop: pytest.Pytester) -> None:
    shop.makepyfile("""
from fastapi_task_lint.testing import assert_retry_safe
import tasks

def test_no_real_reset(db, db_state):
    assert_retry_safe(tasks.confirm_safe, 1, state=db_state, crash_at="shop.mark_confirmed",
                      reset=lambda: None)
""")
    result = runpytest(shop)
    result.assert_outcomes(failed=1)
    expect_lines(
        result,
        "reset= did not restore the starting state before the crash run:",
        "table emails: 1 row added",
        "table orders: 1 row changed",
        "~ id=1: status: 'new' -> 'confirmed'",
    )


def test_celery_and_async_tasks_crash_too(shop: pytest.Pytester) -> None:
    shop.makepyfile("""
import asyncio
from celery import Celery
from conftest import reset
from fastapi_task_lint.testing import assert_retry_safe
import shop, tasks

app = Celery("inner")
confirm = app.task(name="shop.confirm")(tasks.confirm_naive)

async def notify(order_id):
    await asyncio.sleep(0)
    if not shop.email_sent(order_id, "async"):
        shop.send_email(order_id, "async")

async def confirm_async(order_id):
    await notify(order_id)
    shop.mark_confirmed(order_id)

def test_celery(db, db_state):
    assert_retry_safe(confirm, 1, state=db_state, crash_at="shop.mark_confirmed", reset=reset)

def test_async_crash_point(db, db_state):
    assert_retry_safe(confirm_async, 1, state=db_state, crash_at=notify, reset=reset)
""")
    result = runpytest(shop)
    result.assert_outcomes(passed=1, failed=1)
    expect_lines(result, "Celery task shop.confirm(1) is not retry-safe")


def test_crash_points_are_restored_when_the_check_or_task_fails(shop: pytest.Pytester) -> None:
    shop.makepyfile("""
import pytest
from conftest import reset
from fastapi_task_lint.testing import InjectedCrash, assert_retry_safe, inject_crash
import shop, tasks

ORIGINALS = (shop.send_email, tasks.send_email, shop.mark_confirmed, tasks.mark_confirmed)

def test_1_check_fails(db, db_state):
    assert_retry_safe(tasks.confirm_naive, 1, state=db_state, reset=reset, crash_at="each",
                      crash_points=["shop.send_email", "shop.mark_confirmed"])

def broken(order_id):
    shop.send_email(order_id, "x")
    raise RuntimeError("task bug")

def test_2_task_raises_its_own_error(db, db_state):
    with pytest.raises(RuntimeError, match="task bug"):
        assert_retry_safe(broken, 1, state=db_state, crash_at="shop.mark_confirmed")

def test_3_test_fails_inside_injection(db):
    with inject_crash("shop.send_email"):
        assert tasks.send_email is not ORIGINALS[1]
        raise AssertionError("test failed while armed")

def test_4_everything_restored():
    assert (shop.send_email, tasks.send_email, shop.mark_confirmed, tasks.mark_confirmed) \\
        == ORIGINALS

def test_5_inject_crash_directly(db):
    with inject_crash(("shop.send_email", 2)) as injection:
        shop.send_email(1, "first")
        with pytest.raises(InjectedCrash):
            tasks.send_email(1, "second")
    assert injection.calls == 2 and injection.crashed
    assert shop.send_email is ORIGINALS[0]
""")
    result = runpytest(shop)
    result.assert_outcomes(passed=3, failed=2)
    expect_lines(result, "py::test_1_check_fails", "py::test_3_test_fails_inside_injection")


def test_retry_that_raises_is_not_retry_safe(shop: pytest.Pytester) -> None:
    shop.makepyfile("""
from conftest import reset
from fastapi_task_lint.testing import assert_retry_safe
import shop

def confirm_with_fixed_key(order_id):
    with shop.engine.begin() as conn:
        conn.execute(shop.emails.insert().values(id=order_id, order_id=order_id, kind="c"))
    shop.mark_confirmed(order_id)

def test_duplicate_key_on_retry(db, db_state):
    assert_retry_safe(confirm_with_fixed_key, 1, state=db_state,
                      crash_at="shop.mark_confirmed", reset=reset)
""")
    result = runpytest(shop)
    result.assert_outcomes(failed=1)
    expect_lines(
        result,
        "NotRetrySafeError: test_retry_that_raises_is_not_retry_safe.confirm_with_fixed_key(1) "
        "raised IntegrityError on the retry after a crash before call 1 of shop.mark_confirmed: "
        "(sqlite3.IntegrityError) UNIQUE constraint failed: emails.id",
    )
