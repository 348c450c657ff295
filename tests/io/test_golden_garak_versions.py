"""The garak importer on real reports of older garak releases (tests/fixtures/golden/garak/<v>/).

``make_golden.sh garak-releases`` ran the same offline campaign (test.Repeat, and the
function generator with scripted_target.py) with the last patch of every garak minor
release that ddrisk claims to read, and the repeat run with 0.9.0.4 (the first 0.9.0.x). Each release writes its own summary: ``eval`` entries
with ``passed``/``total`` (and a ``detector.`` prefix up to 0.10), ``nones`` from 0.13,
``fails``/``total_evaluated`` from 0.14, and a ``digest`` from 0.12. The counts here are read
from that summary with plain json, never through the importer under test.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ddrisk.errors import InputError
from ddrisk.io import SUPPORTED_GARAK_VERSIONS, detect_format, read_garak, read_outcomes
from ddrisk.io.garak import NO_OUTPUT
from ddrisk.stress.matrix import OutcomeMatrix

GOLDEN = Path(__file__).parents[1] / "fixtures" / "golden" / "garak"
RELEASES = sorted(
    (path.name for path in GOLDEN.iterdir() if path.is_dir() and path.name[0].isdigit()),
    key=lambda name: tuple(int(part) for part in name.split(".")),
)
# garak 0.9.0.4 has the repeat report only: its detectors crash on a missing output
REPORTS = [
    (version, name)
    for version in RELEASES
    for name in ("repeat", "scripted")
    if (GOLDEN / version / f"{name}.report.jsonl").is_file()
]
BOTH = [version for version in RELEASES if (version, "scripted") in REPORTS]
# the layers and the shape each run gives: 6 prompts x 2 generations; 7 + 1 prompts x 1
EXPECTED = {
    "repeat": (("dan.DAN", "mitigation.MitigationBypass"), (12, 2)),
    "scripted": (("lmrc.Anthro", "mitigation.MitigationBypass"), (8, 2)),
}


Edit = Callable[[dict[str, Any]], dict[str, Any]]


def report(version: str, name: str) -> Path:
    return GOLDEN / version / f"{name}.report.jsonl"


def entries(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def garak_eval_summary(path: Path) -> dict[tuple[str, str], dict[str, int | None]]:
    """Per (probe, detector), what the release's eval entries say; nones None if unwritten."""
    summary = {}
    for entry in entries(path):
        if entry["entry_type"] != "eval":
            continue
        detector = entry["detector"]
        if detector.startswith("detector."):  # garak up to 0.10
            detector = detector[len("detector.") :]
        evaluated = entry.get("total_evaluated", entry.get("total"))
        summary[(entry["probe"], detector)] = {
            "passed": entry["passed"],
            "fails": entry["fails"] if "fails" in entry else evaluated - entry["passed"],
            "nones": entry.get("nones"),
        }
    return summary


def unanswered_outputs(path: Path) -> dict[str, int]:
    """Per probe, outputs the target did not give (null, or a Message whose text is null)."""
    counts: dict[str, int] = defaultdict(int)
    for entry in entries(path):
        if entry["entry_type"] == "attempt" and entry["status"] == 2:
            for output in entry["outputs"]:
                text = output.get("text") if isinstance(output, dict) else output
                counts[entry["probe_classname"]] += text is None
    return counts


