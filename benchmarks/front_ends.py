"""The checker's two front-ends side by side: trees built from CPython's `ast` against libcst.

`check` builds its trees from `ast` (`fastapi_task_lint.built_tree`) and parses a file with
libcst only when it needs comments, parentheses or a fix there. This script measures what
that saves and shows that nothing else changes:

    .venv/bin/python benchmarks/front_ends.py                       # every 7th corpus file
    .venv/bin/python benchmarks/front_ends.py --every 1 PATH...     # other files or folders
    .venv/bin/python benchmarks/front_ends.py --checker 3           # and the whole checker
    .venv/bin/python benchmarks/front_ends.py --checker 3 --jobs 2  # pooled

It times, per line, `ast.parse` alone, building (`built_tree.build`, `ast.parse` included)
and libcst's parse as the checker calls it (`source.parse_with_lines`), and the bytes the
trees hold. `--checker N` runs the whole checker (cold, `--jobs J`) N times with each
front-end, interleaved in fresh processes, and compares every finding: position, message
and fix included.
"""

from __future__ import annotations

import argparse
import ast
import gc
import json
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.corpus import CORPUS_DIR  # noqa: E402
from fastapi_task_lint import built_tree, source  # noqa: E402


def convertible(paths: Sequence[Path]) -> tuple[list[str], int]:
    """The texts of `paths` both front-ends take, and how many others were left out."""
    texts, left = [], 0
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
            built_tree.build(text)
            source.parse_with_lines(text)
        except (built_tree.Unsupported, source.SourceError, UnicodeDecodeError):
            left += 1
            continue
        texts.append(text)
    return texts, left


def _best(work: Callable[[], object], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def _bytes_held(build: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        held = build()
        size = tracemalloc.get_traced_memory()[0]
        del held
        return size
    finally:
        tracemalloc.stop()


def _parse_only(text: str) -> ast.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(text)


def checker_run(front_end: str, roots: Sequence[Path], jobs: int) -> dict[str, Any]:
    """One cold run of the whole checker over `roots` with `front_end`: its time, the
    largest process's peak, and every finding (position, message and fix included)."""
    from fastapi_task_lint import api

    source.BUILD_FROM_AST = front_end == "built"
    start = time.perf_counter()
    result = api.check_paths(roots, jobs=jobs)
    seconds = time.perf_counter() - start
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak = max(own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    findings = sorted(
        [d.path, d.code, d.line, d.column, d.end_line, d.end_column, d.message, repr(d.fix)]
        for d in result.diagnostics
    )
    return {"seconds": seconds, "peak_mb": peak, "findings": findings}


def compare_checkers(roots: Sequence[Path], repeat: int, jobs: int = 1) -> int:
    """Interleaved runs of the whole checker with each front-end, in fresh processes."""
    runs: dict[str, list[dict[str, Any]]] = {"libcst": [], "built": []}
    for _ in range(repeat):
        for front_end, found in runs.items():
            command = [sys.executable, __file__, "--checker-run", front_end, "--jobs", str(jobs)]
            command += map(str, roots)
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            found.append(json.loads(done.stdout))
    for front_end, found in runs.items():
        seconds = statistics.median(run["seconds"] for run in found)
        peak = statistics.median(run["peak_mb"] for run in found)
        label = f"whole checker, --jobs {jobs}, {front_end} trees"
        print(f"{label}: median {seconds:.1f} s, largest process RSS {peak:.0f} MB")
    same = all(
        run["findings"] == runs["libcst"][0]["findings"] for found in runs.values() for run in found
    )
    count = len(runs["libcst"][0]["findings"])
    print(f"same findings (position, message and fix too) both ways: {'yes' if same else 'NO'}")
    print(f"findings: {count}")
    return 0 if same else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "paths", nargs="*", type=Path, help="files or folders (default: the corpus)"
    )
    parser.add_argument("--every", type=int, default=7, help="take every Nth file (default 7)")
    parser.add_argument(
        "--checker",
        type=int,
        metavar="N",
        default=0,
        help="also run the whole checker N times with each front-end and compare",
    )
    parser.add_argument("--jobs", type=int, default=1, help="--jobs of those runs (default 1)")
    parser.add_argument("--checker-run", choices=("libcst", "built"), help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    roots = options.paths or [CORPUS_DIR]
    gc.disable()  # as a run does (engine.cyclic_gc_paused)
    if options.checker_run:
        print(json.dumps(checker_run(options.checker_run, roots, options.jobs)))
        return 0
    files = sorted(p for root in roots for p in ([root] if root.is_file() else root.rglob("*.py")))
    texts, left = convertible(files[:: options.every])
    lines = sum(text.count("\n") for text in texts)
    if not lines:
        print("no file to compare")
        return 2
    parse = _best(lambda: [_parse_only(text) for text in texts])
    build = _best(lambda: [built_tree.build(text) for text in texts])
    libcst = _best(lambda: [source.parse_with_lines(text) for text in texts])
    held_built = _bytes_held(lambda: [built_tree.build(text)[0] for text in texts])
    held_libcst = _bytes_held(lambda: [source.parse_with_lines(text)[0] for text in texts])
    print(f"files: {len(texts)} ({lines:,} lines); left out (either refuses): {left}")
    print(f"us per line: ast.parse {1e6 * parse / lines:.1f}, built {1e6 * build / lines:.1f}")
    print(f"  against libcst's parse as the checker calls it: {1e6 * libcst / lines:.1f}")
    print(f"tree bytes per line: built {held_built / lines:.0f}, libcst {held_libcst / lines:.0f}")
    return compare_checkers(roots, options.checker, options.jobs) if options.checker else 0


if __name__ == "__main__":
    raise SystemExit(main())
