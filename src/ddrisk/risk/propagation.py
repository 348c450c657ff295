"""Monte Carlo propagation of uncertain parameters through the model, and the tornado chart.

Propagation draws every uncertain *named parameter* once per iteration (state-of-knowledge
dependence: a default such as ``p.prone`` is one uncertain quantity shared by all the cells
that use it, as in PRA practice) from a seeded :class:`numpy.random.Generator`, and evaluates
each draw with the exact engine of :mod:`ddrisk.risk.engine`. The distributions come from
:mod:`ddrisk.risk.distributions`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ddrisk import defaults
from ddrisk._jsonnum import json_number
from ddrisk.errors import InputError
from ddrisk.risk.effective import effective_from_probability

if TYPE_CHECKING:
    from ddrisk.risk.model import FailureModeModel
    from ddrisk.risk.parameters import ResolvedParameters


# ---------------------------------------------------------------------------- propagation
def _engine_probability(engine: str, seed: int) -> Callable[[FailureModeModel], Any]:
    from ddrisk.risk.engine import compute_stack_failure

    def evaluate(model: FailureModeModel) -> Any:
        return compute_stack_failure(model, engine=engine, seed=seed)

    return evaluate


def _summary_metrics(probability: float, marginals: np.ndarray) -> tuple[float, float]:
    """Correlation penalty (P / product of marginals) and effective number of layers."""
    with np.errstate(divide="ignore", invalid="ignore"):
        log_independent = float(np.sum(np.log(marginals)))
        penalty = math.exp(math.log(probability) - log_independent) if probability > 0 else 0.0
        effective = effective_from_probability(probability, marginals)
    return penalty, effective


@dataclass(frozen=True)
class TornadoRow:
    """How much one uncertain parameter alone moves P(stack fails)."""

    parameter: str
    spec: str
    low_input: float
    high_input: float
    probability_at_low: float
    probability_at_high: float
    spearman: float

    @property
    def swing(self) -> float:
        return abs(self.probability_at_high - self.probability_at_low)

    def to_dict(self) -> dict[str, Any]:
        return {
            "parameter": self.parameter,
            "spec": self.spec,
            "input_p05": self.low_input,
            "input_p95": self.high_input,
            "probability_at_input_p05": self.probability_at_low,
            "probability_at_input_p95": self.probability_at_high,
            "swing": self.swing,
            "spearman": json_number(self.spearman),
        }


def _percentiles(values: np.ndarray) -> dict[str, float]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return {"mean": math.nan, "p05": math.nan, "p50": math.nan, "p95": math.nan}
    p05, p50, p95 = np.percentile(finite, [5, 50, 95])
    return {"mean": float(finite.mean()), "p05": float(p05), "p50": float(p50), "p95": float(p95)}


def _json_summary(summary: dict[str, float]) -> dict[str, float | str | None]:
    return {key: json_number(value) for key, value in summary.items()}


@dataclass(frozen=True)
class UncertaintyResult:
    """Monte Carlo distribution of P(stack fails), the penalty and the effective layers."""

    n_draws: int
    seed: int
    engine: str
    parameter_names: tuple[str, ...]
    draws: np.ndarray = field(repr=False)
    probability: np.ndarray = field(repr=False)
    penalty: np.ndarray = field(repr=False)
    effective_layers: np.ndarray = field(repr=False)
    point_probability: float
    tornado: tuple[TornadoRow, ...]
    parameters_sha256: str = ""
    method: str = (
        "Monte Carlo over named parameters (inverse-CDF draws from numpy PCG64); "
        "tornado = P(stack fails) with one parameter at its 5th/95th percentile and the others "
        "at their point (mean) values; spearman = rank correlation of the draws with P"
    )

    def summary(self) -> dict[str, dict[str, float]]:
        return {
            "probability": _percentiles(self.probability),
            "penalty": _percentiles(self.penalty),
            "effective_layers": _percentiles(self.effective_layers),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "n_draws": self.n_draws,
            "seed": self.seed,
            "engine": self.engine,
            "parameters_sha256": self.parameters_sha256,
            "parameters": list(self.parameter_names),
            "uncertain_parameters": sorted(row.parameter for row in self.tornado),
            "point_probability": self.point_probability,
            **{name: _json_summary(values) for name, values in self.summary().items()},
            "tornado": [row.to_dict() for row in self.tornado],
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per draw: the sampled parameters and the three outputs."""
        frame = pd.DataFrame(self.draws, columns=list(self.parameter_names))
        frame["probability"] = self.probability
        frame["penalty"] = self.penalty
        frame["effective_layers"] = self.effective_layers
        return frame

    def tornado_frame(self) -> pd.DataFrame:
        return pd.DataFrame([row.to_dict() for row in self.tornado])


