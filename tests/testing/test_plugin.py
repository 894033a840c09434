"""The plugin itself: registration, fixtures, async variants, verbosity, import cost."""

from __future__ import annotations

import subprocess
import sys

import pytest

from fastapi_task_lint.testing import format_diff
from tests.testing.support import expect_lines, runpytest


def test_marker_is_registered(pytester: pytest.Pytester) -> None:
    result = runpytest(pytester, "--markers")
    expect_lines(result, "@pytest.mark.idempotent_tasks(state): after the test body, run every")


def test_fixtures_resolve_state_by_fixture_name(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
import pytest

COUNTS = {"n": 0}

@pytest.fixture
def counter_state():
    return lambda: dict(COUNTS)

@pytest.fixture
def not_callable():
    return {"n": 0}

def bump():
    COUNTS["n"] += 1

def test_by_name(assert_idempotent):
    assert_idempotent(bump, state="counter_state")

def test_fixture_must_return_a_callable(assert_idempotent):
    with pytest.raises(TypeError, match="fixture 'not_callable' must return a callable"):
        assert_idempotent(bump, state="not_callable")

def test_unknown_fixture(assert_idempotent):
    assert_idempotent(bump, state="no_such_fixture")
""")
    result = runpytest(pytester)
    result.assert_outcomes(passed=1, failed=2)
    expect_lines(result, "~ ['n']: 1 -> 2", "fixture 'no_such_fixture' not found")


def test_async_variants_in_a_running_loop(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
import pytest
from fastapi_task_lint.testing import assert_idempotent, CrashPoint

STORE = {}

async def save(key):
    STORE[key] = 1

async def ledger(key):
    await save(key)
    STORE.setdefault("log", []).append(key)

pytestmark = pytest.mark.anyio

async def test_idempotent(assert_idempotent_async):
    await assert_idempotent_async(save, "a", state=lambda: STORE)

async def test_sync_variant_points_to_the_async_one():
    with pytest.raises(RuntimeError, match="use `await assert_idempotent_async"):
        assert_idempotent(save, "a", state=lambda: STORE)

async def test_retry_safe_async(assert_retry_safe_async):
    STORE.clear()
    await assert_retry_safe_async(ledger, "b", state=lambda: STORE,
                                  crash_at=CrashPoint(save), reset=STORE.clear)
""")
    result = runpytest(pytester)
    result.assert_outcomes(passed=2, failed=1)
    expect_lines(
        result,
        "test_async_variants_in_a_running_loop.ledger('b') is not idempotent: after a crash "
        "before call 1 of test_async_variants_in_a_running_loop.save and a retry, one more run "
        "changed the state:",
        "+ ['log'][1]: 'b'",
    )


LONG_DIFF = """
from fastapi_task_lint.testing import assert_idempotent

ITEMS = []

def add_thirty():
    ITEMS.extend(range(30))

def test_long():
    assert_idempotent(add_thirty, state=lambda: ITEMS)
"""


def test_long_diffs_are_truncated_unless_very_verbose(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(LONG_DIFF)
    result = runpytest(pytester)
    expect_lines(result, "+ [49]: 19", "... and 10 more differences (-vv shows all)")
    assert "[50]" not in result.stdout.str()

    result = runpytest(pytester, "-vv")
    expect_lines(result, "+ [59]: 29")
    assert "more differences" not in result.stdout.str()
    # The inner session's -vv ends with it.
    assert format_diff([], list(range(30))).endswith("(-vv shows all)")


def test_plugin_import_is_cheap() -> None:
    code = (
        "import sys, fastapi_task_lint.pytest_plugin\n"
        "heavy = {'fastapi', 'starlette', 'sqlalchemy', 'celery', 'dramatiq', 'arq', 'anyio',"
        " 'libcst', 'taskiq'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert output.strip() == "[]"
