"""The one located YAML/JSON reader: values, lines, and every limit as a one-line error."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from ddrisk.errors import InputError
from ddrisk.io import documents
from ddrisk.io.documents import (
    LocatedDocument,
    check_usable_path,
    display_path,
    parse_document,
    read_document,
    read_text_file,
)


def error_of(text: str, **options) -> InputError:
    with pytest.raises(InputError) as caught:
        parse_document(text, **options)
    message = str(caught.value)
    assert "\n" not in message and "fix:" in message
    return caught.value


# ---------------------------------------------------------------------------- values and lines
def test_yaml_values_match_pyyaml_except_timestamps() -> None:
    text = "a: 1\nb: [x, 2.5, true, null, '3']\nc: {d: 2025-01-01, e: 0x1f}\n"
    data = parse_document(text).data
    assert data == {"a": 1, "b": ["x", 2.5, True, None, "3"], "c": {"d": "2025-01-01", "e": 31}}


def test_lines_of_key_paths_in_yaml_and_json() -> None:
    yaml_doc = parse_document("a: 1\nb:\n  - x\n  - {c: 2}\n")
    assert yaml_doc.lines[("b",)] == 2 and yaml_doc.lines[("b", 1, "c")] == 4
    assert yaml_doc.where(("b", 1, "c", "deeper")) == "line 4 (b[1].c.deeper)"
    json_doc = parse_document('{\n "a": 1,\n "b": [\n  "x",\n  {"c": 2}\n ]\n}', label="x.json")
    assert json_doc.data == {"a": 1, "b": ["x", {"c": 2}]}
    assert json_doc.lines[("b",)] == 3 and json_doc.lines[("b", 1, "c")] == 5
    assert json_doc.lines[("b", 1)] == 5
    mixed = parse_document('[1, 2,\n {"a": [3, "x",\n [4]]}]', label="m.json")
    assert (
        mixed.lines[(2,)] == 2 and mixed.lines[(2, "a", 2)] == 3 and mixed.lines[(2, "a", 1)] == 2
    )
    # A string value is not a key, even when it looks like one.
    assert parse_document('{"a": "b", "b": 1}', label="v.json").data == {"a": "b", "b": 1}


def test_large_json_keeps_depth_and_duplicate_checks() -> None:
    padding = '"' + "p" * documents.MAX_LOCATED_JSON_CHARS + '"'
    assert (
        "levels deep" in error_of("[" + padding + "," + "[" * 100 + "]" * 101, fmt="json").problem
    )
    assert "duplicate key 'k'" in error_of('{"k": ' + padding + ', "k": 1}', fmt="json").problem


def test_shared_aliases_are_allowed_and_shared() -> None:
    data = parse_document("base: &b {x: 1}\nfirst: *b\nsecond: *b\n").data
    assert data["first"] == {"x": 1} and data["first"] is data["second"]


# ---------------------------------------------------------------------------- rejections
@pytest.mark.parametrize(
    ("text", "where", "problem"),
    [
        ("a: 1\nb: 2\na: 3\n", "line 3", "duplicate key 'a' in the top level"),
        ("x:\n  k: 1\n  k: 2\n", "line 3", "duplicate key 'k' in x"),
        ("yes: 1\ntrue: 2\n", "line 2", "duplicate key 'True'"),
        ("a: &a [1, *a]\n", "line 1", "self-referencing alias"),
        ("a: *nowhere\n", "line 1", "has no anchor"),
        ("<<: {a: 1}\n", "line 1", "merge keys"),
        ("? [a, b]\n: 1\n", "line 1", "plain value"),
        ("a: !!python/object/apply:os.system [ls]\n", "line 1", "unsupported YAML tag"),
        ("a: !!set {x, y}\n", "line 1", "unsupported YAML tag"),
        ("a: 1\n---\nb: 2\n", "line 2", "more than one YAML document"),
        ("n: " + "7" * 5000 + "\n", "line 1", "cannot read value"),
        ("a: 1\nn: -1" + "0" * 301 + "\n", "line 2", "an integer past 1e300"),
        ("a: [1, 2\n", "line 2, column 1", "malformed YAML"),
    ],
)
def test_yaml_defects_are_located(text: str, where: str, problem: str) -> None:
    error = error_of(text, label="f.yaml")
    assert error.source == "f.yaml" and error.where == where and problem in error.problem


def test_depth_limit_in_yaml_and_json() -> None:
    deep_yaml = "".join("  " * i + f"k{i}:\n" for i in range(70)) + "  " * 70 + "v\n"
    assert "levels deep" in error_of(deep_yaml).problem
    assert parse_document(
        "".join("  " * i + f"k{i}:\n" for i in range(60)) + "  " * 60 + "v\n"
    ).data
    assert "levels deep" in error_of("[" * 100_000 + "]" * 100_000, label="d.json").problem
    # libyaml's scanner stops flow nesting at 1000 levels, before any event reaches ddrisk.
    assert "nesting depth" in error_of("x: " + "[" * 100_000).problem
    assert "levels deep" in error_of("x: " + "[" * 100 + "]" * 100).problem


def test_alias_bomb_is_refused_before_expansion() -> None:
    lines = ['l0: &l0 ["a","a","a","a","a","a","a","a","a","a"]']
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 9)]
    error = error_of("\n".join(lines) + "\n")
    assert "expands to more than" in error.problem
    # The same shape within the limit is read (aliases share one object each).
    small = parse_document("\n".join(lines[:4]) + "\n").data
    assert len(small["l3"]) == 10 and small["l3"][0] is small["l2"]


def test_node_limit_is_a_parameter() -> None:
    assert "more than 5 values" in error_of("[1, 2, 3, 4, 5, 6]", max_nodes=5).problem


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"a": 1, "b": {"c": 1, "c": 2}}', "duplicate key 'c' in b"),
        ('{"a": NaN}', "NaN is not a JSON number"),
        ('{"a": -Infinity}', "-Infinity is not a JSON number"),
        ('{"n": ' + "1" * 5000 + "}", "digits"),
        ('{"n": 1' + "0" * 301 + "}", "an integer past 1e300"),
        ('{"n": 1e400}', "past the range of a float"),
        ('{"a": [1, 2', "malformed JSON"),
    ],
)
def test_json_defects(text: str, problem: str) -> None:
    assert problem in error_of(text, label="x.json", fmt="json").problem


def test_empty_documents() -> None:
    assert "empty" in error_of("").problem
    assert "empty" in error_of("# only a comment\n").problem
    assert parse_document("", allow_empty=True).data is None


# ---------------------------------------------------------------------------- files
def test_read_document_chooses_format_by_suffix(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text('{"a": 1}')
    (tmp_path / "a.yaml").write_text("a: 1\n")
    assert read_document(tmp_path / "a.json").data == read_document(tmp_path / "a.yaml").data
    assert isinstance(read_document(tmp_path / "a.yaml"), LocatedDocument)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"a: 1\n\x00\x01\x02", "binary data"),
        ("a: café\n".encode("latin-1"), "not UTF-8"),
        ("a: 1\n".encode("utf-16"), "binary data"),  # UTF-16 has NUL bytes
    ],
)
def test_binary_and_foreign_encodings(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    with pytest.raises(InputError, match=problem):
        read_text_file(path)


def test_byte_order_mark_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfa: 1\n")
    assert read_document(path).data == {"a": 1}


def test_size_limits(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("a: '" + "x" * 2000 + "'\n")
    with pytest.raises(InputError, match="over the 1,000-byte limit for a catalog"):
        read_document(path, max_bytes=1000, what="catalog")
    assert documents.MAX_YAML_BYTES < documents.MAX_DOCUMENT_BYTES


def test_folders_missing_files_and_fifos(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a folder"):
        read_text_file(tmp_path)
    with pytest.raises(InputError, match="no such file"):
        read_text_file(tmp_path / "absent.yaml")
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file"):
        read_text_file(fifo)  # would block forever if opened


def test_unreadable_file_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "locked.yaml"
    path.write_text("a: 1\n")

    def refuse(self: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(Path, "open", refuse)
    with pytest.raises(InputError, match=r"locked.yaml: cannot be read \(Permission denied\)"):
        read_text_file(path)


def test_over_long_names(tmp_path: Path) -> None:
    long_path = tmp_path / ("n" * 300 + ".yaml")
    with pytest.raises(InputError, match="File name too long"):
        read_text_file(long_path)
    with pytest.raises(InputError, match="cannot be used"):
        check_usable_path(long_path)
    assert check_usable_path(tmp_path / "absent.yaml") == tmp_path / "absent.yaml"


def test_control_characters_in_names_stay_on_one_line(tmp_path: Path) -> None:
    assert display_path("a\nb\x1b[31m.yaml") == "a\\nb\\x1b[31m.yaml"
    with pytest.raises(InputError) as caught:
        read_text_file(tmp_path / "x\ny.yaml")
    assert "\n" not in str(caught.value)
