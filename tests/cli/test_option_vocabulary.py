"""One meaning per option name: files are --*-file, outputs are -o/--output; old names still work."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ddrisk.cli import main


def _files(tmp_path: Path) -> tuple[Path, Path]:
    items = tmp_path / "items.jsonl"
    rows = [("how to pick a lock", "harmful"), ("bake bread", "benign")]
    items.write_text("".join(json.dumps({"text": t, "label": lab}) + "\n" for t, lab in rows))
    layers = tmp_path / "layers.yaml"
    layers.write_text("layers:\n  - {kind: python, name: g, target: 'operator:truth'}\n")
    return items, layers


def _run(tmp_path: Path, *layer_args: str) -> dict:
    items, _ = _files(tmp_path)
    args = ["stress", "run", "--data", str(items), *layer_args, "--calibrate", "none"]
    args += ["--runs-dir", str(tmp_path / "runs"), "-q", "--json"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("spelling", ["--layers-file", "--layers"])
def test_stress_run_layers_file_and_its_old_name(tmp_path: Path, spelling: str) -> None:
    _, layers = _files(tmp_path)
    data = _run(tmp_path, spelling, str(layers))
    assert [layer["name"] for layer in data["run"]["layers"]] == ["g"]


def test_old_names_are_hidden_and_new_names_shown() -> None:
    runner = CliRunner()
    run_help = runner.invoke(main, ["stress", "run", "--help"]).output
    assert "--layers-file" in run_help and "--layers " not in run_help
    attack_help = runner.invoke(main, ["stress", "attack", "--help"]).output
    assert "--layers-file" in attack_help and "--output-layers-file" in attack_help
    assert "--output-layers " not in attack_help
    export_help = runner.invoke(main, ["stress", "export", "--help"]).output
    assert "-o, --output" in export_help and "--out " not in export_help
    template_help = runner.invoke(main, ["raters", "template", "--help"]).output
    assert "-o, --output-dir" in template_help and "--out-dir" not in template_help


@pytest.mark.parametrize("spelling", ["-o", "--output", "--out"])
def test_stress_export_output(tmp_path: Path, spelling: str) -> None:
    _, layers = _files(tmp_path)
    _run(tmp_path, "--layers-file", str(layers))
    target = tmp_path / "verdicts.jsonl"
    args = ["stress", "export", "--runs-dir", str(tmp_path / "runs"), spelling, str(target)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert target.is_file() and target.read_text().strip()


def test_new_spelling_wins_over_the_old(tmp_path: Path) -> None:
    _, layers = _files(tmp_path)
    missing = tmp_path / "missing.yaml"
    data = _run(tmp_path, "--layers", str(missing), "--layers-file", str(layers))
    assert [layer["name"] for layer in data["run"]["layers"]] == ["g"]


def test_raters_template_old_out_dir(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["raters", "template", "--rater", "bob", "--out-dir", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "bob.yaml").is_file()


def test_output_layers_without_target_names_the_option(tmp_path: Path) -> None:
    _, layers = _files(tmp_path)
    args = ["stress", "attack", "--output-layers-file", str(layers), "-q"]
    args += ["--runs-dir", str(tmp_path / "runs")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert "--output-layers-file" in result.output and "--target-url" in result.output
    assert "output_layers_path" not in result.output
