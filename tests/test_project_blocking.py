"""FTL201-FTL205 across modules: tasks defined in one module, scheduled from another.

The project in fixtures/projects/blocking has chains across two and three modules, a
cycle across two, a star re-export, a task scheduled from two modules, an ARQ job and an
async dependency; its expectations are the inline `# error:` comments of every file.
"""

from __future__ import annotations

import itertools
from pathlib import Path

from fastapi_task_lint.config import Config
from fastapi_task_lint.engine import Linter
from tests.fixture_harness import FIXTURES, lint, project_expected, project_findings

PROJECT = FIXTURES / "projects" / "blocking"
CODES = ("FTL201", "FTL202", "FTL203", "FTL204", "FTL205")


def test_findings_match_the_inline_expectations() -> None:
    assert project_findings(PROJECT, CODES) == project_expected(PROJECT, CODES)


def test_chain_is_shown_across_three_modules() -> None:
    diagnostics = lint([PROJECT], Config(select=("FTL201",), root=PROJECT))
    messages = {Path(d.path).name + f":{d.line}": d.message for d in diagnostics}
    assert "`send_digest -> render_pdf -> download -> requests.get`" in messages["tasks.py:19"]
    assert (
        "`export_report -> render -> _layout -> render_pdf -> download -> requests.get`"
        in messages["tasks.py:25"]
    )
    assert "`sync_graph -> walk -> visit -> upload -> requests.put`" in messages["tasks.py:34"]


def test_task_scheduled_twice_is_reported_once() -> None:
    found = project_findings(PROJECT, ("FTL201",))
    assert [f for f in found if f[0] == "app/tasks.py" and f[1] == 19] == [
        ("app/tasks.py", 19, "FTL201")
    ]


