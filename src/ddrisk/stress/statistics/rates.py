"""Per-layer and per-family failure rates with intervals that respect clustering.

Items that share a behavior or a template fail together more often than
independent draws would, so a Wilson interval over items claims too much. Here
each rate gets the Wilson interval at the *effective* sample size ``n / deff``,
where the design effect ``deff`` is the ratio of the cluster-robust variance of
the rate (between-cluster spread of the per-cluster failure counts) to the
binomial variance, floored at 1 so the interval is never narrower than plain
Wilson. Where every cluster holds one item the items are independent and plain
Wilson is used as is. With no failures at all (or only failures) the data say
nothing about the design effect; the exact one-sided bound is then computed over
the number of clusters, the cautious reading (each cluster counts once).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import sparse

from ddrisk.stress.statistics._core import (
    _divide,
    clopper_pearson_upper,
    format_rate,
    wilson_interval,
)

RATE_COLUMNS = ("k", "n", "rate", "lo", "hi", "upper_bound", "errors", "clusters", "design_effect")


def clustered_rates(
    failures: np.ndarray, clusters: np.ndarray, *, confidence: float
) -> dict[str, np.ndarray]:
    """Rates of each column of ``failures`` (items x layers, NaN = no verdict), vectorised.

    Returns arrays keyed by :data:`RATE_COLUMNS`: ``k``, ``n``, ``rate``, the interval
    ``lo``/``hi``, ``upper_bound`` (one-sided, only where ``k == 0``), ``errors``, the
    number of ``clusters`` with a decided item, and the ``design_effect`` used (1 for
    independent items).

    Examples
    --------
    >>> failed = np.array([[1.0], [1.0], [0.0], [0.0]])
    >>> out = clustered_rates(failed, np.array(["a", "a", "b", "b"]), confidence=0.95)
    >>> float(out["design_effect"][0]) > 1, int(out["clusters"][0])
    (True, 2)
    """
    failures = np.asarray(failures, dtype=float)
    if failures.ndim == 1:
        failures = failures[:, None]
    n_items, n_columns = failures.shape
    decided = ~np.isnan(failures)
    failed = np.nan_to_num(failures, nan=0.0)
    n = decided.sum(axis=0).astype(float)
    k = failed.sum(axis=0)
    codes, uniques = pd.factorize(pd.Series(clusters, dtype="string"))
    membership = sparse.csr_matrix(
        (np.ones(n_items), (codes, np.arange(n_items))), shape=(len(uniques), n_items)
    )
    n_c = np.asarray(membership @ decided.astype(float))
    k_c = np.asarray(membership @ failed)
    n_clusters = (n_c > 0).sum(axis=0).astype(float)
    largest = n_c.max(axis=0) if len(uniques) else np.zeros(n_columns)
    rate = _divide(k, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = ((k_c - rate[None, :] * n_c) ** 2).sum(axis=0)
        robust = n_clusters / np.maximum(n_clusters - 1.0, 1.0) * spread / (n * n)
        binomial = rate * (1.0 - rate) / n
        deff = np.where(binomial > 0, robust / binomial, np.nan)
    independent = largest <= 1
    degenerate = (k == 0) | (k == n)
    deff = np.where(independent, 1.0, np.maximum(np.nan_to_num(deff, nan=1.0), 1.0))
    deff = np.where(n_clusters < 2, np.maximum(n, 1.0), deff)
    n_eff = np.where(degenerate & ~independent, n_clusters, n / deff)
    deff = np.where(degenerate & ~independent, _divide(n, n_clusters), deff)
    lo, hi = wilson_interval(rate * n_eff, n_eff, confidence=confidence)
    upper = np.where(k == 0, clopper_pearson_upper(0, n_eff, confidence=confidence), np.nan)
    upper = np.where(n > 0, upper, np.nan)
    return {
        "k": k.astype(int),
        "n": n.astype(int),
        "rate": rate,
        "lo": lo,
        "hi": hi,
        "upper_bound": upper,
        "errors": (~decided).sum(axis=0),
        "clusters": n_clusters.astype(int),
        "design_effect": deff,
    }


def layer_rates(
    failures: np.ndarray,
    harmful: np.ndarray,
    clusters: np.ndarray,
    layers: tuple[str, ...],
    confidence: float,
) -> pd.DataFrame:
    """Miss rate on harmful items and false-block rate on benign items, one row per layer."""
    columns: dict[str, object] = {"layer": list(layers)}
    for label, mask in (("miss", harmful), ("false_block", ~harmful)):
        out = clustered_rates(failures[mask], clusters[mask], confidence=confidence)
        for name in RATE_COLUMNS:
            columns[f"{label}_{name}"] = out[name]
    frame = pd.DataFrame(columns)
    frame["refusal_k"] = frame["miss_n"] - frame["miss_k"]
    frame["refusal_rate"] = 1.0 - frame["miss_rate"]
    frame["refusal_lo"] = 1.0 - frame["miss_hi"]
    frame["refusal_hi"] = 1.0 - frame["miss_lo"]
    for label in ("miss", "false_block"):
        frame[f"{label}_text"] = [
            format_rate(int(k), int(n), lo=lo, hi=hi, confidence=confidence, upper_bound=ub)
            for k, n, lo, hi, ub in zip(
                frame[f"{label}_k"],
                frame[f"{label}_n"],
                frame[f"{label}_lo"],
                frame[f"{label}_hi"],
                frame[f"{label}_upper_bound"],
                strict=True,
            )
        ]
    return frame


def family_rates(
    failures: np.ndarray,
    harmful: np.ndarray,
    family: np.ndarray,
    clusters: np.ndarray,
    layers: tuple[str, ...],
    confidence: float,
) -> pd.DataFrame:
    """Layer x harmful-family miss rates: the empirical catalog in long form."""
    rows = []
    for fam in sorted(set(family[harmful])):
        mask = harmful & (family == fam)
        out = clustered_rates(failures[mask], clusters[mask], confidence=confidence)
        for index, layer in enumerate(layers):
            n = int(out["n"][index])
            rows.append(
                {
                    "layer": layer,
                    "family": fam,
                    "k": int(out["k"][index]),
                    "n": n,
                    "errors": int(out["errors"][index]),
                    "miss_rate": float(out["rate"][index]) if n else math.nan,
                    "lo": float(out["lo"][index]),
                    "hi": float(out["hi"][index]),
                    "upper_bound": float(out["upper_bound"][index]),
                    "clusters": int(out["clusters"][index]),
                    "design_effect": float(out["design_effect"][index]),
                }
            )
    columns = [
        "layer",
        "family",
        "k",
        "n",
        "errors",
        "miss_rate",
        "lo",
        "hi",
        "upper_bound",
        "clusters",
        "design_effect",
    ]
    return pd.DataFrame(rows, columns=columns)
