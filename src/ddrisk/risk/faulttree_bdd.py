"""Building a fault tree's BDD with CUDD: the backend, the variable orders and the gate-by-gate build.

Split from :mod:`ddrisk.risk.faulttree` so that the model (gates, trees, results) reads on its
own. Everything here works on one ``dd`` manager: variables are named by the basic event's
position in ``tree.basic_events`` (``"0"``, ``"1"``, ...), so a diagram dumped by CUDD can be
read back with numbers only (:mod:`ddrisk.risk.faulttree_numeric`).
"""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ddrisk.risk.faulttree import FaultTree, Gate


GUARD_SECONDS = 0.25
"""How often (build time) the manager's size and the build's time limit are checked."""


class OverBudget(Exception):
    """A diagram grew past its node budget or its time limit (converted by the caller)."""


def bdd_backend() -> tuple[Any, str]:
    """``dd.cudd`` (CUDD in C, complement edges, sifting), else the pure-Python ``dd.autoref``.

    ``dd`` imports networkx (and through it scipy) only to draw diagrams, which costs about
    0.1 s of start-up; ``ddrisk risk --mef`` never draws one, so networkx is hidden while
    ``dd`` loads when nobody has imported it yet. A later ``import networkx`` works as usual.
    """
    loaded = sys.modules.get("dd.cudd")
    if loaded is not None:
        return loaded, "cudd"
    hide = "networkx" not in sys.modules
    if hide:
        sys.modules["networkx"] = None  # type: ignore[assignment]
    try:
        try:
            from dd import cudd

            return cudd, "cudd"
        except ImportError:  # pragma: no cover - depends on how dd was built
            from dd import autoref

            return autoref, "autoref"
    finally:
        if hide:
            del sys.modules["networkx"]


# --------------------------------------------------------------------------- variable orders


def _depth_first(tree: FaultTree, *, heavy_first: bool) -> list[str]:
    """Basic events in the order a depth-first walk from the top meets them.

    With ``heavy_first`` the inputs of each gate are visited largest sub-tree first, which
    keeps the events of big, shared sub-trees together at the top of the order.
    """
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
    """The static variable orders tried, the one most often best first."""
    candidates = [
        ("depth-first-heavy", _depth_first(tree, heavy_first=True)),
        ("depth-first", _depth_first(tree, heavy_first=False)),
        ("breadth-first", _breadth_first(tree)),
    ]
    unique: list[tuple[str, list[str]]] = []
    for label, order in candidates:
        if all(order != seen for _, seen in unique):
            unique.append((label, order))
    return unique


# --------------------------------------------------------------------------- build


BYTES_PER_BUDGET_NODE = 200
"""CUDD's memory cap per node of budget (a node is ~40 bytes; the rest is cache and slack)."""


def new_manager(backend: Any, tree: FaultTree, order: list[str], *, node_budget: int) -> Any:
    """A manager with one variable per basic event, declared in ``order`` (then the rest).

    With CUDD the manager's memory is capped in proportion to the node budget, so that one
    operation blowing up inside C (where the per-gate checks of :func:`build_top` cannot
    see it) fails with :class:`OverBudget` instead of taking the machine's memory.
    """
    index = {name: k for k, name in enumerate(tree.basic_events)}
    placed = set(order)
    full = [*order, *(n for n in tree.basic_events if n not in placed)]
    bdd = backend.BDD()
    bdd.declare(*[str(index[n]) for n in full])
    bdd.configure(reordering=False)
    if type(bdd).__module__ == "dd.cudd":
        bdd.configure(max_memory=max(256 * 2**20, node_budget * BYTES_PER_BUDGET_NODE))
    return bdd


