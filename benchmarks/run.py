"""Benchmark fastapi-task-lint against ruff, flake8 and fixit, and against the parsing floors.

Usage (from the repository root): `.venv/bin/python benchmarks/run.py [--repeat N] [--quick]
[--only NAME[,NAME]] [--skip-fixit]`.  See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import atexit
import datetime
import fcntl
import itertools
import json
import math
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import corpus
from benchmarks.corpus import CORPUS_DIR, SourceFile

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
PEERS_DIR = BENCH_DIR / ".peers"
PEERS_VENV = PEERS_DIR / "venv"
RUFF_CACHE = PEERS_DIR / "ruff-cache"
FTL_CACHE_NAME = ".fastapi_task_lint_cache"

# The comparison tools, pinned, installed into their own venv so the project's stays as it is.
PEERS = (
    "ruff==0.17.6",
    "flake8==7.5.0",
    "flake8-bugbear==26.10.27",
    "flake8-async==26.8.1",
    "fixit==2.2.1",
    "libcst==1.9.0",
)

RUFF_SELECT = "ASYNC,FAST,B"
FLAKE8_SELECT = "B,ASYNC"
OK_EXIT_CODES = (0, 1)  # 1 means "found something", which is a linter doing its job

# Targets from issue 8.
COLD_VS_SLOW_PEERS = 50.0
COLD_VS_RUFF = 10.0
WARM_VS_RUFF = 2.0
TOUCH_BUDGET_S = 1.0
PEAK_MB = 250.0
LINEAR_EXPONENT = 1.1

# Written as benchmarks/corpus/pyproject.toml. Besides fixit's settings it marks the corpus as a
# project root: fixit (trailrunner) otherwise finds the repository's root and its .gitignore,
# which ignores the corpus, and lints no file at all, even one named on the command line.
FIXIT_CONFIG = """\
# Written by benchmarks/run.py: fixit's default rules, and no configuration from above.
[tool.fixit]
root = true
enable = ["fixit.rules"]
"""


# ---------------------------------------------------------------------------------------------
# Pure parts: statistics, ratios, targets, rendering.


def median(values: Sequence[float]) -> float:
    if not values:
        raise ValueError("median of nothing")
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


@dataclass
class Run:
    rc: int
    wall: float
    cpu: float
    maxrss_mb: float
    tree_mb: float
    error: str = ""
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.rc in OK_EXIT_CODES

    @property
    def peak_mb(self) -> float:
        # The sampled tree total can miss a short single-process peak that getrusage saw.
        return max(self.maxrss_mb, self.tree_mb)


@dataclass
class Stats:
    """Medians over the successful runs of one command."""

    name: str
    label: str
    files: int
    lines: int
    corpus_lines: int
    runs: int
    ok: int
    wall: float | None = None
    cpu: float | None = None
    peak_mb: float | None = None
    maxrss_mb: float | None = None
    note: str = ""
    error: str = ""
    timeout: float | None = None  # no run succeeded and one ran out of time after this long

    @property
    def lines_per_s(self) -> float | None:
        return self.lines / self.wall if self.wall else None

    @property
    def scaled_wall(self) -> float | None:
        """Wall time for the whole corpus, scaled per line when the command ran on a subset."""
        return self._scaled(self.wall)

    @property
    def scaled_cpu(self) -> float | None:
        return self._scaled(self.cpu)

    def _scaled(self, value: float | None) -> float | None:
        if value is None or not self.lines:
            return None
        return value * self.corpus_lines / self.lines


def summarize(
    name: str,
    label: str,
    files: Sequence[SourceFile],
    corpus_lines: int,
    runs: Sequence[Run],
    note: str = "",
) -> Stats:
    good = [r for r in runs if r.ok]
    stats = Stats(
        name,
        label,
        len(files),
        sum(f.lines for f in files),
        corpus_lines,
        len(runs),
        len(good),
        note=note,
    )
    if good:
        stats.wall = median([r.wall for r in good])
        stats.cpu = median([r.cpu for r in good])
        stats.peak_mb = median([r.peak_mb for r in good])
        stats.maxrss_mb = median([r.maxrss_mb for r in good])
    else:
        stats.timeout = min((r.wall for r in runs if r.timed_out), default=None)
    failed = [r for r in runs if not r.ok]
    if failed:
        stats.error = f"exit {failed[-1].rc}: {failed[-1].error.strip()[-300:]}"
    return stats


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return numerator / denominator


def fmt(value: float | None, digits: int = 2, suffix: str = "") -> str:
    if value is None:
        return "n/a"
    if abs(value) >= 1000:
        return f"{value:,.0f}{suffix}"
    return f"{value:.{digits}f}{suffix}"


def growth_exponent(points: Sequence[tuple[int, float]]) -> float | None:
    """k in time ~ lines**k: the least-squares slope of log time over log lines."""
    usable = [(math.log(lines), math.log(t)) for lines, t in points if lines > 0 and t > 0]
    if len({x for x, _ in usable}) < 2:
        return None
    mx = sum(x for x, _ in usable) / len(usable)
    my = sum(y for _, y in usable) / len(usable)
    sxx = sum((x - mx) ** 2 for x, _ in usable)
    return sum((x - mx) * (y - my) for x, y in usable) / sxx


def step_exponents(points: Sequence[tuple[int, float]]) -> list[float]:
    """The exponent between each pair of neighbouring sizes: where growth bends shows here."""
    ordered = sorted(points)
    pairs = itertools.pairwise(ordered)
    return [k for a, b in pairs if (k := growth_exponent([a, b])) is not None]


@dataclass
class Target:
    text: str
    passed: bool | None  # None: could not be measured
    detail: str

    def line(self) -> str:
        verdict = {True: "PASS", False: "MISS", None: "SKIP"}[self.passed]
        return f"{verdict} {self.text}: {self.detail}"


def _get(stats: dict[str, Stats], name: str) -> Stats | None:
    found = stats.get(name)
    return found if found is not None and found.wall is not None else None


def _missing(stats: dict[str, Stats], *names: str) -> str:
    """Why a target could not be evaluated: which of its commands has no median, and why."""
    reasons = []
    for name in names:
        s = stats.get(name)
        if s is None or s.runs == 0:
            reasons.append(f"{name} not run")
        elif s.wall is None:
            reasons.append(f"{name} failed: {s.error[:120]}")
    return "not measured" + (f" ({'; '.join(reasons)})" if reasons else "")


def _timeout_ratio(timed_out: Stats | None, other: Stats | None) -> float | None:
    """The least ratio of a timed-out command's whole-corpus wall time to `other`'s."""
    if timed_out is None or timed_out.timeout is None or not timed_out.lines:
        return None
    least = timed_out.timeout * timed_out.corpus_lines / timed_out.lines
    return ratio(least, other.scaled_wall if other else None)


def _cpu_ratio(a: Stats, b: Stats) -> str:
    r = ratio(a.scaled_cpu, b.scaled_cpu)
    return "" if r is None else f"; CPU time {r:.1f}x"


def evaluate(stats: dict[str, Stats], touch_lines: int | None) -> list[Target]:
    """The issue's targets, from the medians of one run (wall time; CPU ratios for context)."""
    targets: list[Target] = []
    cold = _get(stats, "ftl-cold")

    def faster_than(peer: str, label: str) -> None:
        text = f"cold at least {COLD_VS_SLOW_PEERS:.0f}x faster than {label}"
        other = _get(stats, peer)
        least = _timeout_ratio(stats.get("ftl-cold"), other)
        if least is not None and 1 / least < COLD_VS_SLOW_PEERS:
            detail = f"less than {1 / least:.1f}x faster (ftl-cold timed out)"
            targets.append(Target(text, False, detail))
            return
        if cold is None or other is None:
            targets.append(Target(text, None, _missing(stats, "ftl-cold", peer)))
            return
        r = ratio(other.scaled_wall, cold.scaled_wall)
        assert r is not None
        scaled = " (scaled per line from a subset)" if other.lines < other.corpus_lines else ""
        detail = f"{r:.1f}x faster{scaled}{_cpu_ratio(other, cold)}"
        targets.append(Target(text, r >= COLD_VS_SLOW_PEERS, detail))

    faster_than("fixit", "fixit lint")
    faster_than("flake8", "flake8 + flake8-bugbear + flake8-async")

    def within(ours: str, peer: str, limit: float, text: str) -> None:
        mine, other = _get(stats, ours), _get(stats, peer)
        least = _timeout_ratio(stats.get(ours), other)
        if least is not None and least > limit:
            detail = f"more than {least:.1f}x ruff's time ({ours} timed out)"
            targets.append(Target(text, False, detail))
            return
        if mine is None or other is None:
            targets.append(Target(text, None, _missing(stats, ours, peer)))
            return
        r = ratio(mine.scaled_wall, other.scaled_wall)
        assert r is not None
        detail = f"{r:.1f}x ruff's time{_cpu_ratio(mine, other)}"
        targets.append(Target(text, r <= limit, detail))

    within(
        "ftl-cold", "ruff-cold", COLD_VS_RUFF, f"cold within {COLD_VS_RUFF:.0f}x of ruff --no-cache"
    )
    within(
        "ftl-warm", "ruff-warm", WARM_VS_RUFF, f"warm within {WARM_VS_RUFF:.0f}x of ruff's warm run"
    )

    # The touched file's own cost: its share, per line, of a one-core cold run.
    one_core = _get(stats, "ftl-cold-j1") or cold
    for name, change in (("ftl-touch", "a comment"), ("ftl-edit", "a code change")):
        touch = _get(stats, name)
        text = (
            f"after touching one file ({change}): under {TOUCH_BUDGET_S:.0f} s plus that "
            "file's own cost"
        )
        if touch is None or one_core is None or touch_lines is None or one_core.wall is None:
            targets.append(Target(text, None, _missing(stats, name, "ftl-cold")))
            continue
        per_line = (one_core.cpu or one_core.wall) / max(one_core.lines, 1)
        budget = TOUCH_BUDGET_S + touch_lines * per_line
        assert touch.wall is not None
        targets.append(
            Target(
                text,
                touch.wall < budget,
                f"{touch.wall:.2f} s vs budget {budget:.2f} s "
                f"({touch_lines} lines at {per_line * 1e6:.0f} us/line)",
            )
        )

    text = f"peak memory under {PEAK_MB:.0f} MB for the whole corpus"
    full = [
        s
        for s in stats.values()
        if s.name.startswith("ftl-") and s.lines == s.corpus_lines and s.peak_mb is not None
    ]
    if not full:
        targets.append(Target(text, None, _missing(stats, "ftl-cold")))
    else:
        worst = max(full, key=lambda s: s.peak_mb or 0.0)
        assert worst.peak_mb is not None
        targets.append(
            Target(
                text,
                worst.peak_mb < PEAK_MB,
                f"{worst.peak_mb:.0f} MB ({worst.name}, whole process tree)",
            )
        )

    targets.append(_growth(stats, "ftl-cold", "time grows linearly with corpus size"))
    targets.append(
        _growth(
            stats,
            "ftl-cold-pkg",
            "time grows linearly with corpus size (whole subpackages)",
        )
    )
    return targets


