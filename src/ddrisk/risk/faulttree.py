"""General Boolean fault trees, quantified exactly with a BDD (CUDD through ``dd``).

A :class:`FaultTree` is a set of basic events with probabilities, optional constant house
events, and named gates (``and``, ``or``, ``atleast``, ``not``, ``xor``, ``nand``, ``nor``,
``iff``, ``imply``, ``null``) over them; its top gate is the event of interest. It is what an
Open-PSA MEF file says (:mod:`ddrisk.io.mef` reads one) and what a structured stack compiles to.

:func:`quantify_fault_tree` builds the reduced ordered BDD of the top gate in several variable
orders (a portfolio: depth-first from the top, depth-first with the largest sub-trees first,
breadth-first, and CUDD's sifting from the best static order), keeps the smallest diagram, and
reads the exact top-event probability off it. Negation is exact (a BDD is canonical for any
Boolean function), so non-coherent trees with ``not`` or ``xor`` get their true probability,
not a rare-event or min-cut-set approximation. The traversal keeps mantissa/exponent pairs, so
probabilities far below ``1e-300`` keep their digits.

Importance measures come from one reverse pass over the same diagram: the top event's
probability is multilinear in each basic event's probability, so its partial derivative (the
Birnbaum measure) gives both conditioned probabilities, ``P(x = 1) = P + (1 - p) B`` and
``P(x = 0) = P - p B``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ddrisk._jsonnum import json_number, json_ready
from ddrisk.errors import DdriskError
from ddrisk.risk.exact import DEFAULT_NODE_BUDGET, BudgetExceeded, _bdd_module, _bdd_probability

GATE_KINDS = ("and", "or", "atleast", "not", "xor", "nand", "nor", "iff", "imply", "null")
PORTFOLIO_SECONDS = 5.0
"""No new ordering of the portfolio is started after this many seconds once one diagram fits."""


@dataclass(frozen=True)
class Gate:
    """One gate: ``kind`` over ``inputs`` (names of gates, basic or house events).

    ``k`` is the threshold of an ``atleast`` gate (true when at least ``k`` inputs are).
    """

    kind: str
    inputs: tuple[str, ...]
    k: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in GATE_KINDS:
            raise ValueError(f"gate kind must be one of {GATE_KINDS}, got {self.kind!r}")
        if self.kind == "atleast" and (self.k is None or not 1 <= self.k <= len(self.inputs)):
            raise ValueError("an atleast gate needs 1 <= k <= number of inputs")
        if self.kind in ("not", "null") and len(self.inputs) != 1:
            raise ValueError(f"a {self.kind} gate takes exactly one input")
        if self.kind in ("iff", "imply") and len(self.inputs) != 2:
            raise ValueError(f"an {self.kind} gate takes exactly two inputs")
        if not self.inputs:
            raise ValueError("a gate needs at least one input")


@dataclass(frozen=True)
class FaultTree:
    """A Boolean fault tree: basic events, house events and gates, with a top gate.

    Examples
    --------
    >>> tree = FaultTree(name="t", top="top", basic_events={"a": 0.1, "b": 0.2},
    ...     gates={"top": Gate("and", ("a", "b"))})
    >>> round(quantify_fault_tree(tree).probability, 12)
    0.02
    """

    name: str
    top: str
    basic_events: Mapping[str, float]
    gates: Mapping[str, Gate]
    house_events: Mapping[str, bool] = field(default_factory=dict)
    source: str = ""

    def __post_init__(self) -> None:
        for event, value in self.basic_events.items():
            if not (isinstance(value, float | int) and 0.0 <= float(value) <= 1.0):
                raise ValueError(f"basic event {event!r}: probability must be in [0, 1]")
        names = set(self.basic_events) | set(self.house_events)
        clash = names & set(self.gates)
        if clash or len(self.basic_events) + len(self.house_events) != len(names):
            raise ValueError(f"names used twice: {sorted(clash) or 'house/basic events'}")
        if self.top not in self.gates and self.top not in names:
            raise ValueError(f"top {self.top!r} is not defined")
        for gate_name, gate in self.gates.items():
            for argument in gate.inputs:
                if argument not in self.gates and argument not in names:
                    raise ValueError(f"gate {gate_name!r} uses undefined {argument!r}")
        self.topological_gates()  # raises on cycles

    def topological_gates(self) -> list[str]:
        """Gates reachable from the top, inputs before the gates that use them."""
        order: list[str] = []
        state: dict[str, int] = {}
        stack: list[tuple[str, Iterator[str]]] = []
        if self.top in self.gates:
            stack.append((self.top, iter(self.gates[self.top].inputs)))
            state[self.top] = 1
        while stack:
            name, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                state[name] = 2
                order.append(name)
                continue
            if child not in self.gates:
                continue
            if state.get(child) == 1:
                raise ValueError(f"gate {child!r} depends on itself")
            if child not in state:
                state[child] = 1
                stack.append((child, iter(self.gates[child].inputs)))
        return order

    def used_basic_events(self) -> list[str]:
        """Basic events reachable from the top, in depth-first order of first use."""
        seen: dict[str, None] = {}
        if self.top in self.basic_events:
            return [self.top]
        for gate in self.topological_gates():
            for argument in self.gates[gate].inputs:
                if argument in self.basic_events:
                    seen.setdefault(argument, None)
        return list(seen)

    def is_coherent(self) -> bool:
        """True when no reachable gate negates (``not``, ``xor``, ``nand``, ``nor``, ...)."""
        return all(
            self.gates[g].kind in ("and", "or", "atleast", "null") for g in self.topological_gates()
        )

    def evaluate(self, values: Mapping[str, bool]) -> bool:
        """The top event's truth value for one assignment of the basic events (a reference)."""
        memo: dict[str, bool] = {**{k: bool(v) for k, v in self.house_events.items()}}
        memo.update({k: bool(values[k]) for k in self.basic_events if k in values})
        for name in self.topological_gates():
            memo[name] = _apply(self.gates[name], [memo[a] for a in self.gates[name].inputs])
        return memo[self.top]


