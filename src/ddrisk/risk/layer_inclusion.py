"""Exact P(stack fails) by inclusion-exclusion over LAYERS, for dense stacks with few layers.

The mode DP of :mod:`ddrisk.risk.exact` costs ``2 ** width`` where ``width`` is the induced
width of the mode-sharing graph. On a dense catalog (every cell ``p > 0``, e.g. when a "not
prone" rating maps to 0.05) every layer touches every mode, the width is the number of modes and
neither the DP nor the BDD finishes. The number of *layers* in a deployed stack is small, though,
and given the modes the layers fail independently, so

    P(all fail) = sum_{S subset of layers} (-1)^{|S|} P(no layer in S fails)
    P(no layer in S fails) = prod_{i in S} (1 - r_i) prod_j [1 - q_j (1 - prod_{i in S} (1 - p_ij))]

costs ``2 ** L * M`` instead of ``2 ** M``. The alternating sum can cancel badly (P(all fail) is
often many orders of magnitude below the largest term), so every term carries a rigorous
forward-error bound, the sum is taken in extended precision (``numpy.longdouble``, 64-bit
mantissa on x86), and the result is accepted only when the accumulated bound is below
``tolerance`` times the result. Otherwise :class:`~ddrisk.risk.exact.BudgetExceeded` is raised
(method ``"inclusion-exclusion"``) and the caller falls back to the DP or the BDD. On platforms
whose ``longdouble`` is plain double the bound is simply looser and the fallback more frequent.

The same pass gives every conditioned probability the importance measures need (``q_j`` set to 0
or 1, ``r_i`` set to 0 or 1): P is multilinear in each of them, and conditioning changes one
factor of each term.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MAX_LAYERS = 20
"""Largest component (layers) the method will expand: 2**20 subsets."""

DEFAULT_TOLERANCE = 1e-10
"""Largest accepted relative error bound of the result."""

_LOW_BITS = 12  # subsets are processed in chunks of 2**12 (bounded memory for any L)
_LD = np.longdouble
_EPS = float(np.finfo(_LD).eps)


@dataclass(frozen=True)
class LayerExpansion:
    """One component's P(all fail) from the layer expansion, with what the check saw.

    ``mode_ratios[j] = (P(q_j = 0) / P, P(q_j = 1) / P)`` and ``layer_ratios[i] = (P(r_i = 0) /
    P, P(r_i = 1) / P)`` when requested; an entry whose own error bound fails the tolerance is
    NaN (the caller recomputes it by conditioning).
    """

    log_probability: float
    relative_error_bound: float
    n_subsets: int
    mode_ratios: np.ndarray | None = None
    layer_ratios: np.ndarray | None = None


class _Sums:
    """Signed sums, absolute sums and error bounds, accumulated chunk by chunk."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.value = np.zeros(shape, dtype=_LD)
        self.magnitude = np.zeros(shape, dtype=_LD)
        self.error = np.zeros(shape, dtype=_LD)

    def add(self, signed: np.ndarray, magnitude: np.ndarray, error: np.ndarray) -> None:
        self.value += signed
        self.magnitude += magnitude
        self.error += error

    def accepted(self, n_terms: int, tolerance: float) -> tuple[np.ndarray, np.ndarray]:
        """(value, relative bound) with the summation error added and a safety factor of 2."""
        summation = (math.log2(max(n_terms, 2)) + 4) * _EPS * self.magnitude
        bound = 2.0 * (self.error + summation)
        with np.errstate(divide="ignore", invalid="ignore"):
            relative = np.where(self.value > 0, bound / self.value, np.inf)
        return self.value.astype(float), relative.astype(float)


def _subset_table(rows: np.ndarray) -> np.ndarray:
    """Row ``s`` = sum of ``rows[i]`` over the bits ``i`` of ``s`` (doubling, 2**n rows)."""
    table = np.zeros((1, *rows.shape[1:]), dtype=_LD)
    for row in rows:
        table = np.concatenate([table, table + row[None]], axis=0)
    return table


