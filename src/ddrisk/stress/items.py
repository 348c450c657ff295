"""The stress-test item model: items, datasets and validation of user rows.

Pure data and checks, no file access, so readers (:mod:`ddrisk.io.items`), the runner and the
statistics can all depend on it; :mod:`ddrisk.stress.datasets` assembles the built-in experiment.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ddrisk.errors import InputError
from ddrisk.stress.layer import Item

#: The fewest calibration items kept when a dataset is sliced.
MIN_SLICED_CALIBRATION = 60


@dataclass(frozen=True)
class StressDataset:
    """Items plus the provenance a manifest needs.

    ``files`` maps each data file read (``package:relative/path`` or a user path)
    to its SHA-256; ``content_sha256`` hashes the items themselves (ids, texts,
    labels, families, behaviors) so two runs on the same items can be matched.
    """

    name: str
    items: tuple[Item, ...]
    seed: int | None
    files: dict[str, str] = field(default_factory=dict)
    packages: dict[str, str | None] = field(default_factory=dict)
    description: str = ""
    #: Benign items kept apart from the test items, for setting operating points.
    calibration: tuple[Item, ...] = ()

    @property
    def content_sha256(self) -> str:
        digest = hashlib.sha256()
        for item in self.items:
            record = [
                item.item_id,
                item.family,
                item.behavior_id,
                item.harmful,
                item.role,
                item.text_sha256,
            ]
            if item.template_id:
                record.append(item.template_id)
            digest.update(json.dumps(record).encode())
        return digest.hexdigest()

    def to_frame(self) -> pd.DataFrame:
        """One row per item: item_id, family, behavior_id, harmful, role, source, text."""
        return pd.DataFrame(
            [
                {
                    "item_id": i.item_id,
                    "family": i.family,
                    "behavior_id": i.behavior_id,
                    "harmful": i.harmful,
                    "role": i.role,
                    "source": i.source,
                    "text": i.text,
                }
                for i in self.items
            ]
        )

    def to_dict(self) -> dict[str, Any]:
        """Summary with keys name, seed, n_items, n_harmful, n_benign, families, files, packages, content_sha256."""
        families: dict[str, int] = {}
        for item in self.items:
            families[item.family] = families.get(item.family, 0) + 1
        n_harmful = sum(item.harmful for item in self.items)
        return {
            "name": self.name,
            "description": self.description,
            "seed": self.seed,
            "n_items": len(self.items),
            "n_harmful": n_harmful,
            "n_benign": len(self.items) - n_harmful,
            "families": families,
            "files": dict(self.files),
            "packages": dict(self.packages),
            "content_sha256": self.content_sha256,
            "n_templates": len({item.template_id for item in self.items if item.template_id}),
            "calibration_items": len(self.calibration),
        }

    def sliced(self, limit: int | None, *, seed: int = 0) -> StressDataset:
        """A small, family-balanced subset (round-robin over families, seeded order)."""
        if limit is None or limit >= len(self.items):
            return self
        return StressDataset(
            name=f"{self.name}[slice {limit}]",
            items=tuple(stratified_slice(self.items, limit, seed=seed)),
            seed=self.seed,
            files=self.files,
            packages=self.packages,
            description=self.description,
            calibration=self.calibration[: max(MIN_SLICED_CALIBRATION, limit)],
        )


def stratified_slice(items: Sequence[Item], limit: int, *, seed: int = 0) -> list[Item]:
    """Take ``limit`` items, cycling over families so every family is represented.

    Within a family the order is a seeded shuffle; the result keeps the input order.

    >>> pool = [Item(f"{f}{i}", "x", family=f) for f in "ab" for i in range(5)]
    >>> sorted({item.family for item in stratified_slice(pool, 2)})
    ['a', 'b']
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    rng = np.random.default_rng(seed)
    by_family: dict[str, list[int]] = {}
    for index, item in enumerate(items):
        by_family.setdefault(item.family, []).append(index)
    queues = [list(rng.permutation(indices)) for _, indices in sorted(by_family.items())]
    chosen: list[int] = []
    while len(chosen) < limit and any(queues):
        for queue in queues:
            if queue and len(chosen) < limit:
                chosen.append(int(queue.pop(0)))
    return [items[i] for i in sorted(chosen)]


_TRUE = {"1", "true", "yes", "harmful", "unsafe", "malicious", "attack"}
_FALSE = {"0", "false", "no", "benign", "safe", "harmless"}
ITEM_COLUMNS = {
    "item_id",
    "id",
    "text",
    "prompt",
    "family",
    "behavior_id",
    "label",
    "harmful",
    "role",
}


def _parse_label(value: Any, *, source: str, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InputError(
        source,
        where,
        f"label {value!r} is neither harmful nor benign",
        "use harmful/benign, 1/0 or true/false",
    )


def _kind(value: Any) -> str:
    """A JSON value's kind in words, for an error message."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


def items_from_records(records: Iterable[tuple[str, dict[str, Any]]], *, source: str) -> list[Item]:
    """Validate ``(location, row)`` pairs into items; every problem names its row."""
    items: list[Item] = []
    seen: dict[str, str] = {}
    for where, row in records:
        if not isinstance(row, dict):
            raise InputError(
                source, where, "each row must be an object", 'write {"text": ..., "label": ...}'
            )
        text = row.get("text", row.get("prompt"))
        if text is not None and not isinstance(text, str):
            raise InputError(
                source,
                where,
                f"text must be a string (got {_kind(text)})",
                'quote the text, e.g. "text": "123"',
            )
        if not isinstance(text, str) or not text.strip():
            raise InputError(
                source, where, "missing or empty 'text'", "give every row a non-empty text"
            )
        label_key = "harmful" if "harmful" in row else "label" if "label" in row else None
        if label_key is None or row[label_key] in (None, ""):
            raise InputError(
                source, where, "missing label", "add a 'label' (harmful/benign) or 'harmful' column"
            )
        harmful = _parse_label(
            row[label_key], source=source, where=f"{where}, column '{label_key}'"
        )
        item_id = str(row.get("item_id", row.get("id")) or f"row-{len(items) + 1}")
        if item_id in seen:
            raise InputError(
                source,
                where,
                f"item_id '{item_id}' already used at {seen[item_id]}",
                "make item ids unique",
            )
        seen[item_id] = where
        role = str(row.get("role") or "user")
        if role not in ("user", "assistant"):
            raise InputError(
                source,
                f"{where}, column 'role'",
                f"role {role!r} is not user/assistant",
                "use user (prompts) or assistant (responses)",
            )
        family = str(row.get("family") or "unspecified")
        behavior = str(row.get("behavior_id") or item_id)
        items.append(Item(item_id, text, family, behavior, harmful, role, source=source))  # type: ignore[arg-type]
    if not items:
        raise InputError(source, None, "no items", "add at least one row with text and label")
    return items
