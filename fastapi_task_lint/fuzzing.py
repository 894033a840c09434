"""Fuzzing drivers shared by the CI-sized tests and the long run (`benchmarks/fuzz.py`).

Both feed the full engine with every rule enabled; the property is that no input makes a
rule crash (FTL002) or the engine raise. A crash found becomes a regression fixture in
`tests/fuzz/regressions/`.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

from fastapi_task_lint.config import Config
from fastapi_task_lint.diagnostics import RULE_ERROR, Diagnostic
from fastapi_task_lint.engine import Linter

ALL_RULES = Config(select=("FTL",))

# Appended to generated programs so the rules have something of their own to look at.
_SEEDS = (
    "from fastapi import BackgroundTasks, FastAPI\napp = FastAPI()\n",
    "def _h(background_tasks: BackgroundTasks):\n    background_tasks.add_task(print, 1)\n",
)


def check_text(linter: Linter, text: str, path: Path) -> list[Diagnostic]:
    return linter.check_source(text, path).diagnostics


def rule_crashes(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return [d for d in diagnostics if d.code == RULE_ERROR]


def with_seeds(program: str) -> str:
    """A generated program with FastAPI imports around it, so rules do real work on it."""
    return _SEEDS[0] + program + ("\n" if not program.endswith("\n") else "") + _SEEDS[1]


def mutations(data: bytes, rng: random.Random, count: int) -> Iterator[tuple[str, bytes]]:
    """Damaged variants of a real file: truncated, lines dropped or doubled, bytes inserted."""
    lines = data.splitlines(keepends=True)
    for _ in range(count):
        kind = rng.choice(("truncate", "delete", "duplicate", "insert", "swap"))
        if kind == "truncate":
            yield kind, data[: rng.randrange(len(data) + 1)]
        elif kind == "delete" and lines:
            index = rng.randrange(len(lines))
            yield kind, b"".join(lines[:index] + lines[index + 1 :])
        elif kind == "duplicate" and lines:
            index = rng.randrange(len(lines))
            yield kind, b"".join(lines[: index + 1] + lines[index:])
        elif kind == "swap" and len(lines) > 1:
            a, b = rng.randrange(len(lines)), rng.randrange(len(lines))
            swapped = list(lines)
            swapped[a], swapped[b] = swapped[b], swapped[a]
            yield kind, b"".join(swapped)
        else:
            at = rng.randrange(len(data) + 1)
            noise = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 8)))
            yield "insert", data[:at] + noise + data[at:]
