"""Byte prefilters for names: a module can only refer to a name it spells as a whole word.

A plain substring test lets `tasks` through every file with `subtasks` or `asyncio_tasks`,
and each file let through is parsed. These look for the identifier itself (an import alias
still spells it), or for a call of it, so they accept every file a libcst scan for a `Name`,
an `Attribute` or a call by that name can match; strings and comments only let more through.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

# Not preceded or followed by another identifier character (ASCII: a non-ASCII neighbour
# lets the file through, which only costs a parse).
_BEFORE = rb"(?<![\w])"
_AFTER = rb"(?![\w])"
# Between a callee and its `(`: spaces and newlines, line continuations, and comments
# (`(helper  # why\n (x))` is a call).
_GAP = rb"(?:\s|\\\r?\n|#[^\r\n]*)*"

Prefilter = Callable[[bytes], bool]


def naming(names: Iterable[str]) -> Prefilter:
    """Accepts bytes that hold one of `names` as a whole identifier."""
    return _searcher(names, _AFTER)


def calling(names: Iterable[str]) -> Prefilter:
    """Accepts bytes that call one of `names` (`name(`, `obj.name (`), as a whole identifier."""
    return _searcher(names, _GAP + rb"\(")


def _searcher(names: Iterable[str], after: bytes) -> Prefilter:
    unique = sorted({n.encode("utf-8") for n in names if n})
    if not unique:
        return lambda data: False
    alternatives = b"|".join(re.escape(n) for n in unique)
    search = re.compile(_BEFORE + b"(?:" + alternatives + b")" + after).search

    def accepts(data: bytes) -> bool:
        # The regex cannot skip ahead to a literal (it starts with a lookbehind); plain
        # substring tests are several times faster and turn most files down first.
        return any(name in data for name in unique) and search(data) is not None

    return accepts
