"""Additions with the deployed layers fixed equal exhaustive search."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from ddrisk.audit.additions import best_additions
from ddrisk.catalog import Catalog
from ddrisk.io.catalog import load_catalog
from ddrisk.risk import compute_stack_failure, resolve_parameters
from ddrisk.risk.optimize import DEFAULT_COSTS


def _brute(catalog, fixed, candidates, costs, budget, k):
    full = resolve_parameters(catalog, [*fixed, *candidates]).model
    best = (compute_stack_failure(full.subset(list(fixed))).probability, ())
    for size in range(1, k + 1):
        for combo in itertools.combinations(candidates, size):
            if budget is not None and sum(costs[c] for c in combo) > budget + 1e-9:
                continue
            p = compute_stack_failure(full.subset([*fixed, *combo])).probability
            if p < best[0] - 1e-15:
                best = (p, combo)
    return best


def _random_catalog(seed: int) -> Catalog:
    rng = np.random.default_rng(seed)
    techniques = [f"T{i}" for i in range(7)]
    modes = [f"M{j}" for j in range(5)]
    taxes = ["low", "medium", "high", "unclear"]
    return Catalog.model_validate(
        {
            "id": f"rand{seed}",
            "version": "1",
            "title": "random",
            "raters": [{"id": "r", "name": "r"}],
            "techniques": [
                {"id": t, "name": t, "category": "c", "safety_tax": taxes[int(rng.integers(4))]}
                for t in techniques
            ],
            "failure_modes": [{"id": m, "name": m} for m in modes],
            "ratings": [
                {
                    "technique": t,
                    "failure_mode": m,
                    "probability": float(rng.uniform(0, 1)),
                    "rater": "r",
                }
                for t in techniques
                for m in modes
            ],
        }
    )


@pytest.mark.parametrize(
    ("catalog_name", "fixed", "budget", "k"),
    [
        ("paper", ("RLHF", "W2S"), 3.0, 2),
        ("paper", ("RE",), None, 3),
        ("paper", ("DEBATE",), 2.0, 2),
    ]
    + [(f"random{s}", ("T0", "T1"), 4.0, 3) for s in range(3)],
)
@pytest.mark.parametrize("search", ["exhaustive", "branch-and-bound"])
def test_best_additions_equal_brute_force(catalog_name, fixed, budget, k, search):
    if catalog_name == "paper":
        catalog = load_catalog()
    else:
        catalog = _random_catalog(int(catalog_name.removeprefix("random")))
    candidates = tuple(t for t in catalog.technique_ids if t not in fixed)
    costs = {t: DEFAULT_COSTS[catalog.technique(t).safety_tax] for t in candidates}
    result = best_additions(
        catalog,
        fixed,
        candidates,
        costs=costs,
        budget=budget,
        max_additions=k,
        straight_through=[],
        search=search,
    )
    assert result.search == search
    p_brute, combo = _brute(catalog, fixed, candidates, costs, budget, k)
    assert result.probability_best == pytest.approx(p_brute, rel=1e-9)
    assert result.cost_best <= (budget if budget is not None else float("inf")) + 1e-9
    assert len(result.best) <= k
    if not combo:
        assert result.best == ()
    assert result.probability_fixed >= result.probability_best


def test_addition_explains_which_straight_through_mode_it_closes():
    catalog = load_catalog()
    candidates = ("SCIAI", "IDA", "RE")
    costs = {t: DEFAULT_COSTS[catalog.technique(t).safety_tax] for t in candidates}
    result = best_additions(
        catalog,
        ("RLHF", "RLAIF"),
        candidates,
        costs=costs,
        budget=1.0,
        max_additions=1,
        straight_through=["CAP-DEV", "DEC-AL", "EM-MIS", "EVAL-DIFF", "AL-GEN"],
    )
    assert result.best == ("RE",)  # the only candidate within budget 1 (low tax)
    (addition,) = result.explained
    assert set(addition.closes) == {"CAP-DEV", "EM-MIS", "EVAL-DIFF"}
    assert addition.risk_reduction == pytest.approx(
        result.probability_fixed - result.probability_best
    )
