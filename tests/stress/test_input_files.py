"""Items and layers files: the readers' limits and defects, each one located line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ddrisk.errors import InputError
from ddrisk.io.items import MAX_RECORD_CHARS
from ddrisk.stress.config import build_layers, load_layer_specs
from ddrisk.stress.datasets import load_items_file


def _error(path: Path) -> InputError:
    with pytest.raises(InputError) as caught:
        load_items_file(path)
    assert "\n" not in str(caught.value) and caught.value.source == str(path)
    return caught.value


def test_csv_field_past_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_text('text,label\nok,1\n"' + "x" * (MAX_RECORD_CHARS + 10) + '",0\n')
    error = _error(path)
    assert error.where == "line 3" and "longer than the" in error.problem


def test_csv_field_past_csv_default_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    long_text = "y" * 200_000  # over the csv module's default 131,072
    path.write_text(f'text,label\n"{long_text}",1\n')
    assert load_items_file(path).items[0].text == long_text


def test_csv_nul_and_unclosed_quote(tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_bytes(b"text,label\n" + b"a,1\n" * 3000 + b'"a\x00b",1\n')
    error = _error(path)
    assert error.where == "byte 12013" and "binary data" in error.problem
    path.write_text('text,label\nok,1\n"never closed,1\n')
    assert _error(path).problem.startswith(("malformed CSV", "missing label"))


def test_jsonl_defects(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    good = json.dumps({"text": "a", "label": 1})
    path.write_text(good + "\n" + '{"text": "b", "label": 0, "label": 1}\n')
    error = _error(path)
    assert error.where == "line 2" and "duplicate key 'label'" in error.problem
    path.write_text(good + "\n" + "[" * 10_000 + "]" * 10_000 + "\n")
    assert "levels deep" in _error(path).problem
    path.write_text(good + "\n" + json.dumps({"text": "z" * (MAX_RECORD_CHARS + 1), "label": 1}))
    error = _error(path)
    assert error.where == "line 2" and "over the" in error.problem
    path.write_text('{"text": "a", "label": NaN}\n')
    assert "NaN" in _error(path).problem


def test_binary_and_latin1_items(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    path.write_bytes(b"\x00\x01" * 100)
    assert "binary data" in _error(path).problem
    path.write_bytes('{"text": "café", "label": 1}\n'.encode("latin-1"))
    assert "not UTF-8" in _error(path).problem


def test_json_list_file(tmp_path: Path) -> None:
    path = tmp_path / "items.json"
    path.write_text(
        json.dumps([{"text": "a", "label": 1}, {"text": "b", "label": "benign"}], indent=1)
    )
    assert [item.harmful for item in load_items_file(path).items] == [True, False]
    path.write_text('[\n {"text": "a", "label": 1},\n {"text": "", "label": 1}\n]')
    assert _error(path).where == "line 3 ([1])"


def test_unusable_item_paths(tmp_path: Path) -> None:
    assert (
        "is a folder" in _error(tmp_path / "d.jsonl").problem
        if (tmp_path / "d.jsonl").mkdir() is None
        else None
    )
    assert "cannot be used" in _error(tmp_path / ("n" * 300 + ".jsonl")).problem


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("layers:\n  - kind: regex\n    kind: shell\n", "duplicate key 'kind'"),
        ("base: &b {kind: regex}\nlayers: [*b, *b]\n", "unknown top-level key"),
        ("layers: &l [*l]\n", "self-referencing alias"),
        ("layers:\n" + "".join("  " * i + "- \n" for i in range(1, 80)), "levels deep"),
        ("layers: !!python/name:os.system\n", "unsupported YAML tag"),
        ("layers:\n  - kind: [regex]\n", "a list, not a name"),
    ],
)
def test_layers_file_defects(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "layers.yaml"
    path.write_text(content)
    with pytest.raises(InputError, match=problem) as caught:
        build_layers(load_layer_specs(path), source=str(path))
    assert caught.value.source == str(path)


def test_layers_file_that_is_a_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a folder"):
        load_layer_specs(tmp_path)
