"""NIST AI 600-1 risk names checked against an extract of the profile's section 2.

``data/nist-ai-600-1-risks.tsv`` was made by ``scripts/extract_nist_ai_600_1_risks.py`` from a
text conversion of the NIST PDF (source and commit in the extract's header). Section 2 names
each of the 12 risks twice, in a numbered list and as a subsection heading, and NIST's own two
spellings differ for 2.6 ("or" / "and"); a shipped name must be one of NIST's two spellings.
The conversion recased the headings, so a heading matches regardless of case.
"""

from __future__ import annotations

from pathlib import Path

from ddrisk.io.taxonomies import load_mapping_set, load_taxonomy
from tests.catalog.extracts import read_extract

EXTRACT = Path(__file__).parent / "data" / "nist-ai-600-1-risks.tsv"


def _risks() -> list[dict[str, str]]:
    return read_extract(EXTRACT)


def _section_named(title: str) -> str | None:
    """The section 2.N whose list name is ``title``, or whose heading is, ignoring case."""
    for risk in _risks():
        if title == risk["list_name"] or title.casefold() == risk["heading"].casefold():
            return risk["section"]
    return None


def test_the_extract_holds_the_12_risks() -> None:
    assert [risk["section"] for risk in _risks()] == [f"2.{n}" for n in range(1, 13)]


def test_each_shipped_risk_is_a_different_risk_of_section_2() -> None:
    taxonomy = load_taxonomy("nist-ai-600-1")
    assert "July 2024" in taxonomy.version
    sections = {entry.id: _section_named(entry.title or "") for entry in taxonomy.entries}
    unknown = [entry_id for entry_id, section in sections.items() if section is None]
    assert not unknown, f"names not found in NIST AI 600-1 section 2: {unknown}"
    assert sorted(s for s in sections.values() if s) == sorted(r["section"] for r in _risks())


def test_mapping_labels_repeat_the_shipped_names() -> None:
    titles = {f"nist-ai-600-1:{e.id}": e.title for e in load_taxonomy("nist-ai-600-1").entries}
    mapped = [row for row in load_mapping_set("nist-ai-600-1").rows if row.mapped]
    assert mapped
    for row in mapped:
        assert row.object_label == titles[row.object_id]
        assert _section_named(row.object_label) is not None


def test_the_check_catches_names_from_the_draft_profile() -> None:
    """The April 2024 draft had 'Dangerous or Violent Recommendations' and 'Environmental'."""
    assert _section_named("Dangerous or Violent Recommendations") is None
    assert _section_named("Environmental") is None
    assert _section_named("Harmful Bias or Homogenization") == "2.6"
    assert _section_named("harmful bias and homogenization") == "2.6"
