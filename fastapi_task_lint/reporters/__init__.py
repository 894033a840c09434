"""Reporters turn diagnostics into text for people and machines; they do no analysis."""

from __future__ import annotations

from collections.abc import Callable

from fastapi_task_lint.reporters.base import Report
from fastapi_task_lint.reporters.github import render_github
from fastapi_task_lint.reporters.gitlab import render_gitlab
from fastapi_task_lint.reporters.json import render_json
from fastapi_task_lint.reporters.junit import render_junit
from fastapi_task_lint.reporters.sarif import render_sarif
from fastapi_task_lint.reporters.text import render_text

REPORTERS: dict[str, Callable[[Report], str]] = {
    "text": render_text,
    "json": render_json,
    "sarif": render_sarif,
    "github": render_github,
    "junit": render_junit,
    "gitlab": render_gitlab,
}

__all__ = ["REPORTERS", "Report"]
