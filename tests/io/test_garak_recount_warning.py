"""A garak report whose attempts disagree with its own eval counts says so in the analysis."""

from __future__ import annotations

import json
from pathlib import Path

from ddrisk.io.garak import read_garak
from ddrisk.stress.statistics import analyze_outcomes

GOLDEN = Path(__file__).parents[1] / "fixtures" / "golden" / "garak" / "scripted.report.jsonl"


def _flip_first_attempt(tmp_path: Path) -> Path:
    lines, flipped = [], False
    for line in GOLDEN.read_text().splitlines():
        entry = json.loads(line)
        if not flipped and entry.get("entry_type") == "attempt" and entry.get("status") == 2:
            entry["detector_results"]["mitigation.MitigationBypass"] = [0.0]
            flipped = True
        lines.append(json.dumps(entry))
    path = tmp_path / "edited.report.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_edited_attempt_is_reported_as_a_warning(tmp_path):
    matrix = read_garak(_flip_first_attempt(tmp_path))
    result = analyze_outcomes(matrix, n_bootstrap=0)
    found = [w for w in result.warnings if w["code"] == "source_counts_differ"]
    assert len(found) == 1
    assert found[0]["subject"] == "lmrc.Bullying x mitigation.MitigationBypass"
    assert "garak" in found[0]["message"]


def test_unedited_report_has_no_such_warning():
    result = analyze_outcomes(read_garak(GOLDEN), n_bootstrap=0)
    assert not [w for w in result.warnings if w["code"] == "source_counts_differ"]
