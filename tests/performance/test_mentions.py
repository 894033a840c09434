"""The identifier prefilters accept every spelling libcst would resolve, and not substrings."""

from __future__ import annotations

import pytest

from fastapi_task_lint.semantics.mentions import (
    Prefilter,
    calling,
    import_renames,
    importing,
    naming,
    renamings,
)


@pytest.mark.parametrize(
    "source",
    [
        b"tasks = {}\n",
        b"from app.state import tasks\n",
        b"from app.state import tasks as jobs\n",
        b"state.tasks[job_id] = 'done'\n",
        b"print(tasks)",
        b"x=tasks",
        b"caf\xc3\xa9tasks = 1\n",  # a non-ASCII neighbour only costs a parse
        b"subtasks = tasks_by_id = 1\nreturn tasks\n",  # after longer identifiers
    ],
)
def test_naming_accepts_the_identifier(source: bytes) -> None:
    assert naming(["tasks", "JOBS"])(source)


@pytest.mark.parametrize(
    "source",
    [b"subtasks = {}\n", b"tasks_by_id = {}\n", b"asyncio_tasks.add(t)\n", b"TASKS = []\n", b""],
)
def test_naming_turns_down_longer_identifiers(source: bytes) -> None:
    assert not naming(["tasks"])(source)


@pytest.mark.parametrize(
    "source",
    [
        b"run_later(bg, send)\n",
        b"helpers.run_later (bg, send)\n",
        b"helpers.run_later\\\n(bg, send)\n",
        b"x = (run_later  # schedule it\n     (bg, send))\n",
        b"x = (run_later\r\n  (bg, send))\n",
        b"@run_later(bg)\ndef f(): ...\n",
        b"my_run_later(bg)\nrun_later_now(bg)\nrun_later(bg)\n",  # the third occurrence
        b"spawn (x)",  # at the very start
    ],
)
def test_calling_accepts_every_way_to_write_a_call(source: bytes) -> None:
    assert calling(["run_later", "spawn"])(source)


@pytest.mark.parametrize(
    "source",
    [
        b"from helpers import run_later\n",
        b"callbacks = [run_later]\n",
        b"my_run_later(bg, send)\n",
        b"run_later_now(bg, send)\n",
    ],
)
def test_calling_turns_down_names_that_are_not_called(source: bytes) -> None:
    assert not calling(["run_later"])(source)


def test_no_names_accept_nothing() -> None:
    assert not naming([])(b"anything at all")
    assert not calling([""])(b"f()")


def _renames(*sources: bytes) -> dict[str, set[str]]:
    renames: dict[str, set[str]] = {}
    for data in sources:
        for old, new in import_renames(data):
            renames.setdefault(old, set()).add(new)
    return renames


def test_renamings_follow_imports_that_rename_also_through_re_exports() -> None:
    renames = _renames(
        b"from .helpers import run_later as later\nfrom .state import JOBS as RUNS\n",
        b"from app import later as defer, RUNS\n",
        b"from app import (\n    defer \\\n    as  soon,\n)\n",
        b"run_later = 1\nJOBS = {}\n",
    )
    assert renamings(["run_later", "JOBS"], renames) == {
        "run_later": {"run_later"},
        "later": {"run_later"},
        "defer": {"run_later"},
        "soon": {"run_later"},
        "JOBS": {"JOBS"},
        "RUNS": {"JOBS"},
    }


def test_renamings_keep_every_name_a_rename_may_stand_for() -> None:
    renames = _renames(b"from a import one as same\n", b"from b import two as same\n")
    assert renamings(["one", "two"], renames)["same"] == {"one", "two"}


def test_renamings_ignore_longer_identifiers() -> None:
    renames = _renames(b"from x import subtasks as s, tasks_by_id as t\n")
    assert renamings(["tasks"], renames) == {"tasks": {"tasks"}}


def test_import_renames_reads_only_import_statements() -> None:
    source = (
        b"with run_later as ctx:\n    pass\n"
        b"try:\n    pass\nexcept run_later as error:\n    pass\n"
        b"x = run_later  # import run_later as later\n"
        b"if TYPE_CHECKING: from app import run_later as typed\n"
        b"import app.helpers as helpers; from . import (a as b,\n c as d)\n"
    )
    assert list(import_renames(source)) == [
        ("run_later", "typed"),
        ("app.helpers", "helpers"),
        ("a", "b"),
        ("c", "d"),
    ]


@pytest.mark.parametrize("prefilter", [calling(["run_later"]), importing(["run_later"])])
def test_a_comment_of_hashes_is_read_once(prefilter: Prefilter) -> None:
    """`# ####...` after a callee or a dot: a gap regex that let a comment end at any `#`
    tried every split of it, exponential in their number (64 never returned)."""
    assert not prefilter(b"x = run_later # " + b"#" * 64 + b"\n")
    assert not prefilter(b"x = 1. # " + b"#" * 64 + b"\nrun_it = 2\n")
    assert prefilter(b"y = state.  # " + b"#" * 64 + b"\n    run_later(1)\n")


@pytest.mark.parametrize(
    "source",
    [
        b"from app.state import JOBS\n",
        b"from app import (\n    JOBS,\n)\n",
        b"import app.state\napp.state.JOBS['a'] = 1\n",
        b"self.JOBS.clear()\n",
        b"from app.state import *\nJOBS.clear()\n",
        b"if TYPE_CHECKING: from app.state import JOBS\n",
    ],
)
def test_importing_accepts_every_way_to_reach_another_modules_name(source: bytes) -> None:
    assert importing(["JOBS"])(source)


@pytest.mark.parametrize(
    "source",
    [
        b"def f():\n    JOBS = {}\n    JOBS['a'] = 1\n",  # its own local
        b"print('JOBS')\n",
        b"from app.state import JOBS_BY_ID\n",
        b"x = app.state.JOBS_BY_ID\n",
    ],
)
def test_importing_turns_down_locals_and_longer_names(source: bytes) -> None:
    assert not importing(["JOBS"])(source)


def test_a_parenthesis_in_a_comment_does_not_end_the_import() -> None:
    source = b"from app.state import (  # see (docs)\n    JOBS as RUNS,\n)\nRUNS.clear()\n"
    assert importing(["JOBS"])(source)
    assert list(import_renames(source)) == [("JOBS", "RUNS")]
    unclosed = b"from app.state import (  # ) \n    JOBS"
    assert importing(["JOBS"])(unclosed)
