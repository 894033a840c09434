"""Read, decode and parse one file; every way that can fail becomes a `SourceError`."""

from __future__ import annotations

import ast
import io
import re
import sys
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import libcst as cst

if TYPE_CHECKING:
    from fastapi_task_lint.semantics.model import ModuleModel
    from fastapi_task_lint.semantics.project import ProjectIndex

# libcst's native parser recurses on the C stack; deeply nested input is refused before it.
_RECURSION_LIMIT = 10_000
_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", re.MULTILINE)


@dataclass
class SourceError(Exception):
    """Why a file could not be checked, and where, when the parser knows."""

    reason: str
    line: int = 1
    column: int = 1

    def __str__(self) -> str:
        return self.reason


def read_bytes(path: Path) -> bytes:
    try:
        if not path.is_file():
            raise SourceError("not a regular file")
        return path.read_bytes()
    except OSError as error:
        raise SourceError(f"cannot read file: {error.strerror or error}") from None


def decode(data: bytes) -> str:
    """Decode per PEP 263: a BOM or coding cookie, else UTF-8."""
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise SourceError("file contains NUL bytes", line)
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as error:
        if not _COOKIE.search(b"\n".join(data.splitlines()[:2])):
            encoding = "utf-8"  # no cookie: the bytes themselves are bad; say where below
        else:
            raise SourceError(f"bad coding cookie: {error.msg}", error.lineno or 1) from None
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as error:
        if isinstance(error, UnicodeDecodeError):
            line = data[: error.start].count(b"\n") + 1
            raise SourceError(f"cannot decode as {encoding}: {error.reason}", line) from None
        raise SourceError(f"unknown encoding {encoding!r}") from None


def parse(text: str) -> cst.Module:
    limit = sys.getrecursionlimit()
    try:
        sys.setrecursionlimit(max(limit, _RECURSION_LIMIT))
        return cst.parse_module(text)
    except cst.ParserSyntaxError as error:
        raise _syntax_error(text, error) from None
    except RecursionError:
        raise SourceError("syntax error: too deeply nested to parse") from None
    except Exception as error:  # the native parser reports some failures untyped
        raise SourceError(f"cannot parse: {error}".splitlines()[0]) from None
    finally:
        sys.setrecursionlimit(limit)


def _syntax_error(text: str, error: cst.ParserSyntaxError) -> SourceError:
    """CPython's message and position when it agrees the code is invalid: users know them."""
    try:
        compile(text, "<checked file>", "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as cpython:
        return SourceError(
            f"syntax error: {cpython.msg}", cpython.lineno or 1, max(cpython.offset or 1, 1)
        )
    except (ValueError, RecursionError, MemoryError):
        pass
    message = str(error.message).strip().splitlines()[0] if error.message else "invalid syntax"
    return SourceError(f"syntax error: {message}", error.raw_line, error.raw_column + 1)


def load_module(path: Path, project: ProjectIndex, text: str | None = None) -> ModuleModel:
    """Parse `path` (or `text` standing in for it) into its semantic model."""
    from fastapi_task_lint.semantics.model import ModuleModel
    from fastapi_task_lint.semantics.project import module_name_for

    if text is None:
        text = decode(read_bytes(path))
    tree = parse(text)
    module_name, is_package = module_name_for(path)
    try:
        return ModuleModel(path, module_name, is_package, text, tree, project)
    except RecursionError:
        raise SourceError("too deeply nested to analyse") from None
