"""assert_idempotent runs every kind of task in-process, passing and failing."""

from __future__ import annotations

import pytest

from tests.testing.support import expect_lines, runpytest

STORE = """
import pytest
from fastapi_task_lint.testing import assert_idempotent, assert_retry_safe

STORE = {}

@pytest.fixture(autouse=True)
def clean_store():
    STORE.clear()

def state():
    return STORE
"""


def run(pytester: pytest.Pytester, body: str) -> pytest.RunResult:
    pytester.makepyfile(test_kind=STORE + body)
    return runpytest(pytester)


def test_plain_function(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
def upsert(key, value):
    STORE[key] = value

def append(key, value):
    STORE.setdefault(key, []).append(value)

def test_upsert():
    assert_idempotent(upsert, "a", value=1, state=state, runs=3)

def test_append():
    assert_idempotent(append, "a", value=1, state=state)
""",
    )
    result.assert_outcomes(passed=1, failed=1)
    expect_lines(
        result,
        "test_kind.append('a', value=1) is not idempotent: "
        "the state after run 2 differs from the state after run 1:",
        "+ ['a'][1]: 1",
    )


def test_later_run_is_named(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
def third_time_unlucky():
    STORE["calls"] = STORE.get("calls", 0) + 1
    STORE["flag"] = STORE["calls"] >= 3

def test_three_runs():
    assert_idempotent(third_time_unlucky, state=lambda: {"flag": STORE.get("flag")}, runs=4)
""",
    )
    result.assert_outcomes(failed=1)
    expect_lines(result, "the state after run 3 differs from the state after run 1:")


def test_exception_on_a_later_run_is_the_finding(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
def create(key):
    if key in STORE:
        raise KeyError(f"duplicate {key}")
    STORE[key] = 1

def test_create():
    assert_idempotent(create, "a", state=state)
""",
    )
    result.assert_outcomes(failed=1)
    expect_lines(
        result, "test_kind.create('a') raised KeyError on run 2 (run 1 succeeded): 'duplicate a'"
    )


def test_async_function(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
import asyncio

async def upsert(key):
    await asyncio.sleep(0)
    STORE[key] = "done"

async def append(key):
    await asyncio.sleep(0)
    STORE.setdefault(key, []).append("done")

def test_upsert():
    assert_idempotent(upsert, "a", state=state)

def test_append():
    assert_idempotent(append, "a", state=state)

def calls_asyncio_run(key):
    asyncio.run(upsert(key))

def test_sync_task_may_run_its_own_loop():
    assert_idempotent(calls_asyncio_run, "b", state=state)
""",
    )
    result.assert_outcomes(passed=2, failed=1)
    expect_lines(result, "test_kind.append('a') is not idempotent", "+ ['a'][1]: 'done'")


def test_starlette_background_task(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
from starlette.background import BackgroundTask, BackgroundTasks

def upsert(key):
    STORE[key] = 1

async def append(key):
    STORE.setdefault(key, []).append(1)

def test_background_task():
    assert_idempotent(BackgroundTask(upsert, "a"), state=state)

def test_background_tasks_run_in_order():
    tasks = BackgroundTasks()
    tasks.add_task(upsert, "a")
    tasks.add_task(append, "b")
    assert_idempotent(tasks, state=state)

def test_arguments_are_refused():
    with pytest.raises(TypeError, match="already holds its arguments"):
        assert_idempotent(BackgroundTask(upsert, "a"), "b", state=state)
""",
    )
    result.assert_outcomes(passed=2, failed=1)
    expect_lines(result, "BackgroundTasks(2 tasks) is not idempotent", "+ ['b'][1]: 1")


def test_celery_task_applied_without_broker(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
from celery import Celery

app = Celery("inner")  # default broker URL, never contacted: apply() runs in-process

@app.task(bind=True, name="shop.upsert")
def upsert(self, key):
    assert self.request.id  # ran through Celery's tracer, as a worker would
    STORE[key] = 1

@app.task(name="shop.append")
def append(key):
    STORE.setdefault(key, []).append(1)

@app.task(name="shop.insert")
def insert(key):
    if key in STORE:
        raise ValueError("duplicate key")
    STORE[key] = 1

def test_upsert():
    assert_idempotent(upsert, "a", state=state)

def test_append():
    assert_idempotent(append, key="a", state=state)

def test_exception_propagates_from_apply():
    assert_idempotent(insert, "a", state=state)
""",
    )
    result.assert_outcomes(passed=1, failed=2)
    expect_lines(
        result,
        "Celery task shop.append(key='a') is not idempotent",
        "Celery task shop.insert('a') raised ValueError on run 2 (run 1 succeeded): duplicate key",
    )


