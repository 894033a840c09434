"""The byte prefilter never hides a finding that a full parse of every file finds."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from fastapi_task_lint.config import Config
from fastapi_task_lint.engine import Linter
from fastapi_task_lint.rules import all_rules
from fastapi_task_lint.rules import ftl302_in_memory_task_state as ftl302
from fastapi_task_lint.rules.base import Rule
from fastapi_task_lint.semantics import (
    asyncio_tasks,
    lifespan,
    project,
    schedulers,
    task_definitions,
)
from fastapi_task_lint.semantics.asyncio_tasks import find_task_spawns
from fastapi_task_lint.semantics.byte_filters import ByteFilter
from fastapi_task_lint.semantics.mentions import naming
from fastapi_task_lint.semantics.model import ModuleModel, TypeRef
from fastapi_task_lint.semantics.project import ProjectIndex
from fastapi_task_lint.semantics.routes import may_define_get_routes, may_define_routes
from fastapi_task_lint.semantics.scope import Binding
from fastapi_task_lint.semantics.state import program_state
from fastapi_task_lint.semantics.task_definitions import project_tasks
from fastapi_task_lint.source import load_module

from .helpers import EXAMPLES, FIXTURES, Finding, findings, recording

_EVERYTHING = (b"",)  # the empty string is in every file: the filter lets all through


def disable_prefilter(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every file parsed, every rule run on it, every whole-program scan over every file."""
    for rule in all_rules().values():
        if rule.triggers:
            monkeypatch.setattr(rule, "triggers", _EVERYTHING)
        monkeypatch.setattr(rule, "wants", lambda self, data, path, project: True)
    original_init = Linter.__init__

    def init(self: Linter, *args: object, **kwargs: object) -> None:
        original_init(self, *args, **kwargs)  # type: ignore[arg-type]
        self.triggers = _EVERYTHING

    monkeypatch.setattr(Linter, "__init__", init)
    # Whole-program scans filter the project's files by their own strings: not here.
    monkeypatch.setattr(ProjectIndex, "_accepts", lambda self, *asked: True)
    # FTL302 follows only the containers a writer writes job state to: here, every one.
    monkeypatch.setattr(
        ftl302,
        "program_state",
        lambda project, follows, written_in: program_state(
            project, lambda access: True, lambda data: True
        ),
    )


def _fixture_files() -> list[Path]:
    return sorted(p for p in FIXTURES.glob("FTL*/*.py"))


def _projects() -> list[Path]:
    return [*sorted(p for p in (FIXTURES / "projects").iterdir() if p.is_dir()), EXAMPLES]


def _full(paths: list[Path], root: Path, monkeypatch: pytest.MonkeyPatch) -> list[Finding]:
    disable_prefilter(monkeypatch)
    return findings(paths, root)


