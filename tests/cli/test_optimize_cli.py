"""CLI: ddrisk optimize with a structure, -o/--output, the JSON provenance header, ties, errors."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from ddrisk.__version__ import __version__
from ddrisk._hashing import file_sha256
from ddrisk.cli import main
from ddrisk.io.catalog import load_catalog
from ddrisk.io.structure import read_structure
from ddrisk.risk.optimize import optimize_stack

ROUTES = """\
structure:
  any_route:
    - all_miss: [RLHF, RE]
    - vote: {flag: 2, of: [DEBATE, SCIAI, IDA]}
"""


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(main, list(args), catch_exceptions=False, env={"COLUMNS": "120"})

    return invoke


@pytest.fixture
def routes(tmp_path):
    path = tmp_path / "routes.yaml"
    path.write_text(ROUTES)
    return path


def test_structure_and_position_reach_the_api(run, routes):
    args = ["--structure", str(routes), "--position", "best", "--max-layers", "4"]
    data = json.loads(run("optimize", *args, "--json").stdout)
    expected = optimize_stack(
        load_catalog(), structure=read_structure(routes), position="best", max_layers=4
    )
    [result] = data["results"]
    assert result["stack"] == list(expected.stack)
    assert result["probability"] == pytest.approx(expected.probability, rel=1e-12)
    structure = result["structure"]
    assert structure["given"]["text"] == (
        "any route of (all miss (RLHF, RE), 2-of-3 vote (DEBATE, SCIAI, IDA))"
    )
    assert structure["position"] == "best"
    assert structure["placements"] == expected.structure.placements
    assert structure["chosen"]["text"] == "all miss (any route of (RE, SCIAI, IDA), RLAIF)"
    text = run("optimize", *args).stdout
    assert "structure: any route of (all miss (RLHF, RE), 2-of-3 vote" in text
    assert "other candidates join: the best of structure, structure.any_route[0]" in text
    assert "all miss (any route of (RE, SCIAI, IDA), RLAIF)" in text


def test_json_record_carries_provenance(run, routes):
    data = json.loads(
        run("optimize", "--structure", str(routes), "--max-layers", "2", "--json").stdout
    )
    catalog = load_catalog()
    assert data["format"] == "ddrisk.optimize/1" and data["ddrisk_version"] == __version__
    assert data["catalog"]["sha256"] == catalog.content_hash
    assert data["engine"] == "exact" and data["seed"] is None
    assert data["inputs"] == [{"path": str(routes), "sha256": file_sha256(routes)}]
    assert re.fullmatch(r"[0-9a-f]{64}", data["input_sha256"])
    [result] = data["results"]
    assert result["parameters_sha256"] and result["parameters"]["q.default"]["spec"] == "0.1"
    assert result["constraint"] == {"max_layers": 2}
    # the input hash follows the inputs: other parameters, another hash
    other = json.loads(
        run(
            "optimize", "--structure", str(routes), "--max-layers", "2", "--q", "0.2", "--json"
        ).stdout
    )
    assert other["input_sha256"] != data["input_sha256"]


def test_output_writes_the_json_record(run, tmp_path):
    target = tmp_path / "best.json"
    shown = run("optimize", "--max-layers", "1", "-o", str(target))
    assert shown.exit_code == 0 and f"wrote {target}" in shown.stdout
    assert "Best stacks" in shown.stdout
    written = json.loads(target.read_text())
    printed = json.loads(run("optimize", "--max-layers", "1", "--json").stdout)
    assert written == printed and written["results"][0]["stack"] == ["RE"]


def test_ties_are_shown(run):
    text = run("optimize", "--max-layers", "1").stdout
    assert "ties: lowest P(stack fails); when equal" in text
    assert "tie (layers <= 1): IDA has the same P, cost 3; the best won by lower safety-tax" in text
    data = json.loads(run("optimize", "--max-layers", "1", "--json").stdout)
    assert data["results"][0]["ties"][0]["stack"] == ["IDA"]


@pytest.mark.parametrize(
    ("extra", "structure", "message"),
    [
        (["--position", "structure"], None, "--position: a position needs a structure"),
        (
            ["--position", "structure.any_route[7]"],
            ROUTES,
            "no position 'structure.any_route[7]' in this structure; admissible positions: "
            "structure = any route of",
        ),
        ([], "structure:\n  all_miss: [RLHF, NOPE]\n", "structure: unknown technique 'NOPE'"),
        ([], "structure:\n  vote: {flag: 4, of: [RLHF, RE]}\n", "expected an integer from 1 to 2"),
        ([], "structure:\n  any_route: []\n", "expected a non-empty list of members"),
        ([], "layers: [RLHF]\n", "no 'structure' key"),
        (["-o", "/no/such/folder/out.json"], None, "--output: folder '/no/such/folder'"),
    ],
)
def test_bad_structure_or_position_is_one_line_exit_2(run, tmp_path, extra, structure, message):
    args = ["optimize", "--max-layers", "1", *extra]
    if structure is not None:
        path = tmp_path / "structure.yaml"
        path.write_text(structure)
        args += ["--structure", str(path)]
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ddrisk: error: ") and message in lines[0], lines


def test_missing_structure_file_is_one_line(run, tmp_path):
    result = run("optimize", "--structure", str(tmp_path / "none.yaml"))
    assert result.exit_code == 2 and "no such file" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