def _growth(stats: dict[str, Stats], prefix: str, text: str) -> Target:
    """The linear-growth target from the cold runs `prefix`-25, `prefix`-50 and `ftl-cold`."""
    names = (f"{prefix}-25", f"{prefix}-50", "ftl-cold")
    points = [
        (s.lines, s.wall) for n in names if (s := _get(stats, n)) is not None and s.wall is not None
    ]
    k = growth_exponent(points)
    if k is None:
        return Target(text, None, _missing(stats, names[0], "ftl-cold"))
    shown = ", ".join(f"{lines:,} lines {wall:.2f} s" for lines, wall in points)
    steps = step_exponents(points)
    if steps:
        shown += "; step by step ^" + ", ^".join(f"{e:.2f}" for e in steps)
    cpu_points = [
        (s.lines, s.cpu) for n in names if (s := _get(stats, n)) is not None and s.cpu is not None
    ]
    k_cpu = growth_exponent(cpu_points)
    if k_cpu is not None:
        shown += f"; CPU time ~ lines^{k_cpu:.2f}"
    return Target(
        text,
        k <= LINEAR_EXPONENT,
        f"time ~ lines^{k:.2f} (fitted; PASS if <= {LINEAR_EXPONENT}); {shown}",
    )


def render_table(rows: Sequence[Stats], reference: Stats | None) -> str:
    """Markdown table of the medians; the last column is time per line relative to `reference`."""
    ref = reference.scaled_wall if reference else None
    header = (
        "| Command | Files | Lines | OK runs | Wall s | CPU s | Peak MB | Max RSS MB | "
        "Lines/s | Time vs ftl cold |"
    )
    out = [header, "|" + "---|" * 10]
    for s in rows:
        label = s.label + (f" ({s.note})" if s.note else "")
        if s.wall is None:
            why = (
                "not available"
                if s.runs == 0
                else f"timed out (> {s.timeout:.0f} s)"
                if s.timeout is not None
                else "failed"
            )
            out.append(
                f"| {label} | {s.files:,} | {s.lines:,} | {s.ok}/{s.runs} | {why} | | | | | |"
            )
            continue
        r = ratio(s.scaled_wall, ref)
        out.append(
            f"| {label} | {s.files:,} | {s.lines:,} | {s.ok}/{s.runs} | {fmt(s.wall)} | "
            f"{fmt(s.cpu)} | {fmt(s.peak_mb, 0)} | {fmt(s.maxrss_mb, 0)} | "
            f"{fmt(s.lines_per_s, 0)} | {fmt(r, 2, 'x')} |"
        )
    return "\n".join(out)


