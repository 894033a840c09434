"""FTL001: a file that cannot be read, decoded or parsed (reported by the engine)."""

from __future__ import annotations

from fastapi_task_lint.rules.base import Rule, RuleContext, RuleDocs


class ParseError(Rule):
    code = "FTL001"
    name = "parse-error"
    summary = "file cannot be read, decoded or parsed"
    docs = RuleDocs(
        what=(
            "Reported by the engine, once per file, when a file cannot be read (permissions, "
            "not a regular file), decoded (invalid bytes for its PEP 263 encoding, NUL bytes) "
            "or parsed (a syntax error, with its line and column where the parser knows them). "
            "It is reported for the files some rule's prefilter wants. A file with none of the "
            "rules' trigger strings is not parsed to be checked, so its syntax errors are left "
            "to the compiler's tools (`python -m compileall -q`, ruff, flake8's E999); when "
            "another file's check resolves a name into such a module and it does not parse, "
            "that check stops there, and no FTL001 is reported for it (whether it is depends "
            "on which files a process checked first, and a report must not)."
        ),
        why=(
            "A file the linter cannot read is a file it did not check. The run goes on with "
            "every other file, and this finding makes sure the gap is visible in CI."
        ),
        example="def broken(:\n    pass",
        remedy="Fix the syntax or encoding, or exclude the file with `extend-exclude`.",
    )

    def check(self, ctx: RuleContext) -> None:
        """Never runs: the engine reports FTL001 before rules see a file."""
