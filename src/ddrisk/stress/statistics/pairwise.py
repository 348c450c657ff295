"""Pairs of layers on harmful items: do they miss the same items?

Phi, Yule's Q, lift (observed joint misses over the independence prediction,
pooled and within families) and the conditional miss rates, each with a
cluster-bootstrap interval. A ratio or association computed from a handful of
expected joint misses, or from a 2x2 table with an empty cell, is undefined or
degenerate (lift 0, Q = +-1): those are reported as *not estimable* (NaN with
``<name>_estimable`` false), never as a certain 0 or 1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ddrisk.stress.defaults import DEFAULT_CONFIDENCE, DEFAULT_N_BOOTSTRAP, DEFAULT_SEED
from ddrisk.stress.matrix import OutcomeMatrix
from ddrisk.stress.statistics._core import (
    MIN_EXPECTED_JOINT,
    SumBlocks,
    _ClusterBootstrap,
    _clusters,
    _divide,
    _estimate,
    _families,
    _indicators,
)

STATISTICS = (
    "phi",
    "yule_q",
    "lift",
    "lift_stratified",
    "p_b_given_a",
    "p_b",
    "p_a_given_b",
    "p_a",
)
#: Statistics that become "not estimable" on too few expected joint misses.
GUARDED = ("phi", "yule_q", "lift", "lift_stratified")


def _pair_statistics(sums: np.ndarray, blocks: SumBlocks) -> dict[str, np.ndarray]:
    n = blocks.take(sums, "n")
    n11 = blocks.take(sums, "both_miss")
    a_miss = blocks.take(sums, "a_miss")
    b_miss = blocks.take(sums, "b_miss")
    fam_n = blocks.take(sums, "fam_n")
    fam_a = blocks.take(sums, "fam_a")
    fam_b = blocks.take(sums, "fam_b")
    # Joint misses expected if A and B were independent within each family:
    # sum_f n_f * (a_f / n_f) * (b_f / n_f).
    expected_within = np.sum(_divide(fam_a * fam_b, fam_n), axis=-2, where=fam_n > 0)
    n10 = a_miss - n11
    n01 = b_miss - n11
    n00 = n - a_miss - b_miss + n11
    cross = n11 * n00 - n10 * n01
    phi_den = a_miss * (n - a_miss) * b_miss * (n - b_miss)
    q_den = n11 * n00 + n10 * n01
    return {
        "phi": _divide(cross, np.sqrt(np.maximum(phi_den, 0.0))),
        "yule_q": _divide(cross, q_den),
        "lift": _divide(n11 * n, a_miss * b_miss),
        "lift_stratified": _divide(n11, expected_within),
        "p_b_given_a": _divide(n11, a_miss),
        "p_b": _divide(b_miss, n),
        "p_a_given_b": _divide(n11, b_miss),
        "p_a": _divide(a_miss, n),
        "expected_pooled": _divide(a_miss * b_miss, n),
        "expected_within": expected_within,
    }


def _pair_blocks(
    failures: np.ndarray, family: np.ndarray, left: np.ndarray, right: np.ndarray
) -> SumBlocks:
    decided = ~np.isnan(failures)
    failed = np.nan_to_num(failures, nan=0.0)
    both_decided = decided[:, left] * decided[:, right]
    a_missed = failed[:, left] * decided[:, right]
    b_missed = decided[:, left] * failed[:, right]
    indicator = _indicators(family, sorted(set(family)))[:, :, None]
    blocks = SumBlocks(len(failures))
    blocks.add("n", both_decided)
    blocks.add("both_miss", failed[:, left] * failed[:, right])
    blocks.add("a_miss", a_missed)
    blocks.add("b_miss", b_missed)
    blocks.add("fam_n", indicator * both_decided[:, None, :])
    blocks.add("fam_a", indicator * a_missed[:, None, :])
    blocks.add("fam_b", indicator * b_missed[:, None, :])
    return blocks


def pairs_table(
    failures: np.ndarray,
    family: np.ndarray,
    layers: tuple[str, ...],
    bootstrap: _ClusterBootstrap,
    confidence: float,
    *,
    min_expected_joint: float = MIN_EXPECTED_JOINT,
) -> pd.DataFrame:
    """One row per pair of layers (columns: see :func:`pairwise_statistics`)."""
    left, right = np.triu_indices(len(layers), k=1)
    base = ["layer_a", "layer_b", "n", "both_miss", "a_miss", "b_miss"]
    columns = base + [f"{s}{suffix}" for s in STATISTICS for suffix in ("", "_lo", "_hi")]
    columns += ["phi_undefined_share", "expected_both_miss", "expected_both_miss_within"]
    columns += [f"{s}_estimable" for s in GUARDED]
    if len(left) == 0:
        return pd.DataFrame(columns=columns)
    blocks = _pair_blocks(failures, family, left, right)
    point, boot = bootstrap.sums(blocks.matrix())
    estimates = _estimate(lambda sums: _pair_statistics(sums, blocks), point, boot, confidence)
    frame = pd.DataFrame(
        {
            "layer_a": [layers[i] for i in left],
            "layer_b": [layers[j] for j in right],
            "n": blocks.take(point, "n").astype(int),
            "both_miss": blocks.take(point, "both_miss").astype(int),
            "a_miss": blocks.take(point, "a_miss").astype(int),
            "b_miss": blocks.take(point, "b_miss").astype(int),
        }
    )
    for name in STATISTICS:
        value, lo, hi, _undefined = estimates[name]
        frame[name] = value
        frame[f"{name}_lo"] = lo
        frame[f"{name}_hi"] = hi
    frame["phi_undefined_share"] = estimates["phi"][3]
    expected = np.asarray(estimates["expected_pooled"][0], dtype=float)
    expected_within = np.asarray(estimates["expected_within"][0], dtype=float)
    frame["expected_both_miss"] = expected
    frame["expected_both_miss_within"] = expected_within
    n11 = frame["both_miss"].to_numpy()
    n10 = frame["a_miss"].to_numpy() - n11
    n01 = frame["b_miss"].to_numpy() - n11
    n00 = frame["n"].to_numpy() - n11 - n10 - n01
    full_table = ((n11 > 0) & (n10 > 0) & (n01 > 0) & (n00 > 0)) | (min_expected_joint <= 0)
    enough = np.nan_to_num(expected, nan=0.0) >= min_expected_joint
    enough_within = np.nan_to_num(expected_within, nan=0.0) >= min_expected_joint
    estimable = {
        "phi": enough & full_table,
        "yule_q": enough & full_table,
        "lift": enough,
        "lift_stratified": enough_within,
    }
    for name, ok in estimable.items():
        frame[f"{name}_estimable"] = ok
        for suffix in ("", "_lo", "_hi"):
            frame[f"{name}{suffix}"] = np.where(ok, frame[f"{name}{suffix}"], np.nan)
    return frame[columns]


def pairwise_statistics(
    matrix: OutcomeMatrix,
    *,
    seed: int = DEFAULT_SEED,
    n_bootstrap: int = DEFAULT_N_BOOTSTRAP,
    confidence: float = DEFAULT_CONFIDENCE,
    min_expected_joint: float = MIN_EXPECTED_JOINT,
) -> pd.DataFrame:
    """Only the pairwise table of :func:`analyze_outcomes` (same columns, same seed use).

    Cheaper when only phi, Yule's Q, lift and the conditional miss rates are wanted, for
    example in simulation studies of interval coverage.
    """
    harmful = matrix.harmful
    seeds = np.random.SeedSequence(seed).spawn(2)
    bootstrap = _ClusterBootstrap(
        _clusters(matrix.items)[harmful], n_bootstrap=n_bootstrap, seed=seeds[0]
    )
    family = _families(matrix.items)[harmful]
    return pairs_table(
        matrix.failures()[harmful],
        family,
        tuple(matrix.layers),
        bootstrap,
        confidence,
        min_expected_joint=min_expected_joint,
    )
