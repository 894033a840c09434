"""FTL203 names the first work that can raise: an awaited task, not the calls that cannot."""

from __future__ import annotations

import textwrap
from pathlib import Path

from fastapi_task_lint.config import Config
from tests.fixture_harness import lint

_APP = """
import asyncio

from fastapi import BackgroundTasks, FastAPI

app = FastAPI()


async def flaky() -> None:
    raise ValueError("boom")


{task}


@app.post("/")
async def route(background_tasks: BackgroundTasks) -> None:
    background_tasks.add_task(task)
"""


def _named(tmp_path: Path, task: str) -> str:
    """What the message says can raise, and its line."""
    path = tmp_path / "app.py"
    path.write_text(_APP.format(task=textwrap.dedent(task).strip()), encoding="utf-8")
    (finding,) = lint([path], Config(select=("FTL203",), root=tmp_path))
    return finding.message.split(" and ", 1)[1].split(" can raise", 1)[0]


def test_a_shielded_task_is_named_at_its_await(tmp_path: Path) -> None:
    task = """
    async def task() -> None:
        cleanup = asyncio.create_task(flaky())
        await asyncio.shield(cleanup)
    """
    assert _named(tmp_path, task) == "`asyncio.shield(cleanup)` (line 15)"


def test_an_awaited_task_is_named_not_its_cancel(tmp_path: Path) -> None:
    task = """
    async def task() -> None:
        running = asyncio.create_task(flaky())
        running.cancel()
        await running
    """
    assert _named(tmp_path, task) == "`await running` (line 16)"


def test_cancel_on_a_receiver_of_unknown_type_still_counts(tmp_path: Path) -> None:
    task = """
    async def task(holder=None) -> None:
        holder.task.cancel()
        await holder.task
    """
    assert _named(tmp_path, task) == "`holder.task.cancel()` (line 14)"


def test_cancel_on_a_task_kept_as_an_attribute_is_not_named(tmp_path: Path) -> None:
    """`self.task` is typed by what `__init__` assigns it: a `Task`, whose `cancel()`
    returns a bool; the exception comes out of `await self.task`."""
    source = """
    import asyncio

    from fastapi import BackgroundTasks, FastAPI

    app = FastAPI()


    class Handle:
        def __init__(self, task: asyncio.Task) -> None:
            self.task = task

        async def stop(self) -> None:
            self.task.cancel()
            await self.task


    async def flaky() -> None:
        raise ValueError("boom")


    @app.post("/")
    async def route(background_tasks: BackgroundTasks) -> None:
        handle = Handle(asyncio.create_task(flaky()))
        background_tasks.add_task(handle.stop)
    """
    path = tmp_path / "app.py"
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    (finding,) = lint([path], Config(select=("FTL203",), root=tmp_path))
    assert "`await self.task` (line 15) can raise" in finding.message


_SINGLE = """
from fastapi import BackgroundTasks, FastAPI
from starlette.background import BackgroundTask
from starlette.responses import JSONResponse

app = FastAPI()


async def cleanup() -> None:
    raise ValueError("boom")


@app.get("/single")
async def single() -> JSONResponse:
    return JSONResponse({{}}, background=BackgroundTask(cleanup))
{also}
"""


def test_a_single_background_task_has_no_later_tasks_to_skip(tmp_path: Path) -> None:
    """A response's one `BackgroundTask` is not a `BackgroundTasks`: its error skips the
    rest of the task; added to a `BackgroundTasks` too, the later tasks are skipped."""
    path = tmp_path / "app.py"
    path.write_text(_SINGLE.format(also=""), encoding="utf-8")
    (single,) = lint([path], Config(select=("FTL203",), root=tmp_path))
    assert "`cleanup` runs as a response's `BackgroundTask` (" in single.message
    assert "skips the rest of the task and" in single.message
    added = (
        '\n\n@app.get("/added")\n'
        "async def added(tasks: BackgroundTasks) -> None:\n"
        "    tasks.add_task(cleanup)\n"
    )
    path.write_text(_SINGLE.format(also=added), encoding="utf-8")
    (both,) = lint([path], Config(select=("FTL203",), root=tmp_path))
    assert "`cleanup` runs in BackgroundTasks (" in both.message
    assert "skips the response's later tasks and" in both.message
