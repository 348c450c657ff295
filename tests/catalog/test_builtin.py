"""The built-in catalog reproduces ../shared/reference/dung-mai-2025.md exactly."""

from __future__ import annotations

import pytest

from ddrisk.catalog import Level
from ddrisk.io.catalog import (
    DEFAULT_CATALOG,
    builtin_catalog_names,
    dump_catalog,
    load_catalog,
    parse_catalog,
)

# Table 1 as the reference gives it: V prone (✗), N not prone (✓), U unclear (?).
MODES = ["S-TAX", "CAP-DEV", "DEC-AL", "COLL", "EM-MIS", "EVAL-DIFF", "AL-GEN"]
TABLE_1 = {
    "RLHF": "N V V N V V V",
    "RLAIF": "N V V V V V V",
    "W2S": "N V V V V V V",
    "DEBATE": "U V N V V V V",
    "RE": "N N V N N N V",
    "SCIAI": "V U N U N N N",
    "IDA": "V N N N N N V",
}
CODE = {"V": Level.PRONE, "N": Level.NOT_PRONE, "U": Level.UNCLEAR}
TECHNIQUES = {
    "RLHF": ("learning from feedback", "low", "stated"),
    "RLAIF": ("learning from feedback", "low", "stated"),
    "W2S": ("scalable oversight", "low", "stated"),
    "DEBATE": ("scalable oversight", "unclear", "unclear"),
    "RE": ("interpretability", "low", "inferred"),
    "SCIAI": ("safety by design", "high", "stated"),
    "IDA": ("scalable oversight", "high", "stated"),
}
SINGLE_SOURCE = {
    ("RLHF", "COLL"),
    ("RLAIF", "COLL"),
    ("W2S", "COLL"),
    ("DEBATE", "S-TAX"),
    ("DEBATE", "CAP-DEV"),
} | {(t, f) for t in ("SCIAI", "IDA") for f in ("CAP-DEV", "DEC-AL", "COLL", "EM-MIS", "EVAL-DIFF")}


def test_default_is_the_paper_catalog(builtin):
    assert DEFAULT_CATALOG == "dung-mai-2025" and DEFAULT_CATALOG in builtin_catalog_names()
    assert builtin.id == "dung-mai-2025"
    assert "arXiv:2510.11235" in builtin.citation


def test_ids_order_and_counts(builtin):
    assert builtin.technique_ids == list(TABLE_1)
    assert builtin.failure_mode_ids == MODES
    assert len(builtin.ratings) == 49


@pytest.mark.parametrize("technique", list(TABLE_1))
def test_every_cell_matches_table_1(builtin, technique):
    expected = [CODE[c] for c in TABLE_1[technique].split()]
    assert [builtin.rating(technique, m).level for m in MODES] == expected


@pytest.mark.parametrize("technique", list(TECHNIQUES))
def test_categories_and_safety_tax(builtin, technique):
    category, tax, basis = TECHNIQUES[technique]
    t = builtin.technique(technique)
    assert (t.category, t.safety_tax.value, t.safety_tax_basis) == (category, tax, basis)


def test_single_source_cells_are_marked_and_low_confidence(builtin):
    marked = {
        (r.technique, r.failure_mode)
        for r in builtin.ratings
        if r.provenance.corroboration == "single-source"
    }
    assert marked == SINGLE_SOURCE
    for technique, mode in SINGLE_SOURCE:
        assert builtin.rating(technique, mode).confidence.value == "low"


def test_rationales_are_ddriks_own_and_present(builtin):
    assert all(r.rationale and r.rationale_author == "ddrisk" for r in builtin.ratings)
    assert len({r.rationale for r in builtin.ratings}) == 49


def test_failure_modes_carry_crosswalks(builtin):
    collusion = builtin.failure_mode("COLL")
    assert any(c.object_id == "mit-airr:7.6" for c in collusion.crosswalks)
    assert all(f.crosswalks for f in builtin.failure_modes)


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_dump_round_trips(builtin, fmt):
    again = parse_catalog(dump_catalog(builtin, fmt=fmt), label=f"roundtrip.{fmt}")
    assert again.content_hash == builtin.content_hash


def test_content_hash_is_stable_and_sensitive(builtin):
    assert load_catalog().content_hash == builtin.content_hash
    changed = builtin.with_levels({("RE", "AL-GEN"): Level.NOT_PRONE})
    assert changed.content_hash != builtin.content_hash
    assert changed.rating("RE", "AL-GEN").level is Level.NOT_PRONE
