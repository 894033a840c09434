"""Parsing without libcst's per-node validation builds the same trees and validates the rest."""

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
