"""Run an adaptive attack experiment: static baseline, per-layer searches, transfer, stack.

Phases, in order (each resumable, each stored as it goes):

``static``
    every layer judges every behavior's original prompt (the static miss rates,
    computed here on exactly the attacked behaviors);
``search``, target = one layer
    for each layer alone, a search per behavior for a prompt that layer passes;
``transfer``, target = the layer the attack was found against
    every attack found against layer A is replayed on every other layer B;
``search``, target = :data:`STACK_TARGET`
    a search per behavior for a prompt that *every* layer passes (a master key).

:func:`prepare_attack` writes the attack folder (behaviors, layers, manifest);
:func:`execute_attack` fills it and is also what resuming calls: completed
searches are skipped, stored queries are replayed from the store, and only the
missing ones reach a layer.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ddrisk.errors import InputError
from ddrisk.stress.attack.engine import Query, QueryEngine
from ddrisk.stress.attack.operators import Operator
from ddrisk.stress.attack.search import STRATEGIES, Evaluated, SearchSettings
from ddrisk.stress.attack.store import AttackRecord, AttackStore, OutcomeRow
from ddrisk.stress.items import StressDataset
from ddrisk.stress.layer import Item, Layer, config_hash
from ddrisk.stress.store import VerdictCache

STACK_TARGET = "__stack__"
STATIC_TARGET = "__original__"
ATTACK_FORMAT = "ddrisk.stress.attack/1"


class Progress(Protocol):
    """What the runner reports progress to (the CLI passes rich bars; default: nothing)."""

    def add(self, name: str, total: int, done: int) -> None: ...

    def advance(self, name: str, n: int = 1) -> None: ...


class _NoProgress:
    def add(self, name: str, total: int, done: int) -> None:
        pass

    def advance(self, name: str, n: int = 1) -> None:
        pass


@dataclass(frozen=True)
class AttackPlan:
    """What to attack and how hard: search settings, seed, operators, which targets."""

    settings: SearchSettings
    operators: tuple[Operator, ...]
    seed: int = 0
    per_layer: bool = True
    stack: bool = True

    def __post_init__(self) -> None:
        if not self.operators:
            raise ValueError("an attack needs at least one operator")
        names = [op.name for op in self.operators]
        if len(set(names)) != len(names):
            raise ValueError("operator names must be unique")

    def to_dict(self) -> dict[str, Any]:
        return {
            "settings": self.settings.to_dict(),
            "seed": self.seed,
            "per_layer": self.per_layer,
            "stack": self.stack,
            "operators": [op.to_dict() for op in self.operators],
        }


@dataclass(frozen=True)
class AttackRunResult:
    """One ``run``/``resume`` invocation; the queries themselves live in the attack store."""

    attack_id: str
    attack_dir: Path
    resumed: bool
    wall_s: float
    n_behaviors: int
    layers: tuple[str, ...]
    unavailable: Mapping[str, str | None]
    n_computed: int
    n_cached: int
    n_replayed: int

    def to_dict(self) -> dict[str, Any]:
        """Keys: attack_id, attack_dir, resumed, wall_s, n_behaviors, layers, unavailable_layers,
        verdicts_computed, verdicts_cached, verdicts_replayed_from_store."""
        return {
            "attack_id": self.attack_id,
            "attack_dir": str(self.attack_dir),
            "resumed": self.resumed,
            "wall_s": round(self.wall_s, 3),
            "n_behaviors": self.n_behaviors,
            "layers": list(self.layers),
            "unavailable_layers": dict(self.unavailable),
            "verdicts_computed": self.n_computed,
            "verdicts_cached": self.n_cached,
            "verdicts_replayed_from_store": self.n_replayed,
        }


def harmful_behaviors(
    dataset: StressDataset, *, families: Sequence[str] | None = None
) -> list[Item]:
    """The harmful items of a dataset (optionally of some families) as behaviors to attack."""
    chosen = [
        item
        for item in dataset.items
        if item.harmful and (families is None or item.family in families)
    ]
    if not chosen:
        raise InputError(
            dataset.name,
            None,
            "no harmful items to attack" + (f" in families {list(families)}" if families else ""),
            "give items labelled harmful",
        )
    return chosen


def prepare_attack(
    *,
    dataset: StressDataset,
    behaviors: Sequence[Item],
    layers: Sequence[Layer],
    sides: Mapping[str, str],
    layer_specs: list[dict[str, Any]],
    plan: AttackPlan,
    store: AttackStore,
    extra_manifest: Mapping[str, Any] | None = None,
    argv: Sequence[str] | None = None,
) -> Path:
    """Create an attack folder (behaviors, layers, manifest) without querying anything."""
    from ddrisk.stress.runner import RunOptions, build_manifest, describe_layers

    records = describe_layers(layers)
    manifest = build_manifest(
        dataset=dataset,
        records=records,
        seed=plan.seed,
        limit=len(behaviors),
        options=RunOptions(),
        argv=argv,
    )
    manifest.pop("options", None)
    manifest["format"] = ATTACK_FORMAT
    manifest["attack"] = {
        **plan.to_dict(),
        "n_behaviors": len(behaviors),
        "behaviors_sha256": hashlib.sha256(
            json.dumps([[b.item_id, b.behavior_id, b.text_sha256] for b in behaviors]).encode()
        ).hexdigest(),
        "sides": {r.name: sides.get(r.name, "input") for r in records},
        **(dict(extra_manifest or {})),
    }
    record = AttackRecord.create(
        store.new_attack_dir(),
        behaviors=behaviors,
        layers=[(r, sides.get(r.name, "input")) for r in records],
        manifest=manifest,
        layer_specs=layer_specs,
    )
    record.close()
    return record.path


def check_resumable(record: AttackRecord, layers: Sequence[Layer], plan: AttackPlan) -> None:
    """Refuse to resume with different layers, layer configurations or operators."""
    stored = {r.name: r for r, _ in record.layers()}
    given = {layer.name: layer for layer in layers}
    if set(stored) != set(given):
        raise InputError(
            str(record.path),
            "layers",
            f"the attack used layers {sorted(stored)}, not {sorted(given)}",
            "resume with the layers the attack started with",
        )
    for name, rec in stored.items():
        if rec.status == "available" and config_hash(given[name].config()) != rec.config_hash:
            raise InputError(
                str(record.path),
                f"layer '{name}'",
                "its configuration changed since the attack started",
                "restore the original layers, or start a new attack",
            )
    stored_plan = record.manifest.get("attack", {})
    now = json.loads(json.dumps(plan.to_dict(), default=str))
    for key in ("settings", "seed", "operators", "per_layer", "stack"):
        if stored_plan.get(key) != now[key]:
            raise InputError(
                str(record.path),
                f"attack.{key}",
                "differs from the attack's stored plan",
                "resume with the same operators, budget and seed (or start a new attack)",
            )


def execute_attack(
    attack_dir: Path,
    *,
    layers: Sequence[Layer],
    plan: AttackPlan,
    store: AttackStore,
    use_cache: bool = True,
    progress: Progress | None = None,
    resumed: bool = False,
) -> AttackRunResult:
    """Fill every missing query of an attack (a new one, or one that was interrupted)."""
    start = time.perf_counter()
    progress = progress or _NoProgress()
    record = AttackRecord(attack_dir)
    cache = VerdictCache(store.cache_dir / "verdicts.sqlite") if use_cache else None
    try:
        check_resumable(record, layers, plan)
        layer_rows = record.layers()
        sides = {r.name: side for r, side in layer_rows}
        available = [r.name for r, _ in layer_rows if r.status == "available"]
        hashes = {r.name: r.config_hash for r, _ in layer_rows}
        by_name = {layer.name: layer for layer in layers}
        engine = QueryEngine(
            record,
            [by_name[n] for n in available],
            sides={n: sides[n] for n in available},
            config_hashes=hashes,
            cache=cache,
        )
        behaviors = record.behaviors()
        if available:
            _run_phases(engine, record, behaviors, available, plan, progress)
        result = AttackRunResult(
            attack_id=record.attack_id,
            attack_dir=record.path,
            resumed=resumed,
            wall_s=time.perf_counter() - start,
            n_behaviors=len(behaviors),
            layers=tuple(available),
            unavailable={r.name: r.reason for r, _ in layer_rows if r.status != "available"},
            n_computed=engine.n_computed,
            n_cached=engine.n_cached,
            n_replayed=engine.n_stored,
        )
        record.export_jsonl()
        record.mark_complete(result.to_dict())
        return result
    finally:
        for layer in layers:
            with contextlib.suppress(Exception):
                layer.close()
        record.close()
        if cache is not None:
            cache.close()


def _run_phases(
    engine: QueryEngine,
    record: AttackRecord,
    behaviors: Sequence[Item],
    available: Sequence[str],
    plan: AttackPlan,
    progress: Progress,
) -> None:
    n = len(behaviors)
    progress.add("original prompts", n, 0)
    for start in range(0, n, 64):
        chunk = behaviors[start : start + 64]
        engine.evaluate(
            "static", STATIC_TARGET, available, [(item, Query(0, (), item.text)) for item in chunk]
        )
        progress.advance("original prompts", len(chunk))
    targets: list[tuple[str, list[str]]] = []
    if plan.per_layer:
        targets += [(name, [name]) for name in available]
    for target, names in targets:
        _search_all(engine, record, behaviors, target, names, plan, progress, f"vs {target}")
    if plan.per_layer and len(available) > 1:
        progress.add("transfer replay", len(available), 0)
        for source in available:
            found = [
                (item, outcome)
                for item in behaviors
                if (outcome := record.outcome("search", source, item.item_id)) is not None
                and outcome.status == "found"
            ]
            others = [name for name in available if name != source]
            requests = [
                (item, Query(0, tuple(outcome.chain or ()), str(outcome.text)))
                for item, outcome in found
            ]
            for start in range(0, len(requests), 64):
                engine.evaluate("transfer", source, others, requests[start : start + 64])
            progress.advance("transfer replay", 1)
    if plan.stack:
        _search_all(
            engine, record, behaviors, STACK_TARGET, list(available), plan, progress, "vs stack"
        )


def _search_all(
    engine: QueryEngine,
    record: AttackRecord,
    behaviors: Sequence[Item],
    target: str,
    names: list[str],
    plan: AttackPlan,
    progress: Progress,
    label: str,
) -> None:
    strategy = STRATEGIES[plan.settings.strategy]
    pending = [item for item in behaviors if record.outcome("search", target, item.item_id) is None]
    progress.add(label, len(behaviors), len(behaviors) - len(pending))
    for item in pending:

        def evaluate(queries: Sequence[Query], item: Item = item) -> list[Evaluated]:
            verdicts = engine.evaluate("search", target, names, [(item, q) for q in queries])
            return [Evaluated(q, v) for q, v in zip(queries, verdicts, strict=True)]

        outcome = strategy.search(
            item.text,
            operators=plan.operators,
            seed=plan.seed,
            settings=plan.settings,
            evaluate=evaluate,
        )
        record.record_outcome(
            OutcomeRow(
                "search",
                target,
                item.item_id,
                outcome.status,
                outcome.queries_used,
                outcome.first_success,
                outcome.chain,
                outcome.text,
            )
        )
        progress.advance(label, 1)
