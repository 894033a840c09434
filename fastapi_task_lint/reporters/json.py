"""Exactly one JSON array of findings, keys as documented in the README."""

from __future__ import annotations

import json

from fastapi_task_lint.reporters.base import Report


def render_json(report: Report) -> str:
    return json.dumps([d.to_dict() for d in report.diagnostics], indent=2) + "\n"
