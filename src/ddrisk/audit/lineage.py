"""Shared lineage becomes shared failure modes.

Two layers fine-tuned from one base model, trained on one data set or judged by one rater
pool inherit the same blind spots: when the shared ancestor fails on something, each of
them can fail on it too. The audit models each lineage item that two or more layers share
as a failure mode of its own ("shared base model llama-3.1-8b"), so the common-cause model
counts it like any other mode, and it keeps the attribution: which item, which layers, and
through which chain (a guard model derived from the product's base model shares it).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

from ddrisk.audit.stack import LINEAGE_KINDS, StackFile

# Which generic catalog mode a concrete lineage kind refines (replaced in the audit).
GENERIC_MODE = {
    "base_model": "SHARED-BASE",
    "provider": "SHARED-BASE",
    "training_pipeline": "SHARED-DATA",
    "training_data": "SHARED-DATA",
    "evaluator_pool": "HUM-EVAL",
}
REPLACED_GENERIC = ("SHARED-BASE", "SHARED-DATA")
_KIND_TAG = {
    "base_model": "MODEL",
    "provider": "PROVIDER",
    "training_pipeline": "PIPELINE",
    "training_data": "DATA",
    "evaluator_pool": "RATERS",
}
_KIND_WORDS = {
    "base_model": "base model",
    "provider": "provider",
    "training_pipeline": "training pipeline",
    "training_data": "training data",
    "evaluator_pool": "evaluator pool",
}
_REGISTRY_FIELD = {
    "base_model": "models",
    "provider": "providers",
    "training_pipeline": "training_pipelines",
    "training_data": "training_data",
    "evaluator_pool": "evaluator_pools",
}

Problem = tuple[tuple[Any, ...], str, str]


@dataclass(frozen=True)
class SharedMode:
    """A failure mode created because several layers share one lineage item."""

    id: str
    kind: str
    entity: str
    layers: tuple[str, ...]
    via: dict[str, str]  # layer -> how it comes to depend on the entity
    generic_mode: str

    @property
    def name(self) -> str:
        return f"Shared {_KIND_WORDS[self.kind]} {self.entity}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "entity": self.entity,
            "layers": list(self.layers),
            "via": dict(self.via),
            "refines": self.generic_mode,
        }


def _suggest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'? (declared: {', '.join(known) or 'none'})"
    return f"declare it under lineage.{{kind}} or use one of: {', '.join(known) or 'none declared'}"


def lineage_problems(stack: StackFile) -> list[Problem]:
    """Undeclared names (typos) and derived_from cycles, each with its key path."""
    registry = stack.lineage
    problems: list[Problem] = []

    def check(name: str, kind: str, path: tuple[Any, ...]) -> None:
        field = _REGISTRY_FIELD[kind]
        known = sorted(getattr(registry, field))
        if name not in known:
            problems.append(
                (
                    path,
                    f"{_KIND_WORDS[kind]} '{name}' is not declared under lineage.{field}",
                    _suggest(name, known).replace("{kind}", field),
                )
            )

    for model_name, entry in registry.models.items():
        base = ("lineage", "models", model_name)
        if entry.derived_from is not None:
            check(entry.derived_from, "base_model", (*base, "derived_from"))
        if entry.provider is not None:
            check(entry.provider, "provider", (*base, "provider"))
        if entry.training_pipeline is not None:
            check(entry.training_pipeline, "training_pipeline", (*base, "training_pipeline"))
        for k, data in enumerate(entry.training_data):
            check(data, "training_data", (*base, "training_data", k))
    for model_name in registry.models:
        seen = [model_name]
        current = registry.models[model_name].derived_from
        while current is not None and current in registry.models:
            if current in seen:
                chain = " -> ".join([*seen[seen.index(current) :], current])
                problems.append(
                    (
                        ("lineage", "models", model_name, "derived_from"),
                        f"derived_from cycle: {chain}",
                        "a model cannot descend from itself; break the cycle",
                    )
                )
                break
            seen.append(current)
            current = registry.models[current].derived_from
    for i, layer in enumerate(stack.layers):
        lineage = layer.lineage
        path = ("layers", i, "lineage")
        for kind in ("base_model", "provider", "training_pipeline", "evaluator_pool"):
            value = getattr(lineage, kind)
            if value is not None:
                check(value, kind, (*path, kind))
        for k, data in enumerate(lineage.training_data):
            check(data, "training_data", (*path, "training_data", k))
    return problems


def _ancestors(stack: StackFile, model: str) -> list[str]:
    chain = [model]
    current = stack.lineage.models[model].derived_from
    while current is not None and current not in chain:
        chain.append(current)
        current = stack.lineage.models[current].derived_from
    return chain


def layer_lineage_items(stack: StackFile, layer_index: int) -> dict[tuple[str, str], str]:
    """Every (kind, entity) a layer depends on, with a phrase saying through what."""
    layer = stack.layers[layer_index]
    items: dict[tuple[str, str], str] = {}
    lineage = layer.lineage

    def add(kind: str, entity: str, how: str) -> None:
        items.setdefault((kind, entity), how)

    if lineage.base_model is not None:
        chain = _ancestors(stack, lineage.base_model)
        for depth, model in enumerate(chain):
            how = (
                "base model"
                if depth == 0
                else f"base model {lineage.base_model} derives from it"
                + (f" (via {' -> '.join(chain[1:depth])})" if depth > 1 else "")
            )
            add("base_model", model, how)
            entry = stack.lineage.models[model]
            if entry.provider is not None:
                add("provider", entry.provider, f"provider of model {model}")
            if entry.training_pipeline is not None:
                add("training_pipeline", entry.training_pipeline, f"pipeline of model {model}")
            for data in entry.training_data:
                add("training_data", data, f"training data of model {model}")
    if lineage.provider is not None:
        add("provider", lineage.provider, "declared provider")
    if lineage.training_pipeline is not None:
        add("training_pipeline", lineage.training_pipeline, "declared training pipeline")
    for data in lineage.training_data:
        add("training_data", data, "declared training data")
    if lineage.evaluator_pool is not None:
        add("evaluator_pool", lineage.evaluator_pool, "declared evaluator pool")
    return items


def _mode_id(kind: str, entity: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", entity).strip("-") or "x"
    return f"LIN-{_KIND_TAG[kind]}-{slug}"[:64]


def shared_lineage_modes(stack: StackFile) -> tuple[SharedMode, ...]:
    """One mode per lineage item that at least two layers depend on, in a stable order."""
    per_layer = [layer_lineage_items(stack, i) for i in range(len(stack.layers))]
    users: dict[tuple[str, str], dict[str, str]] = {}
    for layer, items in zip(stack.layers, per_layer, strict=True):
        for key, how in items.items():
            users.setdefault(key, {})[layer.id] = how
    order = {kind: k for k, kind in enumerate(LINEAGE_KINDS)}
    # A provider, pipeline or data set reached only through shared base models adds nothing
    # when a shared base-model mode already covers exactly those layers: same dependency.
    model_sets = {frozenset(via) for (kind, _e), via in users.items() if kind == "base_model"}

    def implied(kind: str, via: dict[str, str]) -> bool:
        return (
            kind != "base_model"
            and all(" of model " in how for how in via.values())
            and frozenset(via) in model_sets
        )

    # Ancestors shared by exactly the same layers as a more specific model are one dependency:
    # keep the model most layers use directly and name the ancestors in its attribution.
    redundant: set[tuple[str, str]] = set()
    by_set: dict[frozenset[str], list[tuple[str, str]]] = {}
    for key, via in users.items():
        if key[0] == "base_model" and len(via) >= 2:
            by_set.setdefault(frozenset(via), []).append(key)
    for keys in by_set.values():
        if len(keys) > 1:
            keys.sort(key=lambda k: (-sum(h == "base model" for h in users[k].values()), k[1]))
            keep, rest = keys[0], keys[1:]
            redundant.update(rest)
            for layer_id in users[keep]:
                users[keep][layer_id] += " (shared ancestry: " + ", ".join(r[1] for r in rest) + ")"

    modes = []
    for (kind, entity), via in sorted(users.items(), key=lambda kv: (order[kv[0][0]], kv[0][1])):
        if len(via) < 2 or implied(kind, via) or (kind, entity) in redundant:
            continue
        modes.append(
            SharedMode(
                id=_mode_id(kind, entity),
                kind=kind,
                entity=entity,
                layers=tuple(via),
                via=via,
                generic_mode=GENERIC_MODE[kind],
            )
        )
    return tuple(modes)


def declared_kinds(stack: StackFile) -> set[str]:
    """Lineage kinds any layer declares (directly or through its base model)."""
    kinds: set[str] = set()
    for i in range(len(stack.layers)):
        kinds |= {kind for kind, _entity in layer_lineage_items(stack, i)}
    return kinds
