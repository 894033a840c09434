"""FTL002: a rule raised on a file (reported by the engine)."""

from __future__ import annotations

from fastapi_task_lint.rules.base import Rule, RuleContext, RuleDocs


class RuleError(Rule):
    code = "FTL002"
    name = "rule-error"
    summary = "a rule failed on this file (a bug in fastapi-task-lint)"
    docs = RuleDocs(
        what=(
            "Reported by the engine when a rule raises an exception on a file. The message "
            "names the rule and the exception; the other rules still run on that file, and the "
            "exit status is 2 so CI does not pass silently on a partial check."
        ),
        why="A crashed rule checked nothing: the file may hide the very finding it looks for.",
        example="(any file that triggers a bug in a rule)",
        remedy=(
            "Report the bug with the file (or a reduced copy); run with `--debug` for the "
            "traceback. Meanwhile, `--ignore` the rule or `# fastapi-task-lint: noqa` the "
            "file."
        ),
    )

    def check(self, ctx: RuleContext) -> None:
        """Never runs: the engine reports FTL002 when another rule fails."""
