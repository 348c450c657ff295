"""Unbiased estimates of P(stack fails) for models the exact engine cannot reach.

:func:`importance_sample` draws only the failure-mode occurrences and integrates every layer's
cells and residual analytically given them,

``P(stack fails | modes x) = prod_i [1 - (1 - r_i) prod_{j: x_j = 1} (1 - p_ij)]``

(a conditional expectation, so its variance is never larger than that of 0/1 simulation). Modes
are drawn from tilted probabilities ``t_j`` learned by the cross-entropy method, and each draw is
weighted by the likelihood ratio ``prod_j (q_j / t_j)^x_j ((1 - q_j) / (1 - t_j))^(1 - x_j)``.
The tilt is fixed before the final, independent batch is drawn, so the estimate is unbiased; the
standard error is the sample standard deviation of the weighted terms over ``sqrt(n)``. All
arithmetic is in log space, so estimates far below 1e-300 keep their relative accuracy.

:func:`crude_monte_carlo` is raw 0/1 simulation of every basic event, for comparison only.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.special import logsumexp, ndtri

from ddrisk._jsonnum import json_number
from ddrisk.risk.model import FailureModeModel
from ddrisk.risk.structure import conditioned_log_failure

Z95 = float(ndtri(0.975))  # norm.ppf(0.975), without importing scipy.stats
_LOG_ZERO = -1.0e4  # stands for log(0) inside matrix products (exp underflows to exactly 0)
MIN_EFFECTIVE_SAMPLES = 200
"""Below this effective sample size the sampler's result carries a warning."""
ESS_WARNING_SHARE = 0.1
"""... or below this share of the draws (weights that heavy-tailed make the s.e. optimistic)."""
IMPORTANCE_METHOD = "cross-entropy importance sampling over mode occurrences (cells analytic)"
CRUDE_METHOD = "crude Monte Carlo (0/1 simulation of every basic event)"


@dataclass(frozen=True)
class SamplingResult:
    """An unbiased estimate of P(stack fails) with its sampling error.

    ``interval`` is the 95 % normal interval ``estimate +/- 1.96 * standard_error`` clipped at 0;
    ``relative_error`` is ``standard_error / estimate``. ``tilted_q`` is the sampling distribution
    of the mode occurrences (equal to ``q`` for crude Monte Carlo).
    """

    estimate: float
    log_estimate: float
    standard_error: float
    interval: tuple[float, float]
    relative_error: float
    n_samples: int
    seed: int
    method: str
    elapsed_seconds: float
    tilted_q: np.ndarray
    ce_iterations: int = 0
    pilot_samples: int = 0
    effective_sample_size: float = math.nan
    model_name: str = ""
    warning: str | None = None

    def tilt_summary(self, model: FailureModeModel, *, top: int = 5) -> list[dict[str, object]]:
        """The modes whose sampling probability was raised the most (ratio t_j / q_j)."""
        q = np.asarray(model.q)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(q > 0, self.tilted_q / q, 1.0)
        order = np.argsort(-ratio, kind="stable")[:top]
        return [
            {"mode": model.modes[j], "q": float(q[j]), "tilted_q": float(self.tilted_q[j])}
            for j in order
        ]

    def to_dict(self) -> dict[str, object]:
        """JSON-safe summary; keys are stable."""
        return {
            "estimate": self.estimate,
            "log_estimate": json_number(self.log_estimate),
            "standard_error": self.standard_error,
            "interval_95": list(self.interval),
            "relative_error": json_number(self.relative_error),
            "n_samples": self.n_samples,
            "seed": self.seed,
            "method": self.method,
            "elapsed_seconds": self.elapsed_seconds,
            "ce_iterations": self.ce_iterations,
            "pilot_samples": self.pilot_samples,
            "effective_sample_size": json_number(self.effective_sample_size),
            "tilted_q": self.tilted_q.tolist(),
            "model": self.model_name,
            "warning": self.warning,
        }


