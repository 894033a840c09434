"""The pre-commit hooks, run by real `pre-commit try-repo` from this repository.

pre-commit builds the hook's environment with pip from this repository, which downloads
libcst and click: the test needs PyPI and is marked `network`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]

BAD = """\
from celery import shared_task


@shared_task(bind=True)
def poll(self, url: str) -> None:
    if not url:
        self.retry(countdown=10)
    print(url)
"""


def test_the_hooks_file_declares_both_hooks() -> None:
    hooks = {
        hook["id"]: hook for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    }
    assert set(hooks) == {"fastapi-task-lint", "fastapi-task-lint-fix"}
    assert hooks["fastapi-task-lint"]["entry"] == "fastapi-task-lint check"
    assert hooks["fastapi-task-lint-fix"]["entry"] == "fastapi-task-lint check --fix"
    assert all(hook["require_serial"] is False for hook in hooks.values())
    assert all(hook.get("pass_filenames", True) for hook in hooks.values())


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def _try_repo(repo: Path, hook: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PRE_COMMIT", "GIT_"))}
    # The committed tree, as users get it: without --ref, try-repo adds tracked edits but
    # not new untracked modules, so a work tree in the middle of a change fails to import.
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    command = ["try-repo", str(ROOT), hook, "--ref", head, "--files", "bad.py"]
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *command],
        cwd=repo,
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )


@pytest.mark.network
def test_pre_commit_hook_fails_on_a_finding_and_passes_once_fixed(tmp_path: Path) -> None:
    repo = tmp_path / "user-repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / "bad.py").write_text(BAD)
    _git(repo, "add", "bad.py")

    failed = _try_repo(repo, "fastapi-task-lint")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "bad.py:7:9: FTL402" in failed.stdout, failed.stdout

    fixing = _try_repo(repo, "fastapi-task-lint-fix")
    assert fixing.returncode == 1, fixing.stdout + fixing.stderr  # files were modified
    assert "files were modified by this hook" in fixing.stdout
    assert (repo / "bad.py").read_text() == BAD.replace("self.retry", "raise self.retry")

    passed = _try_repo(repo, "fastapi-task-lint")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "Passed" in passed.stdout
