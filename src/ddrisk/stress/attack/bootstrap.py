"""Small numeric helpers of the attack statistics: cluster bootstrap, bounds.

Pure numpy/pandas; kept apart so :mod:`ddrisk.stress.attack.statistics` reads as the
definitions of the reported quantities.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def upper_bound(n: int, confidence: float) -> float:
    """Exact one-sided upper bound at zero events: 1 - (1 - confidence) ** (1 / n)."""
    return 1.0 - (1.0 - confidence) ** (1.0 / n) if n > 0 else math.nan


class ClusterBootstrap:
    """Cluster bootstrap of column sums over behaviors (whole behavior_id clusters resampled)."""

    def __init__(self, clusters: np.ndarray, n_bootstrap: int, seed: int) -> None:
        codes, uniques = pd.factorize(pd.Series(clusters, dtype="string"))
        self.codes = codes
        self.n_clusters = len(uniques)
        self.n_bootstrap = n_bootstrap
        self.seed = seed

    def sums(self, columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        columns = np.nan_to_num(np.asarray(columns, dtype=float), nan=0.0)
        point = columns.sum(axis=0)
        if self.n_bootstrap == 0 or self.n_clusters == 0:
            return point, np.empty((0, columns.shape[1]))
        per_cluster = np.zeros((self.n_clusters, columns.shape[1]))
        np.add.at(per_cluster, self.codes, columns)
        rng = np.random.default_rng(self.seed)
        weights = rng.multinomial(
            self.n_clusters, np.full(self.n_clusters, 1.0 / self.n_clusters), size=self.n_bootstrap
        )
        return point, weights @ per_cluster


def percentile_interval(boot: np.ndarray, confidence: float) -> tuple[float, float]:
    finite = boot[np.isfinite(boot)]
    if finite.size < max(2, boot.size // 2):
        return math.nan, math.nan
    alpha = 1.0 - confidence
    lo, hi = np.quantile(finite, [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


def ratio(k: np.ndarray, n: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n > 0, k / np.where(n > 0, n, 1), np.nan)
