"""Every attack query goes through here: layers, verdict cache, attack store.

A query is one candidate text for one behavior, shown to some layers. The engine

1. answers it from the attack store when this search already stored it (a resumed
   attack), after checking that the regenerated text has the stored SHA-256;
2. otherwise asks the shared verdict cache (keyed by layer, config hash, role and
   text SHA-256, the same cache ``ddrisk stress run`` fills);
3. otherwise calls the layer, in one batch per layer;
4. commits the verdicts of the whole batch (and, when given, the search outcome)
   in one transaction.

Layers have a *side*. ``input`` layers judge the prompt. With a target model in
the loop, the ``model`` layer answers the prompt (its verdict: blocked when it
refused) and ``output`` layers judge that answer (as an ``assistant`` item). An
output layer without an answer to judge gets an error verdict, never a pass.

A layer that raises or returns the wrong number of verdicts gives error verdicts
for that batch; errors are never cached, never a pass and never a block.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ddrisk._hashing import text_sha256
from ddrisk.errors import InputError
from ddrisk.stress.attack.store import AttackRecord, OutcomeRow
from ddrisk.stress.layer import Item, Layer, Verdict
from ddrisk.stress.store import VerdictCache

SIDES = ("input", "model", "output")


@dataclass(frozen=True)
class Query:
    """One candidate: its position in the search, the operator chain that built it, its text."""

    index: int
    chain: tuple[str, ...]
    text: str

    @property
    def text_sha256(self) -> str:
        return text_sha256(self.text)


def checked(layer: Layer, items: Sequence[Item]) -> list[Verdict]:
    """``layer.check(items)``, turning exceptions and malformed answers into error verdicts."""
    if not items:
        return []
    try:
        verdicts = list(layer.check(items))
    except Exception as error:  # a broken layer must cost its batch, not the attack
        message = f"{type(error).__name__}: {error}"[:500]
        return [Verdict(None, error=message) for _ in items]
    if len(verdicts) != len(items):
        message = f"layer returned {len(verdicts)} verdicts for {len(items)} items"
        return [Verdict(None, error=message) for _ in items]
    if not all(isinstance(v, Verdict) for v in verdicts):
        return [
            Verdict(None, error="layer returned something other than Verdict objects")
            for _ in items
        ]
    return verdicts


class QueryEngine:
    """Answers queries for the search, the replays and the static baseline."""

    def __init__(
        self,
        record: AttackRecord,
        layers: Sequence[Layer],
        *,
        sides: Mapping[str, str],
        config_hashes: Mapping[str, str],
        cache: VerdictCache | None,
    ) -> None:
        self.record = record
        self.layers = {layer.name: layer for layer in layers}
        self.sides = dict(sides)
        self.config_hashes = dict(config_hashes)
        self.cache = cache
        self.model_name = next((n for n, s in self.sides.items() if s == "model"), None)
        self.n_layer_calls = 0
        self.n_computed = 0
        self.n_cached = 0
        self.n_stored = 0

    def evaluate(
        self,
        phase: str,
        target: str,
        layer_names: Sequence[str],
        requests: Sequence[tuple[Item, Query]],
        *,
        outcomes: Sequence[OutcomeRow] = (),
    ) -> list[dict[str, Verdict]]:
        """Verdicts of ``layer_names`` for each ``(behavior, query)``, stored before returning."""
        if not requests:
            for outcome in outcomes:
                self.record.record_outcome(outcome)
            return []
        items = {item.item_id for item, _ in requests}
        stored = self.record.stored_queries(
            phase, target, next(iter(items)) if len(items) == 1 else None
        )
        results: list[dict[str, Verdict]] = [{} for _ in requests]
        for position, (item, query) in enumerate(requests):
            rows = stored.get((item.item_id, query.index), [])
            if rows and rows[0].text_sha256 != query.text_sha256:
                raise InputError(
                    str(self.record.path),
                    f"{phase}/{target}/{item.item_id} query {query.index}",
                    "the regenerated attack text differs from the stored one (operators, data "
                    "or seed changed since the attack started)",
                    "resume with the same ddrisk version, operators and data, or start a new attack",
                )
            for row in rows:
                results[position][row.layer] = row.verdict
        self.n_stored += sum(1 for r in results for name in layer_names if name in r)
        # Which (request, layer) cells are still missing, by side: models before output layers.
        needed = set(layer_names)
        if self.model_name is not None and any(self.sides[n] == "output" for n in needed):
            needed.add(self.model_name)
        new_rows: list[tuple[str, str, str, int, Sequence[str], str, str, Verdict, bool]] = []
        for side in SIDES:
            for name in [n for n in self.layers if n in needed and self.sides[n] == side]:
                missing = [k for k in range(len(requests)) if name not in results[k]]
                if not missing:
                    continue
                verdicts, cached = self._compute(
                    name, [requests[k] for k in missing], results, missing
                )
                for k, verdict, was_cached in zip(missing, verdicts, cached, strict=True):
                    results[k][name] = verdict
                    item, query = requests[k]
                    if name in layer_names or side == "model":
                        new_rows.append(
                            (
                                phase,
                                target,
                                item.item_id,
                                query.index,
                                query.chain,
                                query.text_sha256,
                                name,
                                _storable(verdict),
                                was_cached,
                            )
                        )
        if new_rows or outcomes:
            self.record.record_queries(new_rows, outcomes=outcomes)
        return [{name: r[name] for name in layer_names} for r in results]

    def _compute(
        self,
        name: str,
        requests: Sequence[tuple[Item, Query]],
        results: Sequence[dict[str, Verdict]],
        positions: Sequence[int],
    ) -> tuple[list[Verdict], list[bool]]:
        side = self.sides[name]
        layer = self.layers[name]
        verdicts: list[Verdict | None] = [None] * len(requests)
        items: list[Item | None] = []
        for k, (item, query) in enumerate(requests):
            text: str = query.text
            role: Literal["user", "assistant"] = "user"
            if side == "output":
                model_verdict = results[positions[k]].get(str(self.model_name))
                answer = None if model_verdict is None else model_verdict.detail.get("answer")
                if not isinstance(answer, str):
                    verdicts[k] = Verdict(None, error="no model answer to judge")
                    items.append(None)
                    continue
                text, role = answer, "assistant"
            items.append(
                Item(
                    f"{item.item_id}#{query.index}", text, item.family, item.behavior_id, True, role
                )
            )
        live = [(k, it) for k, it in enumerate(items) if it is not None]
        cached_flags = [False] * len(requests)
        hits: dict[str, Verdict] = {}
        if self.cache is not None and live:
            hits = self.cache.lookup(name, self.config_hashes[name], [it for _, it in live])
        to_compute = [(k, it) for k, it in live if it.item_id not in hits]
        for k, it in live:
            if it.item_id in hits:
                verdicts[k] = hits[it.item_id]
                cached_flags[k] = True
        self.n_cached += len(live) - len(to_compute)
        if to_compute:
            self.n_layer_calls += 1
            fresh = checked(layer, [it for _, it in to_compute])
            self.n_computed += len(to_compute)
            for (k, _), verdict in zip(to_compute, fresh, strict=True):
                verdicts[k] = verdict
            if self.cache is not None:
                self.cache.store(
                    name,
                    self.config_hashes[name],
                    [(it, v) for (_, it), v in zip(to_compute, fresh, strict=True)],
                )
        return [
            v if v is not None else Verdict(None, error="not evaluated") for v in verdicts
        ], cached_flags


def _storable(verdict: Verdict) -> Verdict:
    """The verdict as stored: bounded detail (a model's answer is kept whole up to 8000 chars)."""
    detail: dict[str, Any] = {}
    for key, value in verdict.detail.items():
        if isinstance(value, str) and len(value) > 8000:
            value = value[:8000]
        detail[key] = value
    return Verdict(verdict.blocked, verdict.score, verdict.latency_ms, verdict.error, detail)