def help_flags(help_text: str) -> set[str]:
    """Long options a `--help` page offers."""
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", help_text))


# ---------------------------------------------------------------------------------------------
# Measuring.


@dataclass
class Command:
    name: str
    label: str
    argv: list[str]
    files: list[SourceFile]
    note: str = ""
    before: Callable[[], None] | None = None
    after: Callable[[], None] | None = None
    prime: bool = False  # run once, unmeasured, before the first repetition (warm caches)
    runs: list[Run] = field(default_factory=list)


def installed_env() -> dict[str, str]:
    """The environment of a measured command, minus PYTHONDONTWRITEBYTECODE.

    pip byte-compiles what it installs (the peers, libcst), but not an editable install of
    this project: with the variable set (as on some CI images), every run of ours would
    compile its own modules again, which no installed copy does.
    """
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def measure(argv: Sequence[str], cwd: Path, timeout: float) -> Run:
    """One run through benchmarks/measure.py, which reports this command's own usage."""
    with tempfile.NamedTemporaryFile(prefix="bench-stderr-", delete=False) as err:
        err_path = Path(err.name)
    wrapper = [sys.executable, str(BENCH_DIR / "measure.py"), str(err_path), "--", *argv]
    proc = subprocess.Popen(
        wrapper, cwd=cwd, stdout=subprocess.PIPE, start_new_session=True, env=installed_env()
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
        result = json.loads(out.decode().strip().splitlines()[-1])
        run = Run(
            int(result["rc"]), result["wall"], result["cpu"], result["maxrss_mb"], result["tree_mb"]
        )
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        run = Run(-9, timeout, 0.0, 0.0, 0.0, f"timed out after {timeout:.0f} s", timed_out=True)
    except (ValueError, IndexError, KeyError) as exc:
        run = Run(-1, 0.0, 0.0, 0.0, 0.0, f"wrapper failed: {exc}")
    if not run.ok and not run.error:
        run.error = err_path.read_text(errors="replace")[-2000:]
    err_path.unlink(missing_ok=True)
    return run


def saved_runs_path(output: Path) -> Path:
    """Where a run writing `output` keeps its raw runs: benchmarks/.peers/<stem>.runs.json."""
    return PEERS_DIR / f"{output.stem}.runs.json"


def _save_runs(path: Path, commands: Sequence[Command], meta: dict[str, object]) -> None:
    """Every run so far, raw, so an interrupted benchmark still leaves its numbers behind."""
    runs = {c.name: [vars(r) for r in c.runs] for c in commands if c.runs}
    path.write_text(json.dumps({"meta": meta, "runs": runs}, indent=1))


def _load_runs(path: Path, commands: Sequence[Command], quick: bool) -> dict[str, object]:
    saved = json.loads(path.read_text())
    if "runs" not in saved:  # written before the file had a meta section
        saved = {"meta": {"quick": quick}, "runs": saved}
    meta: dict[str, object] = saved["meta"]
    if meta.get("quick") != quick:
        raise SystemExit(
            f"{path} is from a run {'with' if meta.get('quick') else 'without'}"
            " --quick; pass the same corpus option"
        )
    for c in commands:
        c.runs = [Run(**r) for r in saved["runs"].get(c.name, [])]
    return meta


def _wait_for_lock() -> None:
    """One benchmark at a time: two on one machine measure each other, and share the corpus."""
    PEERS_DIR.mkdir(parents=True, exist_ok=True)
    lock = (PEERS_DIR / "run.lock").open("a")
    atexit.register(lock.close)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print("waiting for another benchmarks/run.py to finish", flush=True)
        fcntl.flock(lock, fcntl.LOCK_EX)


def _quiet_run(argv: Sequence[str], cwd: Path) -> None:
    subprocess.run(
        argv,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
        env=installed_env(),
    )


# ---------------------------------------------------------------------------------------------
# Setting up.


def _venv_bin(venv: Path, tool: str) -> Path:
    return venv / "bin" / tool


def ensure_peers() -> Path:
    """Create benchmarks/.peers/venv with the pinned comparison tools, once."""
    pins = "\n".join(PEERS) + "\n"
    marker = PEERS_VENV / ".pins"
    if marker.is_file() and marker.read_text() == pins:
        return PEERS_VENV
    print(f"peers: creating {PEERS_VENV.relative_to(ROOT)} with {', '.join(PEERS)}", flush=True)
    shutil.rmtree(PEERS_VENV, ignore_errors=True)
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(PEERS_VENV)], check=True)
    subprocess.run(
        [
            str(_venv_bin(PEERS_VENV, "python")),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            *PEERS,
        ],
        check=True,
    )
    marker.write_text(pins)
    return PEERS_VENV


