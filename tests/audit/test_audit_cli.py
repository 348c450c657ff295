"""`ddrisk audit` as a user runs it: JSON record, reports, and one located line for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from ddrisk.cli import main

from .conftest import SMALL_STACK


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def test_schema_validates_the_example_and_the_fixture(small_stack):
    result = invoke("audit", "--schema")
    assert result.exit_code == 0
    schema = json.loads(result.output)
    for path in ("examples/llm-assistant-stack.yaml", small_stack):
        jsonschema.validate(yaml.safe_load(Path(path).read_text(encoding="utf-8")), schema)


def test_json_record_html_and_markdown(small_stack, tmp_path):
    html = tmp_path / "audit.html"
    result = invoke("audit", str(small_stack), "--json", "--draws", "50", "-o", str(html))
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert record["format"] == "ddrisk.audit/1"
    assert record["seed"] == 0 and len(record["input_sha256"]) == 64
    assert record["ddrisk_version"]
    assert [m["mode"] for m in record["straight_through"]] == ["EVAL-DIFF"]
    frameworks = {f["object_id"] for f in record["straight_through"][0]["frameworks"]}
    assert "eu-ai-act:art14" in frameworks
    assert 0 < record["risk"]["probability"] < 1
    bounds = record["risk"]["unclear_bounds"]
    assert (
        bounds["unclear_as_not_prone"]
        <= record["risk"]["probability"]
        <= bounds["unclear_as_prone"]
    )
    assert record["risk"]["uncertainty"]["uncertain_parameters"]
    assert record["additions"]["best"] == ["SCIAI"]
    assert record["additions"]["additions"][0]["closes_straight_through"] == ["EVAL-DIFF"]
    page = html.read_text(encoding="utf-8")
    assert "Small &lt;b&gt;test&lt;/b&gt; stack" in page and "<b>test</b>" not in page
    assert "data:image/svg+xml;base64," in page
    markdown = tmp_path / "audit.md"
    result = invoke("audit", str(small_stack), "--draws", "20", "-o", str(markdown))
    assert result.exit_code == 0, result.output
    assert "Straight-through failure modes" in result.output
    assert "## Audit of" in markdown.read_text(encoding="utf-8")
    assert (tmp_path / "audit.swiss-cheese.svg").exists()


def test_weights_change_is_recorded(small_stack):
    result = invoke(
        "audit",
        str(small_stack),
        "--json",
        "--draws",
        "0",
        "--weights",
        "severity=1,tractability=0,neglectedness=0,urgency=0",
    )
    assert result.exit_code == 0, result.output
    weights = json.loads(result.output)["priorities"]["weights"]
    assert weights == {"severity": 1.0, "tractability": 0.0, "neglectedness": 0.0, "urgency": 0.0}
    bad = invoke("audit", str(small_stack), "--weights", "beauty=1")
    assert bad.exit_code == 2 and "unknown criteria" in bad.output


BAD = [
    (
        "technique: DEBATE",
        "technique: DEBATTE",
        "unknown technique 'DEBATTE'",
        "did you mean 'DEBATE'",
    ),
    ("catalog: dung-mai-2025", "catalog: no-such-catalog", "unknown catalog", "line 4"),
    (
        "base_model: base-a}",
        "base_model: base-b}",
        "base model 'base-b' is not declared",
        "did you mean 'base-a'",
    ),
    (
        "tuned-a: {derived_from: base-a}",
        "tuned-a: {derived_from: base-a}\n    base-a2: {derived_from: base-a2}",
        "derived_from cycle",
        "base-a2 -> base-a2",
    ),
    ("{probability: 0.7}", "{probability: 1.7}", "out of range", "line 19"),
    ("budget: 3", "budget: 3\nbudget: 4", "duplicate key 'budget'", "line"),
    (
        "ratings: {DEC-AL:",
        "ratings: {DEC-ALL:",
        "unknown failure mode 'DEC-ALL'",
        "did you mean 'DEC-AL'",
    ),
    ("id: small", "id: small\nlayer: []", "unknown key 'layer'", "line"),
]


@pytest.mark.parametrize(("old", "new", "problem", "where"), BAD)
def test_bad_stack_files_get_one_located_line_and_exit_2(tmp_path, old, new, problem, where):
    assert old in SMALL_STACK
    path = tmp_path / "bad.yaml"
    path.write_text(SMALL_STACK.replace(old, new, 1), encoding="utf-8")
    result = invoke("audit", str(path))
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert str(path) in lines[0] and problem in lines[0] and where in lines[0]
    assert "Traceback" not in result.output