def test_dramatiq_actor_with_stub_broker(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
import dramatiq
from dramatiq.brokers.stub import StubBroker

broker = StubBroker()
dramatiq.set_broker(broker)

@dramatiq.actor(queue_name="mail")
def upsert(key):
    STORE[key] = 1

@dramatiq.actor(actor_name="naive_append", queue_name="mail")
def append(key):
    STORE.setdefault(key, []).append(1)

def test_upsert():
    assert_idempotent(upsert, "a", state=state)
    assert broker.queues["mail"].qsize() == 0  # ran in-process, nothing enqueued

def test_append():
    assert_idempotent(append, "a", state=state)
""",
    )
    result.assert_outcomes(passed=1, failed=1)
    expect_lines(result, "Dramatiq actor naive_append: test_kind.append('a') is not")


def test_arq_job_function(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
from arq.worker import func

CTXS = []

async def upsert(ctx, key):
    ctx["runs"] = ctx.get("runs", 0) + 1
    CTXS.append(ctx)
    STORE[key] = ctx.get("redis")

async def append(ctx, key):
    STORE.setdefault(key, []).append(1)

@pytest.fixture(autouse=True)
def clean_ctxs():
    CTXS.clear()

def test_plain_job_gets_a_fresh_empty_ctx_per_run():
    assert_idempotent(upsert, "a", state=state)
    assert CTXS == [{"runs": 1}, {"runs": 1}]

def test_given_ctx_is_used():
    assert_idempotent(upsert, "a", ctx={"redis": "fake"}, state=state)
    assert STORE == {"a": "fake"} and CTXS[0] is CTXS[1]

def test_ctx_passed_positionally():
    ctx = {"redis": "positional"}
    assert_idempotent(upsert, ctx, "a", state=state)
    assert STORE == {"a": "positional"} and CTXS == [ctx, ctx]

def test_arq_function_object():
    assert_idempotent(func(append, name="append_job"), "a", state=state)
""",
    )
    result.assert_outcomes(passed=3, failed=1)
    expect_lines(result, "ARQ job test_kind.append('a') is not idempotent")


def test_taskiq_task_by_duck_typing(pytester: pytest.Pytester) -> None:
    # Taskiq is an optional dependency: a stand-in with the attributes the runner relies on.
    result = run(
        pytester,
        """
class FakeTaskiqTask:
    def __init__(self, fn):
        self.original_func = fn
        self.task_name = f"inner:{fn.__name__}"

    async def kiq(self, *args, **kwargs):
        raise AssertionError("the check must not enqueue")

async def _upsert(key):
    STORE[key] = 1

async def _append(key):
    STORE.setdefault(key, []).append(1)

def test_upsert():
    assert_idempotent(FakeTaskiqTask(_upsert), "a", state=state)

def test_append():
    assert_idempotent(FakeTaskiqTask(_append), "a", state=state)
""",
    )
    result.assert_outcomes(passed=1, failed=1)
    expect_lines(result, "Taskiq task inner:_append: test_kind._append('a') is not")


def test_bad_arguments_are_explained(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
def noop():
    pass

def test_one_run():
    with pytest.raises(ValueError, match="runs must be 2 or more"):
        assert_idempotent(noop, state=state, runs=1)

def test_not_a_task():
    with pytest.raises(TypeError, match="is not a task"):
        assert_idempotent(42, state=state)

def test_fixture_name_needs_the_fixture():
    with pytest.raises(TypeError, match="names a fixture"):
        assert_idempotent(noop, state="db_state")

def test_crash_points_need_each():
    with pytest.raises(ValueError, match='only used with crash_at="each"'):
        assert_retry_safe(noop, state=state, crash_at="json.dumps", crash_points=["json.loads"])
    with pytest.raises(ValueError, match='needs crash_points='):
        assert_retry_safe(noop, state=state, crash_at="each")
""",
    )
    result.assert_outcomes(passed=4)


def test_private_loop_is_closed_like_asyncio_run(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
import asyncio

LEFT_BEHIND = []

async def fire_and_forget(key):
    async def later():
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            STORE.setdefault("cancelled", []).append(key)
            raise
    LEFT_BEHIND.append(asyncio.create_task(later()))
    await asyncio.to_thread(STORE.__setitem__, key, 1)

def test_leftover_tasks_are_cancelled():
    assert_idempotent(fire_and_forget, "a", state=lambda: {"a": STORE.get("a")})
    assert STORE["cancelled"] == ["a", "a"]  # both runs share the loop, closed at the end
    assert all(task.done() for task in LEFT_BEHIND)
""",
    )
    result.assert_outcomes(passed=1)
    assert "was destroyed but it is pending" not in result.stdout.str()
