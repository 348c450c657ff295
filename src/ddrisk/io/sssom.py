"""Failure-mode crosswalks as an SSSOM mapping set (TSV with a YAML metadata header)."""

from __future__ import annotations

import csv
import io

from ddrisk.catalog.model import Catalog
from ddrisk.report.escape import csv_cell

CURIE_MAP = {
    "ddriskfm": "https://ddrisk.dev/failure-mode/",
    "mit-airr": "https://airisk.mit.edu/taxonomy/",
    "nist-ai-rmf": "https://airc.nist.gov/AI_RMF_Knowledge_Base/Playbook/",
    "nist-ai-600-1": "https://doi.org/10.6028/NIST.AI.600-1#",
    "eu-ai-act": "https://eur-lex.europa.eu/eli/reg/2024/1689/oj#",
    "avid": "https://avidml.org/taxonomy/",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "semapv": "https://w3id.org/semapv/vocab/",
}
COLUMNS = (
    "subject_id",
    "subject_label",
    "predicate_id",
    "object_id",
    "mapping_justification",
    "author_label",
    "comment",
)


def crosswalk_rows(catalog: Catalog) -> list[dict[str, str]]:
    """One row per (failure mode, external id) mapping, in catalog order."""
    rows = []
    for mode in catalog.failure_modes:
        for mapping in mode.crosswalks:
            rows.append(
                {
                    "subject_id": f"ddriskfm:{catalog.id}/{mode.id}",
                    "subject_label": mode.name,
                    "predicate_id": mapping.predicate,
                    "object_id": mapping.object_id,
                    "mapping_justification": mapping.justification,
                    "author_label": mapping.author or "",
                    "comment": mapping.comment or "",
                }
            )
    return rows


def crosswalk_tsv(catalog: Catalog) -> str:
    """The catalog's crosswalks as SSSOM TSV.

    >>> from ddrisk.io.catalog import load_catalog
    >>> text = crosswalk_tsv(load_catalog())
    >>> text.splitlines()[0]
    '#curie_map:'
    >>> "mit-airr:7.6" in text
    True
    """
    header = ["#curie_map:"]
    header += [f"#  {prefix}: {uri}" for prefix, uri in CURIE_MAP.items()]
    header += [
        f"#mapping_set_id: https://ddrisk.dev/crosswalk/{catalog.id}/{catalog.version}",
        f"#mapping_set_description: Failure-mode crosswalks of ddrisk catalog {catalog.label}",
        f"#license: {'https://creativecommons.org/licenses/by/4.0/' if (catalog.license or '').startswith('CC-BY-4.0') else 'https://w3id.org/sssom/license/unspecified'}",
    ]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, delimiter="\t", lineterminator="\n")
    writer.writeheader()
    # Labels and comments are catalog text: no cell may open in a spreadsheet as a formula, and
    # no line break in a catalog field may start a new header line.
    writer.writerows(
        {key: csv_cell(value) for key, value in row.items()} for row in crosswalk_rows(catalog)
    )
    header = [" ".join(line.splitlines()) for line in header]
    return "\n".join(header) + "\n" + buffer.getvalue()