def _apply(gate: Gate, args: list[bool]) -> bool:
    count = sum(args)
    kind = gate.kind
    if kind == "and":
        return count == len(args)
    if kind == "or":
        return count > 0
    if kind == "atleast":
        assert gate.k is not None
        return count >= gate.k
    if kind in ("not",):
        return not args[0]
    if kind == "null":
        return args[0]
    if kind == "xor":
        return count % 2 == 1
    if kind == "nand":
        return count < len(args)
    if kind == "nor":
        return count == 0
    if kind == "iff":
        return args[0] == args[1]
    return (not args[0]) or args[1]  # imply


@dataclass(frozen=True)
class FaultTreeResult:
    """Exact top-event probability of a fault tree, with the diagram that produced it."""

    tree_name: str
    probability: float
    log_probability: float
    bdd_nodes: int
    ordering: str
    orderings_tried: tuple[tuple[str, int | None], ...]
    n_basic_events: int
    n_gates: int
    coherent: bool
    elapsed_seconds: float
    importance: pd.DataFrame | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "tree": self.tree_name,
            "probability": self.probability,
            "log_probability": json_number(self.log_probability),
            "method": "bdd (CUDD via dd)",
            "bdd_nodes": self.bdd_nodes,
            "ordering": self.ordering,
            "orderings_tried": [
                {"ordering": label, "nodes": nodes} for label, nodes in self.orderings_tried
            ],
            "basic_events": self.n_basic_events,
            "gates": self.n_gates,
            "coherent": self.coherent,
            "elapsed_seconds": self.elapsed_seconds,
            "importance": None
            if self.importance is None
            else [json_ready(row) for row in self.importance.to_dict(orient="records")],
        }


