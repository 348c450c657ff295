"""Plain-language findings, each stated with the numbers behind it.

The statements follow the paper's findings, but every number is computed from
the catalog at hand, so the same text works for a user's own catalog (and a
finding that does not hold there is reported as not holding).
"""

from __future__ import annotations

import math
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
    holds_by_policy: dict[str, bool] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "holds": self.holds,
            "holds_by_policy": self.holds_by_policy,
            "statement": self.statement,
            "numbers": self.numbers,
        }


_READING = {
    "pessimistic": "counting '?' as prone",
    "optimistic": "counting only definite ✗ cells",
}


def _finding(
    key: str,
    title: str,
    texts: dict[str, str],
    holds: dict[str, bool],
    numbers: dict[str, Any],
    tail: str = "",
) -> Finding:
    """Merge per-policy statements: once when they agree, side by side when they differ."""
    if len(set(texts.values())) == 1:
        body = next(iter(texts.values()))
        if len(texts) > 1:
            body += " (the same whether or not '?' counts as prone)"
    else:
        body = "; ".join(f"{_READING.get(p, p)}: {t}" for p, t in texts.items())
    return Finding(
        key,
        title,
        all(holds.values()),
        body + "." + (f" {tail}" if tail else ""),
        numbers,
        holds,
    )


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
    texts: dict[str, str] = {}
    numbers: dict[str, Any] = {}
    holds: dict[str, bool] = {}
    for policy in policies:
        found = groups.of_kind("correlated", policy)
        holds[policy] = bool(found)
        masks = dict(
            zip(profile.techniques, profile.prone_masks(UnclearPolicy(policy)), strict=True)
        )
        group_texts = []
        for g in found:
            identical = [
                f"{a} = {b}" for a, b in combinations(g.members, 2) if masks[a] == masks[b]
            ]
            taxes = sorted(set(g.safety_tax.values()))
            group_texts.append(
                f"{_names(g.members)} (safety tax {'/'.join(taxes)}) are each prone to "
                f"{_range(list(g.failure_counts.values()))} of {n_modes} failure modes and share "
                f"{len(g.shared_modes)}: {', '.join(g.shared_modes) or 'none'} (mean Jaccard "
                f"{g.mean_jaccard:.2f})"
                + (f"; identical profiles: {', '.join(identical)}" if identical else "")
            )
            numbers.setdefault(policy, []).append({**g.to_dict(), "identical_profiles": identical})
        texts[policy] = "; ".join(group_texts) if group_texts else "no correlated group"
        alternative = groups.tie_alternatives.get(policy)
        if alternative is not None:
            texts[policy] += (
                " (tied distances decide this: ties are broken by safety tax, then technique id; "
                "broken another way the correlated groups are "
                + ("; ".join(_names(list(g)) for g in alternative) or "none")
                + ")"
            )
            numbers.setdefault("tie_alternatives", {})[policy] = [list(g) for g in alternative]
    return _finding(
        "correlated_group",
        "Low-tax techniques that fail together",
        texts,
        holds,
        numbers,
        "Stacking members of one correlated group adds little depth.",
    )


def _high_tax(profile: Profile, groups: GroupsResult, policies: list[str]) -> Finding:
    texts, numbers, holds = {}, {}, {}
    for policy in policies:
        found = groups.of_kind("high_tax", policy)
        masks = dict(
            zip(profile.techniques, profile.prone_masks(UnclearPolicy(policy)), strict=True)
        )
        if not found:
            holds[policy] = False
            texts[policy] = "no unclustered high-tax technique"
            continue
        g = found[0]
        others = [masks[t].bit_count() for t in profile.techniques if t not in g.members]
        fewest = bool(others) and max(g.failure_counts.values()) <= min(others)
        holds[policy] = fewest
        counts = ", ".join(f"{t} {c}" for t, c in g.failure_counts.items())
        texts[policy] = (
            f"{_names(g.members)} carry a high safety tax and are prone to {counts} failure modes; "
            f"every other technique is prone to at least {min(others) if others else 0}"
            + (" (the fewest)" if fewest else " (not the fewest)")
        )
        numbers[policy] = {
            "members": list(g.members),
            "failure_counts": g.failure_counts,
            "min_other_count": min(others) if others else None,
            "fewest": fewest,
        }
    return _finding(
        "high_tax_group", "High-tax techniques with the fewest failure modes", texts, holds, numbers
    )