def expand_layers(
    q: np.ndarray,
    p: np.ndarray,
    r: np.ndarray,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    conditioned: bool = False,
) -> LayerExpansion | None:
    """P(every layer fails) of one component by inclusion-exclusion; ``None`` if inaccurate.

    Parameters
    ----------
    q, p, r
        Mode probabilities in (0, 1), cells ``(layers, modes)`` in [0, 1] and residuals in
        [0, 1) (a preprocessed component: certain modes folded into ``r``, certain layers gone).
    tolerance
        Largest accepted relative error bound.
    conditioned
        Also compute every conditioned probability (for importance measures).

    Examples
    --------
    Two layers sharing one mode (P = q) next to an own mode of the second layer:

    >>> out = expand_layers(np.array([0.1, 0.2]), np.array([[1.0, 0.0], [1.0, 1.0]]),
    ...     np.array([0.0, 0.0]))
    >>> round(math.exp(out.log_probability), 12)
    0.1
    """
    q = np.asarray(q, dtype=float)
    p = np.asarray(p, dtype=float)
    r = np.asarray(r, dtype=float)
    n_layers, n_modes = p.shape
    if n_layers > MAX_LAYERS:
        raise ValueError(f"at most {MAX_LAYERS} layers, got {n_layers}")
    if np.any(q <= 0) or np.any(q >= 1) or np.any(r >= 1):
        raise ValueError("expects 0 < q < 1 and r < 1 (preprocess certain events first)")
    qd = q.astype(_LD)[None, :]
    with np.errstate(divide="ignore"):
        log_keep = np.log1p(-p.astype(_LD))  # -inf where a cell is certain
    log_keep_r = np.log1p(-r.astype(_LD))
    low = min(n_layers, _LOW_BITS)
    low_s = _subset_table(log_keep[:low])
    low_r = _subset_table(log_keep_r[:low, None])[:, 0]
    low_member = _subset_table(np.eye(n_layers, dtype=_LD)[:low]).astype(bool)
    high_member_table = np.eye(n_layers, dtype=bool)[low:]
    ops = n_layers + 6  # rounding steps behind one factor (sum of logs, expm1, product, log)
    total = _Sums(())
    modes = _Sums((2, n_modes)) if conditioned else None
    layers = _Sums((2, n_layers)) if conditioned else None
    for high in range(2 ** (n_layers - low)):
        bits = np.array([(high >> k) & 1 for k in range(n_layers - low)], dtype=bool)
        s = low_s + log_keep[low:][bits].sum(axis=0)[None, :]
        res = low_r + log_keep_r[low:][bits].sum()
        member = low_member | high_member_table[bits].any(axis=0)[None, :]
        size = member.sum(axis=1)
        sign = np.where(size % 2 == 0, 1.0, -1.0).astype(_LD)
        finite = np.isfinite(s)
        s_safe = np.where(finite, s, 0.0)
        keep_all = np.where(finite, np.exp(s_safe), 0.0)  # prod_{i in S} (1 - p_ij)
        hit = np.where(finite, -np.expm1(s_safe), 1.0)  # 1 - that, accurate when small
        x = qd * hit
        small = x < 0.5
        y = (1.0 - qd) + qd * keep_all  # > 0 since q < 1
        factor_log = np.where(small, np.log1p(-np.minimum(x, 0.5)), np.log(y))
        # Absolute error of each log factor: the relative error of x (or of q e^s, whose
        # exponent carries (L + 2) eps |s|) times its condition number, plus rounding.
        amplified = np.where(finite, qd * keep_all * np.abs(s_safe) / y, 0.0)
        factor_err = np.where(
            small,
            ops * _EPS * (1.0 + np.abs(factor_log)),
            _EPS * (ops * amplified + 4.0 + 2.0 * np.abs(factor_log)),
        )
        log_term = factor_log.sum(axis=1) + res
        log_err = factor_err.sum(axis=1) + (n_modes + n_layers + 4) * _EPS * (
            1.0 + np.abs(log_term)
        )
        term = np.exp(log_term)
        rel = np.expm1(log_err) + 2 * _EPS
        signed = sign * term
        total.add(signed.sum(), term.sum(), (term * rel).sum())
        if modes is not None and layers is not None:
            # q_j = 0 divides factor j out; q_j = 1 replaces it with prod (1 - p_ij) = e^s.
            for x_value, shift, extra in (
                (0, -factor_log, factor_err),
                (
                    1,
                    np.where(finite, s_safe, -np.inf) - factor_log,
                    factor_err + ops * _EPS * np.abs(s_safe),
                ),
            ):
                cond = np.exp(log_term[:, None] + shift)
                cond_rel = np.expm1(log_err[:, None] + extra) + 2 * _EPS
                modes.add(
                    (sign[:, None] * cond).sum(axis=0)[None, :] * _onehot(2, x_value),
                    cond.sum(axis=0)[None, :] * _onehot(2, x_value),
                    (cond * cond_rel).sum(axis=0)[None, :] * _onehot(2, x_value),
                )
            weights = np.stack([signed, term, term * rel], axis=1)  # (N, 3)
            inside = member.T.astype(_LD) @ weights  # (L, 3) sums over S containing i
            outside = (~member).T.astype(_LD) @ weights
            scale = 1.0 / (1.0 - r.astype(_LD))  # r_i = 0 removes the factor (1 - r_i)
            layers.add(
                np.stack([outside[:, 0] + inside[:, 0] * scale, outside[:, 0]]),
                np.stack([outside[:, 1] + inside[:, 1] * scale, outside[:, 1]]),
                np.stack(
                    [
                        outside[:, 2] + inside[:, 2] * scale * (1 + 4 * _EPS),
                        outside[:, 2],
                    ]
                ),
            )
    n_subsets = 2**n_layers
    value, relative = total.accepted(n_subsets, tolerance)
    if not (value > 0 and relative <= tolerance):
        return None
    mode_ratios = layer_ratios = None
    if modes is not None and layers is not None:
        mode_ratios = _ratios(modes, n_subsets, tolerance, float(value)).T
        layer_ratios = _ratios(layers, n_subsets, tolerance, float(value)).T
    return LayerExpansion(
        log_probability=math.log(float(value)),
        relative_error_bound=float(relative),
        n_subsets=n_subsets,
        mode_ratios=mode_ratios,
        layer_ratios=layer_ratios,
    )


