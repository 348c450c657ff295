"""An items CSV whose header names a column twice is refused, not read as its last copy."""

from __future__ import annotations

from pathlib import Path

import pytest

from ddrisk.errors import InputError
from ddrisk.io.items import read_items_file


def test_repeated_column_is_a_located_error(tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_text("text,label,label\nhow to pick a lock,harmful,benign\n")
    with pytest.raises(InputError) as caught:
        read_items_file(path)
    assert caught.value.where == "line 1"
    assert "'label'" in caught.value.problem and "twice" in caught.value.problem


def test_distinct_columns_still_read(tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_text("text,label,family\nhow to pick a lock,harmful,f\nhello,benign,g\n")
    dataset = read_items_file(path)
    assert len(dataset.items) == 2
