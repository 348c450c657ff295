"""One stack's full risk assessment, shared by ``ddrisk risk``, ``ddrisk report`` and the API.

Every part respects the engine choice and the exact engine's budget: with ``engine="auto"``
the headline, marginal values, curve, importance and uncertainty all use the exact engine
when it reaches the stack and the sampler when it does not, and :attr:`StackRisk.engines`
says which engine produced each part. Marginal values come from the same backward pass as
the importance measures (removing a layer is the same event as its residual becoming
certain), so they cost no extra solves.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ddrisk.risk.dependence import DEFAULT_BETA, DEFAULT_RHO
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
DEFAULT_DRAWS = 20_000
"""Draws of the importance sampler when it is used (``ddrisk risk --draws``)."""


@dataclass(frozen=True)
class StackRisk:
    """Everything ``ddrisk risk`` and the report compute for one stack, and its JSON form."""

    resolved: ResolvedParameters
    result: StackFailure
    engine: str
    seed: int
    marginals: np.ndarray = field(repr=False)
    values: tuple[LayerValue, ...]
    dependence: DependenceComparison
    curve: DependenceCurve
    importance: ImportanceMeasures | None
    importance_note: str | None
    evidence: dict[str, Any] | None
    uncertainty: UncertaintyResult | None
    engines: dict[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def structure(self) -> str:
        """The stack's structure in words (``all miss (A, B)`` by default)."""
        return self.resolved.model.structure_name

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": RISK_SCHEMA,
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
                    "marginal_value": self.values[i].to_dict(),
                }
                for i, layer in enumerate(self.resolved.layers)
            ],
            "dependence": self.dependence.to_dict(),
            "curve": self.curve.to_dict(),
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
    seed: int = 0,
    beta: float = DEFAULT_BETA,
    rho: float = DEFAULT_RHO,
    n_draws: int = 0,
    counts: StressCountsFile | None = None,
    structure: Node | None = None,
    n_samples: int = DEFAULT_DRAWS,
    exact_budget: int | None = None,
) -> StackRisk:
    """Compute everything known about one stack's risk: the one path behind CLI and report.

    P(stack fails) from the engine, each layer's marginal value, the dependence models on the
    same marginals, the curve over the first n layers, importance measures, evidence from
    stress-test counts (``counts``, e.g. read by :func:`ddrisk.io.counts.read_stress_counts`)
    and, with ``n_draws`` > 0, Monte Carlo propagation of uncertain parameters. ``params``
    defaults to the built-in parameters; ``structure`` (:mod:`ddrisk.risk.structure`) says how
    the layers combine (default: the stack fails when every layer misses); ``n_samples`` is
    the sampler's number of draws wherever the sampler is used; ``exact_budget`` replaces
    both budgets of the exact engine (DP table entries and BDD nodes).
    """
    from ddrisk.risk.dependence import compare_dependence_models, stack_curve
    from ddrisk.risk.engine import compute_stack_failure
    from ddrisk.risk.evidence import apply_stress_counts, joint_posterior
    from ddrisk.risk.exact import BudgetExceeded
    from ddrisk.risk.importance import importance_measures
    from ddrisk.risk.parameters import RiskParameters, resolve_parameters
    from ddrisk.risk.propagation import propagate_uncertainty

    params = params if params is not None else RiskParameters()
    evidence: dict[str, Any] | None = None
    if counts is not None:
        params, updates = apply_stress_counts(params, counts, catalog)
        evidence = {"counts": counts, "updates": updates, "joint": None}
    resolved = resolve_parameters(catalog, list(stack), params)
    if structure is not None:
        resolved = replace(resolved, model=replace(resolved.model, structure=structure))
    model = resolved.model
    from ddrisk.risk.exact import DEFAULT_NODE_BUDGET, DEFAULT_STATE_BUDGET

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
    importance, importance_note = None, None
    if part_engine == "exact":
        try:
            importance = importance_measures(
                model, node_budget=budgets["node_budget"], state_budget=budgets["state_budget"]
            )
        except BudgetExceeded as error:
            importance_note = f"the exact engine cannot reach this stack ({error})"
    else:
        importance_note = (
            "importance measures need the exact engine, which is over budget on this stack"
            if result.note
            else "importance measures need the exact engine (engine 'sample' was asked for)"
        )
    if importance is not None:
        values = _values_from_importance(model, importance, float(result.probability))
        engines["importance"] = f"exact ({importance.method})"
        engines["marginal values"] = f"exact ({importance.method}, same pass as importance)"
    else:
        draws = max(2_000, n_samples // 5)
        values = _sampled_values(model, seed=seed, n_samples=draws, base=float(result.probability))
        engines["marginal values"] = f"sample ({draws} draws per layer, seed {seed})"
    all_miss = model if model.structure is None else replace(model, structure=None)
    if model.structure is not None:
        reference = compute_stack_failure(
            all_miss,
            engine=engine,
            seed=seed,
            n_samples=n_samples,
            node_budget=budgets["node_budget"],
            state_budget=budgets["state_budget"],
        )
        reference_p, reference_log = float(reference.probability), reference.log_probability
        notes.append(
            "the dependence models and the curve describe stacks where every layer must miss: "
            f"they are computed for the all-miss version of these layers (P = {reference_p:.4g}, "
            f"{reference.engine})"
        )
        curve_engine = "exact" if reference.engine == "exact" else "sample"
    else:
        reference_p, curve_engine = float(result.probability), part_engine
        reference_log = result.log_probability
    dependence = compare_dependence_models(
        all_miss,
        beta=beta,
        rho=rho,
        failure_mode_probability=reference_p,
        failure_mode_log_probability=reference_log,
    )
    curve = stack_curve(
        all_miss, beta=beta, rho=rho, engine=curve_engine, seed=seed, n_samples=n_samples
    )
    engines["curve"] = curve_engine
    if evidence is not None and evidence["counts"].joint is not None:
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
        if part_engine == "exact":
            uncertainty = propagate_uncertainty(resolved, n_draws=n_draws, seed=seed)
            engines["uncertainty"] = "exact"
        else:
            draws = max(2_000, n_samples // 10)

            def sampled(sub_model: Any) -> Any:
                return compute_stack_failure(sub_model, engine="sample", seed=seed, n_samples=draws)

            uncertainty = propagate_uncertainty(
                resolved, n_draws=n_draws, seed=seed, engine="sample", evaluate=sampled
            )
            engines["uncertainty"] = f"sample ({draws} draws per parameter draw)"
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
