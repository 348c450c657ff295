"""A rater who rated nothing, full agreement, and files the commands would overwrite."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ddrisk.cli import main
from ddrisk.errors import InputError
from ddrisk.raters import make_panel, rater_agreement
from tests.raters.helpers import base_catalog, panel, rater_file

EXAMPLES = [
    str(p)
    for p in sorted((Path(__file__).resolve().parents[2] / "examples" / "raters").glob("*.yaml"))
]


def test_a_file_that_rates_no_cell_is_rejected_with_its_name():
    catalog = base_catalog()
    files = [
        rater_file(catalog, "alice", ["prone"] * 6),
        rater_file(catalog, "bob", ["prone"] * 6),
        rater_file(catalog, "empty"),  # every cell blank: a template nobody filled in
    ]
    with pytest.raises(InputError) as caught:
        make_panel(catalog, files, sources=["a.yaml", "b.yaml", "empty.yaml"])
    error = caught.value
    assert error.source == "empty.yaml" and error.where == "ratings"
    assert "rates no cell" in error.problem and "\n" not in str(error)


def test_a_file_with_one_rated_cell_is_accepted():
    catalog = base_catalog()
    one = ["prone"] + [None] * 5
    files = [rater_file(catalog, "alice", ["prone"] * 6), rater_file(catalog, "bob", one)]
    assert make_panel(catalog, files, sources=["a.yaml", "b.yaml"]).rater_ids == ("alice", "bob")


def test_full_agreement_is_zero_with_a_note_not_a_degenerate_interval():
    catalog = base_catalog()
    levels = ["prone", "not_prone", "unclear", "prone", None, "prone"]
    result = rater_agreement(panel(catalog, {"a": levels, "b": levels}), n_boot=50, seed=0)
    estimate = result.mean_cell_disagreement
    assert estimate.value == 0.0 and estimate.low is None and estimate.high is None
    assert estimate.note == "all raters agree on every co-rated cell"
    assert "[" not in estimate.text()


def test_some_disagreement_keeps_its_interval():
    catalog = base_catalog()
    a = ["prone", "not_prone", "unclear", "prone", "prone", "prone"]
    b = ["prone", "prone", "unclear", "prone", "not_prone", "prone"]
    result = rater_agreement(panel(catalog, {"a": a, "b": b}), n_boot=50, seed=0)
    estimate = result.mean_cell_disagreement
    assert estimate.value is not None and estimate.value > 0 and estimate.high is not None


@pytest.mark.parametrize(
    "command",
    [
        ["raters", "pool", *EXAMPLES, "--rule", "majority"],
        ["raters", "form", "--rater", "alice"],
    ],
    ids=["pool", "form"],
)
def test_output_files_are_not_overwritten_without_force(tmp_path, command):
    target = tmp_path / ("out.yaml" if command[1] == "pool" else "form.html")
    target.write_text("precious", encoding="utf-8")
    refused = CliRunner().invoke(main, [*command, "-o", str(target)])
    assert refused.exit_code == 2, refused.output
    assert "already exists" in refused.output and "--force" in refused.output
    assert target.read_text(encoding="utf-8") == "precious"
    forced = CliRunner().invoke(main, [*command, "-o", str(target), "--force"])
    assert forced.exit_code == 0, forced.output
    assert target.read_text(encoding="utf-8") != "precious"
