"""fastapi-task-lint: find FastAPI background-task mistakes that lose data silently.

The Python API (`check_source`, `check_paths`) lives in `fastapi_task_lint.api`; it is
re-exported here lazily so `import fastapi_task_lint` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["__version__", "check_paths", "check_source", "load_project_config"]

if TYPE_CHECKING:
    from fastapi_task_lint.api import check_paths, check_source, load_project_config


def __getattr__(name: str) -> Any:
    if name in ("check_paths", "check_source", "load_project_config"):
        from fastapi_task_lint import api

        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
