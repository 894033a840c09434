"""Read, decode and parse one file; every way that can fail becomes a `SourceError`."""

from __future__ import annotations

import ast
import contextlib
import io
import re
import sys
import tokenize
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import libcst as cst

from fastapi_task_lint import built_tree

if TYPE_CHECKING:
    from fastapi_task_lint.semantics.model import ModuleModel
    from fastapi_task_lint.semantics.project import ProjectIndex

# libcst's native parser recurses on the C stack; deeply nested input is refused before it.
_RECURSION_LIMIT = 10_000
# libcst parses ~11,000 lines/s: past this a file (always generated code) would take minutes.
MAX_PARSE_CHARS = 4_000_000
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
        if path.is_symlink() and not path.exists():
            raise SourceError("broken symlink or symlink loop")
        if not path.is_file():
            raise SourceError("not a regular file")
        return path.read_bytes()
    except OSError as error:
        raise SourceError(f"cannot read file: {error.strerror or error}") from None


def read_lines(path: str) -> list[str]:
    """A file's lines, for showing the source of a finding; none when it cannot be read."""
    try:
        return python_lines(decode(read_bytes(Path(path))))
    except SourceError:
        return []


# The line breaks Python's tokenizer (and libcst's positions) count.
LINE_BREAK = re.compile(r"\r\n?|\n")


def python_lines(text: str) -> list[str]:
    """`text`'s lines as Python numbers them. `str.splitlines` also breaks at form feeds,
    vertical tabs and Unicode separators, which would shift every later line."""
    lines = LINE_BREAK.split(text)
    if lines[-1] == "":
        lines.pop()
    return lines


# Layout a multi-line expression leaves once its lines are joined: `f( "a", b=1, )`.
_LOOSE_BRACKETS = re.compile(r"(?<=[(\[{]) | ?,? (?=[)\]}])")


def one_line(code: str) -> str:
    """`code` as one line for a message: whitespace runs become one space, and code written
    over several lines loses the spaces its line breaks left inside brackets."""
    joined = " ".join(code.split())
    return _LOOSE_BRACKETS.sub("", joined) if "\n" in code else joined


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
    """Parse with libcst, after CPython's parser has ruled out input that would crash it."""
    return parse_with_lines(text)[0]


def parse_with_lines(text: str) -> tuple[cst.Module, list[int] | None]:
    """The libcst tree, and the line of each top-level statement CPython's parser gives
    (`def` lines for decorated ones; None when CPython refused the file).

    libcst's native parser recurses on the C stack: thousands of nested brackets or
    operators take it minutes, exhaust memory or crash the process. CPython's parser
    refuses such input in milliseconds, so it screens every file first (about a tenth
    of libcst's own cost); the lines it finds spare laying out the module to count them.
    """
    if len(text) > MAX_PARSE_CHARS:
        raise SourceError(f"file too large to parse ({len(text) / 1e6:.1f} MB, the limit is 4 MB)")
    screened, cpython_error = _cpython_screen(text)
    limit = sys.getrecursionlimit()
    try:
        sys.setrecursionlimit(max(limit, _RECURSION_LIMIT))
        with _node_validation_skipped(), _whitespace_leaves_shared():
            tree = cst.parse_module(text)
        lines = None if screened is None else [statement.lineno for statement in screened.body]
        return tree, lines
    except cst.ParserSyntaxError as error:
        if cpython_error is not None:
            raise cpython_error from None
        message = str(error.message).strip().splitlines()[0] if error.message else "invalid"
        raise SourceError(
            f"syntax error: {message}", error.raw_line, error.raw_column + 1
        ) from None
    except RecursionError:
        raise SourceError("syntax error: too deeply nested to parse") from None
    except Exception as error:  # the native parser reports some failures untyped
        raise SourceError(f"cannot parse: {error}".splitlines()[0]) from None
    finally:
        sys.setrecursionlimit(limit)


@contextlib.contextmanager
def _node_validation_skipped() -> Iterator[None]:
    """Build the parser's nodes without libcst's per-node `_validate()`.

    Every node constructor runs it (`CSTNode.__post_init__`), so a parse validates millions
    of nodes the native parser has just built from valid syntax; libcst's own comment there
    suggests moving it out of parsing. Nodes built elsewhere (fixes) are still validated.
    The switch is process-wide, which is safe because parses never overlap: the engine and
    its workers are single-threaded, and the LSP server checks one document at a time (its
    lock); threads would not speed parsing up anyway (see the README's Performance section).
    """
    cst.CSTNode.__post_init__ = _no_validation  # type: ignore[method-assign]
    try:
        yield
    finally:
        cst.CSTNode.__post_init__ = _validating  # type: ignore[method-assign]


