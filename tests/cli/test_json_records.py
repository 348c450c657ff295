"""Every JSON record says what produced it, and ``-o/--output`` writes the same record to a file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ddrisk import __version__
from ddrisk.cli import main

THEATRE = Path("/usr/share/scram/input/Theatre/theatre.xml")


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("risk", "--stack", "RLHF,RE"),
        ("risk", "--stack", "RLHF,RE", "--parts", "probability"),
        ("risk", "--paper-example"),
        ("optimize", "--max-layers", "2"),
        ("analyze",),
    ],
    ids=["risk", "risk-probability", "paper-example", "optimize", "analyze"],
)
def test_output_file_holds_the_json_record(tmp_path: Path, args: tuple[str, ...]) -> None:
    out = tmp_path / "record.json"
    code, printed = _invoke(*args, "--json")
    assert code == 0
    code, terminal = _invoke(*args, "-o", str(out))
    assert code == 0 and f"wrote {out}" in terminal
    written = json.loads(out.read_text(encoding="utf-8"))
    expected = json.loads(printed)
    for volatile in ("elapsed_seconds",):
        _drop(written, volatile)
        _drop(expected, volatile)
    assert written == expected


def _drop(data: object, key: str) -> None:
    if isinstance(data, dict):
        data.pop(key, None)
        for value in data.values():
            _drop(value, key)
    elif isinstance(data, list):
        for value in data:
            _drop(value, key)


@pytest.mark.parametrize(
    "args",
    [
        ("risk", "--stack", "RLHF,RE"),
        ("risk", "--paper-example"),
        ("optimize", "--max-layers", "2"),
    ],
    ids=["risk", "paper-example", "optimize"],
)
def test_risk_records_name_their_format_and_version(args: tuple[str, ...]) -> None:
    code, printed = _invoke(*args, "--json")
    record = json.loads(printed)
    assert code == 0
    assert record["format"].startswith("ddrisk.") and record["ddrisk_version"] == __version__


def test_risk_record_carries_the_input_hashes() -> None:
    record = json.loads(_invoke("risk", "--stack", "RLHF,RE", "--json")[1])
    assert len(record["catalog"]["sha256"]) == 64
    assert len(record["parameters"]["parameters_sha256"]) == 64
    assert record["engine"]["seed"] == 0


def test_a_bad_output_path_fails_before_any_work(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["risk", "--stack", "RLHF,RE", "-o", str(tmp_path / "missing" / "r.json")]
    )
    assert result.exit_code == 2
    assert result.output.startswith("ddrisk: error:") and len(result.output.splitlines()) == 1


@pytest.mark.skipif(not THEATRE.exists(), reason="Debian's scram package is not installed")
def test_mef_record_is_written_too(tmp_path: Path) -> None:
    out = tmp_path / "tree.json"
    code, terminal = _invoke("risk", "--mef", str(THEATRE), "-o", str(out))
    assert code == 0 and "P(top) = 0.00207" in terminal and f"wrote {out}" in terminal
    record = json.loads(out.read_text(encoding="utf-8"))
    assert record["format"] == record["schema"] and record["ddrisk_version"] == __version__
    assert record["probability_text"] == "0.00207"
