"""Research priorities that weigh more than frequency.

A failure mode's priority for a stack is its risk-engine importance (Fussell-Vesely: the
share of P(stack fails) that needs the mode) times its impact score (a weighted mean of
severity, tractability, neglectedness and urgency, each 0-10, divided by 10). A mode that
never brings this stack down scores 0 however grave it is; among modes that do, impact
decides. The ranking is recomputed under other weightings so a reader sees which places
depend on the weights.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

CRITERIA = ("severity", "tractability", "neglectedness", "urgency")
DEFAULT_WEIGHTS: dict[str, float] = {
    "severity": 0.35,
    "tractability": 0.25,
    "neglectedness": 0.25,
    "urgency": 0.15,
}


@dataclass(frozen=True)
class Impact:
    severity: float
    tractability: float
    neglectedness: float
    urgency: float
    rationale: str
    source: str

    def score(self, weights: Mapping[str, float]) -> float:
        return sum(weights[c] * getattr(self, c) for c in CRITERIA)

    def to_dict(self) -> dict[str, Any]:
        return {
            **{c: getattr(self, c) for c in CRITERIA},
            "rationale": self.rationale,
            "source": self.source,
        }


def check_weights(weights: Mapping[str, float]) -> dict[str, float]:
    """Validate and normalise weights to sum to 1 (a ValueError names the problem)."""
    unknown = set(weights) - set(CRITERIA)
    if unknown:
        raise ValueError(f"unknown criteria {sorted(unknown)}; use {', '.join(CRITERIA)}")
    full = {c: float(weights.get(c, 0.0)) for c in CRITERIA}
    if any(not math.isfinite(v) or v < 0 for v in full.values()) or sum(full.values()) <= 0:
        raise ValueError("weights must be finite, >= 0 and not all 0")
    total = sum(full.values())
    return {c: v / total for c, v in full.items()}


def weight_scenarios(weights: Mapping[str, float]) -> dict[str, dict[str, float]]:
    """The chosen weights, equal weights, and each criterion emphasised (0.55, others 0.15)."""
    scenarios = {"chosen": dict(weights), "equal": {c: 0.25 for c in CRITERIA}}
    for criterion in CRITERIA:
        scenarios[f"{criterion}-heavy"] = {c: (0.55 if c == criterion else 0.15) for c in CRITERIA}
    return scenarios


@dataclass(frozen=True)
class PriorityRow:
    mode: str
    importance: float
    impact: Impact | None
    impact_score: float | None
    priority: float | None
    rank: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "rank": self.rank,
            "fussell_vesely": self.importance,
            "impact_score": self.impact_score,
            "priority": self.priority,
            "impact": None if self.impact is None else self.impact.to_dict(),
        }


@dataclass(frozen=True)
class PrioritiesResult:
    weights: dict[str, float]
    rows: tuple[PriorityRow, ...]
    ranks_by_scenario: dict[str, dict[str, int]]
    scenario_weights: dict[str, dict[str, float]]
    formula: str = "priority = Fussell-Vesely x (weighted impact score / 10)"

    @property
    def top_by_scenario(self) -> dict[str, str | None]:
        return {
            name: (min(ranks, key=ranks.__getitem__) if ranks else None)
            for name, ranks in self.ranks_by_scenario.items()
        }

    def rank_changes(self) -> list[tuple[str, str, int, int]]:
        """(scenario, mode, chosen rank, scenario rank) for every mode whose rank moves."""
        chosen = self.ranks_by_scenario["chosen"]
        return [
            (name, mode, chosen[mode], rank)
            for name, ranks in self.ranks_by_scenario.items()
            if name != "chosen"
            for mode, rank in ranks.items()
            if rank != chosen.get(mode)
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "formula": self.formula,
            "weights": self.weights,
            "ranking": [row.to_dict() for row in self.rows],
            "scenarios": {
                name: {"weights": self.scenario_weights[name], "ranks": ranks}
                for name, ranks in self.ranks_by_scenario.items()
            },
            "top_by_scenario": self.top_by_scenario,
        }

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([row.to_dict() for row in self.rows]).drop(columns=["impact"])


def _ranks(
    importance: Mapping[str, float], impacts: Mapping[str, Impact], weights: Mapping[str, float]
) -> dict[str, int]:
    scored = [
        (importance[m] * impacts[m].score(weights) / 10.0, importance[m], m)
        for m in importance
        if m in impacts and math.isfinite(importance[m])
    ]
    scored.sort(key=lambda t: (-t[0], -t[1], t[2]))
    return {m: k for k, (_p, _i, m) in enumerate(scored, start=1)}


def research_priorities(
    importance: Mapping[str, float],
    impacts: Mapping[str, Impact],
    *,
    weights: Mapping[str, float] | None = None,
) -> PrioritiesResult:
    """Rank modes by importance x impact; ``importance`` is Fussell-Vesely per mode."""
    chosen = check_weights(weights or DEFAULT_WEIGHTS)
    scenarios = weight_scenarios(chosen)
    ranks = {name: _ranks(importance, impacts, w) for name, w in scenarios.items()}
    rows = []
    for mode, value in importance.items():
        impact = impacts.get(mode)
        score = None if impact is None else impact.score(chosen)
        priority = None if score is None or not math.isfinite(value) else value * score / 10.0
        rows.append(PriorityRow(mode, value, impact, score, priority, ranks["chosen"].get(mode)))
    rows.sort(key=lambda r: (r.rank is None, r.rank or 0, r.mode))
    return PrioritiesResult(
        weights=chosen, rows=tuple(rows), ranks_by_scenario=ranks, scenario_weights=scenarios
    )
