"""Reading a fault tree's diagram: the Python pass, the vectorised DDDMP pass and brute force agree.

Large diagrams (CEA9601) are read through CUDD's DDDMP dump and numpy, small ones node by node
in Python. Both are forced here on the same random non-coherent trees (``not``, ``xor``,
``atleast``, ``nand``...) and compared with enumeration, for P(top) and for every importance
measure (each conditioned probability is recomputed by brute force with the event fixed).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from ddrisk.risk import faulttree_numeric
from ddrisk.risk.faulttree import FaultTree, Gate, brute_force_probability, quantify_fault_tree

KINDS = ["and", "or", "atleast", "not", "xor", "nand", "nor", "iff", "imply"]


def _random_tree(seed: int, n_events: int = 8, n_gates: int = 10) -> FaultTree:
    rng = np.random.default_rng(1000 + seed)
    events = {f"e{k}": float(rng.uniform(0.02, 0.95)) for k in range(n_events)}
    gates: dict[str, Gate] = {}
    pool = list(events)
    for g in range(n_gates):
        kind = KINDS[int(rng.integers(len(KINDS)))]
        width = 1 if kind == "not" else 2 if kind in ("iff", "imply") else int(rng.integers(2, 5))
        inputs = tuple(rng.choice(pool, size=width, replace=False).tolist())
        k = int(rng.integers(1, width + 1)) if kind == "atleast" else None
        gates[f"g{g}"] = Gate(kind, inputs, k)
        pool.append(f"g{g}")
    gates["top"] = Gate("or", (f"g{n_gates - 1}", f"g{n_gates - 2}", f"g{n_gates - 3}"))
    return FaultTree(name=f"random{seed}", top="top", basic_events=events, gates=gates)


def _fixed(tree: FaultTree, event: str, value: float) -> FaultTree:
    return FaultTree(
        name=tree.name,
        top=tree.top,
        basic_events={**tree.basic_events, event: value},
        gates=tree.gates,
    )


@pytest.mark.parametrize("seed", range(12))
def test_python_and_vectorised_passes_equal_brute_force(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = _random_tree(seed)
    exact = brute_force_probability(tree)
    small = quantify_fault_tree(tree, importance=True)
    monkeypatch.setattr(faulttree_numeric, "PYTHON_PASS_MAX_NODES", 0)
    large = quantify_fault_tree(tree, importance=True)
    for result in (small, large):
        assert result.probability == pytest.approx(exact, rel=1e-12, abs=1e-15)
    assert small.importance_rows is not None and large.importance_rows is not None
    by_event = {row["event"]: row for row in large.importance_rows}
    for row in small.importance_rows:
        event = row["event"]
        p1 = brute_force_probability(_fixed(tree, event, 1.0))
        p0 = brute_force_probability(_fixed(tree, event, 0.0))
        for rows in (row, by_event[event]):
            assert rows["p_if_certain"] == pytest.approx(p1, rel=1e-9, abs=1e-12)
            assert rows["p_if_impossible"] == pytest.approx(p0, rel=1e-9, abs=1e-12)
            assert rows["birnbaum"] == pytest.approx(p1 - p0, rel=1e-9, abs=1e-12)


def test_vectorised_pass_keeps_probabilities_below_the_smallest_double(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An AND of 40 events at 1e-9 is 1e-360: both passes give its log, not 0."""
    events = {f"e{k}": 1e-9 for k in range(40)}
    tree = FaultTree(
        name="tiny", top="top", basic_events=events, gates={"top": Gate("and", tuple(events))}
    )
    expected = 40 * math.log(1e-9)
    assert quantify_fault_tree(tree).log_probability == pytest.approx(expected, rel=1e-12)
    monkeypatch.setattr(faulttree_numeric, "PYTHON_PASS_MAX_NODES", 0)
    result = quantify_fault_tree(tree)
    assert result.log_probability == pytest.approx(expected, rel=1e-12)
    assert result.probability == 0.0  # as a double; the log carries the value


def test_negated_top_is_read_through_the_complemented_root(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    events = {"a": 0.3, "b": 0.6, "c": 0.2}
    gates = {
        "inner": Gate("or", ("a", "b")),
        "both": Gate("and", ("inner", "c")),
        "top": Gate("not", ("both",)),
    }
    tree = FaultTree(name="neg", top="top", basic_events=events, gates=gates)
    expected = 1.0 - (1.0 - 0.7 * 0.4) * 0.2
    monkeypatch.setattr(faulttree_numeric, "PYTHON_PASS_MAX_NODES", 0)
    assert quantify_fault_tree(tree).probability == pytest.approx(expected, rel=1e-12)


def test_first_small_diagram_is_kept_without_building_others() -> None:
    events = {f"e{k}": 0.1 * (k + 1) for k in range(6)}
    gates = {
        "left": Gate("and", ("e0", "e1", "e2")),
        "right": Gate("atleast", ("e3", "e4", "e5", "e0"), 2),
        "top": Gate("xor", ("left", "right")),
    }
    tree = FaultTree(name="small", top="top", basic_events=events, gates=gates)
    result = quantify_fault_tree(tree)
    assert len(result.orderings_tried) == 1
    assert result.bdd_nodes > 2
    # under a budget of 200 nodes only a 2-node diagram counts as small: the others are tried
    forced = quantify_fault_tree(tree, node_budget=200)
    assert len(forced.orderings_tried) > 1
    assert forced.probability == pytest.approx(result.probability, rel=1e-12)


def test_a_blow_up_inside_one_wide_gate_is_stopped_near_the_budget() -> None:
    """OR of 40 pairs (x_i AND y_i) with every x before every y has 2^40 nodes, all inside
    one wide OR gate: the size check after each input of the gate stops it near the budget,
    and the portfolio's next order (pairs together) gives the exact answer."""
    n = 40
    events = {f"x{i}": 0.01 for i in range(n)} | {f"y{i}": 0.02 for i in range(n)}
    pairs = {f"p{i}": Gate("and", (f"x{i}", f"y{i}")) for i in range(n)}
    tree = FaultTree(
        name="pairs",
        top="top",
        basic_events=events,
        gates={**pairs, "top": Gate("or", tuple(pairs))},
    )
    bad = [f"x{i}" for i in range(n)] + [f"y{i}" for i in range(n)]
    result = quantify_fault_tree(tree, node_budget=10_000, extra_orders=[("interleaved", bad)])
    assert result.orderings_tried[0] == ("interleaved", None)
    assert result.probability == pytest.approx(1 - (1 - 0.01 * 0.02) ** n, rel=1e-12)
