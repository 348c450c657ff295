"""Exact P(stack fails) and importance for stacks with a structure (votes, routes).

The default all-miss stack has the DP of :mod:`ddrisk.risk.exact`, which sums modes out
because every layer's failure enters one product. A structured stack (``model.structure``)
is a general coherent tree over the same events, so it is compiled to a
:class:`~ddrisk.risk.faulttree.FaultTree` over the basic events ``q:j`` (mode ``j`` occurs),
``c:i:j`` (layer ``i`` fails given mode ``j``, only when ``0 < p_ij < 1``) and ``r:i``
(layer ``i``'s residual), and quantified exactly on a BDD. The ordering portfolio starts with
the mode-aware orders of the all-miss BDD (hub modes first, layer sweep, min-fill reversed)
and then tries the generic fault-tree orders. Because the same mode event feeds every layer
on every route, shared modes couple routes exactly.

:func:`enumerate_structured` sums over every subset of modes with the layers' conditional
failure probabilities, an independent reference for tests.
"""

from __future__ import annotations

import itertools
import time

import numpy as np

from ddrisk.risk import structure as st
from ddrisk.risk.exact import (
    DEFAULT_NODE_BUDGET,
    ENUMERATION_MAX_MODES,
    BudgetExceeded,
    ExactResult,
    _Component,
    _hub_frontier_order,
    _layer_sweep_order,
    _min_fill_order,
    _mode_adjacency,
    _variable_order,
)
from ddrisk.risk.faulttree import FaultTree, FaultTreeResult, Gate, quantify_fault_tree
from ddrisk.risk.model import FailureModeModel


def _event(kind: str, a: int, b: int = -1) -> str:
    return f"{kind}:{a}" if b < 0 else f"{kind}:{a}:{b}"


def structure_fault_tree(model: FailureModeModel) -> FaultTree:
    """The structured stack as a fault tree whose top gate is ``stack``."""
    node = model.structure or st.all_miss(model.layers)
    basic: dict[str, float] = {}
    gates: dict[str, Gate] = {}
    for j, q in enumerate(model.q):
        basic[_event("q", j)] = float(q)
    for i in range(model.n_layers):
        basic[_event("r", i)] = float(model.r[i])
        inputs = [_event("r", i)]
        for mode in np.flatnonzero(model.p[i] > 0).tolist():
            if model.p[i, mode] >= 1.0:
                inputs.append(_event("q", mode))
            else:
                basic[_event("c", i, mode)] = float(model.p[i, mode])
                gates[f"via:{i}:{mode}"] = Gate("and", (_event("q", mode), _event("c", i, mode)))
                inputs.append(f"via:{i}:{mode}")
        gates[f"layer:{i}"] = Gate("or", tuple(inputs))
    index = {layer: i for i, layer in enumerate(model.layers)}
    counter = itertools.count()

    def compile_node(item: st.Node) -> str:
        if isinstance(item, str):
            return f"layer:{index[item]}"
        name = "stack" if not gates.get("stack") and item is node else f"part:{next(counter)}"
        inputs = tuple(compile_node(c) for c in item.children)
        if isinstance(item, st.AllMiss):
            gates[name] = Gate("and", inputs)
        elif isinstance(item, st.AnyRoute):
            gates[name] = Gate("or", inputs)
        else:
            gates[name] = Gate("atleast", inputs, item.misses_to_fail)
        return name

    top = compile_node(node)
    if top != "stack":
        gates["stack"] = Gate("null", (top,))
    return FaultTree(name="stack", top="stack", basic_events=basic, gates=gates)


def _mode_aware_orders(model: FailureModeModel) -> list[tuple[str, list[str]]]:
    comp = _Component(
        np.arange(model.n_layers), np.arange(model.n_modes), model.q, model.p, model.r
    )
    reach = model.p > 0
    candidates: list[tuple[str, list[int], str]] = []
    if reach.any():
        candidates.append(("hub-frontier", _hub_frontier_order(model.p), "with-mode"))
        candidates.append(("layer-sweep", _layer_sweep_order(model.p), "at-close"))
        if model.n_modes > 1:
            order = _min_fill_order(_mode_adjacency(model.p))[::-1]
            candidates.append(("min-fill-reversed", order, "at-close"))
    orders = []
    for label, mode_order, placement in candidates:
        used = [j for j in mode_order if reach[:, j].any()]
        levels = _variable_order(comp, used, placement)
        names = [_event(kind, a, b) for kind, a, b in levels]
        orders.append((f"{label}/{placement}", names))
    return orders


