"""``ddrisk report``: writes the file, prints its path, fails in one line on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ddrisk.cli import main
from ddrisk.cli.report_cmd import report as report_command


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(scope="module")
def ddrisk():
    """The real ``ddrisk`` group with ``report`` in it (registered here until the CLI lists it)."""
    if "report" not in main.commands:
        main.add_command(report_command)
    return main


def test_default_writes_html_in_the_current_folder(runner, ddrisk, builtin, monkeypatch, tmp_path):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(ddrisk, ["report"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "ddrisk-report.html"
    html = Path("ddrisk-report.html").read_text(encoding="utf-8")
    assert builtin.content_hash in html
    assert '<section id="robustness">' in html
    assert "2023-11-14T22:13:20Z" in html


def test_markdown_to_a_named_path_with_figures(runner, ddrisk, tmp_path):
    target = tmp_path / "out" / "report.md"
    result = runner.invoke(
        ddrisk,
        [
            "report",
            "--format",
            "markdown",
            "-o",
            str(target),
            "--policy",
            "pessimistic",
            "--k-max",
            "3",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(target)
    text = target.read_text(encoding="utf-8")
    assert "policy pessimistic" in text and "k\\_max 3" in text  # Markdown-escaped underscore
    assert (tmp_path / "out" / "report-figures" / "dendrogram.svg").is_file()
    assert "](report-figures/dendrogram.svg)" in text


def test_json_with_a_stack(runner, ddrisk, tmp_path):
    target = tmp_path / "r.json"
    result = runner.invoke(
        ddrisk,
        ["report", "--format", "json", "-o", str(target), "--stack", "debate,RE", "--seed", "4"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    data = json.loads(target.read_text(encoding="utf-8"))
    assert data["analysis"]["stack"]["straight_through"]["optimistic"] == ["AL-GEN"]
    assert data["provenance"]["settings"]["stack"] == ["DEBATE", "RE"]
    assert data["provenance"]["seed"] == 4


def test_unknown_stack_layer_is_a_one_line_error(runner, ddrisk, tmp_path):
    target = tmp_path / "x.html"
    result = runner.invoke(ddrisk, ["report", "--stack", "RLHF,NOPE", "-o", str(target)])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "ddrisk: error: command line: --stack: unknown id 'NOPE'; fix: use ids from the catalog: "
        "RLHF, RLAIF, W2S, DEBATE, RE, SCIAI, IDA"
    ]
    assert "Traceback" not in result.output
    assert not target.exists()


def test_missing_stress_run_is_a_one_line_error(runner, ddrisk, tmp_path):
    target = tmp_path / "x.html"
    result = runner.invoke(
        ddrisk,
        ["report", "--stress-run", "no-such-run", "--runs-dir", str(tmp_path), "-o", str(target)],
    )
    assert result.exit_code == 2, result.output
    assert "no-such-run" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not target.exists()


def test_unknown_format_is_refused_by_click(runner, ddrisk):
    result = runner.invoke(ddrisk, ["report", "--format", "pdf"])
    assert result.exit_code == 2
    assert "pdf" in result.output
