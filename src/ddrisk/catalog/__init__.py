"""Catalogs: techniques, failure modes and the rated matrix between them."""

from ddrisk.catalog.loader import (
    DEFAULT_CATALOG,
    builtin_catalog_names,
    catalog_json_schema,
    dump_catalog,
    load_catalog,
    parse_catalog,
)
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
    "DEFAULT_CATALOG",
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
    "builtin_catalog_names",
    "catalog_json_schema",
    "dump_catalog",
    "load_catalog",
    "parse_catalog",
]
