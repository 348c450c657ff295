"""The plain-Python average linkage must give SciPy's tree and flat clusters exactly.

``ddrisk analyze`` clusters without importing ``scipy.cluster`` (start-up time); these tests keep
it bit-identical to ``scipy.cluster.hierarchy`` on tie-heavy inputs like the catalog's Jaccard
distances, where a different tie-break would change the published groups.
"""

from __future__ import annotations

import random
from itertools import combinations

import numpy as np
import pytest
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

from ddrisk.analysis._linkage import average_linkage, flat_clusters
from ddrisk.analysis.overlap import jaccard


def _jaccard_distances(masks: list[int]) -> list[list[float]]:
    n = len(masks)
    distance = [[0.0] * n for _ in range(n)]
    for i, j in combinations(range(n), 2):
        distance[i][j] = distance[j][i] = 1.0 - jaccard(masks[i], masks[j])
    return distance


def _cases() -> list[list[list[float]]]:
    rng = random.Random(20261129)
    cases = []
    for _ in range(300):
        n = rng.randint(2, 20)
        modes = rng.randint(1, 8)  # few modes: many identical and tied distances
        cases.append(_jaccard_distances([rng.getrandbits(modes) for _ in range(n)]))
    for _ in range(50):  # coarse grid of values: ties at several heights
        n = rng.randint(2, 12)
        distance = [[0.0] * n for _ in range(n)]
        for i, j in combinations(range(n), 2):
            distance[i][j] = distance[j][i] = rng.choice([0.0, 0.25, 0.5, 0.75, 1.0])
        cases.append(distance)
    return cases


@pytest.mark.parametrize("distance", _cases())
def test_matches_scipy_linkage_and_fcluster(distance):
    expected = linkage(squareform(np.array(distance), checks=False), method="average")
    rows = average_linkage(distance)
    assert np.array_equal(np.array(rows), expected)  # exact, not approximate
    for threshold in (0.0, 0.2, 0.5, 0.9):
        scipy_labels = fcluster(expected, t=threshold, criterion="distance").tolist()
        assert flat_clusters(rows, threshold) == scipy_labels


def test_non_finite_distance_is_refused():
    with pytest.raises(ValueError, match="finite"):
        average_linkage([[0.0, float("nan")], [float("nan"), 0.0]])


def test_single_item_is_one_cluster():
    assert average_linkage([[0.0]]) == []
    assert flat_clusters([], 0.2) == [1]
