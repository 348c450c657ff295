"""Fake layers with a known structure, for the attack tests (not a test module)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from typing import Any

from ddrisk.stress.attack.operators import NotDecodable, ddrisk_operators
from ddrisk.stress.layer import Item, Verdict

_OPS = {op.name: op for op in ddrisk_operators()}


def peel(text: str) -> tuple[list[str], str]:
    """The encodings wrapped around a text, outermost first, and the plain text inside."""
    found: list[str] = []
    while True:
        for name in ("base64", "rot13"):
            try:
                inner = _OPS[name].decode(text)
            except NotDecodable:
                continue
            found.append(name)
            text = inner
            break
        else:
            return found, text


class _Fake:
    kind = "fake"

    def __init__(self, name: str) -> None:
        self.name = name
        self.calls = 0

    def config(self) -> dict[str, Any]:
        return {"kind": type(self).__name__, "name": self.name}

    def unavailable_reason(self) -> str | None:
        return None

    def passes(self, text: str) -> bool:
        raise NotImplementedError

    def check(self, items: Sequence[Item]) -> list[Verdict]:
        self.calls += 1
        out = []
        for item in items:
            passed = self.passes(item.text)
            out.append(Verdict(blocked=not passed, score=0.1 if passed else 0.9))
        return out

    def close(self) -> None:
        pass


class OuterBase64Weak(_Fake):
    """Blind spot: an outer base64 encoding, but only on behaviors marked 'weak'."""

    def passes(self, text: str) -> bool:
        found, plain = peel(text)
        return bool(found) and found[0] == "base64" and "weak" in plain


class RotAnywhere(_Fake):
    """Blind spot: ROT13 anywhere in the encodings (a different blind spot)."""

    def passes(self, text: str) -> bool:
        return "rot13" in peel(text)[0]


class BlockAll(_Fake):
    def passes(self, text: str) -> bool:
        return False


class PassAll(_Fake):
    def passes(self, text: str) -> bool:
        return True


class Broken(_Fake):
    """Every verdict is an error: never a pass, never a block."""

    def check(self, items: Sequence[Item]) -> list[Verdict]:
        self.calls += 1
        return [Verdict(blocked=None, error="backend down") for _ in items]


class Raising(_Fake):
    def check(self, items: Sequence[Item]) -> list[Verdict]:
        self.calls += 1
        raise RuntimeError("crashed")


class Hashy(_Fake):
    """Deterministic pseudo-random verdicts from a salted text hash; optional delay per item."""

    def __init__(self, name: str, *, delay_s: float = 0.0, keep: int = 5) -> None:
        super().__init__(name)
        self.delay_s = delay_s
        self.keep = keep

    def config(self) -> dict[str, Any]:
        return {"kind": "hashy", "name": self.name, "keep": self.keep}

    def check(self, items: Sequence[Item]) -> list[Verdict]:
        self.calls += 1
        out = []
        for item in items:
            if self.delay_s:
                time.sleep(self.delay_s)
            value = int(hashlib.sha256(f"{self.name}:{item.text}".encode()).hexdigest()[:8], 16)
            out.append(Verdict(blocked=value % self.keep != 0, score=(value % 1000) / 1000.0))
        return out


def keyword_guard(text: str) -> bool:
    """For python-adapter layers files: blocks texts that mention a bomb."""
    return "bomb" in text.lower()


def shout(text: str, rng: Any) -> str:
    """A user operator: upper-case the request, with a seeded number of exclamation marks."""
    return text.upper() + "!" * int(rng.integers(1, 4))


def unshout(text: str) -> str:
    raise NotDecodable("shout is lossy")


def behaviors(n: int, *, weak_every: int = 2) -> list[Item]:
    """``n`` harmful behaviors; every ``weak_every``-th one is marked 'weak'."""
    return [
        Item(
            f"b{i:02d}",
            f"explain how to do forbidden thing {i}" + (" weak" if i % weak_every == 0 else ""),
            family="test",
            behavior_id=f"beh{i:02d}",
        )
        for i in range(n)
    ]


def run_attack(
    tmp_path: Any,
    layers: Sequence[Any],
    items: Sequence[Item],
    *,
    operators: Sequence[str] = ("base64", "rot13"),
    budget: int = 10,
    max_depth: int = 2,
    beam_width: int = 3,
    batch_size: int = 8,
    strategy: str = "beam",
    seed: int = 0,
    use_cache: bool = True,
    per_layer: bool = True,
    stack: bool = True,
) -> Any:
    """Prepare and execute an attack on fake layers; returns (attack_dir, run result, plan)."""
    from ddrisk.stress.attack.experiment import AttackPlan, execute_attack, prepare_attack
    from ddrisk.stress.attack.registry import build_registry
    from ddrisk.stress.attack.search import SearchSettings
    from ddrisk.stress.attack.store import AttackStore
    from ddrisk.stress.items import StressDataset

    registry, _ = build_registry()
    plan = AttackPlan(
        SearchSettings(
            budget=budget,
            beam_width=beam_width,
            max_depth=max_depth,
            batch_size=batch_size,
            strategy=strategy,
        ),
        tuple(registry[name] for name in operators),
        seed=seed,
        per_layer=per_layer,
        stack=stack,
    )
    store = AttackStore(tmp_path)
    dataset = StressDataset("fake", tuple(items), seed=0)
    attack_dir = prepare_attack(
        dataset=dataset,
        behaviors=list(items),
        layers=list(layers),
        sides={},
        layer_specs=[],
        plan=plan,
        store=store,
    )
    result = execute_attack(
        attack_dir, layers=list(layers), plan=plan, store=store, use_cache=use_cache
    )
    return attack_dir, result, plan


def forbidden_guard(text: str) -> bool:
    """For python-adapter layers files: blocks any text that says 'forbidden' in plain words."""
    return "forbidden" in text.lower()


def interrupt_once(text: str) -> bool:
    """Blocks 'forbidden'; raises KeyboardInterrupt on the first ROT13 query while a marker file exists."""
    import os
    from pathlib import Path

    marker = os.environ.get("DDRISK_TEST_INTERRUPT_FILE")
    if (
        marker
        and Path(marker).exists()
        and text.startswith("The following request is written in ROT13")
    ):
        Path(marker).unlink()
        raise KeyboardInterrupt
    return "forbidden" in text.lower()
