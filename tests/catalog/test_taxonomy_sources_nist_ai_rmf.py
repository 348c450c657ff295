"""NIST AI RMF 1.0 subcategories checked against an extract of NIST AI 100-1.

``data/nist-ai-rmf-1.0-subcategories.tsv`` was made by
``scripts/extract_nist_ai_rmf_subcategories.py`` from the NIST PDF (its sha256 is in the
extract's header), so a subcategory id that does not exist, or outcome text typed from memory
or paraphrased, fails here.
"""

from __future__ import annotations

from pathlib import Path

from ddrisk.io.taxonomies import load_mapping_set, load_taxonomy
from tests.catalog.extracts import read_extract

EXTRACT = Path(__file__).parent / "data" / "nist-ai-rmf-1.0-subcategories.tsv"
SUBCATEGORIES_PER_FUNCTION = {"GOVERN": 19, "MAP": 18, "MEASURE": 22, "MANAGE": 13}


def _outcomes() -> dict[str, str]:
    return {row["id"]: row["text"] for row in read_extract(EXTRACT)}


def test_the_extract_holds_the_72_subcategories_as_whole_sentences() -> None:
    outcomes = _outcomes()
    counts = {f: sum(k.startswith(f"{f}-") for k in outcomes) for f in SUBCATEGORIES_PER_FUNCTION}
    assert counts == SUBCATEGORIES_PER_FUNCTION
    assert all(text.endswith(".") and "Page" not in text for text in outcomes.values())


def test_every_shipped_subcategory_exists_with_its_outcome_text() -> None:
    official = _outcomes()
    taxonomy = load_taxonomy("nist-ai-rmf")
    assert "AI 100-1" in taxonomy.version
    assert [entry.id for entry in taxonomy.entries] == list(official)
    wrong = {e.id: e.title for e in taxonomy.entries if e.title != official[e.id]}
    assert not wrong, f"text differs from AI 100-1: {wrong}"


def test_mapping_labels_repeat_the_outcome_text() -> None:
    official = _outcomes()
    mapped = [row for row in load_mapping_set("nist-ai-rmf").rows if row.mapped]
    assert mapped
    for row in mapped:
        assert row.object_label == official[row.object_id.removeprefix("nist-ai-rmf:")]


def test_the_check_catches_a_paraphrase_and_a_made_up_id() -> None:
    """ddrisk used to ship short paraphrases such as this one for MEASURE 2.7."""
    official = _outcomes()
    assert (
        official["MEASURE-2.7"] != "AI system security and resilience are evaluated and documented."
    )
    assert "MEASURE-2.14" not in official and "GOVERN-7.1" not in official
    assert official["MEASURE-4.3"].count("context-relevant") == 1
