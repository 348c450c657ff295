"""Read a stored attack into an :class:`~ddrisk.stress.attack.statistics.AttackData`.

The one place that turns the attack store's rows into the arrays the statistics
use, so the CLI, the report and the API analyse an attack the same way.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ddrisk.stress.attack.experiment import STACK_TARGET, STATIC_TARGET
from ddrisk.stress.attack.statistics import AttackData
from ddrisk.stress.attack.store import AttackRecord, AttackStore


def _value(blocked: bool | None, error: str | None) -> float:
    if error is not None or blocked is None:
        return np.nan
    return 0.0 if blocked else 1.0


def attack_data(record: AttackRecord) -> AttackData:
    """The measurements of one attack (complete or not) as arrays over behaviors and layers."""
    manifest = record.manifest
    plan = manifest.get("attack", {})
    behaviors = record.behaviors()
    layers = tuple(r.name for r, _ in record.layers() if r.status == "available")
    row_of = {b.item_id: i for i, b in enumerate(behaviors)}
    col_of = {name: j for j, name in enumerate(layers)}
    n, L = len(behaviors), len(layers)
    static = np.full((n, L), np.nan)
    found = np.full((n, L), np.nan)
    first = np.full((n, L), np.nan)
    transfer = np.full((n, L, L), np.nan)
    stack_found = np.full(n, np.nan)
    stack_first = np.full(n, np.nan)
    chains: list[list[tuple[str, ...] | None]] = [[None] * n for _ in range(L)]
    stack_chains: list[tuple[str, ...] | None] = [None] * n
    for row in record.query_rows():
        i = row_of.get(row.item_id)
        j = col_of.get(row.layer)
        if i is None or j is None:
            continue
        value = _value(row.verdict.blocked, row.verdict.error)
        if row.phase == "static" and row.target == STATIC_TARGET:
            static[i, j] = value
        elif row.phase == "transfer" and row.target in col_of:
            transfer[i, col_of[row.target], j] = value
    for outcome in record.outcomes():
        i = row_of.get(outcome.item_id)
        if i is None or outcome.phase != "search":
            continue
        hit = outcome.status == "found"
        if outcome.target == STACK_TARGET:
            stack_found[i] = float(hit)
            stack_first[i] = (
                float(outcome.first_success) if hit and outcome.first_success else np.nan
            )
            stack_chains[i] = outcome.chain if hit else None
        elif outcome.target in col_of:
            j = col_of[outcome.target]
            found[i, j] = float(hit)
            first[i, j] = float(outcome.first_success) if hit and outcome.first_success else np.nan
            chains[j][i] = outcome.chain if hit else None
    operators = plan.get("operators", [])
    return AttackData(
        attack_id=record.attack_id,
        behaviors=pd.DataFrame(
            {
                "item_id": [b.item_id for b in behaviors],
                "behavior_id": [b.behavior_id or b.item_id for b in behaviors],
                "family": [b.family for b in behaviors],
            }
        ),
        layers=layers,
        static=static,
        found=found,
        first=first,
        chains=tuple(tuple(row) for row in chains),
        transfer=transfer,
        stack_found=stack_found,
        stack_first=stack_first,
        stack_chains=tuple(stack_chains),
        budget=int(plan.get("settings", {}).get("budget", 1)),
        seed=int(plan.get("seed", 0)),
        settings={**plan.get("settings", {}), "operators": [op["name"] for op in operators]},
        operator_categories={op["name"]: op["category"] for op in operators},
        manifest=manifest,
    )


def load_attack_data(attack: str | Path, *, runs_dir: Path | str = "ddrisk-runs") -> AttackData:
    """The :class:`AttackData` of a stored attack (a folder, an attack id, or ``latest``)."""
    record = AttackRecord(AttackStore(runs_dir).resolve(attack))
    try:
        return attack_data(record)
    finally:
        record.close()
