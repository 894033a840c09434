"""`--jobs 1` and `--jobs N` give the same output, with and without the cache."""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fastapi_task_lint import parallel
from fastapi_task_lint.cache import CACHE_DIR_NAME
from fastapi_task_lint.config import Config
from fastapi_task_lint.diagnostics import PARSE_ERROR, RULE_ERROR, Diagnostic
from fastapi_task_lint.engine import Linter
from fastapi_task_lint.rules import all_rules
from fastapi_task_lint.semantics import lifespan
from fastapi_task_lint.semantics.observations import Observations
from fastapi_task_lint.semantics.project import ProjectIndex

from .helpers import EXAMPLES, FIXTURES, Finding, copy_project, findings, recording


@pytest.fixture(autouse=True)
def always_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fixture projects are small: use the pool whatever the size."""
    monkeypatch.setattr(parallel, "POOL_THRESHOLD", 1)


def _projects() -> list[Path]:
    return [*sorted(p for p in (FIXTURES / "projects").iterdir() if p.is_dir()), EXAMPLES]


@pytest.mark.parametrize("root", _projects(), ids=lambda p: p.name)
def test_jobs_one_equals_jobs_n(root: Path) -> None:
    serial = findings([root], root)
    assert findings([root], root, jobs=2) == serial
    assert findings([root], root, jobs=3) == serial


def test_all_fixture_files_in_one_run(tmp_path: Path) -> None:
    files = sorted(FIXTURES.glob("FTL*/*.py"))
    serial = findings(files, FIXTURES)
    assert serial
    assert findings(files, FIXTURES, jobs=2) == serial


def test_pool_with_cache(tmp_path: Path) -> None:
    root = copy_project(FIXTURES / "projects" / "blocking", tmp_path)
    serial = findings([root], root)
    cache = root / CACHE_DIR_NAME
    assert findings([root], root, jobs=2, cache_dir=cache) == serial
    assert findings([root], root, jobs=2, cache_dir=cache) == serial
    assert findings([root], root, jobs=1, cache_dir=cache) == serial


def _chunk_checked_by_pid(work: list[tuple[Path, frozenset[str]]]) -> parallel.ChunkOutcome:
    """A stand-in for `_check_chunk`: each file's outcome names the chunk and the process."""
    if os.getpid() != _PARENT:
        time.sleep(0.2)  # a worker is slow: the parent must take chunks meanwhile
    outcomes = [([], [], frozenset({path.name, f"pid:{os.getpid()}"})) for path, _ in work]
    return outcomes, set(), Observations()


def _chunk_failing_in_a_worker(work: list[tuple[Path, frozenset[str]]]) -> parallel.ChunkOutcome:
    if os.getpid() != _PARENT:
        raise RuntimeError("a worker failed")
    return _chunk_checked_by_pid(work)


_PARENT = os.getpid()


def _checking_chunks_with(monkeypatch: pytest.MonkeyPatch, check: Any) -> None:
    """`check` stands for checking a chunk, in this process and in the workers."""
    monkeypatch.setattr(parallel, "_check_chunk", check)
    monkeypatch.setattr(parallel, "_check_chunk_in_worker", check)


_WORK = [(Path(f"file{i}"), frozenset[str]()) for i in range(6)]


def test_the_parent_checks_chunks_beside_its_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    _checking_chunks_with(monkeypatch, _chunk_checked_by_pid)
    outcomes = parallel._share(_WORK, 1, multiprocessing.get_context("fork"))
    names = [sorted(unwanted) for chunk, _, _ in outcomes for _, _, unwanted in chunk]
    assert [name for name, _ in names] == [f"file{i}" for i in range(6)]  # in order
    pids = {pid for _, pid in names}
    assert f"pid:{_PARENT}" in pids
    assert len(pids) == 2  # and the one worker took some
    # This process takes chunks from the front and the worker from the back: each checks a
    # stretch of neighbouring files, which share their package's modules.
    taken = [pid for _, pid in names]
    assert taken == sorted(taken, key=lambda pid: pid != f"pid:{_PARENT}")


