"""`walk` (the tree walk that does not rebuild nodes) sees what libcst's own visit sees.

Every reader in the semantic layer walks with `walk`; if it skipped a node, reordered two,
or missed a `visit_X`/`leave_X`, findings would change silently (issue 8)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import libcst as cst
import pytest

import fastapi_task_lint
from fastapi_task_lint.semantics.walk import walk

from .helpers import FIXTURES

# What `walk` leaves out on purpose: layout and punctuation, which no reader looks at.
_TRIVIA = (
    cst.AssignEqual,
    cst.Colon,
    cst.Comma,
    cst.Comment,
    cst.Dot,
    cst.EmptyLine,
    cst.LeftCurlyBrace,
    cst.LeftParen,
    cst.LeftSquareBracket,
    cst.Newline,
    cst.ParenthesizedWhitespace,
    cst.RightCurlyBrace,
    cst.RightParen,
    cst.RightSquareBracket,
    cst.Semicolon,
    cst.SimpleWhitespace,
    cst.TrailingWhitespace,
)
_PACKAGE = Path(fastapi_task_lint.__file__).parent
# Rule fixtures and this package's own code: over a hundred node types, in a few seconds.
_SOURCES = sorted([*FIXTURES.rglob("*.py"), *(_PACKAGE / "semantics").glob("*.py")])


class _Recorder(cst.CSTVisitor):
    def __init__(self, skip: type[cst.CSTNode] | None = None) -> None:
        self.events: list[tuple[str, int]] = []
        self.skip = skip

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.events.append(("visit", id(node)))
        return self.skip is None or not isinstance(node, self.skip)

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self.events.append(("leave", id(original_node)))


class _Calls(cst.CSTVisitor):
    """Typed hooks, one returning False: the calls' own argument lists are not entered."""

    def __init__(self) -> None:
        self.events: list[str] = []

    def visit_Call(self, node: cst.Call) -> bool:
        self.events.append(f"call {cst.Module([]).code_for_node(node.func)}")
        return False

    def leave_Call(self, original_node: cst.Call) -> None:
        self.events.append("leave call")

    def visit_Name(self, node: cst.Name) -> None:
        self.events.append(node.value)


@cache
def _parsed(path: Path) -> cst.Module | None:
    try:
        return cst.parse_module(path.read_bytes())
    except (cst.ParserSyntaxError, RecursionError, ValueError):
        return None  # fixtures of FTL001 do not parse


def _trivia_free(events: list[tuple[str, int]], tree: cst.Module) -> list[tuple[str, int]]:
    trivia = _trivia(tree)
    return [event for event in events if event[1] not in trivia]


@cache
def _trivia(tree: cst.Module) -> frozenset[int]:
    trivia: set[int] = set()

    class Collect(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            if isinstance(node, _TRIVIA):
                trivia.add(id(node))
            return True

    tree.visit(Collect())
    return frozenset(trivia)


def test_sources_cover_many_node_types() -> None:
    kinds: set[str] = set()

    class Kinds(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            kinds.add(type(node).__name__)
            return True

    for path in _SOURCES:
        tree = _parsed(path)
        if tree is not None:
            walk(tree, Kinds())
    assert len(kinds) > 100


@pytest.mark.parametrize("skip", [None, cst.FunctionDef, cst.Call])
def test_walk_matches_libcst_visit(skip: type[cst.CSTNode] | None) -> None:
    compared = 0
    for path in _SOURCES:
        tree = _parsed(path)
        if tree is None:
            continue
        expected, actual = _Recorder(skip), _Recorder(skip)
        tree.visit(expected)
        walk(tree, actual)
        assert actual.events == _trivia_free(expected.events, tree), path
        compared += 1
    assert compared > 100


def test_typed_hooks_and_pruning_match_libcst_visit() -> None:
    for path in _SOURCES[:80]:
        tree = _parsed(path)
        if tree is None:
            continue
        expected, actual = _Calls(), _Calls()
        tree.visit(expected)
        walk(tree, actual)
        assert actual.events == expected.events, path


def test_walk_does_not_rebuild_nodes() -> None:
    tree = cst.parse_module("x = f(a, b)\n")
    seen: list[cst.CSTNode] = []

    class Keep(cst.CSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            seen.append(node)

    walk(tree, Keep())
    statement = tree.body[0]
    assert isinstance(statement, cst.SimpleStatementLine)
    assign = statement.body[0]
    assert isinstance(assign, cst.Assign)
    assert seen[0] is assign.targets[0].target
