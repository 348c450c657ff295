"""Turn a stack file and its catalog into one derived catalog the existing engines can read.

The derived catalog's techniques are the deployed layers (under the stack's layer ids) and
the candidate additions (under their catalog ids); its failure modes are the catalog's plus
one per shared lineage item. Because it is an ordinary validated :class:`Catalog`, the
structural analysis (:mod:`ddrisk.analysis`) and the risk engine (:mod:`ddrisk.risk`) run on
it unchanged and stay the one source of every number the audit reports.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from ddrisk.audit.lineage import (
    GENERIC_MODE,
    REPLACED_GENERIC,
    Problem,
    SharedMode,
    declared_kinds,
    lineage_problems,
    shared_lineage_modes,
)
from ddrisk.audit.stack import StackFile
from ddrisk.catalog.model import (
    Catalog,
    Confidence,
    FailureMode,
    Level,
    Provenance,
    Rater,
    Rating,
    Technique,
)
from ddrisk.risk.distributions import FixedValue
from ddrisk.risk.optimize import DEFAULT_COSTS
from ddrisk.risk.parameters import (
    PartialParameters,
    RiskParameters,
    Setting,
    parameters_from_mapping,
)

STACK_RATER = "stack-owner"
LINEAGE_RATER = "lineage"


@dataclass(frozen=True)
class CompiledStack:
    """The derived catalog, the stack's layers and candidates, costs and parameters."""

    stack: StackFile
    base_catalog: Catalog
    catalog: Catalog
    layers: tuple[str, ...]
    candidates: tuple[str, ...]
    costs: dict[str, float]
    shared_modes: tuple[SharedMode, ...]
    replaced_modes: tuple[str, ...]
    params: RiskParameters
    layer_technique: dict[str, str | None] = field(default_factory=dict)


def _suggest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f"did you mean '{close[0]}'? " if close else ""
    shown = ", ".join(known[:20]) + (", ..." if len(known) > 20 else "")
    return f"{hint}use one of: {shown}"


def stack_problems(stack: StackFile, catalog: Catalog) -> list[Problem]:
    """Cross-reference problems of a stack against its catalog, in document order."""
    problems: list[Problem] = []
    techniques = catalog.technique_ids
    modes = catalog.failure_mode_ids
    seen: dict[str, int] = {}
    for i, layer in enumerate(stack.layers):
        path = ("layers", i)
        if layer.id in seen:
            problems.append(
                ((*path, "id"), f"duplicate layer id '{layer.id}'", "give every layer its own id")
            )
        seen[layer.id] = i
        if (layer.technique is None) == (layer.custom is None):
            problems.append(
                (
                    path,
                    "a layer needs exactly one of 'technique' (a catalog technique) or 'custom'",
                    "name a catalog technique or describe the layer under 'custom'",
                )
            )
        elif layer.technique is not None and layer.technique not in techniques:
            problems.append(
                (
                    (*path, "technique"),
                    f"unknown technique '{layer.technique}' in catalog {catalog.id}",
                    _suggest(layer.technique, techniques),
                )
            )
        elif layer.custom is not None:
            for mode in layer.custom.ratings:
                if mode not in modes:
                    problems.append(
                        (
                            (*path, "custom", "ratings", mode),
                            f"unknown failure mode '{mode}' in catalog {catalog.id}",
                            _suggest(mode, modes),
                        )
                    )
            for mode, cell in layer.custom.ratings.items():
                if cell.level is None and cell.probability is None:
                    problems.append(
                        (
                            (*path, "custom", "ratings", mode),
                            "a rating needs a 'level' or a 'probability'",
                            "add level: prone|not_prone|unclear or probability: 0..1",
                        )
                    )
        if layer.id in techniques and layer.technique != layer.id:
            problems.append(
                (
                    (*path, "id"),
                    f"layer id '{layer.id}' is also a technique id of the catalog",
                    "choose another layer id (candidate additions use technique ids)",
                )
            )
    for k, candidate in enumerate(stack.candidates or []):
        if candidate not in techniques:
            problems.append(
                (
                    ("candidates", k),
                    f"unknown technique '{candidate}' in catalog {catalog.id}",
                    _suggest(candidate, techniques),
                )
            )
    problems += lineage_problems(stack)
    return problems


