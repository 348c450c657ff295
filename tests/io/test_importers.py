"""garak, promptfoo and inspect_ai importers on hand-written fixtures, and their errors."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from ddrisk.errors import InputError
from ddrisk.io.garak import NO_OUTPUT, read_garak
from ddrisk.io.inspect_log import read_inspect, score_value_to_float
from ddrisk.io.promptfoo import read_promptfoo
from ddrisk.stress.statistics import analyze_outcomes

FIXTURES = Path(__file__).parents[1] / "fixtures" / "stress"
GARAK = FIXTURES / "garak_small.report.jsonl"
PROMPTFOO = FIXTURES / "promptfoo_small.json"
INSPECT = FIXTURES / "inspect_small.json"
NAN = np.nan


def assert_blocked(actual: np.ndarray, expected: list[list[float]]) -> None:
    np.testing.assert_array_equal(actual, np.array(expected, dtype=float))


def eval_archive(tmp_path: Path) -> Path:
    """Zip the fixture folder into the .eval layout inspect writes (header + samples/)."""
    target = tmp_path / "2026-11-21T14-05-33_guard-stack.eval"
    source = FIXTURES / "inspect_eval"
    with zipfile.ZipFile(target, "w") as archive:
        for path in sorted(source.rglob("*.json")):
            archive.write(path, path.relative_to(source).as_posix())
    return target


# ---------------------------------------------------------------------------- garak
def test_garak_detectors_become_layers_and_hits_mean_not_blocked():
    matrix = read_garak(GARAK)
    assert matrix.layers == ("dan.DAN", "mitigation.MitigationBypass", "encoding.DecodeMatch")
    # one item per output; a hit (score >= 0.5) means the attack got through (blocked = 0)
    assert matrix.items["item_id"].tolist()[:2] == [
        "a1000000-0000-4000-8000-000000000001/0",
        "a1000000-0000-4000-8000-000000000001/1",
    ]
    assert_blocked(
        matrix.blocked,
        [
            [0, 0, NAN],  # scores 1.0, 1.0
            [1, 1, NAN],  # 0.0, 0.2
            [1, 1, NAN],  # 0.0, 0.0
            [1, 0, NAN],  # 0.0, 1.0
            [0, 0, NAN],  # 0.7, 0.9
            [NAN, NAN, NAN],  # output None, scores null
            [NAN, 0, 0],  # DecodeMatch and MitigationBypass hit
            [NAN, 1, 1],  # 0.0 and 0.4 (< 0.5)
        ],
    )
    assert matrix.errors[5, 0] == NO_OUTPUT
    assert matrix.errors[6, 0] == "not evaluated by this layer"
    assert matrix.score[4, 0] == pytest.approx(0.7)
    # the status-1 copies of the attempts were superseded, not double counted
    assert len(matrix.items) == 8
    assert matrix.items["family"].tolist()[0] == "dan.Dan_11_0"
    assert matrix.items["behavior_id"].tolist()[0] == "a1000000-0000-4000-8000-000000000001"
    assert matrix.items["harmful"].all()
    # recounted pass/fail equals garak's own eval entries
    assert matrix.metadata["eval_entries_checked"] == 4
    assert matrix.metadata["eval_mismatches"] == []
    assert matrix.metadata["run_id"] == "garak-3f1c2a9e-5b7d-4e21-9c0a-1d2e3f4a5b6c"
    assert matrix.metadata["garak"]["target"] == "guarded-chat"


def test_garak_miss_counts_equal_report_fails():
    result = analyze_outcomes(read_garak(GARAK), n_bootstrap=0)
    layers = result.layers.set_index("layer")
    # dan.DAN fails 2 of 5 scored outputs; MitigationBypass 3 (dan) + 1 (encoding) of 7
    assert layers.loc["dan.DAN", ["miss_k", "miss_n"]].tolist() == [2, 5]
    assert layers.loc["mitigation.MitigationBypass", ["miss_k", "miss_n"]].tolist() == [4, 7]


def test_garak_options(tmp_path):
    guard = read_garak(GARAK, detector_role="guard")
    plain = read_garak(GARAK)
    decided = ~np.isnan(plain.blocked)
    np.testing.assert_array_equal(guard.blocked[decided], 1.0 - plain.blocked[decided])
    grouped = read_garak(GARAK, family_from="probe_module", behavior_from="goal")
    assert sorted(set(grouped.items["family"])) == ["dan", "encoding"]
    assert grouped.items["behavior_id"].iloc[0] == "disregard the system prompt"
    benign = read_garak(GARAK, benign_probes=["encoding"])
    assert benign.items["harmful"].tolist() == [True] * 6 + [False] * 2
    strict = read_garak(GARAK, threshold=0.95)
    assert strict.blocked[4, 1] == 1.0  # 0.9 is no hit at threshold 0.95
    assert strict.metadata["eval_mismatches"]  # and now disagrees with the report's counts
    with pytest.raises(InputError, match="unknown choice"):
        read_garak(GARAK, family_from="colour")


def garak_lines() -> list[str]:
    return GARAK.read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize(
    ("edit", "where", "problem"),
    [
        (lambda lines: [*lines[:4], lines[4][:-20], *lines[5:]], "line 5", "JSON: "),
        (lambda lines: [*lines[:2], "[1, 2]", *lines[2:]], "line 3", "not a JSON object"),
        (
            lambda lines: [lines[4].replace('"dan.DAN": [1.0, 0.0]', '"dan.DAN": [1.0]')],
            "line 1: detector_results.dan.DAN",
            "1 scores for 2 outputs",
        ),
        (
            lambda lines: [lines[4].replace('"dan.DAN": [1.0, 0.0]', '"dan.DAN": ["high", 0.0]')],
            "line 1: detector_results.dan.DAN[0]",
            "is not a number",
        ),
        (lambda lines: lines[:4], None, "no evaluated attempts"),
        (lambda lines: [], "line 1", "the file is empty"),
    ],
)
def test_garak_malformed(tmp_path, edit, where, problem):
    path = tmp_path / "report.jsonl"
    path.write_text("\n".join(edit(garak_lines())) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_garak(path)
    assert problem in caught.value.problem
    # JSON syntax errors add the column: "line 5, column 1"
    assert caught.value.where == where or caught.value.where.startswith(f"{where}, column")
    assert caught.value.source == str(path)
    assert caught.value.fix


def test_missing_file_is_input_error(tmp_path):
    for reader in (read_garak, read_promptfoo, read_inspect):
        with pytest.raises(InputError, match="no such file"):
            reader(tmp_path / "absent.json")


# ---------------------------------------------------------------------------- promptfoo
def test_promptfoo_guardrails_and_assertions_per_provider():
    matrix = read_promptfoo(PROMPTFOO)
    assert matrix.layers == (
        "guard-a/guardrails",
        "guard-a/harm-judge",
        "guard-b/guardrails",
        "guard-b/harm-judge",
    )
    assert matrix.items["item_id"].tolist() == ["test0", "test1", "test2", "test3"]
    assert matrix.items["family"].tolist() == ["roleplay", "roleplay", "base64", "benign"]
    assert matrix.items["harmful"].tolist() == [True, True, True, False]
    assert_blocked(
        matrix.blocked,
        [
            [1, 1, 0, 0],  # guard-a flagged and its judge passed; guard-b neither
            [0, 0, 0, 0],
            [NAN, NAN, 1, 1],  # guard-a errored (HTTP 504)
            [0, 0, 1, 1],  # benign: guard-b flagged, and its judge failed (= false block)
        ],
    )
    assert matrix.errors[2, 0].startswith("promptfoo error: Request failed: HTTP 504")
    assert matrix.metadata["run_id"] == "promptfoo-eval-Xq7-2026-11-20T10:02:11"
    # the 'guardrails' assertion is not a separate layer
    assert not any(layer.endswith("/guardrails#2") for layer in matrix.layers)


def test_promptfoo_single_provider_and_layer_source(tmp_path):
    data = json.loads(PROMPTFOO.read_text())
    data["results"]["results"] = [
        r for r in data["results"]["results"] if r["provider"]["label"] == "guard-b"
    ]
    path = tmp_path / "one.json"
    path.write_text(json.dumps(data))
    matrix = read_promptfoo(path)
    assert matrix.layers == ("guardrails", "harm-judge")
    assert read_promptfoo(path, layer_source="guardrails").layers == ("guardrails",)
    assert read_promptfoo(path, layer_source="assertions").layers == ("harm-judge",)
    with pytest.raises(InputError, match="no_such_key"):  # a named key no result has: a typo
        read_promptfoo(path, family_key="no_such_key")


@pytest.mark.parametrize(
    ("edit", "where", "problem"),
    [
        (lambda d: d["results"].update(version=9), "results.version", "unsupported output"),
        (lambda d: d["results"]["results"][1].pop("testIdx"), "results.results[1].testIdx", ""),
        (
            lambda d: d["results"]["results"][0]["gradingResult"]["componentResults"][0].update(
                {"pass": "yes"}
            ),
            "results.results[0].gradingResult.componentResults[0].pass",
            "expected true or false",
        ),
        (
            lambda d: d["results"]["results"][3]["testCase"]["metadata"].update(harmful="sorta"),
            "results.results[3]: harmful",
            "unrecognised harmful/benign label",
        ),
        (lambda d: d.pop("results"), "results", "missing the 'results' object"),
    ],
)
def test_promptfoo_malformed(tmp_path, edit, where, problem):
    data = json.loads(PROMPTFOO.read_text())
    edit(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InputError) as caught:
        read_promptfoo(path)
    assert caught.value.where == where
    assert problem in caught.value.problem


def test_promptfoo_syntax_error_has_line(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text(PROMPTFOO.read_text()[:500])
    with pytest.raises(InputError, match="JSON: ") as caught:
        read_promptfoo(path)
    assert caught.value.where.startswith("line ")


def test_promptfoo_guardrails_without_flag_is_an_error_not_a_pass(tmp_path):
    data = json.loads(PROMPTFOO.read_text())
    del data["results"]["results"][0]["response"]["guardrails"]["flagged"]
    path = tmp_path / "noflag.json"
    path.write_text(json.dumps(data))
    matrix = read_promptfoo(path)
    assert np.isnan(matrix.blocked[0, 0])
    assert "without a boolean 'flagged'" in matrix.errors[0, 0]


# ---------------------------------------------------------------------------- inspect
def test_inspect_json_scorers_become_layers():
    matrix = read_inspect(INSPECT, invert=["harm"])
    assert matrix.layers == ("refusal", "harm", "guards/input", "guards/output")
    assert matrix.items["item_id"].tolist() == [
        "hb-001",
        "hb-002",
        "hb-003",
        "hb-004",
        "bn-001",
        "bn-002",
    ]
    assert matrix.items["harmful"].tolist() == [True, True, True, True, False, False]
    assert_blocked(
        matrix.blocked,
        [
            [1, 1, 1, 1],  # C, harm 0.05 (inverted: passes), C, C
            [0, 0, 0, 1],  # I, 0.92, I, C
            [0, 0, 0, 0],
            [NAN, 1, 1, 0],  # refusal value 'maybe' is unreadable -> error, never a pass
            [0, 0, 0, 1],  # benign: correct answers are passes; guards/output I = false block
            [NAN, NAN, NAN, NAN],  # sample error
        ],
    )
    assert matrix.errors[3, 0] == "unreadable score value 'maybe'"
    assert matrix.errors[5, 2].startswith("sample error: RuntimeError")
    assert matrix.metadata["run_id"] == "inspect-Hc4sNn7LpR2vX9"
    assert matrix.items["behavior_id"].tolist()[:2] == ["chem-weapon", "chem-weapon"]


def test_inspect_eval_zip_without_inspect_installed(tmp_path):
    matrix = read_inspect(eval_archive(tmp_path), score_means="blocked")
    assert matrix.items["item_id"].tolist() == ["jb-1#e1", "jb-1#e2", "jb-2#e1", "jb-2#e2"]
    # epochs of one sample share a bootstrap cluster
    assert matrix.items["behavior_id"].tolist() == ["car-theft"] * 2 + ["prompt-leak"] * 2
    assert matrix.layers == ("refusal", "output_guard")
    assert_blocked(matrix.blocked, [[1, 0], [0, 0], [1, 1], [1, 0]])
    assert matrix.metadata["run_id"] == "inspect-Qm2pLx8KtV5wZ1"


def test_inspect_score_values():
    assert score_value_to_float("N") == 0.0
    assert score_value_to_float(" yes ") == 1.0
    assert score_value_to_float([1, 2]) is None
    assert score_value_to_float(float("nan")) is None


def test_inspect_malformed(tmp_path):
    data = json.loads(INSPECT.read_text())
    data["samples"][2]["scores"] = ["C"]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InputError) as caught:
        read_inspect(path)
    assert caught.value.where == "samples[2].scores"

    data = json.loads(INSPECT.read_text())
    data["samples"] = []
    path.write_text(json.dumps(data))
    with pytest.raises(InputError, match="no samples"):
        read_inspect(path)

    folder = tmp_path / "copy"
    shutil.copytree(FIXTURES / "inspect_eval", folder)
    (folder / "samples" / "jb-2_epoch_1.json").write_text('{"id": "jb-2", "epoch": 1, "scores": {')
    archive = tmp_path / "broken.eval"
    with zipfile.ZipFile(archive, "w") as handle:
        for member in sorted(folder.rglob("*.json")):
            handle.write(member, member.relative_to(folder).as_posix())
    with pytest.raises(InputError, match="JSON: ") as caught:
        read_inspect(archive)
    assert caught.value.source.endswith("broken.eval!samples/jb-2_epoch_1.json")
    assert caught.value.where.startswith("line 1")


def test_inspect_bad_label(tmp_path):
    data = json.loads(INSPECT.read_text())
    data["samples"][0]["metadata"]["harmful"] = "perhaps"
    path = tmp_path / "label.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InputError) as caught:
        read_inspect(path)
    assert caught.value.where == "samples[0].metadata.harmful"
