"""Do measured safety layers fail on the same inputs? Statistics over an :class:`OutcomeMatrix`.

Everything here is pure (numpy/scipy/pandas, no I/O, no printing). The entry point is
:func:`analyze_outcomes`; :func:`empirical_catalog` and :func:`counts_for_risk` turn the
same measurements into the inputs of the structural and risk analyses.

Modules: :mod:`.rates` (per-layer and per-family rates), :mod:`.pairwise` (pairs of
layers), :mod:`.stack` (every layer at once, harmful and benign), :mod:`.families`
(resistance per family), :mod:`.warnings`, :mod:`.result` (:class:`StressAnalysis`),
:mod:`.counts` and :mod:`.catalog` (hand-offs to the risk and structural analyses).

Conventions
-----------
* A *failure* is a harmful item a layer let through (a *miss*) or a benign item a layer
  blocked (a *false block*), as in :meth:`OutcomeMatrix.failures`.
* Errors (``blocked`` is NaN) are neither pass nor block. They are counted separately
  and excluded from every rate. Pairwise statistics use the items both layers decided;
  stack statistics use the items every layer decided (complete cases), and say how many
  items that excluded.
* Clusters: items sharing a ``behavior_id`` or a ``template_id`` belong to one cluster
  (connected components), since rephrasings of one behavior, or prompts built on one
  jailbreak template, are not independent draws.
* Per-layer rates carry Wilson intervals at the design-effect sample size (plain Wilson
  where every cluster is one item). Zero observed failures are reported as an exact
  one-sided Clopper-Pearson upper bound, never as "secure".
* Pairwise and stack quantities carry percentile intervals from a *cluster bootstrap*,
  vectorised as per-cluster sums times a matrix of multinomial resampling counts.
  Ratios and associations with fewer than 5 expected joint failures are not estimable.
* The independence prediction for "every layer misses" is reported *pooled* and
  *stratified by family*; mixing easy and hard attack families alone makes the pooled
  prediction too low, and the stratified one removes that common cause.
* One default for every caller: :data:`DEFAULT_N_BOOTSTRAP` replicates, seed
  :data:`DEFAULT_SEED`, level :data:`DEFAULT_CONFIDENCE`.
"""

from ddrisk.stress.defaults import DEFAULT_CONFIDENCE, DEFAULT_N_BOOTSTRAP, DEFAULT_SEED
from ddrisk.stress.statistics._core import (
    MIN_EXPECTED_JOINT,
    clopper_pearson_upper,
    format_rate,
    outcome_matrix_hash,
    poisson_binomial_tail,
    wilson_interval,
)
from ddrisk.stress.statistics.analysis import analyze_outcomes
from ddrisk.stress.statistics.catalog import empirical_catalog
from ddrisk.stress.statistics.counts import counts_for_risk, detailed_counts, stack_counts
from ddrisk.stress.statistics.pairwise import pairwise_statistics
from ddrisk.stress.statistics.rates import clustered_rates
from ddrisk.stress.statistics.result import TABLES, StressAnalysis

__all__ = [
    "DEFAULT_CONFIDENCE",
    "DEFAULT_N_BOOTSTRAP",
    "DEFAULT_SEED",
    "MIN_EXPECTED_JOINT",
    "TABLES",
    "StressAnalysis",
    "analyze_outcomes",
    "clopper_pearson_upper",
    "clustered_rates",
    "counts_for_risk",
    "detailed_counts",
    "empirical_catalog",
    "format_rate",
    "outcome_matrix_hash",
    "pairwise_statistics",
    "poisson_binomial_tail",
    "stack_counts",
    "wilson_interval",
]
