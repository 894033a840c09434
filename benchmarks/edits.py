"""Random code edits on the benchmark corpus: after each one, the cached run must equal an
uncached run (the quiet edits of `fastapi_task_lint.incremental`, checked at scale).

    .venv/bin/python -m benchmarks.edits --seed 7 --edits 8

Each edit appends code to one file picked at random (a statement, a helper, or an async
route that blocks), runs `check` with a cache primed before the first edit and `check
--no-cache`, compares the two JSON reports, restores the file and runs the cached check
again, which must give the primed report. Prints one line per edit with the cached run's
time; exits 1 if any pair differs.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.corpus import CORPUS_DIR, files, manifest

_EDITS = (
    "\n_EDITED = 1\n",
    "\n\ndef _edited_helper(x: int) -> int:\n    return x + 1\n",
    "\n\nimport time\nfrom fastapi import APIRouter\n\n_edited_router = APIRouter()\n\n\n"
    "@_edited_router.post('/edited')\nasync def _edited_route() -> None:\n    time.sleep(1)\n",
)


def _check(cache: Path | None, report: Path) -> tuple[list[Any], float]:
    where = ["--cache-dir", str(cache)] if cache else ["--no-cache"]
    command = [sys.executable, "-m", "fastapi_task_lint", "check", *where, "--format", "json"]
    start = time.perf_counter()
    subprocess.run(
        [*command, "--output-file", str(report), "."], cwd=CORPUS_DIR, capture_output=True
    )
    return json.loads(report.read_text()), time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--edits", type=int, default=8)
    parser.add_argument("--work", type=Path, default=Path("benchmarks/.peers/edits"))
    args = parser.parse_args()
    work: Path = args.work.absolute()
    work.mkdir(parents=True, exist_ok=True)
    cache, report = work / "cache", work / "report.json"
    corpus = files(manifest())
    rng = random.Random(args.seed)
    primed, _ = _check(cache, report)
    differing = 0
    for number in range(args.edits):
        path = CORPUS_DIR / rng.choice(corpus).path
        edit = rng.randrange(len(_EDITS))
        original = path.read_bytes()
        path.write_bytes(original + _EDITS[edit].encode())
        try:
            cached, seconds = _check(cache, report)
            fresh, _ = _check(None, report)
        finally:
            path.write_bytes(original)
        restored, _ = _check(cache, report)
        same = cached == fresh and restored == primed
        differing += not same
        verdict = "equal" if same else "DIFFERENT"
        print(
            f"{number} {path.relative_to(CORPUS_DIR)} edit {edit}: cached {seconds:.2f} s, "
            f"{verdict} ({len(cached)} findings, uncached {len(fresh)}; restored {len(restored)})",
            flush=True,
        )
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
