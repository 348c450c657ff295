"""Read a user's items file (JSONL, a JSON list, or CSV/TSV) into a stress dataset.

Columns: ``text`` (required), ``label`` or ``harmful`` (required; harmful/benign, 1/0,
true/false), and optionally ``item_id``, ``family``, ``behavior_id`` and ``role``; the rows are
validated by :func:`ddrisk.stress.datasets.items_from_records`. Every defect is one located
line: binary or non-UTF-8 bytes, files over :data:`MAX_ITEMS_FILE_BYTES`, lines or CSV fields
over :data:`MAX_RECORD_CHARS`, duplicate keys and over-deep JSON (through
:mod:`ddrisk.io.documents`).
"""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path
from typing import Any

from ddrisk.errors import InputError
from ddrisk.io.documents import (
    check_usable_path,
    decode_text,
    display_path,
    parse_document,
    read_bytes_file,
)
from ddrisk.stress.items import ITEM_COLUMNS, StressDataset, items_from_records

MAX_ITEMS_FILE_BYTES = 256 * 1024 * 1024
"""Largest items file read (256 MiB): millions of prompts, still well within memory."""
MAX_RECORD_CHARS = 4 * 1024 * 1024
"""Longest JSONL line or CSV field (4 Mi characters): room for many-shot prompts, not more."""


def _jsonl_records(content: str, source: str) -> list[tuple[str, Any]]:
    records: list[tuple[str, Any]] = []
    for number, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"line {number}"
        if len(line) > MAX_RECORD_CHARS:
            raise InputError(
                source,
                where,
                f"line is {len(line):,} characters, over the {MAX_RECORD_CHARS:,} limit",
                "shorten the item or split the file",
            )
        try:
            value = parse_document(line, label=source, fmt="json").data
        except InputError as error:
            problem = error.problem.replace("malformed JSON: ", "")
            raise InputError(
                source, where, f"not valid JSON ({problem})", "write one JSON object per line"
            ) from None
        records.append((where, value))
    return records


def _json_array_records(content: str, source: str) -> list[tuple[str, Any]]:
    """A ``.json`` file holding one list of items (``[{"text": ..., "label": ...}, ...]``)."""
    document = parse_document(content, label=source, fmt="json")
    assert isinstance(document.data, list)  # the caller saw '[' first; JSON then gives a list
    return [(document.where((index,)), row) for index, row in enumerate(document.data)]


def _csv_records(content: str, source: str, delimiter: str) -> list[tuple[str, Any]]:
    records: list[tuple[str, Any]] = []
    previous_limit = csv.field_size_limit(MAX_RECORD_CHARS)
    try:
        reader = csv.DictReader(io.StringIO(content, newline=""), delimiter=delimiter)
        try:
            header = reader.fieldnames or []
            if "text" not in header and "prompt" not in header:
                raise InputError(
                    source,
                    "line 1",
                    f"no 'text' column in header {header[:20]}"[:300],
                    "name the prompt column 'text'",
                )
            repeated = sorted({name for name in header if header.count(name) > 1})
            if repeated:
                # DictReader would keep the last copy silently: 'label' given twice could
                # turn a harmful item benign without a word.
                raise InputError(
                    source,
                    "line 1",
                    f"column {repeated[0]!r} is named twice in the header"[:300],
                    "keep one column per name",
                )
            for number, row in enumerate(reader, start=2):
                if None in row:
                    raise InputError(
                        source,
                        f"line {number}",
                        "more fields than header columns",
                        "quote fields that contain commas",
                    )
                records.append(
                    (f"line {number}", {k: v for k, v in row.items() if k in ITEM_COLUMNS})
                )
        except csv.Error as error:
            problem = str(error)
            if "field larger than field limit" in problem:
                problem = f"a field is longer than the {MAX_RECORD_CHARS:,}-character limit"
            raise InputError(
                source,
                f"line {reader.line_num + 1}",  # the line being read when it failed
                f"malformed CSV ({problem})",
                "check the quoting of that row, or use JSONL for very long texts",
            ) from None
    finally:
        csv.field_size_limit(previous_limit)
    return records


def read_items_file(path: str | Path) -> StressDataset:
    """Read user items from JSONL (one object per line), a JSON list, or CSV/TSV (header row).

    Columns: ``text`` (required), ``label`` or ``harmful`` (required;
    harmful/benign, 1/0, true/false), and optionally ``item_id``, ``family``,
    ``behavior_id`` (defaults to the item id, i.e. every item its own behavior)
    and ``role`` (user/assistant). The file is at most :data:`MAX_ITEMS_FILE_BYTES`, a
    line or field at most :data:`MAX_RECORD_CHARS`; binary or non-UTF-8 files, duplicate
    keys and over-deep JSON are refused with the line they are on.
    """
    source = display_path(path)
    path = check_usable_path(path, label=source)
    if not path.exists():
        raise InputError(
            source, None, "file not found", "pass an existing .jsonl or .csv file to --data"
        )
    suffix = path.suffix.lower()
    if suffix not in (".jsonl", ".ndjson", ".json", ".csv", ".tsv"):
        raise InputError(
            source, None, f"unsupported file type '{suffix}'", "use .jsonl, .json or .csv"
        )
    raw = read_bytes_file(path, label=source, max_bytes=MAX_ITEMS_FILE_BYTES, what="items file")
    content = decode_text(raw, label=source, what="items file")
    if suffix == ".json" and content.lstrip().startswith("["):
        records = _json_array_records(content, source)
    elif suffix in (".jsonl", ".ndjson", ".json"):
        records = _jsonl_records(content, source)
    else:
        records = _csv_records(content, source, "\t" if suffix == ".tsv" else ",")
    items = items_from_records(records, source=source)
    return StressDataset(
        name=path.name,
        items=tuple(items),
        seed=None,
        files={str(path.resolve()): hashlib.sha256(raw).hexdigest()},
        description=f"user items from {path.name}",
    )
