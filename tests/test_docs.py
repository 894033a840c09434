"""The rule docs users read are generated from the rules; the checked-in copy must be current."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from click.testing import CliRunner

from fastapi_task_lint.cli import main
from fastapi_task_lint.docs import rule_markdown, rules_markdown
from fastapi_task_lint.rules import all_rules

ROOT = Path(__file__).parent.parent


def test_docs_rules_md_is_current() -> None:
    checked_in = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert checked_in == rules_markdown(), (
        "docs/rules.md is stale: run `make docs` (python -m fastapi_task_lint.docs > docs/rules.md)"
    )


def test_every_rule_documents_every_section() -> None:
    for code, rule in all_rules().items():
        docs = rule.docs
        for section in ("what", "why", "example"):
            assert getattr(docs, section).strip(), f"{code} has no '{section}' docs"
        assert docs.remedy.strip() or docs.use_instead.strip(), f"{code} says no fix"
        assert rule.summary and rule.name, code
        if rule.fixable:
            assert docs.fix_safety, f"{code} is fixable but does not explain its fix safety"


# Examples that are not code by nature: a file that does not parse, any file at all.
_NOT_CODE = {"FTL001", "FTL002"}


@pytest.mark.parametrize("code", sorted(all_rules()))
def test_the_docs_code_is_python_and_shown_as_written(code: str) -> None:
    """Readers copy these: each example and fixed example parses, and reaches `explain` and
    docs/rules.md whole, in a code block of its own (prose is never mistaken for code)."""
    rule = all_rules()[code]
    docs = rule.docs
    shown = rule_markdown(rule, heading="")
    for text in (docs.example, docs.use_instead):
        if not text or (text is docs.example and code in _NOT_CODE):
            continue
        ast.parse(text)
        assert f"```python\n{text.rstrip()}\n```" in shown
    if docs.remedy:
        assert f"\n{docs.remedy}\n" in shown and "```" not in docs.remedy


def test_explain_prints_the_rule_docs() -> None:
    result = CliRunner().invoke(main, ["explain", "ftl101"])
    assert result.exit_code == 0
    assert "FTL101 orm-object-to-task" in result.output
    assert "DetachedInstanceError" in result.output
    assert "Use instead" in result.output


def test_explain_unknown_code_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["explain", "FTL999"])
    assert result.exit_code == 2
    assert "unknown rule code" in result.output
