"""``ddrisk raters`` commands and the report section, on the illustrative examples."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from ddrisk.cli import main
from ddrisk.io.catalog import load_catalog
from ddrisk.io.raterfile import load_rater_panel, read_rater_file
from ddrisk.report.build import build_report
from ddrisk.report.raters_sections import raters_input

EXAMPLES = [
    str(p)
    for p in sorted((Path(__file__).resolve().parents[2] / "examples" / "raters").glob("*.yaml"))
]


def _run(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_template_writes_sheets_that_validate_and_refuses_to_overwrite(tmp_path):
    out = _run(
        "raters", "template", "--rater", "alice=Alice A", "--rater", "bob", "-o", str(tmp_path)
    )
    assert sorted(Path(p).name for p in out.split()) == [
        "alice.csv",
        "alice.yaml",
        "bob.csv",
        "bob.yaml",
    ]
    sheet = read_rater_file(tmp_path / "alice.csv", catalog=load_catalog())
    assert sheet.rater.name == "Alice A" and len(sheet.ratings) == 49
    again = CliRunner().invoke(main, ["raters", "template", "--rater", "bob", "-o", str(tmp_path)])
    assert again.exit_code == 2 and "already exists" in again.output
    bad = CliRunner().invoke(main, ["raters", "template", "--rater", "1x", "-o", str(tmp_path)])
    assert bad.exit_code == 2 and "invalid rater id" in bad.output


def test_validate_reports_coverage():
    payload = json.loads(_run("raters", "validate", *EXAMPLES, "--json"))
    assert [row["rated"] for row in payload["files"]] == [47, 47, 46, 46]


def test_agree_json_names_method_seed_and_input_hash():
    payload = json.loads(
        _run("raters", "agree", *EXAMPLES, "--bootstrap", "100", "--seed", "5", "--json")
    )
    assert payload["format"] == "ddrisk.raters.agreement/1"
    assert payload["settings"] == {"n_boot": 100, "seed": 5, "confidence": 0.95}
    assert len(payload["input_sha256"]) == 64
    assert "krippendorff" in payload["method"] and "statsmodels" in payload["method"]
    alpha = payload["alpha_ordinal"]
    assert alpha["interval"][0] <= alpha["value"] <= alpha["interval"][1]
    assert len(payload["pairs"]) == 6 and "SCIAI:CAP-DEV" in payload["split_cells"]


def test_pool_writes_an_ordinary_catalog(tmp_path):
    target = tmp_path / "pooled.yaml"
    _run(
        "raters",
        "pool",
        *EXAMPLES,
        "--rule",
        "geometric_odds",
        "--extremize",
        "1.5",
        "-o",
        str(target),
    )
    pooled = load_catalog(target)
    assert pooled.raters[0].kind == "derived" and "extremize 1.5" in pooled.raters[0].name
    assert "ok" in _run("validate", str(target))
    assert "P(stack fails)" in _run("risk", "--catalog", str(target), "--stack", "RLHF,RE")
    side = json.loads(_run("raters", "pool", *EXAMPLES, "--json"))
    assert side["rules"] == [
        "majority",
        "median",
        "mean_probability",
        "geometric_odds",
        "any_prone",
    ]
    needs_rule = CliRunner().invoke(main, ["raters", "pool", *EXAMPLES, "-o", str(target)])
    assert needs_rule.exit_code == 2 and "--rule" in needs_rule.output


def test_compare_json_has_survival_and_disagreement_interval():
    payload = json.loads(
        _run("raters", "compare", *EXAMPLES, "--stack", "RLHF,RE", "--draws", "100", "--json")
    )
    survival = payload["survival"]
    assert survival["settings"]["stack"] == ["RLHF", "RE"]
    keys = {row["conclusion"] for row in survival["conclusions"]}
    assert {"groups", "best_pair", "top_priority", "risk_best_pair", "stack_probability"} <= keys
    spread = payload["disagreement_uncertainty"]
    low, high = spread["probability_p05_p95"]
    assert low < high
    assert spread["uncertainty"]["n_draws"] == 100


def test_form_command_writes_a_self_contained_page(tmp_path):
    target = tmp_path / "form.html"
    _run("raters", "form", "--rater", "alice", "-o", str(target))
    html = target.read_text(encoding="utf-8")
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert "http://" not in html.split("<body>")[0]
    assert 'src="http' not in html and "<link" not in html


def test_report_section_html_markdown_json(tmp_path):
    catalog = load_catalog()
    import ddrisk

    data = raters_input(load_rater_panel(EXAMPLES[:3], catalog=catalog), n_boot=50, n_draws=50)
    report = build_report(
        catalog=catalog,
        analysis=ddrisk.analyze(catalog),
        raters=data,
        created="2026-01-01T00:00:00Z",
    )
    ids = [section.id for section in report.sections]
    assert {"raters-agreement", "raters-pooling", "raters-survival"} <= set(ids)
    assert {"raters-survival", "raters-agreement"} <= set(report.figure_svgs())
    payload = report.to_dict()
    assert payload["raters"]["format"] == "ddrisk.raters.report/1"
    assert payload["provenance"]["raters"]["raters"] == [
        "illustrative-a",
        "illustrative-b",
        "illustrative-c",
    ]
    assert "Conclusions that survive rater disagreement" in report.html()
    assert "Raters: agreement" in report.markdown()


def test_report_command_accepts_raters(tmp_path):
    target = tmp_path / "r.json"
    _run(
        "report",
        "--format",
        "json",
        "--draws",
        "10",
        "-o",
        str(target),
        *[x for f in EXAMPLES[:2] for x in ("--raters", f)],
    )
    payload = json.loads(target.read_text(encoding="utf-8"))
    assert payload["raters"]["survival"]["settings"]["reference_rule"] == "median"


def test_terminal_output_of_agree_pool_compare():
    agree = _run("raters", "agree", *EXAMPLES, "--bootstrap", "20")
    assert (
        "Krippendorff's alpha, ordinal" in agree
        and "Cells that split the raters (13 of 49)" in agree
    )
    pool = _run("raters", "pool", *EXAMPLES)
    assert "ties reported" in pool and "RE:DEC-AL" in pool
    compare = _run("raters", "compare", *EXAMPLES, "--stack", "RLHF,RE", "--draws", "10")
    assert "Conclusions that survive disagreement" in compare
    assert "each rater's own matrix:" in compare
