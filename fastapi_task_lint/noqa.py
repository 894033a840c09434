"""`# noqa` suppression, flake8's syntax: bare, or with a list of codes (any case)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import libcst as cst

from fastapi_task_lint.diagnostics import Diagnostic
from fastapi_task_lint.source import SourceError

if TYPE_CHECKING:
    from fastapi_task_lint.semantics.model import ModuleModel

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
    # line -> the codes a `# noqa` on that line suppressed (what FTL003 calls used)
    used: dict[int, set[str]] = field(default_factory=dict)


def apply_noqa(diagnostics: Sequence[Diagnostic], lines: Sequence[str]) -> Suppression:
    """Split findings into kept and suppressed by the `# noqa` on their first line."""
    result = Suppression()
    for diagnostic in diagnostics:
        text = lines[diagnostic.line - 1] if 0 < diagnostic.line <= len(lines) else ""
        comment = parse_noqa(text, diagnostic.line) if "noqa" in text.lower() else None
        if comment is not None and (comment.codes is None or diagnostic.code in comment.codes):
            result.suppressed.append(diagnostic)
            result.used.setdefault(diagnostic.line, set()).add(diagnostic.code)
        else:
            result.kept.append(diagnostic)
    return result


@dataclass(frozen=True)
class LineEnd:
    """Where a comment sits, or could go, at the end of a line: libcst's trailing whitespace
    of a statement or bracketed line. Lines that end inside a string or with a backslash have
    none, so a comment is never written where it would change the code."""

    line: int
    node: cst.TrailingWhitespace | cst.EmptyLine
    comment: str | None  # the comment text, `# ...`, when the line has one

    def directive(self) -> re.Match[str] | None:
        return _NOQA.search(self.comment) if self.comment else None

    def codes(self) -> list[str] | None:
        """The codes of this line's `# noqa: ...`, in order; None for none or a bare noqa."""
        match = self.directive()
        if match is None or not match.group("codes"):
            return None
        return list(dict.fromkeys(c.upper() for c in _CODE.findall(match.group("codes"))))

    def with_codes(self, codes: Sequence[str]) -> str:
        """The comment with its noqa list replaced by `codes` (removed when `codes` is empty);
        empty when nothing of the comment is left. Other text in the comment is kept."""
        comment = self.comment or ""
        match = self.directive()
        if match is None or not match.group("codes"):
            listed = f"# noqa: {', '.join(codes)}"
            return f"{comment}  {listed}" if comment else listed
        if codes:
            start, end = match.span("codes")
            return f"{comment[:start]}{', '.join(codes)}{comment[end:]}"
        before, after = comment[: match.start()].rstrip(), comment[match.end() :].strip()
        if after and not after.startswith("#"):
            after = f"# {after}"
        return "  ".join(part for part in (before, after) if part)


_OUR_CODES_LISTED = re.compile(rb"noqa[^\r\n]*FTL", re.IGNORECASE)


def may_list_our_codes(data: bytes) -> bool:
    """Whether a `# noqa` in a file's bytes may list one of our codes, which alone can be
    unused (`unused_noqa`): only such a file is parsed for FTL003 alone, and finding its
    comments takes libcst's parse of a built file."""
    return _OUR_CODES_LISTED.search(data) is not None


def line_ends(model: ModuleModel) -> dict[int, LineEnd]:
    """Every line end that can hold a comment, by line; none in a file CPython checked but
    libcst, which keeps the comments, refuses."""
    try:
        tree = model.syntax_tree
    except SourceError:
        return {}
    collector = _LineEnds()
    tree.visit(collector)
    return {
        (line := model.position(node).start.line): LineEnd(
            line, node, node.comment.value if node.comment else None
        )
        for node in collector.found
    }


class _LineEnds(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found: list[cst.TrailingWhitespace | cst.EmptyLine] = []

    def visit_TrailingWhitespace(self, node: cst.TrailingWhitespace) -> None:
        self.found.append(node)

    def visit_EmptyLine(self, node: cst.EmptyLine) -> None:
        if node.comment is not None:
            self.found.append(node)


@dataclass(frozen=True)
class UnusedNoqa:
    """A `# noqa: ...` comment with FTL codes that suppressed nothing in this run."""

    end: LineEnd
    unused: tuple[str, ...]  # codes of rules that ran here and found nothing on this line
    unknown: tuple[str, ...]  # FTL codes no rule has

    @property
    def kept(self) -> list[str]:
        drop = {*self.unused, *self.unknown}
        return [c for c in self.end.codes() or () if c not in drop]


def unused_noqa(
    ends: Mapping[int, LineEnd],
    used: Mapping[int, set[str]],
    ran: Callable[[str], bool],
    known: Callable[[str], bool],
    prefix: str = "FTL",
    own_code: str = "FTL003",
) -> list[UnusedNoqa]:
    """Noqa comments listing our codes that suppressed nothing. Only codes of rules that ran
    on the file count (a `--select` subset must not flag suppressions meant for other rules),
    plus codes no rule has; other tools' codes and bare `# noqa` are left alone, and a comment
    that lists `own_code` opts out of the check."""
    found: list[UnusedNoqa] = []
    for line, end in sorted(ends.items()):
        codes = end.codes()
        if not codes or own_code in codes:
            continue
        ours = [c for c in codes if c.startswith(prefix) and c not in used.get(line, ())]
        unknown = tuple(c for c in ours if not known(c))
        unused = tuple(c for c in ours if known(c) and ran(c))
        if unused or unknown:
            found.append(UnusedNoqa(end, unused, unknown))
    return found
