"""Formulas and machinery every stress statistic shares.

Binomial intervals and bounds, the vectorised cluster bootstrap, named blocks of
per-item indicator columns (so statistics read sums by name, never by offset),
and the small conversions results need. Pure: numpy/scipy/pandas in, arrays out.
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings as _warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse, stats

from ddrisk._jsonnum import json_ready
from ddrisk.stress.matrix import ITEM_COLUMNS, OutcomeMatrix

MODEL_NAME = "ddrisk empirical stress statistics"
BOOTSTRAP_METHOD = (
    "cluster bootstrap over clusters of items sharing a behavior_id or a template_id "
    "(percentile intervals)"
)
RATE_INTERVAL_METHOD = (
    "Wilson score interval; where items share clusters (behavior or template), Wilson at the "
    "design-effect effective sample size (cluster-robust variance), never narrower than "
    "plain Wilson; with no failures, the exact bound over the number of clusters"
)
#: Ratios and associations whose expected joint count is below this print as not estimable.
MIN_EXPECTED_JOINT = 5.0
ZERO_BOUND_METHOD = "exact one-sided Clopper-Pearson upper bound (1 - alpha**(1/n) at k = 0)"
UNSPECIFIED_FAMILY = "unspecified"


def wilson_interval(
    k: np.ndarray | float, n: np.ndarray | float, *, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a binomial proportion (NaN where ``n == 0``).

    Chosen over the Wald interval because it stays inside [0, 1] and keeps close to
    nominal coverage at rates near 0 or 1, which is where safety layers live.

    Examples
    --------
    >>> lo, hi = wilson_interval(0, 10)
    >>> float(lo), round(float(hi), 4)
    (0.0, 0.2775)
    """
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    z = stats.norm.ppf(0.5 + confidence / 2.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        denominator = 1.0 + z * z / n
        centre = (p + z * z / (2.0 * n)) / denominator
        half = z * np.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n)) / denominator
        lo = np.where(n > 0, np.clip(centre - half, 0.0, 1.0), np.nan)
        hi = np.where(n > 0, np.clip(centre + half, 0.0, 1.0), np.nan)
    return lo, hi


def clopper_pearson_upper(
    k: np.ndarray | float, n: np.ndarray | float, *, confidence: float = 0.95
) -> np.ndarray:
    """Exact one-sided upper confidence bound for a binomial proportion.

    For ``k = 0`` this is ``1 - (1 - confidence) ** (1 / n)``; the "rule of three"
    (``3 / n``) is its large-``n`` approximation at 95 %.

    Examples
    --------
    >>> round(float(clopper_pearson_upper(0, 30)), 4)  # rule of three would say 0.1
    0.095
    """
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        upper = stats.beta.ppf(confidence, k + 1.0, np.maximum(n - k, 1e-300))
    upper = np.where(k >= n, 1.0, upper)
    return np.where(n > 0, upper, np.nan)


def poisson_binomial_tail(p: np.ndarray) -> np.ndarray:
    """P(at least k of independent events occur), for k = 0..L, vectorised over leading axes.

    ``p`` has shape ``(..., L)``; the result has shape ``(..., L + 1)``.

    Examples
    --------
    >>> poisson_binomial_tail(np.array([0.5, 0.5])).tolist()
    [1.0, 0.75, 0.25]
    """
    p = np.asarray(p, dtype=float)
    n_events = p.shape[-1]
    pmf = np.zeros((*p.shape[:-1], n_events + 1))
    pmf[..., 0] = 1.0
    for index in range(n_events):
        q = p[..., index : index + 1]
        shifted = np.zeros_like(pmf)
        shifted[..., 1:] = pmf[..., :-1] * q
        pmf = pmf * (1.0 - q) + shifted
    return np.flip(np.cumsum(np.flip(pmf, axis=-1), axis=-1), axis=-1)


def format_rate(
    k: int,
    n: int,
    *,
    lo: float | None = None,
    hi: float | None = None,
    confidence: float = 0.95,
    upper_bound: float | None = None,
) -> str:
    """``"12/380 = 0.032 [0.018, 0.055]"``, or ``"0/200 (< 0.015 at 95 %)"`` when k = 0.

    ``upper_bound`` replaces the independent-items bound at k = 0 (for clustered items).

    Examples
    --------
    >>> format_rate(0, 200)
    '0/200 (< 0.0149 at 95 %)'
    >>> format_rate(3, 10, lo=0.1, hi=0.6)
    '3/10 = 0.300 [0.100, 0.600]'
    """
    if n == 0:
        return "0/0 (no decided items)"
    percent = f"{confidence * 100:g} %"
    if k == 0:
        bound = (
            float(clopper_pearson_upper(0, n, confidence=confidence))
            if upper_bound is None or math.isnan(upper_bound)
            else float(upper_bound)
        )
        return f"0/{n} (< {bound:.3g} at {percent})"
    text = f"{k}/{n} = {k / n:.3f}"
    if lo is not None and hi is not None and not (math.isnan(lo) or math.isnan(hi)):
        text += f" [{lo:.3f}, {hi:.3f}]"
    return text


