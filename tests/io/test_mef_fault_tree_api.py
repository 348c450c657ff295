"""The public MEF fault-tree entry point: read (io) then quantify (risk), as the CLI does.

The probability is checked against a brute-force sum over all assignments written here from
the formulas, independent of the reader and of the BDD; the input hash against
:func:`ddrisk._hashing.files_sha256` of the same files.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import pytest

import ddrisk.io
import ddrisk.risk
from ddrisk._hashing import file_sha256, files_sha256
from ddrisk.errors import InputError

TREE_FILE = """<?xml version="1.0"?>
<opsa-mef>
  <define-fault-tree name="api">
    <define-gate name="top">
      <or>
        <and><basic-event name="a"/><not><basic-event name="b"/></not></and>
        <gate name="vote"/>
      </or>
    </define-gate>
    <define-gate name="vote">
      <atleast min="2">
        <basic-event name="b"/><basic-event name="c"/>
        <xor><basic-event name="a"/><basic-event name="d"/></xor>
      </atleast>
    </define-gate>
  </define-fault-tree>
</opsa-mef>
"""

EVENTS_FILE = """<?xml version="1.0"?>
<opsa-mef>
  <model-data>
    <define-basic-event name="a"><float value="0.3"/></define-basic-event>
    <define-basic-event name="b"><float value="0.15"/></define-basic-event>
    <define-basic-event name="c"><float value="0.4"/></define-basic-event>
    <define-basic-event name="d"><float value="0.05"/></define-basic-event>
  </model-data>
</opsa-mef>
"""

PROBABILITIES = {"a": 0.3, "b": 0.15, "c": 0.4, "d": 0.05}


def _top(a: bool, b: bool, c: bool, d: bool) -> bool:
    vote = sum((b, c, a != d)) >= 2
    return (a and not b) or vote


def _brute_force() -> float:
    total = 0.0
    for values in itertools.product((False, True), repeat=4):
        state = dict(zip("abcd", values, strict=True))
        if _top(**state):
            total += math.prod(
                PROBABILITIES[k] if state[k] else 1.0 - PROBABILITIES[k] for k in "abcd"
            )
    return total


def _write(tmp_path: Path) -> list[Path]:
    tree = tmp_path / "tree.xml"
    events = tmp_path / "events.xml"
    tree.write_text(TREE_FILE, encoding="utf-8")
    events.write_text(EVENTS_FILE, encoding="utf-8")
    return [tree, events]


def test_read_then_quantify_equals_brute_force_and_carries_the_files_hash(
    tmp_path: Path,
) -> None:
    paths = _write(tmp_path)
    loaded = ddrisk.io.read_fault_tree(paths)
    result = ddrisk.risk.quantify_fault_tree(loaded.tree, importance=True)

    assert result.probability == pytest.approx(_brute_force(), rel=1e-12)
    assert loaded.tree.top == "top" and loaded.tree.name == "api"
    assert loaded.paths == tuple(paths)
    assert loaded.input_sha256 == files_sha256(paths)
    assert loaded.to_dict()["input_sha256"] == loaded.input_sha256
    assert loaded.to_dict()["inputs"] == [str(p) for p in paths]


def test_input_hash_covers_every_file_in_order_and_changes_with_content(
    tmp_path: Path,
) -> None:
    paths = _write(tmp_path)
    forward = ddrisk.io.read_fault_tree(paths).input_sha256
    backward = ddrisk.io.read_fault_tree(paths[::-1]).input_sha256
    assert forward != backward  # the order is part of the input
    assert forward != file_sha256(paths[0])  # not just the first file

    before = ddrisk.risk.quantify_fault_tree(ddrisk.io.read_fault_tree(paths).tree).probability
    paths[1].write_text(EVENTS_FILE.replace('"0.4"', '"0.5"'), encoding="utf-8")
    changed = ddrisk.io.read_fault_tree(paths)
    assert changed.input_sha256 != forward
    assert changed.input_sha256 == files_sha256(paths)
    assert ddrisk.risk.quantify_fault_tree(changed.tree).probability != pytest.approx(before)


def test_missing_file_or_no_file_is_an_input_error(tmp_path: Path) -> None:
    tree, _ = _write(tmp_path)
    with pytest.raises(InputError, match="not defined"):
        ddrisk.io.read_fault_tree([tree])  # basic events live in the other file
    with pytest.raises(InputError):
        ddrisk.io.read_fault_tree([tmp_path / "absent.xml"])
    with pytest.raises(InputError, match="no MEF file"):
        ddrisk.io.read_fault_tree([])
