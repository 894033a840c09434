"""The rule registry: every `ftlNNN_*.py` module in this package defines one rule."""

from __future__ import annotations

import importlib
import pkgutil
import re
from functools import cache

from fastapi_task_lint.config import RuleOption
from fastapi_task_lint.rules.base import Rule

_RULE_MODULE = re.compile(r"^ftl\d{3}_\w+$")


@cache
def all_rules() -> dict[str, type[Rule]]:
    """Rules by code, in code order."""
    found: dict[str, type[Rule]] = {}
    for info in pkgutil.iter_modules(__path__):
        if not _RULE_MODULE.match(info.name):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Rule)
                and value.__module__ == module.__name__
            ):
                found[value.code] = value
    return dict(sorted(found.items()))


def all_options() -> dict[str, RuleOption]:
    options: dict[str, RuleOption] = {}
    for rule in all_rules().values():
        for option in rule.options:
            options[option.name] = option
    return options


def select_rules(
    select: tuple[str, ...] | None, extend_select: tuple[str, ...], ignore: tuple[str, ...]
) -> list[type[Rule]]:
    """Rules enabled by select/extend-select/ignore; codes or prefixes, longest match wins."""
    enabled: list[type[Rule]] = []
    for code, rule in all_rules().items():
        chosen = rule.default_enabled if select is None else any(code.startswith(s) for s in select)
        chosen = chosen or any(code.startswith(s) for s in extend_select)
        picked = max(
            (len(s) for s in (select or ()) + extend_select if code.startswith(s)), default=0
        )
        ignored = max((len(s) for s in ignore if code.startswith(s)), default=-1)
        if chosen and ignored < picked:
            enabled.append(rule)
    return enabled
