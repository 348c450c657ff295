"""Distributions for uncertain parameters, and the one spec syntax that names them.

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

Monte Carlo propagation over these lives in :mod:`ddrisk.risk.propagation`; Beta updates
from stress-test counts in :mod:`ddrisk.risk.evidence`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from ddrisk.errors import InputError

# scipy.special.ndtri(0.95) (stats.norm.ppf(0.95)), written out so that parsing a parameter
# does not import SciPy (~0.2 s of start-up); tests/risk/test_e2e_lean_imports.py checks it.
Z95 = 1.6448536269514722


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

    def percentile(self, percent: float) -> float:
        return float(self.value)  # every percentile; no array per call (thousands per record)

    @property
    def median(self) -> float:
        return float(self.value)

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
        from scipy import stats  # loaded on first use: importing scipy.stats costs ~0.6 s

        return np.asarray(stats.beta.ppf(u, self.a, self.b), dtype=float)

    @property
    def mean(self) -> float:
        return self.a / (self.a + self.b)

    def cdf(self, x: float) -> float:
        from scipy import stats

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
        from scipy import special

        return 0.5 * (special.logit(self.lo) + special.logit(self.hi))

    @property
    def scale(self) -> float:
        from scipy import special

        return (special.logit(self.hi) - special.logit(self.lo)) / (2.0 * Z95)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        from scipy import special

        return special.expit(self.location + self.scale * special.ndtri(np.asarray(u, dtype=float)))

    @property
    def mean(self) -> float:
        # Gauss-Hermite (probabilists') quadrature of E[expit(mu + sigma Z)]: smooth integrand.
        from scipy import special

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
        index = np.minimum(
            (np.asarray(u, dtype=float) * ordered.size).astype(int), ordered.size - 1
        )
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
