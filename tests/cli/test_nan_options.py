"""'nan' passes click's FloatRange; every float option of raters and stress analyze refuses it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ddrisk.cli import main

ROOT = Path(__file__).parents[2]
RATERS = [str(p) for p in sorted((ROOT / "examples" / "raters").glob("*.yaml"))[:2]]
PROMPTFOO = str(ROOT / "tests" / "fixtures" / "golden" / "promptfoo" / "results.json")


@pytest.mark.parametrize(
    "args",
    [
        ["raters", "agree", *RATERS, "--bootstrap", "0", "--confidence", "nan"],
        ["raters", "pool", *RATERS, "--extremize", "nan"],
        ["raters", "compare", *RATERS, "--draws", "10", "--factor", "nan"],
        ["stress", "analyze", PROMPTFOO, "--bootstrap", "0", "--confidence", "nan"],
        ["stress", "analyze", PROMPTFOO, "--bootstrap", "0", "--threshold", "nan"],
        ["stress", "analyze", PROMPTFOO, "--prone-threshold", "nan", "--catalog-out", "x.yaml"],
    ],
    ids=[
        "agree-confidence",
        "pool-extremize",
        "compare-factor",
        "analyze-confidence",
        "analyze-threshold",
        "analyze-prone-threshold",
    ],
)
def test_nan_is_a_usage_error(args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert "nan is not a number" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