# --------------------------------------------------------------------------- variable orders


def _depth_first(tree: FaultTree, *, heavy_first: bool) -> list[str]:
    """Basic events in the order a depth-first walk from the top meets them."""
    size: dict[str, int] = {}
    if heavy_first:
        for g in tree.topological_gates():
            size[g] = 1 + sum(size.get(a, 1) for a in tree.gates[g].inputs)
    order: dict[str, None] = {}
    visited: set[str] = set()
    stack = [tree.top]
    while stack:
        name = stack.pop()
        if name in tree.basic_events:
            order.setdefault(name, None)
            continue
        if name in visited or name not in tree.gates:
            continue
        visited.add(name)
        inputs = list(tree.gates[name].inputs)
        if heavy_first:
            inputs.sort(key=lambda a: size.get(a, 1), reverse=True)
        stack.extend(reversed(inputs))
    return list(order)


def _breadth_first(tree: FaultTree) -> list[str]:
    order: dict[str, None] = {}
    visited = {tree.top}
    frontier = [tree.top]
    while frontier:
        following: list[str] = []
        for name in frontier:
            if name in tree.basic_events:
                order.setdefault(name, None)
            elif name in tree.gates:
                for argument in tree.gates[name].inputs:
                    if argument not in visited:
                        visited.add(argument)
                        following.append(argument)
        frontier = following
    return list(order)


def ordering_portfolio(tree: FaultTree) -> list[tuple[str, list[str]]]:
    """The static variable orders tried, most often best first."""
    candidates = [
        ("depth-first", _depth_first(tree, heavy_first=False)),
        ("depth-first-heavy", _depth_first(tree, heavy_first=True)),
        ("breadth-first", _breadth_first(tree)),
    ]
    unique: list[tuple[str, list[str]]] = []
    for label, order in candidates:
        if all(order != seen for _, seen in unique):
            unique.append((label, order))
    return unique


# --------------------------------------------------------------------------- BDD build


def _build(bdd: Any, tree: FaultTree, node_budget: int, started: float, seconds: float) -> Any:
    """The BDD of the top event in the manager's current variable order."""
    memo: dict[str, Any] = {name: bdd.var(f"x{k}") for k, name in enumerate(tree.basic_events)}
    for name, value in tree.house_events.items():
        memo[name] = bdd.true if value else bdd.false
    try:
        for name in tree.topological_gates():
            gate = tree.gates[name]
            args = [memo[a] for a in gate.inputs]
            memo[name] = _combine(bdd, gate, args)
            if len(bdd) > 4 * node_budget:
                raise BudgetExceeded("bdd", None, node_budget, "manager grew past 4x budget")
            if time.perf_counter() - started > seconds:
                raise BudgetExceeded("bdd", None, node_budget, f"build took over {seconds:g} s")
        return memo[tree.top]
    finally:
        memo.clear()


def _combine(bdd: Any, gate: Gate, args: list[Any]) -> Any:
    kind = gate.kind
    if kind in ("and", "nand"):
        out = bdd.true
        for a in args:
            out = out & a
        return ~out if kind == "nand" else out
    if kind in ("or", "nor"):
        out = bdd.false
        for a in args:
            out = out | a
        return ~out if kind == "nor" else out
    if kind == "not":
        return ~args[0]
    if kind == "null":
        return args[0]
    if kind == "xor":
        out = bdd.false
        for a in args:
            out = bdd.apply("xor", out, a)
        return out
    if kind == "iff":
        return bdd.apply("<->", args[0], args[1])
    if kind == "imply":
        return ~args[0] | args[1]
    assert gate.k is not None
    # at_least[c] = "at least c of the inputs seen so far are true" (c = 1..k)
    at_least = [bdd.true] + [bdd.false] * gate.k
    for a in args:
        for c in range(gate.k, 0, -1):
            at_least[c] = at_least[c] | (a & at_least[c - 1])
    return at_least[gate.k]


