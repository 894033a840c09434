"""FTL501-FTL505 across modules: the lifespan reaches helpers in other modules of the app."""

from __future__ import annotations

from pathlib import Path

from fastapi_task_lint.config import Config
from tests.fixture_harness import (
    FIXTURES,
    expected_findings,
    lint,
    project_expected,
    project_findings,
)

PROJECT = FIXTURES / "projects" / "lifecycle_app"
CODES = ("FTL501", "FTL502", "FTL503", "FTL504", "FTL505")


def test_lifespan_is_followed_across_modules() -> None:
    paths = sorted(PROJECT.glob("*.py"))
    diagnostics = lint(paths, Config(select=CODES, root=FIXTURES))
    actual = sorted((d.path.rsplit("/", 1)[-1], d.line, d.code) for d in diagnostics)
    expected = sorted(
        (path.name, line, code) for path in paths for line, code in expected_findings(path)
    )
    assert actual == expected


def test_a_lifespan_given_through_an_app_factory_in_another_module() -> None:
    """fides' shape: `app = create_fides_app(lifespan=lifespan)`, and the factory, in another
    module, builds `FastAPI(..., lifespan=lifespan)` from its parameter."""
    root = FIXTURES / "projects" / "app_factory"
    assert project_findings(root, CODES) == project_expected(root, CODES)


def test_one_module_alone_knows_no_lifespan() -> None:
    """Linted without the app module, the helper's start is not known to be the app's."""
    diagnostics = lint([PROJECT / "jobs.py"], Config(select=CODES, root=FIXTURES))
    assert [(d.line, d.code) for d in diagnostics] == []


_SERVICE = """\
from contextlib import asynccontextmanager

from apscheduler.schedulers.background import BackgroundScheduler
from fastapi import FastAPI

scheduler = BackgroundScheduler()
"""
_WITH_LIFESPAN = """
@asynccontextmanager
async def lifespan(app: FastAPI):
    yield


app = FastAPI(lifespan=lifespan)


def start_jobs() -> None:
    scheduler.start()
"""
_ENTRY_POINT = """
app = FastAPI()


def run() -> None:
    scheduler.start()
"""


def test_another_application_in_the_run_does_not_vouch_for_a_lifecycle(tmp_path: Path) -> None:
    """Two services checked in one run (a monorepo): the lifespan of one says nothing about
    where the other starts its scheduler, so its entry point is judged as when checked alone."""
    for service, package, body in (("api", "shop", _WITH_LIFESPAN), ("bot", "chat", _ENTRY_POINT)):
        folder = tmp_path / service / package
        folder.mkdir(parents=True)
        (folder / "__init__.py").write_text("")
        (folder / "main.py").write_text(_SERVICE + body)
    diagnostics = lint([tmp_path], Config(select=CODES, root=tmp_path))
    found = [(Path(d.path).relative_to(tmp_path).as_posix(), d.code) for d in diagnostics]
    assert found == [("api/shop/main.py", "FTL501")]
    assert "`start_jobs`, which the app's lifespan does not call" in diagnostics[0].message
    alone = lint([tmp_path / "bot"], Config(select=CODES, root=tmp_path))
    assert alone == []


def test_another_application_does_not_shut_down_a_scheduler(tmp_path: Path) -> None:
    """A `.shutdown()` on a receiver that cannot be named may be the scheduler, but only in
    the scheduler's own application: another service's lifespan, or the source of APScheduler
    itself checked in the same run, said nothing shut the scheduler down (FTL502 vanished)."""
    files = {
        "api/shop/__init__.py": "",
        "api/shop/main.py": _SERVICE.replace("BackgroundScheduler", "AsyncIOScheduler").replace(
            "schedulers.background", "schedulers.asyncio"
        )
        + (
            "\n@asynccontextmanager\nasync def lifespan(app: FastAPI):\n"
            "    scheduler.start()\n    yield\n\n\napp = FastAPI(lifespan=lifespan)\n"
        ),
        "bot/chat/__init__.py": "",
        "bot/chat/server.py": (
            "from contextlib import asynccontextmanager\n\nfrom fastapi import FastAPI\n\n\n"
            "@asynccontextmanager\nasync def lifespan(app: FastAPI):\n    yield\n"
            "    pool().shutdown()\n\n\napp = FastAPI(lifespan=lifespan)\n"
        ),
        "vendor/apscheduler/__init__.py": "",
        "vendor/apscheduler/schedulers/__init__.py": "",
        "vendor/apscheduler/schedulers/asyncio.py": (
            "class AsyncIOScheduler(BaseScheduler):\n"
            "    def start(self, paused=False):\n        super().start(paused)\n\n"
            "    def _shutdown(self, wait=True):\n        super().shutdown(wait)\n"
        ),
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    diagnostics = lint([tmp_path], Config(select=CODES, root=tmp_path))
    found = [(Path(d.path).relative_to(tmp_path).as_posix(), d.line, d.code) for d in diagnostics]
    assert found == [("api/shop/main.py", 10, "FTL502")]


def test_a_shutdown_helper_imported_under_another_name_stops_the_scheduler(
    tmp_path: Path,
) -> None:
    package = tmp_path / "shop"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "jobs.py").write_text("def stop(sched) -> None:\n    sched.shutdown(wait=False)\n")
    (package / "main.py").write_text(
        _SERVICE.replace("BackgroundScheduler", "AsyncIOScheduler").replace(
            "schedulers.background", "schedulers.asyncio"
        )
        + "from shop.jobs import stop as stop_jobs\n"
        + "\n\n@asynccontextmanager\nasync def lifespan(app: FastAPI):\n"
        "    scheduler.start()\n    try:\n        yield\n    finally:\n"
        "        stop_jobs(scheduler)\n\n\napp = FastAPI(lifespan=lifespan)\n"
    )
    assert lint([tmp_path], Config(select=CODES, root=tmp_path)) == []
    (package / "main.py").write_text(
        (package / "main.py").read_text().replace("stop_jobs(scheduler)", "stop_jobs(None)")
    )
    assert [d.code for d in lint([tmp_path], Config(select=CODES, root=tmp_path))] == ["FTL502"]
