"""The benchmark harness's pure parts: statistics, targets, rendering, manifest, subsets.

No network and no peers: nothing here downloads, installs or runs a linter.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load(name: str) -> ModuleType:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return importlib.import_module(name)


run = _load("benchmarks.run")
corpus = _load("benchmarks.corpus")
measure = _load("benchmarks.measure")
front_ends = _load("benchmarks.front_ends")


def test_median_odd_even_and_empty() -> None:
    assert run.median([3.0, 1.0, 2.0]) == 2.0
    assert run.median([4.0, 1.0, 3.0, 2.0]) == 2.5
    with pytest.raises(ValueError):
        run.median([])


def test_ratio_and_fmt() -> None:
    assert run.ratio(10.0, 2.0) == 5.0
    assert run.ratio(None, 2.0) is None
    assert run.ratio(1.0, 0.0) is None
    assert run.fmt(None) == "n/a"
    assert run.fmt(1.234) == "1.23"
    assert run.fmt(12345.6, 0) == "12,346"
    assert run.fmt(2.5, 1, "x") == "2.5x"


def test_growth_exponent() -> None:
    assert run.growth_exponent([(100, 1.0), (400, 4.0)]) == pytest.approx(1.0)
    assert run.growth_exponent([(100, 1.0), (400, 16.0), (200, 4.0)]) == pytest.approx(2.0)
    assert run.growth_exponent([(100, 1.0)]) is None
    steps = run.step_exponents([(400, 8.0), (100, 1.0), (200, 2.0)])
    assert steps == [pytest.approx(1.0), pytest.approx(2.0)]


def _runs(*walls: float, rc: int = 0) -> list[object]:
    return [run.Run(rc, w, w * 1.5, 100.0, 120.0) for w in walls]


def test_summarize_takes_medians_of_successful_runs_only() -> None:
    files = [corpus.SourceFile("a/x.py", 10), corpus.SourceFile("a/y.py", 30)]
    runs = [*_runs(1.0, 3.0, 2.0), run.Run(2, 99.0, 0.0, 0.0, 0.0, "boom")]
    s = run.summarize("ftl-cold", "ftl", files, 80, runs)
    assert (s.runs, s.ok, s.lines) == (4, 3, 40)
    assert s.wall == 2.0 and s.cpu == 3.0 and s.peak_mb == 120.0
    assert s.lines_per_s == 20.0
    assert s.scaled_wall == 4.0  # a half-corpus subset, scaled per line
    assert "exit 2" in s.error and "boom" in s.error


def test_exit_code_one_is_success() -> None:
    assert run.Run(1, 1.0, 1.0, 1.0, 1.0).ok
    assert not run.Run(2, 1.0, 1.0, 1.0, 1.0).ok


def _stats(
    name: str,
    wall: float,
    lines: int = 1000,
    corpus_lines: int = 1000,
    peak: float = 100.0,
    cpu: float | None = None,
) -> object:
    return run.Stats(
        name,
        name,
        1,
        lines,
        corpus_lines,
        1,
        1,
        wall=wall,
        cpu=cpu if cpu is not None else wall,
        peak_mb=peak,
        maxrss_mb=peak,
    )


def test_evaluate_pass_and_miss() -> None:
    stats = {
        s.name: s
        for s in (
            _stats("ftl-cold", 1.0, peak=200.0),
            _stats("ftl-cold-j1", 2.0),
            _stats("ftl-cold-25", 0.25, lines=250),
            _stats("ftl-cold-50", 0.5, lines=500),
            _stats("ftl-cold-pkg-25", 0.5, lines=250),
            _stats("ftl-cold-pkg-50", 0.75, lines=500),
            _stats("ftl-warm", 0.3),
            _stats("ftl-touch", 0.5),
            _stats("ftl-edit", 1.5),
            _stats("ruff-cold", 0.2),
            _stats("ruff-warm", 0.1),
            _stats("flake8", 10.0, lines=100),  # 100.0 s scaled to the corpus
            _stats("fixit", 4.0, lines=100),  # 40.0 s scaled
        )
    }
    lines = [t.line() for t in run.evaluate(stats, touch_lines=100)]
    assert lines[0].startswith("MISS cold at least 50x faster than fixit") and "40.0x" in lines[0]
    assert lines[1].startswith("PASS") and "100.0x" in lines[1]
    assert lines[2].startswith("PASS cold within 10x of ruff") and "5.0x" in lines[2]
    assert lines[3].startswith("MISS warm within 2x") and "3.0x" in lines[3]
    assert lines[4].startswith("PASS after touching one file (a comment)")
    assert "0.50 s vs budget 1.20 s" in lines[4]
    assert lines[5].startswith("MISS after touching one file (a code change)")
    assert "1.50 s vs budget 1.20 s" in lines[5]
    assert lines[6].startswith("PASS peak memory") and "200 MB" in lines[6]
    assert lines[7].startswith("PASS time grows linearly") and "lines^1.00" in lines[7]
    assert lines[8].startswith("PASS time grows linearly with corpus size (whole subpackages)")
    assert "lines^0.50" in lines[8]


def test_evaluate_without_our_tool_skips() -> None:
    stats = {"ruff-cold": _stats("ruff-cold", 0.2)}
    assert all(t.passed is None for t in run.evaluate(stats, touch_lines=None))
    assert run.evaluate(stats, None)[0].line().startswith("SKIP")


def test_a_timed_out_cold_run_still_decides_what_it_can() -> None:
    runs = [run.Run(-9, 100.0, 0.0, 0.0, 0.0, "timed out after 100 s", timed_out=True)]
    cold = run.summarize("ftl-cold", "ftl", [corpus.SourceFile("a.py", 500)], 1000, runs)
    assert cold.wall is None and cold.timeout == 100.0
    stats = {
        "ftl-cold": cold,
        "ruff-cold": _stats("ruff-cold", 1.0),
        "fixit": _stats("fixit", 10_000.0),
        "flake8": _stats("flake8", 1000.0),
    }
    lines = [t.line() for t in run.evaluate(stats, None)]
    # At least 200 s for the whole corpus: fixit's 10,000 s could still be 50x; flake8's can't.
    assert lines[0].startswith("SKIP") and "ftl-cold failed: exit -9" in lines[0]
    assert lines[1] == (
        "MISS cold at least 50x faster than flake8 + flake8-bugbear + flake8-async: "
        "less than 5.0x faster (ftl-cold timed out)"
    )
    assert lines[2].startswith("MISS cold within 10x") and "more than 200.0x" in lines[2]
    assert "timed out (> 100 s)" in run.render_table([cold], None)


def test_saved_runs_round_trip_and_legacy_format(tmp_path: Path) -> None:
    files = [corpus.SourceFile("a.py", 10)]
    cmd = run.Command("ruff-cold", "ruff", ["ruff"], files)
    cmd.runs = [run.Run(1, 0.5, 0.4, 20.0, 21.0)]
    path = tmp_path / "x.runs.json"
    run._save_runs(path, [cmd], {"quick": True, "load_before": "1.00"})
    fresh = run.Command("ruff-cold", "ruff", ["ruff"], files)
    assert run._load_runs(path, [fresh], quick=True)["load_before"] == "1.00"
    assert fresh.runs == cmd.runs
    with pytest.raises(SystemExit):
        run._load_runs(path, [fresh], quick=False)
    path.write_text(json.dumps({"ruff-cold": [vars(r) for r in cmd.runs]}))  # no meta section
    run._load_runs(path, [fresh], quick=False)
    assert fresh.runs == cmd.runs
    assert run.saved_runs_path(Path("/x/RESULTS.md")).name == "RESULTS.runs.json"


def test_render_table() -> None:
    ref = _stats("ftl-cold", 2.0)
    slow = _stats("fixit", 5.0, lines=100)
    missing = run.Stats("ftl-warm", "warm", 1, 1000, 1000, 0, 0)
    table = run.render_table([ref, slow, missing], ref).splitlines()
    assert table[0].startswith("| Command |") and table[1] == "|" + "---|" * 10
    assert "| 1.00x |" in table[2]
    assert "| 25.00x |" in table[3]  # 5 s per 100 lines = 50 s for the corpus
    assert "not available" in table[4]


def test_select_takes_exact_names_before_prefixes() -> None:
    cmds = [run.Command(n, n, [n], []) for n in ("ftl-cold", "ftl-cold-j1", "ftl-warm", "fixit")]
    assert [c.name for c in run.select(cmds, ["ftl-cold"])] == ["ftl-cold"]
    assert [c.name for c in run.select(cmds, ["ftl"])] == ["ftl-cold", "ftl-cold-j1", "ftl-warm"]
    assert run.select(cmds, []) == cmds
    with pytest.raises(SystemExit):
        run.select(cmds, ["nope"])


def test_help_flags() -> None:
    text = "Options:\n  --no-cache  Skip.\n  -j, --jobs INTEGER  Workers.\n  --format [json|text]"
    assert run.help_flags(text) == {"--no-cache", "--jobs", "--format"}


def test_parse_manifest() -> None:
    sha = "a" * 64
    dists = corpus.parse_manifest(f"# header\n\nfoo 1.0 app {sha}  # why\nbar-baz 2.3.4 lib {sha}")
    assert [(d.name, d.version, d.role) for d in dists] == [
        ("foo", "1.0", "app"),
        ("bar-baz", "2.3.4", "lib"),
    ]
    assert dists[0].requirement == "foo==1.0"
    for bad in (
        "foo 1.0 app",
        f"foo 1.0 tool {sha}",
        "foo 1.0 app 123",
        f"foo 1.0 app {sha}\nfoo 1.1 lib {sha}",
    ):
        with pytest.raises(ValueError):
            corpus.parse_manifest(bad)


def test_shipped_manifest_is_pinned_and_covers_the_issue() -> None:
    names = {d.name for d in corpus.manifest()}
    assert names == {
        "open-webui",
        "langflow-base",
        "prefect",
        "opal-server",
        "fastapi",
        "starlette",
        "sqlalchemy",
        "celery",
        "pydantic",
        "kombu",
    }
    assert set(corpus.QUICK_DISTS) <= names
    assert any(d.role == "app" for d in corpus.manifest(quick=True))


def test_py_members_keeps_safe_python_files() -> None:
    names = ["pkg/a.py", "pkg/data.json", "/abs/x.py", "pkg/../../evil.py", "pkg/sub/b.py"]
    assert corpus.py_members(names) == {"pkg/a.py": "pkg/a.py", "pkg/sub/b.py": "pkg/sub/b.py"}
    assert corpus.py_members(["pkg-1.0/pkg/a.py", "pkg-1.0/setup.py"], strip_first=True) == {
        "pkg-1.0/pkg/a.py": "pkg/a.py",
        "pkg-1.0/setup.py": "setup.py",
    }


def test_count_lines() -> None:
    assert corpus.count_lines(b"") == 0
    assert corpus.count_lines(b"a\nb\n") == 2
    assert corpus.count_lines(b"a\nb") == 2


def test_subsets_are_deterministic_and_spread() -> None:
    files = [corpus.SourceFile(f"d{i // 50}/f{i:03}.py", 100) for i in range(200)]
    sample = corpus.strided_subset(files, 2000)
    assert sample == corpus.strided_subset(files, 2000)
    assert sum(f.lines for f in sample) == 2000
    assert {f.path.split("/")[0] for f in sample} == {"d0", "d1", "d2", "d3"}
    assert corpus.strided_subset(files, 10**9) == files
    quarter = corpus.fraction(files, 25)
    assert len(quarter) == 50 and {f.path[:2] for f in quarter} == {"d0", "d2"}
    assert corpus.fraction(files, 100) == files


def test_subpackage_fractions_take_whole_subpackages_spread_evenly() -> None:
    files = [
        corpus.SourceFile(f"dist{d}/pkg/sub{u}/f{i}.py", 10)
        for d in range(2)
        for u in range(4)
        for i in range(3)
    ]
    files += [corpus.SourceFile("dist0/pkg/top.py", 10), corpus.SourceFile("dist1/setup.py", 10)]
    files.sort(key=lambda f: f.path)
    quarter = corpus.subpackage_fraction(files, 25)
    assert quarter == corpus.subpackage_fraction(files, 25)
    units = {f.path.rsplit("/", 1)[0] for f in quarter}
    assert all(  # every chosen subpackage is whole
        sum(f.path.startswith(u + "/") for f in quarter)
        == sum(f.path.startswith(u + "/") for f in files)
        for u in units
        if "/sub" in u
    )
    assert {u.split("/")[0] for u in units} == {"dist0", "dist1"}  # spread, not the first
    assert 0.15 < len(quarter) / len(files) < 0.35
    assert corpus.subpackage_fraction(files, 100) == files


def test_measure_wrapper_reports_exit_code_and_memory(tmp_path: Path) -> None:
    code = "import sys; b = bytearray(30 << 20); sys.exit(3)"
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "measure.py"),
            str(tmp_path / "err"),
            "--",
            sys.executable,
            "-c",
            code,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result = json.loads(out)
    assert result["rc"] == 3
    assert result["maxrss_mb"] >= 30
    assert result["wall"] > 0


def test_tree_memory_counts_this_process() -> None:
    assert measure.tree_memory(os.getpid()) > 1 << 20


def test_front_ends_whole_checker_reports_the_example_app_alike(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The script's comparison runs the real checker both ways and finds them equal (the
    equivalence itself is tested in tests/performance/test_built_tree.py)."""
    assert front_ends.compare_checkers([ROOT / "examples"], 1) == 0
    out = capsys.readouterr().out
    assert "same findings (position, message and fix too) both ways: yes" in out
    assert "findings: 26" in out


def test_front_ends_leaves_out_what_either_refuses(tmp_path: Path) -> None:
    groups = tmp_path / "groups.py"
    groups.write_text("try:\n    pass\nexcept* E:\n    pass\n")
    plain = tmp_path / "plain.py"
    plain.write_text("x = 1\n")
    texts, left = front_ends.convertible([groups, plain])
    assert (texts, left) == (["x = 1\n"], 1)
