"""The typed, frozen result of a stress analysis."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ddrisk.__version__ import __version__
from ddrisk._jsonnum import json_ready
from ddrisk.stress.statistics._core import MODEL_NAME, _records

#: Schema id of :meth:`StressAnalysis.to_dict` (bump on an incompatible change).
ANALYSIS_FORMAT = "ddrisk.stress.analysis/1"

TABLES = (
    "layers",
    "pairs",
    "stack_by_family",
    "k_of_n",
    "benign_by_family",
    "master_keys",
    "marginal_value",
    "family_miss",
    "resistance",
)


@dataclass(frozen=True)
class StressAnalysis:
    """Every statistic of one stress run, with the parameters and input that produced it.

    ``to_dict()`` keys (stable): ``format`` (:data:`ANALYSIS_FORMAT`), ``ddrisk_version``,
    ``model``, ``parameters``, ``input``, ``layers``,
    ``pairs``, ``stack``, ``stack_by_family``, ``k_of_n``, ``benign_stack``,
    ``benign_by_family``, ``master_keys``, ``marginal_value``, ``family_miss``,
    ``alignment_metrics`` (``refusal``, ``false_refusal``, ``jailbreak_resistance``) and
    ``warnings``. Tables are lists of row dicts whose keys are the columns of the
    matching ``to_frame(name)``; NaN becomes ``null``.
    """

    parameters: dict[str, Any]
    input: dict[str, Any]
    layers: pd.DataFrame
    pairs: pd.DataFrame
    stack: dict[str, Any]
    stack_by_family: pd.DataFrame
    k_of_n: pd.DataFrame
    benign_stack: dict[str, Any]
    benign_by_family: pd.DataFrame
    master_keys: pd.DataFrame
    marginal_value: pd.DataFrame
    family_miss: pd.DataFrame
    resistance: pd.DataFrame
    warnings: list[dict[str, str]] = field(default_factory=list)
    model: str = MODEL_NAME

    def to_frame(self, name: str = "layers") -> pd.DataFrame:
        """One result table as a DataFrame; ``name`` is one of :data:`TABLES`."""
        if name not in TABLES:
            raise ValueError(f"unknown table {name!r}; choose one of {', '.join(TABLES)}")
        return getattr(self, name).copy()

    def frames(self) -> dict[str, pd.DataFrame]:
        return {name: self.to_frame(name) for name in TABLES}

    def alignment_metrics(self) -> dict[str, Any]:
        """Refusal rate, false refusal rate and jailbreak resistance per attack family."""
        layer_rows = _records(
            self.layers[
                [
                    "layer",
                    "miss_n",
                    "refusal_k",
                    "refusal_rate",
                    "refusal_lo",
                    "refusal_hi",
                    "false_block_k",
                    "false_block_n",
                    "false_block_rate",
                    "false_block_lo",
                    "false_block_hi",
                ]
            ]
        )
        stack_refusal = self.stack.get("refusal", {})
        stack_false = self.benign_stack.get("any_block", {})
        return {
            "refusal": {
                "definition": "share of harmful items blocked (1 - miss rate)",
                "layers": [
                    {
                        "layer": r["layer"],
                        "k": r["refusal_k"],
                        "n": r["miss_n"],
                        "rate": r["refusal_rate"],
                        "lo": r["refusal_lo"],
                        "hi": r["refusal_hi"],
                    }
                    for r in layer_rows
                ],
                "stack": stack_refusal,
            },
            "false_refusal": {
                "definition": "share of benign items blocked",
                "layers": [
                    {
                        "layer": r["layer"],
                        "k": r["false_block_k"],
                        "n": r["false_block_n"],
                        "rate": r["false_block_rate"],
                        "lo": r["false_block_lo"],
                        "hi": r["false_block_hi"],
                    }
                    for r in layer_rows
                ],
                "stack": stack_false,
            },
            "jailbreak_resistance": {
                "definition": "per attack family, share of harmful items blocked "
                "(per layer: 1 - miss rate; stack: blocked by at least one layer)",
                "rows": _records(self.resistance),
            },
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": ANALYSIS_FORMAT,
            "ddrisk_version": __version__,
            "model": self.model,
            "parameters": json_ready(self.parameters),
            "input": json_ready(self.input),
            "layers": _records(self.layers),
            "pairs": _records(self.pairs),
            "stack": json_ready(self.stack),
            "stack_by_family": _records(self.stack_by_family),
            "k_of_n": _records(self.k_of_n),
            "benign_stack": json_ready(self.benign_stack),
            "benign_by_family": _records(self.benign_by_family),
            "master_keys": _records(self.master_keys),
            "marginal_value": _records(self.marginal_value),
            "family_miss": _records(self.family_miss),
            "alignment_metrics": json_ready(self.alignment_metrics()),
            "warnings": list(self.warnings),
        }
