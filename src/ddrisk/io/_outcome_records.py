"""Shared plumbing of the stress-result importers (garak, promptfoo, inspect_ai).

Each importer walks its format and calls :class:`OutcomeBuilder`; the builder turns the
collected items and cells into an :class:`~ddrisk.stress.matrix.OutcomeMatrix`. A cell no
importer filled (the layer never judged that item) is NaN with the error "not evaluated",
so it is counted as missing, never as a pass.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ddrisk.errors import InputError
from ddrisk.io.documents import parse_document, read_text_file
from ddrisk.stress.matrix import OutcomeMatrix

NOT_EVALUATED = "not evaluated by this layer"

_TRUE = {"true", "yes", "y", "1", "harmful", "unsafe", "attack", "malicious", "jailbreak"}
_FALSE = {"false", "no", "n", "0", "benign", "safe", "harmless", "control"}


def parse_label(value: Any) -> bool | None:
    """Read a harmful/benign label from metadata; ``None`` when it is not recognisable.

    >>> parse_label("benign"), parse_label(1), parse_label("Unsafe"), parse_label("maybe")
    (False, True, True, None)
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    return None


def check_threshold(threshold: float) -> None:
    """A score threshold must be a finite number: NaN compares false with every score and
    would silently turn every verdict into a pass (or a block)."""
    if not isinstance(threshold, int | float) or not math.isfinite(threshold):
        raise InputError(
            "<options>",
            "threshold",
            f"score threshold {threshold!r} is not a finite number",
            "give a number such as 0.5",
        )


def check_file(path: str | Path) -> Path:
    path = Path(path)
    if not path.exists():
        raise InputError(str(path), None, "no such file", "check the path")
    if not path.is_file():
        raise InputError(str(path), None, "is not a file", "pass the result file itself")
    return path


def unsupported_version(
    label: str, where: str, found: Any, supported: tuple[Any, ...], *, tool: str, kind: str
) -> InputError:
    """The one error for a format version an importer does not understand.

    >>> error = unsupported_version("r.json", "v", 9, (2, 3), tool="promptfoo", kind="output")
    >>> error.problem
    'unsupported output version 9 of promptfoo (this ddrisk reads 2, 3)'
    """
    known = ", ".join(str(v) for v in supported)
    return InputError(
        label,
        where,
        f"unsupported {kind} version {found!r} of {tool} (this ddrisk reads {known})",
        f"write the file with a {tool} release whose format ddrisk supports (the README lists "
        "them), or upgrade ddrisk",
    )


def load_json(path: Path, text: str | bytes, *, label: str | None = None) -> Any:
    """Parse JSON through :mod:`ddrisk.io.documents` (limits, duplicate keys, located errors)."""
    name = label or str(path)
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(
                name, f"byte {exc.start}", "not UTF-8 text", "pass the JSON file"
            ) from None
    return parse_document(text, label=name, fmt="json").data


def read_json_file(path: Path, *, what: str) -> Any:
    """Read and parse a whole JSON result file within the document size limit."""
    return load_json(path, read_text_file(path, what=what))


def lookup(sources: list[dict[str, Any] | None], key: str | None) -> Any:
    """The first non-empty value of ``key`` in a list of dicts (dotted keys walk nested dicts)."""
    if not key:
        return None
    for source in sources:
        value: Any = source
        for part in key.split("."):
            if not isinstance(value, dict) or part not in value:
                value = None
                break
            value = value[part]
        if value not in (None, ""):
            return value
    return None


class LabelKeys:
    """The metadata keys of the labels (family, behavior, harmful) and whether any record has them.

    A key left at its default may be absent from every record (the items then get the default
    label); a key the user named and that no record carries is a typo, and silently labelling
    every item harmful or "unspecified" would change every rate, so :meth:`check` refuses it.
    """

    DEFAULTS: ClassVar[dict[str, str]] = {
        "family_key": "family",
        "behavior_key": "behavior_id",
        "harmful_key": "harmful",
    }

    def __init__(self, **named: str | None) -> None:
        self.named = {option: key for option, key in named.items() if key is not None}
        self.keys = {option: named.get(option) or key for option, key in self.DEFAULTS.items()}
        self._found: set[str] = set()
        self._available: set[str] = set()

    def lookup(self, option: str, sources: list[dict[str, Any] | None]) -> Any:
        """:func:`lookup` of the option's key, remembering that a record carried it."""
        for source in sources:
            if isinstance(source, dict):
                self._available.update(str(k) for k in source)
        value = lookup(sources, self.keys[option])
        if value is not None:
            self._found.add(option)
        return value

    def check(self, source: str, where: str, *, records: str = "record") -> None:
        """Raise for the first named key that no record carried, listing the keys that exist."""
        for option, key in self.named.items():
            if option not in self._found:
                shown = ", ".join(sorted(self._available)[:20]) or "none"
                raise InputError(
                    source,
                    f"{where} ({option})",
                    f"no {records} has the key {key!r}",
                    f"use one of the keys the records have: {shown}",
                )


