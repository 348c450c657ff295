"""One stack's full risk assessment, shared by ``ddrisk risk``, ``ddrisk report`` and the API."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ddrisk.risk.dependence import DEFAULT_BETA, DEFAULT_RHO

if TYPE_CHECKING:
    import numpy as np

    from ddrisk.catalog import Catalog
    from ddrisk.risk.dependence import DependenceComparison, DependenceCurve
    from ddrisk.risk.engine import StackFailure
    from ddrisk.risk.importance import ImportanceMeasures
    from ddrisk.risk.optimize import LayerValue
    from ddrisk.risk.parameters import ResolvedParameters, RiskParameters
    from ddrisk.risk.uncertainty import StressCountsFile, UncertaintyResult

RISK_SCHEMA = "ddrisk.risk/1"


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

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": RISK_SCHEMA,
            "model": self.resolved.model.name,
            "catalog": {"label": self.resolved.catalog_label, "sha256": self.resolved.catalog_hash},
            "stack": list(self.resolved.layers),
            "engine": {"requested": self.engine, "seed": self.seed},
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
) -> StackRisk:
    """Compute everything known about one stack's risk: the one path behind CLI and report.

    P(stack fails) from the engine, each layer's marginal value, the dependence models on the
    same marginals, the curve over the first n layers, importance measures (when the exact
    engine reaches the stack), evidence from stress-test counts (``counts``, e.g. read by
    :func:`ddrisk.io.counts.read_stress_counts`) and, with ``n_draws`` > 0, Monte Carlo
    propagation of uncertain parameters. ``params`` defaults to the built-in parameters.
    """
    from ddrisk.risk.dependence import compare_dependence_models, stack_curve
    from ddrisk.risk.engine import compute_stack_failure
    from ddrisk.risk.exact import BudgetExceeded
    from ddrisk.risk.importance import importance_measures
    from ddrisk.risk.optimize import layer_marginal_values
    from ddrisk.risk.parameters import RiskParameters, apply_stress_counts, resolve_parameters
    from ddrisk.risk.uncertainty import joint_posterior, propagate_uncertainty

    params = params if params is not None else RiskParameters()
    evidence: dict[str, Any] | None = None
    if counts is not None:
        params, updates = apply_stress_counts(params, counts, catalog)
        evidence = {"counts": counts, "updates": updates, "joint": None}
    resolved = resolve_parameters(catalog, list(stack), params)
    model = resolved.model
    result = compute_stack_failure(model, engine=engine, seed=seed)
    exact_engine = "exact" if engine != "sample" else "sample"

    def probability_of(sub_model: Any) -> float:
        return float(compute_stack_failure(sub_model, engine=exact_engine, seed=seed).probability)

    values = layer_marginal_values(model, probability_of=probability_of)
    dependence = compare_dependence_models(
        model, beta=beta, rho=rho, failure_mode_probability=float(result.probability)
    )
    curve = stack_curve(model, beta=beta, rho=rho, engine=exact_engine, seed=seed)
    try:
        importance, importance_note = importance_measures(model), None
    except BudgetExceeded as error:
        importance, importance_note = None, f"the exact engine cannot reach this stack ({error})"
    if evidence is not None and counts is not None and counts.joint is not None:
        joint = counts.joint
        posterior = joint_posterior(joint)
        evidence["joint"] = {
            "failures": joint.failures,
            "n": joint.n,
            "prior": "beta(0.5, 0.5) (Jeffreys)",
            "posterior": posterior.spec,
            "posterior_mean": posterior.mean,
            "model_quantile": posterior.cdf(float(result.probability)),
        }
    uncertainty = (
        propagate_uncertainty(resolved, n_draws=n_draws, seed=seed, engine=exact_engine)
        if n_draws
        else None
    )
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
    )