def _copy_rating(rating: Rating, technique: str) -> Rating:
    return rating.model_copy(update={"technique": technique})


def _layer_ratings(
    stack: StackFile, catalog: Catalog, index: int, modes: list[str]
) -> list[Rating]:
    layer = stack.layers[index]
    if layer.technique is not None:
        return [_copy_rating(catalog.rating(layer.technique, m), layer.id) for m in modes]
    assert layer.custom is not None
    out = []
    for mode in modes:
        cell = layer.custom.ratings.get(mode)
        if cell is None:
            out.append(
                Rating(
                    technique=layer.id,
                    failure_mode=mode,
                    level=layer.custom.unrated,
                    rater=STACK_RATER,
                    confidence=Confidence.LOW,
                    rationale="not rated in the stack file; 'unrated' default applies",
                    provenance=Provenance(corroboration="original"),
                )
            )
        else:
            out.append(
                Rating(
                    technique=layer.id,
                    failure_mode=mode,
                    level=cell.level,
                    probability=cell.probability,
                    rater=STACK_RATER,
                    confidence=cell.confidence,
                    rationale=cell.rationale,
                    provenance=Provenance(corroboration="original"),
                )
            )
    return out


def _shared_rating(
    mode: SharedMode, technique: str, catalog: Catalog, *, is_layer: bool, p: float
) -> Rating:
    if is_layer and technique in mode.layers:
        return Rating(
            technique=technique,
            failure_mode=mode.id,
            level=Level.PRONE,
            probability=p,
            rater=LINEAGE_RATER,
            confidence=Confidence.MEDIUM,
            rationale=f"depends on {mode.entity}: {mode.via[technique]}",
            provenance=Provenance(corroboration="inferred", note="derived from the stack lineage"),
        )
    if is_layer:
        return Rating(
            technique=technique,
            failure_mode=mode.id,
            level=Level.NOT_PRONE,
            rater=LINEAGE_RATER,
            confidence=Confidence.MEDIUM,
            rationale=f"the stack file declares no dependence on {mode.entity}",
            provenance=Provenance(corroboration="inferred", note="derived from the stack lineage"),
        )
    generic = mode.generic_mode
    level = Level.NOT_PRONE
    reason = f"catalog rates {technique} not prone to the generic mode {generic}"
    if generic in catalog.failure_mode_ids:
        catalog_level = catalog.rating(technique, generic).effective_level
        if catalog_level is not Level.NOT_PRONE:
            level = Level.UNCLEAR
            reason = (
                f"a new {technique} layer might be built on {mode.entity} too "
                f"(catalog: {catalog_level.value} to {generic}); unknown until chosen"
            )
    return Rating(
        technique=technique,
        failure_mode=mode.id,
        level=level,
        rater=LINEAGE_RATER,
        confidence=Confidence.LOW,
        rationale=reason,
        provenance=Provenance(corroboration="inferred"),
    )


def _stack_parameters(stack: StackFile, source: str) -> RiskParameters:
    data = {
        key: value
        for key, value in (
            ("q", stack.risk.q),
            ("p", stack.risk.p),
            ("residual", stack.risk.residual),
        )
        if value
    }
    partial = parameters_from_mapping(data, source=f"{source} (risk)") if data else None
    params = RiskParameters()
    if partial is not None:
        params = params.merged(partial)
    layer_residuals = {
        layer.id: Setting(FixedValue(layer.residual), source, f"layers.{layer.id}.residual")
        for layer in stack.layers
        if layer.residual is not None
    }
    if layer_residuals:
        params = params.merged(PartialParameters(r_layers=layer_residuals))
    return params


