"""``run_audit``: one stack file in, one typed audit result out.

Every number comes from the existing engines run on the derived catalog
(:mod:`ddrisk.audit.compile`): straight-through modes and the layers that block each mode from
:func:`ddrisk.analysis.stack_coverage`; P(all layers fail), the effective number of layers,
importance measures and Monte Carlo uncertainty from :func:`ddrisk.risk.assess_stack`; the
'?' bounds from :func:`ddrisk.risk.compute_stack_failure`; additions from
:func:`ddrisk.risk.optimize_stack` with the deployed layers held fixed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ddrisk import defaults
from ddrisk.analysis import stack_coverage
from ddrisk.audit.additions import AdditionsResult, best_additions
from ddrisk.audit.compile import CompiledStack, describe_costs
from ddrisk.audit.priorities import Impact, PrioritiesResult, research_priorities
from ddrisk.audit.questions import QuestionResult, answer_questions
from ddrisk.catalog.model import Level
from ddrisk.risk import StackRisk, assess_stack, compute_stack_failure, resolve_parameters
from ddrisk.risk.distributions import FixedValue
from ddrisk.risk.evidence import StressCountsFile
from ddrisk.risk.parameters import PartialParameters, Setting

AUDIT_FORMAT = "ddrisk.audit/1"
DEFAULT_DRAWS = defaults.UNCERTAINTY_DRAWS


@dataclass(frozen=True)
class ModeReport:
    """A straight-through mode or near-miss, with its framework entries."""

    mode: str
    name: str
    definite: bool
    blocked_by: tuple[str, ...]
    lineage: dict[str, Any] | None
    frameworks: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "name": self.name,
            "definite": self.definite,
            "blocked_by": list(self.blocked_by),
            "lineage": self.lineage,
            "frameworks": list(self.frameworks),
        }


@dataclass(frozen=True)
class AuditResult:
    """The complete audit of one deployed stack."""

    compiled: CompiledStack
    input_sha256: str
    seed: int
    straight_through: tuple[ModeReport, ...]
    near_misses: tuple[ModeReport, ...]
    risk: StackRisk
    bounds: dict[str, float]
    questions: tuple[QuestionResult, ...]
    additions: AdditionsResult
    priorities: PrioritiesResult | None
    priorities_note: str | None
    levels: dict[str, dict[str, str]] = field(repr=False)
    counts_sha256: str | None = None

    @property
    def layers(self) -> tuple[str, ...]:
        return self.compiled.layers

    @property
    def probability(self) -> float:
        return float(self.risk.result.probability)

    def to_dict(self) -> dict[str, Any]:
        from ddrisk.__version__ import __version__

        stack = self.compiled.stack
        result = self.risk.result
        unc = self.risk.uncertainty
        evidence = self.risk.to_dict()["evidence"]
        if evidence is not None:
            evidence = {**evidence, "counts_sha256": self.counts_sha256}
        return {
            "format": AUDIT_FORMAT,
            "ddrisk_version": __version__,
            "input_sha256": self.input_sha256,
            "seed": self.seed,
            "stack": {"id": stack.id, "title": stack.title, "layers": list(self.layers)},
            "catalog": {
                "base": self.compiled.base_catalog.label,
                "base_sha256": self.compiled.base_catalog.content_hash,
                "derived": self.compiled.catalog.label,
                "derived_sha256": self.compiled.catalog.content_hash,
                "replaced_generic_modes": list(self.compiled.replaced_modes),
            },
            "lineage": {"shared_modes": [m.to_dict() for m in self.compiled.shared_modes]},
            "levels": self.levels,
            "straight_through": [m.to_dict() for m in self.straight_through],
            "near_misses": [m.to_dict() for m in self.near_misses],
            "risk": {
                "model": self.risk.resolved.model.name,
                "parameters_sha256": self.risk.resolved.parameters_hash,
                "probability": result.probability,
                "engine": result.engine,
                "method": result.method,
                "independence_prediction": result.independence_prediction,
                "correlation_penalty": result.correlation_penalty,
                "effective_layers": result.effective_layers,
                "n_layers": len(self.layers),
                "unclear_bounds": self.bounds,
                "uncertainty": None if unc is None else unc.to_dict(),
                "evidence": evidence,
                "assessment": self.risk.to_dict(),
            },
            "questions": [q.to_dict() for q in self.questions],
            "costs": describe_costs(self.compiled),
            "additions": self.additions.to_dict(),
            "priorities": None if self.priorities is None else self.priorities.to_dict(),
            "priorities_note": self.priorities_note,
        }


def _framework_entries(mode: str, mappings: Mapping[str, Any]) -> tuple[dict[str, Any], ...]:
    out = []
    for mapping_set in mappings.values():
        for row in mapping_set.for_mode(mode):
            out.append(row.to_dict())
    return tuple(out)


def _mode_report(
    compiled: CompiledStack,
    mode: str,
    *,
    definite: bool,
    blocked_by: list[str],
    mappings: Mapping[str, Any],
) -> ModeReport:
    shared = {m.id: m for m in compiled.shared_modes}
    lineage = shared[mode].to_dict() if mode in shared else None
    lookup = shared[mode].generic_mode if mode in shared else mode
    return ModeReport(
        mode=mode,
        name=compiled.catalog.failure_mode(mode).name,
        definite=definite,
        blocked_by=tuple(blocked_by),
        lineage=lineage,
        frameworks=_framework_entries(lookup, mappings),
    )


def _unclear_bounds(compiled: CompiledStack, engine: str, seed: int) -> dict[str, float]:
    """P(stack fails) with every '?' cell read as prone, and as not prone."""
    params = compiled.params
    out = {}
    for name, level in (
        ("unclear_as_prone", Level.PRONE),
        ("unclear_as_not_prone", Level.NOT_PRONE),
    ):
        value = params.p_levels[level]
        override = PartialParameters(
            p_levels={
                Level.UNCLEAR: Setting(FixedValue(value.value.mean), value.source, value.where)
            }
        )
        model = resolve_parameters(
            compiled.catalog, list(compiled.layers), params.merged(override)
        ).model
        out[name] = float(compute_stack_failure(model, engine=engine, seed=seed).probability)
    return out


def run_audit(
    compiled: CompiledStack,
    *,
    input_sha256: str,
    mappings: Mapping[str, Any],
    impacts: Mapping[str, Impact],
    weights: Mapping[str, float] | None = None,
    seed: int = defaults.SEED,
    n_draws: int = DEFAULT_DRAWS,
    budget: float | None = None,
    max_additions: int | None = None,
    counts: StressCountsFile | None = None,
    counts_sha256: str | None = None,
    engine: str = "auto",
) -> AuditResult:
    """Audit a compiled stack; ``budget``/``max_additions`` override the stack file's.

    ``counts_sha256`` names the counts file the evidence came from, so the record says which
    measurements moved the numbers.
    """
    catalog = compiled.catalog
    layers = compiled.layers
    coverage = stack_coverage(catalog, layers, policy="bounds")
    pessimistic = coverage.straight_through["pessimistic"]
    definite = set(coverage.straight_through["optimistic"])
    straight = tuple(
        _mode_report(compiled, m, definite=m in definite, blocked_by=[], mappings=mappings)
        for m in pessimistic
    )
    blocked = coverage.blocked_by["pessimistic"]
    near = tuple(
        _mode_report(compiled, m, definite=True, blocked_by=blocked[m], mappings=mappings)
        for m in catalog.failure_mode_ids
        if len(blocked[m]) == 1 and len(layers) > 1
    )
    risk = assess_stack(
        catalog,
        list(layers),
        params=compiled.params,
        engine=engine,
        seed=seed,
        n_draws=n_draws,
        counts=counts,
    )
    bounds = _unclear_bounds(compiled, "exact" if engine != "sample" else "sample", seed)
    kinds: dict[str, list[str]] = {}
    for mode in compiled.shared_modes:
        kinds.setdefault(mode.kind, []).append(mode.id)
    questions = answer_questions(catalog, layers, kinds)
    stack = compiled.stack
    additions = best_additions(
        catalog,
        layers,
        compiled.candidates,
        params=compiled.params,
        costs=compiled.costs,
        budget=stack.budget if budget is None else budget,
        max_additions=stack.max_additions if max_additions is None else max_additions,
        straight_through=list(pessimistic),
        seed=seed,
    )
    priorities, note = None, risk.importance_note
    if risk.importance is not None:
        frame = risk.importance.to_frame("modes")
        importance = {
            str(m): float(v) if math.isfinite(float(v)) else 0.0
            for m, v in zip(frame["mode"], frame["fussell_vesely"], strict=True)
        }
        shared = {m.id: m.generic_mode for m in compiled.shared_modes}
        mode_impacts = {
            m: impacts[shared.get(m, m)] for m in importance if shared.get(m, m) in impacts
        }
        missing = [m for m in importance if m not in mode_impacts]
        priorities = research_priorities(importance, mode_impacts, weights=weights)
        if missing:
            note = f"no impact score for {', '.join(missing)}: ranked by importance only elsewhere"
    levels = {
        layer: {m: catalog.rating(layer, m).effective_level.value for m in catalog.failure_mode_ids}
        for layer in layers
    }
    return AuditResult(
        compiled=compiled,
        input_sha256=input_sha256,
        seed=seed,
        straight_through=straight,
        near_misses=near,
        risk=risk,
        bounds=bounds,
        questions=questions,
        additions=additions,
        priorities=priorities,
        priorities_note=note,
        levels=levels,
        counts_sha256=counts_sha256,
    )
