"""The catalog data model: techniques, failure modes and one rating per cell.

A catalog is the unit every analysis consumes. It is validated once, at the
boundary (:mod:`ddrisk.io.catalog`), so analysis code can trust it: ids are
unique, every technique x failure-mode cell is rated exactly once, and every
rating names a declared rater.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Final, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationInfo, model_validator

from ddrisk._hashing import object_sha256

ID_PATTERN = r"^[A-Za-z][A-Za-z0-9_.-]*$"
SCHEMA_VERSION: Final = "1.0"

Identifier = Annotated[
    str,
    Field(
        pattern=ID_PATTERN,
        max_length=64,
        description="Stable, human-readable id: a letter, then letters, digits, '_', '-' or '.'.",
    ),
]


class Level(StrEnum):
    """The paper's ternary coding of a cell."""

    PRONE = "prone"  # the paper's ✗
    NOT_PRONE = "not_prone"  # the paper's ✓
    UNCLEAR = "unclear"  # the paper's ?

    @property
    def symbol(self) -> str:
        return {"prone": "✗", "not_prone": "✓", "unclear": "?"}[self.value]


class SafetyTax(StrEnum):
    """How much capability or cost a technique gives up for safety."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    UNCLEAR = "unclear"

    @property
    def rank(self) -> float:
        """Order used to break ties between stacks: cheaper first, unclear between."""
        return {"low": 1.0, "medium": 2.0, "unclear": 2.5, "high": 3.0}[self.value]


class Confidence(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class Reference(_Strict):
    """A citable source; ``key`` lets ratings point at it."""

    key: Identifier
    citation: str = Field(min_length=1)
    url: str | None = None


class Crosswalk(_Strict):
    """One SSSOM-style mapping from a failure mode to an external taxonomy entry."""

    object_id: str = Field(
        min_length=1,
        description="CURIE in an external scheme, e.g. 'mit-airr:7.1', 'nist-ai-rmf:MEASURE-2.7', "
        "'eu-ai-act:art55'.",
    )
    predicate: Literal[
        "skos:exactMatch",
        "skos:closeMatch",
        "skos:relatedMatch",
        "skos:broadMatch",
        "skos:narrowMatch",
    ] = "skos:relatedMatch"
    justification: str = Field(
        default="semapv:ManualMappingCuration",
        description="SSSOM mapping_justification.",
    )
    author: str | None = None
    comment: str | None = None


class Rater(_Strict):
    id: Identifier
    name: str = Field(min_length=1)
    kind: Literal["paper", "expert", "team", "tool", "derived"] = "expert"
    note: str | None = None


class Technique(_Strict):
    id: Identifier
    name: str = Field(min_length=1)
    category: str = Field(min_length=1)
    safety_tax: SafetyTax
    safety_tax_basis: Literal["stated", "inferred", "unclear", "assumed"] = "stated"
    description: str = ""
    references: list[str] = Field(default_factory=list, description="Keys of catalog references.")


class FailureMode(_Strict):
    id: Identifier
    name: str = Field(min_length=1)
    definition: str = ""
    references: list[str] = Field(default_factory=list)
    crosswalks: list[Crosswalk] = Field(default_factory=list)


class Provenance(_Strict):
    """Where a rating comes from and how well it is corroborated."""

    sources: list[str] = Field(default_factory=list, description="Reference keys or free text.")
    corroboration: Literal["quoted", "multi-source", "single-source", "inferred", "original"] = (
        "original"
    )
    note: str | None = None


class Rating(_Strict):
    """One technique x failure-mode judgment.

    ``level`` drives the structural analysis; ``probability`` (P(technique fails |
    mode occurs)) drives the quantitative one. A cell may give either or both;
    with only a probability, the level is derived (``prone`` when p >= 0.5).
    """

    technique: Identifier
    failure_mode: Identifier
    level: Level | None = None
    probability: float | None = Field(default=None, ge=0.0, le=1.0)
    rater: Identifier
    confidence: Confidence = Confidence.MEDIUM
    rationale: str = ""
    rationale_author: Literal["paper", "ddrisk", "rater"] = Field(
        default="rater",
        description="Whose words the rationale is: quoted from the paper, written by ddrisk's "
        "maintainers, or the rater's own.",
    )
    provenance: Provenance = Field(default_factory=Provenance)

    @model_validator(mode="after")
    def _level_or_probability(self) -> Rating:
        if self.level is None and self.probability is None:
            raise ValueError(
                "a rating needs a 'level' (prone/not_prone/unclear) or a 'probability'"
            )
        return self

    @property
    def effective_level(self) -> Level:
        if self.level is not None:
            return self.level
        assert self.probability is not None
        return Level.PRONE if self.probability >= 0.5 else Level.NOT_PRONE


class Catalog(_Strict):
    """A versioned technique x failure-mode matrix with provenance."""

    schema_version: Literal["1.0"] = SCHEMA_VERSION
    id: Identifier
    version: str = Field(min_length=1)
    title: str = Field(min_length=1)
    description: str = ""
    license: str | None = None
    citation: str | None = None
    references: list[Reference] = Field(default_factory=list)
    raters: list[Rater] = Field(min_length=1)
    techniques: list[Technique] = Field(min_length=1)
    failure_modes: list[FailureMode] = Field(min_length=1)
    ratings: list[Rating]

    _cells: dict[tuple[str, str], Rating] = PrivateAttr(default_factory=dict)
    _hash: str | None = PrivateAttr(default=None)

    def model_post_init(self, __context: object) -> None:
        self._cells = {(r.technique, r.failure_mode): r for r in self.ratings}

    # Cross-reference checks live in the loader so that errors can point at lines;
    # this validator is the backstop for catalogs built in Python.
    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> Catalog:
        from ddrisk.catalog.checks import catalog_problems

        if info.context and info.context.get("skip_cross_checks"):
            return self
        problems = catalog_problems(self)
        if problems:
            path, message, _fix = problems[0]
            raise ValueError(f"{'.'.join(map(str, path))}: {message}")
        return self

    # ------------------------------------------------------------------ views
    @property
    def technique_ids(self) -> list[str]:
        return [t.id for t in self.techniques]

    @property
    def failure_mode_ids(self) -> list[str]:
        return [f.id for f in self.failure_modes]

    def technique(self, technique_id: str) -> Technique:
        for t in self.techniques:
            if t.id == technique_id:
                return t
        raise KeyError(technique_id)

    def failure_mode(self, failure_mode_id: str) -> FailureMode:
        for f in self.failure_modes:
            if f.id == failure_mode_id:
                return f
        raise KeyError(failure_mode_id)

    def rating(self, technique_id: str, failure_mode_id: str) -> Rating:
        return self._cells[(technique_id, failure_mode_id)]

    def level_matrix(self) -> list[list[Level]]:
        """Levels as rows of techniques, columns of failure modes (catalog order)."""
        return [
            [self.rating(t, f).effective_level for f in self.failure_mode_ids]
            for t in self.technique_ids
        ]

    def level_codes(self) -> np.ndarray:
        """Integer matrix: 1 prone, 0 not prone, -1 unclear (techniques x failure modes)."""
        code = {Level.PRONE: 1, Level.NOT_PRONE: 0, Level.UNCLEAR: -1}
        return np.array([[code[v] for v in row] for row in self.level_matrix()], dtype=np.int8)

    def with_levels(self, changes: dict[tuple[str, str], Level]) -> Catalog:
        """A copy with some cells' levels replaced (used by sensitivity analysis)."""
        ratings = [
            r.model_copy(update={"level": changes[(r.technique, r.failure_mode)]})
            if (r.technique, r.failure_mode) in changes
            else r
            for r in self.ratings
        ]
        # Rebuild rather than model_copy so the copy is validated and its caches are fresh.
        return type(self)(**{**dict(self), "ratings": ratings})

    @property
    def content_hash(self) -> str:
        """SHA-256 of the canonical JSON form: the 'input hash' every report cites."""
        if self._hash is None:
            self._hash = object_sha256(self.model_dump(mode="json"))
        return self._hash

    @property
    def label(self) -> str:
        return f"{self.id}@{self.version} (sha256:{self.content_hash[:12]})"
