"""Catalogs: techniques, failure modes and the rated matrix between them.

This package is the pure data model (pydantic) and its cross-checks. Reading catalogs from files
or from the built-in data lives at the boundary, in :mod:`ddrisk.io.catalog`
(``load_catalog``, ``parse_catalog``, ``dump_catalog``, ``catalog_json_schema``).
"""

from ddrisk.catalog.model import (
    Catalog,
    Confidence,
    Crosswalk,
    FailureMode,
    Level,
    Provenance,
    Rater,
    Rating,
    Reference,
    SafetyTax,
    Technique,
)

__all__ = [
    "Catalog",
    "Confidence",
    "Crosswalk",
    "FailureMode",
    "Level",
    "Provenance",
    "Rater",
    "Rating",
    "Reference",
    "SafetyTax",
    "Technique",
]
