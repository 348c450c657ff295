"""General Boolean fault trees, quantified exactly with a BDD (CUDD through ``dd``).

A :class:`FaultTree` is a set of basic events with probabilities, optional constant house
events, and named gates (``and``, ``or``, ``atleast``, ``not``, ``xor``, ``nand``, ``nor``,
``iff``, ``imply``, ``null``) over them; its top gate is the event of interest. It is what an
Open-PSA MEF file says (:mod:`ddrisk.io.mef_fault_tree` reads one) and what a structured stack compiles to.

:func:`quantify_fault_tree` builds the reduced ordered BDD of the top gate in CUDD
(:mod:`ddrisk.risk.faulttree_bdd`): depth-first with the largest sub-trees first, and only when
that diagram is not already small, the other orders of a portfolio (depth-first, breadth-first)
and CUDD's sifting from the best one; the smallest diagram is kept and read once
(:mod:`ddrisk.risk.faulttree_numeric`: in Python for small diagrams, vectorised through CUDD's
DDDMP dump for large ones such as CEA9601's 1.2 million nodes). Negation is exact (a BDD is
canonical for any Boolean function, and CUDD's complement edges make ``not`` free), so
non-coherent trees with ``not`` or ``xor`` get their true probability, not a rare-event or
min-cut-set approximation. Both passes work in log space, so probabilities far below
``1e-300`` keep their digits.

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
from typing import TYPE_CHECKING, Any

from ddrisk._jsonnum import json_number, json_ready
from ddrisk.errors import DdriskError
from ddrisk.risk.faulttree_bdd import (
    OverBudget,
    bdd_backend,
    build_top,
    level_order,
    new_manager,
    ordering_portfolio,
)
from ddrisk.risk.faulttree_numeric import evaluate

if TYPE_CHECKING:
    import pandas as pd

GATE_KINDS = ("and", "or", "atleast", "not", "xor", "nand", "nor", "iff", "imply", "null")
PORTFOLIO_SECONDS = 5.0
"""No new ordering of the portfolio is started after this many seconds once one diagram fits."""
SIFT_MAX_NODES = 100_000
"""CUDD's sifting is tried only on diagrams up to this size (it took 50 s at 1.2 M nodes)."""
FAULT_TREE_NODE_BUDGET = 4_000_000
"""Largest diagram (nodes) quantified by default. A CUDD node is a few dozen bytes and the
probability of a large diagram is read vectorised, so four million nodes stay within a few
hundred MB and seconds; CEA9601, the largest tree SCRAM ships, needs about 1.2 million."""


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
    """Exact top-event probability of a fault tree, with the diagram that produced it.

    ``importance_rows`` holds one record per used basic event (Birnbaum, Fussell-Vesely,
    RAW, RRW and both conditioned probabilities), most important first; :attr:`importance`
    is the same as a pandas frame, built on first use so that quantifying needs no pandas.
    """

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
    engine: str = "cudd"
    variable_order: tuple[str, ...] = ()
    importance_rows: tuple[dict[str, Any], ...] | None = None

    @property
    def importance(self) -> pd.DataFrame | None:
        """The importance records as a frame (``None`` when they were not asked for)."""
        if self.importance_rows is None:
            return None
        return self.to_frame()

    def to_frame(self) -> pd.DataFrame:
        """One row per used basic event, most important (Fussell-Vesely) first."""
        import pandas as pd

        columns = [
            "event",
            "probability",
            "p_if_certain",
            "p_if_impossible",
            "birnbaum",
            "fussell_vesely",
            "risk_achievement_worth",
            "risk_reduction_worth",
        ]
        return pd.DataFrame(list(self.importance_rows or ()), columns=columns)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tree": self.tree_name,
            "probability": self.probability,
            "log_probability": json_number(self.log_probability),
            "method": f"bdd ({'CUDD' if self.engine == 'cudd' else self.engine} via dd)",
            "engine": self.engine,
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
            if self.importance_rows is None
            else [json_ready(row) for row in self.importance_rows],
        }


# --------------------------------------------------------------------------- quantification


def _importance_rows(
    tree: FaultTree, names: Sequence[str], birnbaum: Sequence[float], log_p: float
) -> tuple[dict[str, Any], ...]:
    base = math.exp(log_p) if log_p > -745.2 else 0.0
    used = set(tree.used_basic_events())
    rows: list[dict[str, Any]] = []
    for k, name in enumerate(names):
        if name not in used:
            continue
        p = float(tree.basic_events[name])
        b = birnbaum[k]
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
    # most important first; an undefined measure (P(top) = 0) keeps the events' order
    rows.sort(key=lambda row: -float(row["fussell_vesely"]) if base > 0 else 0.0)
    return tuple(rows)


