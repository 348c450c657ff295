"""Read and write rater files (YAML, JSON or CSV) with located, one-line errors.

YAML and JSON go through :mod:`ddrisk.io.documents` (duplicate keys, size and depth limits);
CSV is one row per cell with the catalog and rater repeated on every row, so the sheet opens
cleanly in a spreadsheet and can be sorted or filtered without losing who rated what. The
format itself is documented in :mod:`ddrisk.raters.model`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import ValidationError

from ddrisk.catalog.model import Catalog
from ddrisk.errors import InputError
from ddrisk.io.documents import LocatedDocument, read_document, read_text_file, require_mapping
from ddrisk.raters.model import (
    RATER_FILE_FORMAT,
    CatalogRef,
    CellRating,
    RaterFile,
    RaterIdentity,
    RaterPanel,
    make_panel,
    rater_file_problems,
)
from ddrisk.report.escape import csv_cell

CSV_COLUMNS = (
    "technique",
    "failure_mode",
    "level",
    "probability",
    "confidence",
    "rationale",
    "technique_name",
    "failure_mode_name",
    "catalog_id",
    "catalog_version",
    "catalog_sha256",
    "rater_id",
    "rater_name",
)
"""CSV header. ``technique_name`` and ``failure_mode_name`` are for reading; they are ignored."""
_CELL_COLUMNS = ("technique", "failure_mode", "level", "probability", "confidence", "rationale")
_FIX_FORMAT = "see the rater file format in `ddrisk raters template --help`"


def _explain(error: Any) -> tuple[str, str]:
    kind = error["type"]
    field = error["loc"][-1] if error["loc"] else "file"
    if kind == "extra_forbidden":
        return f"unknown key '{field}'", "remove it or correct its spelling"
    if kind == "missing":
        return f"missing required key '{field}'", f"add '{field}'"
    if kind in {"enum", "literal_error"}:
        return (
            f"invalid value {error.get('input')!r}: {error['msg']}",
            "use one of the listed values",
        )
    if kind in {"less_than_equal", "greater_than_equal"}:
        return (
            f"value {error.get('input')!r} out of range: {error['msg'].lower()}",
            "use a value in [0, 1]",
        )
    if kind == "string_pattern_mismatch":
        return (
            f"invalid value {error.get('input')!r}",
            "ids start with a letter; sha256 is 64 hex digits",
        )
    if kind == "string_type":
        return (
            f"expected text, got {error.get('input')!r}",
            "put the value in quotes (YAML reads 2025.10 as a number)",
        )
    return f"{error['msg']} (got {error.get('input')!r})"[:300], "correct the value"


def rater_file_from_document(document: LocatedDocument) -> RaterFile:
    """Validate a parsed YAML/JSON rater document, locating the first problem."""
    data = require_mapping(document, "a rater file", _FIX_FORMAT)
    if data.get("format") != RATER_FILE_FORMAT:
        raise document.error(
            ("format",),
            f"format is {data.get('format')!r}, not '{RATER_FILE_FORMAT}'",
            f"start the file with 'format: {RATER_FILE_FORMAT}'",
        )
    try:
        return RaterFile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        problem, fix = _explain(first)
        raise document.error(tuple(first["loc"]), problem, fix) from None


def _check(rater_file: RaterFile, catalog: Catalog | None, document: LocatedDocument) -> RaterFile:
    if catalog is not None:
        problems = rater_file_problems(rater_file, catalog)
        if problems:
            path, problem, fix = problems[0]
            raise document.error(path, problem, fix)
    return rater_file


def read_rater_file(path: str | Path, *, catalog: Catalog | None = None) -> RaterFile:
    """Read a rater file (``.yaml``/``.yml``/``.json``/``.csv``); check it against ``catalog``.

    Every problem (syntax, unknown key, a cell rated twice, an unknown cell, a file for another
    catalog version) is an :class:`InputError` naming the file and the line.
    """
    path = Path(path)
    if path.suffix.lower() == ".csv":
        rater_file, document = _read_csv(path)
    else:
        document = read_document(path, what="rater file")
        rater_file = rater_file_from_document(document)
    return _check(rater_file, catalog, document)


def parse_rater_text(
    text: str, *, label: str = "<rater file>", catalog: Catalog | None = None
) -> RaterFile:
    """Parse rater-file text already in memory (YAML, JSON or CSV by ``label``'s suffix)."""
    from ddrisk.io.documents import parse_document

    if label.lower().endswith(".csv"):
        rater_file, document = _parse_csv(text, label)
    else:
        fmt = "json" if label.lower().endswith(".json") else "yaml"
        document = parse_document(text, label=label, fmt=fmt)
        rater_file = rater_file_from_document(document)
    return _check(rater_file, catalog, document)


# ---------------------------------------------------------------------------- CSV
def _read_csv(path: Path) -> tuple[RaterFile, LocatedDocument]:
    return _parse_csv(read_text_file(path, what="rater file"), str(path))


_FORMULA_CHARS = "=+-@\t\r\n|%"


def _cell(value: object) -> object:
    """:func:`csv_cell`, made reversible: text that already starts with an apostrophe gets one
    more, so that :func:`_uncell` never eats an apostrophe the rater wrote."""
    if isinstance(value, str) and value.startswith("'"):
        return "'" + value
    return csv_cell(value)


def _uncell(value: str) -> str:
    """Undo :func:`_cell`: drop the one apostrophe it put in front of a formula-like value
    (spreadsheets skip leading spaces before a formula) or of a value that began with one."""
    if len(value) > 1 and value[0] == "'":
        rest = value[1:]
        if rest[0] == "'" or rest.lstrip(" ").startswith(tuple(_FORMULA_CHARS)):
            return rest
    return value


def _parse_csv(text: str, label: str) -> tuple[RaterFile, LocatedDocument]:
    reader = csv.reader(io.StringIO(text))
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise InputError(
            label, f"line {reader.line_num}", f"malformed CSV: {exc}", "fix the quoting"
        ) from None
    if not rows:
        raise InputError(
            label, "line 1", "the file is empty", "write a header row and one row per cell"
        )
    header = [h.strip() for h in rows[0]]
    for required in ("technique", "failure_mode", "catalog_id", "catalog_version", "rater_id"):
        if required not in header:
            raise InputError(
                label,
                "line 1",
                f"missing column '{required}'",
                f"use the header {','.join(CSV_COLUMNS)}",
            )
    repeated = sorted({h for h in header if header.count(h) > 1})
    if repeated:
        # Each row becomes a mapping; a second 'level' column would silently replace the first.
        raise InputError(
            label,
            "line 1",
            f"column '{repeated[0]}' is named twice in the header",
            f"use the header {','.join(CSV_COLUMNS)}",
        )
    unknown = [h for h in header if h not in CSV_COLUMNS]
    if unknown:
        raise InputError(
            label,
            "line 1",
            f"unknown column '{unknown[0]}'",
            f"use columns {','.join(CSV_COLUMNS)}",
        )
    lines: dict[tuple[Any, ...], int] = {}
    ratings: list[dict[str, Any]] = []
    meta: dict[str, tuple[str, int]] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise InputError(
                label,
                f"line {number}",
                f"{len(row)} values for {len(header)} columns",
                "give one value per column",
            )
        record = {h: _uncell(v.strip()) for h, v in zip(header, row, strict=True)}
        for key in ("catalog_id", "catalog_version", "catalog_sha256", "rater_id", "rater_name"):
            value = record.get(key, "")
            if not value:
                continue
            if key in meta and meta[key][0] != value:
                raise InputError(
                    label,
                    f"line {number} (column {key})",
                    f"{key} '{value}' differs from '{meta[key][0]}' on line {meta[key][1]}",
                    "one rater file rates one catalog version, by one rater",
                )
            meta.setdefault(key, (value, number))
        index = len(ratings)
        entry: dict[str, Any] = {}
        for key in _CELL_COLUMNS:
            value = record.get(key, "")
            lines[("ratings", index, key)] = number
            if value == "":
                continue
            if key == "probability":
                try:
                    entry[key] = float(value)
                except ValueError:
                    raise InputError(
                        label,
                        f"line {number} (column probability)",
                        f"'{value}' is not a number",
                        "write a number in [0, 1] or leave it blank",
                    ) from None
            else:
                entry[key] = value
        lines[("ratings", index)] = number
        ratings.append(entry)
    for key in ("catalog_id", "catalog_version", "rater_id"):
        if key not in meta:
            raise InputError(
                label, f"column {key}", f"no row gives '{key}'", f"fill in {key} on every row"
            )
    data: dict[str, Any] = {
        "format": RATER_FILE_FORMAT,
        "catalog": {"id": meta["catalog_id"][0], "version": meta["catalog_version"][0]},
        "rater": {"id": meta["rater_id"][0], "name": meta.get("rater_name", meta["rater_id"])[0]},
        "ratings": ratings,
    }
    if "catalog_sha256" in meta:
        data["catalog"]["sha256"] = meta["catalog_sha256"][0]
        lines[("catalog", "sha256")] = meta["catalog_sha256"][1]
    lines[("catalog", "id")] = meta["catalog_id"][1]
    lines[("catalog", "version")] = meta["catalog_version"][1]
    lines[("rater", "id")] = meta["rater_id"][1]
    document = LocatedDocument(data=data, label=label, lines=lines)
    return rater_file_from_document(document), document


# ---------------------------------------------------------------------------- panels
def load_rater_panel(
    paths: Sequence[str | Path], *, catalog: Catalog | str | Path | None = None
) -> RaterPanel:
    """Read several rater files into a checked :class:`RaterPanel`.

    ``catalog`` may be a Catalog, a path or a built-in name; when omitted, the catalog the
    first file names must be a built-in one.
    """
    from ddrisk.io.catalog import builtin_catalog_names, load_catalog

    if not paths:
        raise InputError("raters", None, "no rater files given", "pass two or more rater files")
    if catalog is None:
        first = read_rater_file(paths[0])
        if first.catalog.id not in builtin_catalog_names():
            raise InputError(
                str(paths[0]),
                "catalog.id",
                f"'{first.catalog.id}' is not a built-in catalog",
                "pass the catalog file it rates (--catalog FILE)",
            )
        catalog = first.catalog.id
    resolved = catalog if isinstance(catalog, Catalog) else load_catalog(catalog)
    files = [read_rater_file(path, catalog=resolved) for path in paths]
    return make_panel(resolved, files, sources=[str(p) for p in paths])


# ---------------------------------------------------------------------------- writing
def rater_template(
    catalog: Catalog,
    *,
    rater_id: str,
    rater_name: str | None = None,
    kind: Literal["expert", "team", "tool", "paper", "illustrative"] = "expert",
) -> RaterFile:
    """A blank sheet: every cell of ``catalog`` listed, none rated."""
    return RaterFile(
        catalog=CatalogRef(id=catalog.id, version=catalog.version, sha256=catalog.content_hash),
        rater=RaterIdentity(id=rater_id, name=rater_name or rater_id, kind=kind),
        ratings=[
            CellRating(technique=t, failure_mode=m)
            for t in catalog.technique_ids
            for m in catalog.failure_mode_ids
        ],
    )


def _yaml_header(catalog: Catalog | None) -> str:
    lines = [
        f"# ddrisk rater file ({RATER_FILE_FORMAT}). Rate each cell independently of other raters.",
        "# level: prone | not_prone | unclear; probability: P(technique fails | mode occurs) in [0, 1];",
        "# confidence: low | medium | high; rationale: your reasons. Leave a cell blank if unsure.",
        "# Check it with: ddrisk raters validate THIS_FILE",
    ]
    if catalog is not None:
        lines.append(f"# Catalog: {catalog.label}")
    return "\n".join(lines) + "\n"


def dump_rater_file(
    rater_file: RaterFile, *, fmt: str = "yaml", catalog: Catalog | None = None
) -> str:
    """Serialise a rater file as ``yaml``, ``json`` or ``csv`` (each reads back identically)."""
    if fmt == "csv":
        return _dump_csv(rater_file, catalog)
    data = rater_file.model_dump(mode="json", exclude_none=True)
    data["ratings"] = [
        {k: v for k, v in r.items() if not (k == "rationale" and v == "")} for r in data["ratings"]
    ]
    if not data.get("note"):
        data.pop("note", None)
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if fmt != "yaml":
        raise InputError(
            "dump_rater_file", "fmt", f"unknown format {fmt!r}", "use yaml, json or csv"
        )
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    return _yaml_header(catalog) + body


def _dump_csv(rater_file: RaterFile, catalog: Catalog | None) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    names_t = {t.id: t.name for t in catalog.techniques} if catalog else {}
    names_m = {m.id: m.name for m in catalog.failure_modes} if catalog else {}
    ref, rater = rater_file.catalog, rater_file.rater
    for r in rater_file.ratings:
        values: list[object] = [
            r.technique,
            r.failure_mode,
            r.level.value if r.level else "",
            "" if r.probability is None else repr(r.probability),
            r.confidence.value if r.confidence else "",
            r.rationale,
            names_t.get(r.technique, ""),
            names_m.get(r.failure_mode, ""),
            ref.id,
            ref.version,
            ref.sha256 or "",
            rater.id,
            rater.name,
        ]
        writer.writerow([_cell(v) for v in values])
    return buffer.getvalue()
