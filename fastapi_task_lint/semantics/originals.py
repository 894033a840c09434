"""A built tree's nodes paired with libcst's parse of the same file (see `built_tree`).

Both trees have libcst's classes in libcst's shape, so walking them side by side over the
fields the analysis reads pairs each built node with the node libcst made for the same code.
Where the shapes part (an implicitly concatenated string is one constant to CPython), the
walk stops pairing below that node; nothing there is reported or rewritten.
"""

from __future__ import annotations

import libcst as cst

from fastapi_task_lint.semantics.walk import child_fields


def paired(built: cst.CSTNode, parsed: cst.CSTNode) -> dict[int, cst.CSTNode]:
    """Each node of `built`, by id, to its counterpart in `parsed`."""
    found: dict[int, cst.CSTNode] = {}
    pending = [(built, parsed)]
    while pending:
        ours, theirs = pending.pop()
        if type(ours).__name__ != type(theirs).__name__:
            continue
        found[id(ours)] = theirs
        for name in child_fields(type(theirs)):
            mine, other = getattr(ours, name), getattr(theirs, name)
            if isinstance(mine, cst.CSTNode) and isinstance(other, cst.CSTNode):
                pending.append((mine, other))
            elif (
                isinstance(mine, tuple | list)
                and isinstance(other, tuple | list)
                and len(mine) == len(other)
            ):
                pending.extend(zip(mine, other, strict=True))
    return found
