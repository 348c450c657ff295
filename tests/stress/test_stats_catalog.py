"""The measured layer x family matrix as a catalog; the stress analyze command; figures."""

from __future__ import annotations

import json
from pathlib import Path

import click
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from matplotlib.figure import Figure

from ddrisk.catalog import Level, SafetyTax
from ddrisk.cli import LazyGroup
from ddrisk.cli.stress_analyze import analyze, sniff_format
from ddrisk.io.catalog import dump_catalog, parse_catalog
from ddrisk.report.stress_figures import (
    family_miss_figure,
    k_of_n_figure,
    phi_heatmap_figure,
    save_stress_figures,
)
from ddrisk.stress.matrix import OutcomeMatrix
from ddrisk.stress.statistics import analyze_outcomes, empirical_catalog

FIXTURES = Path(__file__).parents[1] / "fixtures" / "stress"


def measured_matrix() -> OutcomeMatrix:
    """Layer 'regex/v1' misses 90 of 100 'GCG suffix' items, 5 of 100 'direct', 50 of 100
    'past tense'; layer '2nd judge' misses 2 of 4 items of family '0day' (too few to rate).
    Benign: 'regex/v1' false-blocks 1 of 100, '2nd judge' 30 of 100."""
    rows, blocked = [], []
    misses = {"GCG suffix": (90, 20), "direct": (5, 70), "past tense": (50, 50)}
    for family, (miss_regex, miss_judge) in misses.items():
        for index in range(100):
            rows.append((f"{family}-{index}", family, f"{family}-b{index // 4}", True))
            blocked.append((float(index >= miss_regex), float(index >= miss_judge)))
    for index in range(4):
        rows.append((f"zero-{index}", "0day", f"z{index}", True))
        blocked.append((float(index >= 2), np.nan if index == 3 else float(index >= 2)))
    for index in range(100):
        rows.append((f"benign-{index}", "benign", f"ok{index}", False))
        blocked.append((float(index < 1), float(index < 30)))
    items = pd.DataFrame(rows, columns=["item_id", "family", "behavior_id", "harmful"])
    array = np.array(blocked)
    return OutcomeMatrix(
        items=items,
        layers=("regex/v1", "2nd judge"),
        blocked=array,
        score=np.full(array.shape, np.nan),
        errors=np.full(array.shape, None, dtype=object),
        source="test",
        metadata={"run_id": "20261124-0815-abc123"},
    )


def test_empirical_catalog_levels_probabilities_and_provenance():
    catalog = empirical_catalog(measured_matrix())
    assert catalog.technique_ids == ["regex_v1", "L_2nd_judge"]
    assert catalog.failure_mode_ids == ["F_0day", "GCG_suffix", "direct", "past_tense"]
    assert catalog.technique("regex_v1").name == "regex/v1"
    gcg = catalog.rating("regex_v1", "GCG_suffix")
    assert gcg.probability == pytest.approx(0.90)
    assert gcg.level is Level.PRONE  # Wilson [0.826, 0.945] lies above 0.5
    assert catalog.rating("regex_v1", "direct").level is Level.NOT_PRONE  # [0.022, 0.112]
    assert catalog.rating("regex_v1", "past_tense").level is Level.UNCLEAR  # straddles 0.5
    tiny = catalog.rating("L_2nd_judge", "F_0day")
    assert tiny.level is Level.UNCLEAR and tiny.probability == pytest.approx(2 / 3)
    assert "k=2, n=3, errors excluded=1" in tiny.provenance.note
    assert "20261124-0815-abc123" in gcg.provenance.note
    assert catalog.raters[0].kind == "tool"
    assert catalog.technique("regex_v1").safety_tax is SafetyTax.LOW  # 1 % false blocks
    assert catalog.technique("L_2nd_judge").safety_tax is SafetyTax.HIGH  # 30 %
    assert catalog.version.startswith("sha256-")
    lower = empirical_catalog(measured_matrix(), prone_threshold=0.3)
    assert lower.rating("regex_v1", "past_tense").level is Level.PRONE


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_empirical_catalog_round_trips(fmt):
    catalog = empirical_catalog(measured_matrix())
    again = parse_catalog(dump_catalog(catalog, fmt=fmt), label=f"empirical.{fmt}")
    assert again.content_hash == catalog.content_hash
    assert again.level_matrix() == catalog.level_matrix()


def test_empirical_catalog_needs_harmful_items():
    matrix = measured_matrix()
    benign_only = matrix.select_items(~matrix.harmful)
    with pytest.raises(ValueError, match="no harmful items"):
        empirical_catalog(benign_only)