_validating = cst.CSTNode.__post_init__


def _no_validation(self: cst.CSTNode) -> None:
    pass


@contextlib.contextmanager
def _whitespace_leaves_shared() -> Iterator[None]:
    """Build one node per distinct whitespace (`" "`) or newline leaf, shared by every use.

    Two in five nodes of a tree are `SimpleWhitespace` leaves, nearly all `""` or `" "`.
    Trees are immutable and nothing is located or replaced by such a leaf (findings and
    fixes name statements and expressions; noqa comments are found by the line ends that
    hold them, which stay one per use), so sharing them changes no answer: trees take 29 %
    less memory for the same parse time. The native
    parser looks each node class up on the `libcst` module as it builds, so the switch is
    that module's names, for the parse only (process-wide, like the validation switch).
    """
    cst.SimpleWhitespace = _shared_whitespace  # type: ignore[misc, assignment]
    cst.Newline = _shared_newline  # type: ignore[misc, assignment]
    try:
        yield
    finally:
        cst.SimpleWhitespace = _SimpleWhitespace  # type: ignore[misc]
        cst.Newline = _Newline  # type: ignore[misc]


_Leaf = TypeVar("_Leaf", cst.SimpleWhitespace, cst.Newline)


def _one_per_value(leaf: Callable[[Any], _Leaf]) -> Callable[..., _Leaf]:
    """A stand-in for the leaf class `leaf` that builds one node per distinct value."""
    nodes: dict[str | None, _Leaf] = {}

    def shared(value: str | None = None) -> _Leaf:
        node = nodes.get(value)
        if node is None:
            node = nodes[value] = leaf(value)
        return node

    return shared


_SimpleWhitespace = cst.SimpleWhitespace
_Newline = cst.Newline
_shared_whitespace = _one_per_value(_SimpleWhitespace)
_shared_newline = _one_per_value(_Newline)


_TOO_DEEP = ("too many nested parentheses", "too many levels of indentation", "too many statically")


def _cpython_screen(text: str) -> tuple[ast.Module | None, SourceError | None]:
    """CPython's verdict: raises for input too deep to parse safely, returns other errors.

    A plain syntax error is returned, not raised: the file may use syntax newer than the
    running interpreter that libcst supports; its message is used if libcst agrees.
    """
    try:
        with warnings.catch_warnings():  # CPython's SyntaxWarnings about user code are noise
            warnings.simplefilter("ignore")
            tree = ast.parse(text, "<checked file>")
    except SyntaxError as error:
        found = SourceError(
            f"syntax error: {error.msg}", error.lineno or 1, max(error.offset or 1, 1)
        )
        if error.msg.startswith(_TOO_DEEP):
            raise found from None
        return None, found
    except (RecursionError, MemoryError):
        raise SourceError("too deeply nested to parse safely") from None
    except ValueError as error:
        return None, SourceError(f"syntax error: {error}")
    return tree, None


# Build trees from CPython's `ast` (`built_tree`); libcst parses what that leaves out. Off,
# every file is parsed by libcst (the tests compare the two ways).
BUILD_FROM_AST = True


def load_module(
    path: Path, project: ProjectIndex, text: str, data: bytes | None = None
) -> ModuleModel:
    """Parse `text`, the file `path`'s (decoded from `data` when given), into its semantic
    model: a tree built from `ast` where `built_tree` converts the file, else libcst's parse."""
    from fastapi_task_lint.semantics.model import ModuleModel

    parsed: tuple[cst.Module, list[int] | None] | None = None
    if BUILD_FROM_AST and len(text) <= MAX_PARSE_CHARS:
        with contextlib.suppress(built_tree.Unsupported):
            parsed = built_tree.build(text)
    built = parsed is not None
    tree, statement_lines = parsed if parsed is not None else parse_with_lines(text)
    module_name, is_package = project.module_name_of(path)
    try:
        return ModuleModel(
            path, module_name, is_package, text, tree, project, statement_lines, built, data
        )
    except RecursionError:
        raise SourceError("too deeply nested to analyse") from None
