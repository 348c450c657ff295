"""The catalog and analysis commands, run as a user runs them."""

from __future__ import annotations

import csv
import io
import json

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from ddrisk.cli import main
from ddrisk.io.catalog import dump_catalog


def run(*args: str):
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_show_table_uses_the_papers_symbols():
    output = run("show")
    assert "✓ not prone · ✗ prone · ? unclear" in output
    row = next(line for line in output.splitlines() if line.strip().startswith("RE "))
    assert row.split()[2:] == ["✓", "✓", "✗", "✓", "✓", "✓", "✗"]


def test_show_markdown_and_latex():
    markdown = run("show", "--format", "markdown")
    assert "| RE | low | ✓ | ✓ | ✗ | ✓ | ✓ | ✓ | ✗ |" in markdown
    assert "| SCIAI | high | ✗ | ?\\* |" in markdown
    latex = run("show", "--format", "latex")
    assert latex.count("\\\\") == 8 and "\\begin{tabular}" in latex and "\\xmark" in latex


def test_show_csv_and_json_agree(builtin):
    rows = list(csv.DictReader(io.StringIO(run("show", "--format", "csv"))))
    data = json.loads(run("show", "--format", "json"))
    assert [r["technique"] for r in rows] == builtin.technique_ids
    for row in rows:
        for mode in builtin.failure_mode_ids:
            assert data["cells"][row["technique"]][mode]["level"] == row[mode]
    assert data["catalog"]["sha256"] == builtin.content_hash


def test_show_accepts_a_catalog_file(tmp_path, builtin):
    path = tmp_path / "mine.json"
    path.write_text(dump_catalog(builtin, fmt="json"), encoding="utf-8")
    assert (
        json.loads(run("show", "--catalog", str(path), "--format", "json"))["cells"]["RE"][
            "AL-GEN"
        ]["level"]
        == "prone"
    )


def test_schema_validates_the_builtin_catalog(builtin):
    schema = json.loads(run("schema"))
    data = yaml.safe_load(dump_catalog(builtin))
    jsonschema.validate(data, schema)
    data["ratings"][0]["level"] = "maybe"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema)


def test_crosswalk_is_sssom_tsv():
    text = run("crosswalk")
    body = [line for line in text.splitlines() if not line.startswith("#")]
    rows = list(csv.DictReader(io.StringIO("\n".join(body)), delimiter="\t"))
    assert {"subject_id", "predicate_id", "object_id", "mapping_justification"} <= set(rows[0])
    assert any(r["subject_id"].endswith("/COLL") and r["object_id"] == "mit-airr:7.6" for r in rows)


def test_analyze_json_and_output_file(tmp_path):
    out = tmp_path / "analysis.json"
    data = json.loads(run("analyze", "--json", "--stack", "debate,re", "-o", str(out)))
    assert data["stack"]["stack"] == ["DEBATE", "RE"]  # ids are matched case-insensitively
    assert json.loads(out.read_text()) == data
    assert data["priorities"]["top"] == {"pessimistic": ["AL-GEN"], "optimistic": ["AL-GEN"]}


def test_analyze_single_policy_terminal_output():
    output = run("analyze", "--policy", "optimistic", "--k-max", "2")
    assert "Findings" in output and "AL-GEN defeats 6 of 7" in output
    assert "pessimistic" not in output.split("Findings")[0]
