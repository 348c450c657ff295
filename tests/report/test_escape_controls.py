"""Control and reordering characters in CSV cells and HTML: shown as code points, never obeyed."""

from __future__ import annotations

from ddrisk.io.catalog import load_catalog
from ddrisk.io.raterfile import dump_rater_file, parse_rater_text, rater_template
from ddrisk.raters import CellRating
from ddrisk.report.escape import csv_cell, html_text


def test_csv_cell_shows_ansi_and_control_characters():
    cell = csv_cell("red\x1b[31m bell\x07 nul\x00 c1\x9b")
    assert cell == "red\\x1b[31m bell\\x07 nul\\x00 c1\\x9b"


def test_csv_cell_shows_bidi_overrides_and_isolates():
    cell = csv_cell("abc\u202eevil\u202c \u2066x\u2069")
    assert isinstance(cell, str)
    assert not set(cell) & {"\u202e", "\u202c", "\u2066", "\u2069"}
    assert "\\u202e" in cell and "\\u2066" in cell


def test_csv_cell_keeps_legitimate_text():
    # Line breaks and tabs inside a quoted cell, joiners in emoji and Persian words, numbers.
    text = "line one\nline two\r\nend\twith tab \U0001f468\u200d\U0001f469 \u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"
    assert csv_cell(text) == text
    assert csv_cell(-0.5) == -0.5
    assert csv_cell("=1+2") == "'=1+2"


def test_csv_cell_control_at_start_is_still_no_formula():
    assert not str(csv_cell("\x1b=1+2")).startswith("=")
    assert csv_cell("\t=1") == "'\t=1"


def test_rater_csv_round_trips_multiline_rationale_and_shows_escapes():
    catalog = load_catalog()
    sheet = rater_template(catalog, rater_id="alice")
    first = sheet.ratings[0]
    rationale = "first line\nsecond\tline \u0645\u06cc\u200c"
    rated = CellRating(
        technique=first.technique,
        failure_mode=first.failure_mode,
        level="prone",
        rationale=rationale,
    )
    sheet = sheet.model_copy(update={"ratings": [rated, *sheet.ratings[1:]]})
    text = dump_rater_file(sheet, fmt="csv", catalog=catalog)
    assert parse_rater_text(text, label="a.csv", catalog=catalog).ratings[0].rationale == rationale
    hostile = rated.model_copy(update={"rationale": "ok\x1b[2Jcleared"})
    sheet = sheet.model_copy(update={"ratings": [hostile, *sheet.ratings[1:]]})
    text = dump_rater_file(sheet, fmt="csv", catalog=catalog)
    assert "\x1b" not in text and "ok\\x1b[2Jcleared" in text


def test_html_text_shows_bidi_and_escape_characters():
    out = html_text("a\u202eb\u2067c\x1b[31md")
    assert not set(out) & {"\u202e", "\u2067", "\x1b"}
    assert out == "a\\u202eb\\u2067c\\x1b[31md"
