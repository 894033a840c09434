"""Parsing without libcst's per-node validation, and with shared whitespace leaves, builds the
same trees, and leaves the nodes built elsewhere as libcst builds them."""

from __future__ import annotations

import libcst as cst
import pytest

from fastapi_task_lint.source import SourceError, parse

from .helpers import EXAMPLES, FIXTURES

_SOURCES = sorted([*FIXTURES.rglob("*.py"), *EXAMPLES.rglob("*.py")])


def test_same_trees_as_a_validating_parse() -> None:
    compared = 0
    for path in _SOURCES:
        text = path.read_text(encoding="utf-8")
        try:
            tree = parse(text)
        except SourceError:
            continue
        assert tree.deep_equals(cst.parse_module(text)), path
        assert tree.code == text
        compared += 1
    assert compared > 100


def test_nodes_built_after_a_parse_are_validated() -> None:
    parse("x = 1\n")
    with pytest.raises(cst.CSTValidationError):
        cst.Name("not a name")


def test_validation_comes_back_after_a_failed_parse() -> None:
    with pytest.raises(SourceError):
        parse("def (:\n")
    with pytest.raises(cst.CSTValidationError):
        cst.Name("")


def test_whitespace_leaves_are_shared_within_and_across_parses() -> None:
    first = parse("x = 1\ny = 2\n")
    second = parse("z = 3\n")
    spaces = {
        id(statement.body[0].targets[0].whitespace_before_equal)  # type: ignore[attr-defined]
        for tree in (first, second)
        for statement in tree.body
    }
    assert len(spaces) == 1
    newlines = {id(statement.trailing_whitespace.newline) for statement in first.body}  # type: ignore[attr-defined]
    assert len(newlines) == 1


def test_whitespace_built_after_a_parse_is_its_own_node() -> None:
    """A fix's `SimpleWhitespace(" ")` is a new node, validated, never a parse's shared one."""
    tree = parse("x = 1\n")
    shared = tree.body[0].body[0].targets[0].whitespace_before_equal  # type: ignore[attr-defined]
    built = cst.SimpleWhitespace(" ")
    assert built is not shared
    assert type(built) is cst.SimpleWhitespace is type(shared)
    assert cst.Newline() is not tree.body[0].trailing_whitespace.newline  # type: ignore[attr-defined]
    with pytest.raises(SourceError):
        parse("def (:\n")
    with pytest.raises(cst.CSTValidationError):
        cst.SimpleWhitespace("not whitespace")
