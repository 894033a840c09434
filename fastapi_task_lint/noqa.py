"""`# noqa` suppression, flake8's syntax: bare, or with a list of codes (any case)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from fastapi_task_lint.diagnostics import Diagnostic

_NOQA = re.compile(
    r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE
)
_FILE_NOQA = re.compile(r"^\s*#\s*fastapi-task-lint:\s*noqa\s*$", re.IGNORECASE | re.MULTILINE)
_CODE = re.compile(r"[A-Z]+[0-9]+", re.IGNORECASE)


@dataclass(frozen=True)
class NoqaComment:
    line: int
    codes: frozenset[str] | None  # None: a bare `# noqa` suppresses everything
    column: int


def parse_noqa(text: str, line: int) -> NoqaComment | None:
    match = _NOQA.search(text)
    if match is None:
        return None
    codes = match.group("codes")
    parsed = frozenset(c.upper() for c in _CODE.findall(codes)) if codes else None
    return NoqaComment(line, parsed, match.start() + 1)


def file_is_suppressed(source: str) -> bool:
    return _FILE_NOQA.search(source) is not None


@dataclass
class Suppression:
    kept: list[Diagnostic] = field(default_factory=list)
    suppressed: list[Diagnostic] = field(default_factory=list)


def apply_noqa(diagnostics: Sequence[Diagnostic], lines: Sequence[str]) -> Suppression:
    """Split findings into kept and suppressed by the `# noqa` on their first line."""
    result = Suppression()
    for diagnostic in diagnostics:
        text = lines[diagnostic.line - 1] if 0 < diagnostic.line <= len(lines) else ""
        comment = parse_noqa(text, diagnostic.line) if "noqa" in text.lower() else None
        if comment is not None and (comment.codes is None or diagnostic.code in comment.codes):
            result.suppressed.append(diagnostic)
        else:
            result.kept.append(diagnostic)
    return result