def test_claims_shrink_towards_the_end_and_cover_every_file_once() -> None:
    """Large claims while much is left (few round trips), small ones at the end (the
    processes finish together); from the front for this process, the back for workers."""
    work = [(Path(f"file{i}"), frozenset[str]()) for i in range(100)]
    feeding = parallel._Feeding(work, 2, None)  # type: ignore[arg-type]  # no pool: no submit
    claims: list[tuple[int, list[parallel.WorkItem]]] = []
    while (claimed := feeding.claim(front=len(claims) % 2 == 0)) is not None:
        claims.append(claimed)
    sizes = [len(items) for _, items in claims]
    assert sizes[0] == 100 // 8 and sizes[-1] == 1
    assert sizes == sorted(sizes, reverse=True)
    assert sorted(path for _, items in claims for path, _ in items) == sorted(p for p, _ in work)
    assert all(work[start : start + len(items)] == items for start, items in claims)
    assert claims[1][0] + len(claims[1][1]) == len(work)  # a worker's first is the last files


def test_a_failing_worker_fails_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    _checking_chunks_with(monkeypatch, _chunk_failing_in_a_worker)
    with pytest.raises(RuntimeError, match="a worker failed"):
        parallel._share(_WORK, 1, multiprocessing.get_context("fork"))


def _chunk_failing_here(work: list[tuple[Path, frozenset[str]]]) -> parallel.ChunkOutcome:
    if os.getpid() == _PARENT:
        raise KeyboardInterrupt
    time.sleep(0.2)
    return [([], [], frozenset({path.name})) for path, _ in work], set(), Observations()


def test_the_workers_take_no_more_chunks_once_the_parent_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _checking_chunks_with(monkeypatch, _chunk_failing_here)
    made: list[parallel._Feeding] = []
    feeding = parallel._Feeding

    def recorded(*args: Any) -> parallel._Feeding:
        made.append(feeding(*args))
        return made[-1]

    monkeypatch.setattr(parallel, "_Feeding", recorded)
    with pytest.raises(KeyboardInterrupt):
        parallel._share(_WORK, 1, multiprocessing.get_context("fork"))
    assert len(made[0].outcomes) < len(_WORK) - 1


_APP = """
from apscheduler.schedulers.background import BackgroundScheduler
from fastapi import FastAPI

app = FastAPI()
scheduler = BackgroundScheduler()
scheduler.start()
"""


def _facts_at_fork(
    monkeypatch: pytest.MonkeyPatch, project: Path, files: dict[str, str]
) -> tuple[list[int], list[Finding]]:
    """Write `files` in `project`, run it pooled, and count the lifecycles built in this
    process before it forked (for each fork), beside the run's findings."""
    for name, text in files.items():
        (project / name).write_text(text)
    at_fork: list[int] = []
    share = parallel._share
    with recording(monkeypatch, lifespan, "_build") as built:

        def forking(*args: Any) -> list[parallel.ChunkOutcome]:
            at_fork.append(len(built))
            return share(*args)

        monkeypatch.setattr(parallel, "_share", forking)
        found = findings([project], project, jobs=2)
    return at_fork, found


