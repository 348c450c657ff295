"""Best stacks: the techniques that minimise P(stack fails) under a budget or a layer count.

The search is exact (:mod:`ddrisk.risk.optimize_search`): adding a layer never increases
P(stack fails), in the default all-miss stack and in any structure of votes and routes, so
branch and bound with "every open layer added" as the bound finds the optimum while visiting
a small fraction of the ``2 ** n`` stacks; the tests check it against exhaustive search.

With a ``structure`` (:mod:`ddrisk.risk.structure`), a technique the structure places is
chosen or not at its place, and every other candidate joins a ``position`` of the structure
(:mod:`ddrisk.risk.optimize_structure`): the whole stack by default, a named group or route,
or ``"best"``, where each candidate may join any admissible position and the search picks
the best one. Results name the structure of the chosen stack and where each layer went.

Safety-tax costs (overridable through ``costs``): low 1, medium 2,
unclear 2.5, high 3. They follow :attr:`ddrisk.catalog.model.SafetyTax.rank`:
an ordinal scale where each step up costs one more unit and an unclear tax is
priced between medium and high, i.e. treated as probably substantial.
Ties in P(stack fails) are broken explicitly (:data:`TIE_BREAK`): lower cost, then fewer
layers, then catalog order; a result lists the stacks it tied with.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ddrisk import defaults
from ddrisk._jsonnum import json_number
from ddrisk.catalog.model import Catalog, SafetyTax
from ddrisk.errors import InputError
from ddrisk.risk import structure as st
from ddrisk.risk.model import FailureModeModel
from ddrisk.risk.optimize_search import TIE_BREAK, Item, PlacementSearch
from ddrisk.risk.optimize_search import TIE_TOLERANCE as TIE_TOLERANCE
from ddrisk.risk.optimize_structure import (
    BEST,
    ROOT,
    Placement,
    Position,
    StructuredStacks,
    find_position,
    model_with_structure,
    positions,
    remove_absent,
)
from ddrisk.risk.parameters import RiskParameters, resolve_parameters

if TYPE_CHECKING:  # pandas loads only for to_frame() (ddrisk risk start-up)
    import pandas as pd

DEFAULT_COSTS: dict[SafetyTax, float] = {tax: tax.rank for tax in SafetyTax}
MAX_EXACT_TECHNIQUES = 20
MAX_LISTED_TIES = 10
ENUMERATE_STRUCTURED_MODES = 12
METHOD = (
    "exact branch and bound over technique subsets (bound: P(stack fails) is monotone "
    "non-increasing in the set of layers)"
)

ProbabilityFunction = Callable[[FailureModeModel], float]


def engine_probability(engine: str = "exact", seed: int = defaults.SEED) -> ProbabilityFunction:
    """P(stack fails) from :func:`ddrisk.risk.engine.compute_stack_failure`.

    With the exact engine, a structured stack with at most :data:`ENUMERATE_STRUCTURED_MODES`
    uncertain modes is summed over its mode patterns (the exact engine's ``enumerate``
    method, vectorised): the same number as the BDD, without building a diagram portfolio for
    each of the hundreds of stacks a search evaluates.
    """
    from ddrisk.risk.engine import compute_stack_failure
    from ddrisk.risk.exact import stack_failure_probability

    def probability(model: FailureModeModel) -> float:
        if engine == "exact" and model.structured:
            free = int(((model.q > 0) & (model.q < 1)).sum())
            if free <= ENUMERATE_STRUCTURED_MODES:
                return float(stack_failure_probability(model, method="enumerate").probability)
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
    """Marginal value of each layer of a stack (removing it; an empty stack always fails).

    In a structured stack a removed layer always misses (as in
    :func:`ddrisk.risk.assessment.assess_stack`): the rest keep their places, a vote keeps the
    number of flags it needs, and a route left without any layer lets every attack through.
    """
    probability_of = probability_of or engine_probability()
    with_all = probability_of(model)
    values = []
    for layer in model.layers:
        rest = [other for other in model.layers if other != layer]
        without = _probability_without(model, rest, probability_of) if rest else 1.0
        values.append(LayerValue(layer, without, with_all))
    return tuple(values)


def _probability_without(
    model: FailureModeModel, rest: list[str], probability_of: ProbabilityFunction
) -> float:
    if model.structure is None:
        return probability_of(model.subset(rest))
    node = remove_absent(model.structure, rest)
    return 1.0 if node is None else probability_of(model_with_structure(model, node))


@dataclass(frozen=True)
class TiedStack:
    """A stack whose P(stack fails) equals the best's up to rounding, and why it lost."""

    stack: tuple[str, ...]
    probability: float
    cost: float
    decided_by: str
    placements: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "stack": list(self.stack),
            "probability": self.probability,
            "cost": self.cost,
            "n_layers": len(self.stack),
            "placements": dict(self.placements),
            "decided_by": self.decided_by,
        }


