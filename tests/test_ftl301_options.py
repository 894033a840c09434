"""FTL301's keyword options: `critical-keywords` replaces the list, the `extend-` form adds."""

from __future__ import annotations

from pathlib import Path

from fastapi_task_lint.config import Config
from fastapi_task_lint.engine import Linter
from fastapi_task_lint.semantics.words import matched_keywords, word_parts

SOURCE = """\
from fastapi import BackgroundTasks


def charge_card(order_id: int) -> None: ...
def mint_tokens(order_id: int) -> None: ...


def pay(order_id: int, background_tasks: BackgroundTasks) -> None:
    background_tasks.add_task(charge_card, order_id)
    background_tasks.add_task(mint_tokens, order_id)
"""


def _lines(options: dict[str, list[str]]) -> list[int]:
    config = Config(select=("FTL301",), options=options)
    result = Linter(config).check_source(SOURCE, Path("app.py"))
    return [d.line for d in result.diagnostics if d.code == "FTL301"]


def test_default_keywords() -> None:
    assert _lines({}) == [9]


def test_extend_adds_to_the_defaults() -> None:
    assert _lines({"extend-critical-keywords": ["mint_tokens"]}) == [9, 10]


def test_replace_drops_the_defaults() -> None:
    assert _lines({"critical-keywords": ["token"]}) == [10]


def test_words_split_snake_and_camel_case() -> None:
    assert word_parts("chargeCard_now") == ["charge", "card", "now"]
    assert word_parts("HTTPRefundClient") == ["http", "refund", "client"]
    assert matched_keywords("reorder_columns", ["order"]) == []
    assert matched_keywords("border", ["order"]) == []
    assert matched_keywords("settlement_run", ["settle"]) == ["settle"]
    assert matched_keywords("order_fulfillment", ["order_fulfillment"]) == ["order_fulfillment"]
    assert (
        matched_keywords("newsletter_subscription", ["subscription"], frozenset({"newsletter"}))
        == []
    )
