"""Prove background tasks are idempotent and retry-safe: helpers behind the pytest plugin.

Nothing here imports FastAPI, SQLAlchemy or a task queue until a helper is called with one.
"""

from __future__ import annotations

from fastapi_task_lint.testing.capture import (
    CapturedTask,
    CapturedTasks,
    capture_background_tasks,
)
from fastapi_task_lint.testing.checks import (
    NotIdempotentError,
    NotRetrySafeError,
    assert_idempotent,
    assert_idempotent_async,
    assert_retry_safe,
    assert_retry_safe_async,
)
from fastapi_task_lint.testing.crash import CrashPoint, InjectedCrash, inject_crash
from fastapi_task_lint.testing.diff import Rows, format_diff
from fastapi_task_lint.testing.state import sqlalchemy_state

__all__ = [
    "CapturedTask",
    "CapturedTasks",
    "CrashPoint",
    "InjectedCrash",
    "NotIdempotentError",
    "NotRetrySafeError",
    "Rows",
    "assert_idempotent",
    "assert_idempotent_async",
    "assert_retry_safe",
    "assert_retry_safe_async",
    "capture_background_tasks",
    "format_diff",
    "inject_crash",
    "sqlalchemy_state",
]
