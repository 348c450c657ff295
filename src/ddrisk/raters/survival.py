"""Which conclusions survive rater disagreement.

Each conclusion is computed on several *views* of the matrix: every rater's own ratings (blank
cells read as unclear), the pooled catalog under every rule, and the reference pool with each
rater left out in turn. A conclusion *holds* in a view when it comes out the same as in the
reference view (the pool under :data:`~ddrisk.raters.pooling.DEFAULT_RULE`). A rater *drives* a
conclusion when leaving that rater out changes it.

Conclusions: the structural ones of :mod:`ddrisk.analysis.robustness` (groups, best pair, best
pair without high-tax layers, top priority; under each resolved '?' policy), and three risk
ones: the lowest-risk stack of at most two layers (``ddrisk optimize --max-layers 2``), the top
quantitative research priority of ``stack`` (Fussell-Vesely) and P(stack fails), which holds
when it is within ``factor`` of the reference value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from ddrisk.__version__ import __version__
from ddrisk.analysis.groups import DEFAULT_THRESHOLD
from ddrisk.analysis.profile import Profile, UnclearPolicy
from ddrisk.analysis.robustness import CONCLUSIONS, _conclusions
from ddrisk.raters.model import RaterPanel
from ddrisk.raters.pooling import (
    DEFAULT_EXTREMIZE,
    DEFAULT_RULE,
    POOLING_RULES,
    pool_ratings,
    rater_catalog,
)

if TYPE_CHECKING:
    from ddrisk.catalog.model import Catalog
    from ddrisk.risk.parameters import RiskParameters

DEFAULT_FACTOR = 2.0
LABELS = {
    "groups": "technique groups",
    "best_pair": "best pair (fewest straight-through modes)",
    "best_affordable_pair": "best pair without high-tax layers",
    "top_priority": "top research priority (structural)",
    "risk_best_pair": "lowest-risk stack of <= 2 layers",
    "risk_top_priority": "top research priority of the stack (Fussell-Vesely)",
    "stack_probability": "P(stack fails)",
}


@dataclass(frozen=True)
class View:
    id: str  # "rater:alice", "pool:median", "without:alice"
    kind: str  # "rater" | "pool" | "leave-one-out"
    subject: str  # rater id or rule
    catalog_sha256: str


@dataclass(frozen=True)
class ConclusionRow:
    key: str
    policy: str | None
    reference: str
    values: dict[str, str]  # view id -> conclusion in words
    holds: dict[str, bool]

    @property
    def label(self) -> str:
        return LABELS[self.key] + (f" ({self.policy})" if self.policy else "")

    def holds_for(self, kind: str, views: Sequence[View]) -> bool:
        return all(self.holds[v.id] for v in views if v.kind == kind)

    def failing(self, kind: str, views: Sequence[View]) -> list[str]:
        return [v.subject for v in views if v.kind == kind and not self.holds[v.id]]

    def to_dict(self, views: Sequence[View]) -> dict[str, Any]:
        return {
            "conclusion": self.key,
            "policy": self.policy,
            "label": self.label,
            "reference": self.reference,
            "values": self.values,
            "holds": self.holds,
            "holds_for_every_rater": self.holds_for("rater", views),
            "holds_under_every_rule": self.holds_for("pool", views),
            "holds_leaving_any_rater_out": self.holds_for("leave-one-out", views),
            "dissenting_raters": self.failing("rater", views),
            "rules_that_differ": self.failing("pool", views),
            "driven_by": self.drivers(views),
            "leave_one_out_note": self.leave_one_out_note(views),
        }

    def drivers(self, views: Sequence[View]) -> list[str]:
        """Raters whose absence alone changes the conclusion (empty when every absence does)."""
        failing = self.failing("leave-one-out", views)
        loo = [v for v in views if v.kind == "leave-one-out"]
        return [] if len(failing) == len(loo) else failing

    def leave_one_out_note(self, views: Sequence[View]) -> str:
        loo = [v for v in views if v.kind == "leave-one-out"]
        failing = self.failing("leave-one-out", views)
        if not loo:
            return "not checked (leave-one-out needs 3 or more raters)"
        if not failing:
            return "holds with any one rater left out"
        if len(failing) == len(loo):
            return "changes whenever any one rater is left out (no single rater drives it)"
        return "changes without " + ", ".join(failing)


@dataclass(frozen=True)
class SurvivalResult:
    reference_rule: str
    stack: tuple[str, ...]
    factor: float
    views: tuple[View, ...]
    rows: tuple[ConclusionRow, ...]
    input_sha256: str
    catalog: dict[str, str]
    policy: str
    group_threshold: float

    def row(self, key: str, policy: str | None = "pessimistic") -> ConclusionRow:
        for row in self.rows:
            if row.key == key and (row.policy == policy or row.policy is None):
                return row
        raise KeyError((key, policy))

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "ddrisk.raters.survival/1",
            "ddrisk_version": __version__,
            "catalog": self.catalog,
            "input_sha256": self.input_sha256,
            "settings": {
                "reference_rule": self.reference_rule,
                "stack": list(self.stack),
                "factor": self.factor,
                "policy": self.policy,
                "group_threshold": self.group_threshold,
            },
            "views": [v.__dict__ for v in self.views],
            "conclusions": [row.to_dict(self.views) for row in self.rows],
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per conclusion; a column per view (True where it holds)."""
        return pd.DataFrame(
            [
                {"conclusion": row.label, "reference": row.reference, **row.holds}
                for row in self.rows
            ]
        )


