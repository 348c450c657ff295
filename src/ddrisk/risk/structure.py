"""How a stack's layers combine: all must miss, voting groups, several attack routes.

A structure is a tree whose leaves are layer ids and whose inner nodes say when the part
*fails* (lets an attack through):

:class:`AllMiss`
    fails when every child fails. Today's default stack, and also an ensemble that blocks as
    soon as any member flags.
:class:`Vote`
    a voting group that blocks when at least ``flag`` of its ``n`` members flag, so it fails
    when ``n - flag + 1`` of them miss.
:class:`AnyRoute`
    several attack routes (chat input, retrieved document, tool result): the stack fails when
    any route gets through.

The leaves are the same layer events everywhere (a layer may guard several routes), and the
layers share the same failure-mode events, so a mode common to layers on different routes
still couples them. Given the failure modes, layers fail independently; the functions here
evaluate a structure on per-layer failure probabilities (vectorised, in log space) for the
sampler and the independence prediction, and :mod:`ddrisk.risk.structured` evaluates it exactly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Union

import numpy as np


@dataclass(frozen=True)
class AllMiss:
    """Fails when every child fails (an AND over misses)."""

    children: tuple[Node, ...]

    kind = "all_miss"


@dataclass(frozen=True)
class AnyRoute:
    """Fails when any child fails (an OR over routes)."""

    children: tuple[Node, ...]

    kind = "any_route"


@dataclass(frozen=True)
class Vote:
    """Blocks when at least ``flag`` children flag; fails when ``n - flag + 1`` of them miss."""

    flag: int
    children: tuple[Node, ...]

    kind = "vote"

    @property
    def misses_to_fail(self) -> int:
        return len(self.children) - self.flag + 1


Node = Union[str, AllMiss, AnyRoute, Vote]  # noqa: UP007 - a runtime alias used in isinstance


def all_miss(layers: Sequence[str]) -> AllMiss:
    """The default structure: the stack fails when every layer misses."""
    return AllMiss(tuple(layers))


def validate_structure(node: Node, layers: Sequence[str], *, path: str = "structure") -> None:
    """Raise ``ValueError`` (naming the place) when the structure is malformed.

    Every leaf must be one of ``layers``, every layer must appear, inner nodes need children,
    and a vote's ``flag`` must lie in ``1..n``.
    """
    known = set(layers)
    seen: set[str] = set()

    def walk(item: Node, where: str) -> None:
        if isinstance(item, str):
            if item not in known:
                raise ValueError(f"{where}: unknown layer {item!r} (layers: {', '.join(layers)})")
            seen.add(item)
            return
        if not isinstance(item, AllMiss | AnyRoute | Vote):
            raise ValueError(f"{where}: expected a layer id or a structure node")
        if not item.children:
            raise ValueError(f"{where}: {item.kind} needs at least one member")
        if isinstance(item, Vote) and not 1 <= item.flag <= len(item.children):
            raise ValueError(
                f"{where}: vote flag must be between 1 and {len(item.children)}, got {item.flag}"
            )
        for k, child in enumerate(item.children):
            walk(child, f"{where}.{item.kind}[{k}]")

    walk(node, path)
    missing = [layer for layer in layers if layer not in seen]
    if missing:
        raise ValueError(f"{path}: layers not placed in the structure: {', '.join(missing)}")


def leaves(node: Node) -> list[str]:
    """Layer ids in the order they first appear."""
    if isinstance(node, str):
        return [node]
    out: dict[str, None] = {}
    for child in node.children:
        for leaf in leaves(child):
            out.setdefault(leaf, None)
    return list(out)


def leaf_counts(node: Node) -> dict[str, int]:
    """How often each layer appears (a layer guarding two routes appears twice)."""
    if isinstance(node, str):
        return {node: 1}
    counts: dict[str, int] = {}
    for child in node.children:
        for leaf, n in leaf_counts(child).items():
            counts[leaf] = counts.get(leaf, 0) + n
    return counts


def is_all_miss(node: Node | None, layers: Sequence[str]) -> bool:
    """True when the structure is today's default: one AND over each layer once."""
    if node is None:
        return True
    if isinstance(node, str):
        return list(layers) == [node]
    return (
        isinstance(node, AllMiss)
        and all(isinstance(c, str) for c in node.children)
        and sorted(node.children) == sorted(layers)  # type: ignore[type-var]
        and len(set(node.children)) == len(node.children)
    )


