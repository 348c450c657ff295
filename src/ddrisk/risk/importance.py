"""Importance measures of failure modes and layers: which shared weakness to research first.

Every measure compares P(stack fails) with one basic event forced on or off:

* a **failure mode** ``j``: its occurrence, ``q_j`` set to 1 (``P1``) or 0 (``P0``);
* a **layer** ``i``: its *residual* failure, ``r_i`` set to 1 or 0. (The layer's failure as a
  whole is in every cut set of an AND-stack, so conditioning on it gives the trivial answers
  FV = 1 and RRW = infinity; the residual is the part of the layer that is its own.)

With ``P`` the baseline:

``birnbaum = P1 - P0``
    dP/d(probability of the event): how fast the stack's risk moves with it.
``fussell_vesely = (P - P0) / P``
    The share of the stack's risk that needs the event: what eliminating it would remove. This
    is the risk-decrease form PRA codes report under this name (also called criticality
    importance); Fussell's cut-set form agrees with it when cut sets are rare.
``risk_achievement_worth = P1 / P``
    How many times riskier the stack is if the event were certain.
``risk_reduction_worth = P / P0``
    How many times safer the stack is if the event were impossible.

Failure modes ranked by Fussell-Vesely (ties by risk achievement worth) are the quantitative
research priority list: the top mode is the one whose elimination removes most of the joint
failure probability.

By default all measures come from one forward and one backward pass of the exact DP
(:func:`ddrisk.risk.exact.probability_ratios`: P is multilinear in every ``q_j`` and ``r_i``, so
the gradient gives every ``P1`` and ``P0`` at once); ``method="conditioning"`` recomputes the
stack twice per event with any exact method, as an independent check.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ddrisk._jsonnum import json_ready
from ddrisk.risk.engine import model_hash
from ddrisk.risk.exact import (
    DEFAULT_NODE_BUDGET,
    DEFAULT_STATE_BUDGET,
    probability_ratios,
    stack_failure_probability,
)
from ddrisk.risk.model import FailureModeModel

if TYPE_CHECKING:  # pandas loads only for frames; to_dict() does without it (start-up)
    import pandas as pd

IMPORTANCE_METHODS = ("gradient", "conditioning")
MEASURES = ("birnbaum", "fussell_vesely", "risk_achievement_worth", "risk_reduction_worth")
RANKING = "fussell_vesely, ties by risk_achievement_worth"


@dataclass(frozen=True)
class ImportanceMeasures:
    """Birnbaum, Fussell-Vesely, RAW and RRW for every failure mode and every layer residual.

    ``mode_conditioned[j] = (P(q_j = 0), P(q_j = 1))`` and ``layer_conditioned[i] =
    (P(r_i = 0), P(r_i = 1))`` are kept so anyone can recompute the measures.
    """

    model: FailureModeModel
    probability: float
    log_probability: float
    mode_conditioned: np.ndarray
    layer_conditioned: np.ndarray
    method: str
    elapsed_seconds: float

    def _measures(self, conditioned: np.ndarray) -> dict[str, np.ndarray]:
        p0, p1 = conditioned[:, 0], conditioned[:, 1]
        base = self.probability
        with np.errstate(divide="ignore", invalid="ignore"):
            return {
                "p_if_impossible": p0,
                "p_if_certain": p1,
                "birnbaum": p1 - p0,
                "fussell_vesely": (base - p0) / base if base > 0 else np.full_like(p0, np.nan),
                "risk_achievement_worth": p1 / base if base > 0 else np.full_like(p1, np.nan),
                "risk_reduction_worth": np.where(p0 > 0, base / p0, np.inf),
            }

    def to_frame(self, kind: str = "modes") -> pd.DataFrame:
        """One row per failure mode (``kind="modes"``) or per layer residual (``"layers"``)."""
        import pandas as pd

        if kind == "modes":
            frame = pd.DataFrame({"mode": list(self.model.modes), "q": np.asarray(self.model.q)})
            measures = self._measures(self.mode_conditioned)
        elif kind == "layers":
            frame = pd.DataFrame({"layer": list(self.model.layers), "r": np.asarray(self.model.r)})
            measures = self._measures(self.layer_conditioned)
        else:
            raise ValueError("kind must be 'modes' or 'layers'")
        for name, values in measures.items():
            frame[name] = values
        return frame

    def priority_order(self) -> list[str]:
        """Mode names in research-priority order (as :meth:`research_priorities`, no pandas).

        Descending Fussell-Vesely, ties by descending RAW, ties kept in catalog order; NaN last.
        """
        measures = self._measures(self.mode_conditioned)
        fv, raw = measures["fussell_vesely"], measures["risk_achievement_worth"]

        def key(j: int) -> tuple[float, float]:
            def down(x: float) -> float:
                return math.inf if math.isnan(x) else -x

            return (down(float(fv[j])), down(float(raw[j])))

        return [self.model.modes[j] for j in sorted(range(len(self.model.modes)), key=key)]

    def research_priorities(self) -> pd.DataFrame:
        """Failure modes ranked by Fussell-Vesely, ties by RAW: what to study first."""
        frame = self.to_frame("modes").sort_values(
            ["fussell_vesely", "risk_achievement_worth"], ascending=False, kind="stable"
        )
        frame.insert(0, "rank", np.arange(1, len(frame) + 1))
        return frame.reset_index(drop=True)

    def to_dict(self) -> dict[str, object]:
        """JSON-safe: ``model``, ``model_hash``, ``probability``, ``log_probability``,
        ``method``, ``ranking``, ``modes`` and ``layers`` (lists of rows with the measures and
        ``p_if_impossible`` / ``p_if_certain``), ``research_priorities`` (mode names in order),
        ``elapsed_seconds``."""

        def rows(
            key: str, names: tuple[str, ...], values: np.ndarray, conditioned: np.ndarray
        ) -> list[dict[str, object]]:
            measures = self._measures(conditioned)
            return [
                {
                    key: name,
                    value_key[key]: json_ready(float(values[k])),
                    **{m: json_ready(float(column[k])) for m, column in measures.items()},
                }
                for k, name in enumerate(names)
            ]

        value_key = {"mode": "q", "layer": "r"}
        return {
            "model": self.model.name,
            "model_hash": model_hash(self.model),
            "probability": self.probability,
            "log_probability": json_ready(self.log_probability),
            "method": self.method,
            "ranking": RANKING,
            "modes": rows(
                "mode", self.model.modes, np.asarray(self.model.q), self.mode_conditioned
            ),
            "layers": rows(
                "layer", self.model.layers, np.asarray(self.model.r), self.layer_conditioned
            ),
            "research_priorities": self.priority_order(),
            "elapsed_seconds": self.elapsed_seconds,
        }


def _conditioned_probability(
    model: FailureModeModel,
    *,
    q: np.ndarray | None = None,
    r: np.ndarray | None = None,
    node_budget: int,
    state_budget: int,
) -> float:
    changed = model.with_parameters(q=q, r=r)
    return stack_failure_probability(
        changed, node_budget=node_budget, state_budget=state_budget
    ).probability


def _condition_mode(model: FailureModeModel, j: int, value: float, **budgets: Any) -> float:
    q = np.array(model.q, dtype=float)
    q[j] = value
    return _conditioned_probability(model, q=q, **budgets)


def _condition_layer(model: FailureModeModel, i: int, value: float, **budgets: Any) -> float:
    r = np.array(model.r, dtype=float)
    r[i] = value
    return _conditioned_probability(model, r=r, **budgets)


def _method_label(model: FailureModeModel, method: str, used: set[str]) -> str:
    if method != "gradient":
        return "conditioning"
    if model.structured:
        return "bdd-gradient"
    return "+".join(sorted(used or {"dp"})) + "-gradient"  # dp and/or inclusion-exclusion


def importance_measures(
    model: FailureModeModel,
    *,
    method: str = "gradient",
    node_budget: int = DEFAULT_NODE_BUDGET,
    state_budget: int = DEFAULT_STATE_BUDGET,
) -> ImportanceMeasures:
    """Exact importance measures of every failure mode and layer residual.

    Parameters
    ----------
    model
        The failure-mode model.
    method
        ``"gradient"`` (one DP pass forward and back; events the pass cannot condition, such as
        modes with ``q`` of exactly 0 or 1, are recomputed by conditioning) or
        ``"conditioning"`` (two exact evaluations per event).
    node_budget, state_budget
        Budgets of the exact engine.

    Raises
    ------
    ddrisk.risk.exact.BudgetExceeded
        When the model is too large for the exact engine.

    Examples
    --------
    >>> m = FailureModeModel(layers=("A", "B"), modes=("shared", "own"), q=[0.1, 0.2],
    ...     p=[[1.0, 0.0], [1.0, 1.0]], r=[0.01, 0.0])
    >>> ranked = importance_measures(m).research_priorities()
    >>> list(ranked["mode"])
    ['shared', 'own']
    """
    if method not in IMPORTANCE_METHODS:
        raise ValueError(f"method must be one of {IMPORTANCE_METHODS}, got {method!r}")
    start = time.perf_counter()
    budgets: dict[str, Any] = {"node_budget": node_budget, "state_budget": state_budget}
    n_layers, n_modes = model.p.shape
    used: set[str] = set()
    if method == "gradient" and model.structured:
        from ddrisk.risk.structured import structured_conditioned

        log_p, mode_conditioned, layer_conditioned = structured_conditioned(
            model, node_budget=node_budget
        )
        probability = math.exp(log_p) if log_p > -745.2 else 0.0
    elif method == "gradient":
        log_p, mode_ratio, layer_ratio = probability_ratios(
            model, state_budget=state_budget, used=used
        )
        probability = math.exp(log_p) if log_p > -745.2 else 0.0
        mode_conditioned = mode_ratio * probability
        layer_conditioned = layer_ratio * probability
        if probability == 0.0:
            mode_conditioned[:] = np.nan
            layer_conditioned[:] = np.nan
    else:
        result = stack_failure_probability(model, **budgets)
        log_p, probability = result.log_probability, result.probability
        mode_conditioned = np.full((n_modes, 2), np.nan)
        layer_conditioned = np.full((n_layers, 2), np.nan)
    for j, x in zip(*np.nonzero(np.isnan(mode_conditioned)), strict=True):
        mode_conditioned[j, x] = _condition_mode(model, int(j), float(x), **budgets)
    for i, x in zip(*np.nonzero(np.isnan(layer_conditioned)), strict=True):
        layer_conditioned[i, x] = _condition_layer(model, int(i), float(x), **budgets)
    return ImportanceMeasures(
        model=model,
        probability=probability,
        log_probability=log_p,
        mode_conditioned=mode_conditioned,
        layer_conditioned=layer_conditioned,
        method=_method_label(model, method, used),
        elapsed_seconds=time.perf_counter() - start,
    )
