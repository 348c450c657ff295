"""Operating points: calibrate scored layers to a stated false-block rate.

Comparing layers at whatever threshold each ships with compares arbitrary
operating points: a layer that blocks half of all benign prompts "misses" little
because it blocks nearly everything. Here each layer that reports a score is run
on a *benign calibration split* (disjoint from the test items) and given the
lowest threshold at which it blocks at most ``target_false_block_rate`` of that
split; the experiment then runs it at that threshold (block when
``score > threshold``). A layer that gives no score on the calibration items
keeps its own decision rule, and says so.

The threshold rule: with calibration scores sorted in decreasing order
``s_1 >= s_2 >= ...`` and ``m = floor(target * n)`` blocks allowed, the threshold is
``s_(m+1)`` and a layer blocks what scores strictly above it, so at most ``m``
calibration items are blocked (ties never push the calibration false-block rate
over the target).

:class:`CalibratedLayer` wraps any :class:`~ddrisk.stress.layer.Layer`; its
:meth:`config` adds the threshold, the target and the split's hash, so the
verdict cache never mixes operating points. The calibration itself consults
and fills the same verdict cache as the run (keyed by the inner layer's own
configuration), so recalibrating costs nothing on a warm cache.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ddrisk.stress.defaults import DEFAULT_TARGET_FALSE_BLOCK_RATE
from ddrisk.stress.layer import Item, Layer, Verdict, config_hash
from ddrisk.stress.store import VerdictCache

#: A layer must give a score on at least this share of calibration items to be calibrated.
MIN_SCORED_SHARE = 0.95


def items_sha256(items: Sequence[Item]) -> str:
    """SHA-256 of the calibration items (ids, roles and text hashes), for the manifest."""
    digest = hashlib.sha256()
    for item in items:
        digest.update(json.dumps([item.item_id, item.role, item.text_sha256]).encode())
    return digest.hexdigest()


def threshold_for_rate(scores: Sequence[float] | np.ndarray, target: float) -> float:
    """Lowest threshold such that at most ``floor(target * n)`` of ``scores`` lie above it.

    >>> threshold_for_rate([0.1, 0.2, 0.3, 0.9], 0.25)
    0.3
    >>> sum(s > threshold_for_rate([0.5] * 10, 0.05) for s in [0.5] * 10)
    0
    """
    values = np.sort(np.asarray(scores, dtype=float))[::-1]
    if values.size == 0:
        raise ValueError("no calibration scores")
    if not 0.0 <= target < 1.0:
        raise ValueError("target must lie in [0, 1)")
    allowed = math.floor(target * values.size + 1e-9)
    return float(values[allowed])


@dataclass(frozen=True)
class LayerCalibration:
    """How one layer was set: ``calibrated`` with a threshold, or ``native`` with the reason."""

    layer: str
    status: str  # "calibrated" | "native"
    threshold: float | None
    n_items: int
    n_scored: int
    native_false_block_rate: float | None
    calibrated_false_block_rate: float | None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Keys: layer, status, threshold, n_items, n_scored, native_false_block_rate,
        calibrated_false_block_rate, reason."""
        return {
            "layer": self.layer,
            "status": self.status,
            "threshold": self.threshold,
            "n_items": self.n_items,
            "n_scored": self.n_scored,
            "native_false_block_rate": self.native_false_block_rate,
            "calibrated_false_block_rate": self.calibrated_false_block_rate,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class CalibrationPlan:
    """The operating points of a run: target, split and one :class:`LayerCalibration` per layer."""

    target_false_block_rate: float
    split_name: str
    split_sha256: str
    n_items: int
    layers: tuple[LayerCalibration, ...]

    def threshold_of(self, name: str) -> float | None:
        for entry in self.layers:
            if entry.layer == name and entry.status == "calibrated":
                return entry.threshold
        return None

    def to_dict(self) -> dict[str, Any]:
        """Keys: target_false_block_rate, rule, split (name, sha256, n_items), layers."""
        return {
            "target_false_block_rate": self.target_false_block_rate,
            "rule": "block when score > threshold; threshold = lowest value at which at most "
            "floor(target x n) calibration items are blocked",
            "split": {
                "name": self.split_name,
                "sha256": self.split_sha256,
                "n_items": self.n_items,
            },
            "layers": [entry.to_dict() for entry in self.layers],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CalibrationPlan:
        """Rebuild a plan recorded in a manifest (to resume a run at the same operating points)."""
        split = data.get("split", {})
        return cls(
            target_false_block_rate=float(data["target_false_block_rate"]),
            split_name=str(split.get("name", "")),
            split_sha256=str(split.get("sha256", "")),
            n_items=int(split.get("n_items", 0)),
            layers=tuple(LayerCalibration(**entry) for entry in data.get("layers", [])),
        )


class CalibratedLayer:
    """A layer run at a calibrated threshold on its own score (``score > threshold`` blocks).

    Everything else (name, availability, secrets, closing) is the inner layer's.
    An item the inner layer scores not at all becomes an error: there is nothing
    to compare with the threshold, and its native decision belongs to another
    operating point.
    """

    def __init__(self, inner: Layer, *, threshold: float, plan: CalibrationPlan) -> None:
        self.inner = inner
        self.name = inner.name
        self.kind = getattr(inner, "kind", None) or inner.config().get("kind")
        self.threshold = float(threshold)
        self.plan = plan

    def config(self) -> dict[str, Any]:
        return {
            **self.inner.config(),
            "operating_point": {
                "threshold": self.threshold,
                "rule": "score > threshold",
                "target_false_block_rate": self.plan.target_false_block_rate,
                "calibration_split_sha256": self.plan.split_sha256,
            },
        }

    def unavailable_reason(self) -> str | None:
        return self.inner.unavailable_reason()

    def secrets(self) -> list[str]:
        method = getattr(self.inner, "secrets", None)
        return list(method()) if callable(method) else []

    def check(self, items: Sequence[Item]) -> list[Verdict]:
        out = []
        for verdict in self.inner.check(items):
            if verdict.error is not None or verdict.blocked is None:
                out.append(verdict)
                continue
            if verdict.score is None or not math.isfinite(verdict.score):
                out.append(
                    Verdict(
                        None,
                        latency_ms=verdict.latency_ms,
                        error="no score to compare with the calibrated threshold",
                        detail=dict(verdict.detail),
                    )
                )
                continue
            out.append(
                Verdict(
                    blocked=verdict.score > self.threshold,
                    score=verdict.score,
                    latency_ms=verdict.latency_ms,
                    detail={
                        **verdict.detail,
                        "native_blocked": verdict.blocked,
                        "threshold": self.threshold,
                    },
                )
            )
        return out

    def close(self) -> None:
        self.inner.close()


def _verdicts(
    layer: Layer, items: Sequence[Item], cache: VerdictCache | None, batch_size: int
) -> list[Verdict]:
    """The inner layer's verdicts on the calibration items, through the verdict cache."""
    key = config_hash(layer.config())
    known = cache.lookup(layer.name, key, items) if cache is not None else {}
    todo = [item for item in items if item.item_id not in known]
    for start in range(0, len(todo), batch_size):
        batch = todo[start : start + batch_size]
        try:
            verdicts = list(layer.check(batch))
        except Exception as error:  # a failing layer keeps its native rule; the run reports it
            verdicts = [Verdict(None, error=f"{type(error).__name__}") for _ in batch]
        if len(verdicts) != len(batch):
            verdicts = [Verdict(None, error="wrong number of verdicts") for _ in batch]
        if cache is not None:
            cache.store(layer.name, key, list(zip(batch, verdicts, strict=True)))
        known.update({item.item_id: v for item, v in zip(batch, verdicts, strict=True)})
    return [known[item.item_id] for item in items]


def calibrate_layers(
    layers: Sequence[Layer],
    items: Sequence[Item],
    *,
    target_false_block_rate: float = DEFAULT_TARGET_FALSE_BLOCK_RATE,
    split_name: str = "calibration",
    cache: VerdictCache | None = None,
    batch_size: int = 64,
) -> tuple[list[Layer], CalibrationPlan]:
    """Run each available layer on benign ``items``; wrap the scored ones at the target rate.

    Returns the layers to run (calibrated ones wrapped in :class:`CalibratedLayer`,
    others unchanged) and the :class:`CalibrationPlan` recording every decision.
    Unavailable layers are left for the runner to report.
    """
    if not 0.0 <= target_false_block_rate < 1.0:
        raise ValueError("target_false_block_rate must lie in [0, 1)")
    if not items:
        raise ValueError("the calibration split is empty")
    if any(item.harmful for item in items):
        raise ValueError("calibration items must all be benign")
    entries: list[LayerCalibration] = []
    chosen: dict[str, float] = {}
    for layer in layers:
        if layer.unavailable_reason() is not None:
            entries.append(
                LayerCalibration(
                    layer.name, "native", None, len(items), 0, None, None, "layer unavailable"
                )
            )
            continue
        verdicts = _verdicts(layer, items, cache, batch_size)
        decided = [v for v in verdicts if v.blocked is not None]
        native = sum(bool(v.blocked) for v in decided) / len(decided) if decided else None
        scores = [
            float(v.score) for v in decided if v.score is not None and math.isfinite(float(v.score))
        ]
        if len(scores) < MIN_SCORED_SHARE * len(items):
            reason = (
                "gives no score" if not scores else f"scored only {len(scores)} of {len(items)}"
            )
            entries.append(
                LayerCalibration(
                    layer.name, "native", None, len(items), len(scores), native, None, reason
                )
            )
            continue
        threshold = threshold_for_rate(scores, target_false_block_rate)
        achieved = sum(s > threshold for s in scores) / len(scores)
        chosen[layer.name] = threshold
        entries.append(
            LayerCalibration(
                layer.name, "calibrated", threshold, len(items), len(scores), native, achieved
            )
        )
    plan = CalibrationPlan(
        target_false_block_rate=target_false_block_rate,
        split_name=split_name,
        split_sha256=items_sha256(items),
        n_items=len(items),
        layers=tuple(entries),
    )
    return apply_plan(layers, plan), plan


def apply_plan(layers: Sequence[Layer], plan: CalibrationPlan) -> list[Layer]:
    """The layers at the plan's operating points (used again when a run resumes)."""
    out: list[Layer] = []
    for layer in layers:
        threshold = plan.threshold_of(layer.name)
        out.append(
            layer if threshold is None else CalibratedLayer(layer, threshold=threshold, plan=plan)
        )
    return out