def _budget_error(node_budget: int, detail: str) -> DdriskError:
    from ddrisk.risk.exact import BudgetExceeded

    return BudgetExceeded("bdd", None, node_budget, detail)


def quantify_fault_tree(
    tree: FaultTree,
    *,
    node_budget: int = FAULT_TREE_NODE_BUDGET,
    build_seconds: float = 120.0,
    importance: bool = False,
    portfolio_seconds: float = PORTFOLIO_SECONDS,
    extra_orders: Sequence[tuple[str, list[str]]] = (),
) -> FaultTreeResult:
    """Exact P(top event) of ``tree`` from the smallest BDD of an ordering portfolio.

    The first order whose diagram is small (at most 1 % of ``node_budget``) is kept without
    trying others: on such trees every order is cheap and another diagram only costs time.
    Otherwise the remaining orders are tried (each capped at the best size so far) while
    ``portfolio_seconds`` last, then CUDD's sifting from the best one. The kept diagram is
    read once, for the probability and, with ``importance``, every Birnbaum measure.

    Parameters
    ----------
    tree
        The fault tree.
    node_budget
        Largest diagram (nodes) accepted.
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
    backend, engine = bdd_backend()
    names = list(tree.basic_events)
    small = max(1, node_budget // 100)
    tried: list[tuple[str, int | None]] = []
    best: tuple[int, str, list[str], Any, Any] | None = None  # size, label, order, bdd, root
    failure = ""
    candidates = [*extra_orders, *ordering_portfolio(tree)]
    last_build = 0.0
    for label, order in [*candidates, ("sifting", [])]:
        # stop once a diagram is small, or when another build of the last one's length
        # would end past the portfolio's time (a large tree is built once, not three times)
        if best is not None and (
            best[0] <= small or time.perf_counter() - start + last_build > portfolio_seconds
        ):
            break
        if label == "sifting":
            if best is None or best[0] > SIFT_MAX_NODES:
                break
            order = best[2]
        budget = node_budget if best is None else min(node_budget, best[0])
        bdd = new_manager(backend, tree, order, node_budget=node_budget)
        built = time.perf_counter()
        try:
            root = build_top(bdd, tree, node_budget=budget, seconds=build_seconds)
            last_build = time.perf_counter() - built
        except OverBudget as error:
            tried.append((label, None))
            failure = f"{label}: {error}"
            del bdd
            continue
        if label == "sifting":
            bdd.reorder()
            bdd.configure(reordering=False)
            order = level_order(bdd, names)
        size = int(root.dag_size)
        tried.append((label, size))
        if size <= budget and (best is None or size < best[0]):
            best = (size, label, order, bdd, root)
        del root, bdd
    if best is None:
        raise _budget_error(node_budget, failure or "no ordering fits")
    size, label, order, bdd, root = best
    best = None
    try:
        probabilities = [float(tree.basic_events[n]) for n in names]
        log_p, birnbaum = evaluate(bdd, root, probabilities, importance=importance)
    finally:
        root = None
    rows = None if birnbaum is None else _importance_rows(tree, names, birnbaum, log_p)
    return FaultTreeResult(
        tree_name=tree.name,
        probability=min(1.0, math.exp(log_p)) if log_p > -745.2 else 0.0,
        log_probability=min(0.0, log_p),
        bdd_nodes=size,
        ordering=label,
        orderings_tried=tuple(tried),
        n_basic_events=len(tree.used_basic_events()),
        n_gates=len(tree.topological_gates()),
        coherent=tree.is_coherent(),
        elapsed_seconds=time.perf_counter() - start,
        engine=engine,
        variable_order=tuple(order),
        importance_rows=rows,
    )


def brute_force_probability(tree: FaultTree, *, max_events: int = 20) -> float:
    """P(top) by summing over every assignment of the used basic events (a test reference)."""
    used = tree.used_basic_events()
    if len(used) > max_events:
        from ddrisk.risk.exact import BudgetExceeded

        raise BudgetExceeded("enumerate", 2 ** len(used), 2**max_events)
    probabilities = [float(tree.basic_events[n]) for n in used]
    total = 0.0
    for mask in range(2 ** len(used)):
        bits = [(mask >> k) & 1 == 1 for k in range(len(used))]
        if tree.evaluate(dict(zip(used, bits, strict=True))):
            total += math.prod(
                p if b else 1.0 - p for p, b in zip(probabilities, bits, strict=True)
            )
    return total
