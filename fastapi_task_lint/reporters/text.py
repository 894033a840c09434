"""`path:line:col: CODE message`, optionally with the source line and a caret."""

from __future__ import annotations

from fastapi_task_lint.reporters.base import Report


def render_text(report: Report) -> str:
    out: list[str] = []
    for d in report.diagnostics:
        fixable = " [*]" if d.fix is not None else ""
        out.append(f"{d.path}:{d.line}:{d.column}: {d.code}{fixable} {d.message}")
        if report.show_source:
            lines = report.read_lines(d.path)
            if 0 < d.line <= len(lines):
                source = lines[d.line - 1].expandtabs(1)
                width = (
                    max(1, d.end_column - d.column)
                    if d.end_line == d.line
                    else len(source) - d.column + 1
                )
                out.append(f"    {source}")
                out.append(f"    {' ' * (d.column - 1)}{'^' * max(1, width)}")
    return "\n".join(out) + ("\n" if out else "")
