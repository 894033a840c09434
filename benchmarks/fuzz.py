"""Long fuzzing run of the whole engine with every rule enabled (issue 9).

    python benchmarks/fuzz.py --examples 20000 --mutations 200

Generated programs come from hypothesmith (valid Python from the grammar); mutations
damage the real fixture and example files. Any FTL002 (rule crash) or exception is
printed with the input saved under benchmarks/fuzz-crashes/ to become a regression
fixture in tests/fuzz/regressions/.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import hypothesmith
from hypothesis import HealthCheck, given, settings

from fastapi_task_lint.engine import Linter
from fastapi_task_lint.fuzzing import ALL_RULES, check_text, mutations, rule_crashes, with_seeds

ROOT = Path(__file__).resolve().parent.parent
CRASHES = ROOT / "benchmarks" / "fuzz-crashes"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=2000, help="generated programs")
    parser.add_argument("--mutations", type=int, default=50, help="mutations per real file")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    linter = Linter(ALL_RULES)
    crashes: list[str] = []
    started = time.perf_counter()

    @settings(
        max_examples=args.examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(program=hypothesmith.from_grammar())
    def generated(program: str) -> None:
        source = with_seeds(program)
        try:
            found = rule_crashes(check_text(linter, source, Path("generated.py")))
        except Exception as error:  # the engine itself must never raise
            found = [error]  # type: ignore[list-item]
        if found:
            crashes.append(_save(source.encode(), f"generated-{len(crashes)}"))

    generated()
    files = sorted([*ROOT.glob("tests/fixtures/FTL*/*.py"), *ROOT.glob("examples/shop/**/*.py")])
    rng = random.Random(args.seed)
    scratch = CRASHES / "scratch.py"
    CRASHES.mkdir(parents=True, exist_ok=True)
    mutated = 0
    for path in files:
        for kind, data in mutations(path.read_bytes(), rng, args.mutations):
            scratch.write_bytes(data)
            mutated += 1
            if rule_crashes(linter.check_paths([scratch]).diagnostics):
                crashes.append(_save(data, f"{path.stem}-{kind}-{mutated}"))
    scratch.unlink(missing_ok=True)
    elapsed = time.perf_counter() - started
    print(
        f"generated programs: {args.examples}, mutations: {mutated} of {len(files)} files, "
        f"crashes: {len(crashes)}, {elapsed:.0f} s"
    )
    for crash in crashes:
        print(f"  crash input saved: {crash}")
    return 1 if crashes else 0


def _save(data: bytes, name: str) -> str:
    CRASHES.mkdir(parents=True, exist_ok=True)
    path = CRASHES / f"{name}.py"
    path.write_bytes(data)
    return str(path)


if __name__ == "__main__":
    sys.exit(main())
