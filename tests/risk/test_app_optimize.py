"""Best stacks: branch and bound equals exhaustive search; marginal layer values."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ddrisk.catalog.model import SafetyTax
from ddrisk.cli._parse import parse_costs
from ddrisk.errors import InputError
from ddrisk.risk.optimize import (
    DEFAULT_COSTS,
    best_stack_frontier,
    layer_marginal_values,
    optimize_stack,
)
from ddrisk.risk.parameters import resolve_parameters
from tests.conftest import catalogs
from tests.risk.support import brute_force_probability

SETTINGS = settings(max_examples=30, deadline=None)


def exhaustive(catalog, *, budget=None, max_layers=None):
    """Lowest P over every feasible subset (the empty stack always fails: P = 1)."""
    model = resolve_parameters(catalog, catalog.technique_ids).model
    cost = {t: DEFAULT_COSTS[catalog.technique(t).safety_tax] for t in catalog.technique_ids}
    best = 1.0
    for size in range(1, len(catalog.technique_ids) + 1):
        if max_layers is not None and size > max_layers:
            break
        for subset in itertools.combinations(catalog.technique_ids, size):
            if budget is not None and sum(cost[t] for t in subset) > budget + 1e-9:
                continue
            best = min(best, brute_force_probability(model.subset(list(subset))))
    return best


@SETTINGS
@given(catalogs(max_techniques=6, max_modes=4), st.integers(1, 6))
def test_layer_count_optimum_equals_exhaustive_search(catalog, k):
    result = optimize_stack(catalog, max_layers=k, probability_of=brute_force_probability)
    assert len(result.stack) <= k
    assert result.probability == pytest.approx(exhaustive(catalog, max_layers=k), rel=1e-9)
    model = resolve_parameters(catalog, list(result.stack)).model
    assert result.probability == pytest.approx(brute_force_probability(model), rel=1e-12)


@SETTINGS
@given(catalogs(max_techniques=6, max_modes=4), st.floats(0.0, 12.0))
def test_budget_optimum_equals_exhaustive_search(catalog, budget):
    result = optimize_stack(catalog, budget=budget, probability_of=brute_force_probability)
    spent = sum(DEFAULT_COSTS[catalog.technique(t).safety_tax] for t in result.stack)
    assert spent == pytest.approx(result.cost) and spent <= budget + 1e-9
    assert result.probability == pytest.approx(exhaustive(catalog, budget=budget), rel=1e-9)


def test_builtin_best_pair_and_ties_prefer_cheaper(builtin):
    result = optimize_stack(builtin, max_layers=1, probability_of=brute_force_probability)
    # RE and IDA have the same profile (2 prone, 5 not prone) and so the same P; RE is cheaper.
    assert result.stack == ("RE",) and result.cost == 1.0
    pair = optimize_stack(builtin, max_layers=2, probability_of=brute_force_probability)
    assert pair.probability == pytest.approx(exhaustive(builtin, max_layers=2), rel=1e-12)
    assert pair.evaluated < 2**7
    data = pair.to_dict()
    assert data["constraint"] == {"max_layers": 2} and data["n_layers"] == 2
    assert [v["layer"] for v in data["marginal_values"]] == list(pair.stack)


def test_costs_are_overridable_and_change_the_answer(builtin):
    cheap = optimize_stack(builtin, budget=3, probability_of=brute_force_probability)
    assert all(builtin.technique(t).safety_tax is SafetyTax.LOW for t in cheap.stack)
    costs = parse_costs(["low=3", "high=1"])
    flipped = optimize_stack(builtin, budget=2, costs=costs, probability_of=brute_force_probability)
    assert {builtin.technique(t).safety_tax for t in flipped.stack} == {SafetyTax.HIGH}
    with pytest.raises(InputError, match="unknown safety-tax level 'huge'"):
        parse_costs(["huge=3"])
    with pytest.raises(InputError, match="expected LEVEL=COST"):
        parse_costs(["high=-1"])
    with pytest.raises(InputError, match="at least 1 layer"):
        optimize_stack(builtin, max_layers=0, probability_of=brute_force_probability)


def test_zero_budget_gives_the_empty_stack(builtin):
    result = optimize_stack(builtin, budget=0.5, probability_of=brute_force_probability)
    assert result.stack == () and result.probability == 1.0 and result.marginal_values == ()


def test_marginal_values_are_differences_and_ratios(builtin):
    model = resolve_parameters(builtin, ["RLHF", "RE", "SCIAI"]).model
    values = layer_marginal_values(model, probability_of=brute_force_probability)
    full = brute_force_probability(model)
    for value in values:
        rest = [layer for layer in model.layers if layer != value.layer]
        without = brute_force_probability(model.subset(rest))
        assert value.probability_with == pytest.approx(full)
        assert value.difference == pytest.approx(without - full)
        assert value.ratio == pytest.approx(without / full)
        assert value.difference >= 0  # monotonicity: a layer never hurts
    single = layer_marginal_values(model.subset(["RE"]), probability_of=brute_force_probability)
    assert single[0].probability_without == 1.0 and math.isfinite(single[0].ratio)


def test_frontier_over_candidates_searches_only_them(builtin):
    candidates = ["RLHF", "RE", "DEBATE"]
    frontier = best_stack_frontier(
        builtin, candidates=candidates, probability_of=brute_force_probability
    )
    assert [r.constraint for r in frontier] == [{"max_layers": k} for k in (1, 2, 3)]
    for k, result in enumerate(frontier, start=1):
        assert set(result.stack) <= set(candidates)
        alone = optimize_stack(
            builtin, max_layers=k, candidates=candidates, probability_of=brute_force_probability
        )
        assert result.probability == pytest.approx(alone.probability, rel=1e-12)
    whole = best_stack_frontier(builtin, probability_of=brute_force_probability)
    assert len(whole) == len(builtin.technique_ids) > len(frontier)
