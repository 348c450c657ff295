"""Reading probabilities and Birnbaum measures off a CUDD diagram, small or large.

Two passes over the same diagram, chosen by its size:

* small diagrams (the common case) are walked node by node in Python, which needs no numpy and
  keeps ``ddrisk risk --mef`` on a small tree quick to start;
* large ones (a million nodes for CEA9601) are dumped by CUDD in its DDDMP text format, read
  back with numpy and evaluated one variable level at a time, vectorised: the children of a
  node always sit on deeper levels, so a level's nodes depend only on levels already done.

Both keep ``log P(true)`` and ``log P(false)`` of every node (a complemented edge swaps them),
so neither ``1 - P`` is ever formed nor does a probability below ``1e-308`` underflow. The
Birnbaum measure ``dP(top)/dp(x)`` comes from one reverse (adjoint) pass in linear space.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Sequence
from typing import Any

from ddrisk.risk.faulttree_bdd import iter_nodes

PYTHON_PASS_MAX_NODES = 20_000
"""Diagrams up to this many nodes are read in Python; larger ones through DDDMP and numpy."""

_NEG_INF = -math.inf


def _log_add(a: float, b: float) -> float:
    """``log(exp(a) + exp(b))`` without leaving log space."""
    if a == _NEG_INF:
        return b
    if b == _NEG_INF:
        return a
    high, low = (a, b) if a >= b else (b, a)
    return high + math.log1p(math.exp(low - high))


def _log(value: float) -> float:
    return math.log(value) if value > 0.0 else _NEG_INF


def evaluate(
    bdd: Any, root: Any, probabilities: Sequence[float], *, importance: bool
) -> tuple[float, list[float] | None]:
    """``(log P(root), Birnbaum measure per variable or None)``.

    ``probabilities[k]`` is the probability of variable ``str(k)``.
    """
    dumps_dddmp = type(bdd).__module__ == "dd.cudd"
    if not dumps_dddmp or int(root.dag_size) <= PYTHON_PASS_MAX_NODES:
        return _evaluate_python(bdd, root, probabilities, importance=importance)
    return _evaluate_numpy(bdd, root, probabilities, importance=importance)


# --------------------------------------------------------------------------- Python pass


def _evaluate_python(
    bdd: Any, root: Any, probabilities: Sequence[float], *, importance: bool
) -> tuple[float, list[float] | None]:
    terminal = int(bdd.true) & ~1
    logs: dict[int, tuple[float, float]] = {terminal: (0.0, _NEG_INF)}

    def edge(node: Any) -> tuple[float, float]:
        key = int(node)
        pt, pf = logs[key & ~1]
        return (pf, pt) if key & 1 else (pt, pf)

    nodes = list(iter_nodes(root))
    for node in nodes:
        p = probabilities[int(node.var)]
        lt_low, lf_low = edge(node.low)
        lt_high, lf_high = edge(node.high)
        log_p, log_q = _log(p), _log(1.0 - p)
        logs[int(node) & ~1] = (
            _log_add(log_q + lt_low, log_p + lt_high),
            _log_add(log_q + lf_low, log_p + lf_high),
        )
    log_top = edge(root)[0]
    if not importance:
        return log_top, None
    birnbaum = [0.0] * len(probabilities)
    root_key = int(root) & ~1
    if root_key == terminal:
        return log_top, birnbaum
    adjoint = {int(node) & ~1: 0.0 for node in nodes}
    adjoint[root_key] = -1.0 if int(root) & 1 else 1.0
    for node in reversed(nodes):  # parents before children
        weight = adjoint[int(node) & ~1]
        if weight == 0.0:
            continue
        k = int(node.var)
        p = probabilities[k]
        low, high = node.low, node.high
        birnbaum[k] += weight * (math.exp(edge(high)[0]) - math.exp(edge(low)[0]))
        for child, share in ((low, 1.0 - p), (high, p)):
            child_key = int(child) & ~1
            if child_key in adjoint:
                adjoint[child_key] += weight * share * (-1.0 if int(child) & 1 else 1.0)
    return log_top, birnbaum


# --------------------------------------------------------------------------- numpy pass


def _read_dddmp(bdd: Any, root: Any) -> tuple[Any, int]:
    """``(nodes, root edge)``: rows ``(id, var, index, then, else)``, ids 1..n, 1 the terminal."""
    import numpy as np

    handle, path = tempfile.mkstemp(suffix=".dddmp", prefix="ddrisk-bdd-")
    os.close(handle)
    try:
        bdd.dump(path, [root], filetype="dddmp")
        with open(path, "rb") as stream:
            data = stream.read()
    finally:
        os.unlink(path)
    header, _, rest = data.partition(b".nodes\n")
    body = rest[: rest.rindex(b".end")]
    root_edge = 0
    for line in header.splitlines():
        if line.startswith(b".rootids"):
            root_edge = int(line.split()[1])
    # the terminal's row names no variable ("1 T 1 0 0"); give it variable -1
    body = body.replace(b" T ", b" -1 ", 1)
    import io

    nodes = np.loadtxt(io.BytesIO(body), dtype=np.int64, ndmin=2)
    if nodes.shape[0] and not (nodes[:, 0] == np.arange(1, nodes.shape[0] + 1)).all():
        raise ValueError("unexpected DDDMP node numbering")
    return nodes, root_edge


def _evaluate_numpy(
    bdd: Any, root: Any, probabilities: Sequence[float], *, importance: bool
) -> tuple[float, list[float] | None]:
    import numpy as np

    nodes, root_edge = _read_dddmp(bdd, root)
    n = nodes.shape[0]
    var = nodes[:, 1]
    then_edge, else_edge = nodes[:, 3], nodes[:, 4]
    probs = np.asarray(probabilities, dtype=float)
    level_of = np.array([bdd.level_of_var(str(k)) for k in range(len(probs))], dtype=np.int64)
    regular = var >= 0
    level = np.full(n, len(probs) + 1, dtype=np.int64)
    level[regular] = level_of[var[regular]]
    p = np.zeros(n)
    p[regular] = probs[var[regular]]
    with np.errstate(divide="ignore"):
        log_p, log_q = np.log(p), np.log1p(-p)
    # slot 0 is unused; ids run 1..n
    log_t = np.full(n + 1, -np.inf)
    log_f = np.full(n + 1, -np.inf)
    terminal = ~regular
    log_t[1:][terminal] = 0.0

    def edge_logs(edges: Any) -> tuple[Any, Any]:
        idx = np.abs(edges)
        negated = edges < 0
        lt = np.where(negated, log_f[idx], log_t[idx])
        lf = np.where(negated, log_t[idx], log_f[idx])
        return lt, lf

    order = np.argsort(-level, kind="stable")  # deepest level first
    boundaries = np.flatnonzero(np.diff(level[order])) + 1
    groups = [g for g in np.split(order, boundaries) if regular[g[0]]]
    for rows in groups:
        lt_low, lf_low = edge_logs(else_edge[rows])
        lt_high, lf_high = edge_logs(then_edge[rows])
        log_t[rows + 1] = np.logaddexp(log_q[rows] + lt_low, log_p[rows] + lt_high)
        log_f[rows + 1] = np.logaddexp(log_q[rows] + lf_low, log_p[rows] + lf_high)
    top_t, _ = edge_logs(np.array([root_edge]))
    log_top = float(top_t[0])
    if not importance:
        return log_top, None
    value = np.exp(log_t)
    adjoint = np.zeros(n + 1)
    adjoint[abs(root_edge)] = -1.0 if root_edge < 0 else 1.0
    birnbaum = np.zeros(len(probs))

    def edge_value(edges: Any) -> Any:
        v = value[np.abs(edges)]
        return np.where(edges < 0, 1.0 - v, v)

    for rows in reversed(groups):  # top level first
        weight = adjoint[rows + 1]
        high, low = then_edge[rows], else_edge[rows]
        np.add.at(birnbaum, var[rows], weight * (edge_value(high) - edge_value(low)))
        pr = p[rows]
        for edges, share in ((low, 1.0 - pr), (high, pr)):
            sign = np.where(edges < 0, -1.0, 1.0)
            np.add.at(adjoint, np.abs(edges), weight * share * sign)
    return log_top, [float(b) for b in birnbaum]
