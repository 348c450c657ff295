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

**Ties.** When distances tie, which merge comes first can change the groups, so ties are broken
by safety tax (cheaper first), then technique id, never by the order techniques happen to have
in the catalog: the clustering runs on the techniques sorted that way, and the complementary
pair is the one sharing the fewest modes, then with the lowest total tax, then with the first
ids. The same catalog in any order gives the same groups. When another tie-break order would
give other correlated groups, :attr:`GroupsResult.tie_alternatives` says which.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from typing import TYPE_CHECKING, Any

import numpy as np

from ddrisk.analysis._linkage import average_linkage, flat_clusters
from ddrisk.analysis.overlap import jaccard
from ddrisk.analysis.profile import Profile, UnclearPolicy
from ddrisk.catalog.model import Catalog
from ddrisk.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

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
    # policy -> correlated groups with ties broken the other way, or None when ties do not matter
    tie_alternatives: dict[str, list[tuple[str, ...]] | None] = field(default_factory=dict)

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
            "tie_break": "safety tax (cheaper first), then technique id",
            "tie_alternatives": {
                p: None if alt is None else [list(g) for g in alt]
                for p, alt in self.tie_alternatives.items()
            },
        }

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

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


def _canonical_order(profile: Profile) -> list[int]:
    """Catalog positions sorted by safety tax (cheaper first), then technique id."""
    return sorted(
        range(len(profile.techniques)), key=lambda i: (profile.tax_rank[i], profile.techniques[i])
    )


def _clusters(
    profile: Profile, masks: list[int], threshold: float, order: list[int] | None = None
) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Cluster labels (catalog positions) and the tree, computed in the canonical order."""
    n = len(masks)
    order = _canonical_order(profile) if order is None else order
    rows = average_linkage(_distance_matrix([masks[i] for i in order]).tolist())
    sorted_tree = np.array(rows, dtype=float).reshape(n - 1, 4)
    labels = np.empty(n, dtype=int)
    labels[order] = flat_clusters(rows, threshold)
    return labels, sorted_tree, order


def _correlated_sets(labels: np.ndarray) -> list[tuple[int, ...]]:
    found = []
    for label in dict.fromkeys(labels.tolist()):
        members = tuple(i for i in range(len(labels)) if labels[i] == label)
        if len(members) >= 2:
            found.append(members)
    return sorted(found)


def tie_alternative(
    profile: Profile, masks: list[int], threshold: float
) -> list[tuple[str, ...]] | None:
    """Correlated groups that another tie-break order would give, when they differ.

    The clustering is repeated in three other orders (the canonical order reversed, and id order
    both ways); ``None`` means none of them changes the correlated groups, so tied distances,
    if any, do not matter.
    """
    if len(masks) < 2:
        return None
    chosen, _, _ = _clusters(profile, masks, threshold)
    canonical = _canonical_order(profile)
    by_id = sorted(range(len(masks)), key=lambda i: profile.techniques[i])
    for order in (canonical[::-1], by_id, by_id[::-1]):
        other, _, _ = _clusters(profile, masks, threshold, order)
        if _correlated_sets(other) != _correlated_sets(chosen):
            return [
                tuple(profile.techniques[i] for i in group) for group in _correlated_sets(other)
            ]
    return None


def _groups_for(
    profile: Profile, masks: list[int], threshold: float, max_shared: int
) -> tuple[list[TechniqueGroup], np.ndarray]:
    n = len(masks)
    if n == 1:
        return [_group(profile, masks, "ungrouped", [0])], np.zeros((0, 4))
    labels, sorted_tree, order = _clusters(profile, masks, threshold)
    # The tree for dendrograms, with leaves numbered by catalog position.
    tree = sorted_tree.copy()
    back = np.asarray(order)
    for column in (0, 1):
        leaf = tree[:, column] < n
        tree[leaf, column] = back[tree[leaf, column].astype(int)]
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
                sorted((profile.techniques[ab[0]], profile.techniques[ab[1]])),
            ),
        )
        a, b = pairs[0]
        shared = masks[a] & masks[b]
        if shared.bit_count() <= max_shared:
            complementary = [a, b]
            for i in sorted(rest, key=lambda i: profile.techniques[i]):
                if i not in complementary and (shared & masks[i]).bit_count() <= max_shared:
                    complementary.append(i)
                    shared &= masks[i]
            complementary.sort()
            groups.append(_group(profile, masks, "complementary", complementary))
    groups.extend(_group(profile, masks, "ungrouped", [i]) for i in rest if i not in complementary)
    return groups, tree


def check_threshold(threshold: float) -> None:
    """Reject a cut that is not a finite distance in [0, 1] (``nan`` would cut nothing)."""
    if not isinstance(threshold, int | float) or not 0.0 <= float(threshold) <= 1.0:
        raise InputError(
            "group_threshold",
            None,
            f"{threshold!r} is not a Jaccard distance between 0 and 1",
            "pass a finite number between 0 and 1, e.g. 0.2",
        )


def groups_from_profile(
    profile: Profile,
    policy: UnclearPolicy,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    complementary_max_shared: int = DEFAULT_COMPLEMENTARY_MAX_SHARED,
    report_ties: bool = True,
) -> GroupsResult:
    """Groups for each reading of '?'; ``report_ties=False`` skips the search for tie-dependent
    alternatives (robustness checks regroup thousands of perturbed tables and compare groups only)."""
    check_threshold(threshold)
    groups: dict[str, tuple[TechniqueGroup, ...]] = {}
    trees: dict[str, list[list[float]]] = {}
    alternatives: dict[str, list[tuple[str, ...]] | None] = {}
    for resolved in policy.resolved():
        masks = profile.prone_masks(resolved)
        found, tree = _groups_for(profile, masks, threshold, complementary_max_shared)
        groups[resolved.value] = tuple(found)
        trees[resolved.value] = tree.tolist()
        alternatives[resolved.value] = (
            tie_alternative(profile, masks, threshold) if report_ties else None
        )
    method = (
        f"average-linkage hierarchical clustering on Jaccard distance of prone sets, cut at {threshold}; "
        "unclustered high-tax techniques form the high-tax group; the remaining pair sharing the fewest "
        f"modes (at most {complementary_max_shared}) forms the complementary group; ties broken "
        "by safety tax, then technique id, not catalog order"
    )
    return GroupsResult(
        policy=policy.value,
        method=method,
        threshold=threshold,
        complementary_max_shared=complementary_max_shared,
        groups=groups,
        linkage=trees,
        techniques=profile.techniques,
        tie_alternatives=alternatives,
    )


def technique_groups(
    catalog: Catalog,
    *,
    policy: UnclearPolicy | str = UnclearPolicy.BOUNDS,
    threshold: float = DEFAULT_THRESHOLD,
    complementary_max_shared: int = DEFAULT_COMPLEMENTARY_MAX_SHARED,
) -> GroupsResult:
    """Group techniques the way the paper does: correlated, high-tax, complementary.

    >>> from ddrisk.io.catalog import load_catalog
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
