"""Exact P(stack fails) for the failure-mode model, scaling with structure rather than 2^M.

The model (see :mod:`ddrisk.risk.model`) is the monotone fault tree
``top = AND_i (R_i OR OR_j (Q_j AND C_ij))``. Three exact methods are provided so that each can
check the others:

``dp``
    Dynamic programming over the failure modes (bucket elimination). Modes are summed out one at
    a time in a min-fill order; the DP state after summing out a mode is a table over the
    occurrence of the *not yet summed* modes that share a layer with it. A layer's failure given
    its modes (cells and residual) is integrated analytically,
    ``P(layer i fails | modes) = 1 - (1 - r_i) prod_{j occurs} (1 - p_ij)``, so graded cells
    (0 < p_ij < 1) cost nothing extra. Cost is ``2 ** width`` where ``width`` is the induced width
    of the mode-sharing graph, not ``2 ** M``. A state whose table is surviving layers (the
    dual formulation) would grow as ``2 ** (layers touched by a hub mode)`` as soon as cells are
    graded, which is why the state here is over modes.
``bdd``
    A reduced ordered BDD built with CUDD (``dd.cudd``, or ``dd.autoref`` when CUDD is missing)
    over basic events ``Q_j`` (mode occurs), ``C_ij`` (graded cell fires) and ``R_i`` (residual).
    An ordering portfolio (hub modes first then greedy frontier; reverse Cuthill-McKee; the DP's
    elimination order reversed) is tried and the smallest diagram under the node budget is kept.
    The probability traversal carries both ``P(node is true)`` and ``P(node is false)`` and swaps
    them at complemented edges, so ``1 - P`` is never formed.
``enumerate``
    Plain brute force over all subsets of uncertain modes: the reference for small models.

All methods first remove what cannot matter (modes with ``q = 0``, cells with ``p = 0``, modes no
layer reaches), fold certain modes (``q = 1``) into residuals, and split the layer/mode graph into
connected components, whose failure probabilities multiply. Probabilities are sums of products of
non-negative terms (no inclusion-exclusion), tables are rescaled as they are built, and the
component product is taken in log space, so results are accurate far below ``1e-300``;
``log_probability`` stays finite where ``probability`` underflows.

Why one module: the methods are not independent back ends but one compiler with three code
generators. They share the reduction and component split (``_reduce``), the mode-sharing graph
and its min-fill elimination order (the DP's plan, and reversed one of the BDD's candidate
orderings), the budget logic (:class:`BudgetExceeded`, the state and node budgets, the width
check that decides before any table is built), and :func:`stack_failure_probability`, which
hands each reduced component to inclusion-exclusion over layers (:mod:`ddrisk.risk.layer_inclusion`,
for dense components), then DP, then the BDD when the previous one runs over its budget. Split
into files, each method would import the others' private types and the fallback would span
three modules; kept together, the shared compilation reads top to bottom once.
"""

from __future__ import annotations

import heapq
import itertools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ddrisk._jsonnum import json_number
from ddrisk.errors import DdriskError
from ddrisk.risk.model import FailureModeModel

DEFAULT_STATE_BUDGET = 2**23
"""Largest DP table (entries) the ``dp`` method will build: 2**23 doubles are 64 MiB."""

DEFAULT_NODE_BUDGET = 400_000
"""Largest BDD (nodes) the ``bdd`` method will build and traverse."""

BDD_BUILD_SECONDS = 20.0
"""A BDD build in one ordering that takes longer than this counts as over budget."""

ENUMERATION_MAX_MODES = 24
"""Brute-force enumeration refuses models with more uncertain modes than this."""

METHODS = ("auto", "dp", "bdd", "enumerate", "inclusion-exclusion")


class BudgetExceeded(DdriskError):
    """An exact method would exceed its state or node budget on this model.

    Attributes
    ----------
    method
        The method that gave up (``"dp"``, ``"bdd"`` or ``"enumerate"``).
    needed
        The size it would have needed (DP table entries, BDD nodes, or ``2 ** modes``), when known.
    budget
        The budget it was given.
    """

    def __init__(self, method: str, needed: int | None, budget: int, detail: str = ""):
        self.method = method
        self.needed = needed
        self.budget = budget
        need = f"needs {needed:,}" if needed is not None else "exceeded"
        text = f"exact method {method!r} {need} > budget {budget:,}"
        super().__init__(text + (f" ({detail})" if detail else ""))


@dataclass(frozen=True)
class ExactResult:
    """P(stack fails) from an exact method, with the size of the computation.

    ``probability`` may underflow to 0 for extremely reliable stacks; ``log_probability`` (natural
    log) does not.
    """

    probability: float
    log_probability: float
    method: str
    elapsed_seconds: float
    n_components: int
    largest_component: tuple[int, int]
    peak_states: int | None = None
    bdd_nodes: int | None = None
    ordering: str | None = None
    model_name: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, object]:
        """JSON-safe summary; keys are stable."""
        return {
            "probability": self.probability,
            "log_probability": json_number(self.log_probability),
            "method": self.method,
            "elapsed_seconds": self.elapsed_seconds,
            "n_components": self.n_components,
            "largest_component": {
                "layers": self.largest_component[0],
                "modes": self.largest_component[1],
            },
            "peak_states": self.peak_states,
            "bdd_nodes": self.bdd_nodes,
            "ordering": self.ordering,
            "model": self.model_name,
            "notes": list(self.notes),
        }