def describe(node: Node) -> str:
    """A one-line human description, e.g. ``any route of (all miss (A, B), 2-of-3 vote (C, D, E))``."""
    if isinstance(node, str):
        return node
    inner = ", ".join(describe(c) for c in node.children)
    if isinstance(node, AllMiss):
        return f"all miss ({inner})"
    if isinstance(node, AnyRoute):
        return f"any route of ({inner})"
    return f"{node.flag}-of-{len(node.children)} vote ({inner})"


def to_data(node: Node) -> Any:
    """JSON/YAML form (the inverse of :func:`from_data`)."""
    if isinstance(node, str):
        return node
    if isinstance(node, Vote):
        return {"vote": {"flag": node.flag, "of": [to_data(c) for c in node.children]}}
    return {node.kind: [to_data(c) for c in node.children]}


class StructureDataError(ValueError):
    """Malformed structure data; ``key_path`` locates it (e.g. ``("structure", "vote", "flag")``)."""

    def __init__(self, key_path: tuple[str | int, ...], problem: str):
        self.key_path = key_path
        self.problem = problem
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in key_path).lstrip(".")
        super().__init__(f"{where}: {problem}")


def from_data(data: Any, *, path: tuple[str | int, ...] = ("structure",)) -> Node:
    """Parse the data form; raise :class:`StructureDataError` (with its key path) when malformed.

    Forms: a layer id (string); ``{all_miss: [...]}``; ``{any_route: [...]}``;
    ``{vote: {flag: K, of: [...]}}`` (block when at least K of the listed members flag).

    >>> describe(from_data({"any_route": ["A", {"vote": {"flag": 2, "of": ["B", "C", "D"]}}]}))
    'any route of (A, 2-of-3 vote (B, C, D))'
    """
    if isinstance(data, str):
        return data
    if not isinstance(data, Mapping) or len(data) != 1:
        raise StructureDataError(path, "expected a layer id or one of all_miss, any_route, vote")
    ((key, value),) = data.items()
    if key in ("all_miss", "any_route"):
        if not isinstance(value, list) or not value:
            raise StructureDataError((*path, key), "expected a non-empty list of members")
        children = tuple(from_data(v, path=(*path, key, k)) for k, v in enumerate(value))
        return AllMiss(children) if key == "all_miss" else AnyRoute(children)
    if key == "vote":
        if not isinstance(value, Mapping) or set(value) != {"flag", "of"}:
            raise StructureDataError((*path, key), "expected {flag: K, of: [members]}")
        flag, members = value["flag"], value["of"]
        if not isinstance(members, list) or not members:
            raise StructureDataError((*path, key, "of"), "expected a non-empty list of members")
        if not isinstance(flag, int) or isinstance(flag, bool) or not 1 <= flag <= len(members):
            raise StructureDataError(
                (*path, key, "flag"), f"expected an integer from 1 to {len(members)}"
            )
        children = tuple(from_data(v, path=(*path, key, "of", k)) for k, v in enumerate(members))
        return Vote(flag, children)
    raise StructureDataError(
        (*path, str(key)), f"unknown structure kind {key!r}; use all_miss, any_route or vote"
    )


# --------------------------------------------------------------------------- evaluation


def _log1mexp(x: np.ndarray) -> np.ndarray:
    """log(1 - exp(x)) for x <= 0, accurate at both ends."""
    x = np.minimum(x, 0.0)
    with np.errstate(divide="ignore"):
        return np.where(x > -math.log(2.0), np.log(-np.expm1(x)), np.log1p(-np.exp(x)))


