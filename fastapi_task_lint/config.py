"""Find, load and validate configuration: `[tool.fastapi-task-lint]` or `[fastapi-task-lint]`.

Every key is checked against the core keys and the options rules declare, so a typo
is an error that names the key and the file, not a silently ignored setting.
"""

from __future__ import annotations

import configparser
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

TOML_SECTION = "fastapi-task-lint"
DEFAULT_EXCLUDE = (
    ".git",
    ".hg",
    ".venv",
    "venv",
    "node_modules",
    "build",
    "dist",
    "__pycache__",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".ruff_cache",
    ".fastapi_task_lint_cache",
)
_CODE_PATTERN = re.compile(r"^FTL\d{0,3}$")


class ConfigError(Exception):
    """A configuration problem, worded for the user: file, key and what is wrong."""


@dataclass(frozen=True)
class RuleOption:
    """A setting a rule reads; declared by the rule, validated here."""

    name: str
    kind: type[list[str]] | type[str] | type[int] | type[bool]
    default: Any
    description: str


@dataclass(frozen=True)
class Config:
    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    orm_base_classes: tuple[str, ...] = ()
    session_factories: tuple[str, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)
    source: Path | None = None
    root: Path = field(default_factory=Path.cwd)

    def option(self, option: RuleOption) -> Any:
        return self.options.get(option.name, option.default)

    def with_overrides(self, **changes: Any) -> Config:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


_CORE_KEYS: dict[str, type] = {
    "select": list,
    "extend-select": list,
    "ignore": list,
    "exclude": list,
    "extend-exclude": list,
    "per-file-ignores": dict,
    "orm-base-classes": list,
    "session-factories": list,
}


def find_config_file(start: Path) -> Path | None:
    """The nearest pyproject.toml or setup.cfg, walking up, that has our section."""
    for directory in (start.absolute(), *start.absolute().parents):
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file() and _pyproject_section(pyproject) is not None:
            return pyproject
        setup_cfg = directory / "setup.cfg"
        if setup_cfg.is_file() and _setup_cfg_section(setup_cfg) is not None:
            return setup_cfg
    return None


def _pyproject_section(path: Path) -> dict[str, Any] | None:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}") from None
    section = data.get("tool", {}).get(TOML_SECTION)
    if section is not None and not isinstance(section, dict):
        raise ConfigError(f"{path}: [tool.{TOML_SECTION}] must be a table")
    return section


def _setup_cfg_section(path: Path) -> dict[str, Any] | None:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(path.read_text(encoding="utf-8"), source=str(path))
    except (configparser.Error, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: invalid setup.cfg: {error}".splitlines()[0]) from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}") from None
    if not parser.has_section(TOML_SECTION):
        return None
    return dict(parser.items(TOML_SECTION))


def _cfg_value(raw: str, kind: type) -> Any:
    """setup.cfg values are strings: lists split on commas/newlines, mappings per line."""
    if kind is list:
        return [item.strip() for item in re.split(r"[,\n]", raw) if item.strip()]
    if kind is dict:
        result: dict[str, list[str]] = {}
        for line in raw.splitlines():
            if ":" in line:
                pattern, codes = line.rsplit(":", 1)
                result[pattern.strip()] = _cfg_value(codes, list)
        return result
    if kind is bool:
        if raw.strip().lower() in ("true", "yes", "1", "on"):
            return True
        if raw.strip().lower() in ("false", "no", "0", "off"):
            return False
        return raw
    if kind is int:
        try:
            return int(raw.strip())
        except ValueError:
            return raw
    return raw.strip()


def cfg_values(raw: Mapping[str, str], options: Mapping[str, RuleOption]) -> dict[str, Any]:
    """Typed values from INI-style strings (setup.cfg, flake8 options), before validation."""
    kinds = {**_CORE_KEYS, **{name: o.kind for name, o in options.items()}}
    return {key: _cfg_value(value, kinds.get(key, str)) for key, value in raw.items()}


def load_config(
    explicit: Path | None,
    cwd: Path,
    options: Mapping[str, RuleOption],
    known_codes: Iterable[str],
) -> Config:
    """Load the config that applies to a run from `cwd` (or the file given with --config)."""
    path = explicit if explicit is not None else find_config_file(cwd)
    if path is None:
        return Config(root=cwd.absolute())
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found")
    if path.name == "setup.cfg" or path.suffix == ".cfg":
        raw = cfg_values(_setup_cfg_section(path) or {}, options)
    else:
        raw = _pyproject_section(path) or {}
    return parse_config(raw, path, options, known_codes)


def parse_config(
    raw: Mapping[str, Any],
    path: Path,
    options: Mapping[str, RuleOption],
    known_codes: Iterable[str],
) -> Config:
    codes = set(known_codes)
    values: dict[str, Any] = {}
    rule_options: dict[str, Any] = {}
    for key, value in raw.items():
        where = f"{path}: key '{key}'"
        if key in _CORE_KEYS:
            values[key] = _check_type(value, _CORE_KEYS[key], where)
        elif key in options:
            rule_options[key] = _check_type(value, options[key].kind, where)
        else:
            known = sorted([*_CORE_KEYS, *options])
            raise ConfigError(f"{where}: unknown key (known keys: {', '.join(known)})")
    for key in ("select", "extend-select", "ignore"):
        for code in values.get(key, []):
            check_code(code, codes, f"{path}: key '{key}'")
    per_file: list[tuple[str, tuple[str, ...]]] = []
    for pattern, pattern_codes in values.get("per-file-ignores", {}).items():
        where = f"{path}: key 'per-file-ignores' ({pattern!r})"
        listed = _check_type(pattern_codes, list, where)
        for code in listed:
            check_code(code, codes, where)
        per_file.append((pattern, tuple(c.upper() for c in listed)))
    select = values.get("select")
    return Config(
        select=tuple(c.upper() for c in select) if select is not None else None,
        extend_select=tuple(c.upper() for c in values.get("extend-select", ())),
        ignore=tuple(c.upper() for c in values.get("ignore", ())),
        exclude=tuple(values.get("exclude", DEFAULT_EXCLUDE)),
        extend_exclude=tuple(values.get("extend-exclude", ())),
        per_file_ignores=tuple(per_file),
        orm_base_classes=tuple(values.get("orm-base-classes", ())),
        session_factories=tuple(values.get("session-factories", ())),
        options=rule_options,
        source=path,
        root=path.parent.absolute(),
    )


def check_code(code: Any, known: set[str], where: str) -> None:
    """A code or prefix (`FTL1`, `FTL101`) must match at least one known rule."""
    if not isinstance(code, str) or not _CODE_PATTERN.match(code.upper()):
        raise ConfigError(f"{where}: {code!r} is not a rule code or prefix like FTL101 or FTL1")
    if not any(k.startswith(code.upper()) for k in known):
        raise ConfigError(f"{where}: unknown rule code {code!r}")


def _check_type(value: Any, kind: type, where: str) -> Any:
    if kind is list:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: expected a list of strings, got {value!r}")
    elif kind is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a table of glob = [codes], got {value!r}")
    elif kind is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
    elif kind is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
    elif not isinstance(value, kind):
        raise ConfigError(f"{where}: expected {kind.__name__}, got {value!r}")
    return value
