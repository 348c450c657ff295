"""Proposals for the sampled modes inside one hub stratum (see :mod:`ddrisk.risk.sampling`).

Both return, for each draw, ``log(P(stack fails | modes) * p(x) / f(x))`` -- the importance
weight of a draw whose mean over the proposal ``f`` is the stratum's conditional probability.

:class:`LayerSequentialProposal` (all-miss stacks)
    walks the layers in a fixed order and, at layer ``i``, draws the modes first met there
    from their distribution *given that layer i fails* (and given the modes already drawn).
    A layer fails through any one of its modes (an OR), which no product of independent
    mode probabilities can fit; drawing "which cause fails this layer" exactly can. The
    weight is then ``prod_i P(layer i fails | modes drawn before i)`` -- it varies only
    through modes that reach several layers. To make that variation small, modes are drawn
    under a tilt that looks ahead: each mode's odds are raised by half the log-lift it gives
    the layers after the one where it is drawn (the independent-layers lift overcounts when
    later layers have other causes; halving it keeps the proposal broader than the target,
    the safe side for importance sampling), and the likelihood ratio corrects for the tilt.
:class:`ProductTiltProposal` (structured stacks: votes, routes)
    draws the modes independently from the independent-layers tilt of the stratum, tempered
    the same way, with a few modes summed out analytically per draw.
"""

from __future__ import annotations

import numpy as np

from ddrisk.risk._strata import StratifiedIntegrand, _log1mexp


