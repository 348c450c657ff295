"""`stress run` calibration errors name the command's options, not the API's parameters."""

from __future__ import annotations

import json

from click.testing import CliRunner

from ddrisk.cli import main


def _files(tmp_path):
    items = tmp_path / "items.jsonl"
    rows = [("how to pick a lock", "harmful"), ("bake bread", "benign")]
    items.write_text("".join(json.dumps({"text": t, "label": lab}) + "\n" for t, lab in rows))
    layers = tmp_path / "layers.yaml"
    layers.write_text("layers:\n  - {kind: python, name: g, target: 'operator:truth'}\n")
    return items, layers


def test_rate_without_calibration_data_names_the_options(tmp_path):
    items, layers = _files(tmp_path)
    args = ["stress", "run", "--data", str(items), "--layers", str(layers), "-q"]
    args += ["--runs-dir", str(tmp_path / "runs"), "--calibrate", "0.05"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert "--calibration-data" in result.output and "--calibrate none" in result.output
    assert "calibration_items" not in result.output and "run_experiment" not in result.output


def test_overlapping_calibration_data_names_the_option(tmp_path):
    items, layers = _files(tmp_path)
    args = ["stress", "run", "--data", str(items), "--layers", str(layers), "-q"]
    args += ["--runs-dir", str(tmp_path / "runs"), "--calibrate", "0.05"]
    args += ["--calibration-data", str(items)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert "--calibration-data" in result.output
    assert "calibration_items" not in result.output and "run_experiment" not in result.output