# --------------------------------------------------------------------------- preprocessing


@dataclass
class _Component:
    """One connected block of the layer/mode graph; local arrays, global index maps."""

    layers: np.ndarray  # global layer indices
    modes: np.ndarray  # global mode indices
    q: np.ndarray  # (m,) in (0, 1)
    p: np.ndarray  # (l, m) in [0, 1]; every row and column has a positive entry
    r: np.ndarray  # (l,) in [0, 1)


@dataclass
class _Reduced:
    """The model after removing irrelevant events and splitting into components."""

    log_constant: float  # log of the product of isolated layers' residuals
    components: list[_Component]
    effective_r: np.ndarray  # residuals after folding certain modes in
    isolated_layers: np.ndarray  # layers with no uncertain mode: contribute r_i
    certain_layers: np.ndarray  # layers that fail surely (r_i = 1 after folding)
    irrelevant_modes: np.ndarray  # modes that cannot change P (q in {0} or no reachable layer)
    certain_modes: np.ndarray  # modes with q = 1 (folded into residuals)


def _reduce(model: FailureModeModel) -> _Reduced:
    q = np.asarray(model.q, dtype=float)
    p = np.asarray(model.p, dtype=float)
    r = np.asarray(model.r, dtype=float)
    certain_modes = np.flatnonzero(q >= 1.0)
    with np.errstate(divide="ignore"):
        log_keep = np.log1p(-r)
        if certain_modes.size:
            log_keep = log_keep + np.log1p(-p[:, certain_modes]).sum(axis=1)
    effective_r = -np.expm1(log_keep)
    certain_layers = np.flatnonzero(effective_r >= 1.0)
    live_layer = effective_r < 1.0
    uncertain_mode = (q > 0.0) & (q < 1.0)
    edges = (p > 0.0) & uncertain_mode[None, :] & live_layer[:, None]
    mode_used = edges.any(axis=0)
    layer_used = edges.any(axis=1)
    irrelevant_modes = np.flatnonzero(~mode_used & (q < 1.0))
    isolated_layers = np.flatnonzero(live_layer & ~layer_used)
    with np.errstate(divide="ignore"):
        log_constant = float(np.log(effective_r[isolated_layers]).sum())
    layer_index = np.flatnonzero(layer_used)
    mode_index = np.flatnonzero(mode_used)
    components: list[_Component] = []
    if layer_index.size:
        sub = edges[np.ix_(layer_index, mode_index)]
        n_l, n_m = sub.shape
        rows, cols = np.nonzero(sub)
        n_comp, labels = _connected_components(n_l + n_m, rows, cols + n_l)
        for c in range(n_comp):
            local_layers = np.flatnonzero(labels[:n_l] == c)
            local_modes = np.flatnonzero(labels[n_l:] == c)
            gl, gm = layer_index[local_layers], mode_index[local_modes]
            block = np.where(sub[np.ix_(local_layers, local_modes)], p[np.ix_(gl, gm)], 0.0)
            components.append(_Component(gl, gm, q[gm].copy(), block, effective_r[gl].copy()))
    return _Reduced(
        log_constant,
        components,
        effective_r,
        isolated_layers,
        certain_layers,
        irrelevant_modes,
        certain_modes,
    )


def _connected_components(
    n_nodes: int, heads: np.ndarray, tails: np.ndarray
) -> tuple[int, np.ndarray]:
    """Component labels of an undirected graph by union-find (path halving, union by size).

    Labels are numbered in order of each component's smallest node, as SciPy's
    ``connected_components`` numbers them; a few microseconds per edge, and it spares every
    exact solve the import of ``scipy.sparse`` (about 0.1 s of start-up).
    """
    parent = list(range(n_nodes))
    size = [1] * n_nodes

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in zip(heads.tolist(), tails.tolist(), strict=True):
        ra, rb = root(a), root(b)
        if ra == rb:
            continue
        if size[ra] < size[rb]:
            ra, rb = rb, ra
        parent[rb] = ra
        size[ra] += size[rb]
    labels = np.empty(n_nodes, dtype=np.int64)
    number: dict[int, int] = {}
    for x in range(n_nodes):
        labels[x] = number.setdefault(root(x), len(number))
    return len(number), labels


def _layer_fail_table(r_i: float, p_row: np.ndarray) -> np.ndarray:
    """Table over the layer's modes (axis k = mode k occurs) of P(layer fails | modes)."""
    degree = p_row.size
    with np.errstate(divide="ignore"):
        log_keep = np.full((2,) * degree, np.log1p(-r_i))
        for k, pk in enumerate(p_row):
            shape = [1] * degree
            shape[k] = 2
            log_keep = log_keep + np.array([0.0, np.log1p(-pk)]).reshape(shape)
    return -np.expm1(log_keep)


# --------------------------------------------------------------------------- DP (bucket elimination)


