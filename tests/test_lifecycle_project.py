"""FTL501-FTL505 across modules: the lifespan reaches helpers in other modules of the app."""

from __future__ import annotations

from fastapi_task_lint.config import Config
from tests.fixture_harness import FIXTURES, expected_findings, lint

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


def test_one_module_alone_knows_no_lifespan() -> None:
    """Linted without the app module, the helper's start is not known to be the app's."""
    diagnostics = lint([PROJECT / "jobs.py"], Config(select=CODES, root=FIXTURES))
    assert [(d.line, d.code) for d in diagnostics] == []
