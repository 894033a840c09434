"""`check --fix/--unsafe-fixes/--diff`: fixes are libcst node swaps, re-parsed and re-checked."""

from __future__ import annotations

import shutil
from pathlib import Path

import libcst as cst
import pytest
from click.testing import CliRunner

from fastapi_task_lint.cli import main
from fastapi_task_lint.config import Config
from fastapi_task_lint.engine import Linter
from fastapi_task_lint.fixer import allowed_fixes, fix_paths
from fastapi_task_lint.rules import all_rules
from fastapi_task_lint.rules.base import NodeFix, Rule, RuleContext, RuleDocs
from tests.fixture_harness import FIXTURES

BAD = """\
from fastapi import BackgroundTasks


def send_email(to: str, subject: str = "") -> None: ...


def signup(background_tasks: BackgroundTasks, to: str):
    background_tasks.add_task(send_email(to, "Welcome"))
    background_tasks.add_task(send_email(to))  # noqa: FTL104
"""

FIXED = BAD.replace('add_task(send_email(to, "Welcome"))', 'add_task(send_email, to, "Welcome")')


def _run(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    runner = CliRunner()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path)
        result = runner.invoke(main, ["check", *args])
    return result.exit_code, result.stdout, result.stderr


def test_fix_applies_only_safe_fixes_unless_unsafe_is_allowed(tmp_path: Path) -> None:
    bad = tmp_path / "app.py"
    bad.write_text(BAD)
    status, out, err = _run(tmp_path, "--fix", "--select", "FTL104")
    assert bad.read_text() == BAD  # FTL104's fix is unsafe
    assert status == 1 and "app.py:8:31: FTL104" in out
    assert "Fixed 0 findings, 1 remaining" in err

    status, out, err = _run(tmp_path, "--fix", "--unsafe-fixes", "--select", "FTL104")
    assert bad.read_text() == FIXED  # the suppressed line is left alone
    assert (status, out) == (0, "")
    assert "Fixed 1 finding, 0 remaining (1 file checked)." in err


def test_diff_prints_a_unified_diff_and_changes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "app.py"
    bad.write_text(BAD)
    status, out, err = _run(tmp_path, "--diff", "--unsafe-fixes", "--select", "FTL104")
    assert bad.read_text() == BAD
    assert status == 1
    assert out.splitlines()[:2] == ["--- a/app.py", "+++ b/app.py"]
    assert '-    background_tasks.add_task(send_email(to, "Welcome"))' in out.splitlines()
    assert '+    background_tasks.add_task(send_email, to, "Welcome")' in out.splitlines()
    assert "Would fix 1 finding in 1 file." in err
    bad.write_text(FIXED)
    assert _run(tmp_path, "--diff", "--unsafe-fixes", "--select", "FTL104")[:2] == (0, "")


def test_unsafe_fixes_alone_is_a_usage_error(tmp_path: Path) -> None:
    assert _run(tmp_path, "--unsafe-fixes")[0] == 2


def test_fix_keeps_the_file_encoding(tmp_path: Path) -> None:
    bad = tmp_path / "app.py"
    source = "# -*- coding: latin-1 -*-\n# café\n" + BAD.replace("\n", "\r\n")
    bad.write_bytes(source.encode("latin-1"))
    _run(tmp_path, "--fix", "--unsafe-fixes", "--select", "FTL104")
    expected = "# -*- coding: latin-1 -*-\n# café\n" + FIXED.replace("\n", "\r\n")
    assert bad.read_bytes() == expected.encode("latin-1")


FIXABLE = sorted(code for code, rule in all_rules().items() if rule.fixable)
FIXABLE_FILES = sorted(
    path for code in FIXABLE for path in (FIXTURES / code).glob("**/*.py") if path.is_file()
)


@pytest.mark.parametrize(
    "fixture", FIXABLE_FILES, ids=[str(p.relative_to(FIXTURES)) for p in FIXABLE_FILES]
)
def test_fixing_twice_equals_fixing_once(fixture: Path, tmp_path: Path) -> None:
    """Every rule with a fix, on its fixture files: idempotent, parseable, fewer findings."""
    code = fixture.relative_to(FIXTURES).parts[0]
    target = tmp_path / fixture.name
    shutil.copy(fixture, target)
    linter = Linter(Config(select=(code,), root=tmp_path))
    unsafe = allowed_fixes(unsafe=True)
    before = linter.check_paths([target]).diagnostics
    once = fix_paths(linter, [target], unsafe, write=True)
    fixed_once = target.read_text()
    assert not once.warnings
    cst.parse_module(fixed_once)
    assert once.fixed == sum(d.fix is not None for d in before)
    assert len(once.remaining.diagnostics) == len(before) - once.fixed
    again = fix_paths(linter, [target], unsafe, write=True)
    assert again.fixed == 0
    assert target.read_text() == fixed_once