def _mode_adjacency(p: np.ndarray) -> list[set[int]]:
    """Modes are adjacent when some layer depends on both (the DP's interaction graph)."""
    adjacency: list[set[int]] = [set() for _ in range(p.shape[1])]
    for row in p > 0:
        members = np.flatnonzero(row).tolist()
        for a in members:
            adjacency[a].update(members)
    for a, neighbours in enumerate(adjacency):
        neighbours.discard(a)
    return adjacency


def _bits(mask: int) -> list[int]:
    """Positions of the set bits of ``mask``, lowest first."""
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return out


def _min_fill_order(adjacency: list[set[int]]) -> list[int]:
    """Greedy min-fill elimination order (ties: fewer neighbours), lazily updated heap.

    Neighbourhoods are bit masks (Python ints), so the fill count of a vertex is a sum of
    popcounts rather than of set intersections: the plan of a dense 40 x 60 stack drops from
    tens of milliseconds to a few, the same order as the set version it replaced (tested).
    """
    adj = [sum(1 << u for u in neighbours) for neighbours in adjacency]
    alive = [True] * len(adj)

    def fill(v: int) -> tuple[int, int]:
        nb = adj[v]
        d = nb.bit_count()
        linked = sum((adj[a] & nb).bit_count() for a in _bits(nb))
        return (d * (d - 1) - linked) // 2, d

    version = [0] * len(adj)
    heap = [(*fill(v), v, 0) for v in range(len(adj))]
    heapq.heapify(heap)
    order: list[int] = []
    while heap:
        _, _, v, ver = heapq.heappop(heap)
        if not alive[v] or ver != version[v]:
            continue
        alive[v] = False
        order.append(v)
        nb = adj[v]
        members = _bits(nb)
        for a in members:
            adj[a] = (adj[a] | nb) & ~((1 << a) | (1 << v))
        touched = nb
        for a in members:
            touched |= adj[a]
        if touched.bit_count() > 4 * len(members) + 64:  # keep updates local on big graphs
            touched = nb
        for a in _bits(touched):
            if alive[a]:
                version[a] += 1
                heapq.heappush(heap, (*fill(a), a, version[a]))
        adj[v] = 0
    return order


@dataclass
class _Factor:
    variables: tuple[int, ...]
    table: np.ndarray  # normalised so that its max is 1 (or all zeros)
    scale: float  # the true table is table * scale


@dataclass
class _DPRun:
    log_probability: float
    peak_states: int
    width: int
    mode_ratios: np.ndarray | None = None  # (m, 2): P(q_j = x) / P
    layer_ratios: np.ndarray | None = None  # (l, 2): P(r_i = x) / P


def _plan_width(adjacency: list[set[int]], order: Sequence[int]) -> int:
    """Largest table (in variables, before summing) the elimination order builds."""
    adj = [set(a) for a in adjacency]
    width = 0
    for v in order:
        nb = adj[v]
        width = max(width, len(nb) + 1)
        for a in nb:
            adj[a].discard(v)
            adj[a].update(nb - {a})
        adj[v] = set()
    return width


def _normalise(table: np.ndarray) -> tuple[np.ndarray, float]:
    peak = float(table.max()) if table.size else 1.0
    if peak <= 0.0:
        return table, 0.0
    return table / peak, peak


_EINSUM_MAX_OPERANDS = 32
"""numpy.einsum takes at most 64 operands; products of more tables are folded in chunks."""


def _contract(operands: list[Any], output: list[int]) -> np.ndarray:
    """``np.einsum(*operands, output)`` for any number of (table, subscripts) pairs.

    A mode shared by many layers has one factor per layer, more than einsum accepts at once.
    The product is associative, so chunks are multiplied first with every subscript kept
    (no table grows past the union the single call would have held), then summed once.
    """
    pairs = [(operands[i], list(operands[i + 1])) for i in range(0, len(operands), 2)]
    while len(pairs) > _EINSUM_MAX_OPERANDS:
        folded = []
        for start in range(0, len(pairs), _EINSUM_MAX_OPERANDS):
            chunk = pairs[start : start + _EINSUM_MAX_OPERANDS]
            keep = sorted({u for _, subs in chunk for u in subs})
            args: list[Any] = [item for pair in chunk for item in pair]
            folded.append((np.einsum(*args, keep), keep))
        pairs = folded
    return np.asarray(np.einsum(*[item for pair in pairs for item in pair], output))


