"""One stack's full risk assessment, shared by ``ddrisk risk``, ``ddrisk report`` and the API.

Every part respects the engine choice and the exact engine's budget: with ``engine="auto"``
the headline, marginal values, curve, importance and uncertainty all use the exact engine
when it reaches the stack and the sampler when it does not, and :attr:`StackRisk.engines`
says which engine produced each part. Marginal values come from the same backward pass as
the importance measures (removing a layer is the same event as its residual becoming
certain), so they cost no extra solves; the curve's prefixes share one elimination plan
and the Gaussian copula's prefixes one quadrature (:mod:`ddrisk.risk.copula`).

``parts`` says what to compute (:data:`PARTS`; default all of them): a caller who needs only
P(stack fails), as a fault-tree tool reports it, skips the importance pass, the dependence
models and the curve, and the modules behind them are never imported.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ddrisk import defaults
from ddrisk.risk.settings import DEFAULT_BETA, DEFAULT_RHO, PARTS, check_parts
from ddrisk.risk.structure import to_data as structure_data

if TYPE_CHECKING:
    import numpy as np

    from ddrisk.catalog import Catalog
    from ddrisk.risk.dependence import DependenceComparison, DependenceCurve
    from ddrisk.risk.engine import StackFailure
    from ddrisk.risk.evidence import StressCountsFile
    from ddrisk.risk.importance import ImportanceMeasures
    from ddrisk.risk.optimize import LayerValue
    from ddrisk.risk.parameters import ResolvedParameters, RiskParameters
    from ddrisk.risk.propagation import UncertaintyResult
    from ddrisk.risk.structure import Node

RISK_SCHEMA = "ddrisk.risk/1"
DEFAULT_DRAWS = defaults.SAMPLER_DRAWS
"""Draws of the importance sampler when it is used (``ddrisk risk --draws``)."""


@dataclass(frozen=True)
class StackRisk:
    """Everything ``ddrisk risk`` and the report compute for one stack, and its JSON form."""

    resolved: ResolvedParameters
    result: StackFailure
    engine: str
    seed: int
    marginals: np.ndarray = field(repr=False)
    values: tuple[LayerValue, ...] | None
    dependence: DependenceComparison | None
    curve: DependenceCurve | None
    importance: ImportanceMeasures | None
    importance_note: str | None
    evidence: dict[str, Any] | None
    uncertainty: UncertaintyResult | None
    engines: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    parts: tuple[str, ...] = PARTS

    @property
    def structure(self) -> str:
        """The stack's structure in words (``all miss (A, B)`` by default)."""
        return self.resolved.model.structure_name

    def to_dict(self) -> dict[str, Any]:
        from ddrisk.__version__ import __version__

        return {
            "format": RISK_SCHEMA,
            "schema": RISK_SCHEMA,
            "ddrisk_version": __version__,
            "model": self.resolved.model.name,
            "catalog": {"label": self.resolved.catalog_label, "sha256": self.resolved.catalog_hash},
            "stack": list(self.resolved.layers),
            "structure": {
                "text": self.structure,
                "tree": None
                if self.resolved.model.structure is None
                else structure_data(self.resolved.model.structure),
            },
            "engine": {"requested": self.engine, "seed": self.seed, "parts": self.engines},
            "parts": list(self.parts),
            "notes": list(self.notes),
            "parameters": self.resolved.to_dict(),
            "result": self.result.to_dict(),
            "layers": [
                {
                    "layer": layer,
                    "marginal": float(self.marginals[i]),
                    "residual": float(self.resolved.model.r[i]),
                    "prone_modes": [
                        m
                        for j, m in enumerate(self.resolved.modes)
                        if self.resolved.levels[i][j] == "prone"
                    ],
                    "marginal_value": None if self.values is None else self.values[i].to_dict(),
                }
                for i, layer in enumerate(self.resolved.layers)
            ],
            "dependence": None if self.dependence is None else self.dependence.to_dict(),
            "curve": None if self.curve is None else self.curve.to_dict(),
            "importance": None if self.importance is None else self.importance.to_dict(),
            "importance_note": self.importance_note,
            "evidence": None
            if self.evidence is None
            else {
                "counts": self.evidence["counts"].to_dict(),
                "updates": [u.to_dict() for u in self.evidence["updates"]],
                "joint": self.evidence["joint"],
            },
            "uncertainty": None if self.uncertainty is None else self.uncertainty.to_dict(),
        }


