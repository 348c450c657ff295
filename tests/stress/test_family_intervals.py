"""Per-family all-miss and any-block rates: one cluster never gives a zero-width interval."""

from __future__ import annotations

import numpy as np
import pandas as pd

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


def test_family_of_one_cluster_with_mixed_outcomes_is_not_certain():
    # Family "rp": two rephrasings of one behaviour, one passes both layers, one is blocked.
    # The cluster bootstrap within the family resamples the single cluster: every replicate
    # is 1/2, so a percentile interval would read 0.500 [0.500, 0.500].
    rows = [
        ("h1", "rp", "b1", True),
        ("h2", "rp", "b1", True),
        ("h3", "enc", "b2", True),
        ("h4", "enc", "b3", True),
        ("g1", "benign", "c1", False),
        ("g2", "benign", "c1", False),
    ]
    blocked = [[0, 0], [1, 1], [0, 1], [1, 0], [1, 1], [0, 0]]
    result = analyze_outcomes(_matrix(rows, blocked), n_bootstrap=200, seed=0)
    rp = result.stack_by_family.set_index("family").loc["rp"]
    assert rp["all_miss_k"] == 1 and rp["n"] == 2
    assert rp["observed_hi"] - rp["observed_lo"] > 0.3
    assert rp["observed_lo"] < 0.5 < rp["observed_hi"]
    benign = result.benign_by_family.set_index("family").loc["benign"]
    assert benign["observed_hi"] - benign["observed_lo"] > 0.3
