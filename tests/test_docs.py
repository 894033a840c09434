"""The rule docs users read are generated from the rules; the checked-in copy must be current."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from fastapi_task_lint.cli import main
from fastapi_task_lint.docs import rules_markdown
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
        for section in ("what", "why", "example", "use_instead"):
            assert getattr(docs, section).strip(), f"{code} has no '{section}' docs"
        assert rule.summary and rule.name, code
        if rule.fixable:
            assert docs.fix_safety, f"{code} is fixable but does not explain its fix safety"


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
