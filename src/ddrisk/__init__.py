"""ddrisk: is this defense in depth really deep, or do its layers fail together?

The public API is small and loaded on first use, so ``import ddrisk`` (and ``ddrisk --help``)
does not pay for numpy, pandas or scipy until a name that needs them is touched.

>>> import ddrisk
>>> catalog = ddrisk.load_catalog()
>>> ddrisk.stack_coverage(catalog, ["DEBATE", "RE"]).straight_through["pessimistic"]
['AL-GEN']
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ddrisk.__version__ import __version__

_EXPORTS = {
    "Catalog": "ddrisk.catalog",
    "load_catalog": "ddrisk.io.catalog",
    "DdriskError": "ddrisk.errors",
    "InputError": "ddrisk.errors",
    "UnclearPolicy": "ddrisk.analysis",
    "analyze": "ddrisk.analysis",
    "best_stacks": "ddrisk.analysis",
    "failure_mode_priorities": "ddrisk.analysis",
    "pairwise_overlap": "ddrisk.analysis",
    "robustness": "ddrisk.analysis",
    "stack_coverage": "ddrisk.analysis",
    "technique_groups": "ddrisk.analysis",
}

# A literal list (not built from _EXPORTS) so that linters and type checkers see the public names.
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

if TYPE_CHECKING:
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
    from ddrisk.catalog import Catalog
    from ddrisk.errors import DdriskError, InputError
    from ddrisk.io.catalog import load_catalog


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ddrisk' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
