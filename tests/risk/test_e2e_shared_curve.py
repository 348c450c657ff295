"""The prefix curve from shared work equals n fresh solves; the shared plan never widens.

``stack_curve`` plans one elimination order for the whole stack and every prefix reuses it
(:func:`ddrisk.risk.exact.mode_elimination_rank`); these tests hold it to fresh, independent
solves of each prefix (and to brute force on small stacks), on certain and graded cells, several
components, certain modes, structured stacks, and past the budget.
"""

from __future__ import annotations

import heapq

import numpy as np
import pytest

from ddrisk.io.catalog import load_catalog
from ddrisk.risk.assessment import assess_stack
from ddrisk.risk.dependence import FAILURE_MODE, stack_curve
from ddrisk.risk.engine import compute_stack_failure
from ddrisk.risk.exact import (
    BudgetExceeded,
    _min_fill_order,
    _mode_adjacency,
    _plan_width,
    _reduce,
    mode_elimination_rank,
    stack_failure_probability,
)
from ddrisk.risk.model import FailureModeModel
from ddrisk.risk.structure import AllMiss, AnyRoute, Vote

from .support import brute_force_probability


def _random_model(seed: int, n_layers: int, n_modes: int, *, graded: bool) -> FailureModeModel:
    rng = np.random.default_rng(seed)
    reach = rng.random((n_layers, n_modes)) < rng.uniform(0.1, 0.4)
    p = np.where(reach, rng.uniform(0.2, 1.0, reach.shape) if graded else 1.0, 0.0)
    q = rng.uniform(0.001, 0.3, n_modes)
    q[rng.random(n_modes) < 0.1] = 1.0  # some certain modes (folded into residuals)
    q[rng.random(n_modes) < 0.1] = 0.0  # some impossible ones
    return FailureModeModel(
        layers=tuple(f"L{i}" for i in range(n_layers)),
        modes=tuple(f"m{j}" for j in range(n_modes)),
        q=q,
        p=p,
        r=rng.uniform(0.0, 0.05, n_layers),
    )


@pytest.mark.parametrize("seed", range(12))
def test_shared_plan_curve_equals_fresh_solves(seed: int) -> None:
    model = _random_model(seed, 6 + seed % 9, 8 + 2 * seed, graded=seed % 2 == 1)
    curve = stack_curve(model)
    assert curve.failure_mode_engine == "exact"
    for n in range(1, model.n_layers + 1):
        fresh = compute_stack_failure(model.subset(list(model.layers[:n])), engine="exact")
        assert curve.series[FAILURE_MODE][n - 1] == pytest.approx(fresh.probability, rel=1e-12)
        assert curve.log_series is not None
        assert curve.log_series[FAILURE_MODE][n - 1] == pytest.approx(
            fresh.log_probability, rel=1e-12, abs=1e-12
        )


def test_shared_plan_curve_equals_brute_force_on_small_stacks() -> None:
    for seed in range(5):
        model = _random_model(100 + seed, 5, 9, graded=True)
        curve = stack_curve(model)
        for n in range(1, model.n_layers + 1):
            truth = brute_force_probability(model.subset(list(model.layers[:n])))
            assert curve.series[FAILURE_MODE][n - 1] == pytest.approx(truth, rel=1e-11)


def test_restricted_order_is_never_wider_and_gives_the_same_probability() -> None:
    for seed in range(20):
        model = _random_model(200 + seed, 14, 30, graded=seed % 3 == 0)
        rank = mode_elimination_rank(model)
        full_widths = [
            _plan_width(_mode_adjacency(c.p), _min_fill_order(_mode_adjacency(c.p)))
            for c in _reduce(model).components
        ]
        for n in (3, 7, 11):
            prefix = model.subset(list(model.layers[:n]))
            for comp in _reduce(prefix).components:
                order = sorted(range(comp.p.shape[1]), key=lambda j: int(rank[comp.modes[j]]))
                assert _plan_width(_mode_adjacency(comp.p), order) <= max(full_widths, default=0)
            shared = stack_failure_probability(prefix, mode_rank=rank, method="dp")
            fresh = stack_failure_probability(prefix, method="dp")
            assert shared.probability == pytest.approx(fresh.probability, rel=1e-12)


