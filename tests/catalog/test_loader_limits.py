"""Catalogs come through ddrisk.io.documents: its limits, JSON lines and string timestamps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from ddrisk.errors import InputError
from ddrisk.io.catalog import dump_catalog, load_catalog, parse_catalog


@pytest.fixture(scope="module")
def builtin_text() -> str:
    return dump_catalog(load_catalog())


@pytest.fixture
def data(builtin_text: str) -> dict:
    return yaml.safe_load(builtin_text)


def test_alias_bomb_and_self_alias(tmp_path: Path) -> None:
    levels = ['l0: &l0 ["x","x","x","x","x","x","x","x","x","x"]']
    levels += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 8)]
    with pytest.raises(InputError, match="expands to more than"):
        parse_catalog("\n".join(levels) + "\n", label="bomb.yaml")
    with pytest.raises(InputError, match="self-referencing alias"):
        parse_catalog("id: &a [*a]\n", label="self.yaml")


def test_deep_nesting_is_refused_without_recursion(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"id": ' + "[" * 200_000 + "]" * 200_000 + "}")
    with pytest.raises(InputError, match=r"deep.json: line 1: nested more than 64 levels"):
        load_catalog(path)


def test_json_catalog_errors_point_at_lines(tmp_path: Path, data: dict) -> None:
    data["ratings"][5]["probability"] = 1.5
    path = tmp_path / "cat.json"
    text = json.dumps(data, indent=1)
    path.write_text(text)
    expected = next(
        i for i, line in enumerate(text.splitlines(), 1) if '"probability": 1.5' in line
    )
    with pytest.raises(
        InputError, match=rf"cat.json: line {expected} \(ratings\[5\]\.probability\)"
    ):
        load_catalog(path)


def test_duplicate_key_in_json_catalog(tmp_path: Path) -> None:
    path = tmp_path / "dup.json"
    path.write_text('{\n "id": "a",\n "id": "b"\n}')
    with pytest.raises(InputError, match=r"dup.json: line 3: duplicate key 'id'"):
        load_catalog(path)


def test_dates_stay_text(data: dict) -> None:
    data["version"] = "PLACEHOLDER"
    text = yaml.safe_dump(data, sort_keys=False).replace("PLACEHOLDER", "2026-01-31")
    assert parse_catalog(text, label="dated.yaml").version == "2026-01-31"


def test_files_that_are_not_catalog_text(tmp_path: Path) -> None:
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(bytes(range(256)))
    with pytest.raises(InputError, match="binary data"):
        load_catalog(binary)
    with pytest.raises(InputError, match="is a folder"):
        load_catalog(tmp_path)
    with pytest.raises(InputError, match="cannot be used"):
        load_catalog(tmp_path / ("c" * 300 + ".yaml"))
    assert load_catalog("dung-mai-2025").label.startswith("dung-mai-2025")
