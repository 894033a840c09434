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
            "Only files some rule reads are parsed: those a rule's prefilter wants, and the "
            "modules their checks resolve names into. A file with none of the rules' trigger "
            "strings is not parsed, so its syntax errors are left to the compiler's tools "
            "(`python -m compileall -q`, ruff, flake8's E999)."
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