@dataclass(frozen=True)
class StructureChoice:
    """The structure the search worked in: as given, where candidates joined, and as chosen."""

    given: Any
    position: str
    positions: tuple[Position, ...]
    chosen: Any
    placements: dict[str, str]
    kept: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "given": {"text": st.describe(self.given), "tree": st.to_data(self.given)},
            "position": self.position,
            "positions": [p.to_dict() for p in self.positions],
            "kept": list(self.kept),
            "chosen": None
            if self.chosen is None
            else {"text": st.describe(self.chosen), "tree": st.to_data(self.chosen)},
            "placements": dict(self.placements),
        }


@dataclass(frozen=True)
class OptimizationResult:
    """The best stack under one constraint, its marginal layer values, ties and structure."""

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
    catalog_sha256: str = ""
    engine: str = "exact"
    seed: int | None = None
    structure: StructureChoice | None = None
    ties: tuple[TiedStack, ...] = ()
    n_tied: int = 0
    tie_break: str = TIE_BREAK

    @property
    def tied(self) -> bool:
        """True when another feasible stack has the same P (the tie-break rules decided)."""
        return self.n_tied > 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "model": self.model,
            "catalog": self.catalog,
            "catalog_sha256": self.catalog_sha256,
            "parameters_sha256": self.parameters_sha256,
            "parameters": self.parameters,
            "engine": self.engine,
            "seed": self.seed,
            "constraint": self.constraint,
            "costs": self.costs,
            "candidates": list(self.candidates),
            "structure": None if self.structure is None else self.structure.to_dict(),
            "stack": list(self.stack),
            "probability": self.probability,
            "cost": self.cost,
            "n_layers": len(self.stack),
            "evaluated_stacks": self.evaluated,
            "tie_break": self.tie_break,
            "tied": self.tied,
            "n_tied": self.n_tied,
            "ties": [tie.to_dict() for tie in self.ties],
            "marginal_values": [value.to_dict() for value in self.marginal_values],
        }

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame([value.to_dict() for value in self.marginal_values])


