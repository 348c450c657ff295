"""Plain-language findings, each stated with the numbers behind it.

The statements follow the paper's findings, but every number is computed from
the catalog at hand, so the same text works for a user's own catalog (and a
finding that does not hold there is reported as not holding).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from ddrisk.analysis.coverage import BestStacksResult, best_stacks_from_profile
from ddrisk.analysis.groups import GroupsResult
from ddrisk.analysis.priorities import PrioritiesResult
from ddrisk.analysis.profile import Profile, UnclearPolicy
from ddrisk.analysis.robustness import RobustnessResult

PAPER_LAYERS = 10
PAPER_LAYER_FAILURE = 0.1


@dataclass(frozen=True)
class Finding:
    key: str
    title: str
    holds: bool
    statement: str
    numbers: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "holds": self.holds,
            "statement": self.statement,
            "numbers": self.numbers,
        }


def _names(items: list[str] | tuple[str, ...]) -> str:
    items = list(items)
    if not items:
        return "none"
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]


def _range(values: list[int]) -> str:
    low, high = min(values), max(values)
    return str(low) if low == high else f"{low}-{high}"


def _correlated(profile: Profile, groups: GroupsResult, policies: list[str]) -> Finding:
    n_modes = len(profile.modes)
    parts, numbers, holds = [], {}, True
    for policy in policies:
        found = groups.of_kind("correlated", policy)
        holds &= bool(found)
        masks = dict(
            zip(profile.techniques, profile.prone_masks(UnclearPolicy(policy)), strict=True)
        )
        texts = []
        for g in found:
            identical = [
                f"{a} = {b}" for a, b in combinations(g.members, 2) if masks[a] == masks[b]
            ]
            taxes = sorted(set(g.safety_tax.values()))
            texts.append(
                f"{_names(g.members)} (safety tax {'/'.join(taxes)}) are each prone to "
                f"{_range(list(g.failure_counts.values()))} of {n_modes} failure modes and share "
                f"{len(g.shared_modes)}: {', '.join(g.shared_modes) or 'none'} (mean Jaccard "
                f"{g.mean_jaccard:.2f})"
                + (f"; identical profiles: {', '.join(identical)}" if identical else "")
            )
            numbers.setdefault(policy, []).append({**g.to_dict(), "identical_profiles": identical})
        parts.append(f"[{policy}] " + ("; ".join(texts) if texts else "no correlated group"))
    return Finding(
        "correlated_group",
        "Low-tax techniques that fail together",
        holds,
        " ".join(parts) + ". Stacking members of one correlated group adds little depth.",
        numbers,
    )


def _high_tax(profile: Profile, groups: GroupsResult, policies: list[str]) -> Finding:
    parts, numbers, holds = [], {}, True
    for policy in policies:
        found = groups.of_kind("high_tax", policy)
        masks = dict(
            zip(profile.techniques, profile.prone_masks(UnclearPolicy(policy)), strict=True)
        )
        if not found:
            holds = False
            parts.append(f"[{policy}] no unclustered high-tax technique")
            continue
        g = found[0]
        others = [masks[t].bit_count() for t in profile.techniques if t not in g.members]
        fewest = bool(others) and max(g.failure_counts.values()) <= min(others)
        holds &= fewest
        counts = ", ".join(f"{t} {c}" for t, c in g.failure_counts.items())
        parts.append(
            f"[{policy}] {_names(g.members)} carry a high safety tax and are prone to {counts} failure modes; "
            f"every other technique is prone to at least {min(others) if others else 0}"
            + (" (the fewest)" if fewest else " (not the fewest)")
        )
        numbers[policy] = {
            "members": list(g.members),
            "failure_counts": g.failure_counts,
            "min_other_count": min(others) if others else None,
            "fewest": fewest,
        }
    return Finding(
        "high_tax_group",
        "High-tax techniques with the fewest failure modes",
        holds,
        "; ".join(parts) + ".",
        numbers,
    )


def _complementary(
    profile: Profile,
    groups: GroupsResult,
    stacks: BestStacksResult,
    affordable: BestStacksResult,
    policies: list[str],
) -> Finding:
    n_modes = len(profile.modes)
    parts, numbers, holds = [], {}, True
    for policy in policies:
        found = groups.of_kind("complementary", policy)
        if not found:
            holds = False
            parts.append(f"[{policy}] no complementary pair")
            continue
        g = found[0]
        members = tuple(g.members)
        affordable_best = affordable.tied_best[policy].get(len(members), [])
        is_best_affordable = any(s.stack == members for s in affordable_best)
        overall = (
            stacks.best(len(members), policy) if len(members) in stacks.ranked[policy] else None
        )
        parts.append(
            f"[{policy}] {_names(members)} share only {len(g.shared_modes)} failure mode "
            f"({', '.join(g.shared_modes) or 'none'}), so together they leave {len(g.shared_modes)} of "
            f"{n_modes} modes straight-through"
            + (
                ", the best stack of that size without high-tax layers"
                if is_best_affordable
                else ""
            )
            + (
                f"; the best stack of that size overall is {'+'.join(overall.stack)} "
                f"({len(overall.straight_through)} straight-through)"
                if overall and overall.stack != members
                else ""
            )
        )
        numbers[policy] = {
            "members": list(members),
            "shared_modes": list(g.shared_modes),
            "best_without_high_tax": is_best_affordable,
            "best_overall": overall.to_dict() if overall else None,
        }
    return Finding(
        "complementary_pair",
        "Complementary techniques that cover each other",
        holds,
        "; ".join(parts) + ". This assumes the techniques can be combined without interfering.",
        numbers,
    )


def _priority(profile: Profile, priorities: PrioritiesResult, policies: list[str]) -> Finding:
    n = len(profile.techniques)
    parts, numbers = [], {}
    all_defeated = []
    for policy in policies:
        ranked = priorities.priorities[policy]
        top = [p for p in ranked if p.rank == 1]
        most = max(len(p.defeats) for p in ranked)
        universal = [p.mode for p in ranked if len(p.defeats) == n]
        all_defeated += universal
        parts.append(
            f"[{policy}] {_names([p.mode for p in top])} defeats {len(top[0].defeats)} of {n} techniques "
            f"(all but {_names(top[0].spared)}) and comes first; "
            + (
                f"{_names(universal)} defeats every technique"
                if universal
                else f"no failure mode defeats all {n} (the most is {most})"
            )
        )
        numbers[policy] = {
            "top": [p.to_dict() for p in top],
            "max_defeated": most,
            "defeats_all": universal,
        }
    return Finding(
        "top_priority",
        "The failure mode most techniques share",
        not all_defeated,
        "; ".join(parts) + ".",
        numbers,
    )


def _arithmetic() -> Finding:
    from ddrisk.risk.dependence import paper_arithmetic

    numbers = paper_arithmetic(n_layers=PAPER_LAYERS, layer_failure=PAPER_LAYER_FAILURE)
    return Finding(
        "paper_arithmetic",
        "Why correlation matters",
        True,
        f"{PAPER_LAYERS} layers that each fail with probability {PAPER_LAYER_FAILURE} all fail with "
        f"probability {numbers['independent']:.0e} if independent and {numbers['perfectly_correlated']:g} "
        "if perfectly correlated (see `ddrisk risk` for where a given stack sits between the two).",
        numbers,
    )


def _swiss_cheese(profile: Profile, policies: list[str]) -> Finding:
    n = len(profile.techniques)
    numbers, parts = {}, []
    if n > 20:
        return Finding(
            "swiss_cheese",
            "How many stacks let modes straight through",
            True,
            "skipped: more than 20 techniques",
            {},
        )
    full = (1 << len(profile.modes)) - 1
    for policy in policies:
        masks = profile.prone_masks(UnclearPolicy(policy))
        counts = {"A_several_straight_through": 0, "B_one_straight_through": 0, "C_none": 0}
        for subset in range(1, 1 << n):
            mask = full
            for i in range(n):
                if subset >> i & 1:
                    mask &= masks[i]
            straight = mask.bit_count()
            key = (
                "C_none"
                if straight == 0
                else "B_one_straight_through"
                if straight == 1
                else "A_several_straight_through"
            )
            counts[key] += 1
        numbers[policy] = {**counts, "stacks": (1 << n) - 1}
        parts.append(
            f"[{policy}] of {(1 << n) - 1} possible stacks, {counts['A_several_straight_through']} let two or more "
            f"modes straight through (panel A), {counts['B_one_straight_through']} exactly one (panel B) and "
            f"{counts['C_none']} none (panel C)"
        )
    return Finding(
        "swiss_cheese",
        "How many stacks let modes straight through",
        True,
        "; ".join(parts) + ".",
        numbers,
    )


def _fragility(robust: RobustnessResult, policies: list[str]) -> Finding:
    parts = []
    labels = {
        "groups": "the groups",
        "best_pair": "the best pair",
        "best_affordable_pair": "the best pair without high-tax layers",
        "top_priority": "the top priority",
    }
    for policy in policies:
        counted = [f"{labels[c]} {len(robust.changes(c, policy))}" for c in labels]
        parts.append(f"[{policy}] single-cell changes that alter {', '.join(counted)}")
    shares = ", ".join(f"{labels[c]} {robust.holds_share(c, policies[0]):.0%}" for c in labels)
    text = (
        "; ".join(parts)
        + f" (of {robust.cells_checked} possible changes). Across {robust.resolutions_checked} resolutions of the "
        f"{len(robust.unclear_cells)} unclear cell(s), the {policies[0]} conclusions hold in: {shares}."
    )
    return Finding(
        "fragility",
        "How much each conclusion rests on single judgments",
        True,
        text,
        {
            "change_counts": robust.to_dict()["change_counts"],
            "holds_share": robust.to_dict()["holds_share"],
        },
    )


def summarize(
    profile: Profile,
    *,
    policy: UnclearPolicy,
    groups: GroupsResult,
    stacks: BestStacksResult,
    priorities: PrioritiesResult,
    robust: RobustnessResult,
) -> list[Finding]:
    policies = [p.value for p in policy.resolved()]
    affordable = best_stacks_from_profile(profile, policy, top=1, exclude_high_tax=True)
    return [
        _correlated(profile, groups, policies),
        _high_tax(profile, groups, policies),
        _complementary(profile, groups, stacks, affordable, policies),
        _priority(profile, priorities, policies),
        _arithmetic(),
        _swiss_cheese(profile, policies),
        _fragility(robust, policies),
    ]