class _Integrand:
    """log E[P(stack fails) | sampled modes] and log likelihood ratios for batches of draws.

    The ``n_integrated`` most widely shared uncertain modes are not sampled: the integrand sums
    over their ``2 ** n_integrated`` joint outcomes analytically (a further conditional
    expectation), which removes the largest source of weight variance, the hub modes. Modes
    that reach a single layer are folded into that layer's residual, also exactly.
    """

    def __init__(self, model: FailureModeModel, *, n_integrated: int = 3):
        self.structure = model.structure
        self.layer_index = {layer: i for i, layer in enumerate(model.layers)}
        q = np.asarray(model.q, dtype=float)
        p = np.asarray(model.p, dtype=float)
        r = np.asarray(model.r, dtype=float)
        certain = q >= 1.0
        with np.errstate(divide="ignore"):
            log_keep_cell = np.log1p(-p)
            base = np.log1p(-r) + np.where(certain[None, :], log_keep_cell, 0.0).sum(axis=1)
        uncertain = np.flatnonzero((q > 0) & (q < 1) & (p > 0).any(axis=0))
        # A mode that can fail only one layer acts as an extra residual of that layer: fold it in
        # exactly instead of sampling it (it carries no dependence between layers).
        private = uncertain[(p[:, uncertain] > 0).sum(axis=0) == 1]
        with np.errstate(divide="ignore"):
            base = base + np.log1p(-p[:, private] * q[None, private]).sum(axis=1)
        uncertain = np.setdiff1d(uncertain, private)
        reach = (p[:, uncertain] > 0).sum(axis=0)
        by_reach = uncertain[np.argsort(-reach, kind="stable")]
        self.integrated = np.sort(by_reach[: max(0, min(n_integrated, by_reach.size))])
        self.free = np.setdiff1d(uncertain, self.integrated)
        self.q = q[self.free]
        self.base = np.maximum(base, _LOG_ZERO)
        with np.errstate(divide="ignore"):
            self.log_keep_r = np.maximum(np.log1p(-r), _LOG_ZERO)
        cell = np.maximum(log_keep_cell[:, self.free], _LOG_ZERO)
        self.cell_t = sparse.csr_matrix(cell.T)  # (free modes, layers)
        self.cell_dense = cell
        with np.errstate(divide="ignore"):
            all_terms = np.maximum(np.log1p(-p[:, uncertain] * q[None, uncertain]), _LOG_ZERO)
            self.layer_term = np.maximum(np.log1p(-p[:, self.free] * q[None, self.free]), _LOG_ZERO)
        self.log_keep_all = self.base + all_terms.sum(axis=1)
        self.log_q = np.log(self.q)
        self.log_not_q = np.log1p(-self.q)
        outcomes = np.array(
            list(itertools.product((False, True), repeat=self.integrated.size)), dtype=bool
        ).reshape(2**self.integrated.size, self.integrated.size)
        q_int = q[self.integrated]
        self.outcome_log_prob = np.where(outcomes, np.log(q_int), np.log1p(-q_int)).sum(axis=1)
        hub_cell = np.maximum(log_keep_cell[:, self.integrated], _LOG_ZERO)
        self.outcome_log_keep = outcomes.astype(float) @ hub_cell.T  # (outcomes, layers)

    def initial_tilt(self) -> np.ndarray:
        """P(mode occurs | stack fails) if layers failed independently given that one mode.

        ``odds(t_j) = odds(q_j) * prod_i P(layer i fails | x_j = 1) / P(layer i fails | x_j = 0)``
        -- exact when no two layers share a mode, and a starting point for cross-entropy
        otherwise (it lets the pilot see modes far rarer than ``1 / pilot``).
        """
        term = self.layer_term  # (layers, free modes): log(1 - q_j p_ij)
        log_keep = self.log_keep_all[:, None]
        without = log_keep - term
        with_mode = without + self.cell_dense
        with np.errstate(divide="ignore"):
            fail_if = np.log(-np.expm1(np.minimum(with_mode, 0.0)))
            fail_if_not = np.log(-np.expm1(np.minimum(without, 0.0)))
        lift = np.nan_to_num(fail_if - fail_if_not, nan=0.0, posinf=700.0).sum(axis=0)
        log_odds = self.log_q - self.log_not_q + np.clip(lift, -700.0, 700.0)
        return 1.0 / (1.0 + np.exp(-np.clip(log_odds, -700.0, 700.0)))

    def log_conditional(self, occurs: np.ndarray, *, residual_floor: float = 0.0) -> np.ndarray:
        """log E[prod_i P(layer i fails | modes) | sampled modes] per row of ``occurs``."""
        log_keep = (self.cell_t.T @ occurs.T.astype(float)).T + self.base[None, :]
        if residual_floor > 0.0:
            log_keep = log_keep + np.minimum(0.0, math.log1p(-residual_floor) - self.log_keep_r)
        n_outcomes, n_layers = self.outcome_log_keep.shape
        rows = max(1, 4_000_000 // max(1, n_outcomes * n_layers))  # bound the temporary array
        result = np.empty(log_keep.shape[0])
        for begin in range(0, log_keep.shape[0], rows):
            block = log_keep[begin : begin + rows]
            total = block[:, None, :] + self.outcome_log_keep[None, :, :]
            with np.errstate(divide="ignore"):
                log_fail = np.log(-np.expm1(np.minimum(total, 0.0)))
            if self.structure is None:
                per_outcome = log_fail.sum(axis=2)
            else:
                per_outcome = conditioned_log_failure(self.structure, log_fail, self.layer_index)
            result[begin : begin + rows] = logsumexp(
                per_outcome + self.outcome_log_prob[None, :], axis=1
            )
        return result

    def log_ratio(self, occurs: np.ndarray, tilt: np.ndarray) -> np.ndarray:
        """log of p(x) / f_t(x) for each row."""
        up = self.log_q - np.log(tilt)
        down = self.log_not_q - np.log1p(-tilt)
        return occurs @ up + (~occurs) @ down


def _draw(rng: np.random.Generator, tilt: np.ndarray, n: int) -> np.ndarray:
    return rng.random((n, tilt.size)) < tilt[None, :]


def _summarise(log_terms: np.ndarray) -> tuple[float, float, float, float]:
    """(log mean, mean, standard error, effective sample size) of exp(log_terms), stably."""
    n = log_terms.size
    peak = float(log_terms.max()) if n else -math.inf
    if not math.isfinite(peak):
        return -math.inf, 0.0, 0.0, 0.0
    scaled = np.exp(log_terms - peak)
    mean_scaled = float(scaled.mean())
    sd_scaled = float(scaled.std(ddof=1)) if n > 1 else math.inf
    log_mean = peak + math.log(mean_scaled)
    ess = float(scaled.sum() ** 2 / (scaled**2).sum())
    scale = math.exp(peak) if peak > -745 else 0.0
    return log_mean, mean_scaled * scale, sd_scaled * scale / math.sqrt(n), ess


def importance_sample(
    model: FailureModeModel,
    *,
    n: int = 20_000,
    seed: int = 0,
    pilot: int = 2_000,
    max_iterations: int = 12,
    smoothing: float = 0.7,
    max_tilt: float = 0.95,
    n_integrated: int = 4,
    defensive: float = 0.2,
) -> SamplingResult:
    """Cross-entropy importance sampling estimate of P(stack fails).

    Parameters
    ----------
    model
        The failure-mode model.
    n
        Draws in the final (estimating) batch.
    seed
        Seed of the ``numpy.random.Generator``; the same seed gives the same result.
    pilot
        Draws per cross-entropy iteration (discarded afterwards).
    max_iterations
        Cap on cross-entropy iterations.
    smoothing
        Weight of the new tilt in each update (the rest keeps the old one).
    max_tilt
        Largest tilted probability for a mode whose ``q`` is below it, which bounds the
        likelihood ratio of draws where the mode does not occur.
    n_integrated
        How many of the most widely shared modes to integrate analytically instead of sampling
        (cost grows as ``2 ** n_integrated``).
    defensive
        Share of the final draws taken from the broad independent-layers tilt instead of the
        learnt one (a defensive mixture; every draw is weighted by the mixture density).

    Examples
    --------
    >>> m = FailureModeModel(layers=("A", "B"), modes=("X",), q=[0.1], p=[[1.0], [1.0]], r=[0.0, 0.0])
    >>> result = importance_sample(m, n=2000, seed=1)
    >>> abs(result.estimate - 0.1) < 4 * result.standard_error + 1e-12
    True
    """
    if n < 2 or pilot < 2:
        raise ValueError("n and pilot need at least 2 draws")
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    integrand = _Integrand(model, n_integrated=n_integrated)
    q = integrand.q
    full_tilt = np.asarray(model.q, dtype=float).copy()
    upper = np.maximum(q, max_tilt)
    tilt = np.clip(integrand.initial_tilt(), q, upper)
    # Start from the independent-layers guess. If no pilot draw can make the stack fail (layers
    # with r = 0 that the draws never reach), give every layer a residual floor of 50 % and
    # lower it tenfold per iteration until it no longer binds.
    floor = 0.0
    smallest_r = float(np.min(model.r)) if model.n_layers else 0.0
    iterations = 0
    settled: list[np.ndarray] = []  # tilts learnt without a residual floor
    if q.size:
        while iterations < max_iterations:
            iterations += 1
            occurs = _draw(rng, tilt, pilot)
            active_floor = floor if floor > smallest_r else 0.0
            log_terms = integrand.log_conditional(
                occurs, residual_floor=active_floor
            ) + integrand.log_ratio(occurs, tilt)
            peak = float(log_terms.max())
            if not math.isfinite(peak):
                floor = 0.5
                continue
            weights = np.exp(log_terms - peak)
            target = (weights @ occurs) / weights.sum()
            tilt = np.clip(smoothing * target + (1 - smoothing) * tilt, q, upper)
            if active_floor == 0.0:
                settled.append(tilt)
                # Pilot noise keeps single tilts moving; averaging the last few cancels it.
                if len(settled) >= 4:
                    spread = np.max(np.abs(settled[-1] - settled[-2]))
                    if spread < 0.02:
                        break
            floor /= 10.0
        if settled:
            tilt = np.mean(settled[-4:], axis=0)
    broad = np.clip(integrand.initial_tilt(), q, upper)
    if defensive > 0.0 and q.size:
        # A defensive mixture: a share of the draws comes from the broad independent-layers
        # guess, so regions the learnt tilt neglects still get draws and weights stay bounded.
        from_broad = rng.random(n) < defensive
        occurs = np.where(from_broad[:, None], _draw(rng, broad, n), _draw(rng, tilt, n))
        log_ratio = -np.logaddexp(
            math.log1p(-defensive) - integrand.log_ratio(occurs, tilt),
            math.log(defensive) - integrand.log_ratio(occurs, broad),
        )
    else:
        occurs = _draw(rng, tilt, n)
        log_ratio = integrand.log_ratio(occurs, tilt)
    log_terms = integrand.log_conditional(occurs) + log_ratio
    log_mean, estimate, standard_error, ess = _summarise(log_terms)
    full_tilt[integrand.free] = tilt
    warning = None
    if ess < max(MIN_EFFECTIVE_SAMPLES, ESS_WARNING_SHARE * n):
        warning = (
            f"effective sample size {ess:,.0f} of {n:,} draws: the weights are heavy-tailed, so "
            "the interval may be too narrow; give more draws or use the exact engine"
        )
    return SamplingResult(
        estimate=estimate,
        log_estimate=log_mean,
        standard_error=standard_error,
        interval=(max(0.0, estimate - Z95 * standard_error), estimate + Z95 * standard_error),
        relative_error=standard_error / estimate if estimate > 0 else math.inf,
        n_samples=n,
        seed=seed,
        method=IMPORTANCE_METHOD,
        elapsed_seconds=time.perf_counter() - start,
        tilted_q=full_tilt,
        ce_iterations=iterations,
        pilot_samples=iterations * pilot,
        effective_sample_size=ess,
        model_name=model.name,
        warning=warning,
    )


def crude_monte_carlo(
    model: FailureModeModel,
    *,
    n: int,
    seed: int = 0,
    time_limit: float | None = None,
    chunk: int = 4_096,
) -> SamplingResult:
    """Raw 0/1 simulation of modes, cells and residuals: the baseline importance sampling beats.

    With ``time_limit`` (seconds) it stops drawing at the first chunk boundary past the limit
    and reports the draws it made (for equal-time comparisons).

    Examples
    --------
    >>> m = FailureModeModel(layers=("A",), modes=("X",), q=[0.5], p=[[1.0]], r=[0.0])
    >>> 0.4 < crude_monte_carlo(m, n=4000, seed=3).estimate < 0.6
    True
    """
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    q = np.asarray(model.q, dtype=float)
    p = np.asarray(model.p, dtype=float)
    r = np.asarray(model.r, dtype=float)
    n_layers, n_modes = p.shape
    per_chunk = max(1, min(chunk, 20_000_000 // max(1, n_layers * n_modes)))
    hits = 0
    drawn = 0
    while drawn < n:
        size = min(per_chunk, n - drawn)
        modes = rng.random((size, n_modes)) < q[None, :]
        cells = rng.random((size, n_layers, n_modes)) < p[None, :, :]
        residual = rng.random((size, n_layers)) < r[None, :]
        layer_fails = residual | (cells & modes[:, None, :]).any(axis=2)
        hits += int(layer_fails.all(axis=1).sum())
        drawn += size
        if time_limit is not None and time.perf_counter() - start > time_limit:
            break
    estimate = hits / drawn
    standard_error = math.sqrt(estimate * (1 - estimate) / max(drawn - 1, 1))
    return SamplingResult(
        estimate=estimate,
        log_estimate=math.log(estimate) if estimate > 0 else -math.inf,
        standard_error=standard_error,
        interval=(max(0.0, estimate - Z95 * standard_error), estimate + Z95 * standard_error),
        relative_error=standard_error / estimate if estimate > 0 else math.inf,
        n_samples=drawn,
        seed=seed,
        method=CRUDE_METHOD,
        elapsed_seconds=time.perf_counter() - start,
        tilted_q=q.copy(),
        model_name=model.name,
    )
