"""The item x layer outcome matrix every stress-test analysis consumes.

Whatever produced the verdicts (ddrisk's runner, a garak report, a promptfoo or
inspect log), they become one :class:`OutcomeMatrix`: per item its family,
behavior and label; per item and layer whether the layer blocked, its score and
any error. An error is kept apart from pass/block: it is neither.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

ITEM_COLUMNS = ("item_id", "family", "behavior_id", "harmful")


@dataclass(frozen=True)
class OutcomeMatrix:
    """Items (rows) x layers (columns).

    ``blocked`` is float: 1.0 blocked, 0.0 passed, NaN when the layer errored or
    did not run on the item. ``score`` is NaN where the layer gives none.
    ``errors`` holds the error text (or ``None``) per cell.
    """

    items: pd.DataFrame  # columns ITEM_COLUMNS (+ optional "text_sha256", "text")
    layers: tuple[str, ...]
    blocked: np.ndarray  # (n_items, n_layers) float
    score: np.ndarray  # (n_items, n_layers) float
    errors: np.ndarray  # (n_items, n_layers) object
    source: str = "ddrisk"
    metadata: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        missing = [c for c in ITEM_COLUMNS if c not in self.items.columns]
        if missing:
            raise ValueError(f"items table lacks columns {missing}")
        shape = (len(self.items), len(self.layers))
        for name in ("blocked", "score", "errors"):
            if getattr(self, name).shape != shape:
                raise ValueError(f"{name} must have shape {shape}, got {getattr(self, name).shape}")

    @property
    def harmful(self) -> np.ndarray:
        return self.items["harmful"].to_numpy(dtype=bool)

    def failures(self) -> np.ndarray:
        """1.0 where the layer failed (missed a harmful item or blocked a benign one), NaN on error."""
        harmful = self.harmful[:, None]
        return np.where(
            np.isnan(self.blocked), np.nan, np.where(harmful, 1.0 - self.blocked, self.blocked)
        )

    def select_layers(self, layers: list[str]) -> OutcomeMatrix:
        index = [self.layers.index(layer) for layer in layers]
        return OutcomeMatrix(
            items=self.items,
            layers=tuple(layers),
            blocked=self.blocked[:, index],
            score=self.score[:, index],
            errors=self.errors[:, index],
            source=self.source,
            metadata=self.metadata,
        )

    def select_items(self, mask: np.ndarray) -> OutcomeMatrix:
        return OutcomeMatrix(
            items=self.items.loc[mask].reset_index(drop=True),
            layers=self.layers,
            blocked=self.blocked[mask],
            score=self.score[mask],
            errors=self.errors[mask],
            source=self.source,
            metadata=self.metadata,
        )

    def to_frame(self) -> pd.DataFrame:
        """Long form: one row per item x layer."""
        rows = []
        for column, layer in enumerate(self.layers):
            part = self.items.copy()
            part["layer"] = layer
            part["blocked"] = self.blocked[:, column]
            part["score"] = self.score[:, column]
            part["error"] = self.errors[:, column]
            rows.append(part)
        return pd.concat(rows, ignore_index=True)