def outcome_matrix_hash(matrix: OutcomeMatrix) -> str:
    """SHA-256 of the item labels, layer names and verdicts: the input hash results cite."""
    digest = hashlib.sha256()
    labels = matrix.items[list(ITEM_COLUMNS)].astype(str).to_numpy().tolist()
    digest.update(json.dumps({"layers": list(matrix.layers), "items": labels}).encode())
    digest.update(np.ascontiguousarray(matrix.blocked, dtype=np.float64).tobytes())
    return digest.hexdigest()


class _ClusterBootstrap:
    """Resample whole clusters with replacement; replay the same replicates for every call.

    Every statistic here is a function of column sums over items. Summing items per
    cluster first and multiplying by a ``(replicates x clusters)`` matrix of multinomial
    draw counts gives the bootstrap sums of all columns at once.
    """

    def __init__(self, clusters: np.ndarray, *, n_bootstrap: int, seed: np.random.SeedSequence):
        codes, uniques = pd.factorize(pd.Series(clusters, dtype="string"))
        self.codes = codes
        self.n_clusters = len(uniques)
        self.n_bootstrap = n_bootstrap
        self._seed = seed
        self._block = max(1, min(n_bootstrap, 4_000_000 // max(self.n_clusters, 1)))

    def sums(self, columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Observed column sums ``(C,)`` and bootstrap column sums ``(B, C)``."""
        columns = np.asarray(columns, dtype=float)
        point = columns.sum(axis=0)
        if self.n_bootstrap == 0 or self.n_clusters == 0:
            return point, np.empty((0, columns.shape[1]))
        n_items = len(self.codes)
        membership = sparse.csr_matrix(
            (np.ones(n_items), (self.codes, np.arange(n_items))),
            shape=(self.n_clusters, n_items),
        )
        per_cluster = np.asarray(membership @ columns)
        rng = np.random.default_rng(self._seed)
        uniform = np.full(self.n_clusters, 1.0 / self.n_clusters)
        blocks = []
        for start in range(0, self.n_bootstrap, self._block):
            size = min(self._block, self.n_bootstrap - start)
            counts = rng.multinomial(self.n_clusters, uniform, size=size)
            blocks.append(counts @ per_cluster)
        return point, np.vstack(blocks)


def _percentile_interval(boot: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    if boot.shape[0] == 0:
        nan = np.full(boot.shape[1:], np.nan)
        return nan, nan.copy()
    alpha = 1.0 - confidence
    with np.errstate(all="ignore"):
        finite = np.isfinite(boot)
        usable = finite.sum(axis=0) >= max(2, boot.shape[0] // 2)
        safe = np.where(finite, boot, np.nan)
        if not np.any(usable):
            nan = np.full(boot.shape[1:], np.nan)
            return nan, nan.copy()
        with _warnings.catch_warnings():
            _warnings.simplefilter("ignore", RuntimeWarning)
            lo, hi = np.nanquantile(safe, [alpha / 2.0, 1.0 - alpha / 2.0], axis=0)
    return np.where(usable, lo, np.nan), np.where(usable, hi, np.nan)


def _estimate(
    function: Callable[[np.ndarray], dict[str, np.ndarray]],
    point_sums: np.ndarray,
    boot_sums: np.ndarray,
    confidence: float,
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Apply a sums -> statistics function to the data and to every replicate.

    Returns ``{name: (estimate, lo, hi, share of replicates where it is undefined)}``.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        point = function(point_sums)
        boot = function(boot_sums) if boot_sums.shape[0] else None
    out = {}
    for name, value in point.items():
        if boot is None:
            nan = np.full(np.shape(value), np.nan)
            out[name] = (np.asarray(value), nan, nan.copy(), nan.copy())
            continue
        lo, hi = _percentile_interval(boot[name], confidence)
        undefined = (~np.isfinite(boot[name])).mean(axis=0)
        out[name] = (np.asarray(value), lo, hi, undefined)
    return out


def _divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(
            denominator > 0, numerator / np.where(denominator > 0, denominator, 1), np.nan
        )


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    clean = frame.astype(object).where(frame.notna(), None)
    return [{k: json_ready(v) for k, v in row.items()} for row in clean.to_dict(orient="records")]


def _families(items: pd.DataFrame) -> np.ndarray:
    family = items["family"].astype("string").fillna(UNSPECIFIED_FAMILY).str.strip()
    return family.where(family != "", UNSPECIFIED_FAMILY).to_numpy(dtype=object)


def _clusters(items: pd.DataFrame) -> np.ndarray:
    """Cluster label of each item: items sharing a behavior *or* a template are one cluster.

    Rephrasings of one behavior are not independent draws, and neither are
    prompts built on one jailbreak template. Linking items through either key and
    taking connected components gives clusters that are independent of each other,
    which is what the cluster bootstrap and the design-effect intervals need.
    Items with neither key are their own cluster.
    """
    n_items = len(items)
    ids = items["item_id"].astype(str).to_numpy()
    keys: list[np.ndarray] = []
    for column, tag in (("behavior_id", "behavior:"), ("template_id", "template:")):
        if column not in items:
            continue
        value = items[column].astype("string").str.strip()
        missing = (value.isna() | (value == "")).to_numpy()
        labelled = (tag + value.fillna("")).to_numpy(dtype=object)
        labelled[missing] = None
        keys.append(labelled)
    parent = np.arange(n_items)

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = int(parent[index])
        return index

    for labels in keys:
        first: dict[str, int] = {}
        for index, label in enumerate(labels):
            if label is None:
                continue
            if label in first:
                a, b = root(index), root(first[label])
                if a != b:
                    parent[max(a, b)] = min(a, b)
            else:
                first[label] = index
    roots = np.array([root(i) for i in range(n_items)], dtype=int)
    return np.array([f"cluster:{ids[r]}" for r in roots], dtype=object)


def _warn(warnings: list[dict[str, str]], code: str, subject: str, message: str) -> None:
    warnings.append({"code": code, "subject": subject, "message": message})


def _indicators(labels: np.ndarray, categories: list[str]) -> np.ndarray:
    """One 0/1 column per category (an ``(n, 0)`` array when there are none)."""
    if not categories:
        return np.zeros((len(labels), 0))
    return np.stack([(labels == c).astype(float) for c in categories], axis=1)


def _triple(estimates: dict[str, Any], name: str, index: Any = ()) -> dict[str, float]:
    value, lo, hi, _ = estimates[name]
    return {
        "estimate": float(np.asarray(value)[index]),
        "lo": float(np.asarray(lo)[index]),
        "hi": float(np.asarray(hi)[index]),
    }


def _interval_columns(name: str, estimate: Any) -> dict[str, Any]:
    """Point estimate and interval bounds as ``name``, ``name_lo``, ``name_hi`` columns."""
    return {name: estimate[0], f"{name}_lo": estimate[1], f"{name}_hi": estimate[2]}


def effective_count(codes: np.ndarray) -> int:
    """How many independent units ``codes`` (cluster codes of some items) hold.

    The number of items when every cluster holds one of them, else the number of
    clusters: zero-event bounds must not count rephrasings of one behavior twice.
    """
    if len(codes) == 0:
        return 0
    distinct = len(np.unique(codes))
    return len(codes) if distinct == len(codes) else distinct


def _run_id(matrix: OutcomeMatrix, input_hash: str) -> str:
    run_id = matrix.metadata.get("run_id") if matrix.metadata else None
    return str(run_id) if run_id else f"{matrix.source}-{input_hash[:12]}"


class SumBlocks:
    """Named blocks of per-item columns whose (bootstrap) sums feed a statistic.

    A statistic of clustered data is computed from column sums; keeping the columns
    in named blocks lets each statistic read ``blocks.take(sums, "fam_n")`` instead
    of counting offsets, and lets the same code run on the observed sums ``(C,)``
    and on every replicate ``(B, C)``.
    """

    def __init__(self, n_items: int) -> None:
        self.n_items = n_items
        self._parts: list[np.ndarray] = []
        self._slices: dict[str, tuple[slice, tuple[int, ...]]] = {}
        self._width = 0

    def add(self, name: str, columns: np.ndarray) -> None:
        """Add a block: ``(n_items,)`` or ``(n_items, *shape)``; read back with that shape."""
        array = np.asarray(columns, dtype=float)
        if array.shape[0] != self.n_items:
            raise ValueError(f"block {name!r} has {array.shape[0]} rows, not {self.n_items}")
        shape = array.shape[1:]
        flat = array.reshape(self.n_items, int(np.prod(shape))) if shape else array[:, None]
        self._slices[name] = (slice(self._width, self._width + flat.shape[1]), shape)
        self._width += flat.shape[1]
        self._parts.append(flat)

    def matrix(self) -> np.ndarray:
        """All blocks side by side: ``(n_items, total width)``."""
        if not self._parts:
            return np.zeros((self.n_items, 0))
        return np.concatenate(self._parts, axis=1)

    def take(self, sums: np.ndarray, name: str) -> np.ndarray:
        """The named block of ``sums`` (shape ``(..., total width)``), in its own shape."""
        where, shape = self._slices[name]
        part = sums[..., where]
        return part.reshape(*sums.shape[:-1], *shape) if shape else part[..., 0]