def _write(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "proj"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


_APP = """
from fastapi import BackgroundTasks, FastAPI
from proj.tasks import job

app = FastAPI()

@app.post("/")
def route(background_tasks: BackgroundTasks) -> None:
    background_tasks.add_task(job)
"""


def test_options_extend_and_narrow_the_catalogue(tmp_path: Path) -> None:
    tasks = """
import time
from vendor import legacy

async def job() -> None:
    legacy.fetch_sync()
    time.sleep(1)
"""
    root = _write(tmp_path, {"__init__.py": "", "main.py": _APP, "tasks.py": tasks})
    default = project_findings(root, ("FTL201",))
    assert default == [("tasks.py", 7, "FTL201")]
    config = Config(
        select=("FTL201",),
        root=root,
        options={
            "extra-blocking-calls": ["vendor.legacy.*"],
            "allowed-blocking-calls": ["time.sleep"],
        },
    )
    assert project_findings(root, ("FTL201",), config) == [("tasks.py", 6, "FTL201")]


def test_error_handling_decorator_marks_a_task_handled(tmp_path: Path) -> None:
    tasks = """
import httpx
from observability import report_errors

@report_errors
def job() -> None:
    httpx.post("https://example.com")
"""
    root = _write(tmp_path, {"__init__.py": "", "main.py": _APP, "tasks.py": tasks})
    assert project_findings(root, ("FTL203",)) == [("tasks.py", 6, "FTL203")]
    config = Config(
        select=("FTL203",),
        root=root,
        options={"error-handling-decorators": ["observability.report_errors"]},
    )
    assert project_findings(root, ("FTL203",), config) == []


def test_noqa_goes_on_the_reported_line_in_the_task_module(tmp_path: Path) -> None:
    tasks = """
import time

async def job() -> None:
    time.sleep(1)  # noqa: FTL201
"""
    root = _write(tmp_path, {"__init__.py": "", "main.py": _APP, "tasks.py": tasks})
    result = Linter(Config(select=("FTL201",), root=root)).check_paths([root])
    assert result.diagnostics == []
    assert [d.line for f in result.files for d in f.suppressed] == [5]


def test_a_task_module_linted_alone_has_no_scheduling_site(tmp_path: Path) -> None:
    tasks = """
import time

async def job() -> None:
    time.sleep(1)
"""
    root = _write(tmp_path, {"__init__.py": "", "main.py": _APP, "tasks.py": tasks})
    assert lint([root / "tasks.py"], Config(select=("FTL201",), root=root)) == []
    assert len(lint([root], Config(select=("FTL201",), root=root))) == 1


def test_configured_session_factory_opens_a_session(tmp_path: Path) -> None:
    tasks = """
from proj.db import get_session

def job() -> None:
    db = get_session()
    db.execute("select 1")
"""
    db = "def get_session():\n    ...\n"
    root = _write(tmp_path, {"__init__.py": "", "main.py": _APP, "tasks.py": tasks, "db.py": db})
    assert project_findings(root, ("FTL204",)) == []
    config = Config(select=("FTL204",), root=root, session_factories=("proj.db.get_session",))
    assert project_findings(root, ("FTL204",), config) == [("tasks.py", 5, "FTL204")]


def _hops(prefix: str, count: int, last: str) -> str:
    """`def {prefix}1(): {prefix}2()` ... `def {prefix}{count}(): {last}()`: a call path."""
    names = [f"{prefix}{i}" for i in range(1, count + 1)] + [last]
    return "".join(f"def {a}() -> None:\n    {b}()\n\n\n" for a, b in itertools.pairwise(names))


# `deep` reaches `shared` through nine calls, and `shared` blocks six calls further down: 16
# calls in all, past the ten the search follows. `near` reaches `shared` directly.
_DEPTH_FILES = {
    "app/__init__.py": "",
    "app/chain.py": (
        "import time\n\n\n"
        + _hops("hop", 9, "shared")
        + "def shared() -> None:\n    step1()\n\n\n"
        + _hops("step", 5, "sleepy")
        + "def sleepy() -> None:\n    time.sleep(1)\n"
    ),
    "app/a_near.py": (
        "from fastapi import FastAPI\n\nfrom app.chain import shared\n\napp = FastAPI()\n\n\n"
        '@app.get("/near")\nasync def near() -> None:\n    shared()\n'
    ),
    "app/z_deep.py": (
        "from fastapi import FastAPI\n\nfrom app.chain import hop1\n\napp = FastAPI()\n\n\n"
        '@app.get("/deep")\nasync def deep() -> None:\n    hop1()\n'
    ),
}


def _each_file(root: Path, order: list[Path]) -> dict[str, list[tuple[int, str, str]]]:
    """Each file's FTL202 findings, checked one by one in `order` by one fresh index."""
    linter = Linter(Config(select=("FTL202",), root=root))
    found, project = linter.index([root])
    assert sorted(order) == sorted(found.files)
    return {
        path.name: [
            (d.line, d.code, d.message) for d in linter.check_file(path, project).diagnostics
        ]
        for path in order
    }


def test_a_chain_does_not_depend_on_which_files_were_checked_first(tmp_path: Path) -> None:
    """Pooled processes check their own files in their own order. The search kept the first
    chain it found per function and reused it at any depth, so `deep` was flagged through a
    16-call chain after `near` had been checked, and not otherwise (`--jobs N` and `--jobs 1`
    disagreed on litellm)."""
    root = _write(tmp_path, _DEPTH_FILES)
    files = sorted(root.rglob("*.py"))
    forward, backward = _each_file(root, files), _each_file(root, files[::-1])
    assert forward == backward
    assert forward["z_deep.py"] == []
    [(_, _, message)] = forward["a_near.py"]
    assert "`near -> shared -> step1 -> step2 -> step3 -> step4 -> step5 -> sleepy -> " in message


def test_the_shortest_chain_is_shown(tmp_path: Path) -> None:
    """Of the paths down to a blocking call, the message shows the shortest (then the one
    through earlier calls), whichever a search happened to meet first."""
    root = _write(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/routes.py": (
                "import time\n\nfrom fastapi import FastAPI\n\napp = FastAPI()\n\n\n"
                + _hops("slow", 3, "sleepy")
                + "def sleepy() -> None:\n    time.sleep(1)\n\n\n"
                "def work() -> None:\n    slow1()\n    sleepy()\n\n\n"
                '@app.get("/")\nasync def index() -> None:\n    work()\n'
            ),
        },
    )
    [diagnostic] = lint([root], Config(select=("FTL202",), root=root))
    assert "(`index -> work -> sleepy -> time.sleep`)" in diagnostic.message


