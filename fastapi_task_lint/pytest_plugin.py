"""pytest plugin: idempotency and retry-safety checks for background tasks.

Loaded in every pytest session where the package is installed, so it imports only
``fastapi_task_lint.testing``, which defers FastAPI, SQLAlchemy and the task queues until used.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Generator, Iterator
from typing import Any, TypeVar

import pytest

from fastapi_task_lint import testing
from fastapi_task_lint.testing.diff import DEFAULT_MAX_CHANGES, set_max_changes
from fastapi_task_lint.testing.state import State, as_state

F = TypeVar("F", bound=Callable[..., Any])

MARKER = "idempotent_tasks"
_previous_limit = pytest.StashKey[int | None]()
_marker_state = pytest.StashKey[State]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(state): after the test body, run every background task the test scheduled "
        f"once more and fail if `state` (a callable or a fixture name) changed.",
    )
    # -vv shows whole diffs, as pytest does for its own assertion diffs.
    limit = None if config.getoption("verbose") >= 2 else DEFAULT_MAX_CHANGES
    config.stash[_previous_limit] = set_max_changes(limit)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _previous_limit in config.stash:
        set_max_changes(config.stash[_previous_limit])


def _state_resolver(request: pytest.FixtureRequest) -> Callable[[State | str], State]:
    def resolve(state: State | str) -> State:
        if isinstance(state, str):
            value = request.getfixturevalue(state)
            if not callable(value):
                raise TypeError(
                    f"fixture {state!r} must return a callable that takes a snapshot, "
                    f"not {type(value).__name__}"
                )
            return value  # type: ignore[no-any-return]
        return as_state(state)

    return resolve


def _with_fixture_state(request: pytest.FixtureRequest, check: F) -> F:
    resolve = _state_resolver(request)

    @functools.wraps(check)
    def bound(*args: Any, state: State | str, **kwargs: Any) -> Any:
        __tracebackhide__ = True
        return check(*args, state=resolve(state), **kwargs)

    return bound  # type: ignore[return-value]


@pytest.fixture(name="assert_idempotent")
def assert_idempotent_fixture(request: pytest.FixtureRequest) -> Callable[..., None]:
    """:func:`fastapi_task_lint.testing.assert_idempotent`, with ``state`` as a fixture name."""
    return _with_fixture_state(request, testing.assert_idempotent)


@pytest.fixture(name="assert_idempotent_async")
def assert_idempotent_async_fixture(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """:func:`fastapi_task_lint.testing.assert_idempotent_async`, with fixture-name state."""
    return _with_fixture_state(request, testing.assert_idempotent_async)


@pytest.fixture(name="assert_retry_safe")
def assert_retry_safe_fixture(request: pytest.FixtureRequest) -> Callable[..., None]:
    """:func:`fastapi_task_lint.testing.assert_retry_safe`, with ``state`` as a fixture name."""
    return _with_fixture_state(request, testing.assert_retry_safe)


@pytest.fixture(name="assert_retry_safe_async")
def assert_retry_safe_async_fixture(request: pytest.FixtureRequest) -> Callable[..., Any]:
    """:func:`fastapi_task_lint.testing.assert_retry_safe_async`, with fixture-name state."""
    return _with_fixture_state(request, testing.assert_retry_safe_async)


@pytest.fixture
def captured_tasks(request: pytest.FixtureRequest) -> Iterator[testing.CapturedTasks]:
    """Every Starlette/FastAPI background task scheduled during the test."""
    with testing.capture_background_tasks(_state_resolver(request)) as captured:
        yield captured


@pytest.fixture(autouse=True)
def _fastapi_task_lint_marker_state(request: pytest.FixtureRequest) -> None:
    """Resolve the marker's state during setup, where fixtures may still be requested."""
    marker = request.node.get_closest_marker(MARKER)
    if marker is None:
        return
    state = marker.kwargs.get("state", marker.args[0] if marker.args else None)
    if state is None:
        raise pytest.UsageError(f"@pytest.mark.{MARKER} needs state=<callable or fixture name>")
    request.node.stash[_marker_state] = _state_resolver(request)(state)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    state = item.stash.get(_marker_state, None)
    if state is None:
        return (yield)
    with testing.capture_background_tasks() as captured:
        yield  # a failing test body raises here and is reported as it is
    try:
        captured.assert_idempotent(state)
    except AssertionError as exc:
        failure = f"@pytest.mark.{MARKER}: {exc}"
    else:
        return
    # Outside the except block, so the message is shown once, without the plugin's frames.
    pytest.fail(failure, pytrace=False)
