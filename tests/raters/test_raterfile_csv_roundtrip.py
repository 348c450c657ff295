"""Rationales that look like spreadsheet formulas read back from CSV exactly as written."""

from __future__ import annotations

import pytest

from ddrisk.io.catalog import load_catalog
from ddrisk.io.raterfile import dump_rater_file, parse_rater_text, rater_template
from ddrisk.raters import CellRating


@pytest.mark.parametrize(
    "rationale",
    ['=HYPERLINK("http://x","y")', "-1 is the sign", "@SUM(A1)", "|cmd", "%x", "'=quoted"],
)
def test_formula_like_rationale_round_trips(rationale):
    catalog = load_catalog()
    sheet = rater_template(catalog, rater_id="alice")
    first = sheet.ratings[0]
    rated = CellRating(
        technique=first.technique,
        failure_mode=first.failure_mode,
        level="prone",
        rationale=rationale,
    )
    sheet = sheet.model_copy(update={"ratings": [rated, *sheet.ratings[1:]]})
    text = dump_rater_file(sheet, fmt="csv", catalog=catalog)
    back = parse_rater_text(text, label="alice.csv", catalog=catalog)
    assert back.ratings[0].rationale == rationale
