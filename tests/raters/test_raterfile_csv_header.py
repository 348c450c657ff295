"""A rater CSV whose header names a column twice is refused (the last copy would win)."""

from __future__ import annotations

import pytest

from ddrisk.errors import InputError
from ddrisk.io.catalog import load_catalog
from ddrisk.io.raterfile import dump_rater_file, rater_template, read_rater_file


def test_repeated_level_column_is_a_located_error(tmp_path):
    catalog = load_catalog()
    text = dump_rater_file(rater_template(catalog, rater_id="alice"), fmt="csv", catalog=catalog)
    lines = text.splitlines()
    lines[0] += ",level"
    lines[1:] = [line + ",prone" for line in lines[1:]]
    path = tmp_path / "alice.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_rater_file(path, catalog=catalog)
    assert info.value.where == "line 1"
    assert "'level'" in info.value.problem and "twice" in info.value.problem
