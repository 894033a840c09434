"""Every fixture file under tests/fixtures/FTLnnn/ is checked against its inline expectations.

A file is linted with the rules of its folder's code selected, so look-alike files
(no `# error:` comments) must produce nothing from that rule. A first line
`# select: FTL003,FTL104` selects more rules (findings are still compared for the folder's
code only): FTL003 needs the rules whose `# noqa` it judges to run.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fastapi_task_lint.config import Config
from tests.fixture_harness import FIXTURES, actual_findings, diff_report, expected_findings, lint

_SELECT = re.compile(r"#\s*select:\s*(?P<codes>.+)")
FIXTURE_FILES = sorted(p for p in FIXTURES.glob("FTL*/**/*.py") if p.is_file())


@pytest.mark.parametrize(
    "path", FIXTURE_FILES, ids=[str(p.relative_to(FIXTURES)) for p in FIXTURE_FILES]
)
def test_fixture(path: Path) -> None:
    code = path.relative_to(FIXTURES).parts[0]
    first = path.read_text(encoding="utf-8").partition("\n")[0]
    select = _SELECT.match(first)
    codes = tuple(c.strip() for c in select.group("codes").split(",")) if select else (code,)
    config = Config(select=codes, root=FIXTURES)
    diagnostics = lint([path], config)
    crashes = [d for d in diagnostics if d.code in ("FTL001", "FTL002")]
    assert not crashes, crashes
    expected = expected_findings(path)
    actual = actual_findings(diagnostics, {code})
    assert actual == expected, diff_report(path, expected, actual, diagnostics)


def test_every_rule_has_flagged_and_clean_fixtures() -> None:
    from fastapi_task_lint.rules import all_rules

    for code in all_rules():
        if code in ("FTL001", "FTL002"):
            continue
        files = [p for p in FIXTURE_FILES if p.relative_to(FIXTURES).parts[0] == code]
        flagged = sum(len(expected_findings(p)) for p in files)
        assert flagged, f"{code} has no flagged fixture"
        assert any("# ok" in p.read_text() for p in files), (
            f"{code} has no look-alike (`# ok`) fixture lines"
        )
