"""The engine: discover, prefilter, parse, run rules, suppress. One entry point for every face."""

from __future__ import annotations

import contextlib
import copy
import fnmatch
import gc
import os
import traceback
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fastapi_task_lint.cache import Cache, run_key
from fastapi_task_lint.config import Config
from fastapi_task_lint.diagnostics import PARSE_ERROR, RULE_ERROR, Diagnostic, sort_diagnostics
from fastapi_task_lint.discovery import Discovery, discover
from fastapi_task_lint.noqa import (
    apply_noqa,
    file_is_suppressed,
    line_ends,
    may_list_our_codes,
    unused_noqa,
)
from fastapi_task_lint.parallel import check_many
from fastapi_task_lint.rules import all_rules, select_rules
from fastapi_task_lint.rules.base import NodeFix, Rule, RuleContext
from fastapi_task_lint.rules.ftl003_unused_noqa import UnusedNoqaRule
from fastapi_task_lint.semantics.model import ModuleModel
from fastapi_task_lint.semantics.project import ProjectIndex
from fastapi_task_lint.source import SourceError, decode, load_module


@dataclass
class FileResult:
    path: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    suppressed: list[Diagnostic] = field(default_factory=list)
    node_fixes: dict[int, NodeFix] = field(default_factory=dict)
    model: ModuleModel | None = None
    # Rules whose prefilter turned this file down: with the same syntax tree and project
    # they cannot fire on it, so the cache lets a re-check skip asking them again.
    unwanted: frozenset[str] = frozenset()


@dataclass
class RunResult:
    diagnostics: list[Diagnostic]
    files: list[FileResult]
    missing: list[Path]

    @property
    def crashed(self) -> bool:
        return any(d.code == RULE_ERROR for d in self.diagnostics)


def display_path(path: Path) -> str:
    """The path as the user should read it: relative to the current directory when inside it."""
    text = os.path.normpath(str(path))
    if os.path.isabs(text):
        try:
            relative = os.path.relpath(text)
        except ValueError:
            return text
        return text if relative.startswith("..") else relative
    return text


