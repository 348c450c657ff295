"""The one contract every safety layer meets, whatever runs behind it.

A layer receives a batch of items and returns one :class:`Verdict` per item, in
order. ``blocked`` is ``True``/``False``, or ``None`` when the layer could not
decide; then ``error`` says why. An error is never a pass and never a block:
analyses count it separately.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from ddrisk._hashing import object_sha256, text_sha256


@dataclass(frozen=True)
class Item:
    """One prompt (or response) shown to every layer."""

    item_id: str
    text: str
    family: str = "unspecified"
    behavior_id: str = ""
    harmful: bool = True
    role: Literal["user", "assistant"] = "user"
    source: str = ""
    #: Items built on one shared template (a jailbreak wrapper, an adversarial suffix)
    #: carry its id: like rephrasings of a behavior, they are not independent draws.
    template_id: str = ""

    @property
    def text_sha256(self) -> str:
        return text_sha256(self.text)


@dataclass(frozen=True)
class Verdict:
    blocked: bool | None
    score: float | None = None
    latency_ms: float = 0.0
    error: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.blocked is None and not self.error:
            raise ValueError("a verdict without a decision must carry an error")


@runtime_checkable
class Layer(Protocol):
    """What the runner needs from a layer.

    ``name`` is unique within a run. ``config()`` returns the settings that change
    verdicts (never secrets): the cache key hashes it, so it must include a hash of
    every file the verdicts depend on (the adapters' ``data_files``) and any
    user-set ``version``. ``unavailable_reason()`` returns ``None`` when the layer
    can run, else a one-line reason (missing package, missing ``node``...), so the
    runner reports it instead of dropping it.

    Optional: ``secrets() -> list[str]``, values the layer was given that must never
    be stored (an API key); the runner scrubs them, whole and in pieces, from every
    error, detail and reason before storing or printing. ``kind`` (a class or
    instance attribute) names the layer type in manifests.

    Stable interfaces built on this contract: :func:`ddrisk.stress.runner.execute`
    fills the missing (item, layer) cells of a :class:`~ddrisk.stress.store.RunRecord`
    through the :class:`~ddrisk.stress.store.VerdictCache` (keyed by layer name,
    :func:`config_hash` of ``config()``, role and text SHA-256; errors are never
    cached); :class:`~ddrisk.stress.calibration.CalibratedLayer` wraps any layer at
    a threshold on its score.
    """

    name: str

    def config(self) -> dict[str, Any]: ...

    def unavailable_reason(self) -> str | None: ...

    def check(self, items: Sequence[Item]) -> list[Verdict]: ...

    def close(self) -> None: ...


def config_hash(config: dict[str, Any]) -> str:
    """Stable short hash of a layer configuration (the cache key's middle part)."""
    return object_sha256(config, default=str)[:16]
