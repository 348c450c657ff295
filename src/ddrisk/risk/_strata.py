"""The integrand of the stratified sampler: hub modes conditioned on, the rest sampled.

Given the failure modes, layers fail independently, so P(stack fails | modes) is a product
(or, for a structure, the structure evaluated on per-layer probabilities). This module splits
the uncertain modes into three groups and prepares the arrays the sampler needs:

hubs
    the few most widely shared modes. Their ``2 ** K`` joint outcomes are the strata; each
    stratum's probability ``P(h)`` is exact, and its outcome is folded into every layer's
    log keep-probability, so a draw never has to *find* a rare hub combination.
integrated
    the next few modes, summed out analytically inside every draw (``2 ** k`` outcomes).
free
    the rest, drawn from a product proposal fitted to each stratum.

Modes that reach one layer only are folded into that layer's residual exactly (they carry no
dependence). All arithmetic is in log space.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from scipy import sparse
from scipy.special import logsumexp

from ddrisk.risk.model import FailureModeModel
from ddrisk.risk.structure import conditioned_log_failure

LOG_ZERO = -1.0e4
"""Stands for log(0) inside matrix products (exp underflows to exactly 0)."""


def _outcomes(k: int) -> np.ndarray:
    """All ``2 ** k`` joint outcomes of ``k`` binary events, one per row."""
    return np.array(list(itertools.product((False, True), repeat=k)), dtype=bool).reshape(2**k, k)


def _log1mexp(x: np.ndarray) -> np.ndarray:
    """log(1 - exp(x)) for x <= 0 (``-inf`` at x = 0)."""
    x = np.minimum(x, 0.0)
    with np.errstate(divide="ignore"):
        return np.where(x > -math.log(2.0), np.log(-np.expm1(x)), np.log1p(-np.exp(x)))


def rank_shared_modes(p: np.ndarray, q: np.ndarray, shared: np.ndarray) -> np.ndarray:
    """Shared modes, most influential first: expected layers failed when the mode occurs.

    A mode that fails many layers at once is what makes a product proposal miss the failure
    region (its outcome switches many layers together), so those are conditioned on first;
    ties go to the more likely mode.
    """
    reach = p[:, shared].sum(axis=0)
    order = np.lexsort((-q[shared], -reach))
    return shared[order]


class StratifiedIntegrand:
    """log E[P(stack fails | modes) | hubs = h, free modes x] and proposal helpers."""

    def __init__(self, model: FailureModeModel, *, n_hubs: int, n_integrated: int):
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
        private = uncertain[(p[:, uncertain] > 0).sum(axis=0) == 1]
        with np.errstate(divide="ignore"):
            base = base + np.log1p(-p[:, private] * q[None, private]).sum(axis=1)
        ranked = rank_shared_modes(p, q, np.setdiff1d(uncertain, private))
        n_hubs = max(0, min(n_hubs, ranked.size))
        n_integrated = max(0, min(n_integrated, ranked.size - n_hubs))
        self.hubs = np.sort(ranked[:n_hubs])
        self.integrated = np.sort(ranked[n_hubs : n_hubs + n_integrated])
        self.free = np.sort(ranked[n_hubs + n_integrated :])
        self.n_layers = p.shape[0]
        self.base = np.maximum(base, LOG_ZERO)
        cells = np.maximum(log_keep_cell, LOG_ZERO)
        with np.errstate(divide="ignore"):
            terms = np.maximum(np.log1p(-p * q[None, :]), LOG_ZERO)  # log E[keep] per cell
        # strata over the hubs
        self.strata = _outcomes(self.hubs.size)
        q_hub = q[self.hubs]
        self.stratum_log_prob = np.where(self.strata, np.log(q_hub), np.log1p(-q_hub)).sum(axis=1)
        self.stratum_base = self.base[None, :] + self.strata.astype(float) @ cells[:, self.hubs].T
        # modes summed out inside each draw
        outcomes = _outcomes(self.integrated.size)
        q_int = q[self.integrated]
        self.outcome_log_prob = np.where(outcomes, np.log(q_int), np.log1p(-q_int)).sum(axis=1)
        self.outcome_log_keep = outcomes.astype(float) @ cells[:, self.integrated].T
        self.integrated_term = terms[:, self.integrated].sum(axis=1)
        # sampled modes
        self.q = q[self.free]
        self.log_q = np.log(self.q)
        self.log_not_q = np.log1p(-self.q)
        self.cell = cells[:, self.free]  # (layers, free)
        self.cell_t = sparse.csr_matrix(self.cell.T)
        self.term = terms[:, self.free]  # (layers, free)
        self.support = p[:, np.concatenate([self.free, self.integrated])] > 0

    @property
    def n_strata(self) -> int:
        return int(self.strata.shape[0])

    def layer_log_keep(self) -> np.ndarray:
        """log P(layer i holds | h), modes other than the hubs averaged out: (strata, layers)."""
        return self.stratum_base + self.integrated_term[None, :] + self.term.sum(axis=1)[None, :]

    def independent_log_mean(self) -> np.ndarray:
        """Per stratum, log P(fail | h) if layers failed independently given the hubs.

        For today's all-miss stack this is a lower bound on the stratum's mean (layer
        failures are increasing events of independent variables, so they are positively
        correlated: Harris' inequality); for a structure it is only a guide for allocation.
        """
        log_fail = _log1mexp(self.layer_log_keep())
        if self.structure is None:
            return np.asarray(log_fail.sum(axis=1))
        return np.asarray(conditioned_log_failure(self.structure, log_fail, self.layer_index))

    def upper_log_mean(self) -> np.ndarray | None:
        """Per stratum, an upper bound on log P(fail | h) (all-miss stacks only, else ``None``).

        Layers that share no sampled or integrated mode are independent given the hubs, so
        the product of their failure probabilities over any such set bounds P(all fail | h);
        the set is chosen greedily, least likely layer first.
        """
        if self.structure is not None:
            return None
        log_fail = _log1mexp(self.layer_log_keep())
        # each layer's sampled/integrated modes as a Python int bitset: fast disjointness tests
        masks = [int("".join("1" if x else "0" for x in row) or "0", 2) for row in self.support]
        bounds = np.empty(self.n_strata)
        for s in range(self.n_strata):
            used = 0
            total = 0.0
            for i in np.argsort(log_fail[s], kind="stable").tolist():
                if not used & masks[i]:
                    used |= masks[i]
                    total += float(log_fail[s, i])
            bounds[s] = total
        return bounds

    def mode_lifts(self, mask: np.ndarray | None = None) -> np.ndarray:
        """Per stratum and sampled mode, the summed log-lift it gives the layers in ``mask``.

        The lift of mode ``j`` on layer ``i`` is ``log P(layer i fails | x_j = 1, h) -
        log P(layer i fails | x_j = 0, h)`` with the other modes averaged out -- exact for one
        layer and the basis of the independent-layers proposals. ``mask`` (layers x sampled
        modes, default all) selects which layers count. Returns (strata, sampled modes);
        computed a block of strata at a time to bound memory on large stacks.
        """
        chosen = self.cell < 0  # only cells that can fail their layer have a lift
        if mask is not None:
            chosen &= mask
        layer, mode = np.nonzero(chosen)
        scatter = sparse.csr_matrix(
            (np.ones(layer.size), (np.arange(layer.size), mode)),
            shape=(layer.size, chosen.shape[1]),
        )
        keep = self.layer_log_keep()
        total = np.zeros((self.n_strata, self.cell.shape[1]))
        block = max(1, 4_000_000 // max(1, layer.size))
        for begin in range(0, self.n_strata, block):
            without = keep[begin : begin + block, layer] - self.term[layer, mode][None, :]
            with np.errstate(divide="ignore", invalid="ignore"):
                lift = _log1mexp(without + self.cell[layer, mode][None, :]) - _log1mexp(without)
            lift = np.nan_to_num(lift, nan=0.0, posinf=700.0, neginf=-700.0)
            total[begin : begin + block] = (scatter.T @ lift.T).T
        return total

    def structure_lifts(self) -> np.ndarray:
        """log P(stack fails | x_j = 1, h) - log P(stack fails | x_j = 0, h): (strata, free).

        Layers are taken as independent at their failure probabilities given the hubs and the
        one mode (others averaged out); for an all-miss stack this is the sum of
        :meth:`mode_lifts` over layers, for a structure it is the structure evaluated on them.
        """
        if self.structure is None:
            return self.mode_lifts()
        keep = self.layer_log_keep()
        lift = np.empty((self.n_strata, self.cell.shape[1]))
        block = max(1, 4_000_000 // max(1, self.cell.size))  # bound the temporary arrays
        for begin in range(0, self.n_strata, block):
            without = keep[begin : begin + block, None, :] - self.term.T[None, :, :]
            with_mode = without + self.cell.T[None, :, :]
            on = conditioned_log_failure(self.structure, _log1mexp(with_mode), self.layer_index)
            off = conditioned_log_failure(self.structure, _log1mexp(without), self.layer_index)
            with np.errstate(invalid="ignore"):
                lift[begin : begin + block] = on - off
        return np.nan_to_num(lift, nan=0.0, posinf=700.0, neginf=-700.0)

    def tilt_from_lift(self, lift: np.ndarray, upper: np.ndarray) -> np.ndarray:
        """``odds(t_j) = odds(q_j) exp(lift_j)``, clipped to ``[q_j, upper_j]``."""
        log_odds = self.log_q - self.log_not_q + np.clip(lift, -700.0, 700.0)
        tilt = 1.0 / (1.0 + np.exp(-np.clip(log_odds, -700.0, 700.0)))
        return np.asarray(np.clip(tilt, self.q[None, :], upper[None, :]))

    def log_conditional(self, occurs: np.ndarray, stratum: np.ndarray) -> np.ndarray:
        """log E[P(stack fails | modes) | hubs, sampled modes] per row of ``occurs``."""
        log_keep = (self.cell_t.T @ occurs.T.astype(float)).T + self.stratum_base[stratum]
        n_outcomes, n_layers = self.outcome_log_keep.shape
        rows = max(1, 4_000_000 // max(1, n_outcomes * n_layers))  # bound the temporary array
        result = np.empty(log_keep.shape[0])
        for begin in range(0, log_keep.shape[0], rows):
            block = log_keep[begin : begin + rows]
            log_fail = _log1mexp(block[:, None, :] + self.outcome_log_keep[None, :, :])
            if self.structure is None:
                per_outcome = log_fail.sum(axis=2)
            else:
                per_outcome = conditioned_log_failure(self.structure, log_fail, self.layer_index)
            result[begin : begin + rows] = logsumexp(
                per_outcome + self.outcome_log_prob[None, :], axis=1
            )
        return result

    def log_ratio(self, occurs: np.ndarray, tilt: np.ndarray) -> np.ndarray:
        """log p(x) / f(x) per row, ``tilt`` holding each row's proposal (rows x free)."""
        with np.errstate(divide="ignore"):
            up = self.log_q[None, :] - np.log(tilt)
            down = self.log_not_q[None, :] - np.log1p(-tilt)
        return np.asarray(np.where(occurs, up, down).sum(axis=1))
