"""FTL003: a `# noqa: FTLxxx` that suppresses nothing (reported by the engine after noqa)."""

from __future__ import annotations

from collections.abc import Sequence

import libcst as cst

from fastapi_task_lint.noqa import UnusedNoqa
from fastapi_task_lint.rules.base import NodeFix, Rule, RuleContext, RuleDocs, names_list


class UnusedNoqaRule(Rule):
    code = "FTL003"
    name = "unused-noqa"
    summary = "`# noqa` lists an FTL code that suppresses nothing on its line"
    default_enabled = False
    fixable = "safe"
    docs = RuleDocs(
        what=(
            "Reported by the engine after suppression, for a `# noqa: ...` comment that lists "
            "an FTL code which suppressed nothing on its line: the rule ran on the file and "
            "found nothing there, or no rule has that code. Codes of rules that are not enabled "
            "in the run are left alone (so a `--select` subset does not flag suppressions meant "
            "for other rules), and so are other tools' codes in the same comment and a bare "
            "`# noqa`. A comment that lists `FTL003` itself opts out. Off by default, like "
            'ruff\'s RUF100: enable it with `extend-select = ["FTL003"]`.'
        ),
        why=(
            "A suppression outlives the finding it was written for: the code is fixed or moved "
            "and the `# noqa` stays, ready to hide the next real finding on that line. `--add-"
            "noqa` makes suppressions cheap to add; this rule makes them cheap to remove."
        ),
        example=(
            "def handler(background_tasks: BackgroundTasks, user_id: int) -> None:\n"
            "    background_tasks.add_task(send_welcome, user_id)  # noqa: FTL101, E501"
        ),
        use_instead=(
            "def handler(background_tasks: BackgroundTasks, user_id: int) -> None:\n"
            "    background_tasks.add_task(send_welcome, user_id)  # noqa: E501"
        ),
        fix_safety=(
            "Safe: the fix removes only the unused FTL codes from the comment (the whole "
            "`# noqa` when nothing is left), keeping other codes and any other comment text."
        ),
        references=("https://docs.astral.sh/ruff/rules/unused-noqa/",),
    )

    def check(self, ctx: RuleContext) -> None:
        """Never runs: the engine calls `report` once suppression has run."""

    def report(self, ctx: RuleContext, found: Sequence[UnusedNoqa]) -> None:
        for unused in found:
            end = unused.end
            comment = end.node.comment
            if comment is None:
                continue
            parts = [f"unused: {names_list(unused.unused)}"] if unused.unused else []
            parts += [f"unknown: {names_list(unused.unknown)}"] if unused.unknown else []
            text = end.with_codes(unused.kept)
            old: cst.CSTNode = comment
            if text:
                new: cst.CSTNode = cst.Comment(text)
            else:  # drop the comment with the whitespace before it
                old = end.node
                new = end.node.with_changes(whitespace=cst.SimpleWhitespace(""), comment=None)
                if isinstance(end.node, cst.EmptyLine):
                    new = new.with_changes(indent=False)
            removed = [*unused.unused, *unused.unknown]
            ctx.report(
                comment,
                f"`# noqa` suppresses nothing here ({'; '.join(parts)})",
                fix=NodeFix(
                    f"Remove unused `noqa` code{'s' if len(removed) > 1 else ''} "
                    f"{names_list(removed)}",
                    "safe",
                    ((old, new),),
                ),
            )
