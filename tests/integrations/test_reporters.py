"""Every CI output format, parsed back: SARIF against the 2.1.0 schema, GitHub, JUnit, GitLab."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from fastapi_task_lint.cli import main
from fastapi_task_lint.reporters.base import rule_url

SCHEMA = Path(__file__).parent.parent / "data" / "sarif-2.1.0.json"

BAD = """\
from fastapi import BackgroundTasks


def send_email(to: str) -> None: ...


def signup(background_tasks: BackgroundTasks, to: str):
    background_tasks.add_task(send_email(to))
    background_tasks.add_task(send_email(to))
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "views.py").write_text(BAD)
    (tmp_path / "app" / "clean.py").write_text("x = 1\n")
    (tmp_path / "app" / "broken.py").write_text("def f(:\n    add_task\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _check(*args: str) -> str:
    result = CliRunner().invoke(main, ["check", "app", "--select", "FTL104", *args])
    assert result.exit_code == 1, result.output
    return result.stdout


def test_sarif_is_valid_sarif_2_1_0_with_rule_metadata(project: Path) -> None:
    document = json.loads(_check("--format", "sarif"))
    jsonschema.Draft4Validator(json.loads(SCHEMA.read_text())).validate(document)
    run = document["runs"][0]
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    rule = rules["FTL104"]
    assert rule["shortDescription"]["text"]
    assert rule["helpUri"] == rule_url("FTL104")
    assert "background-tasks" in rule["properties"]["tags"]
    found = {
        (r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
        for r in run["results"]
    }
    assert found == {("FTL104", "app/views.py"), ("FTL001", "app/broken.py")}
    region = next(r for r in run["results"] if r["ruleId"] == "FTL104")["locations"][0][
        "physicalLocation"
    ]["region"]
    assert (region["startLine"], region["startColumn"]) == (8, 31)
    assert run["results"][0]["ruleIndex"] == list(rules).index(run["results"][0]["ruleId"])


def test_github_annotations(project: Path) -> None:
    lines = _check("--format", "github").splitlines()
    assert len(lines) == 3
    kind, rest = lines[1].split(" ", 1)
    properties, message = rest.split("::", 1)
    fields = dict(item.split("=", 1) for item in properties.split(","))
    assert kind == "::warning"
    assert fields["file"] == "app/views.py"
    assert (fields["line"], fields["col"]) == ("8", "31")
    assert fields["title"] == "FTL104 call-result-to-task"
    assert message.startswith("FTL104 `send_email(to)` is scheduled as the task")
    assert lines[0].startswith("::error file=app/broken.py,line=1")


def test_junit_has_one_testcase_per_file(project: Path) -> None:
    root = ET.fromstring(_check("--format", "junit"))
    suite = root.find("testsuite")
    assert suite is not None
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert set(cases) == {"app/__init__.py", "app/broken.py", "app/clean.py", "app/views.py"}
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("4", "1", "1")
    failure = cases["app/views.py"].find("failure")
    assert failure is not None and failure.get("type") == "FTL104"
    assert failure.get("message") == "2 findings"
    assert (failure.text or "").startswith("app/views.py:8:31: FTL104 ")
    error = cases["app/broken.py"].find("error")
    assert error is not None and error.get("type") == "FTL001"
    assert not list(cases["app/clean.py"])


def test_gitlab_code_quality_with_stable_fingerprints(project: Path) -> None:
    first = json.loads(_check("--format", "gitlab"))
    assert {(i["check_name"], i["location"]["path"]) for i in first} == {
        ("FTL104", "app/views.py"),
        ("FTL001", "app/broken.py"),
    }
    issue = next(i for i in first if i["check_name"] == "FTL104")
    assert issue["location"]["lines"] == {"begin": 8, "end": 8}
    assert issue["severity"] in ("info", "minor", "major", "critical", "blocker")
    assert issue["description"].startswith("FTL104 ")
    fingerprints = [i["fingerprint"] for i in first]
    assert len(set(fingerprints)) == len(fingerprints) == 3  # identical lines told apart
    assert [i["fingerprint"] for i in json.loads(_check("--format", "gitlab"))] == fingerprints
    # Lines inserted above a finding do not change its fingerprint.
    views = project / "app" / "views.py"
    views.write_text("# a comment\n\n" + views.read_text())
    moved = json.loads(_check("--format", "gitlab"))
    assert [i["fingerprint"] for i in moved] == fingerprints
    assert moved[1]["location"]["lines"]["begin"] == 10
