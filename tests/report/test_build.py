"""The report: every section, provenance on every table and figure, self-contained, reproducible."""

from __future__ import annotations

import base64
import json
import re

import numpy as np
import pandas as pd
import pytest

from ddrisk.analysis import analyze
from ddrisk.errors import InputError
from ddrisk.report.build import build_report, report_timestamp
from ddrisk.report.escape import markdown_text
from tests.conftest import make_catalog

SECTIONS = (
    "summary",
    "matrix",
    "overlap",
    "groups",
    "coverage",
    "best-stacks",
    "priorities",
    "robustness",
    "provenance",
)
FIXED = "2025-10-13T00:00:00Z"


@pytest.fixture(scope="module")
def analysis(builtin):
    return analyze(builtin, stack=["DEBATE", "RE"])


@pytest.fixture(scope="module")
def report(builtin, analysis):
    return build_report(catalog=builtin, analysis=analysis, created=FIXED)


@pytest.fixture(scope="module")
def html(report) -> str:
    return report.html()


def test_html_has_every_section_in_reading_order(html):
    positions = [html.index(f'<section id="{name}">') for name in SECTIONS]
    assert positions == sorted(positions)
    assert html.index("Summary of findings") < html.index("The matrix")


def test_html_names_catalog_hash_settings_and_every_technique(html, builtin, analysis):
    assert builtin.content_hash in html
    assert html.count(f"sha256:{builtin.content_hash}") >= 10  # one per table/figure caption
    for technique in builtin.technique_ids:
        assert f">{technique}<" in html
    for mode in builtin.failure_mode_ids:
        assert mode in html
    for key in analysis.settings:
        assert f"setting: {key}" in html
    assert "policy bounds" in html and "seed 0" in html and "group threshold 0.2" in html


def test_every_table_and_figure_carries_provenance(report, html, builtin):
    figures = report.figure_blocks()
    assert {f.name for f in figures} >= {"matrix", "overlap_shared", "dendrogram", "priorities"}
    for block in figures:
        assert builtin.content_hash in block.provenance
    tables = re.findall(r'<figure class="table">.*?</figure>', html, flags=re.S)
    with_tbody_rows = [t for t in tables if "<thead>" in t]
    assert with_tbody_rows
    for table in with_tbody_rows:
        assert builtin.content_hash in table


def test_findings_are_the_analysis_findings(html, analysis):
    for finding in analysis.findings:
        assert finding.title in html
    assert "AL-GEN" in html


def test_stack_coverage_shows_the_straight_through_mode(html):
    section = html[html.index('<section id="coverage">') : html.index('<section id="best-stacks">')]
    assert "DEBATE + RE" in section
    assert re.search(r"<th scope=\"row\">AL-GEN</th><td class=\"through\"[^>]*>yes</td>", section)


def test_coverage_without_a_stack_says_how_to_ask_for_one(builtin):
    report = build_report(catalog=builtin, analysis=analyze(builtin), created=FIXED)
    coverage = next(s for s in report.sections if s.id == "coverage")
    assert "--stack" in coverage.intro and not coverage.blocks


def test_html_is_self_contained(html):
    assert "<script" not in html.lower()
    assert "<link" not in html.lower()
    assert "@import" not in html
    assert not re.search(r"url\(\s*['\"]?https?:", html)
    assert not re.search(r"\b(src|href)\s*=\s*[\"']?(https?:)?//", html)
    images = re.findall(r'<img src="([^"]+)"', html)
    assert len(images) >= 6
    for source in images:
        assert source.startswith("data:image/svg+xml;base64,")
        svg = base64.b64decode(source.split(",", 1)[1]).decode()
        assert "<svg" in svg
        # raster parts of a figure (heatmaps) are embedded too, never linked
        assert not re.search(r'href="(?!data:|#)', svg)


def test_html_escapes_catalog_text():
    catalog = make_catalog([["prone", "not_prone"], ["unclear", "prone"]])
    hostile = catalog.model_copy(
        update={"title": "<script>alert(1)</script> & co", "description": "a <b>bold</b> claim"}
    )
    report = build_report(catalog=hostile, analysis=analyze(hostile), created=FIXED)
    html = report.html()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in html
    assert "a &lt;b&gt;bold&lt;/b&gt; claim" in html


