"""Average-linkage clustering of a few items, in plain Python, matching SciPy to the bit.

Why not ``scipy.cluster.hierarchy``: importing it loads ``scipy.spatial`` (and with it
``scipy.linalg``, ``scipy.special`` and SciPy's docstring machinery), which costs more start-up
time than the whole of ``ddrisk analyze`` may take. A catalog has tens of techniques, so the
clustering itself is a few thousand float operations.

Why it must match SciPy exactly: the linkage matrix is part of the analysis output (dendrograms,
JSON), and tied distances are common on Jaccard distances of small sets, so a different
tie-break would change published groups. The functions below therefore follow the same
algorithm and conventions as ``scipy.cluster.hierarchy.linkage(..., method="average")`` (the
nearest-neighbour chain, preferring the previous chain element on ties, the Lance-Williams
update ``(n_x d_xi + n_y d_yi) / (n_x + n_y)``, a stable sort by height, then union-find
relabelling) and ``fcluster(..., criterion="distance")`` (a subtree is one flat cluster when
no merge inside it is higher than the cut). ``tests/analysis/test_linkage.py`` compares both
with SciPy on many tie-heavy inputs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["average_linkage", "flat_clusters"]


def average_linkage(distance: Sequence[Sequence[float]]) -> list[list[float]]:
    """SciPy-style linkage matrix rows ``[left, right, height, size]`` for a square matrix.

    ``distance`` is a symmetric matrix with a zero diagonal and finite entries; node ``n + k``
    is the cluster formed by row ``k``.
    """
    n = len(distance)
    between = [[float(value) for value in row] for row in distance]
    if any(not math.isfinite(value) for row in between for value in row):
        raise ValueError("distance must contain only finite values")
    size = [1] * n
    chain: list[int] = []
    merges: list[tuple[int, int, float]] = []
    y = 0
    for _ in range(n - 1):
        if not chain:
            chain.append(next(i for i in range(n) if size[i] > 0))
        # Follow nearest neighbours until two clusters are each other's nearest.
        while True:
            x = chain[-1]
            if len(chain) > 1:
                y = chain[-2]
                nearest = between[x][y]
            else:
                nearest = math.inf
            row = between[x]
            for i in range(n):
                if size[i] > 0 and i != x and row[i] < nearest:
                    nearest = row[i]
                    y = i
            if len(chain) > 1 and y == chain[-2]:
                break
            chain.append(y)
        del chain[-2:]
        x, y = min(x, y), max(x, y)
        size_x, size_y = size[x], size[y]
        merges.append((x, y, nearest))
        size[x] = 0
        size[y] = size_x + size_y
        for i in range(n):
            if size[i] == 0 or i == y:
                continue
            merged = (size_x * between[i][x] + size_y * between[i][y]) / (size_x + size_y)
            between[i][y] = between[y][i] = merged
    merges.sort(key=lambda merge: merge[2])  # stable, like SciPy's mergesort
    return _relabel(merges, n)


def _relabel(merges: list[tuple[int, int, float]], n: int) -> list[list[float]]:
    """Number merged clusters ``n, n + 1, ...`` in height order (union-find on slot ids)."""
    parent = list(range(2 * n - 1))
    members = [1] * (2 * n - 1)

    def root(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    rows = []
    for k, (a, b, height) in enumerate(merges):
        left, right = sorted((root(a), root(b)))
        label = n + k
        parent[left] = parent[right] = label
        members[label] = members[left] + members[right]
        rows.append([float(left), float(right), height, float(members[label])])
    return rows


def flat_clusters(tree: Sequence[Sequence[float]], threshold: float) -> list[int]:
    """Flat cluster number (from 1) of each item, cutting ``tree`` at ``threshold``.

    A subtree is one cluster when its highest merge is at most ``threshold``; numbers are given
    in SciPy's order (a depth-first walk that finishes a node's subtrees before its leaves).
    """
    n = len(tree) + 1
    if n == 1:
        return [1]
    highest: list[float] = []
    for left, right, height, _ in tree:
        top = height
        for child in (int(left), int(right)):
            if child >= n:
                top = max(top, highest[child - n])
        highest.append(top)
    labels = [0] * n
    count = 0
    # Iterative walk (node, cluster number or 0 when not yet inside a cluster, children done?).
    stack: list[tuple[int, int, bool]] = [(2 * n - 2, 0, False)]
    while stack:
        node, cluster, expanded = stack.pop()
        left, right = int(tree[node - n][0]), int(tree[node - n][1])
        if not expanded:
            if cluster == 0 and highest[node - n] <= threshold:
                count += 1
                cluster = count
            stack.append((node, cluster, True))
            for child in (right, left):  # left is walked first
                if child >= n:
                    stack.append((child, cluster, False))
            continue
        for child in (left, right):
            if child < n:
                if cluster == 0:
                    count += 1
                    labels[child] = count
                else:
                    labels[child] = cluster
    return labels
