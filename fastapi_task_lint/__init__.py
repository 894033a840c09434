"""fastapi-task-lint: find FastAPI background-task mistakes that lose data silently."""

from __future__ import annotations

__version__ = "0.1.0"