@pytest.mark.parametrize("path", _fixture_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture_file(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    filtered = findings([path], FIXTURES)
    assert filtered == _full([path], FIXTURES, monkeypatch)


@pytest.mark.parametrize("root", _projects(), ids=lambda p: p.name)
def test_project(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    filtered = findings([root], root)
    assert filtered == _full([root], root, monkeypatch)


def test_generated_corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every fixture file as a module of one package: rules see each other's tasks, state,
    routes and schedulers across modules, in combinations no fixture was written for."""
    package = tmp_path / "generated"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for number, source in enumerate(_fixture_files()):
        (package / f"m{number:03d}_{source.stem}.py").write_bytes(source.read_bytes())
    filtered = findings([package], tmp_path)
    assert filtered, "the generated corpus should hold findings"
    assert filtered == _full([package], tmp_path, monkeypatch)


ACTORS = "import dramatiq\n\n\n@dramatiq.actor\ndef audit(order): ...\n"
ROUTES = """\
from sqlalchemy.orm import Session, declarative_base

from app.actors import audit

Base = declarative_base()


class Order(Base):
    __tablename__ = "orders"


def handler(db: Session, order_id: int):
    order = db.get(Order, order_id)
    audit.send(order)
"""
SOCKETS = "async def echo(websocket):\n    await websocket.send(await websocket.receive())\n"


def _write(root: Path, files: dict[str, str]) -> Path:
    (root / "app").mkdir()
    (root / "app" / "__init__.py").write_text("")
    for name, text in files.items():
        (root / "app" / name).write_text(text)
    return root


def _findings_and_parsed(
    monkeypatch: pytest.MonkeyPatch, root: Path, select: tuple[str, ...] = ("FTL",)
) -> tuple[list[Finding], set[str]]:
    """A run's findings over `root`, and the names of the files it parsed."""
    with recording(monkeypatch, ProjectIndex, "model_for_path", 1) as parsed:
        return findings([root], root, select=select), {p.name for p in parsed}


def _one_finding(monkeypatch: pytest.MonkeyPatch, root: Path, code: str, flagged: str) -> set[str]:
    """Checks `root` for `code`: one finding, in the file named `flagged`, as a full parse
    finds it. The names of the files the (filtered) run parsed."""
    found, names = _findings_and_parsed(monkeypatch, root, (code,))
    assert [(Path(f[0]).name, f[3]) for f in found] == [(flagged, code)]
    assert found == [f for f in _full([root], root, monkeypatch) if f[3] == code]
    return names


def _assert_clean_and_unparsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str]
) -> None:
    """A run over `files` finds nothing and parses none of them; a full parse agrees."""
    root = _write(tmp_path, files)
    found, names = _findings_and_parsed(monkeypatch, root)
    assert found == []
    assert not names & files.keys()
    assert _full([root], root, monkeypatch) == []


def test_send_is_a_site_where_another_module_imports_dramatiq(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """routes.py never spells `dramatiq`: the actor's module does, so `.send(` still counts."""
    root = _write(tmp_path, {"actors.py": ACTORS, "routes.py": ROUTES, "sockets.py": SOCKETS})
    filtered = findings([root], root)
    assert [(Path(f[0]).name, f[3]) for f in filtered] == [("routes.py", "FTL101")]
    assert filtered == _full([root], root, monkeypatch)


def test_send_calls_are_not_parsed_in_a_run_without_dramatiq(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    jobs = "async def f(q):\n    await q.kiq()\n"
    _assert_clean_and_unparsed(tmp_path, monkeypatch, {"sockets.py": SOCKETS, "jobs.py": jobs})


def test_an_http_client_using_self_request_is_not_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FTL401's `self.request` trigger, in a module that cannot register a Celery task."""
    client = "class Client:\n    def get(self, url):\n        return self.request('GET', url)\n"
    _assert_clean_and_unparsed(tmp_path, monkeypatch, {"client.py": client})


SCHEDULER = (
    "from apscheduler.schedulers.background import BackgroundScheduler\n\n"
    "scheduler = BackgroundScheduler()\n"
)
THREADS = "import threading\n\nworker = threading.Thread(target=print)\nworker.start()\n"


def test_a_scheduler_started_where_another_module_imports_apscheduler(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """main.py never spells `apscheduler`: the scheduler's module does, so `.start()` counts."""
    main = "from app.scheduler import scheduler\n\nscheduler.start()\n"
    root = _write(tmp_path, {"scheduler.py": SCHEDULER, "main.py": main, "threads.py": THREADS})
    filtered = findings([root], root)
    assert [(Path(f[0]).name, f[3]) for f in filtered] == [
        ("main.py", "FTL501"),
        ("main.py", "FTL502"),
    ]
    assert filtered == _full([root], root, monkeypatch)


def test_start_calls_are_not_parsed_in_a_run_without_apscheduler(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A thread's `.start()` and a queue's `add_job(...)` are no scheduler's where nothing
    in the run imports APScheduler (FTL501-FTL504 can resolve no scheduler class)."""
    jobs = "def plan(queue, job):\n    queue.add_job(job)\n"
    _assert_clean_and_unparsed(tmp_path, monkeypatch, {"threads.py": THREADS, "jobs.py": jobs})


def test_what_a_task_only_reads_is_not_resolved_to_find_task_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FTL302 looks for the containers tasks write: a task that reads `settings.LIMITS`
    does not parse settings.py for it (other rules may), and one that writes `state.JOBS`
    still counts."""
    settings = 'LIMITS = {"files": 10}\n'
    state = "JOBS: dict[str, str] = {}\n"
    routes = """\
from fastapi import APIRouter, BackgroundTasks

from app import settings, state

router = APIRouter()


def run_import(job_id: str) -> None:
    if settings.LIMITS["files"]:
        state.JOBS[job_id] = "done"


@router.post("/imports")
def start(background_tasks: BackgroundTasks) -> None:
    background_tasks.add_task(run_import, "1")


@router.get("/imports/{job_id}")
def status(job_id: str) -> str:
    return state.JOBS[job_id]
"""
    root = _write(tmp_path, {"settings.py": settings, "state.py": state, "routes.py": routes})
    assert "settings.py" not in _one_finding(monkeypatch, root, "FTL302", "state.py")


def test_a_container_tasks_write_no_job_state_to_is_not_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A task that appends plain data to `store.EVENTS` makes it no FTL302 candidate: the
    modules that import it (report.py, which no other rule wants) are not parsed for it."""
    store = "EVENTS: list[str] = []\n"
    report = "from app.store import EVENTS\n\n\ndef count() -> int:\n    return len(EVENTS)\n"
    routes = """\
from fastapi import APIRouter, BackgroundTasks

from app.store import EVENTS

router = APIRouter()


def log_event(name: str) -> None:
    EVENTS.append(name)


@router.post("/events")
def record(name: str, background_tasks: BackgroundTasks) -> None:
    background_tasks.add_task(log_event, name)
"""
    files = {"store.py": store, "report.py": report, "routes.py": routes}
    root = _write(tmp_path, files)
    found, names = _findings_and_parsed(monkeypatch, root, ("FTL302",))
    assert found == []
    assert "report.py" not in names
    assert [f for f in _full([root], root, monkeypatch) if f[3] == "FTL302"] == []


# A helper that writes a status to `state.JOBS`, making it job state.
_PROGRESS = """\
from app.state import JOBS


def mark_done(key: str) -> None:
    JOBS[key] = "done"
"""


def _job_routes(imports: str, *calls: str) -> str:
    """Routes that run `run_import` (its body: `calls`) as a background task and read
    `state.JOBS`, importing `imports` and `state` from the app."""
    body = "".join(f"    {call}\n" for call in calls)
    return f"""\
from fastapi import APIRouter, BackgroundTasks

from app import {imports}, state

router = APIRouter()


def run_import(key: str) -> None:
{body}

@router.post("/imports")
def start(background_tasks: BackgroundTasks) -> None:
    background_tasks.add_task(run_import, "1")


@router.get("/imports/{{key}}")
def status(key: str) -> str:
    return state.JOBS[key]
"""


def test_a_helper_whose_module_can_hold_no_job_state_write_is_not_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A task calls `audit.log_line` and `progress.mark_done`: FTL302 parses progress.py,
    whose bytes hold a status literal, and finds its write, but not audit.py, whose bytes
    cannot hold a job-state write."""
    state = "JOBS: dict[str, str] = {}\n"
    audit = "def log_line(text: str) -> None:\n    print(text)\n"
    routes = _job_routes("audit, progress", "audit.log_line(key)", "progress.mark_done(key)")
    files = {"state.py": state, "audit.py": audit, "progress.py": _PROGRESS, "routes.py": routes}
    root = _write(tmp_path, files)
    names = _one_finding(monkeypatch, root, "FTL302", "state.py")
    assert "progress.py" in names
    assert "audit.py" not in names


def test_a_helper_whose_module_has_no_scheduling_call_is_not_parsed_for_submissions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A route returns the id `submit_report` submits (FTL304 finds it) and also calls
    `audit.log_line`, whose module has no scheduling call: it cannot submit a job, so it is
    not parsed to look."""
    worker = 'from celery import Celery\n\ncelery_app = Celery("reports")\n'
    worker += "\n\n@celery_app.task\ndef build_report(month: str) -> str:\n    return month\n"
    audit = "def log_line(text: str) -> None:\n    print(text)\n"
    routes = """\
from fastapi import APIRouter

from app import audit
from app.worker import build_report

router = APIRouter()


def submit_report(month: str) -> str:
    task = build_report.delay(month)
    return task.id


@router.post("/reports", status_code=202)
def start(month: str) -> dict[str, str]:
    audit.log_line(month)
    return {"task_id": submit_report(month)}
"""
    root = _write(tmp_path, {"worker.py": worker, "audit.py": audit, "routes.py": routes})
    assert "audit.py" not in _one_finding(monkeypatch, root, "FTL304", "routes.py")


def test_a_docstring_that_shows_a_def_does_not_hide_a_reexported_helper(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`helpers.py` re-exports `mark_done`, and its docstring shows `def mark_done` at the
    start of a line: the task's call is still followed to `progress.py`, whose write of a
    status makes `JOBS` job state (FTL302), as a full parse finds."""
    state = "JOBS: dict[str, str] = {}\n"
    helpers = '''\
"""Helpers for imports.

Example:

def mark_done(key):
    ...
"""
from app.progress import mark_done

__all__ = ["mark_done"]
'''
    routes = _job_routes("helpers", "helpers.mark_done(key)")
    files = {
        "state.py": state,
        "progress.py": _PROGRESS,
        "helpers.py": helpers,
        "routes.py": routes,
    }
    root = _write(tmp_path, files)
    filtered = findings([root], root, select=("FTL302",))
    assert [(Path(f[0]).name, f[3]) for f in filtered] == [("state.py", "FTL302")]
    assert filtered == _full([root], root, monkeypatch)


@pytest.mark.parametrize(
    ("source", "qualname", "answered"),
    [
        ("def log_line(text): ...\n", "app.audit.log_line", True),
        (
            '"""Shows:\ndef log_line(text): ...\n"""\nfrom app.other import log_line\n',
            "app.audit.log_line",
            False,
        ),
        (
            "x = '''\ndef log_line(): ...\n'''\ndef log_line(text): ...\n",
            "app.audit.log_line",
            True,
        ),
        ('s = "a\\\\"  # "\ndef log_line(text): ...\n', "app.audit.log_line", True),
        ('s = "a\\\n"\nt = """\ndef log_line(text): ...\n"""\n', "app.audit.log_line", False),
        ("async def log_line(text): ...\n", "app.audit.log_line", True),
        ("from app.other import log_line\n", "app.audit.log_line", False),
        ("class Log:\n    def log_line(self): ...\n", "app.audit.Log.log_line", False),
        ("if True:\n    def log_line(text): ...\n", "app.audit.log_line", False),
        ("def log_line_twice(text): ...\n", "app.audit.log_line", False),
        ("def log_line(text): ...\n", "app.missing.log_line", False),
    ],
)
def test_unparsed_definer_answers_only_for_a_top_level_def(
    tmp_path: Path, source: str, qualname: str, answered: bool
) -> None:
    """The bytes come back, unparsed, only when the module defines the name at its top
    level: an import, a method or a nested `def` may lead elsewhere."""
    root = _write(tmp_path, {"audit.py": source})
    package = root / "app"
    index = ProjectIndex([package / "__init__.py", package / "audit.py"], Config(root=root))
    assert (index.unparsed_definer(qualname) == source.encode()) is answered
    index.module("app.audit")
    assert index.unparsed_definer(qualname) is None  # parsed: resolving it costs nothing


def test_holds_any_answers_as_a_substring_test_for_each_file_asked_about(tmp_path: Path) -> None:
    """The answers kept for a file never answer for other files asked about in between, nor
    for strings not yet searched in that file."""
    first = b"background_tasks.add_task(send, user)"
    second = b"async def handler(): ..."
    index = ProjectIndex([], Config(root=tmp_path))
    one, copy, other, empty = (tmp_path / f"{name}.py" for name in ("one", "copy", "two", "e"))
    asks = [
        (one, first, (b"add_task",)),
        (copy, first, (b"add_task", b"async")),  # equal bytes, another file: searched afresh
        (one, first, (b"async", b"add_task")),
        (other, second, (b"add_task",)),
        (other, second, (b"async",)),
        (one, first, (b"async",)),
        (one, first, (b"delay", b"BackgroundTask")),
        (other, second, (b"def", b"nothing")),
        (empty, b"", (b"",)),
        (one, first, ()),
    ]
    for path, data, strings in asks:
        held = index.holds_any(path, data, strings)
        assert held == any(s in data for s in strings), (data, strings)


def test_a_run_reads_each_file_from_disk_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine and every whole-program scan test the same bytes, read once per run."""

    root = FIXTURES / "projects" / "state"
    with recording(monkeypatch, project, "read_bytes") as reads:
        assert findings([root], root)  # the project has findings: its scans ran
    files = sorted(root.rglob("*.py"))
    assert sorted(reads) == files


def test_an_adopted_text_stands_for_the_file(tmp_path: Path) -> None:
    """After `register`, scans test the editor's text, not the stale bytes on disk."""

    path = tmp_path / "jobs.py"
    path.write_text("JOBS = {}\n")
    index = ProjectIndex([path], Config(root=tmp_path))
    assert index.source_bytes(path) == b"JOBS = {}\n"
    index.register(load_module(path, index, "QUEUE = []\n"))
    assert index.source_bytes(path) == b"QUEUE = []\n"


@pytest.mark.parametrize(
    ("source", "any_route", "get_route"),
    [
        (b'@router.get("/")\ndef read(): ...\n', True, True),
        (b'@app . post ("/x")\ndef write(): ...\n', True, False),
        (b'@router.api_route("/", methods=["GET"])\ndef both(): ...\n', True, True),
        (b'@router.websocket("/ws")\nasync def ws(): ...\n', True, False),
        (b'@(router.get)("/")\ndef read(): ...\n', True, True),
        (b"@router.\\\n    get('/')\ndef read(): ...\n", True, True),
        (b'router.add_api_route("/", read)\n', True, True),
        (b"@property\ndef get(self): ...\n", False, False),
        (b"@dataclass\nclass Route: ...\n# router.get is documented elsewhere\n", False, False),
        (b"x = router.get('/')\n", False, False),
    ],
)
def test_route_prefilters(source: bytes, any_route: bool, get_route: bool) -> None:
    assert may_define_routes(source) is any_route
    assert may_define_get_routes(source) is get_route


def test_scans_sharing_a_filter_test_each_file_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two scans with the same prefilter ask it once per file; an adopted text asks again."""

    paths = [tmp_path / "jobs.py", tmp_path / "other.py"]
    paths[0].write_text("JOBS = {}\n")
    paths[1].write_text("x = 1\n")
    index = ProjectIndex(paths, Config(root=tmp_path))
    with recording(monkeypatch, project, "passes") as asked:
        assert [m.path.name for m in index.models(where=naming(["JOBS"]))] == ["jobs.py"]
        assert [m.path.name for m in index.models(where=naming(["JOBS"]))] == ["jobs.py"]
        assert len(asked) == 2
        index.register(load_module(paths[1], index, "JOBS = []\n"))
        assert len(index.models(where=naming(["JOBS"]))) == 2
        assert len(asked) == 4


@pytest.mark.parametrize(
    ("module", "name", "prefilter", "codes"),
    [
        (
            task_definitions,
            "may_define_decorated_tasks",
            task_definitions._DECORATED_TASKS,
            ("FTL201", "FTL204"),
        ),
        (schedulers, "may_start_scheduler", schedulers._STARTS, ("FTL501", "FTL502", "FTL503")),
    ],
    ids=["decorated-tasks", "scheduler-starts"],
)
def test_a_prefilter_several_rules_share_tests_each_file_once(
    module: object,
    name: str,
    prefilter: ByteFilter,
    codes: tuple[str, ...],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Rules that narrow their triggers with the same regex prefilter ask it once per file,
    whether they call it or a scan does, and find what they found before."""
    files = sorted(EXAMPLES.rglob("*.py"))
    expected = findings(files, EXAMPLES, select=codes)
    original = getattr(module, name)
    asked: Counter[bytes] = Counter()

    def counted(data: bytes) -> bool:
        asked[data] += 1
        return bool(original(data))

    monkeypatch.setattr(module, name, counted)
    monkeypatch.setattr(prefilter, "_accepts", counted)
    assert findings(files, EXAMPLES, select=codes) == expected
    copies = Counter(path.read_bytes() for path in files)
    assert asked
    assert all(times <= copies[data] for data, times in asked.items())


def test_a_modules_asyncio_tasks_are_found_once_for_every_asker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """FTL302's scans, FTL307 and FTL505 all ask which asyncio tasks a module starts: the
    search (every call's name resolved) runs once per module, and finds what it found."""
    files = sorted([*FIXTURES.glob("FTL307/*.py"), *FIXTURES.glob("FTL505/*.py")])
    codes = ("FTL302", "FTL307", "FTL505")
    expected = findings(files, FIXTURES, select=codes)
    with recording(monkeypatch, asyncio_tasks, "find_task_spawns") as searched:
        assert findings(files, FIXTURES, select=codes) == expected
    assert searched
    assert len({id(model) for model in searched}) == len(searched)


def test_every_prefilter_of_a_file_reads_the_same_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine's prefilter and the rules' second ask before checking share one `bytes`:
    the substring answers `holds_any` keeps for it are not searched again."""

    asked: dict[Path, set[int]] = {}
    original = Rule.wants

    def wants(self: Rule, data: bytes, path: Path, project: ProjectIndex) -> bool:
        asked.setdefault(path, set()).add(id(data))
        return original(self, data, path, project)

    monkeypatch.setattr(Rule, "wants", wants)
    root = FIXTURES / "projects" / "state"
    assert findings([root], root)
    assert asked
    assert all(len(ids) == 1 for ids in asked.values()), asked


def test_a_name_is_resolved_once_and_its_reads_count_for_every_asker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`resolve` keeps each name's answer for the run; a later ask, for another file's
    rules, still records the modules the answer came from (the cache's dependencies)."""

    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "models.py").write_text("class User: ...\n")
    (tmp_path / "app" / "api.py").write_text("from app.models import User\n")
    routes, tasks = tmp_path / "app" / "routes.py", tmp_path / "app" / "tasks.py"
    routes.write_text("")
    tasks.write_text("")
    index = ProjectIndex(sorted(tmp_path.rglob("*.py")), Config(root=tmp_path))
    with recording(monkeypatch, ProjectIndex, "_resolve", 1) as resolved:
        with index.checking_file(routes.absolute()):
            first = index.resolve("app.api.User")
        asked = len(resolved)
        with index.checking_file(tasks.absolute()):
            second = index.resolve("app.api.User")
        assert len(resolved) == asked  # answered from the first ask
    assert first is second and first is not None and first.model.path.name == "models.py"
    for checked in (routes, tasks):
        reads = index.seen.own_reads[str(checked.absolute())]
        assert str(tmp_path / "app" / "models.py") in reads


class _Searched(bytes):
    """File bytes that record each string searched for in them."""

    searched: list[bytes]

    def __contains__(self, string: object) -> bool:
        assert isinstance(string, bytes)
        self.searched.append(string)
        return super().__contains__(string)


def test_each_trigger_is_searched_once_per_file_and_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scan's trigger strings and the rules' share their answers for a file."""

    path = tmp_path / "routes.py"
    path.write_text("background_tasks.add_task(send, user)\n")
    data = _Searched(path.read_bytes())
    data.searched = []
    monkeypatch.setattr(project, "read_bytes", lambda p: data)
    index = ProjectIndex([path], Config(root=tmp_path))
    key = path.absolute()
    assert [m.path.name for m in index.models((b"delay", b"add_task"))] == ["routes.py"]
    assert index.holds_any(key, index.read(key), (b"delay", b"add_task", b"apply_async"))
    assert index.holds_any(key, index.read(key), (b"kiq", b"add_task"))
    triggers = [s for s in data.searched if s != b"\x00"]  # not the decoder's test for NUL
    assert triggers == [b"delay", b"add_task", b"kiq"]


def test_class_ancestors_are_found_once_and_their_reads_count_for_every_asker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "base.py").write_text("class Base: ...\n")
    (tmp_path / "app" / "client.py").write_text(
        "from app.base import Base\n\n\nclass Client(Base): ...\n"
    )
    routes, tasks = tmp_path / "app" / "routes.py", tmp_path / "app" / "tasks.py"
    routes.write_text("x = 1\n")
    tasks.write_text("y = 2\n")
    index = ProjectIndex(sorted(tmp_path.rglob("*.py")), Config(root=tmp_path))
    with recording(monkeypatch, ModuleModel, "_ancestors", 1) as walked:
        for checked in (routes, tasks):
            model = index.model_for_path(checked)
            assert model is not None
            with index.checking_file(checked.absolute()):
                found = model.ancestors("app.client.Client")
            assert found == {"app.client.Client", "app.base.Base"}
        assert walked == ["app.client.Client", "app.base.Base"]  # the first ask only
    for checked in (routes, tasks):
        reads = index.seen.own_reads[str(checked.absolute())]
        assert str(tmp_path / "app" / "base.py") in reads


def test_task_spawns_are_searched_only_in_modules_that_spell_a_way_to_start_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Resolving every call of a module to find `asyncio.create_task` is spared where the
    text never spells `create_task` or `ensure_future`; an alias still spells it."""
    index = ProjectIndex([], Config(root=tmp_path))
    plain = load_module(tmp_path / "plain.py", index, "import os\nos.getcwd()\nprint(1)\n")
    aliased = load_module(
        tmp_path / "aliased.py",
        index,
        "from asyncio import create_task as spawn\n\nasync def main():\n    spawn(main())\n",
    )
    with recording(monkeypatch, ModuleModel, "qualified_name", 1) as resolved:
        assert find_task_spawns(plain) == []
        assert resolved == []
        assert [spawn.api for spawn in find_task_spawns(aliased)] == ["spawn"]


def test_the_task_scan_still_finds_a_task_started_through_an_aliased_create_task(
    tmp_path: Path,
) -> None:
    """The scan resolves calls only in modules spelling a way to start a task; an import
    alias spells it where it is imported."""
    root = _write(
        tmp_path,
        {
            "jobs.py": (
                "from asyncio import create_task as spawn\n\n\n"
                "async def refresh() -> None: ...\n\n\n"
                "async def start() -> None:\n    spawn(refresh())\n"
            )
        },
    )
    index = ProjectIndex(sorted(root.rglob("*.py")), Config(root=root))
    assert [t.function.name for t in project_tasks(index)] == ["refresh"]


@pytest.mark.parametrize(
    ("source", "accepted"),
    [
        ("app = FastAPI(lifespan=lifespan)\n", True),
        ("app = FastAPI(\n    lifespan = run,\n)\n", True),
        ("router = APIRouter(on_startup=[warm])\n", True),
        ("app = Starlette(on_shutdown=[close])\n", True),
        ('@app.on_event("startup")\nasync def warm(): ...\n', True),
        ('app.router.add_event_handler("shutdown", close)\n', True),
        ("app = FastAPI(\n    lifespan\n    =run)\n", True),
        ("async with app.router.lifespan_context(app):\n    pass\n", False),
        ("self._lifespan = None\non_event_loop = True\n", False),
        ("async def lifespan(app):\n    yield\n", False),
        ("if self.lifespan == other:\n    scope['lifespan'] = self.lifespan\n", False),
    ],
)
def test_the_lifecycle_scan_reads_modules_that_register_a_hook(source: str, accepted: bool) -> None:
    """A hook is registered by a constructor keyword given a value or by a method, each a
    whole identifier: a module that only defines or reads a `lifespan`, or spells a longer
    name (`lifespan_context`), is not parsed for it."""
    assert lifespan.may_register_hooks(source.encode()) is accepted


def test_a_calls_name_is_resolved_once_for_every_asker(monkeypatch: pytest.MonkeyPatch) -> None:
    """The scans and rules that ask what a call calls (scheduling sites, asyncio tasks,
    dependencies, blocking calls, callees) share one answer per call: `resolve_call` gives
    what `qualified_name` gives for the callee, and resolves it once however often asked."""
    files = sorted(FIXTURES.glob("FTL*/*.py"))
    index = ProjectIndex(files, Config(root=FIXTURES))
    models = [model for path in files if (model := index.model_for_path(path)) is not None]
    calls = [(model, call) for model in models for call in model.calls]
    assert len(calls) > 1000
    expected = [m.qualified_name(c.node.func, c.scope, c.order) for m, c in calls]
    assert any(expected)
    with recording(monkeypatch, ModuleModel, "qualified_name", 1) as resolved:
        for _ in range(2):
            assert [model.resolve_call(call) for model, call in calls] == expected
    callees = {id(call.node.func) for _, call in calls}
    assert len([expr for expr in resolved if id(expr) in callees]) == len(calls)


def test_a_bindings_type_is_inferred_once_for_all_its_uses(monkeypatch: pytest.MonkeyPatch) -> None:
    """FTL201 and FTL202 infer a receiver's type at each use of a session or a client: the
    type of each binding is inferred once (at each search depth), and the findings are those
    of inferring it at every use."""
    files = sorted([*FIXTURES.glob("FTL201/*.py"), *FIXTURES.glob("FTL202/*.py")])
    codes = ("FTL201", "FTL202")
    inferred: list[tuple[int, int]] = []
    infer = ModuleModel._binding_type

    def counted(self: ModuleModel, binding: Binding, depth: int) -> TypeRef | None:
        inferred.append((id(binding), depth))
        return infer(self, binding, depth)

    with monkeypatch.context() as patched:
        patched.setattr(ModuleModel, "_binding_type", counted)
        cached = findings(files, FIXTURES, select=codes)
    assert cached
    assert len(set(inferred)) == len(inferred) > 100

    def uncached(self: ModuleModel, binding: Binding, _depth: int = 0) -> TypeRef | None:
        return infer(self, binding, _depth)

    monkeypatch.setattr(ModuleModel, "binding_type", uncached)
    assert findings(files, FIXTURES, select=codes) == cached