def _dp_component(
    comp: _Component,
    *,
    state_budget: int,
    gradients: bool = False,
    order: list[int] | None = None,
) -> _DPRun:
    n_layers, n_modes = comp.p.shape
    adjacency = _mode_adjacency(comp.p)
    if order is None:  # else a larger model's order restricted here (mode_elimination_rank)
        order = _min_fill_order(adjacency)
    width = _plan_width(adjacency, order)
    if 2**width > state_budget:
        raise BudgetExceeded("dp", 2**width, state_budget, f"induced width {width}")
    factors: list[_Factor] = []
    layer_factor: list[int] = []
    layer_vars: list[np.ndarray] = []
    for i in range(n_layers):
        members = np.flatnonzero(comp.p[i] > 0)
        table, scale = _normalise(_layer_fail_table(float(comp.r[i]), comp.p[i, members]))
        layer_factor.append(len(factors))
        layer_vars.append(members)
        factors.append(_Factor(tuple(members.tolist()), table, scale))
    mode_factor: list[int] = []
    for j in range(n_modes):
        table, scale = _normalise(np.array([1.0 - comp.q[j], comp.q[j]]))
        mode_factor.append(len(factors))
        factors.append(_Factor((j,), table, scale))
    log_scale = sum(math.log(f.scale) if f.scale > 0 else -math.inf for f in factors)
    if not math.isfinite(log_scale):
        return _DPRun(-math.inf, 0, width)
    holding: dict[int, set[int]] = {j: set() for j in range(n_modes)}
    for index, f in enumerate(factors):
        for v in f.variables:
            holding[v].add(index)
    live = set(range(len(factors)))
    tape: list[tuple[list[int], int, float]] = []
    peak = 1
    for v in order:
        inputs = sorted(holding[v])
        union = sorted({u for k in inputs for u in factors[k].variables})
        peak = max(peak, 2 ** len(union))
        letter = {u: n for n, u in enumerate(union)}
        out_vars = tuple(u for u in union if u != v)
        operands: list[Any] = []
        for k in inputs:
            operands += [factors[k].table, [letter[u] for u in factors[k].variables]]
        raw = _contract(operands, [letter[u] for u in out_vars])
        table, scale = _normalise(np.asarray(raw, dtype=float))
        if scale <= 0.0:
            return _DPRun(-math.inf, peak, width)
        log_scale += math.log(scale)
        out = len(factors)
        factors.append(_Factor(out_vars, table, scale))
        tape.append((inputs, out, scale))
        for k in inputs:
            live.discard(k)
            for u in factors[k].variables:
                if u != v:
                    holding[u].discard(k)
        for u in out_vars:
            holding[u].add(out)
        live.add(out)
    roots = sorted(live)
    root_values = [float(factors[k].table) for k in roots]
    if any(value <= 0.0 for value in root_values):
        return _DPRun(-math.inf, peak, width)
    log_p = log_scale + sum(math.log(value) for value in root_values)
    run = _DPRun(log_p, peak, width)
    if gradients:
        _backward(
            run, factors, tape, roots, root_values, mode_factor, layer_factor, layer_vars, comp
        )
    return run


def _backward(
    run: _DPRun,
    factors: list[_Factor],
    tape: list[tuple[list[int], int, float]],
    roots: list[int],
    root_values: list[float],
    mode_factor: list[int],
    layer_factor: list[int],
    layer_vars: list[np.ndarray],
    comp: _Component,
) -> None:
    """Reverse pass: adjoint[k] = (dP / d factors[k].table) / P for every factor.

    P is multilinear in every table, so ``adjoint`` of the mode table at ``x`` equals
    ``P(q_j = x) / P`` up to the table's scale; likewise for a layer's residual.
    """
    adjoint: dict[int, np.ndarray] = {}
    for k, value in zip(roots, root_values, strict=True):
        adjoint[k] = np.asarray(1.0 / value)
    for inputs, out, scale in reversed(tape):
        grad_out = adjoint.pop(out)
        union = sorted({u for k in inputs for u in factors[k].variables})
        letter = {u: n for n, u in enumerate(union)}
        out_sub = [letter[u] for u in factors[out].variables]
        for k in inputs:
            operands: list[Any] = [grad_out, out_sub]
            for other in inputs:
                if other != k:
                    operands += [
                        factors[other].table,
                        [letter[u] for u in factors[other].variables],
                    ]
            target = [letter[u] for u in factors[k].variables]
            adjoint[k] = np.asarray(_contract(operands, target), dtype=float) / scale
    mode_ratios = np.empty((len(mode_factor), 2))
    for j, k in enumerate(mode_factor):
        mode_ratios[j] = adjoint[k] / factors[k].scale
    layer_ratios = np.empty((len(layer_factor), 2))
    for i, k in enumerate(layer_factor):
        grad = adjoint[k] / factors[k].scale
        modes_fail = _layer_fail_table(0.0, comp.p[i, layer_vars[i]])
        layer_ratios[i, 1] = float(grad.sum())
        layer_ratios[i, 0] = float((grad * modes_fail).sum())
    run.mode_ratios = mode_ratios
    run.layer_ratios = layer_ratios


# --------------------------------------------------------------------------- BDD


def _bdd_module() -> tuple[object, str]:
    try:
        from dd import cudd as backend

        return backend, "cudd"
    except ImportError:  # pragma: no cover - depends on how dd was built
        from dd import autoref as backend

        return backend, "autoref"


