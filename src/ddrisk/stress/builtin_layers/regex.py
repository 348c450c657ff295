"""Keyword/regex layer: clawguard-core's prompt-injection and jailbreak patterns.

Mechanism: about 42 hand-written regular expressions, matched line by line. A
third-party rule set, not tuned by ddrisk, so its misses are its own.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, ClassVar

from ddrisk.stress.builtin_layers._base import BuiltinLayer, version_of
from ddrisk.stress.layer import Item, Verdict

CLAWGUARD_INSTALL = "pip install clawguard-core==0.4.0"


class RegexLayer(BuiltinLayer):
    """Blocks when clawguard-core's risk score (0-10) reaches ``min_risk``.

    The score reported is the risk score divided by 10, so every built-in layer
    reports a score in [0, 1].
    """

    kind: ClassVar[str] = "regex"
    requirements = (("clawguard_core", CLAWGUARD_INSTALL),)
    description = "clawguard-core regexes (prompt injection, jailbreak, exfiltration)"

    def __init__(self, *, name: str | None = None, min_risk: int = 1) -> None:
        super().__init__(name=name)
        if not 1 <= min_risk <= 10:
            raise ValueError("min_risk must be between 1 and 10")
        self.min_risk = min_risk

    def config(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "package": "clawguard-core",
            "min_risk": self.min_risk,
            **self.versions(),
        }

    def versions(self) -> dict[str, str | None]:
        return version_of("clawguard-core")

    def check(self, items: Sequence[Item]) -> list[Verdict]:
        from clawguard_core import scan_text

        verdicts = []
        for item in items:
            start = time.perf_counter()
            report = scan_text(item.text, source=item.item_id)
            elapsed = (time.perf_counter() - start) * 1000.0
            categories = sorted({finding.category for finding in report.findings})
            verdicts.append(
                Verdict(
                    blocked=report.risk_score >= self.min_risk,
                    score=report.risk_score / 10.0,
                    latency_ms=elapsed,
                    detail={"categories": categories, "findings": report.total_findings},
                )
            )
        return verdicts
