"""The two checks: a task run again changes nothing, and a crash then a retry ends where one
clean run does. Each is written once, as steps, and offered sync and async."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

from fastapi_task_lint.testing.crash import (
    CrashPoint,
    InjectedCrash,
    Target,
    crash_point,
    inject_crash,
)
from fastapi_task_lint.testing.diff import format_diff
from fastapi_task_lint.testing.drive import Steps, call, run_async, run_sync
from fastapi_task_lint.testing.runners import Run, prepare
from fastapi_task_lint.testing.state import State, as_state, snapshot

__all__ = [
    "NotIdempotentError",
    "NotRetrySafeError",
    "assert_idempotent",
    "assert_idempotent_async",
    "assert_retry_safe",
    "assert_retry_safe_async",
]

CrashSpec = CrashPoint | Target | tuple[Target, int]


class NotIdempotentError(AssertionError):
    """Running the task again changed the state."""


class NotRetrySafeError(AssertionError):
    """A crash and a retry left a different state than one clean run."""


def assert_idempotent(
    task: object, *args: Any, state: State | str, runs: int = 2, **kwargs: Any
) -> None:
    """Run ``task`` ``runs`` times; fail if any run after the first changes ``state()``."""
    __tracebackhide__ = True
    run_sync(
        _idempotent(prepare(task, args, kwargs), as_state(state), runs), "assert_idempotent_async"
    )


async def assert_idempotent_async(
    task: object, *args: Any, state: State | str, runs: int = 2, **kwargs: Any
) -> None:
    """:func:`assert_idempotent` for tests already running in an event loop."""
    __tracebackhide__ = True
    await run_async(_idempotent(prepare(task, args, kwargs), as_state(state), runs))


def assert_retry_safe(
    task: object,
    *args: Any,
    state: State | str,
    crash_at: CrashSpec | Literal["each"],
    nth: int = 1,
    crash_points: Sequence[CrashSpec] = (),
    reset: Callable[[], object] | None = None,
    **kwargs: Any,
) -> None:
    """Crash ``task`` at the ``nth`` call of ``crash_at``, retry it, and fail unless the state
    equals the state after one clean run and a further run changes nothing.

    ``reset`` restores the starting state between the clean run and the crash run; without
    it the crash run starts from the state the clean run left. ``crash_at="each"`` repeats
    the check for every entry of ``crash_points`` (a target or a ``(target, nth)`` pair).
    """
    __tracebackhide__ = True
    points = _points(crash_at, nth, crash_points)
    run_sync(
        _retry_safe(prepare(task, args, kwargs), as_state(state), points, reset),
        "assert_retry_safe_async",
    )


async def assert_retry_safe_async(
    task: object,
    *args: Any,
    state: State | str,
    crash_at: CrashSpec | Literal["each"],
    nth: int = 1,
    crash_points: Sequence[CrashSpec] = (),
    reset: Callable[[], object] | None = None,
    **kwargs: Any,
) -> None:
    """:func:`assert_retry_safe` for tests already running in an event loop."""
    __tracebackhide__ = True
    points = _points(crash_at, nth, crash_points)
    await run_async(_retry_safe(prepare(task, args, kwargs), as_state(state), points, reset))


def _idempotent(run: Run, state: State, runs: int) -> Steps[None]:
    __tracebackhide__ = True
    if runs < 2:
        raise ValueError(f"runs must be 2 or more to compare runs, not {runs}")
    yield from run.steps()
    first = yield from snapshot(state)
    for number in range(2, runs + 1):
        yield from _rerun(run, f"run {number} (run 1 succeeded)", NotIdempotentError)
        later = yield from snapshot(state)
        if later != first:
            raise NotIdempotentError(
                f"{run.name} is not idempotent: the state after run {number} differs from "
                f"the state after run 1:\n{format_diff(first, later)}"
            )


def _retry_safe(
    run: Run, state: State, points: list[CrashPoint], reset: Callable[[], object] | None
) -> Steps[None]:
    __tracebackhide__ = True
    start = yield from snapshot(state)
    yield from run.steps()
    reference = yield from snapshot(state)
    for point in points:
        if reset is not None:
            yield from call(reset)
            restored = yield from snapshot(state)
            if restored != start:
                raise AssertionError(
                    f"reset= did not restore the starting state before the crash run:\n"
                    f"{format_diff(start, restored)}"
                )
        with inject_crash(point) as injection:
            try:
                yield from run.steps()
            except InjectedCrash:
                pass
            else:
                if injection.crashed:
                    raise AssertionError(
                        f"{run.name} caught the injected crash before {point} and carried "
                        f"on; a real crash cannot be caught (look for `except:` or "
                        f"`except BaseException`)"
                    )
        if not injection.crashed:
            raise AssertionError(
                f"{run.name} never reached the crash point {point}: it was called "
                f"{injection.calls} time{'s' * (injection.calls != 1)}"
            )
        yield from _rerun(run, f"the retry after a crash before {point}", NotRetrySafeError)
        retried = yield from snapshot(state)
        if retried != reference:
            raise NotRetrySafeError(
                f"{run.name} is not retry-safe: after a crash before {point} and a retry, "
                f"the state differs from the state after one clean run:\n"
                f"{format_diff(reference, retried)}"
            )
        yield from _rerun(
            run, f"the run after the retry (crash before {point})", NotIdempotentError
        )
        again = yield from snapshot(state)
        if again != retried:
            raise NotIdempotentError(
                f"{run.name} is not idempotent: after a crash before {point} and a retry, "
                f"one more run changed the state:\n{format_diff(retried, again)}"
            )


def _rerun(run: Run, which: str, error: type[AssertionError]) -> Steps[None]:
    """Run again; an exception here (say, a duplicate-key error) is itself the finding."""
    __tracebackhide__ = True
    try:
        yield from run.steps()
    except Exception as exc:
        raise error(f"{run.name} raised {type(exc).__name__} on {which}: {exc}") from exc


def _points(
    crash_at: CrashSpec | Literal["each"], nth: int, crash_points: Sequence[CrashSpec]
) -> list[CrashPoint]:
    if crash_at == "each":
        if not crash_points:
            raise ValueError('crash_at="each" needs crash_points=[...] to list the calls')
        return [crash_point(p) for p in crash_points]
    if crash_points:
        raise ValueError('crash_points= is only used with crash_at="each"')
    if isinstance(crash_at, CrashPoint):
        return [crash_at]
    if isinstance(crash_at, tuple):
        return [crash_point(crash_at)]
    return [CrashPoint(crash_at, nth)]
