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
model's forward function; one module keeps the comparison in one place. The curves over the
first n layers (:class:`DependenceCurve`, :func:`stack_curve`, :func:`identical_layers_curve`)
live in :mod:`ddrisk.risk.dependence_curve` and are importable from here too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ddrisk import defaults
from ddrisk._jsonnum import json_number
from ddrisk.risk.copula import copula_log_all_fail
from ddrisk.risk.effective import (
    EFFECTIVE_LAYERS_DEFINITION,
    effective_from_probability,
    effective_independent_layers,
)
from ddrisk.risk.log_numbers import probability_text
from ddrisk.risk.model import FailureModeModel
from ddrisk.risk.settings import DEFAULT_BETA, DEFAULT_RHO

if TYPE_CHECKING:  # pandas loads only when a caller asks for a frame
    import pandas as pd

    from ddrisk.risk.dependence_curve import (
        DependenceCurve as DependenceCurve,
    )
    from ddrisk.risk.dependence_curve import (
        identical_layers_curve as identical_layers_curve,
    )
    from ddrisk.risk.dependence_curve import stack_curve as stack_curve

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
    -301.8
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
    model: FailureModeModel, engine: str, seed: int, n_samples: int = defaults.SAMPLER_DRAWS
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
    seed: int = defaults.SEED,
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


# The curves over the first n layers live in their own module (:mod:`ddrisk.risk.dependence_curve`,
# which uses the models above); these names stay importable from here, loaded on first use.
_CURVE_NAMES = ("DependenceCurve", "identical_layers_curve", "stack_curve")


def __getattr__(name: str) -> Any:
    if name in _CURVE_NAMES:
        from ddrisk.risk import dependence_curve

        return getattr(dependence_curve, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
