"""Rater files: round trips in YAML, JSON and CSV; bad files get one located line and exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ddrisk.cli import main
from ddrisk.errors import InputError
from ddrisk.io.catalog import load_catalog
from ddrisk.io.raterfile import (
    dump_rater_file,
    load_rater_panel,
    parse_rater_text,
    rater_template,
    read_rater_file,
)

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples" / "raters").glob("*.yaml"))


def test_examples_are_illustrative_cover_the_catalog_and_disagree():
    assert len(EXAMPLES) >= 3
    panel = load_rater_panel(EXAMPLES)
    for rater_file in panel.files:
        assert rater_file.rater.kind == "illustrative"
        assert (
            "ILLUSTRATIVE" in rater_file.note
            and "not the opinion of any real expert" in rater_file.note
        )
    coverage = panel.coverage()
    assert all(row.blank_cells for row in coverage)  # every example leaves something blank
    levels = panel.level_codes()
    assert (
        levels.max(axis=0) != levels.min(axis=0)
    ).sum() >= 5  # genuine disagreement (nan-free cells)


@pytest.mark.parametrize("fmt", ["yaml", "json", "csv"])
def test_round_trip_in_every_format(fmt, tmp_path):
    catalog = load_catalog()
    original = read_rater_file(EXAMPLES[0], catalog=catalog)
    # A rationale a spreadsheet would run as a formula, and text with quotes and newlines.
    ratings = list(original.ratings)
    ratings[0] = ratings[0].model_copy(update={"rationale": '=HYPERLINK("http://x")\n"quoted" <b>'})
    edited = original.model_copy(update={"ratings": ratings})
    text = dump_rater_file(edited, fmt=fmt, catalog=catalog)
    if fmt == "csv":
        assert "'=HYPERLINK" in text  # neutralised for spreadsheets
    path = tmp_path / f"sheet.{fmt}"
    path.write_text(text, encoding="utf-8")
    again = read_rater_file(path, catalog=catalog)
    assert again.ratings == edited.ratings
    assert again.rater.id == edited.rater.id and again.catalog.id == catalog.id


def test_template_lists_every_cell_blank_and_pins_the_catalog():
    catalog = load_catalog()
    sheet = rater_template(catalog, rater_id="alice", rater_name="Alice")
    assert len(sheet.ratings) == 49 and all(r.blank for r in sheet.ratings)
    assert sheet.catalog.sha256 == catalog.content_hash
    text = dump_rater_file(sheet, fmt="csv", catalog=catalog)
    header, first = text.splitlines()[:2]
    assert header.startswith("technique,failure_mode,level,probability,confidence,rationale")
    assert "Reinforcement learning from human feedback" in first


def _bad(text: str, label: str = "bad.yaml") -> InputError:
    with pytest.raises(InputError) as info:
        parse_rater_text(text, label=label, catalog=load_catalog())
    return info.value


HEAD = "format: ddrisk.raters/1\ncatalog: {id: dung-mai-2025, version: 2025.10-r1}\nrater: {id: x, name: X}\nratings:\n"


@pytest.mark.parametrize(
    ("body", "where", "problem"),
    [
        (
            "  - {technique: RLHF, failure_mode: AL-GENN, level: prone}\n",
            "line 5",
            "unknown failure mode 'AL-GENN'",
        ),
        (
            "  - {technique: RLHX, failure_mode: AL-GEN, level: prone}\n",
            "line 5",
            "unknown technique 'RLHX'",
        ),
        (
            "  - {technique: RLHF, failure_mode: AL-GEN, level: prone}\n"
            "  - {technique: RLHF, failure_mode: AL-GEN, level: not_prone}\n",
            "line 6",
            "rated twice",
        ),
        (
            "  - {technique: RLHF, failure_mode: AL-GEN, level: maybe}\n",
            "line 5",
            "invalid value 'maybe'",
        ),
        (
            "  - {technique: RLHF, failure_mode: AL-GEN, probability: 1.5}\n",
            "line 5",
            "out of range",
        ),
        (
            "  - {technique: RLHF, failure_mode: AL-GEN, levle: prone}\n",
            "line 5",
            "unknown key 'levle'",
        ),
    ],
)
def test_bad_cells_are_located(body, where, problem):
    error = _bad(HEAD + body)
    assert error.where is not None and error.where.startswith(where)
    assert problem in error.problem
    assert "\n" not in str(error)


def test_a_file_for_another_catalog_version_or_content_is_refused():
    row = "  - {technique: RLHF, failure_mode: AL-GEN, level: prone}\n"
    error = _bad(HEAD.replace("2025.10-r1", "2024.01-r0") + row)
    assert error.where == "line 2 (catalog.version)" and "2024.01-r0" in error.problem
    error = _bad(
        HEAD.replace("version: 2025.10-r1}", "version: 2025.10-r1, sha256: " + "a" * 64 + "}") + row
    )
    assert "sha256" in error.where and "edited without a new version" in error.problem
    error = _bad(HEAD.replace("dung-mai-2025", "other-catalog") + row)
    assert "catalog.id" in error.where


def test_csv_with_two_raters_is_refused_with_the_line(tmp_path):
    catalog = load_catalog()
    text = dump_rater_file(rater_template(catalog, rater_id="alice"), fmt="csv", catalog=catalog)
    lines = text.splitlines()
    lines[3] = lines[3].replace(",alice,alice", ",bob,bob")
    path = tmp_path / "mixed.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_rater_file(path, catalog=catalog)
    assert info.value.where == "line 4 (column rater_id)"


def test_panel_refuses_one_rater_twice_and_a_single_file():
    with pytest.raises(InputError, match="also used by"):
        load_rater_panel([EXAMPLES[0], EXAMPLES[0]])
    with pytest.raises(InputError, match="at least 2"):
        load_rater_panel([EXAMPLES[0]])


@pytest.mark.parametrize(
    ("edit", "fragment"),
    [
        (("failure_mode: AL-GEN\n", "failure_mode: AL-GENN\n"), "unknown failure mode 'AL-GENN'"),
        (("version: 2025.10-r1", "version: 2019.01-r1"), "rates version '2019.01-r1'"),
        (
            (
                "- technique: RLHF\n  failure_mode: CAP-DEV\n",
                "- technique: RLHF\n  failure_mode: S-TAX\n",
            ),
            "is rated twice",
        ),
    ],
)
def test_cli_bad_rater_file_one_line_exit_2(tmp_path, edit, fragment):
    text = EXAMPLES[0].read_text(encoding="utf-8").replace(*edit, 1)
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    for args in (
        ["raters", "validate", str(path)],
        ["raters", "agree", str(path), str(EXAMPLES[1])],
    ):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2, result.output
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith(f"ddrisk: error: {path}: line ")
        assert fragment in lines[0] and "Traceback" not in result.output
