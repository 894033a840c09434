"""Read expectations written inline in fixture files: `code()  # error: FTL101`."""

from __future__ import annotations

import contextlib
import gc
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fastapi_task_lint.config import Config
from fastapi_task_lint.diagnostics import Diagnostic
from fastapi_task_lint.engine import Linter

FIXTURES = Path(__file__).parent / "fixtures"
_EXPECT = re.compile(r"#\s*error:\s*(?P<codes>FTL\d{3}(?:\s*,\s*FTL\d{3})*)")


def expected_findings(path: Path) -> list[tuple[int, str]]:
    """(line, code) pairs from `# error: FTL101[, FTL102]` comments."""
    found: list[tuple[int, str]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = _EXPECT.search(line)
        if match:
            found.extend((number, code.strip()) for code in match.group("codes").split(","))
    return sorted(found)


def actual_findings(diagnostics: list[Diagnostic], codes: set[str]) -> list[tuple[int, str]]:
    return sorted((d.line, d.code) for d in diagnostics if d.code in codes)


def lint(paths: list[Path], config: Config | None = None) -> list[Diagnostic]:
    config = config or Config(select=("FTL",), root=FIXTURES)
    return Linter(config).check_paths(paths).diagnostics


def project_expected(root: Path, codes: tuple[str, ...]) -> list[tuple[str, int, str]]:
    """(file relative to `root`, line, code) from the `# error:` comments of every file."""
    return sorted(
        (path.relative_to(root).as_posix(), line, code)
        for path in root.rglob("*.py")
        for line, code in expected_findings(path)
        if code in codes
    )


def project_findings(
    root: Path, codes: tuple[str, ...], config: Config | None = None
) -> list[tuple[str, int, str]]:
    """Lint the whole project directory; (file relative to `root`, line, code) of each finding."""
    config = config or Config(select=codes, root=root)
    diagnostics = lint([root], config)
    crashes = [d for d in diagnostics if d.code in ("FTL001", "FTL002")]
    assert not crashes, crashes
    return sorted(
        (Path(d.path).resolve().relative_to(root.resolve()).as_posix(), d.line, d.code)
        for d in diagnostics
        if d.code in codes
    )


def diff_report(
    path: Path,
    expected: list[tuple[int, str]],
    actual: list[tuple[int, str]],
    diagnostics: list[Diagnostic],
) -> str:
    lines = path.read_text(encoding="utf-8").splitlines()
    missing = [e for e in expected if e not in actual]
    extra = [a for a in actual if a not in expected]
    out = [f"{path.relative_to(FIXTURES)}: expected vs actual differ"]
    for line, code in missing:
        out.append(f"  missing {code} at line {line}: {lines[line - 1].strip()}")
    for line, code in extra:
        message = next((d.message for d in diagnostics if d.line == line and d.code == code), "")
        out.append(
            f"  unexpected {code} at line {line}: {lines[line - 1].strip()}\n      {message}"
        )
    return "\n".join(out)


@contextlib.contextmanager
def collector_watched(monkeypatch: pytest.MonkeyPatch, method: str) -> Iterator[list[bool]]:
    """Whether Python's cycle collector was on each time `Linter.<method>` ran, and that
    `kept_from_the_collector` froze what was built (unfrozen again afterwards)."""
    seen: list[bool] = []
    original = getattr(Linter, method)

    def watched(self: Linter, *args: Any, **kwargs: Any) -> Any:
        seen.append(gc.isenabled())
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Linter, method, watched)
    gc.unfreeze()
    try:
        yield seen
        assert (seen, gc.isenabled()) == ([False], True)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
