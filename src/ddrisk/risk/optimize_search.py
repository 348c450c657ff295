"""Exact branch and bound over sets of placements, with explicit tie-breaking and every tie.

A *placement* is one choice the search can make: deploy a technique (at a given position of a
structured stack). Placements of the same technique exclude each other. The search rests on
one fact: in a coherent stack, deploying one more placement never raises P(stack fails). So
for a partial choice ``S`` and the placements ``R`` still open, P(S plus all of R) is a lower
bound on every completion (a technique placed twice is a relaxation: it can only be lower
still), and when all of R fit together it *is* the best completion. Branch and bound with
that bound, the strongest placements tried first, a greedy incumbent and a cache of evaluated
sets visits a small fraction of the ``2 ** n`` stacks.

Ties are broken explicitly, in this order: lower P(stack fails) (equal within a relative
:data:`TIE_TOLERANCE`, i.e. rounding), lower total safety-tax cost, fewer layers, then the
techniques earliest in catalog order (then the earliest positions). Because a subtree is
pruned only when its bound is *strictly* worse than the incumbent, every feasible stack whose
P ties the final best is evaluated, so :meth:`PlacementSearch.ties` lists all of them exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

TIE_TOLERANCE = 1e-12
COST_TOLERANCE = 1e-9  # absolute slack on cost comparisons (costs are decimals)
TIE_BREAK = (
    "lowest P(stack fails); when equal within relative 1e-12: lower safety-tax cost, "
    "then fewer layers, then earliest in catalog order"
)

Key = tuple[float, float, int, tuple[tuple[int, int], ...]]


@dataclass(frozen=True)
class Item:
    """One placement: which technique (index), its cost and its catalog/position rank."""

    technique: int
    cost: float
    rank: tuple[int, int]


class PlacementSearch:
    """Branch and bound over sets of items (bitmasks), with a cache of evaluated sets."""

    def __init__(
        self,
        items: Sequence[Item],
        probability: Callable[[int], float],
        *,
        budget: float | None,
        max_layers: int | None,
    ) -> None:
        self.items = list(items)
        self.evaluate = probability
        self.budget = math.inf if budget is None else budget
        self.max_layers = len(self.items) if max_layers is None else max_layers
        self.cache: dict[int, float] = {}
        self.conflicts = [
            sum(
                1 << k
                for k, other in enumerate(self.items)
                if k != i and other.technique == it.technique
            )
            for i, it in enumerate(self.items)
        ]

    # ------------------------------------------------------------------ values of a set
    def probability(self, mask: int) -> float:
        if mask not in self.cache:
            self.cache[mask] = float(self.evaluate(mask))
        return self.cache[mask]

    def cost(self, mask: int) -> float:
        return sum(item.cost for i, item in enumerate(self.items) if mask >> i & 1)

    def members(self, mask: int) -> list[int]:
        return [i for i in range(len(self.items)) if mask >> i & 1]

    def key(self, mask: int) -> Key:
        ranks = tuple(sorted(self.items[i].rank for i in self.members(mask)))
        return (self.probability(mask), self.cost(mask), len(ranks), ranks)

    def consistent(self, mask: int) -> bool:
        """No technique placed twice."""
        return all(not mask & self.conflicts[i] for i in self.members(mask))

    def fits(self, cost: float, count: int) -> bool:
        return cost <= self.budget + COST_TOLERANCE and count <= self.max_layers

    def feasible(self, mask: int) -> bool:
        return self.consistent(mask) and self.fits(self.cost(mask), bin(mask).count("1"))

    # ------------------------------------------------------------------ comparisons
    @staticmethod
    def tied(a: float, b: float) -> bool:
        """Equal P up to rounding (relative :data:`TIE_TOLERANCE`)."""
        return abs(a - b) <= TIE_TOLERANCE * max(a, b)

    @classmethod
    def better(cls, a: Key, b: Key) -> bool:
        """``a`` wins over ``b`` under the explicit tie-breaking order (module docstring)."""
        if not cls.tied(a[0], b[0]):
            return a[0] < b[0]
        if abs(a[1] - b[1]) > COST_TOLERANCE:
            return a[1] < b[1]
        return a[2:] < b[2:]

    @staticmethod
    def decided_by(best: Key, other: Key) -> str:
        """Which rule put ``best`` before ``other`` when their P tie."""
        if abs(best[1] - other[1]) > COST_TOLERANCE:
            return "lower safety-tax cost"
        if best[2] != other[2]:
            return "fewer layers"
        if [r[0] for r in best[3]] != [r[0] for r in other[3]]:
            return "catalog order"
        return "position order"

    def ties(self, best: int) -> list[int]:
        """Every other feasible set whose P ties ``best``'s, best first (all were evaluated)."""
        target = self.probability(best)
        found = [
            mask
            for mask, value in self.cache.items()
            if mask != best and self.tied(value, target) and self.feasible(mask)
        ]
        return sorted(found, key=self.key)

    # ------------------------------------------------------------------ the search
    def run(self, order: Sequence[int]) -> int:
        best = self.greedy(order)
        best_key = self.key(best)

        def visit(position: int, mask: int, cost: float, count: int) -> None:
            nonlocal best, best_key
            key = self.key(mask)
            if self.better(key, best_key):
                best, best_key = mask, key
            if position == len(order) or count == self.max_layers:
                return
            open_items = [
                i
                for i in order[position:]
                if not mask & self.conflicts[i] and self.fits(cost + self.items[i].cost, count + 1)
            ]
            if not open_items:
                return
            everything = mask
            for i in open_items:
                everything |= 1 << i
            bound = self.probability(everything)
            if bound > best_key[0] and not self.tied(bound, best_key[0]):
                return  # every completion is strictly worse: none can win or tie
            if self.feasible(everything) and self.better(self.key(everything), best_key):
                # Monotonicity: taking every open item is the best completion; smaller sets
                # with equal P (a tie won by cost or size) are still searched below.
                best, best_key = everything, self.key(everything)
            item = order[position]
            if not mask & self.conflicts[item] and self.fits(
                cost + self.items[item].cost, count + 1
            ):
                visit(position + 1, mask | 1 << item, cost + self.items[item].cost, count + 1)
            visit(position + 1, mask, cost, count)

        visit(0, 0, 0.0, 0)
        return best

    def greedy(self, order: Sequence[int]) -> int:
        """Add the item that lowers P most per unit cost while the constraint allows."""
        mask, cost, count = 0, 0.0, 0
        while True:
            choices = [
                i
                for i in order
                if not mask >> i & 1
                and not mask & self.conflicts[i]
                and self.fits(cost + self.items[i].cost, count + 1)
            ]
            if not choices:
                return mask
            current = self.probability(mask)
            gains = {
                i: (current - self.probability(mask | 1 << i)) / max(self.items[i].cost, 1e-12)
                for i in choices
            }
            pick = max(choices, key=gains.__getitem__)
            if self.probability(mask | 1 << pick) >= current:
                return mask
            mask |= 1 << pick
            cost += self.items[pick].cost
            count += 1