def _hub_frontier_order(p: np.ndarray) -> list[int]:
    """Hub modes (degree at least twice the median) first, then the mode that opens fewest layers."""
    reach = p > 0
    degree = reach.sum(axis=0)
    n_modes = p.shape[1]
    threshold = max(3.0, 2.0 * float(np.median(degree)))
    hubs = [int(j) for j in np.argsort(-degree, kind="stable") if degree[j] >= threshold]
    order = list(hubs)
    opened = reach[:, hubs].any(axis=1) if hubs else np.zeros(p.shape[0], bool)
    remaining_uses = reach.sum(axis=1) - reach[:, hubs].sum(axis=1)
    left = [j for j in range(n_modes) if j not in set(hubs)]
    while left:
        best, best_key = left[0], None
        for j in left:
            touched = reach[:, j]
            new = int((touched & ~opened).sum())
            closed = int((touched & (remaining_uses == 1)).sum())
            key = (new - closed, -closed, j)
            if best_key is None or key < best_key:
                best, best_key = j, key
        order.append(best)
        left.remove(best)
        opened |= reach[:, best]
        remaining_uses = remaining_uses - reach[:, best]
    return order


def _rcm_order(p: np.ndarray) -> list[int]:
    # Only the BDD portfolio needs this ordering: scipy.sparse loads here, not at import.
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import reverse_cuthill_mckee

    adjacency = (p > 0).T.astype(np.int8) @ (p > 0).astype(np.int8)
    graph = csr_matrix(adjacency)
    return [int(j) for j in reverse_cuthill_mckee(graph, symmetric_mode=True)]


def _variable_order(
    comp: _Component, mode_order: Sequence[int], placement: str
) -> list[tuple[str, int, int]]:
    """BDD levels from a mode order.

    ``placement="with-mode"`` puts each mode's graded cells right after the mode (the diagram's
    state is then the set of surviving layers), ``"at-close"`` puts a layer's cells after the
    last of its modes (the state is then the occurrence of open modes). Residuals go after the
    layer's last mode in both.
    """
    reach = comp.p > 0
    last_use: dict[int, int] = {}
    for position, j in enumerate(mode_order):
        for i in np.flatnonzero(reach[:, j]):
            last_use[int(i)] = position
    levels: list[tuple[str, int, int]] = []
    for position, j in enumerate(mode_order):
        levels.append(("q", int(j), -1))
        if placement == "with-mode":
            for i in np.flatnonzero(reach[:, j] & (comp.p[:, j] < 1.0)):
                levels.append(("c", int(i), int(j)))
        for i in np.flatnonzero(reach[:, j]):
            if last_use[int(i)] != position:
                continue
            if placement == "at-close":
                for jj in np.flatnonzero(reach[i] & (comp.p[i] < 1.0)):
                    levels.append(("c", int(i), int(jj)))
            if comp.r[i] > 0.0:
                levels.append(("r", int(i), -1))
    return levels


def _layer_sweep_order(p: np.ndarray) -> list[int]:
    """Modes in the order a greedy sweep over layers first needs them (closes layers early)."""
    reach = p > 0
    placed: list[int] = []
    seen = np.zeros(p.shape[1], bool)
    done = np.zeros(p.shape[0], bool)
    while not done.all():
        new_needed = np.where(done, np.iinfo(np.int64).max, (reach & ~seen[None, :]).sum(axis=1))
        i = int(np.argmin(new_needed))
        for j in np.flatnonzero(reach[i] & ~seen):
            placed.append(int(j))
            seen[j] = True
        done[i] = True
        # layers whose modes are all placed are finished too
        done |= ~(reach & ~seen[None, :]).any(axis=1)
    return placed


def _level_probabilities(comp: _Component, levels: list[tuple[str, int, int]]) -> list[float]:
    """P(variable is true) for every BDD level (variable ``str(k)`` is level ``k``)."""
    values = {
        "q": lambda a, b: comp.q[a],
        "c": lambda a, b: comp.p[a, b],
        "r": lambda a, b: comp.r[a],
    }
    return [float(values[kind](a, b)) for kind, a, b in levels]


def _build_bdd(
    comp: _Component,
    mode_order: Sequence[int],
    placement: str,
    node_budget: int,
    *,
    evaluate: bool,
) -> tuple[int, float]:
    """Build the stack-failure BDD in one variable order; return (nodes, log P(stack fails)).

    The CUDD manager lives only inside this call and every ``Function`` is released before it,
    as dd requires. ``log P`` is NaN unless ``evaluate``.
    """
    backend: Any = _bdd_module()[0]
    bdd = backend.BDD()
    levels = _variable_order(comp, mode_order, placement)
    # variables are named by level, as the shared diagram reader (faulttree_numeric) expects
    level_of = {level: k for k, level in enumerate(levels)}
    bdd.declare(*[str(k) for k in range(len(levels))])

    def var(kind: str, a: int, b: int) -> Any:
        return bdd.var(str(level_of[(kind, a, b)]))

    bdd.configure(reordering=False)
    position = {j: k for k, j in enumerate(mode_order)}
    layer_rank = sorted(
        range(comp.p.shape[0]),
        key=lambda i: min(position[int(j)] for j in np.flatnonzero(comp.p[i] > 0)),
    )
    from ddrisk.risk.faulttree_bdd import manager_nodes

    top = clause = event = None
    started = time.perf_counter()

    def check() -> None:
        # CUDD's own counter (microseconds; len(bdd) walks its tables). Checked after every
        # operation: one layer's clause alone can grow exponentially in a bad order.
        if manager_nodes(bdd) > 4 * node_budget:
            raise BudgetExceeded(
                "bdd", None, node_budget, "manager grew past 4x budget while building"
            )
        if time.perf_counter() - started > BDD_BUILD_SECONDS:
            raise BudgetExceeded(
                "bdd", None, node_budget, f"build took over {BDD_BUILD_SECONDS:g} s"
            )

    try:
        top = bdd.true
        for i in layer_rank:
            clause = var("r", i, -1) if comp.r[i] > 0.0 else bdd.false
            for j in np.flatnonzero(comp.p[i] > 0):
                event = var("q", int(j), -1)
                if comp.p[i, j] < 1.0:
                    event = event & var("c", i, int(j))
                clause = clause | event
                check()
            top = top & clause
            check()
        size = int(top.dag_size)
        if size > node_budget:
            raise BudgetExceeded("bdd", size, node_budget)
        value = math.nan
        if evaluate:
            from ddrisk.risk.faulttree_numeric import evaluate as evaluate_diagram

            value, _ = evaluate_diagram(
                bdd, top, _level_probabilities(comp, levels), importance=False
            )
        return size, value
    finally:
        top = clause = event = None


