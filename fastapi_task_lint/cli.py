"""The command line: read options, call the engine, choose a reporter. No analysis here."""

from __future__ import annotations

import gc
import json
import os
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import NoReturn

import click

from fastapi_task_lint import __version__, baseline
from fastapi_task_lint.add_noqa import add_noqa as write_noqa
from fastapi_task_lint.api import check_paths
from fastapi_task_lint.cache import CACHE_DIR_NAME
from fastapi_task_lint.config import Config, ConfigError, check_code, load_config
from fastapi_task_lint.diagnostics import Diagnostic
from fastapi_task_lint.docs import rule_markdown
from fastapi_task_lint.engine import Linter, RunResult
from fastapi_task_lint.fixer import FixRun, allowed_fixes, fix_paths
from fastapi_task_lint.parallel import default_jobs
from fastapi_task_lint.reporters import REPORTERS, Report
from fastapi_task_lint.reporters.base import RuleInfo
from fastapi_task_lint.rules import all_options, all_rules
from fastapi_task_lint.source import read_lines

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _codes(value: str | None, option: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    codes = tuple(c.strip().upper() for c in value.split(",") if c.strip())
    known = set(all_rules())
    for code in codes:
        try:
            check_code(code, known, option)
        except ConfigError as error:
            raise click.BadParameter(str(error).split(": ", 1)[-1], param_hint=option) from None
    return codes


def _fail(message: str) -> NoReturn:
    click.echo(f"fastapi-task-lint: error: {message}", err=True)
    sys.exit(EXIT_ERROR)


def load_run_config(config_path: Path | None) -> Config:
    try:
        return load_config(config_path, Path.cwd(), all_options(), all_rules())
    except ConfigError as error:
        _fail(str(error))


def rule_infos() -> dict[str, RuleInfo]:
    return {
        code: RuleInfo(
            code,
            rule.name,
            rule.summary,
            rule_markdown(rule),
            ("fastapi", "background-tasks", code[:4]),
        )
        for code, rule in all_rules().items()
    }


def run() -> NoReturn:
    """The console script: `main`, then an immediate exit once the output is flushed.

    Tearing down the objects a large run leaves takes seconds (the cycle collector walks them
    all once more at interpreter exit); every file and cache entry is written by then. For
    the same reason the cycle collector stays off for the whole process: turned back on after
    a run (`engine.cyclic_gc_paused`), its first pass walked every tree the run had built,
    3 s of a 64 s run over the benchmark corpus, to free nothing the exit would not.
    """
    gc.disable()
    try:
        main()
        status: object = EXIT_CLEAN
    except SystemExit as stop:
        status = stop.code
    if isinstance(status, str):  # what sys.exit("message") does
        print(status, file=sys.stderr)
        status = 1
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:  # a closed pipe (`| head`): nothing more can be said
        pass
    os._exit(status if isinstance(status, int) else EXIT_CLEAN)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="fastapi-task-lint")