def _onehot(n: int, k: int) -> np.ndarray:
    out = np.zeros((n, 1), dtype=_LD)
    out[k] = 1.0
    return out


def _ratios(sums: _Sums, n_terms: int, tolerance: float, probability: float) -> np.ndarray:
    value, relative = sums.accepted(n_terms, tolerance)
    return np.where(relative <= tolerance, value / probability, np.nan)


def prefer_layers(p: np.ndarray, dp_width: int, *, state_budget: int) -> bool:
    """Whether the layer expansion is cheaper than the mode DP on a component.

    ``2 ** L * M`` factor evaluations against the DP's ``2 ** width`` table, within the same
    state budget.
    """
    n_layers, n_modes = p.shape
    return n_layers <= MAX_LAYERS and n_layers < dp_width and 2**n_layers * n_modes <= state_budget


def component_expansion(
    q: np.ndarray,
    p: np.ndarray,
    r: np.ndarray,
    *,
    forced: bool,
    state_budget: int,
    conditioned: bool = False,
    notes: list[str] | None = None,
    order: list[int] | None = None,
) -> LayerExpansion | None:
    """The layer expansion of one component where it is the better exact method.

    With ``forced`` (the caller asked for this method) the expansion is always tried and a
    component it cannot evaluate accurately raises
    :class:`~ddrisk.risk.exact.BudgetExceeded`; otherwise it is tried only when
    :func:`prefer_layers` says it is cheaper than the DP, and ``None`` sends the caller on to
    the DP / BDD (with a line in ``notes`` when the accuracy check refused the result).
    ``order`` is the DP's elimination order when the caller already has one (a sub-stack
    reusing its stack's plan), which spares planning it again here.
    """
    from ddrisk.risk import exact  # the exact engine imports this module

    n_layers, n_modes = p.shape
    if forced:
        if n_layers > MAX_LAYERS or 2**n_layers * n_modes > state_budget:
            raise exact.BudgetExceeded(
                "inclusion-exclusion", 2**n_layers * n_modes, state_budget, f"{n_layers} layers"
            )
    else:
        # The modes of one layer form a clique of the DP's interaction graph, so the widest
        # layer bounds the DP width from below; the min-fill plan is needed only when that
        # bound does not already decide (it dominated the run time of dense stacks).
        clique = int((p > 0).sum(axis=1).max())
        if not prefer_layers(p, clique, state_budget=state_budget):
            adjacency = exact._mode_adjacency(p)
            plan = order if order is not None else exact._min_fill_order(adjacency)
            width = exact._plan_width(adjacency, plan)
            if not prefer_layers(p, width, state_budget=state_budget):
                return None
    expansion = expand_layers(q, p, r, conditioned=conditioned)
    if expansion is None:
        detail = (
            f"component {p.shape}: layer inclusion-exclusion cancels below the relative "
            f"tolerance {DEFAULT_TOLERANCE:g}"
        )
        if forced:
            raise exact.BudgetExceeded("inclusion-exclusion", None, state_budget, detail)
        if notes is not None:
            notes.append(detail + "; used the mode DP / BDD")
    return expansion