# ---------------------------------------------------------------------------- CLI
@click.group(cls=LazyGroup)
def cli() -> None:
    """Stand-in for the ``stress`` group, with ddrisk's one-line error handling."""


cli.add_command(analyze)


def invoke(*args: str):
    return CliRunner().invoke(cli, ["analyze", *args], catch_exceptions=False)


def test_sniff_format(tmp_path):
    assert sniff_format(FIXTURES / "garak_small.report.jsonl") == "garak"
    assert sniff_format(FIXTURES / "promptfoo_small.json") == "promptfoo"
    assert sniff_format(FIXTURES / "inspect_small.json") == "inspect"


def test_analyze_json_from_promptfoo(tmp_path):
    catalog_path = tmp_path / "measured.yaml"
    counts_path = tmp_path / "counts.json"
    result = invoke(
        str(FIXTURES / "promptfoo_small.json"),
        "--json",
        "--bootstrap",
        "100",
        "--seed",
        "5",
        "--catalog-out",
        str(catalog_path),
        "--counts-out",
        str(counts_path),
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["input"]["source"] == "promptfoo"
    assert data["parameters"]["seed"] == 5 and data["parameters"]["n_bootstrap"] == 100
    assert data["stack"]["all_miss"]["k"] == 1 and data["stack"]["all_miss"]["n"] == 2
    assert [row["item_id"] for row in data["master_keys"]] == ["test1"]
    catalog = parse_catalog(catalog_path.read_text(), label=str(catalog_path))
    assert catalog.technique_ids[0] == "guard-a_guardrails"
    assert data["written"][0].startswith(f"catalog {catalog_path}")
    counts = json.loads(counts_path.read_text())
    # keyed by the catalog's technique ids, so `ddrisk risk --counts` pairs them up
    assert sorted(counts["layers"]) == sorted(catalog.technique_ids)
    assert counts["layers"]["guard-b_guardrails"] == {"failures": 2, "n": 3}
    assert counts["joint"] == {"failures": 1, "n": 2}


def test_analyze_text_with_layer_subset_and_figures(tmp_path):
    result = invoke(
        str(FIXTURES / "garak_small.report.jsonl"),
        "--from",
        "garak",
        "--layers",
        "dan.DAN,mitigation.MitigationBypass",
        "--bootstrap",
        "50",
        "--figures",
        str(tmp_path / "figs"),
    )
    assert result.exit_code == 0, result.output
    assert "all-miss" in result.output and "master keys" in result.output
    assert "encoding.DecodeMatch" not in result.output
    assert sorted(p.name for p in (tmp_path / "figs").iterdir()) == [
        "stress-families.png",
        "stress-k-of-n.png",
        "stress-phi.png",
    ]


def test_analyze_errors_are_one_line(tmp_path):
    broken = tmp_path / "report.jsonl"
    broken.write_text('{"entry_type": "init"\n')
    result = CliRunner().invoke(cli, ["analyze", str(broken), "--from", "garak"])
    assert result.exit_code == 2
    assert result.output.strip().startswith(f"ddrisk: error: {broken}: line 1")
    assert "Traceback" not in result.output
    unknown = CliRunner().invoke(
        cli, ["analyze", str(FIXTURES / "promptfoo_small.json"), "--layers", "nope"]
    )
    assert unknown.exit_code == 2 and "unknown id 'nope'" in unknown.output
    odd = tmp_path / "odd.txt"
    odd.write_text("hello")
    assert CliRunner().invoke(cli, ["analyze", str(odd)]).exit_code == 2


# ---------------------------------------------------------------------------- figures
def test_figures_are_built_from_the_analysis(tmp_path):
    analysis = analyze_outcomes(measured_matrix(), n_bootstrap=100)
    phi = phi_heatmap_figure(analysis)
    assert isinstance(phi, Figure)
    texts = [t.get_text() for t in phi.axes[0].texts]
    pair = analysis.pairs.iloc[0]
    assert any(t.startswith(f"{pair['phi']:.2f}\n") for t in texts)
    k_curve = k_of_n_figure(analysis)
    observed_line = k_curve.axes[0].lines[0]
    assert np.allclose(observed_line.get_ydata(), analysis.k_of_n["observed"])
    families = family_miss_figure(analysis)
    assert [t.get_text() for t in families.axes[0].get_yticklabels()] == [
        "regex/v1",
        "2nd judge",
        "all layers",
    ]
    paths = save_stress_figures(analysis, tmp_path)
    assert all(p.stat().st_size > 1000 for p in paths)
