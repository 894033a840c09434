"""How to run each kind of task in-process, the way its worker would, with no broker.

Frameworks are recognised by the type of the task object, looked up only in modules the test
has already imported, so this module imports none of them.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi_task_lint.testing.drive import Steps, call

__all__ = ["Run", "describe_call", "prepare"]


@dataclass(frozen=True)
class Run:
    """A task bound to its arguments, which a check can run as many times as it needs."""

    name: str
    _steps: Callable[[], Steps[object]]

    def steps(self) -> Steps[object]:
        return self._steps()


def prepare(task: object, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Run:
    """Bind ``task`` to its arguments according to what kind of task it is."""
    starlette = sys.modules.get("starlette.background")
    if starlette is not None and isinstance(task, starlette.BackgroundTask):
        _no_extra_arguments(task, args, kwargs)
        if isinstance(task, starlette.BackgroundTasks):
            return Run(f"BackgroundTasks({len(task.tasks)} tasks)", lambda: _run_all(task.tasks))
        return _plain(task.func, task.args, task.kwargs, "BackgroundTask ")

    celery_task = sys.modules.get("celery.app.task")
    if celery_task is not None and isinstance(task, celery_task.Task):
        # apply() runs the task in-process through Celery's tracer (bind=True, retries and
        # signals work), never through a broker; throw=True re-raises the task's exception.
        def apply() -> object:
            return task.apply(args=args, kwargs=kwargs, throw=True)

        return Run(describe_call(f"Celery task {task.name}", args, kwargs), lambda: call(apply))

    dramatiq_actor = sys.modules.get("dramatiq.actor")
    if dramatiq_actor is not None and isinstance(task, dramatiq_actor.Actor):
        # The actor's function, as a worker calls it: no message, no broker, no middleware.
        return _plain(task.fn, args, kwargs, f"Dramatiq actor {task.actor_name}: ")

    arq_worker = sys.modules.get("arq.worker")
    if arq_worker is not None and isinstance(task, arq_worker.Function):
        return _arq(task.coroutine, args, kwargs)

    original = getattr(task, "original_func", None)
    if original is not None and hasattr(task, "kiq"):
        # Taskiq: the decorated function itself; TaskiqDepends parameters are not injected.
        name = getattr(task, "task_name", _qualname(original))
        return _plain(original, args, kwargs, f"Taskiq task {name}: ")

    if not callable(task):
        raise TypeError(f"{task!r} is not a task: expected a callable or a task object")
    if _is_arq_style(task):
        return _arq(task, args, kwargs)
    return _plain(task, args, kwargs, "")


def describe_call(name: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> str:
    """``name(args)``, with long argument lists cut short."""
    text = ", ".join([*map(repr, args), *(f"{k}={v!r}" for k, v in kwargs.items())])
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{name}({text})"


def _plain(
    func: Callable[..., object], args: tuple[Any, ...], kwargs: Mapping[str, Any], kind: str
) -> Run:
    bound = functools.partial(func, *args, **kwargs)
    return Run(kind + describe_call(_qualname(func), args, kwargs), lambda: call(bound))


def _run_all(tasks: list[Any]) -> Steps[object]:
    for task in tasks:
        yield from call(functools.partial(task.func, *task.args, **task.kwargs))
    return None


def _arq(func: Callable[..., object], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Run:
    """ARQ passes a context dict first: a given ``ctx=`` is used, else a fresh ``{}`` per run."""
    kwargs = dict(kwargs)
    given = kwargs.pop("ctx", None)
    positional = bool(args) and isinstance(args[0], dict)
    if given is None and positional and not _binds(func, ({}, *args), kwargs):
        return _plain(func, args, kwargs, "ARQ job ")  # ctx was passed positionally
    name = "ARQ job " + describe_call(_qualname(func), args, kwargs)

    def run() -> Steps[object]:
        ctx = given if given is not None else {}
        return call(functools.partial(func, ctx, *args, **kwargs))

    return Run(name, run)


def _is_arq_style(func: object) -> bool:
    """An ``async def`` whose first parameter is ``ctx``: ARQ's job-function convention."""
    if not inspect.iscoroutinefunction(func):
        return False
    params = list(inspect.signature(func).parameters)
    return bool(params) and params[0] == "ctx"


def _binds(func: Callable[..., object], args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> bool:
    try:
        inspect.signature(func).bind(*args, **kwargs)
    except TypeError:
        return False
    return True


def _no_extra_arguments(task: object, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    if args or kwargs:
        raise TypeError(f"{type(task).__name__} already holds its arguments; pass none")


def _qualname(func: object) -> str:
    target = func.func if isinstance(func, functools.partial) else func
    module = getattr(target, "__module__", None)
    name = getattr(target, "__qualname__", None) or type(target).__qualname__
    return f"{module}.{name}" if module else name
