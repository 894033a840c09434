"""SARIF 2.1.0 for code-scanning dashboards: rule metadata plus results with regions."""

from __future__ import annotations

import json
from pathlib import PurePath
from typing import Any

from fastapi_task_lint.reporters.base import Report, rule_url

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def render_sarif(report: Report) -> str:
    codes = sorted(report.rules)
    index = {code: i for i, code in enumerate(codes)}
    rules: list[dict[str, Any]] = [
        {
            "id": code,
            "name": report.rules[code].name,
            "shortDescription": {"text": report.rules[code].summary},
            "fullDescription": {"text": report.rules[code].summary},
            "help": {
                "text": report.rules[code].help_markdown,
                "markdown": report.rules[code].help_markdown,
            },
            "helpUri": rule_url(code),
            "defaultConfiguration": {
                "level": "error" if code in ("FTL001", "FTL002") else "warning"
            },
            "properties": {"tags": list(report.rules[code].tags)},
        }
        for code in codes
    ]
    results: list[dict[str, Any]] = []
    for d in report.diagnostics:
        result: dict[str, Any] = {
            "ruleId": d.code,
            "level": "error" if d.code in ("FTL001", "FTL002") else "warning",
            "message": {"text": d.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": PurePath(d.path).as_posix()},
                        "region": {
                            "startLine": d.line,
                            "startColumn": d.column,
                            "endLine": d.end_line,
                            "endColumn": d.end_column,
                        },
                    }
                }
            ],
        }
        if d.code in index:
            result["ruleIndex"] = index[d.code]
        results.append(result)
    document = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "fastapi-task-lint",
                        "version": report.version,
                        "informationUri": rule_url("").rstrip("#"),
                        "rules": rules,
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
    return json.dumps(document, indent=2) + "\n"