def _reference_min_fill(adjacency: list[set[int]]) -> list[int]:
    """The set-based min-fill order the bit-mask version replaced (same ties, same updates)."""
    adj = [set(a) for a in adjacency]
    alive = [True] * len(adj)

    def fill(v: int) -> int:
        nb = adj[v]
        d = len(nb)
        return (d * (d - 1) - sum(len(adj[a] & nb) for a in nb)) // 2

    version = [0] * len(adj)
    heap = [(fill(v), len(adj[v]), v, 0) for v in range(len(adj))]
    heapq.heapify(heap)
    order: list[int] = []
    while heap:
        _, _, v, ver = heapq.heappop(heap)
        if not alive[v] or ver != version[v]:
            continue
        alive[v] = False
        order.append(v)
        nb = adj[v]
        for a in nb:
            adj[a].discard(v)
            adj[a].update(nb - {a})
        touched = set(nb)
        for a in nb:
            touched.update(adj[a])
        if len(touched) > 4 * len(nb) + 64:
            touched = set(nb)
        for a in touched:
            if alive[a]:
                version[a] += 1
                heapq.heappush(heap, (fill(a), len(adj[a]), a, version[a]))
        adj[v] = set()
    return order


def test_bitmask_min_fill_gives_the_reference_order() -> None:
    rng = np.random.default_rng(7)
    for _ in range(60):
        reach = rng.random((int(rng.integers(2, 40)), int(rng.integers(2, 90)))) < 0.15
        adjacency = _mode_adjacency(reach * 1.0)
        assert _min_fill_order(adjacency) == _reference_min_fill(adjacency)


def test_curve_past_the_budget_mixes_engines_and_says_so() -> None:
    rng = np.random.default_rng(5)
    n_layers, n_modes = 24, 30
    dense = FailureModeModel(
        layers=tuple(f"L{i}" for i in range(n_layers)),
        modes=tuple(f"m{j}" for j in range(n_modes)),
        q=rng.uniform(0.01, 0.2, n_modes),
        p=np.where(
            rng.random((n_layers, n_modes)) < 0.3, rng.uniform(0.3, 0.9, (n_layers, n_modes)), 0
        ),
        r=rng.uniform(0, 0.05, n_layers),
    )
    mixed = stack_curve(dense, state_budget=1024, node_budget=1024, n_samples=4000)
    label = mixed.failure_mode_engine or ""
    assert label.startswith("exact for n in 1-") and "sample (4000 draws, seed 0) for n in" in label
    first_sampled = int(label.split("sample (4000 draws, seed 0) for n in ")[1].split("-")[0])
    assert 1 < first_sampled < n_layers
    for n in range(1, first_sampled + 2):
        fresh = compute_stack_failure(dense.subset(list(dense.layers[:n])), engine="exact")
        tolerance = 1e-12 if n < first_sampled else 0.5  # sampled points: estimates
        assert mixed.series[FAILURE_MODE][n - 1] == pytest.approx(fresh.probability, rel=tolerance)
    with pytest.raises(BudgetExceeded):
        stack_curve(dense, engine="exact", state_budget=1024, node_budget=1024)


def test_assess_stack_reuses_the_headline_and_structured_stacks_use_their_all_miss_curve() -> None:
    catalog = load_catalog()
    stack = ["RLHF", "RE", "DEBATE", "SCIAI"]
    risk = assess_stack(catalog, stack)
    assert risk.curve is not None
    assert risk.curve.series[FAILURE_MODE][-1] == risk.result.probability
    structure = AnyRoute(
        (AllMiss(("RLHF", "RE")), Vote(flag=2, children=("DEBATE", "SCIAI", "RE")))
    )
    structured = assess_stack(catalog, stack, structure=structure)
    assert structured.curve is not None
    for n in range(1, len(stack) + 1):
        fresh = compute_stack_failure(
            structured.resolved.model.__class__(
                layers=tuple(stack[:n]),
                modes=structured.resolved.model.modes,
                q=structured.resolved.model.q,
                p=structured.resolved.model.p[:n],
                r=structured.resolved.model.r[:n],
            ),
            engine="exact",
        )
        assert structured.curve.series[FAILURE_MODE][n - 1] == pytest.approx(
            fresh.probability, rel=1e-12
        )