def log_failure(
    node: Node, log_fail: np.ndarray, index: Mapping[str, int]
) -> tuple[np.ndarray, np.ndarray]:
    """(log P(node fails), log P(node holds)) when layers fail independently.

    ``log_fail[..., i]`` is log P(layer i fails); valid only when no layer appears twice
    (given the modes, layers are independent, so this is exact per draw).
    """
    if isinstance(node, str):
        lf = log_fail[..., index[node]]
        return lf, _log1mexp(lf)
    parts = [log_failure(c, log_fail, index) for c in node.children]
    if isinstance(node, AllMiss | AnyRoute):
        # P(all fail) is a product; its complement is the sum over k of P(the first k - 1
        # fail, the k-th holds): non-negative terms only, so tiny values keep their digits.
        # The same with the roles swapped for "any fails".
        same = 0 if isinstance(node, AllMiss) else 1
        product = np.sum([part[same] for part in parts], axis=0)
        terms, before = [], np.zeros_like(parts[0][0])
        for part in parts:
            terms.append(before + part[1 - same])
            before = before + part[same]
        other = logsumexp(np.stack(terms), axis=0)
        return (product, other) if same == 0 else (other, product)
    need = node.misses_to_fail
    # table[c] = log P(exactly c misses so far), c < need; tail = log P(at least need)
    shape = parts[0][0].shape
    table = [np.zeros(shape)] + [np.full(shape, -np.inf) for _ in range(need - 1)]
    tail = np.full(shape, -np.inf)
    for fail, hold in parts:
        tail = np.logaddexp(tail, table[need - 1] + fail)
        for c in range(need - 1, 0, -1):
            table[c] = np.logaddexp(table[c] + hold, table[c - 1] + fail)
        table[0] = table[0] + hold
    held = logsumexp(np.stack(table), axis=0) if need > 1 else table[0]
    return tail, held


def logsumexp(values: np.ndarray, axis: int = 0) -> np.ndarray:
    """log(sum(exp(values))) along ``axis``, stable for -inf and huge magnitudes.

    A local copy so that importing the structure (every catalog load) does not import
    ``scipy.special``, which costs more than the rest of the risk package together.
    """
    values = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore"):
        peak = np.max(values, axis=axis, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0.0)
    with np.errstate(divide="ignore"):
        total = np.log(np.sum(np.exp(values - peak), axis=axis, keepdims=True)) + peak
    return np.squeeze(total, axis=axis)


def independent_log_probability(node: Node, marginals: Mapping[str, float]) -> float:
    """log P(structure fails) if every layer failed independently at its marginal.

    A layer that appears twice is the same event: its states are enumerated.
    """
    names = list(marginals)
    index = {n: k for k, n in enumerate(names)}
    with np.errstate(divide="ignore"):
        log_fail = np.log(np.array([marginals[n] for n in names], dtype=float))
    return float(conditioned_log_failure(node, log_fail[None, :], index)[0])


def conditioned_log_failure(
    node: Node, log_fail: np.ndarray, index: Mapping[str, int], *, max_repeated: int = 10
) -> np.ndarray:
    """log P(structure fails) per row of ``log_fail`` (``(..., layers)``), exact.

    Layers that appear more than once are conditioned on (their ``2 ** k`` joint states are
    summed), so the rest evaluate as independent.
    """
    repeated = [leaf for leaf, n in leaf_counts(node).items() if n > 1]
    if not repeated:
        return log_failure(node, log_fail, index)[0]
    if len(repeated) > max_repeated:
        raise ValueError(f"more than {max_repeated} layers appear in several places")
    terms = []
    for mask in range(2 ** len(repeated)):
        fixed = log_fail.copy()
        weight = np.zeros(log_fail.shape[:-1])
        for k, leaf in enumerate(repeated):
            i = index[leaf]
            if (mask >> k) & 1:
                weight = weight + log_fail[..., i]
                fixed[..., i] = 0.0
            else:
                weight = weight + _log1mexp(log_fail[..., i])
                fixed[..., i] = -np.inf
        terms.append(weight + log_failure(node, fixed, index)[0])
    return np.asarray(logsumexp(np.stack(terms), axis=0))
