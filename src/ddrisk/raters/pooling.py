"""Pool several raters' judgments into one ordinary catalog, under named rules side by side.

Rules (``POOLING_RULES``):

``majority``
    the most frequent level; a tie between levels becomes ``unclear`` and is reported;
``median``
    the ordinal median on not prone < unclear < prone; with an even number of raters whose two
    middle levels differ, the tie becomes ``unclear`` and is reported;
``mean_probability``
    the arithmetic mean of the raters' probabilities (linear opinion pool);
``geometric_odds``
    the geometric mean of the odds, optionally extremised: pooled odds =
    (prod odds_i)^(a / n) with extremising factor ``a`` (1 = plain geometric mean; > 1 pushes
    away from 0.5, which corrects the under-confidence of averaged forecasts);
``any_prone``
    prone if any rater says prone, else unclear if any says unclear, else not prone: the
    cautious reading for safety.

Level rules give each pooled cell a ``level``; probability rules give a ``probability`` (whose
level is derived, prone when p >= 0.5). A rater who gave only a level contributes that level's
default probability (:data:`ddrisk.risk.parameters.DEFAULT_P`: 0.9 prone, 0.5 unclear, 0.05 not
prone) to the probability rules, and the pooled cell says so. Blank cells are left out of their
cell's pool; a cell no rater rated becomes ``unclear`` with low confidence, labelled as such.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ddrisk.__version__ import __version__
from ddrisk.catalog.model import Catalog, Confidence, Level, Provenance, Rater, Rating
from ddrisk.raters.model import LEVEL_CODE, LEVEL_ORDER, RaterPanel

POOLING_RULES = ("majority", "median", "mean_probability", "geometric_odds", "any_prone")
LEVEL_RULES = frozenset({"majority", "median", "any_prone"})
DEFAULT_RULE = "median"
"""The reference pooled view (the ordinal median is robust to one outlying rater)."""
DEFAULT_EXTREMIZE = 1.0
ODDS_CLIP = 1e-6
"""Probabilities 0 and 1 are clipped to [1e-6, 1 - 1e-6] before taking odds (finite odds)."""
_CONFIDENCE_ORDER = (Confidence.LOW, Confidence.MEDIUM, Confidence.HIGH)


@dataclass(frozen=True)
class PooledCell:
    technique: str
    failure_mode: str
    level: Level | None
    probability: float | None
    raters: tuple[str, ...]
    tie: tuple[str, ...]  # tied levels, empty when none
    inputs: dict[str, str]  # rater -> what they contributed, in words
    note: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "technique": self.technique,
            "failure_mode": self.failure_mode,
            "level": None if self.level is None else self.level.value,
            "probability": self.probability,
            "raters": list(self.raters),
            "tie": list(self.tie),
            "inputs": self.inputs,
            "note": self.note,
        }


@dataclass(frozen=True)
class PooledCatalog:
    """The pooled judgments of one rule and the ordinary catalog they make."""

    rule: str
    extremize: float
    raters: tuple[str, ...]
    cells: tuple[PooledCell, ...]
    catalog: Catalog
    input_sha256: str

    @property
    def ties(self) -> list[PooledCell]:
        return [c for c in self.cells if c.tie]

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "ddrisk.raters.pool/1",
            "ddrisk_version": __version__,
            "rule": self.rule,
            "extremize": self.extremize,
            "raters": list(self.raters),
            "input_sha256": self.input_sha256,
            "catalog": {"label": self.catalog.label, "sha256": self.catalog.content_hash},
            "ties": [f"{c.technique}:{c.failure_mode}" for c in self.ties],
            "cells": [c.to_dict() for c in self.cells],
        }

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([c.to_dict() for c in self.cells])


def _default_p() -> dict[Level, float]:
    from ddrisk.risk.parameters import DEFAULT_P

    return dict(DEFAULT_P)


def rater_values(panel: RaterPanel, cell: tuple[str, str]) -> list[tuple[str, Level, float, bool]]:
    """Each rater who rated ``cell``: (rater, level, probability, probability was stated)."""
    defaults = _default_p()
    out = []
    for r, rater in enumerate(panel.rater_ids):
        rating = panel.rating(r, cell)
        if rating is None or rating.effective_level is None:
            continue
        level = rating.effective_level
        if rating.probability is not None:
            out.append((rater, level, float(rating.probability), True))
        else:
            out.append((rater, level, defaults[level], False))
    return out


def pool_levels(levels: list[Level], rule: str) -> tuple[Level, tuple[str, ...]]:
    """Pool levels under a level rule; returns (level, tied levels or ())."""
    if not levels:
        return Level.UNCLEAR, ()
    if rule == "any_prone":
        for level in (Level.PRONE, Level.UNCLEAR):
            if level in levels:
                return level, ()
        return Level.NOT_PRONE, ()
    if rule == "majority":
        counts = Counter(levels)
        top = max(counts.values())
        modal = [lv for lv in LEVEL_ORDER if counts.get(lv) == top]
        if len(modal) > 1:
            return Level.UNCLEAR, tuple(lv.value for lv in modal)
        return modal[0], ()
    if rule == "median":
        codes = sorted(LEVEL_CODE[lv] for lv in levels)
        n = len(codes)
        low, high = codes[(n - 1) // 2], codes[n // 2]
        if low != high:
            return Level.UNCLEAR, (LEVEL_ORDER[low].value, LEVEL_ORDER[high].value)
        return LEVEL_ORDER[low], ()
    raise ValueError(f"unknown level rule {rule!r}; use one of {sorted(LEVEL_RULES)}")


def pool_probabilities(
    values: list[float], rule: str, *, extremize: float = DEFAULT_EXTREMIZE
) -> float:
    """Pool probabilities: ``mean_probability`` or ``geometric_odds`` (extremised by ``extremize``)."""
    if not values:
        raise ValueError("no probabilities to pool")
    if rule == "mean_probability":
        return float(np.mean(values))
    if rule == "geometric_odds":
        p = np.clip(np.asarray(values, dtype=float), ODDS_CLIP, 1.0 - ODDS_CLIP)
        log_odds = extremize * float(np.mean(np.log(p) - np.log1p(-p)))
        return float(1.0 / (1.0 + math.exp(-log_odds)))
    raise ValueError(f"unknown probability rule {rule!r}")


def _pooled_confidence(panel: RaterPanel, cell: tuple[str, str], split: bool) -> Confidence:
    stated = []
    for r in range(len(panel.files)):
        rating = panel.rating(r, cell)
        if rating is not None:
            stated.append(_CONFIDENCE_ORDER.index(rating.confidence or Confidence.MEDIUM))
    if not stated or split:
        return Confidence.LOW
    return _CONFIDENCE_ORDER[int(np.floor(np.median(stated)))]


def pool_ratings(
    panel: RaterPanel, *, rule: str = DEFAULT_RULE, extremize: float = DEFAULT_EXTREMIZE
) -> PooledCatalog:
    """Pool ``panel`` under ``rule`` into an ordinary catalog with provenance.

    The catalog keeps the rated catalog's techniques, failure modes and references; its version
    gets ``+pool.<rule>``, and its one rater (kind ``derived``) names the raters and the rule.
    """
    if rule not in POOLING_RULES:
        raise ValueError(f"unknown pooling rule {rule!r}; use one of {', '.join(POOLING_RULES)}")
    if not (math.isfinite(extremize) and extremize > 0):
        raise ValueError("extremize must be a positive number")
    base = panel.catalog
    raters = panel.rater_ids
    rule_text = (
        rule if rule != "geometric_odds" or extremize == 1 else f"{rule} (extremize {extremize:g})"
    )
    pool_id = f"pool-{rule.replace('_', '-')}"
    cells: list[PooledCell] = []
    ratings: list[Rating] = []
    for cell in panel.cells:
        values = rater_values(panel, cell)
        contributors = tuple(v[0] for v in values)
        levels = [v[1] for v in values]
        inputs = {
            rater: f"{level.value}, p {p:g}" + ("" if stated else " (level default)")
            for rater, level, p, stated in values
        }
        tie: tuple[str, ...] = ()
        probability: float | None = None
        level: Level | None
        if not values:
            level, note = Level.UNCLEAR, "no rater rated this cell; shown as unclear"
        elif rule in LEVEL_RULES:
            level, tie = pool_levels(levels, rule)
            note = f"tie between {' and '.join(tie)}: unclear" if tie else ""
        else:
            level = None
            probability = pool_probabilities([v[2] for v in values], rule, extremize=extremize)
            defaulted = [v[0] for v in values if not v[3]]
            note = f"level defaults used for {', '.join(defaulted)}" if defaulted else ""
        split = len(set(levels)) > 1
        cells.append(
            PooledCell(cell[0], cell[1], level, probability, contributors, tie, inputs, note)
        )
        summary = "; ".join(f"{r}: {text}" for r, text in inputs.items()) or "not rated"
        ratings.append(
            Rating(
                technique=cell[0],
                failure_mode=cell[1],
                level=level,
                probability=probability,
                rater=pool_id,
                confidence=_pooled_confidence(panel, cell, split),
                rationale=f"Pooled by {rule_text} from {summary}." + (f" {note}." if note else ""),
                rationale_author="ddrisk",
                provenance=Provenance(
                    sources=list(contributors),
                    corroboration="multi-source"
                    if len(values) > 1
                    else "single-source"
                    if values
                    else "inferred",
                    note=f"rule {rule_text}; raters {', '.join(raters)}",
                ),
            )
        )
    rater = Rater(
        id=pool_id,
        name=f"Pooled ({rule_text}) of {', '.join(raters)}",
        kind="derived",
        note=f"ddrisk raters pool, rule {rule_text}, from rater files for {base.label}; "
        f"input sha256 {panel.input_hash()}",
    )
    catalog = Catalog(
        **{
            **dict(base),
            "version": f"{base.version}+pool.{rule.replace('_', '-')}",
            "title": f"{base.title} (pooled: {rule_text})",
            "description": f"Ratings of {len(raters)} raters ({', '.join(raters)}) pooled by "
            f"{rule_text}. {base.description}".strip(),
            "raters": [rater],
            "ratings": ratings,
        }
    )
    return PooledCatalog(rule, extremize, raters, tuple(cells), catalog, panel.input_hash())


@dataclass(frozen=True)
class PoolingComparison:
    """Every rule's pooled catalog, side by side."""

    pools: tuple[PooledCatalog, ...]

    def by_rule(self, rule: str) -> PooledCatalog:
        for pool in self.pools:
            if pool.rule == rule:
                return pool
        raise KeyError(rule)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "ddrisk.raters.pooling/1",
            "ddrisk_version": __version__,
            "rules": [p.rule for p in self.pools],
            "extremize": self.pools[0].extremize if self.pools else DEFAULT_EXTREMIZE,
            "pools": [p.to_dict() for p in self.pools],
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per cell, one column per rule (level, or probability and derived level)."""
        rows = []
        for index, cell in enumerate(self.pools[0].cells):
            row: dict[str, Any] = {"technique": cell.technique, "failure_mode": cell.failure_mode}
            for pool in self.pools:
                pooled = pool.cells[index]
                row[pool.rule] = cell_text(pooled)
            rows.append(row)
        return pd.DataFrame(rows)


def cell_text(cell: PooledCell) -> str:
    """``prone``, ``unclear (tie)`` or ``0.47 (not_prone)``."""
    if cell.probability is not None:
        derived = "prone" if cell.probability >= 0.5 else "not_prone"
        return f"{cell.probability:.2f} ({derived})"
    assert cell.level is not None
    return cell.level.value + (" (tie)" if cell.tie else "") + ("" if cell.raters else " (unrated)")


def compare_pooling(
    panel: RaterPanel, *, extremize: float = DEFAULT_EXTREMIZE
) -> PoolingComparison:
    """All pooling rules on one panel."""
    return PoolingComparison(
        tuple(pool_ratings(panel, rule=rule, extremize=extremize) for rule in POOLING_RULES)
    )


def rater_catalog(panel: RaterPanel, rater_id: str) -> Catalog:
    """One rater's own view as a catalog (their blank cells read as unclear)."""
    index = panel.rater_ids.index(rater_id)
    rater_file = panel.files[index]
    base = panel.catalog
    ratings = []
    for cell in panel.cells:
        rating = panel.rating(index, cell)
        if rating is None:
            ratings.append(
                Rating(
                    technique=cell[0],
                    failure_mode=cell[1],
                    level=Level.UNCLEAR,
                    rater=rater_id,
                    confidence=Confidence.LOW,
                    rationale="Left blank by this rater; read as unclear.",
                    rationale_author="ddrisk",
                )
            )
        else:
            ratings.append(
                Rating(
                    technique=cell[0],
                    failure_mode=cell[1],
                    level=rating.level,
                    probability=rating.probability,
                    rater=rater_id,
                    confidence=rating.confidence or Confidence.MEDIUM,
                    rationale=rating.rationale,
                    rationale_author="rater",
                )
            )
    kind = (
        rater_file.rater.kind
        if rater_file.rater.kind in {"expert", "team", "tool", "paper"}
        else "expert"
    )
    return Catalog(
        **{
            **dict(base),
            "version": f"{base.version}+rater.{rater_id}",
            "title": f"{base.title} (rated by {rater_file.rater.name})",
            "raters": [
                Rater(
                    id=rater_id, name=rater_file.rater.name, kind=kind, note=rater_file.rater.note
                )
            ],
            "ratings": ratings,
        }
    )
