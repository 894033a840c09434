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


_SUFFIXES = ("", "s", "es", "d", "ed", "ing", "ment", "ments", "al", "als")


def inflections(keyword: str) -> set[str]:
    """`charge` -> charges, charged, charging; `transfer` -> transferred; `settle` -> settlement."""
    forms = {keyword + suffix for suffix in _SUFFIXES}
    if keyword.endswith("e"):
        forms |= {keyword[:-1] + "ing", keyword[:-1] + "ed"}
    forms |= {keyword + keyword[-1] + "ed", keyword + keyword[-1] + "ing"}
    return forms


def matched_keywords(
    identifier: str, keywords: list[str], ignore_after: frozenset[str] = frozenset()
) -> list[str]:
    """The keywords (single words or `snake_case` phrases) found as whole words of `identifier`.

    A keyword right after a word of `ignore_after` does not count (`newsletter_subscription`).
    """
    parts = word_parts(identifier)
    found: list[str] = []
    for keyword in keywords:
        words = word_parts(keyword)
        if not words:
            continue
        *head, last = words
        forms = inflections(last)
        for end, part in enumerate(parts):
            start = end - len(head)
            if part not in forms or start < 0 or parts[start:end] != head:
                continue
            if start > 0 and parts[start - 1] in ignore_after:
                continue
            found.append(keyword)
            break
    return found
