"""Intervals that hold their promise, shown on simulated data with a known truth.

Behaviors have 1-10 rephrasings each and behavior-level miss probabilities that
vary (Beta distributed around a true mean of 0.3), so items of one behavior fail
together. Over 400 seeded simulated datasets (one column each, computed at once)
the cluster-aware interval must cover the true rate about as often as promised,
while the plain Wilson interval, which treats items as independent, falls short.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ddrisk.stress.matrix import OutcomeMatrix
from ddrisk.stress.statistics import analyze_outcomes, clustered_rates, wilson_interval
from ddrisk.stress.statistics._core import _clusters

TRUE_RATE = 0.3


def _simulate(n_datasets: int, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 11, size=60)
    clusters = np.repeat(np.arange(len(sizes)), sizes).astype(str)
    # Beta(a, b) with mean 0.3 and strong between-behavior spread.
    a, b = 0.6, 1.4
    behaviour_rate = rng.beta(a, b, size=(len(sizes), n_datasets))
    item_rate = np.repeat(behaviour_rate, sizes, axis=0)
    failures = (rng.random(item_rate.shape) < item_rate).astype(float)
    return failures, clusters


def test_cluster_aware_interval_covers_the_truth_and_wilson_does_not() -> None:
    failures, clusters = _simulate(400, seed=11)
    out = clustered_rates(failures, clusters, confidence=0.95)
    covered = (out["lo"] <= TRUE_RATE) & (out["hi"] >= TRUE_RATE)
    lo, hi = wilson_interval(out["k"], out["n"], confidence=0.95)
    naive = (lo <= TRUE_RATE) & (hi >= TRUE_RATE)
    assert covered.mean() >= 0.90
    assert naive.mean() <= 0.80
    assert (out["design_effect"] > 1).all()


def test_independent_items_keep_plain_wilson() -> None:
    failures, _ = _simulate(50, seed=3)
    own = np.array([f"i{i}" for i in range(len(failures))])
    out = clustered_rates(failures, own, confidence=0.95)
    lo, hi = wilson_interval(out["k"], out["n"], confidence=0.95)
    assert np.allclose(out["lo"], lo) and np.allclose(out["hi"], hi)
    assert (out["design_effect"] == 1).all()


def test_zero_failures_in_clusters_give_a_bound_over_clusters() -> None:
    failures = np.zeros((30, 1))
    clusters = np.repeat(np.arange(3), 10).astype(str)  # 30 items, 3 behaviors
    out = clustered_rates(failures, clusters, confidence=0.95)
    assert out["k"][0] == 0 and out["clusters"][0] == 3
    # Each cluster counts once: 1 - 0.05 ** (1 / 3), far wider than over 30 items.
    assert out["upper_bound"][0] == pytest.approx(1 - 0.05 ** (1 / 3))
    independent = clustered_rates(failures, np.arange(30).astype(str), confidence=0.95)
    assert independent["upper_bound"][0] == pytest.approx(1 - 0.05 ** (1 / 30))


def test_template_and_behavior_link_items_into_one_cluster() -> None:
    items = pd.DataFrame(
        {
            "item_id": ["a", "b", "c", "d", "e"],
            "behavior_id": ["b1", "b2", "b2", "b3", ""],
            "template_id": ["dan", "dan", "", "", ""],
        }
    )
    labels = _clusters(items)
    assert labels[0] == labels[1] == labels[2]  # a~b by template, b~c by behavior
    assert len({labels[0], labels[3], labels[4]}) == 3


def _rare_matrix() -> OutcomeMatrix:
    """Two layers that almost never miss: 0.03 joint misses expected under independence."""
    n = 60
    blocked = np.ones((n, 2))
    blocked[0, 0] = 0.0
    blocked[1, 1] = 0.0
    items = pd.DataFrame(
        {"item_id": [f"i{i}" for i in range(n)], "family": "f", "behavior_id": "", "harmful": True}
    )
    return OutcomeMatrix(
        items=items,
        layers=("a", "b"),
        blocked=blocked,
        score=np.full((n, 2), np.nan),
        errors=np.full((n, 2), None),
    )


def test_tiny_expected_counts_are_not_estimable() -> None:
    result = analyze_outcomes(_rare_matrix(), n_bootstrap=200)
    pair = result.pairs.iloc[0]
    assert pair["expected_both_miss"] == pytest.approx(1 / 60)
    for name in ("lift", "yule_q", "phi", "lift_stratified"):
        assert not pair[f"{name}_estimable"]
        assert np.isnan(pair[name]) and np.isnan(pair[f"{name}_lo"])
    assert result.stack["lift_pooled"]["estimable"] is False
    assert any(w["code"] == "not_estimable" for w in result.warnings)
    # Turning the guard off shows what used to be printed: a certain-looking 0.
    raw = analyze_outcomes(_rare_matrix(), n_bootstrap=200, min_expected_joint=0)
    assert raw.pairs.iloc[0]["lift"] == 0.0 and raw.pairs.iloc[0]["yule_q"] == -1.0


def test_enough_expected_counts_stay_estimable() -> None:
    rng = np.random.default_rng(0)
    n = 400
    blocked = (rng.random((n, 2)) < 0.5).astype(float)
    items = pd.DataFrame(
        {"item_id": [f"i{i}" for i in range(n)], "family": "f", "behavior_id": "", "harmful": True}
    )
    matrix = OutcomeMatrix(
        items=items,
        layers=("a", "b"),
        blocked=blocked,
        score=np.full((n, 2), np.nan),
        errors=np.full((n, 2), None),
    )
    pair = analyze_outcomes(matrix, n_bootstrap=200).pairs.iloc[0]
    assert pair["lift_estimable"] and pair["yule_q_estimable"]
    assert pair["lift_lo"] <= 1.0 <= pair["lift_hi"]