class LayerSequentialProposal:
    """Draw the sampled modes layer by layer, each layer's new modes given that it fails."""

    name = "layer-sequential conditional proposal with a look-ahead tilt"

    def __init__(
        self, integrand: StratifiedIntegrand, p: np.ndarray, *, look_ahead: float, upper: np.ndarray
    ):
        self.integrand = integrand
        cells = np.asarray(p, dtype=float)[:, integrand.free]
        self.p = cells
        n_layers, n_free = cells.shape
        # Least likely layer first (averaged over strata): the hardest constraints pick the
        # causes, and the layers after them are most often already failed by those causes.
        log_fail = _log1mexp(integrand.layer_log_keep()) + integrand.stratum_log_prob[:, None]
        order = np.argsort(np.logaddexp.reduce(log_fail, axis=0), kind="stable")
        self.order = order
        decided = np.zeros(n_free, dtype=bool)
        first_layer = np.full(n_free, -1)
        self.steps: list[tuple[int, np.ndarray, np.ndarray]] = []
        for i in order:
            reach = cells[i] > 0
            old = np.flatnonzero(reach & decided)
            new = np.flatnonzero(reach & ~decided)
            first_layer[new] = i
            decided |= reach
            self.steps.append((int(i), old, new))
        self.unreached = np.flatnonzero(~decided)
        position = np.empty(n_layers, dtype=int)
        position[order] = np.arange(n_layers)
        later = (cells > 0) & (position[:, None] > position[np.maximum(first_layer, 0)][None, :])
        lift = integrand.mode_lifts(later)
        self.tilts = integrand.tilt_from_lift(look_ahead * lift, upper)  # (strata, free)

    def draw(self, rng: np.random.Generator, stratum: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(log weights, mode occurrences) for draws in the given strata."""
        integrand = self.integrand
        n = stratum.size
        tilt = self.tilts[stratum]
        occurs = np.zeros((n, integrand.q.size), dtype=bool)
        log_weight = np.zeros(n)
        rows = np.arange(n)
        for i, old, new in self.steps:
            log_keep_before = integrand.stratum_base[stratum, i]
            if old.size:
                log_keep_before = (
                    log_keep_before + occurs[:, old].astype(float) @ integrand.cell[i, old]
                )
            cell = self.p[i, new][None, :]
            t_new = tilt[:, new]
            fire = t_new * cell  # P(mode occurs and its cell fails layer i), per new mode
            log_none_fire = np.log1p(-fire).sum(axis=1)
            log_fail = _log1mexp(log_keep_before + log_none_fire)  # P(layer i fails | before)
            log_weight += log_fail
            if not new.size:
                continue
            # Given the layer fails: either the earlier modes/residual already fail it (then
            # the new modes follow the tilt), or some new mode fires -- draw the first one
            # that does, the ones before it not firing, the ones after it freely.
            already = np.log(rng.random(n)) < _log1mexp(log_keep_before) - log_fail
            with np.errstate(divide="ignore"):
                log_first = np.cumsum(np.log1p(-fire), axis=1) - np.log1p(-fire) + np.log(fire)
            first_p = np.exp(log_first - log_first.max(axis=1, keepdims=True))
            first_p /= first_p.sum(axis=1, keepdims=True)
            first = (rng.random(n)[:, None] > np.cumsum(first_p, axis=1)).sum(axis=1)
            first = np.minimum(first, new.size - 1)
            before_first = np.arange(new.size)[None, :] < first[:, None]
            silent = t_new * (1.0 - cell) / (1.0 - fire)  # P(occurs | its cell did not fire)
            u = rng.random((n, new.size))
            forced = u < np.where(before_first, silent, t_new)
            forced[rows, first] = True
            chosen = np.where(already[:, None], u < t_new, forced)
            occurs[:, new] = chosen
            log_weight += np.where(
                chosen,
                integrand.log_q[new] - np.log(t_new),
                integrand.log_not_q[new] - np.log1p(-t_new),
            ).sum(axis=1)
        if self.unreached.size:  # modes no layer depends on (only when p is all zero)
            occurs[:, self.unreached] = (
                rng.random((n, self.unreached.size)) < integrand.q[self.unreached]
            )
        return log_weight, occurs


GUESS_FLOOR = 0.05
"""Smallest probability of a sampled mode in the defensive (guess) part of the mixture."""


class ProductTiltProposal:
    """A cross-entropy product tilt shared by the strata, mixed with each stratum's guess.

    The guess (drawn with probability ``defensive``) is the stratum's independent-layers tilt
    evaluated through the structure: ``odds(t_j) = odds(q_j) P(structure fails | x_j = 1, h)
    / P(structure fails | x_j = 0, h)`` with layers independent at their averaged failure
    probabilities. The shared tilt starts from the probability-weighted guess and is refined by
    cross-entropy on pilot draws across strata (weights ``P(h) w / n_h``); every draw is
    weighted by the mixture density, which bounds the weights where either part is thin.
    """

    name = "cross-entropy product tilt shared across strata, defensive mixture with each stratum's guess"

    def __init__(
        self,
        integrand: StratifiedIntegrand,
        *,
        upper: np.ndarray,
        defensive: float = 0.2,
        smoothing: float = 0.7,
    ):
        self.integrand = integrand
        self.upper = upper
        self.defensive = defensive
        self.smoothing = smoothing
        guesses = integrand.tilt_from_lift(integrand.structure_lifts(), upper)
        # Every mode occurs in at least GUESS_FLOOR of the guess draws, so a mode the pilot
        # judged unimportant is still seen now and then (and its effect enters the variance).
        self.guesses = np.maximum(guesses, np.minimum(GUESS_FLOOR, upper)[None, :])
        weight = np.exp(integrand.stratum_log_prob + integrand.independent_log_mean())
        weight = (
            weight / weight.sum() if weight.sum() > 0 else np.full(weight.size, 1 / weight.size)
        )
        self.shared = np.clip(weight @ self.guesses, integrand.q, upper)
        self.iterations = 0

    def learn(
        self, rng: np.random.Generator, stratum: np.ndarray, counts: np.ndarray, *, iterations: int
    ) -> None:
        """Cross-entropy updates of the shared tilt from pilot draws in ``stratum`` (discarded)."""
        log_prob = self.integrand.stratum_log_prob - np.log(np.maximum(counts, 1))
        for _ in range(iterations):
            log_terms, occurs = self.draw(rng, stratum)
            log_share = log_terms + log_prob[stratum]
            peak = float(np.max(log_share))
            if not np.isfinite(peak):
                break
            weights = np.exp(log_share - peak)
            target = (weights @ occurs) / weights.sum()
            previous = self.shared
            mixed = self.smoothing * target + (1 - self.smoothing) * previous
            self.shared = np.clip(mixed, self.integrand.q, self.upper)
            self.iterations += 1
            if np.max(np.abs(self.shared - previous)) < 0.01:
                break

    def draw(self, rng: np.random.Generator, stratum: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(log weights, mode occurrences) for draws in the given strata."""
        guess = self.guesses[stratum]
        shared = np.broadcast_to(self.shared, guess.shape)
        from_guess = rng.random(stratum.size) < self.defensive
        tilt = np.where(from_guess[:, None], guess, shared)
        occurs = rng.random(tilt.shape) < tilt
        log_ratio = -np.logaddexp(
            np.log1p(-self.defensive) - self.integrand.log_ratio(occurs, shared),
            np.log(self.defensive) - self.integrand.log_ratio(occurs, guess),
        )
        return self.integrand.log_conditional(occurs, stratum) + log_ratio, occurs
