"""The stack's observed all-miss and any-block rates get the per-layer rates' interval."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ddrisk.stress.matrix import OutcomeMatrix
from ddrisk.stress.statistics import analyze_outcomes


def _matrix(rows: list[tuple[str, str, str, bool]], blocked: list[list[float]]) -> OutcomeMatrix:
    items = pd.DataFrame(rows, columns=["item_id", "family", "behavior_id", "harmful"])
    verdicts = np.array(blocked, dtype=float)
    return OutcomeMatrix(
        items=items,
        layers=("x", "y"),
        blocked=verdicts,
        score=np.full(verdicts.shape, np.nan),
        errors=np.full(verdicts.shape, None, dtype=object),
    )


ROWS = [
    ("h1", "direct", "b1", True),
    ("h2", "direct", "b2", True),
    ("h3", "direct", "b3", True),
    ("g1", "benign", "c1", False),
    ("g2", "benign", "c2", False),
    ("g3", "benign", "c3", False),
]


def test_all_miss_and_any_block_match_the_per_layer_interval():
    # Both layers miss h1 and h2 and block h3: each layer and the stack miss 2 of 3.
    # Both block g1 and g2: each layer and the stack (any block) false-block 2 of 3.
    blocked = [[0, 0], [0, 0], [1, 1], [1, 1], [1, 1], [0, 0]]
    result = analyze_outcomes(_matrix(ROWS, blocked), n_bootstrap=300, seed=1)
    layer = result.layers.set_index("layer").loc["x"]
    all_miss = result.stack["all_miss"]
    assert (all_miss["k"], all_miss["n"]) == (2, 3)
    assert all_miss["lo"] == pytest.approx(layer["miss_lo"]) == pytest.approx(0.2077, abs=1e-3)
    assert all_miss["hi"] == pytest.approx(layer["miss_hi"]) == pytest.approx(0.9385, abs=1e-3)
    refusal = result.stack["refusal"]
    assert refusal["lo"] == pytest.approx(1 - all_miss["hi"])
    assert refusal["hi"] == pytest.approx(1 - all_miss["lo"])
    any_block = result.benign_stack["any_block"]
    assert (any_block["k"], any_block["n"]) == (2, 3)
    assert any_block["lo"] == pytest.approx(layer["false_block_lo"])
    assert any_block["hi"] == pytest.approx(layer["false_block_hi"])


def test_zero_all_miss_is_a_one_sided_bound_over_clusters():
    rows = [(f"h{i}", "direct", f"b{i // 2}", True) for i in range(6)] + [
        ("g1", "benign", "c1", False)
    ]
    blocked = [[1, 0], [0, 1], [1, 1], [1, 0], [0, 1], [1, 1], [0, 0]]
    result = analyze_outcomes(_matrix(rows, blocked), n_bootstrap=200, seed=0)
    all_miss = result.stack["all_miss"]
    assert all_miss["k"] == 0 and all_miss["n"] == 6
    # 3 clusters of 2: the exact bound is taken over 3 units, 1 - 0.05 ** (1/3).
    assert all_miss["upper_bound"] == pytest.approx(1 - 0.05 ** (1 / 3), rel=1e-6)
    assert all_miss["hi"] > 0.3  # not a zero-width [0, 0]
