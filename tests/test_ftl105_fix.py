"""FTL105's unsafe fix sends the task to its queue: `.delay`, `.send`, `await .kiq`."""

from __future__ import annotations

from pathlib import Path

from fastapi_task_lint.config import Config
from fastapi_task_lint.engine import Linter
from tests.test_ftl402_fix import _apply

SOURCE = """\
from functools import partial

import dramatiq
from celery import shared_task
from fastapi import BackgroundTasks
from taskiq import InMemoryBroker

broker = InMemoryBroker()


@shared_task
def render(order_id, fmt="pdf"): ...


@dramatiq.actor
def sms(phone): ...


@broker.task
async def index(product_id): ...


def handler(bg: BackgroundTasks, order_id, phone):
    bg.add_task(render, order_id, fmt="html",)
    bg.add_task(sms, phone)
    bg.add_task(index, order_id)
    bg.add_task(partial(render, order_id))


async def async_handler(bg: BackgroundTasks, product_id):
    bg.add_task(index, product_id)
"""

EXPECTED = (
    SOURCE.replace(
        'bg.add_task(render, order_id, fmt="html",)', 'render.delay(order_id, fmt="html")'
    )
    .replace("bg.add_task(sms, phone)", "sms.send(phone)")
    .replace("bg.add_task(index, product_id)", "await index.kiq(product_id)")
)


def test_fix_rewrites_plain_calls_only() -> None:
    result = Linter(Config(select=("FTL105",))).check_source(SOURCE, Path("routes.py"))
    assert [d.line for d in result.diagnostics] == [24, 25, 26, 27, 31]
    fixes = {d.line: d.fix for d in result.diagnostics}
    # Taskiq in a sync def would need `await`; a partial is not a plain rewrite.
    assert fixes[26] is None and fixes[27] is None
    edits = [edit for fix in fixes.values() if fix is not None for edit in fix.edits]
    assert all(fix.applicability == "unsafe" for fix in fixes.values() if fix is not None)
    assert _apply(SOURCE, edits) == EXPECTED


def test_the_edit_of_a_fix_over_several_lines_keeps_the_block_indentation() -> None:
    """The fix's text edit (JSON, SARIF, editors) reads as the CLI's `--fix` writes it: the
    continuation lines keep the indentation of the block they are in."""
    source = SOURCE.replace(
        "bg.add_task(sms, phone)",
        "bg.add_task(\n        sms,\n        phone,  # the number on file\n    )",
    )
    result = Linter(Config(select=("FTL105",))).check_source(source, Path("routes.py"))
    edits = [edit for d in result.diagnostics if d.fix is not None for edit in d.fix.edits]
    fixed = _apply(source, edits)
    assert "    sms.send(\n        phone,  # the number on file\n    )\n" in fixed
    assert fixed == EXPECTED.replace(
        "sms.send(phone)", "sms.send(\n        phone,  # the number on file\n    )"
    )


def test_the_edit_counts_lines_as_python_does() -> None:
    """A form feed or a vertical tab is not a line break for Python (nor for the positions),
    though `str.splitlines` breaks on it."""
    source = SOURCE.replace(
        "bg.add_task(sms, phone)",
        "x = 1  # a\x0cform feed\n    bg.add_task(\n        sms,\n        phone,\n    )",
    )
    result = Linter(Config(select=("FTL105",))).check_source(source, Path("routes.py"))
    edits = [edit for d in result.diagnostics if d.fix is not None for edit in d.fix.edits]
    assert "    sms.send(\n        phone,\n    )\n" in _apply(source, edits)
