"""Groups of techniques by failure profile, read together with safety tax.

The method, in three steps, mirrors how the paper reads its Table 1:

1. **Correlated groups.** Average-linkage hierarchical clustering of prone sets
   under Jaccard distance, cut at ``threshold`` (default 0.2: members disagree,
   on average, on at most one in five of the failure modes either is prone to).
   Clusters of two or more techniques are correlated groups: stacking them buys
   little.
2. **High-tax group.** Of the techniques left alone, those with a high safety
   tax form one group; the paper's observation is that they are prone to the
   fewest failure modes, and the result reports whether that holds.
3. **Complementary group.** Of the rest, the pair sharing the fewest failure
   modes (ties: lower tax) is complementary when it shares at most
   ``complementary_max_shared`` modes; further techniques join while the
   group's shared set stays within that limit.

Anything left over is reported as ``ungrouped``.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

from ddrisk.analysis.overlap import jaccard
from ddrisk.analysis.profile import Profile, UnclearPolicy
from ddrisk.catalog.model import Catalog

DEFAULT_THRESHOLD = 0.2
DEFAULT_COMPLEMENTARY_MAX_SHARED = 1


@dataclass(frozen=True)
class TechniqueGroup:
    kind: str  # correlated | high_tax | complementary | ungrouped
    members: tuple[str, ...]
    shared_modes: tuple[str, ...]
    failure_counts: dict[str, int]
    safety_tax: dict[str, str]
    mean_jaccard: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "members": list(self.members),
            "shared_modes": list(self.shared_modes),
            "shared_count": len(self.shared_modes),
            "failure_counts": self.failure_counts,
            "safety_tax": self.safety_tax,
            "mean_jaccard": self.mean_jaccard,
        }


@dataclass(frozen=True)
class GroupsResult:
    policy: str
    method: str
    threshold: float
    complementary_max_shared: int
    groups: dict[str, tuple[TechniqueGroup, ...]]  # policy -> groups
    linkage: dict[str, list[list[float]]]  # policy -> scipy linkage matrix (for dendrograms)
    techniques: tuple[str, ...]

    def partition(self, policy: str) -> frozenset[tuple[str, frozenset[str]]]:
        """A comparable form of the grouping (kind + member set), for sensitivity checks."""
        return frozenset((g.kind, frozenset(g.members)) for g in self.groups[policy])

    def of_kind(self, kind: str, policy: str = "pessimistic") -> list[TechniqueGroup]:
        return [g for g in self.groups[policy] if g.kind == kind]

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "method": self.method,
            "threshold": self.threshold,
            "complementary_max_shared": self.complementary_max_shared,
            "techniques": list(self.techniques),
            "by_policy": {p: [g.to_dict() for g in gs] for p, gs in self.groups.items()},
            "linkage": self.linkage,
        }

    def to_frame(self) -> pd.DataFrame:
        rows = []
        for policy, groups in self.groups.items():
            for number, group in enumerate(groups, start=1):
                for member in group.members:
                    rows.append(
                        {
                            "policy": policy,
                            "group": number,
                            "kind": group.kind,
                            "technique": member,
                            "safety_tax": group.safety_tax[member],
                            "failure_count": group.failure_counts[member],
                            "group_shared_modes": ",".join(group.shared_modes),
                        }
                    )
        return pd.DataFrame(rows)


def _distance_matrix(masks: list[int]) -> np.ndarray:
    n = len(masks)
    distance = np.zeros((n, n))
    for i, j in combinations(range(n), 2):
        distance[i, j] = distance[j, i] = 1.0 - jaccard(masks[i], masks[j])
    return distance


def _group(profile: Profile, masks: list[int], kind: str, members: list[int]) -> TechniqueGroup:
    shared = (1 << len(profile.modes)) - 1
    for i in members:
        shared &= masks[i]
    pair_scores = [jaccard(masks[a], masks[b]) for a, b in combinations(members, 2)]
    return TechniqueGroup(
        kind=kind,
        members=tuple(profile.techniques[i] for i in members),
        shared_modes=tuple(profile.mode_names(shared)),
        failure_counts={profile.techniques[i]: masks[i].bit_count() for i in members},
        safety_tax={profile.techniques[i]: profile.tax[i] for i in members},
        mean_jaccard=float(np.mean(pair_scores)) if pair_scores else None,
    )


def _groups_for(
    profile: Profile, masks: list[int], threshold: float, max_shared: int
) -> tuple[list[TechniqueGroup], np.ndarray]:
    n = len(masks)
    if n == 1:
        return [_group(profile, masks, "ungrouped", [0])], np.zeros((0, 4))
    tree = linkage(squareform(_distance_matrix(masks), checks=False), method="average")
    labels = fcluster(tree, t=threshold, criterion="distance")
    groups: list[TechniqueGroup] = []
    alone: list[int] = []
    for label in dict.fromkeys(labels):  # clusters in order of first member
        members = [i for i in range(n) if labels[i] == label]
        if len(members) >= 2:
            groups.append(_group(profile, masks, "correlated", members))
        else:
            alone.extend(members)
    alone.sort()
    high_tax = [i for i in alone if profile.tax[i] == "high"]
    if high_tax:
        groups.append(_group(profile, masks, "high_tax", high_tax))
    rest = [i for i in alone if profile.tax[i] != "high"]
    complementary: list[int] = []
    if len(rest) >= 2:
        pairs = sorted(
            combinations(rest, 2),
            key=lambda ab: (
                (masks[ab[0]] & masks[ab[1]]).bit_count(),
                profile.tax_rank[ab[0]] + profile.tax_rank[ab[1]],
                ab,
            ),
        )
        a, b = pairs[0]
        shared = masks[a] & masks[b]
        if shared.bit_count() <= max_shared:
            complementary = [a, b]
            for i in rest:
                if i not in complementary and (shared & masks[i]).bit_count() <= max_shared:
                    complementary.append(i)
                    shared &= masks[i]
            complementary.sort()
            groups.append(_group(profile, masks, "complementary", complementary))
    groups.extend(_group(profile, masks, "ungrouped", [i]) for i in rest if i not in complementary)
    return groups, tree


def groups_from_profile(
    profile: Profile,
    policy: UnclearPolicy,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    complementary_max_shared: int = DEFAULT_COMPLEMENTARY_MAX_SHARED,
) -> GroupsResult:
    groups: dict[str, tuple[TechniqueGroup, ...]] = {}
    trees: dict[str, list[list[float]]] = {}
    for resolved in policy.resolved():
        found, tree = _groups_for(
            profile, profile.prone_masks(resolved), threshold, complementary_max_shared
        )
        groups[resolved.value] = tuple(found)
        trees[resolved.value] = tree.tolist()
    method = (
        f"average-linkage hierarchical clustering on Jaccard distance of prone sets, cut at {threshold}; "
        "unclustered high-tax techniques form the high-tax group; the remaining pair sharing the fewest "
        f"modes (at most {complementary_max_shared}) forms the complementary group"
    )
    return GroupsResult(
        policy=policy.value,
        method=method,
        threshold=threshold,
        complementary_max_shared=complementary_max_shared,
        groups=groups,
        linkage=trees,
        techniques=profile.techniques,
    )


def technique_groups(
    catalog: Catalog,
    *,
    policy: UnclearPolicy | str = UnclearPolicy.BOUNDS,
    threshold: float = DEFAULT_THRESHOLD,
    complementary_max_shared: int = DEFAULT_COMPLEMENTARY_MAX_SHARED,
) -> GroupsResult:
    """Group techniques the way the paper does: correlated, high-tax, complementary.

    >>> from ddrisk.catalog import load_catalog
    >>> result = technique_groups(load_catalog(), policy="pessimistic")
    >>> [(g.kind, g.members) for g in result.groups["pessimistic"]]
    [('correlated', ('RLHF', 'RLAIF', 'W2S')), ('high_tax', ('SCIAI', 'IDA')), ('complementary', ('DEBATE', 'RE'))]
    """
    return groups_from_profile(
        Profile.from_catalog(catalog),
        UnclearPolicy(policy),
        threshold=threshold,
        complementary_max_shared=complementary_max_shared,
    )
