"""The flake8 plugin: an adapter from flake8's plugin API to the engine.

Configuration: `[tool.fastapi-task-lint]` (or `[fastapi-task-lint]` in setup.cfg) is read as
the CLI reads it; a `--ftl-<key>` flake8 option (command line, or `ftl-<key> =` in flake8's
config) overrides that one key. flake8's own select/ignore/per-file-ignores and `# noqa` then
filter what the plugin reports; FTL codes named in `--select`/`--extend-select` also turn on
rules that are off by default.
"""

from __future__ import annotations

import ast
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from fastapi_task_lint import __version__
from fastapi_task_lint.config import Config, ConfigError, cfg_values, parse_config
from fastapi_task_lint.diagnostics import PARSE_ERROR, RULE_ERROR, Diagnostic
from fastapi_task_lint.engine import Linter, kept_from_the_collector
from fastapi_task_lint.semantics.project import ProjectIndex
from fastapi_task_lint.source import SourceError, decode, read_bytes

# Settings that are ours alone; select, ignore, exclude and per-file-ignores are flake8's.
_SETTINGS = ("orm-base-classes", "session-factories")
_FLAKE8_SOURCE = Path("flake8 options (--ftl-*)")


@dataclass
class _Engine:
    """One linter and one lazily built project index per process (flake8 -j forks workers)."""

    linter: Linter
    project: ProjectIndex | None = None

    def index(self) -> ProjectIndex:
        if self.project is None:
            self.project = self.linter.index([self.linter.config.root])[1]
        return self.project


class Flake8Plugin:
    name = "fastapi-task-lint"
    version = __version__

    config: ClassVar[Config | None] = None
    _engines: ClassVar[dict[int, _Engine]] = {}

    def __init__(self, tree: ast.AST, filename: str, lines: list[str]) -> None:
        # `tree` is only asked for so that flake8 runs the plugin once per parsed file.
        self.filename = filename
        self.lines = lines

    @staticmethod
    def add_options(option_manager: Any) -> None:
        try:
            from fastapi_task_lint.rules import all_options

            helps = {
                "orm-base-classes": "Extra ORM base classes (dotted names), comma-separated.",
                "session-factories": "Extra DB session factories (dotted names), comma-separated.",
                **{name: option.description for name, option in all_options().items()},
            }
        except Exception as error:  # a broken install must not take flake8 down with it
            _warn(f"cannot load the rules: {type(error).__name__}: {error}")
            return
        for key, text in helps.items():
            option_manager.add_option(
                f"--ftl-{key}",
                default=None,
                parse_from_config=True,
                help=f"fastapi-task-lint: {text} Overrides [tool.fastapi-task-lint] {key}.",
            )

    @classmethod
    def parse_options(cls, options: Any) -> None:
        cls._engines.clear()
        cls.config = None
        try:
            cls.config = flake8_config(options)
        except ConfigError as error:
            _warn(f"config error: {error}")
        except Exception as error:
            _warn(f"cannot load the config: {type(error).__name__}: {error}")

    def run(self) -> Iterator[tuple[int, int, str, type[Flake8Plugin]]]:
        try:
            findings = self._findings()
        except Exception as error:  # never crash flake8: say so on the file instead
            detail = f"{type(error).__name__}: {error}".splitlines()[0][:200]
            message = f"{RULE_ERROR} fastapi-task-lint failed on this file: {detail}"
            yield 1, 0, message, type(self)
            return
        for d in findings:
            yield d.line, d.column - 1, f"{d.code} {d.message}", type(self)

    def _findings(self) -> list[Diagnostic]:
        engine = self._engine()
        if engine is None:
            return []
        path, text = Path(self.filename), "".join(self.lines)
        try:
            on_disk = decode(read_bytes(path)) == text
        except SourceError:  # stdin, or a file flake8 read differently
            on_disk = False
        # The file as saved is checked exactly as `check` checks it, with the index's model
        # of it; other text (stdin) stands in for the file, which re-derives project facts.
        with kept_from_the_collector():
            if on_disk:
                result = engine.linter.check_file(path, engine.index())
            else:
                result = engine.linter.check_source(text, path, engine.index())
        # flake8 applies noqa comments itself (and honours --disable-noqa), so hand it what
        # ours suppressed too; parse failures are flake8's E999.
        found = [*result.diagnostics, *result.suppressed]
        return sorted((d for d in found if d.code != PARSE_ERROR), key=lambda d: d.sort_key)

    @classmethod
    def _engine(cls) -> _Engine | None:
        if cls.config is None:
            return None
        engine = cls._engines.get(os.getpid())
        if engine is None:
            engine = cls._engines[os.getpid()] = _Engine(Linter(cls.config))
        return engine


def flake8_config(options: Any) -> Config:
    """The project config, with the `--ftl-*` keys flake8 was given laid over it."""
    from fastapi_task_lint.api import load_project_config
    from fastapi_task_lint.rules import all_options, all_rules

    base = load_project_config()
    given: dict[str, str] = {}
    for key in (*_SETTINGS, *all_options()):
        value = getattr(options, f"ftl_{key.replace('-', '_')}", None)
        if value is not None:
            given[key] = value
    laid = parse_config(
        cfg_values(given, all_options()), _FLAKE8_SOURCE, all_options(), all_rules()
    )
    known = set(all_rules())
    named = [
        code
        for code in (
            str(value).strip().upper()
            for value in (*(options.select or ()), *(getattr(options, "extend_select", ()) or ()))
        )
        if code.startswith("FTL") and any(k.startswith(code) for k in known)
    ]
    return base.with_overrides(
        orm_base_classes=laid.orm_base_classes if "orm-base-classes" in given else None,
        session_factories=laid.session_factories if "session-factories" in given else None,
        options={**base.options, **laid.options},
        extend_select=(*base.extend_select, *named) if named else None,
    )


def _warn(message: str) -> None:
    """flake8 still runs; our findings are missing, and this says why (once per process)."""
    print(f"fastapi-task-lint: {message}; FTL checks are off", file=sys.stderr)
