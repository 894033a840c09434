"""The run record behind quiet edits (`incremental`): what it keeps survives a round trip,
and whatever it cannot vouch for counts as a change."""

from __future__ import annotations

from pathlib import Path

import pytest

from fastapi_task_lint import incremental
from fastapi_task_lint.cache import CACHE_DIR_NAME
from fastapi_task_lint.semantics.byte_filters import ByteFilter, rebuild, register
from fastapi_task_lint.semantics.mentions import calling, importing, naming
from fastapi_task_lint.semantics.observations import (
    Observations,
    shares_from_rows,
    shares_to_rows,
)
from fastapi_task_lint.semantics.routes import GET_ROUTES, ROUTES
from fastapi_task_lint.semantics.scheduling import sites_without
from fastapi_task_lint.semantics.task_definitions import _DECORATED_TASKS, _launches

from .helpers import FIXTURES, copy_project, counting_checks, findings

_SAMPLES = [
    b"",
    b"import time\ntime.sleep(1)\n",
    b"from app.jobs import JOBS\nJOBS['a'] = 'done'\n",
    b"background_tasks.add_task(send, user.id)\n",
    b"await websocket.send(data)\nawait task.kiq(1)\n",
    b"@router.get('/x')\nasync def x() -> None: ...\n",
    b"@celery.task\ndef job() -> None: ...\n",
    b"asyncio.create_task(work())\nhelper (x)\n",
    b"q.put_nowait(item)\n@app.post('/q')\ndef q(): ...\n",
]


@pytest.mark.parametrize(
    "made",
    [
        naming(("JOBS", "time")),
        calling(("helper", "send")),
        importing(("JOBS",)),
        ByteFilter(("sites",), sites_without()),
        ByteFilter(("sites", "kiq", "send"), sites_without("kiq", "send")),
        ByteFilter(("launches", "kiq"), _launches("kiq")),
        _DECORATED_TASKS,
        ROUTES,
        GET_ROUTES,
    ],
    ids=lambda f: f.spec[0],
)
def test_every_scan_prefilter_rebuilds_from_its_spec(made: ByteFilter) -> None:
    rebuilt = rebuild(made.spec)
    assert rebuilt is not None
    assert [rebuilt(data) for data in _SAMPLES] == [made(data) for data in _SAMPLES]


def test_a_prefilter_this_version_does_not_know_accepts_everything() -> None:
    """A record written by another version: its unknown prefilter cannot vouch for an edit."""
    assert rebuild(("no such kind", "x")) is None
    assert incremental._accepts(((), ("no such kind",)), b"")
    assert not incremental._accepts((("add_task",), ("no such kind",)), b"nothing here")


def test_a_kind_is_registered_once() -> None:
    with pytest.raises(ValueError, match="registered twice"):
        register("naming", lambda *names: lambda data: True)


def test_observations_and_shares_survive_json() -> None:
    seen = Observations(
        {"/p/a.py"},
        {"/p/b.py": {"/p/a.py"}},
        {(("add_task",), ("calling", "f")), ((), ())},
        {"renamed\0a": "a b"},
        {"renamed": {"/p/a.py": ["a b"]}},
        {"fact"},
    )
    assert Observations.from_json(seen.to_json()) == seen
    shares = {"/p/a.py": (frozenset({("/p/d.py", "dep")}), frozenset({"/p/a.py", "/p/d.py"}))}
    assert shares_from_rows(shares_to_rows(shares)) == shares


@pytest.mark.parametrize("damage", [b"", b"{", b"[]", b'{"format": 1}'])
def test_a_damaged_record_rechecks_every_file(
    damage: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """standalone.py's edit is quiet with the record (see test_cache), not without it."""
    root = copy_project(FIXTURES / "projects" / "blocking", tmp_path)
    standalone = root / "app" / "standalone.py"
    standalone.write_text("def double(x: int) -> int:\n    return 2 * x\n")
    cache = root / CACHE_DIR_NAME
    findings([root], root, cache_dir=cache)
    (cache / "run.json").write_bytes(damage)
    standalone.write_text(standalone.read_text() + "\nLIMIT = 3\n")
    with counting_checks(monkeypatch) as checked:
        warm = findings([root], root, cache_dir=cache)
        count = len(checked)
    assert warm == findings([root], root)
    assert count == len(list(root.rglob("*.py")))
