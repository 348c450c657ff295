"""Former home of distributions, propagation and Beta posteriors; kept so old imports still work.

The module was split by responsibility: :mod:`ddrisk.risk.distributions` (the spec syntax
and the distributions), :mod:`ddrisk.risk.propagation` (Monte Carlo and tornado) and
:mod:`ddrisk.risk.evidence` (stress-test counts and Beta posteriors). New code imports
from those.
"""

from ddrisk.risk.distributions import (
    BetaDistribution,
    Distribution,
    EmpiricalDistribution,
    FixedValue,
    Interval90,
    LogUniformDistribution,
    UniformDistribution,
    parse_distribution,
)
from ddrisk.risk.evidence import (
    MAX_COUNT,
    StressCounts,
    StressCountsFile,
    beta_posterior,
    joint_posterior,
    parse_stress_counts,
    prior_as_beta,
)
from ddrisk.risk.propagation import TornadoRow, UncertaintyResult, propagate_uncertainty

__all__ = [
    "MAX_COUNT",
    "BetaDistribution",
    "Distribution",
    "EmpiricalDistribution",
    "FixedValue",
    "Interval90",
    "LogUniformDistribution",
    "StressCounts",
    "StressCountsFile",
    "TornadoRow",
    "UncertaintyResult",
    "UniformDistribution",
    "beta_posterior",
    "joint_posterior",
    "parse_distribution",
    "parse_stress_counts",
    "prior_as_beta",
    "propagate_uncertainty",
]