class OutcomeBuilder:
    """Collect items and (item, layer) verdicts in first-seen order, then build the matrix."""

    def __init__(self, source: str):
        self.source = source
        self._items: dict[str, dict[str, Any]] = {}
        self._layers: dict[str, None] = {}
        self._cells: dict[tuple[str, str], tuple[float, float, str | None]] = {}
        self._item_errors: list[tuple[str, str, str]] = []

    def add_item(
        self,
        item_id: str,
        *,
        family: str,
        behavior_id: str,
        harmful: bool,
        text: str | None = None,
    ) -> None:
        if item_id not in self._items:
            self._items[item_id] = {
                "item_id": item_id,
                "family": family,
                "behavior_id": behavior_id,
                "harmful": bool(harmful),
                "text": text,
            }

    def set(
        self,
        item_id: str,
        layer: str,
        *,
        blocked: bool | None,
        score: float | None = None,
        error: str | None = None,
        where: str | None = None,
    ) -> None:
        """Record one verdict; a second verdict for the same (item, layer) is an error.

        A result repeated inside one file (an edited or concatenated log) would otherwise
        silently replace the first and shrink the item count, or count one judgment twice.
        """
        if (item_id, layer) in self._cells:
            raise InputError(
                self.source,
                where,
                f"item {item_id!r} is judged twice by layer {layer!r}",
                "keep one result per item and layer (pass the file the tool wrote, unedited)",
            )
        if blocked is None and not error:
            error = "no verdict"
        self._layers.setdefault(layer, None)
        value = math.nan if blocked is None else float(blocked)
        clean_score = math.nan if score is None else float(score)
        self._cells[(item_id, layer)] = (value, clean_score, error if blocked is None else None)

    @property
    def n_items(self) -> int:
        return len(self._items)

    @property
    def layers(self) -> list[str]:
        return list(self._layers)

    def item(self, item_id: str) -> dict[str, Any] | None:
        """The labels recorded for an item, or ``None`` when it has not been added."""
        return self._items.get(item_id)

    def has(self, item_id: str, layer: str) -> bool:
        return (item_id, layer) in self._cells

    def error_everywhere(self, item_id: str, message: str, *, layer_prefix: str = "") -> None:
        """Mark an item as errored for every layer (whose name starts with ``layer_prefix``).

        Applied at build time, so layers first seen on later items are covered too; cells
        that hold a verdict keep it.
        """
        self._item_errors.append((item_id, layer_prefix, message))

    def build(self, *, metadata: dict[str, Any], where_empty: str, fix_empty: str) -> OutcomeMatrix:
        for item_id, prefix, message in self._item_errors:
            for layer in [name for name in self._layers if name.startswith(prefix)]:
                if not self.has(item_id, layer):
                    self.set(item_id, layer, blocked=None, error=message)
        if not self._items or not self._layers:
            raise InputError(self.source, None, where_empty, fix_empty)
        items = pd.DataFrame(list(self._items.values()))
        if items["text"].isna().all():
            items = items.drop(columns="text")
        layers = tuple(self._layers)
        shape = (len(items), len(layers))
        blocked = np.full(shape, np.nan)
        score = np.full(shape, np.nan)
        errors = np.full(shape, NOT_EVALUATED, dtype=object)
        row_of = {item_id: i for i, item_id in enumerate(self._items)}
        col_of = {layer: j for j, layer in enumerate(layers)}
        for (item_id, layer), (value, cell_score, error) in self._cells.items():
            i, j = row_of[item_id], col_of[layer]
            blocked[i, j], score[i, j], errors[i, j] = value, cell_score, error
        return OutcomeMatrix(
            items=items,
            layers=layers,
            blocked=blocked,
            score=score,
            errors=errors,
            source=metadata.get("format", self.source),
            metadata=metadata,
        )


def merge_matrices(parts: list[tuple[str, OutcomeMatrix]], *, fmt: str) -> OutcomeMatrix:
    """Join the matrices read from several files of one format into one.

    Items are matched by ``item_id`` and layers by name. An item seen in two files must carry
    the same family, behavior and label, and no (item, layer) cell may be judged twice: a
    verdict counted twice would inflate every rate's precision. Cells no file filled stay
    "not evaluated".
    """
    if len(parts) == 1:
        return parts[0][1]
    builder = OutcomeBuilder(" + ".join(label for label, _ in parts))
    origin: dict[str, str] = {}
    for label, matrix in parts:
        records = matrix.items.to_dict("records")
        for row, record in enumerate(records):
            item_id = str(record["item_id"])
            first = builder.item(item_id)
            if first is not None:
                for key in ("family", "behavior_id", "harmful"):
                    if first[key] != record[key]:
                        raise InputError(
                            label,
                            f"item {item_id}: {key}",
                            f"{record[key]!r} here but {first[key]!r} in {origin[item_id]}",
                            "pass files that agree on the items they share",
                        )
            origin.setdefault(item_id, label)
            text = record.get("text")
            builder.add_item(
                item_id,
                family=str(record["family"]),
                behavior_id=str(record["behavior_id"]),
                harmful=bool(record["harmful"]),
                text=text if isinstance(text, str) else None,
            )
            for column, layer in enumerate(matrix.layers):
                value = matrix.blocked[row, column]
                error = matrix.errors[row, column]
                if error == NOT_EVALUATED:
                    continue
                if builder.has(item_id, layer):
                    raise InputError(
                        label,
                        f"item {item_id}, layer {layer}",
                        f"already judged in {origin[item_id]}",
                        "pass each result file once, and files that judge different items or "
                        "different layers",
                    )
                score = matrix.score[row, column]
                builder.set(
                    item_id,
                    layer,
                    blocked=None if math.isnan(value) else bool(value),
                    score=None if math.isnan(score) else float(score),
                    error=None if error is None else str(error),
                )
    metadata: dict[str, Any] = {
        "format": fmt,
        "files": [label for label, _ in parts],
        "run_id": "+".join(str(m.metadata.get("run_id") or label) for label, m in parts),
        "parts": [m.metadata for _, m in parts],
    }
    return builder.build(
        metadata=metadata, where_empty="no verdicts", fix_empty="pass result files"
    )