def assess_stack(
    catalog: Catalog,
    stack: list[str] | tuple[str, ...],
    *,
    params: RiskParameters | None = None,
    engine: str = "auto",
    seed: int = defaults.SEED,
    beta: float = DEFAULT_BETA,
    rho: float = DEFAULT_RHO,
    n_draws: int = 0,
    counts: StressCountsFile | None = None,
    structure: Node | None = None,
    n_samples: int = DEFAULT_DRAWS,
    exact_budget: int | None = None,
    parts: Iterable[str] = PARTS,
) -> StackRisk:
    """Compute everything known about one stack's risk: the one path behind CLI and report.

    P(stack fails) from the engine, each layer's marginal value, the dependence models on the
    same marginals, the curve over the first n layers, importance measures, evidence from
    stress-test counts (``counts``, e.g. read by :func:`ddrisk.io.counts.read_stress_counts`)
    and, with ``n_draws`` > 0, Monte Carlo propagation of uncertain parameters. ``params``
    defaults to the built-in parameters; ``structure`` (:mod:`ddrisk.risk.structure`) says how
    the layers combine (default: the stack fails when every layer misses); ``n_samples`` is
    the sampler's number of draws wherever the sampler is used; ``exact_budget`` replaces
    both budgets of the exact engine (DP table entries and BDD nodes); ``parts`` (see
    :data:`PARTS`) limits the work to what the caller reads; parts left out are ``None``.
    """
    from ddrisk.risk.engine import compute_stack_failure
    from ddrisk.risk.exact import DEFAULT_NODE_BUDGET, DEFAULT_STATE_BUDGET
    from ddrisk.risk.parameters import RiskParameters, resolve_parameters

    wanted = check_parts(parts)
    params = params if params is not None else RiskParameters()
    evidence: dict[str, Any] | None = None
    if counts is not None:
        from ddrisk.risk.evidence import apply_stress_counts

        params, updates = apply_stress_counts(params, counts, catalog)
        evidence = {"counts": counts, "updates": updates, "joint": None}
    resolved = resolve_parameters(catalog, list(stack), params)
    if structure is not None:
        resolved = replace(resolved, model=replace(resolved.model, structure=structure))
    model = resolved.model
    budgets = {
        "node_budget": exact_budget or DEFAULT_NODE_BUDGET,
        "state_budget": exact_budget or DEFAULT_STATE_BUDGET,
    }
    result = compute_stack_failure(
        model,
        engine=engine,
        seed=seed,
        n_samples=n_samples,
        node_budget=budgets["node_budget"],
        state_budget=budgets["state_budget"],
    )
    part_engine = "exact" if result.engine == "exact" else "sample"
    engines = {"P(stack fails)": f"{result.engine} ({result.method})"}
    notes: list[str] = []
    importance, importance_note = _importance(model, result, wanted, budgets)
    if "importance" in wanted and importance is not None:
        engines["importance"] = f"exact ({importance.method})"
    values = None
    if "marginal-values" in wanted:
        if importance is not None:
            values = _values_from_importance(model, importance, float(result.probability))
            engines["marginal values"] = f"exact ({importance.method}, same pass as importance)"
        else:
            draws = max(2_000, n_samples // 5)
            values = _sampled_values(
                model, seed=seed, n_samples=draws, base=float(result.probability)
            )
            engines["marginal values"] = f"sample ({draws} draws per layer, seed {seed})"
    if "importance" not in wanted:  # computed only for the marginal values
        importance, importance_note = None, "not requested (parts: " + ", ".join(wanted) + ")"
    dependence = curve = None
    if "dependence" in wanted or "curve" in wanted:
        dependence, curve = _dependence_parts(
            model, result, wanted, notes, engines, engine, seed, beta, rho, n_samples, budgets
        )
    if evidence is not None and evidence["counts"].joint is not None:
        from ddrisk.risk.evidence import joint_posterior

        joint = evidence["counts"].joint
        posterior = joint_posterior(joint)
        evidence["joint"] = {
            "failures": joint.failures,
            "n": joint.n,
            "prior": "beta(0.5, 0.5) (Jeffreys)",
            "posterior": posterior.spec,
            "posterior_mean": posterior.mean,
            "model_quantile": posterior.cdf(float(result.probability)),
        }
    uncertainty = None
    if n_draws:
        uncertainty = _uncertainty(resolved, part_engine, n_draws, seed, n_samples, engines)
    return StackRisk(
        resolved=resolved,
        result=result,
        engine=engine,
        seed=seed,
        marginals=result.layer_marginals,
        values=values,
        dependence=dependence,
        curve=curve,
        importance=importance,
        importance_note=importance_note,
        evidence=evidence,
        uncertainty=uncertainty,
        engines=engines,
        notes=tuple(notes),
        parts=wanted,
    )


def _importance(
    model: Any, result: StackFailure, wanted: tuple[str, ...], budgets: dict[str, int]
) -> tuple[ImportanceMeasures | None, str | None]:
    """The importance pass when importance or marginal values are wanted and exact applies."""
    if "importance" not in wanted and "marginal-values" not in wanted:
        return None, None
    if result.engine != "exact":
        return None, (
            "importance measures need the exact engine, which is over budget on this stack"
            if result.note
            else "importance measures need the exact engine (engine 'sample' was asked for)"
        )
    from ddrisk.risk.exact import BudgetExceeded
    from ddrisk.risk.importance import importance_measures

    try:
        measures = importance_measures(
            model, node_budget=budgets["node_budget"], state_budget=budgets["state_budget"]
        )
        return measures, None
    except BudgetExceeded as error:
        return None, f"the exact engine cannot reach this stack ({error})"


def _dependence_parts(
    model: Any,
    result: StackFailure,
    wanted: tuple[str, ...],
    notes: list[str],
    engines: dict[str, str],
    engine: str,
    seed: int,
    beta: float,
    rho: float,
    n_samples: int,
    budgets: dict[str, int],
) -> tuple[DependenceComparison | None, DependenceCurve | None]:
    """The dependence models and the curve, on the all-miss version of a structured stack."""
    from ddrisk.risk.dependence import compare_dependence_models, stack_curve
    from ddrisk.risk.engine import compute_stack_failure

    all_miss = model if model.structure is None else replace(model, structure=None)
    reference = result
    if model.structure is not None:
        reference = compute_stack_failure(
            all_miss,
            engine=engine,
            seed=seed,
            n_samples=n_samples,
            node_budget=budgets["node_budget"],
            state_budget=budgets["state_budget"],
        )
        notes.append(
            "the dependence models and the curve describe stacks where every layer must miss: "
            f"they are computed for the all-miss version of these layers "
            f"(P = {float(reference.probability):.4g}, {reference.engine})"
        )
    dependence = curve = None
    if "dependence" in wanted:
        dependence = compare_dependence_models(
            all_miss,
            beta=beta,
            rho=rho,
            failure_mode_probability=float(reference.probability),
            failure_mode_log_probability=reference.log_probability,
        )
    if "curve" in wanted:
        curve = stack_curve(
            all_miss,
            beta=beta,
            rho=rho,
            engine=engine,
            seed=seed,
            n_samples=n_samples,
            full=reference,
            node_budget=budgets["node_budget"],
            state_budget=budgets["state_budget"],
        )
        engines["curve"] = curve.failure_mode_engine or reference.engine
    return dependence, curve


def _uncertainty(
    resolved: ResolvedParameters,
    part_engine: str,
    n_draws: int,
    seed: int,
    n_samples: int,
    engines: dict[str, str],
) -> UncertaintyResult:
    from ddrisk.risk.propagation import propagate_uncertainty

    if part_engine == "exact":
        engines["uncertainty"] = "exact"
        return propagate_uncertainty(resolved, n_draws=n_draws, seed=seed)
    from ddrisk.risk.engine import compute_stack_failure

    draws = max(2_000, n_samples // 10)

    def sampled(sub_model: Any) -> Any:
        return compute_stack_failure(sub_model, engine="sample", seed=seed, n_samples=draws)

    engines["uncertainty"] = f"sample ({draws} draws per parameter draw)"
    return propagate_uncertainty(
        resolved, n_draws=n_draws, seed=seed, engine="sample", evaluate=sampled
    )


def _values_from_importance(
    model: Any, importance: ImportanceMeasures, probability: float
) -> tuple[LayerValue, ...]:
    """Marginal values from the importance pass: without layer i = P(r_i = 1)."""
    from ddrisk.risk.optimize import LayerValue

    return tuple(
        LayerValue(layer, float(importance.layer_conditioned[i, 1]), probability)
        for i, layer in enumerate(model.layers)
    )


def _sampled_values(
    model: Any, *, seed: int, n_samples: int, base: float
) -> tuple[LayerValue, ...]:
    """Marginal values by sampling the stack with each layer's residual set to 1."""
    import numpy as np

    from ddrisk.risk.engine import compute_stack_failure
    from ddrisk.risk.optimize import LayerValue

    values = []
    for i, layer in enumerate(model.layers):
        r = np.array(model.r, dtype=float)
        r[i] = 1.0
        without = compute_stack_failure(
            model.with_parameters(r=r), engine="sample", seed=seed, n_samples=n_samples
        )
        values.append(LayerValue(layer, float(without.probability), base))
    return tuple(values)
