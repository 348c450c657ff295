"""``ddrisk risk`` through the CLI: auto past the exact budget, structures, tiny probabilities."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from ddrisk.cli import main


def _dense_catalog(path: Path, n_techniques: int = 8, n_modes: int = 12) -> list[str]:
    rng = np.random.default_rng(0)
    techniques = [f"T{i}" for i in range(n_techniques)]
    catalog = {
        "schema_version": "1.0",
        "id": "dense",
        "version": "1",
        "title": "Dense test catalog",
        "raters": [{"id": "t", "name": "T", "kind": "team"}],
        "techniques": [
            {"id": t, "name": t, "category": "filter", "safety_tax": "low"} for t in techniques
        ],
        "failure_modes": [{"id": f"M{j}", "name": f"M{j}"} for j in range(n_modes)],
        "ratings": [
            {
                "technique": t,
                "failure_mode": f"M{j}",
                "level": "prone" if rng.random() < 0.35 else "not_prone",
                "rater": "t",
            }
            for t in techniques
            for j in range(n_modes)
        ],
    }
    path.write_text(yaml.safe_dump(catalog, sort_keys=False))
    return techniques


def test_auto_completes_over_budget_and_says_which_engine(tmp_path: Path) -> None:
    catalog = tmp_path / "cat.yaml"
    stack = ",".join(_dense_catalog(catalog))
    args = ["risk", "--catalog", str(catalog), "--stack", stack, "--draws", "1000"]
    over = CliRunner().invoke(main, [*args, "--exact-budget", "8", "--uncertainty", "3", "--json"])
    assert over.exit_code == 0, over.output
    data = json.loads(over.output)
    parts = data["engine"]["parts"]
    assert parts["P(stack fails)"].startswith("sample")
    assert parts["marginal values"].startswith("sample")
    # prefixes within the budget are exact, the longer ones sampled; the label says which
    assert "sample" in parts["curve"] and parts["uncertainty"].startswith("sample")
    assert data["importance"] is None and "exact engine" in data["importance_note"]
    assert "over budget" in data["result"]["note"]
    exact = json.loads(CliRunner().invoke(main, [*args, "--json"]).output)
    assert exact["engine"]["parts"]["P(stack fails)"].startswith("exact")
    low, high = data["result"]["interval_95"]
    truth = exact["result"]["probability"]
    assert low / 2 < truth < 2 * high  # the sampled answer is about right
    # exact marginal values come from the importance pass and equal a fresh solve without the layer
    without = json.loads(
        CliRunner()
        .invoke(main, ["risk", "--catalog", str(catalog), "--stack", stack[3:], "--json"])
        .output
    )
    assert exact["layers"][0]["marginal_value"]["probability_without"] == pytest.approx(
        without["result"]["probability"], rel=1e-9
    )
    text = CliRunner().invoke(main, [*args, "--exact-budget", "8"])
    assert text.exit_code == 0 and "engines: P(stack fails): sample" in text.output


def test_exact_over_budget_is_an_error_not_a_crash(tmp_path: Path) -> None:
    catalog = tmp_path / "cat.yaml"
    stack = ",".join(_dense_catalog(catalog))
    result = CliRunner().invoke(
        main,
        [
            "risk",
            "--catalog",
            str(catalog),
            "--stack",
            stack,
            "--engine",
            "exact",
            "--exact-budget",
            "8",
        ],
    )
    assert result.exit_code == 1 and "budget" in result.output


def test_structure_file_through_the_cli(tmp_path: Path) -> None:
    structure = tmp_path / "structure.yaml"
    structure.write_text(
        "structure:\n  any_route:\n    - {all_miss: [RLHF, RE]}\n"
        "    - vote: {flag: 2, of: [DEBATE, SCIAI, IDA]}\n"
    )
    result = CliRunner().invoke(main, ["risk", "--structure", str(structure), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["structure"]["text"] == (
        "any route of (all miss (RLHF, RE), 2-of-3 vote (DEBATE, SCIAI, IDA))"
    )
    assert data["stack"] == ["RLHF", "RE", "DEBATE", "SCIAI", "IDA"]
    assert data["result"]["method"] == "bdd" and data["importance"]["method"] == "bdd-gradient"
    plain = json.loads(
        CliRunner().invoke(main, ["risk", "--stack", "RLHF,RE,DEBATE,SCIAI,IDA", "--json"]).output
    )
    assert data["result"]["probability"] > plain["result"]["probability"]
    wrong = CliRunner().invoke(main, ["risk", "--structure", str(structure), "--stack", "RLHF,RE"])
    assert wrong.exit_code == 2 and "structure" in wrong.output


def test_tiny_probabilities_print_from_the_log(tmp_path: Path) -> None:
    args = ["risk", "--stack", "RLHF,RLAIF,W2S,DEBATE,RE,SCIAI,IDA", "--q", "1e-60"]
    args += ["--residual", "1e-60", "--p-not-prone", "0"]
    text = CliRunner().invoke(main, args)
    assert text.exit_code == 0, text.output
    assert "P(stack fails) = 2.095e-120" in text.output
    assert "independence prediction = 3.073e-416" in text.output
    assert " = 0 " not in text.output and "nan" not in text.output
    data = json.loads(CliRunner().invoke(main, [*args, "--json"]).output)
    assert data["result"]["independence_prediction_text"] == "3.073e-416"