def test_a_task_on_a_loop_the_code_made_says_what_waits(tmp_path: Path) -> None:
    """A task on `asyncio.new_event_loop()` blocks that loop: it may serve no requests."""
    app = """
import asyncio
import time


async def housekeeping() -> None:
    time.sleep(1)


async def served() -> None:
    time.sleep(1)


async def handed_over() -> None:
    time.sleep(1)


async def handed_to_serving() -> None:
    time.sleep(1)


def main() -> None:
    private = asyncio.new_event_loop()
    private.create_task(housekeeping())
    asyncio.get_event_loop().create_task(served())
    asyncio.run_coroutine_threadsafe(handed_over(), loop=private)
    asyncio.run_coroutine_threadsafe(handed_to_serving(), asyncio.get_event_loop())


class Daemon:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()

    def start(self) -> None:
        self.loop.create_task(self.tick())
        self.call(self.tock())

    def call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    async def tick(self) -> None:
        time.sleep(1)

    async def tock(self) -> None:
        time.sleep(1)
"""
    root = _write(tmp_path, {"app.py": app})
    messages = [d.message for d in lint([root], Config(select=("FTL201",), root=root))]
    assert len(messages) == 6
    own, serving = "every other task on that loop waits", "every request on this worker waits"
    for message, task, waits in zip(
        messages,
        ("housekeeping", "served", "handed_over", "handed_to_serving", "tick", "tock"),
        (own, serving, own, serving, own, own),
        strict=True,
    ):
        assert f"`{task}`" in message
        assert f"{waits} until it returns" in message


def test_a_websocket_handler_is_not_told_to_become_a_plain_def(tmp_path: Path) -> None:
    """FastAPI awaits a WebSocket endpoint: a plain `def` one fails, so the advice differs."""
    app = """
import time

from fastapi import FastAPI, WebSocket

app = FastAPI()


@app.websocket("/ws")
async def stream(websocket: WebSocket) -> None:
    time.sleep(1)


@app.get("/")
async def index() -> None:
    time.sleep(1)
"""
    root = _write(tmp_path, {"app.py": app})
    stream, index = (d.message for d in lint([root], Config(select=("FTL202",), root=root)))
    assert "inside the async WebSocket handler `stream`" in stream
    assert "move it to `await asyncio.to_thread(...)` or use the async API" in stream
    assert "plain `def`" not in stream
    assert "make `index` a plain `def` (FastAPI runs it in the threadpool)" in index


def test_a_handler_that_awaits_is_not_told_to_become_a_plain_def(tmp_path: Path) -> None:
    """A handler that awaits, or enters `async with`/`async for`, cannot be a plain `def`
    as written: the advice is the blocking call's own (found by QA on llama-cpp-python)."""
    app = """
import asyncio
import time

from fastapi import FastAPI

app = FastAPI()
lock = asyncio.Lock()


async def rows():
    yield 1


@app.get("/awaits")
async def awaits() -> None:
    await asyncio.sleep(0)
    time.sleep(1)


@app.get("/locked")
async def locked() -> None:
    async with lock:
        time.sleep(1)


@app.get("/iterates")
async def iterates() -> None:
    async for _ in rows():
        time.sleep(1)


@app.get("/plain")
async def plain() -> None:
    time.sleep(1)
"""
    root = _write(tmp_path, {"app.py": app})
    messages = [d.message for d in lint([root], Config(select=("FTL202",), root=root))]
    *suspending, plain = messages
    assert len(suspending) == 3
    for message in suspending:
        assert "move it to `await asyncio.to_thread(...)` or use the async API" in message
        assert "plain `def`" not in message
    assert "make `plain` a plain `def` (FastAPI runs it in the threadpool)" in plain


def test_a_streamed_generator_is_told_to_offload_inside_it(tmp_path: Path) -> None:
    """A sync helper that returns a `StreamingResponse` of an async generator: Starlette
    iterates the generator on the loop after the handler returns, so neither a plain `def`
    handler nor offloading the helper's call helps; the call inside the generator is the
    one to move (found by QA on whisper-live)."""
    app = """
import requests
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()


def _stream(url: str) -> StreamingResponse:
    async def events():
        yield requests.get(url).text

    return StreamingResponse(events(), media_type="text/event-stream")


@app.get("/stream")
async def stream(url: str) -> StreamingResponse:
    return _stream(url)
"""
    root = _write(tmp_path, {"app.py": app})
    (message,) = (d.message for d in lint([root], Config(select=("FTL202",), root=root)))
    assert "`stream -> _stream -> events -> requests.get`" in message
    assert "move `requests.get` in `events` to `await asyncio.to_thread(...)`" in message
    assert "plain `def`" not in message


