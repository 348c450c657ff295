"""Research priorities: failure modes that defeat the most techniques and survive stacking.

A failure mode matters most when many techniques are prone to it (it defeats
them all at once) and when even the best stacks leave it straight-through
(choosing layers cleverly does not remove it). Ranking: number of techniques
defeated, then the share of best small stacks (1 to ``STACK_SIZES`` layers, where
choosing layers matters most and which stays cheap for 20-technique catalogs) it
passes straight through.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ddrisk.analysis.coverage import BestStacksResult, best_stacks_from_profile
from ddrisk.analysis.profile import Profile, UnclearPolicy
from ddrisk.catalog.model import Catalog

if TYPE_CHECKING:
    import pandas as pd

STACK_SIZES = 3


@dataclass(frozen=True)
class ModePriority:
    mode: str
    defeats: tuple[str, ...]
    spared: tuple[str, ...]
    straight_through_share: float  # mean over k of the share of tied-best stacks it passes
    rank: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "rank": self.rank,
            "defeats_count": len(self.defeats),
            "defeats": list(self.defeats),
            "spared": list(self.spared),
            "straight_through_share": self.straight_through_share,
        }


@dataclass(frozen=True)
class PrioritiesResult:
    policy: str
    ranking: str
    priorities: dict[str, tuple[ModePriority, ...]]  # policy -> ranked modes
    n_techniques: int

    def top(self, policy: str = "pessimistic") -> list[str]:
        """Every mode tied for first place."""
        return [p.mode for p in self.priorities[policy] if p.rank == 1]

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "ranking": self.ranking,
            "n_techniques": self.n_techniques,
            "by_policy": {p: [m.to_dict() for m in ms] for p, ms in self.priorities.items()},
            "top": {p: self.top(p) for p in self.priorities},
        }

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        rows = []
        for policy, modes in self.priorities.items():
            for m in modes:
                row = m.to_dict()
                row["policy"] = policy
                row["defeats"] = ",".join(m.defeats)
                row["spared"] = ",".join(m.spared)
                rows.append(row)
        return pd.DataFrame(rows)


def priorities_from_profile(
    profile: Profile, policy: UnclearPolicy, *, stacks: BestStacksResult | None = None
) -> PrioritiesResult:
    stacks = stacks or best_stacks_from_profile(profile, policy, top=1, k_max=STACK_SIZES)
    out: dict[str, tuple[ModePriority, ...]] = {}
    for resolved in policy.resolved():
        prone = profile.prone(resolved)
        tied = stacks.tied_best[resolved.value]
        entries = []
        for j, mode in enumerate(profile.modes):
            shares = [
                np.mean([mode in s.straight_through for s in tied[k]]) for k in tied if tied[k]
            ]
            entries.append(
                (
                    mode,
                    tuple(t for i, t in enumerate(profile.techniques) if prone[i, j]),
                    tuple(t for i, t in enumerate(profile.techniques) if not prone[i, j]),
                    float(np.mean(shares)) if shares else 0.0,
                )
            )
        entries.sort(key=lambda e: (-len(e[1]), -e[3]))
        ranked, rank, previous = [], 0, None
        for position, (mode, defeats, spared, share) in enumerate(entries, start=1):
            key = (len(defeats), round(share, 12))
            if key != previous:
                rank, previous = position, key
            ranked.append(ModePriority(mode, defeats, spared, share, rank))
        out[resolved.value] = tuple(ranked)
    return PrioritiesResult(
        policy=policy.value,
        ranking="techniques defeated (descending), then share of best stacks left straight-through "
        f"(mean over stack sizes k = 1..{STACK_SIZES} of the share of tied-best k-stacks)",
        priorities=out,
        n_techniques=len(profile.techniques),
    )


def failure_mode_priorities(
    catalog: Catalog, *, policy: UnclearPolicy | str = UnclearPolicy.BOUNDS
) -> PrioritiesResult:
    """Rank failure modes as research priorities.

    >>> from ddrisk.io.catalog import load_catalog
    >>> failure_mode_priorities(load_catalog()).top("pessimistic")
    ['AL-GEN']
    """
    return priorities_from_profile(Profile.from_catalog(catalog), UnclearPolicy(policy))
