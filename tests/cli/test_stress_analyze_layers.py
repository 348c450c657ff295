"""`stress analyze --layers` names the run's layers, not a catalog, when an id is unknown."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from ddrisk.cli import main

PROMPTFOO = Path(__file__).parents[1] / "fixtures" / "golden" / "promptfoo" / "results.json"


def test_unknown_layer_lists_the_layers_of_the_input():
    result = CliRunner().invoke(
        main, ["stress", "analyze", str(PROMPTFOO), "--layers", "refusal,nope"]
    )
    assert result.exit_code == 2
    assert "unknown id 'nope'" in result.output
    assert "catalog" not in result.output
    assert "refusal-detector" in result.output