def structured_fault_tree_result(
    model: FailureModeModel, *, node_budget: int = DEFAULT_NODE_BUDGET, importance: bool = False
) -> FaultTreeResult:
    """The BDD quantification of a structured stack (with importance when asked)."""
    tree = structure_fault_tree(model)
    return quantify_fault_tree(
        tree,
        node_budget=node_budget,
        importance=importance,
        extra_orders=_mode_aware_orders(model),
        build_seconds=20.0,
        portfolio_seconds=2.0,
    )


def structured_probability(
    model: FailureModeModel, *, node_budget: int = DEFAULT_NODE_BUDGET
) -> ExactResult:
    """Exact P(structured stack fails) as an :class:`~ddrisk.risk.exact.ExactResult`."""
    start = time.perf_counter()
    result = structured_fault_tree_result(model, node_budget=node_budget)
    return ExactResult(
        probability=result.probability,
        log_probability=result.log_probability,
        method="bdd",
        elapsed_seconds=time.perf_counter() - start,
        n_components=1,
        largest_component=(model.n_layers, model.n_modes),
        bdd_nodes=result.bdd_nodes,
        ordering=result.ordering,
        model_name=model.name,
        notes=(f"structure: {model.structure_name}",),
    )


def structured_conditioned(
    model: FailureModeModel, *, node_budget: int = DEFAULT_NODE_BUDGET
) -> tuple[float, np.ndarray, np.ndarray]:
    """log P and the conditioned probabilities of every mode and residual, from one BDD.

    Returns ``(log_p, mode_conditioned, layer_conditioned)`` with rows ``(P(x = 0), P(x = 1))``.
    """
    result = structured_fault_tree_result(model, node_budget=node_budget, importance=True)
    frame = result.importance
    assert frame is not None
    rows = {row["event"]: row for row in frame.to_dict(orient="records")}
    modes = np.full((model.n_modes, 2), result.probability)
    layers = np.full((model.n_layers, 2), result.probability)
    for j in range(model.n_modes):
        row = rows.get(_event("q", j))
        if row is not None:
            modes[j] = (row["p_if_impossible"], row["p_if_certain"])
    for i in range(model.n_layers):
        row = rows.get(_event("r", i))
        if row is not None:
            layers[i] = (row["p_if_impossible"], row["p_if_certain"])
    return result.log_probability, modes, layers


def enumerate_structured(
    model: FailureModeModel, *, max_modes: int = ENUMERATION_MAX_MODES
) -> float:
    """Brute force over mode subsets; layers fail independently given the modes.

    Vectorised over blocks of up to 2 ** 12 mode patterns (one structure evaluation per
    block), so that small stacks cost milliseconds: the best-stack search evaluates hundreds.
    """
    node = model.structure or st.all_miss(model.layers)
    free = np.flatnonzero((model.q > 0) & (model.q < 1))
    if free.size > max_modes:
        raise BudgetExceeded("enumerate", 2 ** int(free.size), 2**max_modes, "too many modes")
    index = {layer: i for i, layer in enumerate(model.layers)}
    with np.errstate(divide="ignore"):
        log_keep_p = np.log1p(-model.p)
        base = np.log1p(-model.r) + log_keep_p[:, model.q >= 1.0].sum(axis=1)
        log_q, log_not_q = np.log(model.q[free]), np.log1p(-model.q[free])
    block_bits = min(int(free.size), 12)
    inner = np.array(list(itertools.product((False, True), repeat=block_bits)), dtype=bool)
    inner = inner.reshape(2**block_bits, block_bits)
    total = 0.0
    for outer in itertools.product((False, True), repeat=int(free.size) - block_bits):
        bits = np.concatenate(
            [np.broadcast_to(np.array(outer, dtype=bool), (len(inner), len(outer))), inner], axis=1
        )
        log_weight = np.where(bits, log_q, log_not_q).sum(axis=1)
        log_keep = base[None, :] + np.where(bits[:, None, :], log_keep_p[:, free][None], 0.0).sum(
            axis=2
        )
        with np.errstate(divide="ignore"):
            log_fail = np.log(-np.expm1(log_keep))
        log_p = st.conditioned_log_failure(node, log_fail, index)
        total += float(np.exp(log_weight + log_p).sum())
    return min(total, 1.0)  # rounding in the sum must not push P above 1
