"""The extended built-in catalog: complete, referenced, honest about thin evidence."""

from __future__ import annotations

from ddrisk.catalog.model import Confidence, Level
from ddrisk.io.catalog import builtin_catalog_names, load_catalog


def test_extended_catalog_is_complete_and_labelled_as_ddrisks_own():
    assert {"dung-mai-2025", "ddrisk-extended-2026"} <= set(builtin_catalog_names())
    catalog = load_catalog("ddrisk-extended-2026")
    assert "OWN assessment" in catalog.description
    assert len(catalog.ratings) == len(catalog.techniques) * len(catalog.failure_modes)
    for item in [*catalog.techniques, *catalog.failure_modes]:
        assert item.references, item.id
    for rating in catalog.ratings:
        assert rating.rationale and rating.provenance.sources
        if rating.effective_level is Level.UNCLEAR:
            assert rating.confidence is Confidence.LOW
    names = {t.id for t in catalog.techniques}
    assert {
        "IN-CLF",
        "OUT-CLF",
        "LLM-JUDGE",
        "AI-CONTROL",
        "SYSPROMPT",
        "REDTEAM",
        "CAP-LIMIT",
        "HUMAN-APPROVAL",
        "RATE-LIMIT",
        "PROBES",
    } <= names
    modes = set(catalog.failure_mode_ids)
    assert {
        "REWARD-HACK",
        "DIST-SHIFT",
        "SYCOPHANCY",
        "REP-INSTAB",
        "JB-ROLEPLAY",
        "JB-HYPOTHETICAL",
        "JB-AUTHORITY",
        "JB-ENCODING",
        "JB-MULTITURN",
        "JB-INDIRECT",
        "HUM-EVAL",
        "TRAIN-DEPLOY",
        "SHARED-BASE",
        "SHARED-DATA",
    } <= modes
    assert sum(r.effective_level is Level.UNCLEAR for r in catalog.ratings) > 0


def test_the_papers_cells_are_carried_over_unchanged():
    paper = load_catalog("dung-mai-2025")
    assert paper.content_hash.startswith("e188a9aec13e")  # the paper catalog did not change
    extended = load_catalog("ddrisk-extended-2026")
    for rating in paper.ratings:
        assert extended.rating(rating.technique, rating.failure_mode) == rating
    others = [
        r
        for r in extended.ratings
        if (r.technique, r.failure_mode)
        not in {(p.technique, p.failure_mode) for p in paper.ratings}
    ]
    assert others and all(r.rater == "ddrisk" for r in others)
