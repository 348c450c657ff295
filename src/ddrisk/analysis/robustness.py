"""How fragile each conclusion is to single judgments and to the resolution of "?".

Four conclusions are checked: the technique groups, the best pair of layers,
the best pair without high-tax layers, and the top research priority. Two
perturbations:

* every **single-cell change** (each cell set to each other level), with the
  conclusion recomputed under each resolved policy;
* every **resolution of the unclear cells** (each "?" set to prone or not
  prone; all 2^u combinations up to ``max_enumerated``, else a seeded sample),
  with the share of resolutions under which each conclusion holds.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from itertools import product
from typing import TYPE_CHECKING, Any

import numpy as np

from ddrisk.analysis.coverage import best_stacks_from_profile
from ddrisk.analysis.groups import DEFAULT_THRESHOLD, groups_from_profile
from ddrisk.analysis.priorities import STACK_SIZES, priorities_from_profile
from ddrisk.analysis.profile import NOT_PRONE, PRONE, UNCLEAR, Profile, UnclearPolicy
from ddrisk.catalog.model import Catalog

if TYPE_CHECKING:
    import pandas as pd

CONCLUSIONS = ("groups", "best_pair", "best_affordable_pair", "top_priority")
_LEVEL_NAME = {PRONE: "prone", NOT_PRONE: "not_prone", UNCLEAR: "unclear"}


def _conclusions(
    profile: Profile, policy: UnclearPolicy, threshold: float
) -> dict[str, tuple[str, ...]]:
    """Each conclusion as a sorted tuple of strings, comparable across perturbations."""
    groups = groups_from_profile(profile, policy, threshold=threshold, report_ties=False)
    stacks = best_stacks_from_profile(profile, policy, top=1, k_max=STACK_SIZES)
    priorities = priorities_from_profile(profile, policy, stacks=stacks)
    k2 = min(2, len(profile.techniques))
    affordable = best_stacks_from_profile(profile, policy, k_max=k2, top=1, exclude_high_tax=True)
    p = policy.value
    return {
        "groups": tuple(
            sorted(
                f"{g.kind}: {'+'.join(g.members)}"
                for g in groups.groups[p]
                if g.kind != "ungrouped"
            )
        ),
        "best_pair": tuple(sorted("+".join(s.stack) for s in stacks.tied_best[p].get(k2, []))),
        "best_affordable_pair": tuple(
            sorted("+".join(s.stack) for s in affordable.tied_best[p].get(k2, []))
        ),
        "top_priority": tuple(priorities.top(p)),
    }


@dataclass(frozen=True)
class CellChange:
    technique: str
    mode: str
    from_level: str
    to_level: str
    policy: str
    conclusion: str
    baseline: tuple[str, ...]
    becomes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "technique": self.technique,
            "failure_mode": self.mode,
            "from": self.from_level,
            "to": self.to_level,
            "policy": self.policy,
            "conclusion": self.conclusion,
            "baseline": list(self.baseline),
            "becomes": list(self.becomes),
        }


@dataclass(frozen=True)
class RobustnessResult:
    policy: str
    baseline: dict[str, dict[str, tuple[str, ...]]]  # policy -> conclusion -> value
    single_cell_changes: tuple[CellChange, ...]
    cells_checked: int
    unclear_cells: tuple[tuple[str, str], ...]
    resolutions_checked: int
    resolutions_enumerated: bool
    resolution_outcomes: dict[str, dict[tuple[str, ...], int]]  # conclusion -> outcome -> count
    seed: int

    def fragile(self, conclusion: str, policy: str = "pessimistic") -> bool:
        return any(
            c.conclusion == conclusion and c.policy == policy for c in self.single_cell_changes
        )

    def changes(self, conclusion: str, policy: str = "pessimistic") -> list[CellChange]:
        return [
            c for c in self.single_cell_changes if c.conclusion == conclusion and c.policy == policy
        ]

    def holds_share(self, conclusion: str, policy: str = "pessimistic") -> float:
        """Share of "?" resolutions under which the conclusion equals its value under ``policy``."""
        outcomes = self.resolution_outcomes[conclusion]
        total = sum(outcomes.values())
        return outcomes.get(self.baseline[policy][conclusion], 0) / total if total else 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "baseline": {p: {c: list(v) for c, v in cs.items()} for p, cs in self.baseline.items()},
            "cells_checked": self.cells_checked,
            "single_cell_changes": [c.to_dict() for c in self.single_cell_changes],
            "fragile": {p: {c: self.fragile(c, p) for c in CONCLUSIONS} for p in self.baseline},
            "change_counts": {
                p: {c: len(self.changes(c, p)) for c in CONCLUSIONS} for p in self.baseline
            },
            "unclear_cells": [{"technique": t, "failure_mode": m} for t, m in self.unclear_cells],
            "resolutions_checked": self.resolutions_checked,
            "resolutions_enumerated": self.resolutions_enumerated,
            "resolution_outcomes": {
                c: [
                    {"outcome": list(o), "count": n}
                    for o, n in sorted(outs.items(), key=lambda kv: -kv[1])
                ]
                for c, outs in self.resolution_outcomes.items()
            },
            "holds_share": {
                p: {c: self.holds_share(c, p) for c in CONCLUSIONS} for p in self.baseline
            },
            "seed": self.seed,
        }

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame([c.to_dict() for c in self.single_cell_changes])


def robustness_from_profile(
    profile: Profile,
    policy: UnclearPolicy,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    max_enumerated: int = 10,
    n_sampled: int = 1024,
    seed: int = 0,
) -> RobustnessResult:
    resolved = policy.resolved()
    baseline = {p.value: _conclusions(profile, p, threshold) for p in resolved}
    changes: list[CellChange] = []
    cells = 0
    for i, technique in enumerate(profile.techniques):
        for j, mode in enumerate(profile.modes):
            current = int(profile.codes[i, j])
            for alternative in (PRONE, NOT_PRONE, UNCLEAR):
                if alternative == current:
                    continue
                cells += 1
                changed = profile.with_code(i, j, alternative)
                for p in resolved:
                    after = _conclusions(changed, p, threshold)
                    for name in CONCLUSIONS:
                        if after[name] != baseline[p.value][name]:
                            changes.append(
                                CellChange(
                                    technique,
                                    mode,
                                    _LEVEL_NAME[current],
                                    _LEVEL_NAME[alternative],
                                    p.value,
                                    name,
                                    baseline[p.value][name],
                                    after[name],
                                )
                            )

    unclear = profile.unclear_cells()
    enumerated = len(unclear) <= max_enumerated
    if enumerated:
        assignments = list(product((PRONE, NOT_PRONE), repeat=len(unclear)))
    else:
        rng = np.random.default_rng(seed)
        draws = rng.integers(0, 2, size=(n_sampled, len(unclear)))
        assignments = [tuple(PRONE if bit else NOT_PRONE for bit in row) for row in draws]
    outcomes: dict[str, Counter[tuple[str, ...]]] = {name: Counter() for name in CONCLUSIONS}
    for assignment in assignments:
        codes = profile.codes.copy()
        for (i, j), code in zip(unclear, assignment, strict=True):
            codes[i, j] = code
        resolved_profile = Profile(
            profile.techniques, profile.modes, codes, profile.tax, profile.tax_rank
        )
        result = _conclusions(resolved_profile, UnclearPolicy.PESSIMISTIC, threshold)
        for name in CONCLUSIONS:
            outcomes[name][result[name]] += 1
    return RobustnessResult(
        policy=policy.value,
        baseline=baseline,
        single_cell_changes=tuple(changes),
        cells_checked=cells,
        unclear_cells=tuple((profile.techniques[i], profile.modes[j]) for i, j in unclear),
        resolutions_checked=len(assignments),
        resolutions_enumerated=enumerated,
        resolution_outcomes={name: dict(counter) for name, counter in outcomes.items()},
        seed=seed,
    )


def robustness(
    catalog: Catalog,
    *,
    policy: UnclearPolicy | str = UnclearPolicy.BOUNDS,
    threshold: float = DEFAULT_THRESHOLD,
    seed: int = 0,
) -> RobustnessResult:
    """Which single judgments, and which resolutions of "?", would change each conclusion.

    >>> from ddrisk.io.catalog import load_catalog
    >>> result = robustness(load_catalog(), policy="pessimistic")
    >>> result.holds_share("top_priority")
    1.0
    """
    return robustness_from_profile(
        Profile.from_catalog(catalog), UnclearPolicy(policy), threshold=threshold, seed=seed
    )
