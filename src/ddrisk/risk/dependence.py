"""Dependence models side by side on the same marginals.

Every model here takes the layers' marginal failure probabilities ``m_i`` as
given and differs only in how the failures depend on each other:

independence
    No parameter: layers fail independently, so P(all fail) = prod m_i.
perfect correlation
    No parameter: failures are comonotone (one shared uniform shock decides
    every layer), so P(all fail) = min m_i, the most that any dependence allows.
failure-mode model
    Parameters q, p, r of :mod:`ddrisk.risk.model`: layers are dependent only
    through the failure modes they share; computed by :mod:`ddrisk.risk.engine`.
beta-factor model
    beta is the fraction of the smallest marginal that is due to one common
    cause failing every layer at once. With equal marginals this is the
    classical PRA beta factor. With unequal marginals the common cause has
    probability ``c = beta * min m_i`` (it cannot exceed any layer's marginal)
    and each layer's independent part ``u_i = (m_i - c) / (1 - c)`` is solved so
    that its marginal is kept exactly: ``1 - (1 - c)(1 - u_i) = m_i``. Then
    P(all fail) = c + (1 - c) prod u_i; beta = 0 is independence and beta = 1 is
    perfect correlation. (It is the failure-mode model with a single mode.)
Gaussian copula
    rho is the correlation between any two layers' latent normal "stress"
    variables; layer i fails when its stress falls below ``Phi^-1(m_i)``. With
    equicorrelation rho >= 0 the stresses are ``sqrt(rho) W + sqrt(1 - rho) E_i``,
    so P(all fail) is the one-dimensional integral
    ``int phi(w) prod_i Phi((Phi^-1(m_i) - sqrt(rho) w) / sqrt(1 - rho)) dw``,
    evaluated in log space around its peak with adaptive quadrature
    (:func:`gaussian_copula_all_fail`), in about 2 ms for any number of layers
    and at probabilities down to 1e-300 (relative error ~1e-12, also as rho
    approaches 1). ``scipy.stats.multivariate_normal.cdf`` is the alternative:
    randomised quasi-Monte Carlo with an absolute tolerance (1e-5 by default),
    useless below ~1e-6. Measured here against it with tightened tolerances
    (abseps 1e-9): agreement to its own precision (relative 1e-7 to 4e-5) for
    2, 5, 10 and 20 layers, at 3, 7 and 30-40 s per call for 5, 10 and 20
    layers. The tests compare with the CDF up to 6 layers and with a seeded
    simulation of the latent normals at 20 layers.

The paper's arithmetic is :func:`paper_example`: ten layers at 0.1 give 1e-10
independent and 0.1 perfectly correlated.

Why one module: the five models are read side by side, share the marginals they are given,
and the inverse solvers (the beta or rho that reproduces a failure-mode result) need every
model's forward function; one module keeps the comparison in one place.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ddrisk._jsonnum import json_number
from ddrisk.risk.copula import copula_log_all_fail
from ddrisk.risk.effective import (
    EFFECTIVE_LAYERS_DEFINITION,
    effective_from_probability,
    effective_independent_layers,
)
from ddrisk.risk.log_numbers import probability_text
from ddrisk.risk.model import FailureModeModel

if TYPE_CHECKING:  # pandas loads only when a caller asks for a frame
    import pandas as pd

INDEPENDENCE = "independence"
PERFECT = "perfect correlation"
FAILURE_MODE = "failure-mode model"
BETA_FACTOR = "beta-factor"
COPULA = "Gaussian copula"

MEANINGS = {
    INDEPENDENCE: "no parameter: layers fail independently, so P(all fail) is the product of the marginals",
    PERFECT: "no parameter: failures are comonotone, so P(all fail) is the smallest marginal",
    FAILURE_MODE: "q, p, r: layers fail together only through the failure modes they share",
    BETA_FACTOR: "beta: fraction of the smallest marginal due to one common cause that fails every "
    "layer at once",
    COPULA: "rho: correlation between any two layers' latent normal stress variables "
    "(a layer fails when its stress falls in its lower tail)",
}
DEFAULT_BETA = 0.1
DEFAULT_RHO = 0.5


def _as_marginals(marginals: Sequence[float] | np.ndarray) -> np.ndarray:
    values = np.asarray(marginals, dtype=float).reshape(-1)
    if values.size == 0 or np.any(~np.isfinite(values)) or np.any(values < 0) or np.any(values > 1):
        raise ValueError("marginals must be a non-empty list of probabilities in [0, 1]")
    return values


def independent_all_fail(marginals: Sequence[float] | np.ndarray) -> float:
    """Product of the marginals.

    Partial products of numbers in [0, 1] only decrease, so the plain product
    underflows only when the answer itself is below the double range; it is
    also closer to exact than a sum of logarithms (0.1**10 -> 1.0000000000000006e-10).

    >>> independent_all_fail([0.1] * 10)
    1.0000000000000006e-10
    """
    return float(math.prod(_as_marginals(marginals).tolist()))


def comonotone_all_fail(marginals: Sequence[float] | np.ndarray) -> float:
    """Perfect positive dependence: P(all fail) = min marginal.

    >>> comonotone_all_fail([0.1] * 10)
    0.1
    """
    return float(np.min(_as_marginals(marginals)))


def beta_factor_all_fail(marginals: Sequence[float] | np.ndarray, beta: float) -> float:
    """Beta-factor model with the marginals kept exactly (see the module docstring).

    >>> round(beta_factor_all_fail([0.1, 0.1], 0.5), 6)  # c = 0.05, u = 1 - 0.9/0.95
    0.052632
    """
    values = _as_marginals(marginals)
    if not 0.0 <= beta <= 1.0:
        raise ValueError("beta must be in [0, 1]")
    common = beta * float(values.min())
    if common >= 1.0:
        return 1.0
    # 1 - (1 - m)/(1 - c) written as (m - c)/(1 - c): no cancellation for tiny marginals.
    independent_parts = np.clip((values - common) / (1.0 - common), 0.0, 1.0)
    return float(common + (1.0 - common) * independent_all_fail(independent_parts))


def gaussian_copula_all_fail(marginals: Sequence[float] | np.ndarray, rho: float) -> float:
    """P(all fail) under an equicorrelated Gaussian copula (one-factor integral in log space).

    >>> round(gaussian_copula_all_fail([0.1, 0.2, 0.3], 0.0), 12)
    0.006
    >>> gaussian_copula_all_fail([0.1, 0.2], 1.0)
    0.1
    """
    values = _as_marginals(marginals)
    if not 0.0 <= rho <= 1.0:
        raise ValueError(
            "rho must be in [0, 1] (equicorrelation; negative values are not supported)"
        )
    if np.any(values == 0):
        return 0.0
    values = values[values < 1.0]
    if values.size == 0:
        return 1.0
    if rho == 0.0:
        return independent_all_fail(values)
    if rho == 1.0 or values.size == 1:
        return float(values.min())
    return math.exp(float(copula_log_all_fail(values, rho)[0]))


def gaussian_copula_log_all_fail(marginals: Sequence[float] | np.ndarray, rho: float) -> float:
    """Natural log of :func:`gaussian_copula_all_fail`, finite far below 1e-300.

    >>> round(gaussian_copula_log_all_fail([1e-200] * 3, 0.5) / math.log(10), 1)
    -459.4
    """
    values = _as_marginals(marginals)
    if not 0.0 <= rho <= 1.0:
        raise ValueError(
            "rho must be in [0, 1] (equicorrelation; negative values are not supported)"
        )
    return float(copula_log_all_fail(values, rho)[0])


def _implied(target: float, function: Any, low_value: float, high_value: float) -> float | None:
    """The parameter in [0, 1] at which ``function`` reproduces ``target`` (monotone increasing)."""
    if target <= 0 or not math.isfinite(target):
        return None
    if target <= low_value * (1 + 1e-12):
        return 0.0
    if target >= high_value * (1 - 1e-12):
        return 1.0

    def gap(x: float) -> float:
        return math.log(max(function(x), 1e-320)) - math.log(target)

    return _root(gap, 0.0, 1.0, tolerance=1e-12)  # relative: implied betas can be ~1e-8


def _root(function: Any, low: float, high: float, *, tolerance: float) -> float:
    """A root of an increasing function on [low, high] (Illinois regula falsi, bisection-safe).

    Superlinear like SciPy's brentq on these smooth gaps, without importing scipy.optimize;
    a bisection step whenever the bracket fails to halve keeps the worst case logarithmic.
    ``tolerance`` is relative to the root (the bracket stops at ``tolerance * |root|``).
    """
    f_low, f_high = function(low), function(high)
    side = 0
    width = high - low
    for _ in range(400):
        if high - low <= tolerance * abs(high) + 1e-300:
            break
        if f_low == 0.0:
            return low
        if f_high == 0.0:
            return high
        middle = (low * f_high - high * f_low) / (f_high - f_low)
        if not low < middle < high or high - low > 0.5 * width:
            middle = 0.5 * (low + high)
            width = high - low
        value = function(middle)
        if value <= 0.0:
            low, f_low = middle, value
            if side == -1:
                f_high /= 2.0
            side = -1
        else:
            high, f_high = middle, value
            if side == 1:
                f_low /= 2.0
            side = 1
    return 0.5 * (low + high)


@dataclass(frozen=True)
class DependenceRow:
    """P(all fail) under one dependence model."""

    model: str
    parameter: str | None
    value: float | None
    meaning: str
    probability: float
    ratio_to_independence: float
    effective_layers: float
    log_probability: float = math.nan
    log_ratio_to_independence: float = math.nan

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "parameter": self.parameter,
            "value": self.value,
            "meaning": self.meaning,
            "probability": self.probability,
            "log_probability": json_number(self.log_probability),
            "probability_text": probability_text(self.log_probability),
            "ratio_to_independence": json_number(self.ratio_to_independence),
            "ratio_to_independence_text": probability_text(self.log_ratio_to_independence),
            "effective_layers": json_number(self.effective_layers),
        }


def _row(
    model: str,
    parameter: str | None,
    value: float | None,
    probability: float,
    marginals: np.ndarray,
    log_probability: float | None = None,
) -> DependenceRow:
    """One row; ratios come from logs, so probabilities below 1e-308 keep a finite ratio."""
    independent = independent_all_fail(marginals)
    with np.errstate(divide="ignore"):
        log_independent = float(np.log(marginals).sum())
        if log_probability is None:
            log_probability = math.log(probability) if probability > 0 else -math.inf
    if math.isfinite(log_probability) and math.isfinite(log_independent):
        log_ratio = log_probability - log_independent
    else:
        log_ratio = math.nan
    if independent > 0:
        ratio = probability / independent
    elif math.isfinite(log_ratio):
        ratio = math.exp(log_ratio) if log_ratio < 709 else math.inf
    else:
        ratio = math.nan if probability == 0 else math.inf
    if math.isfinite(log_probability):
        effective = effective_independent_layers(log_probability, marginals)
    else:
        effective = effective_from_probability(probability, marginals)
    return DependenceRow(
        model,
        parameter,
        value,
        MEANINGS[model],
        probability,
        ratio,
        effective,
        log_probability,
        log_ratio,
    )


@dataclass(frozen=True)
class DependenceComparison:
    """Several dependence models evaluated on one set of marginals."""

    layers: tuple[str, ...]
    marginals: np.ndarray = field(repr=False)
    rows: tuple[DependenceRow, ...]
    implied_beta: float | None
    implied_rho: float | None

    def row(self, model: str) -> DependenceRow:
        for row in self.rows:
            if row.model == model:
                return row
        raise KeyError(model)

    def to_dict(self) -> dict[str, Any]:
        return {
            "layers": list(self.layers),
            "marginals": [float(m) for m in self.marginals],
            "models": [row.to_dict() for row in self.rows],
            "implied_beta": self.implied_beta,
            "implied_rho": self.implied_rho,
            "implied_note": "beta and rho at which the beta-factor model and the Gaussian copula "
            "reproduce the failure-mode model's P(all fail) on the same marginals",
            "effective_layers_definition": EFFECTIVE_LAYERS_DEFINITION,
        }

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame([row.to_dict() for row in self.rows])


def compare_on_marginals(
    marginals: Sequence[float] | np.ndarray,
    *,
    beta: float = DEFAULT_BETA,
    rho: float = DEFAULT_RHO,
    failure_mode_probability: float | None = None,
    layers: Sequence[str] | None = None,
    failure_mode_log_probability: float | None = None,
) -> DependenceComparison:
    """Evaluate every dependence model on ``marginals``; optionally add the failure-mode result.

    >>> c = compare_on_marginals([0.1] * 10)
    >>> c.row("independence").probability < 1.1e-10, c.row("perfect correlation").probability
    (True, 0.1)
    """
    values = _as_marginals(marginals)
    names = (
        tuple(layers) if layers is not None else tuple(f"layer{i + 1}" for i in range(values.size))
    )
    independent = independent_all_fail(values)
    perfect = comonotone_all_fail(values)
    with np.errstate(divide="ignore"):
        log_values = np.log(values)
    rows = [
        _row(INDEPENDENCE, None, None, independent, values, float(log_values.sum())),
        _row(PERFECT, None, None, perfect, values, float(log_values.min(initial=0.0))),
    ]
    implied_beta = implied_rho = None
    if failure_mode_probability is not None:
        rows.append(
            _row(
                FAILURE_MODE,
                "q, p, r",
                None,
                float(failure_mode_probability),
                values,
                failure_mode_log_probability,
            )
        )
        implied_beta = _implied(
            failure_mode_probability,
            lambda b: beta_factor_all_fail(values, b),
            independent,
            perfect,
        )
        implied_rho = _implied(
            failure_mode_probability,
            lambda r: gaussian_copula_all_fail(values, r),
            independent,
            perfect,
        )
    rows.append(_row(BETA_FACTOR, "beta", beta, beta_factor_all_fail(values, beta), values))
    log_copula = gaussian_copula_log_all_fail(values, rho)
    rows.append(_row(COPULA, "rho", rho, math.exp(log_copula), values, log_copula))
    return DependenceComparison(names, values, tuple(rows), implied_beta, implied_rho)


def _failure_mode_probability(
    model: FailureModeModel, engine: str, seed: int, n_samples: int = 20_000
) -> float:
    from ddrisk.risk.engine import compute_stack_failure

    return float(
        compute_stack_failure(model, engine=engine, seed=seed, n_samples=n_samples).probability
    )


def compare_dependence_models(
    model: FailureModeModel,
    *,
    beta: float = DEFAULT_BETA,
    rho: float = DEFAULT_RHO,
    engine: str = "auto",
    seed: int = 0,
    failure_mode_probability: float | None = None,
    failure_mode_log_probability: float | None = None,
) -> DependenceComparison:
    """All five models on the marginals of ``model`` (the failure-mode one from the engine)."""
    marginals = model.layer_failure_probabilities()
    if failure_mode_probability is None:
        failure_mode_probability = _failure_mode_probability(model, engine, seed)
    return compare_on_marginals(
        marginals,
        beta=beta,
        rho=rho,
        failure_mode_probability=failure_mode_probability,
        failure_mode_log_probability=failure_mode_log_probability,
        layers=model.layers,
    )


# ---------------------------------------------------------------------------- curves
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
    seed: int = 0,
    n_samples: int = 20_000,
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


@dataclass(frozen=True)
class PaperExample:
    """The paper's arithmetic: n layers at marginal m, independent versus perfectly correlated."""

    marginal: float
    n_layers: int
    independent: float
    perfectly_correlated: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "marginal": self.marginal,
            "n_layers": self.n_layers,
            "independent": self.independent,
            "perfectly_correlated": self.perfectly_correlated,
            "source": "Dung & Mai (2025): ten layers at 0.1 fail together with probability 1e-10 "
            "if independent and 0.1 if perfectly correlated",
        }


def paper_example(marginal: float = 0.1, n_layers: int = 10) -> PaperExample:
    """Reproduce the paper's 10 x 0.1 arithmetic (or any n x m variant).

    >>> example = paper_example()
    >>> f"{example.independent:.12g}", example.perfectly_correlated
    ('1e-10', 0.1)
    """
    marginals = np.full(n_layers, float(marginal))
    return PaperExample(
        marginal, n_layers, independent_all_fail(marginals), comonotone_all_fail(marginals)
    )
