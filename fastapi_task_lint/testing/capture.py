"""Record the FastAPI/Starlette background tasks a test schedules, to run them once more.

Every ``BackgroundTasks.add_task`` and ``Response(background=BackgroundTask(...))`` builds a
``starlette.background.BackgroundTask``, so patching its ``__init__`` (what was scheduled) and
``__call__`` (what ran) sees them all. The patches are undone on exit, whatever happened.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, overload

from fastapi_task_lint.testing.checks import NotIdempotentError
from fastapi_task_lint.testing.diff import format_diff
from fastapi_task_lint.testing.drive import Steps, call, run_async, run_sync
from fastapi_task_lint.testing.runners import describe_call
from fastapi_task_lint.testing.state import State, as_state, snapshot

__all__ = ["CapturedTask", "CapturedTasks", "capture_background_tasks"]


@dataclass
class CapturedTask:
    """One scheduled background task: its function and arguments, and how often it ran."""

    func: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    runs: int = 0

    @property
    def name(self) -> str:
        module = getattr(self.func, "__module__", "")
        qualname = getattr(self.func, "__qualname__", repr(self.func))
        return describe_call(f"{module}.{qualname}" if module else qualname, self.args, self.kwargs)

    def steps(self) -> Steps[object]:
        return call(functools.partial(self.func, *self.args, **self.kwargs))


@dataclass
class CapturedTasks(Sequence[CapturedTask]):
    """The background tasks scheduled while capturing, in the order they were scheduled."""

    resolve_state: Callable[[State | str], State] = as_state
    tasks: list[CapturedTask] = field(default_factory=list)

    @overload
    def __getitem__(self, index: int) -> CapturedTask: ...
    @overload
    def __getitem__(self, index: slice) -> list[CapturedTask]: ...
    def __getitem__(self, index: int | slice) -> CapturedTask | list[CapturedTask]:
        return self.tasks[index]

    def __len__(self) -> int:
        return len(self.tasks)

    def assert_idempotent(self, state: State | str) -> None:
        """Run every task that ran once more; fail if any of them changes ``state()``."""
        __tracebackhide__ = True
        steps = self._rerun_all(self.resolve_state(state))
        run_sync(steps, "captured_tasks.assert_idempotent_async")

    async def assert_idempotent_async(self, state: State | str) -> None:
        """:meth:`assert_idempotent` for tests already running in an event loop."""
        __tracebackhide__ = True
        await run_async(self._rerun_all(self.resolve_state(state)))

    def _rerun_all(self, state: State) -> Steps[None]:
        __tracebackhide__ = True
        ran = [task for task in self.tasks if task.runs]
        if not ran:
            raise AssertionError(
                f"no background task ran during the test ({len(self.tasks)} scheduled); "
                f"there is nothing to re-run"
            )
        failures: list[str] = []
        for task in ran:
            before = yield from snapshot(state)
            try:
                yield from task.steps()
            except Exception as exc:
                failures.append(f"{task.name} raised {type(exc).__name__} when run again: {exc}")
                continue
            after = yield from snapshot(state)
            if after != before:
                failures.append(
                    f"{task.name} is not idempotent: running it again changed the state:\n"
                    f"{format_diff(before, after)}"
                )
        if failures:
            raise NotIdempotentError("\n".join(failures))


@contextmanager
def capture_background_tasks(
    resolve_state: Callable[[State | str], State] = as_state,
) -> Iterator[CapturedTasks]:
    """Record every Starlette background task built and run inside the block."""
    from starlette.background import BackgroundTask

    captured = CapturedTasks(resolve_state)
    # Keyed by id, holding the task object too so that its id cannot be reused meanwhile.
    records: dict[int, tuple[Any, CapturedTask]] = {}
    original_init = BackgroundTask.__dict__["__init__"]
    original_call = BackgroundTask.__dict__["__call__"]

    @functools.wraps(original_init)
    def init(self: Any, func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        original_init(self, func, *args, **kwargs)
        record = CapturedTask(func, args, kwargs)
        records[id(self)] = (self, record)
        captured.tasks.append(record)

    @functools.wraps(original_call)
    async def run(self: Any) -> None:
        await original_call(self)
        if id(self) in records:
            records[id(self)][1].runs += 1

    BackgroundTask.__init__ = init  # type: ignore[method-assign]
    BackgroundTask.__call__ = run  # type: ignore[method-assign]
    try:
        yield captured
    finally:
        BackgroundTask.__init__ = original_init  # type: ignore[method-assign]
        BackgroundTask.__call__ = original_call  # type: ignore[method-assign]
