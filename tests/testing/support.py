"""Shared pieces of the pytester-based tests."""

from __future__ import annotations

import glob
import importlib

import pytest

# pytester's in-process runs forget the modules first imported inside them, and SQLAlchemy's
# compiled extensions break when imported a second time: load the frameworks once, up front.
for _framework in ("sqlalchemy", "sqlalchemy.orm", "celery", "dramatiq", "fastapi", "arq"):
    importlib.import_module(_framework)

# Plugins of other dev dependencies that slow every inner session and play no part here.
UNRELATED_PLUGINS = ("-p", "no:hypothesispytest", "-p", "no:asyncio", "-p", "no:pytest-lsp")


def runpytest(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """Run pytest in-process on the files the test made, with the plugin loaded as installed."""
    return pytester.runpytest(*UNRELATED_PLUGINS, *args)


def expect_lines(result: pytest.RunResult, *texts: str) -> None:
    """Each text appears in the output, within a line, in this order.

    Literal text, since failure messages are full of ``[`` and ``*``.
    """
    result.stdout.fnmatch_lines([f"*{glob.escape(text)}*" for text in texts])