class Linter:
    def __init__(
        self, config: Config, debug: bool = False, jobs: int = 1, cache_dir: Path | None = None
    ) -> None:
        self.config = config
        self.debug = debug
        # Past one job or with a cache, `check_paths` results carry no model or node fixes
        # (they come from workers or the cache): --fix, --add-noqa and baselines use neither.
        self.jobs = jobs
        self.cache = Cache(cache_dir, run_key(config)) if cache_dir is not None else None
        selected = select_rules(config.select, config.extend_select, config.ignore)
        self.rules: list[Rule] = [rule() for rule in selected if rule.triggers]
        self._rule_codes = frozenset(rule.code for rule in self.rules)  # shared by every result
        # FTL003 is reported by the engine once suppression has run, like FTL001/FTL002.
        self.unused_noqa = UnusedNoqaRule() if UnusedNoqaRule in selected else None

    def split(self) -> tuple[Linter, Linter] | None:
        """For a pooled run: a linter of the rules checked apart (`Rule.apart`) and one of
        the others; None unless both have rules. Neither reports FTL003, which reads a
        `# noqa` against every rule's findings: a file whose comments may name our codes is
        checked whole (`checks_whole`)."""
        apart = [rule for rule in self.rules if rule.apart]
        if not apart or len(apart) == len(self.rules):
            return None
        rest = [rule for rule in self.rules if not rule.apart]
        return self._with_rules(apart), self._with_rules(rest)

    def _with_rules(self, rules: list[Rule]) -> Linter:
        part = copy.copy(self)
        part.rules = rules
        part._rule_codes = frozenset(rule.code for rule in rules)
        part.unused_noqa = None
        return part

    def checks_whole(self, path: Path, project: ProjectIndex) -> bool:
        """Whether a split run (`split`) checks the file `path` with every rule in one
        process: FTL003 is on, and the file's comments may name our codes."""
        try:
            return self._reads_noqa(project.read(path.absolute()))
        except SourceError:
            return False

    def _reads_noqa(self, data: bytes) -> bool:
        """Whether FTL003 reads the `# noqa` comments of a file of `data` (they may name our
        codes): it wants the file even when no rule's trigger is in it."""
        return self.unused_noqa is not None and may_list_our_codes(data)

    # -- runs ----------------------------------------------------------------------------
    def index(self, paths: Sequence[Path]) -> tuple[Discovery, ProjectIndex]:
        """The files `paths` name (walked, minus excludes) and a lazy project index of them."""
        found = discover(paths, (*self.config.exclude, *self.config.extend_exclude))
        return found, ProjectIndex(found.files, self.config)

    def check_paths(self, paths: Sequence[Path]) -> RunResult:
        found, project = self.index(paths)
        with cyclic_gc_paused():
            if self.jobs > 1 or self.cache is not None:
                results = check_many(self, found.files, project, self.cache, self.jobs)
            else:
                results = [self.check_file(path, project) for path in found.files]
        diagnostics = sort_diagnostics([d for r in results for d in r.diagnostics])
        return RunResult(diagnostics, results, found.missing)

    def check_source(
        self, text: str, path: Path, project: ProjectIndex | None = None
    ) -> FileResult:
        """Check `text` as if it were the file `path`; other project files come from disk."""
        project = project or ProjectIndex([], self.config)
        shown = display_path(path)
        try:
            model = load_module(path, project, text)
        except SourceError as error:
            return FileResult(shown, [self._source_error(shown, error)])
        project.register(model)
        with project.checking_file(model.absolute_path):
            return self._run_rules(model, shown)

    def check_file(
        self, path: Path, project: ProjectIndex, unwanted: frozenset[str] = frozenset()
    ) -> FileResult:
        """Check the file `path`; rules in `unwanted` are known not to want it (see the cache)."""
        shown = display_path(path)
        path = path.absolute()  # once: rules' prefilters key the project's facts by it
        try:
            data = project.read(path)  # the bytes every scan of the run tests
            decode(data)  # undecodable text is reported, also when no rule wants the file
        except SourceError as error:
            return FileResult(shown, [self._source_error(shown, error)])
        # The prefilter: a file no enabled rule wants (its trigger strings, or the project's
        # scan for rules about a task's body) cannot hold a finding, so it is not parsed (and
        # its syntax errors are left to the compiler's tools).
        with project.checking_file(path):
            if not self._wanted(data, path, project, unwanted):
                return FileResult(shown, unwanted=self._rule_codes)
            model = project.model_for_path(path)
            if model is None:
                failure = project.source_error(path) or SourceError("cannot parse")
                return FileResult(shown, [self._source_error(shown, failure)])
            return self._run_rules(model, shown, unwanted)

    def _wanted(
        self, data: bytes, path: Path, project: ProjectIndex, unwanted: frozenset[str]
    ) -> bool:
        if self._reads_noqa(data):
            return True
        return any(
            rule.code not in unwanted and _may_want(rule, data, path, project)
            for rule in self.rules
        )

    # -- one file ------------------------------------------------------------------------
    def _run_rules(
        self, model: ModuleModel, shown: str, unwanted: frozenset[str] = frozenset()
    ) -> FileResult:
        result = FileResult(shown, model=model)
        if file_is_suppressed(model.source):
            return result
        raw: list[Diagnostic] = []
        crashed: set[str] = set()
        # The bytes the prefilter tested (`check_file`): its answers for them are kept.
        source = model.project.read(model.absolute_path)
        declined: set[str] = set()
        for rule in self.rules:
            if rule.code in unwanted:
                declined.add(rule.code)
                continue
            ctx = RuleContext(model, self.config, rule, shown)
            try:
                if not rule.wants(source, model.path, model.project):
                    declined.add(rule.code)
                    continue
                rule.check(ctx)
            except Exception as error:  # a rule bug must not hide other rules' findings
                raw.append(self._rule_error(shown, rule, error))
                crashed.add(rule.code)
                continue
            raw.extend(ctx.diagnostics)
            result.node_fixes.update(ctx.node_fixes)
        result.unwanted = frozenset(declined)
        raw = [d for d in raw if not self._ignored_for_file(d.path, d.code)]
        # Only a finding's line is read: most files have none, and keep no list of lines.
        suppression = apply_noqa(raw, model.lines if raw else ())
        result.diagnostics = suppression.kept
        result.suppressed = suppression.suppressed
        unused = self.unused_noqa
        if unused is not None and not self._ignored_for_file(shown, unused.code):
            self._report_unused_noqa(unused, result, model, suppression.used, crashed)
        return result

    def _report_unused_noqa(
        self,
        rule: UnusedNoqaRule,
        result: FileResult,
        model: ModuleModel,
        used: dict[int, set[str]],
        crashed: set[str],
    ) -> None:
        """FTL003: only rules that ran to the end on this file can say a `# noqa` is unused."""
        if not may_list_our_codes(model.project.read(model.absolute_path)):
            return  # spare libcst's parse on most files
        ran = {
            r.code
            for r in self.rules
            if r.code not in crashed and not self._ignored_for_file(result.path, r.code)
        }
        ctx = RuleContext(model, self.config, rule, result.path)
        try:
            rule.report(ctx, unused_noqa(line_ends(model), used, ran.__contains__, _is_rule))
        except Exception as error:  # like any rule: a bug here is FTL002, not a crashed run
            result.diagnostics.append(self._rule_error(result.path, rule, error))
            return
        result.diagnostics.extend(ctx.diagnostics)
        result.node_fixes.update(ctx.node_fixes)

    def _ignored_for_file(self, shown: str, code: str) -> bool:
        if code in (PARSE_ERROR, RULE_ERROR):
            return False
        path = Path(shown)
        candidates = {path.as_posix()}
        with contextlib.suppress(ValueError):
            candidates.add(path.absolute().relative_to(self.config.root).as_posix())
        return any(
            any(
                fnmatch.fnmatch(c, pattern) or fnmatch.fnmatch(c, f"*/{pattern}")
                for c in candidates
            )
            and any(code.startswith(ignored) for ignored in codes)
            for pattern, codes in self.config.per_file_ignores
        )

    def _source_error(self, shown: str, error: SourceError) -> Diagnostic:
        return Diagnostic(
            PARSE_ERROR,
            "parse-error",
            f"cannot check file: {error.reason}",
            shown,
            error.line,
            error.column,
            error.line,
            error.column,
        )

    def _rule_error(self, shown: str, rule: Rule, error: Exception) -> Diagnostic:
        detail = f"{type(error).__name__}: {error}".splitlines()[0][:200]
        if self.debug:
            traceback.print_exception(type(error), error, error.__traceback__)
        return Diagnostic(
            RULE_ERROR,
            "rule-error",
            f"rule {rule.code} ({rule.name}) failed on this file: {detail}; "
            "please report it with the file",
            shown,
            1,
            1,
            1,
            1,
        )


def _may_want(rule: Rule, data: bytes, path: Path, project: ProjectIndex) -> bool:
    """`rule.wants`, where a prefilter that fails (a bug, or a whole-program fact it asks
    for) wants the file: the rule's check then meets the failure and reports it (FTL002),
    and the run goes on."""
    try:
        return rule.wants(data, path, project)
    except Exception:
        return True


@contextlib.contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cycle collector for a run; refcounting still frees what a run drops.

    A run keeps hundreds of thousands of tree nodes alive, and each full collection walks
    them all again: on the benchmark's quick corpus the collector cost as much as the
    analysis (11.3 s with it, 6.1 s without).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextlib.contextmanager
def kept_from_the_collector() -> Iterator[None]:
    """For a check in a process that keeps its project index until it exits (flake8's,
    pytest's): the cycle collector is paused while checking, and what was built is then
    frozen out of the collections the host's own work triggers. Each full collection walked
    every tree the index holds: flake8 took 4x as long on a root of 6,000 files.
    """
    with cyclic_gc_paused():
        yield
        gc.freeze()


def known_codes() -> Iterable[str]:
    return all_rules().keys()


def _is_rule(code: str) -> bool:
    return code in all_rules()
