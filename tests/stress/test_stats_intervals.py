"""Interval formulas against known values, and the cluster bootstrap against simulated truth."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from ddrisk.stress.matrix import OutcomeMatrix
from ddrisk.stress.statistics import (
    analyze_outcomes,
    clopper_pearson_upper,
    format_rate,
    pairwise_statistics,
    poisson_binomial_tail,
    wilson_interval,
)

# ---------------------------------------------------------------------------- known values


def test_wilson_known_values():
    # 0/10: upper = z^2/n / (1 + z^2/n) = 0.384146 / 1.384146 = 0.27753 (z = 1.959964)
    lo, hi = wilson_interval(0, 10)
    assert lo == 0.0 and hi == pytest.approx(0.277532, abs=1e-6)
    # 5/10: 0.5 -+ z sqrt(0.025 + z^2/400) / 1.384146 = [0.236593, 0.763407]
    lo, hi = wilson_interval(5, 10)
    assert (lo, hi) == (pytest.approx(0.236593, abs=1e-6), pytest.approx(0.763407, abs=1e-6))
    # n = 0: no interval
    assert all(np.isnan(wilson_interval(0, 0)))


@pytest.mark.parametrize(("k", "n"), [(0, 5), (1, 20), (7, 9), (50, 380), (380, 380)])
def test_wilson_matches_scipy(k, n):
    reference = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    lo, hi = wilson_interval(k, n)
    assert lo == pytest.approx(reference.low, abs=1e-9)
    assert hi == pytest.approx(reference.high, abs=1e-9)


def test_zero_failure_bound_known_values():
    # Exact one-sided 95 % bound at k = 0 is 1 - 0.05**(1/n); the rule of three says 3/n.
    assert clopper_pearson_upper(0, 30) == pytest.approx(0.095034, abs=1e-6)
    assert clopper_pearson_upper(0, 100) == pytest.approx(0.029513, abs=1e-6)
    assert clopper_pearson_upper(0, 3) == pytest.approx(0.631597, abs=1e-6)
    assert abs(clopper_pearson_upper(0, 1000) - 3 / 1000) < 1e-4
    # one-sided 95 % = upper end of the two-sided 90 % exact interval
    for k, n in [(0, 12), (2, 40), (9, 10)]:
        reference = stats.binomtest(k, n).proportion_ci(confidence_level=0.90, method="exact")
        assert clopper_pearson_upper(k, n) == pytest.approx(reference.high, abs=1e-9)
    assert clopper_pearson_upper(5, 5) == 1.0


def test_zero_failures_are_never_shown_as_zero():
    assert format_rate(0, 30) == "0/30 (< 0.095 at 95 %)"
    assert format_rate(0, 30, confidence=0.99).endswith("at 99 %)")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=6))
def test_poisson_binomial_tail_equals_enumeration(probabilities):
    p = np.array(probabilities)
    tail = poisson_binomial_tail(p)
    exact = np.zeros(len(p) + 1)
    for outcome in itertools.product((0, 1), repeat=len(p)):
        weight = np.prod(np.where(outcome, p, 1.0 - p))
        exact[: sum(outcome) + 1] += weight
    assert tail == pytest.approx(exact, abs=1e-12)


# ---------------------------------------------------------------------------- simulation
# Latent-variable model: cluster g has u_g ~ N(0, VAR_CLUSTER); item i in it has
# z_i = u_g + e_i, e_i ~ N(0, VAR_ITEM); layer l misses when z_i + eps_il > T_l with
# eps ~ N(0, 1) independent. Misses of two layers are then bivariate-normal threshold
# events with correlation (VAR_CLUSTER + VAR_ITEM) / (VAR_CLUSTER + VAR_ITEM + 1).
VAR_CLUSTER, VAR_ITEM = 1.2, 0.1
THRESHOLDS = np.array([0.2, 0.7])


def true_phi_and_lift() -> tuple[float, float]:
    variance = VAR_CLUSTER + VAR_ITEM + 1.0
    covariance = VAR_CLUSTER + VAR_ITEM
    marginal = stats.norm.sf(THRESHOLDS / np.sqrt(variance))
    # P(X_a > t_a, X_b > t_b) = P(-X_a < -t_a, -X_b < -t_b)
    joint = stats.multivariate_normal(
        mean=[0.0, 0.0], cov=[[variance, covariance], [covariance, variance]]
    ).cdf(-THRESHOLDS)
    product = marginal[0] * marginal[1]
    phi = (joint - product) / np.sqrt(np.prod(marginal * (1.0 - marginal)))
    return float(phi), float(joint / product)


def simulate(rng: np.random.Generator, *, clusters: int, per_cluster: int, keep_clusters: bool):
    n = clusters * per_cluster
    cluster = np.repeat(np.arange(clusters), per_cluster)
    latent = rng.normal(0.0, np.sqrt(VAR_CLUSTER), clusters)[cluster]
    latent = latent + rng.normal(0.0, np.sqrt(VAR_ITEM), n)
    missed = latent[:, None] + rng.normal(size=(n, 2)) > THRESHOLDS
    blocked = (~missed).astype(float)
    items = pd.DataFrame(
        {
            "item_id": [f"i{i}" for i in range(n)],
            "family": "f",
            "behavior_id": [f"b{c}" if keep_clusters else "" for c in cluster],
            "harmful": True,
        }
    )
    return OutcomeMatrix(
        items=items,
        layers=("a", "b"),
        blocked=blocked,
        score=np.full(blocked.shape, np.nan),
        errors=np.full(blocked.shape, None, dtype=object),
    )


def coverage(*, keep_clusters: bool, repetitions: int = 120) -> tuple[float, float]:
    phi, lift = true_phi_and_lift()
    rng = np.random.default_rng(2024)
    phi_hits = lift_hits = 0
    for repetition in range(repetitions):
        matrix = simulate(rng, clusters=30, per_cluster=8, keep_clusters=keep_clusters)
        row = pairwise_statistics(matrix, n_bootstrap=250, seed=repetition).iloc[0]
        phi_hits += row["phi_lo"] <= phi <= row["phi_hi"]
        lift_hits += row["lift_lo"] <= lift <= row["lift_hi"]
    return phi_hits / repetitions, lift_hits / repetitions


def test_truth_is_positively_correlated():
    phi, lift = true_phi_and_lift()
    assert 0.3 < phi < 0.6 and lift > 1.2


def test_cluster_bootstrap_covers_truth_at_roughly_nominal_rate():
    phi_coverage, lift_coverage = coverage(keep_clusters=True)
    # Nominal 0.95; with 120 repetitions the Monte Carlo standard error is about 0.02.
    assert 0.86 <= phi_coverage <= 0.995
    assert 0.86 <= lift_coverage <= 0.995


def test_ignoring_clusters_undercovers():
    # The same data with every item its own cluster: intervals are too narrow.
    clustered = coverage(keep_clusters=True)
    naive = coverage(keep_clusters=False)
    assert naive[0] < clustered[0] - 0.04
    assert naive[0] < 0.9


def test_stratification_removes_correlation_created_by_mixing_families():
    # Two families, layers independent *within* each: easy (miss 0.1) and hard (miss 0.75).
    rng = np.random.default_rng(11)
    rows, blocked = [], []
    for family, miss in (("easy", 0.1), ("hard", 0.75)):
        for index in range(500):
            rows.append((f"{family}{index}", family, f"{family}{index}", True))
            blocked.append(rng.random(3) >= miss)
    items = pd.DataFrame(rows, columns=["item_id", "family", "behavior_id", "harmful"])
    blocked = np.array(blocked, dtype=float)
    matrix = OutcomeMatrix(
        items=items,
        layers=("x", "y", "z"),
        blocked=blocked,
        score=np.full(blocked.shape, np.nan),
        errors=np.full(blocked.shape, None, dtype=object),
    )
    result = analyze_outcomes(matrix, n_bootstrap=500, seed=0)
    stack = result.stack
    # Pooled: the family mix alone makes all-miss far likelier than the product of marginals.
    assert stack["lift_pooled"]["lo"] > 1.5
    # Stratified: the prediction matches what was observed.
    assert stack["lift_stratified"]["lo"] <= 1.0 <= stack["lift_stratified"]["hi"]
    assert stack["independence_stratified"]["estimate"] == pytest.approx(
        stack["all_miss"]["estimate"], abs=0.03
    )
    # Pairwise phi on pooled data is positive although layers are independent per family.
    assert (result.pairs["phi_lo"] > 0.2).all()
    # ... while the family-stratified pair lift is compatible with independence.
    pairs = result.pairs
    assert (pairs["lift_lo"] > 1.2).all()
    assert ((pairs["lift_stratified_lo"] <= 1.0) & (pairs["lift_stratified_hi"] >= 1.0)).all()
    by_family = result.stack_by_family.set_index("family")
    assert by_family.loc["hard", "lift_lo"] <= 1.0 <= by_family.loc["hard", "lift_hi"]
