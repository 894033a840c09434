"""captured_tasks and @pytest.mark.idempotent_tasks with a FastAPI app and TestClient."""

from __future__ import annotations

import pytest

from tests.testing.support import expect_lines, runpytest

APP = """
import pytest
from fastapi import BackgroundTasks, FastAPI
from fastapi.testclient import TestClient
from starlette.background import BackgroundTask
from starlette.responses import JSONResponse

DB = {"users": {}, "emails": []}


def save_user(user_id, name):
    DB["users"][user_id] = name


def send_welcome(address):
    DB["emails"].append(address)


async def save_user_async(user_id, name):
    DB["users"][user_id] = name


app = FastAPI()


@app.post("/users/{user_id}")
def create_user(user_id: int, name: str, background_tasks: BackgroundTasks):
    background_tasks.add_task(save_user, user_id, name=name)
    return {}


@app.post("/signup/{user_id}")
async def signup(user_id: int, background_tasks: BackgroundTasks):
    background_tasks.add_task(save_user_async, user_id, "new")
    background_tasks.add_task(send_welcome, f"{user_id}@example.com")
    return {}


@app.get("/receipt")
def receipt():
    return JSONResponse({}, background=BackgroundTask(save_user, 9, "receipt"))


client = TestClient(app)


@pytest.fixture(autouse=True)
def empty_db():
    DB["users"].clear()
    DB["emails"].clear()


@pytest.fixture
def db_state():
    return lambda: DB
"""


@pytest.fixture
def app(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(APP)
    return pytester


def test_captured_tasks_records_and_reruns(app: pytest.Pytester) -> None:
    app.makepyfile("""
from conftest import DB, client, save_user, save_user_async, send_welcome

def test_records_function_and_arguments(captured_tasks):
    client.post("/users/1", params={"name": "ada"})
    assert [(t.func, t.args, t.kwargs, t.runs) for t in captured_tasks] == [
        (save_user, (1,), {"name": "ada"}, 1)]
    captured_tasks.assert_idempotent(state="db_state")

def test_response_background(captured_tasks):
    client.get("/receipt")
    assert captured_tasks[0].func is save_user
    captured_tasks.assert_idempotent(state=lambda: DB)

def test_naive_signup(captured_tasks):
    client.post("/signup/2")
    assert [t.func for t in captured_tasks] == [save_user_async, send_welcome]
    captured_tasks.assert_idempotent(state="db_state")
""")
    result = runpytest(app)
    result.assert_outcomes(passed=2, failed=1)
    expect_lines(
        result,
        "NotIdempotentError: conftest.send_welcome('2@example.com') is not idempotent: running "
        "it again changed the state:",
        "+ ['emails'][1]: '2@example.com'",
    )


def test_a_task_failing_on_rerun_is_reported(app: pytest.Pytester) -> None:
    app.makepyfile("""
from fastapi import BackgroundTasks
from conftest import DB

def insert_once(key):
    if key in DB["users"]:
        raise KeyError("duplicate")
    DB["users"][key] = 1

async def test_run_by_starlette(captured_tasks):
    tasks = BackgroundTasks()
    tasks.add_task(insert_once, "k")
    await tasks()
    captured_tasks.assert_idempotent(state="db_state")

test_run_by_starlette = __import__("pytest").mark.anyio(test_run_by_starlette)
""")
    result = runpytest(app)
    result.assert_outcomes(failed=1)
    expect_lines(
        result,
        "test_a_task_failing_on_rerun_is_reported.insert_once('k') raised "
        "KeyError when run again: 'duplicate'",
    )


def test_only_tasks_that_ran_are_rerun(app: pytest.Pytester) -> None:
    app.makepyfile("""
import pytest
from fastapi import BackgroundTasks
from conftest import save_user

def test_scheduled_but_never_run(captured_tasks):
    BackgroundTasks().add_task(save_user, 1, "never")
    assert len(captured_tasks) == 1 and captured_tasks[0].runs == 0
    with pytest.raises(AssertionError, match=r"no background task ran during the test \\(1 sch"):
        captured_tasks.assert_idempotent(state="db_state")
""")
    runpytest(app).assert_outcomes(passed=1)


def test_marker_reruns_the_tasks_of_the_test(app: pytest.Pytester) -> None:
    app.makepyfile("""
import pytest
from conftest import DB, client

@pytest.mark.idempotent_tasks(state="db_state")
def test_upsert():
    client.post("/users/3", params={"name": "grace"})
    assert DB["users"] == {3: "grace"}

@pytest.mark.idempotent_tasks(state=lambda: DB)
def test_signup():
    client.post("/signup/4")

@pytest.mark.idempotent_tasks("db_state")
def test_body_failure_is_reported_as_is():
    client.post("/signup/5")
    assert DB["emails"] == [], "the body's own failure"

@pytest.mark.idempotent_tasks(state="db_state")
def test_nothing_scheduled():
    pass

@pytest.mark.idempotent_tasks()
def test_no_state():
    pass
""")
    result = runpytest(app, "--strict-markers")
    result.assert_outcomes(passed=1, failed=3, errors=1)
    expect_lines(
        result,
        "_ test_signup _",
        "conftest.send_welcome('4@example.com') is not idempotent: running it again changed "
        "the state:",
        "_ test_body_failure_is_reported_as_is _",
        "AssertionError: the body's own failure",
        "_ test_nothing_scheduled _",
        "no background task ran during the test (0 scheduled); there is nothing to re-run",
    )
    expect_lines(result, "@pytest.mark.idempotent_tasks needs state=<callable or fixture name>")


def test_async_rerun_in_a_running_loop(app: pytest.Pytester) -> None:
    app.makepyfile("""
import pytest
from fastapi import BackgroundTasks
from conftest import DB, save_user_async, send_welcome

@pytest.mark.anyio
async def test_async(captured_tasks):
    tasks = BackgroundTasks()
    tasks.add_task(save_user_async, 1, "x")
    tasks.add_task(send_welcome, "x@example.com")
    await tasks()
    with pytest.raises(RuntimeError, match="use `await captured_tasks.assert_idempotent_async"):
        captured_tasks.assert_idempotent(state="db_state")
    await captured_tasks.assert_idempotent_async(state="db_state")
""")
    result = runpytest(app)
    result.assert_outcomes(failed=1)
    expect_lines(result, "conftest.send_welcome('x@example.com') is not idempotent")


def test_capture_never_leaks_between_tests(app: pytest.Pytester) -> None:
    app.makepyfile("""
import pytest
from starlette.background import BackgroundTask
from conftest import client

INIT, CALL = BackgroundTask.__init__, BackgroundTask.__call__

def test_1_fails_while_capturing(captured_tasks):
    client.post("/users/1", params={"name": "a"})
    raise AssertionError("test failed while capturing")

@pytest.mark.idempotent_tasks(state="db_state")
def test_2_marker_fails():
    client.post("/signup/2")

def test_3_restored_and_empty(captured_tasks):
    assert len(captured_tasks) == 0
    assert (BackgroundTask.__init__, BackgroundTask.__call__) != (INIT, CALL)

def test_4_unpatched_without_fixture():
    assert (BackgroundTask.__init__, BackgroundTask.__call__) == (INIT, CALL)
    client.post("/users/4", params={"name": "d"})
""")
    result = runpytest(app)
    result.assert_outcomes(passed=2, failed=2)
    expect_lines(result, "py::test_1_fails_while_capturing", "py::test_2_marker_fails")
