"""The identifier prefilters accept every spelling libcst would resolve, and not substrings."""

from __future__ import annotations

import pytest

from fastapi_task_lint.semantics.mentions import calling, naming


@pytest.mark.parametrize(
    "source",
    [
        b"tasks = {}\n",
        b"from app.state import tasks\n",
        b"from app.state import tasks as jobs\n",
        b"state.tasks[job_id] = 'done'\n",
        b"print(tasks)",
        b"x=tasks",
        b"caf\xc3\xa9tasks = 1\n",  # a non-ASCII neighbour only costs a parse
    ],
)
def test_naming_accepts_the_identifier(source: bytes) -> None:
    assert naming(["tasks", "JOBS"])(source)


@pytest.mark.parametrize(
    "source",
    [b"subtasks = {}\n", b"tasks_by_id = {}\n", b"asyncio_tasks.add(t)\n", b"TASKS = []\n", b""],
)
def test_naming_turns_down_longer_identifiers(source: bytes) -> None:
    assert not naming(["tasks"])(source)


@pytest.mark.parametrize(
    "source",
    [
        b"run_later(bg, send)\n",
        b"helpers.run_later (bg, send)\n",
        b"helpers.run_later\\\n(bg, send)\n",
        b"x = (run_later  # schedule it\n     (bg, send))\n",
        b"x = (run_later\r\n  (bg, send))\n",
        b"@run_later(bg)\ndef f(): ...\n",
    ],
)
def test_calling_accepts_every_way_to_write_a_call(source: bytes) -> None:
    assert calling(["run_later", "spawn"])(source)


@pytest.mark.parametrize(
    "source",
    [
        b"from helpers import run_later\n",
        b"callbacks = [run_later]\n",
        b"my_run_later(bg, send)\n",
        b"run_later_now(bg, send)\n",
    ],
)
def test_calling_turns_down_names_that_are_not_called(source: bytes) -> None:
    assert not calling(["run_later"])(source)


def test_no_names_accept_nothing() -> None:
    assert not naming([])(b"anything at all")
    assert not calling([""])(b"f()")
