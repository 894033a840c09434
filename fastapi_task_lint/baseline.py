"""Baseline files: the findings a codebase already had, recorded so only new ones fail CI.

An entry is keyed by path, code and a fingerprint of the offending code and its enclosing
function, plus an occurrence index for identical findings in one function; never by line,
so edits elsewhere in the file keep a finding baselined. Paths are relative to the baseline
file's directory, so the file works from any working directory.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi_task_lint.diagnostics import RULE_ERROR, Diagnostic
from fastapi_task_lint.engine import FileResult, RunResult
from fastapi_task_lint.semantics.model import ModuleModel

VERSION = 1
MODULE_SCOPE = "<module>"
_SNIPPET = 80


class BaselineError(Exception):
    """A baseline file that cannot be read, worded for the user."""


@dataclass(frozen=True, order=True)
class Entry:
    path: str
    code: str
    function: str
    fingerprint: str
    occurrence: int
    source: str = ""

    @property
    def key(self) -> tuple[str, str, str, int]:
        return (self.path, self.code, self.fingerprint, self.occurrence)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "code": self.code,
            "function": self.function,
            "fingerprint": self.fingerprint,
            "occurrence": self.occurrence,
            "source": self.source,
        }


@dataclass
class Split:
    new: list[Diagnostic]
    baselined: list[Diagnostic]


def entries(result: RunResult, base: Path) -> list[tuple[Diagnostic, Entry]]:
    """Each baselinable finding of the run with its entry; rule crashes are never baselined."""
    by_path = {file.path: file for file in result.files}
    found: list[tuple[Diagnostic, Entry]] = []
    seen: Counter[tuple[str, str, str]] = Counter()
    for diagnostic in result.diagnostics:
        if diagnostic.code == RULE_ERROR:
            continue
        path = _relative(diagnostic.path, base)
        function, snippet = _context(diagnostic, by_path.get(diagnostic.path))
        digest = hashlib.sha256(
            "\0".join((diagnostic.code, function, snippet)).encode("utf-8", "surrogatepass")
        ).hexdigest()[:16]
        occurrence = seen[(path, diagnostic.code, digest)]
        seen[(path, diagnostic.code, digest)] += 1
        short = snippet if len(snippet) <= _SNIPPET else snippet[: _SNIPPET - 3] + "..."
        found.append(
            (diagnostic, Entry(path, diagnostic.code, function, digest, occurrence, short))
        )
    return found


@dataclass(frozen=True)
class Baseline:
    """A loaded baseline file: its entries, and the directory its paths are relative to."""

    path: Path
    entries: tuple[Entry, ...]

    def split(self, result: RunResult) -> Split:
        """Findings not in the baseline (new) and those it records (baselined)."""
        known = {entry.key for entry in self.entries}
        outcome = Split([], [])
        for diagnostic, entry in entries(result, _base(self.path)):
            (outcome.baselined if entry.key in known else outcome.new).append(diagnostic)
        outcome.new.extend(d for d in result.diagnostics if d.code == RULE_ERROR)
        outcome.new.sort(key=lambda d: d.sort_key)
        return outcome


def write(path: Path, result: RunResult) -> int:
    """Record every current finding in `path`; returns how many were written."""
    recorded = sorted({entry for _, entry in entries(result, _base(path))})
    document = {"version": VERSION, "findings": [entry.to_dict() for entry in recorded]}
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return len(recorded)


def load(path: Path) -> Baseline:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise BaselineError(f"{path}: cannot read baseline: {error.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise BaselineError(f"{path}: not a baseline file (invalid JSON: {error})") from None
    if not isinstance(document, dict) or document.get("version") != VERSION:
        raise BaselineError(f"{path}: not a version {VERSION} baseline file")
    try:
        return Baseline(
            path,
            tuple(
                Entry(
                    str(item["path"]),
                    str(item["code"]),
                    str(item["function"]),
                    str(item["fingerprint"]),
                    int(item["occurrence"]),
                    str(item.get("source", "")),
                )
                for item in document["findings"]
            ),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise BaselineError(f"{path}: malformed baseline entry ({error!r})") from None


def _base(path: Path) -> Path:
    return path.absolute().parent


def _relative(shown: str, base: Path) -> str:
    try:
        return Path(os.path.relpath(Path(shown).absolute(), base)).as_posix()
    except ValueError:  # another drive on Windows
        return Path(shown).absolute().as_posix()


def _context(diagnostic: Diagnostic, file: FileResult | None) -> tuple[str, str]:
    """The enclosing function's qualified name and the reported code, whitespace normalised."""
    model = file.model if file is not None else None
    if model is None:
        return MODULE_SCOPE, diagnostic.message
    return _enclosing_function(model, diagnostic.line), _snippet(model.lines, diagnostic)


def _enclosing_function(model: ModuleModel, line: int) -> str:
    innermost: tuple[int, str] | None = None
    for function in model.functions:
        span = model.position(function.node)
        if span.start.line <= line <= span.end.line and (
            innermost is None or span.start.line >= innermost[0]
        ):
            innermost = (span.start.line, function.qualname)
    return innermost[1] if innermost else MODULE_SCOPE


def _snippet(lines: Sequence[str], d: Diagnostic) -> str:
    if not 0 < d.line <= d.end_line <= len(lines):
        return d.message
    if d.line == d.end_line:
        text = lines[d.line - 1][d.column - 1 : d.end_column - 1]
    else:
        text = "\n".join(
            [
                lines[d.line - 1][d.column - 1 :],
                *lines[d.line : d.end_line - 1],
                lines[d.end_line - 1][: d.end_column - 1],
            ]
        )
    return " ".join(text.split()) or d.message
