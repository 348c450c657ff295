"""`ddrisk raters validate A B C` reports every bad file, one line each, and exits 2."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from ddrisk.cli import main

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "raters" / "illustrative-a.yaml"


def test_every_bad_file_gets_its_line(tmp_path):
    text = EXAMPLE.read_text()
    old_version = tmp_path / "old.yaml"
    old_version.write_text(text.replace("version: 2025.10-r1", "version: '2024.01'"))
    unknown_cell = tmp_path / "unknown.yaml"
    unknown_cell.write_text(text.replace("technique: RLHF", "technique: NOPE", 1))
    result = CliRunner().invoke(
        main, ["raters", "validate", str(old_version), str(EXAMPLE), str(unknown_cell)]
    )
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("ddrisk: error:")]
    assert len(errors) == 2, result.output
    assert "old.yaml" in errors[0] and "unknown.yaml" in errors[1]
    assert "ok " in result.output and "illustrative-a.yaml" in result.output
