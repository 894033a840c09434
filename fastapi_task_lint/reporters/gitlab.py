"""GitLab Code Quality JSON: fingerprints that survive unrelated edits and reruns."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import PurePath
from typing import Any

from fastapi_task_lint.reporters.base import Report


def render_gitlab(report: Report) -> str:
    issues: list[dict[str, Any]] = []
    seen: Counter[str] = Counter()
    for d in report.diagnostics:
        lines = report.read_lines(d.path)
        source = lines[d.line - 1].strip() if 0 < d.line <= len(lines) else ""
        # Not the line number, so inserting lines above a finding keeps its fingerprint;
        # identical findings on identical lines are told apart by their order.
        key = "\0".join((d.code, PurePath(d.path).as_posix(), source, d.message))
        seen[key] += 1
        fingerprint = hashlib.sha256(f"{key}\0{seen[key]}".encode()).hexdigest()
        issues.append(
            {
                "type": "issue",
                "check_name": d.code,
                "description": f"{d.code} {d.message}",
                "categories": ["Bug Risk"],
                "severity": "critical" if d.code in ("FTL001", "FTL002") else "major",
                "fingerprint": fingerprint,
                "location": {
                    "path": PurePath(d.path).as_posix(),
                    "lines": {"begin": d.line, "end": d.end_line},
                },
            }
        )
    return json.dumps(issues, indent=2) + "\n"
