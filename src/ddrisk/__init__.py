"""ddrisk: is this defense in depth really deep, or do its layers fail together?

The public API is small; everything else lives in private modules.

>>> import ddrisk
>>> catalog = ddrisk.load_catalog()
>>> ddrisk.stack_coverage(catalog, ["DEBATE", "RE"]).straight_through["pessimistic"]
['AL-GEN']
"""

from __future__ import annotations

__version__ = "0.1.0"

from ddrisk.analysis import (
    UnclearPolicy,
    analyze,
    best_stacks,
    failure_mode_priorities,
    pairwise_overlap,
    robustness,
    stack_coverage,
    technique_groups,
)
from ddrisk.catalog import Catalog, load_catalog
from ddrisk.errors import DdriskError, InputError

__all__ = [
    "Catalog",
    "DdriskError",
    "InputError",
    "UnclearPolicy",
    "__version__",
    "analyze",
    "best_stacks",
    "failure_mode_priorities",
    "load_catalog",
    "pairwise_overlap",
    "robustness",
    "stack_coverage",
    "technique_groups",
]
