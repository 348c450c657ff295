"""Gaussian-copula P(all fail) for one stack or every prefix of it, by one fixed quadrature.

With equicorrelated latent stresses ``sqrt(rho) W + sqrt(1 - rho) E_i`` (layer i fails when its
stress is below ``t_i = Phi^-1(m_i)``), P(the first n layers all fail) is

    I_n = int phi(w) prod_{i <= n} Phi((t_i - sqrt(rho) w) / sqrt(1 - rho)) dw.

The log-integrand ``f_n`` is concave (log phi and log Phi of an affine map are), with curvature
``|f_n''| >= 1`` everywhere, so its mass lies within ``sqrt(2 D)`` of its peak for a drop of D
in log space, and adding a layer only adds curvature. One set of Gauss-Legendre panels, each
about one local standard deviation ``1 / sqrt(|f_N''|)`` of the *whole* stack wide, therefore
resolves every prefix at once: log Phi is evaluated once per (layer, node), a cumulative sum over
layers gives every prefix's log-integrand, and each integral is a weighted sum of
``exp(f_n - peak_n)``, all in numpy. Everything stays in logs, so values far below 1e-300 keep
their digits. The previous implementation (adaptive ``scipy.integrate.quad`` per prefix around
a bounded peak search) is the reference it is tested against (relative agreement ~1e-10).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

LOG_DROP = 60.0
"""Mass where the log-integrand is more than this below its peak is left out (e**-60)."""

NODES_PER_PANEL = 16
"""Gauss-Legendre nodes per panel."""

PANEL_WIDTH = 1.0
"""Panel width in local standard deviations ``1 / sqrt(|f''|)`` of the full stack."""

CLIFF_WIDTH = 2.0
"""Largest panel width, in units of a layer's argument x, where some layer has |x| < CLIFF_BAND.

There a factor Phi(x) turns from 1 to its Gaussian tail, a step of width ``spread / load``
in w that the curvature alone underrates on its flat side (as rho nears 1 the step is
narrow while the flat side has curvature 1)."""

CLIFF_BAND = 10.0

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


@lru_cache(maxsize=4)
def _gauss_legendre(order: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights on [-1, 1] (Golub-Welsch; numpy.linalg is loaded with numpy anyway)."""
    k = np.arange(1, order)
    off = k / np.sqrt(4.0 * k * k - 1.0)
    values, vectors = np.linalg.eigh(np.diag(off, 1) + np.diag(off, -1))
    return values, 2.0 * vectors[0] ** 2


def _mills(x: np.ndarray, log_ndtr: np.ndarray) -> np.ndarray:
    """phi(x) / Phi(x), from logs (no underflow for very negative x)."""
    return np.exp(-0.5 * x * x - _LOG_SQRT_2PI - log_ndtr)


def _curvature_terms(x: np.ndarray, log_phi_x: np.ndarray) -> np.ndarray:
    """-(d^2/dx^2) log Phi(x) = r (x + r) with r = phi/Phi; in [0, 1]."""
    r = _mills(x, log_phi_x)
    return np.clip(r * (x + r), 0.0, 1.0)


def _peaks(thresholds: np.ndarray, counts: np.ndarray, load: float, spread: float) -> np.ndarray:
    """The maximiser of ``f_n`` for every requested prefix length n in ``counts``.

    Safeguarded Newton on ``f_n'`` (decreasing, since ``f_n`` is concave) inside a bracket
    that bisection keeps valid; vectorised over prefixes.
    """
    from scipy.special import log_ndtr

    ratio = load / spread
    mask = np.arange(thresholds.size)[None, :] < counts[:, None]
    bound = min(40.0 + float(np.abs(thresholds).max()) / load, 1e4)
    low = np.full(counts.size, -bound)
    high = np.full(counts.size, bound)
    w = np.zeros(counts.size)
    for _ in range(200):
        x = (thresholds[None, :] - load * w[:, None]) / spread
        lx = log_ndtr(x)
        r = _mills(x, lx)
        slope = -w - ratio * np.where(mask, r, 0.0).sum(axis=1)
        curve = 1.0 + ratio * ratio * np.where(mask, np.clip(r * (x + r), 0.0, 1.0), 0.0).sum(
            axis=1
        )
        low = np.where(slope > 0, w, low)
        high = np.where(slope <= 0, w, high)
        step = slope / curve
        proposal = w + step
        outside = (proposal <= low) | (proposal >= high)
        proposal = np.where(outside, 0.5 * (low + high), proposal)
        done = np.abs(proposal - w) <= 1e-10 * (1.0 + np.abs(w))
        w = proposal
        if done.all():
            break
    return w