def optimize_stack(
    catalog: Catalog,
    *,
    params: RiskParameters | None = None,
    budget: float | None = None,
    max_layers: int | None = None,
    costs: Mapping[SafetyTax, float] | None = None,
    candidates: Sequence[str] | None = None,
    probability_of: ProbabilityFunction | None = None,
    structure: st.Node | None = None,
    position: str | None = None,
) -> OptimizationResult:
    """The stack of catalog techniques with the lowest P(stack fails) under the constraint.

    Parameters
    ----------
    catalog
        Techniques to choose from (at most 20 candidates: the search is exact).
    params
        Risk parameters (defaults of :mod:`ddrisk.risk.parameters` when omitted).
    budget
        Maximum total safety-tax cost of the chosen candidates (see ``costs``); ``None``: none.
    max_layers
        Maximum number of chosen candidates; ``None`` for no limit.
    costs
        Cost per safety-tax level; defaults to :data:`DEFAULT_COSTS`.
    candidates
        Restrict the choice to these technique ids (default: all).
    probability_of
        P(stack fails) for a model (default: the exact engine).
    structure
        How layers combine (:mod:`ddrisk.risk.structure`), over catalog technique ids. A
        placed technique that is a candidate is chosen or not at its place; one that is not a
        candidate is kept (always deployed, outside budget and layer count).
    position
        Where candidates the structure does not place join: a path from
        :func:`ddrisk.risk.optimize_structure.positions` (default ``"structure"``, the whole
        stack), or ``"best"`` for every admissible position, the best one per candidate.
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
    custom = probability_of is not None
    probability_of = probability_of or engine_probability()
    technique_cost = {t: cost_table[catalog.technique(t).safety_tax] for t in candidates}
    catalog_rank = {t: k for k, t in enumerate(catalog.technique_ids)}
    kept: list[str] = []
    stacks: StructuredStacks | None = None
    if structure is None:
        if position is not None:
            raise InputError(
                "position", position, "a position needs a structure", "pass structure as well"
            )
        placements = [Placement(t) for t in candidates]
        resolved = resolve_parameters(catalog, candidates, params)
        model = resolved.model

        def probability(mask: int) -> float:
            if not mask:
                return 1.0
            layers = [placements[i].layer for i in range(len(placements)) if mask >> i & 1]
            return probability_of(model.subset(layers))

    else:
        kept, placements, where = _placements(catalog, structure, position, candidates)
        resolved = resolve_parameters(catalog, [*kept, *candidates], params)
        structured = StructuredStacks(resolved.model, structure, kept, placements)
        stacks = structured

        def probability(mask: int) -> float:
            sub_model = structured.model_for(mask)
            return 1.0 if sub_model is None else probability_of(sub_model)

    order_of = {t: k for k, t in enumerate(candidates)}
    items = [
        Item(
            order_of[p.layer],
            technique_cost[p.layer],
            (catalog_rank[p.layer], -1 if p.position is None else _position_rank(p, structure)),
        )
        for p in placements
    ]
    search = PlacementSearch(items, probability, budget=budget, max_layers=max_layers)
    singles = [search.probability(1 << i) for i in range(len(items))]
    order = sorted(range(len(items)), key=lambda i: (singles[i], items[i].cost, items[i].rank))
    best = search.run(order)

    def stack_of(mask: int) -> tuple[str, ...]:
        if stacks is None:
            return tuple(p.layer for k, p in enumerate(placements) if mask >> k & 1)
        node = stacks.structure_for(mask)
        chosen = {p.layer for p in stacks.chosen(mask)} | set(kept)
        return tuple(st.leaves(node)) if node is not None else tuple(sorted(chosen))

    def placed(mask: int) -> dict[str, str]:
        return {
            p.layer: p.position.path
            for k, p in enumerate(placements)
            if mask >> k & 1 and p.position is not None
        }

    ties = search.ties(best)
    best_key = search.key(best)
    best_model: FailureModeModel | None
    if stacks is None:
        best_model = model.subset(list(stack_of(best))) if best else None
    else:
        best_model = stacks.model_for(best)
    marginal_values = (
        layer_marginal_values(best_model, probability_of=probability_of)
        if best_model is not None
        else ()
    )
    constraint: dict[str, float] = {}
    if budget is not None:
        constraint["budget"] = budget
    if max_layers is not None:
        constraint["max_layers"] = max_layers
    choice = None
    if structure is not None and stacks is not None:
        choice = StructureChoice(
            given=structure,
            position=position or ROOT,
            positions=where,
            chosen=stacks.structure_for(best),
            placements=placed(best),
            kept=tuple(kept),
        )
    return OptimizationResult(
        stack=stack_of(best),
        probability=search.probability(best),
        cost=search.cost(best),
        constraint=constraint,
        costs={tax.value: value for tax, value in cost_table.items()},
        candidates=tuple(candidates),
        evaluated=sum(1 for mask in search.cache if mask),
        marginal_values=marginal_values,
        catalog=resolved.catalog_label,
        parameters_sha256=resolved.parameters_hash,
        parameters=resolved.to_dict()["parameters"],
        model=resolved.model.name,
        catalog_sha256=resolved.catalog_hash,
        engine="custom probability function" if custom else "exact",
        structure=choice,
        ties=tuple(
            TiedStack(
                stack_of(mask),
                search.probability(mask),
                search.cost(mask),
                search.decided_by(best_key, search.key(mask)),
                placed(mask),
            )
            for mask in ties[:MAX_LISTED_TIES]
        ),
        n_tied=len(ties),
    )


def _placements(
    catalog: Catalog, structure: st.Node, position: str | None, candidates: Sequence[str]
) -> tuple[list[str], list[Placement], tuple[Position, ...]]:
    """Kept layers, the search's placements and the positions candidates may join."""
    known = set(catalog.technique_ids)
    placed = st.leaves(structure)
    for layer in placed:
        if layer not in known:
            raise InputError(
                "structure",
                layer,
                "not a technique of the catalog",
                "place catalog technique ids: " + ", ".join(catalog.technique_ids),
            )
    if position is None or position.strip() == BEST:
        where = positions(structure) if position is not None else (positions(structure)[0],)
    else:
        try:
            where = (find_position(structure, position),)
        except ValueError as error:
            raise InputError(
                "position", position, str(error), "name one of those positions"
            ) from None
    kept = [layer for layer in placed if layer not in candidates]
    placements = []
    for technique in candidates:
        if technique in placed:
            placements.append(Placement(technique))
        else:
            placements.extend(Placement(technique, p) for p in where)
    return kept, placements, where


def _position_rank(placement: Placement, structure: st.Node | None) -> int:
    assert structure is not None and placement.position is not None
    return [p.path for p in positions(structure)].index(placement.position.path)


def best_stack_frontier(
    catalog: Catalog,
    *,
    params: RiskParameters | None = None,
    costs: Mapping[SafetyTax, float] | None = None,
    candidates: Sequence[str] | None = None,
    probability_of: ProbabilityFunction | None = None,
    structure: st.Node | None = None,
    position: str | None = None,
) -> tuple[OptimizationResult, ...]:
    """The best stack of at most k layers, for every k from 1 to the number of candidates.

    Without a structure and with ``candidates``, the frontier is that of the catalog
    restricted to those techniques (their ratings kept), and the results name the restricted
    catalog's content hash. With a structure, the catalog stays whole (layers the structure
    places outside ``candidates`` are kept) and ``structure``/``position`` are passed on.
    """
    probability_of = probability_of or engine_probability()
    if structure is None:
        if candidates is not None:
            catalog = _restricted_catalog(catalog, candidates)
        size = len(catalog.technique_ids)
    else:
        size = len(candidates or catalog.technique_ids)
    return tuple(
        optimize_stack(
            catalog,
            params=params,
            max_layers=k,
            costs=costs,
            probability_of=probability_of,
            candidates=candidates if structure is not None else None,
            structure=structure,
            position=position,
        )
        for k in range(1, size + 1)
    )


def _restricted_catalog(catalog: Catalog, techniques: Sequence[str]) -> Catalog:
    keep = set(techniques)
    data = dict(catalog)
    data["techniques"] = [t for t in catalog.techniques if t.id in keep]
    data["ratings"] = [r for r in catalog.ratings if r.technique in keep]
    return type(catalog)(**data)
