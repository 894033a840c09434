"""What a rule is: metadata and docs in one place, and a check that reports through a context."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import libcst as cst

from fastapi_task_lint.config import Config, RuleOption
from fastapi_task_lint.diagnostics import Applicability, Diagnostic, Edit, Fix
from fastapi_task_lint.semantics.blocking import call_label
from fastapi_task_lint.source import one_line

if TYPE_CHECKING:
    from pathlib import Path

    from fastapi_task_lint.semantics.model import ModuleModel
    from fastapi_task_lint.semantics.project import ProjectIndex


@dataclass(frozen=True)
class RuleDocs:
    """The fixed sections of a rule's documentation (ruff's shape)."""

    what: str
    why: str
    example: str  # Python code, as a user would write it
    remedy: str = ""  # how to fix it, in prose ("Use instead", before the code)
    use_instead: str = ""  # the example fixed: Python code
    fix_safety: str = ""
    references: tuple[str, ...] = ()


@dataclass(frozen=True)
class NodeFix:
    """A fix expressed as libcst node replacements; edits are derived from it."""

    message: str
    applicability: Applicability
    replacements: tuple[tuple[cst.CSTNode, cst.CSTNode], ...]


class Rule:
    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]
    docs: ClassVar[RuleDocs]
    default_enabled: ClassVar[bool] = True
    fixable: ClassVar[Applicability | None] = None
    # The prefilter: a file that contains none of these bytes cannot trigger the rule.
    triggers: ClassVar[tuple[bytes, ...]] = ()
    options: ClassVar[tuple[RuleOption, ...]] = ()
    # Whole-program facts the rule asks for, in its prefilter or its checks. A pooled run
    # computes those of the rules some file triggers before it forks, so the workers inherit
    # them rather than each computing its own copy. Listing one only saves time (an unlisted
    # fact is computed where it is first asked for); a test keeps the lists complete.
    facts: ClassVar[tuple[Callable[[ProjectIndex], object], ...]] = ()
    # Checked apart in a pooled run: a process of its own checks this rule on every file
    # from the start, while the other rules' facts are computed before the pool forks. For
    # a rule whose facts no other rule needs, and whose checks are a large share of a run.
    apart: ClassVar[bool] = False

    def wants(self, data: bytes, path: Path, project: ProjectIndex) -> bool:
        """The prefilter, before `path` is parsed: can this file hold a finding?

        By default, when its bytes hold one of `triggers`. Rules about a task's body narrow
        it with the project (does this file define a task?), since the bytes of a task's
        module say nothing about where it is scheduled.
        """
        return project.holds_any(path, data, self.triggers)

    def check(self, ctx: RuleContext) -> None:
        raise NotImplementedError


@dataclass
class RuleContext:
    """What a rule sees of one file, and how it reports."""

    model: ModuleModel
    config: Config
    rule: Rule
    path: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    node_fixes: dict[int, NodeFix] = field(default_factory=dict)

    def option(self, option: RuleOption) -> Any:
        return self.config.option(option)

    def report(self, node: cst.CSTNode, message: str, fix: NodeFix | None = None) -> None:
        position = self.model.position(node)
        diagnostic = Diagnostic(
            code=self.rule.code,
            name=self.rule.name,
            message=message,
            path=self.path,
            line=position.start.line,
            column=position.start.column + 1,
            end_line=position.end.line,
            end_column=position.end.column + 1,
            fix=self._to_fix(fix) if fix else None,
        )
        self.diagnostics.append(diagnostic)
        if fix is not None:
            self.node_fixes[id(diagnostic)] = fix

    def _to_fix(self, fix: NodeFix) -> Fix:
        edits: list[Edit] = []
        for old, new in fix.replacements:
            position = self.model.position(old)
            edits.append(
                Edit(
                    position.start.line,
                    position.start.column + 1,
                    position.end.line,
                    position.end.column + 1,
                    self.model.code_in_place(old, new),
                )
            )
        return Fix(fix.message, fix.applicability, tuple(edits))


def quote(code: str) -> str:
    """User code inside a message, shortened to one readable line."""
    code = one_line(code)
    return f"`{code if len(code) <= 60 else code[:57] + '...'}`"


def code_label(model: ModuleModel, node: cst.CSTNode) -> str:
    """`node`'s code for a message; a long call is cut at its arguments (`call_label`), not
    mid-name as `quote` would cut it."""
    return call_label(model, node) if isinstance(node, cst.Call) else quote(model.code_for(node))


def names_list(items: Sequence[str]) -> str:
    return ", ".join(f"`{item}`" for item in items)
