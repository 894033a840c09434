"""Run one check from sync code or from inside an event loop, without writing it twice.

Each check is a generator that yields the awaitables it needs (an ``async def`` task, an async
state snapshot) and is sent their results. :func:`run_sync` resolves them on a private event
loop; :func:`run_async` awaits them in the caller's loop. Sync tasks are called directly in
both cases, outside any running loop under :func:`run_sync`, so a task may itself call
``asyncio.run``.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Generator
from typing import Any, TypeVar

__all__ = ["Steps", "call", "run_async", "run_sync"]

T = TypeVar("T")
Steps = Generator[Awaitable[Any], Any, T]


def call(func: Callable[..., object], *args: object) -> Steps[Any]:
    """Call ``func``; if it returns an awaitable, have the driver await it."""
    value = func(*args)
    if inspect.isawaitable(value):
        value = yield value
    return value


def run_sync(steps: Steps[T], async_variant: str) -> T:
    """Drive ``steps`` to the end; awaitables run on one loop that lives as long as the check."""
    __tracebackhide__ = True
    loop: asyncio.AbstractEventLoop | None = None
    send: Any = None
    throw: BaseException | None = None
    try:
        while True:
            try:
                awaitable = steps.throw(throw) if throw is not None else steps.send(send)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            send, throw = None, None
            if loop is None:
                try:
                    loop = _new_loop(async_variant)
                except RuntimeError:
                    if inspect.iscoroutine(awaitable):
                        awaitable.close()  # never awaited: silence the warning
                    raise
            try:
                send = loop.run_until_complete(_await(awaitable))
            except BaseException as exc:  # handed to the check, which decides
                throw = exc
    finally:
        steps.close()
        if loop is not None:
            _close(loop)


async def run_async(steps: Steps[T]) -> T:
    """Drive ``steps`` to the end, awaiting in the running loop."""
    __tracebackhide__ = True
    send: Any = None
    throw: BaseException | None = None
    try:
        while True:
            try:
                awaitable = steps.throw(throw) if throw is not None else steps.send(send)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            send, throw = None, None
            try:
                send = await awaitable
            except BaseException as exc:  # handed to the check, which decides
                throw = exc
    finally:
        steps.close()


def _new_loop(async_variant: str) -> asyncio.AbstractEventLoop:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.new_event_loop()
    raise RuntimeError(
        f"an event loop is already running in this thread; use `await {async_variant}(...)`"
    )


def _close(loop: asyncio.AbstractEventLoop) -> None:
    """Close as ``asyncio.run`` does: tasks the check left behind are cancelled, not leaked."""
    try:
        loop.run_until_complete(_cancel_leftovers())
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        loop.close()


async def _cancel_leftovers() -> None:
    leftovers = asyncio.all_tasks() - {asyncio.current_task()}
    for task in leftovers:
        task.cancel()
    await asyncio.gather(*leftovers, return_exceptions=True)


async def _await(awaitable: Awaitable[T]) -> T:
    return await awaitable