def build_top(bdd: Any, tree: FaultTree, *, node_budget: int, seconds: float) -> Any:
    """The BDD of the top event in the manager's current variable order.

    Gates are built inputs first; a gate's diagram is released as soon as its last user is
    built, so the manager holds only the live frontier of the tree (this halves the peak on
    deep trees). Raises :class:`OverBudget` when the manager passes twice the budget or the
    build passes ``seconds``.
    """
    started = time.perf_counter()
    memo: dict[str, Any] = {name: bdd.var(str(k)) for k, name in enumerate(tree.basic_events)}
    for name, value in tree.house_events.items():
        memo[name] = bdd.true if value else bdd.false
    order = tree.topological_gates()
    last_use: dict[str, int] = {}
    for position, name in enumerate(order):
        for argument in tree.gates[name].inputs:
            last_use[argument] = position
    max_nodes = 2 * node_budget
    next_check = [started + GUARD_SECONDS]

    def guard() -> None:
        now = time.perf_counter()
        if now < next_check[0]:
            return
        next_check[0] = now + GUARD_SECONDS
        if manager_nodes(bdd) > max_nodes:
            raise OverBudget(f"the manager grew past {max_nodes:,} nodes")
        if now - started > seconds:
            raise OverBudget(f"the build took over {seconds:g} s")

    try:
        if tree.top not in tree.gates:
            return memo[tree.top]
        for position, name in enumerate(order):
            gate = tree.gates[name]
            try:
                memo[name] = combine(bdd, gate, [memo[a] for a in gate.inputs], guard=guard)
            except ValueError:  # dd's report of a NULL node: CUDD hit its memory cap
                raise OverBudget(f"CUDD reached its memory cap at gate {name!r}") from None
            for argument in gate.inputs:
                if last_use.get(argument) == position and argument in tree.gates:
                    memo.pop(argument, None)
            guard()
        if manager_nodes(bdd) > max_nodes:
            raise OverBudget(f"the manager grew past {max_nodes:,} nodes")
        return memo[tree.top]
    finally:
        memo.clear()


def manager_nodes(bdd: Any) -> int:
    """Nodes in the manager, cheaply.

    ``len(bdd)`` makes CUDD count live nodes by walking its tables (0.6 s at a million
    nodes); CUDD's statistics read the same count from its counters in microseconds. ``dd``
    warns on every call that one of those statistics changed unit, which is not used here.
    """
    if type(bdd).__module__ != "dd.cudd":
        return len(bdd)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return int(bdd.statistics()["n_nodes"])


def combine(
    bdd: Any, gate: Gate, args: list[Any], *, guard: Callable[[], None] | None = None
) -> Any:
    """One gate's diagram from its inputs' diagrams (negation is a complement edge in CUDD).

    Wide gates are folded one input at a time; ``guard`` (if given) runs after each step, so
    one wide gate cannot grow far past the budget unseen.
    """
    kind = gate.kind

    def checked(value: Any) -> Any:
        if guard is not None:
            guard()
        return value

    if kind in ("and", "nand"):
        out = bdd.true
        for a in args:
            out = checked(out & a)
        return ~out if kind == "nand" else out
    if kind in ("or", "nor"):
        out = bdd.false
        for a in args:
            out = checked(out | a)
        return ~out if kind == "nor" else out
    if kind == "not":
        return ~args[0]
    if kind == "null":
        return args[0]
    if kind == "xor":
        out = bdd.false
        for a in args:
            out = checked(bdd.apply("xor", out, a))
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
            at_least[c] = checked(at_least[c] | (a & at_least[c - 1]))
    return at_least[gate.k]


def level_order(bdd: Any, names: list[str]) -> list[str]:
    """Basic events in the manager's current level order (after sifting)."""
    levels = {var: bdd.level_of_var(var) for var in bdd.vars}
    return [names[int(v)] for v in sorted(levels, key=levels.__getitem__)]


def iter_nodes(root: Any) -> Iterator[Any]:
    """Every regular node below ``root`` once, children before parents (CUDD nodes)."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack[-1]
        key = int(node) & ~1
        if key in seen:
            stack.pop()
            continue
        if node.var is None:
            seen.add(key)
            stack.pop()
            continue
        pending = [c for c in (node.low, node.high) if (int(c) & ~1) not in seen]
        if pending:
            stack.extend(pending)
            continue
        stack.pop()
        seen.add(key)
        yield node
