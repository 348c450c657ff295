"""MIT AI Risk Repository domains checked against an extract of the repository's spreadsheet.

``data/mit-airr-2025-03-26-domains.tsv`` was made by ``scripts/extract_mit_airr_domains.py``
from the "Domain Taxonomy of AI Risks v3" sheet (updated 26 March 2025; source and commit in
the extract's header), so a domain name typed from the paper or from memory fails here.
"""

from __future__ import annotations

from pathlib import Path

from ddrisk.io.taxonomies import load_mapping_set, load_taxonomy
from tests.catalog.extracts import read_extract

EXTRACT = Path(__file__).parent / "data" / "mit-airr-2025-03-26-domains.tsv"


def _rows() -> list[dict[str, str]]:
    return read_extract(EXTRACT)


def _names() -> dict[str, str]:
    return {row["id"]: row["name"] for row in _rows()}


def test_the_extract_holds_7_domains_and_24_subdomains() -> None:
    levels = [row["level"] for row in _rows()]
    assert levels.count("domain") == 7 and levels.count("subdomain") == 24
    assert "26 March 2025" in EXTRACT.read_text().splitlines()[0]


def test_every_shipped_entry_has_its_spreadsheet_name() -> None:
    official = _names()
    taxonomy = load_taxonomy("mit-airr")
    assert "26 March 2025" in taxonomy.version
    assert {entry.id for entry in taxonomy.entries} == set(official)
    wrong = {e.id: (e.title, official[e.id]) for e in taxonomy.entries if e.title != official[e.id]}
    assert not wrong, f"names differ from the MIT spreadsheet: {wrong}"


def test_mapping_labels_repeat_the_spreadsheet_names() -> None:
    official = _names()
    mapped = [row for row in load_mapping_set("mit-airr").rows if row.mapped]
    assert mapped
    for row in mapped:
        assert row.object_label == official[row.object_id.removeprefix("mit-airr:")]


def test_the_check_catches_the_domain_names_ddrisk_used_to_ship() -> None:
    """Three domain names had been typed from memory; the sheet writes them otherwise."""
    names = _names()
    assert names["4"] != "Malicious Actors & Misuse"
    assert names["6"] != "Socioeconomic & Environmental Harms"
    assert names["7"] != "AI System Safety, Failures & Limitations"