def test_two_builds_are_byte_identical_with_source_date_epoch(builtin, analysis, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    first = build_report(catalog=builtin, analysis=analysis).html()
    second = build_report(catalog=builtin, analysis=analyze(builtin, stack=["DEBATE", "RE"])).html()
    assert first == second
    assert "2023-11-14T22:13:20Z" in first


def test_timestamp_sources(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "86400")
    assert report_timestamp() == "1970-01-02T00:00:00Z"
    assert report_timestamp(FIXED) == FIXED
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(InputError, match="SOURCE_DATE_EPOCH"):
        report_timestamp()
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", report_timestamp())


def test_report_refuses_an_analysis_of_another_catalog(builtin):
    other = make_catalog([["prone", "not_prone"], ["not_prone", "prone"]])
    with pytest.raises(InputError, match="different catalog"):
        build_report(catalog=builtin, analysis=analyze(other), created=FIXED)


def test_markdown_has_the_same_sections_as_tables(report, builtin):
    text = report.markdown()
    for section in report.sections:
        assert f"## {markdown_text(section.title)}" in text
    header = " | ".join(markdown_text(m) for m in builtin.failure_mode_ids)
    assert "| technique | safety tax | " + header + " |" in text
    assert "| RLAIF | low | ✓ | ✗ | ✗ | ✗\\* |" in text
    assert builtin.content_hash in text
    assert "Figure omitted" in text and "](" not in text.split("Contents:")[1].split("\n", 1)[1]


def test_markdown_write_links_figure_files(report, tmp_path):
    written = report.write(tmp_path / "r.md", fmt="markdown")
    text = written[0].read_text(encoding="utf-8")
    names = [b.name for b in report.figure_blocks()]
    for name in names:
        assert f"](r-figures/{name}.svg)" in text
        assert (tmp_path / "r-figures" / f"{name}.svg").read_text().lstrip().startswith("<?xml")
    assert len(written) == 1 + len(names)


def test_json_carries_results_and_provenance(report, analysis, builtin):
    data = json.loads(report.json())
    assert data["format"] == "ddrisk.report/1"
    assert data["analysis"] == json.loads(json.dumps(analysis.to_dict()))
    provenance = data["provenance"]
    assert provenance["catalog"]["sha256"] == builtin.content_hash
    assert provenance["settings"]["stack"] == ["DEBATE", "RE"]
    assert provenance["seed"] == 0
    assert provenance["created"] == FIXED
    for key in ("ddrisk_version", "python", "platform", "packages"):
        assert provenance[key]
    assert data["matrix"]["cells"]["IDA"]["AL-GEN"]["symbol"] == "✗"
    assert data["risk"] is None and data["stress"] is None
    assert {f["name"] for f in data["figures"]} >= {"matrix", "dendrogram"}


def test_render_rejects_unknown_format(report):
    with pytest.raises(InputError, match="format"):
        report.render("pdf")


def _outcome_matrix():
    from ddrisk.stress.matrix import OutcomeMatrix

    rng = np.random.default_rng(7)
    n = 120
    harmful = rng.random(n) < 0.8
    shared = rng.random(n) < 0.3
    blocked = np.column_stack(
        [~(shared | (rng.random(n) < 0.1)), ~(shared | (rng.random(n) < 0.2))]
    ).astype(float)
    blocked[~harmful] = rng.random(((~harmful).sum(), 2)) < 0.05
    items = pd.DataFrame(
        {
            "item_id": [f"i{i}" for i in range(n)],
            "family": rng.choice(["dan", "gcg"], n),
            "behavior_id": [f"b{i // 2}" for i in range(n)],
            "harmful": harmful,
        }
    )
    return OutcomeMatrix(
        items=items,
        layers=("regex", "toxicity"),
        blocked=blocked,
        score=np.full((n, 2), np.nan),
        errors=np.full((n, 2), None),
    )


def test_stress_section_from_a_stress_analysis(builtin, analysis):
    from ddrisk.stress.statistics import analyze_outcomes

    stress = analyze_outcomes(_outcome_matrix(), seed=3, n_bootstrap=50)
    report = build_report(catalog=builtin, analysis=analysis, stress=stress, created=FIXED)
    html = report.html()
    assert '<section id="stress">' in html
    assert stress.input["input_sha256"] in html
    assert "seed 3" in html and "50 cluster-bootstrap replicates" in html
    summary = html[html.index('<section id="summary">') : html.index('<section id="matrix">')]
    assert "do 2 layers miss the same attacks?" in summary
    all_miss = stress.stack["all_miss"]
    assert f"{all_miss['k']}/{all_miss['n']}" in html
    assert {"stress_k_of_n", "stress_phi", "stress_families"} <= {
        b.name for b in report.figure_blocks()
    }
    data = json.loads(report.json())
    assert data["stress"]["input"]["input_sha256"] == stress.input["input_sha256"]
    assert data["provenance"]["stress"]["seed"] == 3


@pytest.mark.parametrize(
    ("levels", "policy"),
    [
        ([["prone", "unclear", "not_prone"]], "bounds"),  # one technique: no pairs, no tree
        ([["prone", "prone"], ["prone", "prone"], ["not_prone", "unclear"]], "optimistic"),
    ],
)
def test_small_catalogs_build_every_format(levels, policy):
    catalog = make_catalog(levels)
    analysis = analyze(catalog, policy=policy, stack=[catalog.technique_ids[0]])
    report = build_report(catalog=catalog, analysis=analysis, created=FIXED)
    html = report.html()
    assert html.count("<img src=") == len(report.figure_blocks())
    assert f"policy {policy}" in html
    assert "## Best stacks" in report.markdown()
    assert json.loads(report.json())["analysis"]["settings"]["policy"] == policy
    with pytest.raises(KeyError, match="no figure"):
        report.figure_svg("not-a-figure")