def compile_stack(stack: StackFile, catalog: Catalog, *, source: str = "<stack>") -> CompiledStack:
    """The derived catalog and everything the engines need (assumes no stack_problems)."""
    shared = shared_lineage_modes(stack)
    kinds = declared_kinds(stack)
    replaced = tuple(
        g
        for g in REPLACED_GENERIC
        if g in catalog.failure_mode_ids and any(GENERIC_MODE[k] == g for k in kinds)
    )
    base_modes = [m for m in catalog.failure_mode_ids if m not in replaced]
    deployed = {layer.technique for layer in stack.layers if layer.technique}
    candidates = tuple(
        stack.candidates
        if stack.candidates is not None
        else [t for t in catalog.technique_ids if t not in deployed]
    )
    layers = tuple(stack.layer_ids())
    techniques: list[Technique] = []
    ratings: list[Rating] = []
    costs: dict[str, float] = {}
    p_shared = stack.risk.shared_lineage_p
    for i, layer in enumerate(stack.layers):
        if layer.technique is not None:
            base = catalog.technique(layer.technique)
            technique = base.model_copy(
                update={
                    "id": layer.id,
                    "name": layer.name or base.name,
                    "description": layer.description or base.description,
                }
            )
        else:
            assert layer.custom is not None
            technique = Technique(
                id=layer.id,
                name=layer.name or layer.custom.name,
                category=layer.custom.category,
                safety_tax=layer.custom.safety_tax,
                safety_tax_basis="stated",
                description=layer.description,
            )
        techniques.append(technique)
        costs[layer.id] = (
            layer.cost if layer.cost is not None else DEFAULT_COSTS[technique.safety_tax]
        )
        ratings += _layer_ratings(stack, catalog, i, base_modes)
        ratings += [_shared_rating(m, layer.id, catalog, is_layer=True, p=p_shared) for m in shared]
    for candidate in candidates:
        technique = catalog.technique(candidate)
        techniques.append(technique)
        costs[candidate] = DEFAULT_COSTS[technique.safety_tax]
        ratings += [catalog.rating(candidate, m) for m in base_modes]
        ratings += [
            _shared_rating(m, candidate, catalog, is_layer=False, p=p_shared) for m in shared
        ]
    modes = [catalog.failure_mode(m) for m in base_modes] + [
        FailureMode(
            id=m.id,
            name=m.name,
            definition=f"Layers {', '.join(m.layers)} all depend on {m.entity}; its blind spots "
            f"are theirs (refines {m.generic_mode}).",
        )
        for m in shared
    ]
    derived = Catalog(
        id=f"audit-{stack.id}"[:64],
        version=catalog.version,
        title=f"Audit of {stack.title}",
        description=f"Derived by ddrisk audit from {catalog.label} and the stack file.",
        references=catalog.references,
        raters=[
            *catalog.raters,
            Rater(id=STACK_RATER, name="Stack file owner", kind="team"),
            Rater(id=LINEAGE_RATER, name="Derived from lineage", kind="derived"),
        ],
        techniques=techniques,
        failure_modes=modes,
        ratings=ratings,
    )
    return CompiledStack(
        stack=stack,
        base_catalog=catalog,
        catalog=derived,
        layers=layers,
        candidates=candidates,
        costs=costs,
        shared_modes=shared,
        replaced_modes=replaced,
        params=_stack_parameters(stack, source),
        layer_technique={layer.id: layer.technique for layer in stack.layers},
    )


def describe_costs(compiled: CompiledStack) -> dict[str, Any]:
    return {
        "deployed": {layer: compiled.costs[layer] for layer in compiled.layers},
        "deployed_total": sum(compiled.costs[layer] for layer in compiled.layers),
        "candidates": {c: compiled.costs[c] for c in compiled.candidates},
        "scale": {tax.value: cost for tax, cost in DEFAULT_COSTS.items()},
    }