@dataclass
class Ftl:
    """The fastapi-task-lint executable and the options its `check` offers today."""

    exe: Path
    available: bool
    flags: set[str]
    why: str = ""

    @property
    def no_cache(self) -> bool:
        return "--no-cache" in self.flags

    @property
    def jobs(self) -> bool:
        return "--jobs" in self.flags

    @property
    def caches(self) -> bool:
        return self.no_cache or "--cache-dir" in self.flags


def detect_ftl(exe: Path) -> Ftl:
    if not exe.exists():
        return Ftl(exe, False, set(), f"{exe} does not exist")
    try:
        done = subprocess.run(
            [str(exe), "check", "--help"], capture_output=True, text=True, timeout=120, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Ftl(exe, False, set(), str(exc))
    if done.returncode != 0:
        return Ftl(
            exe,
            False,
            set(),
            (done.stderr or done.stdout).strip().splitlines()[-1:][0]
            if (done.stderr or done.stdout).strip()
            else f"exit {done.returncode}",
        )
    return Ftl(exe, True, help_flags(done.stdout))


def _clear_ftl_cache() -> None:
    shutil.rmtree(CORPUS_DIR / FTL_CACHE_NAME, ignore_errors=True)


@dataclass
class Plan:
    commands: list[Command]
    corpus_files: list[SourceFile]
    touch_file: SourceFile | None
    ftl: Ftl
    notes: list[str]


def build_plan(args: argparse.Namespace, files: list[SourceFile], ftl: Ftl) -> Plan:
    peers = PEERS_VENV / "bin"
    python = ROOT / ".venv" / "bin" / "python"
    project_python = str(python if python.exists() else Path(sys.executable))
    paths = [f.path for f in files]
    notes: list[str] = []
    commands: list[Command] = []

    # Private to this run: another run may be building its own list at the same time.
    handle, name = tempfile.mkstemp(prefix="ftl-bench-files-", suffix=".txt")
    list_file = Path(name)
    with os.fdopen(handle, "w") as f:
        f.write("\n".join(paths) + "\n")
    atexit.register(list_file.unlink, missing_ok=True)
    for kind, label in (
        ("read", "floor: read every file"),
        ("ast", "floor: ast.parse"),
        ("libcst", "floor: libcst.parse_module"),
    ):
        commands.append(
            Command(
                f"floor-{kind}",
                label,
                [project_python, str(BENCH_DIR / "floors.py"), kind, str(list_file)],
                files,
                note="1 process",
            )
        )

    commands.append(
        Command(
            "ruff-cold",
            f"ruff check --no-cache --select {RUFF_SELECT}",
            [
                str(peers / "ruff"),
                "check",
                "--isolated",
                "--no-cache",
                "--select",
                RUFF_SELECT,
                *paths,
            ],
            files,
        )
    )
    commands.append(
        Command(
            "ruff-warm",
            f"ruff check --select {RUFF_SELECT} (warm)",
            [
                str(peers / "ruff"),
                "check",
                "--isolated",
                "--cache-dir",
                str(RUFF_CACHE),
                "--select",
                RUFF_SELECT,
                *paths,
            ],
            files,
            prime=True,
        )
    )

    flake8_files = corpus.strided_subset(files, args.flake8_lines) if args.flake8_lines else files
    commands.append(
        Command(
            "flake8",
            f"flake8 --select {FLAKE8_SELECT} (bugbear, async)",
            [
                str(peers / "flake8"),
                "--isolated",
                "--select",
                FLAKE8_SELECT,
                *[f.path for f in flake8_files],
            ],
            flake8_files,
            note=_subset_note(flake8_files, files),
        )
    )
    if not args.skip_fixit:
        fixit_files = corpus.strided_subset(files, args.fixit_lines)
        commands.append(
            Command(
                "fixit",
                "fixit lint (default rules)",
                [
                    str(peers / "fixit"),
                    "--config-file",
                    str(CORPUS_DIR / "pyproject.toml"),
                    "lint",
                    *[f.path for f in fixit_files],
                ],
                fixit_files,
                note=_subset_note(fixit_files, files),
            )
        )

    touch = corpus.routes_like(files)
    ftl_cmds = _ftl_commands(ftl, files, touch, notes, ftl_cache_dir(args.output))
    commands.extend(ftl_cmds)
    return Plan(commands, files, touch, ftl, notes)


def _subset_note(subset: Sequence[SourceFile], whole: Sequence[SourceFile]) -> str:
    if len(subset) == len(whole):
        return ""
    return "strided subset, scaled per line"


def ftl_cache_dir(output: Path) -> Path:
    """This run's own fastapi-task-lint cache: another run's entries for the same paths (under
    another project fingerprint) would otherwise turn this run's warm runs cold."""
    return PEERS_DIR / "ftl-cache" / output.stem


def _ftl_commands(
    ftl: Ftl, files: list[SourceFile], touch: SourceFile | None, notes: list[str], cache: Path
) -> list[Command]:
    base = [str(ftl.exe), "check"]
    if "--cache-dir" in ftl.flags:
        base += ["--cache-dir", str(cache)]
    paths = [f.path for f in files]
    cold_flags = ["--no-cache"] if ftl.no_cache else []
    clear = None if ftl.no_cache else _clear_ftl_cache
    if not ftl.available:
        notes.append(f"fastapi-task-lint not available: {ftl.why}")
    if ftl.available and not ftl.no_cache:
        notes.append(
            f"fastapi-task-lint has no --no-cache yet: cold runs clear {FTL_CACHE_NAME}/ first"
        )
    if ftl.available and not ftl.caches:
        notes.append(
            "fastapi-task-lint has no cache yet: its warm and touch runs would be cold "
            "runs, so they are not run"
        )
    if ftl.available and not ftl.jobs:
        notes.append("fastapi-task-lint has no --jobs yet: only its default is measured")

    job_variants: list[tuple[str, list[str], str]] = [("", [], "default jobs")]
    if ftl.jobs:
        job_variants.insert(0, ("-j1", ["--jobs", "1"], "--jobs 1"))

    cmds: list[Command] = []
    for suffix, jobs, jobs_label in job_variants:
        cmds.append(
            Command(
                f"ftl-cold{suffix}",
                f"fastapi-task-lint check cold, {jobs_label}",
                [*base, *cold_flags, *jobs, *paths],
                files,
                before=clear,
            )
        )
    for suffix, jobs, jobs_label in job_variants:
        cmds.append(
            Command(
                f"ftl-warm{suffix}",
                f"fastapi-task-lint check warm, {jobs_label}",
                [*base, *jobs, *paths],
                files,
                prime=True,
            )
        )
    if touch is not None:
        warm = [*base, *paths]
        original = (CORPUS_DIR / touch.path).read_bytes()

        def append(line: bytes) -> Callable[[], None]:
            def write() -> None:
                (CORPUS_DIR / touch.path).write_bytes(original + line)

            return write

        def restore() -> None:
            (CORPUS_DIR / touch.path).write_bytes(original)
            _quiet_run(warm, CORPUS_DIR)  # the next warm run again finds nothing changed

        for name, what, line in (
            ("ftl-touch", "a comment appended to", b"# touched by benchmarks/run.py\n"),
            ("ftl-edit", "a statement appended to", b"_EDITED_BY_BENCHMARKS = 1\n"),
        ):
            cmds.append(
                Command(
                    name,
                    f"fastapi-task-lint check warm, {what} one file ({touch.path})",
                    warm,
                    files,
                    before=append(line),
                    after=restore,
                    prime=True,
                )
            )
    for name, pick, what in (
        ("ftl-cold", corpus.fraction, "of files"),
        ("ftl-cold-pkg", corpus.subpackage_fraction, "of subpackages, each whole"),
    ):
        for percent in (25, 50):
            subset = pick(files, percent)
            cmds.append(
                Command(
                    f"{name}-{percent}",
                    f"fastapi-task-lint check cold, default jobs, {percent} % {what}",
                    [*base, *cold_flags, *[f.path for f in subset]],
                    subset,
                    before=clear,
                )
            )
    for c in cmds:
        if not ftl.available or (not ftl.caches and c.prime):
            c.argv = []
    return cmds


def select(commands: list[Command], only: Sequence[str]) -> list[Command]:
    """Commands named in `only`: each entry a name, else a name prefix (`ftl` for all ours)."""
    if not only:
        return commands
    names = {c.name for c in commands}
    wanted = [
        c
        for c in commands
        if any(c.name == o or (o not in names and c.name.startswith(o)) for o in only)
    ]
    if not wanted:
        raise SystemExit(
            f"--only {','.join(only)} matches none of: " + ", ".join(c.name for c in commands)
        )
    return wanted


# ---------------------------------------------------------------------------------------------
# Reporting.


def machine_info() -> list[str]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    info = [
        f"- Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"- Cores: {os.cpu_count()} (os.cpu_count())",
        f"- Python: {platform.python_version()} ({platform.platform()})",
    ]
    if load:
        info.append(
            f"- Load average when the report was written: {load[0]:.2f}, "
            f"{load[1]:.2f}, {load[2]:.2f}"
        )
    return info


def corpus_summary(dists: Sequence[corpus.Dist], files: Sequence[SourceFile]) -> list[str]:
    out = ["| Distribution | Version | Role | Files | Lines |", "|---|---|---|---|---|"]
    for d in dists:
        mine = [f for f in files if f.path.split("/", 1)[0] == d.name]
        out.append(
            f"| {d.name} | {d.version} | {d.role} | {len(mine):,} | "
            f"{sum(f.lines for f in mine):,} |"
        )
    total = sum(f.lines for f in files)
    out.append(f"| **total** | | | {len(files):,} | {total:,} |")
    return out


def report(
    plan: Plan,
    stats: list[Stats],
    targets: list[Target],
    args: argparse.Namespace,
    dists: Sequence[corpus.Dist],
    load_before: str,
) -> str:
    by_name = {s.name: s for s in stats}
    total = sum(f.lines for f in plan.corpus_files)
    lines = [
        "# Benchmark results",
        "",
        "Generated by `benchmarks/run.py` (see `benchmarks/README.md`); do not edit by hand.",
        "",
        *machine_info(),
        f"- Load average before the first run: {load_before}",
        f"- Repetitions: {args.repeat}, interleaved; medians over the successful runs",
        f"- Corpus: {'quick subset' if args.quick else 'full'}, {len(plan.corpus_files):,} files,"
        f" {total:,} lines"
        + (
            ""
            if args.quick or total >= 1_000_000
            else " (the issue expects over a million; the listed distributions give fewer)"
        ),
        "",
        "## Medians",
        "",
        render_table(stats, by_name.get("ftl-cold")),
        "",
        "Peak MB is the larger of the command's own `ru_maxrss` and the summed PSS of its whole "
        "process tree sampled every 20 ms (less often when sampling is costly; see the README). "
        "Time vs ftl cold is time per line relative to "
        "`fastapi-task-lint check` cold with default jobs (above 1 means slower). Rows marked "
        "*strided subset* ran on every k-th file of the sorted corpus and are scaled per line.",
        "",
        "## Targets",
        "",
        *(
            ["The targets are stated for the full corpus; these lines judge the quick one.", ""]
            if args.quick
            else []
        ),
        *[f"- {t.line()}" for t in targets],
        "",
    ]
    if plan.notes:
        lines += ["## Notes", "", *[f"- {n}" for n in plan.notes], ""]
    errors = [s for s in stats if s.error]
    if errors:
        lines += ["## Failed runs", ""]
        lines += [f"- {s.name}: {s.ok}/{s.runs} ok; last failure {s.error!r}" for s in errors]
        lines.append("")
    lines += ["## Corpus", "", *corpus_summary(dists, plan.corpus_files), ""]
    if plan.touch_file:
        lines += [f"Touched file: `{plan.touch_file.path}` ({plan.touch_file.lines} lines).", ""]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--repeat", type=int, default=5, help="repetitions of every command")
    p.add_argument(
        "--quick", action="store_true", help=f"small corpus ({', '.join(corpus.QUICK_DISTS)})"
    )
    p.add_argument(
        "--only",
        action="append",
        default=[],
        help="run only these commands (names or prefixes, comma-separated)",
    )
    p.add_argument("--skip-fixit", action="store_true", help="leave fixit out")
    p.add_argument(
        "--fixit-lines",
        type=int,
        default=None,
        help="lines of the strided subset fixit lints (default 20000, quick 5000)",
    )
    p.add_argument(
        "--flake8-lines",
        type=int,
        default=None,
        help="lines of flake8's strided subset, 0 for all (default 20000, quick 5000)",
    )
    p.add_argument(
        "--ftl",
        type=Path,
        default=ROOT / ".venv" / "bin" / "fastapi-task-lint",
        help="the fastapi-task-lint executable",
    )
    p.add_argument("--timeout", type=float, default=1800.0, help="seconds allowed per run")
    p.add_argument("--output", type=Path, default=BENCH_DIR / "RESULTS.md")
    p.add_argument("--list", action="store_true", help="list the commands and exit")
    p.add_argument(
        "--from-saved",
        type=Path,
        metavar="RUNS_JSON",
        help="measure nothing: report the raw runs a run saved in benchmarks/.peers/*.runs.json",
    )
    args = p.parse_args(argv)
    args.only = [o for entry in args.only for o in entry.split(",") if o]
    if args.fixit_lines is None:
        args.fixit_lines = 5_000 if args.quick else 20_000
    if args.flake8_lines is None:
        args.flake8_lines = 5_000 if args.quick else 20_000
    if args.repeat < 1:
        p.error("--repeat must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    # On SIGTERM unwind like on Ctrl-C, so a touched corpus file is restored.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    venv = ensure_peers()
    dists = corpus.manifest(quick=args.quick)
    corpus.ensure(dists, [str(_venv_bin(venv, "python")), "-m", "pip"])
    (CORPUS_DIR / "pyproject.toml").write_text(FIXIT_CONFIG)
    files = corpus.files(dists)
    total = sum(f.lines for f in files)
    print(f"corpus: {len(files):,} files, {total:,} lines", flush=True)

    ftl = detect_ftl(args.ftl)
    plan = build_plan(args, files, ftl)
    for note in plan.notes:
        print(f"note: {note}")
    commands = select(plan.commands, args.only)
    if args.list:
        for c in commands:
            print(f"{c.name:14} {c.label} [{len(c.files)} files]")
        return 0

    saved = args.from_saved or saved_runs_path(args.output)
    if args.from_saved:
        meta = _load_runs(saved, commands, args.quick)
        load_before = str(meta.get("load_before", "n/a"))
        args.repeat = max((len(c.runs) for c in commands), default=0)
        plan.notes.append(
            f"report rebuilt from the raw runs in {saved.name} by --from-saved "
            f"(the measuring run was interrupted or re-reported; {args.repeat} runs at most)"
        )
    else:
        _wait_for_lock()
        load_before = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        meta = {"quick": args.quick, "load_before": load_before}
    if not args.from_saved:
        shutil.rmtree(ftl_cache_dir(args.output), ignore_errors=True)
    for c in commands:
        if c.prime and c.argv and not args.from_saved:
            _quiet_run(c.argv, CORPUS_DIR)
    for rep in range(0 if args.from_saved else args.repeat):
        for c in commands:
            if not c.argv:
                continue
            if c.before:
                c.before()
            try:
                run = measure(c.argv, CORPUS_DIR, args.timeout)
            finally:
                if c.after:
                    c.after()
            c.runs.append(run)
            _save_runs(saved, commands, meta)
            status = "ok" if run.ok else f"FAILED rc={run.rc}"
            print(
                f"[{rep + 1}/{args.repeat}] {c.name:14} {run.wall:8.2f} s wall "
                f"{run.cpu:8.2f} s cpu {run.peak_mb:6.0f} MB  {status}",
                flush=True,
            )

    stats = [summarize(c.name, c.label, c.files, total, c.runs, c.note) for c in commands]
    targets = evaluate(
        {s.name: s for s in stats}, plan.touch_file.lines if plan.touch_file else None
    )
    text = report(plan, stats, targets, args, dists, load_before)
    args.output.write_text(text)
    print()
    print(render_table(stats, next((s for s in stats if s.name == "ftl-cold"), None)))
    print()
    for t in targets:
        print(t.line())
    print(f"\nwrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
