"""Apply fixes: swap the libcst nodes rules replaced, re-parse, re-check, until nothing changes.

Fixes are node replacements on the tree the rules saw (`FileResult.node_fixes`), never text
edits, so the result is what libcst prints for the changed tree. A fix whose output does not
parse is dropped with a warning; the others still apply.
"""

from __future__ import annotations

import difflib
import io
import tokenize
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import libcst as cst

from fastapi_task_lint.diagnostics import Applicability, sort_diagnostics
from fastapi_task_lint.engine import FileResult, Linter, RunResult
from fastapi_task_lint.rules.base import NodeFix
from fastapi_task_lint.semantics.model import ModuleModel
from fastapi_task_lint.semantics.project import ProjectIndex
from fastapi_task_lint.source import SourceError, parse, read_bytes

# Each pass re-checks the fixed file; fixes that enable other fixes need a few passes, and a
# pair of rules that undo each other must not loop forever.
MAX_PASSES = 5


@dataclass
class FileFix:
    """What fixing one file did: its text before and after, and what is left to report."""

    path: Path
    before: str
    after: str
    fixed: int
    result: FileResult
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def diff(self) -> str:
        name = self.result.path.replace("\\", "/")
        return "".join(
            difflib.unified_diff(
                self.before.splitlines(keepends=True),
                self.after.splitlines(keepends=True),
                f"a/{name}",
                f"b/{name}",
            )
        )


@dataclass
class FixRun:
    """The findings that remain after fixing, and what each file's fixing did."""

    remaining: RunResult
    files: list[FileFix]

    @property
    def fixed(self) -> int:
        return sum(f.fixed for f in self.files)

    @property
    def warnings(self) -> list[str]:
        return [w for f in self.files for w in f.warnings]


def allowed_fixes(unsafe: bool) -> frozenset[Applicability]:
    return frozenset({"safe", "unsafe"}) if unsafe else frozenset({"safe"})


def fix_paths(
    linter: Linter, paths: Sequence[Path], allowed: Collection[Applicability], write: bool
) -> FixRun:
    """Fix every file `paths` name; write the fixed files back only when `write`."""
    found, project = linter.index(paths)
    files: list[FileFix] = []
    for path in found.files:
        first = linter.check_file(path, project)
        if first.model is None or not _fixes(first, allowed):
            text = first.model.source if first.model else ""
            files.append(FileFix(path, text, text, 0, first))
            continue
        fixing = fix_result(linter, first, path, project, allowed)
        if write and fixing.changed:
            fixing.warnings.extend(_write(path, fixing.after))
        files.append(fixing)
    diagnostics = sort_diagnostics([d for f in files for d in f.result.diagnostics])
    return FixRun(RunResult(diagnostics, [f.result for f in files], found.missing), files)


def fix_result(
    linter: Linter,
    result: FileResult,
    path: Path,
    project: ProjectIndex,
    allowed: Collection[Applicability],
) -> FileFix:
    """Apply the allowed fixes of `result` (a check of `path`), re-checking after each pass."""
    assert result.model is not None
    before = result.model.source
    outcome = FileFix(path, before, before, 0, result)
    for _ in range(MAX_PASSES):
        fixes = _fixes(outcome.result, allowed)
        if not fixes:
            break
        model = outcome.result.model
        assert model is not None
        text, applied, warnings = apply_fixes(model, fixes)
        for warning in (f"{outcome.result.path}: {w}" for w in warnings):
            if warning not in outcome.warnings:  # the next pass finds the same fix again
                outcome.warnings.append(warning)
        if not applied or text == outcome.after:
            break
        outcome.after = text
        outcome.fixed += applied
        outcome.result = linter.check_source(text, path, project)
    return outcome


def _fixes(result: FileResult, allowed: Collection[Applicability]) -> list[NodeFix]:
    """Fixes of the findings that were kept (not `# noqa`-ed), in report order."""
    fixes = (result.node_fixes.get(id(d)) for d in result.diagnostics)
    return [f for f in fixes if f is not None and f.applicability in allowed]


def apply_fixes(model: ModuleModel, fixes: Sequence[NodeFix]) -> tuple[str, int, list[str]]:
    """The source with `fixes` applied, how many applied, and why any were dropped.

    A fix whose nodes overlap those of an earlier fix waits for the next pass, which sees
    the re-parsed tree.
    """
    chosen: list[NodeFix] = []
    taken: list[tuple[tuple[int, int], tuple[int, int]]] = []
    for fix in fixes:
        spans = [_span(model, old) for old, _ in fix.replacements]
        if any(_overlaps(a, b) for a in spans for b in taken):
            continue
        chosen.append(fix)
        taken.extend(spans)
    warnings: list[str] = []
    text = _render(model, chosen)
    if text is None:
        # Find the culprits one by one so the fixes that do parse still apply.
        good = [fix for fix in chosen if _render(model, [fix]) is not None]
        warnings = [
            f"dropped fix {fix.message!r}: the fixed code would not parse"
            for fix in chosen
            if fix not in good
        ]
        chosen = good
        text = _render(model, chosen)
        if text is None:
            warnings.append("dropped all fixes: together they would not parse")
            return model.source, 0, warnings
    return text, len(chosen), warnings


def _span(model: ModuleModel, node: cst.CSTNode) -> tuple[tuple[int, int], tuple[int, int]]:
    position = model.position(node)
    return (position.start.line, position.start.column), (position.end.line, position.end.column)


def _overlaps(
    a: tuple[tuple[int, int], tuple[int, int]], b: tuple[tuple[int, int], tuple[int, int]]
) -> bool:
    return (a[0] < b[1] and b[0] < a[1]) or a == b


class _Swap(cst.CSTTransformer):
    """Replace nodes by identity; a replaced node's children are not visited."""

    def __init__(self, replacements: dict[int, cst.CSTNode]) -> None:
        super().__init__()
        self.replacements = replacements

    def on_visit(self, node: cst.CSTNode) -> bool:
        return id(node) not in self.replacements

    def on_leave(
        self, original_node: cst.CSTNodeT, updated_node: cst.CSTNodeT
    ) -> cst.CSTNodeT | cst.RemovalSentinel | cst.FlattenSentinel[cst.CSTNodeT]:
        # A replacement may be of another node type; libcst validates the parent on codegen.
        return cast(cst.CSTNodeT, self.replacements.get(id(original_node), updated_node))


def _render(model: ModuleModel, fixes: Sequence[NodeFix]) -> str | None:
    """The code of libcst's tree of `model` with `fixes` applied; None when it would not
    parse, or libcst cannot give the nodes to replace (`ModuleModel.original`)."""
    try:
        replacements = {
            id(model.original(old)): new for fix in fixes for old, new in fix.replacements
        }
        fixed = model.syntax_tree.visit(_Swap(replacements))
        assert isinstance(fixed, cst.Module)
        text = fixed.code
        parse(text)
    except (
        SourceError,
        LookupError,
        cst.CSTValidationError,
        TypeError,
        ValueError,
        AssertionError,
    ):
        return None
    return text


def _write(path: Path, text: str) -> list[str]:
    """Write `text` back in the file's own encoding (BOM and coding cookie kept)."""
    try:
        data = read_bytes(path)
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        path.write_bytes(text.encode(encoding))
    except (SourceError, SyntaxError, OSError, UnicodeEncodeError, LookupError) as error:
        return [f"{path}: cannot write the fixed file: {error}"]
    return []
