"""One rater's ratings of one catalog, and a panel of raters for the same catalog.

A catalog holds exactly one judgment per cell. To learn where experts disagree, each expert
fills in a *rater file* of their own, independently of the others, for one named catalog
version. The format (``format: ddrisk.raters/1``)::

    format: ddrisk.raters/1
    catalog: {id: dung-mai-2025, version: 2025.10-r1, sha256: e188a9...}   # sha256 optional
    rater: {id: alice, name: Alice Example, kind: expert, note: "..."}
    note: free text about the whole sheet
    ratings:
      - {technique: RLHF, failure_mode: S-TAX, level: not_prone, probability: 0.1,
         confidence: high, rationale: "why"}
      - {technique: RLHF, failure_mode: CAP-DEV}          # blank: not rated

A cell may be left blank (no ``level`` and no ``probability``, or simply absent): missing
data stays missing and every statistic says how many raters rated each cell. A cell with only
a probability gets the level the catalog model derives from it (prone when p >= 0.5).

The models here are pure; :mod:`ddrisk.io.raterfile` reads and writes them with located errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from ddrisk.catalog.model import Catalog, Confidence, Identifier, Level
from ddrisk.errors import InputError

RATER_FILE_FORMAT: Literal["ddrisk.raters/1"] = "ddrisk.raters/1"
LEVEL_ORDER: tuple[Level, ...] = (Level.NOT_PRONE, Level.UNCLEAR, Level.PRONE)
"""The ordinal scale agreement and median pooling use: not prone < unclear < prone."""
LEVEL_CODE = {level: code for code, level in enumerate(LEVEL_ORDER)}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CatalogRef(_Strict):
    """Which catalog (id, version and optionally content hash) a rater file rates."""

    id: Identifier
    version: str = Field(min_length=1)
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")


class RaterIdentity(_Strict):
    id: Identifier
    name: str = Field(min_length=1)
    kind: Literal["expert", "team", "tool", "paper", "illustrative"] = "expert"
    note: str | None = None


class CellRating(_Strict):
    """One rater's judgment of one cell; blank when neither level nor probability is given."""

    technique: Identifier
    failure_mode: Identifier
    level: Level | None = None
    probability: float | None = Field(default=None, ge=0.0, le=1.0)
    confidence: Confidence | None = None
    rationale: str = ""

    @property
    def blank(self) -> bool:
        return self.level is None and self.probability is None

    @property
    def effective_level(self) -> Level | None:
        if self.level is not None:
            return self.level
        if self.probability is None:
            return None
        return Level.PRONE if self.probability >= 0.5 else Level.NOT_PRONE


class RaterFile(_Strict):
    """One rater's sheet for one catalog version."""

    format: Literal["ddrisk.raters/1"] = RATER_FILE_FORMAT
    catalog: CatalogRef
    rater: RaterIdentity
    note: str = ""
    ratings: list[CellRating] = Field(default_factory=list)

    def cell(self, technique: str, failure_mode: str) -> CellRating | None:
        for rating in self.ratings:
            if rating.technique == technique and rating.failure_mode == failure_mode:
                return rating
        return None


Problem = tuple[tuple[Any, ...], str, str]


def rater_file_problems(rater_file: RaterFile, catalog: Catalog) -> list[Problem]:
    """Everything that stops ``rater_file`` from rating ``catalog``: (key path, problem, fix).

    A file for another catalog id, version or content hash, unknown techniques or failure modes
    and a cell rated twice are problems; blank or absent cells are not.
    """
    problems: list[Problem] = []
    ref = rater_file.catalog
    if ref.id != catalog.id:
        problems.append(
            (
                ("catalog", "id"),
                f"rates catalog '{ref.id}', not '{catalog.id}'",
                f"rate catalog '{catalog.id}' or pass the catalog this file was made for",
            )
        )
    elif ref.version != catalog.version:
        problems.append(
            (
                ("catalog", "version"),
                f"rates version '{ref.version}' of '{catalog.id}', not '{catalog.version}'",
                "re-rate the current version (`ddrisk raters template`) or pass the matching catalog",
            )
        )
    elif ref.sha256 is not None and ref.sha256 != catalog.content_hash:
        problems.append(
            (
                ("catalog", "sha256"),
                f"was made for content sha256:{ref.sha256[:12]}, but the catalog is "
                f"sha256:{catalog.content_hash[:12]} (edited without a new version?)",
                "re-rate the current catalog or pass the catalog this file was made for",
            )
        )
    techniques, modes = set(catalog.technique_ids), set(catalog.failure_mode_ids)
    seen: dict[tuple[str, str], int] = {}
    for index, rating in enumerate(rater_file.ratings):
        if rating.technique not in techniques:
            problems.append(
                (
                    ("ratings", index, "technique"),
                    f"unknown technique '{rating.technique}'",
                    f"use one of {', '.join(catalog.technique_ids)}",
                )
            )
            continue
        if rating.failure_mode not in modes:
            problems.append(
                (
                    ("ratings", index, "failure_mode"),
                    f"unknown failure mode '{rating.failure_mode}'",
                    f"use one of {', '.join(catalog.failure_mode_ids)}",
                )
            )
            continue
        key = (rating.technique, rating.failure_mode)
        if key in seen:
            problems.append(
                (
                    ("ratings", index),
                    f"cell {key[0]} x {key[1]} is rated twice (also ratings[{seen[key]}])",
                    "keep one rating per cell",
                )
            )
            continue
        seen[key] = index
    return problems


