"""P(all fail) of the first n layers, n = 1..N, under every dependence model (the curve).

Split from :mod:`ddrisk.risk.dependence` (which re-exports these names): the curve evaluates the
same five models on every prefix of a stack, from shared work. The failure-mode series reuses
the whole stack's result and one elimination plan (:func:`ddrisk.risk.exact.mode_elimination_rank`),
falling back to sampling prefix by prefix past the exact budget under ``engine="auto"``; the
Gaussian copula's prefixes come from one vectorised quadrature (:mod:`ddrisk.risk.copula`);
``log_series`` keeps every value's natural log, so points far below 1e-308 keep their digits.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ddrisk import defaults
from ddrisk._jsonnum import json_number
from ddrisk.risk.copula import copula_log_all_fail
from ddrisk.risk.dependence import (
    BETA_FACTOR,
    COPULA,
    DEFAULT_BETA,
    DEFAULT_RHO,
    FAILURE_MODE,
    INDEPENDENCE,
    MEANINGS,
    PERFECT,
    beta_factor_all_fail,
    comonotone_all_fail,
    gaussian_copula_all_fail,
    independent_all_fail,
)
from ddrisk.risk.log_numbers import probability_text
from ddrisk.risk.model import FailureModeModel

if TYPE_CHECKING:  # pandas loads only when a caller asks for a frame
    import pandas as pd


@dataclass(frozen=True)
class DependenceCurve:
    """P(all fail) against the number of layers n = 1..N, one series per model."""

    title: str
    n_layers: np.ndarray = field(repr=False)
    series: dict[str, np.ndarray] = field(repr=False)
    marginals: np.ndarray = field(repr=False)
    beta: float
    rho: float
    layers: tuple[str, ...] | None = None
    failure_mode_engine: str | None = None
    """Which engine gave the failure-mode series (``exact``, ``sample (...)`` or both, by n)."""
    log_series: dict[str, np.ndarray] | None = field(default=None, repr=False)
    """Natural logs of ``series``: finite where a value underflows (a P below 1e-308)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "n_layers": [int(n) for n in self.n_layers],
            "layers": None if self.layers is None else list(self.layers),
            "marginals": [float(m) for m in self.marginals],
            "beta": self.beta,
            "rho": self.rho,
            "series": {name: [float(v) for v in values] for name, values in self.series.items()},
            "log_series": None
            if self.log_series is None
            else {
                name: [json_number(float(v)) for v in values]
                for name, values in self.log_series.items()
            },
            "series_text": None
            if self.log_series is None
            else {
                name: [probability_text(float(v)) for v in values]
                for name, values in self.log_series.items()
            },
            "meanings": {name: MEANINGS[name] for name in self.series},
        }

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        frame = pd.DataFrame({"n_layers": self.n_layers, **self.series})
        if self.layers is not None:
            frame.insert(1, "added_layer", list(self.layers))
        return frame


def _curve_logs(marginals: np.ndarray, beta: float, rho: float) -> dict[str, np.ndarray]:
    """log P(first n fail) of the closed-form models, exact far below the double range."""
    with np.errstate(divide="ignore"):
        logs = np.log(marginals)
        beta_logs = []
        for n in range(1, marginals.size + 1):
            first = marginals[:n]
            common = beta * float(first.min())
            if common >= 1.0:
                beta_logs.append(0.0)
                continue
            parts = np.clip((first - common) / (1.0 - common), 0.0, 1.0)
            rest = math.log1p(-common) + float(np.log(parts).sum())
            beta_logs.append(float(np.logaddexp(math.log(common) if common > 0 else -np.inf, rest)))
    return {
        INDEPENDENCE: np.cumsum(logs),
        PERFECT: np.minimum.accumulate(logs),
        BETA_FACTOR: np.array(beta_logs),
        COPULA: copula_log_all_fail(marginals, rho, every_prefix=True),
    }


def _curve_series(
    marginals: np.ndarray, beta: float, rho: float, logs: dict[str, np.ndarray]
) -> dict[str, list[float]]:
    """P(first n fail) per closed-form model; the copula's from its logs (``_curve_logs``)."""
    series: dict[str, list[float]] = {INDEPENDENCE: [], PERFECT: [], BETA_FACTOR: [], COPULA: []}
    for n in range(1, marginals.size + 1):
        first = marginals[:n]
        series[INDEPENDENCE].append(independent_all_fail(first))
        series[PERFECT].append(comonotone_all_fail(first))
        series[BETA_FACTOR].append(beta_factor_all_fail(first, beta))
    # Every prefix from one vectorised quadrature (:mod:`ddrisk.risk.copula`), not n integrals.
    if rho in (0.0, 1.0):
        series[COPULA] = [
            gaussian_copula_all_fail(marginals[:n], rho) for n in range(1, marginals.size + 1)
        ]
    else:
        series[COPULA] = [float(math.exp(v)) for v in logs[COPULA]]
        series[COPULA][0] = float(marginals[0])  # one layer: its marginal, exactly
    return series


def identical_layers_curve(
    marginal: float = 0.1, n_max: int = 10, *, beta: float = DEFAULT_BETA, rho: float = DEFAULT_RHO
) -> DependenceCurve:
    """The paper's setting: n identical layers each failing with ``marginal``, n = 1..n_max.

    >>> curve = identical_layers_curve()
    >>> float(curve.series["perfect correlation"][-1]), f"{curve.series['independence'][-1]:.3g}"
    (0.1, '1e-10')
    """
    if n_max < 1:
        raise ValueError("n_max must be at least 1")
    marginals = np.full(n_max, float(marginal))
    logs = _curve_logs(marginals, beta, rho)
    series = _curve_series(marginals, beta, rho, logs)
    return DependenceCurve(
        title=f"{n_max} identical layers, each failing with probability {marginal:g}",
        n_layers=np.arange(1, n_max + 1),
        series={name: np.array(values) for name, values in series.items()},
        marginals=marginals,
        beta=beta,
        rho=rho,
        log_series=logs,
    )


