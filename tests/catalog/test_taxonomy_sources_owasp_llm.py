"""OWASP Top 10 for LLM Applications entries checked against an extract of OWASP's own files.

``data/owasp-llm-2025-top10.tsv`` was made by ``scripts/extract_owasp_llm_top10.py`` from the
entry headings of the 2025 list in OWASP's repository (command and commit in the script and
the extract's header), so a name typed from memory or from the 2023 list fails here.
"""

from __future__ import annotations

from pathlib import Path

from ddrisk.io.taxonomies import load_mapping_set, load_taxonomy
from tests.catalog.extracts import read_extract

EXTRACT = Path(__file__).parent / "data" / "owasp-llm-2025-top10.tsv"


def _owasp_names() -> dict[str, str]:
    return {row["id"]: row["name"] for row in read_extract(EXTRACT)}


def test_the_extract_holds_the_whole_2025_list() -> None:
    assert sorted(_owasp_names()) == [f"LLM{n:02d}:2025" for n in range(1, 11)]


def test_every_shipped_owasp_entry_has_its_2025_name() -> None:
    official = _owasp_names()
    taxonomy = load_taxonomy("owasp-llm")
    assert "2025" in taxonomy.version and "020595761a4b" in taxonomy.version
    assert {entry.id for entry in taxonomy.entries} == set(official)
    wrong = {e.id: (e.title, official[e.id]) for e in taxonomy.entries if e.title != official[e.id]}
    assert not wrong, f"names differ from the OWASP 2025 list: {wrong}"


def test_mapping_labels_repeat_the_2025_names() -> None:
    official = _owasp_names()
    mapped = [row for row in load_mapping_set("owasp-llm").rows if row.mapped]
    assert mapped
    for row in mapped:
        assert row.object_label == official[row.object_id.removeprefix("owasp-llm:")]


def test_the_check_catches_a_name_from_the_2023_list() -> None:
    """The 2023 list called its output entry 'Insecure Output Handling'; 2025 does not."""
    assert "Insecure Output Handling" not in _owasp_names().values()
    assert _owasp_names()["LLM05:2025"] == "Improper Output Handling"
