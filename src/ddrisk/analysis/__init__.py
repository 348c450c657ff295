"""Structural analysis of a catalog: the paper's reading of Table 1, computed.

Every function takes a :class:`~ddrisk.catalog.Catalog` and keyword-only
settings and returns a result object with ``to_dict()`` (and ``to_frame()``
where tabular). :func:`analyze` runs them all; the CLI and reports call it.
"""

from ddrisk.analysis.analyze import AnalysisResult, analyze
from ddrisk.analysis.coverage import BestStacksResult, StackCoverage, best_stacks, stack_coverage
from ddrisk.analysis.groups import GroupsResult, technique_groups
from ddrisk.analysis.overlap import OverlapResult, pairwise_overlap
from ddrisk.analysis.priorities import PrioritiesResult, failure_mode_priorities
from ddrisk.analysis.profile import UnclearPolicy
from ddrisk.analysis.robustness import RobustnessResult, robustness
from ddrisk.analysis.summary import Finding

__all__ = [
    "AnalysisResult",
    "BestStacksResult",
    "Finding",
    "GroupsResult",
    "OverlapResult",
    "PrioritiesResult",
    "RobustnessResult",
    "StackCoverage",
    "UnclearPolicy",
    "analyze",
    "best_stacks",
    "failure_mode_priorities",
    "pairwise_overlap",
    "robustness",
    "stack_coverage",
    "technique_groups",
]
