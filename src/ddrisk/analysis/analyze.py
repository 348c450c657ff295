"""One call that runs the whole structural analysis and records how it was run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ddrisk.__version__ import __version__
from ddrisk.analysis.coverage import (
    BestStacksResult,
    StackCoverage,
    best_stacks_from_profile,
    coverage_from_profile,
)
from ddrisk.analysis.groups import (
    DEFAULT_THRESHOLD,
    GroupsResult,
    check_threshold,
    groups_from_profile,
)
from ddrisk.analysis.overlap import OverlapResult, overlap_from_profile
from ddrisk.analysis.priorities import STACK_SIZES, PrioritiesResult, priorities_from_profile
from ddrisk.analysis.profile import Profile, UnclearPolicy
from ddrisk.analysis.robustness import RobustnessResult, robustness_from_profile
from ddrisk.analysis.summary import Finding, summarize
from ddrisk.catalog.model import Catalog

JSON_FORMAT_VERSION = "1"


@dataclass(frozen=True)
class AnalysisResult:
    """Everything ``ddrisk analyze`` reports, plus the settings and input that produced it."""

    catalog: dict[str, str]
    settings: dict[str, Any]
    overlap: OverlapResult
    groups: GroupsResult
    best_stacks: BestStacksResult
    priorities: PrioritiesResult
    robustness: RobustnessResult
    findings: tuple[Finding, ...]
    coverage: StackCoverage | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": f"ddrisk.analysis/{JSON_FORMAT_VERSION}",
            "ddrisk_version": __version__,
            "catalog": self.catalog,
            "settings": self.settings,
            "summary": [f.to_dict() for f in self.findings],
            "overlap": self.overlap.to_dict(),
            "groups": self.groups.to_dict(),
            "stack": self.coverage.to_dict() if self.coverage else None,
            "best_stacks": self.best_stacks.to_dict(),
            "priorities": self.priorities.to_dict(),
            "robustness": self.robustness.to_dict(),
        }


def analyze(
    catalog: Catalog,
    *,
    policy: UnclearPolicy | str = UnclearPolicy.BOUNDS,
    stack: list[str] | tuple[str, ...] | None = None,
    k_max: int | None = None,
    top: int = 5,
    group_threshold: float = DEFAULT_THRESHOLD,
    seed: int = 0,
) -> AnalysisResult:
    """Run overlap, groups, coverage, best stacks, priorities, robustness and the summary.

    >>> from ddrisk.io.catalog import load_catalog
    >>> result = analyze(load_catalog(), stack=["DEBATE", "RE"])
    >>> result.coverage.straight_through["optimistic"]
    ['AL-GEN']
    """
    check_threshold(group_threshold)
    policy = UnclearPolicy(policy)
    profile = Profile.from_catalog(catalog)
    coverage = coverage_from_profile(profile, stack, policy) if stack else None
    stacks = best_stacks_from_profile(profile, policy, k_max=k_max, top=top)
    # Priorities use the best stacks of 1..STACK_SIZES layers; reuse these when they reach that far.
    covers = stacks.k_max >= min(STACK_SIZES, len(profile.techniques))
    priorities = priorities_from_profile(profile, policy, stacks=stacks if covers else None)
    groups = groups_from_profile(profile, policy, threshold=group_threshold)
    robust = robustness_from_profile(profile, policy, threshold=group_threshold, seed=seed)
    findings = summarize(
        profile, policy=policy, groups=groups, stacks=stacks, priorities=priorities, robust=robust
    )
    return AnalysisResult(
        catalog={
            "id": catalog.id,
            "version": catalog.version,
            "title": catalog.title,
            "sha256": catalog.content_hash,
            "label": catalog.label,
        },
        settings={
            "policy": policy.value,
            "stack": list(coverage.stack) if coverage else None,
            "k_max": stacks.k_max,
            "top": top,
            "group_threshold": group_threshold,
            "group_method": groups.method,
            "best_stacks_method": stacks.method,
            "seed": seed,
        },
        overlap=overlap_from_profile(profile, policy),
        groups=groups,
        best_stacks=stacks,
        priorities=priorities,
        robustness=robust,
        findings=tuple(findings),
        coverage=coverage,
    )
