"""Survive any input: each awkward file yields a clear FTL001 or normal findings, never a
traceback or a hang, and every other file of the run is still fully checked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

FINDING = """\
from fastapi import BackgroundTasks


async def notify(to: str) -> None: ...


def handler(background_tasks: BackgroundTasks) -> None:
    background_tasks.add_task(notify("a@example.com"))
"""
GOOD_FINDING = ("good.py", 8, "FTL104")


def run_cli(tmp_path: Path, *paths: str, timeout: float = 120) -> tuple[int, list[dict], str]:
    """The real CLI in a subprocess: a crash or hang in the parser cannot take pytest down."""
    completed = subprocess.run(
        [sys.executable, "-m", "fastapi_task_lint", "check", "--format", "json", *paths],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert "Traceback" not in completed.stderr, completed.stderr
    findings = json.loads(completed.stdout) if completed.stdout.strip() else []
    return completed.returncode, findings, completed.stderr


def check_with_good_file(tmp_path: Path, name: str, content: bytes) -> list[dict]:
    """Lint `name` beside a file with one known finding; return the findings for `name`."""
    (tmp_path / "good.py").write_text(FINDING)
    (tmp_path / name).write_bytes(content)
    status, findings, _ = run_cli(tmp_path, ".")
    assert status == 1
    assert GOOD_FINDING in {(f["path"], f["line"], f["code"]) for f in findings}
    assert not any(f["code"] == "FTL002" for f in findings)
    return [f for f in findings if f["path"] == name]


def test_empty_file(tmp_path: Path) -> None:
    assert check_with_good_file(tmp_path, "empty.py", b"") == []


def test_only_a_bom(tmp_path: Path) -> None:
    assert check_with_good_file(tmp_path, "bom.py", b"\xef\xbb\xbf") == []


@pytest.mark.parametrize("newline", [b"\r\n", b"\r"])
def test_crlf_and_mixed_line_endings_keep_line_numbers(tmp_path: Path, newline: bytes) -> None:
    lines = FINDING.encode().split(b"\n")
    mixed = newline.join(lines[:4]) + b"\n" + newline.join(lines[4:])
    found = check_with_good_file(tmp_path, "crlf.py", mixed)
    assert [(f["line"], f["code"]) for f in found] == [(8, "FTL104")]


def test_tabs_and_form_feeds(tmp_path: Path) -> None:
    source = FINDING.replace("    background_tasks", "\tbackground_tasks").replace(
        "\n\n\nasync", "\n\f\n\nasync"
    )
    found = check_with_good_file(tmp_path, "tabs.py", source.encode())
    assert [(f["line"], f["column"], f["code"]) for f in found] == [(8, 28, "FTL104")]


@pytest.mark.parametrize("separator", ["\f", "\v", "\x1c", "\u2028"])
def test_a_line_separator_python_does_not_break_at_keeps_noqa_on_its_line(
    tmp_path: Path, separator: str
) -> None:
    """`str.splitlines` breaks at these, Python's tokenizer does not: a `# noqa` was read from
    the wrong line after one of them, and the finding it suppresses was reported."""
    source = FINDING.replace("\n\n\nasync", f"\n# section{separator}break\n\nasync")
    noqa = source.replace("))\n", "))  # noqa: FTL104\n")
    assert [f["line"] for f in check_with_good_file(tmp_path, "sep.py", source.encode())] == [8]
    assert check_with_good_file(tmp_path, "noqa.py", noqa.encode()) == []


def test_nul_bytes(tmp_path: Path) -> None:
    found = check_with_good_file(tmp_path, "nul.py", b"x = 1\nadd_task\x00\n")
    assert [(f["code"], f["line"], f["message"]) for f in found] == [
        ("FTL001", 2, "cannot check file: file contains NUL bytes")
    ]


def test_invalid_utf8(tmp_path: Path) -> None:
    found = check_with_good_file(tmp_path, "bad.py", b"x = 1\ny = '\xff\xfe'\n")
    assert [(f["code"], f["line"]) for f in found] == [("FTL001", 2)]
    assert "cannot decode as utf-8" in found[0]["message"]


def test_latin1_with_coding_cookie_is_checked(tmp_path: Path) -> None:
    source = "# -*- coding: latin-1 -*-\n# caf\xe9\n" + FINDING
    found = check_with_good_file(tmp_path, "latin.py", source.encode("latin-1"))
    assert [(f["line"], f["code"]) for f in found] == [(10, "FTL104")]


def test_wrong_coding_cookie(tmp_path: Path) -> None:
    found = check_with_good_file(tmp_path, "cookie.py", b"# coding: klingon\nx = 1\n")
    assert [f["code"] for f in found] == ["FTL001"]
    assert "unknown encoding: klingon" in found[0]["message"]


def test_python2_syntax(tmp_path: Path) -> None:
    found = check_with_good_file(tmp_path, "py2.py", b'print "add_task"\n')
    assert [(f["code"], f["line"]) for f in found] == [("FTL001", 1)]
    assert "syntax error" in found[0]["message"]


def test_newest_syntax_libcst_supports(tmp_path: Path) -> None:
    source = (
        "type Alias = list[int]\n"
        "def first[T](items: list[T]) -> T:\n    return items[0]\n"
        "class Box[T]:\n    pass\n"
        'match command:\n    case ["go", where]:\n        pass\n'
        "try:\n    pass\nexcept* ValueError:\n    pass\n"
        'greeting = t"hello {name}"\n'
    )
    found = check_with_good_file(tmp_path, "new.py", (source + FINDING).encode())
    assert [(f["line"], f["code"]) for f in found] == [(21, "FTL104")]


@pytest.mark.parametrize(
    "expression",
    [
        "(" * 5000 + "1" + ")" * 5000,
        "[" * 5000 + "]" * 5000,
        "-" * 5000 + "1",
        "+".join(["a"] * 5000),
        "f" + "()" * 5000,
    ],
    ids=["parens", "lists", "unary", "operators", "calls"],
)
def test_5000_level_nesting_is_ftl001_not_a_crash(tmp_path: Path, expression: str) -> None:
    found = check_with_good_file(tmp_path, "deep.py", f"add_task\nx = {expression}\n".encode())
    assert [f["code"] for f in found] == ["FTL001"]
    assert "nested" in found[0]["message"]


def test_20_mb_generated_file(tmp_path: Path) -> None:
    line = b"VALUE_%07d = 'generated constant padding padding'\n"
    body = b"".join(line % i for i in range(400_000))
    assert len(body) > 20_000_000
    # Without any rule's trigger string, the prefilter never parses it.
    assert check_with_good_file(tmp_path, "generated.py", body) == []
    found = check_with_good_file(tmp_path, "generated.py", b"# add_task\n" + body)
    assert [f["code"] for f in found] == ["FTL001"]
    assert "too large to parse" in found[0]["message"]


def test_symlink_loop(tmp_path: Path) -> None:
    (tmp_path / "loop.py").symlink_to("loop.py")
    found = check_with_good_file(tmp_path, "other.py", b"x = 1\n")
    assert found == []
    status, findings, _ = run_cli(tmp_path, ".")
    assert status == 1
    assert ("loop.py", "FTL001") in {(f["path"], f["code"]) for f in findings}
    loop = next(f for f in findings if f["path"] == "loop.py")
    assert "symlink loop" in loop["message"]


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi_task_lint.config import Config
    from fastapi_task_lint.engine import Linter

    (tmp_path / "good.py").write_text(FINDING)
    (tmp_path / "secret.py").write_text(FINDING)
    original = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self.name == "secret.py":  # root ignores chmod 000, so refuse here instead
            raise PermissionError(13, "Permission denied")
        return original(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    monkeypatch.chdir(tmp_path)
    result = Linter(Config(root=tmp_path)).check_paths([Path(".")])
    found = {(d.path, d.code, d.message) for d in result.diagnostics}
    assert (
        "secret.py",
        "FTL001",
        "cannot check file: cannot read file: Permission denied",
    ) in found
    assert ("good.py", "FTL104") in {(d.path, d.code) for d in result.diagnostics}


def test_directory_named_like_a_python_file(tmp_path: Path) -> None:
    (tmp_path / "pkg.py").mkdir()
    (tmp_path / "pkg.py" / "inner.py").write_text(FINDING)
    (tmp_path / "good.py").write_text(FINDING)
    status, findings, _ = run_cli(tmp_path, ".", "pkg.py")
    assert status == 1
    paths = sorted({f["path"] for f in findings})
    assert paths == ["good.py", "pkg.py/inner.py"]


def test_path_that_does_not_exist(tmp_path: Path) -> None:
    (tmp_path / "good.py").write_text(FINDING)
    status, findings, stderr = run_cli(tmp_path, "good.py", "missing.py")
    assert status == 2
    assert "missing.py: no such file or directory" in stderr
    assert [(f["path"], f["code"]) for f in findings] == [("good.py", "FTL104")]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")
def test_fifo_does_not_hang(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.py")
    (tmp_path / "good.py").write_text(FINDING)
    status, findings, _ = run_cli(tmp_path, ".", timeout=60)
    assert status == 1
    pipe = [f for f in findings if f["path"] == "pipe.py"]
    assert [(f["code"], f["message"]) for f in pipe] == [
        ("FTL001", "cannot check file: not a regular file")
    ]


def test_checked_code_is_never_imported_or_run(tmp_path: Path) -> None:
    marker = tmp_path / "MARKER"
    payload = (
        f"from pathlib import Path\nPath({str(marker)!r}).write_text('ran')\n"
        "import os\nos._exit(3)\n" + FINDING
    )
    (tmp_path / "evil.py").write_text(payload)
    (tmp_path / "conftest.py").write_text(payload)
    (tmp_path / "__init__.py").write_text(payload)
    status, findings, _ = run_cli(tmp_path, ".")
    assert status == 1
    assert {f["path"] for f in findings} == {"evil.py", "conftest.py", "__init__.py"}
    assert not marker.exists()


def test_github_annotations_cannot_inject_commands(tmp_path: Path) -> None:
    name = "evil\n::set-output name=x::y,%0A.py"
    (tmp_path / name).write_text(FINDING)
    completed = subprocess.run(
        [sys.executable, "-m", "fastapi_task_lint", "check", "--format", "github", "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = completed.stdout.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("::warning file=evil%0A%3A%3Aset-output name=x%3A%3Ay%2C%250A.py,")


def test_cpython_syntax_warnings_about_user_code_are_not_printed(tmp_path: Path) -> None:
    (tmp_path / "warn.py").write_text('x = "\\d"\nif x is "a":\n    pass\n' + FINDING)
    status, findings, stderr = run_cli(tmp_path, "warn.py")
    assert status == 1 and [f["code"] for f in findings] == ["FTL104"]
    assert "SyntaxWarning" not in stderr


def test_a_module_imported_again_registers_its_definitions_again() -> None:
    """`importlib.reload` (and pytest's in-process runs, which restore `sys.modules`) import a
    module afresh: its prefilter kinds, run globals and lasting facts are the same definitions,
    not a second one under the same name (that raised "registered twice" in the rules)."""
    code = (
        "import importlib\n"
        "from fastapi_task_lint.rules import all_rules\n"
        "import fastapi_task_lint.semantics.scheduling as scheduling\n"
        "import fastapi_task_lint.semantics.wrappers as wrappers\n"
        "import fastapi_task_lint.semantics.byte_filters as filters\n"
        "all_rules()\n"
        "importlib.reload(scheduling)\n"
        "importlib.reload(wrappers)\n"
        "try:\n"
        "    filters.register('sites', lambda: None)\n"
        "except ValueError as error:\n"
        "    print(error)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "byte filter kind 'sites' is registered twice\n"
