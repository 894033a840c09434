"""`check --add-noqa`: suppress every reported finding in place, so a codebase can adopt the
linter today and burn the list down later.

Comments are written as text at the line ends libcst knows (see `noqa.LineEnd`): an existing
`# noqa: ...` list is extended, never duplicated, and the rest of the line is kept. A finding
whose line ends inside a multi-line string or with a backslash has nowhere to put a comment;
it is skipped and counted.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fastapi_task_lint.diagnostics import PARSE_ERROR, RULE_ERROR, Diagnostic
from fastapi_task_lint.engine import FileResult, RunResult
from fastapi_task_lint.noqa import LineEnd, line_ends
from fastapi_task_lint.rules.ftl003_unused_noqa import UnusedNoqaRule
from fastapi_task_lint.semantics.model import ModuleModel
from fastapi_task_lint.source import SourceError, decode, read_bytes

# Findings a noqa comment cannot or should not silence: files that did not parse, rule crashes,
# and FTL003 itself (its remedy is to remove a code, not to add one).
_NOT_SUPPRESSIBLE = (PARSE_ERROR, RULE_ERROR, UnusedNoqaRule.code)
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


@dataclass
class AddNoqaResult:
    added: int = 0  # line ends that got a noqa comment or new codes in theirs
    files: int = 0
    skipped: list[Diagnostic] = field(default_factory=list)  # no line end to write on
    stale: list[str] = field(default_factory=list)  # changed on disk since the run


def add_noqa(result: RunResult) -> AddNoqaResult:
    """Write `# noqa: CODE` for every finding of `result` into its file."""
    outcome = AddNoqaResult()
    by_path: dict[str, list[Diagnostic]] = defaultdict(list)
    for diagnostic in result.diagnostics:
        if diagnostic.code not in _NOT_SUPPRESSIBLE:
            by_path[diagnostic.path].append(diagnostic)
    for file in result.files:
        if file.path in by_path and file.model is not None:
            _add_to_file(file, file.model, by_path[file.path], outcome)
    return outcome


def _add_to_file(
    file: FileResult, model: ModuleModel, found: Iterable[Diagnostic], outcome: AddNoqaResult
) -> None:
    path = Path(model.path)
    try:
        data = read_bytes(path)
        if decode(data) != model.source:
            outcome.stale.append(file.path)
            return
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except (SourceError, SyntaxError):
        outcome.stale.append(file.path)
        return
    codes_by_line: dict[int, list[str]] = defaultdict(list)
    ends = line_ends(model)
    for diagnostic in found:
        if diagnostic.line not in ends:
            outcome.skipped.append(diagnostic)
        elif diagnostic.code not in codes_by_line[diagnostic.line]:
            codes_by_line[diagnostic.line].append(diagnostic.code)
    lines = _LINE.findall(model.source)
    added = 0
    for number, codes in codes_by_line.items():
        new = _with_noqa(model, ends[number], lines[number - 1], codes)
        if new is not None:
            lines[number - 1] = new
            added += 1
    if added:
        path.write_bytes("".join(lines).encode(encoding))
        outcome.added += added
        outcome.files += 1


def line_with_noqa(model: ModuleModel, number: int, codes: Sequence[str]) -> str | None:
    """Line `number` (without its ending) with `codes` in its noqa comment; None when the line
    has no end a comment can go on, or already suppresses them all."""
    end = line_ends(model).get(number)
    if end is None or not 0 < number <= len(model.lines):
        return None
    return _with_noqa(model, end, model.lines[number - 1], codes)


def _with_noqa(model: ModuleModel, end: LineEnd, line: str, codes: Sequence[str]) -> str | None:
    """`line` with `codes` in its noqa comment; None when it already suppresses them all."""
    if end.directive() is not None and end.codes() is None:  # a bare noqa: suppresses all
        return None
    existing = end.codes() or []
    missing = [code for code in codes if code not in existing]
    if not missing:
        return None
    body = line.rstrip("\r\n")
    ending = line[len(body) :]
    comment = end.node.comment
    start = model.position(comment if comment else end.node).start.column
    prefix = body[:start] if comment else f"{body[:start].rstrip()}  "
    return f"{prefix}{end.with_codes([*existing, *missing])}{ending}"
