"""JUnit XML for CI test dashboards: one testcase per file checked, failing with its findings."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict

from fastapi_task_lint.diagnostics import Diagnostic
from fastapi_task_lint.reporters.base import Report

# Findings that mean the file could not be checked are errors, not test failures.
_ERRORS = ("FTL001", "FTL002")


def render_junit(report: Report) -> str:
    by_file: dict[str, list[Diagnostic]] = defaultdict(list)
    for d in report.diagnostics:
        by_file[d.path].append(d)
    paths = sorted({*report.files, *by_file})
    failures = sum(1 for p in paths if any(d.code not in _ERRORS for d in by_file[p]))
    errors = sum(1 for p in paths if any(d.code in _ERRORS for d in by_file[p]))
    counts = {"tests": str(len(paths)), "failures": str(failures), "errors": str(errors)}
    suites = ET.Element("testsuites", {"name": "fastapi-task-lint", **counts})
    suite = ET.SubElement(
        suites, "testsuite", {"name": "fastapi-task-lint", "skipped": "0", **counts}
    )
    for path in paths:
        case = ET.SubElement(suite, "testcase", classname="fastapi-task-lint", name=path, file=path)
        found = by_file[path]
        for kind, group in (
            ("error", [d for d in found if d.code in _ERRORS]),
            ("failure", [d for d in found if d.code not in _ERRORS]),
        ):
            if group:
                element = ET.SubElement(
                    case,
                    kind,
                    message=f"{len(group)} finding{'s' if len(group) != 1 else ''}",
                    type=",".join(sorted({d.code for d in group})),
                )
                element.text = "\n".join(
                    f"{d.path}:{d.line}:{d.column}: {d.code} {d.message}" for d in group
                )
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