def _panels(
    thresholds: np.ndarray, lower: float, upper: float, load: float, spread: float
) -> tuple[np.ndarray, np.ndarray]:
    """Quadrature nodes and weights on [lower, upper], panels one local std of f_N wide."""
    from scipy.special import log_ndtr

    ratio = load / spread
    step = min(1.0, 1.0 / ratio) / 4.0
    grid = np.linspace(lower, upper, max(math.ceil((upper - lower) / step) + 1, 2))
    x = (thresholds[None, :] - load * grid[:, None]) / spread
    curvature = 1.0 + ratio * ratio * _curvature_terms(x, log_ndtr(x)).sum(axis=1)
    density = np.sqrt(curvature) / PANEL_WIDTH
    near_cliff = (np.abs(x) < CLIFF_BAND).any(axis=1)
    density = np.where(near_cliff, np.maximum(density, ratio / CLIFF_WIDTH), density)
    # Conservative: each grid cell takes the largest density of its neighbours, so a panel
    # never straddles the start of a steeper stretch it did not see.
    padded = np.concatenate([density[:1], density, density[-1:]])
    density = np.maximum(np.maximum(padded[:-2], padded[1:-1]), padded[2:])
    cumulative = np.concatenate(
        [[0.0], np.cumsum(0.5 * (density[1:] + density[:-1]) * np.diff(grid))]
    )
    n_panels = max(math.ceil(float(cumulative[-1])), 1)
    edges = np.interp(np.linspace(0.0, cumulative[-1], n_panels + 1), cumulative, grid)
    edges[0], edges[-1] = lower, upper
    base_nodes, base_weights = _gauss_legendre(NODES_PER_PANEL)
    half = 0.5 * np.diff(edges)
    middle = 0.5 * (edges[1:] + edges[:-1])
    nodes = (middle[:, None] + half[:, None] * base_nodes[None, :]).reshape(-1)
    weights = (half[:, None] * base_weights[None, :]).reshape(-1)
    return nodes, weights


def _log_f(
    thresholds: np.ndarray, counts: np.ndarray, w: np.ndarray, load: float, spread: float
) -> np.ndarray:
    """f_n(w_n) for paired prefix lengths ``counts`` and points ``w`` (vectorised)."""
    from scipy.special import log_ndtr

    last = int(counts.max())
    x = (thresholds[None, :last] - load * w[:, None]) / spread
    mask = np.arange(last)[None, :] < counts[:, None]
    return np.asarray(np.where(mask, log_ndtr(x), 0.0).sum(axis=1) - 0.5 * w**2 - _LOG_SQRT_2PI)


def _edges(
    thresholds: np.ndarray,
    counts: np.ndarray,
    peaks: np.ndarray,
    tops: np.ndarray,
    load: float,
    spread: float,
) -> tuple[float, float]:
    """An interval holding every prefix's mass down to ``LOG_DROP`` below its peak.

    ``|f''| >= 1`` puts the drop within ``sqrt(2 D)`` of the peak; bisection narrows that
    (which matters as rho nears 1, where the mass is far narrower), always keeping the end
    that is already below the threshold, so the interval never cuts mass off.
    """
    reach = math.sqrt(2.0 * LOG_DROP) + 1e-3
    bounds = []
    for direction in (-1.0, 1.0):
        inside = peaks.copy()
        outside = peaks + direction * reach
        for _ in range(30):
            middle = 0.5 * (inside + outside)
            above = _log_f(thresholds, counts, middle, load, spread) > tops - LOG_DROP
            inside = np.where(above, middle, inside)
            outside = np.where(above, outside, middle)
        bounds.append(float(outside.min() if direction < 0 else outside.max()))
    return bounds[0], bounds[1]


def _integrals(thresholds: np.ndarray, rho: float, counts: np.ndarray) -> np.ndarray:
    """log I_n for each n in ``counts`` (every n >= 2), thresholds all finite."""
    from scipy.special import log_ndtr

    load, spread = math.sqrt(rho), math.sqrt(1.0 - rho)
    peaks = _peaks(thresholds, counts, load, spread)
    tops = _log_f(thresholds, counts, peaks, load, spread)
    lower, upper = _edges(thresholds, counts, peaks, tops, load, spread)
    used = thresholds[: int(counts.max())]
    nodes, weights = _panels(used, lower, upper, load, spread)
    x = (used[:, None] - load * nodes[None, :]) / spread
    prefix = np.cumsum(log_ndtr(x), axis=0)  # (layers, nodes): log prod over the first n
    log_f = prefix[counts - 1] - 0.5 * nodes[None, :] ** 2 - _LOG_SQRT_2PI
    total = (weights[None, :] * np.exp(log_f - tops[:, None])).sum(axis=1)
    with np.errstate(divide="ignore"):
        return np.asarray(tops + np.log(total))


def copula_log_all_fail(
    marginals: np.ndarray, rho: float, *, every_prefix: bool = False
) -> np.ndarray:
    """log P(all fail) under the Gaussian copula; for every prefix 1..n with ``every_prefix``.

    ``marginals`` must be probabilities in [0, 1] and ``rho`` in [0, 1] (checked by the
    callers in :mod:`ddrisk.risk.dependence`). Returns an array of length n (every prefix) or 1.
    """
    values = np.asarray(marginals, dtype=float).reshape(-1)
    n = values.size
    wanted = np.arange(1, n + 1) if every_prefix else np.array([n])
    with np.errstate(divide="ignore"):
        logs = np.log(values)
    out = np.empty(wanted.size)
    if rho == 0.0:
        return np.asarray(np.cumsum(logs)[wanted - 1])
    if rho == 1.0:
        return np.asarray(np.minimum.accumulate(logs)[wanted - 1])
    live = (values > 0.0) & (values < 1.0)
    live_count = np.cumsum(live)[wanted - 1]  # layers that are neither certain nor impossible
    has_zero = np.cumsum(values == 0.0)[wanted - 1] > 0
    live_index = np.flatnonzero(live)
    out[:] = 0.0  # no live layer: every layer fails surely
    single = live_count == 1
    out[single] = logs[live_index[0]] if live_index.size else 0.0
    several = (live_count >= 2) & ~has_zero
    if several.any():
        from scipy.special import ndtri

        thresholds = ndtri(values[live_index])
        counts = live_count[several]
        unique, position = np.unique(counts, return_inverse=True)
        out[several] = _integrals(thresholds, rho, unique)[position]
    out[has_zero] = -math.inf
    return np.minimum(out, 0.0)
