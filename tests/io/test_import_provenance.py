"""The analysis of an imported log records how it was imported (the options change every number)."""

from __future__ import annotations

import json
from pathlib import Path

from ddrisk.io import read_outcomes
from ddrisk.stress.statistics import analyze_outcomes

GOLDEN = Path(__file__).parents[1] / "fixtures" / "golden"


def test_import_options_are_in_the_analysis_input():
    matrix = read_outcomes([GOLDEN / "garak" / "scripted.report.jsonl"], threshold=0.7)
    data = analyze_outcomes(matrix, n_bootstrap=0).to_dict()
    imported = data["input"]["import"]
    assert imported["format"] == "garak"
    assert imported["threshold"] == 0.7
    assert imported["garak"]["garak_version"] == "0.17.1"
    json.dumps(data, allow_nan=False)
