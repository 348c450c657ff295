"""Uncertain parameters: distributions, Monte Carlo propagation, tornado and Beta posteriors.

Any q, p or r may be a probability distribution instead of a number. Specs are
short strings, the same on the command line and in parameter files:

``0.1``
    a fixed value;
``beta(a, b)``
    Beta(a, b), the conjugate prior of a failure probability;
``uniform(lo, hi)`` and ``loguniform(lo, hi)``
    flat on the probability or on its logarithm (for values spanning decades);
``interval(lo, hi)``
    a 90 % interval: a logit-normal distribution whose 5th and 95th percentiles
    are ``lo`` and ``hi``. Logit-normal because the fit is closed-form and exact
    (no numerical solve that can fail), it behaves like the log-normal with an
    error factor that PRA uses for small probabilities, and, unlike a log-normal,
    it can never exceed 1.

Monte Carlo propagation draws every uncertain *named parameter* once per
iteration (state-of-knowledge dependence: a default such as ``p.prone`` is one
uncertain quantity shared by all the cells that use it, as in PRA practice) from
a seeded :class:`numpy.random.Generator`, and evaluates each draw with the exact
engine of :mod:`ddrisk.risk.engine`.

Stress-test counts update Beta priors (:func:`parse_stress_counts` validates them;
:mod:`ddrisk.io.counts` reads the file format), so measured evidence and expert judgment
meet in one model.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import special, stats

from ddrisk._jsonnum import json_number
from ddrisk.errors import InputError
from ddrisk.risk.effective import effective_from_probability

if TYPE_CHECKING:
    from ddrisk.risk.model import FailureModeModel
    from ddrisk.risk.parameters import ResolvedParameters

Z95 = float(stats.norm.ppf(0.95))


# ---------------------------------------------------------------------------- distributions
@dataclass(frozen=True)
class Distribution:
    """Base class: a distribution over a probability in [0, 1]."""

    kind = "distribution"

    @property
    def spec(self) -> str:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def ppf(self, u: np.ndarray) -> np.ndarray:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    @property
    def mean(self) -> float:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    @property
    def is_degenerate(self) -> bool:
        return False

    @property
    def median(self) -> float:
        return float(self.ppf(np.array([0.5]))[0])

    def percentile(self, percent: float) -> float:
        return float(self.ppf(np.array([percent / 100.0]))[0])

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """Inverse-CDF draws (one uniform per draw, so draws are reproducible per seed)."""
        return self.ppf(rng.random(size))

    def to_dict(self) -> dict[str, Any]:
        return {
            "spec": self.spec,
            "kind": self.kind,
            "mean": self.mean,
            "p05": self.percentile(5),
            "p50": self.median,
            "p95": self.percentile(95),
        }

    def __str__(self) -> str:
        return self.spec


@dataclass(frozen=True)
class FixedValue(Distribution):
    """A point value (a degenerate distribution)."""

    value: float
    kind = "fixed"

    @property
    def spec(self) -> str:
        return f"{self.value:g}"

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return np.full(np.shape(u), self.value, dtype=float)

    @property
    def mean(self) -> float:
        return self.value

    @property
    def is_degenerate(self) -> bool:
        return True


@dataclass(frozen=True)
class BetaDistribution(Distribution):
    """Beta(a, b): the conjugate prior of a failure probability (a - 1 failures, b - 1 successes)."""

    a: float
    b: float
    kind = "beta"

    @property
    def spec(self) -> str:
        return f"beta({self.a:g}, {self.b:g})"

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return np.asarray(stats.beta.ppf(u, self.a, self.b), dtype=float)

    @property
    def mean(self) -> float:
        return self.a / (self.a + self.b)

    def cdf(self, x: float) -> float:
        return float(stats.beta.cdf(x, self.a, self.b))


@dataclass(frozen=True)
class UniformDistribution(Distribution):
    """Flat between ``lo`` and ``hi``."""

    lo: float
    hi: float
    kind = "uniform"

    @property
    def spec(self) -> str:
        return f"uniform({self.lo:g}, {self.hi:g})"

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return self.lo + (self.hi - self.lo) * np.asarray(u, dtype=float)

    @property
    def mean(self) -> float:
        return 0.5 * (self.lo + self.hi)

    @property
    def is_degenerate(self) -> bool:
        return self.lo == self.hi


@dataclass(frozen=True)
class LogUniformDistribution(Distribution):
    """Flat in log between ``lo`` > 0 and ``hi``: every decade equally likely."""

    lo: float
    hi: float
    kind = "loguniform"

    @property
    def spec(self) -> str:
        return f"loguniform({self.lo:g}, {self.hi:g})"

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return np.exp(math.log(self.lo) + (math.log(self.hi) - math.log(self.lo)) * np.asarray(u))

    @property
    def mean(self) -> float:
        if self.lo == self.hi:
            return self.lo
        return (self.hi - self.lo) / math.log(self.hi / self.lo)

    @property
    def is_degenerate(self) -> bool:
        return self.lo == self.hi


@dataclass(frozen=True)
class Interval90(Distribution):
    """A 90 % interval fitted exactly by a logit-normal (5th percentile ``lo``, 95th ``hi``).

    >>> d = Interval90(0.01, 0.3)
    >>> round(d.percentile(5), 6), round(d.percentile(95), 6)
    (0.01, 0.3)
    """

    lo: float
    hi: float
    kind = "interval90"

    @property
    def spec(self) -> str:
        return f"interval({self.lo:g}, {self.hi:g})"

    @property
    def location(self) -> float:
        return 0.5 * (special.logit(self.lo) + special.logit(self.hi))

    @property
    def scale(self) -> float:
        return (special.logit(self.hi) - special.logit(self.lo)) / (2.0 * Z95)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return special.expit(self.location + self.scale * special.ndtri(np.asarray(u, dtype=float)))

    @property
    def mean(self) -> float:
        # Gauss-Hermite (probabilists') quadrature of E[expit(mu + sigma Z)]: smooth integrand.
        nodes, weights = np.polynomial.hermite_e.hermegauss(96)
        values = special.expit(self.location + self.scale * nodes)
        return float(np.dot(weights, values) / math.sqrt(2.0 * math.pi))

    @property
    def is_degenerate(self) -> bool:
        return self.lo == self.hi


@dataclass(frozen=True)
class EmpiricalDistribution(Distribution):
    """Equal weight on each of a few values, e.g. one per rater: disagreement as uncertainty.

    >>> d = EmpiricalDistribution((0.9, 0.05, 0.5), label="raters")
    >>> d.spec, round(d.mean, 4), d.percentile(5), d.percentile(95)
    ('raters(0.05, 0.5, 0.9)', 0.4833, 0.05, 0.9)
    """

    values: tuple[float, ...]
    label: str = "empirical"
    kind = "empirical"

    @property
    def spec(self) -> str:
        return f"{self.label}({', '.join(f'{v:g}' for v in sorted(self.values))})"

    def ppf(self, u: np.ndarray) -> np.ndarray:
        ordered = np.sort(np.asarray(self.values, dtype=float))
        index = np.minimum((np.asarray(u, dtype=float) * ordered.size).astype(int), ordered.size - 1)
        return ordered[index]

    @property
    def mean(self) -> float:
        return float(np.mean(self.values))

    @property
    def is_degenerate(self) -> bool:
        return len(set(self.values)) <= 1


_SPEC = re.compile(r"^\s*([a-z0-9_%]+)\s*\(\s*([^,()]+?)\s*,\s*([^,()]+?)\s*\)\s*$", re.IGNORECASE)
_SPEC_HELP = (
    "use a number in [0, 1] or beta(a, b), uniform(lo, hi), loguniform(lo, hi), interval(lo, hi)"
)


def parse_distribution(
    value: Any, *, source: str = "<value>", where: str | None = None
) -> Distribution:
    """Parse a number or a distribution spec; raise a located :class:`InputError` when invalid.

    >>> parse_distribution(0.2).mean, parse_distribution("beta(2, 8)").mean
    (0.2, 0.2)
    >>> parse_distribution("uniform(0.1, 0.3)").spec
    'uniform(0.1, 0.3)'
    """

    def bad(problem: str, fix: str = _SPEC_HELP) -> InputError:
        return InputError(source, where, problem, fix)

    if isinstance(value, bool):
        raise bad(f"{value!r} is not a probability")
    if isinstance(value, int | float):
        number = float(value)
        if not (math.isfinite(number) and 0.0 <= number <= 1.0):
            raise bad(f"{value!r} is not a probability in [0, 1]", "use a number between 0 and 1")
        return FixedValue(number)
    if not isinstance(value, str):
        raise bad(f"expected a number or a distribution spec, got {type(value).__name__}")
    text = value.strip()
    try:
        return parse_distribution(float(text), source=source, where=where)
    except ValueError:
        pass
    match = _SPEC.match(text)
    if not match:
        raise bad(f"cannot read {value!r} as a probability or distribution")
    name = match.group(1).lower()
    try:
        first, second = float(match.group(2)), float(match.group(3))
    except ValueError:
        raise bad(f"{value!r}: the two arguments must be numbers") from None
    if not (math.isfinite(first) and math.isfinite(second)):
        raise bad(f"{value!r}: arguments must be finite")
    if name == "beta":
        if first <= 0 or second <= 0:
            raise bad(f"{value!r}: beta needs a > 0 and b > 0", "e.g. beta(2, 8) has mean 0.2")
        return BetaDistribution(first, second)
    if name in {"uniform", "loguniform", "interval", "interval90", "90%"}:
        lower_ok = first > 0 if name != "uniform" else first >= 0
        upper_ok = second < 1 if name in {"interval", "interval90", "90%"} else second <= 1
        if not (lower_ok and upper_ok and first <= second):
            bounds = "0 <= lo <= hi <= 1" if name == "uniform" else "0 < lo <= hi"
            bounds += " < 1" if name.startswith(("interval", "90")) else " <= 1"
            raise bad(f"{value!r}: bounds must satisfy {bounds}", f"e.g. {name}(0.01, 0.2)")
        if name == "uniform":
            return UniformDistribution(first, second)
        if name == "loguniform":
            return LogUniformDistribution(first, second)
        return Interval90(first, second)
    raise bad(f"unknown distribution '{match.group(1)}'")


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
    n_draws: int = 2000,
    seed: int = 0,
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


# ---------------------------------------------------------------------------- Beta posteriors
@dataclass(frozen=True)
class StressCounts:
    """``failures`` of ``n`` harmful items got past a layer (or past all layers, for joint)."""

    failures: int
    n: int
    mode: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"failures": self.failures, "n": self.n}
        if self.mode is not None:
            out["mode"] = self.mode
        return out


@dataclass(frozen=True)
class StressCountsFile:
    """Per-layer counts and optional joint (all layers missed together) counts."""

    layers: Mapping[str, StressCounts]
    joint: StressCounts | None = None
    source: str = "<counts>"

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "layers": {layer: counts.to_dict() for layer, counts in self.layers.items()},
            "joint": None if self.joint is None else self.joint.to_dict(),
        }


def beta_posterior(prior: BetaDistribution, failures: int, n: int) -> BetaDistribution:
    """Conjugate update: Beta(a + k, b + n - k).

    >>> beta_posterior(BetaDistribution(1, 1), 3, 10).spec
    'beta(4, 8)'
    """
    if n < 0 or failures < 0 or failures > n:
        raise ValueError(f"need 0 <= failures <= n, got {failures} of {n}")
    return BetaDistribution(prior.a + failures, prior.b + (n - failures))


def prior_as_beta(prior: Distribution, *, strength: float = 2.0) -> tuple[BetaDistribution, str]:
    """Express an expert judgment as a Beta prior, saying how.

    A Beta stays as it is. A fixed value ``v`` becomes a Beta with mean ``v`` worth
    ``strength`` pseudo-observations (``a = strength v``, ``b = strength (1 - v)``):
    a point judgment states no confidence, so by default it counts as two items.
    Other distributions are matched by mean and variance.

    >>> prior_as_beta(FixedValue(0.25))[0].spec
    'beta(0.5, 1.5)'
    """
    if isinstance(prior, BetaDistribution):
        return prior, "given Beta prior"
    mean = min(max(prior.mean, 1e-9), 1 - 1e-9)
    if prior.is_degenerate:
        return BetaDistribution(strength * mean, strength * (1 - mean)), (
            f"point value as a Beta of mean {mean:g} worth {strength:g} pseudo-observations"
        )
    draws = prior.ppf((np.arange(4000) + 0.5) / 4000)
    variance = float(np.var(draws))
    total = mean * (1 - mean) / variance - 1 if variance > 0 else strength
    total = max(total, 1e-6)
    return BetaDistribution(
        mean * total, (1 - mean) * total
    ), f"{prior.spec} matched by mean and variance"


def joint_posterior(
    counts: StressCounts, *, prior: BetaDistribution | None = None
) -> BetaDistribution:
    """Posterior of P(all layers miss) from joint counts (Jeffreys Beta(0.5, 0.5) prior by default)."""
    return beta_posterior(prior or BetaDistribution(0.5, 0.5), counts.failures, counts.n)


MAX_COUNT = 10**12
"""Largest item count accepted: far above any stress test, small enough to stay exact in floats."""


def _counts_entry(value: Any, *, source: str, where: str) -> StressCounts:
    if not isinstance(value, Mapping):
        raise InputError(
            source,
            where,
            "expected a mapping with 'failures' and 'n'",
            'write {"failures": k, "n": n}',
        )
    unknown = set(value) - {"failures", "n", "mode"}
    if unknown:
        raise InputError(
            source, f"{where}.{sorted(unknown)[0]}", "unknown key", "use only failures, n and mode"
        )
    for key in ("failures", "n"):
        if key not in value:
            raise InputError(source, where, f"missing '{key}'", 'write {"failures": k, "n": n}')
        count = value[key]
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise InputError(
                source, f"{where}.{key}", f"{count!r} is not a count", "use a whole number >= 0"
            )
        if count > MAX_COUNT:
            raise InputError(
                source,
                f"{where}.{key}",
                f"a {len(str(count))}-digit count is more than any stress test ran",
                f"use a whole number from 0 to {MAX_COUNT:.0e}",
            )
    if value["failures"] > value["n"]:
        raise InputError(
            source,
            where,
            f"failures {value['failures']} > n {value['n']}",
            "failures cannot exceed n",
        )
    mode = value.get("mode")
    if mode is not None and not isinstance(mode, str):
        raise InputError(
            source, f"{where}.mode", "expected a failure-mode id", "write the mode's id as a string"
        )
    return StressCounts(int(value["failures"]), int(value["n"]), mode)


def parse_stress_counts(data: Any, *, source: str = "<counts>") -> StressCountsFile:
    """Validate parsed stress-test counts (the format: :mod:`ddrisk.io.counts`, which reads them)."""
    if not isinstance(data, Mapping):
        raise InputError(
            source,
            None,
            "counts must be a JSON object",
            'write {"RLHF": {"failures": 12, "n": 50}}',
        )
    structured = (
        set(data) <= {"layers", "joint"}
        and isinstance(data.get("layers"), Mapping)
        and ("failures" not in data.get("layers", {}))
    )
    layer_data = data["layers"] if structured else data
    prefix = "layers." if structured else ""
    layers = {
        str(layer): _counts_entry(value, source=source, where=f"{prefix}{layer}")
        for layer, value in layer_data.items()
    }
    joint = (
        _counts_entry(data["joint"], source=source, where="joint")
        if structured and "joint" in data
        else None
    )
    if joint is not None and joint.mode is not None:
        raise InputError(source, "joint.mode", "joint counts cannot target a mode", "remove 'mode'")
    return StressCountsFile(layers=layers, joint=joint, source=source)