def test_a_helper_that_polls_in_another_module_is_shown_with_its_chain(tmp_path: Path) -> None:
    """FTL205 follows a task's call into a helper of another module that polls; the helper's
    sleep lies past the end of the task's file, which the message must not quote from."""
    padding = "\n".join(f"# line {n}" for n in range(40))
    helpers = f"""
import time

{padding}


def wait_for_export(export_id: int) -> None:
    while True:
        time.sleep(5)
"""
    app = """
from fastapi import BackgroundTasks, FastAPI
from proj.helpers import wait_for_export

app = FastAPI()

def collect(export_id: int) -> None:
    wait_for_export(export_id)

@app.post("/")
def route(background_tasks: BackgroundTasks) -> None:
    background_tasks.add_task(collect, 1)
"""
    root = _write(tmp_path, {"__init__.py": "", "helpers.py": helpers, "app.py": app})
    found = lint([root], Config(select=("FTL205", "FTL002"), root=root))
    assert [(Path(d.path).name, d.line, d.code) for d in found] == [("app.py", 8, "FTL205")]
    assert "calls `wait_for_export`, which polls in a `while` loop" in found[0].message
    assert "(`collect -> wait_for_export -> time.sleep`)" in found[0].message


def test_an_async_session_left_open_is_told_to_use_async_with(tmp_path: Path) -> None:
    """An `AsyncSession` is closed by `async with`; a sync `Session` by `with` (the advice
    said `with` for both; found by QA on aegra-api)."""
    app = """
import asyncio

from fastapi import FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import sessionmaker

AsyncMaker = async_sessionmaker(create_async_engine("sqlite+aiosqlite://"))
SyncMaker = sessionmaker(create_engine("sqlite://"))
app = FastAPI()


async def run_async() -> None:
    session = AsyncMaker()
    await session.execute(text("select 1"))


async def run_sync() -> None:
    session = SyncMaker()
    session.execute(text("select 1"))


@app.post("/")
async def start() -> None:
    asyncio.create_task(run_async())
    asyncio.create_task(run_sync())
"""
    root = _write(tmp_path, {"app.py": app})
    found = lint([root], Config(select=("FTL204",), root=root))
    assert [d.message.rpartition("; use ")[2] for d in found] == [
        "`async with AsyncMaker() as session:`",
        "`with SyncMaker() as session:`",
    ]


def test_enum_members_rule_out_branches_across_modules(tmp_path: Path) -> None:
    """The enum, the helper that tests it and the route that passes a member each live in
    a module of their own, and the route spells the member through a module import."""
    enums = """
from enum import Enum

class Base(str, Enum):
    pass

class NodeType(Base):
    SOURCE = "source"
    METRIC = "metric"
"""
    helpers = """
import requests
from proj.enums import NodeType

def columns(node_type: NodeType) -> list:
    if node_type is NodeType.SOURCE:
        return requests.get("https://catalog/columns").json()
    return []
"""
    main = """
from fastapi import FastAPI
from proj import enums
from proj.helpers import columns

app = FastAPI()

@app.get("/metric")
async def metric() -> list:
    return columns(enums.NodeType.METRIC)

@app.get("/source")
async def source() -> list:
    return columns(enums.NodeType.SOURCE)
"""
    files = {"__init__.py": "", "main.py": main, "enums.py": enums, "helpers.py": helpers}
    root = _write(tmp_path, files)
    assert project_findings(root, ("FTL202",)) == [("main.py", 14, "FTL202")]


def test_app_state_attributes_take_the_type_the_app_factory_gives(tmp_path: Path) -> None:
    """`request.app.state.controller` is what `app.state.controller = ...` assigns in the app
    factory of another module (truss). `request.state` is the request's own, and state
    assigned two different classes, or on an object that is not an app, tells nothing."""
    controllers = """
import subprocess

class Controller:
    def restart(self) -> None:
        subprocess.run(["systemctl", "restart", "server"])

class Other:
    def restart(self) -> None:
        subprocess.run(["true"])
"""
    factory = """
from fastapi import FastAPI
from proj.controllers import Controller, Other
from proj.routes import router

class Machine:
    state: object

def create_app() -> FastAPI:
    app = FastAPI()
    app.state.controller = Controller()
    app.state.mixed = Controller()
    machine = Machine()
    machine.state.runner = Controller()
    app.include_router(router)
    return app

def reset(app: FastAPI) -> None:
    app.state.mixed = Other()
"""
    routes = """
from fastapi import APIRouter, Request

router = APIRouter()

@router.post("/restart")
async def restart(request: Request) -> None:
    request.app.state.controller.restart()

@router.post("/mixed")
async def mixed(request: Request) -> None:
    request.app.state.mixed.restart()

@router.post("/runner")
async def runner(request: Request) -> None:
    request.app.state.runner.restart()
    request.state.controller.restart()
"""
    files = {
        "__init__.py": "",
        "controllers.py": controllers,
        "factory.py": factory,
        "routes.py": routes,
    }
    root = _write(tmp_path, files)
    assert project_findings(root, ("FTL202",)) == [("routes.py", 8, "FTL202")]
