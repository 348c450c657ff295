"""Stack coverage: which failure modes pass straight through every layer of a stack.

A failure mode is *straight-through* for a stack when every layer is prone to
it: one event of that kind defeats the whole defense (the paper's Swiss-cheese
panel A/B). Under ``optimistic`` only definite (✗) cells count, so the
optimistic set is the *definite* straight-through set; the pessimistic set adds
the modes that are straight-through only if some "?" resolves to prone.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import TYPE_CHECKING, Any

from ddrisk.analysis.profile import Profile, UnclearPolicy
from ddrisk.catalog.model import Catalog
from ddrisk.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

EXHAUSTIVE_LIMIT = 20


@dataclass(frozen=True)
class StackCoverage:
    stack: tuple[str, ...]
    policy: str
    straight_through: dict[str, list[str]]  # policy -> modes
    blocked_by: dict[str, dict[str, list[str]]]  # policy -> mode -> layers not prone to it

    @property
    def definite(self) -> list[str]:
        """Straight-through modes that need no "?" to resolve badly."""
        return self.straight_through.get("optimistic", self.straight_through.get("pessimistic", []))

    def to_dict(self) -> dict[str, Any]:
        return {
            "stack": list(self.stack),
            "policy": self.policy,
            "straight_through": self.straight_through,
            "straight_through_count": {k: len(v) for k, v in self.straight_through.items()},
            "blocked_by": self.blocked_by,
        }


def _check_stack(profile: Profile, stack: list[str] | tuple[str, ...]) -> list[int]:
    index = []
    for layer in stack:
        if layer not in profile.techniques:
            raise InputError(
                "stack",
                layer,
                f"unknown technique '{layer}'",
                f"use ids from the catalog: {', '.join(profile.techniques)}",
            )
        index.append(profile.techniques.index(layer))
    if not index:
        raise InputError("stack", None, "empty stack", "name at least one technique")
    if len(set(index)) != len(index):
        raise InputError("stack", None, "a technique is listed twice", "name each layer once")
    return index


def coverage_from_profile(
    profile: Profile, stack: list[str] | tuple[str, ...], policy: UnclearPolicy
) -> StackCoverage:
    index = _check_stack(profile, stack)
    straight: dict[str, list[str]] = {}
    blocked: dict[str, dict[str, list[str]]] = {}
    for resolved in policy.resolved():
        prone = profile.prone(resolved)
        straight[resolved.value] = [
            m for j, m in enumerate(profile.modes) if all(prone[i, j] for i in index)
        ]
        blocked[resolved.value] = {
            m: [profile.techniques[i] for i in index if not prone[i, j]]
            for j, m in enumerate(profile.modes)
        }
    return StackCoverage(
        stack=tuple(profile.techniques[i] for i in index),
        policy=policy.value,
        straight_through=straight,
        blocked_by=blocked,
    )


def stack_coverage(
    catalog: Catalog,
    stack: list[str] | tuple[str, ...],
    *,
    policy: UnclearPolicy | str = UnclearPolicy.BOUNDS,
) -> StackCoverage:
    """Failure modes under which every layer of ``stack`` is prone.

    >>> from ddrisk.io.catalog import load_catalog
    >>> stack_coverage(load_catalog(), ["DEBATE", "RE"]).straight_through
    {'pessimistic': ['AL-GEN'], 'optimistic': ['AL-GEN']}
    """
    return coverage_from_profile(Profile.from_catalog(catalog), stack, UnclearPolicy(policy))


@dataclass(frozen=True)
class RankedStack:
    stack: tuple[str, ...]
    straight_through: tuple[str, ...]
    tax_cost: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "stack": list(self.stack),
            "straight_through": list(self.straight_through),
            "straight_through_count": len(self.straight_through),
            "tax_cost": self.tax_cost,
        }


@dataclass(frozen=True)
class BestStacksResult:
    """For each resolved policy and each size k, stacks ranked best first.

    ``tied_best[policy][k]`` lists every stack tied with the best one on both
    keys (straight-through count, then total safety-tax rank), so conclusions
    never hinge on catalog order.
    """

    policy: str
    k_max: int
    top: int
    exhaustive: bool
    excluded_high_tax: bool
    ranked: dict[str, dict[int, list[RankedStack]]]
    tied_best: dict[str, dict[int, list[RankedStack]]]
    method: str

    def best(self, k: int, policy: str = "pessimistic") -> RankedStack:
        return self.ranked[policy][k][0]

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "k_max": self.k_max,
            "exhaustive": self.exhaustive,
            "excluded_high_tax": self.excluded_high_tax,
            "method": self.method,
            "ranking": "fewest straight-through modes, then lowest total safety-tax rank "
            "(low 1, medium 2, unclear 2.5, high 3), then catalog order",
            "by_policy": {
                policy: {
                    str(k): {
                        "best": [s.to_dict() for s in self.ranked[policy][k]],
                        "tied_best": [s.to_dict() for s in self.tied_best[policy][k]],
                    }
                    for k in self.ranked[policy]
                }
                for policy in self.ranked
            },
        }

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        rows = []
        for policy, by_k in self.ranked.items():
            for k, stacks in by_k.items():
                for rank, s in enumerate(stacks, start=1):
                    rows.append(
                        {
                            "policy": policy,
                            "k": k,
                            "rank": rank,
                            "stack": "+".join(s.stack),
                            "straight_through_count": len(s.straight_through),
                            "straight_through": ",".join(s.straight_through),
                            "tax_cost": s.tax_cost,
                        }
                    )
        return pd.DataFrame(rows)


def _rank_size_k(
    profile: Profile, masks: list[int], candidates: list[int], k: int, keep: int
) -> tuple[list[RankedStack], list[RankedStack]]:
    full = (1 << len(profile.modes)) - 1
    scored = []
    for combo in combinations(candidates, k):
        mask = full
        for i in combo:
            mask &= masks[i]
        cost = sum(profile.tax_rank[i] for i in combo)
        scored.append((mask.bit_count(), cost, combo, mask))
    scored.sort(key=lambda s: (s[0], s[1], s[2]))

    def ranked(entry: tuple[int, float, tuple[int, ...], int]) -> RankedStack:
        return RankedStack(
            stack=tuple(profile.techniques[i] for i in entry[2]),
            straight_through=tuple(profile.mode_names(entry[3])),
            tax_cost=entry[1],
        )

    head = scored[0][:2] if scored else None
    tied = [ranked(s) for s in scored if s[:2] == head]
    return [ranked(s) for s in scored[:keep]], tied


def _greedy_size_k(
    profile: Profile, masks: list[int], candidates: list[int], k: int, beam: int
) -> tuple[list[RankedStack], list[RankedStack]]:
    """Beam search for catalogs too large to enumerate; labelled as such in results."""
    full = (1 << len(profile.modes)) - 1
    frontier: list[tuple[int, float, tuple[int, ...], int]] = [(full.bit_count(), 0.0, (), full)]
    for _ in range(k):
        expanded = {}
        for _, cost, combo, mask in frontier:
            for i in candidates:
                if combo and i <= combo[-1]:
                    continue
                new = mask & masks[i]
                key = (*combo, i)
                expanded[key] = (new.bit_count(), cost + profile.tax_rank[i], key, new)
        frontier = sorted(expanded.values(), key=lambda s: (s[0], s[1], s[2]))[:beam]
    out = [
        RankedStack(
            tuple(profile.techniques[i] for i in s[2]), tuple(profile.mode_names(s[3])), s[1]
        )
        for s in frontier
    ]
    head = (len(out[0].straight_through), out[0].tax_cost) if out else None
    return out, [s for s in out if (len(s.straight_through), s.tax_cost) == head]


def best_stacks_from_profile(
    profile: Profile,
    policy: UnclearPolicy,
    *,
    k_max: int | None = None,
    top: int = 5,
    exclude_high_tax: bool = False,
    beam: int = 200,
) -> BestStacksResult:
    candidates = [
        i for i, tax in enumerate(profile.tax) if not (exclude_high_tax and tax == "high")
    ]
    k_limit = len(candidates) if k_max is None else min(k_max, len(candidates))
    exhaustive = len(candidates) <= EXHAUSTIVE_LIMIT
    ranked: dict[str, dict[int, list[RankedStack]]] = {}
    tied: dict[str, dict[int, list[RankedStack]]] = {}
    for resolved in policy.resolved():
        masks = profile.prone_masks(resolved)
        ranked[resolved.value], tied[resolved.value] = {}, {}
        for k in range(1, k_limit + 1):
            if exhaustive:
                best, ties = _rank_size_k(profile, masks, candidates, k, top)
            else:
                best, ties = _greedy_size_k(profile, masks, candidates, k, beam)
            ranked[resolved.value][k] = best
            tied[resolved.value][k] = ties
    method = (
        f"exhaustive over all subsets of {len(candidates)} techniques"
        if exhaustive
        else f"beam search (width {beam}) over {len(candidates)} techniques; not guaranteed optimal"
    )
    return BestStacksResult(
        policy=policy.value,
        k_max=k_limit,
        top=top,
        exhaustive=exhaustive,
        excluded_high_tax=exclude_high_tax,
        ranked=ranked,
        tied_best=tied,
        method=method,
    )


def best_stacks(
    catalog: Catalog,
    *,
    policy: UnclearPolicy | str = UnclearPolicy.BOUNDS,
    k_max: int | None = None,
    top: int = 5,
    exclude_high_tax: bool = False,
) -> BestStacksResult:
    """The best stacks of k techniques for k = 1..k_max (fewest straight-through modes).

    Exhaustive for catalogs of up to 20 techniques; beyond that a labelled beam search.

    >>> from ddrisk.io.catalog import load_catalog
    >>> result = best_stacks(load_catalog(), policy="pessimistic", exclude_high_tax=True)
    >>> result.best(2).stack, result.best(2).straight_through
    (('DEBATE', 'RE'), ('AL-GEN',))
    """
    return best_stacks_from_profile(
        Profile.from_catalog(catalog),
        UnclearPolicy(policy),
        k_max=k_max,
        top=top,
        exclude_high_tax=exclude_high_tax,
    )
