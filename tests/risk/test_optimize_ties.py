"""Best-stack ties: broken by cost, then size, then catalog order, and every tie reported."""

from __future__ import annotations

import itertools

import pytest

from ddrisk.catalog.model import SafetyTax
from ddrisk.risk.optimize import MAX_LISTED_TIES, optimize_stack
from ddrisk.risk.optimize_search import TIE_BREAK
from ddrisk.risk.parameters import RiskParameters, parameters_from_mapping, resolve_parameters
from tests.conftest import make_catalog
from tests.risk.support import brute_force_probability


def _params(mapping):
    return RiskParameters().merged(parameters_from_mapping(mapping, source="test"))


def test_equal_profiles_tie_and_the_cheaper_wins(builtin):
    result = optimize_stack(builtin, max_layers=1, probability_of=brute_force_probability)
    assert result.stack == ("RE",) and result.tied and result.n_tied == 1
    [tie] = result.ties
    assert tie.stack == ("IDA",) and tie.decided_by == "lower safety-tax cost"
    assert tie.cost == 3.0 > result.cost == 1.0
    model = resolve_parameters(builtin, ["RE", "IDA"]).model
    assert brute_force_probability(model.subset(["IDA"])) == pytest.approx(
        brute_force_probability(model.subset(["RE"])), rel=1e-15
    )


def test_same_cost_and_size_falls_to_catalog_order(builtin):
    # RLAIF and W2S have the same ratings and tax: only catalog order separates them
    result = optimize_stack(builtin, max_layers=6, probability_of=brute_force_probability)
    assert "RLAIF" in result.stack and "W2S" not in result.stack
    [tie] = result.ties
    assert set(tie.stack) == set(result.stack) - {"RLAIF"} | {"W2S"}
    assert tie.decided_by == "catalog order" and tie.cost == result.cost
    data = result.to_dict()
    assert data["tied"] is True and data["n_tied"] == 1 and data["tie_break"] == TIE_BREAK
    assert data["ties"][0]["decided_by"] == "catalog order"


def test_a_useless_free_layer_ties_and_fewer_layers_win():
    # T2 always fails (residual 1), so adding it changes nothing; its tax is made free
    catalog = make_catalog(
        [["not_prone", "prone"], ["prone", "not_prone"], ["not_prone", "not_prone"]],
        ["low", "low", "medium"],
    )
    params = _params({"residual": {"T2": 1.0}})
    result = optimize_stack(
        catalog,
        params=params,
        costs={SafetyTax.MEDIUM: 0.0},
        probability_of=brute_force_probability,
    )
    assert result.stack == ("T0", "T1")
    [tie] = result.ties
    assert tie.stack == ("T0", "T1", "T2") and tie.decided_by == "fewer layers"
    assert tie.cost == result.cost


def test_no_tie_is_reported_when_the_best_is_unique(builtin):
    result = optimize_stack(builtin, max_layers=2, probability_of=brute_force_probability)
    assert not result.tied and result.ties == () and result.to_dict()["ties"] == []


def test_every_tie_is_counted_and_the_list_is_capped(builtin):
    # nothing ever occurs and nothing fails on its own: every non-empty stack has P = 0
    params = _params({"q": {"default": 0.0}, "residual": {"default": 0.0}})
    result = optimize_stack(builtin, params=params, max_layers=3)
    n = len(builtin.technique_ids)
    feasible = sum(len(list(itertools.combinations(range(n), k))) for k in (1, 2, 3))
    assert result.probability == 0.0 and len(result.stack) == 1
    assert result.n_tied == feasible - 1 and len(result.ties) == MAX_LISTED_TIES
    keys = [(t.cost, len(t.stack)) for t in result.ties]
    assert keys == sorted(keys) and keys[0] >= (result.cost, 1)
