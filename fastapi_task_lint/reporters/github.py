"""GitHub Actions workflow commands (`::warning file=...::message`), escaped per GitHub's rules."""

from __future__ import annotations

from fastapi_task_lint.reporters.base import Report


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def render_github(report: Report) -> str:
    lines = []
    for d in report.diagnostics:
        level = "error" if d.code in ("FTL001", "FTL002") else "warning"
        properties = ",".join(
            [
                f"file={escape_property(d.path)}",
                f"line={d.line}",
                f"col={d.column}",
                f"endLine={d.end_line}",
                f"endColumn={d.end_column}",
                f"title={escape_property(f'{d.code} {d.name}')}",
            ]
        )
        lines.append(f"::{level} {properties}::{escape_data(f'{d.code} {d.message}')}")
    return "\n".join(lines) + ("\n" if lines else "")