def test_rules_lists_which_rules_fix(tmp_path: Path) -> None:
    listing = CliRunner().invoke(main, ["rules"]).stdout
    line = next(line for line in listing.splitlines() if line.startswith("FTL104"))
    assert line.endswith("[fix: unsafe]")


class _Synthetic(Rule):
    """A rule registered only here: fixes that would not parse, and fixes that overlap."""

    code = "FTL999"
    name = "synthetic"
    summary = "test rule"
    docs = RuleDocs("", "", "", "")
    triggers = (b"call",)
    fixable = "safe"

    def check(self, ctx: RuleContext) -> None:
        for info in ctx.model.calls:
            func = info.node.func
            if isinstance(func, cst.Name) and func.value == "call_broken":
                broken = info.node.with_changes(func=cst.Name("if"))  # `if(1)`
                ctx.report(info.node, "broken", NodeFix("break", "safe", ((info.node, broken),)))
            if isinstance(func, cst.Name) and func.value == "call_outer":
                renamed = info.node.with_changes(func=cst.Name("call_done"))
                ctx.report(info.node, "outer", NodeFix("outer", "safe", ((info.node, renamed),)))
            if isinstance(func, cst.Name) and func.value == "call_inner":
                renamed = info.node.with_changes(func=cst.Name("call_inner_done"))
                ctx.report(info.node, "inner", NodeFix("inner", "safe", ((info.node, renamed),)))


def _synthetic_linter(root: Path) -> Linter:
    linter = Linter(Config(select=("FTL104",), root=root))
    linter.rules.append(_Synthetic())
    return linter


def test_a_fix_that_would_not_parse_is_dropped_with_a_warning(tmp_path: Path) -> None:
    target = tmp_path / "m.py"
    target.write_text("call_broken(1)\ncall_inner(2)\n")
    run = fix_paths(_synthetic_linter(tmp_path), [target], allowed_fixes(False), write=True)
    assert target.read_text() == "call_broken(1)\ncall_inner_done(2)\n"
    assert run.fixed == 1
    assert [w.split("m.py: ")[-1] for w in run.warnings] == [
        "dropped fix 'break': the fixed code would not parse"
    ]
    assert [d.message for d in run.remaining.diagnostics] == ["broken"]


def test_overlapping_fixes_apply_over_several_passes(tmp_path: Path) -> None:
    target = tmp_path / "m.py"
    target.write_text("call_outer(call_inner(1))\n")
    run = fix_paths(_synthetic_linter(tmp_path), [target], allowed_fixes(False), write=True)
    assert target.read_text() == "call_done(call_inner_done(1))\n"
    assert run.fixed == 2
    assert run.remaining.diagnostics == []


def test_fix_keeps_the_layout_around_the_fixed_call(tmp_path: Path) -> None:
    target = tmp_path / "app.py"
    target.write_text(
        BAD.replace(
            'add_task(send_email(to, "Welcome"))',
            'add_task(\n        send_email(to, "Welcome"),\n    )',
        )
    )
    _run(tmp_path, "--fix", "--unsafe-fixes", "--select", "FTL104")
    assert '    background_tasks.add_task(\n        send_email, to, "Welcome",\n    )\n' in (
        target.read_text()
    )


def test_ftl104_fix_is_not_offered_when_a_keyword_would_reach_add_task_itself(
    tmp_path: Path,
) -> None:
    """`add_task(notify(func="x"))` -> `add_task(notify, func="x")` would raise `TypeError:
    add_task() got multiple values for argument 'func'` (Starlette's `add_task(self, func,
    *args, **kwargs)`)."""
    target = tmp_path / "app.py"
    source = BAD.replace('send_email(to, "Welcome")', 'send_email(to, func="Welcome")').replace(
        'subject: str = ""', 'func: str = ""'
    )
    target.write_text(source)
    code, _, _ = _run(tmp_path, "--fix", "--unsafe-fixes", "--select", "FTL104")
    assert code == 1
    assert target.read_text() == source


def test_ftl105_fix_keeps_arguments_over_several_lines_and_their_comments(
    tmp_path: Path,
) -> None:
    target = tmp_path / "app.py"
    target.write_text(
        "from celery import shared_task\nfrom fastapi import BackgroundTasks\n\n\n"
        "@shared_task\ndef render_pdf(order_id): ...\n\n\n"
        "def handler(bg: BackgroundTasks) -> None:\n"
        "    bg.add_task(\n        render_pdf,\n        2,  # from the legacy table\n    )\n"
    )
    _run(tmp_path, "--fix", "--unsafe-fixes", "--select", "FTL105")
    assert target.read_text().endswith(
        "    render_pdf.delay(\n        2,  # from the legacy table\n    )\n"
    )
