"""The example app's idempotency tests pass, and the deliberately failing demo fails as shown."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run_from_examples(*args: str) -> subprocess.CompletedProcess[str]:
    """As documented: `python -m pytest ...` from `examples/`, so `shop` is importable."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:hypothesispytest",
            "-p",
            "no:pytest-lsp",
            "-p",
            "no:asyncio",
            *args,
        ],
        cwd=EXAMPLES,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_example_app_tasks_pass() -> None:
    result = run_from_examples("tests/test_task_idempotency.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout


def test_demo_fails_with_readable_diffs() -> None:
    result = run_from_examples("demo_failing")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "3 failed" in result.stdout
    for line in (
        "shop.tasks.record_security_event(1, 'password_changed', '203.0.113.7') is not "
        "idempotent: the state after run 2 differs from the state after run 1:",
        "  table audit_events: 1 row added",
        "shop.tasks.send_verification_email(1) is not idempotent",
        "+ ['outbox'][1]: ('ada@example.com', 'Confirm your email address')",
        "@pytest.mark.idempotent_tasks: shop.tasks.send_verification_email(1) is not idempotent",
    ):
        assert line in result.stdout, line
