"""What every reporter receives."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from fastapi_task_lint.diagnostics import Diagnostic

DOCS_URL = "https://fastapi-task-lint.readthedocs.io/en/latest/rules/"


def rule_url(code: str) -> str:
    return f"{DOCS_URL}#{code.lower()}"


@dataclass(frozen=True)
class RuleInfo:
    code: str
    name: str
    summary: str
    help_markdown: str
    tags: tuple[str, ...] = ()


@dataclass
class Report:
    diagnostics: Sequence[Diagnostic]
    rules: Mapping[str, RuleInfo]
    version: str
    show_source: bool = False
    read_lines: Callable[[str], Sequence[str]] = field(default=lambda path: ())
    files_checked: int = 0
    files: Sequence[str] = ()  # every file checked, as displayed, with or without findings
