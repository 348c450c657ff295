"""Read catalogs from YAML or JSON and turn every defect into a located, one-line error."""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ddrisk.catalog.checks import catalog_problems
from ddrisk.catalog.model import Catalog
from ddrisk.errors import InputError
from ddrisk.io.documents import (
    MAX_DOCUMENT_BYTES,
    MAX_YAML_BYTES,
    LocatedDocument,
    check_usable_path,
    display_path,
    parse_document,
    read_text_file,
)

DEFAULT_CATALOG = "dung-mai-2025"
_BUILTIN_PACKAGE = "ddrisk.catalog.data"


def builtin_catalog_names() -> list[str]:
    """Names accepted wherever a catalog is asked for.

    >>> "dung-mai-2025" in builtin_catalog_names()
    True
    """
    files = resources.files(_BUILTIN_PACKAGE).iterdir()
    return sorted(f.name.removesuffix(".yaml") for f in files if f.name.endswith(".yaml"))


def _read_text(source: str | Path) -> tuple[str, str]:
    """Resolve a path or built-in name into (label for errors, text), within the size limits."""
    name = str(source)
    path = Path(source)
    if name in builtin_catalog_names() and not _exists(path):
        text = (
            resources.files(_BUILTIN_PACKAGE).joinpath(f"{name}.yaml").read_text(encoding="utf-8")
        )
        return f"built-in catalog {name}", text
    if not _exists(path):
        raise InputError(
            display_path(name),
            None,
            "no such file and no built-in catalog of that name",
            f"pass a path to a .yaml/.json catalog or one of: {', '.join(builtin_catalog_names())}",
        )
    max_bytes = MAX_DOCUMENT_BYTES if path.suffix.lower() == ".json" else MAX_YAML_BYTES
    label = display_path(path)
    return label, read_text_file(path, label=label, max_bytes=max_bytes, what="catalog")


def _exists(path: Path) -> bool:
    """Whether anything is at ``path``; a name the OS refuses (too long, say) is an InputError."""
    return check_usable_path(path).exists()


# ------------------------------------------------------------------ YAML with positions
def _compose(label: str, text: str) -> LocatedDocument:
    """Parse YAML (or JSON) keeping the line of every key path; reject duplicate keys.

    Read through the one located reader (:mod:`ddrisk.io.documents`) with its depth, size and
    alias limits; a ``.json`` file whose text is a JSON object is read as JSON.
    """
    document = parse_document(text, label=label, fmt="auto", allow_empty=True)
    if document.data is None:
        raise InputError(
            label, "line 1", "the file is empty", "write a catalog mapping (see `ddrisk schema`)"
        )
    return document


def _explain(error: Mapping[str, Any], data: Any) -> tuple[str, str]:
    kind = error["type"]
    loc = error["loc"]
    field = loc[-1] if loc else "catalog"
    if kind == "extra_forbidden":
        return f"unknown key '{field}'", "remove it or correct its spelling (see `ddrisk schema`)"
    if kind == "missing":
        return f"missing required key '{field}'", f"add '{field}' (see `ddrisk schema`)"
    if kind in {"less_than_equal", "greater_than_equal", "less_than", "greater_than"}:
        return (
            f"value {error.get('input')!r} out of range: {error['msg'].lower()}",
            "use a value in the allowed range",
        )
    if kind == "string_pattern_mismatch":
        return (
            f"invalid id {error.get('input')!r}",
            "start ids with a letter and use only letters, digits, '_', '-' or '.'",
        )
    if kind in {"enum", "literal_error"}:
        return (
            f"invalid value {error.get('input')!r}: {error['msg']}",
            "use one of the listed values",
        )
    return f"{error['msg']} (got {error.get('input')!r})"[
        :300
    ], "correct the value's type or content"


def parse_catalog(text: str, *, label: str = "<catalog>") -> Catalog:
    """Validate catalog text; raise :class:`InputError` at the first located problem."""
    document = _compose(label, text)
    data = document.data
    if not isinstance(data, dict):
        raise InputError(
            label, "line 1", "a catalog must be a mapping of keys to values", "see `ddrisk schema`"
        )
    try:
        catalog = Catalog.model_validate(data, context={"skip_cross_checks": True})
    except ValidationError as exc:
        first = exc.errors()[0]
        problem, fix = _explain(first, data)
        loc = tuple(
            part
            for part in first["loc"]
            if not (isinstance(part, str) and part.startswith("function-"))
        )
        raise InputError(label, document.where(loc), problem, fix) from None
    problems = catalog_problems(catalog)
    if problems:
        path, problem, fix = problems[0]
        raise InputError(label, document.where(path), problem, fix)
    return catalog


def load_catalog(source: str | Path | None = None) -> Catalog:
    """Load a catalog from a file path or a built-in name (default ``dung-mai-2025``).

    >>> catalog = load_catalog()
    >>> len(catalog.techniques), len(catalog.failure_modes), len(catalog.ratings)
    (7, 7, 49)
    """
    label, text = _read_text(DEFAULT_CATALOG if source is None else source)
    return parse_catalog(text, label=label)


def catalog_json_schema() -> dict[str, Any]:
    """The published JSON Schema of the catalog format."""
    schema = Catalog.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://ddrisk.dev/schema/catalog-1.0.json"
    schema["title"] = "ddrisk catalog"
    return schema


def dump_catalog(catalog: Catalog, *, fmt: str = "yaml") -> str:
    """Serialise a catalog back to YAML or JSON (round-trips through :func:`parse_catalog`)."""
    data = catalog.model_dump(mode="json", exclude_none=True)
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
