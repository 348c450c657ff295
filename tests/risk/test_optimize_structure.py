"""Structured best stacks equal brute force over every choice and placement, for every gate kind.

The oracle below does not use the optimiser's helpers: it enumerates every assignment (each
candidate absent, present at its place, or joined at one allowed position), builds the joined
structure with its own small implementation of the joining rules, keeps *every* involved
layer in the model (an absent layer gets residual 1, i.e. always misses) and sums over mode
subsets with :func:`ddrisk.risk.structured.enumerate_structured`.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hst

from ddrisk.errors import InputError
from ddrisk.risk import structure as st
from ddrisk.risk.optimize import DEFAULT_COSTS, layer_marginal_values, optimize_stack
from ddrisk.risk.optimize_structure import positions, remove_absent
from ddrisk.risk.parameters import resolve_parameters
from ddrisk.risk.structured import enumerate_structured
from tests.conftest import LEVELS, TAXES, make_catalog

KINDS = ("all_miss", "any_route", "vote")


def brute(model):
    return enumerate_structured(model)


def joined(node, joins, address=()):
    """The joining rules, written out independently of ddrisk.risk.optimize_structure."""
    if not isinstance(node, str):
        kids = tuple(joined(c, joins, (*address, k)) for k, c in enumerate(node.children))
        node = st.Vote(node.flag, kids) if isinstance(node, st.Vote) else type(node)(kids)
    extra = tuple(joins.get(address, ()))
    if not extra:
        return node
    if isinstance(node, st.AllMiss):
        return st.AllMiss(node.children + extra)
    if isinstance(node, st.Vote):
        return st.Vote(node.flag, node.children + extra)
    return st.AllMiss((node, *extra))


def oracle(catalog, structure, candidates, where, *, budget=None, max_layers=None):
    """Every feasible assignment with its exact P (absent layers always miss)."""
    placed = st.leaves(structure)
    kept = [t for t in placed if t not in candidates]
    base = resolve_parameters(catalog, [*kept, *candidates]).model
    cost = {t: DEFAULT_COSTS[catalog.technique(t).safety_tax] for t in candidates}
    options = [[None, "here"] if t in placed else [None, *where] for t in candidates]
    rows = []
    for choice in itertools.product(*options):
        chosen = [t for t, c in zip(candidates, choice, strict=True) if c is not None]
        if max_layers is not None and len(chosen) > max_layers:
            continue
        if budget is not None and sum(cost[t] for t in chosen) > budget + 1e-9:
            continue
        joins = {}
        for t, c in zip(candidates, choice, strict=True):
            if c not in (None, "here"):
                joins.setdefault(c.address, []).append(t)
        node = joined(structure, joins)
        layers = st.leaves(node)
        r = np.array([base.r[base.layers.index(t)] for t in layers])
        present = {*kept, *chosen}
        r[[i for i, t in enumerate(layers) if t not in present]] = 1.0
        model = replace(base.subset(layers), structure=node).with_parameters(r=r)
        placements = {
            t: c.path for t, c in zip(candidates, choice, strict=True) if c not in (None, "here")
        }
        rows.append((brute(model), sum(cost[t] for t in chosen), sorted(chosen), placements))
    return rows


@hst.composite
def structures(draw, layers, root_kind):
    """A structure of ``root_kind`` over all ``layers``, with a nested group of another kind."""
    layers = list(layers)

    def group(kind, members):
        if kind == "vote":
            return st.Vote(draw(hst.integers(1, len(members))), tuple(members))
        return st.AllMiss(tuple(members)) if kind == "all_miss" else st.AnyRoute(tuple(members))

    if len(layers) >= 3 and draw(hst.booleans()):
        inner_kind = draw(hst.sampled_from([k for k in KINDS if k != root_kind]))
        cut = draw(hst.integers(2, len(layers) - 1))
        return group(root_kind, [group(inner_kind, layers[:cut]), *layers[cut:]])
    return group(root_kind, layers)


@hst.composite
def problems(draw, root_kind):
    n_t = draw(hst.integers(3, 5))
    n_m = draw(hst.integers(1, 3))
    levels = [[draw(hst.sampled_from(LEVELS)) for _ in range(n_m)] for _ in range(n_t)]
    taxes = [draw(hst.sampled_from(TAXES)) for _ in range(n_t)]
    catalog = make_catalog(levels, taxes)
    ids = catalog.technique_ids
    placed = draw(hst.lists(hst.sampled_from(ids), min_size=2, max_size=min(4, n_t), unique=True))
    structure = draw(structures(placed, root_kind))
    candidates = draw(hst.lists(hst.sampled_from(ids), min_size=1, max_size=n_t, unique=True))
    paths = [p.path for p in positions(structure)]
    position = draw(hst.sampled_from([None, "best", *paths]))
    limit = draw(hst.sampled_from(["budget", "layers"]))
    budget = draw(hst.floats(0.0, 8.0)) if limit == "budget" else None
    max_layers = draw(hst.integers(1, 3)) if limit == "layers" else None
    return catalog, structure, candidates, position, budget, max_layers


@pytest.mark.parametrize("root_kind", KINDS)
@settings(max_examples=60, deadline=None)
@given(data=hst.data())
def test_structured_optimum_equals_brute_force(root_kind, data):
    catalog, structure, candidates, position, budget, max_layers = data.draw(problems(root_kind))
    result = optimize_stack(
        catalog,
        structure=structure,
        candidates=candidates,
        position=position,
        budget=budget,
        max_layers=max_layers,
        probability_of=brute,
    )
    every = positions(structure)
    where = (
        every if position == "best" else [p for p in every if p.path == (position or "structure")]
    )
    rows = oracle(catalog, structure, candidates, where, budget=budget, max_layers=max_layers)
    best_p = min(row[0] for row in rows)
    assert result.probability == pytest.approx(best_p, rel=1e-9, abs=1e-15)
    # the reported choice, rebuilt by the oracle, has the reported P and obeys the constraint
    chosen = sorted(t for t in candidates if t in result.stack)
    mine = [row for row in rows if row[2] == chosen and row[3] == result.structure.placements]
    assert len(mine) == 1 and mine[0][0] == pytest.approx(result.probability, rel=1e-9, abs=1e-15)
    assert set(result.structure.kept) == set(st.leaves(structure)) - set(candidates)
    # the explicit tie-break: among equal-P choices, the cheapest, then the fewest layers
    tied = [row for row in rows if abs(row[0] - best_p) <= 1e-10 * max(best_p, 1e-300)]
    cheapest = min(row[1] for row in tied)
    assert result.cost == pytest.approx(cheapest, abs=1e-9)
    assert len(chosen) == min(len(row[2]) for row in tied if abs(row[1] - cheapest) <= 1e-9)
    # every tie is found, none invented
    assert result.n_tied == len(tied) - 1 and result.tied == (len(tied) > 1)
    for tie in result.ties:
        assert tie.probability == pytest.approx(best_p, rel=1e-9, abs=1e-15)


def _catalog_with_weak_technique():
    # T0, T1 cover M0..M2 well; T2 is prone to everything: an all-miss optimiser never picks it.
    levels = [
        ["not_prone", "not_prone", "prone"],
        ["not_prone", "prone", "not_prone"],
        ["prone", "prone", "prone"],
    ]
    return make_catalog(levels, ["low", "low", "low"])


def test_structure_changes_the_best_stack():
    catalog = _catalog_with_weak_technique()
    blind = optimize_stack(catalog, max_layers=2, probability_of=brute)
    assert "T2" not in blind.stack
    # two attack routes: T0+T1 guard the first, T2 alone the second; a route with no layer
    # lets everything through, so the best pair must keep T2
    routes = st.from_data({"any_route": [{"all_miss": ["T0", "T1"]}, "T2"]})
    aware = optimize_stack(catalog, max_layers=2, structure=routes, probability_of=brute)
    assert "T2" in aware.stack and set(aware.stack) != set(blind.stack)
    rows = oracle(catalog, routes, catalog.technique_ids, positions(routes)[:1], max_layers=2)
    assert aware.probability == pytest.approx(min(r[0] for r in rows), rel=1e-12)
    # the blind choice, deployed in this structure, leaves the second route open
    assert min(r[0] for r in rows if r[2] == sorted(blind.stack)) == pytest.approx(1.0)
    assert aware.structure.chosen is not None and "any route" in st.describe(aware.structure.chosen)


def test_position_decides_where_a_new_layer_helps_most():
    catalog = _catalog_with_weak_technique()
    routes = st.from_data({"any_route": ["T0", "T2"]})
    # T1 is not placed: joining the weak route (T2) helps more than joining T0's route
    weak = optimize_stack(
        catalog,
        candidates=["T1"],
        structure=routes,
        position="structure.any_route[1]",
        max_layers=1,
        probability_of=brute,
    )
    strong = optimize_stack(
        catalog,
        candidates=["T1"],
        structure=routes,
        position="structure.any_route[0]",
        max_layers=1,
        probability_of=brute,
    )
    best = optimize_stack(
        catalog,
        candidates=["T1"],
        structure=routes,
        position="best",
        max_layers=1,
        probability_of=brute,
    )
    assert weak.probability < strong.probability
    assert st.describe(weak.structure.chosen) == "any route of (T0, all miss (T2, T1))"
    # in front of both routes (the whole stack) beats either route alone
    root = optimize_stack(
        catalog, candidates=["T1"], structure=routes, max_layers=1, probability_of=brute
    )
    assert root.probability < weak.probability
    assert best.probability == pytest.approx(root.probability, rel=1e-12)
    assert best.structure.placements == {"T1": "structure"}
    assert best.structure.kept == ("T0", "T2")
    assert st.describe(best.structure.chosen) == "all miss (any route of (T0, T2), T1)"
    data = best.to_dict()["structure"]
    assert data["position"] == "best" and data["placements"] == {"T1": "structure"}
    assert [p["path"] for p in data["positions"]] == [
        "structure",
        "structure.any_route[0]",
        "structure.any_route[1]",
    ]
    assert data["given"]["tree"] == {"any_route": ["T0", "T2"]}


def test_default_engine_agrees_with_brute_force_on_a_nested_vote():
    catalog = _catalog_with_weak_technique()
    vote = st.from_data({"vote": {"flag": 2, "of": ["T0", "T1", {"all_miss": ["T2"]}]}})
    exact = optimize_stack(catalog, structure=vote, budget=2.0)
    reference = optimize_stack(catalog, structure=vote, budget=2.0, probability_of=brute)
    assert exact.stack == reference.stack
    assert exact.probability == pytest.approx(reference.probability, rel=1e-10)
    assert exact.engine == "exact" and reference.engine == "custom probability function"


def test_removing_layers_from_a_structure():
    vote = st.from_data({"vote": {"flag": 2, "of": ["A", "B", "C"]}})
    assert remove_absent(vote, {"A", "B", "C"}) == vote
    assert remove_absent(vote, {"A", "B"}) == st.AnyRoute(("A", "B"))  # both must flag
    assert remove_absent(vote, {"A"}) is None  # one voter can never give two flags
    routes = st.from_data({"any_route": [{"all_miss": ["A", "B"]}, "C"]})
    assert remove_absent(routes, {"A", "C"}) == st.AnyRoute(("A", "C"))
    assert remove_absent(routes, {"A", "B"}) is None  # route C undefended
    nested = st.from_data({"all_miss": ["A", {"all_miss": ["B", "C"]}]})
    assert remove_absent(nested, {"A", "B", "C"}) == st.AllMiss(("A", "B", "C"))


def test_marginal_values_in_a_structure_are_without_the_layer():
    catalog = _catalog_with_weak_technique()
    model = resolve_parameters(catalog, ["T0", "T1", "T2"]).model
    routes = st.from_data({"any_route": [{"all_miss": ["T0", "T1"]}, "T2"]})
    structured = replace(model, structure=routes)
    values = {v.layer: v for v in layer_marginal_values(structured, probability_of=brute)}
    assert values["T2"].probability_without == 1.0  # its route is left open
    r = np.array(model.r)
    r[0] = 1.0
    assert values["T0"].probability_without == pytest.approx(
        brute(structured.with_parameters(r=r)), rel=1e-12
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"position": "structure"}, "a position needs a structure"),
        (
            {"structure": st.AllMiss(("T0", "T1")), "position": "structure.all_miss[5]"},
            re.escape("admissible positions: structure = all miss (T0, T1)"),
        ),
        ({"structure": st.AllMiss(("T0", "NOPE"))}, "not a technique of the catalog"),
    ],
)
def test_bad_structure_or_position_is_an_input_error(kwargs, message):
    with pytest.raises(InputError, match=message):
        optimize_stack(_catalog_with_weak_technique(), max_layers=1, **kwargs)


@pytest.mark.parametrize("position", [None, "best", "structure.any_route[1]"])
def test_a_layer_guarding_two_routes_equals_brute_force(position):
    # T0 guards both routes: one event in two places, so routes stay coupled through it
    catalog = make_catalog(
        [
            ["prone", "not_prone", "unclear"],
            ["not_prone", "prone", "prone"],
            ["unclear", "not_prone", "prone"],
            ["not_prone", "unclear", "not_prone"],
        ],
        ["low", "medium", "high", "low"],
    )
    shared = st.from_data({"any_route": [{"all_miss": ["T0", "T1"]}, {"all_miss": ["T0", "T2"]}]})
    result = optimize_stack(
        catalog, structure=shared, position=position, budget=4.0, probability_of=brute
    )
    every = positions(shared)
    where = (
        every if position == "best" else [p for p in every if p.path == (position or "structure")]
    )
    rows = oracle(catalog, shared, catalog.technique_ids, where, budget=4.0)
    assert result.probability == pytest.approx(min(r[0] for r in rows), rel=1e-12)
    exact = optimize_stack(catalog, structure=shared, position=position, budget=4.0)
    assert exact.probability == pytest.approx(result.probability, rel=1e-10)