def _bdd_candidates(comp: _Component) -> list[tuple[str, list[int], str]]:
    """The ordering portfolio, most often best first: (label, mode order, cell placement).

    ``with-mode`` keeps a mode's graded cells next to it (the diagram then tracks surviving
    layers); ``at-close`` puts a layer's cells after its last mode (it then tracks open modes).
    With certain cells (p = 1) the two placements coincide.
    """
    candidates = [("layer-sweep", _layer_sweep_order(comp.p), "at-close")]
    candidates.append(("hub-frontier", _hub_frontier_order(comp.p), "with-mode"))
    if comp.p.shape[1] > 1:
        candidates.append(
            ("min-fill-reversed", _min_fill_order(_mode_adjacency(comp.p))[::-1], "at-close")
        )
        candidates.append(("reverse-cuthill-mckee", _rcm_order(comp.p), "at-close"))
    return candidates


def _bdd_component(
    comp: _Component, *, node_budget: int, portfolio_seconds: float = 2.0
) -> tuple[float, int, str]:
    """Try the ordering portfolio; evaluate P on the smallest BDD under the budget.

    Each later ordering gets the best size so far as its budget, and no new ordering is started
    once ``portfolio_seconds`` have been spent and one diagram fits.
    """
    best: tuple[int, str, list[int], str] | None = None
    last_error: BudgetExceeded | None = None
    start = time.perf_counter()
    for label, order, placement in _bdd_candidates(comp):
        if best is not None and time.perf_counter() - start > portfolio_seconds:
            break
        budget = node_budget if best is None else min(node_budget, best[0])
        try:
            size, _ = _build_bdd(comp, order, placement, budget, evaluate=False)
        except BudgetExceeded as error:
            last_error = error
            continue
        if best is None or size < best[0]:
            best = (size, label, order, placement)
    if best is None:
        assert last_error is not None
        raise last_error
    size, label, order, placement = best
    _, log_p = _build_bdd(comp, order, placement, node_budget, evaluate=True)
    return log_p, size, f"{label}/{placement}"


# --------------------------------------------------------------------------- enumeration


def enumerate_modes(model: FailureModeModel, *, max_modes: int = ENUMERATION_MAX_MODES) -> float:
    """Brute-force P(stack fails): sum over every subset of uncertain modes.

    The reference the other methods are tested against; cost ``2 ** M * L``.

    Examples
    --------
    >>> m = FailureModeModel(layers=("A", "B"), modes=("X",), q=[0.1], p=[[1.0], [1.0]], r=[0.0, 0.0])
    >>> round(enumerate_modes(m), 12)
    0.1
    """
    if model.structured:
        from ddrisk.risk.structured import enumerate_structured

        return enumerate_structured(model, max_modes=max_modes)
    q = np.asarray(model.q, dtype=float)
    p = np.asarray(model.p, dtype=float)
    r = np.asarray(model.r, dtype=float)
    free = np.flatnonzero((q > 0) & (q < 1))
    if free.size > max_modes:
        raise BudgetExceeded("enumerate", 2 ** int(free.size), 2**max_modes, "too many modes")
    sure = np.flatnonzero(q >= 1)
    with np.errstate(divide="ignore"):
        log_keep_p = np.log1p(-p)
        base = np.log1p(-r) + log_keep_p[:, sure].sum(axis=1)
        log_q, log_not_q = np.log(q[free]), np.log1p(-q[free])
    total = 0.0
    chunk_bits = min(int(free.size), 16)
    inner = np.array(list(itertools.product((0, 1), repeat=chunk_bits)), dtype=float).reshape(
        2**chunk_bits, chunk_bits
    )
    outer_bits = int(free.size) - chunk_bits
    for outer in itertools.product((0, 1), repeat=outer_bits):
        x = np.hstack([np.tile(np.array(outer, dtype=float), (inner.shape[0], 1)), inner])
        with np.errstate(invalid="ignore"):
            log_weight = np.where(x > 0, log_q, log_not_q).sum(axis=1)
            log_keep = base[None, :] + np.where(
                x[:, None, :] > 0, log_keep_p[:, free][None, :, :], 0.0
            ).sum(axis=2)
        fail = -np.expm1(log_keep)
        total += float((np.exp(log_weight) * fail.prod(axis=1)).sum())
    return total


