"""Read the pinned external taxonomies and their SSSOM mapping sets shipped with ddrisk.

Each framework ``KEY`` has two package-data files in :mod:`ddrisk.catalog.taxonomies`:
``KEY.yaml`` (the taxonomy: its source, version and entry ids/titles) and ``KEY.sssom.tsv``
(an SSSOM mapping set from failure modes to those entries; a row whose ``object_id`` is
``sssom:NoTermFound`` says the mode is not yet mapped to that framework). Both are read
through :mod:`ddrisk.io.documents` (YAML, and the SSSOM metadata block) so malformed data
fails with a located error like any user file.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ddrisk.io.documents import parse_document

PACKAGE = "ddrisk.catalog.taxonomies"
NO_TERM = "sssom:NoTermFound"
SSSOM_REQUIRED = (
    "subject_id",
    "predicate_id",
    "object_id",
    "mapping_justification",
    "author_label",
    "mapping_date",
)


class TaxonomyEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(min_length=1)
    title: str | None = None


class Taxonomy(BaseModel):
    """One pinned external taxonomy: where it comes from, which version, and its entries."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    name: str
    source: str
    version: str
    curie_prefix: str
    uri_prefix: str
    titles_are: str
    entries: list[TaxonomyEntry]

    def curie(self, entry_id: str) -> str:
        return f"{self.curie_prefix}:{entry_id}"

    @property
    def curies(self) -> dict[str, TaxonomyEntry]:
        return {self.curie(e.id): e for e in self.entries}


@dataclass(frozen=True)
class Mapping:
    """One SSSOM row: a failure mode (``mode``) mapped to an entry of a framework."""

    framework: str
    mode: str
    subject_id: str
    predicate_id: str
    object_id: str
    object_label: str
    mapping_justification: str
    author_label: str
    mapping_date: str
    comment: str

    @property
    def mapped(self) -> bool:
        return self.object_id != NO_TERM

    def to_dict(self) -> dict[str, Any]:
        return {
            "framework": self.framework,
            "subject_id": self.subject_id,
            "predicate_id": self.predicate_id,
            "object_id": self.object_id,
            "object_label": self.object_label,
            "mapping_justification": self.mapping_justification,
            "author_label": self.author_label,
            "mapping_date": self.mapping_date,
            "comment": self.comment,
        }


@dataclass(frozen=True)
class MappingSet:
    """An SSSOM mapping set for one framework: metadata block and rows."""

    framework: str
    metadata: dict[str, Any]
    rows: tuple[Mapping, ...]

    def for_mode(self, mode: str) -> list[Mapping]:
        return [row for row in self.rows if row.mode == mode]


def framework_keys() -> list[str]:
    """Keys of every pinned framework (one ``KEY.yaml`` + ``KEY.sssom.tsv`` pair each)."""
    files = [f.name for f in resources.files(PACKAGE).iterdir()]
    return sorted(name.removesuffix(".yaml") for name in files if name.endswith(".yaml"))


def _package_text(name: str) -> str:
    return resources.files(PACKAGE).joinpath(name).read_text(encoding="utf-8")


@cache
def load_taxonomy(key: str) -> Taxonomy:
    """The pinned taxonomy ``key`` (e.g. ``"owasp-llm"``)."""
    label = f"built-in taxonomy {key}"
    document = parse_document(_package_text(f"{key}.yaml"), label=label, fmt="yaml")
    return Taxonomy.model_validate(document.data)


def parse_sssom(text: str, *, framework: str, label: str) -> MappingSet:
    """Parse SSSOM TSV: a ``#``-prefixed YAML metadata block, then a TSV table."""
    meta_lines = [line[1:] for line in text.splitlines() if line.startswith("#")]
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    metadata = parse_document("\n".join(meta_lines), label=label, fmt="yaml").data or {}
    reader = csv.DictReader(io.StringIO(body), delimiter="\t")
    missing = [c for c in SSSOM_REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        from ddrisk.errors import InputError

        raise InputError(label, "header", f"missing SSSOM column(s) {missing}", "add them")
    rows = tuple(
        Mapping(
            framework=framework,
            mode=row["subject_id"].rsplit("/", 1)[-1],
            subject_id=row["subject_id"],
            predicate_id=row["predicate_id"],
            object_id=row["object_id"],
            object_label=row.get("object_label") or "",
            mapping_justification=row["mapping_justification"],
            author_label=row["author_label"],
            mapping_date=row["mapping_date"],
            comment=row.get("comment") or "",
        )
        for row in reader
    )
    return MappingSet(framework=framework, metadata=dict(metadata), rows=rows)


@cache
def load_mapping_set(key: str) -> MappingSet:
    """The pinned SSSOM mapping set for framework ``key``."""
    return parse_sssom(
        _package_text(f"{key}.sssom.tsv"), framework=key, label=f"built-in mapping set {key}"
    )


def mapping_set_text(key: str) -> str:
    """The SSSOM TSV of framework ``key`` exactly as shipped (for export)."""
    return _package_text(f"{key}.sssom.tsv")


def load_all_mappings() -> dict[str, MappingSet]:
    return {key: load_mapping_set(key) for key in framework_keys()}
