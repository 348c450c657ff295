"""Pinned crosswalks: every mapped id exists in its pinned taxonomy; every mode is covered."""

from __future__ import annotations

import pytest

from ddrisk.io.catalog import load_catalog
from ddrisk.io.taxonomies import (
    NO_TERM,
    SSSOM_REQUIRED,
    framework_keys,
    load_mapping_set,
    load_taxonomy,
    parse_sssom,
)

FRAMEWORKS = framework_keys()


def test_all_frameworks_the_issue_names_are_pinned():
    assert set(FRAMEWORKS) == {
        "mit-airr",
        "nist-ai-rmf",
        "nist-ai-600-1",
        "eu-ai-act",
        "iso-42001",
        "owasp-llm",
        "mitre-atlas",
    }
    rmf = load_taxonomy("nist-ai-rmf")
    assert len(rmf.entries) == 72  # AI RMF 1.0 has 72 subcategories
    assert {"GOVERN-1.4", "MAP-1.1"} <= {e.id for e in rmf.entries}
    assert len(load_taxonomy("owasp-llm").entries) == 10
    assert len(load_taxonomy("nist-ai-600-1").entries) == 12


@pytest.mark.parametrize("key", FRAMEWORKS)
def test_every_mapped_id_exists_in_its_pinned_taxonomy(key):
    taxonomy = load_taxonomy(key)
    assert taxonomy.source and taxonomy.version
    mapping_set = load_mapping_set(key)
    curies = taxonomy.curies
    for row in mapping_set.rows:
        if row.mapped:
            assert row.object_id in curies, (key, row.object_id)
            title = curies[row.object_id].title
            assert row.object_label == (title or "")
        assert row.mapping_justification == "semapv:ManualMappingCuration"
        assert row.author_label and row.mapping_date
        assert row.predicate_id.startswith("skos:")
    prefixes = set(mapping_set.metadata["curie_map"])
    assert {taxonomy.curie_prefix, "ddriskfm", "skos", "semapv", "sssom"} <= prefixes


@pytest.mark.parametrize("key", FRAMEWORKS)
def test_every_failure_mode_is_mapped_or_listed_as_not_yet_mapped(key):
    catalog = load_catalog("ddrisk-extended-2026")
    rows = load_mapping_set(key).rows
    for mode in catalog.failure_mode_ids:
        mine = [r for r in rows if r.mode == mode]
        assert mine, f"{mode} missing from {key}"
        if any(r.object_id == NO_TERM for r in mine):
            assert len(mine) == 1 and "not yet mapped" in mine[0].comment
    assert {r.mode for r in rows} <= set(catalog.failure_mode_ids)


def test_every_mode_is_mapped_to_some_framework():
    catalog = load_catalog("ddrisk-extended-2026")
    mapped = {r.mode for key in FRAMEWORKS for r in load_mapping_set(key).rows if r.mapped}
    assert mapped == set(catalog.failure_mode_ids)


def test_the_integrity_check_can_fail():
    text = (
        "#curie_map:\n#  owasp-llm: https://genai.owasp.org/llmrisk/\n"
        + "\t".join(SSSOM_REQUIRED)
        + "\nddriskfm:x/JB-INDIRECT\tskos:exactMatch\towasp-llm:LLM11:2025\tsemapv:ManualMappingCuration\tme\t2026-01-01\n"
    )
    mapping_set = parse_sssom(text, framework="owasp-llm", label="bad.tsv")
    assert mapping_set.rows[0].object_id not in load_taxonomy("owasp-llm").curies


def test_crosswalk_command_prints_a_pinned_mapping_set():
    from click.testing import CliRunner

    from ddrisk.cli import main

    result = CliRunner().invoke(main, ["crosswalk", "--framework", "owasp-llm"])
    assert result.exit_code == 0, result.output
    assert "owasp-llm:LLM01:2025" in result.output and result.output.startswith("#curie_map:")
    bad = CliRunner().invoke(main, ["crosswalk", "--framework", "owasp"])
    assert bad.exit_code == 2 and "use: eu-ai-act" in bad.output