# --------------------------------------------------------------------------- front door


def stack_failure_probability(
    model: FailureModeModel,
    *,
    method: str = "auto",
    node_budget: int = DEFAULT_NODE_BUDGET,
    state_budget: int = DEFAULT_STATE_BUDGET,
    mode_rank: np.ndarray | None = None,
) -> ExactResult:
    """Exact P(stack fails) under the failure-mode model.

    Parameters
    ----------
    model
        The failure-mode model.
    method
        ``"dp"``, ``"bdd"``, ``"enumerate"``, ``"inclusion-exclusion"`` (over layers, see
        :mod:`ddrisk.risk.layer_inclusion`) or ``"auto"`` (per component: inclusion-exclusion
        where it is cheaper than the DP and passes its accuracy check, else DP, then BDD if
        the DP table would exceed ``state_budget``).
    node_budget
        Largest BDD (nodes) to build per component.
    state_budget
        Largest DP table (entries) to build per component.
    mode_rank
        Optional DP elimination order as a rank per mode (from :func:`mode_elimination_rank`
        on a model this one is a sub-stack of): the DP reuses it where it is as narrow as the
        component allows, and plans its own only where that would be narrower.

    Raises
    ------
    BudgetExceeded
        When no allowed method fits its budget.

    Examples
    --------
    >>> ten = FailureModeModel(
    ...     layers=tuple("ABCDEFGHIJ"), modes=tuple(f"m{k}" for k in range(10)),
    ...     q=[0.1] * 10, p=np.eye(10), r=[0.0] * 10)
    >>> result = stack_failure_probability(ten)
    >>> float(f"{result.probability:.6g}"), result.method
    (1e-10, 'dp')
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    start = time.perf_counter()
    if model.structured and method != "enumerate":
        if method in ("dp", "inclusion-exclusion"):
            raise ValueError(f"method {method!r} evaluates all-miss stacks; use 'bdd' or 'auto'")
        from ddrisk.risk.structured import structured_probability

        return structured_probability(model, node_budget=node_budget)
    if method == "enumerate":
        value = enumerate_modes(model)
        elapsed = time.perf_counter() - start
        n_free = int(((model.q > 0) & (model.q < 1)).sum())
        return ExactResult(
            probability=value,
            log_probability=math.log(value) if value > 0 else -math.inf,
            method="enumerate",
            elapsed_seconds=elapsed,
            n_components=1,
            largest_component=(model.n_layers, n_free),
            peak_states=2**n_free,
            model_name=model.name,
        )
    reduced = _reduce(model)
    log_p = reduced.log_constant
    peak_states = 0
    nodes = 0
    orderings: list[str] = []
    used: set[str] = set()
    notes: list[str] = []
    largest = (0, 0)
    for comp in reduced.components:
        largest = max(largest, comp.p.shape, key=lambda s: (s[1], s[0]))
        if not math.isfinite(log_p):
            break
        order = None if mode_rank is None else _shared_or_own_order(comp, mode_rank)
        if method in ("auto", "inclusion-exclusion"):
            # Dense components with few layers: inclusion-exclusion over layers (2**L terms).
            from ddrisk.risk.layer_inclusion import component_expansion, prefer_layers

            clique = int((comp.p > 0).sum(axis=1).max())
            if (
                order is None
                and method == "auto"
                and not prefer_layers(comp.p, clique, state_budget=state_budget)
            ):
                # The expansion check needs the DP's plan: make it once, for both.
                order = _min_fill_order(_mode_adjacency(comp.p))

            expansion = component_expansion(
                comp.q,
                comp.p,
                comp.r,
                forced=method == "inclusion-exclusion",
                state_budget=state_budget,
                notes=notes,
                order=order,
            )
            if expansion is not None:
                log_p += expansion.log_probability
                used.add("inclusion-exclusion")
                continue
        if method in ("auto", "dp"):
            try:
                run = _dp_component(comp, state_budget=state_budget, order=order)
                log_p += run.log_probability
                peak_states = max(peak_states, run.peak_states)
                used.add("dp")
                continue
            except BudgetExceeded as error:
                if method == "dp":
                    raise
                notes.append(f"component {comp.p.shape}: {error}; used the BDD")
        comp_log_p, size, label = _bdd_component(comp, node_budget=node_budget)
        log_p += comp_log_p
        nodes += size
        orderings.append(label)
        used.add("bdd")
    elapsed = time.perf_counter() - start
    # Summed component logs can round a certain failure a few ulps above 0 (P = 1 + 2e-16).
    log_p = min(log_p, 0.0)
    probability = math.exp(log_p) if log_p > -745.2 else 0.0
    label = "+".join(sorted(used)) if used else ("dp" if method in ("auto", "dp") else method)
    ordering = None
    if orderings:
        ordering = ",".join(sorted(set(orderings)))
    elif "dp" in used:
        ordering = "min-fill"
    return ExactResult(
        probability=probability,
        log_probability=log_p,
        method=label,
        elapsed_seconds=elapsed,
        n_components=len(reduced.components),
        largest_component=(int(largest[0]), int(largest[1])),
        peak_states=peak_states if "dp" in used else None,
        bdd_nodes=nodes if "bdd" in used else None,
        ordering=ordering,
        model_name=model.name,
        notes=tuple(notes),
    )


def _shared_or_own_order(comp: _Component, mode_rank: np.ndarray) -> list[int]:
    """The larger model's order restricted to ``comp``, unless the component's own is narrower.

    The restricted order is never wider than the larger model's plan, but a small sub-stack
    can often be eliminated far more narrowly (the DP costs 2 ** width, and a wide plan also
    misleads the layer-expansion check). When the restricted width already equals the lower
    bound (the largest layer's modes form a clique) it is optimal and is used as is; otherwise
    the component's own min-fill plan is made and the narrower of the two is kept.
    """
    adjacency = _mode_adjacency(comp.p)
    shared = sorted(range(comp.p.shape[1]), key=lambda j: int(mode_rank[comp.modes[j]]))
    shared_width = _plan_width(adjacency, shared)
    if shared_width <= int((comp.p > 0).sum(axis=1).max()):
        return shared
    own = _min_fill_order(adjacency)
    return own if _plan_width(adjacency, own) < shared_width else shared


def mode_elimination_rank(model: FailureModeModel) -> np.ndarray:
    """Each mode's position in the DP's min-fill elimination order on ``model``.

    Restricting an elimination order to a subset of the variables never widens it (the fill
    graph of the restricted order is a subgraph of the full one), so every sub-stack of
    ``model`` (a prefix, the stack without a layer) can reuse this order through
    ``stack_failure_probability(..., mode_rank=...)`` and skip its own planning: the prefix
    curve then costs one plan instead of one per prefix. Modes outside every component rank last.
    """
    reduced = _reduce(model)
    rank = np.arange(model.n_modes) + model.n_modes
    position = 0
    for comp in reduced.components:
        for local in _min_fill_order(_mode_adjacency(comp.p)):
            rank[comp.modes[local]] = position
            position += 1
    return rank


def probability_ratios(
    model: FailureModeModel,
    *,
    state_budget: int = DEFAULT_STATE_BUDGET,
    used: set[str] | None = None,
) -> tuple[float, np.ndarray, np.ndarray]:
    """log P(stack fails) and, for every basic event, P(conditioned) / P from one DP pass.

    Returns ``(log_p, mode_ratios, layer_ratios)`` where ``mode_ratios[j] = (P(q_j=0)/P,
    P(q_j=1)/P)`` and ``layer_ratios[i] = (P(r_i=0)/P, P(r_i=1)/P)``. Entries the pass cannot
    give (events removed in preprocessing whose conditioning changes the structure, or P = 0)
    are NaN; :mod:`ddrisk.risk.importance` recomputes those by conditioning.
    """
    reduced = _reduce(model)
    n_layers, n_modes = model.p.shape
    mode_ratios = np.full((n_modes, 2), np.nan)
    layer_ratios = np.full((n_layers, 2), np.nan)
    log_p = reduced.log_constant
    runs = []
    for comp in reduced.components:
        from ddrisk.risk.layer_inclusion import component_expansion

        run: Any = component_expansion(
            comp.q, comp.p, comp.r, forced=False, state_budget=state_budget, conditioned=True
        )
        if run is None:
            run = _dp_component(comp, state_budget=state_budget, gradients=True)
        if used is not None:  # the caller names the methods behind the ratios
            used.add("dp" if isinstance(run, _DPRun) else "inclusion-exclusion")
        log_p += run.log_probability
        runs.append(run)
    if not math.isfinite(log_p):
        return log_p, mode_ratios, layer_ratios
    for comp, run in zip(reduced.components, runs, strict=True):
        mode_ratios[comp.modes] = run.mode_ratios
        layer_ratios[comp.layers] = run.layer_ratios
    q = np.asarray(model.q)
    for j in reduced.irrelevant_modes:
        if q[j] == 0.0:
            mode_ratios[j] = (1.0, np.nan)  # q_j = 1 may create new structure: recompute
        else:
            mode_ratios[j] = (1.0, 1.0)
    for j in reduced.certain_modes:
        mode_ratios[j] = (np.nan, 1.0)
    r = reduced.effective_r
    for i in reduced.isolated_layers:
        # P is proportional to the layer's effective residual.
        layer_ratios[i] = (np.nan if reduced.certain_modes.size else 0.0, 1.0 / r[i])
    for i in reduced.certain_layers:
        layer_ratios[i] = (np.nan, 1.0)
    if reduced.certain_modes.size:
        # A certain mode is folded into the residual: r_eff = 0 is not the same event as r_i = 0.
        touched = (np.asarray(model.p)[:, reduced.certain_modes] > 0).any(axis=1)
        layer_ratios[touched, 0] = np.nan
    return log_p, mode_ratios, layer_ratios
