"""The CLI as users run it: formats, selection, exit codes, bad input, a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from fastapi_task_lint.cli import main

BAD = """\
from fastapi import BackgroundTasks


async def notify(to: str) -> None: ...


def handler(background_tasks: BackgroundTasks) -> None:
    background_tasks.add_task(notify("a@example.com"))
"""
GOOD = """\
from fastapi import BackgroundTasks


async def notify(to: str) -> None: ...


def handler(background_tasks: BackgroundTasks) -> None:
    background_tasks.add_task(notify, "a@example.com")
"""


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "bad.py").write_text(BAD)
    (tmp_path / "app" / "good.py").write_text(GOOD)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_text_output_and_exit_status(project: Path) -> None:
    code, out, err = run("check", "app")
    assert code == 1
    assert out.splitlines() == [
        'app/bad.py:8:31: FTL104 [*] `notify("a@example.com")` is scheduled as the task: '
        "`notify` is `async def`, so the task receives an un-awaited coroutine and the work "
        "never runs; pass the function and its arguments instead: "
        "`background_tasks.add_task(notify, ...)`"
    ]
    assert "Found 1 finding in 3 files." in err


def test_clean_run_exits_zero(project: Path) -> None:
    code, out, err = run("check", "app/good.py")
    assert (code, out, err) == (0, "", "All checks passed (1 file).\n")
    assert run("check", "app/good.py", "app/__init__.py")[2] == "All checks passed (2 files).\n"


def test_json_schema(project: Path) -> None:
    code, out, _ = run("check", "--format", "json", "app")
    assert code == 1
    findings = json.loads(out)
    assert isinstance(findings, list) and len(findings) == 1
    finding = findings[0]
    assert set(finding) == {
        "code",
        "name",
        "message",
        "path",
        "line",
        "column",
        "end_line",
        "end_column",
        "fix",
    }
    assert finding["code"] == "FTL104" and finding["name"] == "call-result-to-task"
    assert (finding["path"], finding["line"], finding["column"]) == ("app/bad.py", 8, 31)
    assert (finding["end_line"], finding["end_column"]) == (8, 54)
    assert finding["fix"]["applicability"] == "unsafe"
    assert finding["fix"]["edits"][0]["content"] == (
        'background_tasks.add_task(notify, "a@example.com")'
    )


def test_github_format(project: Path) -> None:
    _, out, _ = run("check", "--format", "github", "app")
    assert out.startswith("::warning file=app/bad.py,line=8,col=31,endLine=8,endColumn=54,")
    assert "::FTL104 " in out


def test_sarif_has_rules_and_regions(project: Path) -> None:
    _, out, _ = run("check", "--format", "sarif", "app")
    document = json.loads(out)
    assert document["version"] == "2.1.0"
    run_ = document["runs"][0]
    rule_ids = [r["id"] for r in run_["tool"]["driver"]["rules"]]
    assert "FTL101" in rule_ids and "FTL104" in rule_ids
    region = run_["results"][0]["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 8, "startColumn": 31, "endLine": 8, "endColumn": 54}


def test_show_source_draws_a_caret(project: Path) -> None:
    _, out, _ = run("check", "--show-source", "app/bad.py")
    lines = out.splitlines()
    assert lines[1] == '        background_tasks.add_task(notify("a@example.com"))'
    assert lines[2] == "    " + " " * 30 + "^" * 23


def test_select_ignore_and_prefixes(project: Path) -> None:
    assert run("check", "--ignore", "FTL104", "app")[0] == 0
    assert run("check", "--select", "FTL1", "app")[0] == 1
    assert run("check", "--select", "FTL101", "app")[0] == 0
    assert run("check", "--select", "FTL1", "--ignore", "FTL10", "app")[0] == 0
    assert run("check", "--select", "FTL104", "--ignore", "FTL1", "app")[0] == 1


def test_unknown_code_is_a_usage_error(project: Path) -> None:
    code, _, err = run("check", "--select", "FTL999", "app")
    assert code == 2
    assert "unknown rule code 'FTL999'" in err


def test_exit_zero_statistics_and_output_file(project: Path) -> None:
    code, out, _ = run(
        "check", "--exit-zero", "--statistics", "--format", "json", "--output-file", "r.json", "app"
    )
    assert code == 0
    assert "    1  FTL104  call-result-to-task" in out
    assert json.loads((project / "r.json").read_text())[0]["code"] == "FTL104"


@pytest.mark.parametrize("output_format", ["json", "sarif", "gitlab"])
def test_statistics_keep_a_document_on_stdout_whole(project: Path, output_format: str) -> None:
    code, out, err = run("check", "--statistics", "--format", output_format, "app")
    assert code == 1
    json.loads(out)  # one document, nothing after it
    assert "    1  FTL104  call-result-to-task" in err


def test_noqa_suppresses(project: Path) -> None:
    source = BAD.replace('"a@example.com"))', '"a@example.com"))  # noqa: ftl104')
    (project / "app" / "bad.py").write_text(source)
    assert run("check", "app")[0] == 0
    (project / "app" / "bad.py").write_text(BAD.replace("))", "))  # noqa: FTL101"))
    assert run("check", "app")[0] == 1
    (project / "app" / "bad.py").write_text(BAD.replace("))", "))  # noqa"))
    assert run("check", "app")[0] == 0
    (project / "app" / "bad.py").write_text("# fastapi-task-lint: noqa\n" + BAD)
    assert run("check", "app")[0] == 0


def test_missing_path_is_an_error(project: Path) -> None:
    code, _, err = run("check", "app", "nope.py")
    assert code == 2
    assert "nope.py: no such file or directory" in err


def test_bad_files_do_not_stop_the_run(project: Path) -> None:
    (project / "app" / "broken.py").write_text("def broken(:\n    tasks.add_task(f)\n")
    (project / "app" / "unrelated.py").write_text("def broken(:\n    pass\n")
    (project / "app" / "latin.py").write_bytes(b"x = '\xff'\n")
    (project / "app" / "nul.py").write_bytes(b"x = 1\x00\n")
    code, out, _ = run("check", "app")
    assert code == 1
    lines = out.splitlines()
    assert any(line.startswith("app/bad.py:8:31: FTL104") for line in lines)
    assert "app/broken.py:1:12: FTL001 cannot check file: syntax error" in "\n".join(lines)
    assert any(
        line.startswith("app/latin.py:1:1: FTL001 cannot check file: cannot decode")
        for line in lines
    )
    assert "app/nul.py:1:1: FTL001 cannot check file: file contains NUL bytes" in lines
    assert "Traceback" not in out
    # Parsing is only for files that can hold a finding (the prefilter), so a syntax error in
    # a file without any rule's trigger string is left to the compiler's own tools.
    assert not any(line.startswith("app/unrelated.py") for line in lines)


def test_rules_json() -> None:
    code, out, _ = run("rules", "--format", "json")
    assert code == 0
    rows = json.loads(out)
    by_code = {row["code"]: row for row in rows}
    assert set(rows[0]) == {"code", "name", "summary", "default", "fixable"}
    assert by_code["FTL104"]["fixable"] == "unsafe"
    assert by_code["FTL101"]["default"] is True


def test_real_subprocess_and_module_entry_point(project: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)}
    for command in (
        [str(Path(sys.executable).parent / "fastapi-task-lint"), "check", "app"],
        [sys.executable, "-m", "fastapi_task_lint", "check", "app"],
    ):
        completed = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        assert completed.returncode == 1, completed.stderr
        assert completed.stdout.startswith("app/bad.py:8:31: FTL104")
        assert "Traceback" not in completed.stderr


def test_console_script_exits_with_the_status_after_flushing_everything(project: Path) -> None:
    """`run` ends the process with os._exit: statuses and buffered output must survive it."""
    script = str(Path(sys.executable).parent / "fastapi-task-lint")
    (project / "clean").mkdir()
    (project / "clean" / "ok.py").write_text("x = 1\n", encoding="utf-8")
    cases = [
        (["check", "--format", "json", "app"], 1),
        (["check", "clean"], 0),
        (["check", "--select", "FTL9999", "app"], 2),
        (["--version"], 0),
    ]
    for arguments, status in cases:
        completed = subprocess.run(
            [script, *arguments], capture_output=True, text=True, cwd=project, check=False
        )
        assert completed.returncode == status, (arguments, completed.stderr)
        assert "Traceback" not in completed.stderr
    report = subprocess.run(
        [script, "check", "--format", "json", "app"], capture_output=True, cwd=project, check=False
    )
    assert json.loads(report.stdout)  # the whole report, not a truncated buffer