def _structural(
    catalog: Catalog, policies: Sequence[UnclearPolicy], threshold: float
) -> dict[tuple[str, str | None], str]:
    profile = Profile.from_catalog(catalog)
    out: dict[tuple[str, str | None], str] = {}
    for policy in policies:
        values = _conclusions(profile, policy, threshold)
        for key in CONCLUSIONS:
            out[(key, policy.value)] = "; ".join(values[key]) or "none"
    return out


def _risk(
    catalog: Catalog, stack: Sequence[str], params: RiskParameters | None
) -> tuple[dict[tuple[str, str | None], str], float]:
    from ddrisk.risk.engine import compute_stack_failure
    from ddrisk.risk.importance import importance_measures
    from ddrisk.risk.optimize import optimize_stack
    from ddrisk.risk.parameters import resolve_parameters

    best = optimize_stack(catalog, params=params, max_layers=2)
    model = resolve_parameters(catalog, list(stack), params).model
    probability = float(compute_stack_failure(model, engine="exact").probability)
    ranking = importance_measures(model).research_priorities()
    top = ranking.iloc[0]
    tied = ranking[
        (ranking["fussell_vesely"] == top["fussell_vesely"])
        & (ranking["risk_achievement_worth"] == top["risk_achievement_worth"])
    ]
    return {
        ("risk_best_pair", None): "+".join(best.stack),
        ("risk_top_priority", None): "; ".join(sorted(tied["mode"])),
        ("stack_probability", None): f"{probability:.4g}",
    }, probability


def surviving_conclusions(
    panel: RaterPanel,
    *,
    stack: Sequence[str] | None = None,
    params: RiskParameters | None = None,
    reference_rule: str = DEFAULT_RULE,
    extremize: float = DEFAULT_EXTREMIZE,
    factor: float = DEFAULT_FACTOR,
    policy: UnclearPolicy | str = UnclearPolicy.BOUNDS,
    group_threshold: float = DEFAULT_THRESHOLD,
) -> SurvivalResult:
    """Check every conclusion in every view of ``panel`` against the reference pooled view.

    ``stack`` defaults to the reference view's lowest-risk stack of at most two layers.
    """
    if reference_rule not in POOLING_RULES:
        raise ValueError(f"unknown reference rule {reference_rule!r}")
    if not (math.isfinite(factor) and factor >= 1):  # NaN fails every comparison silently
        raise ValueError("factor must be a finite number >= 1")
    policies = UnclearPolicy(policy).resolved()
    views: list[tuple[View, Catalog]] = []
    reference = pool_ratings(panel, rule=reference_rule, extremize=extremize).catalog
    for rid in panel.rater_ids:
        catalog = rater_catalog(panel, rid)
        views.append((View(f"rater:{rid}", "rater", rid, catalog.content_hash), catalog))
    for rule in POOLING_RULES:
        catalog = pool_ratings(panel, rule=rule, extremize=extremize).catalog
        views.append((View(f"pool:{rule}", "pool", rule, catalog.content_hash), catalog))
    if len(panel.files) > 2:
        for rid in panel.rater_ids:
            catalog = pool_ratings(
                panel.without(rid), rule=reference_rule, extremize=extremize
            ).catalog
            views.append(
                (View(f"without:{rid}", "leave-one-out", rid, catalog.content_hash), catalog)
            )
    if stack is None:
        from ddrisk.risk.optimize import optimize_stack

        stack = optimize_stack(reference, params=params, max_layers=2).stack
    ref_values = _structural(reference, policies, group_threshold)
    risk_values, ref_p = _risk(reference, stack, params)
    ref_values.update(risk_values)
    per_view: dict[str, dict[tuple[str, str | None], str]] = {}
    probabilities: dict[str, float] = {}
    for view, catalog in views:
        values = _structural(catalog, policies, group_threshold)
        risk, p = _risk(catalog, stack, params)
        values.update(risk)
        per_view[view.id] = values
        probabilities[view.id] = p
    rows = []
    for key in ref_values:
        holds = {}
        for view, _catalog in views:
            if key[0] == "stack_probability":
                p = probabilities[view.id]
                holds[view.id] = ref_p / factor <= p <= ref_p * factor
            else:
                holds[view.id] = per_view[view.id][key] == ref_values[key]
        rows.append(
            ConclusionRow(
                key[0],
                key[1],
                ref_values[key],
                {view.id: per_view[view.id][key] for view, _c in views},
                holds,
            )
        )
    provenance = panel.provenance()
    return SurvivalResult(
        reference_rule=reference_rule,
        stack=tuple(stack),
        factor=factor,
        views=tuple(v for v, _c in views),
        rows=tuple(rows),
        input_sha256=provenance["input_sha256"],
        catalog=provenance["catalog"],
        policy=UnclearPolicy(policy).value,
        group_threshold=group_threshold,
    )
