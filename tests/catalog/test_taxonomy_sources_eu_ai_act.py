"""EU AI Act articles checked against an extract of the Official Journal text.

``data/eu-ai-act-2024-1689-articles.tsv`` was made by ``scripts/extract_eu_ai_act_articles.py``
from the EUR-Lex HTML of Regulation (EU) 2024/1689 as published in OJ L of 12.7.2024 (source
and commit in the extract's header), so an article title typed from memory fails here.
"""

from __future__ import annotations

from pathlib import Path

from ddrisk.io.taxonomies import load_mapping_set, load_taxonomy
from tests.catalog.extracts import read_extract

EXTRACT = Path(__file__).parent / "data" / "eu-ai-act-2024-1689-articles.tsv"


def _article_titles() -> dict[str, str]:
    return {row["id"]: row["title"] for row in read_extract(EXTRACT)}


def test_the_extract_holds_all_113_articles_in_order() -> None:
    assert list(_article_titles()) == [f"art{n}" for n in range(1, 114)]


def test_every_shipped_article_has_its_oj_title() -> None:
    official = _article_titles()
    taxonomy = load_taxonomy("eu-ai-act")
    assert "12.7.2024" in taxonomy.version
    wrong = {
        entry.id: (entry.title, official.get(entry.id))
        for entry in taxonomy.entries
        if official.get(entry.id) != entry.title
    }
    assert not wrong, f"titles differ from the Official Journal text: {wrong}"


def test_mapping_labels_repeat_the_oj_titles() -> None:
    official = _article_titles()
    mapped = [row for row in load_mapping_set("eu-ai-act").rows if row.mapped]
    assert mapped
    for row in mapped:
        assert row.object_label == official[row.object_id.removeprefix("eu-ai-act:")]


def test_the_check_catches_a_title_from_the_commission_proposal() -> None:
    """The 2021 proposal's Article 29 was 'Obligations of users of high-risk AI systems'."""
    assert "Obligations of users of high-risk AI systems" not in _article_titles().values()
    assert _article_titles()["art26"] == "Obligations of deployers of high-risk AI systems"