def main() -> None:
    """Find FastAPI background-task mistakes that lose data silently."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--select", help="Comma-separated codes or prefixes to enable (replaces defaults).")
@click.option("--extend-select", help="Codes or prefixes to enable on top of the selection.")
@click.option("--ignore", help="Comma-separated codes or prefixes to disable.")
@click.option("--exclude", help="Comma-separated globs to skip (replaces the defaults).")
@click.option("--extend-exclude", help="Comma-separated globs to skip on top of the defaults.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(sorted(REPORTERS)),
    default="text",
    show_default=True,
)
@click.option("--output-file", type=click.Path(path_type=Path), help="Write the report here.")
@click.option("--show-source", is_flag=True, help="Show the offending line with a caret.")
@click.option(
    "--statistics",
    is_flag=True,
    help="Print the number of findings per code (on stderr when stdout holds a report of "
    "another format than text).",
)
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--config", "config_path", type=click.Path(path_type=Path), help="Config file.")
@click.option("-q", "--quiet", is_flag=True, help="Print findings only, no summary.")
@click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")
@click.option("--fix", is_flag=True, help="Apply safe fixes in place, then report what remains.")
@click.option("--unsafe-fixes", is_flag=True, help="With --fix or --diff: apply unsafe fixes too.")
@click.option("--diff", is_flag=True, help="Print the fixes as a unified diff; change no file.")
@click.option(
    "--baseline",
    "baseline_path",
    type=click.Path(path_type=Path),
    help="Do not report (or fail on) findings recorded in this baseline file.",
)
@click.option(
    "--write-baseline",
    type=click.Path(path_type=Path),
    help="Record the current findings in this baseline file and exit 0.",
)
@click.option("--add-noqa", is_flag=True, help="Add `# noqa: CODE` to every reported line.")
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=default_jobs,
    show_default="the number of cores",
    help="Processes to check files in (a pool is used only for many files).",
)
@click.option("--no-cache", is_flag=True, help="Neither read nor write the result cache.")
@click.option(
    "--cache-dir",
    type=click.Path(path_type=Path),
    help=f"Where to keep the result cache [default: <project root>/{CACHE_DIR_NAME}].",
)
def check(
    paths: tuple[Path, ...],
    select: str | None,
    extend_select: str | None,
    ignore: str | None,
    exclude: str | None,
    extend_exclude: str | None,
    output_format: str,
    output_file: Path | None,
    show_source: bool,
    statistics: bool,
    exit_zero: bool,
    config_path: Path | None,
    quiet: bool,
    debug: bool,
    fix: bool,
    unsafe_fixes: bool,
    diff: bool,
    baseline_path: Path | None,
    write_baseline: Path | None,
    add_noqa: bool,
    jobs: int,
    no_cache: bool,
    cache_dir: Path | None,
) -> None:
    """Check PATHS (default: the current directory)."""
    if unsafe_fixes and not (fix or diff):
        raise click.UsageError("--unsafe-fixes applies with --fix or --diff")
    base = load_run_config(config_path)
    extra_select = _codes(extend_select, "--extend-select")
    extra_ignore = _codes(ignore, "--ignore")
    config = base.with_overrides(
        select=_codes(select, "--select"),
        extend_select=(*base.extend_select, *extra_select) if extra_select else None,
        ignore=(*base.ignore, *extra_ignore) if extra_ignore else None,
        exclude=tuple(exclude.split(",")) if exclude else None,
        extend_exclude=(*base.extend_exclude, *extend_exclude.split(","))
        if extend_exclude
        else None,
    )
    targets = list(paths) or [Path(".")]
    fixing: FixRun | None = None
    try:
        if fix or diff:
            allowed = allowed_fixes(unsafe_fixes)
            fixing = fix_paths(Linter(config, debug=debug), targets, allowed, write=not diff)
            result = fixing.remaining
        elif add_noqa or write_baseline or baseline_path:
            result = check_paths(targets, config, debug=debug)  # these read the models
        else:
            cache = None if no_cache else cache_dir or config.root / CACHE_DIR_NAME
            result = check_paths(targets, config, debug=debug, jobs=jobs, cache_dir=cache)
    except Exception as error:  # an engine bug: report it, exit 2, traceback only with --debug
        if debug:
            raise
        _fail(f"internal error: {type(error).__name__}: {error}")
    for missing in result.missing:
        click.echo(f"fastapi-task-lint: error: {missing}: no such file or directory", err=True)
    for warning in fixing.warnings if fixing else ():
        click.echo(f"fastapi-task-lint: warning: {warning}", err=True)
    if diff and fixing is not None:
        _print_diff(fixing, quiet)
        failed = result.crashed or result.missing
        sys.exit(EXIT_ERROR if failed else EXIT_FINDINGS if fixing.fixed else EXIT_CLEAN)
    if write_baseline is not None:
        _write_baseline(write_baseline, result, quiet)
    baselined: list[Diagnostic] | None = None
    if baseline_path is not None:
        try:
            outcome = baseline.load(baseline_path).split(result)
        except baseline.BaselineError as error:
            _fail(str(error))
        result = replace(result, diagnostics=outcome.new)
        baselined = outcome.baselined
    if add_noqa:
        _add_noqa(result, quiet)
    _report(result, output_format, output_file, show_source, quiet, fixing, baselined)
    if statistics:
        # A JSON, SARIF or XML document on stdout must stay one document.
        _print_statistics(result, baselined, err=output_format != "text" and output_file is None)
    sys.exit(_exit_status(result, exit_zero))


def _write_baseline(path: Path, result: RunResult, quiet: bool) -> NoReturn:
    try:
        count = baseline.write(path, result)
    except OSError as error:
        _fail(f"cannot write {path}: {error.strerror}")
    if not quiet:
        click.echo(f"Wrote {_plural(count, 'finding')} to baseline {path}.", err=True)
    sys.exit(EXIT_ERROR if result.crashed or result.missing else EXIT_CLEAN)


def _add_noqa(result: RunResult, quiet: bool) -> NoReturn:
    try:
        outcome = write_noqa(result)
    except OSError as error:
        _fail(f"cannot write: {error}")
    for diagnostic in outcome.skipped:
        click.echo(
            f"fastapi-task-lint: warning: {diagnostic.path}:{diagnostic.line}: no noqa comment "
            f"added for {diagnostic.code}: the line ends inside a string or a continuation",
            err=True,
        )
    for path in outcome.stale:
        click.echo(f"fastapi-task-lint: warning: {path}: changed during the run; skipped", err=True)
    if not quiet:
        skipped = f" ({len(outcome.skipped)} skipped)" if outcome.skipped else ""
        click.echo(
            f"Added {_plural(outcome.added, 'noqa directive')} "
            f"in {_plural(outcome.files, 'file')}{skipped}.",
            err=True,
        )
    sys.exit(EXIT_ERROR if result.crashed or result.missing else EXIT_CLEAN)


def _print_diff(fixing: FixRun, quiet: bool) -> None:
    for file in fixing.files:
        click.echo(file.diff(), nl=False)
    if not quiet:
        files = sum(f.changed for f in fixing.files)
        would = f"Would fix {_plural(fixing.fixed, 'finding')} in {_plural(files, 'file')}."
        click.echo(would, err=True)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' if count != 1 else ''}"


def _report(
    result: RunResult,
    output_format: str,
    output_file: Path | None,
    show_source: bool,
    quiet: bool,
    fixing: FixRun | None = None,
    baselined: list[Diagnostic] | None = None,
) -> None:
    report = Report(
        result.diagnostics,
        rule_infos(),
        __version__,
        show_source=show_source,
        read_lines=read_lines,
        files_checked=len(result.files),
        files=[f.path for f in result.files],
    )
    text = REPORTERS[output_format](report)
    if output_file is not None:
        try:
            output_file.write_text(text, encoding="utf-8")
        except OSError as error:
            _fail(f"cannot write {output_file}: {error.strerror}")
    else:
        click.echo(text, nl=False)
    count = len(result.diagnostics)
    if fixing is not None and not quiet:  # on stderr, so in every format
        click.echo(
            f"Fixed {_plural(fixing.fixed, 'finding')}, {count} remaining "
            f"({_plural(len(result.files), 'file')} checked).",
            err=True,
        )
    elif output_format == "text" and not quiet:
        files = _plural(len(result.files), "file")
        summary = (
            f"Found {_plural(count, 'finding')} in {files}"
            if count
            else f"All checks passed ({files}"
        )
        closing = "." if count else ")."
        if baselined is not None:
            old = len(baselined)
            closing = f" ({old} baselined)." if count else f"; {old} baselined)."
        click.echo(summary + closing, err=True)


def _print_statistics(result: RunResult, baselined: list[Diagnostic] | None, err: bool) -> None:
    counts = Counter((d.code, d.name) for d in result.diagnostics)
    if baselined is None:
        for (code, name), count in sorted(counts.items()):
            click.echo(f"{count:5d}  {code}  {name}", err=err)
        return
    old = Counter((d.code, d.name) for d in baselined)
    click.echo(f"{'new':>5}  {'baselined':>9}  code    name", err=err)
    for code, name in sorted({*counts, *old}):
        click.echo(f"{counts[(code, name)]:5d}  {old[(code, name)]:9d}  {code}  {name}", err=err)
    click.echo(f"{sum(counts.values()):5d}  {sum(old.values()):9d}  total", err=err)


def _exit_status(result: RunResult, exit_zero: bool) -> int:
    if result.crashed or result.missing:
        return EXIT_ERROR
    if result.diagnostics and not exit_zero:
        return EXIT_FINDINGS
    return EXIT_CLEAN


@main.command()
def server() -> None:
    """Run the Language Server (LSP over stdio) for editors; needs the `lsp` extra."""
    try:
        from fastapi_task_lint.server import serve
    except ImportError as error:
        _fail(f"the server needs pygls: pip install 'fastapi-task-lint[lsp]' ({error})")
    serve()


@main.command("rules")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
def list_rules(output_format: str) -> None:
    """List every rule: code, name, summary, default, fixable."""
    rows = [
        {
            "code": code,
            "name": rule.name,
            "summary": rule.summary,
            "default": rule.default_enabled,
            "fixable": rule.fixable,
        }
        for code, rule in all_rules().items()
    ]
    if output_format == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        default = "on " if row["default"] else "off"
        fix = f" [fix: {row['fixable']}]" if row["fixable"] else ""
        click.echo(f"{row['code']}  {default}  {row['name']:<40} {row['summary']}{fix}")


@main.command()
@click.argument("code")
def explain(code: str) -> None:
    """Print the full documentation of rule CODE."""
    rule = all_rules().get(code.upper())
    if rule is None:
        _fail(f"unknown rule code {code!r}; see `fastapi-task-lint rules`")
    click.echo(rule_markdown(rule, heading="#"), nl=False)