def stack_curve(
    model: FailureModeModel,
    *,
    beta: float = DEFAULT_BETA,
    rho: float = DEFAULT_RHO,
    engine: str = "auto",
    seed: int = defaults.SEED,
    n_samples: int = defaults.SAMPLER_DRAWS,
    node_budget: int | None = None,
    state_budget: int | None = None,
    full: Any = None,
) -> DependenceCurve:
    """P(all fail) of the first n layers of a stack (in its order), for every model.

    The failure-mode series comes from shared work: the exact engine plans one elimination
    order for the whole stack and every prefix reuses it (see
    :func:`ddrisk.risk.exact.mode_elimination_rank`), and ``full`` (the whole stack's
    :class:`~ddrisk.risk.engine.StackFailure`, when the caller has it) is the last point. With
    ``engine="auto"`` a prefix past the exact budgets is sampled instead, and
    :attr:`DependenceCurve.failure_mode_engine` says which points came from where.
    """
    marginals = model.layer_failure_probabilities()
    logs = _curve_logs(marginals, beta, rho)
    series = _curve_series(marginals, beta, rho, logs)
    failure_mode, failure_mode_logs, label = _failure_mode_prefixes(
        model,
        engine=engine,
        seed=seed,
        n_samples=n_samples,
        node_budget=node_budget,
        state_budget=state_budget,
        full=full,
    )
    ordered = {
        INDEPENDENCE: series[INDEPENDENCE],
        PERFECT: series[PERFECT],
        FAILURE_MODE: failure_mode,
        BETA_FACTOR: series[BETA_FACTOR],
        COPULA: series[COPULA],
    }
    return DependenceCurve(
        title=f"stack {', '.join(model.layers)} (layers added in this order)",
        n_layers=np.arange(1, model.n_layers + 1),
        series={name: np.array(values, dtype=float) for name, values in ordered.items()},
        marginals=marginals,
        beta=beta,
        rho=rho,
        layers=model.layers,
        failure_mode_engine=label,
        log_series={
            INDEPENDENCE: logs[INDEPENDENCE],
            PERFECT: logs[PERFECT],
            FAILURE_MODE: np.array(failure_mode_logs),
            BETA_FACTOR: logs[BETA_FACTOR],
            COPULA: logs[COPULA],
        },
    )


def _failure_mode_prefixes(
    model: FailureModeModel,
    *,
    engine: str,
    seed: int,
    n_samples: int,
    node_budget: int | None,
    state_budget: int | None,
    full: Any,
) -> tuple[list[float], list[float], str]:
    """P(first n layers fail) for n = 1..N, their logs, and a label naming each point's engine."""
    from ddrisk.risk.engine import compute_stack_failure
    from ddrisk.risk.exact import (
        DEFAULT_NODE_BUDGET,
        DEFAULT_STATE_BUDGET,
        BudgetExceeded,
        mode_elimination_rank,
        stack_failure_probability,
    )

    budgets = {
        "node_budget": node_budget or DEFAULT_NODE_BUDGET,
        "state_budget": state_budget or DEFAULT_STATE_BUDGET,
    }
    n = model.n_layers
    values: list[float] = [math.nan] * n
    logs: list[float] = [math.nan] * n
    sources: list[str] = [""] * n
    if full is not None:
        values[n - 1], logs[n - 1] = float(full.probability), float(full.log_probability)
        sources[n - 1] = full.engine
    rank = mode_elimination_rank(model) if engine in ("auto", "exact") else None
    for size in range(1, n + 1):
        if sources[size - 1]:
            continue
        prefix = model.subset(list(model.layers[:size]))
        if rank is not None:
            try:
                result = stack_failure_probability(
                    prefix,
                    mode_rank=rank,
                    node_budget=budgets["node_budget"],
                    state_budget=budgets["state_budget"],
                )
                values[size - 1], sources[size - 1] = result.probability, "exact"
                logs[size - 1] = result.log_probability
                continue
            except BudgetExceeded:
                if engine == "exact":
                    raise
                # Longer prefixes contain this one: their plans are at least as wide, so
                # they are sampled without another attempt that could run to the budget.
                rank = None
        sampled = compute_stack_failure(prefix, engine="sample", seed=seed, n_samples=n_samples)
        values[size - 1], sources[size - 1] = float(sampled.probability), "sample"
        logs[size - 1] = float(sampled.log_probability)
    return values, logs, _prefix_label(sources, seed, n_samples)


def _prefix_label(sources: list[str], seed: int, n_samples: int) -> str:
    exact = [k + 1 for k, source in enumerate(sources) if source == "exact"]
    sampled = [k + 1 for k, source in enumerate(sources) if source != "exact"]
    # Every exact prefix reuses one elimination plan; the label stays as short as before.
    shared = "exact"
    sample = f"sample ({n_samples} draws, seed {seed})"
    if not sampled:
        return shared
    if not exact:
        return sample
    return f"{shared} for n in {_ranges(exact)}; {sample} for n in {_ranges(sampled)}"


def _ranges(numbers: list[int]) -> str:
    """``[1, 2, 3, 7]`` -> ``1-3, 7``."""
    parts, start = [], numbers[0]
    for previous, current in zip(numbers, [*numbers[1:], None], strict=True):
        if current != previous + 1 if current is not None else True:
            parts.append(str(start) if start == previous else f"{start}-{previous}")
            start = current if current is not None else start
    return ", ".join(parts)