def test_facts_a_later_file_asks_for_are_computed_before_the_fork(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first chunk (one file here) never asks for the app's lifecycle: FTL501 asks for
    # it in `z_app.py`, which a worker may check. Both processes used to build it.
    files = {"a_models.py": "class User:\n    pass\n", "z_app.py": _APP}
    at_fork, found = _facts_at_fork(monkeypatch, tmp_path, files)
    assert at_fork == [1]
    assert [(Path(path).name, code) for path, _, _, code, _ in found] == [
        ("z_app.py", "FTL501"),
        ("z_app.py", "FTL502"),
    ]
    assert found == findings([tmp_path], tmp_path)


def test_facts_no_file_triggers_are_not_computed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {"a_models.py": "class User:\n    pass\n", "z_jobs.py": "JOBS = {}\n"}
    at_fork, found = _facts_at_fork(monkeypatch, tmp_path, files)
    assert at_fork == [0]
    assert found == []


def test_a_failing_fact_fails_only_its_rule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(project: object) -> None:
        raise RuntimeError("a fact failed")

    monkeypatch.setattr(lifespan, "_build", failing)
    files = {"a_models.py": "class User:\n    pass\n", "z_app.py": _APP}
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    found = findings([tmp_path], tmp_path, jobs=2)
    # The pool's early computation swallows the error; each rule that asks meets it again
    # and reports it (FTL501 needs no lifecycle for a start at import time).
    errors = [message for _, _, _, code, message in found if code == RULE_ERROR]
    assert errors and all("a fact failed" in message for message in errors)
    assert "FTL501" in {code for _, _, _, code, _ in found}
    assert found == findings([tmp_path], tmp_path)


def test_a_worker_hands_over_what_it_read_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each chunk a worker checks brings back what was read since its last one, so a result
    stays small; merged, they are what one process checking both chunks records."""
    root = copy_project(FIXTURES / "projects" / "crossing", tmp_path)

    def indexed() -> tuple[Linter, list[tuple[Path, frozenset[str]]]]:
        linter = Linter(Config(select=("FTL",), root=root))
        found, project = linter.index([root])
        monkeypatch.setattr(parallel, "_worker", (linter, project))
        return linter, [(path, frozenset[str]()) for path in found.files]

    _, work = indexed()
    half = len(work) // 2
    first = parallel._check_chunk_in_worker(work[:half])[2]
    second = parallel._check_chunk_in_worker(work[half:])[2]
    assert first.computed and not first.computed & second.computed
    merged = Observations()
    merged.merge(first)
    merged.merge(second)
    _, work = indexed()
    assert merged.to_json() == parallel._check_chunk(work)[2].to_json()


def _facts_computed(
    monkeypatch: pytest.MonkeyPatch, run: Callable[[], object], nested: bool
) -> set[str]:
    """The whole-program facts `run` computes (`nested`: also those computed within another
    fact), but not the per-name answer tables (`memo(key, dict)`) nor values read from every
    file's bytes."""
    computed: set[str] = set()
    memo = ProjectIndex.memo

    def recording(self: ProjectIndex, key: str, compute: Any, lasting: bool = False) -> Any:
        outermost = not self._computing
        if (nested or outermost) and compute is not dict and not key.startswith(_BYTE_VALUES):
            computed.add(key)
        return memo(self, key, compute, lasting)

    with monkeypatch.context() as patched:
        patched.setattr(ProjectIndex, "memo", recording)
        run()
    return computed


_BYTE_VALUES = ("global ", "parts ", "sources")


@pytest.mark.parametrize("code", sorted(all_rules()))
def test_a_rule_lists_the_facts_it_asks_for(code: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """`Rule.facts` stays true: what a rule asks for over every fixture is what it lists,
    so a pooled run computes it before the fork instead of in every process."""
    files = sorted(FIXTURES.glob("FTL*/*.py"))
    asked = _facts_computed(
        monkeypatch, lambda: findings(files, FIXTURES, select=(code,)), nested=False
    )
    project = ProjectIndex(files, Config(select=(code,), root=FIXTURES))
    listed = _facts_computed(
        monkeypatch, lambda: [fact(project) for fact in all_rules()[code].facts], nested=True
    )
    assert asked <= listed


def test_spawned_workers_give_the_serial_output(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where processes cannot fork, workers are spawned, each with its own index, and check
    fixed chunks; each hands back what it read since its last chunk, as forked ones do."""
    monkeypatch.setattr(parallel, "_context", lambda: multiprocessing.get_context("spawn"))
    root = FIXTURES / "projects" / "crossing"
    serial = findings([root], root)
    assert serial
    assert findings([root], root, jobs=2) == serial


def test_rules_apart_are_checked_in_a_process_of_their_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FTL202 is checked apart (`Rule.apart`): its dependency scan is computed once, in a
    process forked before the other rules' facts, never in this one; the run's findings
    are those of one process."""
    files = sorted(FIXTURES.glob("FTL*/*.py"))
    serial = findings(files, FIXTURES)
    assert "FTL202" in {code for _, _, _, code, _ in serial}
    record = tmp_path / "pids"
    lasting = ProjectIndex.lasting

    def recorded(self: ProjectIndex, name: str) -> Any:
        if name not in self._memo:
            with record.open("a") as pids:  # forked processes append to the same file
                pids.write(f"{os.getpid()}\n")
        return lasting(self, name)

    monkeypatch.setattr(ProjectIndex, "lasting", recorded)
    assert findings(files, FIXTURES, jobs=2) == serial
    computed = record.read_text().split()
    assert len(computed) == 1
    assert computed != [str(os.getpid())]


def test_a_split_run_needs_rules_on_both_sides() -> None:
    assert Linter(Config(select=("FTL",))).split() is not None
    assert Linter(Config(select=("FTL201", "FTL302"))).split() is None  # none apart
    assert Linter(Config(select=("FTL202",))).split() is None  # all apart
    apart, rest = Linter(Config(select=("FTL",))).split() or (None, None)
    assert apart is not None and rest is not None
    assert [rule.code for rule in apart.rules] == ["FTL202"]
    assert "FTL202" not in {rule.code for rule in rest.rules}
    assert apart.unused_noqa is None and rest.unused_noqa is None


def test_a_noqa_naming_our_codes_is_judged_against_every_rule(tmp_path: Path) -> None:
    """FTL003 reads a file's `# noqa` comments against every rule's findings, so a split run
    checks such a file whole: a noqa that suppresses FTL202's finding is used, one that
    suppresses nothing is reported, as in one process."""
    routes = """\
import time

from fastapi import APIRouter, BackgroundTasks

router = APIRouter()


def send(to: str) -> str:
    return to


@router.get("/slow")
async def slow(tasks: BackgroundTasks) -> None:
    time.sleep(1)  # noqa: FTL202
    tasks.add_task(send, "a@b.c")  # noqa: FTL202
    tasks.add_task(send("a@b.c"))  # noqa: FTL104
"""
    (tmp_path / "routes.py").write_text(routes)
    for index in range(3):
        (tmp_path / f"other{index}.py").write_text("async def ping() -> None: ...\n")
    serial = findings([tmp_path], tmp_path)
    assert [(Path(f[0]).name, f[1], f[3]) for f in serial] == [("routes.py", 15, "FTL003")]
    assert findings([tmp_path], tmp_path, jobs=2) == serial


def test_a_failing_apart_process_fails_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(self: Linter, path: Path, project: ProjectIndex, unwanted: Any = None) -> Any:
        if [rule.code for rule in self.rules] == ["FTL202"]:
            raise RuntimeError("the rules apart failed")
        return check_file(self, path, project, frozenset() if unwanted is None else unwanted)

    check_file = Linter.check_file
    monkeypatch.setattr(Linter, "check_file", failing)
    with pytest.raises(RuntimeError, match="the rules apart failed"):
        findings(sorted(FIXTURES.glob("FTL20*/*.py")), FIXTURES, jobs=2)


def test_merged_outcomes_report_a_files_read_error_once() -> None:
    error = Diagnostic(PARSE_ERROR, "parse-error", "cannot check file: x", "a.py", 1, 1, 1, 1)
    finding = Diagnostic("FTL202", "blocking", "m", "a.py", 2, 1, 2, 5)
    checked: parallel.Outcome = ([error], [], frozenset({"FTL201"}))
    apart: parallel.Outcome = ([error, finding], [], frozenset())
    assert parallel._merged(checked, apart) == ([error, finding], [], frozenset({"FTL201"}))
    assert parallel._merged(checked, None) == checked  # checked whole


def test_an_apart_process_that_dies_fails_the_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "_check_apart", lambda *args: os._exit(3))
    with pytest.raises(RuntimeError, match=r"without an outcome \(exit code 3\)"):
        findings(sorted(FIXTURES.glob("FTL20*/*.py")), FIXTURES, jobs=2)


def test_without_a_temporary_file_the_pool_checks_every_rule(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The process of the rules apart hands its outcome back in a temporary file: where none
    can be made, the run checks FTL202 in the pool with the others, and finds the same."""
    files = sorted(FIXTURES.glob("FTL20*/*.py"))
    serial = findings(files, FIXTURES)

    def refused() -> Any:
        raise PermissionError("no temporary directory")

    monkeypatch.setattr(parallel.tempfile, "TemporaryFile", refused)
    with recording(monkeypatch, ProjectIndex, "lasting", 1) as computed_here:
        assert findings(files, FIXTURES, jobs=2) == serial
    assert computed_here  # FTL202's dependency scan: in this process, not one apart
