"""The result cache: reused only while everything a file's findings depend on is unchanged,
and at worst skipped, never wrong (issues 8 and 9)."""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from fastapi_task_lint import parallel
from fastapi_task_lint.cache import CACHE_DIR_NAME
from fastapi_task_lint.semantics import project as project_module

from .helpers import FIXTURES, copy_project, counting_checks, findings, recording

BLOCKING = FIXTURES / "projects" / "blocking"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(BLOCKING, tmp_path)


def _cached(root: Path, cache_dir: Path | None = None) -> list[tuple[str, int, int, str, str]]:
    return findings([root], root, cache_dir=cache_dir or root / CACHE_DIR_NAME)


def _entries(root: Path) -> list[Path]:
    return sorted((root / CACHE_DIR_NAME).glob("*/*.json"))


def test_warm_run_reuses_every_result(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cold = findings([project], project)
    assert cold, "the fixture project has findings"
    assert _cached(project) == cold
    with counting_checks(monkeypatch) as checked:
        assert _cached(project) == cold
    assert checked == []


def test_changed_task_module_rechecks_the_modules_that_use_it(project: Path) -> None:
    """jobs.py's FTL201 is a blocking call three modules away, in fetch.py."""
    before = _cached(project)
    assert any(f[0].endswith("jobs.py") and f[3] == "FTL201" for f in before)
    fetch = project / "app" / "fetch.py"
    fetch.write_text('def download(url: str) -> bytes:\n    return b""\n')
    after = _cached(project)
    assert after == findings([project], project)
    assert not any(f[0].endswith("jobs.py") and f[3] == "FTL201" for f in after)


def test_a_registration_call_edit_rechecks_the_registrar(tmp_path: Path) -> None:
    """views.py's handler is a route only because main.py hands `register` a router."""
    (tmp_path / "views.py").write_text(
        "import requests\n\n\ndef register(router):\n"
        '    @router.get("/x")\n    async def x():\n'
        '        return requests.get("https://example.com").json()\n'
    )
    main = tmp_path / "main.py"
    main.write_text(
        "from fastapi import APIRouter\nfrom views import register\n\n"
        "router = APIRouter()\nregister(router)\n"
    )
    assert [f[3] for f in _cached(tmp_path)] == ["FTL202"]
    main.write_text(main.read_text().replace("APIRouter()", "object()"))
    assert _cached(tmp_path) == findings([tmp_path], tmp_path) == []


def test_every_edit_of_any_file_gives_the_uncached_result(project: Path) -> None:
    """Empty each file in turn, then restore it: cached runs always equal fresh ones."""
    _cached(project)
    for path in sorted(project.rglob("*.py")):
        original = path.read_bytes()
        path.write_text('"""emptied"""\n')
        assert _cached(project) == findings([project], project), path
        path.write_bytes(original)
        assert _cached(project) == findings([project], project), path


PROJECTS = sorted(p for p in (FIXTURES / "projects").iterdir() if p.is_dir())


@pytest.mark.parametrize("jobs", [1, 2])
@pytest.mark.parametrize("source", PROJECTS, ids=lambda p: p.name)
def test_every_comment_edit_gives_the_uncached_result(
    source: Path, jobs: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lines added above the code shift what other files' messages show ("at routes.py:12")."""
    monkeypatch.setattr(parallel, "POOL_THRESHOLD", 1)
    root = copy_project(source, tmp_path)
    cache = root / CACHE_DIR_NAME
    findings([root], root, jobs=jobs, cache_dir=cache)
    for path in sorted(root.rglob("*.py")):
        path.write_bytes(b"# moved\n# down\n" + path.read_bytes())
        assert findings([root], root, jobs=jobs, cache_dir=cache) == findings([root], root), path


def test_a_message_shows_the_line_of_another_file(project: Path) -> None:
    """The case the test above guards: jobs.py's findings name the line of a launch elsewhere."""
    messages = [f[4] for f in _cached(project) if f[0].endswith("jobs.py")]
    assert any(re.search(r"at app/\w+\.py:\d+", message) for message in messages), messages


def test_new_and_removed_files_invalidate(project: Path) -> None:
    _cached(project)
    extra = project / "app" / "extra.py"
    extra.write_text("import time\n\nasync def later(ctx: dict) -> None:\n    time.sleep(1)\n")
    assert _cached(project) == findings([project], project)
    extra.unlink()
    assert _cached(project) == findings([project], project)


def test_comment_only_edit_rechecks_that_file_alone(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _cached(project)
    fetch = project / "app" / "fetch.py"
    fetch.write_bytes(fetch.read_bytes() + b"# touched\n")
    with counting_checks(monkeypatch) as checked:
        warm = _cached(project)
    assert [p.name for p in checked] == ["fetch.py"]
    assert warm == findings([project], project)


def test_config_change_invalidates(project: Path) -> None:
    from fastapi_task_lint.config import Config
    from fastapi_task_lint.engine import Linter

    cache = project / CACHE_DIR_NAME
    everything = Linter(Config(select=("FTL",), root=project), cache_dir=cache)
    assert everything.check_paths([project]).diagnostics
    only_ftl105 = Linter(Config(select=("FTL105",), root=project), cache_dir=cache)
    assert only_ftl105.check_paths([project]).diagnostics == []


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # truncated
        lambda data: b"\x00\xff garbage",  # not JSON
        lambda data: b"[]",  # JSON of another shape
        lambda data: b"",  # empty
    ],
    ids=["truncated", "garbage", "wrong-shape", "empty"],
)
def test_damaged_entries_are_ignored_and_rebuilt(project: Path, damage: object) -> None:
    expected = _cached(project)
    for entry in _entries(project):
        entry.write_bytes(damage(entry.read_bytes()))  # type: ignore[operator]
    assert _cached(project) == expected
    assert all(json.loads(entry.read_bytes())["format"] for entry in _entries(project))


def test_cache_of_another_version_is_ignored(project: Path) -> None:
    expected = _cached(project)
    for entry in _entries(project):
        document = json.loads(entry.read_bytes())
        document["key"] = "written-by-another-version"
        document["diagnostics"] = []
        entry.write_text(json.dumps(document))
    assert _cached(project) == expected


def test_forged_entry_cannot_stand_for_another_file(project: Path) -> None:
    """An entry names the path it was written for; a copy under another name is a miss."""
    expected = _cached(project)
    entries = _entries(project)
    forged = json.loads(entries[0].read_bytes())
    for entry in entries:
        entry.write_text(json.dumps(forged))
    assert _cached(project) == expected


def test_writes_stay_under_the_cache_directory(project: Path, tmp_path: Path) -> None:
    """Entry names are digests of the checked path; nothing in an entry picks where to write."""
    outside = tmp_path / "outside"
    outside.mkdir()
    _cached(project)
    for entry in _entries(project):
        document = json.loads(entry.read_bytes())
        document["path"] = str(outside / "evil.py")
        document["content"] = "0"
        entry.write_text(json.dumps(document))
    before = {p for p in project.rglob("*") if CACHE_DIR_NAME not in p.parts}
    _cached(project)
    after = {p for p in project.rglob("*") if CACHE_DIR_NAME not in p.parts}
    assert after == before
    assert list(outside.iterdir()) == []
    for entry in _entries(project):
        assert entry.parent.parent == project / CACHE_DIR_NAME
        assert entry.stem == entry.stem.lower() and len(entry.stem) == 64


def test_unwritable_cache_is_skipped(project: Path, tmp_path: Path) -> None:
    """A cache directory that cannot be created (read-only project; here a file stands in its
    way, as root ignores permissions) costs the cache, not the results."""
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    expected = findings([project], project)
    assert _cached(project, blocker / CACHE_DIR_NAME) == expected
    assert _cached(project, blocker / CACHE_DIR_NAME) == expected


def _run_in_process(root: str, queue: multiprocessing.Queue[object]) -> None:
    queue.put(_cached(Path(root)))


def test_two_runs_at_once(project: Path) -> None:
    expected = findings([project], project)
    context = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue[object] = context.Queue()
    runs = [context.Process(target=_run_in_process, args=(str(project), queue)) for _ in "ab"]
    for run in runs:
        run.start()
    results = [queue.get(timeout=120) for _ in runs]
    for run in runs:
        run.join(timeout=120)
    assert results == [expected, expected]
    assert _cached(project) == expected
    assert not list((project / CACHE_DIR_NAME).glob("*/*.tmp"))


def test_rule_crash_is_not_cached(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """FTL002 is a bug to show again (with --debug's traceback), never a cached result."""
    from fastapi_task_lint.rules import all_rules

    def boom(self: object, ctx: object) -> None:
        raise ValueError("boom")

    with monkeypatch.context() as patch:
        patch.setattr(all_rules()["FTL201"], "check", boom)
        assert any(f[3] == "FTL002" for f in _cached(project))
    assert _cached(project) == findings([project], project)


@contextmanager
def counting_scans(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The whole-program scans a run computes: the task scan, and modules' shares of the
    dependency scan (a lasting fact)."""
    from fastapi_task_lint.semantics import task_definitions

    scans: list[str] = []
    task_scan = task_definitions._Scan.run
    share = project_module.ProjectIndex.share

    def run(self: task_definitions._Scan) -> object:
        scans.append("tasks")
        return task_scan(self)

    def shared(self: project_module.ProjectIndex, *args: object) -> object:
        scans.append("dependencies")
        return share(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(task_definitions._Scan, "run", run)
    monkeypatch.setattr(project_module.ProjectIndex, "share", shared)
    yield scans


def test_comment_only_edit_asks_no_whole_program_question_again(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """fetch.py defines no task (FTL201 turned it down by the task scan) and deps.py's
    FTL202 needs the dependency scan: after a comment, neither scan runs again."""
    _cached(project)
    for name in ("fetch.py", "deps.py"):
        path = project / "app" / name
        path.write_bytes(path.read_bytes() + b"# touched\n")
    with counting_scans(monkeypatch) as scans, counting_checks(monkeypatch) as checked:
        warm = _cached(project)
    assert sorted(p.name for p in checked) == ["deps.py", "fetch.py"]
    assert scans == []
    assert warm == findings([project], project)


def test_comment_edit_rechecks_the_files_that_show_its_lines(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """tasks.py's findings name lines of main.py: a comment there re-checks tasks.py too."""
    _cached(project)
    main = project / "app" / "main.py"
    main.write_bytes(b"# moved down\n" + main.read_bytes())
    with counting_checks(monkeypatch) as checked:
        warm = _cached(project)
    assert {"main.py", "tasks.py"} <= {p.name for p in checked}
    assert warm == findings([project], project)


def test_code_edit_asks_again(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A new dependency in deps.py: the kept dependency fact is stale, and is recomputed."""
    _cached(project)
    deps = project / "app" / "deps.py"
    deps.write_text(
        deps.read_text().replace("return name.lower()", "time.sleep(1)\n    return name")
        + "import time\n"
    )
    with counting_scans(monkeypatch) as scans:
        warm = _cached(project)
    assert "dependencies" in scans
    assert warm == findings([project], project)
    assert any(f[0].endswith("deps.py") and f[3] == "FTL202" and f[1] == 14 for f in warm)


def _age(root: Path, seconds: float) -> None:
    """Set every file's mtime `seconds` into the past (copytree keeps the originals')."""
    for path in root.rglob("*.py"):
        stamp = time.time() - seconds
        os.utime(path, (stamp, stamp))


@pytest.mark.parametrize(("age", "reread"), [(3600, False), (0, True)], ids=["old", "recent"])
def test_unchanged_size_and_mtime_spare_the_read(
    project: Path, monkeypatch: pytest.MonkeyPatch, age: int, reread: bool
) -> None:
    """A file modified just before a run may change again within the same mtime tick, so
    only files older than that are taken as unchanged by their stamp."""
    _age(project, age)
    cold = _cached(project)
    with recording(monkeypatch, parallel, "read_bytes") as read:
        assert _cached(project) == cold
    assert len(read) == (len(list(project.rglob("*.py"))) if reread else 0)


def test_an_edit_after_a_stamped_run_is_seen(project: Path) -> None:
    _age(project, 3600)
    _cached(project)
    fetch = project / "app" / "fetch.py"
    fetch.write_text('def download(url: str) -> bytes:\n    return b""\n')
    assert _cached(project) == findings([project], project)


def test_all_hit_run_names_no_module(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Module names cost a walk up to the package root per file: a warm run needs none."""
    cold = _cached(project)
    with recording(monkeypatch, project_module, "module_name_for") as named:
        assert _cached(project) == cold
    assert named == []


_CODE_EDITS = (
    b"\n_EDITED = 1\n",
    b"""
import time
from fastapi import APIRouter

_edited_router = APIRouter()


@_edited_router.post("/edited")
async def _edited_route() -> None:
    time.sleep(1)
""",
    b"""
import time as _edited_time
from fastapi import BackgroundTasks as _EditedTasks, Depends as _EditedDepends

_EDITED_JOBS: dict[str, str] = {}


async def _edited_task(job_id: str) -> None:
    _edited_time.sleep(1)
    _EDITED_JOBS[job_id] = "done"


def _edited_route(background_tasks: _EditedTasks, dep: None = _EditedDepends(_edited_task)) -> None:
    background_tasks.add_task(_edited_task, "x")
""",
)


@pytest.mark.parametrize(
    ("source", "jobs"),
    [*((p, 1) for p in PROJECTS), (PROJECTS[-1], 2)],
    ids=lambda v: v.name if isinstance(v, Path) else f"jobs{v}",
)
def test_every_code_edit_gives_the_uncached_result(
    source: Path, jobs: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Code added to a file, the file emptied, then restored: an edit nothing else read
    re-checks that file alone (see `incremental`), and must never keep a stale finding."""
    monkeypatch.setattr(parallel, "POOL_THRESHOLD", 1)
    root = copy_project(source, tmp_path)
    cache = root / CACHE_DIR_NAME
    findings([root], root, jobs=jobs, cache_dir=cache)
    for path in sorted(root.rglob("*.py")):
        original = path.read_bytes()
        for text in (
            *(original + edit for edit in _CODE_EDITS),
            b'"""emptied"""\n',
            original,
        ):
            path.write_bytes(text)
            cached = findings([root], root, jobs=jobs, cache_dir=cache)
            assert cached == findings([root], root), (path, text[-60:])


_STANDALONE = '''"""Nothing else in the project imports this module."""


def double(x: int) -> int:
    return 2 * x
'''
_MORE_ROUTES = '''"""Routes that only the dependency scan reads (for `Depends(tenant)`)."""

from fastapi import APIRouter, Depends

from blocking.app.deps import tenant

router = APIRouter()


@router.post("/who")
async def who(name: str = Depends(tenant)) -> str:
    return name
'''


@pytest.fixture
def grown(project: Path) -> Path:
    """The blocking project with a module nothing reads and routes only a lasting fact reads."""
    (project / "app" / "standalone.py").write_text(_STANDALONE)
    (project / "app" / "more_routes.py").write_text(_MORE_ROUTES)
    _cached(project)
    return project


def _recheck_after(root: Path, name: str, edit: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Append `edit` to app/`name`; the files the next cached run checks (and it is right)."""
    path = root / "app" / name
    path.write_text(path.read_text() + edit)
    with counting_checks(monkeypatch) as checked:
        warm = _cached(root)
        names = sorted(p.name for p in checked)
    assert warm == findings([root], root)
    return names


# An edit to app/NAME, and whether it is quiet (re-checks that file alone: `incremental`).
_CODE_EDITS_SEEN_OR_NOT = {
    "a module nothing else reads": (
        "standalone.py",
        "\n_EDITED = 1\n\n\ndef f() -> None: ...\n",
        True,
    ),
    "routes only a lasting fact reads": ("more_routes.py", "\n_EDITED = 1\n", True),
    "a lasting fact keeps its value": (  # `tenant` is a dependency already
        "more_routes.py",
        "\n\n@router.post('/again')\n"
        "async def again(n: str = Depends(tenant)) -> str:\n    return n\n",
        True,
    ),
    "an import renames a name no scan looks for": ("standalone.py", "\nimport json as js\n", True),
    "an import renames a name a scan looks for": (  # the scans look `admin_digest` up
        "standalone.py",
        "\nfrom blocking.app.admin import admin_digest as nightly\n",
        False,
    ),
    "a module other checks read": ("fetch.py", "\n_EDITED = 1\n", False),
    "a queue library is named for the first time": (  # `.send(` may be a site now
        "standalone.py",
        "\nimport dramatiq\n",
        False,
    ),
    "a comment names a queue library": ("standalone.py", "\n# see dramatiq\n", False),
    "a comment names a library the run names already": (
        "standalone.py",
        "\n# see fastapi\n",
        True,
    ),
    "a scan would now read it": (  # the task scan's prefilter lets it through
        "standalone.py",
        "\n\nfrom fastapi import BackgroundTasks\n\n\n"
        "def later(background_tasks: BackgroundTasks) -> None:\n"
        "    background_tasks.add_task(double, 2)\n",
        False,
    ),
    "a lasting fact changes": (  # a function of its own becomes a dependency
        "more_routes.py",
        "\n\nasync def limit() -> int:\n    return 3\n\n\n"
        "@router.post('/limited')\n"
        "async def limited(n: int = Depends(limit)) -> int:\n    return n\n",
        False,
    ),
}


@pytest.mark.parametrize(
    ("name", "edit", "quiet"), _CODE_EDITS_SEEN_OR_NOT.values(), ids=_CODE_EDITS_SEEN_OR_NOT
)
def test_a_code_edit_rechecks_that_file_alone_when_quiet(
    grown: Path, name: str, edit: str, quiet: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    everything = sorted(p.name for p in grown.rglob("*.py"))
    assert _recheck_after(grown, name, edit, monkeypatch) == ([name] if quiet else everything)
    if quiet:  # and the next one too
        assert _recheck_after(grown, name, "\nLIMIT = 3\n", monkeypatch) == [name]


def test_what_a_check_leaves_in_shared_caches_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """a.py's check follows `relay` into b.py and back into a.py, and keeps that call chain
    for `relay`; c.py's check reuses it without reading a.py. A change to a.py's helper
    must still re-check c.py: b.py names a.py, so the edit is not taken for a quiet one."""
    app = tmp_path / "app"
    app.mkdir()
    (app / "__init__.py").write_text("")
    (app / "a.py").write_text(
        "import time\n\nfrom fastapi import APIRouter\n\nfrom app.b import relay\n\n"
        "router = APIRouter()\n\n\ndef helper() -> None:\n    time.sleep(1)\n\n\n"
        '@router.get("/a")\nasync def route_a() -> None:\n    relay()\n'
    )
    (app / "b.py").write_text(
        "def relay() -> None:\n    from app.a import helper\n\n    helper()\n"
    )
    (app / "c.py").write_text(
        "from fastapi import APIRouter\n\nfrom app.b import relay\n\nrouter = APIRouter()\n\n\n"
        '@router.get("/c")\nasync def route_c() -> None:\n    relay()\n'
    )
    before = _cached(tmp_path)
    assert any(f[0].endswith("c.py") and f[3] == "FTL202" for f in before), before
    a = app / "a.py"
    a.write_text(a.read_text().replace("    time.sleep(1)\n", "    return None\n"))
    after = _cached(tmp_path)
    assert after == findings([tmp_path], tmp_path)
    assert not any(f[0].endswith("c.py") for f in after)


def test_a_quiet_edit_reads_no_other_file(grown: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The values computed from every file's bytes are found again from the edited file
    alone: the record keeps every other module's part of them."""
    standalone = grown / "app" / "standalone.py"
    standalone.write_text(standalone.read_text() + "\n_EDITED = 1\n")
    index = project_module.ProjectIndex
    with (
        recording(monkeypatch, index, "_bytes", 1) as read,
        recording(monkeypatch, index, "sources", 0) as every_file,
        counting_checks(monkeypatch) as checked,
    ):
        _cached(grown)
        asked = (list(checked), list(read), list(every_file))
    assert asked == ([standalone], [], [])
    assert _cached(grown) == findings([grown], grown)
