"""Shipped framework entries checked against an extract of the framework's own release.

``data/mitre-atlas-5.6.0-techniques.tsv`` was made from MITRE's atlas-data repository by
``scripts/extract_atlas_techniques.py`` (command in that script's docstring), so a technique
title typed from memory, or renamed by a later ATLAS release, fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ddrisk.io.taxonomies import load_mapping_set, load_taxonomy
from tests.catalog.extracts import read_extract

EXTRACT = Path(__file__).parent / "data" / "mitre-atlas-5.6.0-techniques.tsv"


def _atlas_titles() -> dict[str, str]:
    """Technique id -> title as ATLAS shows it (sub-techniques as 'parent: name')."""
    rows = read_extract(EXTRACT)
    names = {row["id"]: row["name"] for row in rows}
    return {
        row["id"]: f"{names[row['parent']]}: {row['name']}" if row["parent"] else row["name"]
        for row in rows
    }


def test_every_shipped_atlas_entry_exists_with_its_release_title() -> None:
    official = _atlas_titles()
    taxonomy = load_taxonomy("mitre-atlas")
    assert "5.6.0" in taxonomy.version
    wrong = {
        entry.id: (entry.title, official.get(entry.id))
        for entry in taxonomy.entries
        if official.get(entry.id) != entry.title
    }
    assert not wrong, f"titles differ from ATLAS 5.6.0: {wrong}"


def test_mapping_labels_repeat_the_release_titles() -> None:
    official = _atlas_titles()
    mappings = load_mapping_set("mitre-atlas")
    mapped = [row for row in mappings.rows if row.object_id.startswith("mitre-atlas:")]
    assert mapped
    for row in mapped:
        assert row.object_label == official[row.object_id.removeprefix("mitre-atlas:")]


def test_the_check_catches_a_title_from_an_older_release() -> None:
    """ATLAS 4.x called AML.T0010 'ML Supply Chain Compromise'; the extract says otherwise."""
    assert _atlas_titles()["AML.T0010"] != "ML Supply Chain Compromise"
    with pytest.raises(KeyError):
        _atlas_titles()["AML.T9999"]
