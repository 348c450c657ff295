"""Best additions to a deployed stack, the deployed layers held fixed.

The search is :func:`ddrisk.risk.optimize_stack` (exact branch and bound) over the candidate
techniques, with P(stack fails) evaluated for the deployed layers *plus* each candidate set:
adding layers never increases P, so the optimiser's bound stays valid. Each addition is
explained by the risk it removes and by the straight-through modes of the deployed stack it
blocks (it is rated not prone to them).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ddrisk.catalog.model import Catalog, Level
from ddrisk.risk.engine import compute_stack_failure
from ddrisk.risk.model import FailureModeModel
from ddrisk.risk.optimize import TIE_TOLERANCE, optimize_stack
from ddrisk.risk.parameters import RiskParameters, resolve_parameters

REDUCTION_TOLERANCE = 1e-12
SEARCHES = ("exhaustive", "branch-and-bound")


@dataclass(frozen=True)
class Addition:
    """One technique proposed for the stack and why."""

    technique: str
    cost: float
    probability_with: float
    risk_reduction: float
    closes: tuple[str, ...]
    maybe_closes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "technique": self.technique,
            "cost": self.cost,
            "probability_with": self.probability_with,
            "risk_reduction": self.risk_reduction,
            "closes_straight_through": list(self.closes),
            "maybe_closes": list(self.maybe_closes),
        }


@dataclass(frozen=True)
class AdditionsResult:
    """The best set of additions under the constraints, plus every single addition ranked."""

    fixed_layers: tuple[str, ...]
    probability_fixed: float
    budget: float | None
    max_additions: int
    best: tuple[str, ...]
    probability_best: float
    cost_best: float
    evaluated: int
    explained: tuple[Addition, ...]
    singles: tuple[Addition, ...]
    search: str = "exhaustive"

    @property
    def risk_reduction(self) -> float:
        return self.probability_fixed - self.probability_best

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": f"{self.search} search over candidate sets; deployed layers held fixed",
            "fixed_layers": list(self.fixed_layers),
            "probability_fixed": self.probability_fixed,
            "budget": self.budget,
            "max_additions": self.max_additions,
            "best": list(self.best),
            "probability_best": self.probability_best,
            "cost_best": self.cost_best,
            "risk_reduction": self.risk_reduction,
            "evaluated_sets": self.evaluated,
            "additions": [a.to_dict() for a in self.explained],
            "single_additions": [a.to_dict() for a in self.singles],
        }


def _closes(
    catalog: Catalog, technique: str, straight: list[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    closes = tuple(
        m for m in straight if catalog.rating(technique, m).effective_level is Level.NOT_PRONE
    )
    maybe = tuple(
        m for m in straight if catalog.rating(technique, m).effective_level is Level.UNCLEAR
    )
    return closes, maybe


def _exhaustive(
    candidates: tuple[str, ...],
    costs: dict[str, float],
    budget: float | None,
    max_additions: int,
    probability: Callable[[tuple[str, ...]], float],
) -> tuple[tuple[str, ...], float, int]:
    """Every affordable set of at most ``max_additions`` candidates; lowest P, then cost, size."""
    best: tuple[tuple[str, ...], float] = ((), probability(()))
    best_key = (best[1], 0.0, 0)
    evaluated = 0
    for size in range(1, max_additions + 1):
        for combo in itertools.combinations(candidates, size):
            cost = sum(costs[c] for c in combo)
            if budget is not None and cost > budget + 1e-9:
                continue
            p = probability(combo)
            evaluated += 1
            key = (p, cost, size)
            tie = abs(p - best_key[0]) <= TIE_TOLERANCE * max(p, best_key[0])
            if (not tie and p < best_key[0]) or (tie and key[1:] < best_key[1:]):
                best, best_key = (combo, p), key
    return best[0], best[1], evaluated


def best_additions(
    catalog: Catalog,
    fixed: tuple[str, ...],
    candidates: tuple[str, ...],
    *,
    params: RiskParameters | None = None,
    costs: dict[str, float],
    budget: float | None,
    max_additions: int,
    straight_through: list[str],
    engine: str = "exact",
    seed: int = 0,
    search: str = "exhaustive",
) -> AdditionsResult:
    """The candidate set that minimises P(fixed + set fails) within budget and size limits.

    ``search="exhaustive"`` (default) evaluates every affordable set of at most
    ``max_additions`` candidates: exact, and it never asks the engine for a stack larger than
    the deployed one plus ``max_additions``. ``"branch-and-bound"`` runs
    :func:`ddrisk.risk.optimize_stack`, whose bound evaluates the deployed layers plus *all*
    open candidates at once; that is faster on small catalogs but can reach stacks the exact
    engine cannot evaluate in reasonable time on dense catalogs. Both give the same answer.
    """
    full = resolve_parameters(catalog, [*fixed, *candidates], params).model

    cache: dict[frozenset[str], float] = {}

    def probability(layers: tuple[str, ...]) -> float:
        key = frozenset(layers)
        if key not in cache:
            model = full.subset([*fixed, *layers])
            cache[key] = float(compute_stack_failure(model, engine=engine, seed=seed).probability)
        return cache[key]

    def probability_of(sub: FailureModeModel) -> float:
        return probability(tuple(sub.layers))

    p_fixed = probability(())
    if not candidates:
        return AdditionsResult(fixed, p_fixed, budget, max_additions, (), p_fixed, 0.0, 0, (), ())
    if search == "branch-and-bound":
        tax_costs = {catalog.technique(c).safety_tax: costs[c] for c in candidates}
        result = optimize_stack(
            catalog,
            params=params,
            budget=budget,
            max_layers=max_additions,
            costs=tax_costs,
            candidates=list(candidates),
            probability_of=probability_of,
        )
        best, p_best, evaluated = result.stack, result.probability, result.evaluated
    elif search == "exhaustive":
        best, p_best, evaluated = _exhaustive(candidates, costs, budget, max_additions, probability)
    else:
        raise ValueError(f"search must be one of {SEARCHES}, got {search!r}")
    if not best or p_best >= p_fixed - REDUCTION_TOLERANCE * max(p_fixed, 1e-300):
        best, p_best = (), p_fixed
    explained = []
    for technique in best:
        others = tuple(t for t in best if t != technique)
        p_without = probability(others)
        closes, maybe = _closes(catalog, technique, straight_through)
        explained.append(
            Addition(technique, costs[technique], p_best, p_without - p_best, closes, maybe)
        )
    singles = []
    for technique in candidates:
        if budget is not None and costs[technique] > budget + 1e-9:
            continue
        p_with = probability((technique,))
        closes, maybe = _closes(catalog, technique, straight_through)
        singles.append(
            Addition(technique, costs[technique], p_with, p_fixed - p_with, closes, maybe)
        )
    singles.sort(key=lambda a: (-a.risk_reduction, a.cost, a.technique))
    return AdditionsResult(
        fixed_layers=fixed,
        probability_fixed=p_fixed,
        budget=budget,
        max_additions=max_additions,
        best=best,
        probability_best=p_best,
        cost_best=sum(costs[t] for t in best),
        evaluated=evaluated,
        explained=tuple(explained),
        singles=tuple(singles),
        search=search,
    )
