"""Byte prefilters for names: a module can only refer to a name it spells as a whole word.

A plain substring test lets `tasks` through every file with `subtasks` or `asyncio_tasks`,
and each file let through is parsed. These look for the identifier itself (an import alias
still spells it), or for a call of it, so they accept every file a libcst scan for a `Name`,
an `Attribute` or a call by that name can match; strings and comments only let more through.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping

from fastapi_task_lint.semantics.byte_filters import ByteFilter, byte_filter, register

# Not preceded or followed by another identifier character (ASCII: a non-ASCII neighbour
# lets the file through, which only costs a parse).
_BEFORE = rb"(?<![\w])"
_AFTER = rb"(?![\w])"
# Between an imported name and the `as` that renames it, and after `as`.
_SPACE = rb"(?:\s|\\\r?\n)+"
# The `import` keyword of a statement, and what may stand before it on its line: a `from`
# clause (`from . import`), after the start of the line, a `;` or a colon.
_IMPORT_KEYWORD = re.compile(rb"import(?=[ \t(\\])")
_IMPORT_HEAD = re.compile(rb"(?:[^\r\n]*[;:])?[ \t]*(?:from[ \t.][^\r\n]*[ \t.])?")
_CONTINUED = re.compile(rb"\\\r?\n")
# A parenthesized list of imported names, to the `)` that closes it: one in a comment
# (`# see (docs)`) does not (a comment runs to its line's end, so it is read one way only).
_PARENTHESIZED = re.compile(rb"\((?:[^)#]|#[^\r\n]*(?![^\r\n]))*\)")
_SEPARATORS = re.compile(rb"[(),;]")
# Between a callee and its `(`, or a `.` and an attribute: spaces and newlines, line
# continuations, and comments (`(helper  # why\n (x))` is a call). A comment runs to the end
# of its line and no shorter: one that could end anywhere split `# #####...` every possible
# way before failing, exponential in the number of `#`.
_GAP = rb"(?:\s|\\\r?\n|#[^\r\n]*(?![^\r\n]))*"

# A comment or a string literal, whole, as CPython's tokenizer reads them: a scan from the
# start of a module steps over each, so a line inside a docstring is never taken for code.
# (Each loop is unrolled, `[^"\\]*(?:...[^"\\]*)*`, so a long string costs one pass.)
_COMMENT_OR_STRING = re.compile(
    rb"#[^\r\n]*"
    rb"|[rRbBuUfF]{0,2}(?:"
    rb'"""[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*"""'
    rb"|'''[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*'''"
    rb'|"[^"\\\r\n]*(?:\\.[^"\\\r\n]*)*"'
    rb"|'[^'\\\r\n]*(?:\\.[^'\\\r\n]*)*')",
    re.DOTALL,
)

Prefilter = Callable[[bytes], bool]


def naming(names: Iterable[str]) -> ByteFilter:
    """Accepts bytes that hold one of `names` as a whole identifier."""
    return byte_filter("naming", _distinct(names))


def calling(names: Iterable[str]) -> ByteFilter:
    """Accepts bytes that call one of `names` (`name(`, `obj.name (`), as a whole identifier."""
    return byte_filter("calling", _distinct(names))


def assigning(names: Iterable[str]) -> Prefilter:
    """Accepts bytes that give one of `names`, as a whole identifier, a value: a keyword
    argument or an assignment (`name=`, `name = `; not `name ==`)."""
    return _searcher(names, rb"\s*=(?!=)")


def _distinct(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({name for name in names if name}))


def _alternatives(names: Iterable[str]) -> tuple[list[bytes], bytes]:
    """The distinct non-empty `names` as bytes, and a regex group matching any of them."""
    unique = sorted({n.encode("utf-8") for n in names if n})
    return unique, b"(?:" + b"|".join(re.escape(n) for n in unique) + b")"


def _searcher(names: Iterable[str], after: bytes) -> Prefilter:
    unique, alternatives = _alternatives(names)
    if not unique:
        return lambda data: False
    match = re.compile(_BEFORE + alternatives + after).match

    def accepts(data: bytes) -> bool:
        # The regex cannot skip ahead to a literal (it starts with a lookbehind), so it is
        # tried only where a name occurs, which substring searches find: 3x faster than
        # searching with it on the corpus (lookbehind still sees the bytes before `at`).
        for name in unique:
            at = data.find(name)
            while at >= 0:
                if match(data, at) is not None:
                    return True
                at = data.find(name, at + 1)
        return False

    return accepts


def import_renames(data: bytes) -> Iterator[tuple[str, str]]:
    """The `(old, new)` name pairs of the import statements in `data` that rename.

    Only import statements are read: `with x as y` and `except E as e` rename nothing, and
    following them would take in every name.
    """
    if b"as" not in data:
        return
    for body in _import_statements(data):
        if b"as" not in body:
            continue
        words = _SEPARATORS.sub(b" ", _CONTINUED.sub(b" ", body)).split()
        for index in range(1, len(words) - 1):
            if words[index] == b"as":
                old, new = words[index - 1], words[index + 1]
                yield old.decode("utf-8", "replace"), new.decode("utf-8", "replace")


def importing(names: Iterable[str]) -> ByteFilter:
    """Accepts bytes that can refer to one of `names` bound in another module: after a dot
    (`state.JOBS`, `self.jobs`), in an import statement, or through a star import.

    A bare name only refers to another module's global once an import binds it; a module
    that spells `tasks` only as its own locals cannot touch `app.state.tasks`.
    """
    return byte_filter("importing", _distinct(names))


def _importing(*names: str) -> Prefilter:
    unique, alternatives = _alternatives(names)
    if not unique:
        return lambda data: False
    attribute = re.compile(rb"\." + _GAP + alternatives + _AFTER).search
    word = re.compile(_BEFORE + alternatives + _AFTER).search

    def accepts(data: bytes) -> bool:
        if not any(name in data for name in unique):
            return False
        if attribute(data) is not None:
            return True
        return any(b"*" in body or word(body) for body in _import_statements(data))

    return accepts


register("naming", lambda *names: _searcher(names, _AFTER))
register("calling", lambda *names: _searcher(names, _GAP + rb"\("))
register("importing", _importing)


def _import_statements(data: bytes) -> Iterator[bytes]:
    """What follows the `import` keyword of each import statement in `data`.

    Searched from the keyword: a regex that has to try every line start costs a second on
    a large project.
    """
    for keyword in _IMPORT_KEYWORD.finditer(data):
        start = keyword.start()
        if _IMPORT_HEAD.fullmatch(data, data.rfind(b"\n", 0, start) + 1, start):
            yield _import_body(data, keyword.end())


def _import_body(data: bytes, start: int) -> bytes:
    """What follows `import` to the statement's end: its parentheses, or its (continued) line."""
    index = start
    while data[index : index + 1] in (b" ", b"\t"):
        index += 1
    if data.startswith(b"(", index):
        names = _PARENTHESIZED.match(data, index)  # None: no `)` before the end
        return data[index : names.end() if names else len(data)]
    end = start
    while True:
        newline = data.find(b"\n", end)
        if newline < 0:
            newline = len(data)
        if not data[end:newline].rstrip(b"\r").endswith(b"\\") or newline == len(data):
            break
        end = newline + 1  # a backslash continues the statement on the next line
    return data[start:newline].split(b";", 1)[0]


def renamings(
    names: Iterable[str], renames: Mapping[str, Iterable[str]]
) -> Mapping[str, frozenset[str]]:
    """`names`, and each name `renames` (old name to new names) turns one of them into, also
    through renames of renames, with the names of `names` it may stand for.

    A module can refer to `run_later` as `later` after `from app import later` when the
    package re-exports it as `from .helpers import run_later as later`: it never spells
    `run_later`.
    """
    found: dict[str, frozenset[str]] = {name: frozenset({name}) for name in names if name}
    pending = list(found)
    while pending:
        old = pending.pop()
        for new in renames.get(old, ()):
            stands_for = found.get(new, frozenset()) | found[old]
            if stands_for != found.get(new):
                found[new] = stands_for
                pending.append(new)
    return found


def defines_function(data: bytes, name: str) -> bool:
    """Whether a line of `data` starts with `def name` or `async def name` outside every
    string literal: the module defines the function `name` at its top level. A docstring
    that shows code (`def name(...)` at the start of one of its lines) does not count."""
    definition = rb"^(?:async[ \t]+)?def[ \t]+" + re.escape(name.encode()) + _AFTER
    return any(_in_code(data, m.start()) for m in re.finditer(definition, data, re.MULTILINE))


def _in_code(data: bytes, position: int) -> bool:
    """Whether `position` lies outside every comment and string literal of `data`."""
    for skipped in _COMMENT_OR_STRING.finditer(data):
        if skipped.start() >= position:
            return True
        if skipped.end() > position:
            return False
    return True