@dataclass(frozen=True)
class RaterCoverage:
    """How much of the catalog one rater file rates."""

    rater: str
    source: str
    rated: int
    cells: int
    blank_cells: tuple[tuple[str, str], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rater": self.rater,
            "source": self.source,
            "rated": self.rated,
            "cells": self.cells,
            "blank_cells": [{"technique": t, "failure_mode": f} for t, f in self.blank_cells],
        }


@dataclass(frozen=True)
class RaterPanel:
    """Several raters' files for one catalog, checked, with matrices over cells.

    Cells are in catalog order (techniques, then failure modes). Build one with
    :func:`make_panel`; every analysis in :mod:`ddrisk.raters` takes a panel.
    """

    catalog: Catalog
    files: tuple[RaterFile, ...]
    sources: tuple[str, ...]

    @property
    def rater_ids(self) -> tuple[str, ...]:
        return tuple(f.rater.id for f in self.files)

    @property
    def cells(self) -> tuple[tuple[str, str], ...]:
        return tuple(
            (t, m) for t in self.catalog.technique_ids for m in self.catalog.failure_mode_ids
        )

    def rating(self, rater_index: int, cell: tuple[str, str]) -> CellRating | None:
        found = self.files[rater_index].cell(*cell)
        return None if found is None or found.blank else found

    def level_codes(self) -> np.ndarray:
        """Raters x cells: 0 not prone, 1 unclear, 2 prone, NaN blank (the ordinal scale)."""
        out = np.full((len(self.files), len(self.cells)), np.nan)
        for r in range(len(self.files)):
            for c, cell in enumerate(self.cells):
                rating = self.rating(r, cell)
                if rating is not None and rating.effective_level is not None:
                    out[r, c] = LEVEL_CODE[rating.effective_level]
        return out

    def stated_probabilities(self) -> np.ndarray:
        """Raters x cells: the probability a rater wrote, NaN where they gave none."""
        out = np.full((len(self.files), len(self.cells)), np.nan)
        for r in range(len(self.files)):
            for c, cell in enumerate(self.cells):
                rating = self.rating(r, cell)
                if rating is not None and rating.probability is not None:
                    out[r, c] = rating.probability
        return out

    def coverage(self) -> tuple[RaterCoverage, ...]:
        rows = []
        for r, rater_file in enumerate(self.files):
            blank = tuple(cell for cell in self.cells if self.rating(r, cell) is None)
            rows.append(
                RaterCoverage(
                    rater_file.rater.id,
                    self.sources[r],
                    len(self.cells) - len(blank),
                    len(self.cells),
                    blank,
                )
            )
        return tuple(rows)

    def without(self, rater_id: str) -> RaterPanel:
        """The panel with one rater left out (leave-one-out)."""
        keep = [i for i, f in enumerate(self.files) if f.rater.id != rater_id]
        return RaterPanel(
            self.catalog,
            tuple(self.files[i] for i in keep),
            tuple(self.sources[i] for i in keep),
        )

    def input_hash(self) -> str:
        """SHA-256 over the catalog hash and every rater file's canonical JSON."""
        import hashlib

        from ddrisk._hashing import canonical_json

        digest = hashlib.sha256(self.catalog.content_hash.encode())
        for rater_file in self.files:
            digest.update(canonical_json(rater_file.model_dump(mode="json")).encode())
        return digest.hexdigest()

    def provenance(self) -> dict[str, Any]:
        return {
            "catalog": {"label": self.catalog.label, "sha256": self.catalog.content_hash},
            "raters": list(self.rater_ids),
            "sources": list(self.sources),
            "input_sha256": self.input_hash(),
        }


def make_panel(
    catalog: Catalog, files: Sequence[RaterFile], *, sources: Sequence[str] | None = None
) -> RaterPanel:
    """Check rater files against ``catalog`` and against each other; return a panel.

    Raises :class:`InputError` naming the file for the first problem (a file for another
    catalog, an unknown or duplicate cell, a file that rates no cell, two files with one
    rater id, fewer than 2 raters).
    """
    labels = list(sources) if sources is not None else [f"raters[{i}]" for i in range(len(files))]
    if len(labels) != len(files):
        raise InputError("make_panel", "sources", "one source label per file is needed", None)
    if len(files) < 2:
        raise InputError(
            labels[0] if labels else "raters",
            None,
            f"{len(files)} rater file(s) given; agreement and pooling need at least 2",
            "pass two or more rater files",
        )
    seen: dict[str, str] = {}
    for label, rater_file in zip(labels, files, strict=True):
        problems = rater_file_problems(rater_file, catalog)
        if problems:
            path, problem, fix = problems[0]
            raise InputError(label, _key_path(path), problem, fix)
        if all(rating.blank for rating in rater_file.ratings):
            # An unfilled template would join the panel as an all-unclear "own view" and show
            # as a dissenting rater in every comparison; it is almost surely the wrong file.
            raise InputError(
                label,
                "ratings",
                "the file rates no cell (every rating is blank)",
                "fill in at least one cell's level or probability, or leave this file out",
            )
        rid = rater_file.rater.id
        if rid in seen:
            raise InputError(
                label,
                "rater.id",
                f"rater id '{rid}' is also used by {seen[rid]}",
                "give each rater file its own rater id",
            )
        seen[rid] = label
    return RaterPanel(catalog, tuple(files), tuple(labels))


def _key_path(path: tuple[Any, ...]) -> str:
    """``("ratings", 3, "technique")`` -> ``"ratings[3].technique"``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out
