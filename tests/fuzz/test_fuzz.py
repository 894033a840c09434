"""CI-sized fuzzing of the whole engine with every rule enabled: no input crashes a rule.

The long run is `python benchmarks/fuzz.py --examples 20000` (see benchmarks/README.md).
"""

from __future__ import annotations

import random
from pathlib import Path

import hypothesmith
import pytest
from hypothesis import HealthCheck, given, settings

from fastapi_task_lint.engine import Linter
from fastapi_task_lint.fuzzing import ALL_RULES, check_text, mutations, rule_crashes, with_seeds

ROOT = Path(__file__).parent.parent.parent
REAL_FILES = sorted([*ROOT.glob("tests/fixtures/FTL*/*.py"), *ROOT.glob("examples/shop/**/*.py")])
REGRESSIONS = sorted((Path(__file__).parent / "regressions").glob("*.py"))

LINTER = Linter(ALL_RULES)
# hypothesmith compiles what it generates; CPython's warnings about that code are its own.
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    database=None,
)
@given(program=hypothesmith.from_grammar())
def test_generated_programs_never_crash_a_rule(program: str) -> None:
    diagnostics = check_text(LINTER, with_seeds(program), Path("generated.py"))
    assert rule_crashes(diagnostics) == []


@settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(program=hypothesmith.from_node())
def test_generated_statements_never_crash_a_rule(program: str) -> None:
    diagnostics = check_text(LINTER, with_seeds(program), Path("generated.py"))
    assert rule_crashes(diagnostics) == []


@pytest.mark.parametrize("path", REAL_FILES, ids=[p.name for p in REAL_FILES])
def test_mutated_real_files_give_ftl001_or_findings(path: Path, tmp_path: Path) -> None:
    rng = random.Random(path.name)
    target = tmp_path / path.name
    for kind, data in mutations(path.read_bytes(), rng, 4):
        target.write_bytes(data)
        result = LINTER.check_paths([target])
        assert rule_crashes(result.diagnostics) == [], (kind, data[:200])


def test_regressions_are_reported_as_ftl001() -> None:
    for path in REGRESSIONS:
        codes = [d.code for d in LINTER.check_paths([path]).diagnostics]
        assert codes == ["FTL001"], path.name
