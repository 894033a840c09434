"""Whether parentheses may surround an expression, judged from the source around it.

CPython's span of an expression leaves out the parentheses around it, and libcst quotes an
expression with them. Deciding whose a pair of parentheses is takes a parser in general, so
this only answers "certainly none" cheaply: the next character after the span is not `)`,
or the one before is not `(`, or that `(` opens a call (it follows a name that is not a
keyword, or a closing bracket). Everything else, comments in the way included, is "maybe",
and libcst's tree of the file decides.
"""

from __future__ import annotations

import keyword

from fastapi_task_lint.built_tree import Span

_BLANK = b" \t\f\\\r\n"
_CLOSERS = b")]"
_WORD = b"_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def maybe_around(lines: list[bytes], span: Span, own: bool) -> bool:
    """Whether the code at `span` of `lines` (UTF-8, line ends kept) may be parenthesized;
    `own`: the span may start with parentheses of the node's own (a tuple, a generator)."""
    line, start, end_line, end = span
    if own and lines[line - 1][start : start + 1] == b"(":
        return True
    after = _next_character(lines, end_line - 1, end)
    if after is not None and after != b")":
        return False
    opening = _previous_character(lines, line - 1, start)
    if opening is None:
        return True
    row, column = opening
    if lines[row][column : column + 1] != b"(":
        return False
    return not _opens_call(lines[row], column)


def _next_character(lines: list[bytes], row: int, column: int) -> bytes | None:
    """The first character after (`row`, `column`) that is not blank; None at a comment."""
    while row < len(lines):
        text = lines[row]
        while column < len(text):
            character = text[column : column + 1]
            if character == b"#":
                return None
            if character not in _BLANK:
                return character
            column += 1
        row, column = row + 1, 0
    return b""


def _previous_character(lines: list[bytes], row: int, column: int) -> tuple[int, int] | None:
    """Where the last character before (`row`, `column`) that is not blank is; None when a
    line in between may end in a comment."""
    column -= 1
    while row >= 0:
        text = lines[row]
        while column >= 0:
            if text[column : column + 1] not in _BLANK:
                return row, column
            column -= 1
        row -= 1
        if row >= 0 and b"#" in lines[row]:
            return None
        column = len(lines[row]) - 1 if row >= 0 else -1
    return None


def _opens_call(text: bytes, column: int) -> bool:
    """Whether the `(` at `column` of `text` opens a call's (or a class's) arguments."""
    before = text[:column].rstrip(b" \t\f")
    if not before:
        return False
    last = before[-1:]
    if last in _CLOSERS:
        return True
    if not (last.isalnum() or last == b"_" or last[0] >= 0x80):
        return False
    word = before[len(before.rstrip(_WORD)) :]
    return not keyword.iskeyword(word.decode("ascii", "replace"))
