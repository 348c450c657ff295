"""The one function every P(stack fails) in ddrisk comes from: :func:`compute_stack_failure`.

It runs the exact engine (:mod:`ddrisk.risk.exact`) or the importance sampler
(:mod:`ddrisk.risk.sampling`) and puts the answer next to the numbers that explain it: each
layer's marginal failure probability, what independence would predict (their product), the
correlation penalty (how many times likelier joint failure is than independence says), and the
effective number of independent layers (:mod:`ddrisk.risk.effective`: ``ln P(stack) / ln(geometric
mean marginal)``; ten layers at 0.1 that fail together with probability 1e-3 are worth three
independent ones).

``engine="auto"`` tries the exact engine and switches to sampling only when the exact engine would
exceed its node or state budget; ``note`` then says so.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ddrisk import defaults
from ddrisk._hashing import object_sha256
from ddrisk._jsonnum import json_number
from ddrisk.risk.effective import EFFECTIVE_LAYERS_DEFINITION, effective_independent_layers
from ddrisk.risk.exact import (
    DEFAULT_NODE_BUDGET,
    DEFAULT_STATE_BUDGET,
    BudgetExceeded,
    ExactResult,
    stack_failure_probability,
)
from ddrisk.risk.log_numbers import probability_text
from ddrisk.risk.model import FailureModeModel
from ddrisk.risk.structure import independent_log_probability

if TYPE_CHECKING:  # the sampler (scipy.sparse) and pandas load on first use (start-up)
    import pandas as pd

    from ddrisk.risk.sampling import SamplingResult

ENGINES = ("auto", "exact", "sample")


def model_hash(model: FailureModeModel) -> str:
    """SHA-256 of the model's parameters (names, q, p, r), so a result can name its input.

    Examples
    --------
    >>> m = FailureModeModel(layers=("A",), modes=("X",), q=[0.1], p=[[1.0]], r=[0.0])
    >>> len(model_hash(m))
    64
    """
    return object_sha256(model.to_dict())


@dataclass(frozen=True)
class StackFailure:
    """P(stack fails) with the context that makes it interpretable and reproducible.

    Attributes
    ----------
    probability, log_probability
        P(every layer fails) and its natural log (finite even where the probability underflows).
    standard_error, interval
        ``None`` for exact results; the sampler's standard error and 95 % interval otherwise.
    engine, method
        ``"exact"`` or ``"sample"``, and the method inside it (``"dp"``, ``"bdd"``, ...).
    note
        Set when ``engine="auto"`` switched to sampling, saying why.
    layer_marginals
        P(layer i fails) = ``1 - (1 - r_i) prod_j (1 - q_j p_ij)``.
    independence_prediction, log_independence_prediction
        The product of the marginals: P(stack fails) if layers failed independently.
    correlation_penalty, log_correlation_penalty
        ``probability / independence_prediction`` (>= 1 under this model: shared modes only
        ever make joint failure likelier).
    effective_layers
        ``ln P(stack) / ln(geometric mean marginal)`` (:mod:`ddrisk.risk.effective`): how many
        independent layers of average strength would give the same P(stack fails); exactly n
        for n independent layers, 1 for identical perfectly correlated ones. ``None`` where it
        is undefined (a marginal is 0, or every marginal is 1).
    """

    model: FailureModeModel
    probability: float
    log_probability: float
    standard_error: float | None
    interval: tuple[float, float] | None
    engine: str
    method: str
    note: str | None
    layer_marginals: np.ndarray
    independence_prediction: float
    log_independence_prediction: float
    correlation_penalty: float
    log_correlation_penalty: float
    effective_layers: float | None
    seed: int | None
    elapsed_seconds: float
    exact: ExactResult | None = None
    sampling: SamplingResult | None = None
    settings: dict[str, object] | None = None

    @property
    def relative_error(self) -> float | None:
        """Standard error over the estimate (``None`` for exact results)."""
        if self.standard_error is None:
            return None
        return self.standard_error / self.probability if self.probability > 0 else math.inf

    def to_frame(self) -> pd.DataFrame:
        """One row per layer: its marginal P(fail) and its share of the independence product."""
        import pandas as pd

        return pd.DataFrame(
            {
                "layer": list(self.model.layers),
                "marginal_failure": self.layer_marginals,
                "residual": np.asarray(self.model.r),
            }
        )

    def to_dict(self) -> dict[str, object]:
        """Everything needed to recompute the number; JSON-safe, stable keys.

        Keys: ``model`` (model name), ``model_hash``, ``parameters`` (layers, modes, q, p, r),
        ``probability``, ``log_probability``, ``standard_error``, ``interval_95``,
        ``relative_error``, ``engine``, ``method``, ``note``, ``layer_marginals`` (layer ->
        P(fail)), ``independence_prediction``, ``log_independence_prediction``,
        ``correlation_penalty``, ``log_correlation_penalty``, ``effective_layers``, ``seed``,
        ``elapsed_seconds``, ``settings`` (engine options), ``exact`` / ``sampling`` (the inner
        results, or ``None``).
        """
        return {
            "model": self.model.name,
            "model_hash": model_hash(self.model),
            "structure": self.model.structure_name,
            "parameters": self.model.to_dict(),
            "probability": self.probability,
            "probability_text": probability_text(self.log_probability),
            "log_probability": json_number(self.log_probability),
            "log10_probability": json_number(self.log_probability / math.log(10.0)),
            "standard_error": self.standard_error,
            "interval_95": list(self.interval) if self.interval is not None else None,
            "relative_error": json_number(self.relative_error),
            "engine": self.engine,
            "method": self.method,
            "note": self.note,
            "layer_marginals": {
                layer: float(value)
                for layer, value in zip(self.model.layers, self.layer_marginals, strict=True)
            },
            "independence_prediction": self.independence_prediction,
            "log_independence_prediction": json_number(self.log_independence_prediction),
            "correlation_penalty": json_number(self.correlation_penalty),
            "correlation_penalty_text": probability_text(self.log_correlation_penalty),
            "independence_prediction_text": probability_text(self.log_independence_prediction),
            "log_correlation_penalty": json_number(self.log_correlation_penalty),
            "effective_layers": json_number(self.effective_layers),
            "effective_layers_definition": EFFECTIVE_LAYERS_DEFINITION,
            "seed": self.seed,
            "elapsed_seconds": self.elapsed_seconds,
            "settings": self.settings,
            "exact": self.exact.to_dict() if self.exact is not None else None,
            "sampling": self.sampling.to_dict() if self.sampling is not None else None,
        }


def _safe_exp(value: float) -> float:
    return math.exp(value) if value > -745.2 else 0.0


def compute_stack_failure(
    model: FailureModeModel,
    *,
    engine: str = "auto",
    method: str = "auto",
    seed: int = defaults.SEED,
    node_budget: int = DEFAULT_NODE_BUDGET,
    state_budget: int = DEFAULT_STATE_BUDGET,
    n_samples: int = defaults.SAMPLER_DRAWS,
) -> StackFailure:
    """P(stack fails) under the failure-mode model, with marginals, penalty and effective depth.

    Parameters
    ----------
    model
        The failure-mode model.
    engine
        ``"exact"`` (raise :class:`~ddrisk.risk.exact.BudgetExceeded` if over budget),
        ``"sample"`` (importance sampling), or ``"auto"`` (exact, else sampling, with a note).
    method
        Exact method: ``"auto"``, ``"dp"``, ``"bdd"`` or ``"enumerate"``.
    seed
        Seed of the sampler (recorded; unused by exact results).
    node_budget, state_budget
        Budgets of the exact engine (BDD nodes, DP table entries).
    n_samples
        Draws in the sampler's final batch.

    Examples
    --------
    The paper's arithmetic: ten layers failing with probability 0.1 each.

    >>> names = tuple(f"L{i}" for i in range(10))
    >>> independent = FailureModeModel(layers=names, modes=tuple(f"m{i}" for i in range(10)),
    ...     q=[0.1] * 10, p=np.eye(10), r=[0.0] * 10)
    >>> f"{compute_stack_failure(independent).probability:.3g}"
    '1e-10'
    >>> shared = FailureModeModel(layers=names, modes=("m",), q=[0.1], p=np.ones((10, 1)),
    ...     r=[0.0] * 10)
    >>> result = compute_stack_failure(shared)
    >>> f"{result.probability:.3g}", f"{result.correlation_penalty:.3g}", round(result.effective_layers, 6)
    ('0.1', '1e+09', 1.0)
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    start = time.perf_counter()
    settings: dict[str, object] = {
        "engine": engine,
        "method": method,
        "seed": seed,
        "node_budget": node_budget,
        "state_budget": state_budget,
        "n_samples": n_samples,
    }
    exact: ExactResult | None = None
    sampled: SamplingResult | None = None
    note: str | None = None
    if engine in ("auto", "exact"):
        try:
            exact = stack_failure_probability(
                model, method=method, node_budget=node_budget, state_budget=state_budget
            )
        except BudgetExceeded as error:
            if engine == "exact":
                raise
            note = (
                f"exact engine over budget ({error}); switched to importance sampling "
                f"(seed {seed}, {n_samples} draws)"
            )
    if exact is None:
        from ddrisk.risk.sampling import importance_sample

        sampled = importance_sample(model, n=n_samples, seed=seed)
        if getattr(sampled, "warning", None):
            note = f"{note}; {sampled.warning}" if note else sampled.warning
    with np.errstate(divide="ignore"):
        marginals = model.layer_failure_probabilities()
        log_marginals = np.log(marginals)
    if model.structure is not None:
        log_independent = independent_log_probability(
            model.structure, dict(zip(model.layers, marginals.tolist(), strict=True))
        )
    else:
        log_independent = float(log_marginals.sum())
    if exact is not None:
        log_p = exact.log_probability
        probability = exact.probability
        standard_error = None
        interval = None
        engine_used, method_used = "exact", exact.method
    else:
        assert sampled is not None
        log_p = sampled.log_estimate
        probability = sampled.estimate
        standard_error = sampled.standard_error
        interval = sampled.interval
        engine_used, method_used = "sample", sampled.method
    if math.isfinite(log_p) and math.isfinite(log_independent):
        log_penalty = log_p - log_independent
    elif not math.isfinite(log_p) and not math.isfinite(log_independent):
        log_penalty = math.nan
    else:
        log_penalty = math.inf if math.isfinite(log_p) else -math.inf
    effective_value = effective_independent_layers(log_p, marginals)
    effective: float | None = None if math.isnan(effective_value) else effective_value
    return StackFailure(
        model=model,
        probability=probability,
        log_probability=log_p,
        standard_error=standard_error,
        interval=interval,
        engine=engine_used,
        method=method_used,
        note=note,
        layer_marginals=marginals,
        independence_prediction=_safe_exp(log_independent),
        log_independence_prediction=log_independent,
        correlation_penalty=math.exp(log_penalty) if log_penalty < 709 else math.inf,
        log_correlation_penalty=log_penalty,
        effective_layers=effective,
        seed=seed,
        elapsed_seconds=time.perf_counter() - start,
        exact=exact,
        sampling=sampled,
        settings=settings,
    )
