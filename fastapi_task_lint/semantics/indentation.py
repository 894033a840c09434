"""An expression over several lines quoted as libcst quotes it, from a built tree's spans.

libcst stores a continuation line inside brackets as "the block's indentation, then the
rest", so it quotes the expression alone without that indentation (`Module.code_for_node`).
The block's indentation is that of the line the innermost statement holding the expression
starts on; the built tree's statement spans find that statement. Where the text alone cannot
say what libcst stored (a string or a backslash over lines, a decorator between statements),
there is no answer, and libcst's tree of the file quotes it.
"""

from __future__ import annotations

import libcst as cst

from fastapi_task_lint.built_tree import Span, span_of

_BLANK = b" \t\f"


def sliced(lines: list[bytes], span: Span) -> list[bytes]:
    """The code at `span` of `lines` (UTF-8, line ends kept), one part per line."""
    line, start, end_line, end = span
    if line == end_line:
        return [lines[line - 1][start:end]]
    first, *rest = lines[line - 1 : end_line]
    return [first[start:], *rest[:-1], rest[-1][:end]]


def quoted(tree: cst.Module, lines: list[bytes], span: Span) -> bytes | None:
    """The code at `span` of `lines`, continuation lines without the indentation of the
    block holding it; None when only libcst can say."""
    first, *rest = sliced(lines, span)
    text = b"".join([first, *rest])
    if b'"""' in text or b"'''" in text or b"\\\n" in text or b"\\\r" in text:
        return None  # a line of a string, or after a backslash, keeps its whitespace
    statement_line = _statement_line(tree, span[0])
    if statement_line is None:
        return None
    opening = lines[statement_line - 1]
    indent = opening[: len(opening) - len(opening.lstrip(_BLANK))]
    if not indent:
        return text
    dedented = (part[len(indent) :] if part.startswith(indent) else part for part in rest)
    return b"".join([first, *dedented])


def _statement_line(tree: cst.Module, line: int) -> int | None:
    """The first line of the innermost statement whose span holds `line`; None when `line`
    is outside every statement (a decorator's) or a statement has no span."""
    found: int | None = None
    statements: list[cst.CSTNode] = list(tree.body)
    while statements:
        holder = None
        for statement in statements:
            span = span_of(statement)
            if span is None:
                return None
            if span[0] > line:
                if holder is None and _decorated(statement):
                    return None  # the line may be one of its decorators'
                break
            if span[2] >= line:
                holder = statement
        if holder is None:
            break
        found = span_of(holder)[0]  # type: ignore[index]
        statements = _inner_statements(holder)
    return found


def _decorated(statement: cst.CSTNode) -> bool:
    return isinstance(statement, cst.FunctionDef | cst.ClassDef) and bool(statement.decorators)


def _inner_statements(statement: cst.CSTNode) -> list[cst.CSTNode]:
    """The statements of a compound statement's blocks (an `elif` is one, and a `case`'s
    body is one), in order; the small statements of a line."""
    if isinstance(statement, cst.SimpleStatementLine):
        return []
    found: list[cst.CSTNode] = []
    names = ("body", "handlers", "cases", "orelse", "finalbody")
    parts = [getattr(statement, name, None) for name in names]
    for part in parts:
        for piece in part if isinstance(part, tuple) else (part,):
            if isinstance(piece, cst.If):
                found.append(piece)  # `elif`
            elif isinstance(piece, cst.IndentedBlock | cst.SimpleStatementSuite):
                found.extend(piece.body)
            elif isinstance(piece, cst.ExceptHandler | cst.MatchCase | cst.Else | cst.Finally):
                block = piece.body
                found.extend(block.body)
    return found