def _complementary(
    profile: Profile,
    groups: GroupsResult,
    stacks: BestStacksResult,
    affordable: BestStacksResult,
    policies: list[str],
) -> Finding:
    n_modes = len(profile.modes)
    texts, numbers, holds = {}, {}, {}
    for policy in policies:
        found = groups.of_kind("complementary", policy)
        holds[policy] = bool(found)
        if not found:
            texts[policy] = "no complementary pair"
            continue
        g = found[0]
        members = tuple(g.members)
        affordable_best = affordable.tied_best[policy].get(len(members), [])
        is_best_affordable = any(s.stack == members for s in affordable_best)
        overall = (
            stacks.best(len(members), policy) if len(members) in stacks.ranked[policy] else None
        )
        texts[policy] = (
            f"{_names(members)} share only {len(g.shared_modes)} failure mode "
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
    return _finding(
        "complementary_pair",
        "Complementary techniques that cover each other",
        texts,
        holds,
        numbers,
        "This assumes the techniques can be combined without interfering.",
    )


def _priority(profile: Profile, priorities: PrioritiesResult, policies: list[str]) -> Finding:
    n = len(profile.techniques)
    texts, numbers, holds = {}, {}, {}
    for policy in policies:
        ranked = priorities.priorities[policy]
        top = [p for p in ranked if p.rank == 1]
        most = max(len(p.defeats) for p in ranked)
        universal = [p.mode for p in ranked if len(p.defeats) == n]
        holds[policy] = not universal
        texts[policy] = (
            f"{_names([p.mode for p in top])} defeats {len(top[0].defeats)} of {n} techniques "
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
    return _finding("top_priority", "The failure mode most techniques share", texts, holds, numbers)


def _co_failure(masks: list[int], n_modes: int) -> tuple[int, float]:
    """Failure modes shared by pairs of techniques: observed total, and what independence expects.

    If each technique were prone to its modes independently of the others, a pair prone to
    ``a`` and ``b`` of ``M`` modes would share ``a * b / M`` of them on average.
    """
    observed = 0
    expected = 0.0
    for a, b in combinations(masks, 2):
        observed += (a & b).bit_count()
        expected += a.bit_count() * b.bit_count() / n_modes
    return observed, expected


def _arithmetic(profile: Profile, policies: list[str]) -> Finding:
    """The paper's arithmetic, and whether this catalog's techniques share modes beyond chance.

    The arithmetic itself (1e-10 against 0.1) is true of any numbers; what a catalog can
    confirm or refute is its premise: that the techniques fail together more often than
    independent ones would. The finding holds when pairs of techniques share more failure modes
    than independence predicts from how many modes each is prone to.
    """
    marginals = [PAPER_LAYER_FAILURE] * PAPER_LAYERS
    # The two bounds of ddrisk.risk.dependence (independent_all_fail: the product;
    # comonotone_all_fail: the minimum), written out here so that ``ddrisk analyze`` does not
    # load the risk package and scipy for two lines of arithmetic; a test keeps them equal.
    independent = float(math.prod(marginals))
    correlated = float(min(marginals))
    n_modes = len(profile.modes)
    texts, holds = {}, {}
    numbers: dict[str, Any] = {
        "n_layers": PAPER_LAYERS,
        "layer_failure": PAPER_LAYER_FAILURE,
        "independent": independent,
        "perfectly_correlated": correlated,
    }
    for policy in policies:
        masks = profile.prone_masks(UnclearPolicy(policy))
        observed, expected = _co_failure(masks, n_modes)
        holds[policy] = observed > expected
        ratio = observed / expected if expected > 0 else None
        numbers[policy] = {
            "shared_observed": observed,
            "shared_expected_if_independent": expected,
            "ratio": ratio,
            "pairs": len(masks) * (len(masks) - 1) // 2,
        }
        comparison = (
            f"{ratio:.2f}x what independent techniques would share" if ratio else "no sharing"
        )
        texts[policy] = (
            f"pairs of techniques share {observed} failure modes in all, against "
            f"{expected:.1f} if each were prone to its modes independently ({comparison}); "
            + (
                "so stacking them multiplies safety less than independence promises"
                if holds[policy]
                else "so this catalog does not show the correlation the paper warns about"
            )
        )
    tail = (
        f"The paper's arithmetic: {PAPER_LAYERS} layers that each fail with probability "
        f"{PAPER_LAYER_FAILURE} all fail with probability {independent:.0e} if independent and "
        f"{correlated:g} if perfectly correlated (`ddrisk risk` places a given stack between "
        "the two)."
    )
    return _finding(
        "paper_arithmetic",
        "Why correlation matters: techniques share failure modes beyond chance",
        texts,
        holds,
        numbers,
        tail,
    )


def _swiss_cheese(profile: Profile, policies: list[str]) -> Finding:
    """Panels A-C of the paper's figure, counted over every stack.

    The claim that can fail: which layers are stacked matters, not how many. It holds when some
    stack of two or more layers still lets a mode straight through (panel A or B) while the
    full stack blocks every mode (panel C is reachable); it fails when one mode defeats every
    technique, or when no multi-layer stack lets anything through.
    """
    n = len(profile.techniques)
    title = "Which layers are stacked matters, not how many (panels A-C)"
    if n > 20:
        return Finding(
            "swiss_cheese",
            title,
            False,
            "Not computed: more than 20 techniques (2^n stacks); the claim is left unchecked.",
        )
    texts, numbers, holds = {}, {}, {}
    full = (1 << len(profile.modes)) - 1
    for policy in policies:
        masks = profile.prone_masks(UnclearPolicy(policy))
        # Straight-through set of every subset, each from a smaller one: one AND per subset.
        straight_sets = [full] * (1 << n)
        for subset in range(1, 1 << n):
            lowest = subset & -subset
            straight_sets[subset] = straight_sets[subset ^ lowest] & masks[lowest.bit_length() - 1]
        counts = [mask.bit_count() for mask in straight_sets[1:]]
        several = sum(c >= 2 for c in counts)
        one = counts.count(1)
        none = counts.count(0)
        leaky_deep = sum(
            1 for subset in range(1, 1 << n) if subset.bit_count() >= 2 and straight_sets[subset]
        )
        full_stack = profile.mode_names(straight_sets[(1 << n) - 1])
        holds[policy] = leaky_deep > 0 and not full_stack
        numbers[policy] = {
            "stacks": (1 << n) - 1,
            "A_several_straight_through": several,
            "B_one_straight_through": one,
            "C_none": none,
            "multi_layer_stacks_with_straight_through": leaky_deep,
            "full_stack_straight_through": list(full_stack),
        }
        verdict = (
            f"all {n} techniques together still let {', '.join(full_stack)} straight through, "
            "so no stack reaches panel C"
            if full_stack
            else (
                f"{leaky_deep} stacks of two or more layers still let a mode through while the "
                f"full stack blocks every mode"
                if leaky_deep
                else "no stack of two or more layers lets a mode through"
            )
        )
        texts[policy] = (
            f"of {(1 << n) - 1} possible stacks, {several} let two or more modes straight "
            f"through (panel A), {one} exactly one (panel B) and {none} none (panel C); {verdict}"
        )
    return _finding("swiss_cheese", title, texts, holds, numbers)


_CONCLUSION_LABELS = {
    "groups": "the groups",
    "best_pair": "the best pair",
    "best_affordable_pair": "the best pair without high-tax layers",
    "top_priority": "the top priority",
}


FRAGILE_SHARE = 0.5
"""A conclusion is called robust when fewer than this share of single-cell changes alter it."""


def _fragility(robust: RobustnessResult, policies: list[str]) -> Finding:
    """Whether each conclusion survives most single-judgment changes.

    Holds when, for every conclusion, fewer than half of the possible single-cell changes
    (:data:`FRAGILE_SHARE`) alter it; the conclusions that fail that test are named.
    """
    texts, holds = {}, {}
    fragile_by_policy: dict[str, list[str]] = {}
    total = robust.cells_checked
    for policy in policies:
        counted = []
        fragile = []
        for conclusion, label in _CONCLUSION_LABELS.items():
            changed = len(robust.changes(conclusion, policy))
            counted.append(f"{label} {changed}")
            if total and changed / total >= FRAGILE_SHARE:
                fragile.append(label)
        holds[policy] = bool(total) and not fragile
        fragile_by_policy[policy] = fragile
        texts[policy] = (
            f"of {total} possible single-cell changes, the number that alter "
            + ", ".join(counted)
            + (
                f"; {_names(fragile)} change under at least {FRAGILE_SHARE:.0%} of them"
                if fragile
                else f"; every conclusion survives more than {1 - FRAGILE_SHARE:.0%} of them"
            )
        )
    reference = policies[0]
    shares = ", ".join(
        f"{label} {robust.holds_share(c, reference):.0%}" for c, label in _CONCLUSION_LABELS.items()
    )
    tail = (
        f"Across the {robust.resolutions_checked} resolutions of the {len(robust.unclear_cells)} "
        f"unclear cell(s), the {reference} conclusions hold in: {shares}."
    )
    data = robust.to_dict()
    return _finding(
        "fragility",
        "Each conclusion survives most single-judgment changes",
        texts,
        holds,
        {
            "change_counts": data["change_counts"],
            "holds_share": data["holds_share"],
            "cells_checked": total,
            "fragile_share": FRAGILE_SHARE,
            "fragile": fragile_by_policy,
        },
        tail,
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
        _arithmetic(profile, policies),
        _swiss_cheese(profile, policies),
        _fragility(robust, policies),
    ]
