"""Crash injection: make the nth call of a function raise, as a worker killed mid-task would.

The crash derives from ``BaseException`` so that a task's ``except Exception`` cannot swallow it,
and the patched function does not run on the crashing call: everything before it happened,
nothing after. Module-level aliases (``from shop.mail import send_email``) are patched too, so
the target can be named where it is defined rather than where it is looked up.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CrashPoint", "InjectedCrash", "Injection", "crash_point", "inject_crash"]

Target = str | Callable[..., Any]


class InjectedCrash(BaseException):
    """Raised by a patched call to simulate the worker dying there."""


@dataclass(frozen=True)
class CrashPoint:
    """Where to crash: before the ``nth`` call (1-based) of ``target``."""

    target: Target
    nth: int = 1

    def __post_init__(self) -> None:
        if self.nth < 1:
            raise ValueError(f"nth must be 1 or more, not {self.nth}")

    def __str__(self) -> str:
        name = self.target if isinstance(self.target, str) else _qualname(self.target)
        return f"call {self.nth} of {name}"


def crash_point(point: CrashPoint | Target | tuple[Target, int]) -> CrashPoint:
    """Accept a :class:`CrashPoint`, a target, or a ``(target, nth)`` pair."""
    if isinstance(point, CrashPoint):
        return point
    if isinstance(point, tuple):
        target, nth = point
        return CrashPoint(target, nth)
    return CrashPoint(point)


@dataclass
class Injection:
    """What happened at a crash point while it was armed."""

    point: CrashPoint
    calls: int = 0
    crashed: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def hit(self) -> None:
        with self._lock:
            self.calls += 1
            if self.calls != self.point.nth:
                return
            self.crashed = True
        raise InjectedCrash(f"injected crash before {self.point}")


@contextmanager
def inject_crash(point: CrashPoint | Target | tuple[Target, int]) -> Iterator[Injection]:
    """Arm a crash point for the duration of the block; every patch is undone on exit."""
    injection = Injection(crash_point(point))
    owner, name = _locate(injection.point.target)
    # Raw class attributes keep staticmethod/classmethod; an instance's method comes bound.
    static = inspect.ismodule(owner) or inspect.isclass(owner)
    original = inspect.getattr_static(owner, name) if static else getattr(owner, name)
    replacement = _wrap(original, injection)
    patched: list[tuple[object, str, object, bool]] = []
    try:
        _set(patched, owner, name, replacement)
        if inspect.ismodule(owner) and _is_function(original):
            for module in list(sys.modules.values()):
                namespace = getattr(module, "__dict__", None)
                if module is not owner and isinstance(namespace, dict):
                    for alias in [k for k, v in namespace.items() if v is original]:
                        _set(patched, module, alias, replacement)
        yield injection
    finally:
        for target, attr, previous, existed in reversed(patched):
            if existed:
                setattr(target, attr, previous)
            else:
                delattr(target, attr)


def _set(
    patched: list[tuple[object, str, object, bool]], owner: object, name: str, value: object
) -> None:
    existed = name in getattr(owner, "__dict__", {})
    previous = vars(owner)[name] if existed else None
    try:
        setattr(owner, name, value)
    except (AttributeError, TypeError) as exc:
        raise TypeError(f"cannot patch {name!r} on {owner!r} to inject a crash: {exc}") from exc
    patched.append((owner, name, previous, existed))


def _locate(target: Target) -> tuple[object, str]:
    """The object holding the attribute to patch, and the attribute's name."""
    if isinstance(target, str):
        return _locate_path(target)
    if inspect.ismethod(target):
        return target.__self__, target.__func__.__name__
    module_name = getattr(target, "__module__", None)
    qualname = getattr(target, "__qualname__", "")
    if not module_name or "<locals>" in qualname or "<lambda>" in qualname:
        raise TypeError(
            f"cannot find where {target!r} is defined to patch it; pass a dotted path instead"
        )
    return _locate_path(f"{module_name}.{qualname}")


def _locate_path(path: str) -> tuple[object, str]:
    parts = path.split(".")
    for split in range(len(parts) - 1, 0, -1):
        try:
            owner: object = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        try:
            for part in parts[split:-1]:
                owner = getattr(owner, part)
        except AttributeError:
            break
        if not hasattr(owner, parts[-1]):
            break
        return owner, parts[-1]
    raise ValueError(f"crash point {path!r} does not name an importable attribute")


def _wrap(original: object, injection: Injection) -> object:
    if isinstance(original, staticmethod):
        return staticmethod(_wrap_callable(original.__func__, injection))
    if isinstance(original, classmethod):
        return classmethod(_wrap_callable(original.__func__, injection))
    if not callable(original):
        raise TypeError(f"crash point {injection.point.target!r} is not callable")
    return _wrap_callable(original, injection)


def _wrap_callable(func: Callable[..., Any], injection: Injection) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(func):

        @functools.wraps(func)
        async def crash_async(*args: Any, **kwargs: Any) -> Any:
            injection.hit()
            return await func(*args, **kwargs)

        return crash_async

    @functools.wraps(func)
    def crash(*args: Any, **kwargs: Any) -> Any:
        injection.hit()
        return func(*args, **kwargs)

    return crash


def _is_function(value: object) -> bool:
    return inspect.isfunction(value) or inspect.isbuiltin(value)


def _qualname(target: Callable[..., Any]) -> str:
    return f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', target)}"