def _node_adjoints(bdd: Any, root: Any, probability: dict[str, float]) -> dict[str, float]:
    """Birnbaum measure dP(root)/dp(var) of every variable, by one reverse pass.

    A regular node's value is ``(1 - p) v(low) + p v(high)`` where an edge's value is the
    child's probability, or one minus it on a complemented edge. Adjoints flow from the root
    down in level order; each node adds ``adjoint * (v(high) - v(low))`` to its variable.
    """
    value: dict[int, float] = {int(bdd.true) & ~1: 1.0}
    nodes: dict[int, Any] = {}
    stack = [root]
    while stack:
        node = stack[-1]
        key = int(node) & ~1
        if key in value:
            stack.pop()
            continue
        low, high = node.low, node.high
        pending = [c for c in (low, high) if (int(c) & ~1) not in value]
        if pending:
            stack.extend(pending)
            continue
        stack.pop()
        pv = probability[node.var]
        value[key] = (1.0 - pv) * _edge(value, low) + pv * _edge(value, high)
        nodes[key] = node
    adjoint: dict[int, float] = {key: 0.0 for key in nodes}
    birnbaum = dict.fromkeys(probability, 0.0)
    root_key = int(root) & ~1
    if root_key not in nodes:
        return birnbaum
    adjoint[root_key] = -1.0 if int(root) & 1 else 1.0
    for key in sorted(nodes, key=lambda k: nodes[k].level):
        node = nodes[key]
        weight = adjoint[key]
        if weight == 0.0:
            continue
        pv = probability[node.var]
        low, high = node.low, node.high
        birnbaum[node.var] += weight * (_edge(value, high) - _edge(value, low))
        for child, share in ((low, 1.0 - pv), (high, pv)):
            child_key = int(child) & ~1
            if child_key in adjoint:
                adjoint[child_key] += weight * share * (-1.0 if int(child) & 1 else 1.0)
    return birnbaum


def _edge(value: dict[int, float], node: Any) -> float:
    v = value[int(node) & ~1]
    return 1.0 - v if int(node) & 1 else v


