"""The JSON report of a whole project is the same bytes however it is produced (issue 9).

`tests/performance/` compares the engine's findings in one process (`--jobs`, the cache). This
module compares what users see, the CLI's JSON report, on a copy of `examples/shop` grown with a
few generated modules: two runs under different hash seeds (set and dict order must not leak into
the report), `--jobs 1` against `--jobs 2`, and without the cache against a cold then a warm one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from fastapi_task_lint import parallel
from fastapi_task_lint.cli import main

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# Modules added to the example app: another router and task module that schedule, start jobs,
# keep job state and carry unused suppressions (FTL003), so every run crosses module boundaries.
GENERATED = {
    "routes/reports.py": '''\
"""Report exports."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, BackgroundTasks

from ..db import SessionLocal
from ..reports_tasks import EXPORTS, build_export, render_export

router = APIRouter(prefix="/reports")


@router.post("/exports")
def start_export(kind: str, background_tasks: BackgroundTasks) -> dict[str, str]:
    export_id = f"{kind}-export"
    EXPORTS[export_id] = "queued"
    background_tasks.add_task(build_export, export_id, SessionLocal())
    background_tasks.add_task(render_export(export_id))  # noqa: FTL101
    return {"id": export_id}


@router.get("/exports/{export_id}")
def export_status(export_id: str) -> dict[str, str]:
    return {"status": EXPORTS.get(export_id, "unknown")}


@router.post("/exports/warm")
async def warm_exports() -> None:
    asyncio.create_task(render_export("warm"))
    asyncio.ensure_future(render_export("warm-again"))  # noqa: FTL307
''',
    "reports_tasks.py": '''\
"""Report export work."""

from __future__ import annotations

import time

import httpx
from sqlalchemy.orm import Session

EXPORTS: dict[str, str] = {}


def build_export(export_id: str, db: Session) -> None:
    EXPORTS[export_id] = "running"
    time.sleep(1)
    db.execute("select 1")
    EXPORTS[export_id] = "done"


async def render_export(export_id: str) -> None:
    httpx.get(f"https://reports.example.com/{export_id}")
    time.sleep(0.5)
''',
}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """examples/shop plus the generated modules, as the current directory."""
    shutil.copytree(
        EXAMPLES / "shop", tmp_path / "shop", ignore=shutil.ignore_patterns("__pycache__")
    )
    for name, text in GENERATED.items():
        (tmp_path / "shop" / name).write_text(text)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(parallel, "POOL_THRESHOLD", 1)  # small project: use the pool anyway
    return tmp_path


def _report(*options: str) -> str:
    result = CliRunner().invoke(
        main, ["check", "shop", "--select", "FTL", "--format", "json", "--exit-zero", *options]
    )
    assert result.exit_code == 0, result.output
    return result.stdout


def _report_in_process_with_seed(root: Path, seed: str) -> str:
    command = [sys.executable, "-m", "fastapi_task_lint", "check", "shop", "--select", "FTL"]
    command += ["--format", "json", "--exit-zero", "--no-cache", "--jobs", "1"]
    environment = {**os.environ, "PYTHONHASHSEED": seed}
    done = subprocess.run(
        command, cwd=root, env=environment, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_report_exercises_many_rules(project: Path) -> None:
    codes = {finding["code"] for finding in json.loads(_report("--no-cache", "--jobs", "1"))}
    assert {"FTL003", "FTL101", "FTL201", "FTL302", "FTL307", "FTL401", "FTL501"} <= codes
    assert "FTL002" not in codes


def test_two_runs_under_different_hash_seeds(project: Path) -> None:
    first = _report_in_process_with_seed(project, "1")
    assert json.loads(first)
    assert _report_in_process_with_seed(project, "2") == first


def test_jobs_one_equals_jobs_two(project: Path) -> None:
    serial = _report("--no-cache", "--jobs", "1")
    assert _report("--no-cache", "--jobs", "2") == serial
    assert _report("--no-cache", "--jobs", "1") == serial


def test_cold_and_warm_cache_equal_no_cache(project: Path) -> None:
    uncached = _report("--no-cache", "--jobs", "1")
    cache = str(project / "cache")
    assert _report("--cache-dir", cache, "--jobs", "2") == uncached  # cold
    assert list((project / "cache").rglob("*.json")), "the cold run wrote the cache"
    assert _report("--cache-dir", cache, "--jobs", "2") == uncached  # warm
    assert _report("--cache-dir", cache, "--jobs", "1") == uncached  # warm, serial
