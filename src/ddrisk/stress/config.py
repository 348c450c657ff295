"""Layers files: which safety layers a stress run uses, read from YAML.

A layers file is a list of layer entries, or a mapping with a ``layers`` list::

    layers:
      - kind: regex                 # built-in kinds: regex, toxicity, perplexity,
      - kind: embedding             #   embedding, llm_guardrail
        threshold: 0.6
      - kind: shell                 # adapter kinds: python, shell, http
        name: my-guard
        command: ["node", "guard.js"]

Each entry needs ``kind``; ``name`` defaults to the kind for built-ins and is
required for adapters. Built-in options are listed by ``ddrisk stress layers``;
adapter options are documented in :mod:`ddrisk.stress.adapters`. Every problem
is an :class:`InputError` naming the file and the entry (``layers[2].threshold``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ddrisk.errors import InputError
from ddrisk.stress.adapters import ADAPTER_KINDS, adapter_builder
from ddrisk.stress.builtin_layers import BUILTIN_LAYERS
from ddrisk.stress.layer import Layer

#: The default experiment's layers: every built-in, each with its default options.
DEFAULT_LAYER_SPECS: tuple[dict[str, Any], ...] = tuple({"kind": kind} for kind in BUILTIN_LAYERS)

_SECRET_WORDS = ("key", "token", "secret", "password", "authorization", "cookie")


def known_kinds() -> list[str]:
    return [*BUILTIN_LAYERS, *ADAPTER_KINDS]


def build_layer(spec: Any, *, source: str, where: str, artifact_dir: Path | None = None) -> Layer:
    """One layer from one entry (built-in or adapter kind)."""
    if not isinstance(spec, dict):
        raise InputError(
            source,
            where,
            f"a layer must be a mapping, got {type(spec).__name__}",
            "write key: value pairs such as 'kind: regex'",
        )
    kind = spec.get("kind")
    if not isinstance(kind, str):
        raise InputError(
            source,
            f"{where}.kind",
            "missing or not a name" if kind is None else f"a {type(kind).__name__}, not a name",
            f"use one of: {', '.join(known_kinds())}",
        )
    if kind in BUILTIN_LAYERS:
        return BUILTIN_LAYERS[kind].from_spec(spec, source=source, artifact_dir=artifact_dir)
    if kind in ADAPTER_KINDS:
        from_spec = adapter_builder(kind, source=source, where=f"{where}.kind")
        return from_spec(spec, source=source, where=where)
    raise InputError(
        source,
        f"{where}.kind",
        f"unknown layer kind {kind!r}",
        f"use one of: {', '.join(known_kinds())}",
    )


def build_layers(specs: list[Any], *, source: str, artifact_dir: Path | None = None) -> list[Layer]:
    """Layers from entries, checking that names are unique."""
    layers: list[Layer] = []
    names: dict[str, int] = {}
    for index, spec in enumerate(specs):
        where = f"layers[{index}]"
        layer = build_layer(spec, source=source, where=where, artifact_dir=artifact_dir)
        if layer.name in names:
            raise InputError(
                source,
                f"{where}.name",
                f"layer name '{layer.name}' already used by layers[{names[layer.name]}]",
                "give each layer a distinct 'name'",
            )
        names[layer.name] = index
        layers.append(layer)
    if not layers:
        raise InputError(
            source, "layers", "no layers listed", "list at least one layer, e.g. '- kind: regex'"
        )
    return layers


def load_layer_specs(path: str | Path) -> list[dict[str, Any]]:
    """The entries of a layers file, unbuilt: :func:`ddrisk.io.layers.read_layer_specs`."""
    from ddrisk.io.layers import read_layer_specs

    return read_layer_specs(path)


def redact_specs(specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copies of ``specs`` safe to store: values under secret-looking keys become ``"***"``.

    Adapters take secrets from environment variables (``api_key_env`` names a
    variable, its value is never in the file); this is a second guard.

    >>> redact_specs([{"kind": "http", "api_key_env": "OPENAI_API_KEY", "headers": {"Authorization": "x"}}])
    [{'kind': 'http', 'api_key_env': 'OPENAI_API_KEY', 'headers': {'Authorization': '***'}}]
    """

    def clean(value: Any, key: str = "") -> Any:
        lowered = key.lower()
        if isinstance(value, dict):
            return {k: clean(v, str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        if key and not lowered.endswith("_env") and any(word in lowered for word in _SECRET_WORDS):
            return "***"
        return value

    return [clean(spec) for spec in specs]


def specs_have_redactions(specs: list[dict[str, Any]]) -> bool:
    """Whether stored specs lost a value to redaction (then resuming needs the layers file again)."""
    text = repr(specs)
    return "'***'" in text