def quantify_fault_tree(
    tree: FaultTree,
    *,
    node_budget: int = DEFAULT_NODE_BUDGET,
    build_seconds: float = 60.0,
    importance: bool = False,
    portfolio_seconds: float = PORTFOLIO_SECONDS,
    extra_orders: Sequence[tuple[str, list[str]]] = (),
) -> FaultTreeResult:
    """Exact P(top event) of ``tree`` from the smallest BDD of an ordering portfolio.

    Parameters
    ----------
    tree
        The fault tree.
    node_budget
        Largest diagram (nodes) accepted; each later ordering is capped at the best size so far.
    build_seconds
        Time allowed for building one diagram.
    importance
        Also compute Birnbaum, Fussell-Vesely, RAW and RRW of every used basic event.
    portfolio_seconds
        No new ordering is started after this once a diagram fits.
    extra_orders
        Orders (label, basic events) tried before the generic portfolio, e.g. the mode-aware
        orders of a structured stack.

    Raises
    ------
    ddrisk.risk.exact.BudgetExceeded
        When no ordering fits the node budget.
    """
    start = time.perf_counter()
    backend: Any = _bdd_module()[0]
    names = list(tree.basic_events)
    index = {name: k for k, name in enumerate(names)}
    tried: list[tuple[str, int | None]] = []
    best: tuple[int, str, list[str]] | None = None
    last_error: DdriskError | None = None
    candidates = list(extra_orders) + ordering_portfolio(tree)
    for label, order in [*candidates, ("sifting", [])]:
        if best is not None and time.perf_counter() - start > portfolio_seconds:
            break
        if label == "sifting":
            if best is None:
                break
            order = best[2]
        budget = node_budget if best is None else min(node_budget, best[0])
        bdd = backend.BDD()
        full = order + [n for n in names if n not in set(order)]
        bdd.declare(*[f"x{index[n]}" for n in full])
        bdd.configure(reordering=False)
        root = None
        try:
            root = _build(bdd, tree, budget, time.perf_counter(), build_seconds)
            if label == "sifting":
                bdd.reorder()
                levels = {var: bdd.level_of_var(var) for var in bdd.vars}
                order = [names[int(v[1:])] for v in sorted(levels, key=levels.__getitem__)]
            size = int(root.dag_size)
            tried.append((label, size))
            if size <= budget and (best is None or size < best[0]):
                best = (size, label, order)
        except BudgetExceeded as error:
            tried.append((label, None))
            # keep the message, not the traceback: its frames hold diagram nodes alive
            last_error = BudgetExceeded(error.method, error.needed, error.budget, label)
        finally:
            root = None
            del bdd
    if best is None:
        raise last_error or BudgetExceeded("bdd", None, node_budget)
    size, label, order = best
    bdd = backend.BDD()
    full = order + [n for n in names if n not in set(order)]
    bdd.declare(*[f"x{index[n]}" for n in full])
    bdd.configure(reordering=False)
    root = _build(bdd, tree, node_budget, time.perf_counter(), build_seconds)
    try:
        probability = {f"x{k}": float(tree.basic_events[n]) for k, n in enumerate(names)}
        log_p, _ = _bdd_probability(bdd, root, probability)
        frame = None
        if importance:
            birnbaum = _node_adjoints(bdd, root, probability)
            frame = _importance_frame(tree, names, probability, birnbaum, log_p)
    finally:
        root = None
    return FaultTreeResult(
        tree_name=tree.name,
        probability=math.exp(log_p) if log_p > -745.2 else 0.0,
        log_probability=log_p,
        bdd_nodes=size,
        ordering=label,
        orderings_tried=tuple(tried),
        n_basic_events=len(tree.used_basic_events()),
        n_gates=len(tree.topological_gates()),
        coherent=tree.is_coherent(),
        elapsed_seconds=time.perf_counter() - start,
        importance=frame,
    )


def _importance_frame(
    tree: FaultTree,
    names: Sequence[str],
    probability: dict[str, float],
    birnbaum: dict[str, float],
    log_p: float,
) -> pd.DataFrame:
    base = math.exp(log_p) if log_p > -745.2 else 0.0
    rows = []
    used = set(tree.used_basic_events())
    for k, name in enumerate(names):
        if name not in used:
            continue
        p = probability[f"x{k}"]
        b = birnbaum[f"x{k}"]
        p1 = min(1.0, max(0.0, base + (1.0 - p) * b))
        p0 = min(1.0, max(0.0, base - p * b))
        rows.append(
            {
                "event": name,
                "probability": p,
                "p_if_certain": p1,
                "p_if_impossible": p0,
                "birnbaum": b,
                "fussell_vesely": (base - p0) / base if base > 0 else math.nan,
                "risk_achievement_worth": p1 / base if base > 0 else math.nan,
                "risk_reduction_worth": base / p0 if p0 > 0 else math.inf,
            }
        )
    frame = pd.DataFrame(rows)
    if not frame.empty:
        frame = frame.sort_values("fussell_vesely", ascending=False, kind="stable")
    return frame.reset_index(drop=True)


def brute_force_probability(tree: FaultTree, *, max_events: int = 20) -> float:
    """P(top) by summing over every assignment of the used basic events (a test reference)."""
    used = tree.used_basic_events()
    if len(used) > max_events:
        raise BudgetExceeded("enumerate", 2 ** len(used), 2**max_events)
    probabilities = np.array([tree.basic_events[n] for n in used])
    total = 0.0
    for mask in range(2 ** len(used)):
        bits = [(mask >> k) & 1 == 1 for k in range(len(used))]
        if tree.evaluate(dict(zip(used, bits, strict=True))):
            total += float(np.prod(np.where(bits, probabilities, 1.0 - probabilities)))
    return total
