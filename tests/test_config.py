"""Configuration: discovery, both file formats, validation errors that name file and key."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from fastapi_task_lint.cli import main
from fastapi_task_lint.config import ConfigError, find_config_file, load_config
from fastapi_task_lint.rules import all_options, all_rules

BAD = """\
from fastapi import BackgroundTasks


async def notify(to: str) -> None: ...


def handler(background_tasks: BackgroundTasks) -> None:
    background_tasks.add_task(notify("a@example.com"))
"""


def load(path: Path) -> object:
    return load_config(None, path, all_options(), all_rules())


def test_pyproject_section(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.fastapi-task-lint]\nignore = ["FTL104"]\n'
        'per-file-ignores = { "tests/*" = ["FTL1"] }\norm-base-classes = ["app.db.Model"]\n'
    )
    config = load_config(None, tmp_path, all_options(), all_rules())
    assert config.ignore == ("FTL104",)
    assert config.per_file_ignores == (("tests/*", ("FTL1",)),)
    assert config.orm_base_classes == ("app.db.Model",)
    assert config.source == tmp_path / "pyproject.toml"


def test_setup_cfg_section(tmp_path: Path) -> None:
    (tmp_path / "setup.cfg").write_text(
        "[fastapi-task-lint]\nselect = FTL101, FTL104\nper-file-ignores =\n    tests/*: FTL101\n"
    )
    config = load_config(None, tmp_path, all_options(), all_rules())
    assert config.select == ("FTL101", "FTL104")
    assert config.per_file_ignores == (("tests/*", ("FTL101",)),)


def test_nearest_file_with_the_section_wins(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.fastapi-task-lint]\nignore = ["FTL101"]\n')
    inner = tmp_path / "service"
    inner.mkdir()
    (inner / "pyproject.toml").write_text("[project]\nname = 'x'\n")  # no section: skipped
    assert find_config_file(inner) == tmp_path / "pyproject.toml"
    (inner / "setup.cfg").write_text("[fastapi-task-lint]\nignore = FTL104\n")
    assert find_config_file(inner) == inner / "setup.cfg"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('selcet = ["FTL1"]', "key 'selcet': unknown key"),
        ('ignore = "FTL101"', "key 'ignore': expected a list of strings"),
        ('select = ["FTL999"]', "key 'select': unknown rule code 'FTL999'"),
        ('select = ["E501"]', "key 'select': 'E501' is not a rule code"),
        ('per-file-ignores = { "a.py" = ["FTL77"] }', "key 'per-file-ignores' ('a.py')"),
        ("select = [", "invalid TOML"),
    ],
)
def test_errors_name_file_and_key(tmp_path: Path, body: str, message: str) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.fastapi-task-lint]\n{body}\n")
    with pytest.raises(ConfigError) as raised:
        load(tmp_path)
    assert str(tmp_path / "pyproject.toml") in str(raised.value)
    assert message in str(raised.value)


def test_cli_config_error_exit_2_without_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.fastapi-task-lint]\nignroe = ["FTL1"]\n')
    (tmp_path / "a.py").write_text(BAD)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", "a.py"])
    assert result.exit_code == 2
    assert "pyproject.toml: key 'ignroe': unknown key" in result.stderr
    assert "Traceback" not in result.output


def test_config_applies_to_a_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "t.py").write_text(BAD)
    (tmp_path / "app.py").write_text(BAD)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.fastapi-task-lint]\nper-file-ignores = { "tests/*" = ["FTL104"] }\n'
    )
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", "--format", "json", "."])
    assert result.exit_code == 1
    assert '"path": "app.py"' in result.stdout
    assert "tests/t.py" not in result.stdout
    other = tmp_path / "other.toml"
    other.write_text('[tool.fastapi-task-lint]\nignore = ["FTL104"]\n')
    assert CliRunner().invoke(main, ["check", "--config", str(other), "."]).exit_code == 0
    missing = CliRunner().invoke(main, ["check", "--config", "nope.toml", "."])
    assert missing.exit_code == 2 and "config file not found" in missing.stderr


def test_exclude_and_gitignore(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess

    for name in ("keep.py", "generated/gen.py", ".venv/lib.py", "ignored/x.py", "stub.pyi"):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(BAD)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text("ignored/\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", "--extend-exclude", "generated", "."])
    paths = {line.split(":")[0] for line in result.stdout.splitlines()}
    assert paths == {"keep.py"}
    explicit = CliRunner().invoke(main, ["check", "ignored/x.py", "stub.pyi"])
    assert {line.split(":")[0] for line in explicit.stdout.splitlines()} == {
        "ignored/x.py",
        "stub.pyi",
    }


def test_an_ignored_directory_named_explicitly_is_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess

    for name in ("vendor/app.py", "vendor/ignored_inside.py", "src/app.py"):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(BAD)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text("vendor/\n")
    monkeypatch.chdir(tmp_path)
    walked = CliRunner().invoke(main, ["check", "."])
    assert {line.split(":")[0] for line in walked.stdout.splitlines()} == {"src/app.py"}
    named = CliRunner().invoke(main, ["check", "vendor"])
    assert {line.split(":")[0] for line in named.stdout.splitlines()} == {
        "vendor/app.py",
        "vendor/ignored_inside.py",
    }