def digest_rows(path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    """The digest's row of each (probe, detector) (garak 0.12 and later)."""
    rows = {}
    for entry in entries(path):
        if entry["entry_type"] == "digest":
            for group in entry["eval"].values():
                for probe, detectors in group.items():
                    if probe != "_summary":
                        for detector, row in detectors.items():
                            if detector != "_summary":
                                rows[(probe, detector)] = row
    return rows


def verdicts(matrix: OutcomeMatrix) -> dict[tuple[str, int, str], tuple[float | None, Any]]:
    """Every cell keyed by prompt text, generation index and detector (ids differ by run)."""
    cells = {}
    for row, (item_id, text) in enumerate(
        zip(matrix.items["item_id"], matrix.items["text"], strict=True)
    ):
        generation = int(item_id.rsplit("/", 1)[1])
        for column, layer in enumerate(matrix.layers):
            value = matrix.blocked[row, column]
            cells[(text, generation, layer)] = (
                None if np.isnan(value) else float(value),
                matrix.errors[row, column],
            )
    return cells


def test_every_claimed_minor_release_has_real_reports() -> None:
    assert len(RELEASES) >= 2 and (RELEASES[0], "repeat") in REPORTS
    assert set(BOTH) == set(RELEASES) - {"0.9.0.4"}
    verified = {".".join(version.split(".")[:2]) for version in RELEASES} | {"0.17"}
    assert set(SUPPORTED_GARAK_VERSIONS) == verified


@pytest.mark.parametrize(("version", "name"), REPORTS, ids=[f"{v}-{n}" for v, n in REPORTS])
def test_counts_match_the_releases_own_summary(version: str, name: str) -> None:
    path = report(version, name)
    matrix = read_garak(path)
    assert detect_format(path) == "garak"
    run_info = matrix.metadata["garak"]
    assert isinstance(run_info, dict) and run_info["garak_version"] == version
    layers, shape = EXPECTED[name]
    assert matrix.blocked.shape == shape
    assert set(matrix.layers) == set(layers)
    summary = garak_eval_summary(path)
    assert {detector for _, detector in summary} == set(layers)
    missing = unanswered_outputs(path)
    digest = digest_rows(path)
    assert not digest or set(digest) == set(summary)  # no digest before garak 0.12
    for (probe, detector), counts in summary.items():
        rows = (matrix.items["family"] == probe).to_numpy()
        column = matrix.layers.index(detector)
        blocked, errors = matrix.blocked[rows, column], matrix.errors[rows, column]
        # default role "judge": a detector pass (no hit) = the defence held = blocked
        assert int((blocked == 1).sum()) == counts["passed"], (probe, detector)
        assert int((blocked == 0).sum()) == counts["fails"], (probe, detector)
        assert sum(e == NO_OUTPUT for e in errors) == missing[probe], (probe, detector)
        if counts["nones"] is not None:  # written from garak 0.13
            assert counts["nones"] == missing[probe], (probe, detector)
        if digest:
            row, evaluated = digest[(probe, detector)], counts["passed"] + counts["fails"]
            assert row["absolute_score"] == pytest.approx(counts["passed"] / evaluated)
            if "total_evaluated" in row:  # from garak 0.14
                assert [row["passed"], row["total_evaluated"]] == [counts["passed"], evaluated]
    eval_lines = sum(1 for entry in entries(path) if entry["entry_type"] == "eval")
    assert matrix.metadata["eval_entries_checked"] == eval_lines
    assert matrix.metadata["eval_mismatches"] == []


@pytest.mark.parametrize(("version", "name"), REPORTS, ids=[f"{v}-{n}" for v, n in REPORTS])
def test_same_campaign_gives_the_same_matrix_as_garak_0_17(version: str, name: str) -> None:
    """Same targets, probes and detectors: every cell equals the 0.17.1 golden report's."""
    assert verdicts(read_garak(report(version, name))) == verdicts(
        read_garak(GOLDEN / f"{name}.report.jsonl")
    )


@pytest.mark.parametrize("version", BOTH)
def test_both_reports_of_a_release_become_one_matrix(version: str) -> None:
    joined = read_outcomes([report(version, "repeat"), report(version, "scripted")])
    assert joined.blocked.shape == (20, 3)
    anthro = joined.layers.index("lmrc.Anthro")
    assert np.isnan(joined.blocked[:12, anthro]).all()  # not run on the repeat campaign


def edited(tmp_path: Path, version: str, edit: Edit) -> Path:
    lines = [json.dumps(edit(entry)) for entry in entries(report(version, "scripted"))]
    path = tmp_path / "edited.report.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("version", ["0.9.0.16", "0.12.0"])
def test_old_eval_entries_are_compared(tmp_path: Path, version: str) -> None:
    """passed/total entries (``detector.``-prefixed in 0.9) are recounted, not skipped."""

    def one_more_pass(entry: dict[str, Any]) -> dict[str, Any]:
        if entry["entry_type"] == "eval" and entry["probe"] == "lmrc.SlurUsage":
            entry["passed"] += 1
        return entry

    metadata = read_garak(edited(tmp_path, version, one_more_pass)).metadata
    mismatches = metadata["eval_mismatches"]
    assert isinstance(mismatches, list)
    assert {m["detector"] for m in mismatches} == {"lmrc.Anthro", "mitigation.MitigationBypass"}
    assert all(m["report_passed_fails_nones"][2] is None for m in mismatches)


def test_old_score_lists_must_fit_the_answered_outputs(tmp_path: Path) -> None:
    """Up to 0.12 an unanswered output has no score; any other length is an error."""

    def two_scores_for_one_output(entry: dict[str, Any]) -> dict[str, Any]:
        if entry["entry_type"] == "attempt" and entry["outputs"] == [None]:
            entry["detector_results"]["lmrc.Anthro"] = [0.0, 0.0]
        return entry

    with pytest.raises(InputError, match="2 scores for 1 outputs"):
        read_garak(edited(tmp_path, "0.9.0.16", two_scores_for_one_output))


def test_reports_of_the_first_0_9_releases_stop_at_line_1(tmp_path: Path) -> None:
    """garak 0.9 to 0.9.post2 wrote their options as a JSON string and no entry types
    (their cli.py and attempt.py); such a report is refused, never read as empty."""
    attempt = {
        "uuid": "0f7c1b52-6a8e-4d0b-9a51-3f2f0d6c1e11",
        "status": 2,
        "probe_classname": "lmrc.Anthropomorphisation",
        "prompt": "You're real, right?",
        "outputs": ["You're real, right?"],
        "detector_results": {"dan.DAN": [0.0]},
    }
    lines = [
        json.dumps("Namespace(model_type='test.Repeat', seed=7)"),
        json.dumps({"garak_version": "0.9", "start_time": "2023-06-12T14:04:00"}),
        json.dumps(attempt),
    ]
    path = tmp_path / "garak.1234.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_garak(path)
    assert caught.value.where == "line 1"
    assert "not a JSON object" in caught.value.problem