def propagate_uncertainty(
    resolved: ResolvedParameters,
    *,
    n_draws: int = defaults.UNCERTAINTY_DRAWS,
    seed: int = defaults.SEED,
    engine: str = "exact",
    evaluate: Callable[[FailureModeModel], Any] | None = None,
) -> UncertaintyResult:
    """Propagate parameter uncertainty to P(stack fails), penalty and effective layers.

    Parameters
    ----------
    resolved
        Parameters resolved for one stack (:func:`ddrisk.risk.parameters.resolve_parameters`).
    n_draws
        Monte Carlo draws; each is one exact evaluation of the stack.
    seed
        Seed of the :class:`numpy.random.Generator` (recorded in the result).
    engine
        Engine name passed to :func:`ddrisk.risk.engine.compute_stack_failure`.
    evaluate
        Replace the engine (tests); must return an object with ``.probability``.
    """
    if n_draws < 1:
        raise InputError("n_draws", None, f"{n_draws} draws", "ask for at least 1 draw")
    run = evaluate or _engine_probability(engine, seed)
    distributions = resolved.distributions
    names = resolved.parameter_names
    rng = np.random.default_rng(seed)
    uniforms = rng.random((n_draws, len(names)))
    draws = (
        np.column_stack([d.ppf(uniforms[:, k]) for k, d in enumerate(distributions)])
        if names
        else (np.zeros((n_draws, 0)))
    )
    probability = np.empty(n_draws)
    penalty = np.empty(n_draws)
    effective = np.empty(n_draws)
    for index in range(n_draws):
        model = resolved.model_for(draws[index])
        probability[index] = float(run(model).probability)
        penalty[index], effective[index] = _summary_metrics(
            probability[index], model.layer_failure_probabilities()
        )
    point = float(run(resolved.model).probability)
    tornado = []
    point_values = np.array([d.mean for d in distributions])
    for k, (name, dist) in enumerate(zip(names, distributions, strict=True)):
        if dist.is_degenerate:
            continue
        low, high = dist.percentile(5), dist.percentile(95)
        outputs = []
        for value in (low, high):
            theta = point_values.copy()
            theta[k] = value
            outputs.append(float(run(resolved.model_for(theta)).probability))
        column = draws[:, k]
        if np.ptp(column) > 0 and np.ptp(probability) > 0:
            from scipy import stats  # only the tornado needs it; importing it costs ~0.6 s

            rho = float(stats.spearmanr(column, probability).statistic)
        else:
            rho = 0.0
        tornado.append(TornadoRow(name, dist.spec, low, high, outputs[0], outputs[1], rho))
    tornado.sort(key=lambda row: (-row.swing, row.parameter))
    return UncertaintyResult(
        n_draws=n_draws,
        seed=seed,
        engine=engine,
        parameter_names=tuple(names),
        draws=draws,
        probability=probability,
        penalty=penalty,
        effective_layers=effective,
        point_probability=point,
        tornado=tuple(tornado),
        parameters_sha256=resolved.parameters_hash,
    )
