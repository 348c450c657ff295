"""An item whose text is not a string says so, instead of calling it missing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ddrisk.errors import InputError
from ddrisk.stress.datasets import load_items_file


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (123, "a number"),
        (1.5, "a number"),
        (True, "a boolean"),
        (["a"], "a list"),
        ({}, "an object"),
    ],
)
def test_non_string_text_names_its_type(tmp_path: Path, value: object, kind: str) -> None:
    path = tmp_path / "items.jsonl"
    path.write_text(
        json.dumps({"text": "ok", "label": 1}) + "\n" + json.dumps({"text": value, "label": 1})
    )
    with pytest.raises(InputError) as caught:
        load_items_file(path)
    assert caught.value.problem == f"text must be a string (got {kind})"
    assert caught.value.where.startswith("line 2")


@pytest.mark.parametrize(
    "row", [{"label": 1}, {"text": "  ", "label": 1}, {"text": None, "label": 1}]
)
def test_missing_or_blank_text_is_still_called_missing(tmp_path: Path, row: dict) -> None:
    path = tmp_path / "items.jsonl"
    path.write_text(json.dumps(row))
    with pytest.raises(InputError) as caught:
        load_items_file(path)
    assert caught.value.problem == "missing or empty 'text'"
