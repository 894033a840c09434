"""Identifiers as words: `charge_card`, `chargeCard`, `ChargeCard` -> charge, card.

Rules that match names against keywords compare whole words, so `reorder_columns` and
`border` do not contain `order`.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def word_parts(identifier: str) -> list[str]:
    """The lower-case words of a snake_case, camelCase or PascalCase identifier."""
    return [w.lower() for part in identifier.split("_") for w in _WORD.findall(part)]
