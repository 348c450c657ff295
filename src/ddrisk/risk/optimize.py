"""Best stacks: the techniques that minimise P(stack fails) under a budget or a layer count.

The search is exact. It rests on one fact of the model: adding a layer never
increases P(stack fails) (the stack fails when *every* layer fails, and one more
AND term can only shrink the event). So for a partial choice ``S`` and the
candidates ``R`` still open, P(S plus every affordable member of R) is a lower
bound on every completion, and when all of them fit it *is* the best completion.
Branch and bound with that bound, the strongest layers tried first, a greedy
incumbent and a cache of evaluated subsets visits a small fraction of the
``2 ** n`` stacks; the tests check it against exhaustive search.

Safety-tax costs (overridable through ``costs``): low 1, medium 2,
unclear 2.5, high 3. They follow :attr:`ddrisk.catalog.model.SafetyTax.rank`:
an ordinal scale where each step up costs one more unit and an unclear tax is
priced between medium and high, i.e. treated as probably substantial.
Ties in P(stack fails) are broken by lower cost, then fewer layers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ddrisk._jsonnum import json_number
from ddrisk.catalog.model import Catalog, SafetyTax
from ddrisk.errors import InputError
from ddrisk.risk.model import FailureModeModel
from ddrisk.risk.parameters import RiskParameters, resolve_parameters

DEFAULT_COSTS: dict[SafetyTax, float] = {tax: tax.rank for tax in SafetyTax}
MAX_EXACT_TECHNIQUES = 20
TIE_TOLERANCE = 1e-12
METHOD = (
    "exact branch and bound over technique subsets (bound: P(stack fails) is monotone "
    "non-increasing in the set of layers)"
)

ProbabilityFunction = Callable[[FailureModeModel], float]


def engine_probability(engine: str = "exact", seed: int = 0) -> ProbabilityFunction:
    """P(stack fails) from :func:`ddrisk.risk.engine.compute_stack_failure`."""
    from ddrisk.risk.engine import compute_stack_failure

    def probability(model: FailureModeModel) -> float:
        return float(compute_stack_failure(model, engine=engine, seed=seed).probability)

    return probability


@dataclass(frozen=True)
class LayerValue:
    """What one layer buys: P without it minus P with it, and the ratio of the two."""

    layer: str
    probability_without: float
    probability_with: float

    @property
    def difference(self) -> float:
        return self.probability_without - self.probability_with

    @property
    def ratio(self) -> float:
        if self.probability_with > 0:
            return self.probability_without / self.probability_with
        return math.inf if self.probability_without > 0 else 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "layer": self.layer,
            "probability_without": self.probability_without,
            "probability_with": self.probability_with,
            "difference": self.difference,
            "ratio": json_number(self.ratio),
        }


def layer_marginal_values(
    model: FailureModeModel, *, probability_of: ProbabilityFunction | None = None
) -> tuple[LayerValue, ...]:
    """Marginal value of each layer of a stack (removing it; an empty stack always fails)."""
    probability_of = probability_of or engine_probability()
    with_all = probability_of(model)
    values = []
    for layer in model.layers:
        rest = [other for other in model.layers if other != layer]
        without = probability_of(model.subset(rest)) if rest else 1.0
        values.append(LayerValue(layer, without, with_all))
    return tuple(values)


@dataclass(frozen=True)
class OptimizationResult:
    """The best stack under one constraint, with its marginal layer values."""

    stack: tuple[str, ...]
    probability: float
    cost: float
    constraint: dict[str, float]
    costs: dict[str, float]
    candidates: tuple[str, ...]
    evaluated: int
    marginal_values: tuple[LayerValue, ...]
    catalog: str
    parameters_sha256: str
    parameters: dict[str, dict[str, Any]] = field(default_factory=dict)
    method: str = METHOD
    model: str = field(default="failure-mode common-cause model (Marshall-Olkin shocks)")

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "model": self.model,
            "catalog": self.catalog,
            "parameters_sha256": self.parameters_sha256,
            "parameters": self.parameters,
            "constraint": self.constraint,
            "costs": self.costs,
            "candidates": list(self.candidates),
            "stack": list(self.stack),
            "probability": self.probability,
            "cost": self.cost,
            "n_layers": len(self.stack),
            "evaluated_stacks": self.evaluated,
            "marginal_values": [value.to_dict() for value in self.marginal_values],
        }

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([value.to_dict() for value in self.marginal_values])


class _Search:
    """Branch and bound over subsets of candidate indices (bitmasks), with a cache."""

    def __init__(
        self,
        model: FailureModeModel,
        costs: Sequence[float],
        probability_of: ProbabilityFunction,
        *,
        budget: float | None,
        max_layers: int | None,
    ) -> None:
        self.model = model
        self.costs = list(costs)
        self.probability_of = probability_of
        self.budget = math.inf if budget is None else budget
        self.max_layers = model.n_layers if max_layers is None else max_layers
        self.cache: dict[int, float] = {0: 1.0}
        self.tolerance = 1e-9  # absolute slack on budget comparisons (costs are decimals)

    def probability(self, mask: int) -> float:
        if mask not in self.cache:
            layers = [self.model.layers[i] for i in range(self.model.n_layers) if mask >> i & 1]
            self.cache[mask] = float(self.probability_of(self.model.subset(layers)))
        return self.cache[mask]

    def key(self, mask: int) -> tuple[float, float, int]:
        return (self.probability(mask), self.mask_cost(mask), bin(mask).count("1"))

    @staticmethod
    def better(a: tuple[float, float, int], b: tuple[float, float, int]) -> bool:
        """Lower P wins; P equal to rounding (relative 1e-12) falls to cost, then size."""
        if abs(a[0] - b[0]) > TIE_TOLERANCE * max(a[0], b[0]):
            return a[0] < b[0]
        return a[1:] < b[1:]

    def mask_cost(self, mask: int) -> float:
        return sum(cost for i, cost in enumerate(self.costs) if mask >> i & 1)

    def fits(self, cost: float, count: int) -> bool:
        return cost <= self.budget + self.tolerance and count <= self.max_layers

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
            open_items = [i for i in order[position:] if self.fits(cost + self.costs[i], count + 1)]
            if not open_items:
                return
            everything = mask
            for i in open_items:
                everything |= 1 << i
            bound = self.probability(everything)
            if bound > best_key[0] * (1 + TIE_TOLERANCE):
                return
            all_cost = cost + sum(self.costs[i] for i in open_items)
            if self.fits(all_cost, count + len(open_items)):
                # Monotonicity: taking every open item is the best completion; only smaller
                # supersets of mask with equal probability could still win a tie.
                if self.better(self.key(everything), best_key):
                    best, best_key = everything, self.key(everything)
                if bound < best_key[0] * (1 - TIE_TOLERANCE):
                    return
            item = order[position]
            if self.fits(cost + self.costs[item], count + 1):
                visit(position + 1, mask | 1 << item, cost + self.costs[item], count + 1)
            visit(position + 1, mask, cost, count)

        visit(0, 0, 0.0, 0)
        return best

    def greedy(self, order: Sequence[int]) -> int:
        """Add the layer that lowers P most per unit cost while the constraint allows."""
        mask, cost, count = 0, 0.0, 0
        while True:
            choices = [
                i for i in order if not mask >> i & 1 and self.fits(cost + self.costs[i], count + 1)
            ]
            if not choices:
                return mask
            current = self.probability(mask)
            gains = {
                i: (current - self.probability(mask | 1 << i)) / max(self.costs[i], 1e-12)
                for i in choices
            }
            pick = max(choices, key=gains.__getitem__)
            if self.probability(mask | 1 << pick) >= current:
                return mask
            mask |= 1 << pick
            cost += self.costs[pick]
            count += 1


def optimize_stack(
    catalog: Catalog,
    *,
    params: RiskParameters | None = None,
    budget: float | None = None,
    max_layers: int | None = None,
    costs: Mapping[SafetyTax, float] | None = None,
    candidates: Sequence[str] | None = None,
    probability_of: ProbabilityFunction | None = None,
) -> OptimizationResult:
    """The stack of catalog techniques with the lowest P(stack fails) under the constraint.

    Parameters
    ----------
    catalog
        Techniques to choose from (at most 20 candidates: the search is exact).
    params
        Risk parameters (defaults of :mod:`ddrisk.risk.parameters` when omitted).
    budget
        Maximum total safety-tax cost (see ``costs``); ``None`` for no budget.
    max_layers
        Maximum number of layers; ``None`` for no limit.
    costs
        Cost per safety-tax level; defaults to :data:`DEFAULT_COSTS`.
    candidates
        Restrict the choice to these technique ids (default: all).
    probability_of
        P(stack fails) for a model (default: the exact engine).
    """
    candidates = list(candidates or catalog.technique_ids)
    if len(candidates) > MAX_EXACT_TECHNIQUES:
        raise InputError(
            "optimize",
            None,
            f"{len(candidates)} candidate techniques",
            f"the exact search handles at most {MAX_EXACT_TECHNIQUES}; pass fewer candidates",
        )
    if budget is not None and (not math.isfinite(budget) or budget < 0):
        raise InputError("budget", None, f"{budget!r} is not a budget", "use a number >= 0")
    if max_layers is not None and max_layers < 1:
        raise InputError("max_layers", None, f"{max_layers} layers", "ask for at least 1 layer")
    cost_table = dict(DEFAULT_COSTS) if costs is None else {**DEFAULT_COSTS, **costs}
    probability_of = probability_of or engine_probability()
    resolved = resolve_parameters(catalog, candidates, params)
    model = resolved.model
    layer_costs = [cost_table[catalog.technique(t).safety_tax] for t in candidates]
    singles = [probability_of(model.subset([t])) for t in candidates]
    order = sorted(range(len(candidates)), key=lambda i: (singles[i], layer_costs[i], i))
    search = _Search(model, layer_costs, probability_of, budget=budget, max_layers=max_layers)
    best = search.run(order)
    stack = tuple(candidates[i] for i in range(len(candidates)) if best >> i & 1)
    constraint: dict[str, float] = {}
    if budget is not None:
        constraint["budget"] = budget
    if max_layers is not None:
        constraint["max_layers"] = max_layers
    marginal_values = (
        layer_marginal_values(model.subset(list(stack)), probability_of=probability_of)
        if stack
        else ()
    )
    return OptimizationResult(
        stack=stack,
        probability=search.probability(best),
        cost=search.mask_cost(best),
        constraint=constraint,
        costs={tax.value: value for tax, value in cost_table.items()},
        candidates=tuple(candidates),
        evaluated=len(search.cache) - 1,
        marginal_values=marginal_values,
        catalog=resolved.catalog_label,
        parameters_sha256=resolved.parameters_hash,
        parameters=resolved.to_dict()["parameters"],
        model=model.name,
    )


def best_stack_frontier(
    catalog: Catalog,
    *,
    params: RiskParameters | None = None,
    costs: Mapping[SafetyTax, float] | None = None,
    candidates: Sequence[str] | None = None,
    probability_of: ProbabilityFunction | None = None,
) -> tuple[OptimizationResult, ...]:
    """The best stack of at most k layers, for every k from 1 to the number of techniques.

    With ``candidates``, the frontier is that of the catalog restricted to those techniques
    (their ratings kept), so k runs up to the number of candidates and the results name the
    restricted catalog's content hash.
    """
    probability_of = probability_of or engine_probability()
    if candidates is not None:
        catalog = _restricted_catalog(catalog, candidates)
    return tuple(
        optimize_stack(
            catalog, params=params, max_layers=k, costs=costs, probability_of=probability_of
        )
        for k in range(1, len(catalog.technique_ids) + 1)
    )


def _restricted_catalog(catalog: Catalog, techniques: Sequence[str]) -> Catalog:
    keep = set(techniques)
    data = dict(catalog)
    data["techniques"] = [t for t in catalog.techniques if t.id in keep]
    data["ratings"] = [r for r in catalog.ratings if r.technique in keep]
    return type(catalog)(**data)
